//! Text that someone outside the station typed (a requester's name in a CM
//! data collection), made safe to journal and to show: one line, no control
//! or bidirectional-override characters, and a bounded length.
//!
//! A bidi override (U+202E) makes `Eve` + RLO + `txt.exe` read differently
//! from what is stored; a line break or a megabyte of text would break the
//! audit view's rows and bloat every journal line. The journal keeps what
//! the operator was shown, so the text is cleaned before either.

/// The longest person name the station journals and shows, in characters.
pub const PERSON_MAX_CHARS: usize = 120;

/// Characters that change the order or the direction in which text is drawn
/// (Unicode's bidi controls: UAX #9, table 1, and the implicit marks).
fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

/// Characters that draw nothing but can hide or join text (zero-width
/// spaces and joiners, the byte-order mark, the word joiner and the
/// invisible operators, the interlinear annotation marks).
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200D}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}'
    )
}

/// `raw` as one line of at most `max_chars` characters: control, bidi
/// and invisible characters dropped, every run of whitespace (line and
/// paragraph separators, tabs) one space, trimmed; a longer text is cut and
/// ends in `…`.
pub fn one_line(raw: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(raw.len().min(max_chars * 4));
    let mut chars = 0;
    let mut pending_space = false;
    for c in raw.chars() {
        if c.is_whitespace() {
            pending_space = chars > 0;
            continue;
        }
        if c.is_control() || is_bidi_control(c) || is_invisible(c) {
            continue;
        }
        let needed = 1 + usize::from(pending_space);
        if chars + needed > max_chars {
            // Room for the ellipsis: the cut is visible, never silent.
            while chars >= max_chars.max(1) {
                out.pop();
                chars -= 1;
            }
            if max_chars > 0 {
                out.truncate(out.trim_end().len());
                out.push('…');
            }
            return out;
        }
        if pending_space {
            out.push(' ');
            chars += 1;
            pending_space = false;
        }
        out.push(c);
        chars += 1;
    }
    out
}

/// A person's name as the station journals and shows it: [`one_line`] at
/// [`PERSON_MAX_CHARS`].
pub fn person_name(raw: &str) -> String {
    one_line(raw, PERSON_MAX_CHARS)
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
    }
}
