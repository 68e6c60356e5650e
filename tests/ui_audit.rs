//! The audit window, driven through its accessibility tree with egui_kittest
//! after a real bind in the demo window: names first (person, operator,
//! supervisor, station), local times with their zone, copyable GUIDs, and
//! exports that work without a desktop portal and report inside the window.

mod common;

use common::window::*;

use std::path::{Path, PathBuf};
use std::process::Command;

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use enroll_station::ui::StationApp;

/// Set in the environment of the copy of this test binary that runs the
/// export test in a desktop without a portal.
const CHILD: &str = "ENROLL_STATION_UI_AUDIT_CHILD";

const EXPORT_TEST: &str =
    "without_a_portal_exports_go_to_documents_never_overwrite_and_report_in_the_window";

/// Binds the known request to the demo card, then opens the audit journal on it.
fn bind_and_open_audit(station: &mut Station) {
    prepare_bind(station);
    station.harness.get_by_label("Bind").click();
    wait_for(&mut station.harness, "the bind's result", |h| {
        shows(h, "is now bound to card")
    });
    station.harness.get_by_label("Audit journal").click();
    wait_for(&mut station.harness, "the audit records", |h| {
        shows(h, "2 most recent records")
    });
}

/// The text of every node in the audit window (a label keeps it in its value).
fn window_texts(harness: &Harness<'static, StationApp>) -> Vec<String> {
    let Some(window) = harness.query_by_role_and_label(Role::Window, "Audit journal") else {
        return Vec::new();
    };
    window
        .query_all_by(|_| true)
        .filter_map(|node| {
            let node = node.accesskit_node();
            // A label's text runs repeat its value.
            (node.role() != Role::TextRun).then(|| node.label().or_else(|| node.value()))?
        })
        .collect()
}

fn in_window(harness: &Harness<'static, StationApp>, text: &str) -> usize {
    window_texts(harness)
        .iter()
        .filter(|shown| shown.contains(text))
        .count()
}

/// `2026-12-04 14:02:11 +01:00` or `… UTC`: a local time to the second,
/// with its zone; the zone.
fn zone_of_time(text: &str) -> Option<&str> {
    let (clock, zone) = (text.get(..19)?, text.get(19..)?.strip_prefix(' ')?);
    let shape = clock.bytes().enumerate().all(|(i, b)| match i {
        4 | 7 => b == b'-',
        10 => b == b' ',
        13 | 16 => b == b':',
        _ => b.is_ascii_digit(),
    });
    let offset = zone.len() == 6
        && (zone.starts_with('+') || zone.starts_with('-'))
        && zone.as_bytes()[3] == b':';
    (shape && (zone == "UTC" || offset)).then_some(zone)
}

/// The text put on the clipboard in the frames after a click on the
/// first control named `label` (the newest row's, where rows share it).
fn copied_after_click(harness: &mut Harness<'static, StationApp>, label: &str) -> Vec<String> {
    harness
        .query_all_by_label(label)
        .next()
        .unwrap_or_else(|| panic!("no {label}"))
        .click();
    let mut copied = Vec::new();
    for _ in 0..3 {
        harness.step();
        copied.extend(
            harness
                .output()
                .platform_output
                .commands
                .iter()
                .filter_map(|command| match command {
                    egui::OutputCommand::CopyText(text) => Some(text.clone()),
                    _ => None,
                }),
        );
    }
    copied
}

#[test]
fn the_journal_names_the_person_operator_and_station_with_local_times() {
    let mut station = station();
    bind_and_open_audit(&mut station);
    let h = &mut station.harness;

    // Both rows, the attempt and the outcome, name the person first.
    assert_eq!(in_window(h, PERSON), 2, "{:#?}", window_texts(h));
    let operator = operator_name();
    assert!(
        in_window(h, &operator) >= 2,
        "operator {operator} not shown"
    );
    let station_name = enroll_station::audit::station_name();
    assert!(
        in_window(h, &station_name) >= 2,
        "station {station_name} not shown"
    );
    for header in [
        "Person",
        "Operator",
        "Supervisor",
        "Station",
        "Time (local)",
    ] {
        assert_eq!(
            window_texts(h).iter().filter(|t| *t == header).count(),
            1,
            "the {header} column"
        );
    }
    assert_eq!(in_window(h, "Time (UTC)"), 0, "times are local now");
    // What happened, in words.
    let texts = window_texts(h);
    assert!(texts.iter().any(|t| t == "Attempt"), "{texts:#?}");
    assert!(texts.iter().any(|t| t == "Bound"), "{texts:#?}");
    // A desk bind has no supervisor: the cell says so with a dash, not a blank.
    assert!(texts.iter().filter(|t| *t == "—").count() >= 2);

    // Every time names its zone, and it is this computer's.
    let zones: Vec<&str> = texts.iter().filter_map(|t| zone_of_time(t)).collect();
    assert_eq!(zones.len(), 2, "{texts:#?}");
    let now = time::OffsetDateTime::now_utc();
    let local = time::UtcOffset::local_offset_at(now).unwrap_or(time::UtcOffset::UTC);
    let expected = if local.is_utc() {
        "UTC".to_owned()
    } else {
        let (hours, minutes, _) = local.as_hms();
        format!(
            "{}{:02}:{:02}",
            if local.is_negative() { '-' } else { '+' },
            hours.unsigned_abs(),
            minutes.unsigned_abs()
        )
    };
    assert!(zones.iter().all(|zone| *zone == expected), "{zones:?}");

    // The GUIDs are there whole, and a click copies one.
    assert!(in_window(h, REQUEST) >= 2);
    let copied = copied_after_click(h, "Copy the request GUID");
    assert_eq!(copied, vec![REQUEST.to_owned()]);
    h.check_accessibility();
}

#[test]
fn a_supervised_bind_names_its_supervisor() {
    let mut station = supervised_station(&[supervisor_entry(SUPERVISOR, SUPERVISOR_PASSWORD)]);
    open_confirmation(&mut station);
    confirm_as(&mut station, SUPERVISOR, SUPERVISOR_PASSWORD);
    wait_for(&mut station.harness, "the bind's result", |h| {
        shows(h, "is now bound to card")
    });
    let h = &mut station.harness;
    h.get_by_label("Audit journal").click();
    wait_for(h, "the audit records", |h| {
        shows(h, "2 most recent records")
    });
    assert_eq!(in_window(h, SUPERVISOR), 2, "{:#?}", window_texts(h));
    assert_eq!(in_window(h, PERSON), 2);
    assert!(in_window(h, &operator_name()) >= 2);
}

#[test]
fn an_empty_journal_says_so_in_words() {
    let mut station = station();
    let h = &mut station.harness;
    h.run_steps(2);
    h.get_by_label("Audit journal").click();
    wait_for(h, "the empty journal", |h| {
        shows(h, "No binds recorded yet.")
    });
    assert_eq!(in_window(h, "Each bind at this station is written here"), 1);
    assert_eq!(
        in_window(h, &station.journal.display().to_string()),
        1,
        "the window names the journal it reads"
    );
}

#[test]
fn a_journal_that_cannot_be_opened_is_explained_and_not_exported() {
    // A directory where the journal file should be cannot be opened as a journal.
    let (_guard, path) = common::temp_journal();
    let dir = path.with_extension("dir");
    std::fs::create_dir_all(&dir).expect("a directory where the journal file should be");
    let (journal, problem) = enroll_station::audit::journal::open_for_window(Some(&dir), true);
    assert!(problem.is_some(), "a directory is not a journal");
    let mut station = station_with_journal(journal);
    let h = &mut station.harness;
    h.run_steps(2);
    h.get_by_label("Audit journal").click();
    wait_for(h, "the journal's problem", |h| {
        in_window(h, "The audit journal cannot be read") == 1
    });
    assert_eq!(
        in_window(h, &dir.display().to_string()),
        1,
        "the reason names the journal: {:#?}",
        window_texts(h)
    );
    assert!(
        !shows(h, "No binds recorded yet."),
        "no journal is not an empty one"
    );
    for export in ["Export CSV…", "Export JSON…"] {
        assert!(
            h.get_by_label(export).accesskit_node().is_disabled(),
            "{export} is disabled without a journal"
        );
    }
    assert!(
        h.state().state().notices.is_empty(),
        "the audit window says it, not the desk's notices"
    );
}

#[test]
fn without_a_portal_exports_go_to_documents_never_overwrite_and_report_in_the_window() {
    if std::env::var_os(CHILD).is_some() {
        export_without_a_portal();
        return;
    }
    // The station reads HOME, the XDG folders, the session bus and the
    // zone when it starts: a copy of this binary gets a desktop of its own
    // (no bus, so no portal; no display and no zenity; no file manager; a
    // zone 3½ hours east of UTC), without changing this process's environment.
    let home = tempfile::tempdir().expect("a temporary home");
    let documents = home.path().join("Documents");
    std::fs::create_dir(&documents).expect("a Documents folder");
    let config = home.path().join(".config");
    std::fs::create_dir(&config).expect("a config folder");
    std::fs::write(
        config.join("user-dirs.dirs"),
        "XDG_DOCUMENTS_DIR=\"$HOME/Documents\"\n",
    )
    .expect("the XDG user folders");
    let output = Command::new(std::env::current_exe().expect("this test binary"))
        .args([EXPORT_TEST, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", &config)
        .env("XDG_DATA_HOME", home.path().join(".local").join("share"))
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            format!("unix:path={}", home.path().join("no-bus").display()),
        )
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env("TZ", "XYZ-3:30")
        // Nothing to run: no zenity, and no xdg-open for "Open folder".
        .env("PATH", home.path().join("no-programs"))
        .output()
        .expect("the test binary runs");
    let report = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{report}");
    assert!(
        report.contains("1 passed"),
        "the child ran the test: {report}"
    );

    // Two files, the second numbered: the first was not overwritten.
    let names: Vec<String> = std::fs::read_dir(&documents)
        .expect("Documents")
        .map(|entry| {
            entry
                .expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    let first = names
        .iter()
        .find(|name| !name.ends_with("-2.csv"))
        .expect("the first export");
    assert!(
        first.starts_with("enroll-station-audit-") && first.ends_with(".csv"),
        "{first}"
    );
    assert!(
        names.contains(&first.replace(".csv", "-2.csv")),
        "the second is numbered: {names:?}"
    );
    for name in &names {
        let csv = std::fs::read_to_string(documents.join(name)).expect("an export");
        assert!(csv.starts_with("seq,time,event,"), "{csv}");
        assert!(csv.contains(PERSON), "the export names the person: {csv}");
        assert_eq!(csv.lines().count(), 3, "a header and the two records");
    }
}

/// The child's half: a bind, then two CSV exports with no dialog available.
fn export_without_a_portal() {
    let documents = PathBuf::from(std::env::var_os("HOME").expect("HOME")).join("Documents");
    let mut station = station();
    bind_and_open_audit(&mut station);
    let h = &mut station.harness;
    let texts = window_texts(h);
    let zones: Vec<&str> = texts.iter().filter_map(|t| zone_of_time(t)).collect();
    assert_eq!(zones, ["+03:30", "+03:30"], "local time here is UTC+3:30");

    h.get_by_label("Export CSV…").click();
    wait_for(h, "the first export's result", |h| {
        in_window(h, "Saved") > 0
    });
    let first = saved_path(h);
    assert_eq!(first.parent(), Some(documents.as_path()));
    assert_eq!(
        in_window(h, &first.display().to_string()),
        1,
        "the path is shown"
    );
    assert_eq!(
        in_window(h, "No file dialog is available on this desktop"),
        1,
        "{:#?}",
        window_texts(h)
    );
    // The bus this desktop names does not exist (or libdbus is not there at all).
    assert_eq!(
        in_window(h, "session bus") + in_window(h, "libdbus-1 is not installed"),
        1,
        "it says what is missing"
    );
    assert_eq!(in_window(h, "your Documents folder"), 1);
    let state = h.state().state();
    assert!(
        state.notices.is_empty(),
        "exports report in the audit window, not the desk: {:?}",
        state.notices
    );
    assert!(!shows(h, "Export cancelled"));

    let copied = copied_after_click(h, "Copy path");
    assert_eq!(copied, vec![first.display().to_string()]);
    // Without a program to open folders, the window says so and what to do.
    h.get_by_label("Open folder").click();
    wait_for(h, "Open folder's answer", |h| {
        in_window(h, "The folder could not be opened") == 1
    });
    assert_eq!(in_window(h, "Use Copy path"), 1);

    h.get_by_label("Export CSV…").click();
    wait_for(h, "the second export's result", |h| saved_path(h) != first);
    let second = saved_path(h);
    let expected = first.to_string_lossy().replace(".csv", "-2.csv");
    assert_eq!(second, Path::new(&expected));
    assert_eq!(in_window(h, &second.display().to_string()), 1);
    assert_eq!(
        in_window(h, &first.display().to_string()),
        0,
        "one result at a time"
    );
    h.check_accessibility();
}

fn saved_path(harness: &Harness<'static, StationApp>) -> PathBuf {
    let status = &harness.state().state().audit_status;
    status
        .saved()
        .map(Path::to_owned)
        .unwrap_or_else(|| panic!("no saved export: {status:?}"))
}
