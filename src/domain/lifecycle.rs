//! What a desk agent may do to a request or a card besides binding: undo a
//! request (abandon, cancel), ask for a request on a card (retire, revoke,
//! offline unblock) or for a person (a temporary card, a card on their
//! behalf), and read the workflow policy that says what such a request
//! needs and why one is still Pending.
//!
//! Only the rules a station can know are here. Whether CM accepts a status
//! change or a request is CM's decision, from rules the reference does not
//! publish; its refusal comes back as an error with its own words.

use std::fmt;

use uuid::Uuid;

use super::request::{DataItem, RequestStatus, RequestType};
use super::smartcard::Smartcard;

/// A status `PUT requests/{id}` may set (cancel-abandon-complete-request:
/// "Completed", "Canceled" or "Abandoned"; nothing else, no approve or deny).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StatusChange {
    /// Gives up a request that was approved (the SDK's `Abandon`: "a FIM CM
    /// request that has been previously approved"), e.g. after a wrong card
    /// was bound to it.
    Abandon,
    /// Cancels a request, e.g. a duplicate or a mistake.
    Cancel,
    /// Marks a request completed (after an offline unblock, say).
    Complete,
}

impl StatusChange {
    /// The value of the body's `status`, exactly as the reference spells it.
    pub fn wire_name(self) -> &'static str {
        match self {
            StatusChange::Abandon => "Abandoned",
            StatusChange::Cancel => "Canceled",
            StatusChange::Complete => "Completed",
        }
    }

    /// The status the request should show afterwards. Abandoned is no
    /// RequestStatus: an abandoned request shows Failed (`enums.md`).
    pub fn resulting_status(self) -> RequestStatus {
        match self {
            StatusChange::Abandon => RequestStatus::FAILED,
            StatusChange::Cancel => RequestStatus::CANCELED,
            StatusChange::Complete => RequestStatus::COMPLETED,
        }
    }
}

/// The verb, for messages ("abandon request ...").
impl fmt::Display for StatusChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StatusChange::Abandon => "abandon",
            StatusChange::Cancel => "cancel",
            StatusChange::Complete => "complete",
        })
    }
}

/// The request types `POST requests` creates, as create-request lists
/// them. Disable and SuspendOrReinstate are SDK names with no REST type.
pub fn can_be_created(kind: RequestType) -> bool {
    matches!(
        kind,
        RequestType::ENROLL
            | RequestType::DUPLICATE
            | RequestType::OFFLINE_UNBLOCK
            | RequestType::ONLINE_UPDATE
            | RequestType::RENEW
            | RequestType::RECOVER
            | RequestType::RECOVER_ON_BEHALF
            | RequestType::REINSTATE
            | RequestType::RETIRE
            | RequestType::REVOKE
            | RequestType::TEMPORARY_CARD_ENROLL
            | RequestType::UNBLOCK
    )
}

/// A request to create with `POST requests`, checked as far as a station can.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewRequest {
    /// What the request does.
    pub kind: RequestType,
    /// The profile template; for a request on a card, the card's.
    pub template: Option<Uuid>,
    /// The user it is for; `None` is the signed-in user (CM's default).
    pub target: Option<Uuid>,
    /// The smart card object a request on a card acts on.
    pub smartcard: Option<Uuid>,
    /// The workflow's data items (see [`WorkflowPolicy::data_collection`]).
    pub data: Vec<DataItem>,
    /// The comment; CM requires the key, an empty one is allowed.
    pub comment: String,
    /// A priority; `None` is the template's default.
    pub priority: Option<i32>,
}

/// Why a request cannot even be sent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NewRequestError {
    /// The type is not one `POST requests` takes.
    #[error("a {0} request cannot be created through the CM REST API")]
    NotCreatable(RequestType),
    /// A request on a card was asked with a type that issues a card.
    #[error("a {0} request issues a new card; it is not made for an existing card")]
    WrongKind(RequestType),
    /// Only Enroll and Duplicate are made on someone's behalf here.
    #[error(
        "a {0} request is not created on someone's behalf here: only Enroll and Duplicate are \
         (a temporary card has its own request)"
    )]
    NotOnBehalf(RequestType),
    /// The card object is Retired or Disabled: nothing more can be done to it.
    #[error(
        "smart card object {0} is {1}: CM does not act on a discontinued card; look the card up \
         again for its current object"
    )]
    Discontinued(Uuid, super::request::SmartcardStatus),
}

impl NewRequest {
    /// A request on an existing card (Retire, Revoke, Unblock,
    /// OfflineUnblock, OnlineUpdate, Reinstate): for the card's object, its
    /// template and its user, as create-request's Unblock example sends it.
    pub fn on_card(
        kind: RequestType,
        card: &Smartcard,
        data: Vec<DataItem>,
        comment: impl Into<String>,
    ) -> Result<NewRequest, NewRequestError> {
        if !can_be_created(kind) {
            return Err(NewRequestError::NotCreatable(kind));
        }
        if kind.issues_card() != Some(false) {
            return Err(NewRequestError::WrongKind(kind));
        }
        // Reinstate is for a suspended card, which "in use" covers.
        if !card.status.is_in_use() {
            return Err(NewRequestError::Discontinued(card.uuid, card.status));
        }
        Ok(NewRequest {
            kind,
            template: card.profile_template,
            target: card.assigned_user,
            smartcard: Some(card.uuid),
            data,
            comment: comment.into(),
            priority: None,
        })
    }

    /// Retire a card (returned, to be issued again if the template allows).
    pub fn retire(
        card: &Smartcard,
        data: Vec<DataItem>,
        comment: impl Into<String>,
    ) -> Result<NewRequest, NewRequestError> {
        Self::on_card(RequestType::RETIRE, card, data, comment)
    }

    /// Revoke a card's certificates (lost or stolen).
    pub fn revoke(
        card: &Smartcard,
        data: Vec<DataItem>,
        comment: impl Into<String>,
    ) -> Result<NewRequest, NewRequestError> {
        Self::on_card(RequestType::REVOKE, card, data, comment)
    }

    /// The request an offline (challenge/response) unblock runs under.
    pub fn offline_unblock(
        card: &Smartcard,
        data: Vec<DataItem>,
        comment: impl Into<String>,
    ) -> Result<NewRequest, NewRequestError> {
        Self::on_card(RequestType::OFFLINE_UNBLOCK, card, data, comment)
    }

    /// A temporary card for `user` on `template` (REST type TemporaryCards).
    pub fn temporary_card(
        template: Uuid,
        user: Uuid,
        data: Vec<DataItem>,
        comment: impl Into<String>,
    ) -> NewRequest {
        NewRequest {
            kind: RequestType::TEMPORARY_CARD_ENROLL,
            template: Some(template),
            target: Some(user),
            smartcard: None,
            data,
            comment: comment.into(),
            priority: None,
        }
    }

    /// A card for `user` on `template`, created by the agent on their
    /// behalf: Enroll (a first card) or Duplicate (a second one).
    pub fn on_behalf(
        kind: RequestType,
        template: Uuid,
        user: Uuid,
        data: Vec<DataItem>,
        comment: impl Into<String>,
    ) -> Result<NewRequest, NewRequestError> {
        if !matches!(kind, RequestType::ENROLL | RequestType::DUPLICATE) {
            return Err(NewRequestError::NotOnBehalf(kind));
        }
        Ok(NewRequest {
            kind,
            template: Some(template),
            target: Some(user),
            smartcard: None,
            data,
            comment: comment.into(),
            priority: None,
        })
    }
}

/// How a data item's value is checked (SDK `DataCollectionItemValidation`:
/// None, DataType, RegularExpression or Custom, with its data).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Validation {
    /// No check, or none the server said.
    #[default]
    None,
    /// A regular expression the value must match.
    RegularExpression(String),
    /// A data type the value must have (e.g. `Integer`).
    DataType(String),
    /// A check by a custom module; its configuration, if any.
    Custom(String),
    /// A kind of check no source names, with its data.
    Other(String),
}

impl Validation {
    /// A hint for the agent typing the value, e.g. "must match ^E[0-9]{4}$".
    pub fn hint(&self) -> Option<String> {
        match self {
            Validation::None => None,
            Validation::RegularExpression(pattern) => Some(format!("must match {pattern}")),
            Validation::DataType(kind) => Some(format!("must be of type {kind}")),
            Validation::Custom(data) if data.is_empty() => {
                Some("checked by the server's own rule".to_owned())
            }
            Validation::Custom(data) => Some(format!("checked by the server's own rule ({data})")),
            Validation::Other(data) => Some(format!("checked by the server ({data})")),
        }
    }
}

/// One data item a workflow asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyItem {
    /// The item's name, as the request's `DataCollection` will carry it.
    pub name: String,
    /// Whether CM requires a value.
    pub required: bool,
    /// How the value is checked.
    pub validation: Validation,
}

impl PolicyItem {
    /// The item's name with its validation hint, as a form or a refusal
    /// names a missing item: `EmployeeID (must match ^E[0-9]{4}$)`.
    pub fn name_with_hint(&self) -> String {
        match self.validation.hint() {
            Some(hint) => format!("{} ({hint})", self.name),
            None => self.name.clone(),
        }
    }
}

/// A profile template's policy for one workflow (enroll, retire, ...), as
/// far as the station uses it. CM sends more (security descriptors,
/// documents, one-time-password settings); the station reads what explains
/// a request and what creating one needs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WorkflowPolicy {
    /// How many approvals a request needs before it can be executed.
    pub approvals_needed: u32,
    /// Whether an enrollment agent must execute the request.
    pub enroll_agent_required: bool,
    /// Whether the workflow asks for a comment.
    pub collect_comments: bool,
    /// Whether the workflow is enabled; `None` when the server did not say.
    pub enabled: Option<bool>,
    /// The data items the workflow asks for; `None` when the server sent no
    /// `PolicyDataCollection` (which is not the same as asking for none).
    pub data_collection: Option<Vec<PolicyItem>>,
}

impl WorkflowPolicy {
    /// Why a request under this policy waits or needs someone, in an
    /// agent's words: the approvals (given only in the CM portal: REST has
    /// no approve call) and the enrollment agent.
    pub fn pending_reasons(&self) -> Vec<String> {
        let mut reasons = Vec::new();
        if self.enabled == Some(false) {
            reasons.push("this workflow is disabled on the profile template".to_owned());
        }
        match self.approvals_needed {
            0 => {}
            1 => reasons.push(
                "it needs 1 approval, given in the CM portal (the REST API cannot approve)"
                    .to_owned(),
            ),
            n => reasons.push(format!(
                "it needs {n} approvals, given in the CM portal (the REST API cannot approve)"
            )),
        }
        if self.enroll_agent_required {
            reasons.push("an authorized enrollment agent must execute it".to_owned());
        }
        reasons
    }

    /// The required items `data` leaves without a value (names compared in
    /// any case, blank values count as missing). Empty when the policy's
    /// items are not known.
    pub fn missing_items<'a>(&'a self, data: &[DataItem]) -> Vec<&'a PolicyItem> {
        let Some(items) = &self.data_collection else {
            return Vec::new();
        };
        items
            .iter()
            .filter(|item| item.required)
            .filter(|item| {
                !data.iter().any(|given| {
                    given.name.trim().eq_ignore_ascii_case(item.name.trim())
                        && given.value.as_deref().is_some_and(|v| !v.trim().is_empty())
                })
            })
            .collect()
    }
}

/// A policy's items for unit tests elsewhere in the crate: a required
/// employee ID with its pattern, and an optional reason.
#[cfg(test)]
pub(crate) fn example_items() -> Vec<PolicyItem> {
    vec![
        PolicyItem {
            name: "EmployeeID".into(),
            required: true,
            validation: Validation::RegularExpression("^E[0-9]{4}$".into()),
        },
        PolicyItem {
            name: "Reason".into(),
            required: false,
            validation: Validation::None,
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::card::CardId;
    use crate::domain::request::{SmartcardStatus, Text};

    fn card(status: SmartcardStatus) -> Smartcard {
        Smartcard {
            uuid: Uuid::from_u128(7),
            status,
            card_id: Some(CardId::from_raw([7; 16])),
            atr: None,
            assigned_user: Some(Uuid::from_u128(8)),
            profile_template: Some(Uuid::from_u128(9)),
        }
    }

    fn item(name: &str, value: Option<&str>) -> DataItem {
        DataItem {
            name: Text::from(name),
            value: value.map(Text::from),
        }
    }

    #[test]
    fn status_changes_are_spelled_as_the_reference_spells_them() {
        assert_eq!(StatusChange::Abandon.wire_name(), "Abandoned");
        assert_eq!(StatusChange::Cancel.wire_name(), "Canceled");
        assert_eq!(StatusChange::Complete.wire_name(), "Completed");
        assert_eq!(
            StatusChange::Abandon.resulting_status(),
            RequestStatus::FAILED
        );
        assert_eq!(StatusChange::Cancel.to_string(), "cancel");
    }

    #[test]
    fn a_request_on_a_card_takes_the_cards_object_user_and_template() {
        let active = card(SmartcardStatus::ACTIVE);
        let retire = NewRequest::retire(&active, vec![], "returned").expect("retire");
        assert_eq!(retire.kind, RequestType::RETIRE);
        assert_eq!(retire.smartcard, Some(active.uuid));
        assert_eq!(retire.target, active.assigned_user);
        assert_eq!(retire.template, active.profile_template);
        assert_eq!(retire.comment, "returned");
        assert!(NewRequest::revoke(&active, vec![], "").is_ok());
        assert!(NewRequest::offline_unblock(&active, vec![], "").is_ok());
        assert_eq!(
            NewRequest::on_card(RequestType::ENROLL, &active, vec![], ""),
            Err(NewRequestError::WrongKind(RequestType::ENROLL))
        );
        assert_eq!(
            NewRequest::on_card(RequestType::DISABLE, &active, vec![], ""),
            Err(NewRequestError::NotCreatable(RequestType::DISABLE))
        );
        let retired = card(SmartcardStatus::RETIRED);
        let refused = NewRequest::retire(&retired, vec![], "").expect_err("discontinued");
        assert!(refused.to_string().contains("Retired"), "{refused}");
    }

    #[test]
    fn on_behalf_is_enroll_or_duplicate_and_a_temporary_card_its_own() {
        let (template, user) = (Uuid::from_u128(1), Uuid::from_u128(2));
        for kind in [RequestType::ENROLL, RequestType::DUPLICATE] {
            let request = NewRequest::on_behalf(kind, template, user, vec![], "").expect("ok");
            assert_eq!((request.kind, request.target), (kind, Some(user)));
            assert_eq!(request.smartcard, None);
        }
        assert_eq!(
            NewRequest::on_behalf(RequestType::RETIRE, template, user, vec![], ""),
            Err(NewRequestError::NotOnBehalf(RequestType::RETIRE))
        );
        let temporary = NewRequest::temporary_card(template, user, vec![], "forgot it");
        assert_eq!(temporary.kind, RequestType::TEMPORARY_CARD_ENROLL);
        assert_eq!(temporary.kind.issues_card(), Some(true));
    }

    #[test]
    fn a_policy_explains_a_pending_request_and_the_missing_items() {
        let policy = WorkflowPolicy {
            approvals_needed: 2,
            enroll_agent_required: true,
            collect_comments: false,
            enabled: Some(true),
            data_collection: Some(example_items()),
        };
        let reasons = policy.pending_reasons();
        assert_eq!(reasons.len(), 2, "{reasons:?}");
        assert!(reasons[0].contains("2 approvals"), "{reasons:?}");
        assert!(reasons[1].contains("enrollment agent"), "{reasons:?}");
        let missing = policy.missing_items(&[item("employeeid ", Some("  "))]);
        assert_eq!(missing.len(), 1);
        assert_eq!(
            missing[0].validation.hint().as_deref(),
            Some("must match ^E[0-9]{4}$")
        );
        assert!(
            policy
                .missing_items(&[item("EMPLOYEEID", Some("E1234"))])
                .is_empty()
        );
        assert!(WorkflowPolicy::default().pending_reasons().is_empty());
        assert!(WorkflowPolicy::default().missing_items(&[]).is_empty());
    }
}
