//! The desk's lifecycle actions in egui_kittest, on the CM emulator over
//! HTTP (issue 21): abandon a request from the detail pane after a
//! confirmation (and CM's refusal in words), retire a card found by a typed
//! card ID (a required data item missing is refused in words), unblock a PIN
//! by phone (a typo refused in words, the response shown grouped and
//! forgotten on Done), and a supervised station asking for the supervisor
//! before an abandon, and a temporary card requested from the New request
//! form.

mod common;

use common::window::*;

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use enroll_station::cm::demo_data::TEMPLATES;
use enroll_station::domain::card::CardId;
use enroll_station::domain::request::{RequestStatus, SmartcardStatus};
use enroll_station::ui::StationApp;
use uuid::Uuid;

fn status_in_cm(station: &Station, id: Uuid) -> RequestStatus {
    emulator(station)
        .requests()
        .into_iter()
        .find(|r| r.uuid == id)
        .expect("the request is in CM")
        .status
}

/// Selects the known request and opens the detail pane.
fn select_and_open_pane(h: &mut Harness<'static, StationApp>) {
    wait_for(h, "the request list", |h| shows(h, PERSON));
    h.get_by_label(PERSON).click();
    h.run_steps(2);
    h.get_by_label("Request details").click();
    h.run_steps(2);
}

#[test]
fn abandon_from_the_detail_pane_asks_first_then_says_what_cm_did() {
    let mut station = station();
    let h = &mut station.harness;
    select_and_open_pane(h);
    press(h, "Abandon request…");
    wait_for(h, "the confirmation", |h| shows(h, "What happens"));
    assert!(shows(h, "Kittest Person"), "the person is named");
    assert!(shows(h, REQUEST), "the request is named");
    assert!(shows(h, "cannot be undone"));
    assert_eq!(
        status_in_cm(&station, request_id()),
        RequestStatus::APPROVED,
        "nothing is sent before Confirm"
    );
    let h = &mut station.harness;
    press(h, "Abandon request");
    wait_for(h, "the result", |h| shows(h, "Done."));
    assert!(shows(h, "Failed"), "the new status in words");
    assert_eq!(status_in_cm(&station, request_id()), RequestStatus::FAILED);
    let h = &mut station.harness;
    press(h, "Close");
    assert!(!shows(h, "What happens"));
}

#[test]
fn cms_refusal_of_an_abandon_is_shown_in_words() {
    let mut station = station();
    select_and_open_pane(&mut station.harness);
    // Someone completed the request since the list was fetched.
    emulator(&station)
        .insert_request(serde_json::json!({
            "Uuid": REQUEST,
            "RequestType": 1,
            "Status": 8,
            "Priority": 99,
            "Submitted": "2026-11-27T08:00:00Z",
            "IsSmartcard": true,
            "DataCollection": [{"Name": "DisplayName", "Value": "Kittest Person"}]
        }))
        .expect("valid");
    let h = &mut station.harness;
    press(h, "Abandon request…");
    wait_for(h, "the confirmation", |h| shows(h, "What happens"));
    press(h, "Abandon request");
    wait_for(h, "the refusal", |h| shows(h, "Not done:"));
    assert!(shows(h, "Try again"));
    assert_eq!(
        status_in_cm(&station, request_id()),
        RequestStatus::COMPLETED
    );
}

/// A card CM holds, Active, for a user on the first template.
fn card_in_cm(station: &Station) -> CardId {
    let card_id = CardId::from_raw([0x42; 16]);
    emulator(station).insert_smartcard(
        &card_id,
        SmartcardStatus::ACTIVE,
        Uuid::from_u128(0x1234),
        TEMPLATES[0].uuid,
    );
    card_id
}

fn look_up_typed(h: &mut Harness<'static, StationApp>, card_id: CardId) {
    wait_for(h, "the request list", |h| shows(h, PERSON));
    press(h, "Card lookup");
    wait_for(h, "the card panel", |h| shows(h, "Look up"));
    set_field(h, "Card ID", &card_id.to_string());
    press(h, "Look up");
    wait_for(h, "CM's record", |h| {
        shows(h, "What you may do to this card")
    });
}

#[test]
fn retire_a_card_by_typed_id_needs_the_required_items() {
    let mut station = station();
    let card_id = card_in_cm(&station);
    let h = &mut station.harness;
    look_up_typed(h, card_id);
    assert!(shows(h, "Known to CM: Active"));
    press(h, "Retire…");
    wait_for(h, "the workflow's items", |h| {
        shows(h, "EmployeeID (required)")
    });
    press(h, "Retire card…");
    assert!(
        shows(h, "Fill in what the workflow requires"),
        "a missing required item is refused in words"
    );
    assert!(shows(h, "EmployeeID (must match ^E[0-9]{4}$)"));
    assert!(
        !shows(h, "What happens"),
        "no confirmation without the items"
    );
    set_field(h, "EmployeeID (required)", "E1234");
    set_field(h, "Comment", "returned at the desk");
    press(h, "Retire card…");
    wait_for(h, "the confirmation", |h| shows(h, "What happens"));
    assert!(shows(h, "EmployeeID: E1234"));
    assert_eq!(
        emulator(&station).created_requests(),
        0,
        "nothing before Confirm"
    );
    let h = &mut station.harness;
    press(h, "Retire card");
    wait_for(h, "the result", |h| shows(h, "Done."));
    assert!(shows(h, "CM created Retire request"), "what was done");
    assert_eq!(emulator(&station).created_requests(), 1);
}

#[test]
fn unblock_by_phone_checks_the_challenge_and_forgets_the_response() {
    let mut station = station();
    let card_id = card_in_cm(&station);
    let h = &mut station.harness;
    look_up_typed(h, card_id);
    press(h, "Unblock PIN by phone…");
    wait_for(h, "the unblock screen", |h| {
        shows(h, "EmployeeID (required)")
    });
    set_field(h, "Challenge", "D611 43F9 CCFF D2CO");
    set_field(h, "EmployeeID (required)", "E1234");
    press(h, "Get the response…");
    assert!(
        shows(h, "character 19") && shows(h, "probably the digit 0"),
        "the typo is named"
    );
    assert!(!shows(h, "What happens"));
    set_field(h, "Challenge", "d61143f9ccffd2ca");
    assert!(
        shows(h, "Read back: D611 43F9 CCFF D2CA"),
        "grouped as typed"
    );
    press(h, "Get the response…");
    wait_for(h, "the confirmation", |h| shows(h, "What happens"));
    press(h, "Get the unblock response");
    wait_for(h, "the response", |h| {
        shows(h, "Response ") || shows(h, "Not done:")
    });
    let response = h
        .query_all_by_label_contains("Response ")
        .next()
        .and_then(|node| {
            let node = node.accesskit_node();
            node.label().or_else(|| node.value())
        })
        .unwrap_or_else(|| {
            let said: Vec<String> = h
                .query_all_by_label_contains("Not done")
                .filter_map(|node| node.accesskit_node().label())
                .collect();
            panic!("the response is shown, not {said:?}")
        });
    let digits = response.trim_start_matches("Response ");
    assert_eq!(digits.len(), 19, "four groups of four: {digits}");
    assert!(digits.split(' ').all(|g| g.len() == 4), "{digits}");
    press(h, "Done");
    assert!(
        h.query_all_by_label_contains("Response ").next().is_none(),
        "Done forgets the response"
    );
    assert!(!shows(h, digits));
    assert!(
        station
            .harness
            .state()
            .state()
            .actions
            .unblock
            .response
            .is_none()
    );
}

#[test]
fn a_supervised_station_asks_for_the_supervisor_before_an_abandon() {
    let mut station = supervised_station(&[supervisor_entry(SUPERVISOR, SUPERVISOR_PASSWORD)]);
    let h = &mut station.harness;
    select_and_open_pane(h);
    press(h, "Abandon request…");
    wait_for(h, "the confirmation", |h| shows(h, "Supervisor name"));
    assert!(shows(h, "a supervisor confirms every action"));
    press(h, "Confirm: Abandon request");
    assert!(shows(h, "Type the supervisor's name."));
    assert_eq!(
        status_in_cm(&station, request_id()),
        RequestStatus::APPROVED,
        "nothing without the supervisor"
    );
    let h = &mut station.harness;
    set_field(h, "Supervisor name", SUPERVISOR);
    set_field(h, "Password", SUPERVISOR_PASSWORD);
    press(h, "Confirm: Abandon request");
    wait_for(h, "the result", |h| {
        shows(h, "Done.") || shows(h, "Not done:")
    });
    assert!(
        shows(h, "Done."),
        "the supervisor's confirmation lets it through"
    );
    assert_eq!(status_in_cm(&station, request_id()), RequestStatus::FAILED);
}

#[test]
fn a_temporary_card_request_is_created_from_the_new_request_form() {
    let mut station = station();
    let user = Uuid::from_u128(0x5151_0000_4000_8000_0000_0000_0000_0042);
    let h = &mut station.harness;
    wait_for(h, "the request list", |h| shows(h, PERSON));
    press(h, "New request");
    wait_for(h, "the form", |h| shows(h, "Person's user GUID"));
    set_field(h, "Person's user GUID", &user.to_string());
    set_field(h, "Profile template GUID", &TEMPLATES[0].uuid.to_string());
    wait_for(h, "the workflow's items", |h| {
        shows(h, "EmployeeID (required)")
    });
    set_field(h, "EmployeeID (required)", "E1234");
    set_field(h, "Comment", "forgot their card");
    press(h, "Create request…");
    wait_for(h, "the confirmation", |h| shows(h, "What happens"));
    assert!(shows(h, &user.to_string()), "the account is named");
    assert_eq!(
        emulator(&station).created_requests(),
        0,
        "nothing is sent before Confirm"
    );
    let h = &mut station.harness;
    press(h, "Request a temporary card");
    wait_for(h, "the result", |h| shows(h, "Done."));
    let created: Vec<_> = emulator(&station)
        .requests()
        .into_iter()
        .filter(|r| {
            r.request_type == enroll_station::domain::request::RequestType::TEMPORARY_CARD_ENROLL
        })
        .collect();
    assert_eq!(created.len(), 1, "one request, created once");
    assert_eq!(created[0].target_user, Some(user));
    assert_eq!(created[0].profile_template, Some(TEMPLATES[0].uuid));
}
