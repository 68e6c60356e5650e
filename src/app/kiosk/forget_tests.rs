//! The kiosk forgets (reviews M4, M5): the card step's fixed wait, a card
//! taken out after the result, the desk a supervisor left going back.

use super::tests::{IDLE, at_card_step, insertion_of, target};
use super::*;
use crate::domain::bind::{BindReceipt, BindState};
use crate::domain::readers::{ReaderBoard, ReaderEvent};

fn removal(board: &mut ReaderBoard, reader: &str) {
    board.apply(&ReaderEvent::CardRemoved {
        reader: reader.into(),
    });
}

/// Review M5: person A scanned and walked away; whatever anyone presses,
/// the card step waits [`CARD_WAIT`] for a card, then forgets A.
#[test]
fn the_card_step_waits_a_fixed_time_for_a_card_whatever_is_pressed() {
    let wait = CARD_WAIT.as_secs_f64();
    // A long idle time changes nothing at the card step.
    let mut kiosk = KioskState::new(true, Duration::from_secs(3_600), true);
    let mut board = ReaderBoard::default();
    board.apply(&ReaderEvent::ReaderAdded {
        reader: "R1".into(),
    });
    at_card_step(&mut kiosk.flow);
    kiosk.flow.observe_card(&board, 2.0);
    assert_eq!(kiosk.flow.card_deadline(), Some(2.0 + wait));
    assert_eq!(kiosk.deadline(), Some(2.0 + wait));
    for now in [5.0, 15.0, 25.0, 31.0] {
        kiosk.flow.touch(now);
        kiosk.flow.observe_card(&board, now);
        assert!(!kiosk.reset_if_due(now), "{now}");
    }
    assert_eq!(
        kiosk.flow.card_deadline(),
        Some(2.0 + wait),
        "keys and presses do not postpone it"
    );
    assert_eq!(
        kiosk.wake_at(20.3),
        Some(21.0),
        "its countdown is on screen"
    );
    assert_eq!(
        kiosk.still_there(31.0),
        None,
        "nobody is asked: it is fixed"
    );
    assert!(kiosk.reset_if_due(2.0 + wait));
    assert!(kiosk.flow.is_pristine(), "A's request is forgotten");

    // With this person's card in, the wait stops; the card taken out
    // starts it again.
    at_card_step(&mut kiosk.flow);
    kiosk.flow.observe_card(&board, 40.0);
    insertion_of(&mut board, "R1", 7);
    assert!(matches!(
        kiosk.flow.observe_card(&board, 50.0),
        CardStatus::Ready { .. }
    ));
    assert_eq!(kiosk.flow.card_deadline(), None);
    assert_eq!(kiosk.deadline(), Some(50.0 + 3_600.0), "the idle time");
    removal(&mut board, "R1");
    kiosk.flow.observe_card(&board, 100.0);
    assert_eq!(kiosk.flow.card_deadline(), Some(100.0 + wait));
    assert!(!kiosk.reset_if_due(100.0 + wait - 0.1));
    assert!(kiosk.reset_if_due(100.0 + wait));
    assert!(kiosk.flow.is_pristine());

    // The staff sign-in (which hides the screen) is not cut off; closed
    // after the deadline, the flow starts over at once.
    at_card_step(&mut kiosk.flow);
    kiosk.flow.observe_card(&board, 200.0);
    kiosk.staff.show();
    assert!(!kiosk.reset_if_due(200.0 + wait + 5.0));
    kiosk.staff.close();
    assert!(kiosk.reset_if_due(200.0 + wait + 5.0));
    assert!(kiosk.flow.is_pristine());

    // A short idle time still ends the card step first.
    let mut kiosk = KioskState::new(true, Duration::from_secs(10), true);
    at_card_step(&mut kiosk.flow);
    kiosk.flow.observe_card(&board, 2.0);
    assert_eq!(
        kiosk.deadline(),
        Some(2.0 + 10.0),
        "the idle time, from the card status shown"
    );
}

#[test]
fn taking_the_card_out_after_the_result_starts_over() {
    let mut kiosk = KioskState::new(true, IDLE, true);
    let mut board = ReaderBoard::default();
    at_card_step(&mut kiosk.flow);
    insertion_of(&mut board, "R1", 7);
    kiosk.flow.observe_card(&board, 2.0);
    kiosk.flow.confirm(Ok(target()), 3.0);
    let bound = BindState::Bound {
        target: target(),
        receipt: BindReceipt::default(),
        confirmed_after_loss: false,
    };
    kiosk.flow.observe_bind(&bound, 5.0);
    kiosk.flow.observe_card(&board, 6.0);
    assert!(
        !kiosk.reset_if_due(6.0),
        "the result stays while the card is in"
    );
    removal(&mut board, "R1");
    kiosk.flow.observe_card(&board, 7.0);
    assert_eq!(kiosk.deadline(), Some(7.0), "well before the hold ends");
    assert!(kiosk.reset_if_due(7.0));
    assert_eq!(kiosk.flow.step, Step::Code, "straight to the code");
    assert!(kiosk.flow.is_pristine());
}

#[test]
fn the_desk_a_supervisor_opened_goes_back_to_the_kiosk_when_left_alone() {
    let mut kiosk = KioskState::new(true, IDLE, true);
    assert_eq!(kiosk.desk_deadline(), None, "at the kiosk");
    assert!(!kiosk.desk_tick(1_000.0, false, false));
    kiosk.flow.code = "0c7b".into();
    kiosk.leave(100.0);
    assert!(!kiosk.active);
    assert!(kiosk.flow.is_pristine(), "the person's flow is forgotten");
    assert_eq!(kiosk.desk_deadline(), Some(160.0));
    assert!(!kiosk.desk_tick(130.0, true, false), "input at the desk");
    assert!(!kiosk.desk_tick(189.0, false, false));
    assert!(
        !kiosk.desk_tick(200.0, false, true),
        "a bind under way holds it"
    );
    assert!(!kiosk.desk_tick(259.0, false, false));
    assert!(
        kiosk.desk_tick(260.0, false, false),
        "left alone for the idle time"
    );
    kiosk.resume();
    assert!(kiosk.active);
    assert_eq!(kiosk.desk_deadline(), None);

    // A desk station never goes to a kiosk.
    let mut desk = KioskState::new(false, IDLE, true);
    assert_eq!(desk.desk_deadline(), None);
    assert!(!desk.desk_tick(10_000.0, false, false));
}
