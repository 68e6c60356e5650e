//! The phone unblock's screen, without egui: the challenge the person reads
//! out, the approved OfflineUnblock request CM may already hold for the
//! card (used instead of creating one), CM's response until Done, and
//! Done's completion of the request.
//!
//! The response is never kept after Done (or after the window closes,
//! which is Done): Done forgets it and sends the one command that marks
//! its request Completed.

use uuid::Uuid;

use crate::app::request_detail::Answer;
use crate::domain::action::ActionDone;
use crate::domain::bind::Failure;
use crate::domain::card::CardId;
use crate::domain::smartcard::Smartcard;
use crate::domain::unblock::{ApprovedUnblock, Challenge, ChallengeResponse};
use crate::worker::Command;

use super::{DeskActions, ItemsForm};

/// Offline unblock by phone: the challenge the person reads out, and CM's
/// response, shown until Done. The response is never kept after Done.
#[derive(Clone, Debug, Default)]
pub struct UnblockScreen {
    /// Whether the screen is open.
    pub open: bool,
    /// The challenge as typed.
    pub typed: String,
    /// Why the typed challenge is not one (the domain's words), or why the
    /// request cannot be sent.
    pub error: Option<String>,
    /// CM's response, until Done.
    pub response: Option<ChallengeResponse>,
    /// The request and card the response shown was given under: Done
    /// marks that request Completed.
    pub given: Option<(Uuid, CardId)>,
    /// The OfflineUnblock workflow's data items and comment.
    pub form: ItemsForm,
    /// Whether the card's admin key is diversified (the template's smart
    /// card configuration says; CM's `diversified`).
    pub diversified: bool,
    /// The approved OfflineUnblock requests CM holds for the card object
    /// (by its GUID), as asked.
    pub approved: Option<(Uuid, Answer<Vec<ApprovedUnblock>>)>,
    /// The approved request chosen to unblock under; `None` creates one.
    pub chosen: Option<Uuid>,
    /// Done's completion of the request: under way, or how it ended.
    pub completion: Option<Completion>,
}

/// Marking the request Completed after Done.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Completion {
    /// Sent as the command with this id.
    Running {
        /// The command's id.
        id: u64,
        /// The request being completed.
        request: Uuid,
    },
    /// Completed: what CM shows, in words.
    Done(String),
    /// Not completed: why, in words, with CM's correlation ID.
    Failed(String),
}

impl UnblockScreen {
    /// The typed challenge, checked; a mistake is kept in words.
    pub fn challenge(&mut self) -> Option<Challenge> {
        match Challenge::parse(&self.typed) {
            Ok(challenge) => {
                self.error = None;
                Some(challenge)
            }
            Err(why) => {
                self.error = Some(why.to_string());
                None
            }
        }
    }

    /// Done (or Clear): the response and the challenge are forgotten.
    /// [`DeskActions::unblock_done`] also completes the request.
    pub fn done(&mut self) {
        // Dropping the response wipes its bytes.
        self.response = None;
        self.given = None;
        self.typed.clear();
        self.error = None;
        self.form.clear();
    }

    /// The question to send for `card`: its approved unblock requests, once
    /// per card object (again after Done or Look again).
    pub fn question(&mut self, card: &Smartcard) -> Option<Command> {
        if self
            .approved
            .as_ref()
            .is_some_and(|(asked, _)| *asked == card.uuid)
        {
            return None;
        }
        self.approved = Some((card.uuid, Answer::Asking));
        self.chosen = None;
        Some(Command::FindUnblockRequests(card.clone()))
    }

    /// CM's answer about a card object's approved unblock requests; taken
    /// when it is the one asked about. The newest is chosen.
    pub fn requests_found(
        &mut self,
        smartcard: Uuid,
        result: Result<Vec<ApprovedUnblock>, Failure>,
    ) {
        let Some((asked, answer)) = &mut self.approved else {
            return;
        };
        if *asked != smartcard || !matches!(answer, Answer::Asking) {
            return;
        }
        *answer = match result {
            Ok(found) => {
                self.chosen = found.first().map(|approved| approved.request);
                Answer::Read(found)
            }
            Err(failure) => {
                self.chosen = None;
                Answer::Failed(failure)
            }
        };
    }

    /// The approved requests for the card object `smartcard`, as far as read.
    pub fn approved_for(&self, smartcard: Uuid) -> Option<&Answer<Vec<ApprovedUnblock>>> {
        self.approved
            .as_ref()
            .filter(|(asked, _)| *asked == smartcard)
            .map(|(_, answer)| answer)
    }

    /// Look again: CM is asked once more at the next frame.
    pub fn look_again(&mut self) {
        self.approved = None;
        self.chosen = None;
    }

    /// The worker's answer to Done's completion; true when it was that.
    pub(crate) fn completion_finished(
        &mut self,
        id: u64,
        result: &Result<ActionDone, Failure>,
    ) -> bool {
        let Some(Completion::Running { id: running, .. }) = self.completion else {
            return false;
        };
        if running != id {
            return false;
        }
        self.completion = Some(match result {
            Ok(ActionDone::StatusChanged { request, status }) => Completion::Done(format!(
                "The unblock is finished: request {request} is {status} in CM."
            )),
            Ok(other) => Completion::Done(other.to_string()),
            Err(failure) => Completion::Failed(failure.to_string()),
        });
        true
    }
}

impl DeskActions {
    /// Done (or the window closed): the response is forgotten, and when one
    /// was given, the command that marks its request Completed. The
    /// approved requests are asked again (the one used is done with).
    pub fn unblock_done(&mut self) -> Option<Command> {
        let given = self.unblock.given.take();
        self.unblock.done();
        self.unblock.look_again();
        let (request, card_id) = given?;
        let id = self.next_id();
        self.unblock.completion = Some(Completion::Running { id, request });
        Some(Command::CompleteUnblock {
            id,
            request,
            card_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::request::{RequestStatus, SmartcardStatus};

    fn card() -> Smartcard {
        Smartcard {
            uuid: Uuid::from_u128(7),
            status: SmartcardStatus::ACTIVE,
            card_id: Some(CardId::from_raw([7; 16])),
            atr: None,
            assigned_user: Some(Uuid::from_u128(8)),
            profile_template: Some(Uuid::from_u128(9)),
        }
    }

    #[test]
    fn the_approved_requests_are_asked_once_per_card_and_the_newest_is_chosen() {
        let mut screen = UnblockScreen::default();
        let card = card();
        assert!(matches!(
            screen.question(&card),
            Some(Command::FindUnblockRequests(ref asked)) if asked.uuid == card.uuid
        ));
        assert!(screen.question(&card).is_none(), "asked once");
        screen.requests_found(Uuid::from_u128(99), Ok(Vec::new()));
        assert_eq!(
            screen.approved_for(card.uuid),
            Some(&Answer::Asking),
            "another card's answer is not taken"
        );
        let newest = ApprovedUnblock {
            request: Uuid::from_u128(2),
            submitted: None,
        };
        let older = ApprovedUnblock {
            request: Uuid::from_u128(1),
            submitted: None,
        };
        screen.requests_found(card.uuid, Ok(vec![newest.clone(), older]));
        assert_eq!(screen.chosen, Some(newest.request));
        screen.look_again();
        assert!(screen.question(&card).is_some(), "asked again");
        screen.requests_found(card.uuid, Err(Failure::new("CM is down")));
        assert_eq!(screen.chosen, None, "a failure creates a request");
    }

    #[test]
    fn done_forgets_the_response_and_completes_its_request_once() {
        let mut actions = DeskActions::default();
        assert!(actions.unblock_done().is_none(), "nothing was given");
        let request = Uuid::from_u128(3);
        actions.unblock.response = Some(ChallengeResponse::from_bytes(vec![1; 8]));
        actions.unblock.given = Some((request, CardId::from_raw([7; 16])));
        actions.unblock.typed = "D611 43F9 CCFF D2CA".into();
        let Some(Command::CompleteUnblock {
            id, request: sent, ..
        }) = actions.unblock_done()
        else {
            panic!("Done completes the request");
        };
        assert_eq!(sent, request);
        assert!(actions.unblock.response.is_none() && actions.unblock.typed.is_empty());
        assert!(actions.unblock_done().is_none(), "once");
        assert!(
            !actions
                .unblock
                .completion_finished(id + 1, &Ok(done(request)))
        );
        assert!(actions.unblock.completion_finished(id, &Ok(done(request))));
        let Some(Completion::Done(words)) = &actions.unblock.completion else {
            panic!("finished");
        };
        assert!(words.contains("Completed"), "{words}");
    }

    fn done(request: Uuid) -> ActionDone {
        ActionDone::StatusChanged {
            request,
            status: RequestStatus::COMPLETED,
        }
    }
}
