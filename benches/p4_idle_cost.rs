//! P4: what the idle window costs. Starts Xvfb on a free display, runs the
//! real `enroll-station --demo` (release build under `cargo bench`) with both
//! vpcd readers watched, lets it settle, then reads its CPU time from
//! `/proc/<pid>/stat` (utime + stime, all threads) over a window and reports
//! it as % of one core. Goal: < 0.5 %.
//!
//! Two conditions, one after the other: both vpcd slots holding an
//! identified card (GIDS in 00 00, PIV in 00 01), then both slots empty.
//! Besides CPU it reports the station's context switches per second (how
//! often its threads wake) and the CPU Xvfb spent drawing for it, a cheap
//! stand-in for a frame count: a window that keeps repainting makes Xvfb busy.
//!
//! Run: `cargo bench --bench p4_idle_cost` (optionally `-- 20` to sample 20 s
//! instead of 60, or `-- cards` / `-- empty` for one condition). Needs Xvfb
//! and pcscd with vsmartcard-vpcd.

#[path = "../tests/common/binary.rs"]
mod binary;
#[path = "../tests/common/vpcd.rs"]
mod vpcd;
#[path = "../tests/common/xvfb.rs"]
mod xvfb;

use std::path::Path;
use std::process::{Child, Command, ExitCode, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use enroll_station::card::virtual_card::VirtualCard;
use vpcd::{FIRST_PORT, SECOND_PORT, VpcdCard, insert, reader_name, wait_for_card};
use xvfb::start_xvfb;

const DEFAULT_SAMPLE: Duration = Duration::from_secs(60);
const SETTLE: Duration = Duration::from_secs(5);
const GOAL_PERCENT: f64 = 0.5;

/// Kills a child process when dropped, however the bench ends.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Clock ticks per second of `/proc/<pid>/stat` times.
fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// utime + stime of a process, in ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("the process is alive");
    // The command name (field 2) may hold spaces: count fields after its ')'.
    let after = &stat[stat.rfind(')').expect("stat has a command name") + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 of stat are 12 and 13 after the name.
    let utime: u64 = fields[11].parse().expect("utime");
    let stime: u64 = fields[12].parse().expect("stime");
    utime + stime
}

/// Voluntary + involuntary context switches over every thread of `pid`.
fn context_switches(pid: u32) -> u64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("status")).ok())
        .flat_map(|status| {
            status
                .lines()
                .filter(|l| l.contains("ctxt_switches:"))
                .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
                .collect::<Vec<_>>()
        })
        .sum()
}

fn thread_count(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/task")).map_or(0, Iterator::count)
}

struct Figures {
    cpu_percent: f64,
    xvfb_percent: f64,
    switches_per_sec: f64,
    threads: usize,
}

fn measure(display: &str, xvfb_pid: u32, sample: Duration) -> Figures {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR")).join("p4_idle_cost");
    std::fs::create_dir_all(&tmp).expect("a scratch folder");
    let log = std::fs::File::create(tmp.join("station-stderr.log")).expect("a log file");
    // The demo audit journal goes to a home of its own, not the user's data folder.
    let home = binary::StationHome::new();
    let station = Reaped(
        home.command()
            .arg("--demo")
            .env("DISPLAY", display)
            .env_remove("WAYLAND_DISPLAY")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("the station starts"),
    );
    let pid = station.0.id();
    thread::sleep(SETTLE);
    assert!(
        Path::new(&format!("/proc/{pid}/stat")).exists(),
        "the station exited while settling; see {}",
        tmp.join("station-stderr.log").display()
    );
    let ticks = clock_ticks();
    let (cpu0, x0, sw0, t0) = (
        cpu_ticks(pid),
        cpu_ticks(xvfb_pid),
        context_switches(pid),
        Instant::now(),
    );
    thread::sleep(sample);
    let (cpu1, x1, sw1, elapsed) = (
        cpu_ticks(pid),
        cpu_ticks(xvfb_pid),
        context_switches(pid),
        t0.elapsed().as_secs_f64(),
    );
    let threads = thread_count(pid);
    drop(station);
    Figures {
        cpu_percent: (cpu1 - cpu0) as f64 / ticks / elapsed * 100.0,
        xvfb_percent: (x1 - x0) as f64 / ticks / elapsed * 100.0,
        switches_per_sec: (sw1 - sw0) as f64 / elapsed,
        threads,
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `cargo test --all-targets` also runs bench binaries, without `--bench`:
    // a two-minute measurement under Xvfb must not run there.
    if !args.iter().any(|a| a == "--bench") {
        println!("p4_idle_cost: a benchmark; run it with `cargo bench --bench p4_idle_cost`");
        return ExitCode::SUCCESS;
    }
    let sample = args
        .iter()
        .find_map(|a| a.parse::<u64>().ok())
        .map_or(DEFAULT_SAMPLE, Duration::from_secs);
    let only = |name: &str| {
        let picked: Vec<&String> = args
            .iter()
            .filter(|a| *a == "cards" || *a == "empty")
            .collect();
        picked.is_empty() || picked.iter().any(|a| *a == name)
    };
    if !vpcd::vpcd_listed() {
        eprintln!("p4_idle_cost needs pcscd with vsmartcard-vpcd (see scripts/test.sh)");
        return ExitCode::FAILURE;
    }
    for port in [FIRST_PORT, SECOND_PORT] {
        assert!(
            wait_for_card(&reader_name(port), false),
            "vpcd slot {port} must start empty"
        );
    }
    let (xvfb, display) = start_xvfb();
    let xvfb_pid = xvfb.id();
    let tick_ms = 1000.0 / clock_ticks();
    println!(
        "P4 idle cost of `enroll-station --demo` on Xvfb {display}: settle {} s, sample {} s, CPU from /proc/<pid>/stat (tick {tick_ms} ms)",
        SETTLE.as_secs(),
        sample.as_secs()
    );

    let mut met = true;
    for condition in ["cards", "empty"].into_iter().filter(|c| only(c)) {
        let cards: Vec<VpcdCard> = if condition == "cards" {
            vec![
                insert(VirtualCard::gids([0x11; 16]), FIRST_PORT),
                insert(VirtualCard::piv([0x22; 16]), SECOND_PORT),
            ]
        } else {
            Vec::new()
        };
        let what = if cards.is_empty() {
            "both vpcd slots empty"
        } else {
            "GIDS card in 00 00, PIV card in 00 01 (identified)"
        };
        let figures = measure(&display, xvfb_pid, sample);
        met &= figures.cpu_percent < GOAL_PERCENT;
        println!(
            "  {what:<52} station CPU {:>6.3} % of one core  ({:.1} context switches/s, {} threads)  Xvfb CPU {:>6.3} %",
            figures.cpu_percent, figures.switches_per_sec, figures.threads, figures.xvfb_percent
        );
        drop(cards);
        for port in [FIRST_PORT, SECOND_PORT] {
            assert!(
                wait_for_card(&reader_name(port), false),
                "slot {port} empties"
            );
        }
    }
    println!(
        "  goal: < {GOAL_PERCENT} % of one core: {}",
        if met { "met" } else { "NOT met" }
    );
    ExitCode::SUCCESS
}
