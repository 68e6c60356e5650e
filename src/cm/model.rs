//! The CM REST API's JSON, parsed tolerantly and converted to strict domain types.
//!
//! The server's JSON deviates from its own documentation in small ways (numbers
//! where names are documented and back, GUIDs in any dress, NUL characters at
//! the end of strings, `204` with no body). Everything that tolerates those
//! deviations lives here, so the domain types never see them: the wire structs
//! accept almost anything, and [`TryFrom`] turns them into
//! [`Request`] / [`Smartcard`] or says which required field was unusable.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};
use uuid::Uuid;

use crate::domain::card::{Atr, CardId};
use crate::domain::request::{
    DataItem, Request, RequestStatus, RequestType, SmartcardStatus, Text, is_name_only,
};
use crate::domain::smartcard::Smartcard;

/// The date .NET writes for `DateTime.MinValue`: CM's way of saying "never".
pub const DOTNET_MIN_DATE: &str = "0001-01-01T00:00:00";

/// Why a wire object could not become a domain object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    /// A field the station cannot do without is absent or null.
    #[error("the {object} has no {field}")]
    Missing {
        /// The kind of object ("request", "smart card").
        object: &'static str,
        /// The wire name of the field.
        field: &'static str,
    },
    /// A field the station cannot do without holds something unusable.
    #[error("the {object}'s {field} \"{value}\" is not a GUID")]
    InvalidGuid {
        /// The kind of object ("request", "smart card").
        object: &'static str,
        /// The wire name of the field.
        field: &'static str,
        /// What the server sent, shortened.
        value: String,
    },
}

// ---------------------------------------------------------------------------
// Scalars: GUIDs, strings, enums, numbers, booleans.
// ---------------------------------------------------------------------------

/// Parses a GUID the way CM writes it, in any case, with or without braces,
/// with stray whitespace, NULs or a trailing comma. Returns `None` for anything
/// else.
pub fn parse_guid(text: &str) -> Option<Uuid> {
    let cleaned = text
        .trim_matches(|c: char| c.is_whitespace() || c == '\0' || c == ',' || c == '"')
        .trim_start_matches('{')
        .trim_end_matches('}')
        .trim();
    if cleaned.len() != 36 && cleaned.len() != 32 {
        // Uuid::try_parse also takes URNs and other shapes CM never sends.
        return None;
    }
    Uuid::try_parse(cleaned).ok()
}

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
const UNRECOGNISED: i32 = -1;

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
enum Scalar {
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

struct ScalarVisitor;

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
fn float_text(f: f64) -> Option<String> {
    serde_json::Number::from_f64(f).map(|n| n.to_string())
}

/// Deserializes an optional enum: null, absent or an odd type becomes `None`.
fn de_enum<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<WireEnum>, D::Error> {
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
fn de_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
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
fn de_i64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
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
fn de_bool<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
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
fn de_list<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
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
const MAX_DATE_LEN: usize = 64;

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
fn trim_fraction(text: &str) -> Cow<'_, str> {
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

fn short(text: &str) -> String {
    const MAX: usize = 60;
    let mut out: String = text.chars().take(MAX).collect();
    if text.chars().count() > MAX {
        out.push('…');
    }
    out
}

fn required_guid(
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

fn optional_guid(raw: Option<&str>) -> Option<Uuid> {
    raw.and_then(parse_optional_guid)
}

// ---------------------------------------------------------------------------
// Keys in any case
// ---------------------------------------------------------------------------

/// Which field of a wire struct a JSON key names.
enum Key {
    /// The documented PascalCase name, exactly.
    Exact(usize),
    /// The same name in another case (`uuid`, `UUID`, `isSmartcard`).
    Folded(usize),
    /// No field the station reads.
    Other,
}

/// Reads a key against a struct's documented names without copying it.
struct KeySeed(&'static [&'static str]);

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
struct AnyString(Option<String>);
struct AnyEnum(Option<WireEnum>);
struct AnyI64(i64);
struct AnyBool(bool);
struct AnyList<T>(Vec<T>);

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

// ---------------------------------------------------------------------------
// Request
// ---------------------------------------------------------------------------

/// One `{Name, Value}` pair of a request's `DataCollection`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct WireDataItem {
    /// The field's name.
    pub name: Option<String>,
    /// Its value; null when the workflow did not fill it in.
    pub value: Option<String>,
}

any_case_keys!(WireDataItem, "a data collection item {Name, Value}" {
    name: "Name" => AnyString,
    value: "Value" => AnyString,
});

/// A CM Request as it travels over the wire. Every field is optional here;
/// [`Request::try_from`] decides what is required.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct WireRequest {
    /// The request's GUID, as sent.
    pub uuid: Option<String>,
    /// `RequestType`, a number or a name.
    pub request_type: Option<WireEnum>,
    /// `Status`, a number or a name.
    pub status: Option<WireEnum>,
    /// Request flags (Smartcard = 2).
    pub flags: i64,
    /// Values the workflow collected.
    pub data_collection: Vec<WireDataItem>,
    /// Data collection flags; meaning not settled.
    pub data_collection_flags: i64,
    /// Who submitted the request.
    pub originator_user_uuid: Option<String>,
    /// Who the request is for.
    pub target_user_uuid: Option<String>,
    /// When it was submitted, e.g. `2015-07-07T23:36:21.93Z`.
    pub submitted: Option<String>,
    /// When it was completed; [`DOTNET_MIN_DATE`] means never.
    pub completed: Option<String>,
    /// The profile the request creates.
    pub new_profile_uuid: Option<String>,
    /// The profile the request replaces.
    pub old_profile_uuid: Option<String>,
    /// The smart card object bound to the request; all zeros before a bind.
    pub new_smartcard_uuid: Option<String>,
    /// The smart card object the request replaces.
    pub old_smartcard_uuid: Option<String>,
    /// CM's priority number.
    pub priority: i64,
    /// Free text.
    pub comment: Option<String>,
    /// The profile template the request uses.
    pub profile_template_uuid: Option<String>,
    /// An SDDL string, NUL-terminated on the wire.
    pub security_descriptor: Option<String>,
    /// Whether this is a smart card request.
    pub is_smartcard: bool,
    /// Whether an enrollment agent must execute it.
    pub is_enrollment_agent: bool,
    /// Whether the workflow's data collection is complete.
    pub is_data_collection_complete: bool,
}

any_case_keys!(WireRequest, "a CM request object" {
    uuid: "Uuid" => AnyString,
    request_type: "RequestType" => AnyEnum,
    status: "Status" => AnyEnum,
    flags: "Flags" => AnyI64,
    data_collection: "DataCollection" => AnyList<WireDataItem>,
    data_collection_flags: "DataCollectionFlags" => AnyI64,
    originator_user_uuid: "OriginatorUserUuid" => AnyString,
    target_user_uuid: "TargetUserUuid" => AnyString,
    submitted: "Submitted" => AnyString,
    completed: "Completed" => AnyString,
    new_profile_uuid: "NewProfileUuid" => AnyString,
    old_profile_uuid: "OldProfileUuid" => AnyString,
    new_smartcard_uuid: "NewSmartcardUuid" => AnyString,
    old_smartcard_uuid: "OldSmartcardUuid" => AnyString,
    priority: "Priority" => AnyI64,
    comment: "Comment" => AnyString,
    profile_template_uuid: "ProfileTemplateUuid" => AnyString,
    security_descriptor: "SecurityDescriptor" => AnyString,
    is_smartcard: "IsSmartcard" => AnyBool,
    is_enrollment_agent: "IsEnrollmentAgent" => AnyBool,
    is_data_collection_complete: "IsDataCollectionComplete" => AnyBool,
});

impl WireRequest {
    /// The request's GUID, if it has a usable one.
    pub fn parsed_uuid(&self) -> Option<Uuid> {
        self.uuid.as_deref().and_then(parse_optional_guid)
    }

    /// When the request was completed, or `None` for CM's "never" date.
    pub fn completed_at(&self) -> Option<&str> {
        meaningful_date(self.completed.as_deref())
    }

    /// The wire form of a domain request, with the fields the domain does not
    /// keep set the way CM sets them for an open request.
    pub fn from_domain(request: &Request) -> Self {
        let nil = guid_to_wire(Uuid::nil());
        let guid = |u: Option<Uuid>| guid_to_wire(u.unwrap_or_else(Uuid::nil));
        WireRequest {
            uuid: Some(guid_to_wire(request.uuid)),
            request_type: Some(WireEnum::from_domain(request.request_type)),
            status: Some(WireEnum::from_domain(request.status)),
            flags: i64::from(request.is_smartcard) * 2 + i64::from(request.is_enrollment_agent),
            data_collection: request
                .data_collection
                .iter()
                .map(|item| WireDataItem {
                    name: Some(item.name.to_string()),
                    value: item.value.as_ref().map(ToString::to_string),
                })
                .collect(),
            data_collection_flags: 0,
            originator_user_uuid: Some(guid(request.originator_user)),
            target_user_uuid: Some(guid(request.target_user)),
            submitted: request.submitted.map(format_cm_time),
            completed: Some(DOTNET_MIN_DATE.into()),
            new_profile_uuid: Some(nil.clone()),
            old_profile_uuid: Some(nil.clone()),
            new_smartcard_uuid: Some(guid(request.new_smartcard)),
            old_smartcard_uuid: Some(nil),
            priority: i64::from(request.priority),
            comment: request.comment.as_ref().map(ToString::to_string),
            profile_template_uuid: Some(guid(request.profile_template)),
            security_descriptor: None,
            is_smartcard: request.is_smartcard,
            is_enrollment_agent: request.is_enrollment_agent,
            is_data_collection_complete: true,
        }
    }
}

impl TryFrom<WireRequest> for Request {
    type Error = ModelError;

    fn try_from(wire: WireRequest) -> Result<Self, Self::Error> {
        let uuid = required_guid(wire.uuid.as_deref(), "request", "Uuid")?;
        let status = wire
            .status
            .as_ref()
            .map_or(RequestStatus(UNRECOGNISED), WireEnum::to_domain);
        let request_type = wire
            .request_type
            .as_ref()
            .map_or(RequestType(UNRECOGNISED), WireEnum::to_domain);
        let data_collection = wire
            .data_collection
            .into_iter()
            .map(|item| DataItem {
                name: item.name.map(Text::from).unwrap_or_default(),
                value: item.value.map(Text::from),
            })
            .collect();
        Ok(Request {
            uuid,
            request_type,
            status,
            target_user: optional_guid(wire.target_user_uuid.as_deref()),
            originator_user: optional_guid(wire.originator_user_uuid.as_deref()),
            submitted: wire.submitted.as_deref().and_then(parse_cm_time),
            priority: i32::try_from(wire.priority).unwrap_or(0),
            new_smartcard: optional_guid(wire.new_smartcard_uuid.as_deref()),
            profile_template: optional_guid(wire.profile_template_uuid.as_deref()),
            is_smartcard: wire.is_smartcard,
            is_enrollment_agent: wire.is_enrollment_agent,
            data_collection,
            comment: wire
                .comment
                .filter(|c| !c.trim().is_empty())
                .map(Text::from),
        })
    }
}

// ---------------------------------------------------------------------------
// Smartcard
// ---------------------------------------------------------------------------

/// A CM Smartcard object as it travels over the wire.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct WireSmartcard {
    /// The object's GUID.
    pub uuid: Option<String>,
    /// `Status`, a number or a name.
    pub status: Option<WireEnum>,
    /// Smart card flags (Primary = 1, inferred).
    pub flags: i64,
    /// The card this one was derived from.
    pub parent_smartcard_uuid: Option<String>,
    /// The primary card of a temporary card.
    pub primary_smartcard_uuid: Option<String>,
    /// The permanent card of a temporary card.
    pub permanent_smartcard_uuid: Option<String>,
    /// The user the card is assigned to.
    pub assigned_user_uuid: Option<String>,
    /// The profile template it was issued with.
    pub profile_template_uuid: Option<String>,
    /// The template's version.
    pub profile_template_version: i64,
    /// Free text.
    pub comment: Option<String>,
    /// The card ID in braces, e.g. `{bc88f13f-...}`.
    pub serial_number: Option<String>,
    /// The middleware, e.g. `MSBaseCSP`.
    pub middleware: Option<String>,
    /// The ATR as hex.
    pub atr: Option<String>,
}

any_case_keys!(WireSmartcard, "a CM smart card object" {
    uuid: "Uuid" => AnyString,
    status: "Status" => AnyEnum,
    flags: "Flags" => AnyI64,
    parent_smartcard_uuid: "ParentSmartcardUuid" => AnyString,
    primary_smartcard_uuid: "PrimarySmartcardUuid" => AnyString,
    permanent_smartcard_uuid: "PermanentSmartcardUuid" => AnyString,
    assigned_user_uuid: "AssignedUserUuid" => AnyString,
    profile_template_uuid: "ProfileTemplateUuid" => AnyString,
    profile_template_version: "ProfileTemplateVersion" => AnyI64,
    comment: "Comment" => AnyString,
    serial_number: "SerialNumber" => AnyString,
    middleware: "Middleware" => AnyString,
    atr: "Atr" => AnyString,
});

impl WireSmartcard {
    /// The object's GUID, if it has a usable one.
    pub fn parsed_uuid(&self) -> Option<Uuid> {
        self.uuid.as_deref().and_then(parse_optional_guid)
    }

    /// The card ID in `SerialNumber`, if it is one.
    pub fn card_id(&self) -> Option<CardId> {
        // parse_guid does the cleaning; CardId keeps the one byte-order conversion.
        let guid = parse_guid(&strip_nuls(self.serial_number.as_deref()?))?;
        CardId::parse_cm_string(&guid_to_wire(guid))
    }
}

impl TryFrom<WireSmartcard> for Smartcard {
    type Error = ModelError;

    fn try_from(wire: WireSmartcard) -> Result<Self, Self::Error> {
        let uuid = required_guid(wire.uuid.as_deref(), "smart card", "Uuid")?;
        let status = wire
            .status
            .as_ref()
            .map_or(SmartcardStatus(UNRECOGNISED), WireEnum::to_domain);
        let card_id = wire.card_id();
        let atr = wire
            .atr
            .as_deref()
            .and_then(Atr::parse_hex)
            .filter(|a| !a.is_empty());
        Ok(Smartcard {
            uuid,
            status,
            card_id,
            atr,
            assigned_user: optional_guid(wire.assigned_user_uuid.as_deref()),
            profile_template: optional_guid(wire.profile_template_uuid.as_deref()),
        })
    }
}

// ---------------------------------------------------------------------------
// Profile templates
// ---------------------------------------------------------------------------

/// An entry of `GET profiletemplates` as it travels over the wire.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct WireProfileTemplate {
    /// The template's display name.
    pub name: Option<String>,
    /// Its description.
    pub description: Option<String>,
    /// Its GUID.
    pub uuid: Option<String>,
    /// Whether it issues smart cards.
    pub is_smartcard_profile_template: bool,
    /// Whether it issues TPM virtual smart cards.
    pub is_virtual_smartcard_profile_template: bool,
}

any_case_keys!(WireProfileTemplate, "a CM profile template object" {
    name: "Name" => AnyString,
    description: "Description" => AnyString,
    uuid: "Uuid" => AnyString,
    is_smartcard_profile_template: "IsSmartcardProfileTemplate" => AnyBool,
    is_virtual_smartcard_profile_template: "IsVirtualSmartcardProfileTemplate" => AnyBool,
});

/// A CM profile template, strictly typed: what the station shows instead of a GUID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileTemplate {
    /// The template's GUID.
    pub uuid: Uuid,
    /// Its display name.
    pub name: String,
    /// Its description, if any.
    pub description: Option<String>,
    /// Whether it issues smart cards.
    pub is_smartcard: bool,
    /// Whether it issues TPM virtual smart cards.
    pub is_virtual_smartcard: bool,
}

impl TryFrom<WireProfileTemplate> for ProfileTemplate {
    type Error = ModelError;

    fn try_from(wire: WireProfileTemplate) -> Result<Self, Self::Error> {
        let uuid = required_guid(wire.uuid.as_deref(), "profile template", "Uuid")?;
        Ok(ProfileTemplate {
            uuid,
            name: wire
                .name
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| guid_to_wire(uuid)),
            description: wire.description.filter(|d| !d.trim().is_empty()),
            is_smartcard: wire.is_smartcard_profile_template,
            is_virtual_smartcard: wire.is_virtual_smartcard_profile_template,
        })
    }
}

/// `GET profiletemplates/{id}/configuration/smartcards`, read for its reuse
/// flag only. The answer also holds the template's `DefaultAdminKeyHex`: it
/// has no field here, so it is skipped unread like every other unknown key and
/// can reach no log, journal or screen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WireSmartcardConfig {
    /// `AllowSmartcardReuse`: whether a card whose objects are all
    /// discontinued may be issued again. Absent means no.
    pub allow_smartcard_reuse: bool,
}

any_case_keys!(WireSmartcardConfig, "a CM profile template's smart card configuration" {
    allow_smartcard_reuse: "AllowSmartcardReuse" => AnyBool,
});

// ---------------------------------------------------------------------------
// Bind
// ---------------------------------------------------------------------------

/// The body of `POST smartcards`, in exactly the formats of the reference example.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BindBody {
    /// The request's GUID: lower-case, hyphenated, no braces.
    pub requestid: String,
    /// The card ID from [`CardId::to_cm_string`].
    pub cardid: String,
    /// The ATR from [`Atr::to_hex`]: lower-case hex, no separators.
    pub atr: String,
}

impl BindBody {
    /// Builds the body for binding `card_id` (with `atr`) to `request`.
    pub fn new(request: Uuid, card_id: &CardId, atr: &Atr) -> Self {
        BindBody {
            requestid: guid_to_wire(request),
            cardid: card_id.to_cm_string(),
            atr: atr.to_hex(),
        }
    }
}

/// The smart card object's UUID from the URI a bind returns
/// (`api/v1.0/smartcards/<uuid>`), tolerating a trailing slash or query.
pub fn smartcard_uuid_from_uri(uri: &str) -> Option<Uuid> {
    let path = uri.split(['?', '#']).next().unwrap_or(uri);
    let last = path.trim().trim_end_matches('/').rsplit('/').next()?;
    parse_optional_guid(&percent_decode(last))
}

/// Decodes `%XX` escapes; invalid escapes are kept as they are.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let high = (bytes[i + 1] as char).to_digit(16);
            let low = (bytes[i + 2] as char).to_digit(16);
            if let (Some(high), Some(low)) = (high, low) {
                // Two hex digits always fit a byte.
                out.push((high * 16 + low) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const REQ: &str = "a9b4b42c-cc50-4c9b-89d1-bbc0bcd5a099";

    #[test]
    fn a_smart_card_configuration_keeps_only_its_reuse_flag() {
        const KEY: &str = "0123456789abcdef0123456789abcdef0123456789abcdef";
        for (json, allowed) in [
            (
                json!({"AllowSmartcardReuse": true, "DefaultAdminKeyHex": KEY}),
                true,
            ),
            (
                json!({"allowsmartcardreuse": "True", "defaultadminkeyhex": KEY}),
                true,
            ),
            (json!({"ALLOWSMARTCARDREUSE": 1}), true),
            (
                json!({"AllowSmartcardReuse": false, "DefaultAdminKeyHex": KEY}),
                false,
            ),
            // Absent: CM's default, no reuse.
            (json!({"DefaultAdminKeyHex": KEY, "Other": [1, 2]}), false),
        ] {
            let wire: WireSmartcardConfig =
                serde_json::from_value(json.clone()).expect("configuration parses");
            assert_eq!(wire.allow_smartcard_reuse, allowed, "{json}");
            assert!(!format!("{wire:?}").contains(KEY));
        }
    }

    fn request(json: Value) -> Result<Request, ModelError> {
        let wire: WireRequest = serde_json::from_value(json).expect("wire request parses");
        Request::try_from(wire)
    }

    /// The reference's own example request, extra keys and all.
    fn reference_request() -> Value {
        json!({
            "Uuid": REQ,
            "RequestType": 1,
            "Status": 3,
            "Flags": 2,
            "DataCollection": [
                {"Name": "FirstName", "Value": "Jane"},
                {"Name": "Middle", "Value": null}
            ],
            "DataCollectionFlags": 32,
            "OriginatorUserUuid": "c6bad97c-5c37-4a55-a6a9-5d5b6a0dfe30",
            "TargetUserUuid": "c6bad97c-5c37-4a55-a6a9-5d5b6a0dfe30",
            "Submitted": "2015-07-07T23:36:21.93Z",
            "Completed": "0001-01-01T00:00:00",
            "NewProfileUuid": "00000000-0000-0000-0000-000000000000",
            "OldProfileUuid": "00000000-0000-0000-0000-000000000000",
            "NewSmartcardUuid": "00000000-0000-0000-0000-000000000000",
            "OldSmartcardUuid": "00000000-0000-0000-0000-000000000000",
            "Priority": 0,
            "Comment": "",
            "ProfileTemplateUuid": "17cf063d-e337-4aa9-a822-346554ddd3c9",
            "SecurityDescriptor": "O:SYG:SYD:(A;;RPWPCCDCLCSWRCWDWOGA;;;SY)\u{0}",
            "IsSmartcard": true,
            "IsEnrollmentAgent": true,
            "IsDataCollectionComplete": true,
            "SomethingNew": {"Nested": [1, 2]}
        })
    }

    #[test]
    fn the_reference_request_converts() {
        let r = request(reference_request()).expect("converts");
        assert_eq!(r.uuid, Uuid::parse_str(REQ).expect("guid"));
        assert_eq!(r.status, RequestStatus::APPROVED);
        assert_eq!(r.request_type, RequestType::ENROLL);
        assert_eq!(
            r.submitted.map(format_cm_time).as_deref(),
            Some("2015-07-07T23:36:21.93Z")
        );
        assert_eq!(r.new_smartcard, None);
        assert!(r.profile_template.is_some());
        assert!(r.is_smartcard && r.is_enrollment_agent);
        assert_eq!(r.comment, None);
        assert!(r.is_bindable());
    }

    #[test]
    fn quirk_unknown_keys_are_ignored_and_missing_ones_defaulted() {
        let r = request(json!({"Uuid": REQ, "Brand": "new", "Status": 16})).expect("converts");
        assert_eq!(r.status, RequestStatus::PENDING);
        assert_eq!(r.priority, 0);
        assert!(r.data_collection.is_empty());
        assert!(!r.is_smartcard);
        assert_eq!(r.request_type.to_string(), "Unknown(-1)");
    }

    #[test]
    fn quirk_enums_as_numbers_or_names_in_any_case() {
        for (status, expected) in [
            (json!(3), RequestStatus::APPROVED),
            (json!("Approved"), RequestStatus::APPROVED),
            (json!("EXECUTING"), RequestStatus::EXECUTING),
            (json!("pending"), RequestStatus::PENDING),
            (json!("8"), RequestStatus::COMPLETED),
            (json!(18.0), RequestStatus::EXECUTING),
            (json!(42), RequestStatus(42)),
            (json!("Exploded"), RequestStatus(-1)),
            (json!(null), RequestStatus(-1)),
            (json!([3]), RequestStatus(-1)),
        ] {
            let r = request(json!({"Uuid": REQ, "Status": status.clone(), "RequestType": "renew"}))
                .expect("converts");
            assert_eq!(r.status, expected, "{status}");
            assert_eq!(r.request_type, RequestType::RENEW);
        }
        let r = request(json!({"Uuid": REQ, "Status": 42})).expect("converts");
        assert_eq!(r.status.to_string(), "Unknown(42)");
    }

    #[test]
    fn quirk_guids_in_any_dress() {
        let upper = REQ.to_uppercase();
        for form in [
            REQ.to_string(),
            upper.clone(),
            format!("{{{REQ}}}"),
            format!("{{{upper}}}"),
            format!(" {upper}"),
            format!("{REQ} \u{0}\u{0}"),
            format!(" {{{REQ}}} ,"),
            REQ.replace('-', ""),
        ] {
            let r = request(json!({"Uuid": form})).expect("converts");
            assert_eq!(r.uuid.to_string(), REQ, "{form:?}");
        }
    }

    #[test]
    fn quirk_all_zero_guids_mean_none() {
        let r = request(json!({
            "Uuid": REQ,
            "NewSmartcardUuid": "{00000000-0000-0000-0000-000000000000}",
            "TargetUserUuid": "00000000000000000000000000000000",
            "ProfileTemplateUuid": null,
        }))
        .expect("converts");
        assert_eq!(r.new_smartcard, None);
        assert_eq!(r.target_user, None);
        assert_eq!(r.profile_template, None);
        let bound = request(json!({"Uuid": REQ, "Status": 3,
            "NewSmartcardUuid": "17CF063D-E337-4AA9-A822-346554DDD3C9"}))
        .expect("converts");
        assert!(bound.new_smartcard.is_some());
        assert!(!bound.is_bindable());
    }

    #[test]
    fn missing_or_broken_request_uuid_is_a_clear_error() {
        assert_eq!(
            request(json!({"Status": 3})),
            Err(ModelError::Missing {
                object: "request",
                field: "Uuid"
            })
        );
        assert_eq!(
            request(json!({"Uuid": null})),
            Err(ModelError::Missing {
                object: "request",
                field: "Uuid"
            })
        );
        assert_eq!(
            request(json!({"Uuid": "00000000-0000-0000-0000-000000000000"})),
            Err(ModelError::Missing {
                object: "request",
                field: "Uuid"
            })
        );
        let err = request(json!({"Uuid": "not-a-guid"})).expect_err("refused");
        assert_eq!(
            err.to_string(),
            "the request's Uuid \"not-a-guid\" is not a GUID"
        );
    }

    #[test]
    fn quirk_nul_characters_are_removed() {
        let wire: WireRequest = serde_json::from_value(json!({
            "Uuid": format!("{REQ}\u{0}"),
            "SecurityDescriptor": "O:SYG:SYD:(A;;CC;;;AU)\u{0}\u{0}",
            "Comment": "new\u{0} hire\u{0}",
            "DataCollection": [{"Name": "LastName\u{0}", "Value": "Doe\u{0}"}],
        }))
        .expect("parses");
        assert_eq!(
            wire.security_descriptor.as_deref(),
            Some("O:SYG:SYD:(A;;CC;;;AU)")
        );
        let r = Request::try_from(wire).expect("converts");
        assert_eq!(r.comment.as_deref(), Some("new hire"));
        assert_eq!(r.data_collection[0].name, "LastName");
        assert_eq!(r.data_collection[0].value.as_deref(), Some("Doe"));
    }

    #[test]
    fn quirk_dotnet_min_date_means_not_completed() {
        let wire: WireRequest = serde_json::from_value(reference_request()).expect("parses");
        assert_eq!(wire.completed.as_deref(), Some(DOTNET_MIN_DATE));
        assert_eq!(wire.completed_at(), None);
        let done: WireRequest =
            serde_json::from_value(json!({"Completed": "2015-07-08T10:00:00.5Z"})).expect("parses");
        assert_eq!(done.completed_at(), Some("2015-07-08T10:00:00.5Z"));
        let never =
            request(json!({"Uuid": REQ, "Submitted": "0001-01-01T00:00:00"})).expect("converts");
        assert_eq!(never.submitted, None);
    }

    #[test]
    fn submitted_is_read_as_an_instant_in_any_offset() {
        let utc = |text: &str| parse_cm_time(text).map(format_cm_time);
        for (text, expected) in [
            ("2015-07-07T23:36:21.93Z", Some("2015-07-07T23:36:21.93Z")),
            ("2015-07-07T23:36:21Z", Some("2015-07-07T23:36:21Z")),
            (
                "2015-07-07T23:36:21.9300000Z",
                Some("2015-07-07T23:36:21.93Z"),
            ),
            (
                "2015-07-07T23:36:21.1234567Z",
                Some("2015-07-07T23:36:21.1234567Z"),
            ),
            // More digits than nanoseconds: cut, not refused.
            (
                "2015-07-07T23:36:21.123456789123Z",
                Some("2015-07-07T23:36:21.123456789Z"),
            ),
            (
                "2015-07-08T00:36:21.93+01:00",
                Some("2015-07-07T23:36:21.93Z"),
            ),
            ("2015-07-07T18:06:21-05:30", Some("2015-07-07T23:36:21Z")),
            ("2015-07-07t23:36:21z", Some("2015-07-07T23:36:21Z")),
            // No zone: CM's dates are UTC.
            ("2015-07-07T23:36:21.93", Some("2015-07-07T23:36:21.93Z")),
            (" 2015-07-07T23:36:21Z\u{0}", Some("2015-07-07T23:36:21Z")),
            // .NET's "never", with or without a zone or fraction.
            ("0001-01-01T00:00:00", None),
            ("0001-01-01T00:00:00Z", None),
            ("0001-01-01T00:00:00.0000000", None),
            ("", None),
            ("   ", None),
            ("yesterday", None),
            ("2015-13-07T23:36:21Z", None),
            ("2015-07-07T23:36:21Zjunk", None),
            ("2015-07-07T23:36:21\u{7}Z", None),
        ] {
            assert_eq!(utc(text).as_deref(), expected, "{text:?}");
        }
        let huge = format!("2015-07-07T23:36:21.{}Z", "9".repeat(1 << 20));
        assert_eq!(parse_cm_time(&huge), None, "a megabyte date is not read");
        let r = request(json!({"Uuid": REQ, "Submitted": "2015-07-08T00:36:21.93+01:00"}))
            .expect("converts");
        let wire = WireRequest::from_domain(&r);
        assert_eq!(wire.submitted.as_deref(), Some("2015-07-07T23:36:21.93Z"));
        let broken = request(json!({"Uuid": REQ, "Submitted": "soon"})).expect("converts");
        assert_eq!(broken.submitted, None);
        let number = request(json!({"Uuid": REQ, "Submitted": 1_436_311_000})).expect("converts");
        assert_eq!(number.submitted, None);
    }

    #[test]
    fn quirk_keys_in_another_case_are_read_when_the_pascal_case_one_is_missing() {
        let lower: serde_json::Map<String, Value> = reference_request()
            .as_object()
            .expect("object")
            .iter()
            .map(|(k, v)| (k.to_lowercase(), v.clone()))
            .collect();
        let expected = request(reference_request()).expect("converts");
        assert_eq!(request(Value::Object(lower)), Ok(expected.clone()));
        let camel = json!({
            "uuid": REQ, "requestType": "enroll", "status": "approved",
            "isSmartcard": true, "IsSmartCard": false, "IsSmartcard": true,
            "UUID": "00000000-0000-0000-0000-000000000001",
            "newSmartcardUuid": "00000000-0000-0000-0000-000000000000",
            "submitted": "2015-07-07T23:36:21.93Z",
            "dataCollection": [{"name": "FirstName", "VALUE": "Jane"}],
            " Priority ": 4,
        });
        let r = request(camel).expect("converts");
        assert_eq!(
            r.uuid, expected.uuid,
            "the second, other-cased Uuid is ignored"
        );
        assert_eq!(r.request_type, RequestType::ENROLL);
        assert_eq!(r.status, RequestStatus::APPROVED);
        assert!(
            r.is_smartcard,
            "IsSmartcard in PascalCase wins over IsSmartCard"
        );
        assert_eq!(r.submitted, expected.submitted);
        assert_eq!(r.data_collection[0].value.as_deref(), Some("Jane"));
        assert_eq!(r.priority, 4);
        assert!(r.is_bindable());
        // The PascalCase key wins wherever it stands.
        let r = request(json!({"Uuid": REQ, "Status": 3, "status": 16})).expect("converts");
        assert_eq!(r.status, RequestStatus::APPROVED);
        let r = request(json!({"status": 16, "Uuid": REQ, "Status": 3})).expect("converts");
        assert_eq!(r.status, RequestStatus::APPROVED);

        let card: WireSmartcard = serde_json::from_value(json!({
            "uuid": "17cf063d-e337-4aa9-a822-346554ddd3c9", "STATUS": 6,
            "serialNumber": "{BC88F13F-83BA-4037-8262-46EBA1291C6E}", "atr": "3B8D01",
        }))
        .expect("parses");
        let card = Smartcard::try_from(card).expect("converts");
        assert_eq!(card.status, SmartcardStatus::RETIRED);
        assert!(card.card_id.is_some() && card.atr.is_some());
        let template: WireProfileTemplate = serde_json::from_value(json!({
            "name": "Smartcard User", "uuid": "17cf063d-e337-4aa9-a822-346554ddd3c9",
            "isSmartcardProfileTemplate": true,
        }))
        .expect("parses");
        let template = ProfileTemplate::try_from(template).expect("converts");
        assert_eq!(template.name, "Smartcard User");
        assert!(template.is_smartcard);
    }

    #[test]
    fn hostile_objects_are_read_or_refused_without_harm() {
        let long = "x".repeat(1 << 20);
        let mut object = serde_json::Map::new();
        object.insert("Uuid".into(), json!(REQ));
        object.insert(long.clone(), json!(long.clone()));
        object.insert("Comment".into(), json!(format!("a\u{1b}[31mb{long}")));
        object.insert("RequestType".into(), json!(format!("Retire\u{0}{long}")));
        let r = request(Value::Object(object)).expect("converts");
        assert_eq!(r.request_type, RequestType(-1), "an unknown name");
        assert!(r.comment.is_some_and(|c| c.len() > 1 << 20));
        assert!(serde_json::from_value::<WireRequest>(json!(null)).is_err());
        assert!(serde_json::from_value::<WireRequest>(json!("a string")).is_err());
        assert_eq!(
            serde_json::from_str::<WireRequest>("{\"Uuid\":1,\"uuid\":{\"a\":[]}}")
                .expect("parses")
                .uuid
                .as_deref(),
            Some("1")
        );
    }

    #[test]
    fn types_and_card_states_in_every_spelling_on_the_wire() {
        for (value, expected) in [
            (json!("TemporaryCards"), RequestType::TEMPORARY_CARD_ENROLL),
            (json!("temporaryenroll"), RequestType::TEMPORARY_CARD_ENROLL),
            (
                json!("TemporaryCardEnroll"),
                RequestType::TEMPORARY_CARD_ENROLL,
            ),
            (json!(11), RequestType::TEMPORARY_CARD_ENROLL),
            (json!("11"), RequestType::TEMPORARY_CARD_ENROLL),
            (json!("Revoke"), RequestType::REVOKE),
            (json!("reinstate"), RequestType::REINSTATE),
            (json!("OFFLINEUNBLOCK"), RequestType::OFFLINE_UNBLOCK),
            (
                json!("SuspendOrReinstate"),
                RequestType::SUSPEND_OR_REINSTATE,
            ),
            (json!("retire"), RequestType::RETIRE),
            (json!(99), RequestType(99)),
            // The range kept for names is never a number from the wire.
            (json!(i64::from(RequestType::REVOKE.0)), RequestType(-1)),
        ] {
            let r = request(json!({"Uuid": REQ, "RequestType": value.clone()})).expect("converts");
            assert_eq!(r.request_type, expected, "{value}");
        }
        assert_eq!(RequestType(99).to_string(), "Unknown(99)");
        // A name with no number is sent by its REST name, a number as a number.
        assert_eq!(
            serde_json::to_value(WireEnum::from_domain(RequestType::REVOKE)).expect("json"),
            json!("Revoke")
        );
        assert_eq!(
            serde_json::to_value(WireEnum::from_domain(RequestType::RETIRE)).expect("json"),
            json!(7)
        );
        for (value, expected) in [
            (json!("Suspended"), SmartcardStatus::SUSPENDED),
            (json!("none"), SmartcardStatus::NONE),
            (json!(6), SmartcardStatus::RETIRED),
        ] {
            let wire: WireSmartcard = serde_json::from_value(
                json!({"Uuid": "17cf063d-e337-4aa9-a822-346554ddd3c9", "Status": value.clone()}),
            )
            .expect("parses");
            let card = Smartcard::try_from(wire).expect("converts");
            assert_eq!(card.status, expected, "{value}");
        }
        let r = request(json!({"Uuid": REQ, "RequestType": "revoke"})).expect("converts");
        let back = request(serde_json::to_value(WireRequest::from_domain(&r)).expect("json"))
            .expect("converts");
        assert_eq!(back.request_type, RequestType::REVOKE);
    }

    #[test]
    fn quirk_data_collection_value_may_be_null_and_the_list_absent_or_null() {
        let r = request(reference_request()).expect("converts");
        assert_eq!(
            r.data_collection.as_slice(),
            [
                DataItem {
                    name: "FirstName".into(),
                    value: Some("Jane".into())
                },
                DataItem {
                    name: "Middle".into(),
                    value: None
                },
            ]
        );
        let r = request(json!({"Uuid": REQ, "DataCollection": null})).expect("converts");
        assert!(r.data_collection.is_empty());
        let r = request(
            json!({"Uuid": REQ, "DataCollection": [{"Name": "EmployeeId", "Value": 1234}]}),
        )
        .expect("converts");
        assert_eq!(r.data_collection[0].value.as_deref(), Some("1234"));
    }

    #[test]
    fn quirk_numbers_and_booleans_as_text() {
        let r = request(json!({"Uuid": REQ, "Priority": "5", "IsSmartcard": "True",
            "IsEnrollmentAgent": 1}))
        .expect("converts");
        assert_eq!(r.priority, 5);
        assert!(r.is_smartcard);
        assert!(r.is_enrollment_agent);
    }

    #[test]
    fn quirk_trailing_commas_in_bodies_are_tolerated() {
        let body =
            "{\"requestid\":\" C6BAD97C-5C37-4A55-A6A9-5D5B6A0DFE30\",\n \"atr\":\"3b,\",\n}";
        let value = parse_lenient_json(body).expect("parses after fixing");
        assert_eq!(value["atr"], "3b,");
        assert_eq!(
            parse_guid(value["requestid"].as_str().expect("string")),
            Some(Uuid::parse_str("c6bad97c-5c37-4a55-a6a9-5d5b6a0dfe30").expect("guid"))
        );
        assert_eq!(strip_trailing_commas("[1,2 , ]"), "[1,2  ]");
        assert!(parse_lenient_json("{\"a\":,}").is_err());
        assert!(parse_lenient_json("<html>").is_err());
    }

    #[test]
    fn smartcard_converts_with_braced_serial_and_atr() {
        let wire: WireSmartcard = serde_json::from_value(json!({
            "Uuid": "17cf063d-e337-4aa9-a822-346554ddd3c9",
            "Status": 1,
            "SerialNumber": "{BC88F13F-83BA-4037-8262-46EBA1291C6E}",
            "Middleware": "MSBaseCSP",
            "Atr": "3B8D0180FBA000000397425446590301C8",
            "AssignedUserUuid": "00000000-0000-0000-0000-000000000000",
            "Unexpected": true,
        }))
        .expect("parses");
        let card = Smartcard::try_from(wire).expect("converts");
        assert_eq!(card.status, SmartcardStatus::ASSIGNED);
        assert_eq!(
            card.card_id.map(|c| c.to_cm_string()).as_deref(),
            Some("bc88f13f-83ba-4037-8262-46eba1291c6e")
        );
        assert_eq!(
            card.atr.map(|a| a.to_hex()).as_deref(),
            Some("3b8d0180fba000000397425446590301c8")
        );
        assert_eq!(card.assigned_user, None);

        let odd: WireSmartcard =
            serde_json::from_value(json!({"Uuid": "{17CF063D-E337-4AA9-A822-346554DDD3C9}",
                "Status": "Retired", "SerialNumber": "12345", "Atr": ""}))
            .expect("parses");
        let card = Smartcard::try_from(odd).expect("converts");
        assert_eq!(card.status, SmartcardStatus::RETIRED);
        assert_eq!(card.card_id, None);
        assert_eq!(card.atr, None);
        assert!(Smartcard::try_from(WireSmartcard::default()).is_err());
    }

    #[test]
    fn bind_body_uses_the_reference_formats() {
        let card = CardId::parse_cm_string("{BC88F13F-83BA-4037-8262-46EBA1291C6E}").expect("id");
        let atr =
            Atr::parse_hex("3B 8D 01 80 FB A0 00 00 03 97 42 54 46 59 03 01 C8").expect("atr");
        let body = BindBody::new(
            Uuid::parse_str(&REQ.to_uppercase()).expect("guid"),
            &card,
            &atr,
        );
        assert_eq!(
            serde_json::to_value(&body).expect("serializes"),
            json!({
                "requestid": "a9b4b42c-cc50-4c9b-89d1-bbc0bcd5a099",
                "cardid": "bc88f13f-83ba-4037-8262-46eba1291c6e",
                "atr": "3b8d0180fba000000397425446590301c8"
            })
        );
    }

    #[test]
    fn bind_uri_gives_the_smartcard_uuid() {
        let expected = Uuid::parse_str("17cf063d-e337-4aa9-a822-346554ddd3c9").expect("guid");
        for uri in [
            "api/v1.0/smartcards/17cf063d-e337-4aa9-a822-346554ddd3c9",
            "https://cm/CertificateManagement/api/v1.0/smartcards/17CF063D-E337-4AA9-A822-346554DDD3C9/",
            "api/v1.0/smartcards/%7B17cf063d-e337-4aa9-a822-346554ddd3c9%7D?x=1",
        ] {
            assert_eq!(smartcard_uuid_from_uri(uri), Some(expected), "{uri}");
        }
        assert_eq!(smartcard_uuid_from_uri("api/v1.0/smartcards/"), None);
        assert_eq!(smartcard_uuid_from_uri(""), None);
    }

    #[test]
    fn wire_request_round_trips_through_the_domain() {
        let r = request(reference_request()).expect("converts");
        let wire = WireRequest::from_domain(&r);
        let json = serde_json::to_value(&wire).expect("serializes");
        assert_eq!(json["Status"], 3);
        assert_eq!(
            json["NewSmartcardUuid"],
            "00000000-0000-0000-0000-000000000000"
        );
        assert_eq!(json["Completed"], DOTNET_MIN_DATE);
        let back = request(json).expect("converts");
        assert_eq!(back, r);
    }

    #[test]
    fn profile_template_converts() {
        let wire: WireProfileTemplate = serde_json::from_value(json!({
            "Name": "Smartcard User", "Description": null,
            "Uuid": "{17CF063D-E337-4AA9-A822-346554DDD3C9}",
            "IsSmartcardProfileTemplate": true, "IsVirtualSmartcardProfileTemplate": false
        }))
        .expect("parses");
        let t = ProfileTemplate::try_from(wire).expect("converts");
        assert_eq!(t.name, "Smartcard User");
        assert!(t.is_smartcard && !t.is_virtual_smartcard);
        assert_eq!(t.description, None);
    }

    #[test]
    fn percent_decoding_keeps_bad_escapes() {
        assert_eq!(percent_decode("%7Babc%7d"), "{abc}");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
    }
}
