//! `enroll-station audit` as support and auditors run it: the real binary on a
//! journal written through the library, intact and tampered with by hand.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use enroll_station::audit::{AttemptInfo, AuditJournal, Operator, Outcome, OutcomeInfo};
use enroll_station::domain::card::{Atr, CardId};
use serde_json::Value;
use uuid::Uuid;

const CARD_IDS: [&str; 3] = [
    "bc88f13f-83ba-4037-8262-46eba1291c6e",
    "1d8ac658-e065-92a0-85af-090b070b5d79",
    "767c1c46-2261-8bb3-2edf-05183c3d041a",
];

/// The person of each bind, as the desk showed them.
const PEOPLE: [&str; 3] = ["Elif Eriksson, Finance", "Jane Doe", "Zoë Ørsted"];

fn station(args: &[&str]) -> Output {
    let (_home, mut command) = common::binary::station();
    command.args(args).output().expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A journal of three binds (bound, failed with a correlation ID, refused):
/// six lines, attempt and outcome in turn.
fn journal(dir: &Path) -> PathBuf {
    let path = dir.join("audit.jsonl");
    let mut journal = AuditJournal::open(&path).expect("the journal opens");
    let outcomes = [
        (
            Outcome::Bound,
            OutcomeInfo {
                smartcard_uuid: Some(Uuid::from_u128(0x5c)),
                ..OutcomeInfo::default()
            },
        ),
        (
            Outcome::Failed,
            OutcomeInfo {
                correlation_id: Some("a1b2c3".into()),
                message: Some("The server refused, \"request not approved\"".into()),
                ..OutcomeInfo::default()
            },
        ),
        (
            Outcome::Refused,
            OutcomeInfo {
                message: Some("The card in the reader is not the card you selected.".into()),
                ..OutcomeInfo::default()
            },
        ),
    ];
    for (index, (outcome, info)) in outcomes.into_iter().enumerate() {
        let attempt = journal
            .record_attempt(AttemptInfo {
                station: "desk-7".into(),
                operator: Operator {
                    os_user: Some("alice".into()),
                    principal: Some("alice@CONTOSO.COM".into()),
                },
                supervisor: None,
                request_id: Uuid::from_u128(index as u128 + 1),
                person: Some(PEOPLE[index].into()),
                card_id: CardId::parse_cm_string(CARD_IDS[index]).expect("a card ID"),
                atr: Atr::parse_hex("3b8d0180fba000000397425446590301c8").expect("an ATR"),
                reader: "Virtual PCD 00 00".into(),
                message: None,
                api_base: Some("https://cm.contoso.com/CertificateManagement/api/v1.0/".into()),
            })
            .expect("the attempt is recorded");
        journal
            .record_outcome(attempt, outcome, info)
            .expect("the outcome is recorded");
    }
    path
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .expect("the journal is readable")
        .lines()
        .map(str::to_owned)
        .collect()
}

fn write_lines(path: &Path, lines: &[String]) {
    std::fs::write(path, lines.join("\n") + "\n").expect("the journal is writable");
}

/// Runs `audit verify` on a tampered journal and returns its stderr.
fn verify_fails(path: &Path) -> String {
    let output = station(&["audit", "verify", &path.display().to_string()]);
    assert!(
        !output.status.success(),
        "a tampered journal verified: {}",
        text(&output.stdout)
    );
    text(&output.stderr)
}

#[test]
fn an_intact_journal_verifies_with_a_one_line_summary() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = journal(dir.path());
    let output = station(&["audit", "verify", &path.display().to_string()]);
    let stdout = text(&output.stdout);
    assert!(
        output.status.success(),
        "exit {:?}, stderr: {}",
        output.status,
        text(&output.stderr)
    );
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.contains("intact: 6 records (3 attempts, 3 outcomes, 0 unfinished)"));
}

#[test]
fn the_global_audit_file_option_names_the_journal() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = journal(dir.path());
    let output = station(&[
        "--audit-file",
        &path.display().to_string(),
        "audit",
        "verify",
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("6 records"));
}

#[test]
fn a_changed_card_id_names_its_line() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = journal(dir.path());
    let mut lines = lines(&path);
    // One character of the second attempt's card ID (line 3).
    let edited = lines[2].replacen("1d8ac658", "1d8ac659", 1);
    assert_ne!(edited, lines[2]);
    lines[2] = edited;
    write_lines(&path, &lines);
    let stderr = verify_fails(&path);
    assert!(stderr.contains("broken: line 3 does not match"), "{stderr}");
}

#[test]
fn a_removed_record_names_the_line_where_it_is_missing() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = journal(dir.path());
    let mut lines = lines(&path);
    lines.remove(2);
    write_lines(&path, &lines);
    let stderr = verify_fails(&path);
    assert!(
        stderr.contains("line 3 holds record 4 where record 3 belongs"),
        "{stderr}"
    );
}

#[test]
fn swapped_records_name_the_first_one_out_of_place() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = journal(dir.path());
    let mut lines = lines(&path);
    lines.swap(2, 3);
    write_lines(&path, &lines);
    let stderr = verify_fails(&path);
    assert!(
        stderr.contains("line 3 holds record 4 where record 3 belongs"),
        "{stderr}"
    );
}

#[test]
fn a_missing_journal_is_named() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("nowhere.jsonl");
    let stderr = verify_fails(&path);
    assert!(stderr.contains("There is no audit journal at"), "{stderr}");
}

#[test]
fn csv_export_has_a_header_and_a_quoted_row_per_record() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = journal(dir.path());
    let output = station(&[
        "audit",
        "export",
        "--format",
        "csv",
        &path.display().to_string(),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let csv = text(&output.stdout);
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 7, "{csv}");
    assert!(rows[0].starts_with("seq,time,event,outcome,attempt_id,station,"));
    assert!(rows[2].starts_with("2,"));
    assert!(rows[2].contains(",outcome,bound,"));
    assert!(rows[3].contains(CARD_IDS[1]));
    assert!(
        rows[4].contains(",\"The server refused, \"\"request not approved\"\"\","),
        "{}",
        rows[4]
    );
}

#[test]
fn json_export_to_a_file_is_an_array_of_the_records() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = journal(dir.path());
    let out = dir.path().join("export.json");
    let output = station(&[
        "audit",
        "export",
        "--format",
        "json",
        "--output",
        &out.display().to_string(),
        &path.display().to_string(),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let exported: Value =
        serde_json::from_slice(&std::fs::read(&out).expect("the export was written"))
            .expect("the export is JSON");
    let records = exported.as_array().expect("an array");
    assert_eq!(records.len(), 6);
    assert_eq!(records[0]["event"], "attempt");
    assert_eq!(records[0]["prev_hash"], "0".repeat(64));
    assert_eq!(records[1]["outcome"], "bound");
    assert_eq!(records[1]["attempt_id"], records[0]["attempt_id"]);
    assert_eq!(records[3]["correlation_id"], "a1b2c3");
    assert_eq!(records[4]["card_id"], CARD_IDS[2]);
    assert_eq!(records[5]["outcome"], "refused");
}

#[test]
fn a_tampered_journal_is_not_exported() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = journal(dir.path());
    let mut lines = lines(&path);
    lines.remove(4);
    write_lines(&path, &lines);
    let out = dir.path().join("export.csv");
    let output = station(&[
        "audit",
        "export",
        "--format",
        "csv",
        "--output",
        &out.display().to_string(),
        &path.display().to_string(),
    ]);
    assert!(!output.status.success());
    assert!(text(&output.stderr).contains("line 5"));
    assert!(!out.exists(), "no export file is left behind");
}

#[test]
fn exports_name_the_person_before_the_guids() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = journal(dir.path());
    let output = station(&[
        "audit",
        "export",
        "--format",
        "csv",
        &path.display().to_string(),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let csv = text(&output.stdout);
    let rows: Vec<Vec<&str>> = csv.lines().map(|row| row.split(',').collect()).collect();
    let person = rows[0]
        .iter()
        .position(|h| *h == "person")
        .expect("a person column");
    let request = rows[0]
        .iter()
        .position(|h| *h == "request_id")
        .expect("a request column");
    assert!(person < request, "names first: {:?}", rows[0]);
    // Attempt and outcome both name the person; "Elif Eriksson, Finance" is quoted.
    assert!(csv.contains(",\"Elif Eriksson, Finance\","), "{csv}");
    assert_eq!(rows[3][person], PEOPLE[1]);
    assert_eq!(rows[4][person], PEOPLE[1]);
    assert_eq!(rows[6][person], PEOPLE[2]);

    let output = station(&[
        "audit",
        "export",
        "--format",
        "json",
        &path.display().to_string(),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let records: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let records = records.as_array().expect("an array");
    let people: Vec<&str> = records
        .iter()
        .map(|r| r["person"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        people,
        [
            PEOPLE[0], PEOPLE[0], PEOPLE[1], PEOPLE[1], PEOPLE[2], PEOPLE[2]
        ]
    );
}

#[test]
fn a_journal_from_before_names_were_journalled_verifies_and_exports() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = journal(dir.path());
    // The same journal as an older station wrote it: no person field,
    // every line hashed again as it would have been then.
    let mut prev = "0".repeat(64);
    let old: Vec<String> = lines(&path)
        .iter()
        .map(|line| {
            let mut record: serde_json::Map<String, Value> =
                serde_json::from_str(line).expect("a record");
            assert!(record.remove("person").is_some());
            // Nor the server each attempt went to.
            record.remove("api_base");
            record.insert("prev_hash".into(), Value::String(prev.clone()));
            let line = serde_json::to_string(&record).expect("encodes");
            prev = sha256(&line);
            line
        })
        .collect();
    write_lines(&path, &old);
    // Nor the head marker beside it: the older station kept none. (Left
    // in place, it would rightly call record 6 rewritten.)
    std::fs::remove_file(enroll_station::audit::head::head_path(&path)).expect("the marker");
    let output = station(&["audit", "verify", &path.display().to_string()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("6 records"));
    assert!(
        text(&output.stderr).contains("no head marker"),
        "verify says what it cannot check: {}",
        text(&output.stderr)
    );
    let output = station(&[
        "audit",
        "export",
        "--format",
        "csv",
        &path.display().to_string(),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let csv = text(&output.stdout);
    assert!(csv.lines().next().is_some_and(|h| h.contains(",person,")));
    assert!(!csv.contains("Jane Doe"), "{csv}");
}

/// The SHA-256 of a line, in hex, as the journal chains it.
fn sha256(line: &str) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, line.as_bytes()))
}
