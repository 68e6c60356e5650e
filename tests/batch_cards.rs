//! Issue 22's batch on real parts: the `batch` command, both vpcd slots read
//! through pcscd with virtual cards a feeder inserts and removes, and the
//! CM emulator over loopback HTTP. Each request is bound once, each card
//! once; a refused card leaves its request for the next card; a card pulled
//! mid-bind is recorded; a lost answer is reconciled, never POSTed twice;
//! SIGKILL mid-batch, then the same command resumes and finishes the queue.
//!
//! Needs pcscd with the vpcd driver (`scripts/deps.sh test`); under CI=true
//! a missing one fails the test.

mod common;

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use common::binary::StationHome;
use common::vpcd::{FIRST_PORT, SECOND_PORT, insert, take_slots, wait_until};
use enroll_station::card::virtual_card::VirtualCard;
use enroll_station::cm::emulator::{Emulator, EmulatorConfig, Faults};
use enroll_station::domain::card::CardId;
use enroll_station::domain::request::Request;
use enroll_station::domain::request::SmartcardStatus;
use serde_json::Value;

/// How long a test waits for the batch to report a card.
const LINE_DEADLINE: Duration = Duration::from_secs(60);

fn emulator() -> Emulator {
    Emulator::start_on_thread(EmulatorConfig {
        requests: 40,
        ..EmulatorConfig::default()
    })
    .expect("the emulator starts on loopback")
}

/// The first `n` requests that can take a card, in the emulator's order.
fn bindable(emulator: &Emulator, n: usize) -> Vec<Request> {
    let found: Vec<Request> = emulator
        .requests()
        .into_iter()
        .filter(Request::is_bindable)
        .take(n)
        .collect();
    assert_eq!(found.len(), n, "the demo data has {n} bindable requests");
    found
}

/// A card ID for card number `n` of a test.
fn card(n: u8) -> [u8; 16] {
    let mut raw = [0x5au8; 16];
    raw[0] = 0xba;
    raw[15] = n;
    raw
}

fn cm_id(raw: [u8; 16]) -> String {
    CardId::from_raw(raw).to_cm_string()
}

/// The `batch` command running, its JSON lines collected as they come.
struct Running {
    child: Child,
    lines: Arc<Mutex<Vec<Value>>>,
    stderr: Arc<Mutex<String>>,
}

/// The batch's list: one request GUID per line, in order.
fn cohort_file(home: &StationHome, requests: &[Request]) -> std::path::PathBuf {
    let file = home.root().join("cohort.txt");
    let text: String = requests.iter().map(|r| format!("{}\n", r.uuid)).collect();
    std::fs::write(&file, text).expect("the requests file is written");
    file
}

impl Running {
    fn start(home: &StationHome, url: &str, requests: &[Request], extra: &[&str]) -> Running {
        let file = cohort_file(home, requests);
        let file = file.to_string_lossy().into_owned();
        let mut command = home.command();
        command
            .args(["--server", url, "batch", "--requests", &file, "--json"])
            .args(["--reader", "Virtual PCD*"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("the batch command starts");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stdout = child.stdout.take().expect("stdout is piped");
        let collected = Arc::clone(&lines);
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
                collected.lock().expect("lines").push(value);
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let err_pipe = child.stderr.take().expect("stderr is piped");
        let collected = Arc::clone(&stderr);
        thread::spawn(move || {
            for line in BufReader::new(err_pipe).lines().map_while(Result::ok) {
                let mut all = collected.lock().expect("stderr");
                all.push_str(&line);
                all.push('\n');
            }
        });
        Running {
            child,
            lines,
            stderr,
        }
    }

    fn lines(&self) -> Vec<Value> {
        self.lines.lock().expect("lines").clone()
    }

    fn stderr(&self) -> String {
        self.stderr.lock().expect("stderr").clone()
    }

    /// Waits for the line about `card` with `outcome`, and returns it.
    fn wait_for(&self, card: [u8; 16], outcome: &str) -> Value {
        let id = cm_id(card);
        let mut found = None;
        let seen = wait_until(LINE_DEADLINE, || {
            found = self
                .lines()
                .into_iter()
                .find(|l| l["card_id"] == id.as_str() && l["outcome"] == outcome);
            found.is_some()
        });
        assert!(
            seen,
            "no {outcome} line for card {id}; lines: {:?}\nstderr: {}",
            self.lines(),
            self.stderr()
        );
        found.unwrap_or_default()
    }

    /// Waits for the command to end; returns whether it succeeded, and its summary.
    fn finish(mut self) -> (bool, Value, Vec<Value>) {
        let mut status = None;
        let ended = wait_until(LINE_DEADLINE, || {
            status = self.child.try_wait().ok().flatten();
            status.is_some()
        });
        if !ended {
            let _ = self.child.kill();
            panic!("the batch did not end; stderr: {}", self.stderr());
        }
        // The reader threads drain the pipes after exit.
        thread::sleep(Duration::from_millis(200));
        let lines = self.lines();
        let summary = lines
            .iter()
            .find(|l| l.get("summary").is_some())
            .cloned()
            .unwrap_or_else(|| panic!("no summary line: {lines:?}\n{}", self.stderr()));
        (status.is_some_and(|s| s.success()), summary, lines)
    }
}

fn ended_lines(lines: &[Value], outcome: &str) -> Vec<Value> {
    lines
        .iter()
        .filter(|l| l["outcome"] == outcome)
        .cloned()
        .collect()
}

fn verify(home: &StationHome) -> String {
    let output = home.run(&["audit", "verify"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::read_to_string(home.default_journal()).expect("the journal is readable")
}

#[test]
fn two_readers_bind_four_requests_each_once_with_each_card_once() {
    let Some(_slots) = take_slots() else { return };
    let emulator = emulator();
    let url = emulator.base_url();
    let home = StationHome::new();
    let requests = bindable(&emulator, 4);
    // Two cards are in the readers before the batch starts: they are used.
    let mut first = Some(insert(VirtualCard::gids(card(1)), FIRST_PORT));
    let mut second = Some(insert(VirtualCard::gids(card(2)), SECOND_PORT));
    let batch = Running::start(&home, &url, &requests, &["--timeout-secs", "30"]);

    // The feeder: each reader gets its next card once its card is bound.
    batch.wait_for(card(1), "bound");
    drop(first.take());
    first = Some(insert(VirtualCard::gids(card(3)), FIRST_PORT));
    batch.wait_for(card(2), "bound");
    drop(second.take());
    second = Some(insert(VirtualCard::gids(card(4)), SECOND_PORT));
    batch.wait_for(card(3), "bound");
    batch.wait_for(card(4), "bound");
    let (success, summary, lines) = batch.finish();
    drop((first, second));

    assert!(success, "every request bound: {lines:?}");
    assert_eq!(
        summary["summary"],
        serde_json::json!({"bound": 4, "refused": 0, "failed": 0, "skipped": 0, "remaining": 0})
    );
    let bound = ended_lines(&lines, "bound");
    assert_eq!(bound.len(), 4, "{lines:?}");
    let mut request_ids: Vec<&str> = bound
        .iter()
        .filter_map(|l| l["request_id"].as_str())
        .collect();
    request_ids.sort_unstable();
    request_ids.dedup();
    assert_eq!(request_ids.len(), 4, "each request once: {bound:?}");
    let mut cards: Vec<&str> = bound.iter().filter_map(|l| l["card_id"].as_str()).collect();
    cards.sort_unstable();
    cards.dedup();
    assert_eq!(cards.len(), 4, "each card once: {bound:?}");
    for line in &bound {
        assert_eq!(line["card_kind"], "gids");
        assert!(
            line["reader"]
                .as_str()
                .is_some_and(|r| r.starts_with("Virtual PCD"))
        );
        assert!(line["smartcard_uuid"].as_str().is_some(), "{line}");
    }
    // Both readers worked.
    let readers: std::collections::BTreeSet<&str> =
        bound.iter().filter_map(|l| l["reader"].as_str()).collect();
    assert_eq!(readers.len(), 2, "{bound:?}");
    assert_eq!(emulator.bind_count(), 4, "one POST per request");
    for request in &requests {
        let now = emulator
            .requests()
            .into_iter()
            .find(|r| r.uuid == request.uuid)
            .expect("the request is still there");
        assert!(
            now.new_smartcard.is_some(),
            "request {} is bound",
            request.uuid
        );
    }
    let journal = verify(&home);
    assert_eq!(journal.matches("\"batch_started\"").count(), 1);
    assert_eq!(journal.matches("\"batch_finished\"").count(), 1);
    assert_eq!(journal.matches("\"event\":\"attempt\"").count(), 4);
}

#[test]
fn a_card_cm_refuses_leaves_its_request_for_the_next_card() {
    let Some(_slots) = take_slots() else { return };
    let emulator = emulator();
    let url = emulator.base_url();
    let home = StationHome::new();
    let requests = bindable(&emulator, 2);
    // Card 9 is another person's card, in use in CM.
    emulator.insert_smartcard(
        &CardId::from_raw(card(9)),
        SmartcardStatus::ACTIVE,
        uuid::Uuid::from_u128(0x9999),
        requests[0].profile_template.unwrap_or_default(),
    );
    let batch = Running::start(&home, &url, &requests, &["--timeout-secs", "30"]);
    let refused_card = insert(VirtualCard::gids(card(9)), FIRST_PORT);
    let refused = batch.wait_for(card(9), "card_refused");
    assert_eq!(refused["request_id"], requests[0].uuid.to_string().as_str());
    assert!(
        refused["message"]
            .as_str()
            .is_some_and(|m| m.contains("in use")),
        "{refused}"
    );
    drop(refused_card);
    let good = insert(VirtualCard::gids(card(10)), FIRST_PORT);
    let first = batch.wait_for(card(10), "bound");
    assert_eq!(
        first["request_id"],
        requests[0].uuid.to_string().as_str(),
        "the refused card did not use up the first request"
    );
    drop(good);
    let next = insert(VirtualCard::gids(card(11)), FIRST_PORT);
    batch.wait_for(card(11), "bound");
    let (success, summary, _) = batch.finish();
    drop(next);
    assert!(success);
    assert_eq!(summary["summary"]["bound"], 2);
    assert_eq!(summary["summary"]["refused"], 1);
    assert_eq!(emulator.bind_count(), 2, "nothing was POSTed for card 9");
    let journal = verify(&home);
    assert!(
        journal.contains("card_refused: CM already knows card"),
        "{journal}"
    );
}

#[test]
fn a_card_pulled_during_its_bind_is_recorded_and_a_lost_answer_is_reconciled() {
    let Some(_slots) = take_slots() else { return };
    let emulator = emulator();
    let url = emulator.base_url();
    let home = StationHome::new();
    let requests = bindable(&emulator, 2);
    // The first POST is committed, then answered 3 s later: the card is
    // pulled while the station waits. The second's answer is lost.
    emulator.set_faults(Faults {
        post_delay: Duration::from_secs(3),
        ..Faults::default()
    });
    let batch = Running::start(&home, &url, &requests, &["--timeout-secs", "30"]);
    let pulled = insert(VirtualCard::gids(card(20)), FIRST_PORT);
    assert!(
        wait_until(LINE_DEADLINE, || emulator.bind_count() == 1),
        "the POST went out: {}",
        batch.stderr()
    );
    drop(pulled);
    let line = batch.wait_for(card(20), "bound");
    assert_eq!(line["card_pulled"], true, "{line}");

    emulator.set_faults(Faults {
        drop_after_commit: 1,
        ..Faults::default()
    });
    let lost = insert(VirtualCard::gids(card(21)), FIRST_PORT);
    let line = batch.wait_for(card(21), "reconciled_bound");
    assert_eq!(line["request_id"], requests[1].uuid.to_string().as_str());
    let (success, summary, _) = batch.finish();
    drop(lost);
    assert!(success);
    assert_eq!(summary["summary"]["bound"], 2);
    assert_eq!(
        emulator.bind_count(),
        2,
        "the lost answer was not POSTed again"
    );
    let journal = verify(&home);
    assert!(journal.contains("\"reconciled_bound\""), "{journal}");
    assert!(
        journal.contains("bound (the card was taken out while its bind ran)"),
        "the pull is on record: {journal}"
    );
}

#[test]
fn a_batch_killed_mid_bind_resumes_and_finishes_its_queue() {
    let Some(_slots) = take_slots() else { return };
    let emulator = emulator();
    let url = emulator.base_url();
    let home = StationHome::new();
    let requests = bindable(&emulator, 3);
    let batch = Running::start(&home, &url, &requests, &["--timeout-secs", "30"]);
    let first = insert(VirtualCard::gids(card(30)), FIRST_PORT);
    batch.wait_for(card(30), "bound");
    drop(first);
    // The second bind is committed by CM, and the station killed before
    // the answer comes: its attempt stays open in the journal.
    emulator.set_faults(Faults {
        post_delay: Duration::from_secs(30),
        ..Faults::default()
    });
    let second = insert(VirtualCard::gids(card(31)), FIRST_PORT);
    assert!(wait_until(LINE_DEADLINE, || emulator.bind_count() == 2));
    let mut batch = batch;
    batch.child.kill().expect("SIGKILL");
    let _ = batch.child.wait();
    drop(second);
    emulator.set_faults(Faults::default());
    let journal = std::fs::read_to_string(home.default_journal()).expect("a journal");
    assert!(!journal.contains("batch_finished"), "the kill left it open");

    // The same command again: the open attempt is reconciled first, then
    // the rest of the queue runs.
    let again = Running::start(&home, &url, &requests, &["--timeout-secs", "30"]);
    let third = insert(VirtualCard::gids(card(32)), FIRST_PORT);
    let line = again.wait_for(card(32), "bound");
    assert_eq!(
        line["request_id"],
        requests[2].uuid.to_string().as_str(),
        "the resumed batch went on with the third request"
    );
    let stderr = again.stderr();
    let (success, summary, lines) = again.finish();
    drop(third);
    assert!(success, "{lines:?}\n{stderr}");
    assert_eq!(
        summary["summary"],
        serde_json::json!({"bound": 3, "refused": 0, "failed": 0, "skipped": 0, "remaining": 0}),
        "{stderr}"
    );
    assert!(stderr.contains("Reconciled"), "{stderr}");
    assert_eq!(emulator.bind_count(), 3, "no request was POSTed twice");
    let journal = verify(&home);
    assert_eq!(
        journal.matches("\"batch_started\"").count(),
        1,
        "one batch, resumed"
    );
    assert_eq!(journal.matches("\"batch_finished\"").count(), 1);
}

#[test]
fn a_requests_file_with_a_duplicate_binds_nothing() {
    let emulator = emulator();
    let home = StationHome::new();
    let requests = bindable(&emulator, 1);
    let file = home.root().join("twice.txt");
    std::fs::write(&file, format!("{0}\n{0}\n", requests[0].uuid)).expect("written");
    let output = home.run(&[
        "--server",
        &emulator.base_url(),
        "batch",
        "--requests",
        &file.to_string_lossy(),
        "--json",
    ]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("line 1 and again on line 2"), "{stderr}");
    assert_eq!(emulator.bind_count(), 0);
}

#[test]
fn employee_ids_from_an_hr_column_feed_the_batch_in_their_order() {
    let Some(_slots) = take_slots() else { return };
    let emulator = emulator();
    let url = emulator.base_url();
    let home = StationHome::new();
    let requests = bindable(&emulator, 2);
    let ids: Vec<String> = requests
        .iter()
        .map(|r| {
            r.collected(&["EmployeeId"])
                .expect("the demo requests carry an employee ID")
                .to_owned()
        })
        .collect();
    // The HR export's column, last hire first.
    let file = home.root().join("hires.txt");
    std::fs::write(&file, format!("# EmployeeId\n{}\n{}\n", ids[1], ids[0])).expect("written");
    let mut command = home.command();
    command
        .args(["--server", &url, "batch", "--json", "--timeout-secs", "30"])
        .args([
            "--requests",
            &file.to_string_lossy(),
            "--reader",
            "Virtual PCD*",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = command.spawn().expect("the batch starts");
    let first = insert(VirtualCard::gids(card(40)), FIRST_PORT);
    assert!(wait_until(LINE_DEADLINE, || emulator.bind_count() == 1));
    drop(first);
    let second = insert(VirtualCard::gids(card(41)), FIRST_PORT);
    let output = child.wait_with_output().expect("the batch ends");
    drop(second);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let bound: Vec<Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["outcome"] == "bound")
        .collect();
    assert_eq!(bound.len(), 2, "{stdout}");
    assert_eq!(
        bound[0]["request_id"],
        requests[1].uuid.to_string().as_str()
    );
    assert_eq!(bound[0]["card_id"], cm_id(card(40)).as_str());
    assert_eq!(
        bound[1]["request_id"],
        requests[0].uuid.to_string().as_str()
    );

    // A part of an ID names nobody: refused before anything is bound.
    let partial = &ids[0][..ids[0].len() - 1];
    std::fs::write(&file, format!("{partial}\n")).expect("written");
    let refused = home.run(&[
        "--server",
        &url,
        "batch",
        "--requests",
        &file.to_string_lossy(),
    ]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("line 1: no request waiting for a card"),
        "{stderr}"
    );
    assert_eq!(emulator.bind_count(), 2);
}

#[test]
fn one_supervisor_confirms_the_whole_batch_and_is_in_each_attempt() {
    const PASSWORD: &str = "a long supervisor passphrase";
    let Some(_slots) = take_slots() else { return };
    let emulator = emulator();
    let url = emulator.base_url();
    let home = StationHome::new();
    let hashed = home.run_with_input(
        &[
            "supervisor",
            "hash",
            "--name",
            "Sam Supervisor",
            "--account",
            "sam-supervisor",
        ],
        &format!("{PASSWORD}\n"),
    );
    assert!(hashed.status.success(), "{hashed:?}");
    let config = format!(
        "mode = \"supervised\"\n\n{}",
        String::from_utf8_lossy(&hashed.stdout)
    );
    let config_file = home.root().join("station.toml");
    std::fs::write(&config_file, config).expect("the configuration is written");
    let requests = bindable(&emulator, 2);
    let file = cohort_file(&home, &requests);
    let args = |timeout: &'static str| {
        vec![
            "--config".to_owned(),
            config_file.to_string_lossy().into_owned(),
            "--server".to_owned(),
            url.clone(),
            "batch".to_owned(),
            "--requests".to_owned(),
            file.to_string_lossy().into_owned(),
            "--supervisor".to_owned(),
            "Sam Supervisor".to_owned(),
            "--timeout-secs".to_owned(),
            timeout.to_owned(),
            "--json".to_owned(),
        ]
    };

    // A wrong password: nothing is read or bound, and the refusal is on record.
    let refused_args = args("5");
    let refused_args: Vec<&str> = refused_args.iter().map(String::as_str).collect();
    let refused = home.run_with_input(&refused_args, "not the password\n");
    assert!(!refused.status.success());
    assert_eq!(emulator.bind_count(), 0);
    let journal = std::fs::read_to_string(home.default_journal()).expect("a journal");
    assert!(journal.contains("\"supervisor_refused\""), "{journal}");
    assert!(journal.contains("to witness batch"), "{journal}");

    let batch_args = args("30");
    let mut command = home.command();
    command
        .args(&batch_args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("the batch starts");
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().expect("stdin is piped");
        stdin
            .write_all(format!("{PASSWORD}\n").as_bytes())
            .expect("the password is written");
    }
    let first = insert(VirtualCard::gids(card(50)), FIRST_PORT);
    let second = insert(VirtualCard::gids(card(51)), SECOND_PORT);
    let output = child.wait_with_output().expect("the batch ends");
    drop((first, second));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(emulator.bind_count(), 2);
    let journal = verify(&home);
    let records: Vec<Value> = journal
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let started = records
        .iter()
        .find(|r| r["event"] == "batch_started")
        .expect("the batch's record");
    assert_eq!(started["supervisor"], "Sam Supervisor");
    assert_eq!(started["members"].as_array().map(Vec::len), Some(2));
    let attempts: Vec<&Value> = records.iter().filter(|r| r["event"] == "attempt").collect();
    assert_eq!(attempts.len(), 2);
    for attempt in attempts {
        assert_eq!(attempt["supervisor"], "Sam Supervisor", "{attempt}");
    }
}

#[test]
fn a_policy_s_cap_on_binds_at_once_cannot_be_raised_from_the_command_line() {
    use std::os::unix::fs::PermissionsExt as _;
    let emulator = emulator();
    let home = StationHome::new();
    let requests = bindable(&emulator, 1);
    let policy = home.root().join("policy.toml");
    std::fs::write(&policy, "batch_max_concurrent_posts = 2\n").expect("the policy");
    std::fs::set_permissions(&policy, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let file = cohort_file(&home, &requests);
    let output = home
        .command()
        .env(
            enroll_station::config::policy::EXTRA_POLICY_VARIABLE,
            &policy,
        )
        .args(["--server", &emulator.base_url(), "batch"])
        .args([
            "--requests",
            &file.to_string_lossy(),
            "--max-concurrent",
            "8",
        ])
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("allows at most 2 binds at once"),
        "{stderr}"
    );
    assert_eq!(emulator.bind_count(), 0);
}

#[test]
fn a_lost_answer_cm_cannot_settle_ends_the_batch_open_for_a_resume_not_hung() {
    let Some(_slots) = take_slots() else { return };
    let emulator = emulator();
    let url = emulator.base_url();
    let home = StationHome::new();
    let requests = bindable(&emulator, 2);
    // The POST is committed and answered after the station gave up on it;
    // then CM is gone, so nobody can say whether the card was bound.
    emulator.set_faults(Faults {
        post_delay: Duration::from_secs(5),
        ..Faults::default()
    });
    let config = home.root().join("station.toml");
    std::fs::write(&config, "[timeouts]\nrequest_secs = 1\n").expect("the configuration");
    let file = cohort_file(&home, &requests);
    let child = home
        .command()
        .args(["--config", &config.to_string_lossy(), "--server", &url])
        .args(["batch", "--json", "--timeout-secs", "3"])
        .args([
            "--requests",
            &file.to_string_lossy(),
            "--reader",
            "Virtual PCD*",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the batch starts");
    let card = insert(VirtualCard::gids(card(60)), FIRST_PORT);
    assert!(wait_until(LINE_DEADLINE, || emulator.bind_count() == 1));
    emulator.shutdown();
    let started = std::time::Instant::now();
    let output = child.wait_with_output().expect("the batch ends");
    drop(card);
    assert!(
        started.elapsed() < Duration::from_secs(45),
        "the batch ended by itself"
    );
    assert!(!output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stdout.contains("\"answer_lost\""), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("\"remaining\":2"),
        "the lost one and the one never tried: {stdout}"
    );
    assert!(
        stderr.contains("lost answers are still unknown"),
        "{stderr}"
    );
    let journal = std::fs::read_to_string(home.default_journal()).expect("a journal");
    assert!(journal.contains("\"batch_started\""));
    assert!(
        !journal.contains("\"batch_finished\""),
        "the batch stays open for a resume"
    );
}
