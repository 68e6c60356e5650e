//! The station state's rules: binding readiness, reader choice, refreshes.
use super::*;
use crate::domain::bind::{AttemptId, BindReceipt};
use crate::domain::card::{CardIdentity, CardKind};
use crate::domain::request::RequestStatus;

fn request(id: u128, status: RequestStatus) -> Request {
    crate::domain::request::example_request(id, status)
}

fn identity(byte: u8) -> CardIdentity {
    crate::domain::card::example_identity(byte, CardKind::Piv)
}

fn with_card(state: &mut StationState, reader: &str, byte: u8) {
    let card = identity(byte);
    state.apply(Report::Reader(ReaderEvent::CardInserted {
        reader: reader.into(),
        atr: card.atr.clone(),
        insertion: 1,
        arrival: crate::domain::readers::Arrival::Inserted,
    }));
    state.apply(Report::Reader(ReaderEvent::CardIdentified {
        reader: reader.into(),
        insertion: 1,
        result: Ok(card),
    }));
}

fn loaded(requests: Vec<Request>) -> StationState {
    let mut state = StationState::default();
    state.apply(Report::Requests {
        query: RequestQuery::Open,
        result: Ok(requests),
    });
    state
}

#[test]
fn bind_needs_a_bindable_request_and_an_identified_card() {
    let mut state = loaded(vec![
        request(1, RequestStatus::APPROVED),
        request(2, RequestStatus::PENDING),
    ]);
    assert_eq!(
        state.bind_target().err().map(|e| e.to_string()).as_deref(),
        Some("Select a request in the list.")
    );
    state.selected_request = Some(Uuid::from_u128(2));
    assert!(
        state
            .bind_target()
            .err()
            .is_some_and(|e| e.to_string().contains("waiting for approval"))
    );
    state.selected_request = Some(Uuid::from_u128(1));
    assert_eq!(
        state.bind_target().err().map(|e| e.to_string()).as_deref(),
        Some("Insert the card into a reader.")
    );
    with_card(&mut state, "R1", 7);
    let target = state.bind_target().expect("ready to bind");
    assert_eq!(target.reader, "R1");
    assert_eq!(target.expected, identity(7));
    assert_eq!(target.request_id, Uuid::from_u128(1));
}

#[test]
fn a_software_profile_or_retire_request_is_never_offered_and_says_why() {
    let mut software = request(1, RequestStatus::APPROVED);
    software.is_smartcard = false;
    software.priority = 9;
    let mut retire = request(2, RequestStatus::APPROVED);
    retire.request_type = crate::domain::request::RequestType::RETIRE;
    retire.priority = 9;
    let enroll = request(3, RequestStatus::APPROVED);
    let mut list = vec![software, retire, enroll];
    list.sort_by(Request::list_order);
    assert_eq!(
        list.iter().map(|r| r.uuid.as_u128()).collect::<Vec<_>>(),
        vec![3, 1, 2],
        "only the enroll is first, though the others have a higher priority"
    );
    let mut state = loaded(list);
    assert_eq!(state.view.bindable(), 1, "one ready for a card");
    with_card(&mut state, "R1", 7);
    state.selected_request = Some(Uuid::from_u128(1));
    assert_eq!(
        state.bind_target().err().map(|e| e.to_string()).as_deref(),
        Some(
            "This request cannot take a card: this is a software-profile request \
             (IsSmartcard false): it never takes a card."
        )
    );
    state.selected_request = Some(Uuid::from_u128(2));
    assert_eq!(
        state.bind_target().err().map(|e| e.to_string()).as_deref(),
        Some(
            "This request cannot take a card: a Retire request acts on an existing card; \
             it does not take a new one."
        )
    );
    state.selected_request = Some(Uuid::from_u128(3));
    assert!(state.bind_target().is_ok());
}

#[test]
fn two_cards_need_a_reader_choice() {
    let mut state = loaded(vec![request(1, RequestStatus::APPROVED)]);
    state.selected_request = Some(Uuid::from_u128(1));
    with_card(&mut state, "R1", 1);
    with_card(&mut state, "R2", 2);
    // The card put in last is the one the operator means.
    assert_eq!(state.bind_target().map(|t| t.expected), Ok(identity(2)));
    state.use_reader("R1".into());
    assert_eq!(state.bind_target().map(|t| t.expected), Ok(identity(1)));
    state.use_reader("R2".into());
    assert_eq!(state.bind_target().map(|t| t.expected), Ok(identity(2)));
    state.apply(Report::Reader(ReaderEvent::ReaderRemoved {
        reader: "R2".into(),
    }));
    assert_eq!(
        state.selected_reader, None,
        "a vanished reader is no longer selected"
    );
    assert_eq!(state.bind_target().map(|t| t.reader), Ok("R1".into()));
}

#[test]
fn a_finished_bind_asks_for_a_refresh_once_and_blocks_a_second_bind_while_in_flight() {
    let mut state = loaded(vec![request(1, RequestStatus::APPROVED)]);
    state.selected_request = Some(Uuid::from_u128(1));
    with_card(&mut state, "R1", 1);
    let target = state.bind_target().expect("ready");
    assert!(!state.apply(Report::Bind(BindState::Posting {
        target: target.clone(),
        attempt: AttemptId::from_uuid(uuid::Uuid::from_u128(0xa)),
    })));
    assert_eq!(
        state.bind_target().err().map(|e| e.to_string()).as_deref(),
        Some("A bind is in progress.")
    );
    let bound = BindState::Bound {
        target,
        receipt: BindReceipt::default(),
        confirmed_after_loss: false,
    };
    assert!(state.apply(Report::Bind(bound.clone())));
    assert!(!state.apply(Report::Bind(bound)));
}

#[test]
fn the_card_just_bound_must_leave_before_the_desk_binds_again() {
    let mut state = loaded(vec![
        request(1, RequestStatus::APPROVED),
        request(2, RequestStatus::APPROVED),
    ]);
    state.selected_request = Some(Uuid::from_u128(1));
    with_card(&mut state, "R1", 1);
    let target = state.bind_target().expect("ready");
    state.apply(Report::Bind(BindState::Bound {
        target,
        receipt: BindReceipt::default(),
        confirmed_after_loss: false,
    }));
    state.selected_request = Some(Uuid::from_u128(2));
    let refused = state
        .bind_target()
        .expect_err("the bound card is still in")
        .to_string();
    assert!(refused.contains("take it out"), "{refused}");
    state.apply(Report::Reader(ReaderEvent::CardRemoved {
        reader: "R1".into(),
    }));
    with_card(&mut state, "R1", 2);
    assert_eq!(state.bind_target().map(|t| t.expected), Ok(identity(2)));
}

#[test]
fn a_search_that_hides_the_selection_clears_it_and_enter_takes_the_first_match() {
    let mut anna = request(1, RequestStatus::APPROVED);
    anna.data_collection = smallvec::smallvec![crate::domain::request::DataItem {
        name: "DisplayName".into(),
        value: Some("Anna Bauer".into()),
    }];
    let mut rosa = request(2, RequestStatus::APPROVED);
    rosa.data_collection = smallvec::smallvec![crate::domain::request::DataItem {
        name: "DisplayName".into(),
        value: Some("Rosa Andersen".into()),
    }];
    let mut state = loaded(vec![anna, rosa]);
    with_card(&mut state, "R1", 1);
    state.selected_request = Some(Uuid::from_u128(2));
    assert!(state.bind_target().is_ok());
    state.view.input = "anna".into();
    assert!(state.apply_search(), "the selection went");
    assert_eq!(state.selected_request, None);
    assert_eq!(
        state.bind_target().err().map(|e| e.to_string()).as_deref(),
        Some("Select a request in the list.")
    );
    assert!(state.select_first_shown());
    assert_eq!(state.selected_request, Some(Uuid::from_u128(1)));
    state.view.input = "nobody".into();
    state.apply_search();
    assert!(
        !state.select_first_shown(),
        "nothing shown, nothing selected"
    );
    assert_eq!(state.request(), None);
}

#[test]
fn stale_lists_are_ignored_and_a_vanished_selection_is_cleared() {
    let mut state = loaded(vec![request(1, RequestStatus::APPROVED)]);
    state.selected_request = Some(Uuid::from_u128(1));
    state.set_query(RequestQuery::All);
    state.apply(Report::Requests {
        query: RequestQuery::Open,
        result: Ok(vec![]),
    });
    assert!(
        state.loading,
        "an answer for the old filter does not end the load"
    );
    state.apply(Report::Requests {
        query: RequestQuery::All,
        result: Ok(vec![request(3, RequestStatus::APPROVED)]),
    });
    assert!(!state.loading);
    assert_eq!(state.selected_request, None);
    let failure = Failure {
        message: "down".into(),
        correlation_id: None,
    };
    state.apply(Report::Requests {
        query: RequestQuery::All,
        result: Err(failure.clone()),
    });
    assert_eq!(state.requests_error, Some(failure));
    assert_eq!(
        state.requests.len(),
        1,
        "a failed refresh keeps the last list"
    );
}

#[test]
fn the_desk_refreshes_itself_from_the_logic_step_and_never_at_a_kiosk() {
    use std::time::{Duration, Instant};
    let start = Instant::now();
    let mut state = StationState::default();
    let (sent, wake) = state.tick(start);
    assert!(sent.is_empty() && wake.is_none(), "no timer until started");
    state.start_auto_refresh(Duration::from_secs(30), start);
    let (sent, wake) = state.tick(start + Duration::from_secs(10));
    assert!(sent.is_empty());
    assert_eq!(wake, Some(Duration::from_secs(20)));
    let (sent, wake) = state.tick(start + Duration::from_secs(30));
    assert!(matches!(sent.as_slice(), [Command::RefreshRequests(_)]));
    assert_eq!(wake, Some(Duration::from_secs(30)));
    // A fetch still running counts as the refresh.
    state.loading = true;
    let (sent, _) = state.tick(start + Duration::from_secs(60));
    assert!(sent.is_empty());
    state.loading = false;
    // A refresh by hand postpones the next automatic one.
    assert!(matches!(
        state.refresh_now(start + Duration::from_secs(80)),
        Command::RefreshRequests(_)
    ));
    assert!(state.tick(start + Duration::from_secs(95)).0.is_empty());
    state.kiosk.active = true;
    let (sent, wake) = state.tick(start + Duration::from_secs(500));
    assert!(sent.is_empty() && wake.is_none());
}

#[test]
fn without_a_list_bind_says_the_server_cannot_be_reached() {
    let mut state = StationState::default();
    state.apply(Report::Requests {
        query: RequestQuery::Open,
        result: Err(Failure::new("connection refused")),
    });
    with_card(&mut state, "R1", 1);
    assert_eq!(state.bind_target(), Err(BindBlocked::NoList));
    assert!(
        state
            .bind_target()
            .err()
            .is_some_and(|e| e.to_string().contains("can't be reached"))
    );
}

#[test]
fn with_a_directory_bind_waits_for_the_account_and_refuses_one_it_does_not_know() {
    let mut target = request(1, RequestStatus::APPROVED);
    target.target_user = Some(Uuid::from_u128(0xA));
    target.data_collection = smallvec::smallvec![crate::domain::request::DataItem {
        name: "FirstName".into(),
        value: Some("Mallory".into()),
    }];
    let mut state = StationState {
        people: crate::app::people::People::new(true),
        ..StationState::default()
    };
    state.apply(Report::Requests {
        query: RequestQuery::Open,
        result: Ok(vec![target]),
    });
    state.selected_request = Some(Uuid::from_u128(1));
    with_card(&mut state, "R1", 7);
    // The selected request's account is asked about even before its row is drawn.
    assert_eq!(state.people_questions(), vec![Uuid::from_u128(0xA)]);
    assert_eq!(state.bind_target(), Err(BindBlocked::CheckingPerson));
    state.apply(Report::PersonLookedUp {
        user: Uuid::from_u128(0xA),
        result: Ok(None),
    });
    assert_eq!(
        state.bind_target(),
        Err(BindBlocked::NoAccount(Uuid::from_u128(0xA)))
    );
    state.apply(Report::PersonLookedUp {
        user: Uuid::from_u128(0xA),
        result: Ok(Some(crate::domain::person::DirectoryPerson {
            user: Uuid::from_u128(0xA),
            account: "jdoe".into(),
            principal: None,
            display_name: Some("Jane Doe".into()),
            photo: None,
        })),
    });
    assert_eq!(
        state.bind_target().map(|t| t.person),
        Ok("Jane Doe (jdoe)".to_owned())
    );
    // A directory that is out degrades to the typed name, marked unchecked.
    state.apply(Report::PersonLookedUp {
        user: Uuid::from_u128(0xA),
        result: Err(crate::domain::person::DirectoryFailure(
            "The directory did not answer.".into(),
        )),
    });
    let person = state.bind_target().map(|t| t.person);
    assert!(person.as_deref() == Ok("Mallory (unchecked)"), "{person:?}");
}

/// Review L8 and M4: the desk a supervisor opened from the kiosk goes back
/// by itself, and nothing of it, nor the reader choice, stays.
#[test]
fn back_at_the_kiosk_the_desks_list_reader_choice_history_and_notices_are_gone() {
    let mut state = loaded(vec![request(1, RequestStatus::APPROVED)]);
    state.kiosk =
        crate::app::kiosk::KioskState::new(true, std::time::Duration::from_secs(60), true);
    state.kiosk.leave(10.0);
    state.selected_request = Some(state.requests[0].uuid);
    with_card(&mut state, "R1", 1);
    state.use_reader("R1".into());
    state
        .notices
        .push("Kiosk mode was left by supervisor Sam.".into());
    assert_eq!(state.selected_reader.as_deref(), Some("R1"));
    assert!(!state.reader_history.is_empty());
    assert!(!state.kiosk_desk_tick(40.0, true), "input at the desk");
    assert!(!state.kiosk_desk_tick(99.0, false));
    assert!(state.kiosk_desk_tick(100.0, false), "left alone for 60 s");
    state.return_to_kiosk();
    assert!(state.kiosk.active);
    assert!(state.requests.is_empty() && state.selected_request.is_none());
    assert_eq!(state.selected_reader, None);
    assert!(state.reader_history.is_empty());
    assert!(state.notices.is_empty());

    // At the kiosk, a card put in names its reader; every reset forgets it.
    with_card(&mut state, "R2", 2);
    assert_eq!(state.selected_reader.as_deref(), Some("R2"));
    state.kiosk_person_forgotten();
    assert_eq!(state.selected_reader, None);
}
