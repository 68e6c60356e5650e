//! The one way the tests (and the benches that include this file) start the
//! `enroll-station` binary: in a home of its own, so that no test reads the
//! developer's `~/.config/enroll-station/station.toml` or writes into
//! `~/.local/share/enroll-station` (the audit journal, the supervisors'
//! refusal count), and no `ENROLL_STATION_*` variable of the developer's
//! shell changes a result.
//!
//! ```ignore
//! let home = StationHome::new();
//! let output = home.command().args(["audit", "verify"]).output()?;
//! // or, for one call: let (_home, mut command) = binary::station();
//! ```
//!
//! The directories live as long as the [`StationHome`]: keep it until the
//! child has ended (a spawned child outlives a temporary).

// Each test binary that declares `mod common` uses only part of the rig.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The binary under test.
pub const PATH: &str = env!("CARGO_BIN_EXE_enroll-station");

/// The station's own variables, removed from every command unless the test
/// sets them again after [`StationHome::command`].
pub const STATION_VARIABLES: [&str; 5] = [
    "ENROLL_STATION_SERVER",
    "ENROLL_STATION_CONFIG",
    "ENROLL_STATION_AUDIT_FILE",
    "ENROLL_STATION_LOG",
    "ENROLL_STATION_BEARER_TOKEN",
];

/// A fresh temporary HOME with the XDG base directories inside it; removed
/// when dropped. `DISPLAY` (and everything else not named here) is kept.
#[must_use = "the directories go when the StationHome is dropped"]
pub struct StationHome {
    dir: tempfile::TempDir,
}

impl StationHome {
    /// A new, empty home: `home/`, and `config/`, `data/`, `state/`,
    /// `cache/` for the XDG variables.
    pub fn new() -> StationHome {
        let dir = tempfile::Builder::new()
            .prefix("enroll-station-home-")
            .tempdir()
            .expect("a temporary directory");
        for sub in ["home", "config", "data", "state", "cache"] {
            std::fs::create_dir(dir.path().join(sub)).expect("a temporary directory");
        }
        StationHome { dir }
    }

    /// The binary, in this home.
    pub fn command(&self) -> Command {
        self.wrap(PATH)
    }

    /// Runs the binary in this home with `args` and nothing on stdin.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command()
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("the binary runs")
    }

    /// Runs the binary in this home with `args` and `input` on stdin (a
    /// pipe, not a terminal: a password is read as a line).
    pub fn run_with_input(&self, args: &[&str], input: &str) -> Output {
        input_to(self.command().args(args), input)
    }

    /// Another program (one that runs the binary, such as `keyctl session -`,
    /// or a stand-in window for a bench) with the same environment.
    pub fn wrap(&self, program: impl AsRef<OsStr>) -> Command {
        let mut command = Command::new(program);
        self.isolate(&mut command);
        command
    }

    /// Points `command` at this home: HOME and the XDG base directories set,
    /// the station's variables removed. Later `.env` calls win.
    pub fn isolate<'a>(&self, command: &'a mut Command) -> &'a mut Command {
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("ENROLL_STATION_") {
                command.env_remove(key);
            }
        }
        for key in STATION_VARIABLES {
            command.env_remove(key);
        }
        command
            .env("HOME", self.home())
            .env("XDG_CONFIG_HOME", self.config_home())
            .env("XDG_DATA_HOME", self.data_home())
            .env("XDG_STATE_HOME", self.dir.path().join("state"))
            .env("XDG_CACHE_HOME", self.dir.path().join("cache"))
    }

    /// The temporary directory holding everything below.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// HOME.
    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    /// XDG_CONFIG_HOME.
    pub fn config_home(&self) -> PathBuf {
        self.dir.path().join("config")
    }

    /// XDG_DATA_HOME.
    pub fn data_home(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Where the binary looks for its configuration when given none.
    pub fn default_config(&self) -> PathBuf {
        self.config_home()
            .join("enroll-station")
            .join("station.toml")
    }

    /// Where the binary keeps its audit journal when given none.
    pub fn default_journal(&self) -> PathBuf {
        self.data_home().join("enroll-station").join("audit.jsonl")
    }
}

impl Default for StationHome {
    fn default() -> Self {
        StationHome::new()
    }
}

/// A fresh home and the binary in it, for one call; keep the home as long as
/// the command or its child runs.
pub fn station() -> (StationHome, Command) {
    let home = StationHome::new();
    let command = home.command();
    (home, command)
}

/// The JSON a successful run printed; a failed run fails the test with its
/// exit status and stderr.
pub fn json_stdout(output: &Output) -> serde_json::Value {
    assert!(
        output.status.success(),
        "exit {:?}, stderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("stdout is JSON")
}

/// Runs `command` with `input` on its standard input and waits for it.
pub fn input_to(command: &mut Command, input: &str) -> Output {
    use std::io::Write as _;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(input.as_bytes())
        .expect("the input is written");
    child.wait_with_output().expect("the binary ends")
}
