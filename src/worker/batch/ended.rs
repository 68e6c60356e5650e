//! How one bind of a batch ended: what the pure batch learns from the safe
//! bind's final state, and the line the caller reports.

use uuid::Uuid;

use crate::domain::batch::BindResult;
use crate::domain::bind::{BindState, RefusalCause};

use super::SlotWord;

/// How one bind of the batch ended: the CLI's JSON line.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct MemberEnd {
    /// The request.
    pub request_id: Uuid,
    /// The card, when a bind used one.
    pub card_id: Option<String>,
    /// The card's family, when a bind used one.
    pub card_kind: Option<String>,
    /// The reader, when a bind used one.
    pub reader: Option<String>,
    /// How it ended.
    pub outcome: EndWord,
    /// The smart card object CM created or showed.
    pub smartcard_uuid: Option<Uuid>,
    /// What happened, in words (for anything but a plain bind).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The server's correlation ID, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    /// The card left its reader while the bind ran (its outcome still
    /// says what CM did).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub card_pulled: bool,
}

/// How one bind of the batch ended, in a word.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndWord {
    /// CM bound the card.
    Bound,
    /// The answer was lost; CM showed the request bound to this card.
    ReconciledBound,
    /// CM refused the card; the request waits for the next one.
    CardRefused,
    /// The card left the reader before the POST: nothing was sent.
    CardPulled,
    /// The bind failed and did not happen.
    Failed,
    /// The request is bound to another card: an alarm.
    WrongCard,
    /// The answer was lost and CM could not be asked yet.
    AnswerLost,
    /// The operator skipped the request.
    Skipped,
}

impl EndWord {
    /// The word, as the journal and the JSON line write it.
    pub fn as_str(self) -> &'static str {
        match self {
            EndWord::Bound => "bound",
            EndWord::ReconciledBound => "reconciled_bound",
            EndWord::CardRefused => "card_refused",
            EndWord::CardPulled => "card_pulled",
            EndWord::Failed => "failed",
            EndWord::WrongCard => "wrong_card",
            EndWord::AnswerLost => "answer_lost",
            EndWord::Skipped => "skipped",
        }
    }
}

/// What the batch makes of a finished bind, and the line it reports.
pub(super) fn classify(state: &BindState) -> (BindResult, MemberEnd) {
    let line = |outcome, message: Option<String>, correlation_id: Option<String>| MemberEnd {
        request_id: Uuid::nil(),
        card_id: None,
        card_kind: None,
        reader: None,
        outcome,
        smartcard_uuid: None,
        message,
        correlation_id,
        card_pulled: false,
    };
    match state {
        BindState::Bound {
            receipt,
            confirmed_after_loss,
            ..
        } => {
            let word = if *confirmed_after_loss {
                EndWord::ReconciledBound
            } else {
                EndWord::Bound
            };
            let mut end = line(word, None, None);
            end.smartcard_uuid = receipt.smartcard_uuid;
            (BindResult::Bound, end)
        }
        BindState::Refused { reason, cause, .. } => {
            let words = Some(reason.message.clone());
            let correlation = reason.correlation_id.clone();
            match cause {
                RefusalCause::Card => (
                    BindResult::CardRefused(reason.message.clone()),
                    line(EndWord::CardRefused, words, correlation),
                ),
                RefusalCause::CardChanged => (
                    BindResult::CardPulled,
                    line(EndWord::CardPulled, words, correlation),
                ),
                RefusalCause::Journal | RefusalCause::Request | RefusalCause::CardLookup => (
                    BindResult::Failed(reason.message.clone()),
                    line(EndWord::Failed, words, correlation),
                ),
            }
        }
        BindState::Failed { failure, .. } => (
            BindResult::Failed(failure.message.clone()),
            line(
                EndWord::Failed,
                Some(failure.message.clone()),
                failure.correlation_id.clone(),
            ),
        ),
        BindState::WrongCard { target, bound } => {
            let alarm = crate::domain::bind::wrong_card_alarm(target, bound);
            let mut end = line(EndWord::WrongCard, Some(alarm.clone()), None);
            end.smartcard_uuid = Some(bound.uuid);
            (BindResult::Failed(alarm), end)
        }
        BindState::Unknown { failure, .. } => (
            BindResult::AnswerLost,
            line(
                EndWord::AnswerLost,
                Some(failure.message.clone()),
                failure.correlation_id.clone(),
            ),
        ),
        // A bind task always ends at rest; anything else is a lost answer
        // to be safe: CM is asked, nothing is sent again.
        other => (
            BindResult::AnswerLost,
            line(
                EndWord::AnswerLost,
                Some(format!(
                    "the bind stopped while {}",
                    SlotWord::of(other).as_str()
                )),
                None,
            ),
        ),
    }
}
