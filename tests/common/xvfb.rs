//! Xvfb for tests and benches that open the real window.

// Each test binary that declares `mod common` uses only part of the rig.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// Xvfb, stopped with SIGTERM so it removes its lock file and socket (after
/// SIGKILL they stay behind and the display number stays taken).
pub struct Xvfb(Child);

impl Drop for Xvfb {
    fn drop(&mut self) {
        let terminated = Command::new("kill")
            .arg(self.0.id().to_string())
            .status()
            .is_ok_and(|s| s.success());
        let deadline = Instant::now() + Duration::from_secs(5);
        while terminated && Instant::now() < deadline {
            if matches!(self.0.try_wait(), Ok(Some(_))) {
                return;
            }
            thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Xvfb {
    /// The server's process ID.
    pub fn id(&self) -> u32 {
        self.0.id()
    }
}

/// Starts Xvfb on a free display and waits until it listens; returns it and its `DISPLAY`.
pub fn start_xvfb() -> (Xvfb, String) {
    let display = (200..300)
        .find(|n| {
            !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
                && !Path::new(&format!("/tmp/.X{n}-lock")).exists()
        })
        .map(|n| format!(":{n}"))
        .expect("a free X display between :200 and :299");
    let xvfb = Xvfb(
        Command::new("Xvfb")
            .args([
                display.as_str(),
                "-screen",
                "0",
                "1280x800x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb starts (Debian: apt-get install xvfb)"),
    );
    let socket = PathBuf::from(format!("/tmp/.X11-unix/X{}", &display[1..]));
    let deadline = Instant::now() + Duration::from_secs(10);
    while !socket.exists() {
        assert!(Instant::now() < deadline, "Xvfb did not open {display}");
        thread::sleep(Duration::from_millis(50));
    }
    (xvfb, display)
}

/// True when `CI` or `ENROLL_STATION_REQUIRE_SERVICES` asks for the services:
/// a missing one then fails the test instead of skipping it.
pub fn services_required() -> bool {
    std::env::var_os("CI").is_some()
        || std::env::var_os("ENROLL_STATION_REQUIRE_SERVICES").is_some()
}

/// True when `program` is on the PATH.
pub fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// Kills the child when the test ends, pass or fail.
pub struct Reaped(pub Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
