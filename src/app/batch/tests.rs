//! The window's batch without a window: the multi-selection, the queue it
//! makes, the start (and its supervisor), the worker's news, the resume offer.

use super::*;
use crate::app::station::BindBlocked;
use crate::domain::card::CardKind;
use crate::domain::request::{Request, RequestQuery, RequestStatus};
use crate::supervisors::SupervisorPurpose;
use crate::worker::batch::BatchSummary;

fn request(id: u128, status: RequestStatus) -> Request {
    crate::domain::request::example_request(id, status)
}

/// A desk with requests 1 to 4 approved and 5 pending, and a card in "R1".
fn desk() -> StationState {
    let mut state = StationState::default();
    state.apply(Report::Requests {
        query: RequestQuery::Open,
        result: Ok(vec![
            request(1, RequestStatus::APPROVED),
            request(2, RequestStatus::APPROVED),
            request(3, RequestStatus::APPROVED),
            request(4, RequestStatus::APPROVED),
            request(5, RequestStatus::PENDING),
        ]),
    });
    let card = crate::domain::card::example_identity(7, CardKind::Piv);
    state.apply(Report::Reader(ReaderEvent::CardInserted {
        reader: "R1".into(),
        atr: card.atr.clone(),
        insertion: 1,
        arrival: Arrival::Inserted,
    }));
    state.apply(Report::Reader(ReaderEvent::CardIdentified {
        reader: "R1".into(),
        insertion: 1,
        result: Ok(card),
    }));
    state.sync_selection();
    state
}

/// The requests as the list shows them, top to bottom.
fn shown(state: &StationState) -> Vec<Uuid> {
    state
        .view
        .rows()
        .iter()
        .map(|&row| state.requests[row as usize].uuid)
        .collect()
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

#[test]
fn ctrl_click_toggles_shift_click_extends_and_one_row_is_the_single_selection() {
    let mut state = desk();
    state.click_row(id(1), RowClick::Plain);
    assert_eq!(state.batch.selection.marked(state.selected_request), None);
    state.click_row(id(3), RowClick::Toggle);
    assert_eq!(
        state.batch.selection.marked(state.selected_request),
        Some(2)
    );
    assert!(state.row_selected(id(1)) && state.row_selected(id(3)));
    assert!(!state.row_selected(id(2)));
    assert_eq!(state.bind_target(), Err(BindBlocked::Selection(2)));
    assert!(
        BindBlocked::Selection(2)
            .to_string()
            .contains("2 requests are selected")
    );
    // Ctrl+click on a selected row takes it out: one left is the single selection.
    state.click_row(id(3), RowClick::Toggle);
    assert_eq!(state.batch.selection.marked(state.selected_request), None);
    assert_eq!(state.selected_request, Some(id(1)));
    assert!(
        state.bind_target().is_ok(),
        "the bind bar is back as it was"
    );

    // Shift+click selects the range from the anchor, in the list's order.
    state.click_row(id(1), RowClick::Plain);
    let order = shown(&state);
    let from = order.iter().position(|r| *r == id(1)).expect("shown");
    let to = (from + 2).min(order.len() - 1);
    state.click_row(order[to], RowClick::Extend);
    state.sync_selection();
    let expected: Vec<Uuid> = order[from.min(to)..=from.max(to)].to_vec();
    let marked: Vec<Uuid> = state.marked_requests().map(|r| r.uuid).collect();
    assert_eq!(marked, expected);
    // A plain click ends it.
    state.click_row(id(2), RowClick::Plain);
    assert_eq!(state.batch.selection.marked(state.selected_request), None);
    assert!(state.row_selected(id(2)) && !state.row_selected(id(1)));
}

#[test]
fn the_keyboard_moves_the_cursor_with_ctrl_and_space_toggles_the_row_there() {
    let mut state = desk();
    let order = shown(&state);
    state.select_single(Some(order[0]));
    state.move_cursor(2);
    assert_eq!(state.selected_request, Some(order[2]), "the cursor moved");
    assert_eq!(state.bind_target(), Err(BindBlocked::Selection(1)));
    assert!(state.row_selected(order[0]) && !state.row_selected(order[2]));
    state.toggle_cursor_row();
    assert_eq!(
        state.batch.selection.marked(state.selected_request),
        Some(2)
    );
    state.extend_selection(1);
    assert_eq!(
        state.batch.selection.marked(state.selected_request),
        Some(2)
    );
    assert!(state.row_selected(order[3]), "Shift+Down from the anchor");
    // Space on the only selected row leaves nothing selected, the cursor stays.
    state.select_single(Some(order[1]));
    state.toggle_cursor_row();
    assert_eq!(state.selected_request, Some(order[1]));
    assert_eq!(state.bind_target(), Err(BindBlocked::Selection(0)));
    state.toggle_cursor_row();
    assert_eq!(state.batch.selection.marked(state.selected_request), None);
    // Anything else that moves the selection ends the multi-selection.
    state.click_row(order[0], RowClick::Toggle);
    assert!(
        state
            .batch
            .selection
            .marked(state.selected_request)
            .is_some()
    );
    state.selected_request = Some(order[3]);
    state.sync_selection();
    assert_eq!(state.batch.selection.marked(state.selected_request), None);
}

#[test]
fn at_a_kiosk_station_ctrl_and_shift_select_one_row() {
    let mut state = desk();
    state.kiosk.station_is_kiosk = true;
    state.click_row(id(1), RowClick::Plain);
    state.click_row(id(2), RowClick::Toggle);
    assert_eq!(state.batch.selection.marked(state.selected_request), None);
    assert_eq!(state.selected_request, Some(id(2)));
    assert_eq!(state.press_batch(), Err(BatchBlocked::NotOffered));
}

fn select(state: &mut StationState, ids: &[u128]) {
    state.click_row(id(ids[0]), RowClick::Plain);
    for &n in &ids[1..] {
        state.click_row(id(n), RowClick::Toggle);
    }
}

#[test]
fn a_batch_takes_the_bindable_requests_in_list_order_and_sees_the_cards_present() {
    let mut state = desk();
    select(&mut state, &[4, 5, 2]);
    let choice = state.batch_choice();
    assert_eq!(choice.left_out.len(), 1, "the pending request cannot join");
    assert!(choice.left_out[0].1.contains("approval"), "{choice:?}");
    let order: Vec<Uuid> = shown(&state)
        .into_iter()
        .filter(|r| [id(2), id(4)].contains(r))
        .collect();
    assert_eq!(choice.joining, order);
    state.press_batch().expect("a desk starts it at once");
    let commands = state.batch.take_commands();
    let [
        Command::StartBatch {
            spec,
            resume,
            readers,
        },
    ] = commands.as_slice()
    else {
        panic!("one start: {commands:?}");
    };
    assert!(!resume);
    assert_eq!(spec.requests, order);
    assert_eq!(spec.supervisor, None);
    assert_eq!(spec.people.len(), 2, "the people's names are recorded");
    assert!(readers.iter().any(|e| matches!(
        e,
        ReaderEvent::CardIdentified { reader, result: Ok(_), .. } if reader == "R1"
    )));
    // While it runs, a single bind waits and the readers' events go to it.
    assert!(state.batch.is_running());
    assert_eq!(state.bind_target(), Err(BindBlocked::BatchRunning));
    let removed = Report::Reader(ReaderEvent::CardRemoved {
        reader: "R1".into(),
    });
    assert!(matches!(
        state.batch.forward(&removed),
        Some(Command::BatchReader(ReaderEvent::CardRemoved { .. }))
    ));
    assert_eq!(state.press_batch(), Err(BatchBlocked::Running));
    let batch = spec.id;
    state.apply(Report::Batch(BatchReport::Started {
        id: batch,
        supervisor: None,
    }));
    assert_eq!(
        state.batch.run.as_ref().map(|r| &r.phase),
        Some(&RunPhase::Running)
    );
    let summary = BatchSummary {
        totals: crate::domain::batch::Totals {
            bound: 2,
            ..Default::default()
        },
        stopped: false,
    };
    assert!(
        state.apply(Report::Batch(BatchReport::Finished { id: batch, summary })),
        "the list is fetched again"
    );
    assert!(!state.batch.is_running());
    assert!(state.batch.forward(&removed).is_none());
    state.batch.close();
    assert!(state.batch.run.is_none());
}

#[test]
fn one_bindable_request_makes_no_batch() {
    let mut state = desk();
    select(&mut state, &[1, 5]);
    assert_eq!(state.press_batch(), Err(BatchBlocked::TooFew(1)));
    assert!(state.batch.take_commands().is_empty());
}

#[test]
fn a_supervised_batch_opens_one_confirmation_naming_its_size_and_first_and_last() {
    let mut state = desk();
    state.witness = Witness::Needed;
    select(&mut state, &[1, 2, 3]);
    state.press_batch().expect("the confirmation opens");
    assert!(
        state.batch.take_commands().is_empty(),
        "nothing starts unconfirmed"
    );
    let purpose = state
        .supervisor_prompt
        .as_ref()
        .map(|p| p.purpose.clone())
        .expect("the dialog opened");
    let SupervisorPurpose::ConfirmBatch {
        batch, size, first, ..
    } = &purpose
    else {
        panic!("a batch confirmation: {purpose:?}");
    };
    assert_eq!(*size, 3);
    assert!(!first.is_empty());
    assert_eq!(state.batch.pending_names().len(), 3);
    let batch = *batch;
    if let Some(prompt) = state.supervisor_prompt.as_mut() {
        prompt.form.name = "Sam".into();
        prompt.form.password.text_mut().push_str("pw");
        assert!(prompt.submit().is_some());
    }
    state.apply(Report::SupervisorVerified {
        purpose,
        result: Ok("Sam Supervisor".into()),
    });
    assert!(state.supervisor_prompt.is_none());
    let commands = state.batch.take_commands();
    assert!(
        matches!(commands.as_slice(), [Command::StartBatch { spec, .. }] if spec.id == batch),
        "{commands:?}"
    );
    let mut none = desk();
    none.witness = Witness::NoneConfigured;
    select(&mut none, &[1, 2]);
    assert!(matches!(
        none.press_batch(),
        Err(BatchBlocked::Supervisor(SupervisorError::NoneConfigured))
    ));
}

#[test]
fn an_open_batch_is_offered_and_resumed_with_its_own_id() {
    let mut state = desk();
    let open = OpenBatchOffer {
        id: id(0xb),
        members: vec![id(1), id(2), id(9)],
        bound: 1,
    };
    state.apply(Report::Batch(BatchReport::Open(vec![open.clone()])));
    assert_eq!(state.batch.offer(), Some(&open));
    state.resume_batch().expect("resumed");
    let commands = state.batch.take_commands();
    let [Command::StartBatch { spec, resume, .. }] = commands.as_slice() else {
        panic!("{commands:?}");
    };
    assert!(*resume);
    assert_eq!((spec.id, spec.requests.clone()), (open.id, open.members));
    assert_eq!(state.batch.offer(), None, "not offered while it runs");
    let run = state.batch.run.as_ref().expect("shown");
    assert_eq!(run.name(id(9)), format!("request {}", id(9)));
    // A refusal is said in the view.
    state.apply(Report::Batch(BatchReport::Refused {
        id: id(0xb),
        why: "not open".into(),
    }));
    assert_eq!(
        state.batch.run.as_ref().map(|r| r.phase.clone()),
        Some(RunPhase::NotStarted("not open".into()))
    );
    assert!(!state.batch.is_running());
}

#[test]
fn the_readers_as_events_rebuild_the_same_board() {
    let state = desk();
    let mut board = ReaderBoard::default();
    for event in board_events(&state.board) {
        board.apply(&event);
    }
    let readers = |b: &ReaderBoard| {
        b.readers()
            .map(|(r, s)| (r.to_owned(), s.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(readers(&board), readers(&state.board));
}
