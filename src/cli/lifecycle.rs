//! The lifecycle actions on the command line (issue 21): `request abandon |
//! cancel | create`, `card retire | revoke` and `unblock`. Each one is
//! offered only where CM allows it, checks its data items against the
//! workflow policy, asks for confirmation (`--yes` for scripts), and runs
//! through the worker's [`actions::perform`](crate::worker::actions::perform),
//! which journals it and reconciles a lost answer, exactly as the window does.
//! Before any of them acts, the actions an earlier run left open (a crash
//! between intent and outcome) are settled against CM
//! ([`reconcile_open_actions`](crate::worker::actions::reconcile_open_actions)).

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::sync::Arc;

use anyhow::{Context as _, bail};
use serde::Serialize;
use uuid::Uuid;

use super::Settings;
use super::escape::{term, term_lines};
use super::output::print_json;
use crate::cm::CmClient;
use crate::domain::action::{Action, ActionDone, missing_items_message, parse_data_items};
use crate::domain::card::CardId;
use crate::domain::card_record::{CardOperation, current_object};
use crate::domain::lifecycle::{NewRequest, StatusChange};
use crate::domain::request::{DataItem, RequestStatus, RequestType};
use crate::domain::smartcard::Smartcard;
use crate::supervisors::{Supervision, SupervisorCredential, SupervisorStore};
use crate::worker::effects::BindContext;

mod unblock;

pub use unblock::UnblockArgs;
pub(super) use unblock::run_unblock;

/// What the agent confirms an action with.
#[derive(Debug, Clone, clap::Args)]
pub struct Confirmation {
    /// Do it without asking (for scripts); otherwise a terminal asks first.
    #[arg(long)]
    pub yes: bool,
    /// At a supervised station: the supervisor who confirms; they then type
    /// their password (or it is read from standard input).
    #[arg(long, value_name = "NAME")]
    pub supervisor: Option<String>,
}

/// Undo a request, or create one.
#[derive(Debug, clap::Subcommand)]
pub enum RequestCommand {
    /// Abandon an approved request (it then shows Failed); cannot be undone.
    Abandon(StatusArgs),
    /// Cancel a request (a duplicate or a mistake); cannot be undone.
    Cancel(StatusArgs),
    /// Mark a request Completed (an OfflineUnblock request once its
    /// response was read out and the card unblocked); CM decides from which
    /// status it accepts it.
    Complete(StatusArgs),
    /// Create a request for someone: TemporaryCards, Enroll or Duplicate.
    Create {
        /// TemporaryCards, Enroll or Duplicate.
        #[arg(long = "type", value_name = "TYPE")]
        kind: String,
        /// The user's GUID (their objectGUID).
        #[arg(long, value_name = "GUID")]
        user: String,
        /// The profile template, by name or GUID.
        #[arg(long, value_name = "NAME|GUID")]
        template: String,
        /// A data item the workflow collects (repeatable).
        #[arg(long = "data", value_name = "NAME=VALUE")]
        data: Vec<String>,
        /// A comment for the request.
        #[arg(long, value_name = "TEXT")]
        comment: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        confirm: Confirmation,
    },
}

/// `request abandon|cancel`.
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// The request's GUID.
    #[arg(long, value_name = "GUID")]
    pub request: String,
    /// Why, for the audit journal.
    #[arg(long, value_name = "TEXT")]
    pub comment: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub confirm: Confirmation,
}

/// `card retire|revoke`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["reader", "card_id"])))]
pub struct CardActionArgs {
    /// The reader holding the card (its card ID is read as `bind` reads it).
    #[arg(long, value_name = "NAME")]
    pub reader: Option<String>,
    /// The card's ID, as CM shows it.
    #[arg(long, value_name = "GUID")]
    pub card_id: Option<String>,
    /// A comment for the request.
    #[arg(long, value_name = "TEXT")]
    pub comment: Option<String>,
    /// A data item the workflow collects (repeatable).
    #[arg(long = "data", value_name = "NAME=VALUE")]
    pub data: Vec<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub confirm: Confirmation,
}

#[derive(Serialize)]
struct StatusJson {
    request_id: String,
    status: String,
}

#[derive(Serialize)]
struct CreatedJson {
    request_id: String,
    #[serde(rename = "type")]
    kind: String,
    status: Option<String>,
}

/// Everything an action needs on the command line.
struct Station {
    context: BindContext,
    supervision: Supervision,
    runtime: tokio::runtime::Runtime,
}

impl Station {
    /// The station, once the actions an earlier run left open are settled
    /// (said on stderr): a new action is not judged beside an old unknown.
    fn open(settings: &Settings) -> anyhow::Result<Station> {
        let client = settings.client()?;
        let journal = crate::audit::journal::open_shared(settings.audit_file(), false)?;
        let store = SupervisorStore::for_station(
            &settings.config.supervisors,
            crate::audit::journal::journal_path(settings.audit_file(), false)
                .ok()
                .as_deref(),
        );
        let station = Station {
            context: BindContext {
                client,
                readers: Arc::new(settings.card_reader()),
                journal,
            },
            supervision: Supervision::new(settings.config.mode, Arc::new(store)),
            runtime: super::runtime()?,
        };
        for line in station
            .runtime
            .block_on(crate::worker::actions::reconcile_open_actions(
                &station.context,
            ))
        {
            eprintln!("enroll-station: {}", term(&line));
        }
        Ok(station)
    }

    fn client(&self) -> &CmClient {
        &self.context.client
    }

    /// Asks, reads the supervisor's password, and performs the action.
    fn perform(&self, action: Action, confirm: &Confirmation) -> anyhow::Result<ActionDone> {
        ask(&action, confirm.yes)?;
        let supervisor = match (&confirm.supervisor, self.supervision.witness.is_required()) {
            (Some(_), false) => bail!(
                "--supervisor applies only at a supervised station (mode = \"supervised\"). \
                 Remove --supervisor. Nothing was sent."
            ),
            (Some(name), true) => Some(SupervisorCredential {
                name: name.clone(),
                password: super::supervisor::read_password(
                    &format!("Password of supervisor {}: ", term(name)),
                    false,
                )?,
            }),
            (None, _) => None,
        };
        self.runtime
            .block_on(crate::worker::actions::perform(
                &self.context,
                &self.supervision,
                action,
                supervisor,
            ))
            .map_err(|failure| anyhow::anyhow!("{failure}"))
    }
}

/// The confirmation: `--yes`, or "y" typed at a terminal. Without either
/// nothing is sent: these actions cannot be undone.
fn ask(action: &Action, yes: bool) -> anyhow::Result<()> {
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        bail!(
            "Not done: {} cannot be undone, so it is confirmed first. Add --yes to confirm \
             from a script.",
            action.describe()
        );
    }
    eprint!(
        "About to {}. This cannot be undone. Go ahead? [y/N] ",
        action.describe()
    );
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .context("Could not read the answer")?;
    if matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
        Ok(())
    } else {
        bail!("Not done: not confirmed. Nothing was sent.")
    }
}

/// `request …`.
pub(super) fn run_request(settings: &Settings, command: RequestCommand) -> anyhow::Result<()> {
    match command {
        RequestCommand::Abandon(args) => change_status(settings, StatusChange::Abandon, args),
        RequestCommand::Cancel(args) => change_status(settings, StatusChange::Cancel, args),
        RequestCommand::Complete(args) => change_status(settings, StatusChange::Complete, args),
        RequestCommand::Create {
            kind,
            user,
            template,
            data,
            comment,
            json,
            confirm,
        } => create(
            settings, &kind, &user, &template, &data, comment, json, &confirm,
        ),
    }
}

fn change_status(
    settings: &Settings,
    change: StatusChange,
    args: StatusArgs,
) -> anyhow::Result<()> {
    let request = super::arguments::guid(&args.request, "request")?;
    let station = Station::open(settings)?;
    // The request's status says whether the undo is offered at all; CM's
    // own rules between the open statuses are its to apply.
    let now = station
        .runtime
        .block_on(station.client().get_request(request))
        .map_err(|e| anyhow::anyhow!("{}", e.to_failure()))
        .with_context(|| format!("Request {request} could not be read; nothing was sent"))?;
    if matches!(
        now.status,
        RequestStatus::COMPLETED
            | RequestStatus::CANCELED
            | RequestStatus::FAILED
            | RequestStatus::DENIED
    ) {
        bail!(
            "Not done: request {request} is {}, which is final; there is nothing to {change}.",
            now.status
        );
    }
    let action = Action::ChangeStatus {
        request,
        change,
        comment: args.comment,
    };
    let done = station.perform(action, &args.confirm)?;
    let ActionDone::StatusChanged { request, status } = done else {
        bail!("The server's answer was not a status change; check request {request}.");
    };
    if args.json {
        return print_json(&StatusJson {
            request_id: request.to_string(),
            status: status.to_string(),
        });
    }
    println!("Request {request} is now {}.", term(&status.to_string()));
    Ok(())
}

/// The workflow's required items, checked before anything is sent; a
/// policy that cannot be read is said on stderr and CM decides.
fn check_items(
    station: &Station,
    template: Option<Uuid>,
    kind: RequestType,
    data: &[DataItem],
) -> anyhow::Result<()> {
    let Some(template) = template else {
        return Ok(());
    };
    match station
        .runtime
        .block_on(station.client().workflow_policy(template, kind))
    {
        Ok(Some(policy)) => {
            if let Some(missing) = missing_items_message(kind, &policy, data) {
                bail!("Not done: {missing} Nothing was sent.");
            }
        }
        Ok(None) => {}
        Err(error) => eprintln!(
            "enroll-station: the {kind} workflow's policy could not be read ({}); CM checks \
             the data items itself.",
            term_lines(&error.to_failure().to_string())
        ),
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn create(
    settings: &Settings,
    kind: &str,
    user: &str,
    template: &str,
    data: &[String],
    comment: Option<String>,
    json: bool,
    confirm: &Confirmation,
) -> anyhow::Result<()> {
    let kind = match RequestType::from_name(kind.trim()) {
        Some(
            kind @ (RequestType::TEMPORARY_CARD_ENROLL
            | RequestType::ENROLL
            | RequestType::DUPLICATE),
        ) => kind,
        _ => bail!(
            "\"{}\" is not a type `request create` makes: give TemporaryCards, Enroll or \
             Duplicate (retire and revoke are `card retire|revoke`, an offline unblock is \
             `unblock`).",
            term(kind)
        ),
    };
    let user = super::arguments::guid(user, "user")?;
    let data = parse_data_items(data)?;
    let station = Station::open(settings)?;
    let template = match crate::domain::guid::parse(template) {
        Some(uuid) => uuid,
        None => find_template(&station, template)?,
    };
    check_items(&station, Some(template), kind, &data)?;
    let comment = comment.unwrap_or_default();
    let new = if kind == RequestType::TEMPORARY_CARD_ENROLL {
        NewRequest::temporary_card(template, user, data, comment)
    } else {
        NewRequest::on_behalf(kind, template, user, data, comment)
            .map_err(|why| anyhow::anyhow!("Not done: {why}."))?
    };
    let done = station.perform(Action::Create(new), confirm)?;
    report_created(done, json)
}

fn find_template(station: &Station, name: &str) -> anyhow::Result<Uuid> {
    let templates = station
        .runtime
        .block_on(station.client().profile_templates())
        .map_err(|e| anyhow::anyhow!("{}", e.to_failure()))
        .context("The profile templates could not be read to find the template by name")?;
    let wanted = name.trim();
    let found: Vec<_> = templates
        .iter()
        .filter(|t| t.name.trim().eq_ignore_ascii_case(wanted))
        .collect();
    match found.as_slice() {
        [one] => Ok(one.uuid),
        [] => bail!(
            "No profile template is named \"{}\". Templates: {}.",
            term(wanted),
            term(
                &templates
                    .iter()
                    .map(|t| t.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        ),
        _ => bail!(
            "Several profile templates are named \"{}\": give the template's GUID.",
            term(wanted)
        ),
    }
}

fn report_created(done: ActionDone, json: bool) -> anyhow::Result<()> {
    let ActionDone::Created {
        request_id,
        kind,
        status,
        next,
    } = done
    else {
        bail!("The server's answer named no new request; look in the request list.");
    };
    if json {
        return print_json(&CreatedJson {
            request_id: request_id.to_string(),
            kind: kind.to_string(),
            status: status.map(|s| s.to_string()),
        });
    }
    println!(
        "CM created {kind} request {request_id}{}.",
        status.map_or_else(String::new, |s| format!(" ({})", term(&s.to_string())))
    );
    println!("{}", term(&next));
    Ok(())
}

/// `card retire|revoke`.
pub(super) fn run_card_action(
    settings: &Settings,
    kind: RequestType,
    args: CardActionArgs,
) -> anyhow::Result<()> {
    let data = parse_data_items(&args.data)?;
    let card_id = match (&args.card_id, &args.reader) {
        (Some(text), _) => super::arguments::card_id(text)?,
        (None, reader) => {
            let mut board = settings
                .card_reader()
                .snapshot()
                .context("Could not list the card readers")?;
            settings.reader_filter().apply(&mut board);
            super::bind::named_card(&board, reader.as_deref())?
                .1
                .card_id
        }
    };
    let station = Station::open(settings)?;
    let card = card_allowing(&station, &card_id, kind)?;
    check_items(&station, card.profile_template, kind, &data)?;
    let comment = args.comment.unwrap_or_default();
    let new = NewRequest::on_card(kind, &card, data, comment)
        .map_err(|why| anyhow::anyhow!("Not done: {why}."))?;
    let done = station.perform(Action::Create(new), &args.confirm)?;
    report_created(done, args.json)
}

/// The card's object in use, when CM offers `kind` on it
/// (`GET smartcards/{id}/operations`); refused in words otherwise.
fn card_allowing(
    station: &Station,
    card_id: &CardId,
    kind: RequestType,
) -> anyhow::Result<Smartcard> {
    let client = station.client();
    let objects = station
        .runtime
        .block_on(client.smartcards_by_card_id(card_id))
        .map_err(|e| anyhow::anyhow!("{}", e.to_failure()))
        .with_context(|| {
            format!("Card {card_id} could not be looked up in CM; nothing was sent")
        })?;
    let Some(card) = current_object(&objects).cloned() else {
        bail!(
            "CM knows no card with ID {card_id}: nothing to {}. Check the card ID.",
            kind.to_string().to_lowercase()
        );
    };
    match station
        .runtime
        .block_on(client.smartcard_operations(card.uuid))
    {
        // CM's operations name the unblock workflow `unblock`; an offline
        // unblock runs under the same permission.
        Ok(operations)
            if operations.contains(&CardOperation::Known(kind))
                || (kind == RequestType::OFFLINE_UNBLOCK
                    && operations.contains(&CardOperation::Known(RequestType::UNBLOCK))) => {}
        Ok(operations) => bail!(
            "Not done: CM does not offer {kind} on card {card_id} (smart card object {}, {}) \
             to this account; it offers: {}.",
            card.uuid,
            card.status,
            if operations.is_empty() {
                "nothing".to_owned()
            } else {
                term(
                    &operations
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", "),
                )
                .into_owned()
            }
        ),
        Err(error) => eprintln!(
            "enroll-station: the card's operations could not be read ({}); CM decides.",
            term_lines(&error.to_failure().to_string())
        ),
    }
    Ok(card)
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    #[derive(clap::Parser, Debug)]
    struct Probe {
        #[command(subcommand)]
        command: super::super::card::CardCommand,
    }

    #[test]
    fn a_card_action_needs_a_reader_or_a_card_id() {
        let parsed = Probe::try_parse_from(["x", "retire", "--reader", "Reader 0", "--yes"]);
        assert!(parsed.is_ok(), "{parsed:?}");
        let parsed = Probe::try_parse_from([
            "x",
            "revoke",
            "--card-id",
            "bc88f13f-83ba-4037-8262-46eba1291c6e",
            "--data",
            "EmployeeID=E1234",
            "--data",
            "Reason=lost",
        ]);
        assert!(parsed.is_ok(), "{parsed:?}");
        assert!(Probe::try_parse_from(["x", "retire"]).is_err(), "neither");
        assert!(
            Probe::try_parse_from(["x", "retire", "--reader", "A", "--card-id", "b"]).is_err(),
            "both"
        );
    }
}
