//! The one lenient GUID reader: CM's wire text, a GUID pasted by an operator
//! and a request code from a keyboard-wedge scanner all go through it.

use uuid::Uuid;

/// Reads a GUID in any case, with or without braces or hyphens, with stray
/// whitespace, NULs, quotes or a trailing comma around it (CM's own examples
/// have all of these). Anything else, URNs included, is `None`.
pub fn parse(text: &str) -> Option<Uuid> {
    let cleaned = text
        .trim_matches(|c: char| c.is_whitespace() || c == '\0' || c == ',' || c == '"')
        .trim_start_matches('{')
        .trim_end_matches('}')
        .trim();
    // Uuid::try_parse also takes URNs and other shapes no one sends here.
    if cleaned.len() != 36 && cleaned.len() != 32 {
        return None;
    }
    Uuid::try_parse(cleaned).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_dress_of_a_guid_is_read_and_nothing_else() {
        let id = Uuid::from_u128(0xa9b4_b42c_cc50_4c9b_89d1_bbc0_bcd5_a099);
        for dressed in [
            "a9b4b42c-cc50-4c9b-89d1-bbc0bcd5a099",
            "{A9B4B42C-CC50-4C9B-89D1-BBC0BCD5A099}",
            " a9b4b42ccc504c9b89d1bbc0bcd5a099 ",
            "\" A9B4B42C-CC50-4C9B-89D1-BBC0BCD5A099\",",
            "a9b4b42c-cc50-4c9b-89d1-bbc0bcd5a099\0\0",
        ] {
            assert_eq!(parse(dressed), Some(id), "{dressed:?}");
        }
        for not in [
            "",
            "{}",
            "urn:uuid:a9b4b42c-cc50-4c9b-89d1-bbc0bcd5a099",
            "a9b4b42c-cc50-4c9b-89d1-bbc0bcd5a09",
            "a9b4b42c cc50 4c9b 89d1 bbc0bcd5a099",
        ] {
            assert_eq!(parse(not), None, "{not:?}");
        }
    }
}
