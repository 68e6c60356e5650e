//! R1: 1,000 binds through the CM emulator with mixed faults (500s before and
//! after commit, dropped connections, answers later than the timeout, 403s),
//! each with its own virtual card in the demo reader and the real audit journal.
//!
//! Run: `cargo bench --bench r1_binds` (optionally `-- 200` for fewer binds).
//! Reports binds attempted, bound, refused, failed, reconciled, retries after a
//! proof of no bind, double binds, lost and unreconciled attempts, and the time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use enroll_station::card::IdentityReader as _;
use enroll_station::card::demo::{DEMO_READER, DemoReader};
use enroll_station::card::virtual_card::VirtualCard;
use enroll_station::cm::emulator::{Emulator, EmulatorConfig, Faults};
use enroll_station::cm::{ClientConfig, CmClient};
use enroll_station::domain::bind::{BindState, BindTarget};
use enroll_station::worker::effects::{BindContext, run_bind};
use uuid::Uuid;

/// The fault injected into bind `i`: a mix where 6 binds in 10 meet a fault.
fn fault(i: usize) -> (&'static str, Faults) {
    let none = Faults::default();
    match i % 10 {
        0 => (
            "500 before commit",
            Faults {
                fail_next_posts: 1,
                ..none
            },
        ),
        1 => (
            "500 after commit",
            Faults {
                fail_after_commit: 1,
                ..none
            },
        ),
        2 => (
            "dropped answer",
            Faults {
                drop_after_commit: 1,
                ..none
            },
        ),
        3 => (
            "answer after timeout",
            Faults {
                post_delay: Duration::from_millis(400),
                ..none
            },
        ),
        4 => (
            "403",
            Faults {
                forbid_binds: true,
                ..none
            },
        ),
        5 => (
            "500 before commit, twice",
            Faults {
                fail_next_posts: 2,
                ..none
            },
        ),
        _ => ("none", none),
    }
}

#[derive(Default, Debug)]
struct Tally {
    attempted: usize,
    bound: usize,
    reconciled_bound: usize,
    refused: usize,
    failed: usize,
    retried_after_proof: usize,
    unknown: usize,
    wrong_card: usize,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `cargo test --all-targets` runs bench binaries too, without `--bench`: measure only when asked.
    if !std::env::args().any(|a| a == "--bench") {
        println!("r1_binds: a benchmark; run it with `cargo bench --bench r1_binds`");
        return Ok(());
    }
    let count: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let emulator = runtime.block_on(Emulator::start(EmulatorConfig {
        requests: 0,
        ..EmulatorConfig::default()
    }))?;
    let mut requests = Vec::with_capacity(count);
    for i in 0..count {
        let id = Uuid::from_u128(0x5151_0000_0000_0000_0000_0000_0000_0000 + i as u128);
        emulator.insert_request(serde_json::json!({
            "Uuid": id.to_string(), "RequestType": 1, "Status": 3, "Priority": 1,
            "Submitted": "2026-11-27T08:00:00Z",
            "NewSmartcardUuid": "00000000-0000-0000-0000-000000000000", "IsSmartcard": true
        }))?;
        requests.push(id);
    }
    let mut config = ClientConfig::new(emulator.base_url());
    config.request_timeout = Duration::from_millis(250);
    let demo = DemoReader::new(Arc::new(|_| {}));
    let journal_path =
        std::env::temp_dir().join(format!("enroll-station-r1-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&journal_path);
    let context = BindContext {
        client: CmClient::new(&config)?,
        readers: demo.clone(),
        journal: enroll_station::audit::journal::open_shared(Some(&journal_path), true)?,
    };

    let mut tally = Tally::default();
    let started = Instant::now();
    for (i, request_id) in requests.iter().enumerate() {
        let mut raw = [0u8; 16];
        raw[..8].copy_from_slice(&(i as u64 + 1).to_be_bytes());
        raw[8] = 0xc4;
        demo.insert(VirtualCard::gids(raw));
        let expected = demo.read_identity(DEMO_READER)?;
        let target = BindTarget {
            request_id: *request_id,
            person: String::new(),
            reader: DEMO_READER.into(),
            expected,
            supervisor: None,
        };
        let (_, faults) = fault(i);
        emulator.set_faults(faults);
        // Like `bind --retries 2`: a new POST only after the server proved the last did not bind.
        let mut tries_left = 2;
        loop {
            tally.attempted += 1;
            let state = runtime.block_on(run_bind(
                &context,
                target.clone(),
                |_| {},
                |w| eprintln!("warning: {w}"),
            ));
            match state {
                BindState::Bound {
                    confirmed_after_loss: false,
                    ..
                } => tally.bound += 1,
                BindState::Bound {
                    confirmed_after_loss: true,
                    ..
                } => tally.reconciled_bound += 1,
                BindState::Refused { .. } => tally.refused += 1,
                BindState::Failed {
                    confirmed_not_bound: true,
                    ..
                } if tries_left > 0 => {
                    tries_left -= 1;
                    tally.retried_after_proof += 1;
                    continue;
                }
                BindState::Failed { .. } => tally.failed += 1,
                BindState::Unknown { .. } => tally.unknown += 1,
                BindState::WrongCard { .. } => tally.wrong_card += 1,
                other => return Err(format!("bind {i} stopped in {other:?}").into()),
            }
            break;
        }
        emulator.set_faults(Faults::default());
    }
    let elapsed = started.elapsed();

    let bound_on_server = emulator
        .requests()
        .iter()
        .filter(|r| r.new_smartcard.is_some())
        .count();
    let committed = emulator.bind_count();
    let report = enroll_station::audit::verify(&journal_path)?;
    let bound_by_station = tally.bound + tally.reconciled_bound;
    println!(
        "R1: {count} bind intents, {} attempts, in {:.1} s ({:.1} ms per intent)",
        tally.attempted,
        elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1000.0 / count as f64
    );
    println!("  bound                  {}", tally.bound);
    println!("  bound after reconcile  {}", tally.reconciled_bound);
    println!("  refused (pre-checks)   {}", tally.refused);
    println!("  failed (server said no) {}", tally.failed);
    println!("  retried after proof    {}", tally.retried_after_proof);
    println!("  wrong card (alarm)     {}", tally.wrong_card);
    println!("  unreconciled (unknown) {}", tally.unknown);
    println!("  server: binds committed {committed}, requests with a card {bound_on_server}");
    println!(
        "  double binds           {}",
        committed.saturating_sub(bound_on_server)
    );
    println!(
        "  lost (bound on server, not by the station) {}",
        bound_on_server.saturating_sub(bound_by_station)
    );
    println!(
        "  journal: {} records, {} attempts, {} outcomes, {} open; chain intact",
        report.records, report.attempts, report.outcomes, report.unfinished
    );
    let _ = std::fs::remove_file(&journal_path);
    let ok = committed == bound_on_server
        && bound_on_server == bound_by_station
        && report.unfinished == 0
        && tally.unknown == 0;
    if !ok {
        return Err("R1 goals missed: see the figures above".into());
    }
    Ok(())
}
