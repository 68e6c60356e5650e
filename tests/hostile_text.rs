//! Hostile text from the server on real parts (issue 18, reviews H1 and M2):
//! the CM emulator over loopback HTTP serves requests whose collected data
//! carries terminal escapes, bidi overrides, zero-width characters, line
//! breaks, look-alike letters and a megabyte; the real `enroll-station`
//! binary and the real client read them.

mod common;

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::process::Output;

use common::binary;
use enroll_station::cm::emulator::{Emulator, EmulatorConfig};
use enroll_station::cm::{ClientConfig, CmClient};
use enroll_station::domain::text::VALUE_MAX_CHARS;
use serde_json::{Value, json};
use uuid::Uuid;

const TARGET: &str = "7d1f0c2a-3b4e-4f50-8a61-92b3c4d5e6f7";

/// Characters that must never reach a terminal from the human output.
fn is_forbidden(c: char) -> bool {
    matches!(
        c,
        '\u{1b}'
            | '\u{7}'
            | '\r'
            | '\u{80}'..='\u{9f}'
            | '\u{061C}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2028}'..='\u{2029}'
            | '\u{2060}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

/// The hostile requests: (id, FirstName, LastName, EmployeeID).
fn hostile() -> Vec<(String, String, String, String)> {
    let megabyte = "9".repeat(1 << 20);
    [
        ("Eve\u{202E}gnp.exe", "\u{2066}Doe\u{2069}", "E1\u{200F}"),
        ("Ja\u{200B}ne", "D\u{FEFF}oe\u{2060}", "E2"),
        ("Mallory\u{1b}[2K\r", "\u{1b}[1A\u{1b}[2KAdmin", "E3"),
        ("Osc\u{1b}]52;c;cm0gLXJmIH4=\u{7}", "Clip", "E4"),
        ("C1\u{9b}31mRed", "Csi\u{9b}2J", "E5\u{85}x"),
        ("Line\nBreak", "Two\r\nLines\u{2028}Sep", "E6\u{2029}"),
        ("J\u{430}ne", "D\u{43E}e", "E7"),
        ("\u{421}\u{435}\u{441}\u{435}", "Doe", "E8"),
        ("Big", "Value", megabyte.as_str()),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, (first, last, id))| {
        (
            format!("0{i}000000-0000-4000-8000-00000000000{i}"),
            first.to_owned(),
            last.to_owned(),
            id.to_owned(),
        )
    })
    .collect()
}

fn emulator_with_hostile_requests() -> Emulator {
    let emulator = Emulator::start_on_thread(EmulatorConfig {
        requests: 0,
        ..EmulatorConfig::default()
    })
    .expect("the emulator starts on loopback");
    for (id, first, last, employee) in hostile() {
        emulator
            .insert_request(json!({
                "Uuid": id, "RequestType": 1, "Status": 3, "IsSmartcard": true,
                "TargetUserUuid": TARGET,
                "Submitted": "2026-11-20T09:30:00Z",
                "NewSmartcardUuid": "00000000-0000-0000-0000-000000000000",
                "DataCollection": [
                    {"Name": "FirstName", "Value": first},
                    {"Name": "LastName", "Value": last},
                    {"Name": "EmployeeID", "Value": employee},
                    {"Name": "FirstName", "Value": "Second"},
                ],
                "Comment": "c\u{1b}[31m\nomment",
            }))
            .expect("valid");
    }
    emulator
}

fn station(args: &[&str]) -> Output {
    let (_home, mut command) = binary::station();
    command.args(args).output().expect("the binary runs")
}

#[test]
fn requests_prints_one_escaped_line_per_request_and_flags_look_alikes() {
    let emulator = emulator_with_hostile_requests();
    let url = emulator.base_url();
    let output = station(&["requests", "--server", &url]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!output.stdout.contains(&0x1b), "ESC reached stdout");
    assert!(!output.stdout.contains(&0x07), "BEL reached stdout");
    let text = String::from_utf8(output.stdout).expect("UTF-8");
    assert!(
        !text.contains(is_forbidden),
        "a control, C1 or bidi character reached stdout: {text:?}"
    );
    let lines: Vec<&str> = text.lines().collect();
    let requests = hostile();
    assert_eq!(lines.len(), requests.len(), "one line per request: {text}");
    for (id, ..) in &requests {
        let line = lines
            .iter()
            .find(|l| l.starts_with(id.as_str()))
            .unwrap_or_else(|| panic!("{id} has its own line: {text}"));
        assert!(line.contains(&format!("target {TARGET}")), "{line}");
        assert!(line.contains("entered by requester (unchecked):"), "{line}");
        assert!(
            line.len() < 2_000,
            "a megabyte is cut: {} bytes",
            line.len()
        );
    }
    let line = |n: usize| {
        *lines
            .iter()
            .find(|l| l.starts_with(&requests[n].0))
            .expect("listed")
    };
    assert!(
        line(0).contains("Eve<U+202E>gnp.exe <U+2066>Doe<U+2069>"),
        "{}",
        line(0)
    );
    assert!(line(2).contains("Mallory<U+001B>[2K"), "{}", line(2));
    assert!(line(4).contains("C1<U+009B>31mRed"), "{}", line(4));
    assert!(line(5).contains("Line Break Two Lines Sep"), "{}", line(5));
    for n in [0, 1, 2, 3, 4] {
        assert!(
            line(n).contains("!! CHECK:") && line(n).contains("invisible or control"),
            "{}",
            line(n)
        );
    }
    assert!(
        line(6).contains("!! CHECK:")
            && line(6).ends_with(
                "!! CHECK: mixes Latin and Cyrillic letters; looks like \"Jane Doe\" but is \
                 written in other letters"
            ),
        "{}",
        line(6)
    );
    assert!(line(7).contains("looks like \"Cece\""), "{}", line(7));
    assert!(!line(8).contains("!!"), "{}", line(8));
    assert!(line(8).contains('…'), "the cut is visible: {}", line(8));
}

#[test]
fn requests_json_parses_round_trips_and_keeps_the_first_of_a_duplicate_name() {
    let emulator = emulator_with_hostile_requests();
    let url = emulator.base_url();
    let output = station(&["requests", "--server", &url, "--json"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!output.stdout.contains(&0x1b), "ESC reached stdout");
    let text = String::from_utf8(output.stdout.clone()).expect("UTF-8");
    assert!(!text.contains(is_forbidden), "{text:?}");
    assert_eq!(text.lines().count(), 1, "one line of JSON");
    let listed: Value = serde_json::from_str(&text).expect("stdout is JSON");
    let again: Value =
        serde_json::from_str(&serde_json::to_string(&listed).expect("writes")).expect("parses");
    assert_eq!(again, listed, "round-trips");
    let listed = listed.as_array().expect("an array");
    assert_eq!(listed.len(), hostile().len());
    let by_id = |id: &str| {
        listed
            .iter()
            .find(|r| r["uuid"] == id)
            .unwrap_or_else(|| panic!("{id} listed"))
    };
    let requests = hostile();
    let first = by_id(&requests[1].0);
    assert_eq!(
        first["data"]["FirstName"], "Ja<U+200B>ne",
        "first wins: {first}"
    );
    assert_eq!(first["target_user"], TARGET);
    assert_eq!(
        by_id(&requests[3].0)["data"]["FirstName"],
        "Osc<U+001B>]52;c;cm0gLXJmIH4=<U+0007>"
    );
    assert_eq!(by_id(&requests[6].0)["data"]["FirstName"], "J\u{430}ne");
    let big = by_id(&requests[8].0)["data"]["EmployeeID"]
        .as_str()
        .expect("a string")
        .to_owned();
    assert_eq!(big.chars().count(), VALUE_MAX_CHARS);
    assert!(big.ends_with('…'));
}

#[tokio::test]
async fn the_clients_requests_carry_the_cleaned_text() {
    let emulator = emulator_with_hostile_requests();
    let client = CmClient::new(&ClientConfig::new(emulator.base_url())).expect("a client");
    let requests = client.list_requests(None).await.expect("listed");
    assert_eq!(requests.len(), hostile().len());
    for r in &requests {
        for item in &r.data_collection {
            let value = item.value.as_deref().unwrap_or_default();
            assert!(!value.contains(is_forbidden), "{value:?}");
            assert!(value.chars().count() <= VALUE_MAX_CHARS);
        }
        assert_eq!(
            r.comment.as_deref(),
            Some("c<U+001B>[31m omment"),
            "one line, marked"
        );
        assert_eq!(
            r.target_user,
            Some(Uuid::parse_str(TARGET).expect("a GUID"))
        );
    }
    let id = Uuid::parse_str(&hostile()[4].0).expect("a GUID");
    let one = client.get_request(id).await.expect("read");
    assert_eq!(
        one.data_collection[1].value.as_deref(),
        Some("Csi<U+009B>2J")
    );
    assert_eq!(one.data_collection[2].value.as_deref(), Some("E5 x"));
}

/// A server that answers every call with HTTP 500 and a hostile message.
fn hostile_error_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let address = listener.local_addr().expect("an address");
    std::thread::spawn(move || {
        let body = "{\"Message\":\"Failed\\u001b[2K\\r\\n\\u001b]52;c;cm0gLXJmIH4=\\u0007 \
                    \\u009b2J\\u202eevil\\u2028line\"}";
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = [0u8; 8192];
            let _ = stream.read(&mut request);
            let _ = write!(
                stream,
                "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    format!("http://{address}")
}

#[test]
fn a_servers_hostile_error_message_reaches_stderr_as_one_escaped_line() {
    let url = hostile_error_server();
    let output = station(&["requests", "--server", &url]);
    assert!(!output.status.success());
    assert!(output.stdout.is_empty());
    assert!(!output.stderr.contains(&0x1b), "ESC reached stderr");
    assert!(!output.stderr.contains(&0x07), "BEL reached stderr");
    let text = String::from_utf8(output.stderr).expect("UTF-8");
    assert!(!text.contains(is_forbidden), "{text:?}");
    assert!(text.contains("Failed<U+001B>[2K"), "{text}");
    assert!(text.contains("<U+202E>evil line"), "{text}");
    assert_eq!(text.trim_end().lines().count(), 1, "{text}");
}
