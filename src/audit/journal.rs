//! The audit journal as the bind sees it: the [`Journal`] port the worker
//! writes through, and the file journal behind it.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::audit::{
    ActionInfo, AttemptInfo, AuditError, AuditJournal, Operator, OutcomeInfo, StationEvent,
    default_journal_path,
};
use uuid::Uuid;

use crate::domain::bind::{AttemptId, BindTarget, Outcome};
use crate::domain::card::CardId;

/// Where attempts and outcomes are recorded before and after the POST.
pub trait Journal: Send {
    /// Appends the attempt by `operator` (the OS account, and the principal
    /// the server accepted), sent to the CM API at `api_base`, and flushes
    /// it to disk; the bind stops when this fails.
    fn record_attempt(
        &mut self,
        target: &BindTarget,
        operator: Operator,
        api_base: &str,
    ) -> Result<AttemptId, JournalError>;
    /// Appends a record of the station's controls (a saved configuration,
    /// a refused supervisor) and flushes it to disk.
    fn record_event(&mut self, event: StationEvent) -> Result<(), JournalError>;
    /// Appends the outcome of an attempt and flushes it to disk.
    fn record_outcome(
        &mut self,
        attempt: &AttemptId,
        outcome: Outcome,
        info: OutcomeInfo,
    ) -> Result<(), JournalError>;
    /// Attempts without an outcome: a crash or a lost answer left them open.
    fn open_attempts(&self) -> Vec<OpenAttempt>;
    /// Appends a lifecycle action's intent and flushes it to disk; the
    /// action is not sent when this fails.
    fn record_action_intent(&mut self, info: ActionInfo) -> Result<AttemptId, JournalError> {
        let _ = info;
        Err(JournalError::Unusable(
            "this journal cannot record lifecycle actions".to_owned(),
        ))
    }
    /// Appends the one outcome of an action's intent (naming the request
    /// the action created, if it did) and flushes it to disk.
    fn record_action_outcome(
        &mut self,
        intent: &AttemptId,
        outcome: Outcome,
        created: Option<Uuid>,
        info: OutcomeInfo,
    ) -> Result<(), JournalError> {
        let _ = (intent, outcome, created, info);
        Err(JournalError::Unusable(
            "this journal cannot record lifecycle actions".to_owned(),
        ))
    }
    /// Action intents without an outcome (a crash, or an answer lost and
    /// not settled), as written.
    fn open_actions(&self) -> Vec<crate::audit::Record> {
        Vec::new()
    }
    /// Batches started and not finished (a crash, or a station closed
    /// mid-batch), with what a resume needs.
    fn open_batches(&self) -> Vec<crate::audit::OpenBatch> {
        Vec::new()
    }
    /// The last `n` records, oldest first, for the window's audit view.
    fn recent(&self, n: usize) -> Vec<crate::audit::Record>;
    /// The journal's file, for exports; None when there is no usable journal.
    fn path(&self) -> Option<std::path::PathBuf>;
    /// Why there is no usable journal, in the words shown when the window
    /// started; None while the journal can be written.
    fn problem(&self) -> Option<String> {
        None
    }
    /// What the journal repaired when it was opened (a torn last line cut,
    /// with a copy kept), in the operator's words; None when nothing was.
    fn repair_notice(&self) -> Option<String> {
        None
    }
}

/// Why the journal did not record an attempt or an outcome.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The journal could not be opened when the window started, in the
    /// words shown then; every bind is refused with them.
    #[error("{0}")]
    Unusable(String),
    /// The journal file refused the write.
    #[error(transparent)]
    Audit(#[from] AuditError),
}

/// An attempt the journal holds without an outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenAttempt {
    /// The journal's attempt.
    pub attempt: AttemptId,
    /// The request it tried to bind.
    pub request_id: Uuid,
    /// The card it tried to bind.
    pub card_id: CardId,
    /// The CM API it was sent to; None in journals written before the
    /// station recorded it.
    pub api_base: Option<String>,
}

/// A journal shared between the worker's tasks.
pub type SharedJournal = Arc<Mutex<dyn Journal>>;

impl Journal for AuditJournal {
    fn record_attempt(
        &mut self,
        target: &BindTarget,
        operator: Operator,
        api_base: &str,
    ) -> Result<AttemptId, JournalError> {
        Ok(AuditJournal::record_attempt(
            self,
            AttemptInfo::for_target_by(target, operator).to_server(api_base),
        )?)
    }

    fn record_event(&mut self, event: StationEvent) -> Result<(), JournalError> {
        Ok(AuditJournal::record_event(self, event)?)
    }

    fn record_outcome(
        &mut self,
        attempt: &AttemptId,
        outcome: Outcome,
        info: OutcomeInfo,
    ) -> Result<(), JournalError> {
        Ok(AuditJournal::record_outcome(self, *attempt, outcome, info)?)
    }

    fn open_attempts(&self) -> Vec<OpenAttempt> {
        self.unfinished_attempts()
            .into_iter()
            .filter_map(|open| {
                let Some(card_id) = open.card_id() else {
                    tracing::warn!(attempt = %open.attempt_id, "an open attempt has an unreadable card ID; it cannot be reconciled");
                    return None;
                };
                Some(OpenAttempt {
                    attempt: open.attempt_id,
                    request_id: open.record.request_id,
                    card_id,
                    api_base: open.record.api_base.clone(),
                })
            })
            .collect()
    }

    fn recent(&self, n: usize) -> Vec<crate::audit::Record> {
        AuditJournal::recent(self, n)
    }

    fn record_action_intent(&mut self, info: ActionInfo) -> Result<AttemptId, JournalError> {
        Ok(AuditJournal::record_action_intent(self, info)?)
    }

    fn record_action_outcome(
        &mut self,
        intent: &AttemptId,
        outcome: Outcome,
        created: Option<Uuid>,
        info: OutcomeInfo,
    ) -> Result<(), JournalError> {
        Ok(AuditJournal::record_action_outcome(
            self, *intent, outcome, created, info,
        )?)
    }

    fn open_actions(&self) -> Vec<crate::audit::Record> {
        self.unfinished_actions()
            .into_iter()
            .map(|open| open.record)
            .collect()
    }

    fn open_batches(&self) -> Vec<crate::audit::OpenBatch> {
        self.unfinished_batches()
    }

    fn path(&self) -> Option<PathBuf> {
        Some(AuditJournal::path(self).to_owned())
    }

    fn repair_notice(&self) -> Option<String> {
        self.repair()
            .map(|repair| repair.notice(AuditJournal::path(self)))
    }
}

/// Why the station has no journal to bind with.
#[derive(Debug, thiserror::Error)]
pub enum NoJournal {
    /// No path was given, and the platform has no data directory for the default.
    #[error(
        "The station found no data directory for its audit journal (is HOME set?). Give one \
         with --audit-file FILE."
    )]
    NoDataDirectory,
    /// The journal at `path` could not be opened; `source` says why.
    #[error("The audit journal {} cannot be used, so the station will not bind", path.display())]
    CannotOpen {
        /// The journal.
        path: PathBuf,
        /// Why.
        source: AuditError,
    },
}

impl NoJournal {
    /// The whole reason for the operator: this error, then each cause after
    /// a colon (what `{:#}` prints for it wrapped in `anyhow`).
    pub fn with_causes(&self) -> String {
        let mut reason = self.to_string();
        let mut cause = std::error::Error::source(self);
        while let Some(error) = cause {
            reason.push_str(": ");
            reason.push_str(&error.to_string());
            cause = error.source();
        }
        reason
    }
}

/// The journal's path: the one given, else the platform's default; demo mode
/// uses a file of its own beside it, so demo binds never mix with real ones.
pub fn journal_path(path: Option<&Path>, demo: bool) -> Result<PathBuf, NoJournal> {
    if let Some(path) = path {
        return Ok(path.to_owned());
    }
    let default = default_journal_path().ok_or(NoJournal::NoDataDirectory)?;
    Ok(if demo {
        default.with_file_name("audit-demo.jsonl")
    } else {
        default
    })
}

/// Opens the journal for the bind.
pub fn open_shared(path: Option<&Path>, demo: bool) -> Result<SharedJournal, NoJournal> {
    let path = journal_path(path, demo)?;
    let journal = match AuditJournal::open(&path) {
        Ok(journal) => journal,
        Err(source) => return Err(NoJournal::CannotOpen { path, source }),
    };
    Ok(Arc::new(Mutex::new(journal)))
}

/// A journal that could not be opened: every bind is refused with the reason,
/// so the window can still open and say what is wrong.
struct Unusable(String);

impl Journal for Unusable {
    fn record_attempt(
        &mut self,
        _target: &BindTarget,
        _operator: Operator,
        _api_base: &str,
    ) -> Result<AttemptId, JournalError> {
        Err(JournalError::Unusable(self.0.clone()))
    }

    fn record_event(&mut self, _event: StationEvent) -> Result<(), JournalError> {
        Err(JournalError::Unusable(self.0.clone()))
    }

    fn record_outcome(
        &mut self,
        _attempt: &AttemptId,
        _outcome: Outcome,
        _info: OutcomeInfo,
    ) -> Result<(), JournalError> {
        Err(JournalError::Unusable(self.0.clone()))
    }

    fn open_attempts(&self) -> Vec<OpenAttempt> {
        Vec::new()
    }

    fn recent(&self, _n: usize) -> Vec<crate::audit::Record> {
        Vec::new()
    }

    fn path(&self) -> Option<PathBuf> {
        None
    }

    fn problem(&self) -> Option<String> {
        Some(self.0.clone())
    }
}

/// Opens the journal for the window; when it cannot be opened, returns a
/// journal that refuses every bind, and the reason to show the operator.
pub fn open_for_window(path: Option<&Path>, demo: bool) -> (SharedJournal, Option<String>) {
    match open_shared(path, demo) {
        Ok(journal) => (journal, None),
        Err(error) => {
            let reason = error.with_causes();
            (Arc::new(Mutex::new(Unusable(reason.clone()))), Some(reason))
        }
    }
}
