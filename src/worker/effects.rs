//! Performs the bind machine's effects: the card re-read and the one POST.
//!
//! Shared by the window's worker and the `bind` command, so both bind the same way.

use std::sync::Arc;

use crate::card::IdentityReader;
use crate::cm::CmClient;
use crate::domain::bind::{BindEvent, BindState, BindTarget, Effect, apply};

/// Performs one effect and returns the event that reports its result.
pub async fn perform(
    client: &CmClient,
    readers: &Arc<dyn IdentityReader>,
    effect: Effect,
) -> BindEvent {
    match effect {
        Effect::ReadCard { reader } => {
            let readers = Arc::clone(readers);
            // PC/SC calls block; keep them off the async threads.
            let read = tokio::task::spawn_blocking(move || readers.read_identity(&reader)).await;
            let result = match read {
                Ok(Ok(identity)) => Ok(identity),
                Ok(Err(error)) => Err(error.to_string()),
                Err(join) => Err(format!(
                    "Reading the card stopped unexpectedly ({join}). Try again."
                )),
            };
            BindEvent::CardRead(result)
        }
        Effect::PostBind {
            request_id,
            card_id,
            atr,
        } => {
            let answer = client
                .bind(request_id, &card_id, &atr)
                .await
                .map_err(|error| error.to_failure());
            BindEvent::PostAnswered(answer)
        }
    }
}

/// Runs one bind from request to result, reporting every state it passes through.
pub async fn run_bind(
    client: &CmClient,
    readers: &Arc<dyn IdentityReader>,
    target: BindTarget,
    mut report: impl FnMut(&BindState),
) -> BindState {
    let (mut state, mut effects) = apply(BindState::Idle, BindEvent::Requested(target));
    report(&state);
    while let Some(effect) = effects.pop() {
        let event = perform(client, readers, effect).await;
        (state, effects) = apply(state, event);
        report(&state);
    }
    state
}
