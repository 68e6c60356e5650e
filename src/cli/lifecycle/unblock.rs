//! `enroll-station unblock`: an offline unblock by phone on the command
//! line. The response is asked under an approved OfflineUnblock request CM
//! holds for the card (named with `--request`, or found for the card and
//! its user), else under one created for it; once the card holder has used
//! it, the request is marked Completed (`--complete`, or asked at a terminal).

use std::io::{BufRead as _, IsTerminal as _, Write as _};

use anyhow::bail;
use serde::Serialize;
use uuid::Uuid;

use super::super::Settings;
use super::super::escape::{term, term_lines};
use super::super::output::print_json;
use super::{Confirmation, Station, card_allowing, check_items, report_created};
use crate::domain::action::{Action, ActionDone, OfflineUnblock, parse_data_items};
use crate::domain::card::CardId;
use crate::domain::request::{RequestStatus, RequestType};
use crate::domain::smartcard::Smartcard;
use crate::domain::unblock::Challenge;

/// `unblock`.
#[derive(Debug, clap::Args)]
pub struct UnblockArgs {
    /// The card's ID, as CM shows it.
    #[arg(long, value_name = "GUID")]
    pub card_id: String,
    /// The challenge the card's unblock screen shows (hex; spaces allowed).
    #[arg(long, value_name = "HEX")]
    pub challenge: String,
    /// The card's admin key is diversified (CM's `diversified=True`).
    #[arg(long)]
    pub diversified: bool,
    /// An approved OfflineUnblock request to use instead of creating one.
    /// Without it, an approved OfflineUnblock request CM holds for the card
    /// and its user is used when there is one, else one is created.
    #[arg(long, value_name = "GUID")]
    pub request: Option<String>,
    /// Mark the request Completed once the response is shown (for scripts;
    /// at a terminal the station asks once the card holder has used it).
    #[arg(long)]
    pub complete: bool,
    /// A data item the workflow collects (repeatable).
    #[arg(long = "data", value_name = "NAME=VALUE")]
    pub data: Vec<String>,
    /// A comment for the request.
    #[arg(long, value_name = "TEXT")]
    pub comment: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub confirm: Confirmation,
}

#[derive(Serialize)]
struct UnblockJson {
    request_id: String,
    card_id: String,
    response: String,
    /// The request's status after `--complete`; absent without it.
    #[serde(skip_serializing_if = "Option::is_none")]
    request_status: Option<String>,
}

/// `unblock`.
pub(in crate::cli) fn run_unblock(settings: &Settings, args: UnblockArgs) -> anyhow::Result<()> {
    let card_id = super::super::arguments::card_id(&args.card_id)?;
    let challenge = Challenge::parse(&args.challenge)?;
    let request = args
        .request
        .as_deref()
        .map(|text| super::super::arguments::guid(text, "request"))
        .transpose()?;
    let data = parse_data_items(&args.data)?;
    let station = Station::open(settings)?;
    let (request, smartcard) = match request {
        // Under an existing request the card's offer is already used.
        Some(request) => {
            check_unblock_request(&station, request)?;
            (Some(request), None)
        }
        None => {
            let card = card_allowing(&station, &card_id, RequestType::OFFLINE_UNBLOCK)?;
            match approved_unblock(&station, &card) {
                Some(existing) => (Some(existing), Some(card.uuid)),
                None => {
                    check_items(
                        &station,
                        card.profile_template,
                        RequestType::OFFLINE_UNBLOCK,
                        &data,
                    )?;
                    (None, Some(card.uuid))
                }
            }
        }
    };
    let action = Action::OfflineUnblock(OfflineUnblock {
        card_id,
        smartcard,
        request,
        challenge,
        diversified: args.diversified,
        data,
        comment: args.comment.unwrap_or_default(),
    });
    let ledger = crate::worker::actions::UnblockLedger::default();
    let done = station.perform(action, &args.confirm)?;
    ledger.note_done(&done);
    match done {
        ActionDone::UnblockResponse {
            request_id,
            card_id,
            response,
        } => {
            if args.json {
                let hex = zeroize::Zeroizing::new(hex::encode_upper(response.bytes()));
                drop(response);
                let request_status = match args.complete {
                    true => Some(complete(&station, &ledger, request_id, card_id)?.to_string()),
                    false => {
                        left_open(request_id);
                        None
                    }
                };
                return print_json(&UnblockJson {
                    request_id: request_id.to_string(),
                    card_id: card_id.to_string(),
                    response: hex.to_string(),
                    request_status,
                });
            }
            println!("Unblock response for card {card_id} (request {request_id}):");
            println!();
            // Large-ish: spaced out, on a line of its own, to read out.
            let grouped = response.grouped();
            drop(response);
            let spaced: zeroize::Zeroizing<String> = zeroize::Zeroizing::new(
                grouped
                    .chars()
                    .map(|c| {
                        if c == ' ' {
                            "  ".to_owned()
                        } else {
                            format!("{c} ")
                        }
                    })
                    .collect(),
            );
            println!("    {}", spaced.trim_end());
            println!();
            println!(
                "Read it to the card holder, who types it into the card's unblock screen. It \
                 was not logged or journalled; close this terminal's scrollback when done."
            );
            drop((grouped, spaced));
            finish_unblock(&station, &ledger, request_id, card_id, args.complete)
        }
        // The request waits for approval: the request is the result.
        created @ ActionDone::Created { .. } => {
            let ActionDone::Created {
                request_id, next, ..
            } = &created
            else {
                return Ok(());
            };
            eprintln!(
                "enroll-station: {} Then run unblock again with --request {request_id}.",
                term(next)
            );
            report_created(created, args.json)
        }
        other => bail!("Unexpected answer ({other}); check the card in CM."),
    }
}

/// An approved OfflineUnblock request CM holds for the card and its user,
/// said on stderr: the response is asked under it, no request is created.
/// When CM cannot say, one is created (and that is said too).
fn approved_unblock(station: &Station, card: &Smartcard) -> Option<Uuid> {
    match station
        .runtime
        .block_on(crate::worker::actions::approved_unblocks(
            station.client(),
            card,
        )) {
        Ok(found) => {
            let first = found.first()?;
            eprintln!(
                "enroll-station: CM holds an approved OfflineUnblock request for this card, {}: \
                 the response is asked under it and no request is created{}.",
                first.describe(),
                if found.len() > 1 {
                    format!(
                        " ({} more approved; name one with --request)",
                        found.len() - 1
                    )
                } else {
                    String::new()
                }
            );
            Some(first.request)
        }
        Err(error) => {
            eprintln!(
                "enroll-station: CM could not say whether it holds an approved unblock request \
                 for this card ({}); a new OfflineUnblock request is created.",
                term_lines(&error.to_failure().to_string())
            );
            None
        }
    }
}

/// `--request`: an OfflineUnblock request CM will give a response under
/// (Approved or Executing), refused in words before anything is sent.
fn check_unblock_request(station: &Station, request: Uuid) -> anyhow::Result<()> {
    let now = match station
        .runtime
        .block_on(station.client().get_request(request))
    {
        Ok(now) => now,
        Err(error) => {
            eprintln!(
                "enroll-station: request {request} could not be read ({}); CM decides.",
                term_lines(&error.to_failure().to_string())
            );
            return Ok(());
        }
    };
    if now.request_type != RequestType::OFFLINE_UNBLOCK {
        bail!(
            "Not done: request {request} is of type {}, not OfflineUnblock: give the \
             OfflineUnblock request's GUID, or leave --request out. Nothing was sent.",
            now.request_type
        );
    }
    match now.status {
        RequestStatus::APPROVED | RequestStatus::EXECUTING => Ok(()),
        RequestStatus::PENDING => bail!(
            "Not done: request {request} waits for approval (Pending); ask again once it is \
             approved in the CM portal. Nothing was sent."
        ),
        status => bail!(
            "Not done: request {request} is {status}; CM gives a response only under an \
             Approved (or Executing) request. Leave --request out to use or create another. \
             Nothing was sent."
        ),
    }
}

/// After the response was shown: `--complete` completes the request now;
/// at a terminal the station asks once the card holder has used it;
/// otherwise the request stays open and the command to complete it is said.
fn finish_unblock(
    station: &Station,
    ledger: &crate::worker::actions::UnblockLedger,
    request: Uuid,
    card_id: CardId,
    complete_now: bool,
) -> anyhow::Result<()> {
    let asked = !complete_now && std::io::stdin().is_terminal() && {
        eprint!(
            "Once the card holder has unblocked the card, press y and Enter to mark request \
             {request} Completed in CM (anything else leaves it open): "
        );
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer).is_ok()
            && matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes")
    };
    if complete_now || asked {
        let status = complete(station, ledger, request, card_id)?;
        println!("Request {request} is {}.", term(&status.to_string()));
    } else {
        left_open(request);
    }
    Ok(())
}

/// Says on stderr that `request` stays open, and how to complete it.
fn left_open(request: Uuid) {
    eprintln!(
        "enroll-station: request {request} stays open in CM. Mark it Completed once the card \
         is unblocked: enroll-station request complete --request {request}"
    );
}

/// Marks `request` Completed (see
/// [`complete_unblock`](crate::worker::actions::complete_unblock)).
fn complete(
    station: &Station,
    ledger: &crate::worker::actions::UnblockLedger,
    request: Uuid,
    card_id: CardId,
) -> anyhow::Result<RequestStatus> {
    let done = station
        .runtime
        .block_on(crate::worker::actions::complete_unblock(
            &station.context,
            ledger,
            request,
            card_id,
        ))
        .map_err(|failure| anyhow::anyhow!("{failure}"))?;
    match done {
        ActionDone::StatusChanged { status, .. } => Ok(status),
        other => bail!("Unexpected answer ({other}); check request {request} in CM."),
    }
}
