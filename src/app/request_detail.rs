//! The desk's request detail pane, without egui: whether it is open, and
//! what it has asked CM about the selected request.
//!
//! Two reads, each asked once and kept:
//! - a template's workflow policy per (template, request type), for the
//!   run: it explains why a Pending request waits, and a policy changes
//!   rarely (a new station run reads it again);
//! - the cards a request names, per request, until the list is fetched
//!   again or a bind ends (then CM may name another card).
//!
//! A failure is kept as an answer too, so the pane says it in words with
//! the correlation ID instead of asking again every frame; **Try again**
//! drops it.

use std::collections::HashMap;

use uuid::Uuid;

use crate::domain::bind::Failure;
use crate::domain::lifecycle::{WorkflowPolicy, can_be_created};
use crate::domain::request::{Request, RequestStatus, RequestType};
use crate::domain::request_cards::RequestCards;
use crate::worker::Command;

/// One read's state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer<T> {
    /// Asked; no answer yet.
    Asking,
    /// The answer.
    Read(T),
    /// Why CM could not answer, with its correlation ID.
    Failed(Failure),
}

/// A policy's cache key: the template and the request type.
pub type PolicyKey = (Uuid, RequestType);

/// What the pane can say about why a Pending request waits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PendingPolicy<'a> {
    /// The request names no profile template: no policy to read.
    NoTemplate,
    /// CM has no workflow policy for this request type.
    NoPolicyType(RequestType),
    /// Not asked yet (the pane is closed) or asked and not answered.
    Asking,
    /// The server has no such policy (it answered 204).
    NoPolicy,
    /// The policy.
    Read(&'a WorkflowPolicy),
    /// Why it could not be read.
    Failed(&'a Failure),
}

/// The detail pane's state.
#[derive(Debug, Default)]
pub struct RequestDetail {
    /// Whether the pane is open (its header is always shown).
    pub open: bool,
    policies: HashMap<PolicyKey, Answer<Option<WorkflowPolicy>>>,
    cards: HashMap<Uuid, Answer<RequestCards>>,
}

impl RequestDetail {
    /// The policy that explains `request`, when it is Pending and has a
    /// template and a type get-workflow-policy knows. (Its types are the
    /// ones create-request takes.)
    pub fn policy_key(request: &Request) -> Option<PolicyKey> {
        if request.status != RequestStatus::PENDING || !can_be_created(request.request_type) {
            return None;
        }
        Some((request.profile_template?, request.request_type))
    }

    /// What to ask now for `selected` (the request the list shows
    /// selected), each question once: nothing while the pane is closed.
    pub fn questions(&mut self, selected: Option<&Request>) -> Vec<Command> {
        let Some(request) = selected.filter(|_| self.open) else {
            return Vec::new();
        };
        let mut commands = Vec::new();
        if let std::collections::hash_map::Entry::Vacant(entry) = self.cards.entry(request.uuid) {
            entry.insert(Answer::Asking);
            commands.push(Command::ReadRequestCards(request.uuid));
        }
        if let Some(key @ (template, kind)) = Self::policy_key(request)
            && !self.policies.contains_key(&key)
        {
            self.policies.insert(key, Answer::Asking);
            commands.push(Command::ReadWorkflowPolicy { template, kind });
        }
        commands
    }

    /// A policy read answered.
    pub fn policy_read(&mut self, key: PolicyKey, result: Result<Option<WorkflowPolicy>, Failure>) {
        let answer = match result {
            Ok(policy) => Answer::Read(policy),
            Err(failure) => Answer::Failed(failure),
        };
        self.policies.insert(key, answer);
    }

    /// A cards read answered.
    pub fn cards_read(&mut self, request: Uuid, result: Result<RequestCards, Failure>) {
        let answer = match result {
            Ok(cards) => Answer::Read(cards),
            Err(failure) => Answer::Failed(failure),
        };
        self.cards.insert(request, answer);
    }

    /// The list was fetched again, or a bind ended: the cards requests
    /// name may have changed. Policies stay for the run.
    pub fn forget_cards(&mut self) {
        self.cards.clear();
    }

    /// **Try again** on a failed read of `request`'s detail: its failed
    /// answers go, so the next frame asks again.
    pub fn retry(&mut self, request: &Request) {
        if matches!(self.cards.get(&request.uuid), Some(Answer::Failed(_))) {
            self.cards.remove(&request.uuid);
        }
        if let Some(key) = Self::policy_key(request)
            && matches!(self.policies.get(&key), Some(Answer::Failed(_)))
        {
            self.policies.remove(&key);
        }
    }

    /// The policy read for `key`, whatever asked for it (the pane, or an
    /// action's form).
    pub fn policy(&self, key: PolicyKey) -> Option<&Answer<Option<WorkflowPolicy>>> {
        self.policies.get(&key)
    }

    /// Asks for `key`'s policy once, for an action's form (also while the
    /// pane is closed: the form needs its items).
    pub fn ask_policy(&mut self, key: PolicyKey) -> Option<Command> {
        if self.policies.contains_key(&key) {
            return None;
        }
        self.policies.insert(key, Answer::Asking);
        let (template, kind) = key;
        Some(Command::ReadWorkflowPolicy { template, kind })
    }

    /// Forgets a failed read of `key`'s policy, so it is asked again.
    pub fn retry_policy(&mut self, key: PolicyKey) {
        if matches!(self.policies.get(&key), Some(Answer::Failed(_))) {
            self.policies.remove(&key);
        }
    }

    /// The cards `request` names, as far as they are known.
    pub fn cards(&self, request: Uuid) -> Option<&Answer<RequestCards>> {
        self.cards.get(&request)
    }

    /// Why `request` waits, from its policy; `None` when it is not Pending.
    pub fn pending_policy(&self, request: &Request) -> Option<PendingPolicy<'_>> {
        if request.status != RequestStatus::PENDING {
            return None;
        }
        if !can_be_created(request.request_type) {
            return Some(PendingPolicy::NoPolicyType(request.request_type));
        }
        let Some(template) = request.profile_template else {
            return Some(PendingPolicy::NoTemplate);
        };
        Some(match self.policies.get(&(template, request.request_type)) {
            None | Some(Answer::Asking) => PendingPolicy::Asking,
            Some(Answer::Read(None)) => PendingPolicy::NoPolicy,
            Some(Answer::Read(Some(policy))) => PendingPolicy::Read(policy),
            Some(Answer::Failed(failure)) => PendingPolicy::Failed(failure),
        })
    }

    /// True when a read about `request` failed (the pane offers Try again).
    pub fn failed(&self, request: &Request) -> bool {
        matches!(self.cards.get(&request.uuid), Some(Answer::Failed(_)))
            || matches!(self.pending_policy(request), Some(PendingPolicy::Failed(_)))
    }
}

/// The lines that say why a Pending request waits, in the agent's words.
/// Approvals are given in the CM portal: the REST API has no approve call,
/// so the station can only say who must act.
pub fn pending_lines(policy: &WorkflowPolicy) -> Vec<String> {
    let mut lines = Vec::new();
    match policy.approvals_needed {
        0 => {}
        1 => lines.push("Waiting for 1 approval in the CM portal.".to_owned()),
        n => lines.push(format!("Waiting for {n} approvals in the CM portal.")),
    }
    if policy.enroll_agent_required {
        lines.push("An enrollment agent must execute it.".to_owned());
    }
    if policy.enabled == Some(false) {
        lines.push("This workflow is disabled on the profile template.".to_owned());
    }
    if lines.is_empty() {
        lines.push(
            "The workflow policy asks for no approval: the request may be waiting for CM to \
             update it. Refresh the list."
                .to_owned(),
        );
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::request::example_request;
    use crate::domain::request_cards::RequestCard;

    fn pending(id: u128, template: u128) -> Request {
        let mut request = example_request(id, RequestStatus::PENDING);
        request.profile_template = Some(Uuid::from_u128(template));
        request
    }

    fn policy(approvals: u32) -> WorkflowPolicy {
        WorkflowPolicy {
            approvals_needed: approvals,
            enroll_agent_required: true,
            ..WorkflowPolicy::default()
        }
    }

    fn failure() -> Failure {
        Failure {
            message: "CM refused".into(),
            correlation_id: Some("corr-7".into()),
        }
    }

    #[test]
    fn nothing_is_asked_while_the_pane_is_closed() {
        let mut detail = RequestDetail::default();
        let request = pending(1, 9);
        assert!(detail.questions(Some(&request)).is_empty());
        detail.open = true;
        assert!(detail.questions(None).is_empty());
        assert_eq!(detail.questions(Some(&request)).len(), 2);
    }

    #[test]
    fn a_policy_is_asked_once_per_template_and_type_for_the_run() {
        let mut detail = RequestDetail {
            open: true,
            ..RequestDetail::default()
        };
        let first = pending(1, 9);
        let commands = detail.questions(Some(&first));
        assert!(
            commands.iter().any(|c| matches!(
                c,
                Command::ReadWorkflowPolicy { template, kind }
                    if *template == Uuid::from_u128(9) && *kind == RequestType::ENROLL
            )),
            "{commands:?}"
        );
        assert_eq!(
            detail.pending_policy(&first),
            Some(PendingPolicy::Asking),
            "asked, not answered"
        );
        // Another request on the same template and type: only its cards.
        let second = pending(2, 9);
        let commands = detail.questions(Some(&second));
        assert!(
            matches!(commands.as_slice(), [Command::ReadRequestCards(id)] if *id == second.uuid),
            "{commands:?}"
        );
        detail.policy_read(
            (Uuid::from_u128(9), RequestType::ENROLL),
            Ok(Some(policy(2))),
        );
        assert_eq!(
            detail.pending_policy(&second),
            Some(PendingPolicy::Read(&policy(2)))
        );
        detail.forget_cards();
        let commands = detail.questions(Some(&second));
        assert!(
            matches!(commands.as_slice(), [Command::ReadRequestCards(_)]),
            "a new list asks for cards again, never for the policy: {commands:?}"
        );
        // Another type on the same template is another policy.
        let mut duplicate = pending(3, 9);
        duplicate.request_type = RequestType::DUPLICATE;
        assert_eq!(detail.questions(Some(&duplicate)).len(), 2);
    }

    #[test]
    fn a_failure_is_kept_in_words_until_try_again() {
        let mut detail = RequestDetail {
            open: true,
            ..RequestDetail::default()
        };
        let request = pending(1, 9);
        detail.questions(Some(&request));
        detail.policy_read((Uuid::from_u128(9), RequestType::ENROLL), Err(failure()));
        detail.cards_read(request.uuid, Ok(RequestCards::default()));
        assert_eq!(
            detail.pending_policy(&request),
            Some(PendingPolicy::Failed(&failure()))
        );
        assert!(detail.failed(&request));
        assert!(
            detail.questions(Some(&request)).is_empty(),
            "a failure is not asked again every frame"
        );
        detail.retry(&request);
        let commands = detail.questions(Some(&request));
        assert!(
            matches!(commands.as_slice(), [Command::ReadWorkflowPolicy { .. }]),
            "only the failed read is asked again: {commands:?}"
        );
        detail.cards_read(request.uuid, Err(failure()));
        assert!(detail.failed(&request));
        detail.retry(&request);
        assert!(matches!(
            detail.questions(Some(&request)).as_slice(),
            [Command::ReadRequestCards(_)]
        ));
    }

    #[test]
    fn only_a_pending_request_with_a_template_and_a_policy_type_is_explained() {
        let mut detail = RequestDetail {
            open: true,
            ..RequestDetail::default()
        };
        let approved = {
            let mut r = example_request(1, RequestStatus::APPROVED);
            r.profile_template = Some(Uuid::from_u128(9));
            r
        };
        assert_eq!(detail.pending_policy(&approved), None);
        assert!(
            detail
                .questions(Some(&approved))
                .iter()
                .all(|c| !matches!(c, Command::ReadWorkflowPolicy { .. }))
        );
        let no_template = example_request(2, RequestStatus::PENDING);
        assert_eq!(
            detail.pending_policy(&no_template),
            Some(PendingPolicy::NoTemplate)
        );
        let mut disable = pending(3, 9);
        disable.request_type = RequestType::DISABLE;
        assert_eq!(
            detail.pending_policy(&disable),
            Some(PendingPolicy::NoPolicyType(RequestType::DISABLE))
        );
        let request = pending(4, 9);
        detail.policy_read((Uuid::from_u128(9), RequestType::ENROLL), Ok(None));
        assert_eq!(
            detail.pending_policy(&request),
            Some(PendingPolicy::NoPolicy)
        );
    }

    #[test]
    fn the_pending_lines_name_the_approvals_the_portal_and_the_agent() {
        assert_eq!(
            pending_lines(&policy(2)),
            [
                "Waiting for 2 approvals in the CM portal.",
                "An enrollment agent must execute it."
            ]
        );
        assert_eq!(
            pending_lines(&WorkflowPolicy {
                approvals_needed: 1,
                ..WorkflowPolicy::default()
            }),
            ["Waiting for 1 approval in the CM portal."]
        );
        assert!(pending_lines(&WorkflowPolicy::default())[0].contains("no approval"));
    }

    #[test]
    fn the_cards_answer_is_kept_per_request() {
        let mut detail = RequestDetail::default();
        let cards = RequestCards {
            old: Some(RequestCard {
                smartcard: Uuid::from_u128(5),
                looked_up: Err(failure()),
            }),
            new: None,
        };
        detail.cards_read(Uuid::from_u128(1), Ok(cards.clone()));
        assert_eq!(detail.cards(Uuid::from_u128(1)), Some(&Answer::Read(cards)));
        assert_eq!(detail.cards(Uuid::from_u128(2)), None);
    }
}
