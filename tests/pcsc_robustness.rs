//! Cards and readers that make reading hard, through the real pcscd with
//! virtual cards behind vsmartcard's vpcd (issue 3): a card that wants the
//! exact Le (`6Cxx`), a PIV card that hands out a big CHUID in 16-byte
//! `61xx` chunks, a card another program holds exclusively, and two readers
//! with two cards watched by the monitor.
//!
//! What `tests/pcsc_vpcd.rs` already covers (one chunked PIV card, a 1.5 KB
//! signature in 200-byte chunks, the monitor on one reader, the snapshot of
//! two cards) is not repeated here.

mod common;

use std::collections::BTreeMap;
use std::ffi::CString;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use common::vpcd::{
    ApduLog, FIRST_PORT, SECOND_PORT, STATE_DEADLINE, VpcdCard, insert, reader_name, take_slots,
    wait_for_card,
};
use enroll_station::card::monitor::spawn_monitor;
use enroll_station::card::pcsc_reader::PcscReader;
use enroll_station::card::virtual_card::VirtualCard;
use enroll_station::card::{CardError, IdentityReader as _};
use enroll_station::domain::card::{CardId, CardKind};
use enroll_station::domain::readers::{ReaderBoard, ReaderEvent, SlotState};
use pcsc::{Context, Disposition, Protocols, Scope, ShareMode};

use common::vectors::{SSPI_CARDID, SSPI_RAW, YUBICO_CARDID, YUBICO_RAW};

/// The sum of `PcscReader`'s back-off pauses (100 + 200 + 400 ms): a read
/// that gives up on a sharing violation sooner did not retry.
const SHARING_RETRY_TOTAL: Duration = Duration::from_millis(700);

fn insert_logged(card: VirtualCard, port: u16) -> (VpcdCard, ApduLog) {
    let (inserted, log) = VpcdCard::insert_logged(card, port).expect("vpcd accepts the card");
    assert!(
        wait_for_card(&inserted.reader(), true),
        "pcscd did not see the card in {}",
        inserted.reader()
    );
    (inserted, log)
}

fn remove(card: VpcdCard) {
    let reader = card.reader();
    card.remove();
    assert!(
        wait_for_card(&reader, false),
        "pcscd did not see the removal from {reader}"
    );
}

fn exchanges(log: &ApduLog) -> Vec<(Vec<u8>, Vec<u8>)> {
    log.lock().expect("the APDU log is not poisoned").clone()
}

/// A CHUID shaped like real ones: a leading `EE` (buffer length), a `3D`
/// (authentication key map), the GUID, a 1.5 KB `3E` signature and an `FE`.
fn big_chuid(guid: [u8; 16]) -> Vec<u8> {
    let mut chuid = vec![0xEE, 0x01, 0x01, 0x3D, 0x01, 0x00];
    chuid.extend_from_slice(&[0x30, 0x19]);
    chuid.extend(std::iter::repeat_n(0xD4, 25));
    chuid.extend_from_slice(&[0x34, 0x10]);
    chuid.extend_from_slice(&guid);
    chuid.extend_from_slice(&[0x35, 0x08]);
    chuid.extend_from_slice(b"20300101");
    chuid.extend_from_slice(&[0x3E, 0x82, 0x06, 0x00]);
    chuid.extend(std::iter::repeat_n(0xAB, 0x600));
    chuid.extend_from_slice(&[0xFE, 0x00]);
    chuid
}

#[test]
fn wrong_le_first_answers_6cxx_once_then_normally() {
    // The builder itself, without pcscd: the through-pcscd test below relies on it.
    let select_piv = hex::decode("00A4040009A0000003080000100000").expect("hex");
    let mut card = VirtualCard::piv(SSPI_RAW).with_wrong_le_first();
    let refused = card.respond(&select_piv);
    let [0x6C, right_le] = refused[..] else {
        panic!("the first SELECT with Le 00 must get 6Cxx, got {refused:02X?}");
    };
    let mut again = select_piv.clone();
    *again.last_mut().expect("the SELECT has an Le") = right_le;
    let answer = card.respond(&again);
    assert_eq!(answer.len(), usize::from(right_le) + 2, "data of length Le");
    assert!(answer.ends_with(&[0x90, 0x00]), "{answer:02X?}");
    assert!(
        card.respond(&select_piv).ends_with(&[0x90, 0x00]),
        "only the first wrong Le is refused"
    );

    // Without the builder the card is as lenient as before.
    let mut plain = VirtualCard::piv(SSPI_RAW);
    assert!(plain.respond(&select_piv).ends_with(&[0x90, 0x00]));
}

#[test]
fn a_card_answering_6cxx_first_is_identified_through_pcscd() {
    let Some(_slots) = take_slots() else { return };
    for (card, raw, kind) in [
        (VirtualCard::piv(YUBICO_RAW), YUBICO_RAW, CardKind::Piv),
        (VirtualCard::gids(SSPI_RAW), SSPI_RAW, CardKind::Gids),
    ] {
        let (inserted, log) = insert_logged(card.with_wrong_le_first(), FIRST_PORT);
        let identity = PcscReader::new()
            .read_identity(&inserted.reader())
            .expect("a card that answers 6Cxx first is read");
        assert_eq!(identity.card_id, CardId::from_raw(raw));
        assert_eq!(identity.kind, kind);

        // Prove the card did refuse once, and the station resent the very
        // same command with the Le the card asked for.
        let seen = exchanges(&log);
        let refused = seen
            .iter()
            .position(|(_, answer)| answer.first() == Some(&0x6C))
            .unwrap_or_else(|| panic!("the card never answered 6Cxx: {seen:02X?}"));
        let (command, answer) = &seen[refused];
        let (resent, _) = seen
            .get(refused + 1)
            .expect("the station sent another command after 6Cxx");
        assert_eq!(resent.len(), command.len(), "the resend keeps the shape");
        assert_eq!(resent[..resent.len() - 1], command[..command.len() - 1]);
        assert_eq!(resent.last(), answer.get(1), "the resend carries Le = xx");
        remove(inserted);
    }
}

#[test]
fn a_piv_card_with_a_big_chuid_in_16_byte_chunks_is_identified_through_pcscd() {
    let Some(_slots) = take_slots() else { return };
    let chuid = big_chuid(SSPI_RAW);
    let object_len = chuid.len() + 4; // 53 82 hi lo
    let (inserted, log) = insert_logged(
        VirtualCard::piv_with_chuid(chuid).with_response_chunk(16),
        FIRST_PORT,
    );
    let identity = PcscReader::new()
        .read_identity(&inserted.reader())
        .expect("the chunked PIV card with a 1.5 KB signature is read");
    assert_eq!(identity.card_id.to_cm_string(), SSPI_CARDID);
    assert_eq!(identity.kind, CardKind::Piv);

    // The card really handed it out 16 bytes at a time.
    let seen = exchanges(&log);
    let get_responses = seen
        .iter()
        .filter(|(command, _)| command.starts_with(&[0x00, 0xC0, 0x00, 0x00]))
        .count();
    assert!(
        get_responses >= object_len / 16,
        "{get_responses} GET RESPONSEs for a {object_len}-byte object"
    );
    assert!(
        seen.iter().all(|(_, answer)| answer.len() <= 16 + 2),
        "an answer carried more than 16 data bytes"
    );
    remove(inserted);
}

#[test]
fn an_exclusively_held_card_is_a_sharing_violation_until_released() {
    let Some(_slots) = take_slots() else { return };
    let inserted = insert(VirtualCard::gids(SSPI_RAW), FIRST_PORT);
    let reader = inserted.reader();

    let other_program = Context::establish(Scope::User).expect("a second PC/SC context");
    let name = CString::new(reader.clone()).expect("reader name has no NUL");
    let held = other_program
        .connect(&name, ShareMode::Exclusive, Protocols::ANY)
        .expect("the other program gets the card exclusively");

    let started = Instant::now();
    let err = PcscReader::new()
        .read_identity(&reader)
        .expect_err("the card is held exclusively by another connection");
    let waited = started.elapsed();
    assert_eq!(err, CardError::SharingViolation(reader.clone()));
    let message = err.to_string();
    assert!(
        message.contains("SCARD_E_SHARING_VIOLATION") && message.contains(&reader),
        "the message names the error and the reader: {message}"
    );
    // A lower bound, not a speed goal: the read only gives up after sleeping
    // through every back-off pause, so a shorter wait means it did not retry.
    assert!(
        waited >= SHARING_RETRY_TOTAL,
        "gave up after {waited:?}, before its retries"
    );

    held.disconnect(Disposition::LeaveCard)
        .map_err(|(_, err)| err)
        .expect("the other program lets go");
    let identity = PcscReader::new()
        .read_identity(&reader)
        .expect("once released, the card is read");
    assert_eq!(identity.card_id.to_cm_string(), SSPI_CARDID);
    remove(inserted);
}

/// Collects events until `done` says the board is complete, failing with
/// what came when it is not within the deadline.
fn collect_until(
    events: &Receiver<ReaderEvent>,
    board: &mut ReaderBoard,
    what: &str,
    done: impl Fn(&ReaderBoard) -> bool,
) {
    let deadline = Instant::now() + STATE_DEADLINE;
    let mut seen = Vec::new();
    while !done(board) {
        let Some(left) = deadline.checked_duration_since(Instant::now()) else {
            panic!("not {what} within {STATE_DEADLINE:?}; saw {seen:#?}; board {board:#?}");
        };
        match events.recv_timeout(left) {
            Ok(event) => {
                board.apply(&event);
                seen.push(event);
            }
            Err(_) => {
                panic!("not {what} within {STATE_DEADLINE:?}; saw {seen:#?}; board {board:#?}")
            }
        }
    }
}

#[test]
fn the_monitor_reports_two_cards_each_in_its_reader() {
    let Some(_slots) = take_slots() else { return };
    let first = reader_name(FIRST_PORT);
    let second = reader_name(SECOND_PORT);
    let (sender, events) = mpsc::channel();
    let monitor = spawn_monitor(Arc::new(move |event| {
        let _ = sender.send(event);
    }));
    let mut board = ReaderBoard::default();
    collect_until(&events, &mut board, "both vpcd readers listed", |b| {
        b.get(&first).is_some() && b.get(&second).is_some()
    });

    let gids = insert(VirtualCard::gids(SSPI_RAW), FIRST_PORT);
    let piv = insert(VirtualCard::piv(YUBICO_RAW), SECOND_PORT);
    collect_until(&events, &mut board, "both cards identified", |b| {
        b.get(&first).and_then(SlotState::identity).is_some()
            && b.get(&second).and_then(SlotState::identity).is_some()
    });
    let identified: BTreeMap<String, (CardKind, String)> = [&first, &second]
        .into_iter()
        .filter_map(|reader| {
            let identity = board.get(reader).and_then(SlotState::identity)?;
            Some((
                reader.clone(),
                (identity.kind, identity.card_id.to_cm_string()),
            ))
        })
        .collect();
    assert_eq!(
        identified,
        BTreeMap::from([
            (first.clone(), (CardKind::Gids, SSPI_CARDID.to_owned())),
            (second.clone(), (CardKind::Piv, YUBICO_CARDID.to_owned())),
        ])
    );

    // Removing one card leaves the other reader's card and identity alone.
    remove(gids);
    collect_until(&events, &mut board, "the first reader empty", |b| {
        b.get(&first) == Some(&SlotState::Empty)
    });
    assert_eq!(
        board
            .get(&second)
            .and_then(SlotState::identity)
            .map(|i| i.card_id.to_cm_string()),
        Some(YUBICO_CARDID.to_owned())
    );
    remove(piv);
    drop(monitor);
}
