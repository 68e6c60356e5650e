//! The real binary in kiosk mode under Xvfb with a real window manager
//! (openbox): the window covers the screen, and a close request from the
//! window manager (what Alt+F4 or a close button sends) leaves it open.
//! The same close request does close the desk window, so the test proves
//! the request really arrives.
//!
//! With keys only (xdotool), on the CM emulator and a vpcd card in the real
//! pcscd: a card already in the reader when the request code is accepted
//! is never bound, whatever is pressed, until it is taken out and inserted
//! again; after the result the kiosk takes no code while the card is in.
//!
//! Needs `Xvfb` (Debian: xvfb), `openbox` and `wmctrl`, for the keys test
//! also `xdotool` and pcscd with vsmartcard-vpcd, and for the screenshots
//! ImageMagick's `import`. Under CI (or ENROLL_STATION_REQUIRE_SERVICES) a
//! missing one fails the test.

mod common;

use common::binary::StationHome;
use common::first_bindable;
use common::vpcd::{ApduLog, FIRST_PORT, VpcdCard, reader_name, take_slots, wait_for_card};
use common::xvfb::{Reaped, on_path, services_required};

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use enroll_station::card::virtual_card::VirtualCard;
use enroll_station::cm::emulator::{Emulator, EmulatorConfig};

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

/// Dropped in field order: the window manager, then the display, then the
/// station's home, then the turn.
struct Desktop {
    display: String,
    scratch: PathBuf,
    _openbox: Reaped,
    _xvfb: common::xvfb::Xvfb,
    /// The station's HOME and XDG directories: its demo journal goes there,
    /// and no configuration file of this machine applies (none names a supervisor).
    home: StationHome,
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
    // Slow on a loaded machine (a build running beside the tests), and once
    // seen never to take the display within 30 s: a second try then, with
    // openbox's own words kept for the failure message.
    let log = scratch.join("openbox.log");
    let start_openbox = || {
        Reaped(
            Command::new("openbox")
                .arg("--sm-disable")
                .env("DISPLAY", &display)
                // openbox reads its configuration from here; an empty folder means its defaults.
                .env("XDG_CONFIG_HOME", &scratch)
                // and writes its log here, not into the user's cache.
                .env("XDG_CACHE_HOME", &scratch)
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log).expect("openbox's log file"))
                .spawn()
                .expect("openbox starts"),
        )
    };
    let managed = || wmctrl(&display, &["-m"]).is_some_and(|m| m.contains("Openbox"));
    let ready_within = |timeout: Duration| {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if managed() {
                return true;
            }
            thread::sleep(Duration::from_millis(100));
        }
        false
    };
    let mut openbox = start_openbox();
    if !ready_within(Duration::from_secs(30)) {
        drop(openbox);
        openbox = start_openbox();
        assert!(
            ready_within(Duration::from_secs(30)),
            "openbox did not manage {display} in two tries of 30 s; it said: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }
    Desktop {
        display,
        scratch,
        _openbox: openbox,
        _xvfb: xvfb,
        home: StationHome::new(),
        _turn: turn,
    }
}

fn start_station(desktop: &Desktop, args: &[&str], log: &Path) -> Reaped {
    let stderr = std::fs::File::create(log).expect("log file");
    Reaped(
        desktop
            .home
            .command()
            .args(args)
            .env("DISPLAY", &desktop.display)
            .env_remove("WAYLAND_DISPLAY")
            .env("ENROLL_STATION_LOG", "info")
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
    programs_present(&["Xvfb", "openbox", "wmctrl"], "xvfb openbox wmctrl")
}

/// True when every program is on the PATH; else skips, or fails where the
/// run requires its services.
fn programs_present(programs: &[&str], packages: &str) -> bool {
    let missing: Vec<&str> = programs
        .iter()
        .copied()
        .filter(|tool| !on_path(tool))
        .collect();
    if missing.is_empty() {
        return true;
    }
    assert!(
        !services_required(),
        "{} required here but not installed (Debian: apt-get install {packages})",
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

// --- Keys only: a card left in the reader is never bound ---------------------
//
// The real window on a real CM API (the emulator over loopback HTTP) and a
// real reader (vpcd inside pcscd), driven by key presses through the X
// server (xdotool's XTEST events, what a keyboard or a keyboard-wedge
// scanner sends); no mouse.

/// The GIDS card's raw GUID (the same card as tests/cli.rs).
const GIDS_RAW: [u8; 16] = [
    0x3f, 0xf1, 0x88, 0xbc, 0xba, 0x83, 0x37, 0x40, 0x82, 0x62, 0x46, 0xeb, 0xa1, 0x29, 0x1c, 0x6e,
];

/// Between two key presses: each one lands in its own frame, even when a
/// build beside the test slows the window down.
const KEY_GAP: Duration = Duration::from_millis(500);

/// The emulator's own account of every call it answered, from its debug
/// log: what proves a key press reached the window is the call it caused.
#[derive(Clone, Default)]
struct EmulatorCalls(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for EmulatorCalls {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl EmulatorCalls {
    /// Installs the recorder as this test binary's tracing subscriber (once).
    fn recorder() -> Self {
        static CALLS: OnceLock<EmulatorCalls> = OnceLock::new();
        CALLS
            .get_or_init(|| {
                let calls = EmulatorCalls::default();
                let writer = calls.clone();
                tracing_subscriber::fmt()
                    .with_env_filter(tracing_subscriber::EnvFilter::new(
                        "enroll_station::cm::emulator=debug",
                    ))
                    .with_writer(move || writer.clone())
                    .with_ansi(false)
                    .without_time()
                    .with_target(false)
                    .try_init()
                    .expect("no other tracing subscriber in this test binary");
                calls
            })
            .clone()
    }

    /// One line per call: `method=GET path="/…" status=200`.
    fn lines(&self) -> Vec<String> {
        let bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes)
            .lines()
            .filter(|line| line.contains("CM emulator method="))
            .map(str::to_owned)
            .collect()
    }

    /// How many times the request with this (hyphenated, lower-case) code was read.
    fn lookups(&self, code: &str) -> usize {
        let path = format!("/requests/{code}\"");
        self.lines()
            .iter()
            .filter(|line| line.contains("method=GET") && line.to_lowercase().contains(&path))
            .count()
    }

    /// Every POST, answered or refused.
    fn posts(&self) -> Vec<String> {
        self.lines()
            .into_iter()
            .filter(|line| line.contains("method=POST"))
            .collect()
    }
}

fn emulator(requests: usize) -> Emulator {
    Emulator::start_on_thread(EmulatorConfig {
        requests,
        ..EmulatorConfig::default()
    })
    .expect("the emulator starts on loopback")
}

/// The window, its display and what it was doing, printed when the test fails.
struct ShowOnFailure<'a> {
    log: &'a Path,
    calls: &'a EmulatorCalls,
    shots: &'a Path,
}

impl Drop for ShowOnFailure<'_> {
    fn drop(&mut self) {
        if thread::panicking() {
            eprintln!(
                "--- the emulator's calls:\n{}\n--- the station's log ({}):\n{}\n--- screenshots in {}",
                self.calls.lines().join("\n"),
                self.log.display(),
                log_of(self.log),
                self.shots.display()
            );
        }
    }
}

fn xdotool(display: &str, args: &[&str]) -> Option<String> {
    let output = Command::new("xdotool")
        .args(args)
        .env("DISPLAY", display)
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// Presses keys one at a time, in the window that has the keyboard focus.
fn press(display: &str, keys: &[&str]) {
    for key in keys {
        assert!(
            xdotool(display, &["key", key]).is_some(),
            "xdotool could not press {key}"
        );
        thread::sleep(KEY_GAP);
    }
}

/// Types text as a keyboard-wedge scanner does, then presses Return.
fn scan(display: &str, text: &str) {
    assert!(
        xdotool(display, &["type", "--delay", "30", text]).is_some(),
        "xdotool could not type {text}"
    );
    thread::sleep(KEY_GAP);
    press(display, &["Return"]);
}

/// A screenshot for whoever reads a failure; not asserted on.
fn screenshot(display: &str, folder: &Path, name: &str) {
    if on_path("import") {
        let _ = Command::new("import")
            .args(["-window", "root"])
            .arg(folder.join(format!("{name}.png")))
            .env("DISPLAY", display)
            .status();
    }
}

/// Waits until the station sent the card APDUs (it reads the card ID on
/// insertion) and then none for a second: the identity is read.
fn wait_for_identity_read(apdus: &ApduLog, what: &str) {
    let count = || apdus.lock().unwrap_or_else(PoisonError::into_inner).len();
    wait_until(
        &format!("{what} (no command has reached the card yet)"),
        Duration::from_secs(30),
        || count() > 0,
    );
    let mut last = count();
    let mut quiet_since = Instant::now();
    wait_until(
        &format!("{what} (the card's commands never stop)"),
        Duration::from_secs(30),
        || {
            let now = count();
            if now != last {
                last = now;
                quiet_since = Instant::now();
            }
            quiet_since.elapsed() >= Duration::from_secs(1)
        },
    );
}

fn keyboard_tools_present() -> bool {
    programs_present(
        &["Xvfb", "openbox", "wmctrl", "xdotool"],
        "xvfb openbox wmctrl xdotool",
    )
}

/// Person 1 left their card in the reader. Person 2 types their code; the
/// card in the reader was there before the code was accepted, so no key
/// binds it: Enter and Space with no focus, on "Staff" and its Back, and
/// where Shift+Tab would reach "Bind my card" were it enabled. Once it is
/// taken out and inserted again, Tab and Enter bind it: the same keys do
/// reach the window. After the result, with the card still in, the kiosk
/// takes no code until the reader is empty.
#[test]
fn a_card_left_in_the_reader_is_never_bound_by_keys_until_inserted_again() {
    if !keyboard_tools_present() {
        return;
    }
    let Some(_slots) = take_slots() else { return };
    let calls = EmulatorCalls::recorder();
    let emulator = emulator(8);
    let request = first_bindable(&emulator);
    let code = request.uuid.hyphenated().to_string();
    let reader = reader_name(FIRST_PORT);

    // The display first: the other tests' stations (which watch pcscd too)
    // are gone before the card goes in, so only this one reads it.
    let desktop = desktop("kiosk-keys-xvfb");

    // 1. Person 1's card, left in the reader before the station even starts.
    let (left_behind, first_apdus) =
        VpcdCard::insert_logged(VirtualCard::gids(GIDS_RAW), FIRST_PORT)
            .expect("vpcd takes the card");
    assert!(
        wait_for_card(&reader, true),
        "pcscd did not see the card in {reader}"
    );

    // 2. The kiosk (from its configuration file) on the emulator, watching
    // the real readers, with every file of its own in a fresh folder (and
    // HOME and the XDG directories in the desktop's station home).
    let files = desktop.scratch.join("home");
    let _ = std::fs::remove_dir_all(&files);
    std::fs::create_dir_all(&files).expect("a home folder");
    let config = files.join("station.toml");
    // The idle reset must not start over while the test waits on a slow machine.
    std::fs::write(&config, "mode = \"kiosk\"\nkiosk_idle_secs = 600\n").expect("config");
    let audit = files.join("audit.jsonl");
    let log = desktop.scratch.join("kiosk-keys-stderr.log");
    let stderr = std::fs::File::create(&log).expect("log file");
    let url = emulator.base_url();
    let args = [
        "--config",
        config.to_str().expect("UTF-8 path"),
        "--server",
        &url,
        "--auth",
        "none",
        "--audit-file",
        audit.to_str().expect("UTF-8 path"),
    ];
    let _station = Reaped(
        desktop
            .home
            .command()
            .args(args)
            .env("DISPLAY", &desktop.display)
            .env_remove("WAYLAND_DISPLAY")
            .env("ENROLL_STATION_LOG", "info,enroll_station=debug")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("the station starts"),
    );
    let _show = ShowOnFailure {
        log: &log,
        calls: &calls,
        shots: &desktop.scratch,
    };
    let display = desktop.display.as_str();
    wait_until("the kiosk window", Duration::from_secs(30), || {
        !station_windows(display).is_empty()
    });
    wait_until("the first frame", Duration::from_secs(30), || {
        log_of(&log).contains("first frame")
    });
    wait_until(
        "the kiosk window to have the keyboard",
        Duration::from_secs(10),
        || xdotool(display, &["getactivewindow", "getwindowname"]).as_deref() == Some(TITLE),
    );
    wait_for_identity_read(&first_apdus, "the station to read the card through pcscd");
    thread::sleep(Duration::from_secs(1));
    screenshot(display, &desktop.scratch, "1-code");

    // 3. Person 2's code, typed into the field that has the focus from the start.
    scan(display, &code);
    // 4. The emulator answered the lookup: the keys arrived and the code was taken.
    wait_until(
        "the lookup of the typed code",
        Duration::from_secs(20),
        || calls.lookups(&code) == 1,
    );
    // The answer reaches the window, which shows the card step.
    thread::sleep(Duration::from_secs(2));
    screenshot(display, &desktop.scratch, "2-take-out");

    // 5. A stranger hammers keys on "Please take the card out of the reader".
    // Order of the stops: "Staff" (the footer is drawn first), "Bind my card"
    // (only when enabled), "Start over". Shift+Tab twice from no focus lands
    // where "Bind my card" would be; Tab twice would land on "Start over",
    // the one stop not pressed (it ends the session, on purpose).
    press(display, &["Return", "space", "KP_Enter"]);
    // Staff opens its sign-in, its Back button closes it again.
    press(
        display,
        &["Tab", "Return", "space", "Tab", "Return", "space"],
    );
    press(
        display,
        &["Escape", "shift+Tab", "shift+Tab", "Return", "space"],
    );
    press(
        display,
        &["Tab", "Return", "space", "Escape", "Return", "space"],
    );
    thread::sleep(Duration::from_secs(2));
    screenshot(display, &desktop.scratch, "3-after-hammering");
    assert_eq!(
        emulator.bind_count(),
        0,
        "a card in the reader before the code was accepted was bound"
    );
    assert_eq!(calls.posts(), Vec::<String>::new(), "nothing may be posted");

    // 6. The card out and in again: a fresh insertion is this person's card.
    left_behind.remove();
    assert!(
        wait_for_card(&reader, false),
        "pcscd did not see the removal"
    );
    let (reinserted, apdus) = VpcdCard::insert_logged(VirtualCard::gids(GIDS_RAW), FIRST_PORT)
        .expect("vpcd takes the card");
    assert!(
        wait_for_card(&reader, true),
        "pcscd did not see the card again"
    );
    wait_for_identity_read(&apdus, "the station to read the card inserted again");
    thread::sleep(Duration::from_secs(2));
    screenshot(display, &desktop.scratch, "4-card-ready");
    // From no focus: Tab to "Staff", Tab to "Bind my card", Enter. Still the
    // same card step: the code was not typed again.
    press(display, &["Escape", "Tab", "Tab", "Return"]);
    wait_until(
        "the bind by Escape, Tab, Tab, Return on \"Bind my card\" (see the screenshots)",
        Duration::from_secs(30),
        || emulator.bind_count() == 1,
    );
    let bound = emulator
        .requests()
        .into_iter()
        .find(|r| r.uuid == request.uuid)
        .expect("the request is still there");
    assert!(bound.new_smartcard.is_some(), "the request has its card");
    thread::sleep(Duration::from_secs(2));
    screenshot(display, &desktop.scratch, "5-result");

    // 7. "Finish" (focused on the result) with the card still in: the
    // kiosk asks for the card and takes no code until the reader is empty.
    press(display, &["Return"]);
    let lookups = calls.lookups(&code);
    scan(display, &code);
    thread::sleep(Duration::from_secs(3));
    screenshot(display, &desktop.scratch, "6-take-card");
    assert_eq!(
        calls.lookups(&code),
        lookups,
        "a code was taken with the last person's card still in the reader"
    );
    reinserted.remove();
    assert!(
        wait_for_card(&reader, false),
        "pcscd did not see the removal"
    );
    thread::sleep(Duration::from_secs(2));
    scan(display, &code);
    wait_until(
        "the next person's code, once the reader is empty",
        Duration::from_secs(20),
        || calls.lookups(&code) > lookups,
    );
    assert_eq!(emulator.bind_count(), 1, "one bind, no more");
}
