//! The desk's actions besides binding (issue 21), without egui: undo a
//! request (abandon, cancel), retire or revoke a card found by a card
//! lookup, create a request for someone (a temporary card, Enroll or
//! Duplicate on their behalf) and unblock a PIN by phone.
//!
//! Every action goes the same way, so that nothing happens that the agent
//! has not seen: a form builds an [`Intent`]; the intent is shown in a
//! confirmation that names the target account, the request or card and the
//! action in words; at a supervised station a supervisor confirms it too;
//! only then is one command sent. The result (CM's refusal in its own
//! words, or what happens next) stays in the confirmation until closed.
//!
//! A kiosk binds only: at a kiosk station nothing here is offered
//! ([`StationState::actions_offered`]).

use uuid::Uuid;

use crate::app::request_detail::{Answer, PolicyKey};
use crate::app::station::StationState;
use crate::domain::action::{Action, ActionDone, OfflineUnblock};
use crate::domain::bind::Failure;
use crate::domain::card::CardId;
use crate::domain::card_record::{CardOperation, CardRecord, CmStanding};
use crate::domain::lifecycle::{
    NewRequest, NewRequestError, PolicyItem, StatusChange, WorkflowPolicy,
};
use crate::domain::request::{DataItem, Request, RequestStatus, RequestType, Text};
use crate::domain::smartcard::Smartcard;
use crate::domain::unblock::Challenge;
use crate::supervisors::{SupervisorCredential, Witness};
use crate::worker::Command;

mod error;
mod new_request;
mod unblock;

pub use error::{MissingItems, NoUser};
pub use new_request::{
    NEW_REQUEST_KINDS, NewRequestForm, PersonBy, PersonSearch, SearchStage, TemplateList,
};
pub use unblock::{Completion, UnblockScreen};

/// The status changes the desk offers for a request in `status`: Cancel
/// before CM starts on it (Pending, Approved), Abandon once it was
/// approved (Approved, Executing; the SDK's "a request that has been
/// previously approved"). CM decides in the end; its refusal is shown.
pub fn status_changes(status: RequestStatus) -> &'static [StatusChange] {
    match status {
        RequestStatus::PENDING => &[StatusChange::Cancel],
        RequestStatus::APPROVED => &[StatusChange::Abandon, StatusChange::Cancel],
        RequestStatus::EXECUTING => &[StatusChange::Abandon],
        _ => &[],
    }
}

/// What the agent is about to do, as the confirmation names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Intent {
    /// Abandon or cancel a request.
    ChangeStatus {
        /// The request, as the list showed it.
        request: Box<Request>,
        /// What to set.
        change: StatusChange,
    },
    /// Create a request: Retire or Revoke a card, a temporary card, Enroll
    /// or Duplicate on someone's behalf.
    Create {
        /// What to send, checked by the domain.
        request: NewRequest,
        /// The card it acts on, as the agent identified it.
        card_id: Option<CardId>,
    },
    /// Unblock a card's PIN by phone: an OfflineUnblock request for the
    /// card (an approved one CM holds, or a new one), then CM's response to
    /// the challenge the person read out; Done completes the request.
    Unblock {
        /// The OfflineUnblock request to create (its user is the card's),
        /// unless `existing` names one.
        request: NewRequest,
        /// The approved OfflineUnblock request to use instead of creating one.
        existing: Option<Uuid>,
        /// The card object.
        card: Smartcard,
        /// The card's ID.
        card_id: CardId,
        /// The challenge, as checked.
        challenge: Challenge,
    },
}

impl Intent {
    /// The action in a few words, for the dialog's heading and its button.
    pub fn verb(&self) -> String {
        match self {
            Intent::ChangeStatus { change, .. } => match change {
                StatusChange::Abandon => "Abandon request".to_owned(),
                StatusChange::Cancel => "Cancel request".to_owned(),
                StatusChange::Complete => "Complete request".to_owned(),
            },
            Intent::Create { request, .. } => match request.kind {
                RequestType::RETIRE => "Retire card".to_owned(),
                RequestType::REVOKE => "Revoke card".to_owned(),
                RequestType::TEMPORARY_CARD_ENROLL => "Request a temporary card".to_owned(),
                kind => format!("Create {kind} request"),
            },
            Intent::Unblock { .. } => "Get the unblock response".to_owned(),
        }
    }

    /// The account the action is for, when one is known.
    pub fn target_user(&self) -> Option<Uuid> {
        match self {
            Intent::ChangeStatus { request, .. } => request.target_user,
            Intent::Create { request, .. } | Intent::Unblock { request, .. } => request.target,
        }
    }

    /// The request it acts on, when it acts on one already in CM.
    pub fn request(&self) -> Option<&Request> {
        match self {
            Intent::ChangeStatus { request, .. } => Some(request),
            _ => None,
        }
    }

    /// What happens, in sentences for the confirmation.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        match self {
            Intent::ChangeStatus { request, change } => {
                lines.push(format!(
                    "{} request {} ({}, now {}).",
                    capitalized(&change.to_string()),
                    request.uuid,
                    request.request_type,
                    request.status
                ));
                lines.push(match change {
                    StatusChange::Abandon => "It shows Failed afterwards. This cannot be undone: \
                                              the person needs a new request."
                        .to_owned(),
                    _ => "It shows Canceled afterwards. This cannot be undone: the person needs \
                          a new request."
                        .to_owned(),
                });
            }
            Intent::Create { request, card_id } => {
                lines.push(format!("A new {} request in CM.", request.kind));
                if let Some(card_id) = card_id {
                    lines.push(format!("Card ID {card_id}"));
                }
                if let Some(card) = request.smartcard {
                    lines.push(format!("Smart card object {card}"));
                }
                if let Some(template) = request.template {
                    lines.push(format!("Profile template {template}"));
                }
                lines.extend(data_lines(&request.data, &request.comment));
            }
            Intent::Unblock {
                request,
                existing,
                card_id,
                challenge,
                ..
            } => {
                lines.push(match existing {
                    Some(existing) => format!(
                        "CM's response to the challenge {challenge} for card ID {card_id}, under \
                         the approved OfflineUnblock request {existing} (no new request)."
                    ),
                    None => format!(
                        "A new OfflineUnblock request for card ID {card_id}, then CM's response \
                         to the challenge {challenge}."
                    ),
                });
                lines.push(
                    "Done (after the response is read out) marks the request Completed in CM."
                        .to_owned(),
                );
                lines.push(
                    "Whoever has the response can unblock the card: read it only to the person \
                     holding it."
                        .to_owned(),
                );
                if existing.is_none() {
                    lines.extend(data_lines(&request.data, &request.comment));
                }
            }
        }
        lines
    }
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

fn data_lines(data: &[DataItem], comment: &str) -> Vec<String> {
    let mut lines: Vec<String> = data
        .iter()
        .filter_map(|item| Some(format!("{}: {}", item.name, item.value.as_deref()?)))
        .collect();
    if !comment.trim().is_empty() {
        lines.push(format!("Comment: {}", comment.trim()));
    }
    lines
}

/// Where an action is: being confirmed, waiting for the server, or
/// finished with a result in words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stage {
    /// The agent (and at a supervised station the supervisor) reads the
    /// confirmation.
    Confirming,
    /// Sent as the command with this id; no answer yet.
    Running(u64),
    /// CM did it: what happened and what happens next, in words.
    Done(String),
    /// CM (or the station, or the supervisor check) refused it: why, in
    /// words, with the correlation ID.
    Refused(String),
}

/// The confirmation of one action, from the agent's click to its result.
#[derive(Debug)]
pub struct Confirmation {
    /// What is confirmed.
    pub intent: Intent,
    /// Where it is.
    pub stage: Stage,
    /// The supervisor's name and password, at a supervised station: the
    /// same form as a supervised bind's (the worker checks it with the
    /// action, with the same throttle and refusal records).
    pub supervisor: crate::app::credentials::CredentialForm,
    /// This opening, unique in the process: the password field's id is
    /// salted with it, as the bind's supervisor dialog does.
    pub opening: u64,
}

impl Confirmation {
    /// True while nothing may close it (the command is out).
    pub fn busy(&self) -> bool {
        matches!(self.stage, Stage::Running(_))
    }
}

/// The data items of a workflow's policy and the comment, as typed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ItemsForm {
    /// The policy the items come from.
    pub key: Option<PolicyKey>,
    /// Each item's value as typed, by the policy's item name.
    pub values: Vec<(String, String)>,
    /// The comment.
    pub comment: String,
    /// Why the form cannot be sent, in words.
    pub error: Option<String>,
}

impl ItemsForm {
    /// Switches the form to `key`'s policy; values typed for an item of the
    /// same name stay.
    pub fn use_policy(&mut self, key: Option<PolicyKey>) {
        if self.key != key {
            self.key = key;
            self.error = None;
        }
    }

    /// The value typed for `item` (a new, empty one the first time).
    pub fn value_mut(&mut self, item: &str) -> &mut String {
        let at = match self.values.iter().position(|(name, _)| name == item) {
            Some(at) => at,
            None => {
                self.values.push((item.to_owned(), String::new()));
                self.values.len() - 1
            }
        };
        &mut self.values[at].1
    }

    /// The data items to send for `policy`'s items (each trimmed; blank
    /// ones left out), or why not: a required item without a value,
    /// named with its hint. Without a policy nothing is collected.
    pub fn data(&mut self, policy: Option<&WorkflowPolicy>) -> Result<Vec<DataItem>, MissingItems> {
        let items: &[PolicyItem] = policy
            .and_then(|p| p.data_collection.as_deref())
            .unwrap_or(&[]);
        let data: Vec<DataItem> = items
            .iter()
            .filter_map(|item| {
                let value = self
                    .values
                    .iter()
                    .find(|(name, _)| *name == item.name)
                    .map(|(_, value)| value.trim())
                    .filter(|value| !value.is_empty())?;
                Some(DataItem {
                    name: Text::from(item.name.as_str()),
                    value: Some(Text::from(value)),
                })
            })
            .collect();
        let missing = policy.map(|p| p.missing_items(&data)).unwrap_or_default();
        if missing.is_empty() {
            self.error = None;
            return Ok(data);
        }
        let names: Vec<String> = missing.iter().map(|item| item.name_with_hint()).collect();
        let error = MissingItems { names };
        self.error = Some(error.to_string());
        Err(error)
    }

    /// Forgets what was typed.
    pub fn clear(&mut self) {
        *self = ItemsForm::default();
    }
}

/// The card panel: a card found by its ID (typed, or read from the card in
/// a reader), its CM record and the operations CM allows on it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CardPanel {
    /// Whether the panel is open.
    pub open: bool,
    /// The card ID as typed.
    pub typed: String,
    /// Why the typed text is not a card ID.
    pub error: Option<String>,
    /// The card looked up, and CM's answer (`Asking` until it comes).
    pub looked_up: Option<(CardId, CmStanding)>,
    /// The operation whose form is open (Retire or Revoke).
    pub operation: Option<RequestType>,
    /// The operation's data items and comment.
    pub form: ItemsForm,
    /// The card is to be looked up again (an action changed it).
    pub refresh: bool,
}

impl CardPanel {
    /// Looks up the typed card ID: the command to send, or why not (kept in
    /// [`CardPanel::error`]).
    pub fn look_up_typed(&mut self) -> Option<crate::worker::Command> {
        match CardId::parse_cm_string(self.typed.trim()) {
            Some(card_id) => Some(self.look_up(card_id)),
            None => {
                self.error = Some(
                    "That is not a card ID: type the 32 hexadecimal digits CM shows, like \
                     bc88f13f-83ba-4037-8262-46eba1291c6e (braces allowed)."
                        .to_owned(),
                );
                None
            }
        }
    }

    /// Looks up `card_id` (typed, or the card in a reader).
    pub fn look_up(&mut self, card_id: CardId) -> crate::worker::Command {
        self.typed = card_id.to_string();
        self.error = None;
        self.looked_up = Some((card_id, CmStanding::Asking));
        self.operation = None;
        self.form.clear();
        crate::worker::Command::LookUpCard(card_id)
    }

    /// CM's answer about a card; taken when it is the one asked about.
    pub fn answered(&mut self, card_id: &CardId, standing: &CmStanding) {
        if let Some((asked, known)) = &mut self.looked_up
            && asked == card_id
            && *known == CmStanding::Asking
        {
            *known = standing.clone();
        }
    }

    /// The card's record, once CM knows the card.
    pub fn record(&self) -> Option<&CardRecord> {
        match &self.looked_up {
            Some((_, CmStanding::Known(record))) => Some(record),
            _ => None,
        }
    }

    /// The request types the panel offers for the card: those of CM's
    /// operations it can create (Retire, Revoke; Unblock as the phone
    /// unblock), in CM's order, none when CM named none.
    pub fn offered(&self) -> Vec<RequestType> {
        let Some(Ok(operations)) = self.record().map(|r| &r.operations) else {
            return Vec::new();
        };
        let mut offered = Vec::new();
        for operation in operations {
            let kind = match operation {
                CardOperation::Known(RequestType::RETIRE) => RequestType::RETIRE,
                CardOperation::Known(RequestType::REVOKE) => RequestType::REVOKE,
                CardOperation::Known(RequestType::UNBLOCK | RequestType::OFFLINE_UNBLOCK) => {
                    RequestType::OFFLINE_UNBLOCK
                }
                _ => continue,
            };
            if !offered.contains(&kind) {
                offered.push(kind);
            }
        }
        offered
    }
}

/// Everything the desk's actions keep.
#[derive(Debug, Default)]
pub struct DeskActions {
    /// The card panel.
    pub card: CardPanel,
    /// The "New request" form.
    pub new_request: NewRequestForm,
    /// The phone unblock screen (for the card panel's card).
    pub unblock: UnblockScreen,
    /// The confirmation open, if any.
    pub confirmation: Option<Confirmation>,
    /// The id of the last command sent.
    last_id: u64,
}

impl DeskActions {
    /// A new id for a command.
    pub fn next_id(&mut self) -> u64 {
        self.last_id += 1;
        self.last_id
    }

    /// Opens the confirmation of `intent` (replacing a finished one; never
    /// one that is still under way).
    pub fn confirm(&mut self, intent: Intent) -> bool {
        if self.confirmation.as_ref().is_some_and(Confirmation::busy) {
            return false;
        }
        self.confirmation = Some(Confirmation {
            intent,
            stage: Stage::Confirming,
            supervisor: Default::default(),
            opening: self.next_id(),
        });
        true
    }

    /// Closes a confirmation that is not under way.
    pub fn close_confirmation(&mut self) {
        if !self.confirmation.as_ref().is_some_and(Confirmation::busy) {
            self.confirmation = None;
        }
    }

    /// After a refusal: the same confirmation again, to try once more.
    pub fn try_again(&mut self) {
        if let Some(confirmation) = &mut self.confirmation
            && matches!(confirmation.stage, Stage::Refused(_))
        {
            confirmation.stage = Stage::Confirming;
        }
    }
}

/// The action an intent confirms.
pub fn action_of(intent: &Intent, diversified: bool) -> Action {
    match intent {
        Intent::ChangeStatus { request, change } => Action::ChangeStatus {
            request: request.uuid,
            change: *change,
            comment: None,
        },
        Intent::Create { request, .. } => Action::Create(request.clone()),
        Intent::Unblock {
            request,
            existing,
            card,
            card_id,
            challenge,
        } => Action::OfflineUnblock(OfflineUnblock {
            card_id: *card_id,
            smartcard: Some(card.uuid),
            request: *existing,
            challenge: challenge.clone(),
            diversified,
            data: request.data.clone(),
            comment: request.comment.clone(),
        }),
    }
}

/// The retire, revoke or unblock intent of the card panel's card.
pub fn card_intent(
    kind: RequestType,
    card_id: CardId,
    card: &Smartcard,
    data: Vec<DataItem>,
    comment: &str,
) -> Result<Intent, NewRequestError> {
    let request = NewRequest::on_card(kind, card, data, comment)?;
    Ok(Intent::Create {
        request,
        card_id: Some(card_id),
    })
}

impl StationState {
    /// Whether the desk offers the actions: never at a kiosk station, whose
    /// desk binds only.
    pub fn actions_offered(&self) -> bool {
        !self.kiosk.station_is_kiosk && !self.kiosk.active
    }

    /// The workflow policy for `key` as far as it is read, and the command
    /// that asks for it the first time.
    pub fn action_policy(
        &mut self,
        key: Option<PolicyKey>,
    ) -> (Option<&Answer<Option<WorkflowPolicy>>>, Option<Command>) {
        let Some(key) = key else {
            return (None, None);
        };
        let command = self.detail.ask_policy(key);
        (self.detail.policy(key), command)
    }

    /// The requests in the list that took the card object `smartcard`.
    pub fn requests_of_card(&self, smartcard: Uuid) -> Vec<&Request> {
        self.requests
            .iter()
            .filter(|r| r.new_smartcard == Some(smartcard))
            .collect()
    }

    /// Confirm pressed in the action's confirmation: the one command to
    /// send, or nothing (why is in the dialog: the supervisor's name or
    /// password missing, nobody to confirm, the kiosk).
    pub fn confirm_action(&mut self) -> Option<Command> {
        if !self.actions_offered() {
            return None;
        }
        let witness = self.witness;
        let diversified = self.actions.unblock.diversified;
        let id = self.actions.next_id();
        let confirmation = self.actions.confirmation.as_mut()?;
        if confirmation.stage != Stage::Confirming {
            return None;
        }
        let supervisor = match witness {
            Witness::NotNeeded => None,
            Witness::NoneConfigured => {
                confirmation.supervisor.error =
                    Some(crate::supervisors::SupervisorError::NoneConfigured.to_string());
                return None;
            }
            Witness::Needed => {
                let form = &mut confirmation.supervisor;
                let password = form.password.take();
                if form.name.trim().is_empty() {
                    form.error = Some("Type the supervisor's name.".to_owned());
                    return None;
                }
                if password.expose().is_empty() {
                    form.error = Some("Type the supervisor's password.".to_owned());
                    return None;
                }
                form.error = None;
                Some(SupervisorCredential {
                    name: form.name.trim().to_owned(),
                    password,
                })
            }
        };
        confirmation.stage = Stage::Running(id);
        Some(Command::PerformAction {
            id,
            action: action_of(&confirmation.intent, diversified),
            supervisor,
        })
    }

    /// The worker's answer to an action; true when the list should be
    /// fetched again (CM changed a request or made one). An unblock
    /// response goes to the unblock screen, and nowhere else.
    pub(crate) fn action_finished(&mut self, id: u64, result: Result<ActionDone, Failure>) -> bool {
        if self.actions.unblock.completion_finished(id, &result) {
            return true;
        }
        let Some(confirmation) = self.actions.confirmation.as_mut() else {
            return false;
        };
        if confirmation.stage != Stage::Running(id) {
            return false;
        }
        match result {
            Ok(ActionDone::UnblockResponse {
                response,
                request_id,
                card_id,
            }) => {
                self.actions.unblock.response = Some(response);
                self.actions.unblock.given = Some((request_id, card_id));
                self.actions.unblock.completion = None;
                self.actions.confirmation = None;
                true
            }
            Ok(done) => {
                confirmation.stage = Stage::Done(done.to_string());
                // The card panel's record is stale now: look the card up again.
                if let Some((card_id, _)) = self.actions.card.looked_up.take() {
                    self.actions.card.operation = None;
                    self.actions.card.form.clear();
                    self.actions.card.looked_up = Some((card_id, CmStanding::Asking));
                    self.actions.card.refresh = true;
                }
                true
            }
            Err(failure) => {
                confirmation.stage = Stage::Refused(failure.to_string());
                false
            }
        }
    }

    /// The card lookups the actions want sent now (the card panel's card
    /// again after an action changed it).
    pub fn action_questions(&mut self) -> Vec<Command> {
        let card = &mut self.actions.card;
        match (&card.looked_up, std::mem::take(&mut card.refresh)) {
            (Some((card_id, _)), true) => vec![Command::LookUpCard(*card_id)],
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests;
