//! The audit journal: an append-only, hash-chained JSON Lines file with one
//! record per event of a bind.
//!
//! Every bind writes an `attempt` record (flushed to disk *before* the POST)
//! and later exactly one `outcome` record. Each line carries the SHA-256 of
//! the previous line's exact bytes, so an edited, removed or reordered record
//! breaks the chain at a line [`verify`] can name.
//!
//! The chain cannot tell that the *last* records were cut off or that the last
//! line was changed: nothing after them vouches for them. [`VerifyReport::last_hash`]
//! is printed by `audit verify` so it can be noted elsewhere as an anchor.
//!
//! Lines are hashed without their terminating `\n`. Writers hold an exclusive
//! lock on a sidecar file (`audit.jsonl.lock`), not on the journal itself:
//! Windows locks are mandatory and would stop `audit verify` from reading the
//! journal while the window is open.

pub mod journal;

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{self, BufRead as _, BufReader, Seek as _, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::bind::BindTarget;
use crate::domain::card::{Atr, CardId};

/// The `prev_hash` of the first record: 64 zeros.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The journal's file name inside the data directory.
pub const JOURNAL_FILE_NAME: &str = "audit.jsonl";

/// How many of the latest records an open journal keeps for [`AuditJournal::recent`].
pub const RECENT_CAPACITY: usize = 1000;

/// The station's journal: `audit.jsonl` in the platform's local data directory
/// (on Linux `$XDG_DATA_HOME/enroll-station/`, by default `~/.local/share/enroll-station/`).
///
/// `None` when the platform names no home directory; the caller then needs an
/// explicit path.
pub fn default_journal_path() -> Option<PathBuf> {
    // The local (not roaming) directory: a station's journal belongs to that
    // machine and must not be synchronised between Windows profiles.
    directories::ProjectDirs::from("", "", "enroll-station")
        .map(|dirs| dirs.data_local_dir().join(JOURNAL_FILE_NAME))
}

static STATION_NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Names this station in the journal instead of its host name (the
/// configuration's `station_name`). The name belongs to the process: the
/// first call wins.
pub fn set_station_name(name: &str) {
    let _ = STATION_NAME.set(name.to_owned());
}

/// The station's name for the journal: the configured name, else the host
/// name, else `unknown-station`.
pub fn station_name() -> String {
    if let Some(name) = STATION_NAME.get() {
        return name.clone();
    }
    gethostname::gethostname()
        .into_string()
        .ok()
        .filter(|name| !name.trim().is_empty())
        .unwrap_or_else(|| "unknown-station".to_owned())
}

/// Who acted: the OS account and, when the server authenticated them, their principal.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operator {
    /// The operating-system account running the station (`DOMAIN\user` on Windows).
    pub os_user: Option<String>,
    /// The principal the CM server authenticated (e.g. `alice@CONTOSO.COM`), when known.
    pub principal: Option<String>,
}

impl Operator {
    /// The account running this process, with no principal yet.
    pub fn from_os() -> Self {
        Self {
            os_user: os_user_name(),
            principal: None,
        }
    }

    /// The same operator with the principal the server authenticated.
    pub fn with_principal(mut self, principal: impl Into<String>) -> Self {
        self.principal = Some(principal.into());
        self
    }
}

#[cfg(windows)]
fn os_user_name() -> Option<String> {
    let user = non_empty_var("USERNAME")?;
    Some(match non_empty_var("USERDOMAIN") {
        Some(domain) => format!("{domain}\\{user}"),
        None => user,
    })
}

#[cfg(not(windows))]
fn os_user_name() -> Option<String> {
    non_empty_var("USER")
        .or_else(|| non_empty_var("LOGNAME"))
        .or_else(account_of_this_process)
}

/// The local account owning this process, from `/etc/passwd`: services and
/// autologin sessions (a kiosk) may run without `USER`, and the journal and
/// the supervised-mode witness check still need to name the operator.
#[cfg(not(windows))]
fn account_of_this_process() -> Option<String> {
    use std::os::unix::fs::MetadataExt as _;
    let uid = std::fs::metadata("/proc/self").ok()?.uid().to_string();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        (fields.nth(1)? == uid && !name.is_empty()).then(|| name.to_owned())
    })
}

fn non_empty_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

/// Names one attempt; an outcome record carries the ID of the attempt it ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
#[must_use = "the attempt's outcome must be recorded with this ID"]
pub struct AttemptId(Uuid);

impl AttemptId {
    /// The ID as a UUID.
    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl fmt::Display for AttemptId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for AttemptId {
    type Err = uuid::Error;

    /// Parses the text [`AttemptId`]'s `Display` wrote, so callers that carry
    /// the ID as text can hand it back.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Uuid::try_parse(text).map(AttemptId)
    }
}

/// Whether a record starts or ends a bind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// The station is about to send the bind; written before the POST.
    Attempt,
    /// How the attempt ended.
    Outcome,
}

impl EventKind {
    /// The name used in the journal and in exports.
    pub fn as_str(&self) -> &'static str {
        match self {
            EventKind::Attempt => "attempt",
            EventKind::Outcome => "outcome",
        }
    }
}

/// How an attempt ended: the bind machine's outcome, stored by its snake_case name.
pub use crate::domain::bind::Outcome;

/// What an attempt record says about the bind about to be sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttemptInfo {
    /// The station's name (see [`station_name`]).
    pub station: String,
    /// Who asked for the bind.
    pub operator: Operator,
    /// Who supervised it, in a supervised mode.
    pub supervisor: Option<String>,
    /// The request being bound.
    pub request_id: Uuid,
    /// The card ID about to be sent.
    pub card_id: CardId,
    /// The ATR about to be sent.
    pub atr: Atr,
    /// The reader holding the card.
    pub reader: String,
    /// A note for the record, if any.
    pub message: Option<String>,
}

impl AttemptInfo {
    /// An attempt to bind `target`, by this machine's OS user on this station.
    pub fn for_target(target: &BindTarget) -> Self {
        Self {
            station: station_name(),
            operator: Operator::from_os(),
            supervisor: target.supervisor.clone(),
            request_id: target.request_id,
            card_id: target.expected.card_id,
            atr: target.expected.atr.clone(),
            reader: target.reader.clone(),
            // A YubiKey's CHUID GUID can be rotated by ykman or erased by a
            // PIV reset; its serial lets support match a later "unknown
            // card" to this bind. It is recorded, never sent.
            message: target.expected.yubikey_serial.map(|serial| {
                format!(
                    "YubiKey serial {serial}; the card ID is its PIV CHUID GUID, which must not \
                     change before the request is executed"
                )
            }),
        }
    }
}

/// What an outcome record adds to its attempt.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutcomeInfo {
    /// The smart card object the server created, when it named one.
    pub smartcard_uuid: Option<Uuid>,
    /// The server's correlation ID, for the CM administrator.
    pub correlation_id: Option<String>,
    /// Why, in operator words (a refusal's reason, a failure's message).
    pub message: Option<String>,
}

/// One line of the journal.
///
/// Outcome records repeat their attempt's station, operator, request, card and
/// reader so that every line (and every exported row) stands on its own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// 1 for the first record, one more for each next one.
    pub seq: u64,
    /// When the record was written (UTC, RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    pub time: OffsetDateTime,
    /// `attempt` or `outcome`.
    pub event: EventKind,
    /// How the attempt ended; only on outcome records.
    pub outcome: Option<Outcome>,
    /// The attempt this record starts or ends.
    pub attempt_id: AttemptId,
    /// The station's name.
    pub station: String,
    /// Who asked for the bind.
    pub operator: Operator,
    /// Who supervised it, in a supervised mode.
    pub supervisor: Option<String>,
    /// The request.
    pub request_id: Uuid,
    /// The card ID in CM's form.
    pub card_id: String,
    /// The ATR, lower-case hex.
    pub atr: String,
    /// The reader.
    pub reader: String,
    /// The smart card object the server created.
    pub smartcard_uuid: Option<Uuid>,
    /// The server's correlation ID.
    pub correlation_id: Option<String>,
    /// A note, a refusal's reason or a failure's message.
    pub message: Option<String>,
    /// SHA-256 (hex) of the previous line's bytes; [`GENESIS_HASH`] on the first.
    pub prev_hash: String,
}

/// An attempt with no outcome yet: what start-up reconciliation must resolve.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttemptRecord {
    /// The ID to pass to [`AuditJournal::record_outcome`] once it is resolved.
    pub attempt_id: AttemptId,
    /// The attempt record as written.
    pub record: Record,
}

impl AttemptRecord {
    /// The card ID the attempt was about to send, parsed back.
    pub fn card_id(&self) -> Option<CardId> {
        CardId::parse_cm_string(&self.record.card_id)
    }

    /// The ATR the attempt was about to send, parsed back.
    pub fn atr(&self) -> Option<Atr> {
        Atr::parse_hex(&self.record.atr)
    }
}

/// The first record that breaks the journal, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainBreak {
    /// The line (1-based) of the first broken record.
    pub line: u64,
    /// What is wrong with it.
    pub reason: BreakReason,
}

/// Why a record breaks the journal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BreakReason {
    /// The line is not a valid record (the parser's words).
    Unparseable(String),
    /// The line's hash does not match the `prev_hash` recorded in the next line.
    Edited {
        /// The line that records the hash.
        next_line: u64,
    },
    /// The first line's `prev_hash` is not [`GENESIS_HASH`].
    NotChainStart,
    /// The line holds a later record than expected: records before it are missing.
    SequenceGap {
        /// The sequence number the line should hold.
        expected: u64,
        /// The sequence number it holds.
        found: u64,
    },
    /// The line holds an earlier record than expected: records were moved or copied.
    OutOfOrder {
        /// The sequence number the line should hold.
        expected: u64,
        /// The sequence number it holds.
        found: u64,
    },
    /// The record contradicts the records before it (a second outcome, an
    /// outcome with no attempt, an attempt ID used twice, ...).
    Inconsistent(String),
    /// The last line has no line break: a write was cut short.
    TornLastLine,
}

impl fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let line = self.line;
        match &self.reason {
            BreakReason::Unparseable(why) => {
                write!(f, "line {line} is not a valid audit record ({why})")
            }
            BreakReason::Edited { next_line } => write!(
                f,
                "line {line} does not match the hash that line {next_line} records for it: \
                 one of the two lines was changed after it was written"
            ),
            BreakReason::NotChainStart => write!(
                f,
                "line {line} does not start the chain (its prev_hash is not 64 zeros): \
                 records before it were removed, or it was changed"
            ),
            BreakReason::SequenceGap { expected, found } => write!(
                f,
                "line {line} holds record {found} where record {expected} belongs: \
                 records before it were removed or moved"
            ),
            BreakReason::OutOfOrder { expected, found } => write!(
                f,
                "line {line} holds record {found} where record {expected} belongs: \
                 records were moved or copied"
            ),
            BreakReason::Inconsistent(why) => write!(f, "line {line} {why}"),
            BreakReason::TornLastLine => write!(
                f,
                "the last line ({line}) is incomplete: the station stopped while writing it"
            ),
        }
    }
}

/// What [`verify`] found in an intact journal.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// All records.
    pub records: u64,
    /// Attempt records.
    pub attempts: u64,
    /// Outcome records.
    pub outcomes: u64,
    /// Attempts with no outcome yet.
    pub unfinished: u64,
    /// The SHA-256 of the last line ([`GENESIS_HASH`] when empty): note it
    /// elsewhere to detect later truncation of the journal's end.
    pub last_hash: String,
}

/// The export formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// A header row and one row per record (RFC 4180 quoting).
    Csv,
    /// One JSON array of the records, each exactly as stored.
    Json,
}

/// Everything that can go wrong with the journal. Any error from
/// [`AuditJournal::open`] or [`AuditJournal::record_attempt`] means the attempt
/// is not on disk: the bind must not be sent.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// A file operation failed.
    #[error(
        "Could not {action} the audit journal {path}: {source}. Check the disk and its \
         permissions; binding stays off until the journal can be written."
    )]
    Io {
        /// What the station was doing.
        action: &'static str,
        /// The journal.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// There is no journal at the path (only for reading).
    #[error(
        "There is no audit journal at {path}. Give the journal's path, or check that \
         this is the station that wrote it."
    )]
    NotFound {
        /// The path looked at.
        path: PathBuf,
    },
    /// Another process holds the journal.
    #[error(
        "The audit journal {path} is in use by another enroll-station process (the window \
         or a bind on this machine). Close it or wait for it to finish, then try again."
    )]
    InUse {
        /// The journal.
        path: PathBuf,
    },
    /// The last line was cut short by a crash or a full disk.
    #[error(
        "The audit journal {path} cannot be appended to: {chain_break}. That event was never \
         completed: if it was an attempt, nothing was sent; if it was an outcome, its attempt \
         is reconciled with the server. Keep a copy of the file, delete the incomplete last \
         line (everything after the last line break), check it with `enroll-station audit \
         verify`, and start again."
    )]
    Torn {
        /// The journal.
        path: PathBuf,
        /// Where (its reason is [`BreakReason::TornLastLine`]).
        chain_break: ChainBreak,
    },
    /// The chain is broken: the journal was changed after it was written.
    #[error(
        "The audit journal {path} is broken: {chain_break}. Nothing more is written to it, \
         because appending would hide the change. Keep the file as evidence and move it \
         aside; the station then starts a new journal."
    )]
    Broken {
        /// The journal.
        path: PathBuf,
        /// The first broken record.
        chain_break: ChainBreak,
    },
    /// An earlier write failed part-way, so the end of the file is unknown.
    #[error(
        "The audit journal {path} could not be written earlier ({why}), so it is not written \
         to again. Restart the station: it checks the journal when it opens it."
    )]
    Unusable {
        /// The journal.
        path: PathBuf,
        /// The earlier failure.
        why: String,
    },
    /// An outcome was recorded for an attempt that is not open.
    #[error(
        "Attempt {attempt_id} has no open attempt record in the audit journal (it was never \
         recorded, or it already has its outcome). This is a bug in the station; report it."
    )]
    UnknownAttempt {
        /// The attempt named.
        attempt_id: AttemptId,
    },
    /// A record could not be turned into JSON.
    #[error("Could not encode an audit record: {0}. This is a bug in the station; report it.")]
    Encode(#[from] serde_json::Error),
    /// The export could not be written out.
    #[error("Could not write the audit export: {0}. Check the output's disk and permissions.")]
    Output(#[source] io::Error),
}

impl AuditError {
    /// The first broken record, when the journal's chain is broken or torn.
    pub fn chain_break(&self) -> Option<&ChainBreak> {
        match self {
            AuditError::Broken { chain_break, .. } | AuditError::Torn { chain_break, .. } => {
                Some(chain_break)
            }
            _ => None,
        }
    }
}

fn io_error<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> AuditError + 'a {
    move |source| AuditError::Io {
        action,
        path: path.to_owned(),
        source,
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, bytes))
}

/// The state of a chain read so far: what the next record must link to.
#[derive(Debug)]
struct Chain {
    last_hash: String,
    next_seq: u64,
    attempts: u64,
    outcomes: u64,
    open_attempts: Vec<Record>,
    seen_attempts: HashSet<AttemptId>,
    recent: VecDeque<Record>,
}

impl Chain {
    fn new() -> Self {
        Self {
            last_hash: GENESIS_HASH.to_owned(),
            next_seq: 1,
            attempts: 0,
            outcomes: 0,
            open_attempts: Vec::new(),
            seen_attempts: HashSet::new(),
            recent: VecDeque::new(),
        }
    }

    fn records(&self) -> u64 {
        self.next_seq - 1
    }

    /// Checks one complete line (without its `\n`) against the chain and adds it.
    fn push(&mut self, line: u64, bytes: &[u8]) -> Result<Record, ChainBreak> {
        let broken = |reason| ChainBreak { line, reason };
        let record: Record = serde_json::from_slice(bytes)
            .map_err(|error| broken(BreakReason::Unparseable(error.to_string())))?;
        // The sequence is checked before the hash so that a removed or moved
        // record is named as such rather than as an edit of its neighbour.
        if record.seq > self.next_seq {
            return Err(broken(BreakReason::SequenceGap {
                expected: self.next_seq,
                found: record.seq,
            }));
        }
        if record.seq < self.next_seq {
            return Err(broken(BreakReason::OutOfOrder {
                expected: self.next_seq,
                found: record.seq,
            }));
        }
        if record.prev_hash != self.last_hash {
            return Err(match line {
                1 => broken(BreakReason::NotChainStart),
                _ => ChainBreak {
                    line: line - 1,
                    reason: BreakReason::Edited { next_line: line },
                },
            });
        }
        self.check_event(&record)
            .map_err(|why| broken(BreakReason::Inconsistent(why)))?;
        self.add(sha256_hex(bytes), record.clone());
        Ok(record)
    }

    /// The attempt/outcome rules the writer keeps: one outcome per attempt, after it.
    fn check_event(&self, record: &Record) -> Result<(), String> {
        let id = record.attempt_id;
        match (record.event, record.outcome) {
            (EventKind::Attempt, None) if self.seen_attempts.contains(&id) => Err(format!(
                "reuses attempt ID {id}, which an earlier record already started"
            )),
            (EventKind::Attempt, None) => Ok(()),
            (EventKind::Outcome, Some(_))
                if self.open_attempts.iter().any(|a| a.attempt_id == id) =>
            {
                Ok(())
            }
            (EventKind::Outcome, Some(_)) if self.seen_attempts.contains(&id) => {
                Err(format!("is a second outcome for attempt {id}"))
            }
            (EventKind::Outcome, Some(_)) => Err(format!(
                "is an outcome for attempt {id}, which has no attempt record before it"
            )),
            (EventKind::Attempt, Some(_)) => Err("is an attempt that carries an outcome".into()),
            (EventKind::Outcome, None) => Err("is an outcome record without an outcome".into()),
        }
    }

    /// Adds a record already known to fit, whose line hashes to `hash`.
    fn add(&mut self, hash: String, record: Record) {
        self.last_hash = hash;
        self.next_seq += 1;
        match record.event {
            EventKind::Attempt => {
                self.attempts += 1;
                self.seen_attempts.insert(record.attempt_id);
                self.open_attempts.push(record.clone());
            }
            EventKind::Outcome => {
                self.outcomes += 1;
                self.open_attempts
                    .retain(|open| open.attempt_id != record.attempt_id);
            }
        }
        if self.recent.len() == RECENT_CAPACITY {
            self.recent.pop_front();
        }
        self.recent.push_back(record);
    }

    fn report(&self) -> VerifyReport {
        VerifyReport {
            records: self.records(),
            attempts: self.attempts,
            outcomes: self.outcomes,
            unfinished: self.open_attempts.len() as u64,
            last_hash: self.last_hash.clone(),
        }
    }
}

/// Reads a whole journal, checking every line, and hands each intact line to `each`.
fn read_chain(
    path: &Path,
    file: &File,
    mut each: impl FnMut(&[u8], &Record),
) -> Result<Chain, AuditError> {
    let mut reader = BufReader::new(file);
    let mut chain = Chain::new();
    let mut buffer = Vec::new();
    let mut line = 0;
    loop {
        buffer.clear();
        let read = reader
            .read_until(b'\n', &mut buffer)
            .map_err(io_error("read", path))?;
        if read == 0 {
            return Ok(chain);
        }
        line += 1;
        let Some(bytes) = buffer.strip_suffix(b"\n") else {
            return Err(AuditError::Torn {
                path: path.to_owned(),
                chain_break: ChainBreak {
                    line,
                    reason: BreakReason::TornLastLine,
                },
            });
        };
        let record = chain
            .push(line, bytes)
            .map_err(|chain_break| AuditError::Broken {
                path: path.to_owned(),
                chain_break,
            })?;
        each(bytes, &record);
    }
}

fn open_for_reading(path: &Path) -> Result<File, AuditError> {
    File::open(path).map_err(|source| match source.kind() {
        io::ErrorKind::NotFound => AuditError::NotFound {
            path: path.to_owned(),
        },
        _ => io_error("open", path)(source),
    })
}

/// The journal, open for appending. Holds the journal's lock until dropped.
#[derive(Debug)]
pub struct AuditJournal {
    path: PathBuf,
    file: File,
    // Held only for its lock, released when the journal is dropped.
    _lock: File,
    chain: Chain,
    unusable: Option<String>,
}

impl AuditJournal {
    /// Opens (or creates) the journal at `path` for appending.
    ///
    /// Creates the parent directories, locks the journal against other
    /// enroll-station processes (failing at once with [`AuditError::InUse`]
    /// rather than waiting: the window holds the journal for as long as it is
    /// open), and reads it to the end. A broken chain or a torn last line is
    /// refused: appending to it would launder it.
    pub fn open(path: impl AsRef<Path>) -> Result<AuditJournal, AuditError> {
        let path = path.as_ref();
        let created_dir = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() && !parent.exists() => {
                std::fs::create_dir_all(parent)
                    .map_err(io_error("create the directory of", path))?;
                true
            }
            _ => false,
        };
        let lock = lock_journal(path)?;
        let existed = path.exists();
        let file = OpenOptions::new()
            .read(true)
            // Not `append`: on Windows an append-only handle cannot be flushed
            // (FlushFileBuffers needs write access). The lock makes seeking to
            // the end before each write safe.
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(io_error("open", path))?;
        if !existed || created_dir {
            sync_parent_dir(path)?;
        }
        let chain = read_chain(path, &file, |_, _| {})?;
        Ok(AuditJournal {
            path: path.to_owned(),
            file,
            _lock: lock,
            chain,
            unusable: None,
        })
    }

    /// The journal's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The SHA-256 of the last line ([`GENESIS_HASH`] when empty).
    pub fn last_hash(&self) -> &str {
        &self.chain.last_hash
    }

    /// Appends an attempt record and flushes it to disk.
    ///
    /// Call it right before the POST, and send nothing when it fails: an
    /// unrecorded bind is what the journal exists to prevent.
    pub fn record_attempt(&mut self, info: AttemptInfo) -> Result<AttemptId, AuditError> {
        let attempt_id = AttemptId(Uuid::new_v4());
        let record = Record {
            seq: self.chain.next_seq,
            time: now(),
            event: EventKind::Attempt,
            outcome: None,
            attempt_id,
            station: info.station,
            operator: info.operator,
            supervisor: info.supervisor,
            request_id: info.request_id,
            card_id: info.card_id.to_cm_string(),
            atr: info.atr.to_hex(),
            reader: info.reader,
            smartcard_uuid: None,
            correlation_id: None,
            message: info.message,
            prev_hash: self.chain.last_hash.clone(),
        };
        self.append(record)?;
        Ok(attempt_id)
    }

    /// Appends the one outcome of an open attempt and flushes it to disk.
    ///
    /// Fails with [`AuditError::UnknownAttempt`] when the attempt is not open
    /// (never recorded, or already ended), so an attempt never gets two outcomes.
    pub fn record_outcome(
        &mut self,
        attempt_id: AttemptId,
        outcome: Outcome,
        info: OutcomeInfo,
    ) -> Result<(), AuditError> {
        let Some(attempt) = self
            .chain
            .open_attempts
            .iter()
            .find(|open| open.attempt_id == attempt_id)
        else {
            return Err(AuditError::UnknownAttempt { attempt_id });
        };
        let record = Record {
            seq: self.chain.next_seq,
            time: now(),
            event: EventKind::Outcome,
            outcome: Some(outcome),
            smartcard_uuid: info.smartcard_uuid,
            correlation_id: info.correlation_id,
            message: info.message,
            prev_hash: self.chain.last_hash.clone(),
            ..attempt.clone()
        };
        self.append(record)
    }

    /// Attempts with no outcome, oldest first: what start-up reconciliation must resolve.
    pub fn unfinished_attempts(&self) -> Vec<AttemptRecord> {
        self.chain
            .open_attempts
            .iter()
            .map(|record| AttemptRecord {
                attempt_id: record.attempt_id,
                record: record.clone(),
            })
            .collect()
    }

    /// The last `n` records, oldest first; at most [`RECENT_CAPACITY`].
    pub fn recent(&self, n: usize) -> Vec<Record> {
        let recent = &self.chain.recent;
        recent
            .iter()
            .skip(recent.len().saturating_sub(n))
            .cloned()
            .collect()
    }

    /// Writes one record as one line with one `write_all`, so a crash leaves at
    /// most a torn last line, then flushes it to disk.
    fn append(&mut self, record: Record) -> Result<(), AuditError> {
        if let Some(why) = &self.unusable {
            return Err(AuditError::Unusable {
                path: self.path.clone(),
                why: why.clone(),
            });
        }
        let line = serde_json::to_vec(&record)?;
        let mut bytes = Vec::with_capacity(line.len() + 1);
        bytes.extend_from_slice(&line);
        bytes.push(b'\n');
        let written = self
            .file
            .seek(SeekFrom::End(0))
            .and_then(|_| self.file.write_all(&bytes))
            .map_err(io_error("write to", &self.path))
            .and_then(|()| self.file.sync_all().map_err(io_error("flush", &self.path)));
        if let Err(error) = written {
            // Part of the line may be in the file: appending after it would
            // bury a torn line in the middle of the journal.
            self.unusable = Some(error.to_string());
            return Err(error);
        }
        self.chain.add(sha256_hex(&line), record);
        Ok(())
    }
}

fn now() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    // Milliseconds are plenty for an audit trail and keep the lines short.
    now.replace_millisecond(now.millisecond()).unwrap_or(now)
}

/// Locks `<journal>.lock` exclusively, without waiting.
fn lock_journal(path: &Path) -> Result<File, AuditError> {
    let mut lock_path = path.as_os_str().to_owned();
    lock_path.push(".lock");
    let lock_path = PathBuf::from(lock_path);
    // The lock file is never deleted: removing it while held would let a
    // second process lock a new file of the same name.
    let lock = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock_path)
        .map_err(io_error("create the lock file of", path))?;
    match lock.try_lock() {
        Ok(()) => Ok(lock),
        Err(TryLockError::WouldBlock) => Err(AuditError::InUse {
            path: path.to_owned(),
        }),
        Err(TryLockError::Error(source)) => Err(io_error("lock", path)(source)),
    }
}

/// Makes a newly created journal's directory entry durable.
#[cfg(unix)]
fn sync_parent_dir(path: &Path) -> Result<(), AuditError> {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => File::open(parent)
            .and_then(|dir| dir.sync_all())
            .map_err(io_error("flush the directory of", path)),
        _ => Ok(()),
    }
}

/// Windows cannot flush a directory handle; NTFS journals the new entry itself.
#[cfg(not(unix))]
fn sync_parent_dir(_path: &Path) -> Result<(), AuditError> {
    Ok(())
}

/// Checks the whole journal at `path` without locking it (the window may hold it).
///
/// An intact journal gives its counts; a broken one gives
/// [`AuditError::Broken`] or [`AuditError::Torn`] naming the first broken
/// record's line and why.
pub fn verify(path: impl AsRef<Path>) -> Result<VerifyReport, AuditError> {
    let path = path.as_ref();
    let file = open_for_reading(path)?;
    Ok(read_chain(path, &file, |_, _| {})?.report())
}

/// Writes every record of the journal at `path` to `out`, and returns how many.
///
/// The journal is verified first and nothing is written when it is broken, so
/// an export never passes off a tampered journal as a clean one.
pub fn export(
    path: impl AsRef<Path>,
    format: ExportFormat,
    out: &mut dyn Write,
) -> Result<u64, AuditError> {
    let path = path.as_ref();
    let file = open_for_reading(path)?;
    let mut buffer = Vec::new();
    match format {
        ExportFormat::Csv => {
            write_csv_row(&mut buffer, CSV_HEADER.iter().map(|h| (*h).to_owned()));
        }
        ExportFormat::Json => buffer.push(b'['),
    }
    let mut first = true;
    let chain = read_chain(path, &file, |bytes, record| match format {
        ExportFormat::Csv => write_csv_row(&mut buffer, csv_fields(record)),
        ExportFormat::Json => {
            buffer.extend_from_slice(if first { b"\n" } else { b",\n" });
            buffer.extend_from_slice(bytes);
            first = false;
        }
    })?;
    if format == ExportFormat::Json {
        buffer.extend_from_slice(if first { b"]\n" } else { b"\n]\n" });
    }
    out.write_all(&buffer)
        .and_then(|()| out.flush())
        .map_err(AuditError::Output)?;
    Ok(chain.records())
}

/// The CSV columns, in order.
pub const CSV_HEADER: [&str; 17] = [
    "seq",
    "time",
    "event",
    "outcome",
    "attempt_id",
    "station",
    "operator_os_user",
    "operator_principal",
    "supervisor",
    "request_id",
    "card_id",
    "atr",
    "reader",
    "smartcard_uuid",
    "correlation_id",
    "message",
    "prev_hash",
];

fn csv_fields(record: &Record) -> [String; 17] {
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    let uuid = |value: &Option<Uuid>| value.map(|u| u.to_string()).unwrap_or_default();
    let time = record
        .time
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    [
        record.seq.to_string(),
        time,
        record.event.as_str().to_owned(),
        record
            .outcome
            .map(|o| o.as_str().to_owned())
            .unwrap_or_default(),
        record.attempt_id.to_string(),
        record.station.clone(),
        text(&record.operator.os_user),
        text(&record.operator.principal),
        text(&record.supervisor),
        record.request_id.to_string(),
        record.card_id.clone(),
        record.atr.clone(),
        record.reader.clone(),
        uuid(&record.smartcard_uuid),
        text(&record.correlation_id),
        text(&record.message),
        record.prev_hash.clone(),
    ]
}

fn write_csv_row(buffer: &mut Vec<u8>, fields: impl IntoIterator<Item = String>) {
    for (index, field) in fields.into_iter().enumerate() {
        if index > 0 {
            buffer.push(b',');
        }
        let needs_quotes = field.contains([',', '"', '\r', '\n'])
            || field.starts_with(' ')
            || field.ends_with(' ');
        if needs_quotes {
            buffer.push(b'"');
            buffer.extend_from_slice(field.replace('"', "\"\"").as_bytes());
            buffer.push(b'"');
        } else {
            buffer.extend_from_slice(field.as_bytes());
        }
    }
    buffer.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::card::{CardIdentity, CardKind};

    fn target(n: u8) -> BindTarget {
        BindTarget {
            request_id: Uuid::from_u128(u128::from(n)),
            reader: "Reader 0".into(),
            expected: CardIdentity {
                atr: Atr::from_bytes(vec![0x3b, 0x8d, n]),
                card_id: CardId::from_raw([n; 16]),
                kind: CardKind::Gids,
                chip: None,
                location: None,
                yubikey_serial: None,
            },
            supervisor: None,
        }
    }

    fn attempt(n: u8) -> AttemptInfo {
        AttemptInfo {
            station: "station-1".into(),
            operator: Operator {
                os_user: Some("alice".into()),
                principal: Some("alice@CONTOSO.COM".into()),
            },
            ..AttemptInfo::for_target(&target(n))
        }
    }

    fn dir() -> tempfile::TempDir {
        tempfile::tempdir().expect("a temporary directory")
    }

    fn lines(path: &Path) -> Vec<String> {
        std::fs::read_to_string(path)
            .expect("the journal is readable")
            .lines()
            .map(str::to_owned)
            .collect()
    }

    fn write_lines(path: &Path, lines: &[String]) {
        let mut text = lines.join("\n");
        text.push('\n');
        std::fs::write(path, text).expect("the journal is writable");
    }

    /// Three binds: bound, failed, and one attempt left open.
    fn journal_with_three_binds(path: &Path) {
        let mut journal = AuditJournal::open(path).expect("the journal opens");
        let first = journal.record_attempt(attempt(1)).expect("attempt 1");
        journal
            .record_outcome(
                first,
                Outcome::Bound,
                OutcomeInfo {
                    smartcard_uuid: Some(Uuid::from_u128(99)),
                    ..OutcomeInfo::default()
                },
            )
            .expect("outcome 1");
        let second = journal.record_attempt(attempt(2)).expect("attempt 2");
        journal
            .record_outcome(
                second,
                Outcome::Failed,
                OutcomeInfo {
                    correlation_id: Some("corr-2".into()),
                    message: Some("The server said, \"no\"".into()),
                    ..OutcomeInfo::default()
                },
            )
            .expect("outcome 2");
        let _open = journal.record_attempt(attempt(3)).expect("attempt 3");
    }

    fn broken_at(path: &Path) -> ChainBreak {
        let error = verify(path).expect_err("the journal is broken");
        error.chain_break().cloned().expect("a chain break")
    }

    #[test]
    fn records_link_by_hash_and_sequence() {
        let dir = dir();
        let path = dir.path().join("nested").join("audit.jsonl");
        journal_with_three_binds(&path);
        let lines = lines(&path);
        assert_eq!(lines.len(), 5);
        let mut prev = GENESIS_HASH.to_owned();
        for (index, line) in lines.iter().enumerate() {
            let record: Record = serde_json::from_str(line).expect("a record");
            assert_eq!(record.seq, index as u64 + 1);
            assert_eq!(record.prev_hash, prev);
            prev = sha256_hex(line.as_bytes());
        }
        let report = verify(&path).expect("intact");
        assert_eq!(
            report,
            VerifyReport {
                records: 5,
                attempts: 3,
                outcomes: 2,
                unfinished: 1,
                last_hash: prev,
            }
        );
    }

    #[test]
    fn outcomes_repeat_their_attempt_and_link_to_it() {
        let dir = dir();
        let path = dir.path().join("audit.jsonl");
        journal_with_three_binds(&path);
        let journal = AuditJournal::open(&path).expect("reopens");
        let recent = journal.recent(10);
        assert_eq!(recent.len(), 5);
        let (attempt, outcome) = (&recent[2], &recent[3]);
        assert_eq!(attempt.event, EventKind::Attempt);
        assert_eq!(outcome.outcome, Some(Outcome::Failed));
        assert_eq!(outcome.attempt_id, attempt.attempt_id);
        assert_eq!(outcome.card_id, CardId::from_raw([2; 16]).to_cm_string());
        assert_eq!(outcome.atr, "3b8d02");
        assert_eq!(outcome.correlation_id.as_deref(), Some("corr-2"));
        assert_eq!(journal.recent(2), recent[3..].to_vec());
    }

    #[test]
    fn unfinished_attempts_survive_a_restart_and_are_closed_once() {
        let dir = dir();
        let path = dir.path().join("audit.jsonl");
        journal_with_three_binds(&path);
        let mut journal = AuditJournal::open(&path).expect("reopens");
        let open = journal.unfinished_attempts();
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].card_id(), Some(CardId::from_raw([3; 16])));
        assert_eq!(open[0].atr(), Some(Atr::from_bytes(vec![0x3b, 0x8d, 3])));
        let id = open[0].attempt_id;
        journal
            .record_outcome(id, Outcome::ReconciledNotBound, OutcomeInfo::default())
            .expect("reconciled");
        assert!(journal.unfinished_attempts().is_empty());
        let again = journal.record_outcome(id, Outcome::Bound, OutcomeInfo::default());
        assert!(matches!(again, Err(AuditError::UnknownAttempt { .. })));
        drop(journal);
        assert_eq!(verify(&path).expect("intact").unfinished, 0);
    }

    #[test]
    fn a_reopened_journal_continues_the_chain() {
        let dir = dir();
        let path = dir.path().join("audit.jsonl");
        journal_with_three_binds(&path);
        let before = verify(&path).expect("intact");
        let mut journal = AuditJournal::open(&path).expect("reopens");
        assert_eq!(journal.last_hash(), before.last_hash);
        let id = journal.record_attempt(attempt(4)).expect("attempt 4");
        journal
            .record_outcome(id, Outcome::Refused, OutcomeInfo::default())
            .expect("refused");
        drop(journal);
        let after = verify(&path).expect("intact");
        assert_eq!(after.records, 7);
        assert_eq!(after.unfinished, 1);
    }

    #[test]
    fn an_edit_names_the_edited_line() {
        let dir = dir();
        let path = dir.path().join("audit.jsonl");
        journal_with_three_binds(&path);
        let mut lines = lines(&path);
        lines[2] = lines[2].replace("\"reader\":\"Reader 0\"", "\"reader\":\"Reader 1\"");
        write_lines(&path, &lines);
        let found = broken_at(&path);
        assert_eq!(found.line, 3);
        assert_eq!(found.reason, BreakReason::Edited { next_line: 4 });
        let refused = AuditJournal::open(&path).expect_err("a broken journal is not opened");
        assert!(matches!(refused, AuditError::Broken { .. }));
        assert!(refused.to_string().contains("line 3"), "{refused}");
    }

    #[test]
    fn removed_and_swapped_records_are_found() {
        let dir = dir();
        let path = dir.path().join("audit.jsonl");
        journal_with_three_binds(&path);
        let original = lines(&path);

        let mut removed = original.clone();
        removed.remove(1);
        write_lines(&path, &removed);
        let found = broken_at(&path);
        assert_eq!(found.line, 2);
        assert_eq!(
            found.reason,
            BreakReason::SequenceGap {
                expected: 2,
                found: 3
            }
        );

        let mut swapped = original.clone();
        swapped.swap(2, 3);
        write_lines(&path, &swapped);
        assert_eq!(broken_at(&path).line, 3);

        let mut first_removed = original.clone();
        first_removed.remove(0);
        write_lines(&path, &first_removed);
        assert_eq!(broken_at(&path).line, 1);

        let mut duplicated = original;
        duplicated.insert(2, duplicated[1].clone());
        write_lines(&path, &duplicated);
        let found = broken_at(&path);
        assert_eq!(found.line, 3);
        assert!(matches!(found.reason, BreakReason::OutOfOrder { .. }));
    }

    #[test]
    fn a_rehashed_second_outcome_is_still_refused() {
        let dir = dir();
        let path = dir.path().join("audit.jsonl");
        let mut journal = AuditJournal::open(&path).expect("opens");
        let id = journal.record_attempt(attempt(1)).expect("attempt");
        journal
            .record_outcome(id, Outcome::Bound, OutcomeInfo::default())
            .expect("outcome");
        drop(journal);
        // A forger who recomputes the chain still cannot add a second outcome.
        let lines = lines(&path);
        let mut forged: Record = serde_json::from_str(&lines[1]).expect("a record");
        forged.seq = 3;
        forged.outcome = Some(Outcome::ReconciledNotBound);
        forged.prev_hash = sha256_hex(lines[1].as_bytes());
        let mut all = lines.clone();
        all.push(serde_json::to_string(&forged).expect("encodes"));
        write_lines(&path, &all);
        let found = broken_at(&path);
        assert_eq!(found.line, 3);
        assert!(matches!(found.reason, BreakReason::Inconsistent(_)));
    }

    #[test]
    fn a_torn_last_line_is_reported_and_not_appended_to() {
        let dir = dir();
        let path = dir.path().join("audit.jsonl");
        journal_with_three_binds(&path);
        let mut text = std::fs::read_to_string(&path).expect("readable");
        text.push_str("{\"seq\":6,\"time\":\"2025-");
        std::fs::write(&path, &text).expect("writable");
        let error = AuditJournal::open(&path).expect_err("a torn journal is not opened");
        let message = error.to_string();
        assert!(matches!(error, AuditError::Torn { .. }), "{message}");
        assert!(message.contains("last line (6)"), "{message}");
        assert!(
            message.contains("delete the incomplete last line"),
            "{message}"
        );
        assert_eq!(broken_at(&path).reason, BreakReason::TornLastLine);
        // Repaired as the message says, the journal opens again.
        let repaired = &text[..=text.rfind('\n').expect("a line break")];
        std::fs::write(&path, repaired).expect("writable");
        assert!(AuditJournal::open(&path).is_ok());
    }

    #[test]
    fn a_second_writer_is_refused_while_the_first_holds_the_journal() {
        let dir = dir();
        let path = dir.path().join("audit.jsonl");
        let first = AuditJournal::open(&path).expect("opens");
        let second = AuditJournal::open(&path).expect_err("locked");
        assert!(matches!(second, AuditError::InUse { .. }));
        assert!(
            second
                .to_string()
                .contains("in use by another enroll-station process")
        );
        // Readers are not locked out.
        assert_eq!(verify(&path).expect("readable").records, 0);
        drop(first);
        assert!(AuditJournal::open(&path).is_ok());
    }

    #[test]
    fn an_empty_journal_is_intact_and_a_missing_one_is_named() {
        let dir = dir();
        let path = dir.path().join("audit.jsonl");
        let missing = verify(&path).expect_err("no file");
        assert!(matches!(missing, AuditError::NotFound { .. }));
        drop(AuditJournal::open(&path).expect("creates"));
        let report = verify(&path).expect("intact");
        assert_eq!(report.records, 0);
        assert_eq!(report.last_hash, GENESIS_HASH);
    }

    #[test]
    fn a_failed_write_makes_the_journal_refuse_further_writes() {
        let dir = dir();
        let path = dir.path().join("audit.jsonl");
        let mut journal = AuditJournal::open(&path).expect("opens");
        // A read-only handle in place of the real one makes the next write fail.
        journal.file = File::open(&path).expect("readable");
        let error = journal
            .record_attempt(attempt(1))
            .expect_err("cannot write");
        assert!(matches!(error, AuditError::Io { .. }), "{error}");
        assert!(error.to_string().contains("binding stays off"), "{error}");
        let again = journal
            .record_attempt(attempt(2))
            .expect_err("still refused");
        assert!(matches!(again, AuditError::Unusable { .. }), "{again}");
    }

    #[test]
    fn attempt_ids_round_trip_through_text() {
        let id = AttemptId(Uuid::from_u128(7));
        assert_eq!(id.to_string().parse::<AttemptId>().ok(), Some(id));
        assert!("not-an-id".parse::<AttemptId>().is_err());
    }

    #[test]
    fn exports_quote_csv_and_keep_json_records_as_stored() {
        let dir = dir();
        let path = dir.path().join("audit.jsonl");
        journal_with_three_binds(&path);
        let mut csv = Vec::new();
        assert_eq!(export(&path, ExportFormat::Csv, &mut csv).expect("csv"), 5);
        let csv = String::from_utf8(csv).expect("utf-8");
        let rows: Vec<&str> = csv.split("\r\n").filter(|r| !r.is_empty()).collect();
        assert_eq!(rows.len(), 6);
        assert_eq!(rows[0], CSV_HEADER.join(","));
        assert!(
            rows[4].contains(",\"The server said, \"\"no\"\"\","),
            "{}",
            rows[4]
        );

        let mut json = Vec::new();
        export(&path, ExportFormat::Json, &mut json).expect("json");
        let records: Vec<Record> = serde_json::from_slice(&json).expect("a JSON array");
        assert_eq!(records.len(), 5);
        assert_eq!(records[1].outcome, Some(Outcome::Bound));
    }

    #[test]
    fn a_broken_journal_is_not_exported() {
        let dir = dir();
        let path = dir.path().join("audit.jsonl");
        journal_with_three_binds(&path);
        let mut lines = lines(&path);
        lines.remove(2);
        write_lines(&path, &lines);
        let mut out = Vec::new();
        assert!(export(&path, ExportFormat::Json, &mut out).is_err());
        assert!(out.is_empty());
    }

    #[test]
    fn the_default_path_is_in_the_data_directory() {
        let path = default_journal_path().expect("a home directory in tests");
        assert!(path.ends_with(Path::new("enroll-station").join(JOURNAL_FILE_NAME)));
    }
}
