//! The writer: one process at a time appends to the journal, and each record
//! is on disk before the call returns, because the bind is sent only after.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

use time::OffsetDateTime;

use super::chain::{Chain, read_chain, sha256_hex};
use super::error::io_error;
use super::{
    AttemptId, AttemptInfo, AttemptRecord, AuditError, EventKind, Outcome, OutcomeInfo, Record,
    StationEvent,
};

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

    /// The SHA-256 of the last line ([`GENESIS_HASH`](super::GENESIS_HASH) when empty).
    pub fn last_hash(&self) -> &str {
        &self.chain.last_hash
    }

    /// Appends an attempt record and flushes it to disk.
    ///
    /// Call it right before the POST, and send nothing when it fails: an
    /// unrecorded bind is what the journal exists to prevent.
    pub fn record_attempt(&mut self, info: AttemptInfo) -> Result<AttemptId, AuditError> {
        let attempt_id = AttemptId::new();
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
            // Cleaned here, at the journal's door, whoever filled the info in.
            person: info
                .person
                .map(|name| crate::domain::text::person_name(&name))
                .filter(|name| !name.is_empty()),
            card_id: info.card_id.to_cm_string(),
            atr: info.atr.to_hex(),
            reader: info.reader,
            smartcard_uuid: None,
            correlation_id: None,
            message: info.message,
            changed: None,
            prev_hash: self.chain.last_hash.clone(),
        };
        self.append(record)?;
        Ok(attempt_id)
    }

    /// Appends a record of the station's controls (a saved configuration, a
    /// refused supervisor) and flushes it to disk.
    pub fn record_event(&mut self, event: StationEvent) -> Result<(), AuditError> {
        let record = Record {
            seq: self.chain.next_seq,
            time: now(),
            event: event.kind.into(),
            outcome: None,
            attempt_id: AttemptId::from_uuid(uuid::Uuid::nil()),
            station: super::station_name(),
            operator: event.operator,
            supervisor: event.supervisor,
            request_id: event.request_id.unwrap_or_else(uuid::Uuid::nil),
            person: None,
            card_id: String::new(),
            atr: String::new(),
            reader: String::new(),
            smartcard_uuid: None,
            correlation_id: None,
            message: Some(event.message),
            changed: event.changed,
            prev_hash: self.chain.last_hash.clone(),
        };
        self.append(record)
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

    /// The last `n` records, oldest first; at most [`RECENT_CAPACITY`](super::RECENT_CAPACITY).
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::tests::{attempt, dir, journal_with_three_binds};
    use crate::audit::verify;
    use crate::domain::card::{Atr, CardId};

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
}
