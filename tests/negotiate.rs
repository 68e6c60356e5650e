//! HTTP Negotiate on real parts: the real binary signs in with a Kerberos
//! ticket from a throwaway MIT realm to Apache httpd (mod_auth_gssapi, TLS),
//! which proxies to the CM emulator over loopback. `bind` also uses the real
//! pcscd with a vpcd card.
//!
//! Skipped when krb5kdc, Apache or mod_auth_gssapi are missing, unless `CI`
//! or `ENROLL_STATION_REQUIRE_SERVICES` is set (see `common::kerberos`).

#![cfg(unix)]

mod common;

use common::binary::{self, StationHome};
use common::first_bindable;

use std::path::Path;
use std::process::{Command, Output};

use common::kerberos::{ALICE, ALICE_PASSWORD, Realm, ccache_name, find_command};
use common::negotiate_proxy::NegotiateProxy;
use common::vpcd::{FIRST_PORT, insert, reader_name, take_slots};
use enroll_station::card::virtual_card::VirtualCard;
use enroll_station::cm::client::API_PATH;
use enroll_station::cm::emulator::{Emulator, EmulatorConfig};
use serde_json::Value;

const GIDS_RAW: [u8; 16] = [
    0x3f, 0xf1, 0x88, 0xbc, 0xba, 0x83, 0x37, 0x40, 0x82, 0x62, 0x46, 0xeb, 0xa1, 0x29, 0x1c, 0x6e,
];
const GIDS_CARDID: &str = "bc88f13f-83ba-4037-8262-46eba1291c6e";

/// The emulator, a realm, and the Negotiate proxy in front of the emulator.
struct Rig {
    // Dropped in this order: the proxy first, then what it depends on.
    proxy: NegotiateProxy,
    realm: Realm,
    emulator: Emulator,
    journal: (tempfile::TempDir, std::path::PathBuf),
    home: StationHome,
}

/// The whole rig with `requests` demo requests; `None` when it is skipped.
fn rig(requests: usize) -> Option<Rig> {
    rig_with(requests, false)
}

/// The same, optionally with a proxy that drops the final Negotiate token.
fn rig_with(requests: usize, drop_final_token: bool) -> Option<Rig> {
    let realm = Realm::start()?;
    let emulator = Emulator::start_on_thread(EmulatorConfig {
        requests,
        ..EmulatorConfig::default()
    })
    .expect("the emulator starts on loopback");
    let proxy = if drop_final_token {
        NegotiateProxy::start_without_final_token(&realm, &emulator.base_url())
    } else {
        NegotiateProxy::start(&realm, &emulator.base_url())
    };
    Some(Rig {
        proxy,
        realm,
        emulator,
        journal: common::temp_journal(),
        home: StationHome::new(),
    })
}

impl Rig {
    /// Runs the station against the proxy with `ccache` as the ticket cache:
    /// `--server <proxy> --ca-file <CA> <args>`.
    fn station(&self, ccache: &Path, args: &[&str]) -> Output {
        self.command(self.home.command(), ccache, args)
            .output()
            .expect("the binary runs")
    }

    /// The same, in a fresh kernel session keyring (`keyctl session -`), as a
    /// PAM login gives one: a process without its own session keyring (a
    /// container, a service) cannot link keys to the persistent keyring.
    /// `stdin` is piped in.
    fn station_in_keyring_session(&self, ccache: &Path, args: &[&str], stdin: &str) -> Output {
        use std::io::Write as _;
        let keyctl = find_command("keyctl").expect("keyctl (Debian package keyutils)");
        let mut command = self.home.wrap(keyctl);
        command.args(["session", "-", binary::PATH]);
        let mut child = self
            .command(command, ccache, args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("keyctl runs the binary");
        if let Some(mut input) = child.stdin.take() {
            input.write_all(stdin.as_bytes()).expect("stdin is written");
        }
        child.wait_with_output().expect("the binary runs")
    }

    fn command(&self, mut command: Command, ccache: &Path, args: &[&str]) -> Command {
        command
            .arg("--server")
            .arg(self.proxy.base_url())
            .arg("--ca-file")
            .arg(self.proxy.ca_pem_path())
            .args(args)
            .env("ENROLL_STATION_AUDIT_FILE", &self.journal.1)
            // No desktop Secret Service: the kernel keyring is the store.
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .env("KRB5_CONFIG", self.realm.krb5_config())
            .env("KRB5CCNAME", ccache_name(ccache))
            .env_remove("KRB5_CLIENT_KTNAME")
            .env_remove("KRB5_KTNAME");
        command
    }

    /// What to show when an assertion fails: the station's output and the
    /// logs of the proxy and the KDC.
    fn explain(&self, output: &Output) -> String {
        format!(
            "exit {:?}\nstdout: {}\nstderr: {}\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
            self.proxy.error_log_tail(15),
            self.realm.kdc_log_tail(10)
        )
    }

    /// The station's stdout as JSON, after a successful exit.
    fn stdout_json(&self, output: &Output) -> Value {
        assert!(output.status.success(), "{}", self.explain(output));
        serde_json::from_slice(&output.stdout).expect("stdout is JSON")
    }

    /// Asserts a failing exit whose stderr contains each of `words`.
    fn assert_fails_saying(&self, output: &Output, words: &[&str]) {
        assert!(!output.status.success(), "{}", self.explain(output));
        let stderr = String::from_utf8_lossy(&output.stderr);
        for word in words {
            assert!(
                stderr.contains(word),
                "no {word:?}: {}",
                self.explain(output)
            );
        }
    }

    fn alice(&self) -> std::path::PathBuf {
        self.realm.kinit(ALICE, ALICE_PASSWORD)
    }
}

#[test]
fn check_reports_each_step_with_the_chain_and_the_principal() {
    let Some(rig) = rig(6) else { return };
    let ccache = rig.alice();
    let output = rig.station(&ccache, &["--auth", "negotiate", "check", "--json"]);
    let report = rig.stdout_json(&output);
    let steps = report["steps"].as_array().expect("steps");
    let names: Vec<&str> = steps.iter().filter_map(|s| s["name"].as_str()).collect();
    assert_eq!(
        names,
        [
            "DNS",
            "TCP",
            "TLS",
            "Authentication",
            "GET profiletemplates",
            "GET requests?status=Approved"
        ]
    );
    assert!(steps.iter().all(|s| s["outcome"] == "passed"), "{report:#}");
    let detail = |name: &str| {
        steps
            .iter()
            .find(|s| s["name"] == name)
            .map(|s| s["detail"].to_string())
            .unwrap_or_default()
    };
    // The chain the proxy sends: its localhost certificate, issued by the rig's CA.
    assert!(detail("TLS").contains("CN=localhost"), "{report:#}");
    let auth = detail("Authentication");
    assert!(auth.contains("mechanism: Kerberos"), "{auth}");
    assert!(auth.contains("signed in as: alice@ENROLL.TEST"), "{auth}");

    // Without a ticket the same check stops at authentication and says why.
    let output = rig.station(&rig.realm.empty_ccache(), &["--auth", "negotiate", "check"]);
    assert!(!output.status.success(), "{}", rig.explain(&output));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("FAIL  Authentication"), "{text}");
    assert!(text.contains("no Kerberos ticket"), "{text}");
    assert!(text.contains("skip  GET profiletemplates"), "{text}");
}

#[test]
fn with_a_ticket_the_station_lists_requests() {
    let Some(rig) = rig(6) else { return };
    let ccache = rig.alice();
    let output = rig.station(&ccache, &["--auth", "negotiate", "requests", "--json"]);
    let listed = rig.stdout_json(&output);
    let mut listed: Vec<String> = listed
        .as_array()
        .expect("an array")
        .iter()
        .map(|r| r["uuid"].as_str().expect("a uuid").to_owned())
        .collect();
    let mut expected: Vec<String> = rig
        .emulator
        .requests()
        .iter()
        .map(|r| r.uuid.to_string())
        .collect();
    listed.sort();
    expected.sort();
    assert_eq!(listed.len(), 6);
    assert_eq!(listed, expected);
}

#[test]
fn with_a_ticket_the_station_binds() {
    let Some(_slots) = take_slots() else { return };
    let Some(rig) = rig(8) else { return };
    let ccache = rig.alice();
    let request = first_bindable(&rig.emulator);
    let reader = reader_name(FIRST_PORT);
    let _card = insert(VirtualCard::gids(GIDS_RAW), FIRST_PORT);
    let id = request.uuid.to_string();
    let args = [
        "--auth",
        "negotiate",
        "bind",
        "--request",
        &id,
        "--reader",
        &reader,
        "--json",
    ];
    let output = rig.station(&ccache, &args);
    let bound = rig.stdout_json(&output);
    assert_eq!(bound["outcome"], "bound", "{bound}");
    assert_eq!(bound["request_id"], id.as_str());
    assert_eq!(bound["card_id"], GIDS_CARDID);
    assert_eq!(rig.emulator.bind_count(), 1);
}

#[test]
fn without_a_ticket_it_says_there_is_none() {
    let Some(rig) = rig(3) else { return };
    let ccache = rig.realm.empty_ccache();
    let output = rig.station(&ccache, &["--auth", "negotiate", "requests", "--json"]);
    rig.assert_fails_saying(&output, &["no Kerberos ticket", "kinit"]);
    assert!(output.stdout.is_empty(), "{}", rig.explain(&output));
}

#[test]
fn without_a_ticket_the_configured_account_signs_in_with_its_keyring_password() {
    if find_command("keyctl").is_none() && !common::kerberos::services_required() {
        eprintln!("skipping: keyctl (Debian package keyutils) is not installed");
        return;
    }
    let Some(rig) = rig(3) else { return };
    // A principal of its own, so that its keyring entry is this test's alone.
    let user = format!("agent{}", std::process::id());
    let password = "agent-password-7";
    rig.realm.add_principal(&user, password);
    let principal = rig.realm.principal(&user);
    let config = rig.journal.0.path().join("station.toml");
    std::fs::write(
        &config,
        format!("[auth]\nmethod = \"negotiate\"\nuser = \"{principal}\"\n"),
    )
    .expect("config written");
    let config = config.display().to_string();
    let no_ticket = rig.realm.empty_ccache();
    let run = |args: &[&str], stdin: &str| {
        let mut all = vec!["--config", config.as_str()];
        all.extend_from_slice(args);
        rig.station_in_keyring_session(&no_ticket, &all, stdin)
    };

    // No ticket and no password yet: the message says both ways out.
    let output = run(&["requests", "--json"], "");
    rig.assert_fails_saying(&output, &["no Kerberos ticket", "secret set password"]);

    let output = run(&["secret", "set", "password"], "wrong-password\n");
    assert!(output.status.success(), "{}", rig.explain(&output));
    let output = run(&["requests", "--json"], "");
    rig.assert_fails_saying(&output, &["refused the configured account or password"]);

    let output = run(&["secret", "set", "password"], &format!("{password}\n"));
    assert!(output.status.success(), "{}", rig.explain(&output));
    let output = run(&["check", "--json"], "");
    let report = rig.stdout_json(&output);
    let auth = report["steps"][3]["detail"].to_string();
    assert!(
        auth.contains(&format!("signed in as: {principal}")),
        "{auth}"
    );
    // The password is in the keyring, nowhere in what the station printed.
    assert!(!String::from_utf8_lossy(&output.stdout).contains(password));
    assert!(!String::from_utf8_lossy(&output.stderr).contains(password));

    let output = run(&["secret", "delete", "password"], "");
    assert!(output.status.success(), "{}", rig.explain(&output));
}

#[test]
fn with_a_wrong_service_principal_it_says_so() {
    let Some(rig) = rig(3) else { return };
    let ccache = rig.alice();
    let wrong = format!("HTTP/wrong.example@{}", rig.realm.realm());
    let output = rig.station(
        &ccache,
        &[
            "--auth",
            "negotiate",
            "--service-principal",
            &wrong,
            "requests",
            "--json",
        ],
    );
    rig.assert_fails_saying(&output, &["service principal"]);
}

#[test]
fn without_negotiate_the_proxy_answers_401() {
    let Some(rig) = rig(3) else { return };
    // A ticket is there: only the station's choice keeps it from being used.
    let ccache = rig.alice();
    let output = rig.station(&ccache, &["--auth", "none", "requests", "--json"]);
    rig.assert_fails_saying(&output, &["HTTP 401"]);
}

/// The rig on its own, without the station: curl signs in with the ticket and
/// reaches the emulator, and without one it gets the proxy's 401. When this
/// fails, the tests above fail for the rig's sake, not the station's.
#[test]
fn the_rig_lets_curl_in_with_a_ticket_and_not_without() {
    let Some(rig) = rig(4) else { return };
    let Some(curl) = curl_with_spnego() else {
        return;
    };
    let url = format!(
        "{}{API_PATH}requests",
        rig.proxy.base_url().trim_end_matches('/')
    );
    let get = |ccache: &Path, negotiate: bool| -> (String, Vec<u8>) {
        let body = rig.realm.dir().join("curl-body");
        let mut command = Command::new(&curl);
        command
            .args(["--silent", "--show-error", "--max-time", "30"])
            .arg("--cacert")
            .arg(rig.proxy.ca_pem_path())
            .arg("--output")
            .arg(&body)
            .args(["--write-out", "%{http_code}"]);
        if negotiate {
            command.args(["--negotiate", "--user", ":"]);
        }
        let output = command
            .arg(&url)
            .env("KRB5_CONFIG", rig.realm.krb5_config())
            .env("KRB5CCNAME", ccache_name(ccache))
            .output()
            .expect("curl runs");
        let code = String::from_utf8_lossy(&output.stdout).into_owned();
        let bytes = std::fs::read(&body).unwrap_or_default();
        let _ = std::fs::remove_file(&body);
        (code, bytes)
    };
    let (code, body) = get(&rig.alice(), true);
    assert_eq!(code, "200", "{}", rig.proxy.error_log_tail(20));
    let listed: Value = serde_json::from_slice(&body).expect("the emulator's JSON");
    assert_eq!(listed.as_array().map(Vec::len), Some(4));
    let (code, _) = get(&rig.realm.empty_ccache(), true);
    assert_eq!(code, "401", "no ticket: {}", rig.proxy.error_log_tail(20));
    let (code, _) = get(&rig.alice(), false);
    assert_eq!(
        code,
        "401",
        "no Negotiate: {}",
        rig.proxy.error_log_tail(20)
    );
    let log = std::fs::read_to_string(rig.realm.dir().join("kdc.log")).unwrap_or_default();
    assert!(
        log.contains(&format!("for {}", rig.realm.http_service())),
        "the KDC issued a ticket for the proxy's service: {log}"
    );
}

/// curl when it is there and can do SPNEGO; otherwise panics or skips like the rig.
fn curl_with_spnego() -> Option<std::path::PathBuf> {
    let curl = find_command("curl");
    let spnego = curl.as_ref().is_some_and(|curl| {
        Command::new(curl)
            .arg("--version")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("SPNEGO"))
    });
    if spnego {
        return curl;
    }
    if common::kerberos::services_required() {
        panic!("curl with SPNEGO (GSS-API) support is required here");
    }
    eprintln!("skipping: curl with SPNEGO support not available");
    None
}

/// A server that asks for Negotiate, then "accepts" with a final token that is
/// not the answer to the station's Kerberos ticket: what an impersonator
/// without the service's key would send. Serves `connections` connections.
fn impostor(connections: usize) -> std::net::SocketAddr {
    use std::io::{BufRead as _, BufReader, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let addr = listener.local_addr().expect("its address");
    std::thread::spawn(move || {
        for stream in listener.incoming().take(connections).flatten() {
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut writer = stream;
            loop {
                let mut authorized = false;
                let mut line = String::new();
                let mut saw_request = false;
                while reader.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
                    saw_request = true;
                    if line
                        .to_ascii_lowercase()
                        .starts_with("authorization: negotiate ")
                    {
                        authorized = true;
                    }
                    if line == "\r\n" {
                        break;
                    }
                    line.clear();
                }
                if !saw_request {
                    break;
                }
                let answer = if authorized {
                    // A well-formed SPNEGO "accept-completed" with no Kerberos reply in it.
                    "HTTP/1.1 200 OK\r\nWWW-Authenticate: Negotiate oQcwBaADCgEA\r\n\
                     Content-Type: application/json\r\nContent-Length: 2\r\n\r\n[]"
                } else {
                    "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Negotiate\r\n\
                     Content-Length: 0\r\n\r\n"
                };
                if writer.write_all(answer.as_bytes()).is_err() {
                    break;
                }
            }
        }
    });
    addr
}

#[test]
fn an_answer_that_does_not_prove_the_server_is_refused() {
    let Some(rig) = rig(1) else { return };
    let ccache = rig.alice();
    let addr = impostor(4);
    let output = rig
        .home
        .command()
        // The service principal is HTTP/localhost; plain http to a name
        // needs the lab switch.
        .args(["--server", &format!("http://localhost:{}", addr.port())])
        .arg("--allow-insecure-http")
        .args(["--auth", "negotiate", "requests", "--json"])
        .env("KRB5_CONFIG", rig.realm.krb5_config())
        .env("KRB5CCNAME", ccache_name(&ccache))
        .output()
        .expect("the binary runs");
    rig.assert_fails_saying(&output, &["could not prove it is the server"]);
    assert!(output.stdout.is_empty(), "nothing from that answer is used");
}

#[test]
fn an_exchange_without_mutual_authentication_is_refused_unless_allowed() {
    let Some(rig) = rig_with(2, true) else { return };
    let ccache = rig.alice();
    let output = rig.station(&ccache, &["--auth", "negotiate", "requests", "--json"]);
    rig.assert_fails_saying(
        &output,
        &["no final Negotiate token", "auth.allow_missing_mutual_auth"],
    );
    assert!(output.stdout.is_empty(), "nothing from that answer is used");

    // The documented opt-out, for servers known to omit the final token.
    let config = rig.home.root().join("opt-out.toml");
    std::fs::write(
        &config,
        "[auth]\nmethod = \"negotiate\"\nallow_missing_mutual_auth = true\n",
    )
    .expect("the configuration is written");
    let config = config.to_str().expect("a UTF-8 path");
    let output = rig.station(&ccache, &["--config", config, "requests", "--json"]);
    let requests = rig.stdout_json(&output);
    assert!(requests.is_array(), "{}", rig.explain(&output));
}
