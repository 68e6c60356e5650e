//! P2: the `bind` command's wall time on loopback against the emulator, split
//! into card re-read, pre-check calls and the POST, beside a bare POST with
//! `curl` and a bare card-ID read with `scriptor` (pcsc-tools) sending the same
//! APDUs. Goal: bind ≤ 1.5 × (curl + scriptor).
//!
//! Needs pcscd with vsmartcard-vpcd, curl and scriptor. Run:
//! `cargo bench --bench p2_bind_time` (optionally `-- 40` rounds; default 30).

#[path = "../tests/common/binary.rs"]
mod binary;
#[path = "../tests/common/vpcd.rs"]
mod vpcd;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use enroll_station::card::virtual_card::VirtualCard;
use enroll_station::cm::emulator::{Emulator, EmulatorConfig};
use uuid::Uuid;

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn approved_request(emulator: &Emulator, n: usize) -> Result<Uuid, Box<dyn std::error::Error>> {
    let id = Uuid::from_u128(0x9292_0000_0000_0000_0000_0000_0000_0000 + n as u128);
    emulator.insert_request(serde_json::json!({
        "Uuid": id.to_string(), "RequestType": 1, "Status": 3,
        "NewSmartcardUuid": "00000000-0000-0000-0000-000000000000", "IsSmartcard": true
    }))?;
    Ok(id)
}

fn card_bytes(n: usize) -> [u8; 16] {
    let mut raw = [0x77u8; 16];
    raw[..8].copy_from_slice(&(n as u64 + 1).to_be_bytes());
    raw
}

/// The GIDS APDUs the station sends to read a card ID, for scriptor.
const SCRIPTOR_APDUS: &str = "00 A4 04 00 09 A0 00 00 03 97 42 54 46 59 00\n\
                              00 CB A0 00 04 5C 02 DF 1F 00\n\
                              00 CB A0 12 04 5C 02 DF 20 00\n";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `cargo test --all-targets` runs bench binaries too, without `--bench`: measure only when asked.
    if !std::env::args().any(|a| a == "--bench") {
        println!("p2_bind_time: a benchmark; run it with `cargo bench --bench p2_bind_time`");
        return Ok(());
    }
    let rounds: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(30);
    if !vpcd::require_pcscd() {
        return Err("pcscd with vsmartcard-vpcd is needed".into());
    }
    let emulator = Emulator::start_on_thread(EmulatorConfig {
        requests: 0,
        ..EmulatorConfig::default()
    })?;
    let reader = vpcd::reader_name(vpcd::FIRST_PORT);
    let journal =
        std::env::temp_dir().join(format!("enroll-station-p2-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&journal);
    // HOME and the XDG directories of its own: no station.toml of this machine applies.
    let home = binary::StationHome::new();

    let mut bind_ms = Vec::new();
    let mut curl_ms = Vec::new();
    let mut scriptor_ms = Vec::new();
    let mut phases: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for round in 0..rounds {
        let card = vpcd::insert(VirtualCard::gids(card_bytes(round)), vpcd::FIRST_PORT);

        // The station's bind, as an operator's script runs it.
        let request = approved_request(&emulator, round)?;
        let started = Instant::now();
        let output = home
            .command()
            .args([
                "bind",
                "--server",
                &emulator.base_url(),
                "--reader",
                &reader,
                "--json",
                "--request",
            ])
            .arg(request.to_string())
            .arg("--audit-file")
            .arg(&journal)
            .env(
                "ENROLL_STATION_LOG",
                "enroll_station::worker::effects=debug",
            )
            .env("NO_COLOR", "1")
            .output()?;
        bind_ms.push(ms(started.elapsed()));
        if !output.status.success() {
            return Err(format!("bind failed: {}", String::from_utf8_lossy(&output.stderr)).into());
        }
        for line in String::from_utf8_lossy(&output.stderr).lines() {
            let field = |key: &str| {
                line.split_whitespace()
                    .find_map(|w| w.strip_prefix(key))
                    .map(|v| v.trim_matches('"').to_owned())
            };
            if let (Some(effect), Some(micros)) = (field("effect="), field("micros=")) {
                let micros: f64 = micros.parse().unwrap_or(f64::NAN);
                phases.entry(effect).or_default().push(micros / 1000.0);
            }
        }

        // A bare card-ID read: the same APDUs through scriptor.
        let started = Instant::now();
        let mut child = Command::new("scriptor")
            .args(["-r", &reader])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(SCRIPTOR_APDUS.as_bytes())?;
        }
        let status = child.wait()?;
        scriptor_ms.push(ms(started.elapsed()));
        if !status.success() {
            return Err("scriptor failed".into());
        }
        card.remove();
        assert!(vpcd::wait_for_card(&reader, false), "card removed");

        // A bare POST of the same body with curl, for another fresh request and card ID.
        let request = approved_request(&emulator, 100_000 + round)?;
        let body = format!(
            r#"{{"requestid":"{request}","cardid":"{}","atr":"3b8d0180fba000000397425446590301c8"}}"#,
            Uuid::from_bytes(card_bytes(200_000 + round))
        );
        let started = Instant::now();
        let status = Command::new("curl")
            .args([
                "-s",
                "-o",
                "/dev/null",
                "-X",
                "POST",
                "-H",
                "Content-Type: application/json",
                "--data",
                &body,
            ])
            .arg(format!(
                "{}/CertificateManagement/api/v1.0/smartcards",
                emulator.base_url()
            ))
            .status()?;
        curl_ms.push(ms(started.elapsed()));
        if !status.success() {
            return Err("curl failed".into());
        }
    }
    let _ = std::fs::remove_file(&journal);
    let _ = std::fs::remove_file(journal.with_extension("jsonl.lock"));

    let bind = median(&mut bind_ms);
    let curl = median(&mut curl_ms);
    let scriptor = median(&mut scriptor_ms);
    println!("P2 over {rounds} rounds (medians, ms):");
    println!("  enroll-station bind (whole command)  {bind:8.1}");
    for (phase, values) in &mut phases {
        println!("    {phase:<32} {:8.1}", median(values));
    }
    println!("  curl POST smartcards                 {curl:8.1}");
    println!("  scriptor card-ID read                {scriptor:8.1}");
    println!(
        "  ratio bind / (curl + scriptor)       {:8.2}  (goal <= 1.5)",
        bind / (curl + scriptor)
    );
    Ok(())
}
