//! Lifecycle actions a crash left open: an `action_intent` in the journal
//! with no `action_outcome`, because the station stopped between the two.
//! Each one is settled as a lost answer is ([`super::perform`]): a status
//! change by reading the request again, a creation by finding the request
//! by its type, its user and the intent's marker. An offline unblock cannot
//! be read back from CM (no call says whether a response was given), so it
//! is settled in words that say only what is true.
//!
//! Run at the window's start-up, by `enroll-station audit reconcile`, and
//! by the lifecycle commands before they act, beside
//! [`reconcile_open_attempts`](crate::worker::effects::reconcile_open_attempts).

use uuid::Uuid;

use crate::audit::{OutcomeInfo, Record};
use crate::cm::CmClient;
use crate::domain::bind::{Failure, Outcome};
use crate::domain::card::CardId;
use crate::domain::lifecycle::StatusChange;
use crate::domain::request::{RequestStatus, RequestType};
use crate::worker::effects::{BindContext, on_journal, other_server, write_journal};

use super::{find_created, marker_of, reread};

/// Settles every action intent the journal holds without an outcome by
/// asking CM, and records the outcome. Returns one line per intent for the
/// operator; an intent CM cannot be asked about (or that went to another
/// server) stays open and is said.
pub async fn reconcile_open_actions(ctx: &BindContext) -> Vec<String> {
    let open = match on_journal(&ctx.journal, |j| j.open_actions()).await {
        Ok(open) => open,
        Err(why) => {
            return vec![format!(
                "The audit journal could not be read for open lifecycle actions: {why}"
            )];
        }
    };
    let server = ctx.client.api_base().to_owned();
    let mut lines = Vec::new();
    for record in open {
        let what = record
            .message
            .clone()
            .unwrap_or_else(|| "a lifecycle action".to_owned());
        // Judged only by the server it went to: another one knows nothing of it.
        if let Some(went_to) = other_server(record.api_base.as_deref(), &server) {
            lines.push(format!(
                "An earlier action (\"{what}\") is still unresolved. It went to {went_to}; the \
                 station now talks to {server}: reconcile it with `enroll-station audit \
                 reconcile --server {went_to}`."
            ));
            continue;
        }
        let Some(intended) = Intended::read(&record) else {
            lines.push(format!(
                "An earlier action (\"{what}\", intent {}) is still unresolved: its record does \
                 not say an action this station performs, so CM cannot be asked about it. Look \
                 at the request in CM and keep the journal as it is.",
                record.attempt_id
            ));
            continue;
        };
        let marker = marker_of(&record.attempt_id);
        let settled = match settle(&ctx.client, &intended, &marker).await {
            Ok(settled) => settled,
            Err(failure) => {
                lines.push(format!(
                    "An earlier action (\"{what}\") is still unresolved: CM could not be asked \
                     ({failure}). The station asks again at its next start."
                ));
                continue;
            }
        };
        let Settled {
            outcome,
            created,
            message,
        } = settled;
        let info = OutcomeInfo {
            smartcard_uuid: record.smartcard_uuid,
            correlation_id: None,
            message: Some(message.clone()),
        };
        let intent = record.attempt_id;
        let written = write_journal(&ctx.journal, move |j| {
            j.record_action_outcome(&intent, outcome, created, info)
        })
        .await;
        lines.push(match written {
            Ok(()) => format!("Reconciled: {message}."),
            Err(why) => {
                format!("Reconciled ({message}) but the journal could not record it: {why}")
            }
        });
    }
    lines
}

/// What an open intent was about to do, read back from its record: the
/// words [`Action::describe`](crate::domain::action::Action::describe)
/// wrote, and the request and card the record names.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Intended {
    /// `PUT requests/{id}`.
    StatusChange {
        /// The request.
        request: Uuid,
        /// What was to be set.
        change: StatusChange,
    },
    /// `POST requests`.
    Create {
        /// The type.
        kind: RequestType,
        /// The user it was for, when the intent named one.
        target: Option<Uuid>,
    },
    /// An offline unblock: under `request`, or under one it created.
    Unblock {
        /// The card.
        card_id: Option<CardId>,
        /// The existing request it used; None when it created one.
        request: Option<Uuid>,
    },
}

impl Intended {
    fn read(record: &Record) -> Option<Intended> {
        let message = record.message.as_deref()?.trim();
        let request = (!record.request_id.is_nil()).then_some(record.request_id);
        for change in [
            StatusChange::Abandon,
            StatusChange::Cancel,
            StatusChange::Complete,
        ] {
            if let Some(rest) = message.strip_prefix(&format!("{change} request ")) {
                let named = rest.get(..36).and_then(crate::domain::guid::parse);
                return Some(Intended::StatusChange {
                    request: request.or(named)?,
                    change,
                });
            }
        }
        if let Some(rest) = message.strip_prefix("create a ") {
            let (kind, rest) = rest.split_once(" request")?;
            let kind = RequestType::from_name(kind)?;
            let target = rest
                .split_once(" for user ")
                .and_then(|(_, user)| user.get(..36))
                .and_then(crate::domain::guid::parse);
            return Some(Intended::Create { kind, target });
        }
        if message.starts_with("offline unblock of card ")
            || message.starts_with("get the offline unblock response for card ")
        {
            return Some(Intended::Unblock {
                card_id: CardId::parse_cm_string(&record.card_id),
                request,
            });
        }
        None
    }
}

/// An intent's outcome, as reconciliation writes it.
struct Settled {
    outcome: Outcome,
    created: Option<Uuid>,
    message: String,
}

impl Settled {
    fn new(outcome: Outcome, created: Option<Uuid>, message: String) -> Settled {
        Settled {
            outcome,
            created,
            message,
        }
    }
}

/// Asks CM what became of `intended`; `Err` when CM could not be asked.
async fn settle(client: &CmClient, intended: &Intended, marker: &str) -> Result<Settled, Failure> {
    const LEFT: &str = "was left unfinished (the station stopped before it recorded CM's answer)";
    match *intended {
        Intended::StatusChange { request, change } => {
            let (done, now) = reread(client, request, change).await?;
            Ok(if done {
                Settled::new(
                    Outcome::ReconciledDone,
                    None,
                    format!(
                        "an earlier \"{change}\" of request {request} {LEFT}; CM shows the \
                         request {}: it was done",
                        now.status
                    ),
                )
            } else {
                Settled::new(
                    Outcome::ReconciledNotDone,
                    None,
                    format!(
                        "an earlier \"{change}\" of request {request} {LEFT}; CM shows the \
                         request {}, not {}: it was not done",
                        now.status,
                        change.resulting_status()
                    ),
                )
            })
        }
        Intended::Create { kind, target } => {
            Ok(match find_created(client, kind, target, marker).await? {
                Some(found) => Settled::new(
                    Outcome::ReconciledDone,
                    Some(found.uuid),
                    format!(
                        "an earlier creation of a {kind} request {LEFT}; CM lists request {} \
                         ({}) carrying {marker}: it was created",
                        found.uuid, found.status
                    ),
                ),
                None => Settled::new(
                    Outcome::ReconciledNotDone,
                    None,
                    format!(
                        "an earlier creation of a {kind} request {LEFT}; CM lists no {kind} \
                         request carrying {marker}: it was not created"
                    ),
                ),
            })
        }
        Intended::Unblock { card_id, request } => {
            settle_unblock(client, card_id, request, marker).await
        }
    }
}

/// An offline unblock: CM keeps no answer to "did you give a response?", so
/// the outcome says what is known: whether a request exists for it, that
/// the station showed no response (it shows one only after its record is
/// written), and that the station changes no PIN itself.
async fn settle_unblock(
    client: &CmClient,
    card_id: Option<CardId>,
    request: Option<Uuid>,
    marker: &str,
) -> Result<Settled, Failure> {
    let card = card_id.map_or_else(|| "(card ID not recorded)".to_owned(), |id| id.to_string());
    let (request, created, status) = match request {
        Some(request) => {
            let status = client.get_request(request).await.ok().map(|r| r.status);
            (request, None, status)
        }
        None => match find_created(client, RequestType::OFFLINE_UNBLOCK, None, marker).await? {
            Some(found) => (found.uuid, Some(found.uuid), Some(found.status)),
            None => {
                return Ok(Settled::new(
                    Outcome::ReconciledNotDone,
                    None,
                    format!(
                        "an earlier offline unblock of card {card} was left unfinished; CM lists \
                         no OfflineUnblock request carrying {marker}: none was created, so CM \
                         gave no response for it, and the station changed no PIN"
                    ),
                ));
            }
        },
    };
    let created_words = if created.is_some() {
        format!("; CM lists the OfflineUnblock request {request} it created, carrying {marker}")
    } else {
        String::new()
    };
    let given = match status {
        Some(RequestStatus::PENDING) => format!(
            "Request {request} waits for approval (Pending), so CM gave no response under it"
        ),
        Some(status) => format!(
            "Whether CM gave a response to the card's challenge cannot be asked of CM: it may \
             have (request {request} is {status} now)"
        ),
        None => format!(
            "Whether CM gave a response to the card's challenge cannot be asked of CM: it may \
             have, under request {request}"
        ),
    };
    Ok(Settled::new(
        Outcome::ReconciledNotDone,
        created,
        format!(
            "an earlier offline unblock of card {card} was left unfinished{created_words}. \
             {given}. The station showed no response for it (it shows one only after its \
             outcome is journalled) and changes no PIN itself: a PIN changes only when the card \
             holder types a response into the card. If the card is still blocked, unblock it \
             again"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{ActionInfo, AuditJournal, Operator};
    use crate::domain::action::{Action, OfflineUnblock};
    use crate::domain::lifecycle::NewRequest;
    use crate::domain::unblock::Challenge;

    /// The intent record `record_action_intent` writes for `action`, read back.
    fn record_of(action: &Action) -> Record {
        let (card_id, smartcard_uuid) = match action {
            Action::OfflineUnblock(unblock) => (Some(unblock.card_id), unblock.smartcard),
            _ => (None, None),
        };
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut journal =
            AuditJournal::open(dir.path().join("audit.jsonl")).expect("the journal opens");
        let _intent = journal
            .record_action_intent(ActionInfo {
                operator: Operator::default(),
                supervisor: None,
                request_id: action.request(),
                card_id,
                smartcard_uuid,
                message: action.describe(),
                api_base: "https://cm.contoso.com/CertificateManagement/api/v1.0/".into(),
            })
            .expect("the intent is written");
        let mut open = journal.unfinished_actions();
        assert_eq!(open.len(), 1);
        open.remove(0).record
    }

    #[test]
    fn every_action_the_station_journals_is_read_back() {
        let request = Uuid::from_u128(0x1234);
        for change in [
            StatusChange::Abandon,
            StatusChange::Cancel,
            StatusChange::Complete,
        ] {
            let action = Action::ChangeStatus {
                request,
                change,
                comment: Some("a comment: with a colon".into()),
            };
            assert_eq!(
                Intended::read(&record_of(&action)),
                Some(Intended::StatusChange { request, change })
            );
        }
        let user = Uuid::from_u128(0x5678);
        let template = Uuid::from_u128(0x9abc);
        for kind in [
            RequestType::TEMPORARY_CARD_ENROLL,
            RequestType::ENROLL,
            RequestType::DUPLICATE,
        ] {
            let new = if kind == RequestType::TEMPORARY_CARD_ENROLL {
                NewRequest::temporary_card(template, user, Vec::new(), "")
            } else {
                NewRequest::on_behalf(kind, template, user, Vec::new(), "").expect("on behalf")
            };
            assert_eq!(
                Intended::read(&record_of(&Action::Create(new))),
                Some(Intended::Create {
                    kind,
                    target: Some(user)
                }),
                "{kind}"
            );
        }
        let card = crate::domain::smartcard::Smartcard {
            uuid: Uuid::from_u128(7),
            status: crate::domain::request::SmartcardStatus::ACTIVE,
            card_id: Some(CardId::from_raw([7; 16])),
            atr: None,
            assigned_user: Some(user),
            profile_template: Some(template),
        };
        for kind in [RequestType::RETIRE, RequestType::REVOKE] {
            let new = NewRequest::on_card(kind, &card, Vec::new(), "").expect("on card");
            assert_eq!(
                Intended::read(&record_of(&Action::Create(new))),
                Some(Intended::Create {
                    kind,
                    target: Some(user)
                }),
                "{kind}"
            );
        }
        for existing in [None, Some(request)] {
            let action = Action::OfflineUnblock(OfflineUnblock {
                card_id: CardId::from_raw([7; 16]),
                smartcard: Some(card.uuid),
                request: existing,
                challenge: Challenge::parse("D611 43F9 CCFF D2CA").expect("challenge"),
                diversified: false,
                data: Vec::new(),
                comment: String::new(),
            });
            assert_eq!(
                Intended::read(&record_of(&action)),
                Some(Intended::Unblock {
                    card_id: Some(CardId::from_raw([7; 16])),
                    request: existing
                })
            );
        }
        let mut strange = record_of(&Action::ChangeStatus {
            request,
            change: StatusChange::Cancel,
            comment: None,
        });
        strange.message = Some("reboot the CA".into());
        assert_eq!(Intended::read(&strange), None, "never guessed");
    }
}
