//! The kiosk's rules, without a window: numbers for the clock.

use uuid::Uuid;

use super::flow::*;
use super::words::*;
use super::*;
use crate::domain::bind::{AttemptId, BindReceipt, BindState, BindTarget, Failure};
use crate::domain::card::{Atr, CardIdentity, CardKind};
use crate::domain::card_choice::{CardRule, NoCard, choose_card};
use crate::domain::readers::{ReaderBoard, ReaderEvent, Tick};
use crate::domain::request::{RequestStatus, example_request};

const CODE: &str = "0c7b4d1e-5a2f-4e8b-9f10-2d3c4b5a6978";
pub(super) const IDLE: Duration = Duration::from_secs(60);

fn id() -> Uuid {
    Uuid::parse_str(CODE).expect("test GUID")
}

fn identity(byte: u8) -> CardIdentity {
    crate::domain::card::example_identity(byte, CardKind::Gids)
}

/// `result`: the card, or why it has no card ID.
fn insert(board: &mut ReaderBoard, reader: &str, result: Option<Result<CardIdentity, &str>>) {
    let atr = match &result {
        Some(Ok(identity)) => identity.atr.clone(),
        _ => Atr::from_bytes(vec![0x3b, 0x00]),
    };
    board.apply(&ReaderEvent::CardInserted {
        reader: reader.into(),
        atr,
        insertion: 1,
        arrival: crate::domain::readers::Arrival::Inserted,
    });
    if let Some(result) = result {
        board.apply(&ReaderEvent::CardIdentified {
            reader: reader.into(),
            insertion: 1,
            result: result.map_err(|why| why.to_owned().into()),
        });
    }
}

/// A flow whose field holds `code`, typed by hand: a character every
/// 0.2 s, ending at `now`.
fn typed(code: &str, now: f64) -> KioskFlow {
    let mut flow = KioskFlow::default();
    type_into(&mut flow, code, now);
    flow
}

fn type_into(flow: &mut KioskFlow, code: &str, now: f64) {
    let count = code.chars().count();
    for (at, c) in code.chars().enumerate() {
        flow.code.push(c);
        flow.code_edited(now - 0.2 * (count - 1 - at) as f64);
    }
}

/// A flow whose field holds `code`, scanned: all of it within one frame at `now`.
fn scanned(code: &str, now: f64) -> KioskFlow {
    let mut flow = KioskFlow::default();
    scan_into(&mut flow, code, now);
    flow
}

fn scan_into(flow: &mut KioskFlow, code: &str, now: f64) {
    flow.code = code.into();
    flow.code_edited(now);
}

fn say(flow: &KioskFlow) -> String {
    flow.problem
        .as_ref()
        .map(|p| p.say.clone())
        .unwrap_or_default()
}

pub(super) fn target() -> BindTarget {
    BindTarget {
        request_id: id(),
        person: "Kiosk Person".into(),
        reader: "R1".into(),
        expected: identity(7),
        supervisor: None,
    }
}

pub(super) fn at_card_step(flow: &mut KioskFlow) {
    scan_into(flow, CODE, 0.5);
    assert!(
        matches!(flow.submit(1.0, Tick::default()), Some(Command::LookUpRequest(got)) if got == id())
    );
    let mut request = example_request(id().as_u128(), RequestStatus::APPROVED);
    request.uuid = id();
    flow.looked_up(id(), Ok(Some(request)));
    assert!(matches!(flow.step, Step::Card(_)));
}

pub(super) fn insertion_of(board: &mut ReaderBoard, reader: &str, byte: u8) {
    let card = identity(byte);
    board.apply(&ReaderEvent::CardInserted {
        reader: reader.into(),
        atr: card.atr.clone(),
        insertion: u64::from(byte),
        arrival: crate::domain::readers::Arrival::Inserted,
    });
    board.apply(&ReaderEvent::CardIdentified {
        reader: reader.into(),
        insertion: u64::from(byte),
        result: Ok(card),
    });
}

/// Person 1 left their card in; person 2's code is accepted after it.
#[test]
fn a_card_in_before_the_code_was_accepted_is_never_this_persons() {
    let mut board = ReaderBoard::default();
    insertion_of(&mut board, "R1", 1);
    let mut flow = scanned(CODE, 0.5);
    flow.submit(1.0, board.now());
    let mut request = example_request(id().as_u128(), RequestStatus::APPROVED);
    request.uuid = id();
    flow.looked_up(id(), Ok(Some(request)));
    assert_eq!(flow.card_status(&board), CardStatus::TakeOut);
    assert!(
        choose_card(&board, &flow.card_rule()).is_err(),
        "the bind rule refuses it too"
    );
    board.apply(&ReaderEvent::CardRemoved {
        reader: "R1".into(),
    });
    assert_eq!(flow.card_status(&board), CardStatus::NoCard);
    insertion_of(&mut board, "R1", 2);
    assert_eq!(
        flow.card_status(&board),
        CardStatus::Ready {
            reader: "R1".into(),
            identity: identity(2)
        }
    );
}

#[test]
fn the_kiosk_never_starts_over_with_a_card_in_and_calls_staff_when_it_stays() {
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
    let hold_ends = 5.0 + RESULT_HOLD.as_secs_f64();
    kiosk.flow.observe_card(&board, hold_ends);
    assert!(
        kiosk.reset_if_due(hold_ends),
        "the result is not kept for ever"
    );
    assert_eq!(kiosk.flow.step, Step::TakeCard { since: hold_ends });
    assert!(!kiosk.flow.is_pristine());
    assert_eq!(kiosk.deadline(), None, "no idle reset while a card is in");
    let alarm = hold_ends + CARD_LEFT_ALARM.as_secs_f64();
    assert_eq!(
        kiosk.wake_at(hold_ends),
        Some(alarm),
        "the window wakes to call staff"
    );
    kiosk.flow.observe_card(&board, alarm - 1.0);
    assert!(!kiosk.flow.card_left_too_long());
    kiosk.flow.observe_card(&board, alarm);
    assert!(kiosk.flow.card_left_too_long());
    kiosk.flow.reset();
    assert_eq!(
        kiosk.flow.step,
        Step::TakeCard { since: hold_ends },
        "Start over or a reset keeps waiting for the same card"
    );
    board.apply(&ReaderEvent::CardRemoved {
        reader: "R1".into(),
    });
    kiosk.flow.observe_card(&board, alarm + 1.0);
    assert_eq!(kiosk.flow.step, Step::Code, "ready for the next person");
    assert!(kiosk.flow.is_pristine());
}

#[test]
fn an_idle_reset_with_a_card_in_waits_for_it_to_be_taken() {
    let mut kiosk = KioskState::new(true, IDLE, true);
    let mut board = ReaderBoard::default();
    at_card_step(&mut kiosk.flow);
    insertion_of(&mut board, "R1", 7);
    kiosk.flow.observe_card(&board, 2.0);
    assert!(kiosk.reset_if_due(2.0 + IDLE.as_secs_f64()));
    assert!(matches!(kiosk.flow.step, Step::TakeCard { .. }));
    assert!(kiosk.flow.code.is_empty(), "the person's code is forgotten");
}

#[test]
fn codes_are_read_in_any_case_with_or_without_braces() {
    for text in [
        CODE,
        "{0C7B4D1E-5A2F-4E8B-9F10-2D3C4B5A6978}",
        "  {0c7b4d1e-5a2f-4e8b-9f10-2d3c4b5a6978}\n",
        "0c7b4d1e5a2f4e8b9f102d3c4b5a6978",
    ] {
        assert_eq!(parse_request_code(text), Ok(id()), "{text:?}");
    }
    for text in [
        "",
        "   ",
        "0c7b4d1e",
        "urn:uuid:0c7b4d1e-5a2f-4e8b-9f10-2d3c4b5a6978",
    ] {
        assert!(parse_request_code(text).is_err(), "{text:?}");
    }
    let long = "x".repeat(500);
    let refusal = parse_request_code(&long)
        .expect_err("not a code")
        .to_string();
    assert!(refusal.len() < 200, "a long scan is not echoed whole");
    assert!(refusal.contains("\"xxxxx"), "{refusal}");
    assert!(
        refusal.contains("check it against your letter"),
        "{refusal}"
    );
    let hostile = parse_request_code("ab\u{202E}cd\u{0008}ef")
        .expect_err("not a code")
        .to_string();
    assert!(hostile.starts_with("\"abcdef\" is not"), "{hostile}");
}

#[test]
fn a_typed_bad_code_stays_selected_and_a_scanned_one_is_emptied() {
    let mut flow = typed("0c7b4d1e-5a2f-4e8b-9f10-2d3c4b5a697", 10.0);
    assert!(!flow.scanned(), "a character every 0.2 s is a person");
    assert!(flow.submit(10.5, Tick::default()).is_none());
    assert_eq!(flow.step, Step::Code);
    assert!(
        say(&flow).contains("is not a request code"),
        "{}",
        say(&flow)
    );
    assert_eq!(
        flow.code, "0c7b4d1e-5a2f-4e8b-9f10-2d3c4b5a697",
        "36 characters typed by hand are not thrown away"
    );
    assert!(flow.take_select_code(), "the field selects it once");
    assert!(!flow.take_select_code());
    // The first keystroke replaces the selection and answers the refusal.
    flow.code = "0".into();
    flow.code_edited(11.0);
    assert_eq!(
        flow.problem, None,
        "the error clears on the first keystroke"
    );

    let mut flow = scanned("0c7b4d1e-5a2f-4e8b-9f10-2d3c4b5a697", 20.0);
    assert!(flow.scanned(), "a whole code within a frame is a scanner");
    assert!(flow.submit(20.25, Tick::default()).is_none());
    assert!(say(&flow).contains("is not a request code"));
    assert!(
        flow.code.is_empty(),
        "the next scan starts on an empty field"
    );
    assert!(!flow.take_select_code());

    // A scanner a little slower than a frame: 30 ms a character.
    let mut flow = KioskFlow::default();
    for (at, c) in CODE.chars().enumerate() {
        flow.code.push(c);
        flow.code_edited(30.0 + 0.03 * at as f64);
    }
    assert!(flow.scanned());
    // A short start, even in one frame, is a typist's.
    assert!(!scanned("0c7b", 40.0).scanned());
    let mut empty = KioskFlow::default();
    assert!(empty.submit(50.0, Tick::default()).is_none());
    assert_eq!(say(&empty), "Please scan or type your request code first.");
}

#[test]
fn a_request_that_cannot_take_a_card_is_refused_with_the_reason() {
    let mut flow = scanned(CODE, 0.5);
    flow.submit(1.0, Tick::default());
    let mut pending = example_request(1, RequestStatus::PENDING);
    pending.uuid = id();
    flow.looked_up(id(), Ok(Some(pending)));
    assert_eq!(flow.step, Step::Code);
    assert!(
        say(&flow).contains("waiting for approval"),
        "{}",
        say(&flow)
    );
    assert!(flow.code.is_empty(), "a scanned code is emptied");

    let mut flow = typed(CODE, 2.0);
    flow.submit(2.1, Tick::default());
    flow.looked_up(id(), Ok(None));
    assert_eq!(
        say(&flow),
        "We can't find a request with this code. Please check it against your letter, or ask \
         a member of staff."
    );
    assert_eq!(flow.code, CODE, "a typed code stays, to be corrected");
    assert!(flow.take_select_code());

    let mut flow = scanned(CODE, 2.5);
    flow.submit(3.0, Tick::default());
    flow.looked_up(
        id(),
        Err(Failure {
            message: "The CM server did not answer within 8 s during GET requests/x. Check the \
                      network.."
                .into(),
            correlation_id: Some("c-1".into()),
        }),
    );
    let notice = flow.problem.clone().expect("refused");
    let detail = notice.detail.expect("the technical side is kept for staff");
    assert_eq!(
        notice.say,
        format!(
            "We can't look up your request right now. Please try again in a minute, or ask a \
             member of staff (ref. {}).",
            detail.reference
        )
    );
    for jargon in ["GET ", "CM server", "..", "c-1"] {
        assert!(!notice.say.contains(jargon), "{jargon}: {}", notice.say);
    }
    assert!(detail.text.contains("GET requests/x"), "{}", detail.text);
    assert_eq!(detail.correlation_id.as_deref(), Some("c-1"));
}

#[test]
fn a_software_profile_or_retire_request_is_refused_in_plain_words() {
    let mut software = example_request(1, RequestStatus::APPROVED);
    software.uuid = id();
    software.is_smartcard = false;
    let mut retire = example_request(1, RequestStatus::APPROVED);
    retire.uuid = id();
    retire.request_type = crate::domain::request::RequestType::RETIRE;
    for (request, words) in [
        (software, "certificates kept on a computer, not on a card"),
        (
            retire,
            "already given out (to retire it), not for a new card",
        ),
    ] {
        let mut flow = scanned(CODE, 0.5);
        flow.submit(1.0, Tick::default());
        flow.looked_up(id(), Ok(Some(request)));
        assert_eq!(flow.step, Step::Code, "no card is asked for");
        let problem = say(&flow);
        assert!(problem.contains(words), "{problem}");
        assert!(problem.contains("ask a member of staff"), "{problem}");
        for jargon in ["IsSmartcard", "software-profile", "Retire request"] {
            assert!(!problem.contains(jargon), "{jargon}: {problem}");
        }
        assert!(flow.code.is_empty());
    }
}

#[test]
fn a_late_lookup_after_a_reset_is_ignored() {
    let mut flow = scanned(CODE, 0.5);
    flow.submit(1.0, Tick::default());
    flow.reset();
    flow.looked_up(
        id(),
        Ok(Some(example_request(
            id().as_u128(),
            RequestStatus::APPROVED,
        ))),
    );
    assert!(flow.is_pristine(), "{flow:?}");
}

#[test]
fn cancel_while_looking_up_keeps_the_code_and_ignores_the_late_answer() {
    let mut flow = typed(CODE, 1.0);
    assert!(flow.submit(1.5, Tick::default()).is_some());
    assert_eq!(flow.step, Step::LookingUp(id()));
    flow.cancel_lookup(3.0);
    assert_eq!(flow.step, Step::Code);
    assert_eq!(flow.code, CODE, "Continue tries the same code again");
    assert!(flow.take_select_code());
    let mut request = example_request(id().as_u128(), RequestStatus::APPROVED);
    request.uuid = id();
    flow.looked_up(id(), Ok(Some(request.clone())));
    assert_eq!(flow.step, Step::Code, "the answer came after Cancel");
    assert_eq!(flow.problem, None);
    flow.looked_up(id(), Err(Failure::new("timed out")));
    assert_eq!(flow.problem, None, "a late failure is not shown either");
    // Asked again, the new answer counts.
    flow.submit(4.0, Tick::default());
    flow.looked_up(id(), Ok(Some(request)));
    assert!(matches!(flow.step, Step::Card(_)));
}

#[test]
fn the_card_status_never_guesses_between_two_cards() {
    let problem = |board: &ReaderBoard| match card_status(board, &CardRule::default()) {
        CardStatus::Problem(problem) => Some(problem),
        _ => None,
    };
    let mut board = ReaderBoard::default();
    assert!(problem(&board).is_some_and(|p| p.say.contains("No card reader")));
    board.apply(&ReaderEvent::ReaderAdded {
        reader: "R1".into(),
    });
    assert_eq!(
        card_status(&board, &CardRule::default()),
        CardStatus::NoCard
    );
    insert(&mut board, "R1", None);
    assert_eq!(
        card_status(&board, &CardRule::default()),
        CardStatus::Reading
    );
    insert(&mut board, "R1", Some(Ok(identity(7))));
    assert_eq!(
        card_status(&board, &CardRule::default()),
        CardStatus::Ready {
            reader: "R1".into(),
            identity: identity(7)
        }
    );
    insert(&mut board, "R2", Some(Ok(identity(8))));
    assert!(problem(&board).is_some_and(|p| p.say.contains("More than one card")));
    board.apply(&ReaderEvent::CardRemoved {
        reader: "R2".into(),
    });
    board.apply(&ReaderEvent::CardRemoved {
        reader: "R1".into(),
    });
    insert(
        &mut board,
        "R1",
        Some(Err(
            "Unknown card application: the card answers neither PIV nor GIDS, so the station \
             cannot read a card ID. Use a GIDS or PIV card.",
        )),
    );
    let unusable = problem(&board).expect("a card without an ID");
    assert_eq!(
        unusable.say,
        "This card can't be used here. Please take it out and ask a member of staff."
    );
    assert!(
        unusable
            .detail
            .is_some_and(|d| d.contains("PIV nor GIDS") && d.contains("R1")),
        "the reason is kept for staff"
    );
    board.apply(&ReaderEvent::ServiceDown {
        reason: "pcscd stopped".into(),
    });
    let down = problem(&board).expect("no service");
    assert!(!down.say.contains("pcscd"), "{}", down.say);
    assert!(down.detail.is_some_and(|d| d.contains("pcscd stopped")));
}

#[test]
fn a_card_problem_is_logged_once_with_one_reference() {
    let mut flow = KioskFlow::default();
    at_card_step(&mut flow);
    let mut board = ReaderBoard::default();
    insert(&mut board, "R1", Some(Err("the card has no card ID")));
    flow.observe_card(&board, 2.0);
    let first = flow.card_staff().cloned().expect("kept for staff");
    assert!(first.text.contains("no card ID"));
    flow.observe_card(&board, 3.0);
    assert_eq!(
        flow.card_staff(),
        Some(&first),
        "the same problem, the same reference"
    );
    board.apply(&ReaderEvent::CardRemoved {
        reader: "R1".into(),
    });
    flow.observe_card(&board, 4.0);
    assert_eq!(flow.card_staff(), None);
}

#[test]
fn confirm_binds_once_and_the_result_shows_when_the_bind_ends() {
    let mut flow = KioskFlow::default();
    at_card_step(&mut flow);
    let reading = crate::app::station::BindBlocked::NoCard(NoCard::Reading("R1".into()));
    assert!(flow.confirm(Err(reading), 2.0).is_none());
    assert_eq!(
        say(&flow),
        "Your card is still being read. Please wait a moment."
    );
    let command = flow.confirm(Ok(target()), 3.0);
    assert!(matches!(command, Some(Command::Bind(t)) if t == target()));
    assert!(
        flow.confirm(Ok(target()), 3.1).is_none(),
        "one confirm, one bind"
    );
    let posting = BindState::Posting {
        target: target(),
        attempt: AttemptId::from_uuid(uuid::Uuid::from_u128(0xa)),
    };
    flow.observe_bind(&posting, 4.0);
    assert!(matches!(flow.step, Step::Binding(_)));
    assert_eq!(flow.deadline(IDLE), None, "never reset while a bind runs");
    let bound = BindState::Bound {
        target: target(),
        receipt: BindReceipt::default(),
        confirmed_after_loss: false,
    };
    flow.observe_bind(&bound, 5.0);
    assert!(matches!(flow.step, Step::Result { shown_at, staff: None, .. } if shown_at == 5.0));
    assert_eq!(flow.deadline(IDLE), Some(5.0 + RESULT_HOLD.as_secs_f64()));
    let shown = outcome(&bound, "Go to desk 3.").expect("finished");
    assert!(shown.bound);
    assert_eq!(shown.advice, "Go to desk 3.", "the site's next step");
}

#[test]
fn a_failed_bind_reads_as_not_bound_and_keeps_the_correlation_id_for_staff() {
    let failed = BindState::Failed {
        target: target(),
        failure: Failure {
            message: "The server refused the card.".into(),
            correlation_id: Some("c-2".into()),
        },
        confirmed_not_bound: false,
    };
    let shown = outcome(&failed, "unused").expect("finished");
    assert!(!shown.bound);
    assert_eq!(shown.headline, "Your card was not bound to your request.");
    assert!(!shown.advice.contains("unused"));
    let mut flow = KioskFlow::default();
    at_card_step(&mut flow);
    flow.confirm(Ok(target()), 3.0);
    flow.observe_bind(&failed, 4.0);
    let Step::Result {
        staff: Some(staff), ..
    } = &flow.step
    else {
        panic!("expected a result with staff details: {:?}", flow.step);
    };
    assert_eq!(staff.correlation_id.as_deref(), Some("c-2"));
    assert_eq!(staff.text, "The server refused the card.");
    assert_eq!(outcome(&BindState::Idle, ""), None);
    assert!(!finished(&BindState::Idle));
}

#[test]
fn idle_time_resets_everything_the_person_entered() {
    let mut kiosk = KioskState::new(true, IDLE, true);
    assert_eq!(kiosk.deadline(), None, "nothing to forget");
    kiosk.flow.code = "0c7b".into();
    kiosk.flow.touch(10.0);
    assert_eq!(kiosk.deadline(), Some(70.0));
    assert!(!kiosk.reset_if_due(69.9));
    kiosk.flow.touch(50.0);
    assert!(!kiosk.reset_if_due(70.0), "activity postpones the reset");
    assert!(kiosk.reset_if_due(110.0));
    assert!(kiosk.flow.is_pristine());
    assert_eq!(kiosk.flow.generation, 1);

    at_card_step(&mut kiosk.flow);
    let empty = ReaderBoard::default();
    kiosk.flow.observe_card(&empty, 200.0);
    kiosk.flow.observe_card(&empty, 220.0);
    // Looking again is no activity (that would be 280), and without a
    // card the card step's fixed wait ends first (the idle time, 260).
    assert_eq!(kiosk.deadline(), Some(200.0 + CARD_WAIT.as_secs_f64()));
    assert!(kiosk.reset_if_due(230.0));
    assert!(kiosk.flow.is_pristine());

    kiosk.settings_open = true;
    kiosk.flow.touch(300.0);
    assert_eq!(
        kiosk.deadline(),
        Some(360.0),
        "Settings left open time out too"
    );
    assert!(kiosk.reset_if_due(360.0));
    assert!(!kiosk.settings_open);
}

#[test]
fn are_you_still_there_counts_down_the_end_of_the_idle_time() {
    let mut kiosk = KioskState::new(true, IDLE, true);
    assert_eq!(kiosk.warning(), STILL_THERE);
    kiosk.flow.code = "0c7b".into();
    kiosk.flow.touch(10.0);
    // Idle until 70 s; the warning takes the last 15.
    assert_eq!(kiosk.still_there(54.9), None);
    assert_eq!(kiosk.wake_at(20.0), Some(55.0), "the window wakes to ask");
    assert_eq!(kiosk.still_there(55.0), Some(15.0));
    assert_eq!(
        kiosk.wake_at(55.0),
        Some(56.0),
        "and once a second to count"
    );
    assert_eq!(kiosk.wake_at(55.4), Some(56.0));
    assert_eq!(kiosk.still_there(63.5), Some(6.5));
    assert!(
        !kiosk.reset_if_due(69.9),
        "no reset before the countdown ends"
    );
    // "I'm still here", or any key: the person keeps everything.
    kiosk.flow.touch(65.0);
    assert_eq!(kiosk.still_there(65.0), None);
    assert_eq!(kiosk.flow.code, "0c7b");
    assert!(!kiosk.reset_if_due(70.0));
    assert_eq!(kiosk.still_there(110.0), Some(15.0));
    assert!(kiosk.reset_if_due(125.0));
    assert_eq!(kiosk.still_there(125.0), None, "nothing left to ask about");

    // A short idle time keeps most of it free of the question.
    let short = KioskState::new(true, Duration::from_secs(8), true);
    assert_eq!(short.warning(), Duration::from_secs(2));

    // Nobody is asked on the result screen: it counts down on its own.
    let mut kiosk = KioskState::new(true, IDLE, true);
    at_card_step(&mut kiosk.flow);
    kiosk.flow.confirm(Ok(target()), 3.0);
    let bound = BindState::Bound {
        target: target(),
        receipt: BindReceipt::default(),
        confirmed_after_loss: false,
    };
    kiosk.flow.observe_bind(&bound, 5.0);
    assert_eq!(kiosk.still_there(14.0), None);
    assert_eq!(kiosk.wake_at(5.0), Some(6.0), "the result counts down too");
    assert_eq!(kiosk.wake_at(12.5), Some(13.0));
}

#[test]
fn the_progress_and_the_heading_follow_the_person() {
    let mut flow = KioskFlow::default();
    let ready = CardStatus::Ready {
        reader: "R1".into(),
        identity: identity(7),
    };
    assert_eq!(stage(&flow.step, &CardStatus::NoCard), Some(Stage::Code));
    assert_eq!(
        heading(&flow.step, &CardStatus::NoCard),
        "Scan or type your request code"
    );
    at_card_step(&mut flow);
    assert_eq!(stage(&flow.step, &CardStatus::NoCard), Some(Stage::Card));
    assert_eq!(heading(&flow.step, &CardStatus::NoCard), "Insert your card");
    assert_eq!(stage(&flow.step, &ready), Some(Stage::Bind));
    assert_eq!(
        heading(&flow.step, &ready),
        "Press \u{201c}Bind my card\u{201d}"
    );
    assert_eq!(stage(&Step::TakeCard { since: 0.0 }, &ready), None);
    assert_eq!(
        Stage::ALL.map(|s| (s.number(), s.name())),
        [(1, "Your code"), (2, "Your card"), (3, "Bind")]
    );
}

#[test]
fn staff_credentials_are_sent_once_wiped_and_grant_only_their_purpose() {
    let mut staff = StaffDialog::default();
    staff.show();
    assert_eq!(
        staff.take_focus(),
        Some(StaffField::Name),
        "the name field first"
    );
    assert_eq!(staff.take_focus(), None, "once");
    assert!(staff.request(SupervisorPurpose::LeaveKiosk).is_none());
    assert!(staff.form.error.is_some());
    assert_eq!(staff.take_focus(), Some(StaffField::Name));
    staff.form.name = " Sam ".into();
    assert!(staff.request(SupervisorPurpose::LeaveKiosk).is_none());
    assert_eq!(staff.take_focus(), Some(StaffField::Password));
    staff.form.password.text_mut().push_str("secret");
    let command = staff.request(SupervisorPurpose::LeaveKiosk);
    assert!(matches!(
        &command,
        Some(Command::VerifySupervisor { name, password, purpose: SupervisorPurpose::LeaveKiosk })
            if name == "Sam" && password.expose() == "secret"
    ));
    assert!(
        staff.form.password.is_empty(),
        "the field is wiped once sent"
    );
    assert!(
        staff.request(SupervisorPurpose::LeaveKiosk).is_none(),
        "one check at a time"
    );
    staff.verified(
        &SupervisorPurpose::LeaveKiosk,
        Err(SupervisorError::Refused),
    );
    assert_eq!(staff.form.error, Some(SupervisorError::Refused.to_string()));
    assert_eq!(
        staff.take_focus(),
        Some(StaffField::Password),
        "the next try starts there"
    );
    assert_eq!(staff.take_grant(), None);

    staff.form.password.text_mut().push_str("right");
    staff.request(SupervisorPurpose::OpenSettings);
    staff.verified(&SupervisorPurpose::OpenSettings, Ok("Sam".into()));
    assert_eq!(
        staff.take_grant(),
        Some(StaffGrant::OpenSettings("Sam".into()))
    );
    assert!(!staff.open && staff.form.name.is_empty());

    // An answer that arrives after the dialog was closed unlocks nothing.
    staff.verified(&SupervisorPurpose::LeaveKiosk, Ok("Sam".into()));
    assert_eq!(staff.take_grant(), None);
    assert_eq!(staff.take_focus(), None);
}
