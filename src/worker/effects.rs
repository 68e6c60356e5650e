//! Performs the bind machine's effects: the journal, the server checks, the
//! card re-read, the one POST and the reconciliation.
//!
//! Shared by the window's worker and the `bind` command, so both bind the same way.

use std::sync::{Arc, PoisonError};

use uuid::Uuid;

use crate::card::{IdentityReader, ReadOptions};
use crate::cm::{CmClient, CmError};
use crate::domain::bind::{
    BindEvent, BindState, BindTarget, Effect, Failure, Finding, Outcome, PostAnswer, apply,
    reconcile,
};
use crate::domain::reuse::{self, TemplateReuse};

pub use crate::audit::OutcomeInfo;
pub use crate::audit::journal::{Journal, JournalError, OpenAttempt, SharedJournal};

/// Everything a bind needs to act.
#[derive(Clone)]
pub struct BindContext {
    /// The CM server.
    pub client: CmClient,
    /// The readers (PC/SC and demo).
    pub readers: Arc<dyn IdentityReader>,
    /// The audit journal.
    pub journal: SharedJournal,
}

impl BindContext {
    /// Who acts: see [`operator_of`].
    pub fn operator(&self) -> crate::audit::Operator {
        operator_of(&self.client)
    }
}

/// Who acts at this station: the OS account running the process and, once
/// the server accepted a call, the principal it authenticated (the
/// Kerberos name, or the client certificate's subject). Journalled with
/// every attempt and compared with the supervisor's account.
pub fn operator_of(client: &CmClient) -> crate::audit::Operator {
    let operator = crate::audit::Operator::from_os();
    match client.signed_in().principal {
        Some(principal) => operator.with_principal(principal),
        None => operator,
    }
}

/// What performing an effect produced: the event for the machine, if any, and
/// a warning for the operator, if any.
#[derive(Debug, Default)]
pub struct Performed {
    /// The event that reports the effect's result.
    pub event: Option<BindEvent>,
    /// Something the operator must know that does not change the bind (a journal write failure after the fact).
    pub warning: Option<String>,
}

impl Performed {
    fn event(event: BindEvent) -> Self {
        Self {
            event: Some(event),
            warning: None,
        }
    }
}

/// Classifies the POST's result: only a definite answer ends the bind; a lost
/// answer or a 5xx after the body was sent must be reconciled.
pub fn post_answer(result: Result<crate::domain::bind::BindReceipt, CmError>) -> PostAnswer {
    match result {
        Ok(receipt) => PostAnswer::Bound(receipt),
        Err(error) if error.outcome_unknown() || error.status().is_some_and(|s| s >= 500) => {
            PostAnswer::Uncertain(error.to_failure())
        }
        Err(error) => PostAnswer::Rejected(error.to_failure()),
    }
}

/// Asks the server whether a request is bound, and to which card.
pub async fn find_binding(
    client: &CmClient,
    request_id: Uuid,
    card_id: &crate::domain::card::CardId,
) -> Result<Finding, Failure> {
    let request = client
        .get_request(request_id)
        .await
        .map_err(|e| e.to_failure())?;
    let bound = match request.new_smartcard {
        Some(uuid) => Some(client.smartcard(uuid).await.map_err(|e| e.to_failure())?),
        None => None,
    };
    Ok(reconcile(card_id, bound))
}

/// Work sent to a blocking thread that ended without an answer: the thread
/// panicked, or the runtime is shutting down.
#[derive(Debug, thiserror::Error)]
#[error("the work stopped unexpectedly ({0})")]
pub struct WorkStopped(tokio::task::JoinError);

impl WorkStopped {
    /// The runtime's words for why (a panic, a cancelled task).
    pub fn why(&self) -> String {
        self.0.to_string()
    }
}

/// A journal write that did not happen: the journal refused it, or the
/// thread writing it stopped.
#[derive(Debug, thiserror::Error)]
pub enum NotWritten {
    /// The journal refused the write.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// The thread writing it stopped.
    #[error(transparent)]
    Stopped(#[from] WorkStopped),
}

/// Runs `act` on the journal on a blocking thread: its writes fsync.
pub async fn on_journal<T: Send + 'static>(
    journal: &SharedJournal,
    act: impl FnOnce(&mut dyn Journal) -> T + Send + 'static,
) -> Result<T, WorkStopped> {
    let journal = Arc::clone(journal);
    blocking(move || {
        // A panic while writing leaves at most a torn line, which the journal detects on open.
        let mut guard = journal.lock().unwrap_or_else(PoisonError::into_inner);
        act(&mut *guard)
    })
    .await
}

/// [`on_journal`] for a write, with either failure in one error.
pub async fn write_journal<T: Send + 'static>(
    journal: &SharedJournal,
    write: impl FnOnce(&mut dyn Journal) -> Result<T, JournalError> + Send + 'static,
) -> Result<T, NotWritten> {
    Ok(on_journal(journal, write).await??)
}

/// Runs blocking work (a file write, the keyring, a card) on a blocking thread.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, WorkStopped> {
    tokio::task::spawn_blocking(work).await.map_err(WorkStopped)
}

/// Performs one effect, logging how long it took (the P2 benchmark reads these lines).
pub async fn perform(ctx: &BindContext, effect: Effect) -> Performed {
    let name = effect_name(&effect);
    let started = std::time::Instant::now();
    let performed = perform_untimed(ctx, effect).await;
    tracing::debug!(
        effect = name,
        micros = started.elapsed().as_micros() as u64,
        "bind effect done"
    );
    performed
}

/// The template's `AllowSmartcardReuse`, or why it could not be read.
pub(crate) async fn template_reuse(ctx: &BindContext, template: Option<Uuid>) -> TemplateReuse {
    let Some(template) = template else {
        return TemplateReuse::Denied(crate::domain::reuse::NO_TEMPLATE.to_owned());
    };
    match ctx.client.template_allows_reuse(template).await {
        Ok(allowed) => TemplateReuse::Read { template, allowed },
        Err(error) => {
            tracing::warn!(%template, %error, "the template's smart card configuration could not be read");
            match error.status() {
                Some(status @ (403 | 404)) => TemplateReuse::Denied(status.to_string()),
                _ => TemplateReuse::Unreadable(error.to_string()),
            }
        }
    }
}

fn effect_name(effect: &Effect) -> &'static str {
    match effect {
        Effect::RecordAttempt { .. } => "record_attempt",
        Effect::CheckServer { .. } => "check_server",
        Effect::ReadCard { .. } => "read_card",
        Effect::PostBind { .. } => "post_bind",
        Effect::Reconcile { .. } => "reconcile",
        Effect::RecordOutcome { .. } => "record_outcome",
    }
}

async fn perform_untimed(ctx: &BindContext, effect: Effect) -> Performed {
    match effect {
        Effect::RecordAttempt { target } => {
            // The machine takes the journal's words: the domain knows no audit types.
            let operator = ctx.operator();
            // Where the POST goes, so reconciliation later asks the same server.
            let api_base = ctx.client.api_base().to_owned();
            let recorded = write_journal(&ctx.journal, move |j| {
                j.record_attempt(&target, operator, &api_base)
            })
            .await
            .map_err(|why| why.to_string());
            Performed::event(BindEvent::AttemptRecorded(recorded))
        }
        Effect::CheckServer {
            request_id,
            card_id,
        } => {
            let (request, known_card) = tokio::join!(
                ctx.client.get_request(request_id),
                ctx.client.smartcards_by_card_id(&card_id)
            );
            // The template is asked only when its answer decides: the card is
            // known and none of its objects is in use.
            let reuse = match (&request, &known_card) {
                (Ok(request), Ok(known)) if reuse::needs_template(known) => {
                    template_reuse(ctx, request.profile_template).await
                }
                _ => TemplateReuse::NotAsked,
            };
            Performed::event(BindEvent::ServerChecked {
                request: request.map(Box::new).map_err(|e| e.to_failure()),
                known_card: known_card.map_err(|e| e.to_failure()),
                reuse,
            })
        }
        Effect::ReadCard {
            reader,
            expected_kind,
            location,
        } => {
            let readers = Arc::clone(&ctx.readers);
            let options = ReadOptions::reread(expected_kind, location);
            // The machine takes the card's words: the domain knows no card errors.
            let read = match blocking(move || readers.read_with(&reader, options)).await {
                Ok(read) => read.map_err(|e| e.to_string()),
                Err(stopped) => Err(stopped.to_string()),
            };
            Performed::event(BindEvent::CardRead(read))
        }
        Effect::PostBind {
            request_id,
            card_id,
            atr,
        } => {
            let answer = post_answer(ctx.client.bind(request_id, &card_id, &atr).await);
            Performed::event(BindEvent::PostAnswered(answer))
        }
        Effect::Reconcile {
            request_id,
            card_id,
        } => {
            let found = find_binding(&ctx.client, request_id, &card_id).await;
            Performed::event(BindEvent::Reconciled(found))
        }
        Effect::RecordOutcome {
            attempt,
            outcome,
            smartcard_uuid,
            correlation_id,
            message,
        } => {
            let info = OutcomeInfo {
                smartcard_uuid,
                correlation_id,
                message: Some(message),
            };
            let written = write_journal(&ctx.journal, move |j| {
                j.record_outcome(&attempt, outcome, info)
            })
            .await;
            let warning = written.err().map(|why| {
                tracing::error!(%why, "the outcome of a bind could not be journalled");
                format!(
                    "The result was not written to the audit journal ({why}). The attempt stays open \
                     and is checked against the server when the station starts again."
                )
            });
            Performed {
                event: None,
                warning,
            }
        }
    }
}

/// Runs one bind from request to result, reporting every state and warning it passes through.
pub async fn run_bind(
    ctx: &BindContext,
    target: BindTarget,
    report: impl FnMut(&BindState),
    warn: impl FnMut(&str),
) -> BindState {
    drive(
        ctx,
        BindState::Idle,
        BindEvent::Requested(target),
        report,
        warn,
    )
    .await
}

/// Advances a bind from `state` by `event` and performs every effect that
/// follows until the machine rests (a result, or an unknown one): how a
/// bind runs, and how an unknown result is looked at again.
pub async fn drive(
    ctx: &BindContext,
    state: BindState,
    event: BindEvent,
    mut report: impl FnMut(&BindState),
    mut warn: impl FnMut(&str),
) -> BindState {
    let (mut state, mut effects) = apply(state, event);
    report(&state);
    while !effects.is_empty() {
        let mut next = Vec::new();
        for effect in effects {
            let performed = perform(ctx, effect).await;
            if let Some(warning) = &performed.warning {
                warn(warning);
            }
            if let Some(event) = performed.event {
                let produced;
                (state, produced) = apply(state, event);
                report(&state);
                next.extend(produced);
            }
        }
        effects = next;
    }
    state
}

/// Resolves every attempt the journal holds without an outcome by asking the
/// server, so a crash mid-bind loses nothing. Returns one line per attempt for
/// the operator; an attempt the server cannot be asked about stays open.
pub async fn reconcile_open_attempts(ctx: &BindContext) -> Vec<String> {
    let read = on_journal(&ctx.journal, |j| (j.open_attempts(), j.repair_notice())).await;
    let (open, repaired) = match read {
        Ok(read) => read,
        Err(why) => {
            return vec![format!(
                "The audit journal could not be read for open attempts: {why}"
            )];
        }
    };
    // A torn last line cut when the journal was opened is said first.
    let mut lines: Vec<String> = repaired.into_iter().collect();
    let server = ctx.client.api_base();
    for attempt in open {
        // Judged only against the server it went to: another server knows
        // nothing of it and would call a real bind "not bound".
        if let Some(went_to) = other_server(attempt.api_base.as_deref(), server) {
            lines.push(format!(
                "An earlier bind of request {} to card {} is still unresolved. This attempt went \
                 to {went_to}; the station now talks to {server}: reconcile it with \
                 `enroll-station audit reconcile --server {went_to}`.",
                attempt.request_id, attempt.card_id
            ));
            continue;
        }
        let found = find_binding(&ctx.client, attempt.request_id, &attempt.card_id).await;
        let alarm = matches!(found, Ok(Finding::BoundToOtherCard(_)));
        let (outcome, smartcard_uuid, message) = match found {
            Ok(Finding::BoundToOurCard(card)) => (
                Outcome::ReconciledBound,
                Some(card.uuid),
                format!(
                    "an earlier bind of request {} to card {} was left unfinished; the server shows it bound",
                    attempt.request_id, attempt.card_id
                ),
            ),
            Ok(Finding::BoundToOtherCard(card)) => (
                Outcome::ReconciledNotBound,
                Some(card.uuid),
                format!(
                    "ALARM: an earlier bind of request {} was left unfinished and the request is bound to another card ({})",
                    attempt.request_id,
                    card.card_id
                        .map_or_else(|| "unreadable".to_owned(), |id| id.to_string())
                ),
            ),
            Ok(Finding::NotBound) => (
                Outcome::ReconciledNotBound,
                None,
                format!(
                    "an earlier bind of request {} to card {} was left unfinished; the server shows no card, so it did not happen",
                    attempt.request_id, attempt.card_id
                ),
            ),
            Err(failure) => {
                lines.push(format!(
                    "An earlier bind of request {} is still unresolved: the server could not be asked ({failure}). \
                     The station asks again at its next start.",
                    attempt.request_id
                ));
                continue;
            }
        };
        let info = OutcomeInfo {
            smartcard_uuid,
            correlation_id: None,
            message: Some(message.clone()),
        };
        let id = attempt.attempt;
        let request = attempt.request_id;
        match write_journal(&ctx.journal, move |j| j.record_outcome(&id, outcome, info)).await {
            Ok(()) => lines.push(format!("Reconciled: {message}.")),
            Err(why) => lines.push(format!(
                "Reconciled ({message}) but the journal could not record it: {why}"
            )),
        }
        if alarm {
            // An alarm of its own, for whoever watches the system log.
            let event = crate::audit::StationEvent {
                request_id: Some(request),
                ..crate::audit::StationEvent::new(
                    crate::audit::ControlKind::ReconcileAlarm,
                    operator_of(&ctx.client),
                    None,
                    message.clone(),
                )
            };
            if let Err(why) = write_journal(&ctx.journal, move |j| j.record_event(event)).await {
                lines.push(format!("The alarm could not be journalled: {why}"));
            }
        }
    }
    lines
}

/// The server an attempt went to, when it is not `server` (the API base
/// the station talks to now); None for the same server, and for attempts
/// from journals that did not record one.
pub fn other_server<'a>(went_to: Option<&'a str>, server: &str) -> Option<&'a str> {
    let went_to = went_to?;
    let same = match (url::Url::parse(went_to), url::Url::parse(server)) {
        (Ok(a), Ok(b)) => a == b,
        _ => went_to.eq_ignore_ascii_case(server),
    };
    (!same).then_some(went_to)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::domain::bind::BindReceipt;

    const URL: &str = "https://cm.contoso.com/CertificateManagement/api/v1.0/smartcards";

    #[test]
    fn an_attempt_is_judged_only_by_the_server_it_went_to() {
        let cm1 = "https://cm1.contoso.com/CertificateManagement/api/v1.0/";
        let cm2 = "https://cm2.contoso.com/CertificateManagement/api/v1.0/";
        assert_eq!(other_server(Some(cm1), cm1), None);
        assert_eq!(
            other_server(
                Some("https://CM1.contoso.com:443/CertificateManagement/api/v1.0/"),
                cm1
            ),
            None,
            "the same URL written another way"
        );
        assert_eq!(other_server(Some(cm1), cm2), Some(cm1));
        assert_eq!(other_server(None, cm2), None, "an older journal's attempt");
    }

    #[test]
    fn only_a_bind_is_bound_and_an_unclear_answer_is_reconciled() {
        assert!(matches!(
            post_answer(Ok(BindReceipt::default())),
            PostAnswer::Bound(_)
        ));
        let unclear = [
            CmError::Redirected {
                what: crate::cm::error::CallName::new(&reqwest::Method::POST, "smartcards"),
                status: 302,
                location: Some("https://sts.contoso.com/adfs/ls/?wa=wsignin1.0".into()),
            },
            CmError::UnclearBindAnswer {
                status: 200,
                detail: "an HTML page (\"Sign In\")".into(),
            },
            CmError::TooLarge {
                what: crate::cm::error::CallName::new(&reqwest::Method::POST, "smartcards"),
                limit: 1024 * 1024,
            },
            CmError::Timeout {
                what: crate::cm::error::CallName::new(&reqwest::Method::POST, "smartcards"),
                after: Duration::from_secs(30),
            },
            CmError::from_response(500, None, b"", URL, None),
        ];
        for error in unclear {
            assert!(
                matches!(post_answer(Err(error.clone())), PostAnswer::Uncertain(_)),
                "{error:?}"
            );
        }
        for definite in [403, 400, 401] {
            let error = CmError::from_response(definite, None, b"", URL, None);
            assert!(
                matches!(post_answer(Err(error)), PostAnswer::Rejected(_)),
                "{definite}"
            );
        }
    }
}
