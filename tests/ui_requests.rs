//! The desk's request list in egui_kittest (review P1-3, P1-8, P1-9,
//! P2-14, P2-15, P2-20, P3-21): columns that never move and give up the
//! low-value ones first, one tab stop with arrow keys inside, skeleton rows
//! and Cancel while it loads, plain words and Retry when the server is out
//! of reach, and a just-bound row that keeps its place.

mod common;

use common::window::*;

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _, by};
use enroll_station::cm::emulator::Faults;
use enroll_station::cm::{ClientConfig, CmClient};
use enroll_station::ui::StationApp;

const HEADERS: [&str; 6] = ["Person", "Type", "Submitted", "Priority", "Status", "Card"];

/// Where the header of `title` is, sorted by it or not; `None` when it is not drawn.
fn header_rect(h: &Harness<'static, StationApp>, title: &str) -> Option<egui::Rect> {
    [
        format!("Sort by {title}"),
        format!("Sorted by {title}, ascending"),
        format!("Sorted by {title}, descending"),
    ]
    .iter()
    .find_map(|label| h.query_by_label(label).map(|node| node.rect()))
}

fn header(h: &Harness<'static, StationApp>, title: &str) -> Option<egui::Rect> {
    header_rect(h, title)
}

/// The list's one focusable area.
fn list_has_focus(h: &Harness<'static, StationApp>) -> bool {
    h.query_by_role(egui::accesskit::Role::Grid)
        .is_some_and(|node| node.is_focused())
}

fn focused_label(h: &Harness<'static, StationApp>) -> Option<String> {
    h.query(by().predicate(|n| n.is_focused()))
        .map(|n| n.accesskit_node().label().unwrap_or_default())
}

/// A window on the emulator whose `GET requests` answers `delay` late
/// (the list is three calls: Approved, Executing, Pending).
fn slow_list_station(delay: Duration) -> Station {
    let (dir, path) = common::temp_journal();
    let journal =
        enroll_station::audit::journal::open_shared(Some(&path), true).expect("journal opens");
    let mut station = station_customized(journal, None, |setup| {
        if let Some(emulator) = &setup.demo {
            emulator.set_faults(Faults {
                list_delay: delay,
                ..Faults::default()
            });
        }
    });
    station.journal = path;
    station._journal_dir = Some(dir);
    station
}

/// A window whose CM server is a loopback port nobody listens on; returns
/// it with that address.
fn unreachable_station() -> (Station, String) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    let address = listener.local_addr().expect("address").to_string();
    drop(listener);
    let (dir, path) = common::temp_journal();
    let journal =
        enroll_station::audit::journal::open_shared(Some(&path), true).expect("journal opens");
    let server = format!("http://{address}");
    let mut station = station_customized(journal, None, |setup| {
        setup.client = CmClient::new(&ClientConfig::new(&server)).expect("a loopback client");
    });
    station.journal = path;
    station._journal_dir = Some(dir);
    (station, address)
}

#[test]
fn sorting_by_priority_moves_no_column_header() {
    let mut station = station();
    let h = &mut station.harness;
    wait_for(h, "the request list", |h| shows(h, PERSON));
    let before: Vec<egui::Rect> = HEADERS
        .iter()
        .map(|t| header_rect(h, t).unwrap_or_else(|| panic!("a {t} header at 1280 pt")))
        .collect();
    let unmoved = |h: &Harness<'static, StationApp>, after: &str| {
        for (title, was) in HEADERS.iter().zip(&before) {
            let now = header_rect(h, title).expect("still drawn");
            assert!(
                (now.left() - was.left()).abs() < 0.5 && (now.width() - was.width()).abs() < 0.5,
                "the {title} header moved after {after}: {was:?} -> {now:?}"
            );
        }
    };
    h.get_by_label("Sort by Priority").click();
    h.run_steps(3);
    assert!(h.query_by_label("Sorted by Priority, ascending").is_some());
    unmoved(h, "sorting by Priority");
    h.get_by_label("Sorted by Priority, ascending").click();
    h.run_steps(3);
    assert!(h.query_by_label("Sorted by Priority, descending").is_some());
    unmoved(h, "reversing the sort");
}

#[test]
fn a_narrow_window_gives_up_type_then_submitted_and_keeps_status_and_card() {
    let mut station = station();
    let h = &mut station.harness;
    h.set_size(egui::vec2(800.0, 600.0));
    wait_for(h, "the request list", |h| shows(h, PERSON));
    h.run_steps(2);
    assert!(header(h, "Type").is_none(), "Type goes first at 800 pt");
    assert!(header(h, "Submitted").is_some(), "Submitted still fits");
    for title in ["Person", "Priority", "Status", "Card"] {
        let rect = header_rect(h, title).unwrap_or_else(|| panic!("{title} stays"));
        assert!(
            rect.right() <= 800.0,
            "{title} is inside the window: {rect:?}"
        );
    }
    // 800×600 with Larger text (zoom 1.25) is 640 pt wide.
    h.set_size(egui::vec2(640.0, 480.0));
    h.run_steps(3);
    assert!(header(h, "Type").is_none() && header(h, "Submitted").is_none());
    for title in ["Person", "Priority", "Status", "Card"] {
        let rect = header_rect(h, title).unwrap_or_else(|| panic!("{title} stays"));
        assert!(
            rect.right() <= 640.0,
            "{title} is inside the window: {rect:?}"
        );
    }
    assert!(shows(h, PERSON), "the names are still there");
    // Narrower still, the name keeps its least width and the list scrolls
    // sideways: Status and Card are still drawn, to the right.
    h.set_size(egui::vec2(420.0, 480.0));
    h.run_steps(3);
    let person = header_rect(h, "Person").expect("Person");
    assert!(person.width() >= 179.0, "{person:?}");
    let card = header_rect(h, "Card").expect("Card is kept, past the edge");
    assert!(header_rect(h, "Status").is_some());
    assert!(card.right() > 420.0, "it does not fit: {card:?}");
}

#[test]
fn on_a_wide_screen_the_person_column_is_capped_and_the_rest_stays_near() {
    let mut station = station();
    let h = &mut station.harness;
    h.set_size(egui::vec2(2560.0, 1440.0));
    wait_for(h, "the request list", |h| shows(h, PERSON));
    h.run_steps(2);
    let person = header_rect(h, "Person").expect("Person");
    assert!(
        person.width() <= 481.0,
        "Person is {} pt wide",
        person.width()
    );
    let card = header_rect(h, "Card").expect("Card");
    assert!(
        card.right() - person.left() < 1200.0,
        "the row ends near the name: Person {person:?}, Card {card:?}"
    );
}

#[test]
fn the_name_tooltip_gives_the_whole_name_then_the_guid() {
    let mut station = station();
    let h = &mut station.harness;
    wait_for(h, "the request list", |h| shows(h, PERSON));
    h.get_by_label(PERSON).hover();
    wait_for(h, "the tooltip", |h| {
        shows(h, &format!("Request {REQUEST}"))
    });
    // The tooltip says whose words the name is ("Entered by the requester:
    // …"), and gives it whole.
    assert!(
        h.query_all_by_label_contains(PERSON).count() >= 2,
        "the name and department are in the tooltip too"
    );
}

#[test]
fn the_list_is_one_tab_stop_and_its_arrows_move_the_selection() {
    let mut station = station();
    let h = &mut station.harness;
    wait_for(h, "the request list", |h| shows(h, PERSON));
    ctrl_f(h);
    assert_eq!(focused_label(h).as_deref(), Some("Search"));
    key(h, egui::Key::Tab);
    h.run_steps(1);
    assert!(
        list_has_focus(h),
        "one Tab from the search: {:?}",
        focused_label(h)
    );
    assert_eq!(selected(h), None, "Tab alone selects nothing");

    key(h, egui::Key::ArrowDown);
    let rows = shown_requests(h);
    assert_eq!(selected(h), Some(rows[0].uuid), "↓ selects the first row");
    key(h, egui::Key::ArrowDown);
    assert_eq!(selected(h), Some(rows[1].uuid));
    key(h, egui::Key::End);
    assert_eq!(selected(h), rows.last().map(|r| r.uuid));
    key(h, egui::Key::Home);
    assert_eq!(selected(h), Some(rows[0].uuid));
    assert!(list_has_focus(h), "the arrows stay in the list");

    // ←/→ pick a column header; Enter sorts by it and never binds.
    key(h, egui::Key::ArrowRight);
    key(h, egui::Key::ArrowRight);
    assert!(
        focused_label(h).is_some_and(|l| l.contains("column Type")),
        "{:?}",
        focused_label(h)
    );
    key(h, egui::Key::Enter);
    h.run_steps(1);
    assert!(h.query_by_label("Sorted by Type, ascending").is_some());
    assert_eq!(emulator(&station).bind_count(), 0);

    let h = &mut station.harness;
    key(h, egui::Key::Tab);
    h.run_steps(1);
    assert!(!list_has_focus(h), "the next Tab leaves the list");
    let left_to = focused_label(h).unwrap_or_default();
    assert!(
        !shown_requests(h)
            .iter()
            .any(|r| enroll_station::app::request_filter::request_title(r) == left_to),
        "no row is a tab stop: {left_to}"
    );
    h.key_press_modifiers(egui::Modifiers::SHIFT, egui::Key::Tab);
    h.run_steps(2);
    assert!(list_has_focus(h), "Shift+Tab comes back to the list");

    // A click on a row selects it and gives the list the keys.
    ctrl_f(h);
    // The selected request is named in the bind bar too: the row is the
    // topmost of the two.
    h.query_all_by_label(PERSON)
        .min_by(|a, b| a.rect().top().total_cmp(&b.rect().top()))
        .expect("the row")
        .click();
    h.run_steps(2);
    assert_eq!(selected(h), Some(request_id()));
    assert!(list_has_focus(h));
}

#[test]
fn a_slow_load_shows_skeleton_rows_and_cancel_stops_it() {
    let mut station = slow_list_station(Duration::from_millis(1500));
    let h = &mut station.harness;
    wait_for(h, "the loading line", |h| {
        shows(h, "Loading requests…") && h.query_by_label("Cancel").is_some()
    });
    let bar = h.ctx.global_style().visuals.widgets.inactive.bg_fill;
    let bars = h
        .output()
        .shapes
        .iter()
        .filter(|s| match &s.shape {
            egui::Shape::Rect(r) => r.fill == bar && (r.rect.height() - 10.0).abs() < 0.5,
            _ => false,
        })
        .count();
    assert!(bars >= 8, "skeleton rows are drawn: {bars} bars");
    assert!(header(h, "Person").is_some(), "under the real headers");
    wait_for(h, "the elapsed time", |h| shows(h, "Loading requests… 1 s"));

    h.get_by_label("Cancel").click();
    h.run_steps(2);
    assert!(shows(h, "Loading was cancelled."));
    assert!(h.query_by_label("Cancel").is_none());
    assert!(!h.state().state().loading);
    assert!(!h.state().state().refresh_feedback(Instant::now()).spinning);
    // The three calls would have answered by now: their answer is dropped.
    let until = Instant::now() + Duration::from_secs(4);
    while Instant::now() < until {
        h.run_steps(1);
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        h.state().state().requests.is_empty(),
        "the cancelled list never shows"
    );
    assert!(!shows(h, PERSON));
}

#[test]
fn an_unreachable_server_says_so_in_words_with_retry_and_test_connection() {
    let (mut station, address) = unreachable_station();
    let h = &mut station.harness;
    let headline = format!("Can't reach {address}: connection refused.");
    wait_for(h, "the empty state", |h| shows(h, &headline));
    assert!(h.query_by_label("Retry").is_some());
    assert!(h.query_by_label("Test connection").is_some());
    assert!(shows(h, "Last tried "), "when it was last tried");
    assert!(shows(h, "retrying every 30 s"));
    assert!(
        !shows(h, "os error"),
        "the technical text waits behind Details"
    );
    assert!(!shows(h, "GET requests"));
    h.get_by_label("Details").click();
    h.run_steps(3);
    assert!(shows(h, "os error"), "Details has the OS error code");
    assert!(
        h.query_by_label("Search")
            .is_some_and(|n| n.accesskit_node().is_disabled())
            || h.query_by_role(egui::accesskit::Role::TextInput)
                .is_some_and(|n| n.accesskit_node().is_disabled()),
        "nothing to search"
    );
}

#[test]
fn after_a_bind_the_row_keeps_its_place_with_a_badge_until_the_next_refresh() {
    let mut station = station();
    prepare_bind(&mut station);
    let h = &mut station.harness;
    let index = |h: &Harness<'static, StationApp>| {
        shown_requests(h)
            .iter()
            .position(|r| r.uuid == request_id())
    };
    let before = index(h).expect("the request is shown");
    let badge = |h: &Harness<'static, StationApp>| h.query_by_label("Bound just now").is_some();
    assert!(!badge(h));
    h.get_by_label("Bind").click();
    wait_for(h, "the result", |h| shows(h, "is now bound to card"));
    wait_for(h, "the list the bind asked for", |h| {
        let state = h.state().state();
        !state.loading
            && state
                .requests
                .iter()
                .any(|r| r.uuid == request_id() && r.new_smartcard.is_some())
    });
    h.run_steps(2);
    assert_eq!(index(h), Some(before), "the bound row keeps its place");
    assert!(badge(h), "with the Bound badge");
    assert_eq!(selected(h), Some(request_id()), "and the selection");

    key(h, egui::Key::F5);
    wait_for(h, "the next refresh", |h| {
        h.state().state().view.just_bound().is_none() && !h.state().state().loading
    });
    h.run_steps(2);
    assert!(!badge(h), "the badge goes with the refresh");
    let rows = shown_requests(h);
    let after = index(h).expect("still listed");
    assert_ne!(after, before, "the refresh sorts it with the bound ones");
    assert!(
        rows[..after].iter().all(|r| r.is_bindable()),
        "every request ready for a card comes before it"
    );
}

/// The worker's side of Cancel: the fetch stops and reports nothing, while
/// the same fetch left alone answers.
#[test]
fn cancel_stops_the_workers_fetch() {
    use enroll_station::cm::emulator::{Emulator, EmulatorConfig};
    use enroll_station::domain::request::RequestQuery;
    use enroll_station::worker::{Command, Report};
    use std::sync::{Arc, Mutex};

    let runtime = runtime();
    let emulator = runtime
        .block_on(Emulator::start(EmulatorConfig {
            requests: 3,
            ..EmulatorConfig::default()
        }))
        .expect("emulator");
    emulator.set_faults(Faults {
        list_delay: Duration::from_millis(300),
        ..Faults::default()
    });
    let client = CmClient::new(&ClientConfig::new(emulator.base_url())).expect("client");
    let (_dir, journal) = common::temp_journal();
    let context = enroll_station::worker::effects::BindContext {
        client,
        readers: enroll_station::card::demo::DemoReader::new(Arc::new(|_| {})),
        journal: enroll_station::audit::journal::open_shared(Some(&journal), true)
            .expect("journal"),
    };
    let answers = Arc::new(Mutex::new(Vec::new()));
    let heard = Arc::clone(&answers);
    let sink: enroll_station::worker::ReportSink = Arc::new(move |report| {
        if let Report::Requests { .. } | Report::RequestsIndexed { .. } = report
            && let Ok(mut heard) = heard.lock()
        {
            heard.push(Instant::now());
        }
    });
    let worker = enroll_station::worker::spawn_worker(runtime.handle(), context, sink);
    let answered = || answers.lock().map(|a| a.len()).unwrap_or(usize::MAX);

    // Three calls of 300 ms: cancelled after the first has started.
    worker.send(Command::RefreshRequests(RequestQuery::Open));
    std::thread::sleep(Duration::from_millis(150));
    worker.send(Command::CancelRequests);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(answered(), 0, "a cancelled fetch reports nothing");

    worker.send(Command::RefreshRequests(RequestQuery::Open));
    let deadline = Instant::now() + Duration::from_secs(10);
    while answered() == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(answered(), 1, "the same fetch left alone answers");
}
