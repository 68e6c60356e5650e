//! The Settings view and the supervisor's dialog in the real window
//! (egui_kittest, the demo backend over HTTP): Settings shows what runs,
//! names fields by their labels, keeps Save in view, drops results the
//! form no longer matches and writes only what changed; Esc closes the
//! innermost thing; the supervisor's wait counts down.

mod common;

use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use common::window::*;
use egui::accesskit::Role;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use enroll_station::config::{ServerAddress, StationConfig};

fn server(text: &str) -> Option<ServerAddress> {
    Some(ServerAddress::try_from(text.to_owned()).expect("a usable address"))
}

fn file_text(path: &Path) -> String {
    std::fs::read_to_string(path).expect("the configuration file was written")
}

fn unsaved(h: &egui_kittest::Harness<'static, enroll_station::ui::StationApp>) -> bool {
    shows(h, "Unsaved changes")
}

#[test]
fn settings_show_the_running_values_test_them_and_save_only_the_files_own() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let config_path = dir.path().join("station.toml");
    let file = StationConfig {
        server: server("https://cm.contoso.com"),
        ..StationConfig::default()
    };
    file.save(&config_path).expect("the file is written");
    let mut station = overridden_station(
        file.clone(),
        config_path.clone(),
        |demo| {
            // As `--server <demo> --auth none --request-timeout-secs 20`.
            let mut running = file.clone();
            running.server = server(demo);
            running.auth = StationConfig::parse("[auth]\nmethod = \"none\"\n", Path::new("--auth"))
                .expect("a sign-in method")
                .auth;
            running.timeouts.request_secs =
                enroll_station::config::Seconds::new(20).expect("in range");
            running
        },
        &[],
    );
    let demo = emulator(&station).base_url();
    let h = &mut station.harness;
    open_settings(h);
    assert_eq!(
        h.get_by_label("Server address").value().as_deref(),
        Some(demo.as_str()),
        "the server this run talks to, not the file's"
    );
    assert_eq!(
        h.get_by_label("Request timeout (seconds)")
            .value()
            .as_deref(),
        Some("20")
    );
    assert!(shows(h, "Overridden by --server on the command line"));
    assert!(shows(
        h,
        "Overridden by --request-timeout-secs on the command line"
    ));
    assert!(shows(h, "Overridden by --auth on the command line"));
    assert!(
        !shows(h, "Overridden by --connect-timeout-secs"),
        "a value the command line left alone is not marked"
    );
    assert!(!unsaved(h), "showing the running values is not an edit");

    press(h, "Test connection");
    wait_for(h, "the connection check", |h| {
        h.state().state().settings.check.is_some()
    });
    let report = h
        .state()
        .state()
        .settings
        .check
        .clone()
        .expect("the report is kept");
    assert!(
        report.server.starts_with(&demo),
        "the running server was tested: {}",
        report.server
    );
    assert!(report.passed(), "{}", report.to_text());
    assert!(
        report.to_text().contains("method: none"),
        "with the running sign-in: {}",
        report.to_text()
    );

    set_field(h, "Refresh interval (seconds)", "45");
    assert!(unsaved(h));
    press(h, "Save");
    wait_for(h, "the save", |h| {
        shows(h, "restart the station to connect with the new settings")
    });
    let saved = StationConfig::load(&config_path).expect("the saved file reads back");
    assert_eq!(
        saved.server, file.server,
        "the file keeps its server: --server was for this run"
    );
    assert_eq!(saved.timeouts.request_secs.get(), 30, "and its timeout");
    assert_eq!(saved.auth.method, file.auth.method, "and its sign-in");
    assert_eq!(saved.refresh_interval_secs.get(), 45, "the edit is saved");
    assert!(!unsaved(h), "saved: the cue goes");
    assert_eq!(
        h.get_by_label("Server address").value().as_deref(),
        Some(demo.as_str()),
        "still what runs"
    );
}

#[test]
fn settings_of_a_kiosk_started_with_the_kiosk_option_show_kiosk_mode() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    // The file says desk; `--kiosk` made this run a kiosk.
    let mut station = overridden_station(
        StationConfig::default(),
        dir.path().join("station.toml"),
        |_| StationConfig {
            mode: enroll_station::config::Mode::Kiosk,
            ..StationConfig::default()
        },
        &[supervisor_entry(SUPERVISOR, SUPERVISOR_PASSWORD)],
    );
    let h = &mut station.harness;
    h.run_steps(2);
    open_kiosk_settings(h);
    assert_eq!(
        h.get_by_role_and_label(Role::TextInput, "Mode")
            .value()
            .as_deref(),
        Some("Kiosk (unattended)"),
        "the mode this run is in, not the file's desk"
    );
    assert!(shows(h, "Overridden by --kiosk on the command line"));
    assert!(
        h.query_by_role_and_label(Role::ComboBox, "Mode").is_none(),
        "an overridden choice is shown, not offered"
    );
    assert!(!unsaved(h));
}

/// A supervisor opens a kiosk's Settings through the Staff screen.
fn open_kiosk_settings(h: &mut egui_kittest::Harness<'static, enroll_station::ui::StationApp>) {
    h.get_by_label("Staff").click();
    wait_for(h, "the staff sign-in", |h| shows(h, "Staff sign-in"));
    h.get_by_role_and_label(Role::TextInput, "Supervisor name")
        .set_text_value_accesskit(SUPERVISOR);
    h.get_by_role_and_label(Role::PasswordInput, "Password")
        .set_text_value_accesskit(SUPERVISOR_PASSWORD);
    h.run_steps(1);
    press(h, "Open Settings");
    wait_for(h, "the Settings view", |h| shows(h, "Server address"));
}

#[test]
fn in_demo_mode_the_form_says_the_sign_in_the_test_reports() {
    let (mut station, _dir, _config_path) = settings_station();
    let h = &mut station.harness;
    assert_eq!(
        h.get_by_role_and_label(Role::ComboBox, "Authentication method")
            .value()
            .as_deref(),
        Some("Negotiate (Kerberos / Windows sign-in)"),
        "the file's method, for the server still to be configured"
    );
    assert!(
        shows(h, "This run signs in with: none"),
        "and what this run uses beside it"
    );
    press(h, "Test connection");
    wait_for(h, "the report", |h| shows(h, "Connection check of"));
    assert!(shows(h, "method: none"), "the test agrees with the form");
    set_field(h, "Server address", "https://cm.contoso.com");
    assert!(
        !shows(h, "This run signs in with: none"),
        "a named server is tested with the form's method"
    );
}

#[test]
fn an_invalid_field_is_named_by_its_label_and_save_stays_in_the_window() {
    let (mut station, _dir, config_path) = settings_station();
    let h = &mut station.harness;
    h.set_size(egui::vec2(1000.0, 600.0));
    h.run_steps(3);
    let save_in_window = |h: &egui_kittest::Harness<'static, enroll_station::ui::StationApp>| {
        let window = settings_window_rect(h);
        let save = button(h, "Save").rect();
        assert!(
            window.contains_rect(save) && save.bottom() <= 600.0,
            "Save {save:?} is inside the window {window:?} and the screen"
        );
    };
    save_in_window(h);

    press(h, "Test connection");
    wait_for(h, "the report", |h| shows(h, "Connection check of"));
    h.run_steps(2);
    save_in_window(h);
    assert!(shows(h, "PASS  Authentication"), "the report is open");

    set_field(h, "Connect timeout (seconds)", "soon");
    press(h, "Save");
    wait_for(h, "the error", |h| shows(h, "One setting needs attention"));
    h.run_steps(2);
    assert!(shows(
        h,
        "One setting needs attention: Connect timeout. Nothing was saved."
    ));
    assert!(shows(
        h,
        "Connect timeout must be a whole number from 1 to 86400"
    ));
    assert!(
        !shows(h, "timeouts.connect_secs") && !shows(h, "connect_secs"),
        "no key of the file in the window"
    );
    save_in_window(h);
    // The label stays level with its field, the error under both.
    let label = h.get_by_role_and_label(Role::Label, "Connect timeout (seconds)");
    let field = h.get_by_role_and_label(Role::TextInput, "Connect timeout (seconds)");
    assert!(
        (label.rect().center().y - field.rect().center().y).abs() < 2.0,
        "label {:?} beside field {:?}",
        label.rect(),
        field.rect()
    );
    assert!(!config_path.exists(), "nothing was written");
    h.check_accessibility();
}

#[test]
fn an_edit_clears_the_test_result_and_unsaved_changes_come_and_go() {
    let (mut station, _dir, config_path) = settings_station();
    let h = &mut station.harness;
    assert!(!unsaved(h));
    press(h, "Test connection");
    wait_for(h, "the report", |h| shows(h, "Connection test passed."));
    set_field(h, "Refresh interval (seconds)", "45");
    assert!(
        !shows(h, "Connection test passed.") && !shows(h, "Connection check of"),
        "a result about other values is gone"
    );
    assert!(h.state().state().settings.check.is_none());
    assert!(unsaved(h), "the edit is marked");
    assert!(
        !button(h, "Revert to the file")
            .accesskit_node()
            .is_disabled()
    );

    press(h, "Revert to the file");
    assert!(!unsaved(h), "reverted: nothing to save");
    assert_eq!(
        h.get_by_label("Refresh interval (seconds)")
            .value()
            .as_deref(),
        Some("30")
    );

    // Esc closes Settings with an edit in it; reopened, the edit is marked.
    set_field(h, "Station name", "Desk 12");
    key(h, egui::Key::Escape);
    assert!(
        h.query_by_label("Server address").is_none(),
        "Esc closed it"
    );
    open_settings(h);
    assert_eq!(
        h.get_by_label("Station name").value().as_deref(),
        Some("Desk 12"),
        "the draft is kept"
    );
    assert!(unsaved(h), "and not silently: the cue is there");

    press(h, "Save");
    wait_for(h, "the save", |h| shows(h, "Saved to"));
    assert!(!unsaved(h), "saved: the cue goes");
    assert!(file_text(&config_path).contains("Desk 12"));
}

#[test]
fn esc_with_a_combo_open_closes_only_the_combo() {
    let (mut station, _dir, _config_path) = settings_station();
    let h = &mut station.harness;
    // Through AccessKit: the field may be scrolled out of the window's view.
    h.get_by_role_and_label(Role::ComboBox, "Mode")
        .click_accesskit();
    h.run_steps(2);
    assert!(shows(h, "Kiosk (unattended)"), "the list is open");
    key(h, egui::Key::Escape);
    h.run_steps(1);
    assert!(!shows(h, "Kiosk (unattended)"), "Esc closed the list");
    assert!(shows(h, "Server address"), "and only the list");
    key(h, egui::Key::Escape);
    h.run_steps(1);
    assert!(
        h.query_by_label("Server address").is_none(),
        "the next Esc closes Settings"
    );
}

#[test]
fn esc_with_a_combo_open_in_kiosk_settings_closes_only_the_combo() {
    let mut station = kiosk_station(60, &[supervisor_entry(SUPERVISOR, SUPERVISOR_PASSWORD)]);
    let h = &mut station.harness;
    open_kiosk_settings(h);
    h.get_by_role_and_label(Role::ComboBox, "Authentication method")
        .click_accesskit();
    h.run_steps(2);
    assert!(shows(h, "Bearer token (ADFS)"), "the list is open");
    key(h, egui::Key::Escape);
    h.run_steps(1);
    assert!(!shows(h, "Bearer token (ADFS)"), "Esc closed the list");
    assert!(shows(h, "Server address"), "and only the list");
    key(h, egui::Key::Escape);
    h.run_steps(1);
    assert!(
        h.query_by_label("Server address").is_none(),
        "the next Esc closes the kiosk's Settings"
    );
    assert!(h.state().state().kiosk.active, "still a kiosk");
}

#[test]
fn larger_text_on_a_missing_file_makes_a_file_with_only_that_key() {
    let (mut station, _dir, config_path) = settings_station();
    let h = &mut station.harness;
    assert!(!config_path.exists());
    h.get_by_role_and_label(Role::CheckBox, "Larger text")
        .click_accesskit();
    wait_for(h, "the file", |_| config_path.exists());
    assert_eq!(file_text(&config_path), "larger_text = true\n");
}

#[test]
fn larger_text_keeps_every_other_line_of_a_commented_file() {
    let (mut station, _dir, config_path) = settings_station();
    let original = "# Set up by IT for the ground-floor desk (ticket 4711).\n\
                    station_name = \"Desk 12\"  # as on the label\n\
                    \n\
                    [timeouts]\n\
                    # The WAN link is slow.\n\
                    connect_secs = 20\n";
    std::fs::create_dir_all(config_path.parent().expect("a folder")).expect("created");
    std::fs::write(&config_path, original).expect("written");
    let h = &mut station.harness;
    h.get_by_role_and_label(Role::CheckBox, "Larger text")
        .click_accesskit();
    wait_for(h, "the saved choice", |_| {
        file_text(&config_path).contains("larger_text")
    });
    let text = file_text(&config_path);
    let others: Vec<&str> = text
        .lines()
        .filter(|line| !line.starts_with("larger_text"))
        .collect();
    assert_eq!(
        others,
        original.lines().collect::<Vec<_>>(),
        "every other line byte for byte: {text}"
    );
    assert_eq!(
        text.lines().filter(|l| *l == "larger_text = true").count(),
        1
    );
    assert!(text.ends_with('\n'));
}

/// Puts a wait of `secs` seconds into the station's refusal count, as
/// three wrong credentials just did.
fn write_wait(refusals: &Path, secs: u64) {
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("after 1970")
        .as_millis();
    let until = now + u128::from(secs) * 1000;
    std::fs::write(
        refusals,
        format!("{{\"refusals\":3,\"last_refusal_unix_ms\":{now},\"wait_until_unix_ms\":{until}}}"),
    )
    .expect("the count is written");
}

/// The seconds the dialog says to wait, when it says so.
fn wait_shown(h: &egui_kittest::Harness<'static, enroll_station::ui::StationApp>) -> Option<u64> {
    let node = h.query_by_label_contains("before trying again")?;
    let text = node.value()?;
    let after = text.split("wait ").nth(1)?;
    after.split(' ').next()?.parse().ok()
}

fn confirm_enabled(h: &egui_kittest::Harness<'static, enroll_station::ui::StationApp>) -> bool {
    !button(h, "Confirm and bind").accesskit_node().is_disabled()
}

#[test]
fn the_supervisors_wait_counts_down_disables_confirm_and_keeps_what_is_typed() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let refusals = dir.path().join("audit.supervisor-refusals.json");
    let mut station = supervised_station_counting_in(
        &[supervisor_entry(SUPERVISOR, SUPERVISOR_PASSWORD)],
        refusals.clone(),
    );
    open_confirmation(&mut station);
    let h = &mut station.harness;
    let operator = operator_name();
    assert!(
        shows(h, &format!("Operator: {operator} at ")),
        "the dialog names whose bind it is"
    );
    assert!(confirm_enabled(h));
    // The dialog's first frame only measures it.
    h.run_steps(3);
    let buttons_before = button(h, "Confirm and bind").rect();

    write_wait(&refusals, 4);
    confirm_as(&mut station, SUPERVISOR, SUPERVISOR_PASSWORD);
    let h = &mut station.harness;
    wait_for(h, "the wait", |h| wait_shown(h).is_some());
    let first = wait_shown(h).expect("shown");
    assert!((1..=4).contains(&first), "{first}");
    assert!(!confirm_enabled(h), "Confirm waits with the station");
    h.check_accessibility();
    assert_eq!(
        button(h, "Confirm and bind").rect(),
        buttons_before,
        "the message took its reserved place: the buttons did not move"
    );

    // Typed during the wait: neither sent nor thrown away.
    set_field(h, "Password", SUPERVISOR_PASSWORD);
    press(h, "Confirm and bind");
    let typed = |h: &egui_kittest::Harness<'static, enroll_station::ui::StationApp>| {
        h.state()
            .state()
            .supervisor_prompt
            .as_ref()
            .is_some_and(|p| !p.form.password.is_empty() && !p.form.pending)
    };
    assert!(typed(h), "the password typed during the wait is kept");

    // Nothing else happens, yet the window wakes for the next second.
    let delay = idle_delay(h);
    assert!(
        delay <= Duration::from_secs(1),
        "the countdown asks for a frame within the second: {delay:?}"
    );
    let started = Instant::now();
    wait_for(h, "the countdown", |h| {
        wait_shown(h).is_some_and(|shown| shown < first)
    });
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "it ticks each second"
    );
    wait_for(h, "the end of the wait", confirm_enabled);
    assert!(shows(h, "The wait is over"));
    assert!(typed(h), "still there");
    press(h, "Confirm and bind");
    wait_for(h, "the bind", |h| shows(h, "Bound"));
    assert_eq!(emulator(&station).bind_count(), 1);
}

#[test]
fn larger_text_saved_in_settings_takes_effect_at_once() {
    let (mut station, _dir, config_path) = settings_station();
    let h = &mut station.harness;
    assert_eq!(h.ctx.zoom_factor(), 1.0);
    h.get_by_label("Larger text (125 %)").click_accesskit();
    h.run_steps(2);
    assert_eq!(h.ctx.zoom_factor(), 1.0, "not before Save");
    press(h, "Save");
    wait_for(h, "the file to be saved", |_| {
        std::fs::read_to_string(&config_path).is_ok_and(|t| t.contains("larger_text = true"))
    });
    wait_for(h, "the zoom", |h| (h.ctx.zoom_factor() - 1.25).abs() < 0.01);
}
