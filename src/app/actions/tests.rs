use super::*;
use crate::domain::card_record::CardRecord;
use crate::domain::request::{SmartcardStatus, example_request};
use crate::domain::unblock::ChallengeResponse;
use crate::platform::secrets::Secret;
use crate::worker::Report;

fn card(status: SmartcardStatus) -> Smartcard {
    Smartcard {
        uuid: Uuid::from_u128(7),
        status,
        card_id: Some(CardId::from_raw([7; 16])),
        atr: None,
        assigned_user: Some(Uuid::from_u128(8)),
        profile_template: Some(Uuid::from_u128(9)),
    }
}

fn known(ops: &[&str]) -> CmStanding {
    CmStanding::Known(CardRecord {
        objects: vec![card(SmartcardStatus::ACTIVE)],
        operations: Ok(ops
            .iter()
            .filter_map(|o| CardOperation::from_wire(o))
            .collect()),
        certificates: Ok(2),
    })
}

fn policy() -> WorkflowPolicy {
    WorkflowPolicy {
        data_collection: Some(crate::domain::lifecycle::example_items()),
        ..WorkflowPolicy::default()
    }
}

fn abandon(state: &mut StationState) -> Request {
    let request = example_request(1, RequestStatus::APPROVED);
    assert!(state.actions.confirm(Intent::ChangeStatus {
        request: Box::new(request.clone()),
        change: StatusChange::Abandon,
    }));
    request
}

#[test]
fn undo_is_offered_by_status() {
    assert_eq!(
        status_changes(RequestStatus::PENDING),
        &[StatusChange::Cancel]
    );
    assert_eq!(
        status_changes(RequestStatus::APPROVED),
        &[StatusChange::Abandon, StatusChange::Cancel]
    );
    assert_eq!(
        status_changes(RequestStatus::EXECUTING),
        &[StatusChange::Abandon]
    );
    for done in [
        RequestStatus::COMPLETED,
        RequestStatus::FAILED,
        RequestStatus::CANCELED,
        RequestStatus::DENIED,
    ] {
        assert!(status_changes(done).is_empty(), "{done}");
    }
}

#[test]
fn a_confirmed_abandon_sends_one_command_and_shows_the_refusal() {
    let mut state = StationState::default();
    let request = abandon(&mut state);
    let lines = state
        .actions
        .confirmation
        .as_ref()
        .expect("open")
        .intent
        .lines();
    assert!(lines[0].contains(&request.uuid.to_string()), "{lines:?}");
    let Some(Command::PerformAction {
        id,
        action,
        supervisor: None,
    }) = state.confirm_action()
    else {
        panic!("one PerformAction");
    };
    assert_eq!(
        action,
        Action::ChangeStatus {
            request: request.uuid,
            change: StatusChange::Abandon,
            comment: None
        }
    );
    assert!(state.confirm_action().is_none(), "never twice");
    state.actions.close_confirmation();
    assert!(state.actions.confirmation.is_some(), "not closed while out");
    // An answer for another id is not this one.
    assert!(!state.apply(Report::ActionFinished {
        id: id + 100,
        result: Err(Failure::new("other")),
    }));
    let refresh = state.apply(Report::ActionFinished {
        id,
        result: Err(Failure {
            message: "CM refused: the request is Completed".into(),
            correlation_id: Some("abc-123".into()),
        }),
    });
    assert!(!refresh);
    let stage = &state.actions.confirmation.as_ref().expect("open").stage;
    let Stage::Refused(words) = stage else {
        panic!("{stage:?}")
    };
    assert!(
        words.contains("Completed") && words.contains("abc-123"),
        "{words}"
    );
    state.actions.try_again();
    assert!(state.confirm_action().is_some(), "tried again");
}

#[test]
fn a_done_action_refreshes_the_list_and_says_what_happened() {
    let mut state = StationState::default();
    let request = abandon(&mut state);
    let Some(Command::PerformAction { id, .. }) = state.confirm_action() else {
        panic!("sent");
    };
    assert!(state.apply(Report::ActionFinished {
        id,
        result: Ok(ActionDone::StatusChanged {
            request: request.uuid,
            status: RequestStatus::FAILED,
        }),
    }));
    let stage = &state.actions.confirmation.as_ref().expect("open").stage;
    assert!(
        matches!(stage, Stage::Done(words) if words.contains("Failed")),
        "{stage:?}"
    );
    state.actions.close_confirmation();
    assert!(state.actions.confirmation.is_none());
}

#[test]
fn a_supervised_station_sends_the_supervisors_credential_with_the_action() {
    let mut state = StationState::default();
    state.witness = Witness::Needed;
    abandon(&mut state);
    assert!(state.confirm_action().is_none(), "no name, nothing sent");
    let confirmation = state.actions.confirmation.as_mut().expect("open");
    assert_eq!(
        confirmation.supervisor.error.as_deref(),
        Some("Type the supervisor's name.")
    );
    confirmation.supervisor.name = "Sam".into();
    confirmation.supervisor.password.text_mut().push_str("pw");
    let Some(Command::PerformAction {
        supervisor: Some(credential),
        ..
    }) = state.confirm_action()
    else {
        panic!("sent with the credential");
    };
    assert_eq!(credential.name, "Sam");
    assert_eq!(credential.password, Secret::new("pw"));
    let confirmation = state.actions.confirmation.as_ref().expect("open");
    assert!(confirmation.supervisor.password.is_empty(), "wiped");

    let mut nobody = StationState::default();
    nobody.witness = Witness::NoneConfigured;
    abandon(&mut nobody);
    assert!(nobody.confirm_action().is_none());
}

#[test]
fn a_kiosk_station_offers_no_action() {
    let mut state = StationState::default();
    state.kiosk.station_is_kiosk = true;
    assert!(!state.actions_offered());
    abandon(&mut state);
    assert!(state.confirm_action().is_none());
}

#[test]
fn the_card_panel_takes_its_answer_and_offers_what_cm_allows() {
    let mut state = StationState::default();
    let panel = &mut state.actions.card;
    panel.typed = "not a card".into();
    assert!(panel.look_up_typed().is_none());
    assert!(
        panel
            .error
            .as_deref()
            .is_some_and(|e| e.contains("card ID"))
    );
    let card_id = CardId::from_raw([7; 16]);
    panel.typed = format!("{{{}}}", card_id.to_string().to_uppercase());
    assert!(matches!(panel.look_up_typed(), Some(Command::LookUpCard(id)) if id == card_id));
    state.apply(Report::CardLookedUp {
        card_id: CardId::from_raw([1; 16]),
        standing: known(&["retire"]),
    });
    assert!(
        state.actions.card.record().is_none(),
        "another card's answer"
    );
    state.apply(Report::CardLookedUp {
        card_id,
        standing: known(&["renew", "unblock", "retire", "revoke"]),
    });
    assert_eq!(
        state.actions.card.offered(),
        vec![
            RequestType::OFFLINE_UNBLOCK,
            RequestType::RETIRE,
            RequestType::REVOKE
        ]
    );
}

#[test]
fn required_items_block_in_words_until_filled() {
    let mut form = ItemsForm::default();
    let policy = policy();
    let error = form.data(Some(&policy)).expect_err("missing").to_string();
    assert!(
        error.contains("EmployeeID (must match ^E[0-9]{4}$)"),
        "{error}"
    );
    assert!(!error.contains("Reason"), "{error}");
    *form.value_mut("EmployeeID") = " E1234 ".into();
    let data = form.data(Some(&policy)).expect("filled");
    assert_eq!(data.len(), 1);
    assert_eq!(data[0].value.as_deref(), Some("E1234"));
    assert!(form.error.is_none());
    assert!(
        ItemsForm::default()
            .data(None)
            .expect("no policy")
            .is_empty()
    );
}

#[test]
fn a_retire_is_for_the_cards_object_user_and_template() {
    let card_id = CardId::from_raw([7; 16]);
    let intent = card_intent(
        RequestType::RETIRE,
        card_id,
        &card(SmartcardStatus::ACTIVE),
        vec![],
        "returned",
    )
    .expect("retire");
    assert_eq!(intent.target_user(), Some(Uuid::from_u128(8)));
    assert_eq!(intent.verb(), "Retire card");
    let Action::Create(request) = action_of(&intent, false) else {
        panic!("create");
    };
    assert_eq!(request.smartcard, Some(Uuid::from_u128(7)));
    let refused = card_intent(
        RequestType::RETIRE,
        card_id,
        &card(SmartcardStatus::RETIRED),
        vec![],
        "",
    )
    .expect_err("retired")
    .to_string();
    assert!(refused.contains("Retired"), "{refused}");
}

#[test]
fn an_unblock_response_goes_to_the_screen_and_done_forgets_it() {
    let mut state = StationState::default();
    state.actions.unblock.typed = "D611 43F9 CCFF D2CO".into();
    assert!(state.actions.unblock.challenge().is_none());
    let error = state.actions.unblock.error.clone().expect("a typo");
    assert!(error.contains("character 19"), "{error}");
    state.actions.unblock.typed = "D611 43F9 CCFF D2C0".into();
    let challenge = state.actions.unblock.challenge().expect("good");
    let card = card(SmartcardStatus::ACTIVE);
    let request = NewRequest::offline_unblock(&card, vec![], "").expect("ok");
    state.actions.confirm(Intent::Unblock {
        request,
        existing: None,
        card: card.clone(),
        card_id: CardId::from_raw([7; 16]),
        challenge,
    });
    let Some(Command::PerformAction { id, action, .. }) = state.confirm_action() else {
        panic!("sent");
    };
    assert!(matches!(action, Action::OfflineUnblock(ref u) if u.smartcard == Some(card.uuid)));
    state.apply(Report::ActionFinished {
        id,
        result: Ok(ActionDone::UnblockResponse {
            request_id: Uuid::from_u128(3),
            card_id: CardId::from_raw([7; 16]),
            response: ChallengeResponse::from_bytes(vec![0x17, 0x46, 0x6e, 0x76, 0, 0, 0, 1]),
        }),
    });
    assert!(state.actions.confirmation.is_none(), "the screen shows it");
    let shown = state
        .actions
        .unblock
        .response
        .as_ref()
        .expect("kept until Done");
    assert_eq!(shown.grouped().as_str(), "1746 6E76 0000 0001");
    assert!(
        !format!("{:?}", state.actions).contains("1746"),
        "never in Debug"
    );
    state.actions.unblock.done();
    assert!(state.actions.unblock.response.is_none());
    assert!(state.actions.unblock.typed.is_empty());
}

#[test]
fn a_new_request_names_its_person_by_guid_or_by_card() {
    let mut form = NewRequestForm::default();
    assert!(form.user().is_err());
    form.person = Uuid::from_u128(8).to_string();
    assert_eq!(form.user(), Ok(Uuid::from_u128(8)));
    form.person_by = PersonBy::CardId;
    assert!(form.user().is_err(), "not looked up yet");
    form.person = CardId::from_raw([7; 16]).to_string();
    assert!(matches!(form.look_up_card(), Some(Command::LookUpCard(_))));
    form.answered(&CardId::from_raw([7; 16]), &known(&[]));
    assert_eq!(form.user(), Ok(Uuid::from_u128(8)));
    form.template = Uuid::from_u128(9).to_string();
    assert_eq!(
        form.policy_key(),
        Some((Uuid::from_u128(9), RequestType::TEMPORARY_CARD_ENROLL))
    );
}
