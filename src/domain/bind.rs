//! The bind as a pure state machine: `apply(state, event) -> (state, effects)`.
//! Size: 680 lines of the bind machine; the rest is its tests, kept beside the one rule they prove.
//!
//! The worker performs the effects and feeds their results back as events; the
//! window and the command line only show the state and send [`BindEvent::Requested`].
//! Keeping it pure is what lets every transition be tested without a card or a server.
//!
//! The path of one bind:
//! `Requested` → record the attempt in the journal → check the request and the
//! card against the server → read the card again (swap guard) → one POST →
//! result. A POST whose answer was lost (or that failed with a 5xx after the body
//! was sent) is never repeated blindly: the request is reconciled against the server.

use std::fmt;

use uuid::Uuid;

use super::card::{Atr, CardId, CardIdLocation, CardIdentity, CardKind};
use super::person::Identity;
use super::request::Request;
use super::reuse::{TemplateReuse, may_bind};
use super::smartcard::Smartcard;

/// What the operator asked for: this request, bound to the card they saw in this reader.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BindTarget {
    /// The request to bind.
    pub request_id: Uuid,
    /// The person the request is for, as the desk showed them (names
    /// first: the journal and the audit view name them). Cleaned with
    /// [`person_name`](super::text::person_name); empty where the station
    /// binds by GUID alone (the command line).
    pub person: String,
    /// The reader the operator chose.
    pub reader: String,
    /// The card the operator saw in that reader; the card read right before the
    /// POST must be this one.
    pub expected: CardIdentity,
    /// Who witnessed the bind at a supervised counter: the name as configured,
    /// after their credential was checked and found not to be the operator's.
    pub supervisor: Option<String>,
}

impl BindTarget {
    /// The [`person`](Self::person) of a bind of `request`, as the desk
    /// shows them: the directory's name and account when the directory
    /// knows the target account; else the list's title (the values the
    /// requester typed), cleaned, and marked unchecked when it is a name.
    pub fn person_for(request: &Request, identity: &Identity) -> String {
        match identity {
            Identity::Found(person) => {
                super::text::person_name(&format!("{} ({})", person.name(), person.account))
            }
            _ if request.data_summary().is_empty() => {
                super::text::person_name(&super::search::request_title(request))
            }
            _ => format!(
                "{} (unchecked)",
                super::text::person_name(&super::search::request_title(request))
            ),
        }
    }
}

/// A failure reported by the server or the network, already in operator words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// What happened and what to do.
    pub message: String,
    /// The server's correlation ID, for the CM administrator.
    pub correlation_id: Option<String>,
}

impl Failure {
    /// A failure with no correlation ID.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            correlation_id: None,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(id) = &self.correlation_id
            && !self.message.contains(id.as_str())
        {
            write!(f, " (correlation ID {id})")?;
        }
        Ok(())
    }
}

/// What the server answered to a successful bind.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct BindReceipt {
    /// The new smart card object's URI as the server sent it.
    pub smartcard_uri: Option<String>,
    /// The new smart card object's UUID, when the URI carried one (or, after
    /// a 204 or an unreadable URI, when the request's `NewSmartcardUuid` named it).
    pub smartcard_uuid: Option<Uuid>,
    /// How the UUID was found, or why it could not be: for the journal.
    pub note: Option<String>,
}

/// Names one attempt; an outcome record carries the ID of the attempt it ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
#[must_use = "the attempt's outcome must be recorded with this ID"]
pub struct AttemptId(Uuid);

impl AttemptId {
    /// A new, random attempt ID.
    pub fn new() -> Self {
        AttemptId(Uuid::new_v4())
    }

    /// The attempt named by `uuid` (an ID the journal wrote).
    pub fn from_uuid(uuid: Uuid) -> Self {
        AttemptId(uuid)
    }

    /// The ID as a UUID.
    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl fmt::Display for AttemptId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for AttemptId {
    type Err = uuid::Error;

    /// Parses the text [`AttemptId`]'s `Display` wrote, so callers that carry
    /// the ID as text can hand it back.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Uuid::try_parse(text).map(AttemptId)
    }
}

impl Default for AttemptId {
    fn default() -> Self {
        Self::new()
    }
}

/// How the POST ended, as the worker classified the transport's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PostAnswer {
    /// 201 (or 204): bound.
    Bound(BindReceipt),
    /// A definite refusal (4xx): nothing was bound.
    Rejected(Failure),
    /// The answer was lost (timeout, reset connection) or was a 5xx after the
    /// body was sent: the bind may or may not have happened.
    Uncertain(Failure),
}

/// The journal outcome of a finished attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The server bound the card.
    Bound,
    /// The station refused before the POST.
    Refused,
    /// The server refused, or the bind is known not to have happened after an error.
    Failed,
    /// The answer was lost, and the server shows the request bound to this card.
    ReconciledBound,
    /// The answer was lost, and the server shows the request not bound to this card.
    ReconciledNotBound,
    /// A lifecycle action (not a bind): CM did what was asked.
    Done,
    /// A lifecycle action whose answer was lost: asked again, CM shows it done.
    ReconciledDone,
    /// A lifecycle action whose answer was lost: asked again, CM shows it not done.
    ReconciledNotDone,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Outcome {
    /// The journal's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Bound => "bound",
            Outcome::Refused => "refused",
            Outcome::Failed => "failed",
            Outcome::ReconciledBound => "reconciled_bound",
            Outcome::ReconciledNotBound => "reconciled_not_bound",
            Outcome::Done => "done",
            Outcome::ReconciledDone => "reconciled_done",
            Outcome::ReconciledNotDone => "reconciled_not_done",
        }
    }
}

/// What the server showed when the station looked after a lost answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Finding {
    /// The request is bound to our card.
    BoundToOurCard(Smartcard),
    /// The request is bound to another card: someone else bound it. An alarm.
    BoundToOtherCard(Smartcard),
    /// The request has no card: our bind did not happen.
    NotBound,
}

/// Compares what the server shows for a request with the card we tried to bind.
///
/// `bound` is the smart card object named by the request's `NewSmartcardUuid`
/// (None when it is all zeros). Shared by the live bind and start-up
/// reconciliation of attempts a crash left open.
pub fn reconcile(our_card: &CardId, bound: Option<Smartcard>) -> Finding {
    match bound {
        None => Finding::NotBound,
        Some(card) if card.card_id.as_ref() == Some(our_card) => Finding::BoundToOurCard(card),
        Some(card) => Finding::BoundToOtherCard(card),
    }
}

/// The alarm for a request found bound to a card other than the one the station tried to bind.
pub fn wrong_card_alarm(target: &BindTarget, bound: &Smartcard) -> String {
    let other = bound
        .card_id
        .map_or_else(|| "an unreadable card ID".to_owned(), |id| id.to_string());
    format!(
        "SECURITY ALARM: request {} is bound to another card ({other}, smart card object {}), not to card {}. \
         Do not hand out either card; report this to the CM administrator.",
        target.request_id, bound.uuid, target.expected.card_id
    )
}

/// Which check stopped a bind before its POST.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefusalCause {
    /// The audit journal could not take the attempt.
    Journal,
    /// The request could not be checked, or cannot take a card.
    Request,
    /// CM could not be asked about the card.
    CardLookup,
    /// CM knows the card and it may not take this request (in use, reuse off).
    Card,
    /// The card in the reader was gone or another one by the re-read.
    CardChanged,
}

/// Where a bind is.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum BindState {
    /// No bind is in progress.
    #[default]
    Idle,
    /// Writing the attempt to the audit journal: nothing is sent before it is on disk.
    Recording {
        /// What is being bound.
        target: BindTarget,
    },
    /// Checking the request and the card against the server.
    Checking {
        /// What is being bound.
        target: BindTarget,
        /// The journal's attempt.
        attempt: AttemptId,
    },
    /// Reading the card again right before the POST.
    ReadingCard {
        /// What is being bound.
        target: BindTarget,
        /// The journal's attempt.
        attempt: AttemptId,
    },
    /// The POST is on its way; its answer is awaited.
    Posting {
        /// What is being bound.
        target: BindTarget,
        /// The journal's attempt.
        attempt: AttemptId,
    },
    /// The answer was lost: looking at the server to learn whether the bind happened.
    Reconciling {
        /// What is being bound.
        target: BindTarget,
        /// The journal's attempt.
        attempt: AttemptId,
        /// What was lost.
        lost: Failure,
    },
    /// The server bound the card.
    Bound {
        /// What was bound.
        target: BindTarget,
        /// What the server answered, or what reconciliation found.
        receipt: BindReceipt,
        /// True when the answer was lost and the bind was confirmed afterwards.
        confirmed_after_loss: bool,
    },
    /// The station refused before sending the POST.
    Refused {
        /// What was asked.
        target: BindTarget,
        /// Why, in operator words, with the server's correlation ID when a check failed.
        reason: Failure,
        /// Which check refused it: a batch gives a refused card's request
        /// the next card, but not a refused request.
        cause: RefusalCause,
    },
    /// The server refused, or the bind is known not to have happened.
    Failed {
        /// What was asked.
        target: BindTarget,
        /// The error.
        failure: Failure,
        /// True when the answer was uncertain and the server then showed no card:
        /// a retry is safe.
        confirmed_not_bound: bool,
    },
    /// The request turned out bound to a different card: someone else bound it.
    WrongCard {
        /// What was asked.
        target: BindTarget,
        /// The card object the request is bound to.
        bound: Smartcard,
    },
    /// The answer was lost and the server could not be asked either: the
    /// attempt stays open in the journal and is reconciled later.
    Unknown {
        /// What was asked.
        target: BindTarget,
        /// The journal's attempt.
        attempt: AttemptId,
        /// Why the result is not known.
        failure: Failure,
    },
}

impl BindState {
    /// True while a bind is under way: a new request must wait.
    pub fn is_in_flight(&self) -> bool {
        matches!(
            self,
            BindState::Recording { .. }
                | BindState::Checking { .. }
                | BindState::ReadingCard { .. }
                | BindState::Posting { .. }
                | BindState::Reconciling { .. }
        )
    }

    /// The target of the current or last bind.
    pub fn target(&self) -> Option<&BindTarget> {
        match self {
            BindState::Idle => None,
            BindState::Recording { target }
            | BindState::Checking { target, .. }
            | BindState::ReadingCard { target, .. }
            | BindState::Posting { target, .. }
            | BindState::Reconciling { target, .. }
            | BindState::Bound { target, .. }
            | BindState::Refused { target, .. }
            | BindState::Failed { target, .. }
            | BindState::WrongCard { target, .. }
            | BindState::Unknown { target, .. } => Some(target),
        }
    }
}

/// Something that happened to a bind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BindEvent {
    /// The operator asked for a bind (a click, Enter, or the `bind` command).
    Requested(BindTarget),
    /// The attempt was written to the journal, or could not be (why, in words).
    AttemptRecorded(Result<AttemptId, String>),
    /// The server was asked about the request (fetched fresh) and the card.
    ServerChecked {
        /// The request as the server has it now (boxed: a request is a few
        /// hundred bytes inline, and every event would be that large).
        request: Result<Box<Request>, Failure>,
        /// Every smart card object CM already has for this card ID (none for a new card).
        known_card: Result<Vec<Smartcard>, Failure>,
        /// The template's `AllowSmartcardReuse`, read when the card is known
        /// and none of its objects is in use.
        reuse: TemplateReuse,
    },
    /// The card in the chosen reader was read again (or could not be): why in words.
    CardRead(Result<CardIdentity, String>),
    /// The server answered the POST (or the answer was lost).
    PostAnswered(PostAnswer),
    /// The server was asked after a lost answer.
    Reconciled(Result<Finding, Failure>),
    /// The operator asked to look at the server again after an unknown result.
    RecheckRequested,
    /// The operator acknowledged the result.
    Dismissed,
}

/// Work the worker must do for the machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Append the attempt to the audit journal and flush it to disk.
    RecordAttempt {
        /// What is being bound.
        target: BindTarget,
    },
    /// Fetch the request fresh and look the card ID up.
    CheckServer {
        /// The request.
        request_id: Uuid,
        /// The card ID the operator saw.
        card_id: CardId,
    },
    /// Read the identity of the card in this reader.
    ReadCard {
        /// The reader.
        reader: String,
        /// The application the operator's card has: read first.
        expected_kind: CardKind,
        /// Where that card keeps its card ID (GIDS): read there first.
        location: Option<CardIdLocation>,
    },
    /// Send `POST smartcards` once. Never repeat it blindly.
    PostBind {
        /// The request.
        request_id: Uuid,
        /// The card ID read right before.
        card_id: CardId,
        /// The ATR read right before.
        atr: Atr,
    },
    /// Ask the server whether the request is bound (and to which card).
    Reconcile {
        /// The request.
        request_id: Uuid,
        /// The card we tried to bind.
        card_id: CardId,
    },
    /// Append the attempt's outcome to the journal.
    RecordOutcome {
        /// The attempt it ends.
        attempt: AttemptId,
        /// The outcome.
        outcome: Outcome,
        /// The smart card object, when there is one.
        smartcard_uuid: Option<Uuid>,
        /// The server's correlation ID, when there is one.
        correlation_id: Option<String>,
        /// What happened, in words.
        message: String,
    },
}

/// Advances the machine by one event.
///
/// Events that do not fit the state (a second click while a bind is in flight,
/// a late answer after a dismissal) leave it unchanged and cause no effect:
/// that is what makes one click mean at most one POST.
pub fn apply(state: BindState, event: BindEvent) -> (BindState, Vec<Effect>) {
    use BindEvent as E;
    use BindState as S;
    match (state, event) {
        // An unknown result must be resolved before that request is bound again.
        (
            S::Unknown {
                target,
                attempt,
                failure,
            },
            E::Requested(new),
        ) if new.request_id == target.request_id => (
            S::Unknown {
                target,
                attempt,
                failure,
            },
            vec![],
        ),
        (state, E::Requested(target)) if !state.is_in_flight() => {
            let effect = Effect::RecordAttempt {
                target: target.clone(),
            };
            (S::Recording { target }, vec![effect])
        }
        (S::Recording { target }, E::AttemptRecorded(Ok(attempt))) => {
            let effect = Effect::CheckServer {
                request_id: target.request_id,
                card_id: target.expected.card_id,
            };
            (S::Checking { target, attempt }, vec![effect])
        }
        (S::Recording { target }, E::AttemptRecorded(Err(why))) => {
            let reason = Failure::new(format!(
                "The audit journal could not be written ({why}). The station does not bind \
                 without a record: fix the journal (disk space, permissions) and try again. \
                 Nothing was sent to the server."
            ));
            (
                S::Refused {
                    target,
                    reason,
                    cause: RefusalCause::Journal,
                },
                vec![],
            )
        }
        (
            S::Checking { target, attempt },
            E::ServerChecked {
                request,
                known_card,
                reuse,
            },
        ) => match pre_check(&target, request, known_card, &reuse) {
            Ok(()) => {
                let effect = Effect::ReadCard {
                    reader: target.reader.clone(),
                    expected_kind: target.expected.kind,
                    location: target.expected.location,
                };
                (S::ReadingCard { target, attempt }, vec![effect])
            }
            Err((cause, reason)) => refuse(target, attempt, cause, reason),
        },
        (S::ReadingCard { target, attempt }, E::CardRead(read)) => {
            match swap_guard(&target, read) {
                Ok(card) => {
                    let effect = Effect::PostBind {
                        request_id: target.request_id,
                        card_id: card.card_id,
                        atr: card.atr,
                    };
                    (S::Posting { target, attempt }, vec![effect])
                }
                Err(reason) => refuse(target, attempt, RefusalCause::CardChanged, reason),
            }
        }
        (S::Posting { target, attempt }, E::PostAnswered(answer)) => {
            posted(target, attempt, answer)
        }
        (
            S::Reconciling {
                target,
                attempt,
                lost,
            },
            E::Reconciled(found),
        ) => reconciled(target, attempt, lost, found),
        (
            S::Unknown {
                target,
                attempt,
                failure,
            },
            E::RecheckRequested,
        ) => {
            let effect = Effect::Reconcile {
                request_id: target.request_id,
                card_id: target.expected.card_id,
            };
            (
                S::Reconciling {
                    target,
                    attempt,
                    lost: failure,
                },
                vec![effect],
            )
        }
        // An unknown result stays until it is known; dismissing it would invite a blind retry.
        (state @ S::Unknown { .. }, E::Dismissed) => (state, vec![]),
        (state, E::Dismissed) if !state.is_in_flight() => (S::Idle, vec![]),
        (state, _) => (state, vec![]),
    }
}

/// The server's rules, checked before anything is sent.
fn pre_check(
    target: &BindTarget,
    request: Result<Box<Request>, Failure>,
    known_card: Result<Vec<Smartcard>, Failure>,
    reuse: &TemplateReuse,
) -> Result<(), (RefusalCause, Failure)> {
    let request = request.map_err(|f| {
        let message = format!(
            "The request could not be checked before binding: {}",
            f.message
        );
        (
            RefusalCause::Request,
            Failure {
                message,
                correlation_id: f.correlation_id,
            },
        )
    })?;
    request.bindability().map_err(|why| {
        let message = format!("This request cannot take a card: {why}.");
        (RefusalCause::Request, Failure::new(message))
    })?;
    let known = known_card.map_err(|f| {
        let message = format!(
            "The card could not be looked up in CM before binding: {}",
            f.message
        );
        (
            RefusalCause::CardLookup,
            Failure {
                message,
                correlation_id: f.correlation_id,
            },
        )
    })?;
    may_bind(&target.expected.card_id, &known, reuse)
        .map_err(|refusal| (RefusalCause::Card, Failure::new(refusal.to_string())))
}

/// The card read right before the POST must be the card the operator saw.
fn swap_guard(
    target: &BindTarget,
    read: Result<CardIdentity, String>,
) -> Result<CardIdentity, Failure> {
    let found = read.map_err(Failure::new)?;
    if found.card_id != target.expected.card_id || found.atr != target.expected.atr {
        return Err(Failure::new(format!(
            "The card in reader \"{}\" is not the card you selected (expected card ID {}, found {}). \
             Check which card is in the reader and select it again.",
            target.reader, target.expected.card_id, found.card_id
        )));
    }
    Ok(found)
}

fn refuse(
    target: BindTarget,
    attempt: AttemptId,
    cause: RefusalCause,
    reason: Failure,
) -> (BindState, Vec<Effect>) {
    let reason = Failure {
        message: format!("{} Nothing was sent to bind the card.", reason.message),
        correlation_id: reason.correlation_id,
    };
    let effect = outcome(attempt, Outcome::Refused, None, &reason);
    (
        BindState::Refused {
            target,
            reason,
            cause,
        },
        vec![effect],
    )
}

fn posted(target: BindTarget, attempt: AttemptId, answer: PostAnswer) -> (BindState, Vec<Effect>) {
    match answer {
        PostAnswer::Bound(receipt) => {
            let message = Failure::new(match &receipt.note {
                Some(note) => format!("bound; {note}"),
                None => "bound".to_owned(),
            });
            let effect = outcome(attempt, Outcome::Bound, receipt.smartcard_uuid, &message);
            (
                BindState::Bound {
                    target,
                    receipt,
                    confirmed_after_loss: false,
                },
                vec![effect],
            )
        }
        PostAnswer::Rejected(failure) => {
            let effect = outcome(attempt, Outcome::Failed, None, &failure);
            (
                BindState::Failed {
                    target,
                    failure,
                    confirmed_not_bound: false,
                },
                vec![effect],
            )
        }
        PostAnswer::Uncertain(lost) => {
            let effect = Effect::Reconcile {
                request_id: target.request_id,
                card_id: target.expected.card_id,
            };
            (
                BindState::Reconciling {
                    target,
                    attempt,
                    lost,
                },
                vec![effect],
            )
        }
    }
}

fn reconciled(
    target: BindTarget,
    attempt: AttemptId,
    lost: Failure,
    found: Result<Finding, Failure>,
) -> (BindState, Vec<Effect>) {
    match found {
        Ok(Finding::BoundToOurCard(card)) => {
            let note = Failure {
                message: format!(
                    "bound (confirmed after the answer was lost: {})",
                    lost.message
                ),
                correlation_id: lost.correlation_id,
            };
            let effect = outcome(attempt, Outcome::ReconciledBound, Some(card.uuid), &note);
            let receipt = BindReceipt {
                smartcard_uri: None,
                smartcard_uuid: Some(card.uuid),
                note: None,
            };
            (
                BindState::Bound {
                    target,
                    receipt,
                    confirmed_after_loss: true,
                },
                vec![effect],
            )
        }
        Ok(Finding::BoundToOtherCard(card)) => {
            let note = Failure {
                message: wrong_card_alarm(&target, &card),
                correlation_id: lost.correlation_id,
            };
            let effect = outcome(attempt, Outcome::ReconciledNotBound, Some(card.uuid), &note);
            (
                BindState::WrongCard {
                    target,
                    bound: card,
                },
                vec![effect],
            )
        }
        Ok(Finding::NotBound) => {
            let failure = Failure {
                message: format!(
                    "{} The server shows no card on the request, so the bind did not happen; \
                     it is safe to try again.",
                    lost.message
                ),
                correlation_id: lost.correlation_id,
            };
            let effect = outcome(attempt, Outcome::ReconciledNotBound, None, &failure);
            (
                BindState::Failed {
                    target,
                    failure,
                    confirmed_not_bound: true,
                },
                vec![effect],
            )
        }
        Err(check) => {
            let failure = Failure {
                message: format!(
                    "{} The station could not ask the server whether the bind happened ({}). \
                     Do not bind this request again before the result is known: press \
                     \"Check again\", or look at the request in CM.",
                    lost.message, check.message
                ),
                correlation_id: lost.correlation_id.or(check.correlation_id),
            };
            (
                BindState::Unknown {
                    target,
                    attempt,
                    failure,
                },
                vec![],
            )
        }
    }
}

fn outcome(
    attempt: AttemptId,
    outcome: Outcome,
    smartcard_uuid: Option<Uuid>,
    why: &Failure,
) -> Effect {
    Effect::RecordOutcome {
        attempt,
        outcome,
        smartcard_uuid,
        correlation_id: why.correlation_id.clone(),
        message: why.message.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::request::{RequestStatus, SmartcardStatus};

    fn card(byte: u8) -> CardIdentity {
        CardIdentity {
            atr: Atr::from_bytes(vec![0x3b, 0x8d, byte]),
            card_id: CardId::from_raw([byte; 16]),
            kind: CardKind::Gids,
            chip: None,
            location: None,
            yubikey_serial: None,
        }
    }

    fn target() -> BindTarget {
        BindTarget {
            request_id: Uuid::from_u128(42),
            person: "Jane Doe".into(),
            reader: "Reader 0".into(),
            expected: card(1),
            supervisor: None,
        }
    }

    fn attempt() -> AttemptId {
        AttemptId::from_uuid(Uuid::from_u128(0xa1))
    }

    fn request(status: RequestStatus, bound: Option<Uuid>) -> Request {
        let mut request = crate::domain::request::example_request(42, status);
        request.new_smartcard = bound;
        request
    }

    #[test]
    fn the_person_is_the_directory_account_else_the_title_marked_unchecked() {
        let mut named = request(RequestStatus::APPROVED, None);
        named.data_collection = smallvec::smallvec![
            crate::domain::request::DataItem {
                name: "DisplayName".into(),
                value: Some("Eve\u{202E}gnp.exe\r\nDoe".into()),
            },
            crate::domain::request::DataItem {
                name: "Department".into(),
                value: Some("Finance".into()),
            },
        ];
        let typed = BindTarget::person_for(&named, &Identity::Unchecked);
        assert!(typed.ends_with(" (unchecked)"), "{typed}");
        assert!(
            !typed.contains('\u{202E}') && !typed.contains('\n'),
            "{typed:?}"
        );
        assert!(typed.contains("Finance"), "{typed}");
        let found = crate::domain::person::DirectoryPerson {
            user: Uuid::from_u128(7),
            account: "ppriv".into(),
            principal: None,
            display_name: Some("Priya Privileged".into()),
            photo: None,
        };
        assert_eq!(
            BindTarget::person_for(&named, &Identity::Found(std::sync::Arc::new(found))),
            "Priya Privileged (ppriv)",
            "the directory's name, not the typed one"
        );
        let unnamed = request(RequestStatus::APPROVED, None);
        assert_eq!(
            BindTarget::person_for(&unnamed, &Identity::Unchecked),
            crate::domain::search::request_title(&unnamed),
            "without collected data, the list's own title (the target account's GUID)"
        );
    }

    fn smartcard(byte: u8) -> Smartcard {
        Smartcard {
            uuid: Uuid::from_u128(900 + u128::from(byte)),
            status: SmartcardStatus::ASSIGNED,
            card_id: Some(CardId::from_raw([byte; 16])),
            atr: None,
            assigned_user: Some(Uuid::from_u128(5)),
            profile_template: None,
        }
    }

    fn failure(text: &str) -> Failure {
        Failure {
            message: text.into(),
            correlation_id: Some("corr-1".into()),
        }
    }

    fn checking() -> BindState {
        BindState::Checking {
            target: target(),
            attempt: attempt(),
        }
    }

    fn reading() -> BindState {
        BindState::ReadingCard {
            target: target(),
            attempt: attempt(),
        }
    }

    fn posting() -> BindState {
        BindState::Posting {
            target: target(),
            attempt: attempt(),
        }
    }

    fn reconciling() -> BindState {
        BindState::Reconciling {
            target: target(),
            attempt: attempt(),
            lost: failure("timed out"),
        }
    }

    fn checked_ok() -> BindEvent {
        BindEvent::ServerChecked {
            request: Ok(Box::new(request(RequestStatus::APPROVED, None))),
            known_card: Ok(vec![]),
            reuse: TemplateReuse::NotAsked,
        }
    }

    fn outcome_of(effects: &[Effect]) -> Option<Outcome> {
        match effects {
            [Effect::RecordOutcome { outcome, .. }] => Some(*outcome),
            _ => None,
        }
    }

    fn refusal(state: &BindState) -> String {
        match state {
            BindState::Refused { reason, .. } => reason.message.clone(),
            other => panic!("expected Refused, got {other:?}"),
        }
    }

    #[test]
    fn a_request_records_the_attempt_before_anything_else() {
        let (state, effects) = apply(BindState::Idle, BindEvent::Requested(target()));
        assert_eq!(state, BindState::Recording { target: target() });
        assert_eq!(effects, vec![Effect::RecordAttempt { target: target() }]);
    }

    #[test]
    fn a_journal_that_cannot_be_written_stops_the_bind() {
        let recording = BindState::Recording { target: target() };
        let (state, effects) = apply(
            recording,
            BindEvent::AttemptRecorded(Err("disk full".into())),
        );
        assert!(
            effects.is_empty(),
            "no outcome can be written and nothing is sent"
        );
        let why = refusal(&state);
        assert!(
            why.contains("disk full") && why.contains("audit journal"),
            "{why}"
        );
    }

    #[test]
    fn a_recorded_attempt_checks_the_server_then_reads_the_card_then_posts_once() {
        let recording = BindState::Recording { target: target() };
        let (state, effects) = apply(recording, BindEvent::AttemptRecorded(Ok(attempt())));
        assert_eq!(state, checking());
        assert_eq!(
            effects,
            vec![Effect::CheckServer {
                request_id: Uuid::from_u128(42),
                card_id: card(1).card_id
            }]
        );
        let (state, effects) = apply(state, checked_ok());
        assert_eq!(state, reading());
        assert_eq!(
            effects,
            vec![Effect::ReadCard {
                reader: "Reader 0".into(),
                expected_kind: CardKind::Gids,
                location: None,
            }]
        );
        let (state, effects) = apply(state, BindEvent::CardRead(Ok(card(1))));
        assert_eq!(state, posting());
        assert_eq!(
            effects,
            vec![Effect::PostBind {
                request_id: Uuid::from_u128(42),
                card_id: card(1).card_id,
                atr: card(1).atr,
            }]
        );
    }

    #[test]
    fn pre_checks_refuse_with_the_reason_and_record_it() {
        let cases = [
            (
                BindEvent::ServerChecked {
                    request: Ok(Box::new(request(RequestStatus::PENDING, None))),
                    known_card: Ok(vec![]),
                    reuse: TemplateReuse::NotAsked,
                },
                "waiting for approval",
            ),
            (
                BindEvent::ServerChecked {
                    request: Ok(Box::new(request(
                        RequestStatus::APPROVED,
                        Some(Uuid::from_u128(3)),
                    ))),
                    known_card: Ok(vec![]),
                    reuse: TemplateReuse::NotAsked,
                },
                "already bound",
            ),
            (
                BindEvent::ServerChecked {
                    request: Ok(Box::new(request(RequestStatus::APPROVED, None))),
                    known_card: Ok(vec![smartcard(1)]),
                    reuse: TemplateReuse::NotAsked,
                },
                "CM already knows card",
            ),
            (
                BindEvent::ServerChecked {
                    request: Err(failure("403: not an enrollment agent")),
                    known_card: Ok(vec![]),
                    reuse: TemplateReuse::NotAsked,
                },
                "not an enrollment agent",
            ),
            (
                BindEvent::ServerChecked {
                    request: Ok(Box::new(request(RequestStatus::APPROVED, None))),
                    known_card: Err(failure("timed out")),
                    reuse: TemplateReuse::NotAsked,
                },
                "could not be looked up",
            ),
        ];
        for (event, words) in cases {
            let (state, effects) = apply(checking(), event);
            let why = refusal(&state);
            assert!(why.contains(words), "{why}");
            assert!(why.contains("Nothing was sent"), "{why}");
            assert_eq!(outcome_of(&effects), Some(Outcome::Refused));
        }
    }

    #[test]
    fn a_retired_card_is_bound_again_only_when_the_template_allows_reuse() {
        let mut retired = smartcard(1);
        retired.status = SmartcardStatus::RETIRED;
        let checked = |allowed| BindEvent::ServerChecked {
            request: Ok(Box::new(request(RequestStatus::APPROVED, None))),
            known_card: Ok(vec![retired.clone()]),
            reuse: TemplateReuse::Read {
                template: Uuid::from_u128(0x77),
                allowed,
            },
        };
        let (state, _) = apply(checking(), checked(true));
        assert_eq!(state, reading());
        let why = refusal(&apply(checking(), checked(false)).0);
        assert!(why.contains("does not allow smart card reuse"), "{why}");
        let unread = BindEvent::ServerChecked {
            request: Ok(Box::new(request(RequestStatus::APPROVED, None))),
            known_card: Ok(vec![retired.clone()]),
            reuse: TemplateReuse::Denied("403".into()),
        };
        let why = refusal(&apply(checking(), unread).0);
        assert!(
            why.contains("could not read whether the template allows reuse (403)"),
            "{why}"
        );
    }

    #[test]
    fn a_known_card_names_its_status_and_user() {
        let event = BindEvent::ServerChecked {
            request: Ok(Box::new(request(RequestStatus::APPROVED, None))),
            known_card: Ok(vec![smartcard(1)]),
            reuse: TemplateReuse::NotAsked,
        };
        let why = refusal(&apply(checking(), event).0);
        assert!(why.contains("Assigned"), "{why}");
        assert!(why.contains(&Uuid::from_u128(5).to_string()), "{why}");
    }

    #[test]
    fn a_swapped_or_missing_card_is_refused_and_nothing_is_posted() {
        let mut same_id_other_atr = card(1);
        same_id_other_atr.atr = Atr::from_bytes(vec![0x3b, 0x00]);
        for (read, words) in [
            (Ok(card(2)), "not the card you selected"),
            (Ok(same_id_other_atr), "not the card you selected"),
            (
                Err("There is no card in reader \"Reader 0\".".to_owned()),
                "no card",
            ),
        ] {
            let (state, effects) = apply(reading(), BindEvent::CardRead(read));
            let why = refusal(&state);
            assert!(why.contains(words), "{why}");
            assert!(!effects.iter().any(|e| matches!(e, Effect::PostBind { .. })));
            assert_eq!(outcome_of(&effects), Some(Outcome::Refused));
        }
    }

    #[test]
    fn requests_while_in_flight_do_nothing() {
        let in_flight = [
            BindState::Recording { target: target() },
            checking(),
            reading(),
            posting(),
            reconciling(),
        ];
        for state in in_flight {
            assert!(state.is_in_flight());
            let mut other = target();
            other.request_id = Uuid::from_u128(7);
            for event in [
                BindEvent::Requested(target()),
                BindEvent::Requested(other),
                BindEvent::Dismissed,
            ] {
                let (next, effects) = apply(state.clone(), event);
                assert_eq!(next, state);
                assert!(effects.is_empty());
            }
        }
    }

    #[test]
    fn a_bound_answer_ends_the_bind_and_records_it() {
        let receipt = BindReceipt {
            smartcard_uri: Some("api/v1.0/smartcards/x".into()),
            smartcard_uuid: Some(Uuid::from_u128(9)),
            note: None,
        };
        let (state, effects) = apply(
            posting(),
            BindEvent::PostAnswered(PostAnswer::Bound(receipt.clone())),
        );
        assert_eq!(
            state,
            BindState::Bound {
                target: target(),
                receipt,
                confirmed_after_loss: false
            }
        );
        assert_eq!(
            effects,
            vec![Effect::RecordOutcome {
                attempt: attempt(),
                outcome: Outcome::Bound,
                smartcard_uuid: Some(Uuid::from_u128(9)),
                correlation_id: None,
                message: "bound".into(),
            }]
        );
    }

    #[test]
    fn a_rejection_fails_without_a_retry() {
        let (state, effects) = apply(
            posting(),
            BindEvent::PostAnswered(PostAnswer::Rejected(failure("403"))),
        );
        assert_eq!(
            state,
            BindState::Failed {
                target: target(),
                failure: failure("403"),
                confirmed_not_bound: false
            }
        );
        assert_eq!(outcome_of(&effects), Some(Outcome::Failed));
    }

    #[test]
    fn an_uncertain_answer_is_reconciled_never_reposted() {
        let (state, effects) = apply(
            posting(),
            BindEvent::PostAnswered(PostAnswer::Uncertain(failure("timed out"))),
        );
        assert_eq!(state, reconciling());
        assert_eq!(
            effects,
            vec![Effect::Reconcile {
                request_id: Uuid::from_u128(42),
                card_id: card(1).card_id
            }]
        );
    }

    #[test]
    fn reconciliation_finds_our_card_another_card_or_none() {
        let (state, effects) = apply(
            reconciling(),
            BindEvent::Reconciled(Ok(Finding::BoundToOurCard(smartcard(1)))),
        );
        assert!(
            matches!(
                state,
                BindState::Bound {
                    confirmed_after_loss: true,
                    ..
                }
            ),
            "{state:?}"
        );
        assert_eq!(outcome_of(&effects), Some(Outcome::ReconciledBound));

        let (state, effects) = apply(
            reconciling(),
            BindEvent::Reconciled(Ok(Finding::BoundToOtherCard(smartcard(2)))),
        );
        assert_eq!(
            state,
            BindState::WrongCard {
                target: target(),
                bound: smartcard(2)
            }
        );
        assert_eq!(outcome_of(&effects), Some(Outcome::ReconciledNotBound));
        let Some(Effect::RecordOutcome { message, .. }) = effects.first() else {
            panic!("an outcome is recorded");
        };
        assert!(message.starts_with("SECURITY ALARM"), "{message}");

        let (state, effects) = apply(reconciling(), BindEvent::Reconciled(Ok(Finding::NotBound)));
        let BindState::Failed {
            confirmed_not_bound: true,
            failure,
            ..
        } = &state
        else {
            panic!("expected a confirmed failure, got {state:?}");
        };
        assert!(failure.message.contains("safe to try again"));
        assert_eq!(outcome_of(&effects), Some(Outcome::ReconciledNotBound));
    }

    #[test]
    fn an_unanswerable_reconciliation_leaves_the_attempt_open_and_blocks_a_rebind() {
        let (state, effects) = apply(
            reconciling(),
            BindEvent::Reconciled(Err(failure("network down"))),
        );
        assert!(
            effects.is_empty(),
            "no outcome: the attempt stays open for later reconciliation"
        );
        assert!(matches!(state, BindState::Unknown { .. }), "{state:?}");
        let (same, effects) = apply(state.clone(), BindEvent::Requested(target()));
        assert_eq!((same, effects.is_empty()), (state.clone(), true));
        let (same, _) = apply(state.clone(), BindEvent::Dismissed);
        assert_eq!(same, state);
        let (next, effects) = apply(state, BindEvent::RecheckRequested);
        assert!(matches!(next, BindState::Reconciling { .. }));
        assert_eq!(effects.len(), 1);
    }

    #[test]
    fn reconcile_compares_card_ids() {
        assert_eq!(reconcile(&card(1).card_id, None), Finding::NotBound);
        assert_eq!(
            reconcile(&card(1).card_id, Some(smartcard(1))),
            Finding::BoundToOurCard(smartcard(1))
        );
        assert_eq!(
            reconcile(&card(1).card_id, Some(smartcard(2))),
            Finding::BoundToOtherCard(smartcard(2))
        );
        let mut unreadable = smartcard(1);
        unreadable.card_id = None;
        assert!(matches!(
            reconcile(&card(1).card_id, Some(unreadable)),
            Finding::BoundToOtherCard(_)
        ));
    }

    #[test]
    fn events_out_of_place_are_ignored() {
        let stray = [
            BindEvent::AttemptRecorded(Ok(attempt())),
            checked_ok(),
            BindEvent::CardRead(Ok(card(1))),
            BindEvent::PostAnswered(PostAnswer::Bound(BindReceipt::default())),
            BindEvent::Reconciled(Ok(Finding::NotBound)),
            BindEvent::RecheckRequested,
        ];
        for event in stray {
            assert_eq!(
                apply(BindState::Idle, event.clone()),
                (BindState::Idle, vec![])
            );
            if !matches!(event, BindEvent::CardRead(_)) {
                assert_eq!(apply(reading(), event), (reading(), vec![]));
            }
        }
    }

    #[test]
    fn after_a_result_a_new_bind_may_start_or_be_dismissed() {
        let done = BindState::Failed {
            target: target(),
            failure: failure("x"),
            confirmed_not_bound: true,
        };
        let (state, effects) = apply(done.clone(), BindEvent::Requested(target()));
        assert_eq!(state, BindState::Recording { target: target() });
        assert_eq!(effects.len(), 1);
        assert_eq!(apply(done, BindEvent::Dismissed), (BindState::Idle, vec![]));
    }

    #[test]
    fn failures_show_their_correlation_id_once() {
        assert_eq!(failure("boom").to_string(), "boom (correlation ID corr-1)");
        let inline = Failure {
            message: "boom corr-1".into(),
            correlation_id: Some("corr-1".into()),
        };
        assert_eq!(inline.to_string(), "boom corr-1");
    }
}
