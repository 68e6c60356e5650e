//! Performs a lifecycle action (issue 21) the way a bind is performed: the
//! supervisor checked at a supervised station, an intent journalled before
//! the call, exactly one outcome after, and a lost answer reconciled by
//! asking CM what it holds. Shared by the window's worker and the command
//! line, so both act the same way.
//!
//! Reconciliation: a status change whose answer was lost (or a 5xx, which
//! may come after CM's write) is settled by reading the request's status
//! again; a creation by listing the requests and looking for the one of
//! that type, for that user, whose comment carries the intent's marker.
//! When CM cannot be asked, the intent stays open in the journal and the
//! agent is told not to repeat the action before looking. An intent a crash
//! left open is settled the same way at the next start
//! ([`reconcile_open_actions`]).

use uuid::Uuid;

use crate::audit::{ActionInfo, AttemptId, Outcome, OutcomeInfo};
use crate::cm::{CmClient, CmError};
use crate::domain::action::{Action, ActionDone, OfflineUnblock, next_step};
use crate::domain::bind::Failure;
use crate::domain::card_record::current_object;
use crate::domain::lifecycle::{NewRequest, StatusChange};
use crate::domain::request::{Request, RequestStatus};
use crate::supervisors::{Supervision, SupervisorCredential, SupervisorError, Witness};

use super::effects::{BindContext, on_journal, write_journal};

mod reconcile;
mod unblock;

pub use reconcile::reconcile_open_actions;
pub use unblock::{UnblockLedger, approved_unblocks, complete_unblock};

/// Performs `action` and says how it ended; `supervisor` is checked (and a
/// refusal journalled) at a supervised station, where nothing is done without it.
pub async fn perform(
    ctx: &BindContext,
    supervision: &Supervision,
    action: Action,
    supervisor: Option<SupervisorCredential>,
) -> Result<ActionDone, Failure> {
    let witness = check_supervisor(ctx, supervision, &action, supervisor).await?;
    journalled(ctx, &action, witness).await
}

/// The action between its intent and its one outcome, both journalled;
/// `witness` is the supervisor who confirmed it, where one did.
async fn journalled(
    ctx: &BindContext,
    action: &Action,
    witness: Option<String>,
) -> Result<ActionDone, Failure> {
    let intent = record_intent(ctx, action, witness).await?;
    let (result, record) = run(ctx, action, &intent).await;
    let Some(record) = record else {
        // Not settled: the intent stays open, and the words say so.
        return result;
    };
    let written = write_journal(&ctx.journal, move |j| {
        j.record_action_outcome(&intent.id, record.outcome, record.created, record.info)
    })
    .await;
    match written {
        Ok(()) => result,
        Err(why) => journal_lost(result, &why.to_string()),
    }
}

/// The outcome was not written: the action's result stands, with a
/// warning; but an unblock response is shown only once its record is
/// written, so it is dropped (and wiped) unseen. So an intent left open
/// never hides a response the agent read out.
fn journal_lost(result: Result<ActionDone, Failure>, why: &str) -> Result<ActionDone, Failure> {
    tracing::error!(%why, "the outcome of an action could not be journalled");
    match result {
        Ok(ActionDone::UnblockResponse {
            request_id,
            card_id,
            ..
        }) => Err(Failure::new(format!(
            "Not shown: CM gave the unblock response for card {card_id} under request \
             {request_id}, but the audit journal could not record that it did ({why}), and a \
             response is shown only once its record is written. Fix the journal (see \
             `enroll-station audit verify`), then ask for the response again."
        ))),
        Ok(done) => Ok(done),
        Err(mut failure) => {
            failure.message.push_str(&format!(
                " (The outcome was not written to the audit journal: {why}.)"
            ));
            Err(failure)
        }
    }
}

/// The journal's intent: its ID and the marker a created request's comment carries.
struct Intent {
    id: AttemptId,
    marker: String,
}

/// What the outcome record says.
struct OutcomeRecord {
    outcome: Outcome,
    created: Option<Uuid>,
    info: OutcomeInfo,
}

impl OutcomeRecord {
    fn new(outcome: Outcome, created: Option<Uuid>, message: String) -> Self {
        OutcomeRecord {
            outcome,
            created,
            info: OutcomeInfo {
                smartcard_uuid: None,
                correlation_id: None,
                message: Some(message),
            },
        }
    }

    fn failed(outcome: Outcome, created: Option<Uuid>, failure: &Failure) -> Self {
        OutcomeRecord {
            outcome,
            created,
            info: OutcomeInfo {
                smartcard_uuid: None,
                correlation_id: failure.correlation_id.clone(),
                message: Some(failure.message.clone()),
            },
        }
    }
}

/// At a supervised station: the credential checked (slow: off the async
/// threads) with the bind's throttle and refusal records. Returns the
/// supervisor's configured name, or `None` where none is needed.
async fn check_supervisor(
    ctx: &BindContext,
    supervision: &Supervision,
    action: &Action,
    supervisor: Option<SupervisorCredential>,
) -> Result<Option<String>, Failure> {
    match supervision.witness {
        Witness::NotNeeded => return Ok(None),
        Witness::NoneConfigured => {
            return Err(Failure::new(format!(
                "Not done: {}",
                SupervisorError::NoneConfigured
            )));
        }
        Witness::Needed => {}
    }
    let operator = ctx.operator();
    let what = format!("to confirm: {}", action.describe());
    let Some(credential) = supervisor else {
        let event = crate::audit::StationEvent {
            request_id: action.request(),
            ..crate::audit::StationEvent::new(
                crate::audit::ControlKind::SupervisorRefused,
                operator,
                None,
                format!("Refused {what}: no supervisor confirmed it at this supervised station"),
            )
        };
        let _ = on_journal(&ctx.journal, move |j| j.record_event(event)).await;
        return Err(Failure::new(
            "Not done: at this supervised station a supervisor confirms every lifecycle action. \
             Have a supervisor give their name and password (on the command line: --supervisor \
             NAME).",
        ));
    };
    let store = std::sync::Arc::clone(&supervision.store);
    let by = operator.clone();
    let name = credential.name.clone();
    let checked = super::effects::blocking(move || {
        let supervisor = store.verify(&credential.name, &credential.password)?;
        drop(credential);
        crate::supervisors::check_witness(&by, &supervisor, store.account_of(&supervisor))?;
        Ok::<String, SupervisorError>(supervisor)
    })
    .await
    .unwrap_or_else(|stopped| Err(SupervisorError::Unfinished { why: stopped.why() }));
    if let Some(event) =
        crate::supervisors::refusal_event(&operator, &name, &what, action.request(), &checked)
    {
        let _ = on_journal(&ctx.journal, move |j| j.record_event(event)).await;
    }
    checked
        .map(Some)
        .map_err(|why| Failure::new(format!("Not done: {why}")))
}

/// The marker a created request's comment carries, so that a lost answer
/// (or an intent a crash left open) can be settled by finding the request:
/// short, and the intent's own (`[enroll-station 1a2b3c4d5e6f]`).
pub fn marker_of(id: &AttemptId) -> String {
    let text = id.to_string();
    let short: String = text
        .chars()
        .filter(char::is_ascii_hexdigit)
        .take(12)
        .collect();
    format!("[enroll-station {short}]")
}

/// The intent, written before anything is sent; nothing is sent without it.
async fn record_intent(
    ctx: &BindContext,
    action: &Action,
    supervisor: Option<String>,
) -> Result<Intent, Failure> {
    let (card_id, smartcard_uuid) = match action {
        Action::OfflineUnblock(unblock) => (Some(unblock.card_id), unblock.smartcard),
        Action::Create(new) => (None, new.smartcard),
        Action::ChangeStatus { .. } => (None, None),
    };
    let mut message = action.describe();
    if let Action::ChangeStatus {
        comment: Some(comment),
        ..
    } = action
        && !comment.trim().is_empty()
    {
        message.push_str(&format!(": {}", comment.trim()));
    }
    let info = ActionInfo {
        operator: ctx.operator(),
        supervisor,
        request_id: action.request(),
        card_id,
        smartcard_uuid,
        message,
        api_base: ctx.client.api_base().to_owned(),
    };
    let id = write_journal(&ctx.journal, move |j| j.record_action_intent(info))
        .await
        .map_err(|why| not_journalled(&why.to_string()))?;
    Ok(Intent {
        marker: marker_of(&id),
        id,
    })
}

fn not_journalled(why: &str) -> Failure {
    Failure::new(format!(
        "Not done: the audit journal could not record the action ({why}), so nothing was sent. \
         Fix the journal (see `enroll-station audit verify`) and try again."
    ))
}

/// Runs the action: its result, and the outcome to journal (`None` when
/// it could not be settled and the intent stays open).
async fn run(
    ctx: &BindContext,
    action: &Action,
    intent: &Intent,
) -> (Result<ActionDone, Failure>, Option<OutcomeRecord>) {
    let client = &ctx.client;
    match action {
        Action::ChangeStatus {
            request, change, ..
        } => change_status(client, *request, *change).await,
        Action::Create(new) => match create(client, new, intent).await {
            Created::Done(done, record) => (Ok(done), Some(record)),
            Created::Failed(failure, record) => (Err(failure), record),
        },
        Action::OfflineUnblock(unblock) => offline_unblock(client, unblock, intent).await,
    }
}

/// Whether an error leaves open whether CM did the work: a lost answer, or
/// a server error (CM's business layer answers 500 also after its write).
fn uncertain(error: &CmError) -> bool {
    error.outcome_unknown()
        || error.status().is_some_and(|s| s >= 500)
        || matches!(error, CmError::UnexpectedBody { .. })
}

async fn change_status(
    client: &CmClient,
    request: Uuid,
    change: StatusChange,
) -> (Result<ActionDone, Failure>, Option<OutcomeRecord>) {
    let wanted = change.resulting_status();
    let done = |status: RequestStatus, outcome: Outcome, how: &str| {
        (
            Ok(ActionDone::StatusChanged { request, status }),
            Some(OutcomeRecord::new(
                outcome,
                None,
                format!("request {request} is {status}{how}"),
            )),
        )
    };
    let error = match client.set_request_status(request, change).await {
        Ok(Some(now)) => return done(now.status, Outcome::Done, ""),
        Ok(None) => {
            // 204: read it again to show what CM holds.
            let status = client
                .get_request(request)
                .await
                .map_or(wanted, |now| now.status);
            return done(status, Outcome::Done, "");
        }
        Err(error) => error,
    };
    let failure = error.to_failure();
    if !uncertain(&error) {
        return (
            Err(refused(&format!("{change} request {request}"), &failure)),
            Some(OutcomeRecord::failed(Outcome::Failed, None, &failure)),
        );
    }
    // The answer may have come after CM's write: read the status again.
    match reread(client, request, change).await {
        Ok((true, now)) => done(
            now.status,
            Outcome::ReconciledDone,
            &format!(" (the answer was lost: {failure}; read again, CM shows it done)"),
        ),
        Ok((false, now)) => {
            let outcome = if error.outcome_unknown() {
                Outcome::ReconciledNotDone
            } else {
                Outcome::Failed
            };
            let failure = Failure {
                message: format!(
                    "{} Read again, the request is still {}: it was not done.",
                    failure.message, now.status
                ),
                correlation_id: failure.correlation_id,
            };
            (
                Err(refused(&format!("{change} request {request}"), &failure)),
                Some(OutcomeRecord::failed(outcome, None, &failure)),
            )
        }
        Err(again) => (
            Err(Failure {
                message: format!(
                    "Result unknown: the answer to \"{change} request {request}\" was lost \
                     ({failure}) and CM could not be asked again ({}). Look at the request in \
                     the request list before trying again; the journal keeps the action open.",
                    again
                ),
                correlation_id: failure.correlation_id,
            }),
            None,
        ),
    }
}

/// The request read again after a status change whose answer is unknown:
/// whether CM shows the change done, and the request as CM holds it. The
/// one rule for a lost answer and for an intent a crash left open.
async fn reread(
    client: &CmClient,
    request: Uuid,
    change: StatusChange,
) -> Result<(bool, Request), Failure> {
    let now = client
        .get_request(request)
        .await
        .map_err(|e| e.to_failure())?;
    Ok((now.status == change.resulting_status(), now))
}

/// CM's refusal, with what was asked and what to do.
fn refused(what: &str, failure: &Failure) -> Failure {
    Failure {
        message: format!(
            "Not done: CM refused to {what}: {}. Check the request's status in the request \
             list; give CM's correlation ID to its administrator if the refusal is unclear.",
            failure.message.trim_end_matches('.')
        ),
        correlation_id: failure.correlation_id.clone(),
    }
}

enum Created {
    Done(ActionDone, OutcomeRecord),
    /// Not created (with the outcome), or not known (without: stays open).
    Failed(Failure, Option<OutcomeRecord>),
}

/// The comment CM stores: the agent's, then the intent's marker.
fn marked_comment(comment: &str, marker: &str) -> String {
    let comment = comment.trim();
    if comment.is_empty() {
        marker.to_owned()
    } else {
        format!("{comment} {marker}")
    }
}

async fn create(client: &CmClient, new: &NewRequest, intent: &Intent) -> Created {
    let mut sent = new.clone();
    sent.comment = marked_comment(&new.comment, &intent.marker);
    let (id, reconciled) = match client.create_request(&sent).await {
        Ok(id) => (id, None),
        Err(error) => {
            let failure = error.to_failure();
            if !uncertain(&error) {
                return Created::Failed(
                    refused(&format!("create a {} request", new.kind), &failure),
                    Some(OutcomeRecord::failed(Outcome::Failed, None, &failure)),
                );
            }
            match find_created(client, sent.kind, sent.target, &intent.marker).await {
                Ok(Some(found)) => (found.uuid, Some(failure)),
                Ok(None) => {
                    let failure = Failure {
                        message: format!(
                            "{} CM was asked again and lists no {} request carrying {}: it \
                             was not created. It may be created again.",
                            failure.message, new.kind, intent.marker
                        ),
                        correlation_id: failure.correlation_id,
                    };
                    let outcome = if error.outcome_unknown() {
                        Outcome::ReconciledNotDone
                    } else {
                        Outcome::Failed
                    };
                    return Created::Failed(
                        refused(&format!("create a {} request", new.kind), &failure),
                        Some(OutcomeRecord::failed(outcome, None, &failure)),
                    );
                }
                Err(again) => {
                    return Created::Failed(
                        Failure {
                            message: format!(
                                "Result unknown: the answer to creating a {} request was lost \
                                 ({failure}) and CM could not be asked again ({again}). The \
                                 request may exist: look in the request list for the comment \
                                 {} before creating it again; the journal keeps the action open.",
                                new.kind, intent.marker
                            ),
                            correlation_id: failure.correlation_id,
                        },
                        None,
                    );
                }
            }
        }
    };
    let status = client.get_request(id).await.ok().map(|r| r.status);
    let policy = match (status, new.template) {
        (Some(RequestStatus::PENDING), Some(template)) => client
            .workflow_policy(template, new.kind)
            .await
            .ok()
            .flatten(),
        _ => None,
    };
    let next = next_step(new.kind, status, policy.as_ref());
    let (outcome, how) = match &reconciled {
        None => (Outcome::Done, String::new()),
        Some(lost) => (
            Outcome::ReconciledDone,
            format!(
                " (the answer was lost: {lost}; CM lists it with {})",
                intent.marker
            ),
        ),
    };
    let record = OutcomeRecord::new(
        outcome,
        Some(id),
        format!("CM created {} request {id}{how}", new.kind),
    );
    Created::Done(
        ActionDone::Created {
            request_id: id,
            kind: new.kind,
            status,
            next,
        },
        record,
    )
}

/// The request a lost `POST requests` created, found by its type, its
/// user (when the intent named one) and the marker in its comment; never
/// guessed from anything less.
async fn find_created(
    client: &CmClient,
    kind: crate::domain::request::RequestType,
    target: Option<Uuid>,
    marker: &str,
) -> Result<Option<Request>, Failure> {
    let list = client
        .list_requests(None)
        .await
        .map_err(|e| e.to_failure())?;
    Ok(list.into_iter().find(|request| {
        request.request_type == kind
            && (target.is_none() || request.target_user == target)
            && request
                .comment
                .as_deref()
                .is_some_and(|comment| comment.contains(marker))
    }))
}

async fn offline_unblock(
    client: &CmClient,
    unblock: &OfflineUnblock,
    intent: &Intent,
) -> (Result<ActionDone, Failure>, Option<OutcomeRecord>) {
    let card_id = unblock.card_id;
    let smartcard = match unblock.smartcard {
        Some(uuid) => client.smartcard(uuid).await,
        None => match client.smartcards_by_card_id(&card_id).await {
            Ok(objects) => current_object(&objects)
                .cloned()
                .ok_or(CmError::InvalidData {
                    source: crate::cm::model::ModelError::Missing {
                        object: "card",
                        field: "smart card object (CM knows no card with this ID)",
                    },
                }),
            Err(error) => Err(error),
        },
    };
    let card = match smartcard {
        Ok(card) => card,
        Err(error) => {
            let failure = Failure {
                message: format!(
                    "Not done: the card {card_id} could not be looked up in CM: {}. Check the \
                     card ID (the card's own, as `enroll-station card` shows it).",
                    error.to_failure().message
                ),
                correlation_id: error.correlation_id().map(str::to_owned),
            };
            return (
                Err(failure.clone()),
                Some(OutcomeRecord::failed(Outcome::Refused, None, &failure)),
            );
        }
    };
    let request_id = match unblock.request {
        Some(request) => request,
        None => {
            let new = match NewRequest::offline_unblock(
                &card,
                unblock.data.clone(),
                unblock.comment.clone(),
            ) {
                Ok(new) => new,
                Err(why) => {
                    let failure = Failure::new(format!("Not done: {why}."));
                    return (
                        Err(failure.clone()),
                        Some(OutcomeRecord::failed(Outcome::Refused, None, &failure)),
                    );
                }
            };
            match create(client, &new, intent).await {
                Created::Done(
                    ActionDone::Created {
                        request_id,
                        status: Some(RequestStatus::APPROVED | RequestStatus::EXECUTING),
                        ..
                    },
                    _,
                ) => request_id,
                // Waiting for approval (or unreadable): the request is the result.
                Created::Done(done, record) => return (Ok(done), Some(record)),
                Created::Failed(failure, record) => return (Err(failure), record),
            }
        }
    };
    match client
        .authentication_response(
            request_id,
            card.uuid,
            &card_id,
            &unblock.challenge,
            unblock.diversified,
            None,
        )
        .await
    {
        Ok(response) => {
            // THAT a response was issued, never its value.
            let mut record = OutcomeRecord::new(
                Outcome::Done,
                Some(request_id),
                format!(
                    "CM issued an offline unblock response for card {card_id} under request \
                     {request_id} (the response is not recorded)"
                ),
            );
            record.info.smartcard_uuid = Some(card.uuid);
            (
                Ok(ActionDone::UnblockResponse {
                    request_id,
                    card_id,
                    response,
                }),
                Some(record),
            )
        }
        Err(error) => {
            let failure = refused(
                &format!("give the unblock response under request {request_id}"),
                &error.to_failure(),
            );
            let mut record = OutcomeRecord::failed(Outcome::Failed, Some(request_id), &failure);
            record.info.smartcard_uuid = Some(card.uuid);
            (Err(failure), Some(record))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::request::RequestType;

    #[test]
    fn the_marker_is_short_and_the_comment_keeps_the_agents_words() {
        let id = AttemptId::from_uuid(Uuid::from_u128(0xabcdef));
        let marker = marker_of(&id);
        assert!(marker.starts_with("[enroll-station "), "{marker}");
        assert_eq!(marker.len(), "[enroll-station ]".len() + 12);
        assert_eq!(marked_comment("  ", &marker), marker);
        assert_eq!(
            marked_comment("lost card", &marker),
            format!("lost card {marker}")
        );
    }

    #[test]
    fn only_a_lost_answer_or_a_server_error_is_uncertain() {
        let url = "https://cm.contoso.com/CertificateManagement/api/v1.0/requests";
        assert!(uncertain(&CmError::from_response(
            500, None, b"", url, None
        )));
        assert!(!uncertain(&CmError::from_response(
            403, None, b"", url, None
        )));
        assert!(!uncertain(&CmError::from_response(
            400, None, b"", url, None
        )));
    }

    #[test]
    fn an_offline_unblock_needs_the_card() {
        // The kind is what the created request's workflow is read for.
        assert_eq!(
            RequestType::OFFLINE_UNBLOCK.issues_card(),
            Some(false),
            "an unblock acts on an existing card"
        );
    }
}
