//! Reading CM's scalars the way Json.NET writes them: GUIDs in any dress,
//! strings with NULs, enums as numbers or names, numbers as strings, dates
//! with or without a zone, and object keys in any case.

use super::*;

/// Parses a GUID the way CM writes it (see [`crate::domain::guid::parse`]).
pub use crate::domain::guid::parse as parse_guid;

/// Like [`parse_guid`], but the all-zero GUID (CM's "none") becomes `None` too.
pub fn parse_optional_guid(text: &str) -> Option<Uuid> {
    parse_guid(text).filter(|u| !u.is_nil())
}

/// The one way the station writes a GUID to CM: lower-case, hyphenated, no braces.
pub fn guid_to_wire(uuid: Uuid) -> String {
    uuid.hyphenated().to_string()
}

/// Removes NUL characters: CM stores some strings (the SDDL) with a C terminator.
pub fn strip_nuls(text: &str) -> Cow<'_, str> {
    if text.contains('\0') {
        Cow::Owned(text.replace('\0', ""))
    } else {
        Cow::Borrowed(text)
    }
}

/// Removes commas that stand right before a closing `}` or `]` outside strings,
/// because people (and the CM walkthrough itself) write JSON that way and
/// serde_json rightly refuses it.
pub fn strip_trailing_commas(json: &str) -> Cow<'_, str> {
    if !json.contains(',') {
        return Cow::Borrowed(json);
    }
    let chars: Vec<char> = json.chars().collect();
    let mut out = String::with_capacity(json.len());
    let mut in_string = false;
    let mut escaped = false;
    let mut changed = false;
    for (i, &c) in chars.iter().enumerate() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        if c == '"' {
            in_string = true;
        } else if c == ',' {
            let next = chars[i + 1..].iter().find(|n| !n.is_whitespace());
            if matches!(next, Some('}') | Some(']')) {
                changed = true;
                continue;
            }
        }
        out.push(c);
    }
    if changed {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(json)
    }
}

/// Parses a JSON body strictly first, then once more without trailing commas.
pub fn parse_lenient_json(body: &str) -> Result<Value, serde_json::Error> {
    let body = body.trim_start_matches('\u{feff}');
    match serde_json::from_str(body) {
        Ok(value) => Ok(value),
        Err(first) => match strip_trailing_commas(body) {
            Cow::Owned(fixed) => serde_json::from_str(&fixed).map_err(|_| first),
            Cow::Borrowed(_) => Err(first),
        },
    }
}

/// An enum value as it came over the wire: a number (what CM sends) or a name
/// (what its query strings use, and what some proxies rewrite to).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WireEnum {
    /// A number, e.g. `3`.
    Number(i64),
    /// A name, e.g. `"Approved"`, in any case.
    Name(String),
}

/// The three CM enums share their wire handling through this trait.
pub trait CmEnum: Copy + fmt::Display {
    /// Wraps a number, known or not.
    fn from_number(n: i32) -> Self;
    /// Looks a documented name up, case-insensitively.
    fn lookup_name(name: &str) -> Option<Self>;
    /// The number on the wire.
    fn number(self) -> i32;
}

macro_rules! cm_enum {
    ($t:ty) => {
        impl CmEnum for $t {
            fn from_number(n: i32) -> Self {
                Self(n)
            }
            fn lookup_name(name: &str) -> Option<Self> {
                Self::from_name(name)
            }
            fn number(self) -> i32 {
                self.0
            }
        }
    };
}
cm_enum!(RequestStatus);
cm_enum!(RequestType);
cm_enum!(SmartcardStatus);

/// Stands in for a value that is neither a documented name nor a number, so it
/// still shows as `Unknown(..)` and is never mistaken for a real state.
pub(super) const UNRECOGNISED: i32 = -1;

impl WireEnum {
    /// The wire form of a domain value: its number, as CM sends it, or its
    /// REST name for a value that has no known number (e.g. `Revoke`).
    pub fn from_domain<T: CmEnum>(value: T) -> Self {
        if is_name_only(value.number()) {
            WireEnum::Name(value.to_string())
        } else {
            WireEnum::Number(i64::from(value.number()))
        }
    }

    /// The domain value. A name nobody documented becomes `Unknown(-1)`, as
    /// does a number in the range kept for values known only by name.
    pub fn to_domain<T: CmEnum>(&self) -> T {
        let number = |n: i64| {
            T::from_number(
                i32::try_from(n)
                    .ok()
                    .filter(|n| !is_name_only(*n))
                    .unwrap_or(UNRECOGNISED),
            )
        };
        match self {
            WireEnum::Number(n) => number(*n),
            WireEnum::Name(name) => {
                let name = strip_nuls(name);
                let name = name.trim();
                if let Ok(n) = name.parse::<i64>() {
                    return number(n);
                }
                T::lookup_name(name).unwrap_or_else(|| {
                    tracing::warn!(
                        value = %short(name).escape_debug(),
                        "CM sent an enum name the station does not know"
                    );
                    T::from_number(UNRECOGNISED)
                })
            }
        }
    }
}

impl Serialize for WireEnum {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            WireEnum::Number(n) => serializer.serialize_i64(*n),
            WireEnum::Name(name) => serializer.serialize_str(name),
        }
    }
}

impl<'de> Deserialize<'de> for WireEnum {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::Number(n) => n
                .as_i64()
                // A float such as 3.0 is still the number 3.
                .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
                .map(WireEnum::Number)
                .ok_or_else(|| de::Error::custom(format!("{n} is not an enum value"))),
            Value::String(s) => Ok(WireEnum::Name(s)),
            other => Err(de::Error::custom(format!("{other} is not an enum value"))),
        }
    }
}

/// One JSON value read as a scalar, without building a [`Value`] first
/// (the lenient field readers below ran for every field of every request,
/// and building a `Value` each time cost most of a 100,000-request list's
/// parse). Arrays and objects are skipped.
pub(super) enum Scalar {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Text(String),
    Other,
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ScalarVisitor)
    }
}

pub(super) struct ScalarVisitor;

impl<'de> de::Visitor<'de> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Scalar, E> {
        Ok(Scalar::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Scalar, E> {
        Ok(Scalar::Int(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Scalar, E> {
        Ok(i64::try_from(v).map_or(Scalar::Uint(v), Scalar::Int))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Scalar, E> {
        Ok(Scalar::Float(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Scalar, E> {
        Ok(Scalar::Text(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Scalar, E> {
        Ok(Scalar::Text(v))
    }

    fn visit_none<E>(self) -> Result<Scalar, E> {
        Ok(Scalar::Null)
    }

    fn visit_unit<E>(self) -> Result<Scalar, E> {
        Ok(Scalar::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Scalar, D::Error> {
        Scalar::deserialize(deserializer)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
        while seq.next_element::<de::IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
        while map
            .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
            .is_some()
        {}
        Ok(Scalar::Other)
    }
}

/// As JSON writes the number (`serde_json::Number`'s text).
pub(super) fn float_text(f: f64) -> Option<String> {
    serde_json::Number::from_f64(f).map(|n| n.to_string())
}

/// Deserializes an optional enum: null, absent or an odd type becomes `None`.
pub(super) fn de_enum<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<WireEnum>, D::Error> {
    Ok(match Scalar::deserialize(deserializer)? {
        Scalar::Int(n) => Some(WireEnum::Number(n)),
        // A float such as 3.0 is still the number 3.
        Scalar::Uint(n) => Some(WireEnum::Number(n as f64 as i64)),
        Scalar::Float(f) if f.fract() == 0.0 => Some(WireEnum::Number(f as i64)),
        Scalar::Text(s) => Some(WireEnum::Name(s)),
        _ => None,
    })
}

/// Deserializes any scalar as an optional string with NULs removed: CM sends
/// null for empty values and the odd number where text is documented.
pub(super) fn de_string<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    Ok(match Scalar::deserialize(deserializer)? {
        Scalar::Text(s) if !s.contains('\0') => Some(s),
        Scalar::Text(s) => Some(s.replace('\0', "")),
        Scalar::Int(n) => Some(n.to_string()),
        Scalar::Uint(n) => Some(n.to_string()),
        Scalar::Float(f) => float_text(f),
        Scalar::Bool(b) => Some(b.to_string()),
        // Arrays and objects are not text; keeping them would show JSON to the operator.
        Scalar::Null | Scalar::Other => None,
    })
}

/// Deserializes a number that may arrive as a string; anything else becomes 0.
pub(super) fn de_i64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    Ok(match Scalar::deserialize(deserializer)? {
        Scalar::Int(n) => n,
        Scalar::Uint(n) => n as f64 as i64,
        Scalar::Float(f) => f as i64,
        Scalar::Text(s) => strip_nuls(&s).trim().parse().unwrap_or(0),
        Scalar::Bool(b) => i64::from(b),
        Scalar::Null | Scalar::Other => 0,
    })
}

/// Deserializes a boolean that may arrive as `"true"`, `1` or null.
pub(super) fn de_bool<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    Ok(match Scalar::deserialize(deserializer)? {
        Scalar::Bool(b) => b,
        Scalar::Int(n) => n != 0,
        Scalar::Text(s) => {
            let s = strip_nuls(&s);
            let s = s.trim();
            s.eq_ignore_ascii_case("true") || s == "1"
        }
        // As before: a number beyond i64 or with a fraction was not an integer flag.
        Scalar::Uint(_) | Scalar::Float(_) | Scalar::Null | Scalar::Other => false,
    })
}

/// Deserializes a list that may be null or absent.
pub(super) fn de_list<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}

/// The `Submitted`/`Completed` text, or `None` for .NET's "never" date.
pub fn meaningful_date(text: Option<&str>) -> Option<&str> {
    let text = text?.trim();
    if text.is_empty() || text.starts_with("0001-01-01") {
        None
    } else {
        Some(text)
    }
}

/// The longest date text worth parsing: .NET's longest form,
/// `2015-07-07T23:36:21.9300000+01:00`, is 33 characters.
pub(super) const MAX_DATE_LEN: usize = 64;

/// Reads a CM date (`Submitted`, `Completed`) as an instant in UTC:
/// RFC 3339 with `Z` or an offset and 0 to 9 (or more, cut) fractional
/// digits, as the reference shows them (`2015-07-07T23:36:21.93Z`). .NET's
/// "never" (`0001-01-01T00:00:00`, no zone) and anything unreadable are
/// `None`. A date without a zone is read as UTC: CM keeps its dates in UTC
/// and writes them with `Z`; only the "never" date comes without one.
pub fn parse_cm_time(text: &str) -> Option<OffsetDateTime> {
    use time::format_description::well_known::{Iso8601, Rfc3339};

    let text = text.trim_matches(|c: char| c.is_whitespace() || c == '\0' || c == '"');
    if text.is_empty() || text.len() > MAX_DATE_LEN || text.starts_with("0001-01-01") {
        return None;
    }
    let text = trim_fraction(text);
    let parsed = OffsetDateTime::parse(&text, &Rfc3339)
        .or_else(|_| OffsetDateTime::parse(&text, &Iso8601::DEFAULT))
        .or_else(|_| PrimitiveDateTime::parse(&text, &Iso8601::DEFAULT).map(|t| t.assume_utc()))
        .ok()?;
    Some(parsed.to_offset(UtcOffset::UTC))
}

/// Cuts fractional seconds to nine digits (nanoseconds), which is all
/// that can be kept and all the parsers take.
pub(super) fn trim_fraction(text: &str) -> Cow<'_, str> {
    let Some(dot) = text.find('.') else {
        return Cow::Borrowed(text);
    };
    let digits = text[dot + 1..]
        .bytes()
        .take_while(u8::is_ascii_digit)
        .count();
    if digits <= 9 {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..dot + 10]);
    out.push_str(&text[dot + 1 + digits..]);
    Cow::Owned(out)
}

/// The one way the station writes an instant: RFC 3339 in UTC, with as
/// many fractional digits as it has, e.g. `2015-07-07T23:36:21.93Z`.
pub fn format_cm_time(at: OffsetDateTime) -> String {
    at.to_offset(UtcOffset::UTC)
        .format(&time::format_description::well_known::Rfc3339)
        // Only a year beyond 9999 fails, and parse_cm_time never makes one.
        .unwrap_or_default()
}

/// A value the server sent, as an error message quotes it: cleaned as all
/// text from the wire is ([`from_wire`]), and short.
pub(super) fn short(text: &str) -> String {
    from_wire(text, 60).into_owned()
}

pub(super) fn required_guid(
    raw: Option<&str>,
    object: &'static str,
    field: &'static str,
) -> Result<Uuid, ModelError> {
    let raw = raw.ok_or(ModelError::Missing { object, field })?;
    match parse_guid(raw) {
        Some(uuid) if !uuid.is_nil() => Ok(uuid),
        Some(_) => Err(ModelError::Missing { object, field }),
        None => Err(ModelError::InvalidGuid {
            object,
            field,
            value: short(raw),
        }),
    }
}

pub(super) fn optional_guid(raw: Option<&str>) -> Option<Uuid> {
    raw.and_then(parse_optional_guid)
}

/// Which field of a wire struct a JSON key names.
pub(super) enum Key {
    /// The documented PascalCase name, exactly.
    Exact(usize),
    /// The same name in another case (`uuid`, `UUID`, `isSmartcard`).
    Folded(usize),
    /// No field the station reads.
    Other,
}

/// Reads a key against a struct's documented names without copying it.
pub(super) struct KeySeed(pub(super) &'static [&'static str]);

impl<'de> de::DeserializeSeed<'de> for KeySeed {
    type Value = Key;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Key, D::Error> {
        deserializer.deserialize_identifier(self)
    }
}

impl<'de> de::Visitor<'de> for KeySeed {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a property name")
    }

    fn visit_str<E>(self, key: &str) -> Result<Key, E> {
        if let Some(index) = self.0.iter().position(|name| *name == key) {
            return Ok(Key::Exact(index));
        }
        // A megabyte key costs one length comparison per name here.
        let key = key.trim();
        Ok(self
            .0
            .iter()
            .position(|name| name.eq_ignore_ascii_case(key))
            .map_or(Key::Other, Key::Folded))
    }
}

/// The lenient field readers above as types, for a hand-written `visit_map`.
pub(super) struct AnyString(pub(super) Option<String>);
pub(super) struct AnyEnum(pub(super) Option<WireEnum>);
pub(super) struct AnyI64(pub(super) i64);
pub(super) struct AnyBool(pub(super) bool);
pub(super) struct AnyList<T>(pub(super) Vec<T>);

impl<'de> Deserialize<'de> for AnyString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        de_string(deserializer).map(AnyString)
    }
}

impl<'de> Deserialize<'de> for AnyEnum {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        de_enum(deserializer).map(AnyEnum)
    }
}

impl<'de> Deserialize<'de> for AnyI64 {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        de_i64(deserializer).map(AnyI64)
    }
}

impl<'de> Deserialize<'de> for AnyBool {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        de_bool(deserializer).map(AnyBool)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for AnyList<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        de_list(deserializer).map(AnyList)
    }
}

/// Implements `Deserialize` for a wire struct whose keys are read in any
/// case (review `cm-api.md` L4: CM's own objects mix PascalCase and
/// camelCase). A key in its documented PascalCase wins; another casing of
/// it is used only when that is absent. Unknown keys are skipped, missing
/// fields keep their defaults.
macro_rules! any_case_keys {
    ($ty:ident, $expecting:literal { $($field:ident: $key:literal => $reader:ty,)* }) => {
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                #[allow(non_camel_case_types)]
                #[derive(Clone, Copy)]
                enum Field {
                    $($field,)*
                }
                const KEYS: &[&str] = &[$($key,)*];
                const FIELDS: &[Field] = &[$(Field::$field,)*];
                // `exact` below is a bit per field.
                const _: () = assert!(KEYS.len() <= 64);

                struct Fields;

                impl<'de> de::Visitor<'de> for Fields {
                    type Value = $ty;

                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($expecting)
                    }

                    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<$ty, A::Error> {
                        let mut out = $ty::default();
                        // Bit i: field i came under its exact name.
                        let mut exact = 0u64;
                        while let Some(key) = map.next_key_seed(KeySeed(KEYS))? {
                            let index = match key {
                                Key::Exact(index) => {
                                    exact |= 1 << index;
                                    index
                                }
                                Key::Folded(index) if exact & (1 << index) == 0 => index,
                                Key::Folded(_) | Key::Other => {
                                    map.next_value::<de::IgnoredAny>()?;
                                    continue;
                                }
                            };
                            match FIELDS[index] {
                                $(Field::$field => out.$field = map.next_value::<$reader>()?.0,)*
                            }
                        }
                        Ok(out)
                    }
                }

                deserializer.deserialize_map(Fields)
            }
        }
    };
}
