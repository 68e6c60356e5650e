//! The real window, driven through its accessibility tree with egui_kittest,
//! against the CM emulator over real HTTP and the demo reader's virtual card.

mod common;

use common::window::*;

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use enroll_station::cm::emulator::Faults;
use enroll_station::domain::bind::BindState;
use enroll_station::ui::StationApp;
use uuid::Uuid;

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
        shows(h, "is now bound to card")
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
        station.harness.query_all_by_label("Bound").next().is_some(),
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

#[test]
fn a_server_error_is_shown_in_words_with_the_correlation_id() {
    let mut station = station();
    prepare_bind(&mut station);
    emulator(&station).set_faults(Faults {
        fail_next_posts: 1,
        ..Faults::default()
    });
    station.harness.get_by_label("Bind").click();
    wait_for(&mut station.harness, "the error", |h| shows(h, "Not bound"));
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
    let (journal, problem) = enroll_station::audit::journal::open_for_window(Some(&dir), true);
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
        shows(
            h,
            "Demo mode (--demo): this run uses the embedded demo backend at"
        ),
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
    let message = "Connect timeout must be a whole number from 1 to 86400";
    wait_for(h, "the field's error", |h| shows(h, message));
    // The grid lays a new row out from the last frame's sizes: let it settle.
    h.run_steps(2);
    let field = h.get_by_label("Connect timeout (seconds)").rect();
    let error = h.get_by_label_contains(message).rect();
    assert!(
        error.top() >= field.bottom() - 1.0 && (error.left() - field.left()).abs() < 4.0,
        "the error is under the field: field {field:?}, error {error:?}"
    );
    let next = h.get_by_label("Request timeout (seconds)").rect();
    assert!(
        error.bottom() <= next.top() + 1.0,
        "and above the next one: {error:?} {next:?} {field:?}"
    );
    assert!(shows(
        h,
        "One setting needs attention: Connect timeout. Nothing was saved."
    ));
    assert!(
        !shows(h, "timeouts.connect_secs"),
        "the window names the field by its label, never by its key"
    );
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

// Supervised issuance: a second person confirms every bind in the window.

#[test]
fn supervised_bind_is_refused_without_a_second_credential() {
    let mut station = supervised_station(&[supervisor_entry(SUPERVISOR, SUPERVISOR_PASSWORD)]);
    open_confirmation(&mut station);
    let h = &mut station.harness;
    // The supervisor sees what they witness: the request, the reader and the card.
    for text in [
        REQUEST,
        enroll_station::card::demo::DEMO_READER,
        "bc88f13f-83ba-4037-8262-46eba1291c6e",
    ] {
        assert!(shows(h, text), "the dialog shows {text}");
    }
    press(h, "Confirm and bind");
    wait_for(h, "the missing name", |h| {
        shows(h, "Type the supervisor's name")
    });
    set_field(h, "Supervisor name", SUPERVISOR);
    press(h, "Confirm and bind");
    wait_for(h, "the missing password", |h| {
        shows(h, "Type the supervisor's password")
    });
    set_field(h, "Password", "not the password");
    press(h, "Confirm and bind");
    wait_for(h, "the refusal", |h| {
        shows(h, "The supervisor name or password is wrong")
    });
    let prompt = h.state().state().supervisor_prompt.as_ref();
    assert!(
        prompt.is_some_and(|p| p.form.password.is_empty() && !p.form.pending),
        "the dialog stays, its password wiped: {prompt:?}"
    );
    // An unknown name is refused in the same words as a wrong password.
    set_field(h, "Supervisor name", "Nobody Known");
    set_field(h, "Password", SUPERVISOR_PASSWORD);
    press(h, "Confirm and bind");
    wait_for(h, "the refusal of an unknown name", |h| {
        h.state()
            .state()
            .supervisor_prompt
            .as_ref()
            .is_some_and(|p| {
                !p.form.pending
                    && p.form
                        .error
                        .as_deref()
                        .is_some_and(|e| e.contains("name or password is wrong"))
            })
    });
    // The third refusal in a row makes the station wait.
    set_field(h, "Password", "still not it");
    press(h, "Confirm and bind");
    wait_for(h, "the wait", |h| shows(h, "wait 30 s before trying again"));
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    assert!(!confirmation_open(h), "Esc cancels the confirmation");
    assert!(!shows(h, "Supervisor confirmation"));
    assert_eq!(emulator(&station).bind_count(), 0, "nothing was posted");
    assert_eq!(station.harness.state().state().bind, BindState::Idle);
    // No attempt was recorded; each of the three refusals was, the third as
    // the lock-out it started.
    let journal = station.journal.clone();
    wait_for(&mut station.harness, "the refusals in the journal", |_| {
        journal.exists() && journal_lines(&journal).len() == 3
    });
    let events: Vec<String> = journal_lines(&journal)
        .iter()
        .map(|record| record["event"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        events,
        [
            "supervisor_refused",
            "supervisor_refused",
            "supervisor_locked_out"
        ],
        "no attempt was recorded"
    );
}

#[test]
fn supervised_bind_is_refused_with_the_operators_own_credential() {
    let operator = operator_name();
    let mut station = supervised_station(&[supervisor_entry(&operator, SUPERVISOR_PASSWORD)]);
    open_confirmation(&mut station);
    // Typed in another case, the name still is the operator's.
    confirm_as(&mut station, &operator.to_uppercase(), SUPERVISOR_PASSWORD);
    wait_for(&mut station.harness, "the refusal", |h| {
        shows(h, "confirmed by another supervisor")
    });
    assert!(confirmation_open(&station.harness), "the dialog stays");
    assert_eq!(emulator(&station).bind_count(), 0, "nothing was posted");
    assert_eq!(station.harness.state().state().bind, BindState::Idle);
}

#[test]
fn supervised_bind_is_done_with_a_supervisors_credential_and_both_names_are_journaled() {
    let operator = operator_name();
    let mut station = supervised_station(&[
        supervisor_entry(&operator, "the operator's own"),
        supervisor_entry(SUPERVISOR, SUPERVISOR_PASSWORD),
    ]);
    open_confirmation(&mut station);
    confirm_as(&mut station, "sam supervisor", SUPERVISOR_PASSWORD);
    wait_for(&mut station.harness, "the result", |h| {
        shows(h, "is now bound to card")
    });
    assert!(!confirmation_open(&station.harness), "the dialog closed");
    assert_eq!(emulator(&station).bind_count(), 1);
    let BindState::Bound { target, .. } = &station.harness.state().state().bind else {
        panic!(
            "expected Bound, got {:?}",
            station.harness.state().state().bind
        );
    };
    assert_eq!(target.supervisor.as_deref(), Some(SUPERVISOR));
    let records = journal_lines(&station.journal);
    let attempt = records
        .iter()
        .find(|r| r["event"] == "attempt")
        .expect("the attempt was recorded");
    assert_eq!(attempt["operator"]["os_user"], operator.as_str());
    assert_eq!(
        attempt["supervisor"], SUPERVISOR,
        "the supervisor as configured"
    );
    assert_eq!(attempt["request_id"], REQUEST);
}

#[test]
fn supervised_mode_without_supervisors_refuses_to_bind_and_says_what_to_add() {
    let mut station = supervised_station(&[]);
    let h = &mut station.harness;
    wait_for(h, "the request list", |h| shows(h, PERSON));
    h.get_by_label(PERSON).click();
    h.get_by_label("Insert demo card").click();
    wait_for(h, "the reason", |h| shows(h, "[[supervisors]]"));
    assert!(
        shows(h, "supervisor hash"),
        "the command that makes one is named"
    );
    assert!(!bind_enabled(h));
    assert_eq!(emulator(&station).bind_count(), 0);
}

// Kiosk mode: one person at a time, a guided flow, no way out without a supervisor.

#[test]
fn kiosk_close_request_is_cancelled_and_a_desk_one_is_not() {
    let mut kiosk = kiosk_station(60, &[]);
    let commands = request_close(&mut kiosk.harness);
    assert!(
        commands.contains(&egui::ViewportCommand::CancelClose),
        "the kiosk cancels the close request: {commands:?}"
    );
    kiosk.harness.run_steps(2);
    assert!(
        shows(&kiosk.harness, KIOSK_CODE),
        "the kiosk is still shown"
    );

    let mut desk = station();
    desk.harness.run_steps(2);
    let commands = request_close(&mut desk.harness);
    assert!(
        !commands.contains(&egui::ViewportCommand::CancelClose),
        "a desk window closes: {commands:?}"
    );
}

#[test]
fn kiosk_idle_reset_clears_the_entered_code() {
    // The harness's clock advances 0.25 s a step: 2 s is 8 quiet steps.
    let mut station = kiosk_station(2, &[]);
    let h = &mut station.harness;
    assert!(
        h.get_by_role_and_label(egui::accesskit::Role::TextInput, KIOSK_CODE)
            .is_focused(),
        "the code field has the focus from the start, for a scanner"
    );
    h.event(egui::Event::Text("0C7B4D1E-5A2F".into()));
    h.run_steps(1);
    assert_eq!(kiosk_code(h), "0C7B4D1E-5A2F");
    assert_eq!(code_field_value(h).as_deref(), Some("0C7B4D1E-5A2F"));
    h.run_steps(4);
    assert_eq!(kiosk_code(h), "0C7B4D1E-5A2F", "1 s of quiet keeps it");
    h.event(egui::Event::Text("-4E8B".into()));
    h.run_steps(6);
    assert_eq!(
        kiosk_code(h),
        "0C7B4D1E-5A2F-4E8B",
        "a keystroke starts the idle time again"
    );
    h.run_steps(4);
    assert_eq!(kiosk_code(h), "", "the idle time cleared the code");
    assert_eq!(code_field_value(h).as_deref(), Some(""));
    assert!(h.state().state().kiosk.flow.is_pristine());
    // Undo in the new field has nothing of the last person's to bring back.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    h.run_steps(2);
    assert_eq!(kiosk_code(h), "");
    assert!(
        h.get_by_role_and_label(egui::accesskit::Role::TextInput, KIOSK_CODE)
            .is_focused(),
        "the next scan lands in the field"
    );
}

#[test]
fn the_whole_kiosk_flow_binds_with_the_keyboard_and_shows_no_other_request() {
    let mut station = kiosk_station(60, &[]);
    let others: Vec<String> = emulator(&station)
        .requests()
        .iter()
        .filter(|r| r.uuid.to_string() != REQUEST)
        .map(|r| r.data_summary())
        .filter(|s| !s.is_empty())
        .collect();
    assert!(!others.is_empty(), "the emulator holds other requests");
    let h = &mut station.harness;

    scan(h, "{00000000-0000-4000-8000-00000000abcd}");
    wait_for(h, "the refusal", |h| {
        shows(h, "We can't find a request with this code")
    });
    assert_eq!(kiosk_code(h), "", "the next scan starts on an empty field");

    // Any case, in braces, as a scanner reads it from a letter.
    scan(h, &format!("{{{}}}", REQUEST.to_uppercase()));
    wait_for(h, "the card step", |h| shows(h, "Insert your card"));
    assert!(shows(h, "Request for K. P."));
    assert!(
        !shows(h, "Finance") && !shows(h, "Kittest"),
        "only initials are shown"
    );
    assert!(shows(h, "No card in the reader yet."));
    let demo = std::sync::Arc::clone(h.state().demo_reader().expect("demo mode"));
    demo.insert(enroll_station::card::demo::demo_cards()[0].card.clone());
    wait_for(h, "the card", |h| shows(h, "Your card is ready."));
    h.run_steps(2);
    assert!(
        !bind_my_card_button(h).is_focused(),
        "Bind my card is never given the focus"
    );
    h.key_press(egui::Key::Enter);
    h.run_steps(4);
    assert_eq!(
        emulator(&station).bind_count(),
        0,
        "a stray Enter (a scanner's last key) confirms nothing"
    );
    let h = &mut station.harness;
    tab_to_bind_my_card(h);
    h.key_press(egui::Key::Enter);
    wait_for(h, "the result", |h| {
        shows(h, "Done: your card is now bound to your request.")
    });
    for other in &others {
        assert!(!shows(h, other), "another request is shown: {other}");
    }
    let state = h.state().state();
    assert!(
        state.requests.is_empty(),
        "the kiosk never fetched the request list"
    );
    let BindState::Bound { target, .. } = &state.bind else {
        panic!("expected Bound, got {:?}", state.bind);
    };
    assert_eq!(target.request_id.to_string(), REQUEST);
    assert_eq!(emulator(&station).bind_count(), 1);
    let outcomes: Vec<String> = journal_lines(&station.journal)
        .iter()
        .filter_map(|r| r["outcome"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(outcomes, vec!["bound"]);

    // A few seconds later the kiosk is ready for the next person.
    demo.remove();
    wait_for(&mut station.harness, "the first screen again", |h| {
        shows(h, KIOSK_CODE) && h.state().state().bind == BindState::Idle
    });
    assert!(station.harness.state().state().kiosk.flow.is_pristine());
}

/// Person 1 left their card in the reader; person 2 hammers every key the
/// kiosk offers.
#[test]
fn kiosk_never_binds_a_card_that_was_in_before_the_code() {
    let mut station = kiosk_station(60, &[]);
    let h = &mut station.harness;
    let demo = std::sync::Arc::clone(h.state().demo_reader().expect("demo mode"));
    let card = enroll_station::card::demo::demo_cards()[0].card.clone();
    demo.insert(card.clone());
    h.run_steps(2);
    scan(h, REQUEST);
    wait_for(h, "the card step", |h| shows(h, "Insert your card"));
    wait_for(h, "the request to take the card out", |h| {
        shows(
            h,
            "Please take the card out of the reader, then insert your card.",
        )
    });
    assert!(!shows(h, "Your card is ready."));
    assert!(
        bind_my_card_button(h).accesskit_node().is_disabled(),
        "Bind my card is disabled with a card from before"
    );
    for pressed in [egui::Key::Enter, egui::Key::Space, egui::Key::Enter] {
        key(h, pressed);
    }
    h.run_steps(4);
    assert_eq!(emulator(&station).bind_count(), 0, "nothing was posted");
    // Start over, with the old card still in: the kiosk waits for it to go.
    let h = &mut station.harness;
    let start_over = |h: &Harness<'static, StationApp>| {
        h.get_by_role_and_label(egui::accesskit::Role::Button, "Start over")
            .is_focused()
    };
    for _ in 0..10 {
        if start_over(h) {
            break;
        }
        key(h, egui::Key::Tab);
    }
    assert!(start_over(h), "Tab reaches Start over");
    key(h, egui::Key::Enter);
    wait_for(h, "the request to take the card", |h| {
        shows(h, "Please take your card out of the reader.")
    });
    assert!(!shows(h, KIOSK_CODE), "no start-over with a card in");
    demo.remove();
    wait_for(h, "the first screen", |h| shows(h, KIOSK_CODE));
    scan(h, REQUEST);
    wait_for(h, "the card step", |h| shows(h, "Insert your card"));
    wait_for(h, "an empty reader", |h| {
        shows(h, "No card in the reader yet.")
    });
    demo.insert(card);
    wait_for(h, "the new insertion", |h| shows(h, "Your card is ready."));
    tab_to_bind_my_card(h);
    h.key_press(egui::Key::Enter);
    wait_for(h, "the result", |h| {
        shows(h, "Done: your card is now bound to your request.")
    });
    assert_eq!(emulator(&station).bind_count(), 1);
}

/// After a result the kiosk asks for the card and never starts over with
/// it in; left too long, it calls staff.
#[test]
fn kiosk_waits_for_the_card_to_be_taken_before_starting_over() {
    let mut station = kiosk_station(60, &[]);
    let h = &mut station.harness;
    let demo = std::sync::Arc::clone(h.state().demo_reader().expect("demo mode"));
    scan(h, REQUEST);
    wait_for(h, "the card step", |h| shows(h, "Insert your card"));
    demo.insert(enroll_station::card::demo::demo_cards()[0].card.clone());
    wait_for(h, "the card", |h| shows(h, "Your card is ready."));
    tab_to_bind_my_card(h);
    h.key_press(egui::Key::Enter);
    wait_for(h, "the result", |h| {
        shows(h, "Done: your card is now bound to your request.")
    });
    h.get_by_label("Finish").click();
    wait_for(h, "the request to take the card", |h| {
        shows(h, "Please take your card out of the reader.")
    });
    assert!(
        !shows(h, "Done: your card is now bound"),
        "the person's result is no longer on screen"
    );
    assert!(!shows(h, KIOSK_CODE), "the kiosk does not start over");
    assert!(!shows(h, "Staff: a card has been left"));
    // The harness's clock runs 0.25 s a step: well past the 30 s alarm.
    for _ in 0..140 {
        h.step();
    }
    wait_for(h, "the call for staff", |h| {
        shows(h, "Staff: a card has been left in the reader.")
    });
    assert!(
        !shows(h, KIOSK_CODE),
        "still no start-over with the card in"
    );
    // Staff is the only control on this screen: a Tab puts the focus there.
    key(h, egui::Key::Tab);
    demo.remove();
    wait_for(h, "the first screen", |h| shows(h, KIOSK_CODE));
    h.run_steps(2);
    assert!(
        h.get_by_role_and_label(egui::accesskit::Role::TextInput, KIOSK_CODE)
            .is_focused(),
        "the next person's scan lands in the code field, not on Staff"
    );
    assert!(h.state().state().kiosk.flow.is_pristine());
    assert_eq!(emulator(&station).bind_count(), 1);
}

/// The desk agent selected one person, then searched for another: the bar
/// must not name the hidden person, and Enter must not bind anyone.
#[test]
fn desk_enter_in_the_search_never_binds_a_request_the_search_hides() {
    let mut station = station();
    add_request(&station, "Anna Bauer");
    let h = &mut station.harness;
    key(h, egui::Key::F5);
    wait_for(h, "the list with both people", |h| {
        shows(h, PERSON) && shows(h, "Anna Bauer")
    });
    h.get_by_label(PERSON).click();
    h.run_steps(2);
    h.state()
        .demo_reader()
        .expect("demo mode")
        .insert(enroll_station::card::demo::demo_cards()[0].card.clone());
    wait_for(h, "Bind to be enabled", bind_enabled);
    assert!(shows(h, "Bind the request for Kittest Person"));
    ctrl_f(h);
    type_text(h, "anna");
    assert!(!shows(h, PERSON), "the search hides the selected request");
    assert_eq!(selected(h), None, "a hidden request is not selected");
    assert!(
        !shows(h, "Bind the request for Kittest Person"),
        "the bar never names a request that is not on screen"
    );
    assert!(!bind_enabled(h));
    key(h, egui::Key::Enter);
    h.run_steps(4);
    assert_eq!(emulator(&station).bind_count(), 0, "Enter bound nobody");
    let h = &mut station.harness;
    let anna = shown_requests(h)
        .first()
        .map(|r| r.uuid)
        .expect("Anna is shown");
    assert_eq!(selected(h), Some(anna), "Enter took the search's result");
    assert!(shows(h, "Bind the request for Anna Bauer"));
    assert_eq!(emulator(&station).bind_count(), 0);
}

#[test]
fn kiosk_is_left_only_with_a_supervisors_credential() {
    let mut station = kiosk_station(60, &[]);
    let h = &mut station.harness;
    h.get_by_label("Staff").click();
    wait_for(h, "the staff screen", |h| {
        shows(h, "No supervisor is configured")
    });
    assert!(shows(h, "stop the session"), "the way out is named");
    press(h, "Back");
    wait_for(h, "the first screen", |h| shows(h, KIOSK_CODE));

    let mut station = kiosk_station(60, &[supervisor_entry(SUPERVISOR, SUPERVISOR_PASSWORD)]);
    let h = &mut station.harness;
    h.get_by_label("Staff").click();
    wait_for(h, "the staff sign-in", |h| shows(h, "Staff sign-in"));
    let field = |h: &mut Harness<'static, StationApp>, label: &str, text: &str| {
        let role = if label == "Password" {
            egui::accesskit::Role::PasswordInput
        } else {
            egui::accesskit::Role::TextInput
        };
        h.get_by_role_and_label(role, label)
            .set_text_value_accesskit(text);
        h.run_steps(1);
    };
    field(h, "Supervisor name", SUPERVISOR);
    field(h, "Password", "a guess");
    press(h, "Leave kiosk mode");
    wait_for(h, "the refusal", |h| shows(h, "name or password is wrong"));
    assert!(h.state().state().kiosk.active);
    field(h, "Password", SUPERVISOR_PASSWORD);
    h.get_by_label("Leave kiosk mode").click_accesskit();
    // The commands of every frame until the kiosk is left: the answer may
    // arrive in any of them.
    let mut commands = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(15);
    while h.state().state().kiosk.active {
        assert!(Instant::now() < deadline, "timed out waiting for the desk");
        h.step();
        commands.extend(
            h.output().viewport_output[&egui::ViewportId::ROOT]
                .commands
                .iter()
                .cloned(),
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        commands.contains(&egui::ViewportCommand::Fullscreen(false)),
        "the window leaves fullscreen: {commands:?}"
    );
    wait_for(h, "the request list", |h| shows(h, PERSON));
    assert!(shows(h, "Kiosk mode was left by supervisor Sam Supervisor"));
    assert!(
        !request_close(h).contains(&egui::ViewportCommand::CancelClose),
        "the window can be closed again"
    );

    // Done at the desk, the supervisor hands the station back to the next person.
    h.get_by_label("Back to kiosk").click_accesskit();
    h.step();
    let commands = h.output().viewport_output[&egui::ViewportId::ROOT]
        .commands
        .clone();
    assert!(
        commands.contains(&egui::ViewportCommand::Fullscreen(true)),
        "the window is fullscreen again: {commands:?}"
    );
    wait_for(h, "the kiosk's first screen", |h| shows(h, KIOSK_CODE));
    assert!(
        !shows(h, PERSON),
        "the desk's list is not shown at the kiosk"
    );
    assert!(
        h.state().state().requests.is_empty(),
        "the desk's list is forgotten"
    );
    assert!(
        request_close(h).contains(&egui::ViewportCommand::CancelClose),
        "the kiosk cancels close requests again"
    );
}

#[test]
fn kiosk_settings_need_a_supervisor_and_close_when_the_kiosk_starts_over() {
    let mut station = kiosk_station(2, &[supervisor_entry(SUPERVISOR, SUPERVISOR_PASSWORD)]);
    let h = &mut station.harness;
    assert!(
        h.query_by_label("Server address").is_none(),
        "no Settings without a supervisor"
    );
    h.get_by_label("Staff").click();
    wait_for(h, "the staff sign-in", |h| shows(h, "Staff sign-in"));
    h.get_by_role_and_label(egui::accesskit::Role::TextInput, "Supervisor name")
        .set_text_value_accesskit(SUPERVISOR);
    h.get_by_role_and_label(egui::accesskit::Role::PasswordInput, "Password")
        .set_text_value_accesskit(SUPERVISOR_PASSWORD);
    h.run_steps(1);
    press(h, "Open Settings");
    // The check (argon2 at the station's minimum cost) runs in real time,
    // while each step is a quarter second of the kiosk's 2 s idle time:
    // wait for it without stepping.
    std::thread::sleep(Duration::from_millis(1500));
    wait_for(h, "the Settings view", |h| shows(h, "Server address"));
    assert!(h.state().state().kiosk.active, "still a kiosk");
    // Left alone, the Settings view closes with the kiosk's idle reset.
    h.run_steps(12);
    assert!(
        h.query_by_label("Server address").is_none(),
        "the idle reset closed Settings"
    );
    assert!(shows(h, KIOSK_CODE));
}

// The desk agent's comforts: search, sort, keyboard, refresh, toasts, larger text.

#[test]
fn desk_never_offers_a_request_that_takes_no_card_and_says_why() {
    let mut station = station();
    add_cardless_requests(&station);
    let h = &mut station.harness;
    wait_for(h, "the request list", |h| shows(h, PERSON));
    key(h, egui::Key::F5);
    wait_for(h, "the refreshed list", |h| shows(h, "Retire Person"));
    let rows = shown_requests(h);
    let ready = rows.iter().filter(|r| r.is_bindable()).count();
    assert!(
        rows[..ready].iter().all(|r| r.is_bindable()),
        "the ready requests come first, though these two have the highest priority"
    );
    assert!(shows(
        h,
        &format!("{} requests · {ready} ready for a card", rows.len())
    ));
    // The submission time is shown in local time with its zone.
    let submitted =
        enroll_station::cm::model::parse_cm_time("2026-11-27T08:00:00Z").expect("a time");
    let shown = enroll_station::domain::request::ShownTime::local(submitted).to_string();
    assert!(shows(h, &shown), "{shown}");

    h.get_by_label("Insert demo card").click();
    wait_for(h, "the card ID", |h| {
        shows(h, "bc88f13f-83ba-4037-8262-46eba1291c6e")
    });
    for (name, reason) in [
        (
            "Software Person",
            "This request cannot take a card: this is a software-profile request \
             (IsSmartcard false): it never takes a card.",
        ),
        (
            "Retire Person",
            "This request cannot take a card: a Retire request acts on an existing card; it \
             does not take a new one.",
        ),
    ] {
        h.get_by_label(name).click();
        wait_for(h, "the reason", |h| shows(h, reason));
        assert!(!bind_enabled(h), "{name}: Bind stays disabled");
        ctrl_enter(h);
        h.run_steps(2);
        assert_eq!(
            h.state().state().bind,
            BindState::Idle,
            "{name}: nothing starts"
        );
    }
    h.get_by_label(PERSON).click();
    wait_for(h, "Bind to be enabled for an enroll", bind_enabled);
    assert_eq!(emulator(&station).bind_count(), 0);
}

#[test]
fn kiosk_refuses_the_code_of_a_request_that_takes_no_card_in_plain_words() {
    let mut station = kiosk_station(60, &[]);
    add_cardless_requests(&station);
    let h = &mut station.harness;
    for (code, words) in [
        (
            SOFTWARE_REQUEST,
            "This request is for certificates kept on a computer, not on a card.",
        ),
        (
            RETIRE_REQUEST,
            "This request is for a card that was already given out (to retire it), not for \
             a new card.",
        ),
    ] {
        scan(h, code);
        wait_for(h, "the refusal", |h| shows(h, words));
        assert!(shows(h, "please ask a member of staff"));
        assert!(!shows(h, "IsSmartcard") && !shows(h, "software-profile"));
        assert!(!shows(h, "Insert your card"), "no card is asked for");
        assert_eq!(kiosk_code(h), "", "the next scan starts on an empty field");
    }
    assert_eq!(emulator(&station).bind_count(), 0);
}

#[test]
fn desk_search_narrows_the_list_and_finds_a_data_collection_value() {
    let mut station = station();
    let h = &mut station.harness;
    wait_for(h, "the request list", |h| shows(h, PERSON));
    h.check_accessibility();
    let all = h.state().state().requests.len();
    assert_eq!(shown_requests(h).len(), all, "no search: every request");
    let (id, employee) = h
        .state()
        .state()
        .requests
        .iter()
        .find_map(|r| {
            let item = r.data_collection.iter().find(|d| d.name == "EmployeeId")?;
            Some((r.uuid, item.value.clone()?))
        })
        .expect("a demo request with an employee ID");

    ctrl_f(h);
    type_text(h, &employee.to_lowercase());
    let found: Vec<Uuid> = shown_requests(h).iter().map(|r| r.uuid).collect();
    assert_eq!(
        found,
        [id],
        "the employee ID {employee} is found, in any case"
    );
    assert!(shows(h, &format!("1 of {all} shown")));

    h.get_by_label("Clear").click();
    h.run_steps(2);
    assert_eq!(
        shown_requests(h).len(),
        all,
        "Clear shows every request again"
    );
    type_text(h, "FINANCE kittest");
    let found: Vec<Uuid> = shown_requests(h).iter().map(|r| r.uuid).collect();
    assert_eq!(found, [request_id()], "both terms must match");
    type_text(h, " nobody");
    assert!(shows(h, "No request matches \"FINANCE kittest nobody\""));
    h.check_accessibility();
}

#[test]
fn desk_a_header_click_sorts_and_a_second_click_reverses() {
    let mut station = station();
    let h = &mut station.harness;
    wait_for(h, "the request list", |h| shows(h, PERSON));
    let priorities = |h: &Harness<'static, StationApp>| {
        shown_requests(h)
            .iter()
            .map(|r| r.priority)
            .collect::<Vec<_>>()
    };
    h.get_by_label("Sort by Priority").click();
    h.run_steps(2);
    let up = priorities(h);
    assert!(up.is_sorted(), "ascending: {up:?}");
    assert_eq!(up.last(), Some(&99));
    assert!(h.query_by_label("Sort by Priority").is_none());
    h.get_by_label("Sorted by Priority, ascending").click();
    h.run_steps(2);
    let down = priorities(h);
    assert!(down.is_sorted_by(|a, b| a >= b), "descending: {down:?}");
    assert_eq!(shown_requests(h)[0].uuid, request_id());
    assert!(h.query_by_label("Sorted by Priority, descending").is_some());
    h.get_by_label("Sort by Person").click();
    h.run_steps(2);
    let names: Vec<String> = shown_requests(h)
        .iter()
        .map(|r| r.data_summary().to_lowercase())
        .collect();
    assert!(names.is_sorted(), "by name: {names:?}");
}

#[test]
fn desk_keyboard_alone_finds_selects_and_binds_a_request() {
    let mut station = station();
    let h = &mut station.harness;
    wait_for(h, "the request list", |h| shows(h, PERSON));
    // The card goes into the reader by hand; everything else is keys.
    let card = enroll_station::card::demo::demo_cards()[0].card.clone();
    h.state().demo_reader().expect("demo mode").insert(card);
    wait_for(h, "the card ID", |h| {
        shows(h, "bc88f13f-83ba-4037-8262-46eba1291c6e")
    });
    ctrl_f(h);
    type_text(h, "kittest");
    assert_eq!(selected(h), None);
    key(h, egui::Key::Enter);
    assert_eq!(
        selected(h),
        Some(request_id()),
        "Enter in the search box selects the first match"
    );
    h.run_steps(4);
    assert_eq!(
        emulator(&station).bind_count(),
        0,
        "Enter in the search box never binds"
    );
    let h = &mut station.harness;
    key(h, egui::Key::ArrowDown);
    assert_eq!(
        selected(h),
        Some(request_id()),
        "the arrow stays at the end of the list"
    );
    wait_for(h, "Bind to be enabled", bind_enabled);
    key(h, egui::Key::Enter);
    h.run_steps(4);
    assert_eq!(
        emulator(&station).bind_count(),
        0,
        "a plain Enter in the list does not bind either"
    );
    let h = &mut station.harness;
    ctrl_enter(h);
    wait_for(h, "the result", |h| {
        shows(
            h,
            "The request for Kittest Person, Finance (unchecked) is now bound to card",
        )
    });
    assert_eq!(emulator(&station).bind_count(), 1);
    let h = &mut station.harness;
    h.run_steps(2);
    assert!(
        h.query_by_label("Dismiss notification").is_none(),
        "no toast repeats what the bind bar says"
    );
    h.check_accessibility();
    ctrl_enter(h);
    h.run_steps(2);
    assert_eq!(
        emulator(&station).bind_count(),
        1,
        "Ctrl+Enter on a bound request binds nothing"
    );
}

#[test]
fn desk_ctrl_enter_without_a_card_announces_why_beside_bind() {
    let mut station = station();
    let h = &mut station.harness;
    wait_for(h, "the request list", |h| shows(h, PERSON));
    ctrl_f(h);
    type_text(h, "kittest");
    key(h, egui::Key::ArrowDown);
    let alerts = |h: &Harness<'static, StationApp>| {
        h.query_all_by_role(egui::accesskit::Role::Alert).count()
    };
    assert_eq!(alerts(h), 0, "the reason is not an alert before Ctrl+Enter");
    ctrl_enter(h);
    wait_for(h, "the reason announced as an alert", |h| alerts(h) == 1);
    assert_eq!(
        h.query_all_by_label("Insert the card into a reader.")
            .count(),
        1,
        "said once, beside Bind, not again in a toast"
    );
    assert_eq!(emulator(&station).bind_count(), 0);
}

#[test]
fn desk_f5_fetches_again_and_keeps_the_selection() {
    let mut station = station();
    wait_for(&mut station.harness, "the request list", |h| {
        shows(h, PERSON)
    });
    station.harness.get_by_label(PERSON).click();
    station.harness.run_steps(2);
    assert_eq!(selected(&station.harness), Some(request_id()));
    let idle = idle_delay(&mut station.harness);
    assert!(
        idle > Duration::ZERO && idle <= Duration::from_secs(30),
        "idle, the window sleeps until the next refresh: {idle:?}"
    );
    add_request(&station, "Refreshed Person");
    assert!(!shows(&station.harness, "Refreshed Person"));
    key(&mut station.harness, egui::Key::F5);
    wait_for(&mut station.harness, "the new request", |h| {
        shows(h, "Refreshed Person")
    });
    assert_eq!(
        selected(&station.harness),
        Some(request_id()),
        "the selection survives"
    );
}

#[test]
fn desk_the_list_refreshes_itself_at_the_configured_interval() {
    let (_dir, path) = common::temp_journal();
    let journal =
        enroll_station::audit::journal::open_shared(Some(&path), true).expect("journal opens");
    let mut station = station_customized(journal, None, |setup| {
        setup.refresh_interval = Duration::from_secs(1);
    });
    wait_for(&mut station.harness, "the request list", |h| {
        shows(h, PERSON)
    });
    add_request(&station, "Refreshed Person");
    wait_for(&mut station.harness, "the automatic refresh", |h| {
        shows(h, "Refreshed Person")
    });
}

#[test]
fn desk_esc_closes_settings_and_the_audit_view() {
    let (mut station, _dir, _config_path) = settings_station();
    let h = &mut station.harness;
    h.check_accessibility();
    key(h, egui::Key::Escape);
    h.run_steps(1);
    assert!(
        h.query_by_label("Server address").is_none(),
        "Esc closed Settings"
    );
    h.get_by_label("Audit journal").click();
    // Opening Settings was itself a record (issue 20): the view lists it.
    wait_for(h, "the audit view", |h| shows(h, "Settings opened"));
    h.check_accessibility();
    key(h, egui::Key::Escape);
    h.run_steps(1);
    assert!(!shows(h, "Settings opened"), "Esc closed the audit view");
}

#[test]
fn desk_larger_text_zooms_and_is_saved_in_the_configuration() {
    let (mut station, _dir, config_path) = settings_station();
    let h = &mut station.harness;
    assert_eq!(h.ctx.zoom_factor(), 1.0);
    h.get_by_label("Larger text").click_accesskit();
    wait_for(h, "the zoom", |h| h.ctx.zoom_factor() == 1.25);
    assert!(
        h.state().state().settings.form.larger_text,
        "Settings shows the choice"
    );
    wait_for(h, "the saved choice", |_| {
        enroll_station::config::StationConfig::load(&config_path).is_ok_and(|c| c.larger_text)
    });
    h.get_by_label("Larger text").click_accesskit();
    wait_for(h, "the normal size", |h| h.ctx.zoom_factor() == 1.0);
    wait_for(h, "the saved choice", |_| {
        enroll_station::config::StationConfig::load(&config_path).is_ok_and(|c| !c.larger_text)
    });
}

/// The window identifies a Thales IDPrime token by its `cardid` file, binds
/// that ID, and shows a card with only a CPLC as chip information it cannot bind.
#[test]
fn an_idprime_token_is_shown_and_bound_by_its_cardid_and_a_cplc_is_never_a_card_id() {
    let mut station = station();
    let h = &mut station.harness;
    wait_for(h, "the request list", |h| shows(h, PERSON));
    h.get_by_label(PERSON).click();
    h.run_steps(2);
    let demo = std::sync::Arc::clone(h.state().demo_reader().expect("demo mode"));
    let blank_with_chip = enroll_station::card::virtual_card::VirtualCard::blank().with_cplc([
        0x40, 0x90, 0x7A, 0x77, 0x47, 0x91, 0x12, 0x34, 0x00, 0x01, 0x52, 0x41, 0x12, 0x34, 0x56,
        0x78, 0x00, 0x42, 0x40, 0x90, 0x52, 0x41, 0x40, 0x90, 0x52, 0x41, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ]);
    demo.insert(blank_with_chip);
    wait_for(h, "the refusal", |h| shows(h, "Cannot be bound"));
    assert!(shows(
        h,
        "Chip (CPLC): fabricator 4090, type 7A77, serial 12345678, batch 0042 (information only, not a card ID)"
    ));
    assert!(!bind_enabled(h), "a chip is never a card ID");

    let token = enroll_station::card::demo::demo_cards()
        .into_iter()
        .find(|c| c.label.contains("IDPrime"))
        .expect("the demo offers an IDPrime token");
    demo.insert(token.card);
    // OpenSC #2877's IDPrime 940 cardid a7c000cbf5a83879 (twice), in CM's text.
    let card_id = "cb00c0a7-a8f5-7938-a7c0-00cbf5a83879";
    wait_for(h, "the IDPrime card ID", |h| shows(h, card_id));
    assert!(shows(h, "Kind: Thales IDPrime"));
    wait_for(h, "Bind to be enabled", bind_enabled);
    h.get_by_label("Bind").click();
    wait_for(h, "the result", |h| shows(h, "is now bound to card"));
    let known = emulator(&station)
        .smartcards()
        .into_iter()
        .any(|c| c.card_id.map(|id| id.to_string()).as_deref() == Some(card_id));
    assert!(known, "CM received the cardid file's ID");
}

/// The readers panel follows the same family rules as `readers --json`: an
/// IDPrime token with a PIV applet shows its `cardid`, a long CHUID in one
/// answer is read, and a site row marking an ATR unsupported blocks Bind.
#[test]
fn the_readers_panel_identifies_cards_by_family_and_site_rows() {
    use enroll_station::card::virtual_card::VirtualCard;
    use enroll_station::domain::card::CardId;
    let site_row = enroll_station::config::FamilyEntry {
        atr: "3b8d0180fba000000397425446590301c8".into(),
        mask: None,
        family: enroll_station::config::FamilyName::Unsupported,
        name: Some("Retired GIDS cards".into()),
        reason: Some("These cards are retired at this site: use the blue ones.".into()),
    };
    let cards = enroll_station::config::CardSettings {
        families: vec![site_row],
        card_id_fallback: None,
    };
    let families = cards.family_table().expect("a valid row");
    let (_dir, path) = common::temp_journal();
    let journal =
        enroll_station::audit::journal::open_shared(Some(&path), true).expect("journal opens");
    let mut station = station_customized(journal, None, |setup| {
        setup.card_reader = enroll_station::card::pcsc_reader::PcscReader::with_families(families);
    });
    let h = &mut station.harness;
    wait_for(h, "the request list", |h| shows(h, PERSON));
    h.get_by_label(PERSON).click();
    h.run_steps(2);
    let demo = std::sync::Arc::clone(h.state().demo_reader().expect("demo mode"));

    demo.insert(enroll_station::card::demo::demo_cards()[0].card.clone());
    wait_for(h, "the site's reason", |h| {
        shows(
            h,
            "These cards are retired at this site: use the blue ones.",
        )
    });
    h.run_steps(2);
    assert!(!bind_enabled(h), "an unsupported family is never bound");

    let cardid: [u8; 16] = *b"IDPrime+PIV-card";
    let chuid_guid: [u8; 16] = *b"PIV-applet-guid!";
    demo.insert(VirtualCard::idprime(cardid).with_piv_applet(chuid_guid));
    let expected = CardId::from_raw(cardid).to_cm_string();
    wait_for(h, "the cardid file's ID", |h| shows(h, &expected));
    assert!(!shows(h, &CardId::from_raw(chuid_guid).to_cm_string()));
    assert!(shows(h, "Kind: Thales IDPrime"));
    wait_for(h, "Bind to be enabled", bind_enabled);

    let guid: [u8; 16] = *b"long-CHUID-guid!";
    let mut chuid = vec![0x34, 0x10];
    chuid.extend_from_slice(&guid);
    chuid.extend_from_slice(&[0x3E, 0x82, 0x03, 0x00]);
    chuid.extend_from_slice(&[0x5A; 0x300]);
    demo.insert(VirtualCard::piv_with_chuid(chuid).with_whole_answers());
    wait_for(h, "the long CHUID's GUID", |h| {
        shows(h, &CardId::from_raw(guid).to_cm_string())
    });
    assert!(shows(h, "Kind: PIV"));
}

#[test]
fn the_readers_panel_says_a_card_is_new_to_cm() {
    let mut station = station();
    select_and_insert(&mut station);
    wait_for(&mut station.harness, "CM's answer about the card", |h| {
        shows(h, "New to CM")
    });
    wait_for(&mut station.harness, "Bind to be enabled", bind_enabled);
}

#[test]
fn a_card_in_use_is_described_and_refused_before_the_click() {
    let mut station = station();
    let user = Uuid::from_u128(0x5eed_0001);
    let template = Uuid::from_u128(0x7e3a_0001);
    let object = emulator(&station).insert_smartcard(
        &demo_gids_card_id(),
        enroll_station::domain::request::SmartcardStatus::ACTIVE,
        user,
        template,
    );
    emulator(&station).set_card_operations(object, vec!["unblock".into(), "retire".into()]);
    emulator(&station).set_card_certificates(object, 3);
    select_and_insert(&mut station);
    let h = &mut station.harness;
    wait_for(h, "CM's answer about the card", |h| {
        shows(h, &format!("Known to CM: Active, assigned to user {user}"))
    });
    assert!(shows(h, &format!("Profile template {template}")));
    assert!(shows(h, &format!("Smart card object {object}")));
    assert!(shows(h, "3 certificates"));
    assert!(shows(h, "You may start: Unblock, Retire"));
    // The bar explains the refusal while Bind is still unpressed.
    wait_for(h, "the refusal in the bind bar", |h| {
        shows(h, "A card in use cannot be bound")
    });
    assert!(!bind_enabled(h), "Bind stays disabled for a card in use");
    assert_eq!(emulator(&station).bind_count(), 0);
}

#[test]
fn a_retired_card_is_refused_before_the_click_only_when_the_template_forbids_reuse() {
    for allowed in [false, true] {
        let mut station = station();
        let template = emulator(&station)
            .requests()
            .into_iter()
            .find_map(|r| r.profile_template)
            .expect("the demo requests name a profile template");
        let mut request = emulator(&station)
            .requests()
            .into_iter()
            .find(|r| r.uuid == request_id())
            .expect("the test request");
        request.profile_template = Some(template);
        emulator(&station).insert_domain_request(&request);
        emulator(&station).set_template_reuse(template, allowed);
        emulator(&station).insert_smartcard(
            &demo_gids_card_id(),
            enroll_station::domain::request::SmartcardStatus::RETIRED,
            Uuid::from_u128(0x5eed_0002),
            template,
        );
        // The window may have listed the request before it named the template.
        station.harness.get_by_label("Refresh").click();
        wait_for(&mut station.harness, "the request with its template", |h| {
            h.state()
                .state()
                .requests
                .iter()
                .any(|r| r.uuid == request_id() && r.profile_template == Some(template))
        });
        select_and_insert(&mut station);
        let h = &mut station.harness;
        wait_for(h, "CM's answer about the card", |h| {
            shows(h, "Known to CM: Retired")
        });
        if allowed {
            wait_for(h, "Bind to be enabled", bind_enabled);
        } else {
            wait_for(h, "the refusal in the bind bar", |h| {
                shows(h, "does not allow smart card reuse")
            });
            assert!(!bind_enabled(h), "Bind stays disabled");
        }
        assert_eq!(emulator(&station).bind_count(), 0);
    }
}
