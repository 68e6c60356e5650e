//! The lifecycle actions a desk agent starts besides a bind (issue 21):
//! undo a request, create a request (retire, revoke, temporary card, a card
//! on someone's behalf) and an offline unblock, and what each one ended in.
//!
//! The window and the command line build an [`Action`]; the worker
//! (`worker::actions`) journals it, performs it against CM, reconciles a lost
//! answer and reports an [`ActionDone`] or a failure in words with CM's
//! correlation ID. Nothing here knows HTTP or the journal.

use std::fmt;

use uuid::Uuid;

use super::card::CardId;
use super::lifecycle::{NewRequest, StatusChange, WorkflowPolicy};
use super::request::{DataItem, RequestStatus, RequestType, Text};
use super::unblock::{Challenge, ChallengeResponse};

/// One lifecycle action, as the agent confirmed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// `PUT requests/{id}`: abandon, cancel or complete a request.
    ChangeStatus {
        /// The request.
        request: Uuid,
        /// What to do to it.
        change: StatusChange,
        /// Why, for the journal (the PUT body has no comment).
        comment: Option<String>,
    },
    /// `POST requests`: retire or revoke a card, a temporary card, Enroll
    /// or Duplicate on someone's behalf (see [`NewRequest`]'s constructors).
    Create(NewRequest),
    /// Offline unblock: creates the OfflineUnblock request for the card
    /// (unless `request` names an approved one already) and asks CM for the
    /// response to the card's challenge.
    OfflineUnblock(OfflineUnblock),
}

/// What an offline unblock needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OfflineUnblock {
    /// The card's ID, as the card (or the agent) gives it.
    pub card_id: CardId,
    /// The smart card object, when the station already knows it; else the
    /// one in use for `card_id` is looked up.
    pub smartcard: Option<Uuid>,
    /// An existing OfflineUnblock request to use (one that waited for
    /// approval); `None` creates one.
    pub request: Option<Uuid>,
    /// The card's admin challenge, as typed.
    pub challenge: Challenge,
    /// Whether the card's admin key is diversified (CM's `diversified`).
    pub diversified: bool,
    /// The workflow's data items for the new request.
    pub data: Vec<DataItem>,
    /// The new request's comment.
    pub comment: String,
}

impl Action {
    /// The verb and object, for confirmations, the journal and errors
    /// ("cancel request …", "create a Retire request for card object …").
    /// Never holds a response or a secret.
    pub fn describe(&self) -> String {
        match self {
            Action::ChangeStatus {
                request, change, ..
            } => format!("{change} request {request}"),
            Action::Create(new) => describe_new(new),
            Action::OfflineUnblock(unblock) => match unblock.request {
                Some(request) => format!(
                    "get the offline unblock response for card {} under request {request}",
                    unblock.card_id
                ),
                None => format!("offline unblock of card {}", unblock.card_id),
            },
        }
    }

    /// The journal's short name of the action.
    pub fn kind_name(&self) -> String {
        match self {
            Action::ChangeStatus { change, .. } => change.to_string(),
            Action::Create(new) => format!("create {}", new.kind),
            Action::OfflineUnblock(_) => "offline unblock".to_owned(),
        }
    }

    /// The request the action is about, when it exists before the action.
    pub fn request(&self) -> Option<Uuid> {
        match self {
            Action::ChangeStatus { request, .. } => Some(*request),
            Action::Create(_) => None,
            Action::OfflineUnblock(unblock) => unblock.request,
        }
    }
}

fn describe_new(new: &NewRequest) -> String {
    let mut text = format!("create a {} request", new.kind);
    if let Some(card) = new.smartcard {
        text.push_str(&format!(" for card object {card}"));
    }
    if let Some(user) = new.target {
        text.push_str(&format!(" for user {user}"));
    }
    if let Some(template) = new.template {
        text.push_str(&format!(" on template {template}"));
    }
    text
}

/// How an action ended well.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ActionDone {
    /// The request's status changed.
    StatusChanged {
        /// The request.
        request: Uuid,
        /// Its status as CM now shows it.
        status: RequestStatus,
    },
    /// CM created the request.
    Created {
        /// The new request.
        request_id: Uuid,
        /// Its type.
        kind: RequestType,
        /// Its status, when it could be read after creation.
        status: Option<RequestStatus>,
        /// What happens next, in words (approval needed, execute it, ...).
        next: String,
    },
    /// CM answered the card's challenge. The response unblocks the card:
    /// shown on screen only, never logged or journalled.
    UnblockResponse {
        /// The OfflineUnblock request it was given under.
        request_id: Uuid,
        /// The card.
        card_id: CardId,
        /// The response (its `Debug` hides it).
        response: ChallengeResponse,
    },
}

impl ActionDone {
    /// The request the action ended on.
    pub fn request_id(&self) -> Uuid {
        match self {
            ActionDone::StatusChanged { request, .. } => *request,
            ActionDone::Created { request_id, .. } => *request_id,
            ActionDone::UnblockResponse { request_id, .. } => *request_id,
        }
    }
}

/// What happens after a request was created, in words: who must approve
/// it (from the workflow policy, when it was read), or what the agent does
/// next to have it executed.
pub fn next_step(
    kind: RequestType,
    status: Option<RequestStatus>,
    policy: Option<&WorkflowPolicy>,
) -> String {
    match status {
        Some(RequestStatus::PENDING) => {
            let reasons = policy.map(WorkflowPolicy::pending_reasons);
            match reasons {
                Some(reasons) if !reasons.is_empty() => format!(
                    "The request waits for approval: {}. Approvals are given in the CM portal.",
                    reasons.join("; ")
                ),
                _ => "The request waits for approval in the CM portal.".to_owned(),
            }
        }
        Some(RequestStatus::APPROVED | RequestStatus::EXECUTING) => match kind.issues_card() {
            Some(true) => "The request is approved: bind a card to it (`enroll-station bind`) \
                           and execute it with the CM client."
                .to_owned(),
            _ if kind == RequestType::OFFLINE_UNBLOCK => {
                "The request is approved: the response to the card's challenge can be asked now."
                    .to_owned()
            }
            _ => format!(
                "The request needs no approval and can be executed at once: the card's holder \
                 (or an agent) completes the {kind} in the CM client with the card inserted."
            ),
        },
        Some(RequestStatus::COMPLETED) => "CM completed the request already.".to_owned(),
        Some(other) => format!("CM shows the request {other}."),
        None => "Its status could not be read: look it up in the request list.".to_owned(),
    }
}

/// A `--data` pair that is not a data item.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DataItemError {
    /// No `=` in it.
    #[error(
        "\"{0}\" is not NAME=VALUE: write the item's name, an equals sign and its value, \
         e.g. --data EmployeeID=E1234"
    )]
    NotAPair(String),
    /// Nothing before the `=`.
    #[error(
        "\"{0}\" has no name before the equals sign: write the item's name first, e.g. --data EmployeeID=E1234"
    )]
    NoName(String),
}

/// The `NAME=VALUE` pairs the agent gave, as data items; a pair without `=`
/// is refused in words.
pub fn parse_data_items(pairs: &[String]) -> Result<Vec<DataItem>, DataItemError> {
    pairs
        .iter()
        .map(|pair| {
            let Some((name, value)) = pair.split_once('=') else {
                return Err(DataItemError::NotAPair(pair.clone()));
            };
            if name.trim().is_empty() {
                return Err(DataItemError::NoName(pair.clone()));
            }
            Ok(DataItem {
                name: Text::from(name.trim()),
                value: Some(Text::from(value)),
            })
        })
        .collect()
}

/// The policy's required items the agent did not give, in words, or `None`
/// when nothing is missing: "the Retire workflow needs EmployeeID (must
/// match ^E[0-9]{4}$); give it with --data EmployeeID=VALUE".
pub fn missing_items_message(
    kind: RequestType,
    policy: &WorkflowPolicy,
    data: &[DataItem],
) -> Option<String> {
    let missing = policy.missing_items(data);
    if missing.is_empty() {
        return None;
    }
    let names: Vec<String> = missing.iter().map(|item| item.name_with_hint()).collect();
    let example = missing
        .iter()
        .map(|item| format!("--data {}=VALUE", item.name))
        .collect::<Vec<_>>()
        .join(" ");
    Some(format!(
        "The {kind} workflow needs {} that {} not given: {}. Give {} with {example}.",
        if missing.len() == 1 {
            "an item"
        } else {
            "items"
        },
        if missing.len() == 1 { "was" } else { "were" },
        names.join(", "),
        if missing.len() == 1 { "it" } else { "them" },
    ))
}

/// An action's result for a screen: the verb done, in words.
impl fmt::Display for ActionDone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ActionDone::StatusChanged { request, status } => {
                write!(f, "Request {request} is now {status}.")
            }
            ActionDone::Created {
                request_id,
                kind,
                status,
                next,
            } => {
                write!(f, "CM created {kind} request {request_id}")?;
                if let Some(status) = status {
                    write!(f, " ({status})")?;
                }
                write!(f, ". {next}")
            }
            // The response is not written here: a screen shows it by name.
            ActionDone::UnblockResponse {
                request_id,
                card_id,
                ..
            } => write!(
                f,
                "CM gave the unblock response for card {card_id} under request {request_id}."
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::lifecycle::{PolicyItem, Validation};

    #[test]
    fn data_items_are_name_equals_value() {
        let items =
            parse_data_items(&["EmployeeID=E1234".into(), " Reason =a=b".into()]).expect("ok");
        assert_eq!(items[0].name.as_str(), "EmployeeID");
        assert_eq!(items[1].name.as_str(), "Reason");
        assert_eq!(items[1].value.as_ref().map(|v| v.as_str()), Some("a=b"));
        let error = parse_data_items(&["EmployeeID".into()])
            .expect_err("no =")
            .to_string();
        assert!(error.contains("NAME=VALUE"), "{error}");
        assert!(parse_data_items(&["=x".into()]).is_err());
    }

    #[test]
    fn missing_items_are_named_with_their_hint_and_the_flag() {
        let policy = WorkflowPolicy {
            data_collection: Some(vec![PolicyItem {
                name: "EmployeeID".into(),
                required: true,
                validation: Validation::RegularExpression("^E[0-9]{4}$".into()),
            }]),
            ..WorkflowPolicy::default()
        };
        let message = missing_items_message(RequestType::RETIRE, &policy, &[]).expect("missing");
        assert!(message.contains("Retire workflow"), "{message}");
        assert!(message.contains("EmployeeID (must match"), "{message}");
        assert!(message.contains("--data EmployeeID=VALUE"), "{message}");
        let given = parse_data_items(&["employeeid=E1234".into()]).expect("ok");
        assert_eq!(
            missing_items_message(RequestType::RETIRE, &policy, &given),
            None
        );
    }

    #[test]
    fn the_next_step_says_who_acts() {
        let pending = WorkflowPolicy {
            approvals_needed: 1,
            ..WorkflowPolicy::default()
        };
        let next = next_step(
            RequestType::RETIRE,
            Some(RequestStatus::PENDING),
            Some(&pending),
        );
        assert!(next.contains("approval"), "{next}");
        let next = next_step(RequestType::RETIRE, Some(RequestStatus::APPROVED), None);
        assert!(next.contains("executed at once"), "{next}");
        let next = next_step(
            RequestType::TEMPORARY_CARD_ENROLL,
            Some(RequestStatus::APPROVED),
            None,
        );
        assert!(next.contains("bind a card"), "{next}");
    }

    #[test]
    fn a_response_is_not_in_the_words() {
        let done = ActionDone::UnblockResponse {
            request_id: Uuid::from_u128(1),
            card_id: CardId::from_raw([1; 16]),
            response: ChallengeResponse::from_bytes(vec![0xab; 8]),
        };
        let words = format!("{done} {done:?}");
        assert!(!words.to_ascii_uppercase().contains("ABAB"), "{words}");
    }
}
