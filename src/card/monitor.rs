//! The PC/SC monitor thread: readers coming and going, cards in and out.
//!
//! It follows the pcsc crate's `monitor` example: the PnP pseudo-reader plus
//! every reader, re-listed every round (macOS has no PnP notification), and a
//! finite wait so a stop request or a vanished service is noticed. Identity
//! reads run on their own short-lived threads: a slow card must never stall
//! the events of the other readers.

use std::collections::{BTreeMap, HashMap};
use std::ffi::CString;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use pcsc::{Context, PNP_NOTIFICATION, ReaderState, Scope, State};

use super::pcsc_reader::{PcscReader, unavailable_reason};
use super::{IdentityReader, ReadOptions};
use crate::domain::card::Atr;
use crate::domain::readers::{Arrival, ReaderEvent};

/// Where the monitor sends its events. It is called from the monitor thread
/// and from identity-read threads, so it must be quick (send and wake the UI).
pub type EventSink = Arc<dyn Fn(ReaderEvent) + Send + Sync>;

/// How long one wait for a reader change lasts; bounds how late a stop or a
/// new reader on a platform without PnP notification is noticed.
const WAIT: Duration = Duration::from_secs(1);

/// The pause between rounds when the service has nothing to wait on.
const IDLE_ROUND: Duration = Duration::from_secs(1);

/// First and longest pause before re-establishing a lost service.
const BACKOFF_START: Duration = Duration::from_millis(250);
const BACKOFF_MAX: Duration = Duration::from_secs(1);

/// Runs the monitor thread; dropping it stops the thread.
pub struct MonitorHandle {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// What the handle and the thread share: the stop flag and the context to cancel.
struct Shared {
    stop: AtomicBool,
    context: Mutex<Option<Context>>,
}

impl Shared {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    fn publish(&self, context: Option<Context>) {
        *self.context.lock().unwrap_or_else(PoisonError::into_inner) = context;
    }

    /// Sleeps up to `duration`, waking early when the handle asks to stop.
    fn sleep(&self, duration: Duration) {
        let deadline = Instant::now() + duration;
        while !self.stopped() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            thread::park_timeout(left);
        }
    }
}

/// Starts the monitor thread. Events go to `sink`; if the thread cannot be
/// started, `sink` hears a `ServiceDown` saying so.
pub fn spawn_monitor(sink: EventSink) -> MonitorHandle {
    spawn_monitor_with(sink, PcscReader::new())
}

/// [`spawn_monitor`], reading cards with `reader` (which carries the site's
/// policy for cards without a card ID).
pub fn spawn_monitor_with(sink: EventSink, reader: PcscReader) -> MonitorHandle {
    let shared = Arc::new(Shared {
        stop: AtomicBool::new(false),
        context: Mutex::new(None),
    });
    let monitor = Monitor {
        shared: Arc::clone(&shared),
        sink: Arc::clone(&sink),
        reader: Arc::new(reader),
        slots: BTreeMap::new(),
        insertions: HashMap::new(),
        refused: BTreeMap::new(),
        service_down: false,
    };
    let spawned = thread::Builder::new()
        .name("pcsc-monitor".to_owned())
        .spawn(move || monitor.run());
    let thread = match spawned {
        Ok(thread) => Some(thread),
        Err(err) => {
            sink(ReaderEvent::ServiceDown {
                reason: format!("the reader monitor could not start: {err}"),
            });
            None
        }
    };
    MonitorHandle { shared, thread }
}

impl MonitorHandle {
    /// True while the monitor thread runs.
    pub fn is_running(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }
}

impl Drop for MonitorHandle {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let context = self
            .shared
            .context
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(context) = context.as_ref()
            && let Err(err) = context.cancel()
        {
            tracing::debug!(%err, "cancelling the reader wait failed; the monitor stops after its timeout");
        }
        drop(context);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            if thread.join().is_err() {
                tracing::error!("the reader monitor thread panicked");
            }
        }
    }
}

impl fmt::Debug for MonitorHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MonitorHandle")
            .field("running", &self.is_running())
            .finish()
    }
}

/// What the monitor last told the sink about a reader's slot.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Observed {
    /// Announced, its slot not yet looked at: a card found now was already in.
    Unseen,
    Empty,
    Present {
        atr: Vec<u8>,
        event_count: u32,
    },
    Unavailable(String),
}

/// How one context's watch ended.
enum WatchEnd {
    Stopped,
    Lost { reason: String, healthy: bool },
}

/// The monitor thread's state.
struct Monitor {
    shared: Arc<Shared>,
    sink: EventSink,
    reader: Arc<dyn IdentityReader>,
    /// Readers announced with `ReaderAdded`, and what their slot showed.
    slots: BTreeMap<String, Observed>,
    /// Insertion counters per reader; never reset, so a late read of an
    /// earlier card can never match the card present now.
    insertions: HashMap<String, u64>,
    /// Readers whose names are not used (see `reader_name`), with the name
    /// they are shown under; never watched.
    refused: BTreeMap<CString, String>,
    service_down: bool,
}

impl Monitor {
    fn run(mut self) {
        let mut backoff = BACKOFF_START;
        while !self.shared.stopped() {
            match Context::establish(Scope::User) {
                Ok(context) => {
                    self.shared.publish(Some(context.clone()));
                    let end = self.watch(&context);
                    self.shared.publish(None);
                    match end {
                        WatchEnd::Stopped => break,
                        WatchEnd::Lost { reason, healthy } => {
                            if healthy {
                                backoff = BACKOFF_START;
                            }
                            self.service_lost(reason);
                        }
                    }
                }
                Err(err) => self.service_lost(err.to_string()),
            }
            self.shared.sleep(backoff);
            backoff = (backoff * 2).min(BACKOFF_MAX);
        }
    }

    fn emit(&self, event: ReaderEvent) {
        (self.sink)(event);
    }

    /// Reports the service gone (once) and forgets every reader.
    fn service_lost(&mut self, reason: String) {
        if !self.service_down {
            tracing::warn!(%reason, "smart card service unavailable");
            self.service_down = true;
            self.emit(ReaderEvent::ServiceDown { reason });
        }
        for reader in std::mem::take(&mut self.slots).into_keys() {
            self.emit(ReaderEvent::ReaderRemoved { reader });
        }
        for reader in std::mem::take(&mut self.refused).into_values() {
            self.emit(ReaderEvent::ReaderRemoved { reader });
        }
    }

    /// Watches readers on one context until it fails or the handle stops it.
    fn watch(&mut self, context: &Context) -> WatchEnd {
        let mut states = vec![ReaderState::new(PNP_NOTIFICATION(), State::UNAWARE)];
        let mut healthy = false;
        loop {
            if self.shared.stopped() {
                return WatchEnd::Stopped;
            }
            self.drop_dead(&mut states);
            let names = match context.list_readers_owned() {
                Ok(names) => names,
                Err(pcsc::Error::NoReadersAvailable) => Vec::new(),
                Err(err) if is_service_error(err) => return lost(err, healthy),
                Err(err) => {
                    tracing::warn!(%err, "listing smart card readers failed");
                    self.shared.sleep(IDLE_ROUND);
                    continue;
                }
            };
            // ServiceUp before the new service's readers: a consumer that
            // resets its reader list on ServiceUp must not lose them.
            if self.service_down {
                self.service_down = false;
                self.emit(ReaderEvent::ServiceUp);
            }
            self.sync_readers(&mut states, names);
            if states.is_empty() {
                self.shared.sleep(IDLE_ROUND);
                continue;
            }
            states.iter_mut().for_each(ReaderState::sync_current_state);
            match context.get_status_change(WAIT, &mut states) {
                Ok(()) => {
                    healthy = true;
                    self.observe(&states);
                }
                Err(pcsc::Error::Timeout) => healthy = true,
                Err(pcsc::Error::Cancelled) => {}
                // Some pcscd versions say this when only the PnP reader is watched.
                Err(pcsc::Error::NoReadersAvailable) => self.shared.sleep(IDLE_ROUND),
                Err(err) if is_service_error(err) => return lost(err, healthy),
                Err(err) => {
                    tracing::warn!(%err, "waiting for reader changes failed");
                    self.shared.sleep(IDLE_ROUND);
                }
            }
        }
    }

    /// Drops readers the service no longer knows (and PnP where it is unsupported).
    fn drop_dead(&mut self, states: &mut Vec<ReaderState>) {
        let mut removed = Vec::new();
        states.retain(|state| {
            let dead = state
                .event_state()
                .intersects(State::UNKNOWN | State::IGNORE);
            if dead && !is_pnp(state) {
                removed.push(state.name().to_string_lossy().into_owned());
            }
            !dead
        });
        for reader in removed {
            self.forget(reader);
        }
    }

    /// Drops readers that left the list and adds new ones.
    fn sync_readers(&mut self, states: &mut Vec<ReaderState>, names: Vec<CString>) {
        let mut gone = Vec::new();
        states.retain(|state| {
            let listed = is_pnp(state) || names.iter().any(|n| n.as_c_str() == state.name());
            if !listed {
                gone.push(state.name().to_string_lossy().into_owned());
            }
            listed
        });
        for reader in gone {
            self.forget(reader);
        }
        let refused_gone: Vec<CString> = self
            .refused
            .keys()
            .filter(|name| !names.contains(name))
            .cloned()
            .collect();
        for name in refused_gone {
            if let Some(reader) = self.refused.remove(&name) {
                self.emit(ReaderEvent::ReaderRemoved { reader });
            }
        }
        for name in names {
            if states.iter().any(|s| s.name() == name.as_c_str())
                || self.refused.contains_key(&name)
            {
                continue;
            }
            let reader = match super::reader_name::check(&name) {
                Ok(reader) => reader,
                Err(refused) => {
                    tracing::warn!(reader = %refused.shown, "a reader's name is refused");
                    self.emit(ReaderEvent::ReaderAdded {
                        reader: refused.shown.clone(),
                    });
                    self.emit(ReaderEvent::ReaderUnavailable {
                        reader: refused.shown.clone(),
                        reason: refused.reason,
                    });
                    self.refused.insert(name, refused.shown);
                    continue;
                }
            };
            states.push(ReaderState::new(name, State::UNAWARE));
            self.slots.insert(reader.clone(), Observed::Unseen);
            self.emit(ReaderEvent::ReaderAdded { reader });
        }
    }

    fn forget(&mut self, reader: String) {
        if self.slots.remove(&reader).is_some() {
            self.emit(ReaderEvent::ReaderRemoved { reader });
        }
    }

    /// Turns the readers' new states into events.
    fn observe(&mut self, states: &[ReaderState]) {
        for state in states.iter().filter(|s| !is_pnp(s)) {
            let flags = state.event_state();
            if flags.intersects(State::UNKNOWN | State::IGNORE) {
                // Gone: the next round's drop_dead reports it.
                continue;
            }
            let reader = state.name().to_string_lossy().into_owned();
            let now = observed(state);
            let before = self.slots.insert(reader.clone(), now.clone());
            self.transition(reader, before.unwrap_or(Observed::Unseen), now);
        }
    }

    fn transition(&mut self, reader: String, before: Observed, now: Observed) {
        if before == now {
            return;
        }
        match now {
            Observed::Present { atr, .. } => {
                let arrival = match before {
                    // Another card (or the same one again) between two waits:
                    // the slot was emptied in between.
                    Observed::Present { .. } => {
                        self.emit(ReaderEvent::CardRemoved {
                            reader: reader.clone(),
                        });
                        Arrival::Inserted
                    }
                    Observed::Empty => Arrival::Inserted,
                    // A card found on first sight, or once another program
                    // let go of the reader, may have been in for hours.
                    Observed::Unseen | Observed::Unavailable(_) => Arrival::AlreadyPresent,
                };
                self.card_inserted(reader, Atr::from_bytes(atr), arrival);
            }
            Observed::Empty if before == Observed::Unseen => {}
            Observed::Empty => self.emit(ReaderEvent::CardRemoved { reader }),
            Observed::Unseen => {}
            Observed::Unavailable(reason) => {
                self.emit(ReaderEvent::ReaderUnavailable { reader, reason });
            }
        }
    }

    /// Announces the card and reads its identity on a separate thread.
    fn card_inserted(&mut self, reader: String, atr: Atr, arrival: Arrival) {
        let counter = self.insertions.entry(reader.clone()).or_insert(0);
        *counter += 1;
        let insertion = *counter;
        self.emit(ReaderEvent::CardInserted {
            reader: reader.clone(),
            atr,
            insertion,
            arrival,
        });
        let sink = Arc::clone(&self.sink);
        let shared = Arc::clone(&self.shared);
        let identity_reader = Arc::clone(&self.reader);
        let name = reader.clone();
        let spawned = thread::Builder::new()
            .name("card-read".to_owned())
            .spawn(move || {
                let result = identity_reader
                    .read_with(&name, ReadOptions::INSERTION)
                    .map_err(Into::into);
                if !shared.stopped() {
                    sink(ReaderEvent::CardIdentified {
                        reader: name,
                        insertion,
                        result,
                    });
                }
            });
        if let Err(err) = spawned {
            self.emit(ReaderEvent::CardIdentified {
                reader,
                insertion,
                result: Err(format!("The station could not start reading the card: {err}").into()),
            });
        }
    }
}

/// What a reader's reported state means for its slot.
fn observed(state: &ReaderState) -> Observed {
    let flags = state.event_state();
    if let Some(reason) = unavailable_reason(flags) {
        Observed::Unavailable(reason)
    } else if flags.contains(State::PRESENT) {
        Observed::Present {
            atr: state.atr().to_vec(),
            event_count: state.event_count(),
        }
    } else {
        Observed::Empty
    }
}

fn is_pnp(state: &ReaderState) -> bool {
    state.name() == PNP_NOTIFICATION()
}

/// Errors after which only a new context helps. A broken socket to pcscd can
/// surface as a communication error rather than "no service".
fn is_service_error(err: pcsc::Error) -> bool {
    matches!(
        err,
        pcsc::Error::NoService
            | pcsc::Error::ServiceStopped
            | pcsc::Error::InvalidHandle
            | pcsc::Error::CommError
    )
}

fn lost(err: pcsc::Error, healthy: bool) -> WatchEnd {
    WatchEnd::Lost {
        reason: err.to_string(),
        healthy,
    }
}
