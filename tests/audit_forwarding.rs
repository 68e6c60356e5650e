//! The journal leaves the station as it is written, on real parts: records
//! arrive in a real journald (its own namespace, read back with journalctl)
//! and a real rsyslog over TLS, each with its sequence number and hash; a
//! deleted journal and a cut tail are reported by `audit verify` and the
//! next writer; and leaving the kiosk, going back to it and opening
//! Settings are records.
//!
//! journald and rsyslog need root and their packages (`scripts/deps.sh
//! test`); without them these tests say so and pass, except under CI=true,
//! where they fail.

mod common;

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::window::*;
use egui_kittest::kittest::Queryable as _;
use enroll_station::audit::forward::{self, ForwardSettings, syslog::SyslogTarget};
use enroll_station::audit::{
    AttemptInfo, AuditJournal, ControlKind, EventKind, Operator, Outcome, OutcomeInfo, StationEvent,
};
use enroll_station::domain::card::{Atr, CardId};
use uuid::Uuid;

/// The forwarder is one per process: one test at a time installs it.
static FORWARDER: Mutex<()> = Mutex::new(());

const JOURNALD: &str = "/lib/systemd/systemd-journald";
const RSYSLOGD: &str = "/usr/sbin/rsyslogd";

/// Whether a daemon can run here; under CI=true a missing one fails the test.
fn available(daemon: &str) -> bool {
    let root = unsafe { libc::geteuid() } == 0;
    if Path::new(daemon).exists() && root {
        return true;
    }
    let why = format!(
        "{daemon} cannot run here (installed: {}, root: {root}); `scripts/deps.sh test` as root",
        Path::new(daemon).exists()
    );
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{why}");
    eprintln!("SKIPPED: {why}");
    false
}

/// A child process killed when dropped.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, bytes))
}

fn attempt(n: u8) -> AttemptInfo {
    AttemptInfo {
        station: "desk-7".into(),
        operator: Operator {
            os_user: Some("alice".into()),
            principal: Some("alice@CONTOSO.COM".into()),
        },
        supervisor: None,
        request_id: Uuid::from_u128(u128::from(n)),
        person: Some(format!("Person {n}")),
        card_id: CardId::from_raw([n; 16]),
        atr: Atr::from_bytes(vec![0x3b, 0x8d, n]),
        reader: "Reader 0".into(),
        message: None,
        api_base: Some("https://cm.contoso.com/certificatemanagement/api/v1.0/".into()),
    }
}

/// A bind, a kiosk left by a supervisor: what every destination must carry.
fn write_records(path: &Path) {
    let mut journal = AuditJournal::open(path).expect("the journal opens");
    let id = journal.record_attempt(attempt(1)).expect("attempt");
    journal
        .record_outcome(id, Outcome::Bound, OutcomeInfo::default())
        .expect("outcome");
    journal
        .record_event(StationEvent::new(
            ControlKind::KioskLeft,
            Operator::from_os(),
            Some("Sam Supervisor".into()),
            "Kiosk mode left for the staff desk by supervisor Sam Supervisor\nsecond line",
        ))
        .expect("kiosk left");
}

/// Each line of the journal and its hash.
fn lines_and_hashes(path: &Path) -> Vec<(String, String)> {
    std::fs::read_to_string(path)
        .expect("the journal is readable")
        .lines()
        .map(|line| (line.to_owned(), sha256_hex(line.as_bytes())))
        .collect()
}

#[test]
fn records_arrive_in_a_real_journald_with_their_hashes_and_a_cut_journal_is_said() {
    if !available(JOURNALD) {
        return;
    }
    let _one = FORWARDER.lock().unwrap_or_else(|e| e.into_inner());
    let namespace = format!("esfwd{}", std::process::id());
    let socket = PathBuf::from(format!("/run/systemd/journal.{namespace}/socket"));
    let _journald = Reaped(
        Command::new(JOURNALD)
            .arg(&namespace)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("journald starts"),
    );
    let _cleanup = Cleanup(namespace.clone());
    wait_until("journald's socket", Duration::from_secs(10), || {
        socket.exists()
    });

    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("audit.jsonl");
    forward::install(
        &path,
        &ForwardSettings {
            journald: Some(socket.clone()),
            ..ForwardSettings::default()
        },
    );
    write_records(&path);
    // The tail is cut: the next writer says so, in the journal and in journald.
    let written = lines_and_hashes(&path);
    std::fs::write(&path, format!("{}\n", written[0].0)).expect("cut");
    drop(AuditJournal::open(&path).expect("reopens"));
    let status = forward::flush(Duration::from_secs(10)).expect("forwarding runs");
    forward::uninstall();
    assert!(!status.troubled(), "{status:?}");
    assert_eq!(status.sinks[0].last_seq, Some(2), "{status:?}");

    let read = || -> Vec<serde_json::Value> {
        let out = Command::new("journalctl")
            .args([
                &format!("--namespace={namespace}"),
                "-o",
                "json",
                "--no-pager",
                "SYSLOG_IDENTIFIER=enroll-station",
            ])
            .output()
            .expect("journalctl runs");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    };
    let mut entries = Vec::new();
    wait_until("four records in journald", Duration::from_secs(10), || {
        entries = read();
        entries.len() >= 4
    });
    // The three records as first written, then the gap record (sequence 2 again).
    let gap = lines_and_hashes(&path)[1].clone();
    let expected = [&written[0], &written[1], &written[2], &gap];
    for (entry, (line, hash)) in entries.iter().zip(expected) {
        let record: serde_json::Value = serde_json::from_str(line).expect("a record");
        let field = |name: &str| entry[name].as_str().unwrap_or_default().to_owned();
        assert_eq!(field("ENROLL_STATION_HASH"), *hash, "{entry}");
        assert_eq!(
            field("ENROLL_STATION_SEQ"),
            record["seq"].to_string(),
            "{entry}"
        );
        assert_eq!(field("ENROLL_STATION_RECORD"), *line, "the exact line");
        let kind =
            EventKind::from_name(record["event"].as_str().expect("event")).expect("a known kind");
        assert_eq!(field("MESSAGE_ID"), forward::message_id(kind));
        assert_eq!(field("ENROLL_STATION_EVENT"), kind.as_str());
    }
    assert_eq!(
        entries[0]["ENROLL_STATION_REQUEST"],
        Uuid::from_u128(1).to_string().as_str()
    );
    assert_eq!(entries[1]["ENROLL_STATION_OUTCOME"], "bound");
    assert_eq!(entries[2]["ENROLL_STATION_SUPERVISOR"], "Sam Supervisor");
    assert_eq!(entries[3]["ENROLL_STATION_EVENT"], "journal_gap");
    assert_eq!(entries[3]["PRIORITY"], "2", "a gap is critical");
    assert!(
        entries[3]["MESSAGE"]
            .as_str()
            .is_some_and(|m| m.contains("cut off")),
        "{}",
        entries[3]
    );
}

/// Removes the namespace's journal files.
struct Cleanup(String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Ok(dirs) = std::fs::read_dir("/var/log/journal") {
            for dir in dirs.flatten() {
                if dir
                    .file_name()
                    .to_string_lossy()
                    .ends_with(&format!(".{}", self.0))
                {
                    let _ = std::fs::remove_dir_all(dir.path());
                }
            }
        }
    }
}

#[test]
fn records_arrive_at_a_real_rsyslog_over_tls_with_their_hashes() {
    if !available(RSYSLOGD) {
        return;
    }
    let _one = FORWARDER.lock().unwrap_or_else(|e| e.into_inner());
    let pki = common::tls::TestPki::new();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let received = dir.path().join("received.log");
    let config = dir.path().join("rsyslog.conf");
    std::fs::write(
        &config,
        format!(
            r#"global(workDirectory="{dir}" defaultNetstreamDriver="ossl"
  defaultNetstreamDriverCAFile="{ca}" defaultNetstreamDriverCertFile="{cert}"
  defaultNetstreamDriverKeyFile="{key}")
module(load="imtcp" streamDriver.name="ossl" streamDriver.mode="1" streamDriver.authMode="anon")
input(type="imtcp" address="127.0.0.1" port="{port}")
template(name="fields" type="string" string="%msgid%|%structured-data%|%msg%\n")
action(type="omfile" file="{received}" template="fields")
"#,
            dir = dir.path().display(),
            ca = pki.ca.display(),
            cert = pki.good.cert.display(),
            key = pki.good.key.display(),
            received = received.display(),
        ),
    )
    .expect("config");
    let log = dir.path().join("rsyslogd.log");
    let _rsyslog = Reaped(
        Command::new(RSYSLOGD)
            .arg("-n")
            .arg("-f")
            .arg(&config)
            .arg("-i")
            .arg(dir.path().join("rsyslogd.pid"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log"))
            .spawn()
            .expect("rsyslogd starts"),
    );
    wait_until("rsyslog to listen", Duration::from_secs(10), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });

    let target = SyslogTarget {
        host: "localhost".into(),
        port,
        ca_files: vec![pki.ca.clone()],
    };
    let settings = ForwardSettings {
        syslog: Some(target.clone()),
        ..ForwardSettings::default()
    };
    let probed = forward::probe(&settings);
    assert!(probed.iter().all(|(_, r)| r.is_ok()), "{probed:?}");
    let path = dir.path().join("audit.jsonl");
    forward::install(&path, &settings);
    write_records(&path);
    let status = forward::flush(Duration::from_secs(10)).expect("forwarding runs");
    forward::uninstall();
    assert!(!status.troubled(), "{status:?}");

    let written = lines_and_hashes(&path);
    let mut got: Vec<String> = Vec::new();
    wait_until("three records at rsyslog", Duration::from_secs(10), || {
        got = std::fs::read(&received)
            .map(|b| {
                BufReader::new(&b[..])
                    .lines()
                    .map_while(Result::ok)
                    .collect()
            })
            .unwrap_or_default();
        got.len() >= 3
    });
    for (got, (line, hash)) in got.iter().zip(&written) {
        let mut parts = got.splitn(3, '|');
        let (msgid, data, msg) = (
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default().trim_start(),
        );
        let record: serde_json::Value = serde_json::from_str(line).expect("a record");
        assert_eq!(msgid, record["event"].as_str().expect("event"), "{got}");
        assert!(data.starts_with("[enroll@32473 "), "{got}");
        assert!(data.contains(&format!("hash=\"{hash}\"")), "{got}");
        assert!(
            data.contains(&format!("seq=\"{}\"", record["seq"])),
            "{got}"
        );
        assert_eq!(msg, line, "the message is the journal line");
        assert_eq!(sha256_hex(msg.as_bytes()), *hash);
    }

    // A receiver that is gone: the record waits and is counted, never lost
    // from the journal, and binding is not held up.
    drop(_rsyslog);
    forward::install(&path, &settings);
    let started = Instant::now();
    let mut journal = AuditJournal::open(&path).expect("reopens");
    let _ = journal.record_attempt(attempt(2)).expect("written at once");
    assert!(started.elapsed() < Duration::from_secs(2));
    wait_until("the failure to show", Duration::from_secs(15), || {
        forward::status().is_some_and(|s| s.troubled())
    });
    let line = forward::status().expect("status").line();
    assert!(line.contains("delivery is failing"), "{line}");
    assert!(line.contains("1 waiting"), "{line}");
    forward::uninstall();
}

fn station_binary(args: &[&str]) -> std::process::Output {
    let (_home, mut command) = common::binary::station();
    command.args(args).output().expect("the station runs")
}

#[test]
fn a_deleted_journal_and_a_cut_tail_are_reported_by_verify() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("audit.jsonl");
    let file = path.to_str().expect("UTF-8");
    write_records(&path);
    let intact = station_binary(&["audit", "verify", file]);
    assert!(intact.status.success(), "{intact:?}");

    let lines = lines_and_hashes(&path);
    std::fs::write(&path, format!("{}\n", lines[0].0)).expect("cut");
    let cut = station_binary(&["audit", "verify", file]);
    let said = String::from_utf8_lossy(&cut.stderr);
    assert!(!cut.status.success(), "{said}");
    assert!(said.contains("its last 2 records were cut off"), "{said}");

    std::fs::remove_file(&path).expect("deleted");
    let deleted = station_binary(&["audit", "verify", file]);
    let said = String::from_utf8_lossy(&deleted.stderr);
    assert!(!deleted.status.success(), "{said}");
    assert!(said.contains("the journal file is missing"), "{said}");
    assert!(said.contains("3 records"), "{said}");

    // The next writer starts again, with a record saying so; verify keeps saying it.
    drop(AuditJournal::open(&path).expect("opens"));
    let again = station_binary(&["audit", "verify", file]);
    let said = String::from_utf8_lossy(&again.stderr);
    assert!(!again.status.success(), "{said}");
    assert!(said.contains("record 1 records a gap"), "{said}");
}

#[test]
fn every_kind_of_record_verifies_and_exports() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("audit.jsonl");
    write_records(&path);
    let mut journal = AuditJournal::open(&path).expect("reopens");
    let controls = [
        ControlKind::SettingsSaved,
        ControlKind::SupervisorRefused,
        ControlKind::SupervisorLockedOut,
        ControlKind::StationStarted,
        ControlKind::KioskLeft,
        ControlKind::KioskResumed,
        ControlKind::SettingsOpened,
        ControlKind::ReconcileAlarm,
        ControlKind::HeadMarkerCreated,
        ControlKind::BatchStarted,
        ControlKind::BatchMember,
        ControlKind::BatchFinished,
    ];
    let batch = uuid::Uuid::from_u128(0xba7c4);
    for kind in controls {
        let mark = matches!(
            kind,
            ControlKind::BatchStarted | ControlKind::BatchMember | ControlKind::BatchFinished
        )
        .then(|| enroll_station::audit::BatchMark {
            id: batch,
            members: (kind == ControlKind::BatchStarted).then(|| vec![uuid::Uuid::from_u128(1)]),
            ..Default::default()
        });
        journal
            .record_event(StationEvent {
                batch: mark,
                ..StationEvent::new(
                    kind,
                    Operator::from_os(),
                    Some(SUPERVISOR.into()),
                    format!("a {:?} record", EventKind::from(kind)),
                )
            })
            .expect("written");
    }
    drop(journal);
    let file = path.to_str().expect("UTF-8");
    let verified = station_binary(&["audit", "verify", file]);
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stderr)
    );
    let json = station_binary(&["audit", "export", "--format", "json", file]);
    assert!(json.status.success(), "{json:?}");
    let exported: Vec<serde_json::Value> =
        serde_json::from_slice(&json.stdout).expect("a JSON array");
    let csv = station_binary(&["audit", "export", "--format", "csv", file]);
    assert!(csv.status.success(), "{csv:?}");
    let csv = String::from_utf8_lossy(&csv.stdout).into_owned();
    for kind in controls.map(EventKind::from) {
        let record = exported
            .iter()
            .find(|r| r["event"] == kind.as_str())
            .unwrap_or_else(|| panic!("{kind:?} is exported"));
        assert_eq!(record["supervisor"], SUPERVISOR, "who did it: {record}");
        assert!(record["operator"]["os_user"].is_string(), "{record}");
        assert!(csv.contains(&format!(",{},", kind.as_str())), "{csv}");
    }
    let started = exported
        .iter()
        .find(|r| r["event"] == "batch_started")
        .expect("the batch's start is exported");
    assert_eq!(started["batch_id"], batch.to_string().as_str());
    assert_eq!(
        started["members"][0],
        uuid::Uuid::from_u128(1).to_string().as_str()
    );
    assert!(
        csv.lines()
            .any(|row| row.trim_end().ends_with(&format!(",{batch}"))),
        "the batch ID ends its CSV rows: {csv}"
    );
}

fn events(path: &Path) -> Vec<String> {
    if !path.exists() {
        return Vec::new();
    }
    journal_lines(path)
        .iter()
        .map(|r| r["event"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn leaving_the_kiosk_going_back_and_opening_settings_are_records() {
    let mut station = kiosk_station(60, &[supervisor_entry(SUPERVISOR, SUPERVISOR_PASSWORD)]);
    let journal = station.journal.clone();
    let h = &mut station.harness;
    h.get_by_label("Staff").click_accesskit();
    wait_for(h, "the staff sign-in", |h| shows(h, "Staff sign-in"));
    set_field(h, "Supervisor name", SUPERVISOR);
    set_field(h, "Password", SUPERVISOR_PASSWORD);
    h.get_by_label("Leave kiosk mode").click_accesskit();
    wait_for(h, "kiosk_left in the journal", |_| {
        events(&journal).contains(&"kiosk_left".to_owned())
    });
    let left = journal_lines(&journal)
        .into_iter()
        .find(|r| r["event"] == "kiosk_left")
        .expect("the record");
    assert_eq!(left["supervisor"], SUPERVISOR);
    assert!(left["operator"]["os_user"].is_string(), "{left}");

    // The record is written by the worker, which may be quicker than the
    // frame that draws the staff desk: wait for the desk itself.
    wait_for(h, "the staff desk", |h| {
        h.query_by_label("Settings").is_some()
    });
    // At the staff desk of a kiosk, Settings asks a supervisor again.
    press(h, "Settings");
    wait_for(h, "the supervisor dialog", |h| {
        shows(h, "Confirm and open Settings")
    });
    set_field(h, "Supervisor name", SUPERVISOR);
    set_field(h, "Password", SUPERVISOR_PASSWORD);
    press(h, "Confirm and open Settings");
    wait_for(h, "settings_opened in the journal", |_| {
        events(&journal).contains(&"settings_opened".to_owned())
    });
    let opened = journal_lines(&journal)
        .into_iter()
        .find(|r| r["event"] == "settings_opened")
        .expect("the record");
    assert_eq!(opened["supervisor"], SUPERVISOR);
    wait_for(h, "the Settings view", |h| shows(h, "Server address"));
    press(h, "Back to kiosk");
    wait_for(h, "kiosk_resumed in the journal", |_| {
        events(&journal).contains(&"kiosk_resumed".to_owned())
    });
    let resumed = journal_lines(&journal)
        .into_iter()
        .find(|r| r["event"] == "kiosk_resumed")
        .expect("the record");
    assert!(
        resumed["message"]
            .as_str()
            .is_some_and(|m| m.contains("Back to kiosk")),
        "{resumed}"
    );
    assert_eq!(
        resumed["supervisor"], SUPERVISOR,
        "the supervisor who had the desk is named: {resumed}"
    );
    assert!(
        enroll_station::audit::verify(&journal).is_ok(),
        "the records chain"
    );
}

#[test]
fn check_says_in_its_json_which_forwarding_destination_is_unreachable() {
    let emulator = enroll_station::cm::emulator::Emulator::start_on_thread(
        enroll_station::cm::emulator::EmulatorConfig::default(),
    )
    .expect("the emulator starts on loopback");
    let dir = tempfile::tempdir().expect("a temporary directory");
    // A loopback port nobody listens on: the syslog receiver is down.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let config = dir.path().join("station.toml");
    std::fs::write(
        &config,
        format!(
            "server = \"{}\"\n\n[audit_forwarding]\njournald = false\nsyslog = \"127.0.0.1:{closed}\"\n",
            emulator.base_url()
        ),
    )
    .expect("the configuration");
    let output = station_binary(&[
        "--config",
        config.to_str().expect("UTF-8"),
        "check",
        "--json",
    ]);
    assert!(!output.status.success(), "a destination is down");
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("one JSON document on stdout");
    assert!(
        report["steps"].is_array(),
        "the connection's steps: {report}"
    );
    let destinations = report["audit_forwarding"]
        .as_array()
        .expect("the destinations");
    assert_eq!(destinations.len(), 1, "{report}");
    assert_eq!(destinations[0]["reachable"], false, "{report}");
    assert!(
        destinations[0]["destination"]
            .as_str()
            .is_some_and(|d| d.contains(&closed.to_string())),
        "{report}"
    );
    assert!(
        destinations[0]["problem"]
            .as_str()
            .is_some_and(|p| !p.is_empty())
    );
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("cannot be forwarded"), "{said}");
}
