//! A batch: an ordered queue of requests bound across every reader at once
//! (issue 22). This is the pure core: events in, assignments out, no clock,
//! no I/O. The worker drives it and runs each assignment through the same
//! safe bind as a single bind (`domain::bind`), so a batch adds no new way
//! to reach CM.
//!
//! The rules it keeps:
//! * every reader holding an identified card not yet used in this batch
//!   gets the next queued request, up to a cap on binds running at once;
//! * a card is used at most once per batch: it is spent from the moment it
//!   is assigned, so it is never in two binds and never bound twice, even
//!   when it is taken out and put back;
//! * a card CM refuses does not use up the request: it goes back to its
//!   place in the queue (the front, as nothing before it is waiting) and
//!   waits for the next card;
//! * one reader's failure touches only its own request;
//! * after a crash, the unfinished binds are reconciled before anything new
//!   is assigned.

pub mod cohort;
mod member;
mod progress;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::domain::card::CardId;

pub use member::{
    Assignment, BatchError, BatchEvent, BindResult, Member, MemberRecord, MemberState,
    RecordedOutcome,
};
pub use progress::{Totals, eta};

/// The cap on binds running at once when the configuration says nothing.
pub const DEFAULT_MAX_CONCURRENT_POSTS: usize = 4;

/// How a batch runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchConfig {
    /// Binds running at once, at most. Each bind makes at most one POST, so
    /// capping running binds caps concurrent POSTs to CM; it also caps the
    /// bind's GETs, which is the cautious side for a shared server.
    pub max_concurrent_posts: usize,
}

impl Default for BatchConfig {
    fn default() -> Self {
        BatchConfig {
            max_concurrent_posts: DEFAULT_MAX_CONCURRENT_POSTS,
        }
    }
}

/// Whether the batch hands out new work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Assigning cards to requests.
    Running,
    /// No new binds; running ones finish.
    Paused,
    /// No new binds ever again; running ones finish.
    Stopped,
}

/// The batch's state machine. See the module documentation for its rules.
#[derive(Clone, Debug)]
pub struct Batch {
    /// The requests, in queue order.
    members: Vec<Member>,
    /// Request GUID → index in `members`.
    index: HashMap<Uuid, usize>,
    /// The identified card in each reader, if any (sorted, so readers are
    /// served in a stable order).
    readers: BTreeMap<String, Option<CardId>>,
    /// Cards used in this batch: assigned, bound, refused, or in a bind
    /// whose answer was lost. Such a card is never assigned again.
    spent: HashSet<CardId>,
    config: BatchConfig,
    phase: Phase,
    /// Set by [`Batch::resume`] while binds from before the crash await
    /// reconciliation: nothing new starts until they are known.
    recovering: bool,
    refused: usize,
    pulled: usize,
    /// When the first bind was assigned: the start of the first card's time.
    started: Option<Instant>,
    /// When the last card was bound.
    last_bound: Option<Instant>,
    per_card_times: Vec<Duration>,
}

impl Batch {
    /// A batch of `queue`, in that order.
    pub fn new(
        queue: impl IntoIterator<Item = Uuid>,
        config: BatchConfig,
    ) -> Result<Self, BatchError> {
        if config.max_concurrent_posts == 0 {
            return Err(BatchError::ZeroCap);
        }
        let mut members = Vec::new();
        let mut index = HashMap::new();
        for request in queue {
            if index.insert(request, members.len()).is_some() {
                return Err(BatchError::Duplicate(request));
            }
            members.push(Member::queued(request));
        }
        Ok(Batch {
            members,
            index,
            readers: BTreeMap::new(),
            spent: HashSet::new(),
            config,
            phase: Phase::Running,
            recovering: false,
            refused: 0,
            pulled: 0,
            started: None,
            last_bound: None,
            per_card_times: Vec::new(),
        })
    }

    /// The batch as it was before a crash: `queue` in its order, then the
    /// journal's `records`, read in order. Binds with no outcome come back
    /// awaiting reconciliation, and nothing new is assigned until every one
    /// of them is reconciled. Every card a record names stays spent. Readers
    /// start empty: the monitor reports what they hold.
    pub fn resume(
        queue: impl IntoIterator<Item = Uuid>,
        records: &[MemberRecord],
        config: BatchConfig,
    ) -> Result<Self, BatchError> {
        let mut batch = Batch::new(queue, config)?;
        for record in records {
            batch.replay(record)?;
        }
        batch.recovering = batch.has_open_reconcile();
        Ok(batch)
    }

    fn replay(&mut self, record: &MemberRecord) -> Result<(), BatchError> {
        let at = self.position(record.request)?;
        if let Some(card_id) = record.card_id {
            self.spent.insert(card_id);
        }
        let card = || {
            record
                .card_id
                .ok_or(BatchError::RecordWithoutCard(record.request))
        };
        let member = &mut self.members[at];
        match &record.outcome {
            RecordedOutcome::Unfinished => {
                member.state = MemberState::AwaitingReconcile { card_id: card()? };
            }
            RecordedOutcome::Bound => member.state = MemberState::Bound { card_id: card()? },
            RecordedOutcome::CardRefused => {
                member.refused_cards.push(card()?);
                member.state = MemberState::Queued;
                self.refused += 1;
            }
            RecordedOutcome::Failed(why) => {
                member.state = MemberState::Failed {
                    card_id: record.card_id,
                    why: why.clone(),
                };
            }
            RecordedOutcome::CardPulled => {
                // Nothing was sent: the card is free again, as in `finish`.
                if let Some(card_id) = record.card_id {
                    self.spent.remove(&card_id);
                }
                member.pulls += 1;
                member.state = MemberState::Queued;
                self.pulled += 1;
            }
            RecordedOutcome::Skipped => member.state = MemberState::Skipped,
            RecordedOutcome::Retried => {
                // As `retry`: the failed bind is known not to have happened.
                if let MemberState::Failed {
                    card_id: Some(card_id),
                    ..
                } = member.state
                {
                    self.spent.remove(&card_id);
                }
                member.state = MemberState::Queued;
            }
        }
        Ok(())
    }

    /// Takes in one event. Reader events never fail; a bind event that does
    /// not match where its request is fails and changes nothing.
    pub fn apply(&mut self, event: BatchEvent) -> Result<(), BatchError> {
        match event {
            BatchEvent::CardSeen { reader, card_id } => {
                // A card is in one reader at a time: if it moved, the old
                // reader no longer holds it.
                for held in self.readers.values_mut() {
                    if *held == Some(card_id) {
                        *held = None;
                    }
                }
                self.readers.insert(reader, Some(card_id));
            }
            BatchEvent::CardRemoved { reader } => {
                self.readers.insert(reader.clone(), None);
                for member in &mut self.members {
                    if let MemberState::InFlight {
                        reader: busy,
                        card_pulled,
                        ..
                    } = &mut member.state
                        && *busy == reader
                    {
                        *card_pulled = true;
                    }
                }
            }
            BatchEvent::BindStarted { request, at } => {
                let i = self.position(request)?;
                match &mut self.members[i].state {
                    MemberState::InFlight { since, .. } => *since = at,
                    other => return Err(wrong(request, other, "started")),
                }
            }
            BatchEvent::BindFinished {
                request,
                result,
                at,
            } => self.finish(request, result, at)?,
            BatchEvent::Reconciled { request, bound, at } => {
                let i = self.position(request)?;
                let MemberState::AwaitingReconcile { card_id } = self.members[i].state else {
                    return Err(wrong(request, &self.members[i].state, "reconciled"));
                };
                self.members[i].state = if bound {
                    self.timed(at);
                    MemberState::Bound { card_id }
                } else {
                    MemberState::Failed {
                        card_id: Some(card_id),
                        why: "the answer was lost, and CM shows the request not bound to \
                              this card"
                            .into(),
                    }
                };
            }
        }
        Ok(())
    }

    fn finish(&mut self, request: Uuid, result: BindResult, at: Instant) -> Result<(), BatchError> {
        let i = self.position(request)?;
        let MemberState::InFlight { card_id, .. } = self.members[i].state else {
            return Err(wrong(request, &self.members[i].state, "finished"));
        };
        if result == BindResult::Bound {
            self.timed(at);
        }
        let member = &mut self.members[i];
        member.state = match result {
            BindResult::Bound => MemberState::Bound { card_id },
            BindResult::CardRefused(_) => {
                // The card stays spent (CM would refuse it again); the
                // request keeps its place, ahead of every later one.
                member.refused_cards.push(card_id);
                self.refused += 1;
                MemberState::Queued
            }
            BindResult::Failed(why) => MemberState::Failed {
                card_id: Some(card_id),
                why,
            },
            BindResult::AnswerLost => MemberState::AwaitingReconcile { card_id },
            BindResult::CardPulled => {
                // The safe bind re-reads the card before the POST, so a
                // pulled card means nothing was sent: the card is not bound
                // and may come back for the next request.
                self.spent.remove(&card_id);
                member.pulls += 1;
                self.pulled += 1;
                MemberState::Queued
            }
        };
        Ok(())
    }

    /// Notes a card bound at `at` for the per-card times.
    fn timed(&mut self, at: Instant) {
        if let Some(previous) = self.last_bound.or(self.started) {
            self.per_card_times
                .push(at.saturating_duration_since(previous));
        }
        self.last_bound = Some(at);
    }

    /// The binds to start now: every reader holding a card not yet used in
    /// this batch and not busy with a bind gets the next queued request, in
    /// reader-name order, while fewer than the cap run. Each assignment is
    /// in flight from here; the caller must start it.
    pub fn next_assignments(&mut self, now: Instant) -> Vec<Assignment> {
        if self.phase != Phase::Running {
            return Vec::new();
        }
        if self.recovering {
            if self.has_open_reconcile() {
                return Vec::new();
            }
            self.recovering = false;
        }
        let running = self
            .members
            .iter()
            .filter(|m| m.state.is_in_flight())
            .count();
        let mut room = self.config.max_concurrent_posts.saturating_sub(running);
        let busy: HashSet<String> = self
            .members
            .iter()
            .filter_map(|m| match &m.state {
                MemberState::InFlight { reader, .. } => Some(reader.clone()),
                _ => None,
            })
            .collect();
        let free: Vec<(String, CardId)> = self
            .readers
            .iter()
            .filter(|(reader, _)| !busy.contains(*reader))
            .filter_map(|(reader, card)| card.map(|card| (reader.clone(), card)))
            .collect();
        let mut queued = (0..self.members.len())
            .filter(|&i| self.members[i].state == MemberState::Queued)
            .collect::<Vec<_>>()
            .into_iter();
        let mut out = Vec::new();
        for (reader, card_id) in free {
            if room == 0 {
                break;
            }
            if self.spent.contains(&card_id) {
                continue;
            }
            let Some(i) = queued.next() else { break };
            self.spent.insert(card_id);
            self.started.get_or_insert(now);
            let member = &mut self.members[i];
            member.state = MemberState::InFlight {
                reader: reader.clone(),
                card_id,
                since: now,
                card_pulled: false,
            };
            out.push(Assignment {
                reader,
                request: member.request,
                card_id,
            });
            room -= 1;
        }
        out
    }

    /// Stops handing out binds; running ones finish.
    pub fn pause(&mut self) {
        if self.phase == Phase::Running {
            self.phase = Phase::Paused;
        }
    }

    /// Hands out binds again after [`Batch::pause`]; a stopped batch stays stopped.
    pub fn unpause(&mut self) {
        if self.phase == Phase::Paused {
            self.phase = Phase::Running;
        }
    }

    /// Ends the batch: nothing new starts; running binds finish and lost
    /// answers are still reconciled. Queued requests stay unbound.
    pub fn stop(&mut self) {
        self.phase = Phase::Stopped;
    }

    /// Skips a queued or failed request.
    pub fn skip(&mut self, request: Uuid) -> Result<(), BatchError> {
        let i = self.position(request)?;
        let member = &mut self.members[i];
        match member.state {
            MemberState::Queued | MemberState::Failed { .. } => {
                member.state = MemberState::Skipped;
                Ok(())
            }
            ref other => Err(wrong(request, other, "skipped")),
        }
    }

    /// Skips the current request (the next to take a card) and says which.
    pub fn skip_current(&mut self) -> Result<Uuid, BatchError> {
        let request = self.current().ok_or(BatchError::NothingQueued)?;
        self.skip(request)?;
        Ok(request)
    }

    /// Puts a failed request back in its place in the queue. Its card is
    /// free again: a failed bind is known not to have happened.
    pub fn retry(&mut self, request: Uuid) -> Result<(), BatchError> {
        let i = self.position(request)?;
        let member = &mut self.members[i];
        let MemberState::Failed { card_id, .. } = member.state else {
            return Err(wrong(request, &member.state, "retried"));
        };
        member.state = MemberState::Queued;
        if let Some(card_id) = card_id {
            self.spent.remove(&card_id);
        }
        Ok(())
    }

    /// The request the next card goes to.
    pub fn current(&self) -> Option<Uuid> {
        self.members
            .iter()
            .find(|m| m.state == MemberState::Queued)
            .map(|m| m.request)
    }

    /// The requests in queue order.
    pub fn members(&self) -> &[Member] {
        &self.members
    }

    /// One request.
    pub fn member(&self, request: Uuid) -> Option<&Member> {
        self.index.get(&request).map(|&i| &self.members[i])
    }

    /// Lost answers to reconcile: the request and the card its POST named.
    pub fn awaiting_reconcile(&self) -> impl Iterator<Item = (Uuid, CardId)> + '_ {
        self.members.iter().filter_map(|m| match m.state {
            MemberState::AwaitingReconcile { card_id } => Some((m.request, card_id)),
            _ => None,
        })
    }

    /// Whether binds are handed out.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The configuration it runs with.
    pub fn config(&self) -> BatchConfig {
        self.config
    }

    /// True when nothing runs or waits for reconciliation, and either the
    /// batch was stopped or no request waits for a card.
    pub fn is_finished(&self) -> bool {
        let open = self.members.iter().any(|m| {
            matches!(
                m.state,
                MemberState::InFlight { .. } | MemberState::AwaitingReconcile { .. }
            )
        });
        !open && (self.phase == Phase::Stopped || self.current().is_none())
    }

    /// The counts so far.
    pub fn totals(&self) -> Totals {
        let mut totals = Totals {
            refused: self.refused,
            pulled: self.pulled,
            ..Totals::default()
        };
        for member in &self.members {
            match member.state {
                MemberState::Queued => totals.remaining += 1,
                MemberState::InFlight { .. } => {
                    totals.remaining += 1;
                    totals.in_flight += 1;
                }
                MemberState::AwaitingReconcile { .. } => {
                    totals.remaining += 1;
                    totals.awaiting_reconcile += 1;
                }
                MemberState::Bound { .. } => totals.bound += 1,
                MemberState::Failed { .. } => totals.failed += 1,
                MemberState::Skipped => totals.skipped += 1,
            }
        }
        totals
    }

    /// The observed time per card: from the first assignment to the first
    /// card bound, then between one card bound and the next.
    pub fn per_card_times(&self) -> &[Duration] {
        &self.per_card_times
    }

    /// The estimated time to bind the remaining requests; see [`eta`].
    pub fn eta(&self) -> Option<Duration> {
        eta(&self.per_card_times, self.totals().remaining)
    }

    fn has_open_reconcile(&self) -> bool {
        self.members
            .iter()
            .any(|m| matches!(m.state, MemberState::AwaitingReconcile { .. }))
    }

    fn position(&self, request: Uuid) -> Result<usize, BatchError> {
        self.index
            .get(&request)
            .copied()
            .ok_or(BatchError::UnknownRequest(request))
    }
}

fn wrong(request: Uuid, state: &MemberState, wanted: &'static str) -> BatchError {
    BatchError::WrongState {
        request,
        state: state.word(),
        wanted,
    }
}
