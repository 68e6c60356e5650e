//! The real binary in kiosk mode under Xvfb with a real window manager
//! (openbox): the window covers the screen, and a close request from the
//! window manager (what Alt+F4 or a close button sends) leaves it open.
//! The same close request does close the desk window, so the test proves
//! the request really arrives.
//!
//! Needs `Xvfb` (Debian: xvfb), `openbox` and `wmctrl`, and for the
//! screenshot ImageMagick's `import`. Under CI (or
//! ENROLL_STATION_REQUIRE_SERVICES) a missing one fails the test.

mod common;

use common::xvfb::{Reaped, on_path, services_required};

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

const TITLE: &str = "Enroll Station";

/// The tests run one at a time: two could pick the same free X display.
static ONE_DISPLAY_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn wmctrl(display: &str, args: &[&str]) -> Option<String> {
    let output = Command::new("wmctrl")
        .args(args)
        .env("DISPLAY", display)
        .stderr(Stdio::null())
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

/// `wmctrl -l -G` lines for the station's window: id, desktop, x, y, width, height, host, title.
fn station_windows(display: &str) -> Vec<String> {
    wmctrl(display, &["-l", "-G"])
        .unwrap_or_default()
        .lines()
        .filter(|line| line.ends_with(TITLE))
        .map(str::to_owned)
        .collect()
}

fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(100));
    }
}

/// Dropped in field order: the window manager, then the display, then the turn.
struct Desktop {
    display: String,
    scratch: PathBuf,
    _openbox: Reaped,
    _xvfb: common::xvfb::Xvfb,
    _turn: std::sync::MutexGuard<'static, ()>,
}

/// Xvfb with openbox managing it, ready for windows.
fn desktop(name: &str) -> Desktop {
    let turn = ONE_DISPLAY_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let (xvfb, display) = common::xvfb::start_xvfb();
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::create_dir_all(&scratch).expect("a scratch folder");
    let openbox = Reaped(
        Command::new("openbox")
            .arg("--sm-disable")
            .env("DISPLAY", &display)
            // openbox reads its configuration from here; an empty folder means its defaults.
            .env("XDG_CONFIG_HOME", &scratch)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("openbox starts"),
    );
    // Slow on a loaded machine (a build running beside the tests).
    wait_until(
        "openbox to manage the display",
        Duration::from_secs(30),
        || wmctrl(&display, &["-m"]).is_some_and(|m| m.contains("Openbox")),
    );
    Desktop {
        display,
        scratch,
        _openbox: openbox,
        _xvfb: xvfb,
        _turn: turn,
    }
}

fn start_station(desktop: &Desktop, args: &[&str], log: &Path) -> Reaped {
    let stderr = std::fs::File::create(log).expect("log file");
    Reaped(
        Command::new(env!("CARGO_BIN_EXE_enroll-station"))
            .args(args)
            .env("DISPLAY", &desktop.display)
            .env_remove("WAYLAND_DISPLAY")
            .env("ENROLL_STATION_LOG", "info")
            // The demo journal goes to the scratch folder, not the user's data folder.
            .env("XDG_DATA_HOME", &desktop.scratch)
            // No configuration file of this machine applies (and none names a supervisor).
            .env("XDG_CONFIG_HOME", &desktop.scratch)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("the station starts"),
    )
}

fn log_of(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn tools_present() -> bool {
    let missing: Vec<&str> = ["Xvfb", "openbox", "wmctrl"]
        .into_iter()
        .filter(|tool| !on_path(tool))
        .collect();
    if missing.is_empty() {
        return true;
    }
    assert!(
        !services_required(),
        "{} required here but not installed (Debian: apt-get install xvfb openbox wmctrl)",
        missing.join(", ")
    );
    eprintln!("skipping: {} not installed", missing.join(", "));
    false
}

#[test]
fn a_kiosk_window_covers_the_screen_and_survives_a_close_request() {
    if !tools_present() {
        return;
    }
    let desktop = desktop("kiosk-xvfb");
    let log = desktop.scratch.join("kiosk-stderr.log");
    let mut station = start_station(&desktop, &["--demo", "--kiosk"], &log);
    wait_until("the kiosk window", Duration::from_secs(20), || {
        !station_windows(&desktop.display).is_empty()
    });
    wait_until("the first frame", Duration::from_secs(10), || {
        log_of(&log).contains("first frame")
    });
    // Fullscreen, mapped and drawn: give the window manager a moment to settle it.
    thread::sleep(Duration::from_secs(2));
    let windows = station_windows(&desktop.display);
    let fields: Vec<&str> = windows[0].split_whitespace().collect();
    assert_eq!(
        (fields[2], fields[3], fields[4], fields[5]),
        ("0", "0", "1280", "800"),
        "the kiosk covers the whole 1280x800 screen: {windows:?}"
    );

    if on_path("import") {
        let shot_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&shot_dir).expect("screenshot folder");
        let shot = shot_dir.join("kiosk.png");
        let taken = Command::new("import")
            .args(["-window", "root"])
            .arg(&shot)
            .env("DISPLAY", &desktop.display)
            .status()
            .is_ok_and(|s| s.success());
        assert!(taken, "the screenshot could not be taken");
        let size = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
        assert!(
            size > 10_000,
            "the screenshot is nearly empty ({size} bytes): nothing was drawn"
        );
    } else {
        assert!(
            !services_required(),
            "ImageMagick's import is required here for the screenshot"
        );
    }

    assert!(
        wmctrl(&desktop.display, &["-c", TITLE]).is_some(),
        "wmctrl found no window to close"
    );
    thread::sleep(Duration::from_secs(1));
    let status = station.0.try_wait().expect("process status");
    assert!(
        status.is_none(),
        "the kiosk exited after a close request ({status:?}); its log:\n{}",
        log_of(&log)
    );
    assert!(
        !station_windows(&desktop.display).is_empty(),
        "the kiosk window is no longer listed after a close request"
    );
    assert!(
        log_of(&log).contains("close request refused"),
        "the close request reached the station and was refused; its log:\n{}",
        log_of(&log)
    );
}

#[test]
fn the_same_close_request_closes_a_desk_window() {
    if !tools_present() {
        return;
    }
    let desktop = desktop("desk-close-xvfb");
    let log = desktop.scratch.join("desk-stderr.log");
    let mut station = start_station(&desktop, &["--demo"], &log);
    wait_until("the desk window", Duration::from_secs(20), || {
        !station_windows(&desktop.display).is_empty()
    });
    wait_until("the first frame", Duration::from_secs(10), || {
        log_of(&log).contains("first frame")
    });
    assert!(
        wmctrl(&desktop.display, &["-c", TITLE]).is_some(),
        "wmctrl found no window to close"
    );
    wait_until("the desk window to close", Duration::from_secs(10), || {
        matches!(station.0.try_wait(), Ok(Some(_)))
    });
}
