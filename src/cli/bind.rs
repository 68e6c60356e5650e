//! `enroll-station bind`: the same bind as the window's, for scripts.

use std::sync::Arc;

use anyhow::{Context as _, bail};
use serde::Serialize;
use uuid::Uuid;

use super::Settings;
use super::escape::term;
use super::output::print_json;
use std::io::IsTerminal as _;

use crate::audit::Operator;
use crate::card::ReadOptions;
use crate::card::monitor::{EventSink, spawn_monitor_with};
use crate::config::Mode;
use crate::domain::bind::{BindState, BindTarget, wrong_card_alarm};
use crate::domain::card::CardIdentity;
use crate::domain::card_choice::{CardRule, NoCard, choose_card};
use crate::domain::readers::ReaderBoard;
use crate::supervisors::{SupervisorError, SupervisorPurpose, SupervisorStore};
use crate::worker::effects::{BindContext, SharedJournal, reconcile_open_attempts, run_bind};
use std::time::{Duration, Instant};

#[derive(Serialize)]
struct BoundJson {
    request_id: String,
    card_id: String,
    atr: String,
    smartcard_uuid: Option<String>,
    outcome: &'static str,
}

/// A card the operator named (`--reader`, `--expect-card-id`), as the
/// readers are now. The ID check against `--expect-card-id` comes after.
pub(super) fn named_card(
    board: &ReaderBoard,
    reader: Option<&str>,
) -> anyhow::Result<(String, CardIdentity)> {
    let rule = CardRule {
        reader: reader.map(str::to_owned),
        inserted_after: None,
    };
    choose_card(board, &rule).map_err(|no| anyhow::anyhow!(in_cli_words(board, &no)))
}

/// Why no card can be used, with what to type next.
fn in_cli_words(board: &ReaderBoard, no: &NoCard) -> String {
    match no {
        NoCard::NoneInserted => {
            "There is no card in any reader. Insert the card and try again.".into()
        }
        NoCard::Several(readers) => format!(
            "Several readers hold a card ({}). Say which one with --reader NAME.",
            readers.join(", ")
        ),
        NoCard::ReaderGone(name) => {
            let known: Vec<&str> = board.readers().map(|(n, _)| n).collect();
            format!(
                "Reader \"{name}\" is not connected. Connected readers: {}.",
                list_or_none(&known)
            )
        }
        NoCard::Empty(name) => {
            format!("There is no card in \"{name}\". Insert the card and try again.")
        }
        other => other.to_string(),
    }
}

/// Waits for a card inserted after the command started: without a named
/// card, a card that was already in a reader (perhaps left by the last
/// person) is never used.
fn wait_for_new_card(
    settings: &Settings,
    timeout: Duration,
) -> anyhow::Result<(String, CardIdentity)> {
    let (tx, rx) = std::sync::mpsc::channel();
    let sink: EventSink = Arc::new(move |event| {
        let _ = tx.send(event);
    });
    let _monitor = spawn_monitor_with(settings.reader_filter().wrap(sink), settings.card_reader());
    let mut board = ReaderBoard::default();
    let rule = CardRule {
        reader: None,
        inserted_after: Some(board.now()),
    };
    eprintln!(
        "enroll-station: insert the card to bind into a reader (waiting up to {} s). A card \
         already in a reader is used only when you name it with --reader or --expect-card-id.",
        timeout.as_secs()
    );
    let deadline = Instant::now() + timeout;
    let mut told = std::collections::BTreeSet::new();
    loop {
        match choose_card(&board, &rule) {
            Ok(found) => return Ok(found),
            Err(NoCard::InsertedBefore(reader)) => {
                if told.insert(reader.clone()) {
                    eprintln!(
                        "enroll-station: the card in \"{}\" was there before this command \
                         started, so it is not used: take it out and insert the card to bind.",
                        term(&reader)
                    );
                }
            }
            Err(no) if !no.may_resolve_by_waiting() => {
                bail!("{} Nothing was sent.", in_cli_words(&board, &no))
            }
            Err(_) => {}
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            bail!(
                "No card was inserted within {} s. Nothing was sent. Run bind again and insert \
                 the card while it waits, or name a card already in a reader with --reader NAME.",
                timeout.as_secs()
            );
        }
        match rx.recv_timeout(left) {
            Ok(event) => board.apply(&event),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                bail!("The card reader monitor stopped. Nothing was sent. Run bind again.")
            }
        }
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
    pub card_timeout: Duration,
    pub retries: u32,
    pub json: bool,
    pub supervisor: Option<&'a str>,
}

/// At a supervised station: who witnesses the bind, and the supervisors to
/// check them against. Refuses before anything is read or sent.
pub(super) fn witness(
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
        crate::audit::journal::journal_path(settings.audit_file(), false)
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

/// Refuses, before any card is read or any password asked, a witness whose
/// configured account is the operator's (the OS account or the principal
/// the server signed in); the refusal is journalled.
fn refuse_own_witness(
    operator: &Operator,
    request_id: Uuid,
    name: &str,
    store: &SupervisorStore,
    journal: &SharedJournal,
) -> anyhow::Result<()> {
    let Some(account) = store.account_of(name) else {
        // An unknown name is refused with the password, in the words of a wrong one.
        return Ok(());
    };
    let supervisor = name.trim();
    let Err(why) = crate::supervisors::check_witness(operator, supervisor, Some(account)) else {
        return Ok(());
    };
    let what = format!("to witness the bind of request {request_id}");
    let event = crate::supervisors::refusal_event(
        operator,
        name,
        &what,
        Some(request_id),
        &Err(why.clone()),
    );
    journal_refusal(event, journal);
    bail!("Not bound: {why} Nothing was read or sent.")
}

/// Writes a refused supervisor credential to the journal (the name tried,
/// never the password); a journal that cannot take it is named on stderr.
fn journal_refusal(event: Option<crate::audit::StationEvent>, journal: &SharedJournal) {
    let Some(event) = event else {
        return;
    };
    let mut journal = journal
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Err(why) = journal.record_event(event) {
        eprintln!(
            "enroll-station: the refusal could not be written to the audit journal: {}",
            term(&why.to_string())
        );
    }
}

/// Reads the supervisor's password and checks it, with the rules the window uses.
fn confirm(
    name: &str,
    store: &SupervisorStore,
    target: &BindTarget,
    operator: &Operator,
    journal: &SharedJournal,
) -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        eprintln!(
            "Binding request {} to card {} ({}) in \"{}\": supervisor {name}, confirm with \
             your password.",
            target.request_id,
            target.expected.card_id,
            target.expected.kind,
            term(&target.reader)
        );
    }
    let purpose = SupervisorPurpose::ConfirmBind(target.clone());
    check_password(name, store, &purpose, operator, journal)
}

/// Reads the supervisor's password and checks it for `purpose` (a batch),
/// after saying on a terminal what it confirms (`prompt`).
pub(super) fn confirm_purpose(
    name: &str,
    store: &SupervisorStore,
    purpose: &SupervisorPurpose,
    prompt: &str,
    operator: &Operator,
    journal: &SharedJournal,
) -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        eprintln!("{}", term(prompt));
    }
    check_password(name, store, purpose, operator, journal)
}

fn check_password(
    name: &str,
    store: &SupervisorStore,
    purpose: &SupervisorPurpose,
    operator: &Operator,
    journal: &SharedJournal,
) -> anyhow::Result<String> {
    let password =
        super::supervisor::read_password(&format!("Password of supervisor {name}: "), false)?;
    let result = crate::supervisors::check(store, operator, name, &password, purpose);
    drop(password);
    journal_refusal(
        crate::supervisors::refusal_record(operator, name, purpose, &result),
        journal,
    );
    result.map_err(|why| anyhow::anyhow!("Not bound: {why}"))
}

pub(super) fn run(server: &Settings, args: BindArgs<'_>) -> anyhow::Result<()> {
    let request_id = super::arguments::guid(args.request, "request")?;
    let witness = witness(server, args.supervisor)?;
    let expect_card_id = args
        .expect_card_id
        .map(super::arguments::card_id)
        .transpose()?;
    let client = server.client()?;
    let journal = crate::audit::journal::open_shared(server.audit_file(), false)?;
    let runtime = super::runtime()?;
    // Signs in first: the principal the server accepts is journalled with
    // the attempt and compared with the witness's account. A failure is
    // the bind's to report, after its attempt is on record.
    if let Err(error) = runtime.block_on(client.get_request(request_id)) {
        tracing::debug!(%error, "the sign-in before the bind failed");
    }
    let operator = crate::worker::effects::operator_of(&client);
    if let Some((name, store)) = &witness {
        refuse_own_witness(&operator, request_id, name, store, &journal)?;
    }
    let pcsc = server.card_reader();
    let (reader, expected) = if args.reader.is_none() && expect_card_id.is_none() {
        wait_for_new_card(server, args.card_timeout)?
    } else {
        // The card ID is all a bind needs; the chip information is for the window.
        let mut board = pcsc
            .snapshot_with(ReadOptions::default())
            .context("Could not list the card readers")?;
        server.reader_filter().apply(&mut board);
        named_card(&board, args.reader)?
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
    for line in runtime.block_on(reconcile_open_attempts(&context)) {
        eprintln!("enroll-station: {}", term(&line));
    }
    for line in runtime.block_on(crate::worker::actions::reconcile_open_actions(&context)) {
        eprintln!("enroll-station: {}", term(&line));
    }
    let mut target = BindTarget {
        request_id,
        // Bound by GUID: the command line never fetched the request's name.
        person: String::new(),
        reader,
        expected,
        supervisor: None,
    };
    if let Some((name, store)) = &witness {
        target.supervisor = Some(confirm(name, store, &target, &operator, &context.journal)?);
    }
    let mut tries_left = args.retries;
    let state = loop {
        let state = runtime.block_on(run_bind(
            &context,
            target.clone(),
            |state| tracing::info!(?state, "bind"),
            |warning| eprintln!("enroll-station: {}", term(warning)),
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
                    "enroll-station: {} Trying again ({tries_left} tries left after this one).",
                    term(&failure.to_string())
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
    use crate::domain::card::{Atr, CardId};
    use crate::domain::readers::ReaderEvent;

    #[test]
    fn the_reader_is_never_guessed_between_two_cards() {
        let mut board = ReaderBoard::default();
        board.apply(&ReaderEvent::ReaderAdded { reader: "A".into() });
        let error = named_card(&board, None).expect_err("no card");
        assert!(
            error.to_string().contains("no card in any reader"),
            "{error}"
        );
        for (reader, byte) in [("A", 1u8), ("B", 2)] {
            board.apply(&ReaderEvent::CardInserted {
                reader: reader.into(),
                atr: Atr::from_bytes(vec![0x3b]),
                insertion: 1,
                arrival: crate::domain::readers::Arrival::AlreadyPresent,
            });
            board.apply(&ReaderEvent::CardIdentified {
                reader: reader.into(),
                insertion: 1,
                result: Ok(CardIdentity {
                    atr: Atr::from_bytes(vec![0x3b]),
                    card_id: CardId::from_raw([byte; 16]),
                    kind: crate::domain::card::CardKind::Gids,
                    chip: None,
                    location: None,
                    yubikey_serial: None,
                }),
            });
        }
        let error = named_card(&board, None).expect_err("two cards");
        assert!(error.to_string().contains("--reader"), "{error}");
        assert_eq!(
            named_card(&board, Some("B"))
                .map(|(r, c)| (r, c.card_id))
                .ok(),
            Some(("B".to_owned(), CardId::from_raw([2; 16]))),
            "a named reader's card is used, though it was in before"
        );
        let error = named_card(&board, Some("C")).expect_err("no such reader");
        assert!(
            error.to_string().contains("Connected readers: A, B"),
            "{error}"
        );
        board.apply(&ReaderEvent::CardRemoved { reader: "A".into() });
        assert_eq!(
            named_card(&board, None).ok().map(|(r, _)| r).as_deref(),
            Some("B")
        );
    }
}
