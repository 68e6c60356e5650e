//! The writer: one process at a time appends to the journal, and each record
//! is on disk before the call returns, because the bind is sent only after.
//!
//! The lock is on the opened file itself, not on its path's text, so two
//! paths to one journal (a hard link, a linked directory, `..`) give one
//! writer; a symbolic link at the journal's own name is refused. Before
//! each append the writer checks that the file still ends where it left
//! it. A torn last line (a crash or a full disk mid-write) is cut when the
//! journal is opened, once everything before it verifies, and kept in a
//! copy beside it.

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

use time::OffsetDateTime;

use super::chain::{Chain, ChainBreak, read_chain_to_tear, sha256_hex};
use super::error::{EndChanged, io_error};
use super::{
    ActionInfo, AttemptId, AttemptInfo, AttemptRecord, AuditError, EventKind, Outcome, OutcomeInfo,
    Record, StationEvent,
};

/// The journal, open for appending. Holds the journal's lock until dropped.
#[derive(Debug)]
pub struct AuditJournal {
    path: PathBuf,
    // Locked (Unix) or shared for reading only (Windows) until dropped.
    file: File,
    chain: Chain,
    unusable: Option<String>,
    repair: Option<Repair>,
}

/// A torn last line the journal cut when it was opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Repair {
    /// The line that was torn (1-based).
    pub line: u64,
    /// How many bytes were cut.
    pub bytes: u64,
    /// The copy of what was cut, beside the journal.
    pub copy: PathBuf,
}

impl Repair {
    /// What happened, for the operator and the log.
    pub fn notice(&self, journal: &Path) -> String {
        format!(
            "The audit journal {} ended in an incomplete line (line {}, {} bytes: a crash or a \
             full disk cut a write short). Everything before it verified, so the station cut it \
             and kept a copy in {}. If it was an attempt, nothing was sent; if it was an \
             outcome, its attempt is reconciled with the server.",
            journal.display(),
            self.line,
            self.bytes,
            self.copy.display()
        )
    }
}

impl AuditJournal {
    /// Opens (or creates) the journal at `path` for appending.
    ///
    /// Creates the parent directories, opens the file without following a
    /// symbolic link at its name (refused with [`AuditError::NotAFile`], as
    /// is anything but a regular file), locks the file itself against other
    /// enroll-station processes (failing at once with [`AuditError::InUse`]
    /// rather than waiting: the window holds the journal for as long as it is
    /// open), and reads it to the end. A broken chain is refused: appending
    /// to it would launder it. A torn last line after an intact chain is
    /// cut, and kept in a copy: see [`AuditJournal::repair`].
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
        let existed = std::fs::symlink_metadata(path).is_ok();
        let file = open_journal_file(path)?;
        lock_journal(path, &file)?;
        if !existed || created_dir {
            sync_parent_dir(path)?;
        }
        let (chain, torn) = read_chain_to_tear(path, &file, |_, _| {})?;
        let repair = match torn {
            Some(torn) => Some(cut_torn_tail(path, &file, chain.end, &torn)?),
            None => None,
        };
        // A journal missing or cut against its head marker is continued
        // only with a record saying so (see `head`).
        let gap = super::head::compare(path, existed, chain.records());
        let mut journal = AuditJournal {
            path: path.to_owned(),
            file,
            chain,
            unusable: None,
            repair,
        };
        if let Some(gap) = gap {
            journal.record_event(super::head::gap_event(path, &gap))?;
        } else if let Some(event) =
            super::head::unmarked_event(path, journal.chain.records(), &journal.chain.last_hash)
        {
            // Records but no marker: the marker is made, with a record saying so.
            journal.record_event(event)?;
        }
        Ok(journal)
    }

    /// The torn last line [`AuditJournal::open`] cut, if it cut one.
    pub fn repair(&self) -> Option<&Repair> {
        self.repair.as_ref()
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
            api_base: info.api_base,
            smartcard_uuid: None,
            correlation_id: None,
            message: info.message,
            changed: None,
            batch_id: None,
            members: None,
            prev_hash: self.chain.last_hash.clone(),
        };
        self.append(record)?;
        Ok(attempt_id)
    }

    /// Appends a record of the station's controls (a saved configuration, a
    /// refused supervisor) and flushes it to disk.
    pub fn record_event(&mut self, event: StationEvent) -> Result<(), AuditError> {
        let mut batch = event.batch;
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
            card_id: batch
                .as_mut()
                .and_then(|b| b.card_id.take())
                .unwrap_or_default(),
            atr: String::new(),
            reader: batch
                .as_mut()
                .and_then(|b| b.reader.take())
                .unwrap_or_default(),
            api_base: None,
            smartcard_uuid: None,
            correlation_id: None,
            message: Some(event.message),
            changed: event.changed,
            batch_id: batch.as_ref().map(|b| b.id),
            members: batch.and_then(|b| b.members),
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
        self.close(attempt_id, EventKind::Outcome, outcome, info)
    }

    /// Appends an action's intent (issue 21: a status change, a created
    /// request, an offline unblock) and flushes it to disk. Call it right
    /// before the call to CM, and send nothing when it fails.
    pub fn record_action_intent(&mut self, info: ActionInfo) -> Result<AttemptId, AuditError> {
        let attempt_id = AttemptId::new();
        let record = Record {
            seq: self.chain.next_seq,
            time: now(),
            event: EventKind::ActionIntent,
            outcome: None,
            attempt_id,
            station: super::station_name(),
            operator: info.operator,
            supervisor: info.supervisor,
            request_id: info.request_id.unwrap_or_else(uuid::Uuid::nil),
            person: None,
            card_id: info
                .card_id
                .map(|card| card.to_cm_string())
                .unwrap_or_default(),
            atr: String::new(),
            reader: String::new(),
            api_base: Some(info.api_base),
            smartcard_uuid: info.smartcard_uuid,
            correlation_id: None,
            message: Some(crate::domain::text::one_line(&info.message, 2000)),
            changed: None,
            batch_id: None,
            members: None,
            prev_hash: self.chain.last_hash.clone(),
        };
        self.append(record)?;
        Ok(attempt_id)
    }

    /// Appends the one outcome of an open action intent and flushes it to
    /// disk. `request_id` names the request the action created, when it
    /// created one (the intent could not know it).
    pub fn record_action_outcome(
        &mut self,
        attempt_id: AttemptId,
        outcome: Outcome,
        request_id: Option<uuid::Uuid>,
        info: OutcomeInfo,
    ) -> Result<(), AuditError> {
        self.close_with(
            attempt_id,
            EventKind::ActionOutcome,
            outcome,
            request_id,
            info,
        )
    }

    /// Intents of actions with no outcome, oldest first.
    pub fn unfinished_actions(&self) -> Vec<AttemptRecord> {
        self.open_of(EventKind::ActionIntent)
    }

    fn close(
        &mut self,
        attempt_id: AttemptId,
        event: EventKind,
        outcome: Outcome,
        info: OutcomeInfo,
    ) -> Result<(), AuditError> {
        self.close_with(attempt_id, event, outcome, None, info)
    }

    /// Appends the `event` closing the open record `attempt_id` (a bind's
    /// attempt for an outcome, an action's intent for an action outcome).
    fn close_with(
        &mut self,
        attempt_id: AttemptId,
        event: EventKind,
        outcome: Outcome,
        request_id: Option<uuid::Uuid>,
        info: OutcomeInfo,
    ) -> Result<(), AuditError> {
        let opener = if event == EventKind::ActionOutcome {
            EventKind::ActionIntent
        } else {
            EventKind::Attempt
        };
        let Some(attempt) = self
            .chain
            .open_attempts
            .iter()
            .find(|open| open.attempt_id == attempt_id && open.event == opener)
        else {
            return Err(AuditError::UnknownAttempt { attempt_id });
        };
        let request_id = request_id.unwrap_or(attempt.request_id);
        let record = Record {
            seq: self.chain.next_seq,
            time: now(),
            event,
            request_id,
            outcome: Some(outcome),
            smartcard_uuid: info.smartcard_uuid,
            correlation_id: info.correlation_id,
            message: info.message,
            prev_hash: self.chain.last_hash.clone(),
            ..attempt.clone()
        };
        self.append(record)
    }

    /// Batches started and not finished, oldest first.
    pub fn unfinished_batches(&self) -> Vec<super::OpenBatch> {
        self.chain.open_batches.clone()
    }

    /// Attempts with no outcome, oldest first: what start-up reconciliation must resolve.
    pub fn unfinished_attempts(&self) -> Vec<AttemptRecord> {
        self.open_of(EventKind::Attempt)
    }

    fn open_of(&self, kind: EventKind) -> Vec<AttemptRecord> {
        self.chain
            .open_attempts
            .iter()
            .filter(|record| record.event == kind)
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
        if let Err(why) = self.check_end() {
            self.unusable = Some(format!("it was changed by another program: {why}"));
            return Err(AuditError::Changed {
                path: self.path.clone(),
                why,
            });
        }
        let written = self
            .file
            .seek(SeekFrom::Start(self.chain.end))
            .and_then(|_| self.file.write_all(&bytes))
            .map_err(io_error("write to", &self.path))
            .and_then(|()| self.file.sync_all().map_err(io_error("flush", &self.path)));
        if let Err(error) = written {
            // Part of the line may be in the file: appending after it would
            // bury a torn line in the middle of the journal.
            self.unusable = Some(error.to_string());
            return Err(error);
        }
        let hash = sha256_hex(&line);
        // The head marker and the system log follow; neither can stop a bind.
        super::head::written(&self.path, record.seq, &hash);
        super::forward::submit(&self.path, &record, &line, &hash);
        self.chain.add(hash, record);
        self.chain.end += bytes.len() as u64;
        self.chain.last_line_len = bytes.len() as u64;
        Ok(())
    }

    /// Whether the file still ends where this station left it: the same
    /// file at the path, the same length, and the last line it wrote (or
    /// read) still hashing to the chain's last hash. The words say what
    /// differs.
    fn check_end(&mut self) -> Result<(), EndChanged> {
        let meta = self.file.metadata().map_err(EndChanged::Unreadable)?;
        // Windows needs no such check: the journal is opened without
        // FILE_SHARE_DELETE, so nobody renames or removes it while it is held.
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt as _;
            match std::fs::symlink_metadata(&self.path) {
                Ok(now) if (now.dev(), now.ino()) == (meta.dev(), meta.ino()) => {}
                Ok(_) => {
                    return Err(EndChanged::Replaced(self.path.clone()));
                }
                Err(_) => {
                    return Err(EndChanged::Removed(self.path.clone()));
                }
            }
        }
        let (len, end) = (meta.len(), self.chain.end);
        if len < end {
            return Err(EndChanged::Cut { len, end });
        }
        if len > end {
            return Err(EndChanged::Appended { len, end });
        }
        let last = self.chain.last_line_len;
        if last == 0 {
            return Ok(());
        }
        let mut line = vec![0; usize::try_from(last).map_err(|_| EndChanged::LastLineTooLong)?];
        self.file
            .seek(SeekFrom::Start(end - last))
            .and_then(|_| self.file.read_exact(&mut line))
            .map_err(EndChanged::Unreadable)?;
        match line.split_last() {
            Some((b'\n', bytes)) if sha256_hex(bytes) == self.chain.last_hash => Ok(()),
            _ => Err(EndChanged::LastLineRewritten),
        }
    }
}

/// Cuts the torn tail after the last complete line (which ends at `end`),
/// keeping it in a copy beside the journal: `audit.jsonl.torn-20261204T091433Z`.
fn cut_torn_tail(
    path: &Path,
    mut file: &File,
    end: u64,
    torn: &ChainBreak,
) -> Result<Repair, AuditError> {
    let mut tail = Vec::new();
    file.seek(SeekFrom::Start(end))
        .and_then(|_| file.read_to_end(&mut tail))
        .map_err(io_error("read the incomplete last line of", path))?;
    let copy = keep_torn_copy(path, &tail)?;
    file.set_len(end)
        .and_then(|()| file.sync_all())
        .map_err(io_error("cut the incomplete last line of", path))?;
    let repair = Repair {
        line: torn.line,
        bytes: tail.len() as u64,
        copy,
    };
    tracing::warn!("{}", repair.notice(path));
    Ok(repair)
}

fn now() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    // Milliseconds are plenty for an audit trail and keep the lines short.
    now.replace_millisecond(now.millisecond()).unwrap_or(now)
}

/// Opens (or creates, `0600` on Unix) the journal for reading and writing,
/// without following a symbolic link at its name, and checks that what was
/// opened is a regular file.
fn open_journal_file(path: &Path) -> Result<File, AuditError> {
    let mut options = OpenOptions::new();
    options
        .read(true)
        // Not `append`: on Windows an append-only handle cannot be flushed
        // (FlushFileBuffers needs write access). The lock makes seeking to
        // the end before each write safe.
        .write(true)
        .create(true)
        .truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options
            .mode(crate::platform::files::OWNER_ONLY)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC);
    }
    #[cfg(windows)]
    {
        use std::os::windows::fs::OpenOptionsExt as _;
        // FILE_FLAG_OPEN_REPARSE_POINT: the link itself, never its target.
        options.custom_flags(0x0020_0000);
        // FILE_SHARE_READ only: readers (`audit verify`) may open it, no
        // other writer may, whatever path it uses. Windows' byte-range
        // locks are mandatory and would keep the readers out too.
        options.share_mode(0x0000_0001);
    }
    let not_a_file = |what| AuditError::NotAFile {
        path: path.to_owned(),
        what,
    };
    let file = match options.open(path) {
        Ok(file) => file,
        #[cfg(unix)]
        Err(error) if error.raw_os_error() == Some(libc::ELOOP) => {
            return Err(not_a_file("a symbolic link"));
        }
        // ERROR_SHARING_VIOLATION: another process holds it for writing.
        #[cfg(windows)]
        Err(error) if error.raw_os_error() == Some(32) => {
            return Err(AuditError::InUse {
                path: path.to_owned(),
            });
        }
        Err(error) => return Err(io_error("open", path)(error)),
    };
    let meta = file.metadata().map_err(io_error("open", path))?;
    if meta.file_type().is_symlink() {
        return Err(not_a_file("a symbolic link"));
    }
    if !meta.is_file() {
        return Err(not_a_file("not a regular file"));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        // Nobody but its owner writes it, and others do not read it; a
        // group that may read it (0640) is the site's choice and stays.
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o027 != 0
            && let Err(error) = file.set_permissions(std::fs::Permissions::from_mode(mode & !0o027))
        {
            tracing::warn!(path = %path.display(), %error, "the audit journal's permissions could not be narrowed");
        }
    }
    Ok(file)
}

/// Locks the opened journal file itself exclusively, without waiting: two
/// paths to one file meet at one lock. On Windows the share mode of
/// [`open_journal_file`] already keeps a second writer out.
#[cfg(unix)]
fn lock_journal(path: &Path, file: &File) -> Result<(), AuditError> {
    match file.try_lock() {
        Ok(()) => Ok(()),
        Err(std::fs::TryLockError::WouldBlock) => Err(AuditError::InUse {
            path: path.to_owned(),
        }),
        Err(std::fs::TryLockError::Error(source)) => Err(io_error("lock", path)(source)),
    }
}

#[cfg(not(unix))]
fn lock_journal(_path: &Path, _file: &File) -> Result<(), AuditError> {
    Ok(())
}

/// Writes the torn tail to a new file beside the journal, `0600`, flushed:
/// `<journal>.torn-<UTC time>`, numbered when that name is taken.
fn keep_torn_copy(path: &Path, tail: &[u8]) -> Result<PathBuf, AuditError> {
    let now = OffsetDateTime::now_utc();
    let stamp = format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    );
    let failed = io_error("keep a copy of the incomplete last line of", path);
    for n in 1..=100u32 {
        let mut name = path.as_os_str().to_owned();
        name.push(format!(".torn-{stamp}"));
        if n > 1 {
            name.push(format!("-{n}"));
        }
        let copy = PathBuf::from(name);
        let mut file =
            match crate::platform::files::create_new(&copy, crate::platform::files::OWNER_ONLY) {
                Ok(file) => file,
                Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(error) => return Err(failed(error)),
            };
        file.write_all(tail)
            .and_then(|()| file.sync_all())
            .map_err(failed)?;
        sync_parent_dir(path)?;
        return Ok(copy);
    }
    Err(failed(std::io::Error::other("no free name for the copy")))
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
