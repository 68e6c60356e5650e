//! A virtual card behind vsmartcard's vpcd driver, inside the real pcscd.
//!
//! vpcd is a reader driver that listens on TCP; whatever connects is the
//! card. Frames are a 2-byte big-endian length and a payload: a 1-byte
//! payload is a control message (0 power off, 1 power on, 2 reset, 4 send
//! the ATR), anything longer is an APDU. Connecting inserts the card,
//! disconnecting removes it. pcscd polls vpcd about every 400 ms, so waits
//! here are deadline loops, never fixed sleeps.

// Each test binary that declares `mod common` uses only part of the rig.
#![allow(dead_code)]

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use enroll_station::card::virtual_card::VirtualCard;
use pcsc::{Context, ReaderState, Scope, State};

/// The port of vpcd's first slot, reader "Virtual PCD 00 00".
pub const FIRST_PORT: u16 = 35963;

/// The port of vpcd's second slot, reader "Virtual PCD 00 01".
pub const SECOND_PORT: u16 = 35964;

/// How long to wait for pcscd to notice an insertion or removal.
pub const STATE_DEADLINE: Duration = Duration::from_secs(10);

const VPCD_CTRL_OFF: u8 = 0;
const VPCD_CTRL_ON: u8 = 1;
const VPCD_CTRL_RESET: u8 = 2;
const VPCD_CTRL_ATR: u8 = 4;

/// The reader name pcscd gives the vpcd slot on `port`.
pub fn reader_name(port: u16) -> String {
    format!("Virtual PCD 00 {:02}", port.saturating_sub(FIRST_PORT))
}

/// A virtual card inserted into a vpcd slot; dropping it removes the card.
pub struct VpcdCard {
    stream: TcpStream,
    port: u16,
    thread: Option<JoinHandle<()>>,
}

impl VpcdCard {
    /// Inserts `card` into the vpcd slot listening on `port` and answers
    /// pcscd on a background thread.
    pub fn insert(card: VirtualCard, port: u16) -> io::Result<Self> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_nodelay(true)?;
        let served = stream.try_clone()?;
        let thread = thread::Builder::new()
            .name(format!("vpcd-{port}"))
            .spawn(move || serve(served, card))?;
        Ok(Self {
            stream,
            port,
            thread: Some(thread),
        })
    }

    /// The name of the reader the card is in.
    pub fn reader(&self) -> String {
        reader_name(self.port)
    }

    /// Removes the card (disconnects from vpcd).
    pub fn remove(self) {}
}

impl Drop for VpcdCard {
    fn drop(&mut self) {
        // Already closed by pcscd is fine: the card is out either way.
        let _ = self.stream.shutdown(Shutdown::Both);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Answers vpcd until the connection closes.
fn serve(stream: TcpStream, card: VirtualCard) {
    serve_logged(stream, card, &Mutex::new(Vec::new()));
}

fn read_frame(stream: &mut TcpStream) -> io::Result<Vec<u8>> {
    let mut len = [0u8; 2];
    stream.read_exact(&mut len)?;
    let mut payload = vec![0u8; usize::from(u16::from_be_bytes(len))];
    stream.read_exact(&mut payload)?;
    Ok(payload)
}

fn write_frame(stream: &mut TcpStream, payload: &[u8]) -> io::Result<()> {
    let len = u16::try_from(payload.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame too long"))?;
    let mut frame = len.to_be_bytes().to_vec();
    frame.extend_from_slice(payload);
    stream.write_all(&frame)
}

/// True when pcscd runs with vpcd's readers. Otherwise panics when `CI` or
/// `ENROLL_STATION_REQUIRE_SERVICES` is set, else says the test is skipped.
pub fn require_pcscd() -> bool {
    let why = match vpcd_readers() {
        Ok(names) if !names.is_empty() => return true,
        Ok(_) => "pcscd runs but lists no \"Virtual PCD\" reader".to_owned(),
        Err(err) => format!("pcscd is not reachable: {err}"),
    };
    let required = ["CI", "ENROLL_STATION_REQUIRE_SERVICES"]
        .iter()
        .any(|var| std::env::var_os(var).is_some());
    if required {
        panic!("pcscd with vsmartcard-vpcd is required here, but {why}");
    }
    eprintln!("skipping: pcscd with vsmartcard-vpcd not available ({why})");
    false
}

fn vpcd_readers() -> Result<Vec<String>, pcsc::Error> {
    let context = Context::establish(Scope::User)?;
    let names = match context.list_readers_owned() {
        Ok(names) => names,
        Err(pcsc::Error::NoReadersAvailable) => Vec::new(),
        Err(err) => return Err(err),
    };
    Ok(names
        .iter()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| n.starts_with("Virtual PCD"))
        .collect())
}

/// The reader's state as pcscd reports it now.
pub fn reader_state(reader: &str) -> Option<State> {
    let context = Context::establish(Scope::User).ok()?;
    let name = std::ffi::CString::new(reader).ok()?;
    let mut states = [ReaderState::new(name, State::UNAWARE)];
    context
        .get_status_change(Duration::ZERO, &mut states)
        .ok()?;
    Some(states[0].event_state())
}

/// Waits until pcscd reports a card in `reader` (`present`) or none; false on timeout.
pub fn wait_for_card(reader: &str, present: bool) -> bool {
    wait_until(STATE_DEADLINE, || {
        reader_state(reader).is_some_and(|s| s.contains(State::PRESENT) == present)
    })
}

/// Polls `condition` until it holds or `deadline` passes.
pub fn wait_until(deadline: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + deadline;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// The vpcd slots are shared by every test in a test binary.
static SLOTS: Mutex<()> = Mutex::new(());

/// Takes the vpcd slots once both are empty (a previous test's removal may
/// not have been noticed yet); `None` when pcscd is unavailable.
pub fn take_slots() -> Option<MutexGuard<'static, ()>> {
    if !require_pcscd() {
        return None;
    }
    let guard = SLOTS.lock().unwrap_or_else(PoisonError::into_inner);
    for port in [FIRST_PORT, SECOND_PORT] {
        assert!(
            wait_for_card(&reader_name(port), false),
            "vpcd slot {port} stays occupied"
        );
    }
    Some(guard)
}

pub fn insert(card: VirtualCard, port: u16) -> VpcdCard {
    let inserted = VpcdCard::insert(card, port).expect("vpcd accepts the card");
    assert!(
        wait_for_card(&inserted.reader(), true),
        "pcscd did not see the card in {}",
        inserted.reader()
    );
    inserted
}

// --- Helpers for the robustness and restart tests -------------------------

/// Every command the card received and its answer, in order.
pub type ApduLog = std::sync::Arc<Mutex<Vec<(Vec<u8>, Vec<u8>)>>>;

impl VpcdCard {
    /// Like [`VpcdCard::insert`], and records each APDU and its answer, so a
    /// test can prove the card really took the path it is about (a `6Cxx`,
    /// small `61xx` chunks) rather than trusting that it did.
    pub fn insert_logged(card: VirtualCard, port: u16) -> io::Result<(Self, ApduLog)> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_nodelay(true)?;
        let served = stream.try_clone()?;
        let log = ApduLog::default();
        let recorder = std::sync::Arc::clone(&log);
        let thread = thread::Builder::new()
            .name(format!("vpcd-log-{port}"))
            .spawn(move || serve_logged(served, card, &recorder))?;
        let inserted = Self {
            stream,
            port,
            thread: Some(thread),
        };
        Ok((inserted, log))
    }

    /// Inserts `card` as soon as vpcd listens on `port` again (after pcscd
    /// restarts, vpcd's socket comes back with it); fails after `deadline`.
    pub fn insert_when_listening(
        card: VirtualCard,
        port: u16,
        deadline: Duration,
    ) -> io::Result<Self> {
        let end = Instant::now() + deadline;
        loop {
            match Self::insert(card.clone(), port) {
                Ok(inserted) => return Ok(inserted),
                Err(err) if Instant::now() >= end => return Err(err),
                Err(_) => thread::sleep(Duration::from_millis(50)),
            }
        }
    }
}

/// Answers vpcd until the connection closes, recording each APDU exchange in `log`.
fn serve_logged(
    mut stream: TcpStream,
    mut card: VirtualCard,
    log: &Mutex<Vec<(Vec<u8>, Vec<u8>)>>,
) {
    while let Ok(frame) = read_frame(&mut stream) {
        let answer = match frame.as_slice() {
            [] => continue,
            [VPCD_CTRL_OFF | VPCD_CTRL_ON | VPCD_CTRL_RESET] => {
                card.reset();
                continue;
            }
            [VPCD_CTRL_ATR] => card.atr().bytes().to_vec(),
            [_] => continue,
            apdu => {
                let answer = card.respond(apdu);
                log.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push((apdu.to_vec(), answer.clone()));
                answer
            }
        };
        if write_frame(&mut stream, &answer).is_err() {
            return;
        }
    }
}

/// True when pcscd answers and lists at least one vpcd reader; never panics.
pub fn vpcd_listed() -> bool {
    vpcd_readers().is_ok_and(|names| !names.is_empty())
}
