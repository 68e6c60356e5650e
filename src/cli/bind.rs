//! `enroll-station bind`: the same bind as the window's, for scripts.

use std::sync::Arc;

use anyhow::{Context as _, bail};
use serde::Serialize;
use uuid::Uuid;

use super::Settings;
use super::output::print_json;
use std::io::IsTerminal as _;

use crate::audit::Operator;
use crate::card::ReadOptions;
use crate::config::Mode;
use crate::domain::bind::{BindState, BindTarget, wrong_card_alarm};
use crate::domain::card::CardId;
use crate::domain::readers::{IdentityState, ReaderBoard, SlotState};
use crate::supervisors::{SupervisorError, SupervisorPurpose, SupervisorStore};
use crate::worker::effects::{BindContext, reconcile_open_attempts, run_bind};

#[derive(Serialize)]
struct BoundJson {
    request_id: String,
    card_id: String,
    atr: String,
    smartcard_uuid: Option<String>,
    outcome: &'static str,
}

/// Parses a request GUID as operators paste it: any case, braces, spaces.
fn parse_request_id(text: &str) -> anyhow::Result<Uuid> {
    let cleaned = text
        .trim()
        .trim_start_matches('{')
        .trim_end_matches('}')
        .trim();
    Uuid::try_parse(cleaned).map_err(|_| {
        anyhow::anyhow!("\"{text}\" is not a request GUID. Copy the request's ID from CM, e.g. a9b4b42c-cc50-4c9b-89d1-bbc0bcd5a099.")
    })
}

/// The reader to use: the one named, or the only one holding a card. Never a guess between two.
fn choose_reader(board: &ReaderBoard, named: Option<&str>) -> anyhow::Result<String> {
    if let Some(name) = named {
        if board.get(name).is_none() {
            let known: Vec<&str> = board.readers().map(|(n, _)| n).collect();
            bail!(
                "Reader \"{name}\" is not connected. Connected readers: {}.",
                list_or_none(&known)
            );
        }
        return Ok(name.to_owned());
    }
    match board.readers_with_card().as_slice() {
        [only] => Ok((*only).to_owned()),
        [] => bail!("There is no card in any reader. Insert the card and try again."),
        several => bail!(
            "Several readers hold a card ({}). Say which one with --reader NAME.",
            several.join(", ")
        ),
    }
}

fn list_or_none(names: &[&str]) -> String {
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

/// What `bind` was asked to do.
pub(super) struct BindArgs<'a> {
    pub request: &'a str,
    pub reader: Option<&'a str>,
    pub expect_card_id: Option<&'a str>,
    pub retries: u32,
    pub json: bool,
    pub supervisor: Option<&'a str>,
}

/// At a supervised station: who witnesses the bind, and the supervisors to
/// check them against. Refuses before anything is read or sent.
fn witness(
    settings: &Settings,
    named: Option<&str>,
) -> anyhow::Result<Option<(String, SupervisorStore)>> {
    let mode = settings.config.mode;
    if mode != Mode::Supervised {
        if named.is_some() {
            bail!(
                "--supervisor applies only at a supervised station (mode = \"supervised\"); \
                 this one is in {} mode. Remove --supervisor.",
                mode.name()
            );
        }
        return Ok(None);
    }
    let store = SupervisorStore::for_station(
        &settings.config.supervisors,
        crate::journal::journal_path(settings.audit_file(), false)
            .ok()
            .as_deref(),
    );
    if store.is_empty() {
        bail!("Not bound: {}", SupervisorError::NoneConfigured);
    }
    let Some(name) = named else {
        bail!(
            "Not bound: this station is in supervised mode, where a supervisor witnesses every \
             bind. Give --supervisor NAME; the supervisor then types their password."
        );
    };
    Ok(Some((name.to_owned(), store)))
}

/// Reads the supervisor's password and checks it, with the rules the window uses.
fn confirm(name: &str, store: &SupervisorStore, target: &BindTarget) -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        eprintln!(
            "Binding request {} to card {} ({}) in \"{}\": supervisor {name}, confirm with \
             your password.",
            target.request_id, target.expected.card_id, target.expected.kind, target.reader
        );
    }
    let password =
        super::supervisor::read_password(&format!("Password of supervisor {name}: "), false)?;
    crate::supervisors::check(
        store,
        &Operator::from_os(),
        name,
        &password,
        &SupervisorPurpose::ConfirmBind(target.clone()),
    )
    .map_err(|why| anyhow::anyhow!("Not bound: {why}"))
}

pub(super) fn run(server: &Settings, args: BindArgs<'_>) -> anyhow::Result<()> {
    let request_id = parse_request_id(args.request)?;
    let witness = witness(server, args.supervisor)?;
    let expect_card_id = args
        .expect_card_id
        .map(|text| {
            CardId::parse_cm_string(text).with_context(|| {
                format!("\"{text}\" is not a card ID. Give it as CM shows it, e.g. bc88f13f-83ba-4037-8262-46eba1291c6e.")
            })
        })
        .transpose()?;
    let client = server.client()?;
    let journal = crate::journal::open_shared(server.audit_file(), false)?;
    let pcsc = server.card_reader();
    // The card ID is all a bind needs; the chip information is for the window.
    let mut board = pcsc
        .snapshot_with(ReadOptions::default())
        .context("Could not list the card readers")?;
    server.reader_filter().apply(&mut board);
    let reader = choose_reader(&board, args.reader)?;
    let expected = match board.get(&reader) {
        Some(SlotState::Present {
            identity: IdentityState::Failed(why),
            ..
        }) => {
            bail!("The card in \"{reader}\" cannot be bound: {why}")
        }
        Some(slot) => slot.identity().with_context(|| {
            format!("There is no card in \"{reader}\". Insert the card and try again.")
        })?,
        None => bail!("Reader \"{reader}\" is not connected."),
    };
    if let Some(wanted) = expect_card_id
        && wanted != expected.card_id
    {
        bail!(
            "The card in \"{reader}\" has card ID {}, not {wanted} as --expect-card-id requires. Nothing was sent.",
            expected.card_id
        );
    }
    let context = BindContext {
        client,
        readers: Arc::new(pcsc),
        journal,
    };
    let runtime = super::runtime()?;
    for line in runtime.block_on(reconcile_open_attempts(&context)) {
        eprintln!("enroll-station: {line}");
    }
    let mut target = BindTarget {
        request_id,
        reader,
        expected,
        supervisor: None,
    };
    if let Some((name, store)) = &witness {
        target.supervisor = Some(confirm(name, store, &target)?);
    }
    let mut tries_left = args.retries;
    let state = loop {
        let state = runtime.block_on(run_bind(
            &context,
            target.clone(),
            |state| tracing::info!(?state, "bind"),
            |warning| eprintln!("enroll-station: {warning}"),
        ));
        // Only a proof that the bind did not happen allows another POST.
        match state {
            BindState::Failed {
                confirmed_not_bound: true,
                ref failure,
                ..
            } if tries_left > 0 => {
                tries_left -= 1;
                eprintln!(
                    "enroll-station: {failure} Trying again ({tries_left} tries left after this one)."
                );
            }
            state => break state,
        }
    };
    report(state, args.json)
}

fn report(state: BindState, json: bool) -> anyhow::Result<()> {
    match state {
        BindState::Bound {
            target,
            receipt,
            confirmed_after_loss,
        } => {
            let out = BoundJson {
                request_id: target.request_id.to_string(),
                card_id: target.expected.card_id.to_string(),
                atr: target.expected.atr.to_hex(),
                smartcard_uuid: receipt.smartcard_uuid.map(|u| u.to_string()),
                outcome: if confirmed_after_loss {
                    "reconciled_bound"
                } else {
                    "bound"
                },
            };
            if json {
                return print_json(&out);
            }
            println!(
                "Bound request {} to card {} (smart card object {}){}.",
                out.request_id,
                out.card_id,
                out.smartcard_uuid
                    .as_deref()
                    .unwrap_or("not named by the server"),
                if confirmed_after_loss {
                    ", confirmed after the answer was lost"
                } else {
                    ""
                }
            );
            Ok(())
        }
        BindState::Refused { reason, .. } => bail!("Not bound: {reason}"),
        BindState::Failed { failure, .. } => bail!("Not bound: {failure}"),
        BindState::WrongCard { target, bound } => bail!("{}", wrong_card_alarm(&target, &bound)),
        BindState::Unknown { failure, .. } => bail!("Result unknown: {failure}"),
        other => bail!(
            "Not bound: the bind stopped in an unexpected state ({other:?}). Check the request in CM before trying again."
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::card::Atr;
    use crate::domain::readers::ReaderEvent;

    #[test]
    fn request_ids_are_accepted_as_operators_paste_them() {
        let id = "a9b4b42c-cc50-4c9b-89d1-bbc0bcd5a099";
        for text in [
            id,
            "{A9B4B42C-CC50-4C9B-89D1-BBC0BCD5A099}",
            " a9b4b42c-cc50-4c9b-89d1-bbc0bcd5a099 ",
        ] {
            assert_eq!(
                parse_request_id(text)
                    .map(|u| u.to_string())
                    .ok()
                    .as_deref(),
                Some(id)
            );
        }
        let error = parse_request_id("not-a-guid").expect_err("garbage is refused");
        assert!(error.to_string().contains("is not a request GUID"));
    }

    #[test]
    fn the_reader_is_never_guessed_between_two_cards() {
        let mut board = ReaderBoard::default();
        board.apply(&ReaderEvent::ReaderAdded { reader: "A".into() });
        assert!(choose_reader(&board, None).is_err());
        for (reader, insertion) in [("A", 1), ("B", 1)] {
            board.apply(&ReaderEvent::CardInserted {
                reader: reader.into(),
                atr: Atr::from_bytes(vec![0x3b]),
                insertion,
            });
        }
        let error = choose_reader(&board, None).expect_err("two cards");
        assert!(error.to_string().contains("--reader"));
        assert_eq!(choose_reader(&board, Some("B")).ok().as_deref(), Some("B"));
        assert!(choose_reader(&board, Some("C")).is_err());
        board.apply(&ReaderEvent::CardRemoved { reader: "A".into() });
        assert_eq!(choose_reader(&board, None).ok().as_deref(), Some("B"));
    }
}
