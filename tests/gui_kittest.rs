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
    station_with(journal, None)
}

/// The window in demo mode, its Settings view saving to `config_path`.
fn station_with(
    journal: enroll_station::worker::effects::SharedJournal,
    config_path: Option<PathBuf>,
) -> Station {
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
        card_reader: Default::default(),
        config_path,
        config: Default::default(),
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

/// The window with the Settings view open, saving to a file in a fresh directory.
fn settings_station() -> (Station, tempfile::TempDir, PathBuf) {
    let (journal_dir, journal_path) = common::temp_journal();
    let journal =
        enroll_station::journal::open_shared(Some(&journal_path), true).expect("journal opens");
    let config_path = journal_dir.path().join("config").join("station.toml");
    let mut station = station_with(journal, Some(config_path.clone()));
    station.journal = journal_path;
    let h = &mut station.harness;
    h.run_steps(2);
    h.get_by_label("Settings").click();
    wait_for(h, "the Settings view", |h| shows(h, "Server address"));
    (station, journal_dir, config_path)
}

/// Replaces the text of the field labelled `label`, as an assistive technology would.
fn set_field(harness: &mut Harness<'static, StationApp>, label: &str, text: &str) {
    harness.get_by_label(label).set_text_value_accesskit(text);
    harness.run_steps(2);
}

fn press(harness: &mut Harness<'static, StationApp>, label: &str) {
    // Through AccessKit: the button may be scrolled out of the window's view.
    harness.get_by_label(label).click_accesskit();
    harness.run_steps(2);
}

#[test]
fn settings_shows_the_configuration_grouped_with_labelled_fields() {
    let (station, _dir, config_path) = settings_station();
    let h = &station.harness;
    for label in [
        "Server address",
        "Connect timeout (seconds)",
        "Request timeout (seconds)",
        "Refresh interval (seconds)",
        "CA files (one per line)",
        "Choose CA files…",
        "Allow plain http:// to other hosts (test labs only)",
        "Client certificate file",
        "Choose client certificate…",
        "Client key file",
        "Choose client key…",
        "Authentication method",
        "Station name",
        "Mode",
        "Ignore readers (one pattern per line)",
        "Save",
        "Test connection",
    ] {
        assert!(
            h.query_by_label(label).is_some(),
            "the Settings view has a widget labelled {label:?}"
        );
    }
    for section in [
        "Server",
        "Trust & TLS",
        "Authentication",
        "Station",
        "Readers",
    ] {
        assert!(
            h.query_all_by_label(section).next().is_some(),
            "section {section:?}"
        );
    }
    assert_eq!(
        h.get_by_label("Connect timeout (seconds)")
            .value()
            .as_deref(),
        Some("10"),
        "the defaults are filled in"
    );
    assert!(
        shows(h, "demo backend until a server is configured"),
        "demo mode is explained"
    );
    assert!(shows(h, &config_path.display().to_string()));
}

#[test]
fn a_bad_timeout_is_shown_under_its_field_and_nothing_is_saved() {
    let (mut station, _dir, config_path) = settings_station();
    let h = &mut station.harness;
    set_field(h, "Connect timeout (seconds)", "0");
    press(h, "Save");
    wait_for(h, "the field's error", |h| {
        shows(h, "timeouts.connect_secs: 0 is out of range")
    });
    let field = h.get_by_label("Connect timeout (seconds)").rect();
    let error = h
        .get_by_label_contains("timeouts.connect_secs: 0 is out of range")
        .rect();
    assert!(
        error.top() >= field.bottom() - 1.0 && (error.left() - field.left()).abs() < 4.0,
        "the error is under the field: field {field:?}, error {error:?}"
    );
    let next = h.get_by_label("Request timeout (seconds)").rect();
    assert!(error.bottom() <= next.top() + 1.0, "and above the next one");
    assert!(shows(h, "nothing was saved"));
    h.run_steps(5);
    assert!(
        !config_path.exists(),
        "a form with a mistake writes no file"
    );
    assert!(
        h.state().state().settings.saved == Default::default(),
        "the baseline is unchanged"
    );
}

#[test]
fn valid_settings_are_saved_and_read_back() {
    let (mut station, _dir, config_path) = settings_station();
    let h = &mut station.harness;
    set_field(h, "Server address", "https://cm.contoso.com");
    set_field(h, "Connect timeout (seconds)", "7");
    set_field(h, "Station name", "Desk 12");
    set_field(
        h,
        "Ignore readers (one pattern per line)",
        "*Windows Hello*\nYubico*",
    );
    press(h, "Save");
    wait_for(h, "the saved notice", |h| {
        shows(h, "restart the station to connect with the new settings")
    });
    assert!(shows(h, &format!("Saved to {}", config_path.display())));
    let saved = enroll_station::config::StationConfig::load(&config_path)
        .expect("the saved file parses back");
    assert_eq!(
        saved.server.as_ref().map(|s| s.as_str()),
        Some("https://cm.contoso.com")
    );
    assert_eq!(saved.timeouts.connect_secs.get(), 7);
    assert_eq!(
        saved.station_name.as_ref().map(|s| s.as_str()),
        Some("Desk 12")
    );
    assert_eq!(saved.ignore_readers, ["*Windows Hello*", "Yubico*"]);
    assert_eq!(h.state().state().settings.saved, saved);
}

#[test]
fn test_connection_checks_the_demo_backend_step_by_step() {
    let (mut station, _dir, _config_path) = settings_station();
    let h = &mut station.harness;
    press(h, "Test connection");
    wait_for(h, "the connection check", |h| {
        shows(h, "Connection check of")
    });
    for step in [
        "PASS  DNS",
        "PASS  TCP",
        "skip  TLS",
        "PASS  Authentication",
        "PASS  GET profiletemplates",
        "PASS  GET requests?status=Approved",
    ] {
        assert!(shows(h, step), "{step}");
    }
    assert!(shows(h, "Connection test passed."));
    assert!(
        shows(h, "plain http: nothing is encrypted"),
        "details are shown"
    );
    assert!(h.query_by_label("Copy report").is_some());
    let report = h
        .state()
        .state()
        .settings
        .check
        .clone()
        .expect("the report is kept");
    assert!(report.passed(), "{}", report.to_text());
}
