//! What the journal kept of a batch, read back for a resume after a crash.
//!
//! Each bind of a batch leaves its own attempt and outcome; the batch adds
//! a `batch_member` record for what the bind's records cannot say (a card
//! refused rather than a request, a pulled card, a skip, a retry). Both are
//! read in journal order, the later word winning.

use crate::audit::{EventKind, OpenBatch, Outcome, Record};
use crate::domain::batch::{MemberRecord, RecordedOutcome};
use crate::domain::card::CardId;

/// The `batch_member` word for a failed request put back in the queue.
pub(super) const RETRIED: &str = "retried";

/// The open batch's history as the pure batch replays it.
pub fn member_records(open: &OpenBatch) -> Vec<MemberRecord> {
    open.history.iter().filter_map(member_record).collect()
}

fn member_record(record: &Record) -> Option<MemberRecord> {
    let card_id = CardId::parse_cm_string(&record.card_id);
    let outcome = match record.event {
        EventKind::Attempt => RecordedOutcome::Unfinished,
        EventKind::Outcome => match record.outcome? {
            Outcome::Bound | Outcome::ReconciledBound => RecordedOutcome::Bound,
            // Known not bound; the batch's own record, next, says whether
            // the card or the request was refused.
            _ => RecordedOutcome::Failed(record.message.clone().unwrap_or_default()),
        },
        EventKind::BatchMember => member_word(record.message.as_deref()?)?,
        _ => return None,
    };
    Some(MemberRecord {
        request: record.request_id,
        card_id,
        outcome,
    })
}

/// A `batch_member` record's message starts with its word (`card_refused:
/// …`); records this version does not know are passed over.
pub(super) fn member_word(message: &str) -> Option<RecordedOutcome> {
    let (word, words) = match message.split_once(": ") {
        Some((word, words)) => (word, words),
        None => (message, ""),
    };
    Some(match word {
        "bound" | "reconciled_bound" => RecordedOutcome::Bound,
        "card_refused" => RecordedOutcome::CardRefused,
        "card_pulled" => RecordedOutcome::CardPulled,
        "failed" | "wrong_card" => RecordedOutcome::Failed(words.to_owned()),
        "answer_lost" => RecordedOutcome::Unfinished,
        "skipped" => RecordedOutcome::Skipped,
        RETRIED => RecordedOutcome::Retried,
        _ => return None,
    })
}
