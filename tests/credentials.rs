//! Secrets and credentials on real parts (issue 20, items 5 and 6; review
//! L2, L7, L10): the real binary against the real emulator over HTTP on
//! loopback, a real token command, and the running station process's own
//! view of its core-dump settings.
//!
//! - a bearer token from `ENROLL_STATION_BEARER_TOKEN` or `token_command`
//!   goes only to the configured server's host, never to another `--server`;
//! - plain http only to a literal loopback address (`http://cm.localhost` is
//!   refused);
//! - `token_command`: an absolute path, a small allow-listed environment, a
//!   cap on its output, and its error output never shown or stored;
//! - `emulator --listen`: loopback unless `--allow-remote`, and a `Host`
//!   header that names it;
//! - core dumps off in the running station.
//!
//! The Negotiate side (mutual authentication, its opt-out) is in
//! `tests/negotiate.rs`, on the KDC + Apache rig.

// Token commands are shell scripts here.
#![cfg(unix)]

mod common;

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::time::Duration;

use common::binary::StationHome;
use enroll_station::cm::emulator::{Emulator, EmulatorConfig};

const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.the-site-token.c2lnbmF0dXJl";

/// A canary that must never appear in anything the station shows or keeps.
const CANARY: &str = "canary-7f3a9c-secret";

/// An emulator on `ip` (a loopback address) that wants [`TOKEN`].
fn emulator_on(ip: &str) -> Emulator {
    Emulator::start_on_thread(EmulatorConfig {
        listen: SocketAddr::new(ip.parse().expect("an IP address"), 0),
        requests: 3,
        bearer_token: Some(TOKEN.to_owned()),
        ..EmulatorConfig::default()
    })
    .expect("the emulator starts on loopback")
}

/// Writes the default configuration file of `home`.
fn configure(home: &StationHome, toml: &str) {
    let path = home.default_config();
    std::fs::create_dir_all(path.parent().expect("a folder")).expect("the config folder");
    std::fs::write(&path, toml).expect("the configuration is written");
}

fn bearer_config(server: &str, token_command: Option<&[&str]>) -> String {
    let mut toml = format!("server = \"{server}\"\n\n[auth]\nmethod = \"bearer\"\n");
    if let Some(command) = token_command {
        let quoted: Vec<String> = command.iter().map(|a| format!("{a:?}")).collect();
        toml.push_str(&format!("token_command = [{}]\n", quoted.join(", ")));
    }
    toml
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn explain(output: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        stderr(output)
    )
}

fn requests(home: &StationHome, args: &[&str], env: &[(&str, &str)]) -> Output {
    home.command()
        .args(args)
        .args(["requests", "--json"])
        .envs(env.iter().copied())
        .output()
        .expect("the binary runs")
}

/// An executable shell script in `dir`; its absolute path.
fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt as _;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("the script is written");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
        .expect("the script is executable");
    path
}

/// Every file under `dir` that holds `needle`.
fn files_holding(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => pending.push(path),
                Ok(kind) if kind.is_file() => {
                    let bytes = std::fs::read(&path).unwrap_or_default();
                    if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                        found.push(path);
                    }
                }
                _ => {}
            }
        }
    }
    found
}

#[test]
fn an_environment_token_goes_only_to_the_configured_server() {
    let own = emulator_on("127.0.0.1");
    // Another host on loopback: 127.0.0.2 is this machine too, but not the
    // host the configuration names.
    let other = emulator_on("127.0.0.2");
    let home = StationHome::new();
    configure(&home, &bearer_config(&own.base_url(), None));
    let env = [("ENROLL_STATION_BEARER_TOKEN", TOKEN)];

    let output = requests(&home, &[], &env);
    assert!(output.status.success(), "{}", explain(&output));
    assert!(
        own.credentialed_calls() > 0,
        "the configured server got the token"
    );

    let other_url = other.base_url();
    let output = requests(&home, &["--server", &other_url], &env);
    assert!(!output.status.success(), "{}", explain(&output));
    let text = stderr(&output);
    assert!(text.contains("was not sent to 127.0.0.2"), "{text}");
    assert!(text.contains("ENROLL_STATION_BEARER_TOKEN"), "{text}");
    assert!(!text.contains(TOKEN), "{text}");
    assert_eq!(
        other.credentialed_calls(),
        0,
        "no credentials reached the other server"
    );

    // The same through the environment's server variable.
    let output = home
        .command()
        .args(["requests", "--json"])
        .env("ENROLL_STATION_SERVER", &other_url)
        .envs(env)
        .output()
        .expect("the binary runs");
    assert!(!output.status.success(), "{}", explain(&output));
    assert_eq!(other.credentialed_calls(), 0);
}

#[test]
fn a_command_token_goes_only_to_the_configured_server_and_the_command_does_not_run() {
    let own = emulator_on("127.0.0.1");
    let other = emulator_on("127.0.0.2");
    let home = StationHome::new();
    let ran = home.root().join("ran");
    let command = script(
        home.root(),
        "get-token",
        &format!("echo run >> '{}'\necho {TOKEN}", ran.display()),
    );
    let command = command.to_str().expect("a UTF-8 path");
    configure(&home, &bearer_config(&own.base_url(), Some(&[command])));

    let output = requests(&home, &[], &[]);
    assert!(output.status.success(), "{}", explain(&output));
    assert!(ran.exists(), "the command minted the token");
    std::fs::remove_file(&ran).expect("the marker goes");

    let output = requests(&home, &["--server", &other.base_url()], &[]);
    assert!(!output.status.success(), "{}", explain(&output));
    assert!(
        stderr(&output).contains("auth.token_command"),
        "{}",
        explain(&output)
    );
    assert!(
        !ran.exists(),
        "the command was not even run for another host"
    );
    assert_eq!(other.credentialed_calls(), 0);
}

#[test]
fn plain_http_goes_only_to_a_literal_loopback_address() {
    let home = StationHome::new();
    for server in ["http://cm.localhost:8443", "http://localhost:8443"] {
        let output = requests(&home, &["--server", server, "--auth", "none"], &[]);
        assert!(!output.status.success(), "{server}: {}", explain(&output));
        let text = stderr(&output);
        assert!(text.contains("Refusing plain http://"), "{server}: {text}");
        assert!(
            text.contains("literal loopback address"),
            "{server}: {text}"
        );
    }
    // 127.0.0.1 (and ::1 where this machine has IPv6) are fine.
    let emulator = Emulator::start_on_thread(EmulatorConfig {
        requests: 2,
        ..EmulatorConfig::default()
    })
    .expect("the emulator starts");
    let output = requests(
        &home,
        &["--server", &emulator.base_url(), "--auth", "none"],
        &[],
    );
    assert!(output.status.success(), "{}", explain(&output));
    if let Ok(v6) = Emulator::start_on_thread(EmulatorConfig {
        listen: "[::1]:0".parse().expect("an address"),
        requests: 2,
        ..EmulatorConfig::default()
    }) {
        let url = v6.base_url();
        assert!(url.starts_with("http://[::1]:"), "{url}");
        let output = requests(&home, &["--server", &url, "--auth", "none"], &[]);
        assert!(output.status.success(), "{}", explain(&output));
    }
}

#[test]
fn a_token_command_must_be_named_by_an_absolute_path() {
    let home = StationHome::new();
    configure(
        &home,
        &bearer_config("https://cm.contoso.com", Some(&["get-token", "--fresh"])),
    );
    let output = requests(&home, &[], &[]);
    assert!(!output.status.success(), "{}", explain(&output));
    let text = stderr(&output);
    assert!(text.contains("auth.token_command"), "{text}");
    assert!(text.contains("absolute path"), "{text}");
}

#[test]
fn a_token_command_gets_only_the_allowed_environment() {
    let emulator = emulator_on("127.0.0.1");
    let home = StationHome::new();
    let dump = home.root().join("environment");
    let command = script(
        home.root(),
        "get-token",
        &format!(
            "env > '{}'\nulimit -c >> '{}'\necho {TOKEN}",
            dump.display(),
            dump.display()
        ),
    );
    let command = command.to_str().expect("a UTF-8 path");
    configure(
        &home,
        &bearer_config(&emulator.base_url(), Some(&[command])),
    );
    let output = requests(
        &home,
        &[],
        &[
            ("CANARY_SECRET", CANARY),
            ("AWS_SECRET_ACCESS_KEY", CANARY),
            ("ENROLL_STATION_LOG", "warn"),
            ("PATH", "/tmp/evil:/usr/bin:/bin"),
            ("KRB5CCNAME", "FILE:/tmp/krb5cc_test"),
            ("LANG", "C.UTF-8"),
        ],
    );
    assert!(output.status.success(), "{}", explain(&output));
    let environment = std::fs::read_to_string(&dump).expect("the command wrote its environment");
    let names: Vec<&str> = environment
        .lines()
        .filter_map(|line| line.split_once('=').map(|(name, _)| name))
        .collect();
    // What the shell itself adds (PWD, SHLVL, _) is not the station's doing.
    let allowed = [
        "PATH",
        "HOME",
        "USER",
        "LOGNAME",
        "LANG",
        "LC_ALL",
        "LC_CTYPE",
        "TZ",
        "TMPDIR",
        "KRB5CCNAME",
        "KRB5_CONFIG",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "HTTPS_PROXY",
        "https_proxy",
        "NO_PROXY",
        "no_proxy",
        "PWD",
        "SHLVL",
        "_",
        "OLDPWD",
    ];
    for name in &names {
        assert!(
            allowed.contains(name),
            "{name} reached the command:\n{environment}"
        );
    }
    assert!(!environment.contains(CANARY), "{environment}");
    assert!(!environment.contains("ENROLL_STATION"), "{environment}");
    assert!(
        environment.contains("PATH=/usr/local/bin:/usr/bin:/bin\n"),
        "{environment}"
    );
    assert!(
        environment.contains("KRB5CCNAME=FILE:/tmp/krb5cc_test"),
        "{environment}"
    );
    assert!(environment.contains("LANG=C.UTF-8"), "{environment}");
    // The station's own limit is inherited: no core file from the command either.
    assert!(environment.ends_with("0\n"), "{environment}");
}

#[test]
fn a_token_command_that_prints_too_much_is_refused() {
    let emulator = emulator_on("127.0.0.1");
    let home = StationHome::new();
    let command = script(
        home.root(),
        "get-token",
        "head -c 1000000 /dev/zero | tr '\\0' a",
    );
    let command = command.to_str().expect("a UTF-8 path");
    configure(
        &home,
        &bearer_config(&emulator.base_url(), Some(&[command])),
    );
    let output = requests(&home, &[], &[]);
    assert!(!output.status.success(), "{}", explain(&output));
    assert!(
        stderr(&output).contains("more than 64 KiB"),
        "{}",
        explain(&output)
    );
    assert_eq!(emulator.credentialed_calls(), 0, "nothing was sent");
}

#[test]
fn a_failing_token_command_says_so_without_its_error_output() {
    let emulator = emulator_on("127.0.0.1");
    let home = StationHome::new();
    let command = script(
        home.root(),
        "get-token",
        &format!("echo {CANARY}-on-stdout\necho \"login failed for {CANARY}\" >&2\nexit 7"),
    );
    let command = command.to_str().expect("a UTF-8 path");
    configure(
        &home,
        &bearer_config(&emulator.base_url(), Some(&[command])),
    );
    // With the log at its most talkative, so nothing hides in a debug line.
    let output = requests(&home, &[], &[("ENROLL_STATION_LOG", "trace")]);
    assert!(!output.status.success(), "{}", explain(&output));
    let text = stderr(&output);
    assert!(text.contains("auth.token_command"), "{text}");
    assert!(text.contains("failed"), "{text}");
    assert!(text.contains("exit status: 7"), "{text}");
    assert!(text.contains("neither shown nor stored"), "{text}");
    assert!(!text.contains(CANARY), "{text}");
    assert!(!String::from_utf8_lossy(&output.stdout).contains(CANARY));
    // Nothing the station keeps (journal, logs, state) holds it either.
    let kept = files_holding(home.root(), CANARY);
    assert!(
        kept.iter().all(|path| path.ends_with("get-token")),
        "{kept:?}"
    );
    assert_eq!(emulator.credentialed_calls(), 0, "nothing was sent");
}

/// `text` without the terminal colour sequences the log writes.
fn without_colours(text: &str) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ parameters, up to a final letter.
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    plain
}

/// A station process that keeps running: `enroll-station emulator`, and the
/// address it prints.
struct Running {
    child: Child,
    addr: SocketAddr,
    _home: StationHome,
}

impl Running {
    fn emulator(args: &[&str]) -> Running {
        let home = StationHome::new();
        let mut child = home
            .command()
            .args(["emulator", "--requests", "2"])
            .args(args)
            .env("ENROLL_STATION_LOG", "debug")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the emulator says where it listens");
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("not an address: {line:?}"));
        Running {
            child,
            addr,
            _home: home,
        }
    }

    /// The status code of `GET /…/requests` with `host` as the `Host` header.
    fn status_for_host(&self, host: &str) -> u16 {
        let mut stream = TcpStream::connect(self.addr).expect("connects");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("a timeout");
        write!(
            stream,
            "GET /CertificateManagement/api/v1.0/requests HTTP/1.1\r\nHost: {host}\r\n\
             Connection: close\r\n\r\n"
        )
        .expect("the request is sent");
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        answer
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("no status line: {answer:?}"))
    }

    /// Stops it; its stderr.
    fn stop(mut self) -> String {
        let _ = self.child.kill();
        let output = self.child.wait_with_output().expect("it ends");
        String::from_utf8_lossy(&output.stderr).into_owned()
    }
}

#[test]
fn the_emulator_listens_on_loopback_unless_allowed() {
    let home = StationHome::new();
    for listen in ["0.0.0.0:0", "192.0.2.1:8443"] {
        let output = home
            .command()
            .args(["emulator", "--listen", listen])
            .output()
            .expect("the binary runs");
        assert!(!output.status.success(), "{listen}: {}", explain(&output));
        let text = stderr(&output);
        assert!(text.contains("not a loopback address"), "{text}");
        assert!(text.contains("--allow-remote"), "{text}");
    }
}

#[test]
fn the_emulator_answers_only_a_host_that_names_it() {
    let running = Running::emulator(&["--listen", "127.0.0.1:0"]);
    let port = running.addr.port();
    assert_eq!(running.status_for_host(&format!("127.0.0.1:{port}")), 200);
    assert_eq!(running.status_for_host(&format!("localhost:{port}")), 200);
    // DNS rebinding: a page from another site, its name now pointing here.
    for host in [
        format!("attacker.example:{port}"),
        format!("localhost.attacker.example:{port}"),
        "cm.localhost".to_owned(),
    ] {
        assert_eq!(running.status_for_host(&host), 421, "{host}");
    }
    running.stop();
}

#[cfg(target_os = "linux")]
#[test]
fn the_running_station_leaves_no_core_dump() {
    let running = Running::emulator(&["--listen", "127.0.0.1:0"]);
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", running.child.id()))
        .expect("the process's limits");
    let core = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .expect("a core limit line");
    let values: Vec<&str> = core.split_whitespace().collect();
    assert_eq!(&values[4..6], ["0", "0"], "{core}");
    let log = without_colours(&running.stop());
    // The process's own answer to prctl(PR_GET_DUMPABLE) and getrlimit.
    let line = log
        .lines()
        .find(|l| l.contains("process hardening"))
        .unwrap_or_else(|| panic!("no hardening line: {log}"));
    assert!(line.contains("dumpable=false"), "{line}");
    assert!(line.contains("core_limit=Some((0, 0))"), "{line}");

    // The debugging switch leaves them on, and says so (the emulator then
    // refuses its address and ends: nothing listens).
    let home = StationHome::new();
    let output = home
        .command()
        .args(["emulator", "--listen", "0.0.0.0:0"])
        .env("ENROLL_STATION_ALLOW_CORE_DUMPS", "1")
        .env("ENROLL_STATION_LOG", "debug")
        .output()
        .expect("the binary runs");
    let text = without_colours(&stderr(&output));
    assert!(text.contains("core dumps are left on"), "{text}");
    assert!(text.contains("dumpable=true"), "{text}");
}
