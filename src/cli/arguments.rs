//! The GUIDs and card IDs operators paste on the command line: any case,
//! braces, spaces. A refusal quotes what was typed through `term`, so a
//! pasted escape sequence cannot reach the terminal.

use anyhow::Context as _;
use uuid::Uuid;

use super::escape::term;
use crate::domain::card::CardId;

/// A GUID named `what` (request, user, ...) in the refusal.
pub(super) fn guid(text: &str, what: &str) -> anyhow::Result<Uuid> {
    crate::domain::guid::parse(text).ok_or_else(|| {
        anyhow::anyhow!(
            "\"{}\" is not a {what} GUID: give it as CM shows it, e.g. \
             a9b4b42c-cc50-4c9b-89d1-bbc0bcd5a099.",
            term(text)
        )
    })
}

/// A card ID in CM's form.
pub(super) fn card_id(text: &str) -> anyhow::Result<CardId> {
    CardId::parse_cm_string(text).with_context(|| {
        format!(
            "\"{}\" is not a card ID. Give it as CM shows it, e.g. \
             bc88f13f-83ba-4037-8262-46eba1291c6e.",
            term(text)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pasted_forms_are_read_and_garbage_is_refused_without_raw_controls() {
        let id = "a9b4b42c-cc50-4c9b-89d1-bbc0bcd5a099";
        for text in [
            id,
            "{A9B4B42C-CC50-4C9B-89D1-BBC0BCD5A099}",
            " a9b4b42c-cc50-4c9b-89d1-bbc0bcd5a099 ",
        ] {
            assert_eq!(
                guid(text, "request").map(|u| u.to_string()).ok().as_deref(),
                Some(id)
            );
        }
        let error = guid("not-a-guid\u{1b}[2J", "request").expect_err("garbage is refused");
        let words = error.to_string();
        assert!(words.contains("is not a request GUID"), "{words}");
        assert!(
            !words.contains('\u{1b}'),
            "the escape is shown, not sent: {words}"
        );
        assert!(card_id("bc88f13f-83ba-4037-8262-46eba1291c6e").is_ok());
        let error = card_id("zz\u{1b}]0;x\u{7}").expect_err("garbage is refused");
        assert!(!error.to_string().contains('\u{1b}'));
    }
}
