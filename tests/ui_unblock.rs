//! The phone unblock under an OfflineUnblock request CM already holds,
//! approved (created in the CM portal, or by a help-desk workflow with its
//! approvals), in egui_kittest on the CM emulator over HTTP: the window
//! offers that request before "create one", asks for the response under it
//! (no request is created beside it), and Done marks it Completed in CM,
//! journalled; under each of the emulator's readings of what the response
//! does to the request, and at a supervised station without asking the
//! supervisor a second time.

mod common;

use common::window::*;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use enroll_station::cm::demo_data::TEMPLATES;
use enroll_station::cm::emulator::lifecycle::{LifecycleRules, UnblockCompletion};
use enroll_station::domain::card::CardId;
use enroll_station::domain::request::{RequestStatus, SmartcardStatus};
use enroll_station::ui::StationApp;
use uuid::Uuid;

const USER: Uuid = Uuid::from_u128(0x1234);

fn status_in_cm(station: &Station, id: Uuid) -> RequestStatus {
    emulator(station)
        .requests()
        .into_iter()
        .find(|r| r.uuid == id)
        .expect("the request is in CM")
        .status
}

/// A card CM holds, Active, for [`USER`] on the first template, and an
/// approved OfflineUnblock request for it: (card ID, request).
fn card_with_approved_unblock(station: &Station) -> (CardId, Uuid) {
    let card_id = CardId::from_raw([0x43; 16]);
    let object = emulator(station).insert_smartcard(
        &card_id,
        SmartcardStatus::ACTIVE,
        USER,
        TEMPLATES[0].uuid,
    );
    let request = emulator(station)
        .insert_request(serde_json::json!({
            "Uuid": Uuid::new_v4().to_string(),
            "RequestType": "OfflineUnblock",
            "Status": 3,
            "DataCollection": [{"Name": "EmployeeID", "Value": "E1234"}],
            "Submitted": "2026-11-26T15:30:00Z",
            "Completed": "0001-01-01T00:00:00",
            "NewSmartcardUuid": Uuid::nil().to_string(),
            "OldSmartcardUuid": object.to_string(),
            "ProfileTemplateUuid": TEMPLATES[0].uuid.to_string(),
            "TargetUserUuid": USER.to_string(),
            "IsSmartcard": true,
            "IsEnrollmentAgent": true,
        }))
        .expect("the request is valid");
    (card_id, request)
}

/// Looks the card up by its typed ID and opens the unblock screen, until it
/// offers the approved request.
fn open_unblock(h: &mut Harness<'static, StationApp>, card_id: CardId, request: Uuid) {
    wait_for(h, "the request list", |h| shows(h, PERSON));
    press(h, "Card lookup");
    wait_for(h, "the card panel", |h| shows(h, "Look up"));
    set_field(h, "Card ID", &card_id.to_string());
    press(h, "Look up");
    wait_for(h, "CM's record", |h| {
        shows(h, "What you may do to this card")
    });
    press(h, "Unblock PIN by phone…");
    wait_for(h, "the approved request offered", |h| {
        shows(h, &format!("Use the approved unblock request {request}"))
    });
}

/// Types the challenge, confirms, and waits for the response.
fn get_response(h: &mut Harness<'static, StationApp>) {
    set_field(h, "Challenge", "D611 43F9 CCFF D2CA");
    press(h, "Get the response…");
    wait_for(h, "the confirmation", |h| shows(h, "What happens"));
}

fn wait_for_response(h: &mut Harness<'static, StationApp>) {
    wait_for(h, "the response", |h| {
        shows(h, "Response ") || shows(h, "Not done:")
    });
    assert!(
        h.query_all_by_label_contains("Response ").next().is_some(),
        "the response is shown"
    );
}

fn journal_text(station: &Station) -> String {
    std::fs::read_to_string(&station.journal).expect("the journal")
}

#[test]
fn the_approved_request_is_used_and_done_completes_it() {
    let mut station = station();
    let (card_id, request) = card_with_approved_unblock(&station);
    let h = &mut station.harness;
    open_unblock(h, card_id, request);
    assert!(
        shows(h, "(submitted 2026-11-2"),
        "when it was submitted is said"
    );
    assert!(shows(h, "Create a new OfflineUnblock request"));
    assert!(
        !shows(h, "EmployeeID (required)"),
        "no data items: CM collected them when the request was made"
    );
    get_response(h);
    assert!(shows(
        h,
        &format!("the approved OfflineUnblock request {request}")
    ));
    assert!(shows(
        h,
        "Done (after the response is read out) marks the request Completed"
    ));
    press(h, "Get the unblock response");
    wait_for_response(h);
    assert_eq!(
        emulator(&station).created_requests(),
        0,
        "no request beside the approved one"
    );
    assert_eq!(status_in_cm(&station, request), RequestStatus::EXECUTING);
    let h = &mut station.harness;
    assert!(shows(
        h,
        &format!("Under request {request}: Done marks it Completed")
    ));
    press(h, "Done");
    assert!(
        h.query_all_by_label_contains("Response ").next().is_none(),
        "Done forgets the response"
    );
    wait_for(h, "the completion", |h| shows(h, "The unblock is finished"));
    assert!(shows(
        h,
        &format!("The unblock is finished: request {request} is Completed in CM.")
    ));
    assert_eq!(status_in_cm(&station, request), RequestStatus::COMPLETED);
    let text = journal_text(&station);
    assert!(
        text.contains(&format!("complete request {request}")),
        "the completion is journalled: {text}"
    );
    assert!(!text.contains("1746"), "never the response: {text}");
    assert_eq!(
        enroll_station::audit::verify(&station.journal)
            .expect("intact")
            .unfinished,
        0
    );
}

#[test]
fn when_cm_completes_with_the_response_done_sends_nothing_more() {
    let mut station = station();
    emulator(&station).set_lifecycle_rules(LifecycleRules {
        unblock_completion: UnblockCompletion::ResponseCompletes,
        ..LifecycleRules::default()
    });
    let (card_id, request) = card_with_approved_unblock(&station);
    let h = &mut station.harness;
    open_unblock(h, card_id, request);
    get_response(h);
    press(h, "Get the unblock response");
    wait_for_response(h);
    assert_eq!(status_in_cm(&station, request), RequestStatus::COMPLETED);
    let h = &mut station.harness;
    press(h, "Done");
    wait_for(h, "the completion", |h| shows(h, "The unblock is finished"));
    assert!(shows(h, &format!("request {request} is Completed in CM")));
    assert!(
        !journal_text(&station).contains(&format!("complete request {request}")),
        "nothing was sent, so nothing was journalled as sent"
    );
}

#[test]
fn the_agent_may_still_create_a_new_request() {
    let mut station = station();
    let (card_id, approved) = card_with_approved_unblock(&station);
    let h = &mut station.harness;
    open_unblock(h, card_id, approved);
    press(h, "Create a new OfflineUnblock request");
    wait_for(h, "the workflow's items", |h| {
        shows(h, "EmployeeID (required)")
    });
    set_field(h, "EmployeeID (required)", "E1234");
    get_response(h);
    assert!(shows(h, "A new OfflineUnblock request for card ID"));
    press(h, "Get the unblock response");
    wait_for_response(h);
    assert_eq!(emulator(&station).created_requests(), 1);
    assert_eq!(
        status_in_cm(&station, approved),
        RequestStatus::APPROVED,
        "the approved one is left as it was"
    );
}

#[test]
fn a_supervised_station_asks_the_supervisor_once() {
    let mut station = supervised_station(&[supervisor_entry(SUPERVISOR, SUPERVISOR_PASSWORD)]);
    let (card_id, request) = card_with_approved_unblock(&station);
    let h = &mut station.harness;
    open_unblock(h, card_id, request);
    get_response(h);
    set_field(h, "Supervisor name", SUPERVISOR);
    set_field(h, "Password", SUPERVISOR_PASSWORD);
    press(h, "Confirm: Get the unblock response");
    wait_for_response(h);
    let h = &mut station.harness;
    press(h, "Done");
    wait_for(h, "the completion", |h| {
        shows(h, "The unblock is finished") || shows(h, "Not done:")
    });
    assert!(
        shows(h, "The unblock is finished"),
        "Done completes it without a second confirmation"
    );
    assert_eq!(status_in_cm(&station, request), RequestStatus::COMPLETED);
    let text = journal_text(&station);
    assert!(
        text.contains(&format!("\"supervisor\":\"{SUPERVISOR}\"")),
        "{text}"
    );
}
