//! The window's batch in egui_kittest (issue 22): requests selected with
//! Ctrl+click become a batch, the batch view shows a row per reader, the
//! demo reader is fed fresh cards and both requests are bound; Pause stops
//! new assignments; a card CM refuses shows "problem" on its row; a
//! supervised station asks one supervisor once for the whole batch and
//! every attempt records the name; a batch the station stopped during is
//! offered for resuming.

mod common;

use common::window::*;

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use enroll_station::domain::batch::MemberState;
use enroll_station::domain::request::Request;
use enroll_station::ui::StationApp;
use enroll_station::worker::batch::SlotWord;
use uuid::Uuid;

const BATCH_OF_TWO: &str = "Bind 2 as a batch\u{2026}";

/// A bindable request of the demo data besides the kittest one, with its
/// name as the list shows it.
fn other_request(station: &Station) -> (Request, String) {
    let request = emulator(station)
        .requests()
        .into_iter()
        .filter(Request::is_bindable)
        .find(|r| r.uuid != request_id())
        .expect("the demo data has another bindable request");
    let name = enroll_station::app::request_filter::request_title(&request);
    (request, name)
}

/// Selects the kittest request, then Ctrl+clicks `other`: two selected.
fn select_two(h: &mut Harness<'static, StationApp>, other: &str) {
    wait_for(h, "the request list", |h| {
        shows(h, PERSON) && shows(h, other)
    });
    h.get_by_label(PERSON).click();
    h.run_steps(2);
    h.get_by_label(other)
        .click_modifiers(egui::Modifiers::COMMAND);
    h.run_steps(2);
    wait_for(h, "the batch button", |h| shows(h, BATCH_OF_TWO));
}

fn run_of<'h>(
    h: &'h Harness<'static, StationApp>,
) -> Option<&'h enroll_station::app::batch::BatchRun> {
    h.state().state().batch.run.as_ref()
}

fn bound(h: &Harness<'static, StationApp>) -> usize {
    run_of(h)
        .and_then(|run| run.view.as_ref())
        .map_or(0, |view| view.totals.bound)
}

/// The demo reader's row in the batch view.
fn demo_slot(h: &Harness<'static, StationApp>) -> Option<enroll_station::worker::batch::SlotView> {
    run_of(h)?
        .view
        .as_ref()?
        .slots
        .iter()
        .find(|slot| slot.reader == enroll_station::card::demo::DEMO_READER)
        .cloned()
}

fn next_card(h: &mut Harness<'static, StationApp>) {
    press(h, "Next demo card");
}

/// Each request of `ids` has a card, as CM says.
fn all_bound(station: &Station, ids: &[Uuid]) -> bool {
    let requests = emulator(station).requests();
    ids.iter().all(|id| {
        requests
            .iter()
            .any(|r| r.uuid == *id && r.new_smartcard.is_some())
    })
}

#[test]
fn two_requests_selected_with_ctrl_click_are_bound_as_a_batch_on_fresh_demo_cards() {
    let mut station = station();
    let (other, other_name) = other_request(&station);
    let h = &mut station.harness;
    select_two(h, &other_name);
    assert!(shows(h, "2 requests are selected"), "the bind bar says so");
    assert!(!bind_enabled(h), "Bind waits while several are selected");
    button(h, BATCH_OF_TWO).click();
    wait_for(h, "the batch view with the demo reader's row", |h| {
        shows(h, "Batch of 2 requests") && shows(h, "waiting for a card")
    });
    assert!(shows(h, "Readers") && shows(h, "Queue"));
    assert!(
        h.query_by_label("Next").is_some(),
        "the next request is marked"
    );
    assert!(shows(h, "Time left: known once a card is bound"));

    next_card(h);
    wait_for(h, "the first card bound", |h| bound(h) == 1);
    wait_for(h, "the totals", |h| shows(h, "Bound: 1"));
    assert!(shows(h, "Remaining: 1"));
    next_card(h);
    wait_for(h, "the second card bound", |h| bound(h) == 2);
    wait_for(h, "the end", |h| shows(h, "Batch finished: 2 bound"));
    assert!(shows(h, "Bound: 2") && shows(h, "Remaining: 0"));
    assert_eq!(emulator(&station).bind_count(), 2);
    assert!(all_bound(&station, &[request_id(), other.uuid]));

    let events: Vec<String> = journal_lines(&station.journal)
        .iter()
        .map(|r| r["event"].as_str().unwrap_or("").to_owned())
        .collect();
    let count = |what: &str| events.iter().filter(|e| *e == what).count();
    assert_eq!(count("batch_started"), 1, "{events:?}");
    assert_eq!(count("attempt"), 2, "{events:?}");
    assert_eq!(count("outcome"), 2, "{events:?}");
    assert_eq!(count("batch_finished"), 1, "{events:?}");

    // Closed, the desk is as it was: Bind works for one request again.
    let h = &mut station.harness;
    press(h, "Close");
    assert!(run_of(h).is_none());
}

#[test]
fn pause_stops_new_assignments_until_resume() {
    let mut station = station();
    let (_, other_name) = other_request(&station);
    let h = &mut station.harness;
    select_two(h, &other_name);
    button(h, BATCH_OF_TWO).click();
    wait_for(h, "the batch view", |h| shows(h, "waiting for a card"));
    press(h, "Pause");
    wait_for(h, "the pause", |h| shows(h, "Paused"));
    next_card(h);
    wait_for(h, "the card seen by the batch", |h| {
        demo_slot(h).is_some_and(|slot| slot.card_id.is_some())
    });
    // Watched for a while: the card waits, nothing is sent.
    let until = Instant::now() + Duration::from_millis(800);
    while Instant::now() < until {
        h.run_steps(1);
        let slot = demo_slot(h).expect("the demo reader's row");
        assert_eq!(slot.word, SlotWord::Waiting, "{slot:?}");
        assert_eq!(slot.request, None);
        std::thread::sleep(Duration::from_millis(40));
    }
    assert_eq!(emulator(&station).bind_count(), 0, "paused: nothing bound");
    let h = &mut station.harness;
    press(h, "Resume");
    wait_for(h, "the card bound once resumed", |h| bound(h) == 1);
    assert_eq!(emulator(&station).bind_count(), 1);
    // Stop asks first, then ends the batch with one request left.
    let h = &mut station.harness;
    press(h, "Stop…");
    wait_for(h, "the question", |h| shows(h, "Stop the batch?"));
    press(h, "Stop the batch");
    wait_for(h, "the end", |h| shows(h, "Batch stopped: 1 bound"));
    assert!(shows(h, "1 remaining"));
}

#[test]
fn a_card_cm_refuses_shows_problem_on_its_row_and_the_request_waits() {
    let mut station = station();
    let (_, other_name) = other_request(&station);
    // CM already knows the demo GIDS card, active: it can take no request.
    let template = emulator(&station)
        .requests()
        .into_iter()
        .find_map(|r| r.profile_template)
        .unwrap_or_else(Uuid::new_v4);
    emulator(&station).insert_smartcard(
        &demo_gids_card_id(),
        enroll_station::domain::request::SmartcardStatus::ACTIVE,
        Uuid::from_u128(0x5eed),
        template,
    );
    let h = &mut station.harness;
    select_two(h, &other_name);
    button(h, BATCH_OF_TWO).click();
    wait_for(h, "the batch view", |h| shows(h, "waiting for a card"));
    press(h, "Insert demo card");
    wait_for(h, "the refusal on the reader's row", |h| {
        demo_slot(h).is_some_and(|slot| slot.word == SlotWord::Problem)
    });
    wait_for(h, "the word", |h| shows(h, "problem"));
    wait_for(h, "the totals", |h| shows(h, "Cards refused: 1"));
    assert_eq!(emulator(&station).bind_count(), 0, "nothing was bound");
    let h = &mut station.harness;
    let run = run_of(h).expect("the batch");
    let view = run.view.as_ref().expect("a view");
    assert_eq!(view.totals.remaining, 2, "both requests still wait");
    assert!(
        view.members
            .iter()
            .any(|m| m.state == MemberState::Queued && m.refused_cards.len() == 1),
        "the refused card is held against the first request, which stays queued"
    );
    // The next card takes the same request.
    next_card(h);
    wait_for(h, "the next card bound", |h| bound(h) == 1);
}

#[test]
fn a_supervised_batch_is_confirmed_once_and_every_attempt_records_the_supervisor() {
    let mut station = supervised_station(&[supervisor_entry(SUPERVISOR, SUPERVISOR_PASSWORD)]);
    let (other, other_name) = other_request(&station);
    let h = &mut station.harness;
    select_two(h, &other_name);
    button(h, BATCH_OF_TWO).click();
    wait_for(h, "the batch's confirmation", |h| {
        shows(h, "Supervisor confirmation: batch of 2 requests")
    });
    let order: Vec<String> = shown_requests(h)
        .iter()
        .filter(|r| r.uuid == request_id() || r.uuid == other.uuid)
        .map(|r| h.state().state().person_of(r))
        .collect();
    // Named as a bind names them: the directory's name and account, or
    // what the requester typed marked unchecked, never the typed name bare.
    assert!(order.iter().all(|name| name.contains('(')), "{order:?}");
    assert!(
        shows(h, &format!("2 requests, from {} to {}", order[0], order[1])),
        "the size and the first and last names"
    );
    assert!(shows(h, "No card is in a reader yet"));
    assert!(
        run_of(h).is_none(),
        "nothing starts before the confirmation"
    );
    set_field(h, "Supervisor name", SUPERVISOR);
    set_field(h, "Password", SUPERVISOR_PASSWORD);
    press(h, "Confirm and start the batch");
    wait_for(h, "the batch, confirmed", |h| {
        shows(h, "Confirmed by supervisor Sam Supervisor")
    });
    assert!(!confirmation_open(h));
    next_card(h);
    wait_for(h, "the first card bound", |h| bound(h) == 1);
    assert!(!confirmation_open(h), "no second confirmation");
    next_card(h);
    wait_for(h, "the second card bound", |h| bound(h) == 2);
    wait_for(h, "the end", |h| shows(h, "Batch finished"));
    let records = journal_lines(&station.journal);
    let attempts: Vec<&serde_json::Value> =
        records.iter().filter(|r| r["event"] == "attempt").collect();
    assert_eq!(attempts.len(), 2);
    for attempt in &attempts {
        assert_eq!(attempt["supervisor"], SUPERVISOR, "{attempt}");
    }
    let started = records
        .iter()
        .find(|r| r["event"] == "batch_started")
        .expect("the batch's start record");
    assert_eq!(started["supervisor"], SUPERVISOR);
}

#[test]
fn space_and_ctrl_arrows_select_two_requests_from_the_keyboard() {
    let mut station = station();
    let h = &mut station.harness;
    wait_for(h, "the request list", |h| shows(h, PERSON));
    h.get_by_label(PERSON).click();
    h.run_steps(2);
    let rows = shown_requests(h);
    let at = rows
        .iter()
        .position(|r| r.uuid == request_id())
        .expect("shown");
    let step = if at + 1 < rows.len() && rows[at + 1].is_bindable() {
        egui::Key::ArrowDown
    } else {
        egui::Key::ArrowUp
    };
    h.key_press_modifiers(egui::Modifiers::COMMAND, step);
    h.run_steps(2);
    assert!(
        shows(h, "the cursor is on another"),
        "Ctrl+arrow moved the cursor, not the selection"
    );
    key(h, egui::Key::Space);
    h.run_steps(1);
    wait_for(h, "two selected", |h| shows(h, BATCH_OF_TWO));

    // Tab to the batch button, start it with Space: the keyboard follows
    // the batch into its window instead of walking the desk behind it.
    for _ in 0..8 {
        if button(h, BATCH_OF_TWO).is_focused() {
            break;
        }
        key(h, egui::Key::Tab);
        h.run_steps(1);
    }
    assert!(
        button(h, BATCH_OF_TWO).is_focused(),
        "the batch button is in the tab order"
    );
    key(h, egui::Key::Space);
    wait_for(h, "the batch running, Pause focused", |h| {
        h.query_all_by_label("Pause").any(|b| b.is_focused())
    });
}

#[test]
fn a_batch_the_station_stopped_during_is_offered_and_resumed() {
    use enroll_station::audit::{BatchMark, ControlKind, Operator, StationEvent};
    let (dir, path) = common::temp_journal();
    let journal =
        enroll_station::audit::journal::open_shared(Some(&path), true).expect("journal opens");
    let batch = Uuid::new_v4();
    let members = vec![request_id(), Uuid::from_u128(0x0ff1ce)];
    {
        let mut open = journal.lock().expect("the journal's lock");
        open.record_event(StationEvent {
            batch: Some(BatchMark {
                id: batch,
                members: Some(members.clone()),
                ..BatchMark::default()
            }),
            ..StationEvent::new(
                ControlKind::BatchStarted,
                Operator::from_os(),
                None,
                "Batch of 2 requests",
            )
        })
        .expect("written");
    }
    let mut station = station_with_journal(journal);
    station.journal = path;
    station._journal_dir = Some(dir);
    let h = &mut station.harness;
    let offer = "Resume batch of 2 requests (0 bound)\u{2026}";
    wait_for(h, "the offer", |h| shows(h, offer));
    press(h, offer);
    wait_for(h, "the resumed batch", |h| {
        shows(h, "Batch of 2 requests (resumed)") && shows(h, "waiting for a card")
    });
    assert_eq!(run_of(h).map(|r| r.id), Some(batch));
    assert!(!shows(h, offer), "not offered while it runs");
}

/// The worker itself, whatever a view sends: no batch at a supervised
/// station without the supervisor's checked confirmation of it (a name in
/// the spec is not one), none beside another, and no single bind beside one.
#[test]
fn the_worker_starts_no_unconfirmed_batch_none_beside_another_and_no_bind_beside_one() {
    use enroll_station::cm::emulator::{Emulator, EmulatorConfig};
    use enroll_station::cm::{ClientConfig, CmClient};
    use enroll_station::worker::batch::BatchSpec;
    use enroll_station::worker::{BatchReport, Command, Report, ReportSink, spawn_worker_with};
    use std::sync::{Arc, Mutex};

    let runtime = runtime();
    let emulator = runtime
        .block_on(Emulator::start(EmulatorConfig::default()))
        .expect("emulator");
    let requests: Vec<Uuid> = emulator
        .requests()
        .into_iter()
        .filter(Request::is_bindable)
        .map(|r| r.uuid)
        .take(2)
        .collect();
    assert_eq!(requests.len(), 2);
    let (_dir, path) = common::temp_journal();
    let journal = enroll_station::audit::journal::open_shared(Some(&path), true).expect("journal");
    let heard = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink: ReportSink = {
        let heard = Arc::clone(&heard);
        Arc::new(move |report| {
            let line = match report {
                Report::Batch(BatchReport::Refused { why, .. }) => format!("refused: {why}"),
                Report::Batch(BatchReport::Started { .. }) => "started".to_owned(),
                Report::Notice(line) => format!("notice: {line}"),
                _ => return,
            };
            if let Ok(mut heard) = heard.lock() {
                heard.push(line);
            }
        })
    };
    let supervisors = Arc::new(enroll_station::supervisors::SupervisorStore::from_config(
        &[supervisor_entry(SUPERVISOR, SUPERVISOR_PASSWORD)],
    ));
    let context = enroll_station::worker::effects::BindContext {
        client: CmClient::new(&ClientConfig::new(emulator.base_url())).expect("client"),
        readers: enroll_station::card::demo::DemoReader::new(Arc::new(|_| {})),
        journal,
    };
    let supervised = enroll_station::supervisors::Supervision::new(
        enroll_station::config::Mode::Supervised,
        supervisors,
    );
    let worker = spawn_worker_with(runtime.handle(), context, sink, supervised, None, None);
    let spec = |supervisor: Option<&str>| BatchSpec {
        id: Uuid::new_v4(),
        requests: requests.clone(),
        config: Default::default(),
        supervisor: supervisor.map(str::to_owned),
        people: Default::default(),
        idle_timeout: None,
    };
    let wait = |what: &str, count: usize| {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let lines = heard.lock().map(|h| h.clone()).unwrap_or_default();
            if lines.iter().filter(|l| l.contains(what)).count() >= count {
                return lines;
            }
            assert!(Instant::now() < deadline, "waited for {what}: {lines:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    worker.send(Command::StartBatch {
        spec: spec(Some(SUPERVISOR)),
        resume: false,
        readers: Vec::new(),
    });
    let lines = wait("refused", 1);
    assert!(
        lines[lines.len() - 1].contains("a supervisor confirms each batch"),
        "{lines:?}"
    );
    assert!(!lines.iter().any(|l| l == "started"), "{lines:?}");
    let journal = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(!journal.contains("batch_started"), "nothing was recorded");
    drop(worker);

    // A desk: one batch runs, a second and a single bind are refused in words.
    let (_dir, path) = common::temp_journal();
    let context = enroll_station::worker::effects::BindContext {
        client: CmClient::new(&ClientConfig::new(emulator.base_url())).expect("client"),
        readers: enroll_station::card::demo::DemoReader::new(Arc::new(|_| {})),
        journal: enroll_station::audit::journal::open_shared(Some(&path), true).expect("journal"),
    };
    let sink: ReportSink = {
        let heard = Arc::clone(&heard);
        Arc::new(move |report| {
            let line = match report {
                Report::Batch(BatchReport::Refused { why, .. }) => format!("refused: {why}"),
                Report::Batch(BatchReport::Started { .. }) => "started".to_owned(),
                Report::Notice(line) => format!("notice: {line}"),
                _ => return,
            };
            if let Ok(mut heard) = heard.lock() {
                heard.push(line);
            }
        })
    };
    let worker = enroll_station::worker::spawn_worker(runtime.handle(), context, sink);
    worker.send(Command::StartBatch {
        spec: spec(Some("Forged Name")),
        resume: false,
        readers: Vec::new(),
    });
    wait("started", 1);
    worker.send(Command::StartBatch {
        spec: spec(None),
        resume: false,
        readers: Vec::new(),
    });
    let lines = wait("already running", 1);
    assert!(
        lines.iter().any(|l| l.contains("Nothing was bound")),
        "{lines:?}"
    );
    let target = enroll_station::domain::bind::BindTarget {
        request_id: requests[0],
        person: String::new(),
        reader: "R".into(),
        expected: enroll_station::domain::card::CardIdentity {
            atr: enroll_station::domain::card::Atr::from_bytes(vec![0x3b, 1]),
            card_id: enroll_station::domain::card::CardId::from_raw([9; 16]),
            kind: enroll_station::domain::card::CardKind::Gids,
            chip: None,
            location: None,
            yubikey_serial: None,
        },
        supervisor: None,
    };
    worker.send(Command::Bind(target));
    wait("a batch is running", 1);
    assert_eq!(emulator.bind_count(), 0);
    let journal = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        journal.contains("batch_started") && !journal.contains("Forged Name"),
        "a desk records no supervisor, whatever the view sent"
    );
    drop(worker);
}
