//! The reader monitor survives a restart of pcscd (issue 3).
//!
//! This is its own test binary because it kills the machine's pcscd: cargo
//! runs test binaries one after another, so no other pcscd test runs while
//! the daemon is gone. It kills pcscd only where that is expected (`CI` or
//! `ENROLL_STATION_REQUIRE_SERVICES` set, running as root) and skips
//! otherwise, so a developer's pcscd is never killed by surprise. Whatever
//! happens, pcscd runs again when the test ends.

mod common;

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use common::vpcd::{
    FIRST_PORT, SECOND_PORT, STATE_DEADLINE, VpcdCard, reader_name, take_slots, vpcd_listed,
    wait_until,
};
use enroll_station::card::monitor::spawn_monitor;
use enroll_station::card::virtual_card::VirtualCard;
use enroll_station::domain::card::{CardId, CardKind};
use enroll_station::domain::readers::ReaderEvent;

/// sspi-rs' YubiKey CHUID GUID (spec test vector).
const CARD_RAW: [u8; 16] = [
    0x58, 0xc6, 0x8a, 0x1d, 0x65, 0xe0, 0xa0, 0x92, 0x85, 0xaf, 0x09, 0x0b, 0x07, 0x0b, 0x5d, 0x79,
];

/// A generous bound for pcscd's restart to reach the station. The product
/// goal (2 s) is a measurement, printed here, not a test assertion.
const RECOVERY_DEADLINE: Duration = Duration::from_secs(10);

/// True when this test may kill pcscd: services are required here and we are root.
fn may_restart_pcscd() -> bool {
    let required = ["CI", "ENROLL_STATION_REQUIRE_SERVICES"]
        .iter()
        .any(|var| std::env::var_os(var).is_some());
    if !required {
        eprintln!(
            "skipping: this test kills and restarts pcscd; it runs only when CI or \
             ENROLL_STATION_REQUIRE_SERVICES is set (and as root)"
        );
        return false;
    }
    if !is_root() {
        eprintln!("skipping: restarting pcscd needs root");
        return false;
    }
    true
}

fn is_root() -> bool {
    // The effective UID is the second field of "Uid:"; no /proc means not Linux, so no pcscd to restart.
    std::fs::read_to_string("/proc/self/status").is_ok_and(|status| {
        status
            .lines()
            .find_map(|line| line.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().nth(1))
            == Some("0")
    })
}

fn pcscd_running() -> bool {
    Command::new("pgrep")
        .args(["-x", "pcscd"])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn start_pcscd() {
    // pcscd forks into the background; with inherited stdio it would keep the
    // test's output pipe open (and `cargo test | tee` would never end).
    let status = Command::new("pcscd")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("pcscd can be started");
    assert!(status.success(), "pcscd failed to start: {status}");
}

fn kill_pcscd() {
    let status = Command::new("pkill")
        .args(["-x", "pcscd"])
        .status()
        .expect("pkill runs");
    assert!(status.success(), "pkill found no pcscd: {status}");
    assert!(
        wait_until(STATE_DEADLINE, || !pcscd_running()),
        "pcscd did not exit"
    );
}

/// Leaves pcscd running (with its vpcd readers) when the test ends, pass or fail.
struct PcscdKeeper;

impl Drop for PcscdKeeper {
    fn drop(&mut self) {
        if pcscd_running() {
            return;
        }
        match Command::new("pcscd")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
        {
            Ok(status) if status.success() => {
                if !wait_until(STATE_DEADLINE, vpcd_listed) {
                    eprintln!("pcscd was restarted but lists no vpcd reader yet");
                }
            }
            // No panic in Drop: the test's own failure is the one to report.
            other => eprintln!("could not restart pcscd after the test: {other:?}"),
        }
    }
}

/// Waits for the first event matching `wanted`; returns it with when it came.
fn expect_event(
    events: &Receiver<(Instant, ReaderEvent)>,
    what: &str,
    deadline: Duration,
    wanted: impl Fn(&ReaderEvent) -> bool,
) -> (Instant, ReaderEvent, Vec<ReaderEvent>) {
    let end = Instant::now() + deadline;
    let mut before = Vec::new();
    while let Some(left) = end.checked_duration_since(Instant::now()) {
        match events.recv_timeout(left) {
            Ok((at, event)) if wanted(&event) => return (at, event, before),
            Ok((_, event)) => before.push(event),
            Err(_) => break,
        }
    }
    panic!("no {what} event within {deadline:?}; saw {before:#?}");
}

fn is_identified(event: &ReaderEvent, reader: &str) -> bool {
    matches!(event, ReaderEvent::CardIdentified { reader: r, .. } if r == reader)
}

fn assert_identified(event: &ReaderEvent) {
    let ReaderEvent::CardIdentified {
        result: Ok(identity),
        ..
    } = event
    else {
        panic!("the card was not identified: {event:?}");
    };
    assert_eq!(identity.card_id, CardId::from_raw(CARD_RAW));
    assert_eq!(identity.kind, CardKind::Gids);
}

#[test]
fn the_monitor_recovers_when_pcscd_restarts() {
    if !may_restart_pcscd() {
        return;
    }
    let Some(_slots) = take_slots() else { return };
    let _keeper = PcscdKeeper;
    let reader = reader_name(FIRST_PORT);
    let other_reader = reader_name(SECOND_PORT);

    let (sender, events) = mpsc::channel();
    let monitor = spawn_monitor(Arc::new(move |event| {
        let _ = sender.send((Instant::now(), event));
    }));
    let is_added =
        |r: &str, e: &ReaderEvent| matches!(e, ReaderEvent::ReaderAdded { reader } if reader == r);
    expect_event(&events, "ReaderAdded", STATE_DEADLINE, |e| {
        is_added(&reader, e)
    });

    let card =
        VpcdCard::insert(VirtualCard::gids(CARD_RAW), FIRST_PORT).expect("vpcd accepts the card");
    let (_, identified, _) = expect_event(&events, "CardIdentified", STATE_DEADLINE, |e| {
        is_identified(e, &reader)
    });
    assert_identified(&identified);

    kill_pcscd();
    expect_event(&events, "ServiceDown", STATE_DEADLINE, |e| {
        matches!(e, ReaderEvent::ServiceDown { .. })
    });
    // The monitor forgets every reader of the dead service right after it says so.
    let mut removed = Vec::new();
    while removed.len() < 2 {
        let (_, event, _) = expect_event(&events, "ReaderRemoved", STATE_DEADLINE, |e| {
            matches!(e, ReaderEvent::ReaderRemoved { .. })
        });
        if let ReaderEvent::ReaderRemoved { reader } = event {
            removed.push(reader);
        }
    }
    removed.sort();
    assert_eq!(removed, vec![reader.clone(), other_reader.clone()]);
    // The virtual card's connection died with pcscd's vpcd driver.
    drop(card);

    let restarted = Instant::now();
    start_pcscd();
    let (up_at, _, before_up) = expect_event(&events, "ServiceUp", RECOVERY_DEADLINE, |e| {
        matches!(e, ReaderEvent::ServiceUp)
    });
    let recovery = up_at.duration_since(restarted);
    println!(
        "pcscd restart -> ServiceUp: {} ms (product goal 2000 ms; asserted only < {} ms)",
        recovery.as_millis(),
        RECOVERY_DEADLINE.as_millis()
    );
    assert!(
        before_up.is_empty(),
        "nothing may come between the restart and ServiceUp: {before_up:#?}"
    );
    // The readers of the new service follow its ServiceUp, never precede it.
    let (added_at, _, _) = expect_event(
        &events,
        "ReaderAdded after ServiceUp",
        STATE_DEADLINE,
        |e| is_added(&reader, e),
    );
    println!(
        "pcscd restart -> ReaderAdded: {} ms",
        added_at.duration_since(restarted).as_millis()
    );

    let card =
        VpcdCard::insert_when_listening(VirtualCard::gids(CARD_RAW), FIRST_PORT, STATE_DEADLINE)
            .expect("vpcd listens again after pcscd's restart");
    let (_, identified, _) = expect_event(
        &events,
        "CardIdentified after restart",
        STATE_DEADLINE,
        |e| is_identified(e, &reader),
    );
    assert_identified(&identified);
    card.remove();
    expect_event(
        &events,
        "CardRemoved",
        STATE_DEADLINE,
        |e| matches!(e, ReaderEvent::CardRemoved { reader: r } if *r == reader),
    );
    drop(monitor);
}
