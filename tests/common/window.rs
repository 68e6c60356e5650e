//! The window in egui_kittest, shared by the GUI test binaries: a station
//! on the CM emulator over real HTTP with the demo reader, and the keys,
//! clicks and waits the tests drive it with.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use enroll_station::cm::emulator::{Emulator, EmulatorConfig};
use enroll_station::cm::{ClientConfig, CmClient};
use enroll_station::ui::{StationApp, StationSetup};
use uuid::Uuid;

pub const PERSON: &str = "Kittest Person, Finance";

pub const REQUEST: &str = "0c7b4d1e-5a2f-4e8b-9f10-2d3c4b5a6978";

pub struct Station {
    pub harness: Harness<'static, StationApp>,
    pub journal: PathBuf,
    pub _journal_dir: Option<tempfile::TempDir>,
    pub _runtime: tokio::runtime::Runtime,
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Starts the emulator with one known approved request on top, and the window on it.
pub fn station() -> Station {
    let (dir, path) = super::temp_journal();
    let journal =
        enroll_station::audit::journal::open_shared(Some(&path), true).expect("journal opens");
    let mut station = station_with_journal(journal);
    station.journal = path;
    station._journal_dir = Some(dir);
    station
}

pub fn station_with_journal(journal: enroll_station::worker::effects::SharedJournal) -> Station {
    station_with(journal, None)
}

/// The window in demo mode, its Settings view saving to `config_path`.
pub fn station_with(
    journal: enroll_station::worker::effects::SharedJournal,
    config_path: Option<PathBuf>,
) -> Station {
    station_customized(journal, config_path, |_| {})
}

/// [`station_with`], with the setup changed by `customize` (a mode, supervisors).
pub fn station_customized(
    journal: enroll_station::worker::effects::SharedJournal,
    config_path: Option<PathBuf>,
    customize: impl FnOnce(&mut StationSetup),
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
    let mut setup = StationSetup {
        client,
        runtime: runtime.handle().clone(),
        demo: Some(emulator),
        watch_pcsc: false,
        journal,
        reader_filter: Default::default(),
        card_reader: Default::default(),
        config_path,
        config: Default::default(),
        overrides: Default::default(),
        mode: enroll_station::config::Mode::Desk,
        supervisors: std::sync::Arc::new(
            enroll_station::supervisors::SupervisorStore::from_config(&[]),
        ),
        refresh_interval: Duration::from_secs(30),
        people: None,
    };
    customize(&mut setup);
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
pub fn wait_for(
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

pub fn shows(harness: &Harness<'static, StationApp>, text: &str) -> bool {
    harness.query_all_by_label_contains(text).next().is_some()
}

pub fn bind_enabled(harness: &Harness<'static, StationApp>) -> bool {
    harness
        .query_by_label("Bind")
        .is_some_and(|node| !node.accesskit_node().is_disabled())
}

/// Selects the known request and inserts the demo GIDS card.
pub fn prepare_bind(station: &mut Station) {
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

pub fn emulator(station: &Station) -> &Emulator {
    station
        .harness
        .state()
        .demo_emulator()
        .expect("demo mode keeps the emulator")
}

pub fn journal_lines(path: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .expect("the journal was written")
        .lines()
        .map(|line| serde_json::from_str(line).expect("each journal line is JSON"))
        .collect()
}

/// The window with the Settings view open, saving to a file in a fresh directory.
pub fn settings_station() -> (Station, tempfile::TempDir, PathBuf) {
    let (journal_dir, journal_path) = super::temp_journal();
    let journal = enroll_station::audit::journal::open_shared(Some(&journal_path), true)
        .expect("journal opens");
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
pub fn set_field(harness: &mut Harness<'static, StationApp>, label: &str, text: &str) {
    harness.get_by_label(label).set_text_value_accesskit(text);
    harness.run_steps(2);
}

pub fn press(harness: &mut Harness<'static, StationApp>, label: &str) {
    // Through AccessKit: the button may be scrolled out of the window's view.
    harness.get_by_label(label).click_accesskit();
    harness.run_steps(2);
}

pub const SUPERVISOR: &str = "Sam Supervisor";

pub const SUPERVISOR_PASSWORD: &str = "witness of 42 binds";

/// A `[[supervisors]]` entry, hashed at the lowest cost the station accepts
/// to keep tests fast. Its account is the name in lower case, spaces as dots
/// ("Sam Supervisor" signs in as `sam.supervisor`; a supervisor named after
/// the operator's account is the operator).
pub fn supervisor_entry(name: &str, password: &str) -> enroll_station::config::SupervisorEntry {
    use enroll_station::supervisors::{HashCost, SupervisorAccount, SupervisorName, hash_password};
    enroll_station::config::SupervisorEntry {
        name: SupervisorName::try_from(name.to_owned()).expect("a usable name"),
        account: Some(
            SupervisorAccount::try_from(name.to_lowercase().replace(' ', "."))
                .expect("a usable account"),
        ),
        password_hash: hash_password(
            &enroll_station::platform::secrets::Secret::new(password),
            HashCost::Minimal,
        )
        .expect("the password hashes"),
    }
}

/// A supervised station with these supervisors, its journal in a fresh directory.
pub fn supervised_station(supervisors: &[enroll_station::config::SupervisorEntry]) -> Station {
    let (dir, path) = super::temp_journal();
    let journal =
        enroll_station::audit::journal::open_shared(Some(&path), true).expect("journal opens");
    let store = std::sync::Arc::new(enroll_station::supervisors::SupervisorStore::from_config(
        supervisors,
    ));
    let mut station = station_customized(journal, None, |setup| {
        setup.mode = enroll_station::config::Mode::Supervised;
        setup.supervisors = store;
    });
    station.journal = path;
    station._journal_dir = Some(dir);
    station
}

/// The account running the tests: the operator the journal records.
pub fn operator_name() -> String {
    enroll_station::audit::Operator::from_os()
        .os_user
        .expect("the OS names the account running the tests")
}

pub fn confirmation_open(harness: &Harness<'static, StationApp>) -> bool {
    harness.state().state().supervisor_prompt.is_some()
}

/// Selects the request, inserts the card and presses Bind: the supervisor
/// confirmation opens and nothing is sent yet.
pub fn open_confirmation(station: &mut Station) {
    prepare_bind(station);
    station.harness.get_by_label("Bind").click();
    wait_for(&mut station.harness, "the supervisor confirmation", |h| {
        shows(h, "Supervisor confirmation")
    });
    assert!(confirmation_open(&station.harness));
    assert_eq!(
        emulator(station).bind_count(),
        0,
        "Bind alone sends nothing"
    );
}

pub fn confirm_as(station: &mut Station, name: &str, password: &str) {
    let h = &mut station.harness;
    set_field(h, "Supervisor name", name);
    set_field(h, "Password", password);
    press(h, "Confirm and bind");
}

/// The kiosk's first screen: its heading also names the code field.
pub const KIOSK_CODE: &str = "Scan or type your request code";

/// A kiosk on the demo backend that starts over after `idle_secs` without input.
pub fn kiosk_station(
    idle_secs: u64,
    supervisors: &[enroll_station::config::SupervisorEntry],
) -> Station {
    let (dir, path) = super::temp_journal();
    let journal =
        enroll_station::audit::journal::open_shared(Some(&path), true).expect("journal opens");
    let store = std::sync::Arc::new(enroll_station::supervisors::SupervisorStore::from_config(
        supervisors,
    ));
    let config = enroll_station::config::StationConfig {
        mode: enroll_station::config::Mode::Kiosk,
        kiosk_idle_secs: enroll_station::config::Seconds::new(idle_secs).expect("in range"),
        ..Default::default()
    };
    let mut station = station_customized(journal, None, |setup| {
        setup.mode = enroll_station::config::Mode::Kiosk;
        setup.supervisors = store;
        setup.config = config;
    });
    station.journal = path;
    station._journal_dir = Some(dir);
    station.harness.run_steps(2);
    station
}

pub fn kiosk_code(harness: &Harness<'static, StationApp>) -> String {
    harness.state().state().kiosk.flow.code.clone()
}

pub fn code_field_value(harness: &Harness<'static, StationApp>) -> Option<String> {
    harness
        .get_by_role_and_label(egui::accesskit::Role::TextInput, KIOSK_CODE)
        .value()
}

/// What a keyboard-wedge scanner sends: the characters, then Enter, with no click first.
pub fn scan(harness: &mut Harness<'static, StationApp>, code: &str) {
    harness.event(egui::Event::Text(code.to_owned()));
    harness.key_press(egui::Key::Enter);
    harness.run_steps(2);
}

/// Sends the window manager's close request (Alt+F4, the close button) and
/// returns the viewport commands the app answered with in that frame.
pub fn request_close(harness: &mut Harness<'static, StationApp>) -> Vec<egui::ViewportCommand> {
    harness
        .input_mut()
        .viewports
        .get_mut(&egui::ViewportId::ROOT)
        .expect("the harness has a root viewport")
        .events
        .push(egui::ViewportEvent::Close);
    harness.step();
    harness.output().viewport_output[&egui::ViewportId::ROOT]
        .commands
        .clone()
}

/// Types `text` into whatever has the keyboard focus.
pub fn type_text(harness: &mut Harness<'static, StationApp>, text: &str) {
    harness.event(egui::Event::Text(text.to_owned()));
    harness.run_steps(1);
}

pub fn key(harness: &mut Harness<'static, StationApp>, key: egui::Key) {
    harness.key_press(key);
    harness.run_steps(1);
}

/// The Bind button's accelerator.
pub fn ctrl_enter(harness: &mut Harness<'static, StationApp>) {
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Enter);
    harness.run_steps(1);
}

pub fn ctrl_f(harness: &mut Harness<'static, StationApp>) {
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::F);
    harness.run_steps(1);
}

/// The requests the list shows, top to bottom.
pub fn shown_requests(
    harness: &Harness<'static, StationApp>,
) -> Vec<enroll_station::domain::request::Request> {
    let state = harness.state().state();
    state
        .view
        .rows()
        .iter()
        .map(|&row| state.requests[row as usize].clone())
        .collect()
}

pub fn selected(harness: &Harness<'static, StationApp>) -> Option<Uuid> {
    harness.state().state().selected_request
}

pub fn request_id() -> Uuid {
    Uuid::parse_str(REQUEST).expect("test GUID")
}

/// Steps until a frame asks for no immediate repaint (hover animations and
/// late reports settle); returns how long the window may then sleep.
pub fn idle_delay(harness: &mut Harness<'static, StationApp>) -> Duration {
    for _ in 0..50 {
        harness.step();
        let delay = harness.output().viewport_output[&egui::ViewportId::ROOT].repaint_delay;
        if delay > Duration::ZERO {
            return delay;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!(
        "the window keeps repainting: {:?}",
        harness.ctx.repaint_causes()
    );
}

/// Puts another approved request on the emulator, for a refresh to find.
pub fn add_request(station: &Station, name: &str) {
    emulator(station)
        .insert_request(serde_json::json!({
            "Uuid": "5d1c2b3a-4f5e-4a6b-8c7d-9e0f1a2b3c4d",
            "RequestType": 1,
            "Status": 3,
            "Priority": 1,
            "Submitted": "2026-11-27T09:00:00Z",
            "IsSmartcard": true,
            "DataCollection": [{"Name": "DisplayName", "Value": name}]
        }))
        .expect("the request is valid");
}

/// An approved software-profile request (IsSmartcard false): CM never binds a card to it.
pub const SOFTWARE_REQUEST: &str = "6e1f0a2b-3c4d-4e5f-8a9b-0c1d2e3f4a01";

/// An approved Retire of the user's card: it acts on a card, it takes none.
pub const RETIRE_REQUEST: &str = "6e1f0a2b-3c4d-4e5f-8a9b-0c1d2e3f4a02";

/// Puts the two requests that never take a card on the emulator, with the
/// highest priority, so only the bindable-first rule can keep them down.
pub fn add_cardless_requests(station: &Station) {
    for (id, name, kind, smartcard) in [
        (SOFTWARE_REQUEST, "Software Person", 1, false),
        (RETIRE_REQUEST, "Retire Person", 7, true),
    ] {
        emulator(station)
            .insert_request(serde_json::json!({
                "Uuid": id,
                "RequestType": kind,
                "Status": 3,
                "Priority": 100,
                "Submitted": "2026-11-26T09:00:00Z",
                "NewSmartcardUuid": "00000000-0000-0000-0000-000000000000",
                "OldSmartcardUuid": "7a1f0a2b-3c4d-4e5f-8a9b-0c1d2e3f4a03",
                "IsSmartcard": smartcard,
                "DataCollection": [{"Name": "DisplayName", "Value": name}]
            }))
            .expect("the request is valid");
    }
}

/// The demo GIDS card's card ID (the card `prepare_bind` inserts).
pub fn demo_gids_card_id() -> enroll_station::domain::card::CardId {
    enroll_station::domain::card::CardId::parse_cm_string("bc88f13f-83ba-4037-8262-46eba1291c6e")
        .expect("the demo card ID")
}

/// Selects the known request and inserts the demo GIDS card, without
/// waiting for Bind: CM's answer about the card may keep it disabled.
pub fn select_and_insert(station: &mut Station) {
    let h = &mut station.harness;
    wait_for(h, "the request list", |h| shows(h, PERSON));
    h.get_by_label(PERSON).click();
    h.run_steps(2);
    h.get_by_label("Insert demo card").click();
    wait_for(h, "the card ID", |h| {
        shows(h, "bc88f13f-83ba-4037-8262-46eba1291c6e")
    });
}

/// The window in demo mode, started as if the command line had put
/// `running` over the configuration `file`: `running` gets the demo
/// backend's address (a server the window can reach). Settings saves to
/// `config_path`; `supervisors` may confirm binds or open a kiosk's Settings.
pub fn overridden_station(
    file: enroll_station::config::StationConfig,
    config_path: PathBuf,
    running: impl FnOnce(&str) -> enroll_station::config::StationConfig,
    supervisors: &[enroll_station::config::SupervisorEntry],
) -> Station {
    let (dir, path) = super::temp_journal();
    let journal =
        enroll_station::audit::journal::open_shared(Some(&path), true).expect("journal opens");
    let mut station = station_customized(journal, Some(config_path), |setup| {
        let server = setup
            .demo
            .as_ref()
            .expect("the test station runs on the demo backend")
            .base_url();
        let running = running(&server);
        setup.overrides = enroll_station::config::Overrides::between(&file, &running, |_| None);
        setup.mode = running.mode;
        setup.config = file;
        setup.supervisors = std::sync::Arc::new(
            enroll_station::supervisors::SupervisorStore::from_config(supervisors),
        );
    });
    station.journal = path;
    station._journal_dir = Some(dir);
    station
}

/// A supervised station that keeps its count of wrong supervisor
/// credentials in `refusals`, as a station does beside its journal (a test
/// can write a short wait there).
pub fn supervised_station_counting_in(
    supervisors: &[enroll_station::config::SupervisorEntry],
    refusals: PathBuf,
) -> Station {
    let (dir, path) = super::temp_journal();
    let journal =
        enroll_station::audit::journal::open_shared(Some(&path), true).expect("journal opens");
    let store = std::sync::Arc::new(
        enroll_station::supervisors::SupervisorStore::from_config(supervisors)
            .sharing_refusals(refusals),
    );
    let mut station = station_customized(journal, None, |setup| {
        setup.mode = enroll_station::config::Mode::Supervised;
        setup.supervisors = store;
    });
    station.journal = path;
    station._journal_dir = Some(dir);
    station
}

/// Opens Settings from the desk's header.
pub fn open_settings(harness: &mut Harness<'static, StationApp>) {
    harness.run_steps(2);
    harness
        .get_by_role_and_label(egui::accesskit::Role::Button, "Settings")
        .click();
    wait_for(harness, "the Settings view", |h| shows(h, "Server address"));
}

/// The Settings window's rectangle, while it is open.
pub fn settings_window_rect(harness: &Harness<'static, StationApp>) -> egui::Rect {
    harness
        .get_by_role_and_label(egui::accesskit::Role::Window, "Settings")
        .rect()
}

/// The button labelled `label`.
pub fn button<'h>(
    harness: &'h Harness<'static, StationApp>,
    label: &'h str,
) -> egui_kittest::Node<'h> {
    harness.get_by_role_and_label(egui::accesskit::Role::Button, label)
}

/// A kiosk whose configuration file also says `toml` (a `[kiosk_site]`
/// table, say), read the way the station reads its file.
pub fn kiosk_station_configured(
    idle_secs: u64,
    supervisors: &[enroll_station::config::SupervisorEntry],
    toml: &str,
) -> Station {
    let text = format!("mode = \"kiosk\"\nkiosk_idle_secs = {idle_secs}\n{toml}");
    let config =
        enroll_station::config::StationConfig::parse(&text, std::path::Path::new("station.toml"))
            .expect("the test configuration is valid");
    let (dir, path) = super::temp_journal();
    let journal =
        enroll_station::audit::journal::open_shared(Some(&path), true).expect("journal opens");
    let store = std::sync::Arc::new(enroll_station::supervisors::SupervisorStore::from_config(
        supervisors,
    ));
    let mut station = station_customized(journal, None, |setup| {
        setup.mode = enroll_station::config::Mode::Kiosk;
        setup.supervisors = store;
        setup.config = config;
    });
    station.journal = path;
    station._journal_dir = Some(dir);
    station.harness.run_steps(2);
    station
}

/// The kiosk's confirm button.
pub fn bind_my_card_button<'h>(
    harness: &'h Harness<'static, StationApp>,
) -> egui_kittest::Node<'h> {
    harness.get_by_role_and_label(egui::accesskit::Role::Button, "Bind my card")
}

/// Tab until "Bind my card" has the focus, as a keyboard user would.
pub fn tab_to_bind_my_card(harness: &mut Harness<'static, StationApp>) {
    for _ in 0..10 {
        if bind_my_card_button(harness).is_focused() {
            return;
        }
        key(harness, egui::Key::Tab);
    }
    assert!(
        bind_my_card_button(harness).is_focused(),
        "Tab reaches Bind my card"
    );
}

/// A TCP relay between the station and the emulator that holds each chunk
/// of a request for `delay` milliseconds (0: none), as a slow server or
/// network does, and counts the answers it passed back.
pub struct SlowLink {
    pub delay: std::sync::Arc<std::sync::atomic::AtomicU64>,
    pub answers: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl SlowLink {
    pub fn set_delay(&self, delay: Duration) {
        let ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.delay.store(ms, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn answers(&self) -> usize {
        self.answers.load(std::sync::atomic::Ordering::SeqCst)
    }
}

fn relay(
    listener: std::net::TcpListener,
    upstream: std::net::SocketAddr,
    delay: std::sync::Arc<std::sync::atomic::AtomicU64>,
    answers: std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    use std::io::{Read as _, Write as _};
    use std::sync::atomic::Ordering;
    for inbound in listener.incoming() {
        let Ok(mut inbound) = inbound else { return };
        let Ok(mut outbound) = std::net::TcpStream::connect(upstream) else {
            continue;
        };
        let (Ok(mut inbound_back), Ok(mut outbound_back)) =
            (inbound.try_clone(), outbound.try_clone())
        else {
            continue;
        };
        let delay = std::sync::Arc::clone(&delay);
        std::thread::spawn(move || {
            let mut buffer = [0u8; 16 * 1024];
            while let Ok(read) = inbound.read(&mut buffer) {
                if read == 0 {
                    break;
                }
                std::thread::sleep(Duration::from_millis(delay.load(Ordering::SeqCst)));
                if outbound.write_all(&buffer[..read]).is_err() {
                    break;
                }
            }
            let _ = outbound.shutdown(std::net::Shutdown::Write);
        });
        let answers = std::sync::Arc::clone(&answers);
        std::thread::spawn(move || {
            let mut buffer = [0u8; 16 * 1024];
            while let Ok(read) = outbound_back.read(&mut buffer) {
                if read == 0 || inbound_back.write_all(&buffer[..read]).is_err() {
                    break;
                }
                answers.fetch_add(1, Ordering::SeqCst);
            }
            let _ = inbound_back.shutdown(std::net::Shutdown::Write);
        });
    }
}

/// A kiosk whose CM calls go through a [`SlowLink`], giving up on a call
/// after `request_timeout`.
pub fn slow_kiosk_station(idle_secs: u64, request_timeout: Duration) -> (Station, SlowLink) {
    let (dir, path) = super::temp_journal();
    let journal =
        enroll_station::audit::journal::open_shared(Some(&path), true).expect("journal opens");
    let config = enroll_station::config::StationConfig {
        mode: enroll_station::config::Mode::Kiosk,
        kiosk_idle_secs: enroll_station::config::Seconds::new(idle_secs).expect("in range"),
        ..Default::default()
    };
    let link = SlowLink {
        delay: Default::default(),
        answers: Default::default(),
    };
    let (delay, answers) = (
        std::sync::Arc::clone(&link.delay),
        std::sync::Arc::clone(&link.answers),
    );
    let mut station = station_customized(journal, None, |setup| {
        let emulator = setup.demo.as_ref().expect("the emulator");
        let upstream: std::net::SocketAddr = emulator
            .base_url()
            .trim_start_matches("http://")
            .parse()
            .expect("the emulator listens on an address");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let address = listener.local_addr().expect("its address");
        std::thread::spawn(move || relay(listener, upstream, delay, answers));
        let mut client = ClientConfig::new(format!("http://{address}"));
        client.request_timeout = request_timeout;
        setup.client = CmClient::new(&client).expect("client");
        setup.mode = enroll_station::config::Mode::Kiosk;
        setup.config = config;
    });
    station.journal = path;
    station._journal_dir = Some(dir);
    station.harness.run_steps(2);
    (station, link)
}

/// The first-run screen (no server configured, no `--demo`), its Settings
/// view saving to `config_path`, with `overrides` (the machine policy's pins).
pub fn first_run(
    config_path: Option<PathBuf>,
    overrides: enroll_station::config::Overrides,
) -> (
    Harness<'static, enroll_station::ui::first_run::FirstRunApp>,
    tokio::runtime::Runtime,
) {
    use enroll_station::ui::first_run::{FirstRunApp, FirstRunSetup};
    let runtime = runtime();
    let setup = FirstRunSetup {
        config: Default::default(),
        overrides,
        config_path,
        runtime: runtime.handle().clone(),
    };
    let harness = Harness::builder()
        .with_size(egui::vec2(1000.0, 700.0))
        .build_eframe(move |cc| FirstRunApp::new(&cc.egui_ctx, setup));
    (harness, runtime)
}

/// A supervised station with these supervisors, its Settings view saving to
/// `config_path`, its journal in a fresh directory.
pub fn supervised_station_saving_to(
    supervisors: &[enroll_station::config::SupervisorEntry],
    config_path: PathBuf,
) -> Station {
    let (dir, path) = super::temp_journal();
    let journal =
        enroll_station::audit::journal::open_shared(Some(&path), true).expect("journal opens");
    let store = std::sync::Arc::new(enroll_station::supervisors::SupervisorStore::for_station(
        supervisors,
        Some(&path),
    ));
    let mut station = station_customized(journal, Some(config_path), |setup| {
        setup.mode = enroll_station::config::Mode::Supervised;
        setup.config.mode = enroll_station::config::Mode::Supervised;
        setup.config.supervisors = supervisors.to_vec();
        setup.supervisors = store;
    });
    station.journal = path;
    station._journal_dir = Some(dir);
    station
}

/// A `[[supervisors]]` entry with this `account`, hashed at the lowest cost
/// the station accepts.
pub fn supervisor_with_account(
    name: &str,
    account: &str,
    password: &str,
) -> enroll_station::config::SupervisorEntry {
    enroll_station::config::SupervisorEntry {
        account: Some(
            enroll_station::supervisors::SupervisorAccount::try_from(account.to_owned())
                .expect("a usable account"),
        ),
        ..supervisor_entry(name, password)
    }
}

/// Whether the open supervisor dialog's password field is empty, as the
/// window's state has it; `None` when no dialog is open.
pub fn prompt_password_empty(harness: &Harness<'static, StationApp>) -> Option<bool> {
    harness
        .state()
        .state()
        .supervisor_prompt
        .as_ref()
        .map(|prompt| prompt.form.password.is_empty())
}
