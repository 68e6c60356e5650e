//! Card lookup in the window, with the card in a real reader (issue 21):
//! egui_kittest drives the real app state; the card is a virtual GIDS card
//! in a vpcd slot read through pcscd; CM is the emulator over loopback HTTP.
//! The card is bound to a request first, through the window and the
//! emulator, as at the desk; then the agent opens Card lookup, looks up the
//! card in the reader, and sees CM's record of it and the operations CM
//! offers.
//!
//! Needs pcscd with the vpcd driver (`scripts/deps.sh test`); under CI=true
//! (or ENROLL_STATION_REQUIRE_SERVICES) a missing one fails the test.

mod common;

use common::vpcd::{FIRST_PORT, insert, reader_name, take_slots};
use common::window::*;

use egui_kittest::kittest::Queryable as _;

use enroll_station::card::virtual_card::VirtualCard;
use enroll_station::domain::card::CardId;
use enroll_station::domain::request::SmartcardStatus;

/// The card's ID bytes: of no meaning but their own.
const CARD: [u8; 16] = [
    0x2d, 0x91, 0x4e, 0x07, 0xb3, 0x5a, 0x4c, 0x18, 0x9f, 0x62, 0x0b, 0xd4, 0x7e, 0x35, 0xa1, 0xc9,
];

#[test]
fn the_card_in_the_reader_is_looked_up_with_its_cm_state_and_operations() {
    let Some(_slots) = take_slots() else { return };
    let _card = insert(VirtualCard::gids(CARD), FIRST_PORT);
    let card_id = CardId::from_raw(CARD).to_string();
    let (dir, path) = common::temp_journal();
    let journal =
        enroll_station::audit::journal::open_shared(Some(&path), true).expect("journal opens");
    let mut station = station_customized(journal, None, |setup| {
        // The real PC/SC readers, besides the (empty) demo reader.
        setup.watch_pcsc = true;
    });
    station.journal = path;
    station._journal_dir = Some(dir);

    // Bound earlier: the known request takes the card in the vpcd reader.
    let h = &mut station.harness;
    wait_for(h, "the request list", |h| shows(h, PERSON));
    wait_for(h, "the card in the vpcd reader", |h| shows(h, &card_id));
    assert!(
        shows(h, &reader_name(FIRST_PORT)),
        "the reader is the vpcd slot"
    );
    h.get_by_label(PERSON).click();
    h.run_steps(2);
    wait_for(h, "Bind to be enabled", bind_enabled);
    h.get_by_label("Bind").click();
    wait_for(h, "the bind to end", |h| {
        emulator_binds(h) == 1 && shows(h, "Done")
    });
    let bound = emulator(&station)
        .smartcards()
        .into_iter()
        .find(|card| card.card_id.map(|c| c.to_string()).as_deref() == Some(card_id.as_str()))
        .expect("CM holds the card that was in the reader");
    assert_eq!(bound.status, SmartcardStatus::ASSIGNED);

    // Card lookup: the card in the reader, CM's record, CM's operations.
    let h = &mut station.harness;
    press(h, "Card lookup");
    wait_for(h, "the card panel", |h| {
        shows(h, "Look up the card in the reader")
    });
    press(h, "Look up the card in the reader");
    wait_for(h, "CM's record of the card", |h| {
        shows(h, "What you may do to this card")
    });
    assert!(
        shows(h, &format!("Card ID {card_id}")),
        "the card looked up is the one in the reader"
    );
    assert!(
        shows(h, "Known to CM: Assigned"),
        "CM's state of the card in words"
    );
    assert!(
        shows(h, &format!("Smart card object {}", bound.uuid)),
        "CM's object for the card"
    );
    assert!(shows(h, "You may start: "), "CM's operations are listed");
    assert!(shows(h, "Retire…"), "CM's Retire is offered");
    assert!(
        !shows(h, "Revoke…"),
        "only what CM lists is offered (an Assigned card: retire)"
    );
    // The offer opens the retire form, with the workflow's items.
    press(h, "Retire…");
    wait_for(h, "the retire form", |h| shows(h, "Retire card…"));
}

/// How many binds the emulator took, read through the window's state.
fn emulator_binds(h: &egui_kittest::Harness<'static, enroll_station::ui::StationApp>) -> usize {
    h.state().demo_emulator().map_or(0, |e| e.bind_count())
}
