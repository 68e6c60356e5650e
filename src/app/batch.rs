//! The window's batch (issue 22), egui-free: the requests selected in the
//! list become the queue, the start (with one supervisor confirmation at
//! a supervised station), the batch as the worker reports it, the
//! operator's controls, and the offer to resume a batch the journal holds
//! open. The worker runs the batch ([`crate::worker::batch`]); this only
//! keeps what the batch view draws and the commands it sends.

mod selection;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, VecDeque};

use uuid::Uuid;

pub use selection::{RowClick, Selection};

use crate::app::station::StationState;
use crate::domain::batch::BatchConfig;
use crate::domain::bind::{BindState, BindTarget};
use crate::domain::person::Identity;
use crate::domain::readers::{Arrival, IdentityState, ReaderBoard, ReaderEvent, SlotState};
use crate::supervisors::{SupervisorError, SupervisorPurpose, Witness};
use crate::worker::batch::{
    BatchControl, BatchSpec, BatchSummary, BatchUpdate, BatchView, EndWord, MemberEnd,
};
use crate::worker::protocol::{BatchReport, OpenBatchOffer};
use crate::worker::{Command, Report};

/// How many ended binds and notices the batch view keeps.
const KEPT: usize = 50;

/// The window's batch: the selection, the batch shown, the open ones.
#[derive(Debug, Default)]
pub struct BatchDesk {
    /// The list's multi-selection.
    pub selection: Selection,
    /// The batch the batch view shows (running, or ended and not closed).
    pub run: Option<BatchRun>,
    /// The batches the journal holds open, offered for resuming.
    pub open: Vec<OpenBatchOffer>,
    /// A batch waiting for the supervisor's confirmation.
    pending: Option<Pending>,
    /// How a batch runs: the cap on binds at once, from
    /// `batch_max_concurrent_posts`.
    pub config: BatchConfig,
    /// Commands for the worker, sent by the window after the frame.
    outbox: Vec<Command>,
}

/// A batch built and not yet started: it waits for the supervisor.
#[derive(Debug)]
struct Pending {
    spec: BatchSpec,
    resume: bool,
    names: HashMap<Uuid, String>,
}

/// Where the shown batch is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunPhase {
    /// Sent to the worker, not yet confirmed started.
    Starting,
    /// The worker runs it.
    Running,
    /// Nothing more happens: its counts at the end.
    Finished(BatchSummary),
    /// It did not start, or stopped without an end: why, in words.
    NotStarted(String),
}

/// The batch the batch view shows.
#[derive(Debug)]
pub struct BatchRun {
    /// The batch's ID.
    pub id: Uuid,
    /// It continues a batch the station stopped during.
    pub resumed: bool,
    /// How many requests it holds.
    pub size: usize,
    /// The requests in queue order, until the worker's first view.
    pub queue: Vec<Uuid>,
    /// The people's names as the list showed them, by request.
    pub names: HashMap<Uuid, String>,
    /// Where it is.
    pub phase: RunPhase,
    /// The worker's last view of it.
    pub view: Option<BatchView>,
    /// The last binds that ended, newest last.
    pub ended: VecDeque<MemberEnd>,
    /// What the batch said to read (reconciliation, the journal), newest last.
    pub notices: VecDeque<String>,
    /// The supervisor who confirmed it.
    pub supervisor: Option<String>,
    /// Stop was pressed and waits for its confirmation.
    pub confirm_stop: bool,
    /// Stop was sent: running binds finish, nothing new starts.
    pub stopping: bool,
}

impl BatchRun {
    fn new(spec: &BatchSpec, resumed: bool, names: HashMap<Uuid, String>) -> Self {
        BatchRun {
            id: spec.id,
            resumed,
            size: spec.requests.len(),
            queue: spec.requests.clone(),
            names,
            phase: RunPhase::Starting,
            view: None,
            ended: VecDeque::new(),
            notices: VecDeque::new(),
            supervisor: spec.supervisor.clone(),
            confirm_stop: false,
            stopping: false,
        }
    }

    /// The person a request is for, as the list showed them, or its GUID.
    pub fn name(&self, request: Uuid) -> String {
        self.names
            .get(&request)
            .filter(|name| !name.is_empty())
            .cloned()
            .unwrap_or_else(|| format!("request {request}"))
    }

    /// True until nothing more will happen.
    pub fn is_live(&self) -> bool {
        matches!(self.phase, RunPhase::Starting | RunPhase::Running)
    }

    fn apply(&mut self, update: BatchUpdate) {
        match update {
            BatchUpdate::View(view) => self.view = Some(*view),
            BatchUpdate::Ended(line) => {
                self.ended.push_back(line);
                while self.ended.len() > KEPT {
                    self.ended.pop_front();
                }
            }
            BatchUpdate::Notice(words) => {
                self.notices.push_back(words);
                while self.notices.len() > KEPT {
                    self.notices.pop_front();
                }
            }
        }
    }
}

impl BatchDesk {
    /// True while a batch runs (or was sent to start): a single bind waits,
    /// and the readers' events go to it.
    pub fn is_running(&self) -> bool {
        self.run.as_ref().is_some_and(BatchRun::is_live)
    }

    /// The command that passes a reader event the window applies on to the
    /// running batch.
    pub fn forward(&self, report: &Report) -> Option<Command> {
        match report {
            Report::Reader(event) if self.is_running() => Some(Command::BatchReader(event.clone())),
            _ => None,
        }
    }

    /// The commands to send now, once.
    pub fn take_commands(&mut self) -> Vec<Command> {
        std::mem::take(&mut self.outbox)
    }

    /// A control of the running batch. Stop asks first: the view calls
    /// [`BatchDesk::ask_stop`], then this with [`BatchControl::Stop`].
    pub fn control(&mut self, control: BatchControl) {
        let Some(run) = self.run.as_mut().filter(|run| run.is_live()) else {
            return;
        };
        if control == BatchControl::Stop {
            run.confirm_stop = false;
            run.stopping = true;
        }
        self.outbox.push(Command::BatchControl(control));
    }

    /// Stop was pressed: the view asks whether to stop.
    pub fn ask_stop(&mut self, asking: bool) {
        if let Some(run) = &mut self.run {
            run.confirm_stop = asking && run.is_live();
        }
    }

    /// Closes the view of a batch that has ended.
    pub fn close(&mut self) {
        if !self.is_running() {
            self.run = None;
        }
    }

    /// The open batch the window offers to resume (none while one runs).
    pub fn offer(&self) -> Option<&OpenBatchOffer> {
        if self.is_running() {
            return None;
        }
        self.open.first()
    }

    /// The people of the batch waiting for its supervisor, in queue order
    /// (the supervisor's dialog shows them).
    pub fn pending_names(&self) -> Vec<String> {
        let Some(pending) = &self.pending else {
            return Vec::new();
        };
        pending
            .spec
            .requests
            .iter()
            .map(|r| {
                pending
                    .names
                    .get(r)
                    .filter(|n| !n.is_empty())
                    .cloned()
                    .unwrap_or_else(|| format!("request {r}"))
            })
            .collect()
    }

    /// Sends `spec` to the worker and shows it.
    fn start(
        &mut self,
        spec: BatchSpec,
        resume: bool,
        names: HashMap<Uuid, String>,
        board: &ReaderBoard,
    ) {
        self.run = Some(BatchRun::new(&spec, resume, names));
        self.open.retain(|open| open.id != spec.id);
        self.outbox.push(Command::StartBatch {
            spec,
            resume,
            readers: board_events(board),
        });
    }

    /// Takes the worker's news; true when the request list should be
    /// fetched again (a request was bound, or the batch ended).
    fn apply(&mut self, report: BatchReport) -> bool {
        let ours = |run: &Option<BatchRun>, id: Uuid| run.as_ref().is_some_and(|r| r.id == id);
        match report {
            BatchReport::Started { id, supervisor } => {
                if let Some(run) = self.run.as_mut().filter(|r| r.id == id) {
                    run.phase = RunPhase::Running;
                    run.supervisor = supervisor;
                }
                false
            }
            BatchReport::Update(update) => {
                let id = match &update {
                    BatchUpdate::View(view) => Some(view.id),
                    _ => None,
                };
                let bound = matches!(
                    &update,
                    BatchUpdate::Ended(line)
                        if matches!(line.outcome, EndWord::Bound | EndWord::ReconciledBound)
                );
                if let Some(run) = &mut self.run
                    && id.is_none_or(|id| id == run.id)
                {
                    run.apply(update);
                }
                bound
            }
            BatchReport::Finished { id, summary } => {
                if let Some(run) = self.run.as_mut().filter(|r| r.id == id) {
                    run.phase = RunPhase::Finished(summary);
                    run.confirm_stop = false;
                }
                ours(&self.run, id)
            }
            BatchReport::Refused { id, why } => {
                match self.run.as_mut().filter(|r| r.id == id) {
                    Some(run) => {
                        run.phase = RunPhase::NotStarted(why);
                        run.confirm_stop = false;
                    }
                    None => {
                        self.run = Some(BatchRun {
                            phase: RunPhase::NotStarted(why),
                            ..BatchRun::new(&empty_spec(id), false, HashMap::new())
                        });
                    }
                }
                false
            }
            BatchReport::Open(open) => {
                let running = self.run.as_ref().filter(|r| r.is_live()).map(|r| r.id);
                self.open = open.into_iter().filter(|o| Some(o.id) != running).collect();
                false
            }
        }
    }
}

fn empty_spec(id: Uuid) -> BatchSpec {
    BatchSpec {
        id,
        requests: Vec::new(),
        config: BatchConfig::default(),
        supervisor: None,
        people: HashMap::new(),
        idle_timeout: None,
    }
}

/// The readers as the window knows them, as the events that would make
/// them so: a batch started now sees every card already present.
pub fn board_events(board: &ReaderBoard) -> Vec<ReaderEvent> {
    let mut events = Vec::new();
    if let Some(reason) = board.service_down() {
        events.push(ReaderEvent::ServiceDown {
            reason: reason.to_owned(),
        });
    }
    for (reader, slot) in board.readers() {
        let reader = reader.to_owned();
        events.push(ReaderEvent::ReaderAdded {
            reader: reader.clone(),
        });
        match slot {
            SlotState::Empty => {}
            SlotState::Unavailable { reason } => events.push(ReaderEvent::ReaderUnavailable {
                reader,
                reason: reason.clone(),
            }),
            SlotState::Present {
                atr,
                insertion,
                identity,
            } => {
                events.push(ReaderEvent::CardInserted {
                    reader: reader.clone(),
                    atr: atr.clone(),
                    insertion: *insertion,
                    arrival: Arrival::AlreadyPresent,
                });
                let result = match identity {
                    // Its identity comes with the monitor's next event.
                    IdentityState::Reading => continue,
                    IdentityState::Known { .. } => match slot.identity() {
                        Some(identity) => Ok(identity),
                        None => continue,
                    },
                    IdentityState::Failed(why) => Err(why.clone()),
                };
                events.push(ReaderEvent::CardIdentified {
                    reader,
                    insertion: *insertion,
                    result,
                });
            }
        }
    }
    events
}

/// Why a batch cannot start now, in the operator's words.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BatchBlocked {
    /// A kiosk station offers no batch.
    #[error("Batches are not offered at a kiosk station.")]
    NotOffered,
    /// A single bind is under way.
    #[error("A bind is in progress: start the batch once its result is shown.")]
    BindInFlight,
    /// Another batch runs.
    #[error("A batch is already running: let it end, or stop it, first.")]
    Running,
    /// Fewer than two selected requests can take a card.
    #[error(
        "A batch needs two or more selected requests that can take a card; {0} of the selected \
         can."
    )]
    TooFew(usize),
    /// The directory is being asked who a selected request is for.
    #[error("Checking who the selected requests are for in the directory…")]
    Checking,
    /// A supervised station where nobody can confirm.
    #[error(transparent)]
    Supervisor(SupervisorError),
    /// Nothing to resume.
    #[error("No batch is open to resume.")]
    NothingOpen,
}

/// What the selected requests make: those that join the batch, in list
/// order, and those left out with why.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BatchChoice {
    /// The requests that join, in the order the list shows them.
    pub joining: Vec<Uuid>,
    /// The selected requests that cannot join: the person's name and why.
    pub left_out: Vec<(String, String)>,
    /// How many the directory is still being asked about.
    pub checking: usize,
}

impl StationState {
    /// What the selected requests make as a batch (after a click in this
    /// frame too).
    pub fn batch_choice(&mut self) -> BatchChoice {
        self.sync_selection();
        let mut choice = BatchChoice::default();
        for request in self.marked_requests() {
            let name = crate::app::request_filter::request_title(request);
            if let Err(why) = request.bindability() {
                choice.left_out.push((name, why.to_string()));
                continue;
            }
            if let BindState::Unknown { target, .. } = &self.bind
                && target.request_id == request.uuid
            {
                choice
                    .left_out
                    .push((name, "its last bind's result is not known yet".to_owned()));
                continue;
            }
            let identity = self.people.peek_of(request.target_user);
            match identity {
                Identity::Looking => choice.checking += 1,
                Identity::NotFound => choice
                    .left_out
                    .push((name, "the directory has no account it is for".to_owned())),
                _ => choice.joining.push(request.uuid),
            }
        }
        choice
    }

    /// "Bind N as a batch…": the selected requests that can take a card
    /// become a batch; it starts now, or at a supervised station once a
    /// supervisor confirms it.
    pub fn press_batch(&mut self) -> Result<(), BatchBlocked> {
        self.batch_startable()?;
        let choice = self.batch_choice();
        if choice.checking > 0 {
            return Err(BatchBlocked::Checking);
        }
        if choice.joining.len() < 2 {
            return Err(BatchBlocked::TooFew(choice.joining.len()));
        }
        let (people, names) = self.people_of(&choice.joining);
        let spec = BatchSpec {
            id: Uuid::new_v4(),
            requests: choice.joining,
            config: self.batch.config,
            supervisor: None,
            people,
            idle_timeout: None,
        };
        self.confirm_or_start(spec, false, names)
    }

    /// "Resume batch…": the journal's open batch goes on where it stopped.
    pub fn resume_batch(&mut self) -> Result<(), BatchBlocked> {
        self.batch_startable()?;
        let offer = self
            .batch
            .offer()
            .cloned()
            .ok_or(BatchBlocked::NothingOpen)?;
        let (people, names) = self.people_of(&offer.members);
        let spec = BatchSpec {
            id: offer.id,
            requests: offer.members,
            config: self.batch.config,
            supervisor: None,
            people,
            idle_timeout: None,
        };
        self.confirm_or_start(spec, true, names)
    }

    /// A supervisor confirmed batch `id`: it starts now (the worker checks
    /// the confirmation again and records the supervisor in each attempt).
    pub(crate) fn batch_confirmed(&mut self, id: Uuid) {
        let Some(pending) = self.batch.pending.take_if(|p| p.spec.id == id) else {
            return;
        };
        self.batch
            .start(pending.spec, pending.resume, pending.names, &self.board);
        self.select_single(self.selected_request);
    }

    /// Takes the worker's news of the batch; true when the request list
    /// should be fetched again (a request was bound, or the batch ended).
    pub(crate) fn batch_report(&mut self, report: BatchReport) -> bool {
        self.batch.apply(report)
    }

    fn batch_startable(&self) -> Result<(), BatchBlocked> {
        if !self.multi_select_offered() {
            return Err(BatchBlocked::NotOffered);
        }
        if self.bind.is_in_flight() {
            return Err(BatchBlocked::BindInFlight);
        }
        if self.batch.is_running() {
            return Err(BatchBlocked::Running);
        }
        if self.witness == Witness::NoneConfigured {
            return Err(BatchBlocked::Supervisor(SupervisorError::NoneConfigured));
        }
        Ok(())
    }

    /// The names of `requests`' people, for the journal and the view alike:
    /// the directory's name and account when it has them, else what the
    /// requester typed marked "(unchecked)" (as a bind records them). Never
    /// the typed name alone: it is what a requester could fake.
    fn people_of(&self, requests: &[Uuid]) -> (HashMap<Uuid, String>, HashMap<Uuid, String>) {
        let wanted: std::collections::HashSet<&Uuid> = requests.iter().collect();
        let mut people = HashMap::new();
        for request in self.requests.iter().filter(|r| wanted.contains(&r.uuid)) {
            people.insert(request.uuid, self.person_of(request));
        }
        (people.clone(), people)
    }

    /// See [`StationState::people_of`].
    pub fn person_of(&self, request: &crate::domain::request::Request) -> String {
        let identity = self.people.peek_of(request.target_user);
        BindTarget::person_for(request, &identity)
    }

    fn confirm_or_start(
        &mut self,
        spec: BatchSpec,
        resume: bool,
        names: HashMap<Uuid, String>,
    ) -> Result<(), BatchBlocked> {
        match self.witness {
            Witness::NotNeeded => {
                self.batch.start(spec, resume, names, &self.board);
                self.select_single(self.selected_request);
                Ok(())
            }
            Witness::NoneConfigured => {
                Err(BatchBlocked::Supervisor(SupervisorError::NoneConfigured))
            }
            Witness::Needed => {
                let name = |at: Option<&Uuid>| {
                    at.map(|r| names.get(r).cloned().unwrap_or_else(|| r.to_string()))
                        .unwrap_or_default()
                };
                let purpose = SupervisorPurpose::ConfirmBatch {
                    batch: spec.id,
                    size: spec.requests.len(),
                    first: name(spec.requests.first()),
                    last: name(spec.requests.last()),
                };
                self.supervisor_prompt =
                    Some(crate::app::credentials::SupervisorPrompt::new(purpose));
                self.batch.pending = Some(Pending {
                    spec,
                    resume,
                    names,
                });
                Ok(())
            }
        }
    }
}
