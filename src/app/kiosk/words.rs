//! What the kiosk says to the stranger in front of it, and what it keeps
//! for staff.
//!
//! The person gets one plain sentence of what happened and one of what to
//! do, in the station's glossary ("bind"), without a word of CM, HTTP or
//! PC/SC. Whatever the server or the card said goes to staff: behind
//! "Details for staff" on screen and into the log, with a short reference
//! the person can read out and staff can search the log for. That text
//! comes from outside (a server's message, a card's answer), so it is
//! cleaned first ([`one_line`]: no control, bidi or invisible characters,
//! a bounded length).

use crate::app::station::BindBlocked;
use crate::domain::bind::{BindState, Failure, wrong_card_alarm};
use crate::domain::card::CardIdentity;
use crate::domain::card_choice::{CardRule, NoCard, choose_card};
use crate::domain::person::Identity;
use crate::domain::readers::{ReaderBoard, SlotState};
use crate::domain::request::{
    FAMILY_NAME_FIELDS, GIVEN_NAME_FIELDS, NotBindable, Request, RequestStatus,
};
use crate::domain::text::one_line;

/// The most of a server's or card's text kept for staff: a page of HTML
/// or a megabyte of garbage must not reach the screen or the log whole.
const DETAIL_MAX: usize = 600;
/// The most of a correlation ID kept: CM's are GUIDs (36 characters).
const CORRELATION_MAX: usize = 80;
/// The most of a name from the server shown: a first name and an initial.
const NAME_MAX: usize = 40;

/// What staff need behind a notice: the reference, the server's
/// correlation ID when it gave one, and the technical text, cleaned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffDetail {
    /// A short reference, also in the log line, for the person to read out.
    pub reference: String,
    /// The server's correlation ID, for the CM administrator.
    pub correlation_id: Option<String>,
    /// What happened, technically: one line, at most [`DETAIL_MAX`] characters.
    pub text: String,
}

impl StaffDetail {
    /// Cleans `text` and `correlation_id`, logs them under a new reference
    /// (`what` says where in the flow), and keeps them for the screen.
    pub fn logged(what: &str, text: &str, correlation_id: Option<&str>) -> StaffDetail {
        let detail = StaffDetail {
            reference: new_reference(),
            correlation_id: correlation_id
                .map(|id| one_line(id, CORRELATION_MAX))
                .filter(|id| !id.is_empty()),
            text: one_line(text, DETAIL_MAX),
        };
        tracing::warn!(
            reference = %detail.reference,
            correlation_id = detail.correlation_id.as_deref().unwrap_or("none"),
            detail = %detail.text,
            "kiosk: {what}"
        );
        detail
    }
}

/// A reference staff can find in the log: four hexadecimal digits are
/// easy to read out, and with the time of day they find one line.
fn new_reference() -> String {
    format!("{:04X}", fastrand::u16(..))
}

/// Something the person is told: one plain sentence and one action, and
/// what staff need behind it, if anything.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    /// For the person.
    pub say: String,
    /// For staff, behind "Details for staff".
    pub detail: Option<StaffDetail>,
}

impl Notice {
    /// A notice that is all there is to say.
    pub fn plain(say: impl Into<String>) -> Notice {
        Notice {
            say: say.into(),
            detail: None,
        }
    }

    /// A notice whose technical side is for staff: `say` gets the new
    /// reference to name it.
    pub fn for_staff(
        what: &str,
        say: impl FnOnce(&str) -> String,
        text: &str,
        correlation_id: Option<&str>,
    ) -> Notice {
        let detail = StaffDetail::logged(what, text, correlation_id);
        Notice {
            say: say(&detail.reference),
            detail: Some(detail),
        }
    }
}

/// A request that cannot take a card, in the person's words: what is
/// wrong, and what to do.
pub fn not_bindable(why: &NotBindable) -> String {
    match why {
        NotBindable::AlreadyBound => "This code has already been used to bind a card. If that \
                                     wasn't you, please ask a member of staff."
            .into(),
        NotBindable::Status(RequestStatus::PENDING) => "Your request is still waiting for \
                                                       approval. Please come back once it is \
                                                       approved, or ask a member of staff."
            .into(),
        other => format!(
            "{}. If you think that is wrong, please ask a member of staff.",
            capitalised(&other.plain())
        ),
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// The card reader area reduced to one status a customer understands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CardStatus {
    /// No card in any reader.
    NoCard,
    /// A card is in, its ID is being read.
    Reading,
    /// A card that was in the reader before this person's code was
    /// accepted: it must come out (and go in again, if it is theirs).
    TakeOut,
    /// One card, identified.
    Ready {
        /// The reader it is in.
        reader: String,
        /// The card.
        identity: CardIdentity,
    },
    /// Something the person must do, or staff must fix.
    Problem(CardProblem),
}

/// A card or reader problem: the person's words and, for staff, the
/// technical reason (not cleaned yet: [`StaffDetail::logged`] does that).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CardProblem {
    /// For the person.
    pub say: &'static str,
    /// For staff.
    pub detail: Option<String>,
}

const CARD_UNUSABLE: &str =
    "This card can't be used here. Please take it out and ask a member of staff.";
const SEVERAL_CARDS: &str =
    "More than one card is inserted. Please take out every card except yours.";

/// What the card readers show for a bind under `rule`: only the one reader
/// holding a card counts, with two cards the kiosk never guesses, and a card
/// in before the rule's intent began must come out first.
pub fn card_status(board: &ReaderBoard, rule: &CardRule) -> CardStatus {
    let problem = |say, detail| CardStatus::Problem(CardProblem { say, detail });
    if let Some(reason) = board.service_down() {
        return problem(
            "The card reader is not working right now. Please ask a member of staff.",
            Some(format!("The smart card service is down: {reason}")),
        );
    }
    if board.readers().next().is_none() {
        return problem(
            "No card reader is connected. Please ask a member of staff.",
            None,
        );
    }
    match choose_card(board, rule) {
        Ok((reader, identity)) => CardStatus::Ready { reader, identity },
        Err(NoCard::Reading(_)) => CardStatus::Reading,
        Err(NoCard::InsertedBefore(_)) => CardStatus::TakeOut,
        Err(NoCard::Unreadable { reader, why }) => {
            problem(CARD_UNUSABLE, Some(format!("Reader {reader}: {why}")))
        }
        Err(NoCard::Several(_)) => problem(SEVERAL_CARDS, None),
        Err(NoCard::NoneInserted | NoCard::Empty(_) | NoCard::ReaderGone(_)) => board
            .readers()
            .find_map(|(reader, slot)| match slot {
                SlotState::Unavailable { reason } => Some(problem(
                    "Your card can't be read. Please take it out and insert it again, or ask \
                     a member of staff.",
                    Some(format!("Reader {reader}: {reason}")),
                )),
                _ => None,
            })
            .unwrap_or(CardStatus::NoCard),
    }
}

/// Why "Bind my card" did nothing, in the person's words.
pub fn blocked(why: &BindBlocked) -> Notice {
    let staff = |say: &'static str, detail: String| {
        Notice::for_staff(
            "a bind was refused before it started",
            |_| say.to_owned(),
            &detail,
            None,
        )
    };
    match why {
        BindBlocked::NoCard(NoCard::Reading(_)) => {
            Notice::plain("Your card is still being read. Please wait a moment.")
        }
        BindBlocked::NoCard(NoCard::InsertedBefore(_)) => {
            Notice::plain("Please take the card out of the reader, then insert your card.")
        }
        BindBlocked::NoCard(NoCard::Several(_)) => Notice::plain(SEVERAL_CARDS),
        BindBlocked::NoCard(NoCard::Unreadable { reader, why }) => {
            staff(CARD_UNUSABLE, format!("Reader {reader}: {why}"))
        }
        BindBlocked::NoCard(_) => Notice::plain("Please insert your card into the reader first."),
        BindBlocked::Request(why) => Notice::plain(not_bindable(why)),
        BindBlocked::CardRefused(refusal) => staff(
            "This card is already in use and can't be bound again. Please ask a member of \
             staff.",
            refusal.to_string(),
        ),
        BindBlocked::InFlight => Notice::plain("Your card is being bound. Please wait."),
        BindBlocked::CheckingPerson => {
            Notice::plain("Your request is being checked. Please wait a moment.")
        }
        BindBlocked::NoRequest
        | BindBlocked::NoAccount(_)
        | BindBlocked::NoList
        | BindBlocked::ResultUnknown
        | BindBlocked::Supervisor(_)
        | BindBlocked::Selection(_)
        | BindBlocked::BatchRunning => staff(
            "Your card can't be bound right now. Please ask a member of staff.",
            why.to_string(),
        ),
    }
}

/// How a finished bind reads on the result screen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// True when the card is bound.
    pub bound: bool,
    /// One sentence, large.
    pub headline: &'static str,
    /// What to do next; for a bound card, the site's next step.
    pub advice: String,
    /// What went wrong, for staff.
    pub failure: Option<Failure>,
}

/// True once a bind has ended (bound or not): its result is to be shown.
pub fn finished(bind: &BindState) -> bool {
    !bind.is_in_flight() && *bind != BindState::Idle
}

/// The result screen for a finished bind; `None` while it runs (or
/// before). `next_step` is the site's instruction after a bound card.
pub fn outcome(bind: &BindState, next_step: &str) -> Option<Outcome> {
    let not_bound = |failure: &Failure| Outcome {
        bound: false,
        headline: "Your card was not bound to your request.",
        advice: "Please take your card out and show this screen to a member of staff.".into(),
        failure: Some(failure.clone()),
    };
    match bind {
        BindState::Bound { .. } => Some(Outcome {
            bound: true,
            headline: "Done: your card is now bound to your request.",
            advice: next_step.to_owned(),
            failure: None,
        }),
        BindState::Refused { reason, .. } => Some(not_bound(reason)),
        BindState::Failed { failure, .. } => Some(not_bound(failure)),
        BindState::WrongCard { target, bound } => Some(Outcome {
            bound: false,
            headline: "Your request is bound to a different card.",
            advice: "Please keep your card and ask a member of staff now.".into(),
            failure: Some(Failure::new(wrong_card_alarm(target, bound))),
        }),
        BindState::Unknown { failure, .. } => Some(Outcome {
            bound: false,
            headline: "We could not confirm whether your card was bound.",
            advice: "Please keep your card and ask a member of staff before you leave.".into(),
            failure: Some(failure.clone()),
        }),
        BindState::Idle
        | BindState::Recording { .. }
        | BindState::Checking { .. }
        | BindState::ReadingCard { .. }
        | BindState::Posting { .. }
        | BindState::Reconciling { .. } => None,
    }
}

/// Data-collection fields that hold a whole name.
const WHOLE_NAME_FIELDS: &[&str] = &["DisplayName", "Display Name", "FullName", "Name", "cn"];

/// The name the kiosk shows for a request, as initials ("A. B."): the
/// directory's display name when the directory knows the target account
/// (what the requester typed could name anyone), else the typed one;
/// shortened either way by [`recognisable_name`]'s rule, then to its
/// initials. The card step may be left on screen for the next person
/// (review M5): initials tell the owner it is theirs and a stranger little.
pub fn kiosk_name(request: &Request, identity: &Identity) -> Option<String> {
    let name = match identity {
        Identity::Found(person) => short_name(person.name(), None),
        _ => recognisable_name(request),
    }?;
    initials(&name)
}

/// "A. B." from "Anna B.": each word's first letter or digit, capitalised.
fn initials(name: &str) -> Option<String> {
    let letters: Vec<String> = name
        .split_whitespace()
        .filter_map(|word| word.chars().find(|c| c.is_alphanumeric()))
        .map(|initial| format!("{}.", initial.to_uppercase()))
        .collect();
    (!letters.is_empty()).then(|| letters.join(" "))
}

/// Just enough of the request's name for its owner to recognise it and a
/// stranger behind them to learn little: the given name and the family
/// name's initial ("Kittest P."). Nothing else the request collected
/// (department, employee ID) is shown. `None` without a name.
pub fn recognisable_name(request: &Request) -> Option<String> {
    let value = |names: &[&str]| {
        request
            .collected(names)
            .map(|v| one_line(v, NAME_MAX))
            .filter(|v| !v.is_empty())
    };
    let (given, family) = match (value(GIVEN_NAME_FIELDS), value(FAMILY_NAME_FIELDS)) {
        (Some(given), family) => (given, family),
        (None, _) => {
            let whole = value(WHOLE_NAME_FIELDS)?;
            // "Bauer, Anna" is written family name first.
            match whole.split_once(',') {
                Some((family, given)) if !given.trim().is_empty() => {
                    (given.trim().to_owned(), Some(family.trim().to_owned()))
                }
                _ => {
                    let mut words = whole.split_whitespace();
                    let given = words.next()?.to_owned();
                    (given, words.last().map(str::to_owned))
                }
            }
        }
    };
    short_name(&given, family.as_deref())
}

/// "Anna B." from a given name (its first word) and a family name (its
/// initial); with no family name, the last word of `given` gives it.
fn short_name(given: &str, family: Option<&str>) -> Option<String> {
    let cleaned = one_line(given, NAME_MAX);
    let mut words = cleaned.split_whitespace();
    let first = words.next()?.to_owned();
    let family = family
        .map(str::to_owned)
        .or_else(|| words.last().map(str::to_owned));
    match family.and_then(|f| f.chars().find(|c| c.is_alphanumeric())) {
        Some(initial) => Some(format!("{first} {}.", initial.to_uppercase())),
        None => Some(first),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::request::{DataItem, example_request};

    fn with_data(items: &[(&str, &str)]) -> Request {
        let mut request = example_request(1, RequestStatus::APPROVED);
        request.data_collection = items
            .iter()
            .map(|(name, value)| DataItem {
                name: (*name).into(),
                value: Some((*value).into()),
            })
            .collect();
        request
    }

    #[test]
    fn only_the_given_name_and_an_initial_are_shown() {
        for (items, shown) in [
            (
                &[("DisplayName", "Kittest Person"), ("Department", "Finance")][..],
                Some("Kittest P."),
            ),
            (&[("DisplayName", "Bauer, Anna")][..], Some("Anna B.")),
            (
                &[
                    ("FirstName", "Rosa Maria"),
                    ("LastName", "Andersen"),
                    ("EmployeeId", "E1"),
                ][..],
                Some("Rosa A."),
            ),
            (&[("GivenName", "Cher")][..], Some("Cher")),
            (
                &[("Department", "Finance"), ("EmployeeId", "E1234")][..],
                None,
            ),
            (
                &[("DisplayName", "\u{202E}Eve\u{0007} \u{200B}Mallory")][..],
                Some("Eve M."),
            ),
        ] {
            assert_eq!(
                recognisable_name(&with_data(items)).as_deref(),
                shown,
                "{items:?}"
            );
        }
    }

    #[test]
    fn the_kiosk_names_the_directory_account_not_the_typed_name() {
        let typed = with_data(&[("FirstName", "Mallory"), ("LastName", "Smith")]);
        let person = crate::domain::person::DirectoryPerson {
            user: uuid::Uuid::from_u128(9),
            account: "ppriv".into(),
            principal: None,
            display_name: Some("Priya van Privileged".into()),
            photo: None,
        };
        let found = Identity::Found(std::sync::Arc::new(person));
        assert_eq!(kiosk_name(&typed, &found).as_deref(), Some("P. P."));
        assert_eq!(
            kiosk_name(&typed, &Identity::Unchecked).as_deref(),
            Some("M. S.")
        );
    }

    #[test]
    fn the_kiosk_shows_only_initials() {
        for (items, shown) in [
            (&[("DisplayName", "Bauer, Anna")][..], Some("A. B.")),
            (
                &[("FirstName", "rosa maria"), ("LastName", "Andersen")][..],
                Some("R. A."),
            ),
            (&[("GivenName", "Cher")][..], Some("C.")),
            (
                &[("DisplayName", "\u{202E}Eve \u{200B}Mallory")][..],
                Some("E. M."),
            ),
            (
                &[("DisplayName", "\u{00e9}lodie \u{00c5}str\u{00f6}m")][..],
                Some("\u{c9}. \u{c5}."),
            ),
            (&[("DisplayName", "-- ..")][..], None),
            (&[("Department", "Finance")][..], None),
        ] {
            let request = with_data(items);
            let name = kiosk_name(&request, &Identity::Unchecked);
            assert_eq!(name.as_deref(), shown, "{items:?}");
        }
    }

    #[test]
    fn server_text_for_staff_is_one_bounded_clean_line_with_a_reference() {
        let hostile = format!(
            "first\r\nsecond\u{202E}\u{2066} third\u{0000} {}",
            "x".repeat(5_000_000)
        );
        let detail = StaffDetail::logged("test", &hostile, Some("c-1\u{202E}\n"));
        assert!(
            detail.text.starts_with("first second third xxx"),
            "{}",
            detail.text
        );
        assert!(detail.text.ends_with('…'));
        assert_eq!(detail.text.chars().count(), DETAIL_MAX);
        assert_eq!(detail.correlation_id.as_deref(), Some("c-1"));
        assert_eq!(detail.reference.len(), 4);
        assert!(detail.reference.chars().all(|c| c.is_ascii_hexdigit()));
        let blank = StaffDetail::logged("test", "x", Some(" \u{200B} "));
        assert_eq!(blank.correlation_id, None, "an empty ID is no ID");
    }

    #[test]
    fn every_refusal_of_a_request_is_a_sentence_and_an_action_without_jargon() {
        let reasons = [
            NotBindable::NotSmartcard,
            NotBindable::TakesNoCard(crate::domain::request::RequestType::RETIRE),
            NotBindable::Status(RequestStatus::PENDING),
            NotBindable::Status(RequestStatus::DENIED),
            NotBindable::AlreadyBound,
        ];
        for why in &reasons {
            let said = not_bindable(why);
            assert!(said.starts_with(char::is_uppercase), "{said}");
            assert!(said.ends_with('.') && !said.contains(".."), "{said}");
            assert!(said.contains("member of staff"), "{said}");
            for jargon in ["IsSmartcard", "software-profile", "linked", "CM "] {
                assert!(!said.contains(jargon), "{jargon}: {said}");
            }
        }
        assert_eq!(
            not_bindable(&NotBindable::AlreadyBound),
            "This code has already been used to bind a card. If that wasn't you, please ask a \
             member of staff."
        );
    }
}
