//! The window's batch on the worker (issue 22): starts [`run_batch`] on the
//! runtime, holds its input while it runs, forwards the operator's controls
//! and the readers' events to it, and reports every update to the window.
//!
//! One batch at a time, and never beside a single bind: both would compete
//! for the same cards. At a supervised station a batch starts only with
//! the supervisor's checked confirmation of that very batch (its ID and
//! size), whatever the view sends.

use std::sync::Arc;

use tokio::sync::mpsc;
use uuid::Uuid;

use super::batch::{BatchControl, BatchInput, BatchSpec, BatchUpdate, EndWord, run_batch};
use super::effects::{BindContext, on_journal};
use super::protocol::{BatchReport, OpenBatchOffer};
use super::{Input, Report, ReportSink, Worker};
use crate::domain::batch::{Batch, BatchConfig};
use crate::domain::card::CardId;
use crate::domain::readers::ReaderEvent;
use crate::supervisors::{SupervisorError, Witness};

/// What the worker knows of the window's batch.
#[derive(Debug, Default)]
pub(super) struct BatchSlot {
    /// The batch running now.
    running: Option<Running>,
    /// The batch asked for while start-up reconciliation runs; it starts
    /// after it (its own reconciliation would race the start-up's).
    deferred: Option<Deferred>,
    /// The batch a supervisor's checked credential confirmed: its ID, its
    /// size and the supervisor's name. Taken by the start it confirms.
    witness: Option<(Uuid, usize, String)>,
}

#[derive(Debug)]
struct Running {
    id: Uuid,
    input: mpsc::UnboundedSender<BatchInput>,
}

#[derive(Debug)]
struct Deferred {
    spec: BatchSpec,
    resume: bool,
    readers: Vec<ReaderEvent>,
}

impl BatchSlot {
    /// True while a batch runs (or waits to start).
    pub(super) fn is_busy(&self) -> bool {
        self.running.is_some() || self.deferred.is_some()
    }

    /// A supervisor confirmed batch `id` of `size` requests.
    pub(super) fn witnessed(&mut self, id: Uuid, size: usize, supervisor: String) {
        self.witness = Some((id, size, supervisor));
    }
}

/// Why the worker did not start a batch, in the operator's words.
#[derive(Debug, thiserror::Error)]
enum NotStarted {
    #[error(
        "Not started: a batch is already running on this station. Let it end, or stop it, then \
         start the next one. Nothing was bound."
    )]
    Running,
    #[error(
        "Not started: a single bind is in progress. Start the batch once its result is shown. \
         Nothing was bound."
    )]
    BindInFlight,
    #[error("Not started: {0} Nothing was bound.")]
    NobodyToConfirm(SupervisorError),
    #[error(
        "Not started: at this supervised station a supervisor confirms each batch. Press the \
         batch button again and have the supervisor enter their name and password. Nothing was \
         bound."
    )]
    Unconfirmed,
}

impl Worker {
    /// [`super::Command::StartBatch`]: checks, then runs the batch.
    pub(super) fn start_batch(
        &mut self,
        mut spec: BatchSpec,
        resume: bool,
        readers: Vec<ReaderEvent>,
    ) {
        let id = spec.id;
        let refuse = |sink: &ReportSink, why: NotStarted| {
            sink(Report::Batch(BatchReport::Refused {
                id,
                why: why.to_string(),
            }));
        };
        if self.batch.is_busy() {
            return refuse(&self.sink, NotStarted::Running);
        }
        if self.bind.is_in_flight() {
            return refuse(&self.sink, NotStarted::BindInFlight);
        }
        // Only a name the worker checked is recorded, never the view's.
        spec.supervisor = match self.supervision.witness {
            Witness::NotNeeded => None,
            Witness::NoneConfigured => {
                return refuse(
                    &self.sink,
                    NotStarted::NobodyToConfirm(SupervisorError::NoneConfigured),
                );
            }
            Witness::Needed => match self.batch.witness.take() {
                Some((batch, size, supervisor)) if batch == id && size == spec.requests.len() => {
                    Some(supervisor)
                }
                _ => return refuse(&self.sink, NotStarted::Unconfirmed),
            },
        };
        if self.reconciling {
            (self.sink)(Report::Notice(
                "The batch starts as soon as the station has checked the earlier unfinished \
                 binds with the server."
                    .into(),
            ));
            self.batch.deferred = Some(Deferred {
                spec,
                resume,
                readers,
            });
            return;
        }
        self.run_batch(spec, resume, readers);
    }

    /// Starts the batch asked for during start-up reconciliation.
    pub(super) fn start_deferred_batch(&mut self) {
        if let Some(deferred) = self.batch.deferred.take() {
            self.run_batch(deferred.spec, deferred.resume, deferred.readers);
        }
    }

    fn run_batch(&mut self, spec: BatchSpec, resume: bool, readers: Vec<ReaderEvent>) {
        let id = spec.id;
        let (input, rx) = mpsc::unbounded_channel();
        // The readers as the window shows them come first: their cards are
        // the first the batch uses.
        for event in readers {
            let _ = input.send(BatchInput::Reader(event));
        }
        self.batch.running = Some(Running { id, input });
        (self.sink)(Report::Batch(BatchReport::Started {
            id,
            supervisor: spec.supervisor.clone(),
        }));
        let context = self.context.clone();
        let sink = Arc::clone(&self.sink);
        let demo = self.demo.clone();
        let tx = self.tx.clone();
        self.runtime.spawn(async move {
            let updates = Arc::clone(&sink);
            let result = run_batch(context, spec, resume, rx, move |update| {
                if let (BatchUpdate::Ended(line), Some(demo)) = (&update, &demo) {
                    demo_card_bound(demo, line);
                }
                updates(Report::Batch(BatchReport::Update(update)));
            })
            .await;
            sink(Report::Batch(match result {
                Ok(summary) => BatchReport::Finished { id, summary },
                Err(why) => BatchReport::Refused {
                    id,
                    why: why.to_string(),
                },
            }));
            // A closed channel means the app is shutting down.
            let _ = tx.send(Input::BatchEnded(id));
        });
    }

    /// [`super::Command::BatchControl`]: passed to the running batch.
    pub(super) fn batch_control(&mut self, control: BatchControl) {
        if let Some(running) = &self.batch.running {
            let _ = running.input.send(BatchInput::Control(control));
            return;
        }
        match self.batch.deferred.take() {
            Some(deferred) if control == BatchControl::Stop => {
                (self.sink)(Report::Batch(BatchReport::Refused {
                    id: deferred.spec.id,
                    why: "Stopped before it started. Nothing was bound.".to_owned(),
                }));
            }
            deferred => {
                self.batch.deferred = deferred;
                tracing::debug!(?control, "no batch runs; control ignored");
            }
        }
    }

    /// [`super::Command::BatchReader`]: the running batch sees the event.
    pub(super) fn batch_reader(&mut self, event: ReaderEvent) {
        if let Some(running) = &self.batch.running {
            let _ = running.input.send(BatchInput::Reader(event));
        } else if let Some(deferred) = &mut self.batch.deferred {
            deferred.readers.push(event);
        }
    }

    /// The batch `id` ended: the next may start; the journal's open
    /// batches are offered again (lost answers keep one open).
    pub(super) fn batch_ended(&mut self, id: Uuid) {
        if self.batch.running.as_ref().is_some_and(|r| r.id == id) {
            self.batch.running = None;
        }
        let context = self.context.clone();
        let sink = Arc::clone(&self.sink);
        self.runtime.spawn(async move {
            report_open_batches(&context, &sink).await;
        });
    }

    /// [`super::Command::InsertFreshDemoCard`].
    pub(super) fn insert_fresh_demo_card(&self) {
        let Some(demo) = self.demo.clone() else {
            tracing::debug!("no demo reader; fresh demo card ignored");
            return;
        };
        // Reading the inserted card's identity runs APDUs: off the async threads.
        self.runtime.spawn_blocking(move || demo.insert_fresh());
    }
}

/// A demo card bound by the batch comes back with a fresh ID at its next
/// insert, as after a single bind.
fn demo_card_bound(demo: &crate::card::demo::DemoReader, line: &super::batch::MemberEnd) {
    let bound = matches!(line.outcome, EndWord::Bound | EndWord::ReconciledBound);
    let in_demo = line.reader.as_deref() == Some(crate::card::demo::DEMO_READER);
    if let (true, true, Some(card_id)) = (
        bound,
        in_demo,
        line.card_id.as_deref().and_then(CardId::parse_cm_string),
    ) {
        demo.card_bound(card_id);
    }
}

/// Reports the batches the journal holds open, for the window to offer.
pub(super) async fn report_open_batches(context: &BindContext, sink: &ReportSink) {
    let read = on_journal(&context.journal, |j| j.open_batches()).await;
    let open = match read {
        Ok(open) => open,
        Err(why) => {
            tracing::warn!(%why, "the journal's open batches could not be read");
            return;
        }
    };
    let offers = open
        .iter()
        .filter(|batch| !batch.members().is_empty())
        .map(|batch| {
            let records = super::batch::member_records(batch);
            let bound = Batch::resume(
                batch.members().iter().copied(),
                &records,
                BatchConfig::default(),
            )
            .map_or(0, |b| b.totals().bound);
            OpenBatchOffer {
                id: batch.id(),
                members: batch.members().to_vec(),
                bound,
            }
        })
        .collect();
    sink(Report::Batch(BatchReport::Open(offers)));
}
