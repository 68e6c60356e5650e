//! The offline unblock's two ends besides the response itself: finding an
//! OfflineUnblock request CM already holds, approved, for the card (so none
//! is created beside it), and marking the request Completed once the agent
//! has read the response out and pressed Done.
//!
//! Completing is journalled like every action (an intent, one outcome). It
//! asks no supervisor again: the unblock's confirmation said the request is
//! completed at Done, and a supervised station's supervisor confirmed that.
//! So that this is no way around supervision, the worker completes only a
//! request it gave a response under in this run ([`UnblockLedger`]).

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

use uuid::Uuid;

use crate::cm::{CmClient, CmError};
use crate::domain::action::{Action, ActionDone};
use crate::domain::bind::Failure;
use crate::domain::card::CardId;
use crate::domain::lifecycle::StatusChange;
use crate::domain::request::RequestStatus;
use crate::domain::smartcard::Smartcard;
use crate::domain::unblock::{ApprovedUnblock, approved_candidates};
use crate::worker::effects::BindContext;

use super::journalled;

/// At most this many candidates are looked at one by one (each costs a
/// call per card it names); more approved unblocks for one person are not
/// a desk's everyday.
const MOST_CANDIDATES: usize = 20;

/// The approved OfflineUnblock requests CM holds for `card`, newest first:
/// `GET requests?status=Approved`, those of type OfflineUnblock for the
/// card's user, and of those the ones whose old or new card is this smart
/// card object (`GET requests/{id}`, `GET smartcards/{id}`). A request whose
/// cards cannot be read is left out (and logged): it is not offered on a guess.
pub async fn approved_unblocks(
    client: &CmClient,
    card: &Smartcard,
) -> Result<Vec<ApprovedUnblock>, CmError> {
    let list = client.list_requests(Some(RequestStatus::APPROVED)).await?;
    let mut found = Vec::new();
    for request in approved_candidates(&list, card)
        .into_iter()
        .take(MOST_CANDIDATES)
    {
        match client.request_cards(request.uuid).await {
            Ok(cards) if cards.names(card.uuid) => found.push(ApprovedUnblock {
                request: request.uuid,
                submitted: request.submitted,
            }),
            Ok(_) => {}
            Err(error) => tracing::warn!(
                request = %request.uuid,
                %error,
                "an approved OfflineUnblock request's card could not be read; it is not offered"
            ),
        }
    }
    Ok(found)
}

/// The requests this run's worker gave an unblock response under: the only
/// ones [`complete_unblock`] completes without a supervisor of its own.
#[derive(Clone, Debug, Default)]
pub struct UnblockLedger(Arc<Mutex<HashSet<Uuid>>>);

impl UnblockLedger {
    /// Notes the request of an unblock response (nothing for other results).
    pub fn note(&self, result: &Result<ActionDone, Failure>) {
        if let Ok(done) = result {
            self.note_done(done);
        }
    }

    /// Notes the request of an unblock response (nothing for other actions).
    pub fn note_done(&self, done: &ActionDone) {
        if let ActionDone::UnblockResponse { request_id, .. } = done {
            self.lock().insert(*request_id);
        }
    }

    /// Whether a response was given under `request` (and it is not completed yet).
    fn holds(&self, request: Uuid) -> bool {
        self.lock().contains(&request)
    }

    /// Takes `request` off the ledger once it is completed.
    fn forget(&self, request: Uuid) {
        self.lock().remove(&request);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<Uuid>> {
        // A set of GUIDs cannot be left half-changed.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Marks `request` Completed after the response for `card_id` was given
/// under it (the agent pressed Done). CM may have completed it itself with
/// the response; then nothing is sent. Otherwise `PUT requests/{id}`
/// `{"status":"Completed"}`, journalled and reconciled as every status change.
pub async fn complete_unblock(
    ctx: &BindContext,
    ledger: &UnblockLedger,
    request: Uuid,
    card_id: CardId,
) -> Result<ActionDone, Failure> {
    if !ledger.holds(request) {
        return Err(Failure::new(format!(
            "Not done: the station gave no unblock response under request {request} in this \
             run, so it does not complete it. Complete or abandon it in the request list or the \
             CM portal."
        )));
    }
    if let Ok(now) = ctx.client.get_request(request).await
        && now.status == RequestStatus::COMPLETED
    {
        ledger.forget(request);
        return Ok(ActionDone::StatusChanged {
            request,
            status: now.status,
        });
    }
    let action = Action::ChangeStatus {
        request,
        change: StatusChange::Complete,
        comment: Some(format!(
            "the offline unblock response for card {card_id} was given and read out"
        )),
    };
    let done = journalled(ctx, &action, None).await;
    if done.is_ok() {
        ledger.forget(request);
    }
    done.map_err(|failure| Failure {
        message: format!(
            "{} The response was given all the same: the card unblocks with it. Complete or \
             abandon request {request} in the CM portal.",
            failure.message
        ),
        correlation_id: failure.correlation_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::unblock::ChallengeResponse;

    #[test]
    fn only_a_response_given_puts_a_request_on_the_ledger_once() {
        let ledger = UnblockLedger::default();
        let request = Uuid::from_u128(3);
        ledger.note(&Ok(ActionDone::StatusChanged {
            request,
            status: RequestStatus::COMPLETED,
        }));
        ledger.note(&Err(Failure::new("refused")));
        assert!(!ledger.holds(request), "no response, no completion");
        ledger.note(&Ok(ActionDone::UnblockResponse {
            request_id: request,
            card_id: CardId::from_raw([7; 16]),
            response: ChallengeResponse::from_bytes(vec![0; 8]),
        }));
        let shared = ledger.clone();
        assert!(shared.holds(request), "the worker's clones share it");
        shared.forget(request);
        assert!(!ledger.holds(request), "completed once");
    }
}
