//! `[kiosk_site]`: what the kiosk says about the site that runs it (the
//! service's name at the top of every screen, the help line at the bottom,
//! the next step after a bind) and its logo.
//!
//! Strangers read these texts, so they are cleaned when the file is read
//! ([`one_line`]): control characters and the invisible ones that reorder or
//! hide text (bidirectional overrides, zero-width characters) are removed,
//! because they could make the screen say something other than what the file
//! seems to say. A text too long for the screen is refused with its key named, so it
//! is never cut off in front of a customer.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::domain::text::one_line;

/// The name at the top of every kiosk screen when the site gives none.
pub const DEFAULT_SERVICE_NAME: &str = "Smart card enrollment";
/// The help line at the bottom of every kiosk screen when the site gives none.
pub const DEFAULT_HELP: &str = "Need help? Please ask a member of staff.";
/// What the result screen tells the person to do after a bind, when the
/// site gives nothing more precise.
pub const DEFAULT_NEXT_STEP: &str =
    "Take your card with you: your certificates are added to it when your request is carried out.";

/// One text key: its name in the file, what it is in words, and how many
/// characters fit where the kiosk shows it (at the kiosk's large type, on a
/// 1024-point-wide screen).
struct TextKey {
    key: &'static str,
    what: &'static str,
    max_chars: usize,
}

const SERVICE_NAME: TextKey = TextKey {
    key: "kiosk_site.service_name",
    what: "the name at the top of every kiosk screen",
    max_chars: 60,
};
const HELP: TextKey = TextKey {
    key: "kiosk_site.help",
    what: "the help line at the bottom of every kiosk screen",
    max_chars: 100,
};
const NEXT_STEP: TextKey = TextKey {
    key: "kiosk_site.next_step",
    what: "what the result screen tells the person to do after their card is bound",
    max_chars: 160,
};

/// The site's kiosk texts and logo, checked and cleaned.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KioskSite {
    #[serde(skip_serializing_if = "Option::is_none")]
    service_name: Option<SiteText<0>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<SiteText<1>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_step: Option<SiteText<2>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    logo: Option<PathBuf>,
}

/// The text keys, by the index [`SiteText`] carries.
const KEYS: [TextKey; 3] = [SERVICE_NAME, HELP, NEXT_STEP];

/// One of the site's texts, checked for the key `KEYS[K]` as it is read,
/// so a mistake is reported on the key's own line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
struct SiteText<const K: usize>(String);

/// A site text that cannot be shown, naming its key in words.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
enum SiteTextProblem {
    #[error("{key}, {what}, is empty: write the text, or remove the key to use the station's own")]
    Empty {
        key: &'static str,
        what: &'static str,
    },
    #[error(
        "{key}, {what}, is {length} characters long, but only {max} fit on the screen: shorten it"
    )]
    TooLong {
        key: &'static str,
        what: &'static str,
        length: usize,
        max: usize,
    },
}

impl<const K: usize> TryFrom<String> for SiteText<K> {
    type Error = SiteTextProblem;

    fn try_from(text: String) -> Result<Self, SiteTextProblem> {
        let TextKey {
            key,
            what,
            max_chars,
        } = KEYS[K];
        // A configuration file is small: its longest value is read whole.
        let clean = one_line(&text, 100_000);
        if clean.is_empty() {
            return Err(SiteTextProblem::Empty { key, what });
        }
        let length = clean.chars().count();
        if length > max_chars {
            return Err(SiteTextProblem::TooLong {
                key,
                what,
                length,
                max: max_chars,
            });
        }
        Ok(SiteText(clean))
    }
}

impl<const K: usize> From<SiteText<K>> for String {
    fn from(text: SiteText<K>) -> String {
        text.0
    }
}

impl KioskSite {
    /// True when the file says nothing: the table is then not written back.
    pub fn is_default(&self) -> bool {
        *self == KioskSite::default()
    }

    /// The name at the top of every screen.
    pub fn service_name(&self) -> &str {
        self.service_name
            .as_ref()
            .map_or(DEFAULT_SERVICE_NAME, |t| &t.0)
    }

    /// The help line at the bottom of every screen.
    pub fn help(&self) -> &str {
        self.help.as_ref().map_or(DEFAULT_HELP, |t| &t.0)
    }

    /// What the person does after their card is bound.
    pub fn next_step(&self) -> &str {
        self.next_step.as_ref().map_or(DEFAULT_NEXT_STEP, |t| &t.0)
    }

    /// The logo's PNG file, when the site gives one.
    pub fn logo(&self) -> Option<&Path> {
        self.logo.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(text: &str) -> Result<KioskSite, String> {
        #[derive(Deserialize)]
        struct File {
            kiosk_site: KioskSite,
        }
        toml::from_str::<File>(text)
            .map(|f| f.kiosk_site)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn nothing_given_is_the_stations_own_texts_and_no_logo() {
        let site = site("[kiosk_site]\n").expect("an empty table is fine");
        assert!(site.is_default());
        assert_eq!(site.service_name(), DEFAULT_SERVICE_NAME);
        assert_eq!(site.help(), DEFAULT_HELP);
        assert_eq!(site.next_step(), DEFAULT_NEXT_STEP);
        assert_eq!(site.logo(), None);
    }

    #[test]
    fn the_sites_texts_are_read_cleaned_of_hidden_characters() {
        let site = site(
            "[kiosk_site]\nservice_name = \"Contoso\\u202E badges\\u0007\"\n\
             help = \"Ask at\\n the\\tcounter.\"\nnext_step = \"Go to desk 3.\"\n\
             logo = \"/etc/enroll-station/logo.png\"\n",
        )
        .expect("valid");
        assert_eq!(site.service_name(), "Contoso badges");
        assert_eq!(site.help(), "Ask at the counter.");
        assert_eq!(site.next_step(), "Go to desk 3.");
        assert_eq!(site.logo(), Some(Path::new("/etc/enroll-station/logo.png")));
        assert!(!site.is_default());
    }

    #[test]
    fn a_text_too_long_or_empty_is_refused_naming_the_key_in_words() {
        let long = "x".repeat(161);
        let error = site(&format!("[kiosk_site]\nnext_step = \"{long}\"\n")).expect_err("long");
        assert!(error.contains("kiosk_site.next_step"), "{error}");
        assert!(error.contains("after their card is bound"), "{error}");
        assert!(
            error.contains("161 characters") && error.contains("160 fit"),
            "{error}"
        );
        let error = site("[kiosk_site]\nhelp = \" \\u200B \"\n").expect_err("empty");
        assert!(
            error.contains("kiosk_site.help") && error.contains("is empty"),
            "{error}"
        );
        let error = site("[kiosk_site]\nhelp_line = \"x\"\n").expect_err("unknown key");
        assert!(
            error.contains("help_line") && error.contains("next_step"),
            "{error}"
        );
    }
}
