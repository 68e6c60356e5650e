//! Text that someone outside the station wrote (a requester's collected
//! data, a comment, a server's error message, a reader's or card's name),
//! made safe to show, search and journal: one line, nothing invisible, a
//! bounded length.
//!
//! ## One rule for text from the wire: [`from_wire`]
//!
//! Every string that arrives from the CM server and can reach a screen goes
//! through [`from_wire`] once, where it enters the station (the request
//! model's conversion, the error body reader). What comes out is what the
//! list, the kiosk, the search index, the journal and the command line all
//! see, so two requests that look the same on screen are the same text, and
//! a search finds exactly what is drawn.
//!
//! - **NFC.** `e` + U+0301 and `é` become the same text.
//! - **Hidden characters become a visible mark.** A control or format
//!   character (general categories Cc and Cf: C0 and C1 controls such as ESC
//!   and CSI U+009B, the bidi overrides and isolates U+202A–202E and
//!   U+2066–2069, U+200E/U+200F/U+061C, the zero-width characters
//!   U+200B–200D and U+2060–2064, U+FEFF), any other default-ignorable code
//!   point (Hangul fillers, variation selectors, U+034F), a private-use
//!   character or a noncharacter is replaced by `<U+XXXX>`, e.g. `Ja<U+200B>ne`.
//!   Removing them instead would make `Ja\u{200B}ne` and `Jane` the same text
//!   after cleaning but let the requester slip anything through a filter
//!   that looks for a mark; a mark shows the operator that something was
//!   there and keeps the two requests apart. The mark is plain ASCII on
//!   purpose: egui's default fonts have no glyph for the control pictures
//!   (U+2400 block) or U+FFFD-style symbols in every case, and a mark that
//!   draws as a box would be no better than the hidden character. A
//!   requester who types `<U+202E>` literally gets the same text and the
//!   same warning ([`suspicion`]) as one who sent the character.
//! - **One line.** Every run of whitespace (tabs, CR, LF, NEL, U+2028/2029,
//!   no-break and other wide spaces) is one ASCII space; the ends are trimmed.
//! - **A bounded length**, in characters (a mark counts as its characters and
//!   is never cut in half); a longer text is cut and ends in `…`, so the cut
//!   is visible. A megabyte value costs the scan up to the cut, not a
//!   megabyte copy.
//! - **Fast** for what nearly all CM data is: a clean value (printable
//!   ASCII, or clean NFC text) comes back borrowed, unchanged, with no
//!   allocation; [`from_wire_owned`] hands a clean `String` back as it is.
//!
//! [`one_line`] is the older, removing variant for text the station itself
//! holds (its own configuration, typed input, journal lines written before
//! this rule): same whitespace, length and NFC rules, but hidden characters
//! are dropped. Applied to text already cleaned by [`from_wire`] it changes
//! nothing but the length.
//!
//! ## Look-alikes: [`suspicion`] and [`skeleton_key`]
//!
//! After cleaning, [`suspicion`] says in words what is odd about a value
//! (Unicode TR39, via `unicode-security`): letters of scripts that are not
//! normally mixed (`J` + Cyrillic `а` + `ne`), a non-ASCII text that looks
//! exactly like ASCII text (all-Cyrillic `Сесе` for `Cece`), or marks for
//! hidden characters. [`skeleton_key`] is TR39's skeleton: two names with
//! the same key look the same.

use std::borrow::Cow;
use std::fmt::{self, Write as _};

use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};
use unicode_security::mixed_script::AugmentedScriptSet;
use unicode_security::{RestrictionLevel, RestrictionLevelDetection};

/// The longest person name the station journals and shows, in characters.
pub const PERSON_MAX_CHARS: usize = 120;

/// The longest collected data value (a first name, an employee ID) kept
/// from the wire, in characters.
pub const VALUE_MAX_CHARS: usize = 200;

/// The longest collected data field name kept from the wire, in characters.
pub const FIELD_NAME_MAX_CHARS: usize = 100;

/// The longest request comment kept from the wire, in characters.
pub const COMMENT_MAX_CHARS: usize = 2_000;

/// Characters that change the order or the direction in which text is drawn
/// (Unicode's bidi controls: UAX #9, table 1, and the implicit marks).
pub fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

/// General category Cf (format characters), Unicode 16. Stable in
/// practice: new Cf characters are rare and would show as themselves.
fn is_format(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{0600}'..='\u{0605}'
            | '\u{061C}'
            | '\u{06DD}'
            | '\u{070F}'
            | '\u{0890}'..='\u{0891}'
            | '\u{08E2}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            // U+2065 is unassigned but default-ignorable: drawn as nothing too.
            | '\u{2060}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0001}'
            | '\u{E0020}'..='\u{E007F}'
    )
}

/// Default-ignorable code points that are not Cf (Hangul fillers, the
/// combining grapheme joiner, Khmer inherent vowels, Mongolian and other
/// variation selectors, the reserved tag range): they draw as nothing.
fn is_other_ignorable(c: char) -> bool {
    matches!(
        c,
        '\u{034F}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180B}'..='\u{180D}'
            | '\u{180F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFF8}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// Private use (drawn as whatever a font puts there: egui's icon font maps
/// some) and noncharacters.
fn is_private_or_noncharacter(c: char) -> bool {
    matches!(
        c,
        '\u{E000}'..='\u{F8FF}' | '\u{F0000}'..='\u{FFFFD}' | '\u{100000}'..='\u{10FFFD}'
            | '\u{FDD0}'..='\u{FDEF}'
    ) || (c as u32) & 0xFFFE == 0xFFFE
}

/// True for a character that must never pass through invisibly: a control
/// (Cc) that is not whitespace, a format character (Cf), another
/// default-ignorable code point, a private-use character or a
/// noncharacter. Whitespace (including U+2028/2029 and NEL) is not one of
/// them: it becomes a space.
pub fn is_hidden(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_control() && !c.is_ascii_whitespace();
    }
    if c.is_whitespace() {
        return false;
    }
    c.is_control() || is_format(c) || is_other_ignorable(c) || is_private_or_noncharacter(c)
}

/// What to do with a hidden character.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Hidden {
    Mark,
    Drop,
}

/// True when `raw` is already what cleaning would make of it: nothing to
/// mark or drop, no whitespace but single spaces between words, NFC, and
/// at most `max_chars` characters.
fn is_clean(raw: &str, max_chars: usize) -> bool {
    let bytes = raw.as_bytes();
    if bytes.first() == Some(&b' ') || bytes.last() == Some(&b' ') {
        return false;
    }
    let mut previous_space = false;
    let mut ascii = true;
    for &b in bytes {
        match b {
            b' ' if previous_space => return false,
            b' ' => previous_space = true,
            0x21..=0x7E => previous_space = false,
            0x80.. => {
                ascii = false;
                break;
            }
            _ => return false,
        }
    }
    if ascii {
        // One byte per character.
        return bytes.len() <= max_chars;
    }
    // A non-ASCII text: per character, then NFC.
    let mut count = 0usize;
    let mut previous_space = false;
    for c in raw.chars() {
        count += 1;
        if count > max_chars || is_hidden(c) {
            return false;
        }
        if c.is_whitespace() {
            if c != ' ' || previous_space {
                return false;
            }
            previous_space = true;
        } else {
            previous_space = false;
        }
    }
    is_nfc_quick(raw.chars()) == IsNormalized::Yes
}

/// The cleaning itself (see the module documentation), always building.
fn clean(raw: &str, max_chars: usize, hidden: Hidden) -> String {
    let mut out = String::with_capacity(raw.len().min(max_chars.saturating_mul(4)) + 4);
    let mut chars = 0usize;
    let mut pending_space = false;
    // The last place (bytes, characters) where the text may be cut with
    // room left for the ellipsis; never inside a mark.
    let mut cut = (max_chars >= 1).then_some((0usize, 0usize));
    let mut marked = String::new();
    for c in raw.chars().nfc() {
        if c.is_whitespace() {
            pending_space = chars > 0;
            continue;
        }
        let unit_chars = if is_hidden(c) {
            if hidden == Hidden::Drop {
                continue;
            }
            marked.clear();
            let _ = write!(marked, "<U+{:04X}>", u32::from(c));
            marked.len()
        } else {
            1
        };
        if chars + usize::from(pending_space) + unit_chars > max_chars {
            let Some((bytes, _)) = cut else {
                return String::new();
            };
            out.truncate(bytes);
            out.truncate(out.trim_end().len());
            out.push('…');
            return out;
        }
        if pending_space {
            out.push(' ');
            chars += 1;
            pending_space = false;
        }
        if unit_chars == 1 {
            out.push(c);
        } else {
            out.push_str(&marked);
        }
        chars += unit_chars;
        if chars < max_chars {
            cut = Some((out.len(), chars));
        }
    }
    out
}

/// Text from the wire as the station shows, searches and journals it: NFC,
/// every hidden character as a visible `<U+XXXX>` mark, one line, at most
/// `max_chars` characters (cut with `…`). See the module documentation.
/// Borrowed, unchanged, when there was nothing to do.
pub fn from_wire(raw: &str, max_chars: usize) -> Cow<'_, str> {
    if is_clean(raw, max_chars) {
        Cow::Borrowed(raw)
    } else {
        Cow::Owned(clean(raw, max_chars, Hidden::Mark))
    }
}

/// [`from_wire`] for a string the caller owns: a clean one is returned as
/// it is, without a copy.
pub fn from_wire_owned(raw: String, max_chars: usize) -> String {
    if is_clean(&raw, max_chars) {
        raw
    } else {
        clean(&raw, max_chars, Hidden::Mark)
    }
}

/// `raw` as one line of at most `max_chars` characters: NFC, hidden
/// characters (controls, bidi, zero-width and the like: [`is_hidden`])
/// dropped, every run of whitespace (line and paragraph separators, tabs)
/// one space, trimmed; a longer text is cut and ends in `…`. For text the
/// station holds itself; text from the wire goes through [`from_wire`].
pub fn one_line(raw: &str, max_chars: usize) -> String {
    if is_clean(raw, max_chars) {
        raw.to_owned()
    } else {
        clean(raw, max_chars, Hidden::Drop)
    }
}

/// A person's name as the station journals and shows it: [`one_line`] at
/// [`PERSON_MAX_CHARS`].
pub fn person_name(raw: &str) -> String {
    one_line(raw, PERSON_MAX_CHARS)
}

/// What is odd about a text the station shows (see [`suspicion`]). Its
/// [`Display`](fmt::Display) says it in an operator's words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suspicion {
    /// The scripts whose letters are mixed, in order of appearance (e.g.
    /// `["Latin", "Cyrillic"]`); empty when they are not.
    pub mixed_scripts: Vec<String>,
    /// The plain ASCII text that this non-ASCII text looks exactly like
    /// (e.g. `Cece` for all-Cyrillic `Сесе`).
    pub looks_like: Option<String>,
    /// It holds marks for hidden characters (`<U+…>`).
    pub hidden_characters: bool,
}

impl fmt::Display for Suspicion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = Vec::new();
        match self.mixed_scripts.as_slice() {
            [] => {}
            [one] => parts.push(format!("uses {one} letters, which are not usual in names")),
            [init @ .., last] => {
                parts.push(format!("mixes {} and {last} letters", init.join(", ")))
            }
        }
        if let Some(plain) = &self.looks_like {
            parts.push(format!(
                "looks like \"{plain}\" but is written in other letters"
            ));
        }
        if self.hidden_characters {
            parts.push("holds invisible or control characters (shown as <U+…>)".to_owned());
        }
        f.write_str(&parts.join("; "))
    }
}

/// The name of a group of letters that belong together.
fn script_name(set: &AugmentedScriptSet) -> String {
    let scripts: Vec<&str> = set.base.iter().map(|s| s.full_name()).collect();
    match scripts.as_slice() {
        [one] => (*one).to_owned(),
        [] if set.jpan => "Japanese".to_owned(),
        [] if set.kore => "Korean".to_owned(),
        [] if set.hanb => "Han".to_owned(),
        [] => "unknown".to_owned(),
        many => many.join(" or "),
    }
}

/// True when `text` holds something shaped like a mark of [`from_wire`].
fn has_mark(text: &str) -> bool {
    text.match_indices("<U+").any(|(at, _)| {
        let rest = &text[at + 3..];
        let digits = rest.bytes().take_while(u8::is_ascii_hexdigit).count();
        (4..=6).contains(&digits) && rest.as_bytes().get(digits) == Some(&b'>')
    })
}

/// What is odd about a text already cleaned by [`from_wire`], by Unicode
/// TR39: letters of scripts that are not normally mixed (worse than TR39's
/// "moderately restrictive": Latin with Cyrillic or Greek, or three
/// scripts), a non-ASCII text whose skeleton is plain ASCII (it looks
/// exactly like an ASCII text), or marks of hidden characters. `None` for
/// an ordinary text, in any single script. Cheap for ASCII text.
pub fn suspicion(text: &str) -> Option<Suspicion> {
    let hidden_characters = has_mark(text);
    let mut found = Suspicion {
        mixed_scripts: Vec::new(),
        looks_like: None,
        hidden_characters,
    };
    if !text.is_ascii() {
        // Letters only: spaces, digits and punctuation (Common, Inherited)
        // belong to every script.
        let letters: String = text
            .chars()
            .filter(|&c| !AugmentedScriptSet::for_char(c).is_all())
            .collect();
        let level = letters.as_str().detect_restriction_level();
        if level > RestrictionLevel::ModeratelyRestrictive {
            // Groups of letters that share a script, in order of appearance.
            let mut groups: Vec<AugmentedScriptSet> = Vec::new();
            for c in letters.chars() {
                let set = AugmentedScriptSet::for_char(c);
                let joined = groups.iter_mut().any(|group| {
                    let mut both = *group;
                    both.intersect_with(set);
                    if both.is_empty() {
                        false
                    } else {
                        *group = both;
                        true
                    }
                });
                if !joined {
                    groups.push(set);
                }
            }
            let mut names: Vec<String> = Vec::new();
            for group in &groups {
                let name = script_name(group);
                if !names.contains(&name) {
                    names.push(name);
                }
            }
            found.mixed_scripts = names;
        }
        if unicode_security::skeleton(text).all(|c| c.is_ascii())
            && text.chars().any(char::is_alphabetic)
        {
            // In words: the text's own ASCII kept, only the others replaced
            // (the skeleton itself also turns `I` into `l`, `m` into `rn`).
            let mut plain = String::with_capacity(text.len());
            let mut one = [0u8; 4];
            for c in text.chars() {
                if c.is_ascii() {
                    plain.push(c);
                } else {
                    plain.extend(unicode_security::skeleton(c.encode_utf8(&mut one)));
                }
            }
            found.looks_like = Some(plain);
        }
    }
    (found.hidden_characters || found.looks_like.is_some() || !found.mixed_scripts.is_empty())
        .then_some(found)
}

/// TR39's skeleton of `text`: two texts with the same key look the same
/// (`Jane` and `J` + Cyrillic `а` + `ne`; `rn` and `m`). Compare keys to
/// find two different requests that would look alike on screen.
pub fn skeleton_key(text: &str) -> String {
    unicode_security::skeleton(text).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_name_is_kept() {
        assert_eq!(
            person_name("Elif Eriksson, Finance"),
            "Elif Eriksson, Finance"
        );
        assert_eq!(
            person_name("Zoë Ø'Brien-Łukasz 山田"),
            "Zoë Ø'Brien-Łukasz 山田"
        );
    }

    #[test]
    fn controls_bidi_and_invisible_characters_are_dropped() {
        assert_eq!(person_name("Eve\u{202E}gnp.exe"), "Evegnp.exe");
        assert_eq!(person_name("\u{2066}Mallory\u{2069}\u{200F}"), "Mallory");
        assert_eq!(person_name("Bo\u{0}b\u{7}\u{1b}[31m"), "Bob[31m");
        assert_eq!(person_name("Zero\u{200B}Width\u{FEFF}"), "ZeroWidth");
        assert_eq!(person_name("C1\u{85}\u{9b}text"), "C1 text");
    }

    #[test]
    fn whitespace_becomes_single_spaces_on_one_line() {
        assert_eq!(
            person_name("  Jane\r\n\tDoe\u{2028}Finance  "),
            "Jane Doe Finance"
        );
        assert_eq!(person_name("\n\n"), "");
    }

    #[test]
    fn a_long_name_is_cut_with_an_ellipsis() {
        let long = "A".repeat(10_000);
        let shown = person_name(&long);
        assert_eq!(shown.chars().count(), PERSON_MAX_CHARS);
        assert!(shown.ends_with('…'));
        assert_eq!(one_line("abc def", 7), "abc def");
        assert_eq!(one_line("abc defg", 7), "abc de…");
        assert_eq!(one_line("abc   defg", 5), "abc…");
        assert_eq!(one_line("ééééé", 3), "éé…");
        assert_eq!(one_line("abc", 0), "");
        assert_eq!(one_line("abc", 1), "…");
    }

    #[test]
    fn clean_wire_text_is_borrowed_unchanged() {
        for clean in [
            "Jane",
            "Jane Doe, E1234",
            "Zoë Ø'Brien-Łukasz",
            "山田太郎",
            "Müller",
            "Ελένη",
            "",
        ] {
            assert!(
                matches!(from_wire(clean, VALUE_MAX_CHARS), Cow::Borrowed(s) if s == clean),
                "{clean}"
            );
        }
        let owned = String::from("Jane Doe");
        let at = owned.as_ptr();
        let kept = from_wire_owned(owned, 200);
        assert_eq!(kept.as_ptr(), at, "no copy");
    }

    #[test]
    fn hidden_characters_from_the_wire_become_visible_marks() {
        let cases = [
            ("Ja\u{200B}ne", "Ja<U+200B>ne"),
            ("\u{202E}", "<U+202E>"),
            ("Eve\u{202E}gnp.exe", "Eve<U+202E>gnp.exe"),
            (
                "\u{2066}Mallory\u{2069}\u{200F}",
                "<U+2066>Mallory<U+2069><U+200F>",
            ),
            ("x\u{1b}[2K\ry", "x<U+001B>[2K y"),
            ("\u{1b}]52;c;aGk=\u{7}", "<U+001B>]52;c;aGk=<U+0007>"),
            ("C1\u{9b}31m", "C1<U+009B>31m"),
            ("C1\u{85}text", "C1 text"),
            ("Bo\u{0}b\u{7f}", "Bo<U+0000>b<U+007F>"),
            ("bom\u{FEFF}", "bom<U+FEFF>"),
            ("soft\u{AD}hyphen", "soft<U+00AD>hyphen"),
            ("filler\u{3164}", "filler<U+3164>"),
            ("tag\u{E0041}", "tag<U+E0041>"),
            ("private\u{E000}", "private<U+E000>"),
            ("\u{061C}\u{200E}", "<U+061C><U+200E>"),
        ];
        for (raw, shown) in cases {
            assert_eq!(from_wire(raw, VALUE_MAX_CHARS), shown, "{raw:?}");
        }
    }

    #[test]
    fn wire_text_is_one_nfc_line() {
        assert_eq!(
            from_wire("  Jane\r\n\tDoe\u{2028}Finance\u{2029}\u{A0}x  ", 200),
            "Jane Doe Finance x"
        );
        assert_eq!(from_wire("Jane  Doe", 200), "Jane Doe");
        // Decomposed and composed are the same text afterwards.
        assert_eq!(from_wire("Zoe\u{308}", 200), "Zoë");
        assert_eq!(from_wire("\u{212B}ngstr\u{F6}m", 200), "Ångström");
    }

    #[test]
    fn a_long_wire_text_is_cut_visibly_and_never_inside_a_mark() {
        let megabyte = "x".repeat(1 << 20);
        let cut = from_wire(&megabyte, VALUE_MAX_CHARS);
        assert_eq!(cut.chars().count(), VALUE_MAX_CHARS);
        assert!(cut.ends_with('…'));
        assert_eq!(from_wire("abcd\u{202E}efgh", 10), "abcd…");
        assert_eq!(from_wire("abcd\u{202E}efgh", 13), "abcd<U+202E>…");
        assert_eq!(from_wire("abcd\u{202E}", 12), "abcd<U+202E>");
        assert_eq!(from_wire("abc", 0), "");
    }

    #[test]
    fn cleaning_twice_changes_nothing() {
        for raw in [
            "Ja\u{200B}ne \u{1b}[31m",
            "J\u{430}ne  Doe\n",
            &"é".repeat(500),
        ] {
            let once = from_wire(raw, 50).into_owned();
            assert_eq!(from_wire(&once, 50), once.as_str());
            assert!(matches!(from_wire(&once, 50), Cow::Borrowed(_)));
            assert_eq!(person_name(&once), once);
        }
    }

    fn why(text: &str) -> Option<String> {
        suspicion(&from_wire(text, VALUE_MAX_CHARS)).map(|s| s.to_string())
    }

    #[test]
    fn mixed_scripts_and_look_alikes_are_named() {
        let mixed = suspicion("J\u{430}ne Doe").expect("mixed");
        assert_eq!(mixed.mixed_scripts, ["Latin", "Cyrillic"]);
        assert_eq!(mixed.looks_like.as_deref(), Some("Jane Doe"));
        assert_eq!(
            mixed.to_string(),
            "mixes Latin and Cyrillic letters; looks like \"Jane Doe\" but is written in \
             other letters"
        );
        // All Cyrillic, yet it reads as the Latin "Cece".
        let whole = suspicion("\u{421}\u{435}\u{441}\u{435}").expect("look-alike");
        assert!(whole.mixed_scripts.is_empty(), "{whole:?}");
        assert_eq!(whole.looks_like.as_deref(), Some("Cece"));
        assert!(whole.to_string().contains("looks like \"Cece\""), "{whole}");
        // Greek capitals that read as Latin.
        assert!(why("\u{391}\u{392}\u{395}").is_some_and(|w| w.contains("looks like")));
        let hidden = why("Ja\u{200B}ne").expect("hidden");
        assert!(
            hidden.contains("invisible or control characters"),
            "{hidden}"
        );
        assert!(why("\u{202E}").is_some());
        assert!(why("Ελένη Ivanov\u{430}").is_some_and(|w| w.contains("mixes")));
    }

    #[test]
    fn ordinary_names_in_any_one_script_are_not_suspicious() {
        for name in [
            "Jane Doe",
            "Zoë Ø'Brien-Łukasz",
            "山田太郎",
            "山田 たろう",
            "Müller",
            "Ελένη",
            "Ελένη Παπαδοπούλου",
            "Иван Петров",
            "Jane Doe, E1234, Finance",
            "محمد",
            "김민준",
        ] {
            assert_eq!(why(name), None, "{name}");
        }
    }

    #[test]
    fn skeleton_keys_match_for_names_that_look_alike() {
        assert_eq!(skeleton_key("J\u{430}ne Doe"), skeleton_key("Jane Doe"));
        assert_eq!(
            skeleton_key("\u{421}\u{435}\u{441}\u{435}"),
            skeleton_key("Cece")
        );
        assert_ne!(skeleton_key("Jane Doe"), skeleton_key("John Doe"));
        assert_ne!(skeleton_key("Müller"), skeleton_key("Muller"));
    }
}
