//! P7: the throughput of a batch (issue 22). A scripted feeder inserts a
//! fresh virtual card into each vpcd slot as soon as the previous card is
//! bound and removed, while `enroll-station batch` runs against the
//! emulator on loopback. Measured: cards per minute with one reader and
//! with two, over `N` cards each (default 40), and the per-card time (a
//! card's insertion to its bound line) beside a single `bind` of a card
//! inserted while it waits (its insertion to the command's exit).
//! Goals: two readers ≥ 1.8 × one; batch per-card ≤ 1.2 × single bind.
//!
//! Needs pcscd with vsmartcard-vpcd. Run:
//! `cargo bench --bench p7_batch` (optionally `-- 60` cards; default 40).

#[path = "../tests/common/binary.rs"]
mod binary;
#[path = "../tests/common/vpcd.rs"]
mod vpcd;

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use enroll_station::card::virtual_card::VirtualCard;
use enroll_station::cm::emulator::{Emulator, EmulatorConfig};
use enroll_station::domain::card::CardId;
use uuid::Uuid;

type Error = Box<dyn std::error::Error>;

const DEADLINE: Duration = Duration::from_secs(60);

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

fn approved_request(emulator: &Emulator, run: u128, n: usize) -> Result<Uuid, Error> {
    let id = Uuid::from_u128((0x9797_u128 << 112) + (run << 64) + n as u128);
    emulator.insert_request(serde_json::json!({
        "Uuid": id.to_string(), "RequestType": 1, "Status": 3,
        "NewSmartcardUuid": "00000000-0000-0000-0000-000000000000", "IsSmartcard": true
    }))?;
    Ok(id)
}

fn card_bytes(run: u8, n: usize) -> [u8; 16] {
    let mut raw = [0x7au8; 16];
    raw[0] = run;
    raw[8..].copy_from_slice(&(n as u64 + 1).to_be_bytes());
    raw
}

/// When each card's bound line came, by card ID.
type Bound = Arc<Mutex<HashMap<String, Instant>>>;

/// One batch over `slots`, fed `cards` cards in all; returns the wall time
/// from the first insertion to the last bound card, and each card's time
/// from its insertion to its bound line.
fn run_batch(
    emulator: &Emulator,
    run: u8,
    slots: &[u16],
    cards: usize,
) -> Result<(Duration, Vec<f64>), Error> {
    let home = binary::StationHome::new();
    let requests: Vec<Uuid> = (0..cards)
        .map(|n| approved_request(emulator, u128::from(run), n))
        .collect::<Result<_, _>>()?;
    let file = home.root().join("cohort.txt");
    std::fs::write(
        &file,
        requests
            .iter()
            .map(|r| format!("{r}\n"))
            .collect::<String>(),
    )?;
    let mut command = home.command();
    command
        .args(["--server", &emulator.base_url(), "batch", "--json"])
        .args([
            "--requests",
            &file.to_string_lossy(),
            "--timeout-secs",
            "60",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for slot in slots {
        command.args(["--reader", &vpcd::reader_name(*slot)]);
    }
    let mut child = command.spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let bound: Bound = Arc::default();
    let seen = Arc::clone(&bound);
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let Ok(value) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue;
            };
            if value["outcome"] == "bound"
                && let Some(card) = value["card_id"].as_str()
                && let Ok(mut map) = seen.lock()
            {
                map.insert(card.to_owned(), Instant::now());
            }
        }
    });
    let start = Instant::now();
    let per_slot = cards / slots.len();
    let feeders: Vec<_> = slots
        .iter()
        .enumerate()
        .map(|(i, &slot)| {
            let bound = Arc::clone(&bound);
            thread::spawn(move || feed(slot, run, i * per_slot, per_slot, &bound))
        })
        .collect();
    let mut times = Vec::new();
    for feeder in feeders {
        times.extend(feeder.join().map_err(|_| "a feeder panicked")??);
    }
    let last = bound
        .lock()
        .map_err(|_| "poisoned")?
        .values()
        .max()
        .copied()
        .ok_or("nothing was bound")?;
    let status = child.wait()?;
    if !status.success() {
        return Err(format!("the batch ended with {status}").into());
    }
    Ok((last.duration_since(start), times))
}

/// Feeds `count` fresh cards into `slot`, each once the previous is bound.
fn feed(slot: u16, run: u8, first: usize, count: usize, bound: &Bound) -> Result<Vec<f64>, String> {
    let reader = vpcd::reader_name(slot);
    let mut times = Vec::new();
    for n in first..first + count {
        let raw = card_bytes(run, n);
        let id = CardId::from_raw(raw).to_cm_string();
        let inserted_at = Instant::now();
        let card = vpcd::VpcdCard::insert(VirtualCard::gids(raw), slot)
            .map_err(|e| format!("vpcd refused card {n}: {e}"))?;
        let done = vpcd::wait_until(DEADLINE, || {
            bound.lock().map(|m| m.contains_key(&id)).unwrap_or(false)
        });
        if !done {
            return Err(format!("card {id} was not bound within {DEADLINE:?}"));
        }
        let at = bound.lock().map_err(|_| "poisoned")?[&id];
        times.push(at.duration_since(inserted_at).as_secs_f64() * 1000.0);
        drop(card);
        if !vpcd::wait_for_card(&reader, false) {
            return Err(format!("{reader} still holds a card"));
        }
    }
    Ok(times)
}

/// A single `bind` waiting for a card: the card's insertion to the exit.
fn single_binds(emulator: &Emulator, rounds: usize) -> Result<Vec<f64>, Error> {
    let home = binary::StationHome::new();
    let reader = vpcd::reader_name(vpcd::FIRST_PORT);
    let mut times = Vec::new();
    for n in 0..rounds {
        let request = approved_request(emulator, 0xff, n)?;
        let mut child = home
            .command()
            .args(["--server", &emulator.base_url(), "bind", "--json"])
            .args(["--request", &request.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()?;
        // Inserted once the command waits for a card (it says so on stderr).
        let stderr = child.stderr.take().ok_or("no stderr")?;
        let mut lines = BufReader::new(stderr).lines();
        if !lines.any(|l| l.is_ok_and(|l| l.contains("insert the card"))) {
            return Err("bind never asked for a card".into());
        }
        thread::spawn(move || lines.for_each(drop));
        let raw = card_bytes(0xfe, n);
        let inserted_at = Instant::now();
        let card = vpcd::VpcdCard::insert(VirtualCard::gids(raw), vpcd::FIRST_PORT)?;
        let status = child.wait()?;
        times.push(inserted_at.elapsed().as_secs_f64() * 1000.0);
        if !status.success() {
            return Err(format!("bind {n} ended with {status}").into());
        }
        drop(card);
        if !vpcd::wait_for_card(&reader, false) {
            return Err("the slot still holds a card".into());
        }
    }
    Ok(times)
}

fn main() -> Result<(), Error> {
    // `cargo test --all-targets` runs bench binaries too, without `--bench`: measure only when asked.
    if !std::env::args().any(|a| a == "--bench") {
        println!("p7_batch: a benchmark; run it with `cargo bench --bench p7_batch`");
        return Ok(());
    }
    let cards: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(40)
        .max(2);
    let cards = cards + cards % 2;
    if !vpcd::require_pcscd() {
        return Err("pcscd with vsmartcard-vpcd is needed".into());
    }
    let emulator = Emulator::start_on_thread(EmulatorConfig {
        requests: 0,
        ..EmulatorConfig::default()
    })?;
    for port in [vpcd::FIRST_PORT, vpcd::SECOND_PORT] {
        if !vpcd::wait_for_card(&vpcd::reader_name(port), false) {
            return Err(format!("vpcd slot {port} is occupied").into());
        }
    }
    let (one, mut one_times) = run_batch(&emulator, 1, &[vpcd::FIRST_PORT], cards)?;
    let (two, mut two_times) =
        run_batch(&emulator, 2, &[vpcd::FIRST_PORT, vpcd::SECOND_PORT], cards)?;
    let mut single = single_binds(&emulator, 10)?;
    let per_minute = |d: Duration| cards as f64 * 60.0 / d.as_secs_f64();
    let (one_rate, two_rate) = (per_minute(one), per_minute(two));
    let (batch_card, two_card, single_card) = (
        median(&mut one_times),
        median(&mut two_times),
        median(&mut single),
    );
    println!("P7 batch throughput over {cards} cards (pcscd + vpcd, emulator on loopback)");
    println!(
        "  one reader:   {one_rate:6.1} cards/min ({:.1} s)",
        one.as_secs_f64()
    );
    println!(
        "  two readers:  {two_rate:6.1} cards/min ({:.1} s)",
        two.as_secs_f64()
    );
    println!("  speed-up:     {:.2}x (goal >= 1.8x)", two_rate / one_rate);
    println!(
        "  per card, insertion to bound (median): one reader {batch_card:.0} ms, two readers {two_card:.0} ms"
    );
    println!(
        "  single `bind` of a card inserted while it waits (median of 10): {single_card:.0} ms"
    );
    println!(
        "  batch per card / single bind: {:.2} (goal <= 1.2)",
        batch_card / single_card
    );
    Ok(())
}
