//! Runs a batch (issue 22): feeds the pure [`Batch`] the readers' events
//! and the binds' results, and runs each assignment through the same safe
//! bind as a single one ([`run_bind`]), several readers at once.
//!
//! Shared by the window's worker and the `batch` command. The caller
//! checks the supervisor (once, for the whole batch) and sends the
//! readers' events and the operator's controls in; the runner reports a
//! view of the batch after every change and one line per ended bind.

mod ended;
mod history;
mod slots;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio::task::JoinSet;
use uuid::Uuid;

use crate::audit::{BatchMark, ControlKind, OpenBatch, StationEvent};
use crate::domain::batch::{
    Batch, BatchConfig, BatchError, BatchEvent, BindResult, Member, MemberState, Phase, Totals,
};
use crate::domain::bind::{BindEvent, BindState, BindTarget, Finding};
use crate::domain::card::CardId;
use crate::domain::readers::ReaderEvent;

use super::effects::{
    BindContext, drive, find_binding, on_journal, operator_of, run_bind, write_journal,
};

pub use ended::{EndWord, MemberEnd};
pub use history::member_records;
pub use slots::{SlotView, SlotWord};

/// How often lost answers are looked at again while CM cannot say.
const RECONCILE_EVERY: Duration = Duration::from_secs(5);

/// What to run.
#[derive(Clone, Debug)]
pub struct BatchSpec {
    /// The batch's ID: in every record of it, and how a resume finds it.
    pub id: Uuid,
    /// The requests in queue order.
    pub requests: Vec<Uuid>,
    /// The cap on binds at once.
    pub config: BatchConfig,
    /// The supervisor who confirmed the batch, at a supervised station:
    /// recorded in each attempt.
    pub supervisor: Option<String>,
    /// The person each request is for, as the operator saw them (the
    /// window); recorded with each attempt. The command line has none.
    pub people: HashMap<Uuid, String>,
    /// Stop when no bind ran and no card came for this long.
    pub idle_timeout: Option<Duration>,
}

/// What the caller sends in while the batch runs.
#[derive(Clone, Debug)]
pub enum BatchInput {
    /// Something happened to a reader.
    Reader(ReaderEvent),
    /// The operator asked for something.
    Control(BatchControl),
}

/// The operator's controls.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BatchControl {
    /// No new binds; running ones finish.
    Pause,
    /// Go on after a pause.
    Unpause,
    /// Skip this queued or failed request.
    Skip(Uuid),
    /// Skip the request the next card would go to.
    SkipCurrent,
    /// Put this failed request back in the queue.
    Retry(Uuid),
    /// End the batch once the running binds are over.
    Stop,
}

/// What the runner tells its caller.
#[derive(Clone, Debug)]
pub enum BatchUpdate {
    /// The batch as it is now.
    View(Box<BatchView>),
    /// A bind of the batch ended (or a request was skipped).
    Ended(MemberEnd),
    /// Something the operator must read (reconciliation, a journal problem).
    Notice(String),
}

/// The batch as the window and the CLI show it.
#[derive(Clone, Debug)]
pub struct BatchView {
    /// The batch's ID.
    pub id: Uuid,
    /// The requests in queue order, with where each is.
    pub members: Vec<Member>,
    /// One row per reader.
    pub slots: Vec<SlotView>,
    /// The counts.
    pub totals: Totals,
    /// The estimated time for the rest, once a card was timed.
    pub eta: Option<Duration>,
    /// Running, paused or stopped.
    pub phase: Phase,
    /// The request the next card goes to.
    pub next: Option<Uuid>,
    /// True once nothing more will happen.
    pub finished: bool,
}

/// How the batch ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchSummary {
    /// The counts at the end.
    pub totals: Totals,
    /// True when it was stopped (by the operator, the idle timeout or the
    /// caller going away) before every request was settled.
    pub stopped: bool,
}

/// Why a batch did not start. Nothing was bound.
#[derive(Debug, thiserror::Error)]
pub enum BatchStartError {
    /// The queue is not a batch.
    #[error("{0}. Nothing was bound.")]
    Queue(#[from] BatchError),
    /// The queue is empty.
    #[error("The batch holds no request. Nothing was bound.")]
    Empty,
    /// The journal refused the batch's record.
    #[error(
        "The batch could not be written to the audit journal ({0}). The station does not bind \
         without a record: fix the journal (disk space, permissions) and start the batch again. \
         Nothing was bound."
    )]
    Journal(String),
    /// A resume named a batch the journal does not hold open.
    #[error(
        "Batch {0} is not open in the audit journal (finished, or never started here). Start it \
         again as a new batch."
    )]
    NotOpen(Uuid),
}

/// What a bind task hands back: what it was asked to bind (its request,
/// reader and card), and where the bind ended.
struct Done {
    target: BindTarget,
    state: BindState,
}

/// Runs a batch until it is finished or stopped. With `resume`, continues
/// the journal's open batch of that ID: lost answers are reconciled first,
/// then the rest of the queue runs.
pub async fn run_batch(
    ctx: BindContext,
    spec: BatchSpec,
    resume: bool,
    mut input: mpsc::UnboundedReceiver<BatchInput>,
    mut report: impl FnMut(BatchUpdate) + Send,
) -> Result<BatchSummary, BatchStartError> {
    if spec.requests.is_empty() {
        return Err(BatchStartError::Empty);
    }
    // Attempts a crash left open are settled before the batch looks at its history.
    for line in super::effects::reconcile_open_attempts(&ctx).await {
        report(BatchUpdate::Notice(line));
    }
    let mut batch = if resume {
        let open = open_batch(&ctx, spec.id).await?;
        let records = member_records(&open);
        let batch = Batch::resume(open.members().iter().copied(), &records, spec.config)?;
        report(BatchUpdate::Notice(format!(
            "Resuming batch {}: {} of {} requests bound before it stopped.",
            spec.id,
            batch.totals().bound,
            batch.members().len()
        )));
        batch
    } else {
        let batch = Batch::new(spec.requests.iter().copied(), spec.config)?;
        record_start(&ctx, &spec).await?;
        batch
    };
    tracing::info!(batch = %spec.id, requests = spec.requests.len(), resumed = resume, "batch started");
    let mut runner = Runner {
        ctx,
        spec,
        slots: slots::Slots::default(),
        unknown: HashMap::new(),
        tasks: JoinSet::new(),
        task_ids: HashMap::new(),
        last_activity: Instant::now(),
        stopped_by: None,
    };
    let (progress_tx, mut progress_rx) = mpsc::unbounded_channel::<(Uuid, SlotWord)>();
    let mut reconcile_due = Instant::now();
    let mut input_open = true;
    loop {
        runner.start_binds(&mut batch, &progress_tx);
        report(BatchUpdate::View(Box::new(runner.view(&batch))));
        if batch.is_finished() && runner.tasks.is_empty() {
            break;
        }
        if batch.phase() == Phase::Stopped && runner.tasks.is_empty() {
            // Stopped with lost answers still unknown: CM is asked once
            // more, then the batch ends and stays open in the journal for
            // a resume to settle them (waiting here could be for ever).
            runner.reconcile(&mut batch, &mut report).await;
            report(BatchUpdate::View(Box::new(runner.view(&batch))));
            break;
        }
        let awaiting = batch.awaiting_reconcile().next().is_some();
        let idle_at = runner.idle_deadline(&batch);
        tokio::select! {
            got = input.recv(), if input_open => match got {
                Some(BatchInput::Reader(event)) => runner.reader_event(&mut batch, event),
                Some(BatchInput::Control(control)) => {
                    runner.control(&mut batch, control, &mut report).await;
                }
                None => {
                    // The window closed or the command ended: nothing new starts.
                    batch.stop();
                    runner.stopped_by.get_or_insert("the station stopped it");
                    input_open = false;
                }
            },
            Some(joined) = runner.tasks.join_next_with_id(), if !runner.tasks.is_empty() => {
                match joined {
                    Ok((task, done)) => {
                        runner.task_ids.remove(&task);
                        runner.finished(&mut batch, done, &mut report).await;
                    }
                    Err(why) => runner.task_lost(&mut batch, &why, &mut report),
                }
            }
            Some((request, word)) = progress_rx.recv() => runner.slots.progress(request, word),
            () = tokio::time::sleep_until(reconcile_due.into()), if awaiting => {
                runner.reconcile(&mut batch, &mut report).await;
                reconcile_due = Instant::now() + RECONCILE_EVERY;
            }
            () = sleep_until(idle_at), if idle_at.is_some() => {
                batch.stop();
                runner.stopped_by.get_or_insert("no card came within the time allowed");
            }
        }
    }
    let totals = batch.totals();
    let stopped = totals.remaining > 0;
    runner.record_end(&batch, stopped, &mut report).await;
    Ok(BatchSummary { totals, stopped })
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

/// The open batch `id`, as the journal holds it now.
async fn open_batch(ctx: &BindContext, id: Uuid) -> Result<OpenBatch, BatchStartError> {
    let open = on_journal(&ctx.journal, |j| j.open_batches())
        .await
        .map_err(|why| BatchStartError::Journal(why.to_string()))?;
    open.into_iter()
        .find(|batch| batch.id() == id)
        .ok_or(BatchStartError::NotOpen(id))
}

/// The batch's start record: its queue, who runs it, who confirmed it.
async fn record_start(ctx: &BindContext, spec: &BatchSpec) -> Result<(), BatchStartError> {
    let name = |request: Option<&Uuid>| {
        request.map_or_else(String::new, |r| {
            spec.people
                .get(r)
                .filter(|n| !n.is_empty())
                .map_or_else(|| r.to_string(), |n| format!("{n} ({r})"))
        })
    };
    let message = format!(
        "Batch of {} requests, from {} to {}; at most {} binds at once",
        spec.requests.len(),
        name(spec.requests.first()),
        name(spec.requests.last()),
        spec.config.max_concurrent_posts
    );
    let event = StationEvent {
        batch: Some(BatchMark {
            id: spec.id,
            members: Some(spec.requests.clone()),
            ..BatchMark::default()
        }),
        ..StationEvent::new(
            ControlKind::BatchStarted,
            operator_of(&ctx.client),
            spec.supervisor.clone(),
            message,
        )
    };
    write_journal(&ctx.journal, move |j| j.record_event(event))
        .await
        .map_err(|why| BatchStartError::Journal(why.to_string()))
}

/// The runner's own state beside the pure batch.
struct Runner {
    ctx: BindContext,
    spec: BatchSpec,
    slots: slots::Slots,
    /// Binds whose answer was lost and CM could not be asked: their state,
    /// to look again from.
    unknown: HashMap<Uuid, BindState>,
    tasks: JoinSet<Done>,
    /// The request each bind task runs, to name the one a panic ended.
    task_ids: HashMap<tokio::task::Id, Uuid>,
    last_activity: Instant,
    /// Why the batch was stopped, when it was not the operator.
    stopped_by: Option<&'static str>,
}

impl Runner {
    fn view(&self, batch: &Batch) -> BatchView {
        BatchView {
            id: self.spec.id,
            members: batch.members().to_vec(),
            slots: self.slots.view(batch),
            totals: batch.totals(),
            eta: batch.eta(),
            phase: batch.phase(),
            next: batch.current(),
            finished: batch.is_finished() && self.tasks.is_empty(),
        }
    }

    fn idle_deadline(&self, batch: &Batch) -> Option<Instant> {
        let timeout = self.spec.idle_timeout?;
        // Lost answers do not hold it: with CM down they could for ever.
        let idle = self.tasks.is_empty() && batch.phase() == Phase::Running;
        idle.then(|| self.last_activity + timeout)
    }

    fn reader_event(&mut self, batch: &mut Batch, event: ReaderEvent) {
        self.last_activity = Instant::now();
        for seen in self.slots.apply(&event) {
            // Reader events never fail in the batch.
            let _ = batch.apply(seen);
        }
    }

    /// Starts a safe bind for every assignment the batch hands out.
    fn start_binds(
        &mut self,
        batch: &mut Batch,
        progress: &mpsc::UnboundedSender<(Uuid, SlotWord)>,
    ) {
        for assignment in batch.next_assignments(Instant::now()) {
            let Some(expected) = self.slots.identity(&assignment.reader, &assignment.card_id)
            else {
                // The board and the batch disagree (the card left between
                // two events): give the request back untouched.
                let _ = batch.apply(BatchEvent::BindFinished {
                    request: assignment.request,
                    result: BindResult::CardPulled,
                    at: Instant::now(),
                });
                continue;
            };
            let _ = batch.apply(BatchEvent::BindStarted {
                request: assignment.request,
                at: Instant::now(),
            });
            self.slots.progress(assignment.request, SlotWord::Reading);
            let target = BindTarget {
                request_id: assignment.request,
                person: self
                    .spec
                    .people
                    .get(&assignment.request)
                    .cloned()
                    .unwrap_or_default(),
                reader: assignment.reader.clone(),
                expected,
                supervisor: self.spec.supervisor.clone(),
            };
            self.slots.assigned(&assignment.reader, assignment.request);
            let ctx = self.ctx.clone();
            let progress = progress.clone();
            let request = assignment.request;
            let task = self.tasks.spawn(async move {
                let state = run_bind(
                    &ctx,
                    target.clone(),
                    |state| {
                        let _ = progress.send((request, SlotWord::of(state)));
                    },
                    |warning| tracing::warn!(%warning, "batch bind"),
                )
                .await;
                Done { target, state }
            });
            self.task_ids.insert(task.id(), request);
        }
    }

    /// Takes in a finished bind: the batch's event, the journal's member
    /// record and the caller's line.
    async fn finished(
        &mut self,
        batch: &mut Batch,
        done: Done,
        report: &mut (impl FnMut(BatchUpdate) + Send),
    ) {
        self.last_activity = Instant::now();
        let Done { target, state } = done;
        let request = target.request_id;
        let pulled = match batch.member(request).map(|m| &m.state) {
            Some(MemberState::InFlight { card_pulled, .. }) => *card_pulled,
            // Not running any more (skipped or stopped under it): nothing to take in.
            _ => return,
        };
        let (result, mut end) = ended::classify(&state);
        end.card_pulled = pulled || end.outcome == EndWord::CardPulled;
        if matches!(result, BindResult::AnswerLost) {
            self.unknown.insert(request, state);
        }
        let _ = batch.apply(BatchEvent::BindFinished {
            request,
            result,
            at: Instant::now(),
        });
        self.slots
            .ended(&target.reader, end.outcome, end.message.clone());
        if end.outcome == EndWord::CardPulled && self.slots.forget_card(&target.reader) {
            let _ = batch.apply(BatchEvent::CardRemoved {
                reader: target.reader.clone(),
            });
        }
        let line = MemberEnd {
            request_id: request,
            card_id: Some(target.expected.card_id.to_cm_string()),
            card_kind: Some(target.expected.kind.as_str().to_owned()),
            reader: Some(target.reader),
            ..end
        };
        self.record_member(line.outcome.as_str(), &line, report)
            .await;
        report(BatchUpdate::Ended(line));
    }

    /// A bind task that stopped without a result (a panic): whether its
    /// POST went out is unknown, so CM is asked; nothing is sent again.
    fn task_lost(
        &mut self,
        batch: &mut Batch,
        why: &tokio::task::JoinError,
        report: &mut (impl FnMut(BatchUpdate) + Send),
    ) {
        tracing::error!(%why, "a batch's bind task stopped");
        let Some(request) = self.task_ids.remove(&why.id()) else {
            return;
        };
        if let Some(MemberState::InFlight { reader, .. }) = batch.member(request).map(|m| &m.state)
        {
            let reader = reader.clone();
            self.slots.ended(
                &reader,
                EndWord::AnswerLost,
                Some("the bind stopped unexpectedly".to_owned()),
            );
        }
        let _ = batch.apply(BatchEvent::BindFinished {
            request,
            result: BindResult::AnswerLost,
            at: Instant::now(),
        });
        report(BatchUpdate::Notice(format!(
            "The bind of request {request} stopped unexpectedly ({why}); the station asks CM \
             whether it happened and never sends it twice."
        )));
    }

    /// Asks CM again about every lost answer.
    async fn reconcile(
        &mut self,
        batch: &mut Batch,
        report: &mut (impl FnMut(BatchUpdate) + Send),
    ) {
        let lost: Vec<(Uuid, CardId)> = batch.awaiting_reconcile().collect();
        for (request, card_id) in lost {
            let bound = match self.unknown.remove(&request) {
                Some(state) => {
                    let after = drive(
                        &self.ctx,
                        state,
                        BindEvent::RecheckRequested,
                        |_| {},
                        |warning| tracing::warn!(%warning, "batch reconcile"),
                    )
                    .await;
                    match after {
                        BindState::Bound { .. } => Some(true),
                        BindState::Unknown { .. } => {
                            self.unknown.insert(request, after);
                            None
                        }
                        _ => Some(false),
                    }
                }
                // Resumed after a crash: the journal's attempt was settled
                // (or stays open) at start; CM says what became of it.
                None => match find_binding(&self.ctx.client, request, &card_id).await {
                    Ok(Finding::BoundToOurCard(_)) => Some(true),
                    Ok(_) => Some(false),
                    Err(failure) => {
                        report(BatchUpdate::Notice(format!(
                            "Request {request}: whether card {card_id} was bound is still \
                             unknown ({failure}). The station asks again in a few seconds."
                        )));
                        None
                    }
                },
            };
            if let Some(bound) = bound {
                let _ = batch.apply(BatchEvent::Reconciled {
                    request,
                    bound,
                    at: Instant::now(),
                });
                let line = MemberEnd {
                    request_id: request,
                    card_id: Some(card_id.to_cm_string()),
                    card_kind: None,
                    reader: None,
                    outcome: if bound {
                        EndWord::ReconciledBound
                    } else {
                        EndWord::Failed
                    },
                    smartcard_uuid: None,
                    message: (!bound).then(|| {
                        "The answer was lost, and CM shows the request not bound to this card: \
                         retry it with another card or skip it."
                            .to_owned()
                    }),
                    correlation_id: None,
                    card_pulled: false,
                };
                self.record_member(line.outcome.as_str(), &line, report)
                    .await;
                report(BatchUpdate::Ended(line));
            }
        }
    }

    async fn control(
        &mut self,
        batch: &mut Batch,
        control: BatchControl,
        report: &mut (impl FnMut(BatchUpdate) + Send),
    ) {
        self.last_activity = Instant::now();
        let changed = match control {
            BatchControl::Pause => {
                batch.pause();
                Ok(None)
            }
            BatchControl::Unpause => {
                batch.unpause();
                Ok(None)
            }
            BatchControl::Stop => {
                batch.stop();
                Ok(None)
            }
            BatchControl::Skip(request) => batch.skip(request).map(|()| Some((request, true))),
            BatchControl::SkipCurrent => batch.skip_current().map(|r| Some((r, true))),
            BatchControl::Retry(request) => batch.retry(request).map(|()| Some((request, false))),
        };
        match changed {
            Ok(Some((request, skipped))) => {
                let line = MemberEnd {
                    request_id: request,
                    card_id: None,
                    card_kind: None,
                    reader: None,
                    outcome: if skipped {
                        EndWord::Skipped
                    } else {
                        EndWord::Failed
                    },
                    smartcard_uuid: None,
                    message: Some(if skipped {
                        "skipped by the operator".to_owned()
                    } else {
                        "back in the queue".to_owned()
                    }),
                    correlation_id: None,
                    card_pulled: false,
                };
                let word = if skipped {
                    EndWord::Skipped.as_str()
                } else {
                    history::RETRIED
                };
                self.record_member(word, &line, report).await;
                if skipped {
                    report(BatchUpdate::Ended(line));
                }
            }
            Ok(None) => {}
            Err(why) => report(BatchUpdate::Notice(format!("{why}."))),
        }
    }

    /// The journal's record of what happened to one request; a write that
    /// fails is said, and the batch goes on (the bind's own records stand).
    /// `word` leads the record's message: a resume reads it back
    /// (`history::member_word`).
    async fn record_member(
        &self,
        word: &str,
        line: &MemberEnd,
        report: &mut (impl FnMut(BatchUpdate) + Send),
    ) {
        let mut message = match &line.message {
            Some(words) => format!("{word}: {words}"),
            None => word.to_owned(),
        };
        if line.card_pulled && line.outcome != EndWord::CardPulled {
            message.push_str(" (the card was taken out while its bind ran)");
        }
        let event = StationEvent {
            request_id: Some(line.request_id),
            batch: Some(BatchMark {
                id: self.spec.id,
                members: None,
                card_id: line.card_id.clone(),
                reader: line.reader.clone(),
            }),
            ..StationEvent::new(
                ControlKind::BatchMember,
                operator_of(&self.ctx.client),
                self.spec.supervisor.clone(),
                message,
            )
        };
        let written = write_journal(&self.ctx.journal, move |j| j.record_event(event)).await;
        if let Err(why) = written {
            report(BatchUpdate::Notice(format!(
                "What happened to request {} was not written to the audit journal ({why}); its \
                 bind's own records stand. Fix the journal before the next batch.",
                line.request_id
            )));
        }
    }

    async fn record_end(
        &self,
        batch: &Batch,
        stopped: bool,
        report: &mut (impl FnMut(BatchUpdate) + Send),
    ) {
        let t = batch.totals();
        let how = match (stopped, self.stopped_by) {
            (false, _) => "finished".to_owned(),
            (true, Some(why)) => format!("stopped ({why})"),
            (true, None) => "stopped by the operator".to_owned(),
        };
        let message = format!(
            "Batch {how}: {} bound, {} cards refused, {} failed, {} skipped, {} remaining",
            t.bound, t.refused, t.failed, t.skipped, t.remaining
        );
        // A batch with lost answers still open stays open in the journal,
        // so that the next start resumes it and reconciles them.
        if t.awaiting_reconcile > 0 {
            report(BatchUpdate::Notice(format!(
                "{message}. {} lost answers are still unknown: run the batch again with \
                 --resume {} once CM answers.",
                t.awaiting_reconcile, self.spec.id
            )));
            return;
        }
        let event = StationEvent {
            batch: Some(BatchMark {
                id: self.spec.id,
                ..BatchMark::default()
            }),
            ..StationEvent::new(
                ControlKind::BatchFinished,
                operator_of(&self.ctx.client),
                self.spec.supervisor.clone(),
                message,
            )
        };
        let written = write_journal(&self.ctx.journal, move |j| j.record_event(event)).await;
        if written.is_err() {
            report(BatchUpdate::Notice(
                "The end of the batch was not written to the audit journal; the next start \
                 offers to resume it, and finds nothing left to do."
                    .to_owned(),
            ));
        }
    }
}
