//! The command line as scripts use it: the real binary, the emulator over
//! loopback HTTP, and (for `readers` and `bind`) the real pcscd with a vpcd card.

mod common;

use common::{binary, first_bindable};

use std::process::Output;

use common::vpcd::{FIRST_PORT, insert, reader_name, take_slots};
use enroll_station::card::virtual_card::VirtualCard;
use enroll_station::cm::demo_data::CARDLESS_FROM;
use enroll_station::cm::emulator::{Emulator, EmulatorConfig, Faults};
use enroll_station::domain::card::CardId;
use enroll_station::domain::request::{RequestStatus, RequestType};
use serde_json::Value;

const GIDS_RAW: [u8; 16] = [
    0x3f, 0xf1, 0x88, 0xbc, 0xba, 0x83, 0x37, 0x40, 0x82, 0x62, 0x46, 0xeb, 0xa1, 0x29, 0x1c, 0x6e,
];
const GIDS_CARDID: &str = "bc88f13f-83ba-4037-8262-46eba1291c6e";
const GIDS_ATR: &str = "3b8d0180fba000000397425446590301c8";

fn emulator(requests: usize) -> Emulator {
    Emulator::start_on_thread(EmulatorConfig {
        requests,
        ..EmulatorConfig::default()
    })
    .expect("the emulator starts on loopback")
}

/// Runs the binary in a home of its own: no developer's own station.toml,
/// journal or variables may change the results.
fn station(args: &[&str]) -> Output {
    let (_home, mut command) = binary::station();
    command.args(args).output().expect("the binary runs")
}

fn stdout_json(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "exit {:?}, stderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("stdout is JSON")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The binary each test runs (through `common::binary`) keeps to a home of
/// its own: its default journal is in the helper's data directory, and the
/// configuration it reads is the helper's, never the developer's.
#[test]
fn the_tests_binary_keeps_to_a_home_of_its_own() {
    let home = binary::StationHome::new();
    let verify = || {
        let output = home
            .command()
            .args(["audit", "verify"])
            .output()
            .expect("the binary runs");
        assert!(
            output.status.success(),
            "exit {:?}, stderr: {}",
            output.status,
            stderr(&output)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let journal = home.default_journal();
    assert!(journal.starts_with(home.root()));
    std::fs::create_dir_all(journal.parent().expect("a folder")).expect("the data folder");
    std::fs::write(&journal, "").expect("an empty journal");
    let said = verify();
    assert!(
        said.contains("Audit journal intact: 0 records")
            && said.contains(&format!("({}).", journal.display())),
        "the default journal is the helper's: {said}"
    );

    let elsewhere = home.root().join("elsewhere.jsonl");
    std::fs::write(&elsewhere, "").expect("an empty journal");
    let config = home.default_config();
    assert!(config.starts_with(home.root()));
    std::fs::create_dir_all(config.parent().expect("a folder")).expect("the config folder");
    std::fs::write(
        &config,
        format!(
            "audit_file = '{}'\n",
            elsewhere.to_str().expect("a UTF-8 path")
        ),
    )
    .expect("a configuration");
    let said = verify();
    assert!(
        said.contains(&format!("({}).", elsewhere.display())),
        "the configuration read is the helper's: {said}"
    );
}

#[test]
fn requests_json_lists_requests_with_names_for_enums() {
    let emulator = emulator(12);
    let url = emulator.base_url();
    let all = stdout_json(&station(&["requests", "--server", &url, "--json"]));
    let all = all.as_array().expect("an array");
    assert_eq!(all.len(), 12);
    for request in all {
        for key in [
            "uuid",
            "status",
            "request_type",
            "target_user",
            "submitted",
            "new_smartcard",
        ] {
            assert!(request.get(key).is_some(), "{key} missing in {request}");
        }
        let status = request["status"].as_str().expect("status by name");
        assert!(RequestStatus::from_name(status).is_some(), "{status}");
    }
    let pending = stdout_json(&station(&[
        "requests", "--server", &url, "--status", "pending", "--json",
    ]));
    let expected = emulator
        .requests()
        .iter()
        .filter(|r| r.status == RequestStatus::PENDING)
        .count();
    assert_eq!(pending.as_array().map(Vec::len), Some(expected));
    assert!(
        pending
            .as_array()
            .into_iter()
            .flatten()
            .all(|r| r["status"] == "Pending")
    );
}

#[test]
fn an_empty_list_is_an_empty_array() {
    let emulator = emulator(0);
    let output = station(&["requests", "--server", &emulator.base_url(), "--json"]);
    assert_eq!(stdout_json(&output), Value::Array(vec![]));
}

#[test]
fn bad_input_is_refused_in_words_with_a_failing_exit_code() {
    let emulator = emulator(3);
    let url = emulator.base_url();
    let cases: [(&[&str], &str); 4] = [
        (
            &["requests", "--server", &url, "--status", "Bogus"],
            "Unknown status \"Bogus\"",
        ),
        (&["requests", "--json"], "No CM server is configured"),
        (
            &["requests", "--server", "http://cm.example.com"],
            "--allow-insecure-http",
        ),
        (
            &["bind", "--server", &url, "--request", "not-a-guid"],
            "is not a request GUID",
        ),
    ];
    for (args, words) in cases {
        let output = station(args);
        assert!(!output.status.success(), "{args:?} succeeded");
        assert!(
            stderr(&output).contains(words),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(output.stdout.is_empty(), "{args:?} printed to stdout");
    }
}

#[test]
fn readers_json_shows_the_card_id_read_through_pcscd() {
    let Some(_slots) = take_slots() else { return };
    let _card = insert(VirtualCard::gids(GIDS_RAW), FIRST_PORT);
    let readers = stdout_json(&station(&["readers", "--json"]));
    let reader = readers
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["name"] == reader_name(FIRST_PORT).as_str())
        .expect("the vpcd reader is listed");
    assert_eq!(reader["state"], "present");
    assert_eq!(reader["atr"], GIDS_ATR);
    assert_eq!(reader["card_id"], GIDS_CARDID);
    assert_eq!(reader["card_kind"], "gids");
}

#[test]
fn bind_binds_the_card_in_the_reader_once_and_refuses_a_second_time() {
    let Some(_slots) = take_slots() else { return };
    let emulator = emulator(8);
    let url = emulator.base_url();
    let request = first_bindable(&emulator);
    let reader = reader_name(FIRST_PORT);
    let _card = insert(VirtualCard::gids(GIDS_RAW), FIRST_PORT);
    // Braces and upper case, as operators paste GUIDs.
    let pasted = format!("{{{}}}", request.uuid.to_string().to_uppercase());
    let args = [
        "bind",
        "--server",
        &url,
        "--request",
        &pasted,
        "--reader",
        &reader,
        "--json",
    ];
    let bound = stdout_json(&station(&args));
    assert_eq!(bound["outcome"], "bound");
    assert_eq!(bound["request_id"], request.uuid.to_string().as_str());
    assert_eq!(bound["card_id"], GIDS_CARDID);
    assert_eq!(bound["atr"], GIDS_ATR);
    let smartcard = bound["smartcard_uuid"]
        .as_str()
        .expect("the server named the smart card");
    assert_eq!(emulator.bind_count(), 1);
    let after = emulator
        .requests()
        .into_iter()
        .find(|r| r.uuid == request.uuid)
        .expect("request still there");
    assert_eq!(
        after.new_smartcard.map(|u| u.to_string()).as_deref(),
        Some(smartcard)
    );
    let card = emulator
        .smartcards()
        .into_iter()
        .find(|c| c.card_id == CardId::parse_cm_string(GIDS_CARDID))
        .expect("CM knows the card");
    assert_eq!(card.atr.map(|a| a.to_hex()).as_deref(), Some(GIDS_ATR));

    let again = station(&args);
    assert!(
        !again.status.success(),
        "a second bind of the same request must fail"
    );
    let words = stderr(&again);
    assert!(words.contains("Not bound"), "{words}");
    assert!(
        words.contains("already bound"),
        "the fresh pre-check names the reason: {words}"
    );
    assert_eq!(emulator.bind_count(), 1, "no second bind happened");
}

#[test]
fn bind_without_a_card_says_so_and_sends_nothing() {
    let Some(_slots) = take_slots() else { return };
    let emulator = emulator(8);
    let request = first_bindable(&emulator);
    let id = request.uuid.to_string();
    let reader = reader_name(FIRST_PORT);
    let output = station(&[
        "bind",
        "--server",
        &emulator.base_url(),
        "--request",
        &id,
        "--reader",
        &reader,
    ]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("no card"), "{}", stderr(&output));
    assert_eq!(emulator.bind_count(), 0);
}

/// The demo's approved requests that CM never binds a card to (there are
/// two from `CARDLESS_FROM` requests on), with the reason the station gives.
fn cardless_requests(emulator: &Emulator) -> Vec<(String, &'static str)> {
    let requests = emulator.requests();
    let software = requests
        .iter()
        .find(|r| !r.is_smartcard)
        .expect("the demo has a software-profile request");
    let retire = requests
        .iter()
        .find(|r| r.request_type == RequestType::RETIRE)
        .expect("the demo has a Retire request");
    for r in [software, retire] {
        assert_eq!(r.status, RequestStatus::APPROVED);
        assert_eq!(r.new_smartcard, None);
    }
    vec![
        (
            software.uuid.to_string(),
            "this is a software-profile request (IsSmartcard false): it never takes a card",
        ),
        (
            retire.uuid.to_string(),
            "a Retire request acts on an existing card; it does not take a new one",
        ),
    ]
}

#[test]
fn bind_refuses_a_request_that_never_takes_a_card_before_any_post() {
    let Some(_slots) = take_slots() else { return };
    let emulator = emulator(CARDLESS_FROM);
    let url = emulator.base_url();
    let reader = reader_name(FIRST_PORT);
    let _card = insert(VirtualCard::gids(GIDS_RAW), FIRST_PORT);
    // A POST that reached the server would use this fault up.
    emulator.set_faults(Faults {
        fail_next_posts: 1,
        ..Faults::default()
    });
    for (id, reason) in cardless_requests(&emulator) {
        let output = station(&[
            "bind",
            "--server",
            &url,
            "--request",
            &id,
            "--reader",
            &reader,
        ]);
        assert_eq!(output.status.code(), Some(1), "{id}: {}", stderr(&output));
        let words = stderr(&output);
        assert!(words.contains("Not bound"), "{words}");
        assert!(words.contains(reason), "{words}");
        assert!(words.contains("Nothing was sent"), "{words}");
        assert!(output.stdout.is_empty());
        assert_eq!(emulator.bind_count(), 0);
        assert_eq!(emulator.faults().fail_next_posts, 1, "no POST was sent");
    }
    let listed = stdout_json(&station(&["requests", "--server", &url, "--json"]));
    for (id, reason) in cardless_requests(&emulator) {
        let entry = listed
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["uuid"] == id.as_str())
            .expect("listed");
        assert_eq!(entry["bindable"], false, "{entry}");
        assert_eq!(entry["why_not_bindable"], reason, "{entry}");
    }
}

/// Runs the binary with extra environment variables.
fn station_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let (_home, mut command) = binary::station();
    command
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("the binary runs")
}

#[test]
fn requests_show_local_time_with_its_zone_sorted_as_instants_and_json_keeps_utc() {
    let emulator = emulator(0);
    // Oldest first: C (summer), B, A, though A's text sorts first.
    for (id, submitted) in [
        (
            "0a000000-0000-4000-8000-00000000000a",
            "2026-11-20T09:30:00+01:00",
        ),
        (
            "0b000000-0000-4000-8000-00000000000b",
            "2026-11-20T03:00:00.5-05:00",
        ),
        (
            "0c000000-0000-4000-8000-00000000000c",
            "2026-07-01T08:45:00Z",
        ),
    ] {
        emulator
            .insert_request(serde_json::json!({
                "Uuid": id, "RequestType": 1, "Status": 3, "IsSmartcard": true,
                "Submitted": submitted,
                "NewSmartcardUuid": "00000000-0000-0000-0000-000000000000",
            }))
            .expect("valid");
    }
    let url = emulator.base_url();
    // A POSIX zone rule: Central European Time, needing no time zone files.
    let cet = [("TZ", "CET-1CEST,M3.5.0,M10.5.0/3")];
    let text = station_env(&["requests", "--server", &url], &cet);
    assert!(text.status.success(), "{}", stderr(&text));
    let text = String::from_utf8_lossy(&text.stdout).into_owned();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    for (line, (id, shown)) in lines.iter().zip([
        ("0c000000", "2026-07-01 10:45 +02:00"),
        ("0b000000", "2026-11-20 09:00 +01:00"),
        ("0a000000", "2026-11-20 09:30 +01:00"),
    ]) {
        assert!(line.starts_with(id) && line.contains(shown), "{text}");
    }
    let utc = station_env(&["requests", "--server", &url], &[("TZ", "UTC0")]);
    let utc = String::from_utf8_lossy(&utc.stdout).into_owned();
    assert!(utc.contains("2026-11-20 08:30 UTC"), "{utc}");

    let json = stdout_json(&station_env(
        &["requests", "--server", &url, "--json"],
        &cet,
    ));
    let submitted: Vec<&str> = json
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| r["submitted"].as_str().expect("a time"))
        .collect();
    assert_eq!(
        submitted,
        [
            "2026-07-01T08:45:00Z",
            "2026-11-20T08:00:00.5Z",
            "2026-11-20T08:30:00Z"
        ],
        "the server's instants, in UTC, oldest first"
    );
}

#[test]
fn readers_watch_prints_one_json_line_per_event() {
    use std::io::{BufRead as _, BufReader};
    use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

    let Some(_slots) = take_slots() else { return };
    let (_home, mut command) = binary::station();
    let mut child = command
        .args(["readers", "--watch", "--json"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("watch starts");
    let stdout = child.stdout.take().expect("stdout is piped");
    let (tx, rx) = std::sync::mpsc::channel::<Value>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Ok(value) = serde_json::from_str(&line) {
                let _ = tx.send(value);
            }
        }
    });
    let reader = reader_name(FIRST_PORT);
    let next_for = |event: &str| -> Value {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let value = rx
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no {event} event"));
            if value["event"] == event && value["reader"] == reader.as_str() {
                return value;
            }
        }
    };
    next_for("reader_added");
    let card = insert(VirtualCard::gids(GIDS_RAW), FIRST_PORT);
    let inserted = next_for("card_inserted");
    assert_eq!(inserted["atr"], GIDS_ATR);
    let identified = next_for("card_identified");
    assert_eq!(identified["card_id"], GIDS_CARDID);
    assert_eq!(identified["card_kind"], "gids");
    card.remove();
    let removed = next_for("card_removed");
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis()) as u64;
    let times: Vec<u64> = [&inserted, &identified, &removed]
        .iter()
        .map(|v| v["time_ms"].as_u64().expect("time_ms is a number"))
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    assert!(
        times.iter().all(|t| now_ms.saturating_sub(*t) < 60_000),
        "{times:?} vs {now_ms}"
    );
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn ignored_readers_are_not_listed() {
    let Some(_slots) = take_slots() else { return };
    let _card = insert(VirtualCard::gids(GIDS_RAW), FIRST_PORT);
    let all = stdout_json(&station(&["readers", "--json"]));
    let listed = |readers: &Value| {
        readers
            .as_array()
            .into_iter()
            .flatten()
            .any(|r| r["name"] == reader_name(FIRST_PORT).as_str())
    };
    assert!(listed(&all));
    let filtered = stdout_json(&station(&[
        "readers",
        "--json",
        "--ignore-reader",
        "virtual pcd*",
    ]));
    assert!(!listed(&filtered), "{filtered}");
}

/// A JCOP-like CPLC: NXP, type 5075, serial 01020304, batch 0506.
const CPLC: &str = "47905075479120833100512501020304050648125126481351274814512800000001\
                    4815512900000002";

/// The CPLC identifies the chip, never the card: a card with nothing else
/// is shown with its chip and refused, and the removed fallback that once
/// bound such cards only earns a warning.
#[test]
fn a_card_with_only_a_cplc_is_shown_and_never_bound_even_under_the_removed_fallback() {
    let Some(_slots) = take_slots() else { return };
    let emulator = emulator(8);
    let url = emulator.base_url();
    let request = first_bindable(&emulator);
    let id = request.uuid.to_string();
    let reader = reader_name(FIRST_PORT);
    let cplc: [u8; 42] = hex::decode(CPLC)
        .expect("hex")
        .try_into()
        .expect("42 bytes");
    let _card = insert(VirtualCard::blank().with_cplc(cplc), FIRST_PORT);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let journal = dir.path().join("audit.jsonl");
    let journal_arg = journal.display().to_string();
    let config = dir.path().join("station.toml");
    std::fs::write(&config, "[cards]\ncard_id_fallback = \"cplc\"\n").expect("config");
    let config_arg = config.display().to_string();

    let listing = station(&["--config", &config_arg, "readers", "--json"]);
    let warned = stderr(&listing);
    assert!(
        warned.contains("cards.card_id_fallback has been removed")
            && warned.contains("never the one Windows reports")
            && warned.contains("Delete the line"),
        "the old key loads with a clear message: {warned}"
    );
    let listed = stdout_json(&listing);
    let listed = listed
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["name"] == reader.as_str())
        .expect("the vpcd reader is listed")
        .clone();
    assert_eq!(listed["card_id"], Value::Null, "{listed}");
    assert_eq!(listed["card_kind"], Value::Null);
    assert_eq!(listed["chip"]["fabricator"], "4790", "{listed}");
    assert_eq!(listed["chip"]["serial"], "01020304");
    assert_eq!(listed["chip"]["batch"], "0506");
    assert!(
        listed["problem"]
            .as_str()
            .is_some_and(|p| p.contains("Unknown card application")),
        "{listed}"
    );

    for config in [&[][..], &["--config", config_arg.as_str()][..]] {
        let mut args = config.to_vec();
        args.extend_from_slice(&[
            "bind",
            "--server",
            &url,
            "--request",
            &id,
            "--reader",
            &reader,
            "--audit-file",
            &journal_arg,
            "--json",
        ]);
        let refused = station(&args);
        assert!(!refused.status.success());
        assert!(
            stderr(&refused).contains("cannot be bound"),
            "{}",
            stderr(&refused)
        );
    }
    assert_eq!(emulator.bind_count(), 0, "nothing was ever sent");
    assert!(
        !journal.exists() || std::fs::read_to_string(&journal).is_ok_and(|j| j.is_empty()),
        "no attempt was journalled"
    );
}

#[cfg(unix)]
#[test]
fn a_closed_pipe_ends_the_listing_quietly() {
    use std::io::{BufRead as _, BufReader};
    use std::process::Stdio;
    // Far more than a pipe buffer holds, so the writer meets the closed pipe.
    let emulator = emulator(3000);
    let (_home, mut command) = binary::station();
    let mut child = command
        .args(["requests", "--server", &emulator.base_url()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    // Read one line, as `| head -1` would, then close the pipe.
    let stdout = child.stdout.take().expect("stdout");
    let mut first = String::new();
    BufReader::new(stdout)
        .read_line(&mut first)
        .expect("a first line");
    assert!(!first.is_empty());
    let output = child.wait_with_output().expect("it ends");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

// Supervised issuance on the command line: `supervisor hash` makes the
// configuration's lines, and `bind` at a supervised station needs a witness.

/// Runs the binary with `input` on its standard input (not a terminal).
fn station_with_input(args: &[&str], input: &str) -> Output {
    let (_home, mut command) = binary::station();
    binary::input_to(command.args(args), input)
}

const SUPERVISOR_PASSWORD: &str = " a passphrase with spaces ";

/// A supervised station's configuration with the `[[supervisors]]` lines
/// `supervisor hash` printed for each name; each signs in as their name in
/// lower case, spaces as dots ("Sam Supervisor" is `sam.supervisor`).
fn supervised_config(dir: &std::path::Path, names: &[&str]) -> String {
    let mut text = String::from("mode = \"supervised\"\n");
    for name in names {
        let account = name.to_lowercase().replace(' ', ".");
        let hashed = station_with_input(
            &["supervisor", "hash", "--name", name, "--account", &account],
            &format!("{SUPERVISOR_PASSWORD}\n"),
        );
        assert!(hashed.status.success(), "{}", stderr(&hashed));
        let snippet = String::from_utf8(hashed.stdout).expect("UTF-8");
        assert!(
            !snippet.contains(SUPERVISOR_PASSWORD.trim()),
            "the password is never printed"
        );
        text.push('\n');
        text.push_str(&snippet);
    }
    let path = dir.join("station.toml");
    std::fs::write(&path, text).expect("config");
    path.display().to_string()
}

#[test]
fn supervisor_hash_prints_lines_the_configuration_accepts() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let config = supervised_config(dir.path(), &["Sam Supervisor"]);
    let text = std::fs::read_to_string(&config).expect("config");
    assert!(
        text.contains(
            "[[supervisors]]\nname = \"Sam Supervisor\"\naccount = \"sam.supervisor\"\n\
             password_hash = \"$argon2id$"
        ),
        "{text}"
    );
    let parsed = enroll_station::config::StationConfig::load(std::path::Path::new(&config))
        .expect("the printed lines are a valid configuration");
    assert_eq!(parsed.supervisors.len(), 1);

    let empty = station_with_input(
        &["supervisor", "hash", "--name", "Sam", "--account", "sam"],
        "\n",
    );
    assert!(!empty.status.success());
    assert!(
        stderr(&empty).contains("No password was given"),
        "{}",
        stderr(&empty)
    );
}

#[test]
fn supervised_bind_is_refused_in_words_before_anything_is_read_or_sent() {
    let emulator = emulator(4);
    let url = emulator.base_url();
    let request = first_bindable(&emulator).uuid.to_string();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let bind = |config: &str, extra: &[&str], input: &str| {
        let mut args = vec![
            "--config",
            config,
            "bind",
            "--server",
            &url,
            "--request",
            &request,
        ];
        args.extend_from_slice(extra);
        station_with_input(&args, input)
    };

    let nobody = dir.path().join("nobody.toml");
    std::fs::write(&nobody, "mode = \"supervised\"\n").expect("config");
    let refused = bind(
        &nobody.display().to_string(),
        &["--supervisor", "Sam"],
        "x\n",
    );
    assert!(!refused.status.success());
    let words = stderr(&refused);
    assert!(
        words.contains("[[supervisors]]") && words.contains("supervisor hash"),
        "{words}"
    );

    let config = supervised_config(dir.path(), &["Sam Supervisor"]);
    let refused = bind(&config, &[], "");
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("--supervisor NAME"),
        "{}",
        stderr(&refused)
    );

    let desk = dir.path().join("desk.toml");
    std::fs::write(&desk, "mode = \"desk\"\n").expect("config");
    let refused = bind(&desk.display().to_string(), &["--supervisor", "Sam"], "");
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("only at a supervised station"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(emulator.bind_count(), 0);
}

#[test]
fn supervised_bind_needs_the_supervisors_password_and_journals_both_names() {
    let Some(_slots) = take_slots() else { return };
    let emulator = emulator(8);
    let url = emulator.base_url();
    let request = first_bindable(&emulator).uuid.to_string();
    let reader = reader_name(FIRST_PORT);
    let _card = insert(VirtualCard::gids(GIDS_RAW), FIRST_PORT);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let config = supervised_config(dir.path(), &["Sam Supervisor"]);
    let journal = dir.path().join("audit.jsonl").display().to_string();
    let bind = |input: &str| {
        station_with_input(
            &[
                "--config",
                &config,
                "bind",
                "--server",
                &url,
                "--request",
                &request,
                "--reader",
                &reader,
                "--audit-file",
                &journal,
                "--supervisor",
                "sam supervisor",
                "--json",
            ],
            input,
        )
    };

    let refused = bind("not the password\n");
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("name or password is wrong"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(emulator.bind_count(), 0);

    let bound = stdout_json(&bind(&format!("{SUPERVISOR_PASSWORD}\n")));
    assert_eq!(bound["outcome"], "bound");
    assert_eq!(emulator.bind_count(), 1);
    let attempt: Value = std::fs::read_to_string(&journal)
        .expect("the journal")
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).expect("JSON"))
        .find(|record| record["event"] == "attempt")
        .expect("an attempt record");
    assert_eq!(attempt["supervisor"], "Sam Supervisor");
    assert_eq!(
        attempt["operator"]["os_user"].as_str(),
        enroll_station::audit::Operator::from_os()
            .os_user
            .as_deref()
    );

    // Each run is a new process, yet the station counts the refusals: the
    // success reset the count, two more refusals are free, the third makes
    // every credential wait, even the right one in the next run.
    for _ in 0..2 {
        let refused = bind("still not it\n");
        assert!(
            stderr(&refused).contains("name or password is wrong"),
            "{}",
            stderr(&refused)
        );
    }
    let limited = bind("still not it\n");
    assert!(
        stderr(&limited).contains("Too many wrong supervisor credentials: wait 30 s"),
        "{}",
        stderr(&limited)
    );
    let waiting = bind(&format!("{SUPERVISOR_PASSWORD}\n"));
    assert!(!waiting.status.success());
    assert!(
        stderr(&waiting).contains("Too many wrong supervisor credentials: wait"),
        "{}",
        stderr(&waiting)
    );
    assert_eq!(emulator.bind_count(), 1, "nothing more was sent");
}

/// A card left in the reader by the last person is never bound unnamed:
/// `bind` waits for a card inserted after it started.
#[test]
fn bind_without_a_named_card_uses_only_a_card_inserted_after_it_started() {
    use std::io::{BufRead as _, BufReader};
    use std::process::Stdio;

    let Some(_slots) = take_slots() else { return };
    let emulator = emulator(8);
    let url = emulator.base_url();
    let id = first_bindable(&emulator).uuid.to_string();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let journal = dir.path().join("audit.jsonl").display().to_string();
    let left_behind = insert(VirtualCard::gids(GIDS_RAW), FIRST_PORT);
    let args = [
        "bind",
        "--server",
        &url,
        "--request",
        &id,
        "--audit-file",
        &journal,
        "--json",
    ];

    let mut timed_out: Vec<&str> = args.to_vec();
    timed_out.extend_from_slice(&["--card-timeout", "3"]);
    let output = station(&timed_out);
    assert!(!output.status.success());
    let words = stderr(&output);
    assert!(
        words.contains("was there before this command started"),
        "{words}"
    );
    assert!(
        words.contains("No card was inserted within 3 s. Nothing was sent."),
        "{words}"
    );
    assert_eq!(emulator.bind_count(), 0);

    let (_home, mut command) = binary::station();
    let mut child = command
        .args(args)
        .args(["--card-timeout", "60"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr piped")).lines();
    let mut said = String::new();
    while !said.contains("was there before this command started") {
        match lines.next() {
            Some(Ok(line)) => said.push_str(&line),
            _ => panic!("bind ended before it saw the left card: {said}"),
        }
    }
    assert_eq!(emulator.bind_count(), 0, "the left card was not used");
    left_behind.remove();
    assert!(common::vpcd::wait_for_card(&reader_name(FIRST_PORT), false));
    let _card = insert(VirtualCard::gids(GIDS_RAW), FIRST_PORT);
    let output = child.wait_with_output().expect("bind ends");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(
        output.status.success(),
        "exit {:?}: {said} {rest:?}",
        output.status
    );
    let bound: Value = serde_json::from_slice(&output.stdout).expect("stdout is JSON");
    assert_eq!(bound["outcome"], "bound");
    assert_eq!(bound["card_id"], GIDS_CARDID);
    assert_eq!(emulator.bind_count(), 1);
}

/// The card listed in `readers --json` for the first vpcd slot.
fn listed_reader(args: &[&str]) -> Value {
    let reader = reader_name(FIRST_PORT);
    let mut all: Vec<&str> = args.to_vec();
    all.extend_from_slice(&["readers", "--json"]);
    stdout_json(&station(&all))
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["name"] == reader.as_str())
        .cloned()
        .expect("the vpcd reader is listed")
}

/// Thales IDPrime cards are identified by their `cardid` file, as the Thales
/// minidriver chosen by their ATR identifies them, even when they also carry
/// a PIV applet with another GUID; and that is the ID sent to CM.
#[test]
fn idprime_cards_are_read_and_bound_by_their_cardid_file() {
    let Some(_slots) = take_slots() else { return };
    let emulator = emulator(8);
    let url = emulator.base_url();
    let reader = reader_name(FIRST_PORT);
    let plain: [u8; 16] = *b"IDPrime-cardid-1";
    let with_piv: [u8; 16] = *b"IDPrime-cardid-2";
    let piv_guid: [u8; 16] = *b"the-PIV-CHUID-id";
    let dir = tempfile::tempdir().expect("a temporary directory");
    let journal = dir.path().join("audit.jsonl").display().to_string();
    let cards = [
        (VirtualCard::idprime(plain), plain),
        // Every quirk the sources allow, through the real pcscd: SELECT only
        // with P2 0C, the size in FCP tag 81, short READ BINARYs, 61xx.
        (
            VirtualCard::idprime(with_piv)
                .with_piv_applet(piv_guid)
                .idprime_select_p2_0c_only()
                .idprime_fcp_size_tag(0x81)
                .idprime_max_read(7)
                .with_response_chunk(16),
            with_piv,
        ),
    ];
    for (card, raw) in cards {
        let expected = CardId::from_raw(raw).to_cm_string();
        let inserted = insert(card, FIRST_PORT);
        let listed = listed_reader(&[]);
        assert_eq!(listed["card_kind"], "idprime", "{listed}");
        assert_eq!(listed["card_id"], expected.as_str(), "{listed}");
        assert_ne!(
            listed["card_id"],
            CardId::from_raw(piv_guid).to_cm_string().as_str()
        );
        let request = first_bindable(&emulator).uuid.to_string();
        let bound = stdout_json(&station(&[
            "bind",
            "--server",
            &url,
            "--request",
            &request,
            "--reader",
            &reader,
            "--audit-file",
            &journal,
            "--json",
        ]));
        assert_eq!(bound["outcome"], "bound");
        assert_eq!(bound["card_id"], expected.as_str());
        assert!(
            emulator
                .smartcards()
                .iter()
                .any(|c| c.card_id == CardId::parse_cm_string(&expected)),
            "CM knows the card by its cardid file"
        );
        inserted.remove();
        assert!(common::vpcd::wait_for_card(&reader, false));
    }
    assert_eq!(emulator.bind_count(), 2);
}

/// A PIV card that hands its whole CHUID (with an issuer signature) back in
/// one answer of more than 256 bytes, as some cards and drivers do.
#[test]
fn a_long_chuid_answered_in_one_piece_is_read() {
    let Some(_slots) = take_slots() else { return };
    let guid: [u8; 16] = *b"long-CHUID-guid!";
    let mut chuid = vec![0x30, 0x19];
    chuid.extend_from_slice(&[0xD4; 25]);
    chuid.extend_from_slice(&[0x34, 0x10]);
    chuid.extend_from_slice(&guid);
    chuid.extend_from_slice(&[0x35, 0x08]);
    chuid.extend_from_slice(b"20300101");
    // A signature of 740 bytes: the whole CHUID is about 800.
    chuid.extend_from_slice(&[0x3E, 0x82, 0x02, 0xE4]);
    chuid.extend_from_slice(&[0x5A; 740]);
    chuid.extend_from_slice(&[0xFE, 0x00]);
    assert!(chuid.len() > 780);
    let _card = insert(
        VirtualCard::piv_with_chuid(chuid).with_whole_answers(),
        FIRST_PORT,
    );
    let listed = listed_reader(&[]);
    assert_eq!(listed["card_kind"], "piv", "{listed}");
    assert_eq!(
        listed["card_id"],
        CardId::from_raw(guid).to_cm_string().as_str(),
        "{listed}"
    );
}

/// A site marks the ATR of cards it does not issue as unsupported: they are
/// shown with the site's reason and never bound.
#[test]
fn a_site_row_marks_an_atr_unsupported() {
    let Some(_slots) = take_slots() else { return };
    let emulator = emulator(8);
    let request = first_bindable(&emulator).uuid.to_string();
    let reader = reader_name(FIRST_PORT);
    let _card = insert(VirtualCard::gids(GIDS_RAW), FIRST_PORT);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let config = dir.path().join("station.toml");
    std::fs::write(
        &config,
        format!(
            "[[cards.families]]\natr = \"{GIDS_ATR}\"\nfamily = \"unsupported\"\n\
             reason = \"These test cards are retired here: use the blue ones.\"\n"
        ),
    )
    .expect("config");
    let config = config.display().to_string();
    let listed = listed_reader(&["--config", &config]);
    assert_eq!(listed["card_id"], Value::Null, "{listed}");
    assert_eq!(
        listed["problem"],
        "These test cards are retired here: use the blue ones."
    );
    let refused = station(&[
        "--config",
        &config,
        "bind",
        "--server",
        &emulator.base_url(),
        "--request",
        &request,
        "--reader",
        &reader,
        "--audit-file",
        &dir.path().join("audit.jsonl").display().to_string(),
    ]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("use the blue ones"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(emulator.bind_count(), 0);
    // Without the row the same card is a GIDS card again.
    assert_eq!(listed_reader(&[])["card_kind"], "gids");
}

#[test]
fn card_show_reports_a_new_card_and_a_known_one() {
    let Some(_slots) = take_slots() else { return };
    let emulator = emulator(4);
    let url = emulator.base_url();
    let reader = reader_name(FIRST_PORT);
    let _card = insert(VirtualCard::gids(GIDS_RAW), FIRST_PORT);
    let args = ["card", "show", "--server", &url, "--json"];

    // The only card present, new to CM.
    let shown = stdout_json(&station(&args));
    assert_eq!(shown["reader"], reader.as_str());
    assert_eq!(shown["atr"], GIDS_ATR);
    assert_eq!(shown["card_id"], GIDS_CARDID);
    assert_eq!(shown["card_kind"], "gids");
    assert_eq!(shown["cm"], Value::Null);

    // Known: a retired earlier assignment and the one in use now.
    let card_id = CardId::parse_cm_string(GIDS_CARDID).expect("card ID");
    let template = uuid::Uuid::from_u128(0x7e3a_0002);
    let user = uuid::Uuid::from_u128(0x5eed_0003);
    emulator.insert_smartcard(
        &card_id,
        enroll_station::domain::request::SmartcardStatus::RETIRED,
        uuid::Uuid::from_u128(0x5eed_0004),
        template,
    );
    let active = emulator.insert_smartcard(
        &card_id,
        enroll_station::domain::request::SmartcardStatus::ACTIVE,
        user,
        template,
    );
    emulator.set_card_operations(active, vec!["renew".into(), "unblock".into()]);
    emulator.set_card_certificates(active, 2);
    let named = [&args[..], &["--reader", &reader]].concat();
    let shown = stdout_json(&station(&named));
    assert_eq!(shown["reader"], reader.as_str());
    assert_eq!(shown["card_id"], GIDS_CARDID);
    let cm = &shown["cm"];
    assert_eq!(cm["smartcard_uuid"], active.to_string().as_str());
    assert_eq!(cm["status"], "Active");
    assert_eq!(cm["assigned_user"], user.to_string().as_str());
    assert_eq!(cm["profile_template"], template.to_string().as_str());
    assert_eq!(cm["operations"], serde_json::json!(["Renew", "Unblock"]));
    assert_eq!(cm["certificates"], 2);
    assert_eq!(cm["objects"], 2);

    // The words for people say the same.
    let words = station(&["card", "show", "--server", &url, "--reader", &reader]);
    let text = String::from_utf8_lossy(&words.stdout);
    assert!(words.status.success(), "{}", stderr(&words));
    assert!(
        text.contains(&format!("Known to CM: Active, assigned to user {user}")),
        "{text}"
    );
    assert!(text.contains("You may start: Renew, Unblock"), "{text}");
    assert_eq!(emulator.bind_count(), 0, "showing a card binds nothing");

    // A reader that is not there is refused in words.
    let gone = station(&[
        "card",
        "show",
        "--server",
        &url,
        "--reader",
        "No Such Reader",
    ]);
    assert!(!gone.status.success());
    assert!(
        stderr(&gone).contains("is not connected"),
        "{}",
        stderr(&gone)
    );
}
