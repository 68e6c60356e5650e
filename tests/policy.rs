//! The machine policy and the end of fail-open (issue 19; security review
//! H2 and L4), on real parts: the binary, the CM emulator over loopback
//! HTTP, and the first-run screen in egui_kittest.
//!
//! A test cannot write `/etc/enroll-station/policy.toml`; it gives its
//! policy through `ENROLL_STATION_EXTRA_POLICY`, which adds pins below the
//! machine policy and is read with the same rules.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{binary, first_bindable};
use egui_kittest::kittest::Queryable as _;
use enroll_station::cm::emulator::{Emulator, EmulatorConfig};
use enroll_station::config::policy::EXTRA_POLICY_VARIABLE;

const SUPERVISOR_PASSWORD: &str = "a long supervisor passphrase";

fn emulator() -> Emulator {
    Emulator::start_on_thread(EmulatorConfig {
        requests: 4,
        ..EmulatorConfig::default()
    })
    .expect("the emulator starts on loopback")
}

/// Runs the binary in a home of its own with `env` set and `input` on stdin;
/// no display, so a window that should not open cannot.
fn station(args: &[&str], env: &[(&str, &Path)], input: &str) -> Output {
    use std::io::Write as _;
    let (_home, mut command) = binary::station();
    command
        .args(args)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command.spawn().expect("the binary runs");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(input.as_bytes())
        .expect("the input is written");
    child.wait_with_output().expect("the binary ends")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The `[[supervisors]]` lines `supervisor hash` prints for `name`.
fn supervisor_lines(name: &str, account: &str) -> String {
    let hashed = station(
        &["supervisor", "hash", "--name", name, "--account", account],
        &[],
        &format!("{SUPERVISOR_PASSWORD}\n"),
    );
    assert!(hashed.status.success(), "{}", stderr(&hashed));
    String::from_utf8(hashed.stdout).expect("UTF-8")
}

/// A policy file with `text`, readable by all and writable by its owner only.
fn policy_file(dir: &Path, text: &str) -> PathBuf {
    policy_file_named(dir, "policy.toml", text)
}

fn policy_file_named(dir: &Path, name: &str, text: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt as _;
    let path = dir.join(name);
    std::fs::write(&path, text).expect("the policy");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    path
}

#[test]
fn a_supervised_policy_holds_against_config_dev_null_and_nothing_is_posted() {
    let emulator = emulator();
    let url = emulator.base_url();
    let request = first_bindable(&emulator).uuid.to_string();
    let dir = tempfile::tempdir().expect("a directory");
    let policy = policy_file(
        dir.path(),
        &format!(
            "mode = \"supervised\"\n\n{}",
            supervisor_lines("Sam Supervisor", "sam-supervisor")
        ),
    );
    let env = [(EXTRA_POLICY_VARIABLE, policy.as_path())];
    let bind = |extra: &[&str], input: &str| {
        let mut args = vec![
            "--config",
            "/dev/null",
            "--server",
            &url,
            "bind",
            "--request",
            &request,
            "--reader",
            "No Such Reader 00",
        ];
        args.extend_from_slice(extra);
        station(&args, &env, input)
    };

    // `--config /dev/null` replaces the operator's file, not the policy.
    let refused = bind(&[], "");
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("--supervisor NAME"),
        "{}",
        stderr(&refused)
    );
    // With a supervisor named, the card is read before the password is
    // asked for; without a reader service that is where it stops. Either
    // way nothing reaches the server.
    let refused = bind(&["--supervisor", "Sam Supervisor"], "not the password\n");
    assert!(!refused.status.success());
    assert_eq!(emulator.bind_count(), 0, "nothing was POSTed");

    // A configuration that says otherwise is refused in words, not merged.
    let desk = dir.path().join("desk.toml");
    std::fs::write(&desk, "mode = \"desk\"\n").expect("config");
    let refused = station(
        &[
            "--config",
            &desk.display().to_string(),
            "--server",
            &url,
            "bind",
            "--request",
            &request,
        ],
        &env,
        "",
    );
    assert!(!refused.status.success());
    let words = stderr(&refused);
    assert!(
        words.contains(&format!(
            "`mode` is set by the machine policy ({}, named by {EXTRA_POLICY_VARIABLE}) to \
             \"supervised\"; remove it from {}",
            policy.display(),
            desk.display()
        )),
        "{words}"
    );
    // A file repeating the policy's value changes nothing and is accepted.
    let same = dir.path().join("same.toml");
    std::fs::write(&same, "mode = \"supervised\"\n").expect("config");
    let refused = station(
        &[
            "--config",
            &same.display().to_string(),
            "--server",
            &url,
            "bind",
            "--request",
            &request,
        ],
        &env,
        "",
    );
    assert!(
        stderr(&refused).contains("--supervisor NAME"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(emulator.bind_count(), 0, "nothing was POSTed");
}

#[test]
fn the_command_line_and_the_environment_cannot_change_a_pinned_key() {
    let emulator = emulator();
    let url = emulator.base_url();
    let dir = tempfile::tempdir().expect("a directory");
    let policy = policy_file(
        dir.path(),
        &format!("server = \"{url}\"\nmode = \"supervised\"\n"),
    );
    let env = [(EXTRA_POLICY_VARIABLE, policy.as_path())];

    // The pinned server is used without being named.
    let listed = station(&["--config", "/dev/null", "requests", "--json"], &env, "");
    assert!(listed.status.success(), "{}", stderr(&listed));

    let refused = station(
        &["--server", "https://cm.contoso.com", "requests"],
        &env,
        "",
    );
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("`server` is set by the machine policy")
            && stderr(&refused).contains("remove --server from the command line"),
        "{}",
        stderr(&refused)
    );

    let variable = PathBuf::from("https://cm.contoso.com");
    let refused = station(
        &["requests"],
        &[env[0], ("ENROLL_STATION_SERVER", variable.as_path())],
        "",
    );
    assert!(
        stderr(&refused).contains("unset ENROLL_STATION_SERVER"),
        "{}",
        stderr(&refused)
    );

    // --kiosk and --demo are refused before any window opens.
    let refused = station(&["--kiosk"], &env, "");
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("remove --kiosk from the command line"),
        "{}",
        stderr(&refused)
    );
    let refused = station(&["--demo"], &env, "");
    assert!(
        stderr(&refused).contains("remove --demo from the command line"),
        "{}",
        stderr(&refused)
    );
}

#[test]
fn a_kiosk_or_supervised_station_without_a_server_refuses_to_start() {
    let dir = tempfile::tempdir().expect("a directory");
    let refused = station(&["--config", "/dev/null", "--kiosk"], &[], "");
    assert_eq!(refused.status.code(), Some(1));
    let words = stderr(&refused);
    assert!(
        words.contains("No CM server is configured, and a kiosk station does not start"),
        "{words}"
    );
    assert!(words.contains("--demo"), "{words}");

    let supervised = dir.path().join("supervised.toml");
    std::fs::write(&supervised, "mode = \"supervised\"\n").expect("config");
    let refused = station(&["--config", &supervised.display().to_string()], &[], "");
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("a supervised station does not start without one"),
        "{}",
        stderr(&refused)
    );

    // Pinned by a policy, the same.
    let policy = policy_file(dir.path(), "mode = \"kiosk\"\n");
    let refused = station(&[], &[(EXTRA_POLICY_VARIABLE, policy.as_path())], "");
    assert!(
        stderr(&refused).contains("a kiosk station does not start without one"),
        "{}",
        stderr(&refused)
    );
}

#[test]
fn a_policy_file_someone_else_can_change_is_refused() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().expect("a directory");
    let policy = policy_file(dir.path(), "mode = \"supervised\"\n");
    std::fs::set_permissions(&policy, std::fs::Permissions::from_mode(0o666)).expect("chmod");
    let env = [(EXTRA_POLICY_VARIABLE, policy.as_path())];
    let refused = station(&["audit", "verify"], &env, "");
    assert!(!refused.status.success());
    let words = stderr(&refused);
    assert!(
        words.contains("is not protected: anyone can write to it (mode 0666)")
            && words.contains("A policy anyone can edit is no policy"),
        "{words}"
    );

    // Owned by another account: only root can give a file away.
    if unsafe { libc::geteuid() } == 0 {
        std::fs::set_permissions(&policy, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        std::os::unix::fs::chown(&policy, Some(65534), None).expect("chown");
        let refused = station(&["audit", "verify"], &env, "");
        assert!(!refused.status.success());
        assert!(
            stderr(&refused).contains("it is owned by uid 65534, not by root"),
            "{}",
            stderr(&refused)
        );
    }

    // A policy that names a key no policy can pin is refused too.
    let policy = policy_file_named(dir.path(), "unpinnable.toml", "larger_text = true\n");
    let refused = station(
        &["audit", "verify"],
        &[(EXTRA_POLICY_VARIABLE, policy.as_path())],
        "",
    );
    assert!(
        stderr(&refused).contains("sets `larger_text`, which a policy cannot pin"),
        "{}",
        stderr(&refused)
    );
}

#[test]
fn without_a_server_the_window_opens_on_the_first_run_screen() {
    use enroll_station::ui::first_run::{FirstRunChoice, NO_SERVER};
    use enroll_station::ui::launch::{Start, start_for};
    // What the launcher decides: the demo backend only with --demo.
    assert_eq!(
        start_for(false, false, enroll_station::config::Mode::Desk),
        Start::FirstRun
    );

    let dir = tempfile::tempdir().expect("a directory");
    let mut overrides = enroll_station::config::Overrides::default();
    overrides.pin("mode", "/etc/enroll-station/policy.toml".to_owned());
    let (mut h, _runtime) =
        common::window::first_run(Some(dir.path().join("station.toml")), overrides);
    h.run_steps(2);
    assert!(h.query_by_label_contains(NO_SERVER).is_some());
    assert!(h.query_by_label("Try the demo").is_some());
    // No request list, no demo: nothing runs until someone chooses.
    assert!(h.query_by_label_contains("DEMO").is_none());

    h.get_by_label("Try the demo").click();
    h.run_steps(2);
    assert_eq!(h.state().choice(), Some(FirstRunChoice::Demo));

    h.get_by_label("Enter the server…").click();
    h.run_steps(3);
    assert!(
        h.query_by_label("Server address").is_some(),
        "Settings is open"
    );
    assert!(h.query_by_label("Test connection").is_some());
    assert!(
        h.query_all_by_label_contains("Set by policy: the machine")
            .next()
            .is_some(),
        "the pinned Mode is locked and says why"
    );
}

/// Any GIDS card ID: the bind below only needs a card the policy's
/// supervisor can witness.
const GIDS_RAW: [u8; 16] = [
    0x3f, 0xf1, 0xc8, 0xbc, 0xba, 0x83, 0x37, 0x40, 0x82, 0x62, 0x46, 0xeb, 0xa1, 0x29, 0x1c, 0x6e,
];

/// The other half of the test: with the policy's own supervisor,
/// `--config /dev/null` still binds, witnessed, through pcscd and vpcd.
#[test]
fn with_the_policys_supervisor_the_bind_goes_through_and_names_them() {
    use common::vpcd::{FIRST_PORT, insert, reader_name, take_slots};
    use enroll_station::card::virtual_card::VirtualCard;
    let Some(_slots) = take_slots() else { return };
    let emulator = emulator();
    let url = emulator.base_url();
    let request = first_bindable(&emulator).uuid.to_string();
    let dir = tempfile::tempdir().expect("a directory");
    let policy = policy_file(
        dir.path(),
        &format!(
            "mode = \"supervised\"\n\n{}",
            supervisor_lines("Sam Supervisor", "sam-supervisor")
        ),
    );
    let journal = dir.path().join("audit.jsonl");
    let reader = reader_name(FIRST_PORT);
    let _card = insert(VirtualCard::gids(GIDS_RAW), FIRST_PORT);
    let bound = station(
        &[
            "--config",
            "/dev/null",
            "--server",
            &url,
            "--audit-file",
            &journal.display().to_string(),
            "bind",
            "--request",
            &request,
            "--reader",
            &reader,
            "--supervisor",
            "Sam Supervisor",
            "--json",
        ],
        &[(EXTRA_POLICY_VARIABLE, policy.as_path())],
        &format!("{SUPERVISOR_PASSWORD}\n"),
    );
    assert!(bound.status.success(), "{}", stderr(&bound));
    assert_eq!(emulator.bind_count(), 1);
    let attempt: serde_json::Value = std::fs::read_to_string(&journal)
        .expect("the journal")
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).expect("JSON"))
        .find(|record| record["event"] == "attempt")
        .expect("an attempt record");
    assert_eq!(attempt["supervisor"], "Sam Supervisor");
}
