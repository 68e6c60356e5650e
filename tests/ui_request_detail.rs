//! The desk's request detail pane in egui_kittest, on the CM emulator over
//! HTTP (issue 21, item 5): every collected value shown cleaned and marked
//! as the requester's, a Pending request explained from its template's
//! workflow policy, and a policy that cannot be read said in words.

mod common;

use common::window::*;

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use enroll_station::cm::demo_data::TEMPLATES;
use enroll_station::cm::emulator::lifecycle::EmulatedPolicy;
use enroll_station::cm::emulator::{Emulator, EmulatorConfig, UnknownObjectAnswer};
use enroll_station::cm::{ClientConfig, CmClient};
use enroll_station::ui::StationApp;

const HOSTILE: &str = "1d2c3b4a-5f6e-4a7b-8c9d-0e1f2a3b4c01";
const PENDING: &str = "1d2c3b4a-5f6e-4a7b-8c9d-0e1f2a3b4c02";
const UNKNOWN_TEMPLATE: &str = "1d2c3b4a-5f6e-4a7b-8c9d-0e1f2a3b4c99";

fn insert(station: &Station, id: &str, status: i64, template: &str, data: serde_json::Value) {
    emulator(station)
        .insert_request(serde_json::json!({
            "Uuid": id,
            "RequestType": 1,
            "Status": status,
            "Priority": 100,
            "Submitted": "2026-11-27T09:00:00Z",
            "NewSmartcardUuid": "00000000-0000-0000-0000-000000000000",
            "OldSmartcardUuid": "00000000-0000-0000-0000-000000000000",
            "ProfileTemplateUuid": template,
            "IsSmartcard": true,
            "Comment": "Line one\nline two \u{202e}gnp.exe",
            "DataCollection": data,
        }))
        .expect("the test request is valid");
}

/// A node's text: its label, or the value a text label exposes instead.
fn text_of(node: &egui_kittest::Node<'_>) -> Option<String> {
    let node = node.accesskit_node();
    node.label().or_else(|| node.value())
}

/// Every text the window exposes.
fn all_labels(h: &Harness<'static, StationApp>) -> Vec<String> {
    h.query_all_by_label_contains("")
        .filter_map(|node| text_of(&node))
        .collect()
}

/// Shows the open requests (Pending included), fetched again after the
/// test's inserts, and selects `person`'s.
fn show_open_and_select(h: &mut Harness<'static, StationApp>, person: &str) {
    wait_for(h, "the request list", |h| shows(h, PERSON));
    h.get_by_label("Show").click();
    h.run_steps(2);
    h.get_by_label("Open (Approved, Executing, Pending)")
        .click();
    h.run_steps(2);
    h.get_by_label("Refresh").click();
    wait_for(h, "the open requests", |h| shows(h, person));
    // The row's name is the typed title: the person and the values after it.
    h.query_all_by_label_contains(person)
        .next()
        .expect("the row")
        .click();
    h.run_steps(2);
}

fn open_pane(h: &mut Harness<'static, StationApp>) {
    h.get_by_label("Request details").click();
    h.run_steps(2);
}

#[test]
fn the_pane_shows_every_collected_value_cleaned_and_marked_as_the_requesters() {
    let mut station = station();
    insert(
        &station,
        HOSTILE,
        3,
        &TEMPLATES[0].uuid.to_string(),
        serde_json::json!([
            {"Name": "DisplayName", "Value": "Detail Person"},
            {"Name": "EmployeeID", "Value": "E12\u{202e}34\u{200b}"},
            {"Name": "Note", "Value": "\u{1b}[31mred\ttab"},
            {"Name": "Empty", "Value": null}
        ]),
    );
    let h = &mut station.harness;
    show_open_and_select(h, "Detail Person");
    open_pane(h);
    wait_for(h, "the request's cards", |h| shows(h, "Old card: none"));
    assert!(shows(h, "Entered by the requester (unchecked)"));
    assert!(
        shows(h, "E12<U+202E>34<U+200B>"),
        "hidden characters are shown as marks: {:?}",
        all_labels(h)
    );
    assert!(shows(h, "<U+001B>[31mred tab"), "{:?}", all_labels(h));
    assert!(shows(h, "(not filled in)"));
    assert!(
        shows(h, "This value"),
        "a value with hidden characters is flagged"
    );
    assert!(shows(h, "Line one line two <U+202E>gnp.exe"), "the comment");
    assert!(shows(h, "Enroll request, Approved"));
    assert!(shows(h, "New card: none"));
    let texts = all_labels(h);
    assert!(
        texts.iter().any(|t| t.contains("E12<U+202E>34")),
        "the check below sees the pane's values: {texts:?}"
    );
    for label in texts {
        assert!(
            !label
                .chars()
                .any(|c| matches!(c, '\u{202e}' | '\u{200b}' | '\u{1b}' | '\n' | '\t')),
            "a raw hidden character reached the screen: {label:?}"
        );
    }
    assert!(
        !shows(h, "Why it is Pending"),
        "an approved request is not explained"
    );
}

#[test]
fn a_pending_request_shows_the_approvals_its_policy_needs() {
    let mut station = station();
    let template = TEMPLATES[1].uuid;
    emulator(&station).set_workflow_policy(
        template,
        "enroll",
        EmulatedPolicy {
            approvals_needed: 2,
            enroll_agent_required: true,
            ..EmulatedPolicy::default()
        },
    );
    insert(
        &station,
        PENDING,
        16,
        &template.to_string(),
        serde_json::json!([{"Name": "DisplayName", "Value": "Waiting Person"}]),
    );
    let h = &mut station.harness;
    show_open_and_select(h, "Waiting Person");
    assert!(
        !shows(h, "Why it is Pending"),
        "nothing is read while the pane is closed"
    );
    open_pane(h);
    wait_for(h, "the workflow policy", |h| {
        shows(h, "Waiting for 2 approvals in the CM portal.")
    });
    assert!(shows(h, "An enrollment agent must execute it."));
    assert!(shows(h, "the REST API has no approve call"));
    assert!(shows(h, "Enroll request, Pending"));
}

/// The window on an emulator that answers 404 (not 204) for an object it
/// does not hold, so a policy of an unknown template is refused.
fn refusing_station() -> Station {
    let (dir, path) = common::temp_journal();
    let journal =
        enroll_station::audit::journal::open_shared(Some(&path), true).expect("journal opens");
    let mut station = station_customized(journal, None, |setup| {
        let emulator = Emulator::start_on_thread(EmulatorConfig {
            requests: 5,
            unknown_object: UnknownObjectAnswer::NotFound,
            ..EmulatorConfig::default()
        })
        .expect("emulator starts on loopback");
        // The known request the harness waits for.
        let known = setup
            .demo
            .as_ref()
            .and_then(|e| e.requests().into_iter().find(|r| r.uuid == request_id()))
            .expect("the harness's request");
        emulator.insert_domain_request(&known);
        setup.client = CmClient::new(&ClientConfig::new(emulator.base_url())).expect("client");
        setup.demo = Some(emulator);
    });
    station.journal = path;
    station._journal_dir = Some(dir);
    station
}

#[test]
fn a_policy_that_cannot_be_read_says_so_in_words_and_can_be_asked_again() {
    let mut station = refusing_station();
    // CM holds no such template: the policy call is refused.
    insert(
        &station,
        PENDING,
        16,
        UNKNOWN_TEMPLATE,
        serde_json::json!([{"Name": "DisplayName", "Value": "Orphan Person"}]),
    );
    let h = &mut station.harness;
    show_open_and_select(h, "Orphan Person");
    open_pane(h);
    wait_for(h, "the policy's failure", |h| {
        shows(h, "The workflow policy could not be read:")
    });
    let failure = h
        .query_all_by_label_contains("The workflow policy could not be read:")
        .find_map(|node| text_of(&node))
        .expect("the failure line");
    assert!(
        failure.contains(UNKNOWN_TEMPLATE) || failure.to_lowercase().contains("not found"),
        "the failure says what happened: {failure}"
    );
    assert!(shows(h, "Try again"));
    assert!(
        !shows(h, "Waiting for"),
        "no approval count is made up without a policy"
    );
    h.get_by_label("Try again").click();
    wait_for(h, "the failure again", |h| {
        shows(h, "The workflow policy could not be read:")
    });
}
