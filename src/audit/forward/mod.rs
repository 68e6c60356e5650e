//! Forwarding: every journal record, with its sequence number and hash, also
//! goes to the system's log as it is written, so a copy leaves the station
//! that its operator cannot rewrite.
//!
//! - journald, natively, with structured fields (Linux; [`journald`]);
//! - syslog (RFC 5424) over TCP with TLS, RFC 5425 framing ([`syslog`]);
//! - the Windows Event Log, under the source the MSI registers ([`eventlog`]).
//!
//! Forwarding belongs to one journal, the station's own ([`install`] names
//! it): every record of that journal is forwarded, and no other journal's
//! (the demo journal, a test's, a file `audit verify` reads).
//!
//! Forwarding is never on the bind's path: [`submit`] hands the record to a
//! bounded queue per destination and returns at once; a background thread
//! per destination delivers it, and retries what fails (waiting longer each
//! time, up to a minute) until it is delivered. A full queue drops the
//! record and counts it. The journal file stays the source of truth: what
//! was not forwarded can be exported from it. [`status`] says how delivery
//! goes, for the audit view, `check` and `audit verify`.
//!
//! Each record kind has a stable journald `MESSAGE_ID` and Windows event ID
//! ([`message_id`], [`event_id`]); see `docs/audit-forwarding.md`.

mod error;
#[cfg(windows)]
pub mod eventlog;
#[cfg(target_os = "linux")]
pub mod journald;
mod message;
pub mod syslog;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

pub use error::ForwardError;
pub use message::{event_id, message_id, priority, summary};

use super::{EventKind, Record};

/// The journald socket systemd listens on.
pub const JOURNALD_SOCKET: &str = "/run/systemd/journal/socket";

/// How many records wait for one destination before new ones are dropped.
pub const DEFAULT_QUEUE: usize = 10_000;

/// The longest wait between two tries of a record that cannot be delivered.
const LONGEST_RETRY: Duration = Duration::from_secs(60);

/// Where records go, as the configuration's `[audit_forwarding]` says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ForwardSettings {
    /// journald's socket; `None`: not to journald.
    pub journald: Option<PathBuf>,
    /// The syslog receiver; `None`: no syslog.
    pub syslog: Option<syslog::SyslogTarget>,
    /// Whether to write to the Windows Event Log (Windows only).
    pub event_log: bool,
    /// The queue's length per destination ([`DEFAULT_QUEUE`] when 0).
    pub queue: usize,
}

impl ForwardSettings {
    /// Whether any destination is configured.
    pub fn any(&self) -> bool {
        self.journald.is_some() || self.syslog.is_some() || self.event_log
    }
}

/// One record as it is forwarded: the record, its exact line and its hash.
#[derive(Debug)]
pub struct Entry {
    /// The record.
    pub record: Record,
    /// The line as written to the journal (without `\n`): its SHA-256 is `hash`.
    pub line: Vec<u8>,
    /// The SHA-256 of `line`, which the next record's `prev_hash` repeats.
    pub hash: String,
}

/// A destination: delivers one record, or says why not.
pub trait Sink: Send {
    /// The destination, in words (`journald`, `syslog to siem:6514`).
    fn name(&self) -> String;
    /// Delivers `entry`; `Err` says why it could not (it is tried again).
    fn deliver(&mut self, entry: &Entry) -> Result<(), ForwardError>;
}

/// How delivery to one destination goes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SinkStatus {
    /// The destination, in words.
    pub name: String,
    /// Records delivered since the station started.
    pub delivered: u64,
    /// The sequence number of the last record delivered.
    pub last_seq: Option<u64>,
    /// Records queued or being retried.
    pub waiting: u64,
    /// Records dropped because the queue was full (they are in the journal).
    pub dropped: u64,
    /// Failed tries since the station started.
    pub failures: u64,
    /// Why the record being retried could not be delivered; `None` while
    /// delivery works.
    pub problem: Option<String>,
}

impl SinkStatus {
    /// One line about this destination.
    pub fn describe(&self) -> String {
        let mut line = match (&self.problem, self.last_seq) {
            (Some(why), _) => format!(
                "{}: delivery is failing ({why}); {} waiting, retried in the background",
                self.name, self.waiting
            ),
            (None, Some(seq)) => format!("{}: forwarded up to record {seq}", self.name),
            (None, None) => format!("{}: nothing to forward yet", self.name),
        };
        if self.dropped > 0 {
            line.push_str(&format!(
                "; {} records not forwarded (the queue was full: export them from the journal)",
                self.dropped
            ));
        }
        line
    }

    /// Whether something is wrong: failing, or records dropped.
    pub fn troubled(&self) -> bool {
        self.problem.is_some() || self.dropped > 0
    }
}

/// How forwarding goes, for every destination.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Status {
    /// The journal whose records are forwarded.
    pub journal: PathBuf,
    /// One per destination.
    pub sinks: Vec<SinkStatus>,
}

impl Status {
    /// Whether some destination is failing or lost records.
    pub fn troubled(&self) -> bool {
        self.sinks.iter().any(SinkStatus::troubled)
    }

    /// One line for the audit view's status line.
    pub fn line(&self) -> String {
        match self.sinks.as_slice() {
            [] => "Records are not forwarded: no destination is configured in \
                   [audit_forwarding]."
                .to_owned(),
            sinks => format!(
                "Forwarding: {}.",
                sinks
                    .iter()
                    .map(SinkStatus::describe)
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        }
    }
}

struct Destination {
    tx: SyncSender<Arc<Entry>>,
    status: Arc<Mutex<SinkStatus>>,
    waiting: Arc<AtomicU64>,
}

/// The journal whose records are forwarded, and where to.
struct Forwarder {
    journal: Journal,
    destinations: Vec<Destination>,
}

/// A journal's path as installed, and as the file system resolves it.
struct Journal {
    path: PathBuf,
    resolved: Option<PathBuf>,
}

impl Journal {
    fn new(path: &Path) -> Self {
        Self {
            path: path.to_owned(),
            resolved: resolve(path),
        }
    }

    /// Whether `path` names this journal: the same text, or the same file
    /// reached another way (a relative path, a linked directory).
    fn is(&self, path: &Path) -> bool {
        path == self.path || (self.resolved.is_some() && resolve(path) == self.resolved)
    }
}

/// The path with its directory resolved (the file itself may not exist yet).
fn resolve(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?;
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    std::fs::canonicalize(parent).ok().map(|dir| dir.join(name))
}

/// The process's forwarder: the journal's writer hands it every record.
/// One per process, as the station has one journal; tests of other
/// journals in the same process are not forwarded.
static FORWARDER: RwLock<Option<Forwarder>> = RwLock::new(None);

/// Starts forwarding the records of the journal at `journal` to the
/// destinations `settings` names, in place of any forwarding started
/// before. Returns at once; problems show in [`status`].
pub fn install(journal: &Path, settings: &ForwardSettings) {
    let mut sinks: Vec<Box<dyn Sink>> = Vec::new();
    #[cfg(target_os = "linux")]
    if let Some(socket) = &settings.journald {
        sinks.push(Box::new(journald::Journald::new(socket.clone())));
    }
    #[cfg(not(target_os = "linux"))]
    if settings.journald.is_some() {
        tracing::info!("journald forwarding is configured, but this is not Linux: ignored");
    }
    if let Some(target) = &settings.syslog {
        sinks.push(Box::new(syslog::Syslog::new(target.clone())));
    }
    #[cfg(windows)]
    if settings.event_log {
        sinks.push(Box::new(eventlog::EventLog::new()));
    }
    install_sinks(journal, sinks, settings.queue);
}

/// Starts forwarding the records of `journal` to `sinks` (tests give their
/// own), in place of any forwarding started before.
pub fn install_sinks(journal: &Path, sinks: Vec<Box<dyn Sink>>, queue: usize) {
    let queue = if queue == 0 { DEFAULT_QUEUE } else { queue };
    let destinations = sinks
        .into_iter()
        .map(|sink| {
            let (tx, rx) = sync_channel(queue);
            let status = Arc::new(Mutex::new(SinkStatus {
                name: sink.name(),
                ..SinkStatus::default()
            }));
            let waiting = Arc::new(AtomicU64::new(0));
            let thread_status = Arc::clone(&status);
            let thread_waiting = Arc::clone(&waiting);
            let spawned = std::thread::Builder::new()
                .name("audit-forward".into())
                .spawn(move || deliver_all(sink, rx, &thread_status, &thread_waiting));
            if let Err(error) = spawned {
                set(&status, |s| s.problem = Some(format!("no thread: {error}")));
            }
            Destination {
                tx,
                status,
                waiting,
            }
        })
        .collect();
    replace(Some(Forwarder {
        journal: Journal::new(journal),
        destinations,
    }));
}

fn replace(forwarder: Option<Forwarder>) {
    // The old threads end when their senders are dropped here.
    match FORWARDER.write() {
        Ok(mut installed) => *installed = forwarder,
        Err(poisoned) => *poisoned.into_inner() = forwarder,
    }
}

/// Stops forwarding (the queued records are still delivered by their threads).
pub fn uninstall() {
    replace(None);
}

fn set(status: &Mutex<SinkStatus>, change: impl FnOnce(&mut SinkStatus)) {
    if let Ok(mut status) = status.lock() {
        change(&mut status);
    }
}

fn deliver_all(
    mut sink: Box<dyn Sink>,
    rx: Receiver<Arc<Entry>>,
    status: &Mutex<SinkStatus>,
    waiting: &AtomicU64,
) {
    while let Ok(entry) = rx.recv() {
        let mut wait = Duration::from_millis(500);
        loop {
            match sink.deliver(&entry) {
                Ok(()) => {
                    waiting.fetch_sub(1, Ordering::SeqCst);
                    set(status, |s| {
                        s.delivered += 1;
                        s.last_seq = Some(entry.record.seq);
                        s.problem = None;
                        s.waiting = waiting.load(Ordering::SeqCst);
                    });
                    break;
                }
                Err(why) => {
                    let first = status.lock().map(|s| s.problem.is_none()).unwrap_or(true);
                    if first {
                        tracing::warn!(destination = %sink.name(), problem = %why, seq = entry.record.seq,
                            "an audit record could not be forwarded; retrying in the background");
                    }
                    set(status, |s| {
                        s.failures += 1;
                        s.problem = Some(why.to_string());
                        s.waiting = waiting.load(Ordering::SeqCst);
                    });
                    std::thread::sleep(wait);
                    wait = (wait * 2).min(LONGEST_RETRY);
                }
            }
        }
    }
}

/// Hands a record just written to the journal at `journal` to every
/// destination's queue when that journal is the one forwarded; never waits.
pub(crate) fn submit(journal: &Path, record: &Record, line: &[u8], hash: &str) {
    let Ok(forwarder) = FORWARDER.read() else {
        return;
    };
    let Some(forwarder) = forwarder.as_ref().filter(|f| f.journal.is(journal)) else {
        return;
    };
    let entry = Arc::new(Entry {
        record: record.clone(),
        line: line.to_owned(),
        hash: hash.to_owned(),
    });
    for destination in &forwarder.destinations {
        destination.waiting.fetch_add(1, Ordering::SeqCst);
        match destination.tx.try_send(Arc::clone(&entry)) {
            Ok(()) => set(&destination.status, |s| {
                s.waiting = destination.waiting.load(Ordering::SeqCst);
            }),
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                destination.waiting.fetch_sub(1, Ordering::SeqCst);
                set(&destination.status, |s| s.dropped += 1);
                tracing::warn!(
                    seq = record.seq,
                    "the audit forwarding queue is full: record not forwarded"
                );
            }
        }
    }
}

/// Whether the records of the journal at `journal` are forwarded.
pub fn forwards(journal: &Path) -> bool {
    FORWARDER
        .read()
        .is_ok_and(|f| f.as_ref().is_some_and(|f| f.journal.is(journal)))
}

/// How forwarding goes; `None` when it was never started.
pub fn status() -> Option<Status> {
    let forwarder = FORWARDER.read().ok()?;
    let forwarder = forwarder.as_ref()?;
    Some(Status {
        journal: forwarder.journal.path.clone(),
        sinks: forwarder
            .destinations
            .iter()
            .filter_map(|d| d.status.lock().ok().map(|s| s.clone()))
            .collect(),
    })
}

/// Waits until every queued record is delivered, or `timeout` passed (a
/// command's last records, before it exits). Returns the status then.
pub fn flush(timeout: Duration) -> Option<Status> {
    let deadline = Instant::now() + timeout;
    loop {
        let pending = FORWARDER
            .read()
            .map(|f| {
                f.as_ref().is_some_and(|f| {
                    f.destinations
                        .iter()
                        .any(|d| d.waiting.load(Ordering::SeqCst) > 0)
                })
            })
            .unwrap_or(false);
        if !pending || Instant::now() >= deadline {
            return status();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Tries to reach each destination `settings` names without sending a
/// record (for `enroll-station check`): the destination, and why not.
pub fn probe(settings: &ForwardSettings) -> Vec<(String, Result<(), ForwardError>)> {
    let mut found = Vec::new();
    #[cfg(target_os = "linux")]
    if let Some(socket) = &settings.journald {
        let sink = journald::Journald::new(socket.clone());
        found.push((sink.name(), sink.probe()));
    }
    if let Some(target) = &settings.syslog {
        let mut sink = syslog::Syslog::new(target.clone());
        found.push((sink.name(), sink.probe()));
    }
    #[cfg(windows)]
    if settings.event_log {
        let sink = eventlog::EventLog::new();
        found.push((sink.name(), sink.probe()));
    }
    found
}

impl EventKind {
    /// The record kind named `name` in the journal (`attempt`, `kiosk_left`).
    pub fn from_name(name: &str) -> Option<EventKind> {
        EventKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::AuditJournal;
    use crate::audit::tests::{attempt, dir};

    /// A destination that keeps what it is given.
    struct Kept(Arc<Mutex<Vec<(u64, String)>>>);

    impl Sink for Kept {
        fn name(&self) -> String {
            "kept".to_owned()
        }

        fn deliver(&mut self, entry: &Entry) -> Result<(), ForwardError> {
            if let Ok(mut kept) = self.0.lock() {
                kept.push((entry.record.seq, entry.hash.clone()));
            }
            Ok(())
        }
    }

    #[test]
    fn only_the_stations_own_journal_is_forwarded() {
        let dir = dir();
        let own = dir.path().join("audit.jsonl");
        let other = dir.path().join("audit-demo.jsonl");
        let kept = Arc::new(Mutex::new(Vec::new()));
        install_sinks(&own, vec![Box::new(Kept(Arc::clone(&kept)))], 0);
        let mut journal = AuditJournal::open(&other).expect("opens");
        let _ = journal.record_attempt(attempt(1)).expect("attempt");
        // The same file named another way is the same journal.
        let mut journal =
            AuditJournal::open(dir.path().join(".").join("audit.jsonl")).expect("opens");
        let _ = journal.record_attempt(attempt(2)).expect("attempt");
        let hash = journal.last_hash().to_owned();
        let status = flush(Duration::from_secs(5)).expect("forwarding runs");
        assert!(forwards(&own) && !forwards(&other));
        uninstall();
        assert_eq!(*kept.lock().expect("kept"), vec![(1, hash)]);
        assert_eq!(status.sinks[0].last_seq, Some(1));
        assert_eq!(status.journal, own);
    }

    #[test]
    fn every_kind_has_its_own_ids() {
        let mut ids = std::collections::HashSet::new();
        let mut events = std::collections::HashSet::new();
        for kind in EventKind::ALL {
            assert!(ids.insert(message_id(kind)), "{kind:?}");
            assert_eq!(message_id(kind).len(), 32);
            assert!(events.insert(event_id(kind)), "{kind:?}");
            assert_eq!(EventKind::from_name(kind.as_str()), Some(kind));
        }
    }
}
