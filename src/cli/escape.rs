//! What the command line prints to a terminal: no byte of a string from the
//! server, a card, a reader or a requester may move the cursor, clear a
//! line, set the clipboard (OSC 52) or reorder what follows (review M2).
//!
//! Human output passes every such string through [`term`] (one value on
//! one line) or [`term_lines`] (a message whose own line breaks are kept):
//! each control character (C0, DEL, C1 such as CSI U+009B and NEL), format
//! character (bidi overrides and isolates, zero-width characters), other
//! hidden character ([`is_hidden`]) and U+2028/2029 is written as `\u{1b}`,
//! so ESC never reaches the terminal. Text from the wire has already been
//! cleaned by [`crate::domain::text::from_wire`] (its marks are plain
//! ASCII); this is the last guard for everything else (reader names, card
//! data, errors).
//!
//! `--json` stays JSON: serde_json escapes C0, `"` and `\`, but writes DEL,
//! C1 (U+009B is CSI to some terminals), the bidi and zero-width characters
//! and U+2028/2029 raw. [`json_for_terminal`] writes those as `\uXXXX`
//! escapes too, which parse back to the same value.

use std::borrow::Cow;
use std::fmt::Write as _;

use crate::domain::text::is_hidden;

/// True for a character that must not reach a terminal as it is.
fn unsafe_for_terminal(c: char) -> bool {
    c.is_control() || is_hidden(c) || matches!(c, '\u{2028}' | '\u{2029}')
}

fn escape(text: &str, keep_newlines: bool) -> Cow<'_, str> {
    let safe = |c: char| (keep_newlines && c == '\n') || !unsafe_for_terminal(c);
    if text
        .bytes()
        .all(|b| (0x20..0x7F).contains(&b) || (keep_newlines && b == b'\n'))
        || text.chars().all(safe)
    {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if safe(c) {
            out.push(c);
        } else {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        }
    }
    Cow::Owned(out)
}

/// One value for a terminal line: every control and hidden character,
/// line breaks and tabs included, written as `\u{…}`.
pub fn term(text: &str) -> Cow<'_, str> {
    escape(text, false)
}

/// A message for a terminal: as [`term`], but its line breaks are kept.
pub fn term_lines(text: &str) -> Cow<'_, str> {
    escape(text, true)
}

/// JSON text with every character a terminal could act on, or that hides
/// or reorders text, as a `\uXXXX` escape (surrogate pairs above U+FFFF).
/// Outside strings JSON holds only ASCII, so only strings change, and each
/// parses back to the same value.
pub fn json_for_terminal(json: String) -> String {
    let needs = |c: char| c == '\u{7f}' || (!c.is_ascii() && unsafe_for_terminal(c));
    if (json.is_ascii() && !json.contains('\u{7f}')) || !json.chars().any(needs) {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 32);
    for c in json.chars() {
        if needs(c) {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                let _ = write!(out, "\\u{unit:04x}");
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed() {
        assert!(matches!(term("Jane Doe, E1234"), Cow::Borrowed(_)));
        assert!(matches!(term("Zoë 山田"), Cow::Borrowed(_)));
        assert!(matches!(term_lines("a\nb"), Cow::Borrowed(_)));
    }

    #[test]
    fn escapes_and_hidden_characters_never_reach_the_terminal() {
        assert_eq!(term("a\u{1b}[2K\rb"), "a\\u{1b}[2K\\u{d}b");
        assert_eq!(term("\u{1b}]52;c;aGk=\u{7}"), "\\u{1b}]52;c;aGk=\\u{7}");
        assert_eq!(term("x\u{9b}31m\u{85}"), "x\\u{9b}31m\\u{85}");
        assert_eq!(term("Eve\u{202E}txt\u{200B}"), "Eve\\u{202e}txt\\u{200b}");
        assert_eq!(term("a\nb\tc\u{2028}"), "a\\u{a}b\\u{9}c\\u{2028}");
        assert_eq!(term_lines("a\nb\r\n"), "a\nb\\u{d}\n");
        assert_eq!(term("del\u{7f}"), "del\\u{7f}");
    }

    #[test]
    fn json_for_a_terminal_escapes_c1_and_bidi_and_parses_back() {
        let value = serde_json::json!({
            "name": "a\u{9b}2J\u{1b}[0m\u{202E}\u{200B}\u{2028}\u{7f}\u{E0041}Zoë",
        });
        let json = json_for_terminal(serde_json::to_string(&value).expect("json"));
        assert!(json.is_ascii() || json.chars().all(|c| !unsafe_for_terminal(c)));
        for raw in [
            '\u{9b}', '\u{1b}', '\u{202E}', '\u{200B}', '\u{2028}', '\u{7f}',
        ] {
            assert!(!json.contains(raw), "{raw:?} in {json}");
        }
        assert!(
            json.contains("\\u009b") && json.contains("\\udb40\\udc41"),
            "{json}"
        );
        assert!(json.contains("Zoë"), "{json}");
        let back: serde_json::Value = serde_json::from_str(&json).expect("parses");
        assert_eq!(back, value);
        let plain = String::from("[1,\"x\"]");
        assert_eq!(json_for_terminal(plain.clone()), plain);
    }
}
