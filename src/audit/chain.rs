//! The hash chain: what makes an edited, removed or reordered record show,
//! and the read-only check (`audit verify`) that names the first one.

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead as _, BufReader};
use std::path::Path;
use std::time::Duration;

use super::error::io_error;
use super::{AttemptId, AuditError, EventKind, GENESIS_HASH, RECENT_CAPACITY, Record};

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
    Inconsistent(Inconsistency),
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

/// How a record contradicts the attempt/outcome rules the writer keeps;
/// shown after "line N".
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Inconsistency {
    /// An attempt record reuses an attempt ID an earlier record started.
    #[error("reuses attempt ID {0}, which an earlier record already started")]
    ReusedAttempt(AttemptId),
    /// An outcome for an attempt that already has one.
    #[error("is a second outcome for attempt {0}")]
    SecondOutcome(AttemptId),
    /// An outcome for an attempt no earlier record started.
    #[error("is an outcome for attempt {0}, which has no attempt record before it")]
    NoAttempt(AttemptId),
    /// An attempt record with an outcome field.
    #[error("is an attempt that carries an outcome")]
    AttemptWithOutcome,
    /// An outcome record without one.
    #[error("is an outcome record without an outcome")]
    OutcomeMissing,
    /// A record of the station's controls (settings, supervisors) with an outcome.
    #[error("is a record of the station's controls that carries an outcome")]
    ControlWithOutcome,
}

/// What [`verify`] found in an intact journal.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// All records.
    pub records: u64,
    /// Attempt records: binds' attempts and lifecycle actions' intents.
    pub attempts: u64,
    /// Outcome records: binds' and lifecycle actions'.
    pub outcomes: u64,
    /// Attempts and intents with no outcome yet.
    pub unfinished: u64,
    /// `settings_saved` and `supervisor_refused` records: the station's
    /// controls, part of no bind.
    pub controls: u64,
    /// The SHA-256 of the last line ([`GENESIS_HASH`] when empty): note it
    /// elsewhere to detect later truncation of the journal's end.
    pub last_hash: String,
}
pub(super) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, bytes))
}

/// The state of a chain read so far: what the next record must link to.
#[derive(Debug)]
pub(super) struct Chain {
    pub(super) last_hash: String,
    pub(super) next_seq: u64,
    attempts: u64,
    outcomes: u64,
    controls: u64,
    pub(super) open_attempts: Vec<Record>,
    /// Batches started and not finished, each with its members' records.
    pub(super) open_batches: Vec<super::OpenBatch>,
    seen_attempts: HashSet<AttemptId>,
    pub(super) recent: VecDeque<Record>,
    /// Where the last complete line ends: the file's length as the chain
    /// read it, without a torn tail.
    pub(super) end: u64,
    /// The length of the last complete line, its `\n` included (0 when empty).
    pub(super) last_line_len: u64,
}

impl Chain {
    fn new() -> Self {
        Self {
            last_hash: GENESIS_HASH.to_owned(),
            next_seq: 1,
            attempts: 0,
            outcomes: 0,
            controls: 0,
            open_attempts: Vec::new(),
            open_batches: Vec::new(),
            seen_attempts: HashSet::new(),
            recent: VecDeque::new(),
            end: 0,
            last_line_len: 0,
        }
    }

    pub(super) fn records(&self) -> u64 {
        self.next_seq - 1
    }

    /// Checks one complete line (without its `\n`) against the chain and adds it.
    fn push(&mut self, line: u64, bytes: &[u8]) -> Result<Record, ChainBreak> {
        let broken = |reason| ChainBreak { line, reason };
        // serde reads a struct from a JSON array too: the station writes
        // objects only, so anything else was written by someone else.
        if bytes.first() != Some(&b'{') {
            return Err(broken(BreakReason::Unparseable(
                "it is not a JSON object".to_owned(),
            )));
        }
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
    fn check_event(&self, record: &Record) -> Result<(), Inconsistency> {
        let id = record.attempt_id;
        // A bind's attempt is closed by an outcome, an action's intent by
        // an action outcome: the same rules, never across.
        let opener = match record.event {
            EventKind::Outcome => Some(EventKind::Attempt),
            EventKind::ActionOutcome => Some(EventKind::ActionIntent),
            _ => None,
        };
        match (record.event, record.outcome) {
            (kind, None) if kind.opens() && self.seen_attempts.contains(&id) => {
                Err(Inconsistency::ReusedAttempt(id))
            }
            (kind, None) if kind.opens() => Ok(()),
            (kind, Some(_))
                if kind.closes()
                    && self
                        .open_attempts
                        .iter()
                        .any(|a| a.attempt_id == id && Some(a.event) == opener) =>
            {
                Ok(())
            }
            (kind, Some(_)) if kind.closes() && self.seen_attempts.contains(&id) => {
                Err(Inconsistency::SecondOutcome(id))
            }
            (kind, Some(_)) if kind.closes() => Err(Inconsistency::NoAttempt(id)),
            (kind, Some(_)) if kind.opens() => Err(Inconsistency::AttemptWithOutcome),
            (kind, None) if kind.closes() => Err(Inconsistency::OutcomeMissing),
            // The station's controls (settings, supervisors, kiosk, start-up).
            (_, None) => Ok(()),
            (_, Some(_)) => Err(Inconsistency::ControlWithOutcome),
        }
    }

    /// Adds a record already known to fit, whose line hashes to `hash`.
    pub(super) fn add(&mut self, hash: String, record: Record) {
        self.last_hash = hash;
        self.next_seq += 1;
        match record.event {
            EventKind::Attempt | EventKind::ActionIntent => {
                self.attempts += 1;
                self.seen_attempts.insert(record.attempt_id);
                self.open_attempts.push(record.clone());
            }
            EventKind::Outcome | EventKind::ActionOutcome => {
                self.outcomes += 1;
                self.open_attempts
                    .retain(|open| open.attempt_id != record.attempt_id);
            }
            _ => self.controls += 1,
        }
        self.track_batches(&record);
        if self.recent.len() == RECENT_CAPACITY {
            self.recent.pop_front();
        }
        self.recent.push_back(record);
    }

    /// Keeps, for each batch not finished, the records a resume needs:
    /// its `batch_member` records and its requests' attempts and outcomes.
    fn track_batches(&mut self, record: &Record) {
        match record.event {
            EventKind::BatchStarted => {
                self.open_batches
                    .push(super::OpenBatch::new(record.clone()));
                return;
            }
            EventKind::BatchFinished => {
                self.open_batches
                    .retain(|batch| batch.start.batch_id != record.batch_id);
                return;
            }
            _ => {}
        }
        for batch in &mut self.open_batches {
            batch.take(record);
        }
    }

    fn report(&self) -> VerifyReport {
        VerifyReport {
            records: self.records(),
            attempts: self.attempts,
            outcomes: self.outcomes,
            unfinished: self.open_attempts.len() as u64,
            controls: self.controls,
            last_hash: self.last_hash.clone(),
        }
    }
}

/// Reads a whole journal, checking every line, and hands each intact line to `each`.
pub(super) fn read_chain(
    path: &Path,
    file: &File,
    each: impl FnMut(&[u8], &Record),
) -> Result<Chain, AuditError> {
    let (chain, torn) = read_chain_to_tear(path, file, each)?;
    match torn {
        None => Ok(chain),
        Some(chain_break) => Err(AuditError::Torn {
            path: path.to_owned(),
            chain_break,
        }),
    }
}

/// [`read_chain`], but a torn last line is handed back beside the chain
/// of every line before it (which all verified), so the writer can repair it.
pub(super) fn read_chain_to_tear(
    path: &Path,
    file: &File,
    mut each: impl FnMut(&[u8], &Record),
) -> Result<(Chain, Option<ChainBreak>), AuditError> {
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
            return Ok((chain, None));
        }
        line += 1;
        let Some(bytes) = buffer.strip_suffix(b"\n") else {
            let torn = ChainBreak {
                line,
                reason: BreakReason::TornLastLine,
            };
            return Ok((chain, Some(torn)));
        };
        let record = chain
            .push(line, bytes)
            .map_err(|chain_break| AuditError::Broken {
                path: path.to_owned(),
                chain_break,
            })?;
        chain.end += read as u64;
        chain.last_line_len = read as u64;
        each(bytes, &record);
    }
}

/// How often a reader reads again when the journal's last line is torn.
pub(super) const TORN_RETRIES: u32 = 10;
/// How long a reader waits before it reads a torn journal again.
pub(super) const TORN_WAIT: Duration = Duration::from_millis(50);

/// Opens and reads the journal at `path` with `read`, and again (up to
/// [`TORN_RETRIES`] times, [`TORN_WAIT`] apart) while its last line is torn:
/// a writer may be in the middle of it. A tail still torn after that is
/// reported as torn.
pub(super) fn read_settled<T>(
    path: &Path,
    mut read: impl FnMut(&File) -> Result<T, AuditError>,
) -> Result<T, AuditError> {
    let mut tries = 0;
    loop {
        let file = open_for_reading(path)?;
        match read(&file) {
            Err(AuditError::Torn { .. }) if tries < TORN_RETRIES => {
                tries += 1;
                std::thread::sleep(TORN_WAIT);
            }
            other => return other,
        }
    }
}

pub(super) fn open_for_reading(path: &Path) -> Result<File, AuditError> {
    File::open(path).map_err(|source| match source.kind() {
        io::ErrorKind::NotFound => AuditError::NotFound {
            path: path.to_owned(),
        },
        _ => io_error("open", path)(source),
    })
}
/// Checks the whole journal at `path` without locking it (the window may hold it).
///
/// A torn last line is read again a few times first: a writer may be in
/// the middle of it.
///
/// An intact journal gives its counts; a broken one gives
/// [`AuditError::Broken`] or [`AuditError::Torn`] naming the first broken
/// record's line and why.
pub fn verify(path: impl AsRef<Path>) -> Result<VerifyReport, AuditError> {
    let path = path.as_ref();
    let chain = read_settled(path, |file| read_chain(path, file, |_, _| {}))?;
    Ok(chain.report())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::tests::{
        attempt, broken_at, dir, journal_with_three_binds, lines, write_lines,
    };
    use crate::audit::{AuditJournal, Outcome, OutcomeInfo};

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
                controls: 0,
                last_hash: prev,
            }
        );
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
    fn a_torn_last_line_is_reported_then_repaired_by_the_writer() {
        let dir = dir();
        let path = dir.path().join("audit.jsonl");
        journal_with_three_binds(&path);
        let mut text = std::fs::read_to_string(&path).expect("readable");
        let intact = text.clone();
        text.push_str("{\"seq\":6,\"time\":\"2025-");
        std::fs::write(&path, &text).expect("writable");
        let error = verify(&path).expect_err("a reader reports it");
        let message = error.to_string();
        assert!(matches!(error, AuditError::Torn { .. }), "{message}");
        assert!(message.contains("last line (6)"), "{message}");
        assert!(message.contains("repairs it"), "{message}");
        assert_eq!(broken_at(&path).reason, BreakReason::TornLastLine);
        // The writer cuts the tail, keeping a copy, and continues the chain.
        let journal = AuditJournal::open(&path).expect("repaired");
        let repair = journal.repair().expect("a repair").clone();
        assert_eq!(repair.line, 6);
        assert_eq!(
            std::fs::read_to_string(&repair.copy).expect("a copy"),
            "{\"seq\":6,\"time\":\"2025-"
        );
        drop(journal);
        assert_eq!(std::fs::read_to_string(&path).expect("readable"), intact);
        assert_eq!(verify(&path).expect("intact").records, 5);
    }

    #[test]
    fn a_line_that_is_not_an_object_or_has_extra_fields_is_no_record() {
        let dir = dir();
        let path = dir.path().join("audit.jsonl");
        journal_with_three_binds(&path);
        let original = lines(&path);
        let mut extra = original.clone();
        extra[4] = extra[4].replacen('{', "{\"junk\":\"=cmd()\",", 1);
        write_lines(&path, &extra);
        let found = broken_at(&path);
        assert_eq!(found.line, 5);
        assert!(matches!(found.reason, BreakReason::Unparseable(_)));

        let mut array = original;
        let record: Record = serde_json::from_str(&array[0]).expect("a record");
        let value = serde_json::to_value(&record).expect("a value");
        let fields: Vec<_> = value
            .as_object()
            .expect("an object")
            .values()
            .cloned()
            .collect();
        array[0] = serde_json::to_string(&fields).expect("an array");
        write_lines(&path, &array);
        let found = broken_at(&path);
        assert_eq!(found.line, 1);
        assert_eq!(
            found.reason,
            BreakReason::Unparseable("it is not a JSON object".into())
        );
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
}
