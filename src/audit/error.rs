//! What can go wrong with the journal, in words that tell the operator what
//! to do; a failure here stops the bind before anything is sent.

use std::io;
use std::path::{Path, PathBuf};

use super::{AttemptId, ChainBreak};

/// Everything that can go wrong with the journal. Any error from
/// [`AuditJournal::open`](super::AuditJournal::open) or
/// [`AuditJournal::record_attempt`](super::AuditJournal::record_attempt) means the attempt
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
    /// The last line was cut short by a crash or a full disk (still torn
    /// after a reader waited for a writer to finish it).
    #[error(
        "The audit journal {path} ends in an incomplete line: {chain_break}. That event was \
         never completed: if it was an attempt, nothing was sent; if it was an outcome, its \
         attempt is reconciled with the server. The station repairs it when it next opens the \
         journal (everything before it must verify): it cuts the incomplete line, keeps it in \
         a copy beside the journal (`….torn-<time>`) and says so."
    )]
    Torn {
        /// The journal.
        path: PathBuf,
        /// Where (its reason is [`BreakReason::TornLastLine`](super::BreakReason::TornLastLine)).
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
    /// The file no longer ends where this station left it: another program
    /// cut, appended to, replaced or rewrote it while the station held it.
    #[error(
        "The audit journal {path} was changed by another program since this station last \
         wrote to it ({why}). Nothing more is written to it, because appending would hide the \
         change, and binding stays off. Keep the file as evidence, check it with \
         `enroll-station audit verify`, find out who changed it, then restart the station."
    )]
    Changed {
        /// The journal.
        path: PathBuf,
        /// What differs.
        why: EndChanged,
    },
    /// The journal's path names a symbolic link or something that is not a
    /// regular file: the station writes only to a file it opens itself.
    #[error(
        "The audit journal {path} is {what}, so the station does not write to it and does not \
         bind: a link could send the records to a file someone else chose. Give the real \
         file's path (--audit-file, or audit_file in the configuration)."
    )]
    NotAFile {
        /// The journal's path.
        path: PathBuf,
        /// What is there instead ("a symbolic link", "not a regular file").
        what: &'static str,
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
    /// The export file (or its folder) could not be written.
    #[error(
        "Could not write the audit export to {path}: {source}. Check that the folder exists, \
         that you may write to it and that the disk has room, or export from a terminal with \
         `enroll-station audit export --format csv --output FILE`."
    )]
    ExportFile {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// Every export file name of the day is taken in the folder.
    #[error(
        "{dir} already holds {MAX} audit exports of today, so no new file name is free. Move \
         the old exports elsewhere, then export again.",
        MAX = super::export::MAX_EXPORTS_PER_DAY
    )]
    NoFreeExportName {
        /// The folder.
        dir: PathBuf,
    },
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

pub(super) fn io_error<'a>(
    action: &'static str,
    path: &'a Path,
) -> impl FnOnce(io::Error) -> AuditError + 'a {
    move |source| AuditError::Io {
        action,
        path: path.to_owned(),
        source,
    }
}

/// How the journal's end differs from where this station left it: the words
/// go inside [`AuditError::Changed`], which says what to do.
#[derive(Debug, thiserror::Error)]
pub enum EndChanged {
    /// The file's length or last line could not be read.
    #[error("it could not be checked: {0}")]
    Unreadable(#[source] io::Error),
    /// The path names another file now (moved aside, replaced).
    #[error("another file was put at {} in place of the one the station holds", .0.display())]
    Replaced(PathBuf),
    /// Nothing is at the path any more.
    #[error("the file the station holds was removed from {}", .0.display())]
    Removed(PathBuf),
    /// Shorter than the station left it.
    #[error("it is {len} bytes long where the station left it at {end} bytes: its end was cut")]
    Cut {
        /// Its length now.
        len: u64,
        /// Where the station left its end.
        end: u64,
    },
    /// Longer than the station left it.
    #[error(
        "it is {len} bytes long where the station left it at {end} bytes: something else was \
         appended"
    )]
    Appended {
        /// Its length now.
        len: u64,
        /// Where the station left its end.
        end: u64,
    },
    /// The last line's length does not fit in memory.
    #[error("its last line is too long")]
    LastLineTooLong,
    /// The last line no longer hashes to the chain's last hash.
    #[error("its last line is no longer the one the station wrote")]
    LastLineRewritten,
}
