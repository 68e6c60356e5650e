//! Reader names come from the reader's driver, built from its USB
//! descriptors: text a device's maker (or a hostile device) chose. A name
//! that holds control, bidirectional or invisible characters, or is not
//! UTF-8, or is absurdly long, could make one reader look like another on
//! screen or in the journal. No real reader's name does, so such a reader
//! is never used: it is shown unavailable under a cleaned name that says
//! why, and the station cannot bind through it.

use std::ffi::CStr;

use crate::domain::text::{from_wire, is_bidi_control, is_hidden};

/// The longest reader name used; pcsc-lite caps its own at 128 bytes.
const NAME_MAX_CHARS: usize = 200;

/// A reader whose name is not used, as the station shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefusedName {
    /// The name cleaned for the screen (hidden characters marked `<U+…>`).
    pub shown: String,
    /// Why the reader is not used, in the operator's words.
    pub reason: String,
}

/// The reader's name, or why it is not used.
pub fn check(name: &CStr) -> Result<String, RefusedName> {
    let lossy = name.to_string_lossy();
    let why = match name.to_str() {
        Err(_) => Some("its name is not valid text"),
        Ok(text) if text.chars().count() > NAME_MAX_CHARS => Some("its name is too long"),
        Ok(text)
            if text
                .chars()
                .any(|c| c.is_control() || is_bidi_control(c) || is_hidden(c)) =>
        {
            Some("its name holds hidden or control characters")
        }
        Ok(text) => return Ok(text.to_owned()),
    };
    let shown = from_wire(&lossy, 80).into_owned();
    Err(RefusedName {
        reason: format!(
            "This reader is not used: {}. A reader's name comes from the device itself; \
             unplug it and tell your security team.",
            why.unwrap_or("its name is not usable")
        ),
        shown: format!("Refused reader: {shown}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(text: &[u8]) -> std::ffi::CString {
        std::ffi::CString::new(text).expect("no NUL")
    }

    #[test]
    fn real_reader_names_are_used_as_they_are() {
        for name in [
            "Virtual PCD 00 00",
            "Identiv uTrust 3700 F CL Reader [uTrust 3700 F CL Reader] (53691324212792) 00 00",
            "Microsoft Usbccid Smartcard Reader (WUDF) 0",
        ] {
            assert_eq!(check(&c(name.as_bytes())), Ok(name.to_owned()));
        }
    }

    #[test]
    fn a_name_with_hidden_characters_or_bad_bytes_is_refused_and_shown_cleaned() {
        let refused = check(&c("Virtual PCD 00 00\u{202E}10 00".as_bytes())).expect_err("bidi");
        assert_eq!(
            refused.shown,
            "Refused reader: Virtual PCD 00 00<U+202E>10 00"
        );
        assert!(refused.reason.contains("hidden or control characters"));
        assert!(check(&c(b"Reader\x1b[2K 00")).is_err());
        assert!(check(&c(b"Reader \xff\xfe 00")).is_err(), "not UTF-8");
        let long = "R".repeat(500);
        let refused = check(&c(long.as_bytes())).expect_err("long");
        assert!(refused.shown.chars().count() < 120, "{}", refused.shown);
    }
}
