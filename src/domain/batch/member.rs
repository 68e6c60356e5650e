//! One request of a batch and what has happened to it, and the words the
//! batch's callers use to talk to it (events in, assignments out, errors).

use std::time::Instant;

use uuid::Uuid;

use crate::domain::card::CardId;

/// Where one request of the batch is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MemberState {
    /// Waiting for a card; requests are served in queue order.
    Queued,
    /// A safe bind is running for it in `reader` with `card_id`.
    InFlight {
        /// The reader the bind uses.
        reader: String,
        /// The card being bound.
        card_id: CardId,
        /// When the bind was assigned or (later) reported started.
        since: Instant,
        /// The card left the reader while the bind ran. The bind itself
        /// decides what that meant; this only keeps it for the record.
        card_pulled: bool,
    },
    /// The answer to the POST was lost: CM may or may not have bound the
    /// card, so the request waits for a reconciliation, never a second POST.
    AwaitingReconcile {
        /// The card the lost POST named.
        card_id: CardId,
    },
    /// CM bound `card_id` to the request.
    Bound {
        /// The card bound.
        card_id: CardId,
    },
    /// The bind failed and is known not to have happened; retryable.
    Failed {
        /// The card the attempt used, if one did.
        card_id: Option<CardId>,
        /// Why, in the operator's words.
        why: String,
    },
    /// The operator skipped it.
    Skipped,
}

impl MemberState {
    /// True while a bind is running for the request.
    pub fn is_in_flight(&self) -> bool {
        matches!(self, MemberState::InFlight { .. })
    }

    /// True once nothing more will happen to it without the operator.
    pub fn is_settled(&self) -> bool {
        matches!(
            self,
            MemberState::Bound { .. } | MemberState::Failed { .. } | MemberState::Skipped
        )
    }
}

/// One request of the batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// The request's GUID.
    pub request: Uuid,
    /// Where it is.
    pub state: MemberState,
    /// Cards CM refused for it (known and not reusable, wrong family), in
    /// order; each refusal left the request in the queue.
    pub refused_cards: Vec<CardId>,
    /// How many of its binds ended because the card was taken out.
    pub pulls: u32,
}

impl Member {
    pub(super) fn queued(request: Uuid) -> Self {
        Member {
            request,
            state: MemberState::Queued,
            refused_cards: Vec::new(),
            pulls: 0,
        }
    }
}

/// A decision: run the safe bind of `request` with the card `card_id` in `reader`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assignment {
    /// The reader holding the card.
    pub reader: String,
    /// The request to bind.
    pub request: Uuid,
    /// The card seen in the reader; the safe bind re-reads it and refuses
    /// if another card is there by then.
    pub card_id: CardId,
}

/// How one bind ended, as the worker learnt it from the safe bind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BindResult {
    /// CM bound the card.
    Bound,
    /// The card cannot take this request (CM knows it and it is not
    /// reusable, wrong family): the request waits for the next card.
    CardRefused(String),
    /// The bind failed and did not happen (CM refused the request, or a
    /// reconciliation showed it unbound): retryable by the operator.
    Failed(String),
    /// The POST went out and its answer was lost: reconcile, never re-POST.
    AnswerLost,
    /// The card was taken out before the POST, so nothing was sent: the
    /// request waits for the next card.
    CardPulled,
}

/// Something that happened, for [`super::Batch::apply`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BatchEvent {
    /// A card whose ID was read, and which may take a card (the caller
    /// checks the family), is in `reader`.
    CardSeen {
        /// The reader.
        reader: String,
        /// The card's ID.
        card_id: CardId,
    },
    /// `reader` is empty now (or gone).
    CardRemoved {
        /// The reader.
        reader: String,
    },
    /// The worker started the bind of `request` (times it from here).
    BindStarted {
        /// The request.
        request: Uuid,
        /// When.
        at: Instant,
    },
    /// The bind of `request` ended.
    BindFinished {
        /// The request.
        request: Uuid,
        /// How.
        result: BindResult,
        /// When.
        at: Instant,
    },
    /// A lost answer was reconciled: CM shows the request bound to our card
    /// (`bound`) or not. A request bound to another card is reported as not
    /// bound here and raised as an alarm by the safe bind itself.
    Reconciled {
        /// The request.
        request: Uuid,
        /// Whether CM shows it bound to the card the lost POST named.
        bound: bool,
        /// When.
        at: Instant,
    },
}

/// What the journal kept of a request before a crash, for [`super::Batch::resume`].
/// Several records of one request are read in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberRecord {
    /// The request.
    pub request: Uuid,
    /// The card the record names, if any.
    pub card_id: Option<CardId>,
    /// What happened.
    pub outcome: RecordedOutcome,
}

/// What one journal record says happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordedOutcome {
    /// A bind began and no outcome was written, or its answer was lost:
    /// it must be reconciled before anything else.
    Unfinished,
    /// Bound.
    Bound,
    /// CM refused the card; the request stayed in the queue.
    CardRefused,
    /// Failed, known not bound.
    Failed(String),
    /// The card was pulled before the POST.
    CardPulled,
    /// Skipped by the operator.
    Skipped,
    /// A failed request put back in the queue by the operator.
    Retried,
}

/// Why the batch refused an event or an intent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    /// The cap on concurrent binds must be at least one.
    #[error("the cap on concurrent binds must be at least 1")]
    ZeroCap,
    /// A request appears twice in the queue.
    #[error("request {0} is in the batch twice")]
    Duplicate(Uuid),
    /// The request is not in this batch.
    #[error("request {0} is not in this batch")]
    UnknownRequest(Uuid),
    /// The event or intent does not fit where the request is.
    #[error("request {request} is {state}, so it cannot be {wanted}")]
    WrongState {
        /// The request.
        request: Uuid,
        /// Where it is, in a word.
        state: &'static str,
        /// What was asked, in a word.
        wanted: &'static str,
    },
    /// A journal record of an attempt names no card.
    #[error("the journal's record of request {0} names no card")]
    RecordWithoutCard(Uuid),
    /// No request is waiting.
    #[error("no request is waiting")]
    NothingQueued,
}

impl MemberState {
    /// The state in a word, for errors and logs.
    pub fn word(&self) -> &'static str {
        match self {
            MemberState::Queued => "queued",
            MemberState::InFlight { .. } => "binding",
            MemberState::AwaitingReconcile { .. } => "awaiting reconciliation",
            MemberState::Bound { .. } => "bound",
            MemberState::Failed { .. } => "failed",
            MemberState::Skipped => "skipped",
        }
    }
}
