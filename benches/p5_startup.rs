//! P5: how fast the window starts and how much memory it holds. Starts Xvfb
//! on a free display and runs the real `enroll-station` (release build under
//! `cargo bench`):
//!
//! - start to first frame: from spawning the process to its `first frame`
//!   log line (written in the app's first `ui` call), for the desk and the
//!   kiosk on the embedded demo backend and for the desk on a CM emulator
//!   holding the large list. Goal: ≤ 0.5 s.
//! - resident memory after loading 10,000 requests: the window on a CM
//!   emulator (in this process, on loopback, plain http, no sign-in) whose
//!   open requests (Approved, Executing, Pending: the window's default list)
//!   number at least 10,000; VmRSS and VmHWM from `/proc/<pid>/status` once
//!   the `request list loaded` line is logged and the list has been drawn.
//!   Goal: ≤ 120 MB, read as MiB (2^20 bytes), the unit the kernel's
//!   `kB` fields, `top` and `free` count in; the SI figure is printed too.
//!
//! - the floor: an empty eframe window with the same renderer
//!   (`examples/empty_window.rs`), and how much of each process is Mesa's
//!   software OpenGL, so the station's own share can be told apart.
//!
//! Run: `cargo bench --bench p5_startup` (optionally `-- 9` for 9 starts per
//! case instead of 5). Needs Xvfb.

#[path = "../tests/common/xvfb.rs"]
mod xvfb;

use xvfb::Reaped;

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use enroll_station::cm::emulator::{Emulator, EmulatorConfig};
use enroll_station::domain::request::RequestStatus;

const DEFAULT_RUNS: usize = 5;
const FIRST_FRAME_GOAL: Duration = Duration::from_millis(500);
const LOADED_REQUESTS: usize = 10_000;
const MEMORY_GOAL_MIB: f64 = 120.0;
const MIB_IN_MB: f64 = 1.048_576;
/// Seeded so that the open requests (about 83 % of the demo data) are at least 10,000.
const SEEDED_REQUESTS: usize = 12_200;
const TIMEOUT: Duration = Duration::from_secs(60);

/// A running station and its log lines, each with when it was read.
struct Station {
    process: Reaped,
    spawned: Instant,
    lines: mpsc::Receiver<(Instant, String)>,
}

impl Station {
    fn start(display: &str, args: &[&str], scratch: &Path) -> Station {
        Station::spawn(
            Path::new(env!("CARGO_BIN_EXE_enroll-station")),
            display,
            args,
            scratch,
        )
    }

    fn spawn(program: &Path, display: &str, args: &[&str], scratch: &Path) -> Station {
        let spawned = Instant::now();
        let mut child = Command::new(program)
            .args(args)
            .env("DISPLAY", display)
            .env_remove("WAYLAND_DISPLAY")
            .env("ENROLL_STATION_LOG", "info")
            .env("NO_COLOR", "1")
            // Journals and configuration stay in the scratch folder.
            .env("XDG_DATA_HOME", scratch)
            .env("XDG_CONFIG_HOME", scratch)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the station starts");
        let stderr = child.stderr.take().expect("stderr is piped");
        let (tx, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send((Instant::now(), line)).is_err() {
                    return;
                }
            }
        });
        Station {
            process: Reaped(child),
            spawned,
            lines,
        }
    }

    /// Waits for a log line containing `text`; returns it and how long after the spawn it came.
    fn wait_for(&self, text: &str) -> (String, Duration) {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok((at, line)) if line.contains(text) => return (line, at - self.spawned),
                Ok(_) => {}
                Err(_) => panic!(
                    "no \"{text}\" line within {} s (the station exited or hangs)",
                    TIMEOUT.as_secs()
                ),
            }
        }
    }

    fn pid(&self) -> u32 {
        self.process.0.id()
    }
}

/// The resident size of Mesa's software renderer (libLLVM, the DRI driver,
/// the X shared-memory image), from `/proc/<pid>/smaps`, in MiB. A machine with
/// a GPU loads its own driver instead.
fn software_gl_mb(pid: u32) -> f64 {
    let smaps =
        std::fs::read_to_string(format!("/proc/{pid}/smaps")).expect("the process is alive");
    let mut in_gl = false;
    let mut kb = 0.0;
    for line in smaps.lines() {
        let mut words = line.split_whitespace();
        let first = words.next().unwrap_or("");
        if first.contains('-') && !first.ends_with(':') {
            let path = words.nth(4).unwrap_or("");
            in_gl = ["libLLVM", "/dri/", "libgallium", "SYSV"]
                .iter()
                .any(|part| path.contains(part));
        } else if in_gl && first == "Rss:" {
            kb += words
                .next()
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0);
        }
    }
    kb / 1024.0
}

/// Builds the empty eframe window example with the bench's own profile (so
/// nothing is rebuilt for it) and returns its path.
fn empty_window() -> std::path::PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--profile", "bench", "--example", "empty_window"])
        .status()
        .expect("cargo runs");
    assert!(status.success(), "the empty_window example builds");
    // The bench runs from target/release/deps; examples sit beside it.
    let deps = std::env::current_exe().expect("the bench's own path");
    deps.parent()
        .and_then(Path::parent)
        .expect("target/release")
        .join("examples")
        .join("empty_window")
}

/// A `kB` (KiB) field of `/proc/<pid>/status`, in MiB.
fn status_mb(pid: u32, field: &str) -> f64 {
    let status =
        std::fs::read_to_string(format!("/proc/{pid}/status")).expect("the process is alive");
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{field} in /proc/{pid}/status"));
    kb / 1024.0
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

fn first_frames(display: &str, args: &[&str], runs: usize, scratch: &Path) -> Vec<Duration> {
    (0..runs)
        .map(|_| {
            let station = Station::start(display, args, scratch);
            station.wait_for("first frame").1
        })
        .collect()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `cargo test --all-targets` also runs bench binaries, without `--bench`.
    if !args.iter().any(|a| a == "--bench") {
        println!("p5_startup: a benchmark; run it with `cargo bench --bench p5_startup`");
        return ExitCode::SUCCESS;
    }
    let runs = args
        .iter()
        .find_map(|a| a.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(DEFAULT_RUNS);
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR")).join("p5_startup");
    std::fs::create_dir_all(&scratch).expect("a scratch folder");

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime for the emulator");
    let emulator = runtime
        .block_on(Emulator::start(EmulatorConfig {
            requests: SEEDED_REQUESTS,
            ..EmulatorConfig::default()
        }))
        .expect("the emulator starts on loopback");
    let open = emulator
        .requests()
        .iter()
        .filter(|r| {
            matches!(
                r.status,
                RequestStatus::APPROVED | RequestStatus::EXECUTING | RequestStatus::PENDING
            )
        })
        .count();
    assert!(
        open >= LOADED_REQUESTS,
        "the emulator holds only {open} open requests: raise SEEDED_REQUESTS"
    );
    let server = emulator.base_url();

    let (_xvfb, display) = xvfb::start_xvfb();
    println!(
        "P5 start-up and memory of the release `enroll-station` on Xvfb {display} ({runs} starts per case)"
    );
    let server_args = ["--server", server.as_str(), "--auth", "none"];
    let cases: [(&str, Vec<&str>); 3] = [
        ("desk, demo backend (--demo)", vec!["--demo"]),
        (
            "kiosk, demo backend (--demo --kiosk)",
            vec!["--demo", "--kiosk"],
        ),
        (
            "desk, CM emulator with the large list",
            server_args.to_vec(),
        ),
    ];
    let mut met = true;
    println!("  start to first frame (spawn to the `first frame` log line):");
    for (name, case_args) in &cases {
        let times = first_frames(&display, case_args, runs, &scratch);
        let (min, max) = (
            *times.iter().min().expect("runs > 0"),
            *times.iter().max().expect("runs > 0"),
        );
        let median = median(times);
        met &= median <= FIRST_FRAME_GOAL;
        println!(
            "    {name:<40} median {:>6.1} ms  (min {:.1}, max {:.1})",
            ms(median),
            ms(min),
            ms(max)
        );
    }

    let station = Station::start(&display, &server_args, &scratch);
    let (_, first) = station.wait_for("first frame");
    let at_first_frame = status_mb(station.pid(), "VmRSS:");
    let (line, loaded) = station.wait_for("request list loaded");
    // Let the list be drawn a few times (the first frames lay out the rows).
    thread::sleep(Duration::from_secs(3));
    let rss = status_mb(station.pid(), "VmRSS:");
    let hwm = status_mb(station.pid(), "VmHWM:");
    // File-backed pages are mostly shared libraries (under Xvfb, Mesa's
    // llvmpipe with libLLVM); anonymous pages are the station's own heap.
    let anon = status_mb(station.pid(), "RssAnon:");
    let file = status_mb(station.pid(), "RssFile:");
    let gl = software_gl_mb(station.pid());
    let count = line
        .split_whitespace()
        .find_map(|word| word.strip_prefix("requests="))
        .unwrap_or("?");
    met &= hwm <= MEMORY_GOAL_MIB;
    println!(
        "  resident memory, {count} open requests of {SEEDED_REQUESTS} in the list (loaded {:.0} ms after the spawn):",
        ms(loaded)
    );
    println!(
        "    at the first frame ({:.0} ms) VmRSS {at_first_frame:.1} MiB; after loading VmRSS {rss:.1} MiB, peak VmHWM {hwm:.1} MiB",
        ms(first)
    );
    println!(
        "    in SI megabytes (10^6 bytes): VmRSS {:.1} MB, peak VmHWM {:.1} MB",
        rss * MIB_IN_MB,
        hwm * MIB_IN_MB
    );
    println!(
        "    after loading: RssAnon {anon:.1} MiB (heap), RssFile {file:.1} MiB (binary and libraries), of which Mesa's software OpenGL {gl:.1} MiB"
    );
    drop(station);

    // The floor: an empty eframe window with the same renderer on the same display.
    let floor = Station::spawn(&empty_window(), &display, &[], &scratch);
    floor.wait_for("first frame");
    thread::sleep(Duration::from_secs(3));
    let floor_rss = status_mb(floor.pid(), "VmRSS:");
    let floor_gl = software_gl_mb(floor.pid());
    drop(floor);
    println!(
        "  floor: an empty eframe window (examples/empty_window.rs) VmRSS {floor_rss:.1} MiB, of which Mesa's software OpenGL {floor_gl:.1} MiB"
    );
    println!(
        "  the station's own share above that floor: {:.1} MiB (goal's room above the floor: {:.1} MiB)",
        rss - floor_rss,
        MEMORY_GOAL_MIB - floor_rss
    );
    println!(
        "  goals: first frame ≤ {} ms, memory ≤ {MEMORY_GOAL_MIB} MiB: {}",
        FIRST_FRAME_GOAL.as_millis(),
        if met { "met" } else { "NOT met" }
    );
    ExitCode::SUCCESS
}
