//! Offline PIN unblock: the challenge a card shows, as a person reads it out
//! and an agent types it, and the response the agent reads back.
//!
//! The card makes the challenge with its admin key (minidriver
//! `CardGetChallenge`); CM computes the response
//! (`GET requests/{r}/smartcards/{s}/authenticationresponse`), and whoever
//! holds the response can unblock the card once. So the response is handled
//! like a password: never logged, never journaled, wiped from memory when
//! dropped, and not even `Display`: a screen asks for it by name.

use std::fmt;

use time::OffsetDateTime;
use uuid::Uuid;
use zeroize::Zeroizing;

use super::request::{Request, RequestStatus, RequestType, ShownTime};
use super::smartcard::Smartcard;

/// The challenge sizes a card may show: 8 bytes for a 3DES admin key (Base
/// CSP and GIDS cards; the size of the reference's own example), 16 for an
/// AES admin key.
pub const CHALLENGE_LENGTHS: [usize; 2] = [8, 16];

/// A card's admin challenge, read from what a person typed.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Challenge(Vec<u8>);

/// Why typed text is not a challenge, in words the agent can act on.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChallengeError {
    /// Nothing but separators was typed.
    #[error(
        "No challenge was typed: type the 16 characters (0-9, A-F) the card's unblock \
         screen shows."
    )]
    Empty,
    /// A character that is neither a hex digit nor a separator.
    #[error(
        "\"{found}\" (character {position}) is not part of a challenge: it has only the digits \
         0-9 and the letters A-F{hint}."
    )]
    NotHex {
        /// The character, as typed.
        found: char,
        /// Its place in the typed text, counting from 1.
        position: usize,
        /// What it probably was, e.g. " (the letter O is probably the digit 0)".
        hint: &'static str,
    },
    /// Too few or too many digits.
    #[error(
        "The challenge has {digits} characters, but a card's challenge has 16 (32 for a card \
         with an AES admin key): {}",
        if *digits < 16 { "one or more are missing" } else { "one or more are extra" }
    )]
    WrongLength {
        /// How many hex digits were typed.
        digits: usize,
    },
}

/// What a mistyped character probably was: people read challenges aloud,
/// and O/0 and I/l/1 are the usual confusions.
fn likely_meant(c: char) -> &'static str {
    match c {
        'O' | 'o' => " (the letter O is probably the digit 0)",
        'I' | 'i' | 'l' | 'L' | '|' => " (probably the digit 1)",
        _ => "",
    }
}

/// Separators people put between groups of digits; never part of a value.
fn is_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, '-' | ':' | '.')
}

impl Challenge {
    /// Reads a challenge typed by a person: hex digits in any case, with
    /// spaces, dashes, colons or dots anywhere between them.
    pub fn parse(typed: &str) -> Result<Challenge, ChallengeError> {
        let mut digits = String::with_capacity(typed.len());
        for (index, c) in typed.chars().enumerate() {
            if is_separator(c) {
                continue;
            }
            if !c.is_ascii_hexdigit() {
                return Err(ChallengeError::NotHex {
                    found: c,
                    position: index + 1,
                    hint: likely_meant(c),
                });
            }
            digits.push(c);
        }
        if digits.is_empty() {
            return Err(ChallengeError::Empty);
        }
        let count = digits.len();
        if !count.is_multiple_of(2) || !CHALLENGE_LENGTHS.contains(&(count / 2)) {
            return Err(ChallengeError::WrongLength { digits: count });
        }
        // Only hex digits are left, in pairs: decoding cannot fail, but is not unwrapped.
        hex::decode(&digits)
            .map(Challenge)
            .map_err(|_| ChallengeError::WrongLength { digits: count })
    }

    /// Wraps bytes read from a card or from the wire; `None` for a size no card uses.
    pub fn from_bytes(bytes: &[u8]) -> Option<Challenge> {
        CHALLENGE_LENGTHS
            .contains(&bytes.len())
            .then(|| Challenge(bytes.to_vec()))
    }

    /// The raw bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}

/// Upper-case hex in groups of four, e.g. `D611 43F9 CCFF D2CA`: easy to
/// read out over the phone and to compare with the card's screen.
fn grouped_hex(bytes: &[u8]) -> String {
    let digits = hex::encode_upper(bytes);
    let mut out = String::with_capacity(digits.len() + digits.len() / 4);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && i % 4 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// The challenge is not a secret (the card shows it to anyone), so it displays.
impl fmt::Display for Challenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&grouped_hex(&self.0))
    }
}

impl fmt::Debug for Challenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Challenge({self})")
    }
}

/// CM's response to a card's challenge: it unblocks the card, so it is
/// wiped when dropped and shows itself only through [`Self::grouped`].
#[derive(Clone)]
pub struct ChallengeResponse(Zeroizing<Vec<u8>>);

impl ChallengeResponse {
    /// Wraps the response's bytes (taking them, so no copy is left behind).
    pub fn from_bytes(bytes: Vec<u8>) -> ChallengeResponse {
        ChallengeResponse(Zeroizing::new(bytes))
    }

    /// The raw bytes, for a card.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// The response as the agent reads it out (grouped upper-case hex).
    /// For the screen only: never for a log, a journal or an error message.
    pub fn grouped(&self) -> Zeroizing<String> {
        Zeroizing::new(grouped_hex(&self.0))
    }
}

impl PartialEq for ChallengeResponse {
    fn eq(&self, other: &Self) -> bool {
        // Compared without stopping at the first difference.
        self.0.len() == other.0.len()
            && self
                .0
                .iter()
                .zip(other.0.iter())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

impl Eq for ChallengeResponse {}

/// Says how long it is, never what it is: a `{:?}` in a log is common.
impl fmt::Debug for ChallengeResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChallengeResponse(<{} bytes, not shown>)", self.0.len())
    }
}

/// An OfflineUnblock request CM already holds, approved, for a card and its
/// user (created in the CM portal or by a help-desk workflow with its
/// approvals): the phone unblock asks for the response under it instead of
/// creating another request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApprovedUnblock {
    /// The request.
    pub request: Uuid,
    /// When it was submitted, as CM says (`Submitted`); the Request object
    /// carries no approval time.
    pub submitted: Option<OffsetDateTime>,
}

impl ApprovedUnblock {
    /// The request and when it was submitted: "… (submitted 2026-11-20 10:14 +01:00)".
    pub fn describe(&self) -> String {
        match self.submitted {
            Some(at) => format!("{} (submitted {})", self.request, ShownTime::local(at)),
            None => self.request.to_string(),
        }
    }

    /// The choice as the window offers it, before "create one": "Use the
    /// approved unblock request … (submitted …)".
    pub fn offer(&self) -> String {
        format!("Use the approved unblock request {}", self.describe())
    }
}

/// The requests of `list` that may be an approved offline unblock of
/// `card`: OfflineUnblock, Approved, for the card's user (any user when CM
/// names none for the card), newest first. The request list does not say
/// which card a request acts on: that is checked apart, request by request
/// (`RequestCards::names`).
pub fn approved_candidates<'a>(list: &'a [Request], card: &Smartcard) -> Vec<&'a Request> {
    let mut found: Vec<&Request> = list
        .iter()
        .filter(|r| r.request_type == RequestType::OFFLINE_UNBLOCK)
        .filter(|r| r.status == RequestStatus::APPROVED)
        .filter(|r| card.assigned_user.is_none() || r.target_user == card.assigned_user)
        .collect();
    found.sort_by_key(|r| std::cmp::Reverse(r.submitted));
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: [u8; 8] = [0xd6, 0x11, 0x43, 0xf9, 0xcc, 0xff, 0xd2, 0xca];

    #[test]
    fn typed_challenges_in_every_usual_dress_are_read() {
        for typed in [
            "d61143f9ccffd2ca",
            "D611 43F9 CCFF D2CA",
            "d6-11-43-f9-cc-ff-d2-ca",
            "  D6:11:43:F9:CC:FF:D2:CA \n",
            "d611.43f9\tccff-d2ca",
        ] {
            let challenge = Challenge::parse(typed).expect(typed);
            assert_eq!(challenge.bytes(), EXAMPLE, "{typed:?}");
        }
        let aes = Challenge::parse("00112233 44556677 8899AABB CCDDEEFF").expect("AES size");
        assert_eq!(aes.bytes().len(), 16);
    }

    #[test]
    fn a_challenge_shows_in_groups_of_four() {
        let challenge = Challenge::parse("d61143f9ccffd2ca").expect("valid");
        assert_eq!(challenge.to_string(), "D611 43F9 CCFF D2CA");
        assert_eq!(format!("{challenge:?}"), "Challenge(D611 43F9 CCFF D2CA)");
        // What is shown is read back as the same challenge.
        assert_eq!(Challenge::parse(&challenge.to_string()), Ok(challenge));
    }

    #[test]
    fn mistakes_are_named_with_their_place() {
        assert_eq!(Challenge::parse(""), Err(ChallengeError::Empty));
        assert_eq!(Challenge::parse(" - : "), Err(ChallengeError::Empty));
        let error = Challenge::parse("D611 43F9 CCFF D2CO").expect_err("letter O");
        assert_eq!(
            error,
            ChallengeError::NotHex {
                found: 'O',
                position: 19,
                hint: " (the letter O is probably the digit 0)",
            }
        );
        assert!(error.to_string().contains("character 19"), "{error}");
        let error = Challenge::parse("l611 43F9 CCFF D2CA").expect_err("letter l");
        assert!(
            error.to_string().contains("probably the digit 1"),
            "{error}"
        );
        let error = Challenge::parse("D611 43F9 CCFF D2G0").expect_err("G");
        assert!(error.to_string().contains("\"G\""), "{error}");
        assert!(!error.to_string().contains("probably"), "{error}");
    }

    #[test]
    fn lengths_other_than_a_cards_are_refused() {
        for (typed, digits) in [
            ("D611 43F9 CCFF D2C", 15),
            ("D611 43F9 CCFF", 12),
            ("D611 43F9 CCFF D2CA 00", 18),
            ("D611 43F9 CCFF D2CA D611 43F9 CCFF D2CA D6", 34),
            ("D611 43F9 CCFF D2CA D611 43F9", 24),
        ] {
            assert_eq!(
                Challenge::parse(typed),
                Err(ChallengeError::WrongLength { digits }),
                "{typed:?}"
            );
        }
        let short = Challenge::parse("D611").expect_err("short").to_string();
        assert!(short.contains("missing"), "{short}");
        let long = Challenge::parse("D611 43F9 CCFF D2CA 00").expect_err("long");
        assert!(long.to_string().contains("extra"), "{long}");
        assert!(Challenge::from_bytes(&[1, 2, 3]).is_none());
        assert!(Challenge::from_bytes(&EXAMPLE).is_some());
    }

    #[test]
    fn a_response_never_shows_itself_by_accident() {
        let response =
            ChallengeResponse::from_bytes(vec![0x17, 0x46, 0x6e, 0x76, 0x6e, 0x30, 0x3c, 0xb6]);
        assert_eq!(response.grouped().as_str(), "1746 6E76 6E30 3CB6");
        let debug = format!("{response:?}");
        assert_eq!(debug, "ChallengeResponse(<8 bytes, not shown>)");
        assert!(!debug.to_ascii_lowercase().contains("1746"));
        assert_eq!(response, response.clone());
        assert_ne!(response, ChallengeResponse::from_bytes(vec![0; 8]));
    }

    #[test]
    fn only_approved_offline_unblocks_for_the_cards_user_are_candidates() {
        use crate::domain::request::example_request;
        let user = Uuid::from_u128(8);
        let card = Smartcard {
            uuid: Uuid::from_u128(7),
            status: crate::domain::request::SmartcardStatus::ACTIVE,
            card_id: None,
            atr: None,
            assigned_user: Some(user),
            profile_template: None,
        };
        let request = |n: u128, kind, status, target: u128, day: u8| {
            let mut r = example_request(n, status);
            r.request_type = kind;
            r.target_user = Some(Uuid::from_u128(target));
            r.submitted = Some(crate::domain::request::at(&format!(
                "2026-11-0{day}T00:00:00Z"
            )));
            r
        };
        let list = vec![
            request(
                1,
                RequestType::OFFLINE_UNBLOCK,
                RequestStatus::APPROVED,
                8,
                2,
            ),
            request(
                2,
                RequestType::OFFLINE_UNBLOCK,
                RequestStatus::PENDING,
                8,
                3,
            ),
            request(3, RequestType::UNBLOCK, RequestStatus::APPROVED, 8, 4),
            request(
                4,
                RequestType::OFFLINE_UNBLOCK,
                RequestStatus::APPROVED,
                9,
                5,
            ),
            request(
                5,
                RequestType::OFFLINE_UNBLOCK,
                RequestStatus::APPROVED,
                8,
                6,
            ),
        ];
        let found: Vec<Uuid> = approved_candidates(&list, &card)
            .iter()
            .map(|r| r.uuid)
            .collect();
        assert_eq!(found, [list[4].uuid, list[0].uuid], "newest first");
        let offer = ApprovedUnblock {
            request: list[4].uuid,
            submitted: list[4].submitted,
        }
        .offer();
        assert!(
            offer.starts_with("Use the approved unblock request "),
            "{offer}"
        );
        assert!(offer.contains("(submitted 2026-11-0"), "{offer}");
    }
}
