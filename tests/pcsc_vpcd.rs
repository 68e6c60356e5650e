//! Card reading through the real pcscd, with virtual cards inserted through
//! vsmartcard's vpcd: the same path a physical reader's bytes take.

mod common;

use std::sync::Arc;
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use common::vpcd::{
    FIRST_PORT, SECOND_PORT, STATE_DEADLINE, VpcdCard, insert, reader_name, take_slots,
    wait_for_card,
};
use enroll_station::card::identity::{PIV_NO_GUID, UNKNOWN_APPLICATION};
use enroll_station::card::monitor::spawn_monitor;
use enroll_station::card::pcsc_reader::PcscReader;
use enroll_station::card::virtual_card::VirtualCard;
use enroll_station::card::{CardError, IdentityReader as _};
use enroll_station::domain::card::{CardId, CardKind};
use enroll_station::domain::readers::{Arrival, ReaderEvent, SlotState};

use common::vectors::{SSPI_CARDID, SSPI_RAW, YUBICO_CARDID, YUBICO_RAW};

fn remove(card: VpcdCard) {
    let reader = card.reader();
    card.remove();
    assert!(
        wait_for_card(&reader, false),
        "pcscd did not see the removal"
    );
}

#[test]
fn gids_card_is_read_in_windows_order_with_its_atr_and_shown_by_snapshot() {
    let Some(_slots) = take_slots() else { return };
    let card = VirtualCard::gids(SSPI_RAW);
    let atr = card.atr();
    let inserted = insert(card, FIRST_PORT);
    let reader = inserted.reader();

    let identity = PcscReader::new()
        .read_identity(&reader)
        .expect("GIDS card is read");
    assert_eq!(identity.card_id.to_cm_string(), SSPI_CARDID);
    assert_eq!(identity.kind, CardKind::Gids);
    assert_eq!(identity.atr, atr);

    let board = PcscReader::new().snapshot().expect("snapshot");
    let slot = board.get(&reader).expect("the vpcd reader is on the board");
    assert_eq!(slot.identity(), Some(identity));
    assert_eq!(
        board.get(&reader_name(SECOND_PORT)),
        Some(&SlotState::Empty)
    );

    remove(inserted);
    assert_eq!(
        PcscReader::new().read_identity(&reader),
        Err(CardError::NoCard(reader.clone()))
    );
}

#[test]
fn piv_card_is_read_and_two_cards_show_on_the_snapshot() {
    let Some(_slots) = take_slots() else { return };
    let piv = VirtualCard::piv(YUBICO_RAW);
    let piv_atr = piv.atr();
    let first = insert(piv, FIRST_PORT);
    let second = insert(VirtualCard::gids(SSPI_RAW), SECOND_PORT);

    let identity = PcscReader::new()
        .read_identity(&first.reader())
        .expect("PIV card is read");
    assert_eq!(identity.card_id.to_cm_string(), YUBICO_CARDID);
    assert_eq!(identity.kind, CardKind::Piv);
    assert_eq!(identity.atr, piv_atr);

    let board = PcscReader::new().snapshot().expect("snapshot");
    let ids: Vec<(CardKind, String)> = [first.reader(), second.reader()]
        .iter()
        .filter_map(|r| board.get(r).and_then(SlotState::identity))
        .map(|i| (i.kind, i.card_id.to_cm_string()))
        .collect();
    assert_eq!(
        ids,
        vec![
            (CardKind::Piv, YUBICO_CARDID.to_owned()),
            (CardKind::Gids, SSPI_CARDID.to_owned())
        ]
    );
    remove(second);
    remove(first);
}

#[test]
fn chunked_answers_and_odd_layouts_work_through_pcscd() {
    let Some(_slots) = take_slots() else { return };
    let chunked = insert(
        VirtualCard::piv(SSPI_RAW).with_response_chunk(8),
        FIRST_PORT,
    );
    let identity = PcscReader::new()
        .read_identity(&chunked.reader())
        .expect("chunked PIV card is read");
    assert_eq!(identity.card_id.to_cm_string(), SSPI_CARDID);
    remove(chunked);

    let mut chuid = vec![0xEE, 0x01, 0x01, 0x3D, 0x01, 0x00, 0x34, 0x10];
    chuid.extend_from_slice(&YUBICO_RAW);
    chuid.extend_from_slice(&[0x3E, 0x82, 0x06, 0x00]);
    chuid.extend(std::iter::repeat_n(0xAB, 0x600));
    chuid.extend_from_slice(&[0xFE, 0x00]);
    let big = insert(
        VirtualCard::piv_with_chuid(chuid).with_response_chunk(200),
        FIRST_PORT,
    );
    let identity = PcscReader::new()
        .read_identity(&big.reader())
        .expect("PIV card with a 1.5 KB signature is read");
    assert_eq!(identity.card_id.to_cm_string(), YUBICO_CARDID);
    remove(big);

    let moved = insert(
        VirtualCard::gids_with_cardid_at(YUBICO_RAW, 0xA015, 0xDF30).with_response_chunk(16),
        FIRST_PORT,
    );
    let identity = PcscReader::new()
        .read_identity(&moved.reader())
        .expect("GIDS card with a moved cardid is read");
    assert_eq!(identity.card_id, CardId::from_raw(YUBICO_RAW));
    remove(moved);
}

#[test]
fn cards_without_a_card_id_say_why() {
    let Some(_slots) = take_slots() else { return };
    let blank = insert(VirtualCard::blank(), FIRST_PORT);
    let err = PcscReader::new()
        .read_identity(&blank.reader())
        .expect_err("a blank card has no card ID");
    assert_eq!(
        err,
        CardError::NoCardId {
            reason: UNKNOWN_APPLICATION.to_owned(),
            chip: None
        }
    );
    assert!(
        err.to_string()
            .contains("neither PIV, GIDS nor Thales IDPrime")
    );
    remove(blank);

    let no_guid = insert(
        VirtualCard::piv_with_chuid(vec![
            0x35, 0x08, b'2', b'0', b'3', b'0', b'0', b'1', b'0', b'1',
        ]),
        FIRST_PORT,
    );
    let err = PcscReader::new()
        .read_identity(&no_guid.reader())
        .expect_err("a PIV card without GUID has no card ID");
    assert_eq!(
        err,
        CardError::NoCardId {
            reason: PIV_NO_GUID.to_owned(),
            chip: None
        }
    );
    remove(no_guid);

    assert_eq!(
        PcscReader::new().read_identity("No Such Reader 00 00"),
        Err(CardError::UnknownReader("No Such Reader 00 00".to_owned()))
    );
}

/// Waits for the first event matching `wanted`, failing the test with what came instead.
fn expect_event(
    events: &Receiver<ReaderEvent>,
    what: &str,
    wanted: impl Fn(&ReaderEvent) -> bool,
) -> ReaderEvent {
    let deadline = Instant::now() + STATE_DEADLINE;
    let mut seen = Vec::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match events.recv_timeout(left) {
            Ok(event) if wanted(&event) => return event,
            Ok(event) => seen.push(event),
            Err(_) => break,
        }
    }
    panic!("no {what} event within {STATE_DEADLINE:?}; saw {seen:#?}");
}

/// A card found in a reader when the monitor starts may have been left
/// there hours ago: it is announced as already present, never as inserted.
#[test]
fn monitor_announces_a_card_found_at_start_as_already_present() {
    let Some(_slots) = take_slots() else { return };
    let reader = reader_name(FIRST_PORT);
    let left = insert(VirtualCard::gids(SSPI_RAW), FIRST_PORT);
    let (sender, events) = mpsc::channel();
    let monitor = spawn_monitor(Arc::new(move |event| {
        let _ = sender.send(event);
    }));
    let is_ours = |e: &ReaderEvent| e.reader() == Some(reader.as_str());
    let found = expect_event(&events, "CardInserted", |e| {
        is_ours(e) && matches!(e, ReaderEvent::CardInserted { .. })
    });
    assert!(
        matches!(
            found,
            ReaderEvent::CardInserted {
                arrival: Arrival::AlreadyPresent,
                ..
            }
        ),
        "{found:?}"
    );
    left.remove();
    expect_event(&events, "CardRemoved", |e| {
        is_ours(e) && matches!(e, ReaderEvent::CardRemoved { .. })
    });
    let _again = insert(VirtualCard::gids(SSPI_RAW), FIRST_PORT);
    let inserted = expect_event(&events, "CardInserted", |e| {
        is_ours(e) && matches!(e, ReaderEvent::CardInserted { .. })
    });
    assert!(
        matches!(
            inserted,
            ReaderEvent::CardInserted {
                arrival: Arrival::Inserted,
                ..
            }
        ),
        "{inserted:?}"
    );
    drop(monitor);
}

#[test]
fn monitor_reports_readers_insertions_identities_and_removals() {
    let Some(_slots) = take_slots() else { return };
    let reader = reader_name(FIRST_PORT);
    let (sender, events) = mpsc::channel();
    let monitor = spawn_monitor(Arc::new(move |event| {
        let _ = sender.send(event);
    }));
    let is_ours = |e: &ReaderEvent| e.reader() == Some(reader.as_str());

    expect_event(&events, "ReaderAdded", |e| {
        is_ours(e) && matches!(e, ReaderEvent::ReaderAdded { .. })
    });

    let mut insertions = Vec::new();
    let cards = [
        (VirtualCard::gids(SSPI_RAW), SSPI_RAW, CardKind::Gids),
        (VirtualCard::piv(YUBICO_RAW), YUBICO_RAW, CardKind::Piv),
    ];
    for (card, raw, kind) in cards {
        let atr = card.atr();
        let inserted = VpcdCard::insert(card, FIRST_PORT).expect("vpcd accepts the card");
        let ReaderEvent::CardInserted {
            atr: seen_atr,
            insertion,
            arrival,
            ..
        } = expect_event(&events, "CardInserted", |e| {
            is_ours(e) && matches!(e, ReaderEvent::CardInserted { .. })
        })
        else {
            unreachable!("matched CardInserted");
        };
        assert_eq!(seen_atr, atr);
        assert_eq!(
            arrival,
            Arrival::Inserted,
            "the monitor saw the reader empty, then the card"
        );
        let identified = expect_event(&events, "CardIdentified", |e| {
            is_ours(e) && matches!(e, ReaderEvent::CardIdentified { .. })
        });
        let ReaderEvent::CardIdentified {
            insertion: read_for,
            result: Ok(identity),
            ..
        } = identified
        else {
            panic!("the card was not identified: {identified:?}");
        };
        assert_eq!(read_for, insertion);
        assert_eq!(identity.card_id, CardId::from_raw(raw));
        assert_eq!(identity.kind, kind);
        insertions.push(insertion);

        inserted.remove();
        expect_event(&events, "CardRemoved", |e| {
            is_ours(e) && matches!(e, ReaderEvent::CardRemoved { .. })
        });
    }
    assert!(
        insertions[1] > insertions[0],
        "insertion counter grows: {insertions:?}"
    );

    let stopping = Instant::now();
    drop(monitor);
    assert!(
        stopping.elapsed() < Duration::from_secs(3),
        "the monitor stops promptly"
    );
}
