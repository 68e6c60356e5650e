//! The head marker: the last sequence number and hash the station wrote,
//! kept in a small file beside the journal (`audit.jsonl` →
//! `audit.jsonl.head`).
//!
//! The hash chain cannot see its own end cut off, nor the whole file
//! deleted: the marker can. It is replaced after every record (a new
//! temporary file, flushed, renamed over the old one), and compared with
//! the journal when the journal is opened for writing
//! ([`AuditJournal::open`](super::AuditJournal::open)) and by `audit verify`
//! ([`check`]). A journal that holds fewer records than the marker names, or
//! another record where the marker's was, is never continued silently: the
//! writer appends a [`journal_gap`](super::EventKind::JournalGap) record
//! saying what the marker said and what the file held (forwarded to the
//! system log like every record), and the window shows it.
//!
//! A marker the station cannot write is a warning, never a stop: the journal
//! stays the record, and the next open sees the journal ahead of the
//! marker, which is what a crash between the two writes leaves too.
//!
//! A journal that holds records but has no marker (written by a version
//! before markers, or the marker was deleted) is continued, but not
//! silently: the writer appends a
//! [`head_marker_created`](super::EventKind::HeadMarkerCreated) record
//! naming how many records and which last hash the new marker vouches for
//! ([`unmarked_event`]), and the window shows it.
//!
//! Whoever can delete both the journal and its marker still starts a new
//! chain unnoticed *on this machine*; the forwarded records (the system log,
//! a SIEM) show the sequence starting again at 1.

use std::fs::{File, OpenOptions};
use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::chain::sha256_hex;
use super::{ControlKind, EventKind, Operator, Record, StationEvent};

/// What the marker holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    /// The sequence number of the last record written.
    pub seq: u64,
    /// The SHA-256 (hex) of that record's line.
    pub hash: String,
}

/// What the journal was found to be against its marker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Gap {
    /// The journal file is gone; the marker names `head`.
    Missing {
        /// What the marker said.
        head: Head,
    },
    /// The journal holds fewer records than the marker names.
    Shortened {
        /// What the marker said.
        head: Head,
        /// How many records the file holds.
        records: u64,
    },
    /// The record at the marker's sequence number is not the one written.
    Rewritten {
        /// What the marker said.
        head: Head,
        /// The hash of the line the file holds there.
        found: String,
    },
}

impl std::fmt::Display for Gap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Gap::Missing { head } => write!(
                f,
                "the journal file is missing, but the station had written {} records to it \
                 (last hash {})",
                head.seq, head.hash
            ),
            Gap::Shortened { head, records } => write!(
                f,
                "the journal holds {records} records, but the station had written {} (last \
                 hash {}): its last {} records were cut off",
                head.seq,
                head.hash,
                head.seq - records
            ),
            Gap::Rewritten { head, found } => write!(
                f,
                "record {} of the journal is not the one the station wrote (its hash was {}, \
                 the file's is {found}): the journal was replaced or rewritten",
                head.seq, head.hash
            ),
        }
    }
}

/// The marker's path: the journal's with `.head` appended.
pub fn head_path(journal: &Path) -> PathBuf {
    let mut path = journal.as_os_str().to_owned();
    path.push(".head");
    PathBuf::from(path)
}

/// The marker beside `journal`; `None` when there is none (a journal from
/// before markers, or a first start) or it cannot be read.
pub fn read(journal: &Path) -> Option<Head> {
    let text = std::fs::read(head_path(journal)).ok()?;
    serde_json::from_slice(&text).ok()
}

/// Replaces the marker after a record was written: a new temporary file,
/// flushed, renamed over the old one. Failures are logged, never returned.
pub fn written(journal: &Path, seq: u64, hash: &str) {
    if let Err(error) = write(
        journal,
        &Head {
            seq,
            hash: hash.to_owned(),
        },
    ) {
        tracing::warn!(%error, journal = %journal.display(), "the audit head marker could not be written");
    }
}

fn write(journal: &Path, head: &Head) -> std::io::Result<()> {
    let path = head_path(journal);
    let mut temp = path.as_os_str().to_owned();
    temp.push(format!(".{}.tmp", std::process::id()));
    let temp = PathBuf::from(temp);
    // A leftover of a crash is ours to replace; `create_new` then never
    // follows a link planted in its place.
    let _ = std::fs::remove_file(&temp);
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let result = options.open(&temp).and_then(|mut file| {
        file.write_all(&serde_json::to_vec(head).map_err(std::io::Error::other)?)?;
        file.write_all(b"\n")?;
        file.sync_all()?;
        std::fs::rename(&temp, &path)
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result?;
    #[cfg(unix)]
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        File::open(parent)?.sync_all()?;
    }
    Ok(())
}

/// The hash of line `seq` of the journal (its `seq`th record, in an intact
/// journal), `None` when the file is shorter or unreadable.
fn hash_of_record(journal: &Path, seq: u64) -> Option<String> {
    let file = File::open(journal).ok()?;
    let mut reader = BufReader::new(file);
    let mut line = Vec::new();
    for _ in 0..seq {
        line.clear();
        if reader.read_until(b'\n', &mut line).ok()? == 0 {
            return None;
        }
    }
    line.strip_suffix(b"\n").map(sha256_hex)
}

/// Compares the journal at `journal`, which holds `records` intact records
/// (`exists`: the file was there), with its marker. `None`: they agree, or
/// there is no marker, or the journal is ahead of it (a crash between the
/// two writes).
pub fn compare(journal: &Path, exists: bool, records: u64) -> Option<Gap> {
    let head = read(journal)?;
    if head.seq == 0 {
        return None;
    }
    if !exists {
        return Some(Gap::Missing { head });
    }
    if records < head.seq {
        return Some(Gap::Shortened { head, records });
    }
    match hash_of_record(journal, head.seq) {
        Some(found) if found != head.hash => Some(Gap::Rewritten { head, found }),
        _ => None,
    }
}

/// What `audit verify` adds about the marker for an intact journal of
/// `records` records: the gap found now, and the gaps recorded earlier.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HeadCheck {
    /// Whether a marker was there.
    pub marker: Option<Head>,
    /// The journal against its marker now.
    pub gap: Option<Gap>,
    /// The `journal_gap` records in the journal: (sequence number, message).
    pub recorded_gaps: Vec<(u64, String)>,
}

impl HeadCheck {
    /// Whether verify must fail: a gap now, or one recorded.
    pub fn failed(&self) -> bool {
        self.gap.is_some() || !self.recorded_gaps.is_empty()
    }
}

/// The marker check of `audit verify`, for a journal at `journal` that
/// holds `records` intact records (`None`: the file does not exist).
pub fn check(journal: &Path, records: Option<u64>) -> HeadCheck {
    let marker = read(journal);
    let gap = compare(journal, records.is_some(), records.unwrap_or(0));
    let mut recorded_gaps = Vec::new();
    if records.is_some()
        && let Ok(file) = File::open(journal)
    {
        for line in BufReader::new(file).split(b'\n').map_while(Result::ok) {
            // Cheap before parsing: most lines are not gaps.
            if memchr::memmem::find(&line, b"\"journal_gap\"").is_none() {
                continue;
            }
            if let Ok(record) = serde_json::from_slice::<Record>(&line)
                && record.event == EventKind::JournalGap
            {
                recorded_gaps.push((record.seq, record.message.unwrap_or_default()));
            }
        }
    }
    HeadCheck {
        marker,
        gap,
        recorded_gaps,
    }
}

/// What the writer found at open, for the window to show
/// ([`take_findings`]).
static FINDINGS: Mutex<Vec<(PathBuf, String)>> = Mutex::new(Vec::new());

/// The record the writer appends when it opens a journal with a gap, and
/// remembers the finding for [`take_findings`].
pub(super) fn gap_event(journal: &Path, gap: &Gap) -> StationEvent {
    let message = format!(
        "The audit journal {} was not as the station left it: {gap}. The station continues \
         it from here; the missing records are only where they were forwarded (the system log).",
        journal.display()
    );
    tracing::error!(journal = %journal.display(), %gap, "audit journal gap");
    if let Ok(mut findings) = FINDINGS.lock() {
        findings.push((journal.to_owned(), message.clone()));
    }
    StationEvent::new(ControlKind::JournalGap, Operator::from_os(), None, message)
}

/// The record the writer appends when it opens a journal that holds
/// `records` records ending in `last_hash` but has no marker: `None` when
/// there is a marker, or nothing to vouch for yet. Appending it writes the
/// marker.
pub(super) fn unmarked_event(
    journal: &Path,
    records: u64,
    last_hash: &str,
) -> Option<StationEvent> {
    if records == 0 || read(journal).is_some() {
        return None;
    }
    let message = format!(
        "The audit journal {} had no head marker beside it ({}): a journal from a version \
         before markers, or the marker was removed. The station created one for the {records} \
         records it found (last hash {last_hash}); records cut from its end before now cannot \
         be seen here, only where they were forwarded (the system log).",
        journal.display(),
        head_path(journal).display()
    );
    tracing::warn!(journal = %journal.display(), records, "the audit journal had no head marker: one is created");
    if let Ok(mut findings) = FINDINGS.lock() {
        findings.push((journal.to_owned(), message.clone()));
    }
    Some(StationEvent::new(
        ControlKind::HeadMarkerCreated,
        Operator::from_os(),
        None,
        message,
    ))
}

/// What writers of the journal at `journal` found when they opened it
/// (a gap, a missing marker) since the last call, in words: the window
/// shows them as notices.
pub fn take_findings(journal: &Path) -> Vec<String> {
    let Ok(mut findings) = FINDINGS.lock() else {
        return Vec::new();
    };
    let (these, others): (Vec<_>, Vec<_>) = std::mem::take(&mut *findings)
        .into_iter()
        .partition(|(path, _)| path == journal);
    *findings = others;
    these.into_iter().map(|(_, message)| message).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::tests::{attempt, dir, lines, write_lines};
    use crate::audit::{AuditJournal, verify};

    #[test]
    fn the_marker_follows_every_record() {
        let dir = dir();
        let path = dir.path().join("audit.jsonl");
        let mut journal = AuditJournal::open(&path).expect("opens");
        assert_eq!(read(&path), None, "nothing written, no marker");
        let _a = journal.record_attempt(attempt(1)).expect("attempt");
        let _b = journal.record_attempt(attempt(2)).expect("attempt");
        let head = read(&path).expect("a marker");
        assert_eq!(head.seq, 2);
        assert_eq!(head.hash, journal.last_hash());
        drop(journal);
        assert_eq!(
            check(&path, Some(2)),
            HeadCheck {
                marker: Some(head),
                gap: None,
                recorded_gaps: Vec::new(),
            }
        );
    }

    #[test]
    fn a_cut_journal_is_recorded_when_it_is_opened_again() {
        let dir = dir();
        let path = dir.path().join("audit.jsonl");
        let mut journal = AuditJournal::open(&path).expect("opens");
        for n in 1..=3 {
            let _ = journal.record_attempt(attempt(n)).expect("attempt");
        }
        drop(journal);
        let all = lines(&path);
        write_lines(&path, &all[..1]);
        let report = verify(&path).expect("the chain alone cannot tell");
        let found = check(&path, Some(report.records));
        assert!(
            matches!(found.gap, Some(Gap::Shortened { records: 1, .. })),
            "{found:?}"
        );
        let _ = take_findings(&path);
        let journal = AuditJournal::open(&path).expect("opens, and says so");
        let last = journal.recent(1).pop().expect("a record");
        assert_eq!(last.event, EventKind::JournalGap);
        assert_eq!(last.seq, 2);
        assert!(
            last.message
                .as_deref()
                .is_some_and(|m| m.contains("its last 2 records were cut off")),
            "{last:?}"
        );
        assert_eq!(take_findings(&path).len(), 1);
        drop(journal);
        let again = check(&path, Some(2));
        assert_eq!(again.gap, None, "the marker follows the gap record");
        assert_eq!(again.recorded_gaps.len(), 1);
        assert!(again.failed());
    }

    #[test]
    fn a_deleted_journal_starts_again_with_a_gap_record() {
        let dir = dir();
        let path = dir.path().join("audit.jsonl");
        let mut journal = AuditJournal::open(&path).expect("opens");
        let _ = journal.record_attempt(attempt(1)).expect("attempt");
        drop(journal);
        std::fs::remove_file(&path).expect("deleted");
        assert!(matches!(check(&path, None).gap, Some(Gap::Missing { .. })));
        let journal = AuditJournal::open(&path).expect("opens");
        let first = journal.recent(1).pop().expect("a record");
        assert_eq!((first.seq, first.event), (1, EventKind::JournalGap));
        assert!(
            first
                .message
                .as_deref()
                .is_some_and(|m| m.contains("missing")),
            "{first:?}"
        );
    }

    #[test]
    fn a_journal_without_a_marker_is_continued_with_a_record_saying_so() {
        let dir = dir();
        let path = dir.path().join("audit.jsonl");
        let mut journal = AuditJournal::open(&path).expect("opens");
        let _a = journal.record_attempt(attempt(1)).expect("attempt");
        let _b = journal.record_attempt(attempt(2)).expect("attempt");
        let last_hash = journal.last_hash().to_owned();
        drop(journal);
        std::fs::remove_file(head_path(&path)).expect("the marker removed");
        assert_eq!(check(&path, Some(2)).gap, None, "nothing to compare with");
        let _ = take_findings(&path);
        let journal = AuditJournal::open(&path).expect("opens");
        let last = journal.recent(1).pop().expect("a record");
        assert_eq!((last.seq, last.event), (3, EventKind::HeadMarkerCreated));
        assert!(
            last.message
                .as_deref()
                .is_some_and(|m| m.contains("2 records") && m.contains(&last_hash)),
            "{last:?}"
        );
        assert_eq!(take_findings(&path).len(), 1, "the window is told");
        assert_eq!(read(&path).map(|h| h.seq), Some(3), "the marker is there");
        drop(journal);
        // Once: the next open finds the marker.
        let journal = AuditJournal::open(&path).expect("opens");
        assert_eq!(journal.recent(1).pop().map(|r| r.seq), Some(3));
        assert!(take_findings(&path).is_empty());
        assert!(!check(&path, Some(3)).failed(), "not a gap");
    }

    #[test]
    fn a_rewritten_last_record_is_found() {
        let dir = dir();
        let path = dir.path().join("audit.jsonl");
        let mut journal = AuditJournal::open(&path).expect("opens");
        let _ = journal.record_attempt(attempt(1)).expect("attempt");
        drop(journal);
        let mut all = lines(&path);
        all[0] = all[0].replace("Person 1", "Mallory");
        write_lines(&path, &all);
        assert!(matches!(
            check(&path, Some(1)).gap,
            Some(Gap::Rewritten { .. })
        ));
    }
}
