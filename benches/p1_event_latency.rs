//! P1: how long after pcscd reports a card change the station emits its event.
//!
//! Runs the real `enroll-station readers --watch --json` (release build under
//! `cargo bench`) as a child, and beside it, in this process, a minimal
//! `SCardGetStatusChange` loop on the same vpcd reader: the reference. Both
//! wake on the same pcscd notification; the reference stamps the instant it
//! returns. Then a virtual card is inserted and removed through vpcd, and for
//! every `card_inserted` / `card_removed` line the bench reports
//! station `time_ms` − reference stamp. Goal: median ≤ 10 ms.
//!
//! Run: `cargo bench --bench p1_event_latency` (optionally `-- 50` for 50
//! insert/remove cycles; the default is 20, i.e. 40 events). Needs pcscd with
//! vsmartcard-vpcd, like `tests/pcsc_vpcd.rs`.

#[path = "../tests/common/binary.rs"]
mod binary;
#[path = "../tests/common/vpcd.rs"]
mod vpcd;

use std::ffi::CString;
use std::io::{BufRead as _, BufReader};
use std::process::{Child, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use enroll_station::card::virtual_card::VirtualCard;
use pcsc::{Context, ReaderState, Scope, State};
use vpcd::{FIRST_PORT, STATE_DEADLINE, VpcdCard, reader_name, wait_for_card};

const DEFAULT_CYCLES: usize = 20;
const GOAL_MEDIAN_MS: f64 = 10.0;

/// Microseconds since the Unix epoch: the clock the station's `time_ms` uses,
/// so the two stamps compare directly.
fn now_us() -> i128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i128::try_from(d.as_micros()).unwrap_or(i128::MAX))
}

/// A card change as the reference loop saw it.
struct Seen {
    present: bool,
    at_us: i128,
}

/// The reference: waits on pcscd for `reader` and stamps every change of
/// card presence (INUSE and event-count changes from the station's own
/// reads are not card changes and are skipped).
fn reference_loop(reader: CString, stop: &AtomicBool, ready: Sender<()>, changes: Sender<Seen>) {
    let context = Context::establish(Scope::User).expect("the reference gets a PC/SC context");
    let mut states = [ReaderState::new(reader, State::UNAWARE)];
    context
        .get_status_change(Duration::ZERO, &mut states)
        .expect("the reference reads the reader's state");
    let mut present = states[0].event_state().contains(State::PRESENT);
    let _ = ready.send(());
    while !stop.load(Ordering::SeqCst) {
        states[0].sync_current_state();
        match context.get_status_change(Duration::from_millis(500), &mut states) {
            Ok(()) => {
                let at_us = now_us();
                let now = states[0].event_state().contains(State::PRESENT);
                if now != present {
                    present = now;
                    let _ = changes.send(Seen { present, at_us });
                }
            }
            Err(pcsc::Error::Timeout) => {}
            Err(err) => panic!("the reference wait failed: {err}"),
        }
    }
}

/// One line of the station's event stream, with when this process read it.
struct Line {
    event: String,
    reader: Option<String>,
    time_ms: i128,
    read_us: i128,
}

fn read_lines(child: &mut Child, lines: Sender<Line>) {
    let stdout = child.stdout.take().expect("the station's stdout is piped");
    thread::spawn(move || {
        for text in BufReader::new(stdout).lines() {
            let Ok(text) = text else { return };
            let read_us = now_us();
            let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) else {
                eprintln!("not a JSON event line: {text}");
                continue;
            };
            let line = Line {
                event: json["event"].as_str().unwrap_or_default().to_owned(),
                reader: json["reader"].as_str().map(str::to_owned),
                time_ms: json["time_ms"].as_u64().map_or(0, i128::from),
                read_us,
            };
            if lines.send(line).is_err() {
                return;
            }
        }
    });
}

/// Kills the station when the bench ends, however it ends.
struct Station(Child);

impl Drop for Station {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn next_line(lines: &Receiver<Line>, reader: &str, event: &str) -> Line {
    let deadline = std::time::Instant::now() + STATE_DEADLINE;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let line = lines
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no {event} line for {reader} within {STATE_DEADLINE:?}"));
        if line.event == event && line.reader.as_deref() == Some(reader) {
            return line;
        }
    }
}

fn next_change(changes: &Receiver<Seen>, present: bool) -> Seen {
    let seen = changes
        .recv_timeout(STATE_DEADLINE)
        .unwrap_or_else(|_| panic!("the reference saw no change within {STATE_DEADLINE:?}"));
    assert_eq!(seen.present, present, "the reference saw the wrong change");
    seen
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn summary(name: &str, unit: &str, mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let median = percentile(&values, 50.0);
    println!(
        "  {name:<44} n={:<3} median {median:>7.2} {unit}  p90 {:>7.2} {unit}  max {:>7.2} {unit}  min {:>7.2} {unit}",
        values.len(),
        percentile(&values, 90.0),
        values[values.len() - 1],
        values[0],
    );
    median
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `cargo test --all-targets` also runs bench binaries, without `--bench`:
    // a benchmark that takes a minute and needs pcscd must not run there.
    if !args.iter().any(|a| a == "--bench") {
        println!(
            "p1_event_latency: a benchmark; run it with `cargo bench --bench p1_event_latency`"
        );
        return ExitCode::SUCCESS;
    }
    let cycles = args
        .iter()
        .find_map(|a| a.parse::<usize>().ok())
        .unwrap_or(DEFAULT_CYCLES);
    if !vpcd::vpcd_listed() {
        eprintln!("p1_event_latency needs pcscd with vsmartcard-vpcd (see scripts/test.sh)");
        return ExitCode::FAILURE;
    }
    let reader = reader_name(FIRST_PORT);
    assert!(wait_for_card(&reader, false), "{reader} must start empty");

    let stop = Arc::new(AtomicBool::new(false));
    let (ready_tx, ready) = mpsc::channel();
    let (change_tx, changes) = mpsc::channel();
    let reference = {
        let stop = Arc::clone(&stop);
        let name = CString::new(reader.clone()).expect("reader name has no NUL");
        thread::spawn(move || reference_loop(name, &stop, ready_tx, change_tx))
    };
    ready
        .recv_timeout(STATE_DEADLINE)
        .expect("the reference loop starts");

    // No station.toml of this machine (its ignore_readers) applies.
    let home = binary::StationHome::new();
    let mut station = Station(
        home.command()
            .args(["readers", "--watch", "--json"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the station starts"),
    );
    let (line_tx, lines) = mpsc::channel();
    read_lines(&mut station.0, line_tx);
    next_line(&lines, &reader, "reader_added");
    // Let the station's first round end, so every change meets it waiting in pcscd.
    thread::sleep(Duration::from_secs(2));

    let mut stamp_ms = Vec::new();
    let mut line_ms = Vec::new();
    let mut inserted_ms = Vec::new();
    let mut removed_ms = Vec::new();
    for cycle in 0..cycles {
        let mut raw = [0x5A; 16];
        raw[0] = u8::try_from(cycle % 256).unwrap_or(0);
        let card =
            VpcdCard::insert(VirtualCard::gids(raw), FIRST_PORT).expect("vpcd accepts the card");
        let change = next_change(&changes, true);
        let line = next_line(&lines, &reader, "card_inserted");
        // The identity read keeps the card busy; remove it only after.
        next_line(&lines, &reader, "card_identified");
        let delta = line.time_ms as f64 - change.at_us as f64 / 1000.0;
        stamp_ms.push(delta);
        inserted_ms.push(delta);
        line_ms.push((line.read_us - change.at_us) as f64 / 1000.0);

        card.remove();
        let change = next_change(&changes, false);
        let line = next_line(&lines, &reader, "card_removed");
        let delta = line.time_ms as f64 - change.at_us as f64 / 1000.0;
        stamp_ms.push(delta);
        removed_ms.push(delta);
        line_ms.push((line.read_us - change.at_us) as f64 / 1000.0);
    }
    stop.store(true, Ordering::SeqCst);
    let _ = reference.join();
    drop(station);

    println!(
        "P1 event latency: {} events ({cycles} insertions + {cycles} removals) on \"{reader}\" through pcscd + vpcd",
        stamp_ms.len()
    );
    let median = summary("station time_ms - reference (all events)", "ms", stamp_ms);
    summary("  card_inserted only", "ms", inserted_ms);
    summary("  card_removed only", "ms", removed_ms);
    summary("line read by the bench - reference", "ms", line_ms);
    println!(
        "  note: time_ms has 1 ms resolution (truncated), so station - reference reads up to 1 ms low\n\
         \x20       and can be slightly negative; the line-read figure has us resolution and also counts\n\
         \x20       JSON output, the pipe and this process's reader thread."
    );
    println!(
        "  goal: median <= {GOAL_MEDIAN_MS} ms: {}",
        if median <= GOAL_MEDIAN_MS {
            "met"
        } else {
            "NOT met"
        }
    );
    ExitCode::SUCCESS
}
