//! The real window, driven through its accessibility tree with egui_kittest,
//! against the CM emulator over real HTTP and the demo reader's virtual card.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use enroll_station::cm::emulator::{Emulator, EmulatorConfig, Faults};
use enroll_station::cm::{ClientConfig, CmClient};
use enroll_station::domain::bind::BindState;
use enroll_station::ui::{StationApp, StationSetup};
use uuid::Uuid;

const PERSON: &str = "Kittest Person, Finance";
const REQUEST: &str = "0c7b4d1e-5a2f-4e8b-9f10-2d3c4b5a6978";

struct Station {
    harness: Harness<'static, StationApp>,
    journal: PathBuf,
    _journal_dir: Option<tempfile::TempDir>,
    _runtime: tokio::runtime::Runtime,
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Starts the emulator with one known approved request on top, and the window on it.
fn station() -> Station {
    let (dir, path) = common::temp_journal();
    let journal = enroll_station::journal::open_shared(Some(&path), true).expect("journal opens");
    let mut station = station_with_journal(journal);
    station.journal = path;
    station._journal_dir = Some(dir);
    station
}

fn station_with_journal(journal: enroll_station::worker::effects::SharedJournal) -> Station {
    let runtime = runtime();
    let emulator = runtime
        .block_on(Emulator::start(EmulatorConfig {
            requests: 5,
            ..EmulatorConfig::default()
        }))
        .expect("emulator starts on loopback");
    emulator
        .insert_request(serde_json::json!({
            "Uuid": REQUEST,
            "RequestType": 1,
            "Status": 3,
            "Priority": 99,
            "Submitted": "2026-11-27T08:00:00Z",
            "Completed": "0001-01-01T00:00:00",
            "NewSmartcardUuid": "00000000-0000-0000-0000-000000000000",
            "IsSmartcard": true,
            "DataCollection": [
                {"Name": "DisplayName", "Value": "Kittest Person"},
                {"Name": "Department", "Value": "Finance"}
            ]
        }))
        .expect("the test request is valid");
    let client = CmClient::new(&ClientConfig::new(emulator.base_url())).expect("client");
    let setup = StationSetup {
        client,
        runtime: runtime.handle().clone(),
        demo: Some(emulator),
        watch_pcsc: false,
        journal,
        reader_filter: Default::default(),
    };
    let harness = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_eframe(move |cc| StationApp::new(&cc.egui_ctx, setup));
    Station {
        harness,
        journal: PathBuf::new(),
        _journal_dir: None,
        _runtime: runtime,
    }
}

/// Steps the UI until `done` holds; the worker answers on other threads.
fn wait_for(
    harness: &mut Harness<'static, StationApp>,
    what: &str,
    done: impl Fn(&Harness<'static, StationApp>) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        harness.run_steps(1);
        if done(harness) {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn shows(harness: &Harness<'static, StationApp>, text: &str) -> bool {
    harness.query_all_by_label_contains(text).next().is_some()
}

fn bind_enabled(harness: &Harness<'static, StationApp>) -> bool {
    harness
        .query_by_label("Bind")
        .is_some_and(|node| !node.accesskit_node().is_disabled())
}

/// Selects the known request and inserts the demo GIDS card.
fn prepare_bind(station: &mut Station) {
    let h = &mut station.harness;
    wait_for(h, "the request list", |h| shows(h, PERSON));
    assert!(
        !bind_enabled(h),
        "Bind must be disabled before a request and a card are chosen"
    );
    h.get_by_label(PERSON).click();
    h.run_steps(2);
    assert!(!bind_enabled(h), "Bind must stay disabled without a card");
    h.get_by_label("Insert demo card").click();
    wait_for(h, "the card ID", |h| {
        shows(h, "bc88f13f-83ba-4037-8262-46eba1291c6e")
    });
    assert!(
        shows(
            h,
            "Chip (CPLC): fabricator 4090, type 7A77, serial 12345678, batch 0042"
        ),
        "the chip's CPLC is shown"
    );
    wait_for(h, "Bind to be enabled", bind_enabled);
}

fn emulator(station: &Station) -> &Emulator {
    station
        .harness
        .state()
        .demo_emulator()
        .expect("demo mode keeps the emulator")
}

#[test]
fn one_click_binds_the_selected_request_to_the_card_showing_progress_then_the_result() {
    let mut station = station();
    prepare_bind(&mut station);
    emulator(&station).set_faults(Faults {
        post_delay: Duration::from_millis(1500),
        ..Faults::default()
    });
    station.harness.get_by_label("Bind").click();
    wait_for(
        &mut station.harness,
        "progress while the server is slow",
        |h| shows(h, "waiting for the CM server"),
    );
    assert!(
        !bind_enabled(&station.harness),
        "Bind is disabled while a bind is in flight"
    );
    wait_for(&mut station.harness, "the result", |h| {
        shows(h, "Bound: card")
    });
    let BindState::Bound { receipt, .. } = &station.harness.state().state().bind else {
        panic!(
            "expected Bound, got {:?}",
            station.harness.state().state().bind
        );
    };
    let smartcard = receipt
        .smartcard_uuid
        .expect("the server named the new smart card");
    assert!(shows(&station.harness, &smartcard.to_string()));
    let emulator = emulator(&station);
    assert_eq!(emulator.bind_count(), 1);
    let request_id = Uuid::parse_str(REQUEST).expect("test GUID");
    let bound = emulator
        .requests()
        .into_iter()
        .find(|r| r.uuid == request_id)
        .expect("request still there");
    assert_eq!(bound.new_smartcard, Some(smartcard));
    let journal = journal_lines(&station.journal);
    let events: Vec<(&str, Option<&str>)> = journal
        .iter()
        .map(|r| (r["event"].as_str().unwrap_or(""), r["outcome"].as_str()))
        .collect();
    assert_eq!(events, vec![("attempt", None), ("outcome", Some("bound"))]);
    assert_eq!(journal[1]["smartcard_uuid"], smartcard.to_string().as_str());
    assert_eq!(journal[0]["request_id"], REQUEST);

    // The audit view shows the bind from the journal.
    station.harness.get_by_label("Audit journal").click();
    wait_for(&mut station.harness, "the audit records", |h| {
        shows(h, "2 most recent records")
    });
    assert!(shows(&station.harness, "Export CSV…"));
    assert!(
        station.harness.query_all_by_label("bound").next().is_some(),
        "the outcome row is listed"
    );
}

#[test]
fn the_atr_is_explained_and_reader_events_are_listed() {
    let mut station = station();
    prepare_bind(&mut station);
    let h = &mut station.harness;
    h.get_by_label("Recent events").click();
    wait_for(h, "the reader's history", |h| shows(h, "card inserted"));
    assert!(shows(
        h,
        "card identified: GIDS bc88f13f-83ba-4037-8262-46eba1291c6e"
    ));
    h.get_by_label("Recent events").click();
    h.get_by_label("ATR details").click();
    wait_for(h, "the ATR explained", |h| shows(h, "direct convention"));
    assert!(shows(h, "T=1"), "the offered protocol is named");
}

fn journal_lines(path: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .expect("the journal was written")
        .lines()
        .map(|line| serde_json::from_str(line).expect("each journal line is JSON"))
        .collect()
}

#[test]
fn a_server_error_is_shown_in_words_with_the_correlation_id() {
    let mut station = station();
    prepare_bind(&mut station);
    emulator(&station).set_faults(Faults {
        fail_next_posts: 1,
        ..Faults::default()
    });
    station.harness.get_by_label("Bind").click();
    wait_for(&mut station.harness, "the error", |h| {
        shows(h, "Not bound: the server answered with an error")
    });
    let BindState::Failed { failure, .. } = &station.harness.state().state().bind else {
        panic!(
            "expected Failed, got {:?}",
            station.harness.state().state().bind
        );
    };
    let correlation = failure
        .correlation_id
        .clone()
        .expect("a 500 carries a correlation ID");
    assert!(
        shows(&station.harness, &correlation),
        "the correlation ID is on screen"
    );
    assert!(shows(&station.harness, "Copy error"));
    assert!(
        shows(&station.harness, "safe to try again"),
        "a 500 is reconciled before the operator is told"
    );
    assert_eq!(emulator(&station).bind_count(), 0);
    let outcomes: Vec<String> = journal_lines(&station.journal)
        .iter()
        .filter_map(|r| r["outcome"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(outcomes, vec!["reconciled_not_bound"]);
}

#[test]
fn a_journal_that_cannot_be_opened_disables_binding_with_the_reason() {
    // A directory where the journal file should be cannot be opened as a journal.
    let (_guard, path) = common::temp_journal();
    let dir = path.with_extension("dir");
    std::fs::create_dir_all(&dir).expect("a directory where the journal file should be");
    let (journal, problem) = enroll_station::journal::open_for_window(Some(&dir), true);
    let problem = problem.expect("a directory is not a journal");
    let mut station = station_with_journal(journal);
    station
        .harness
        .state_mut()
        .notify(format!("Binding is disabled: {problem}"));
    prepare_bind(&mut station);
    station.harness.get_by_label("Bind").click();
    wait_for(&mut station.harness, "the refusal", |h| {
        shows(h, "audit journal could not be written")
    });
    assert!(shows(&station.harness, "Binding is disabled"));
    assert_eq!(
        emulator(&station).bind_count(),
        0,
        "nothing is bound unrecorded"
    );
}

#[test]
fn a_card_without_an_id_cannot_be_bound_and_says_why() {
    let mut station = station();
    let h = &mut station.harness;
    wait_for(h, "the request list", |h| shows(h, PERSON));
    h.get_by_label(PERSON).click();
    h.get_by_label("Demo card").click();
    h.run_steps(2);
    h.get_by_label("Card without a known application").click();
    h.run_steps(2);
    h.get_by_label("Insert demo card").click();
    wait_for(h, "the reason", |h| shows(h, "Cannot be bound"));
    assert!(!bind_enabled(h));
}
