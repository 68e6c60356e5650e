//! The tokio side of the window: runs what the UI asks for and reports back.
//!
//! The UI sends [`Command`]s; the worker answers with [`Report`]s through a sink
//! that also wakes the UI (`request_repaint`), so the window repaints on events
//! only and never waits on the network or a card.

pub mod actions;
mod audit_export;
pub mod batch;
mod batch_window;
pub mod effects;
pub mod people;
pub(crate) mod protocol;
mod request_detail;
mod settings_journal;
mod templates;

pub use protocol::{BatchReport, Command, OpenBatchOffer, Report, ReportSink};

use std::sync::Arc;

use tokio::runtime::Handle;
use tokio::sync::mpsc;

use crate::domain::bind::{BindEvent, BindState, BindTarget, Failure, apply};
use crate::domain::request::{Request, RequestQuery};
use crate::supervisors::{Supervision, SupervisorError, SupervisorPurpose};
use effects::{BindContext, WorkStopped};
use protocol::{FileTarget, SettingsReport};

enum Input {
    Command(Command),
    Bind(BindEvent),
    Supervisor {
        purpose: crate::supervisors::SupervisorPurpose,
        result: Result<String, SupervisorError>,
    },
    /// Start-up reconciliation has settled every attempt it could.
    StartupReconciled,
    /// The window's batch of this ID ended.
    BatchEnded(uuid::Uuid),
}

/// The UI's end of the worker: sending never blocks.
#[derive(Clone)]
pub struct WorkerHandle {
    tx: mpsc::UnboundedSender<Input>,
}

impl WorkerHandle {
    /// Queues a command. When the worker has stopped (the app is closing) the
    /// command is dropped, which is what a closing window wants.
    pub fn send(&self, command: Command) {
        if self.tx.send(Input::Command(command)).is_err() {
            tracing::debug!("worker stopped; command dropped");
        }
    }
}

/// Starts the worker on `runtime`. It first reconciles the attempts an earlier
/// run left open in the journal.
pub fn spawn_worker(runtime: &Handle, context: BindContext, sink: ReportSink) -> WorkerHandle {
    spawn_worker_with(runtime, context, sink, Supervision::none(), None, None)
}

/// [`spawn_worker`] for a station whose binds (or kiosk exits) need a supervisor.
pub fn spawn_worker_with(
    runtime: &Handle,
    context: BindContext,
    sink: ReportSink,
    supervision: Supervision,
    demo: Option<Arc<crate::card::demo::DemoReader>>,
    people: Option<Arc<dyn people::PeopleSource>>,
) -> WorkerHandle {
    let (tx, rx) = mpsc::unbounded_channel();
    let names_sink = Arc::clone(&sink);
    // The list is large (thousands of patterns): read it once, off the UI thread.
    runtime.spawn_blocking(move || {
        let names = crate::card::smartcard_list::SmartcardList::load_default()
            .map(Arc::new)
            .map_err(Arc::new);
        names_sink(Report::CardNames(names));
    });
    let startup = context.clone();
    let startup_sink = Arc::clone(&sink);
    let startup_tx = tx.clone();
    runtime.spawn(async move {
        for line in effects::reconcile_open_attempts(&startup).await {
            startup_sink(Report::Notice(line));
        }
        for line in actions::reconcile_open_actions(&startup).await {
            startup_sink(Report::Notice(line));
        }
        // A batch the station stopped during is offered for resuming.
        batch_window::report_open_batches(&startup, &startup_sink).await;
        // A closed channel means the app is shutting down.
        let _ = startup_tx.send(Input::StartupReconciled);
    });
    let worker = Worker {
        context,
        sink,
        bind: BindState::Idle,
        tx: tx.clone(),
        runtime: runtime.clone(),
        supervision,
        demo,
        fetches: Vec::new(),
        people,
        people_limit: people::limit(),
        settings_supervisor: None,
        reconciling: true,
        deferred_bind: None,
        unblocked: actions::UnblockLedger::default(),
        batch: batch_window::BatchSlot::default(),
    };
    runtime.spawn(worker.run(rx));
    WorkerHandle { tx }
}

struct Worker {
    context: BindContext,
    sink: ReportSink,
    /// Owned here, and only here, so two clicks can never start two binds.
    bind: BindState,
    tx: mpsc::UnboundedSender<Input>,
    runtime: Handle,
    supervision: Supervision,
    /// The demo reader, in demo mode: its card goes in and out by command,
    /// like everything else the window asks for.
    demo: Option<Arc<crate::card::demo::DemoReader>>,
    /// The request-list fetches that may still run, for Cancel.
    fetches: Vec<tokio::task::AbortHandle>,
    /// The directory, when one is configured.
    people: Option<Arc<dyn people::PeopleSource>>,
    /// How many directory lookups may run at once.
    people_limit: Arc<tokio::sync::Semaphore>,
    /// The supervisor whose credential opened the Settings view now open
    /// (see [`Supervision::settings_need_supervisor`]).
    settings_supervisor: Option<String>,
    /// Start-up reconciliation is still asking the server about earlier
    /// attempts: a new bind waits, or the server's answer about an old
    /// attempt could be the new bind's (a false "bound", or a false alarm).
    reconciling: bool,
    /// The bind asked for while [`Worker::reconciling`]; started after it.
    deferred_bind: Option<BindEvent>,
    /// The requests this run gave an unblock response under (Done completes them).
    unblocked: actions::UnblockLedger,
    /// The window's batch, while one runs (see [`batch_window`]).
    batch: batch_window::BatchSlot,
}

impl Worker {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Input>) {
        while let Some(input) = rx.recv().await {
            match input {
                Input::Command(Command::RefreshRequests(query)) => self.refresh(query),
                Input::Command(Command::CancelRequests) => self.cancel_fetches(),
                Input::Command(Command::LookUpRequest(id)) => self.look_up(id),
                Input::Command(Command::LookUpPeople(users)) => {
                    if let Some(source) = &self.people {
                        people::look_up_people(
                            &self.runtime,
                            source,
                            &self.people_limit,
                            users,
                            &self.sink,
                        );
                    }
                }
                Input::Command(Command::LookUpCard(card_id)) => self.look_up_card(card_id),
                Input::Command(Command::FindPeople { query }) => people::find_people(
                    &self.runtime,
                    self.people.as_ref(),
                    &self.people_limit,
                    query,
                    &self.sink,
                ),
                Input::Command(Command::ReadTemplates) => {
                    templates::read_templates(&self.runtime, &self.context.client, &self.sink)
                }
                Input::Command(Command::InsertDemoCard(index)) => self.demo_card(Some(index)),
                Input::Command(Command::RemoveDemoCard) => self.demo_card(None),
                Input::Command(Command::ReadTemplateReuse(template)) => {
                    self.read_template_reuse(template)
                }
                Input::Command(Command::ReadWorkflowPolicy { template, kind }) => {
                    request_detail::read_workflow_policy(
                        &self.runtime,
                        &self.context.client,
                        &self.sink,
                        template,
                        kind,
                    );
                }
                Input::Command(Command::ReadRequestCards(request)) => {
                    request_detail::read_request_cards(
                        &self.runtime,
                        &self.context.client,
                        &self.sink,
                        request,
                    );
                }
                Input::Command(Command::Bind(target)) => self.bind_unwitnessed(target),
                Input::Command(Command::DismissBind) => self.step(BindEvent::Dismissed),
                Input::Command(Command::RecheckBind) => self.step(BindEvent::RecheckRequested),
                Input::Command(Command::LoadAudit) => self.load_audit(),
                Input::Command(Command::ExportAudit(format)) => self.export_audit(format),
                Input::Command(Command::PickFiles(target)) => self.pick_files(target),
                Input::Command(Command::SaveSettings {
                    config,
                    path,
                    pinned,
                }) => self.save_settings(*config, path, pinned),
                Input::Command(Command::SettingsClosed) => self.settings_supervisor = None,
                Input::Command(Command::RecordControl {
                    kind,
                    supervisor,
                    message,
                }) => self.record_control(kind, supervisor, message),
                Input::Command(Command::TestConnection(config)) => self.test_connection(*config),
                Input::Command(Command::StoreSecret { name, secret }) => {
                    self.store_secret(name, secret)
                }
                Input::Command(Command::SaveLargerText { path, on }) => {
                    let sink = Arc::clone(&self.sink);
                    self.runtime.spawn(async move {
                        let saved =
                            off_thread(move || crate::config::save_larger_text(&path, on)).await;
                        if let Err(why) = saved {
                            sink(Report::Notice(format!(
                                "The \"Larger text\" choice was not saved: {why}"
                            )));
                        }
                    });
                }
                Input::Command(Command::SaveReadersWidth { path, width }) => {
                    let sink = Arc::clone(&self.sink);
                    // Whole points: the file stays readable and the value in range.
                    let width = width.clamp(0.0, f32::from(u16::MAX)) as u16;
                    self.runtime.spawn(async move {
                        let saved = off_thread(move || {
                            crate::config::save_readers_panel_width(&path, width)
                        })
                        .await;
                        if let Err(why) = saved {
                            sink(Report::Notice(format!(
                                "The readers panel's width was not saved: {why}"
                            )));
                        }
                    });
                }
                Input::Command(Command::PerformAction {
                    id,
                    action,
                    supervisor,
                }) => self.perform_action(id, action, supervisor),
                Input::Command(
                    command @ (Command::FindUnblockRequests(_) | Command::CompleteUnblock { .. }),
                ) => self.unblock_command(command),
                Input::Command(Command::StartBatch {
                    spec,
                    resume,
                    readers,
                }) => self.start_batch(spec, resume, readers),
                Input::Command(Command::BatchControl(control)) => self.batch_control(control),
                Input::Command(Command::BatchReader(event)) => self.batch_reader(event),
                Input::Command(Command::InsertFreshDemoCard) => self.insert_fresh_demo_card(),
                Input::BatchEnded(id) => self.batch_ended(id),
                Input::Command(Command::VerifySupervisor {
                    name,
                    password,
                    purpose,
                }) => self.verify_supervisor(name, password, purpose),
                Input::Supervisor { purpose, result } => self.supervisor_checked(purpose, result),
                Input::Bind(event) => self.step(event),
                Input::StartupReconciled => {
                    self.reconciling = false;
                    if let Some(event) = self.deferred_bind.take() {
                        self.step(event);
                    }
                    self.start_deferred_batch();
                }
            }
        }
    }

    fn step(&mut self, event: BindEvent) {
        if self.batch.is_busy() && matches!(event, BindEvent::Requested(_)) {
            (self.sink)(Report::Notice(
                "Not bound: a batch is running on this station's readers, and a single bind \
                 would compete with it for the cards. Let the batch end, or stop it, then bind."
                    .into(),
            ));
            return;
        }
        if self.reconciling && matches!(event, BindEvent::Requested(_)) {
            // One bind waits; further clicks do nothing, as during a bind.
            if self.deferred_bind.is_none() {
                self.deferred_bind = Some(event);
                (self.sink)(Report::Notice(
                    "The bind starts as soon as the station has checked the earlier \
                     unfinished binds with the server."
                        .into(),
                ));
            }
            return;
        }
        let before = self.bind.clone();
        let (state, effects) = apply(std::mem::take(&mut self.bind), event);
        self.bind = state;
        if self.bind != before {
            (self.sink)(Report::Bind(self.bind.clone()));
        }
        if let (BindState::Bound { target, .. }, Some(demo)) = (&self.bind, &self.demo)
            && !matches!(before, BindState::Bound { .. })
            && target.reader == crate::card::demo::DEMO_READER
        {
            demo.card_bound(target.expected.card_id);
        }
        for effect in effects {
            let context = self.context.clone();
            let tx = self.tx.clone();
            let sink = Arc::clone(&self.sink);
            self.runtime.spawn(async move {
                let performed = effects::perform(&context, effect).await;
                if let Some(warning) = performed.warning {
                    sink(Report::Notice(warning));
                }
                if let Some(event) = performed.event {
                    // A closed channel means the app is shutting down: nothing to report to.
                    let _ = tx.send(Input::Bind(event));
                }
            });
        }
    }

    fn bind_unwitnessed(&mut self, target: BindTarget) {
        // At a supervised counter the only way to a bind is a checked
        // supervisor credential, whatever the view sends.
        if self.supervision.witness.is_required() {
            (self.sink)(Report::Notice(
                "Not bound: at this supervised station a supervisor confirms every bind. \
                 Press Bind and have the supervisor enter their name and password."
                    .into(),
            ));
            return;
        }
        self.step(BindEvent::Requested(target));
    }

    fn verify_supervisor(
        &self,
        name: String,
        password: crate::platform::secrets::Secret,
        purpose: SupervisorPurpose,
    ) {
        let store = Arc::clone(&self.supervision.store);
        let tx = self.tx.clone();
        let sink = Arc::clone(&self.sink);
        // The OS account, and the principal the server signed in: the
        // witness of a bind must be neither.
        let operator = self.context.operator();
        let journal = Arc::clone(&self.context.journal);
        self.runtime.spawn(async move {
            let checked = purpose.clone();
            let tried = name.clone();
            let by = operator.clone();
            let result = off_thread(move || {
                crate::supervisors::check(&store, &by, &name, &password, &checked)
            })
            .await
            .map_err(|error| match error {
                OffThread::Failed(refused) => refused,
                OffThread::Stopped(stopped) => SupervisorError::Unfinished { why: stopped.why() },
            });
            // Every refusal is journalled: the name tried, never the password.
            if let Some(event) =
                crate::supervisors::refusal_record(&operator, &tried, &purpose, &result)
            {
                let written = effects::on_journal(&journal, move |j| j.record_event(event)).await;
                match written {
                    Ok(Ok(())) => {}
                    Ok(Err(why)) => sink(Report::Notice(format!(
                        "The refused supervisor credential could not be written to the audit \
                         journal: {why}"
                    ))),
                    Err(stopped) => tracing::warn!(%stopped, "the refusal was not journalled"),
                }
            }
            // A closed channel means the app is shutting down: nothing to report to.
            let _ = tx.send(Input::Supervisor { purpose, result });
        });
    }

    /// Runs a lifecycle action (see [`actions`]); the supervisor's
    /// credential is checked there, whatever the view sent.
    fn perform_action(
        &self,
        id: u64,
        action: crate::domain::action::Action,
        supervisor: Option<crate::supervisors::SupervisorCredential>,
    ) {
        let context = self.context.clone();
        let supervision = self.supervision.clone();
        let sink = Arc::clone(&self.sink);
        let unblocked = self.unblocked.clone();
        self.runtime.spawn(async move {
            let result = actions::perform(&context, &supervision, action, supervisor).await;
            unblocked.note(&result);
            sink(Report::ActionFinished { id, result });
        });
    }

    /// The phone unblock's two ends: the approved requests for a card, and
    /// Done's completion (see [`actions::complete_unblock`]).
    fn unblock_command(&self, command: Command) {
        let context = self.context.clone();
        let sink = Arc::clone(&self.sink);
        let unblocked = self.unblocked.clone();
        self.runtime.spawn(async move {
            match command {
                Command::FindUnblockRequests(card) => {
                    let result = actions::approved_unblocks(&context.client, &card)
                        .await
                        .map_err(|e| e.to_failure());
                    sink(Report::UnblockRequests {
                        smartcard: card.uuid,
                        result,
                    });
                }
                Command::CompleteUnblock {
                    id,
                    request,
                    card_id,
                } => {
                    let result =
                        actions::complete_unblock(&context, &unblocked, request, card_id).await;
                    sink(Report::ActionFinished { id, result });
                }
                _ => {}
            }
        });
    }

    fn record_control(
        &self,
        kind: crate::audit::ControlKind,
        supervisor: Option<String>,
        message: String,
    ) {
        let event =
            crate::audit::StationEvent::new(kind, self.context.operator(), supervisor, message);
        let journal = Arc::clone(&self.context.journal);
        let sink = Arc::clone(&self.sink);
        self.runtime.spawn(async move {
            match effects::on_journal(&journal, move |j| j.record_event(event)).await {
                Ok(Ok(())) => {}
                Ok(Err(why)) => sink(Report::Notice(format!(
                    "The audit journal could not record what the station just did: {why}"
                ))),
                Err(stopped) => tracing::warn!(%stopped, "a control record was not journalled"),
            }
        });
    }

    fn supervisor_checked(
        &mut self,
        purpose: SupervisorPurpose,
        result: Result<String, SupervisorError>,
    ) {
        (self.sink)(Report::SupervisorVerified {
            purpose: purpose.clone(),
            result: result.clone(),
        });
        if let (SupervisorPurpose::OpenSettings, Ok(supervisor)) = (&purpose, &result) {
            self.settings_supervisor = Some(supervisor.clone());
        }
        if let (SupervisorPurpose::ConfirmBatch { batch, size, .. }, Ok(supervisor)) =
            (&purpose, &result)
        {
            self.batch.witnessed(*batch, *size, supervisor.clone());
        }
        if let (SupervisorPurpose::ConfirmBind(target), Ok(supervisor)) = (purpose, result) {
            self.step(BindEvent::Requested(BindTarget {
                supervisor: Some(supervisor),
                ..target
            }));
        }
    }

    fn load_audit(&self) {
        let journal = Arc::clone(&self.context.journal);
        let sink = Arc::clone(&self.sink);
        self.runtime.spawn(async move {
            let (records, source) = audit_export::load(&journal).await;
            sink(Report::AuditNews(protocol::AuditNews::Journal(source)));
            sink(Report::Audit(records));
        });
    }

    fn export_audit(&self, format: crate::audit::ExportFormat) {
        let journal = Arc::clone(&self.context.journal);
        let sink = Arc::clone(&self.sink);
        self.runtime.spawn(async move {
            let result = audit_export::export(&journal, format).await;
            sink(Report::AuditNews(protocol::AuditNews::Exported(result)));
        });
    }

    fn pick_files(&self, target: FileTarget) {
        let sink = Arc::clone(&self.sink);
        self.runtime.spawn(async move {
            // The dialog runs through the desktop portal, off the UI thread.
            let dialog = rfd::AsyncFileDialog::new().set_title(target.title());
            let paths = if target.multiple() {
                dialog.pick_files().await.unwrap_or_default()
            } else {
                dialog.pick_file().await.into_iter().collect()
            };
            let paths = paths.iter().map(|h| h.path().to_owned()).collect();
            sink(Report::Settings(SettingsReport::FilesPicked {
                target,
                paths,
            }));
        });
    }

    /// Writes the configuration and journals which keys changed, who
    /// saved and the supervisor who opened Settings. At a supervised or
    /// kiosk station nothing is written unless a supervisor opened
    /// Settings and the journal can take the record, whatever the view sends.
    fn save_settings(
        &self,
        config: crate::config::StationConfig,
        path: std::path::PathBuf,
        pinned: Vec<&'static str>,
    ) {
        let sink = Arc::clone(&self.sink);
        let guarded = self.supervision.settings_need_supervisor;
        let supervisor = self.settings_supervisor.clone();
        if guarded && supervisor.is_none() {
            sink(Report::Settings(SettingsReport::Saved(Err(
                "Nothing was saved: at this station a supervisor opens Settings first. Close \
                 Settings and open it again with a supervisor's name and password."
                    .to_owned(),
            ))));
            return;
        }
        let journal = Arc::clone(&self.context.journal);
        let operator = self.context.operator();
        self.runtime.spawn(async move {
            let saved = settings_journal::save_and_journal(
                config, path, pinned, journal, operator, supervisor, guarded,
            )
            .await;
            if let Ok((_, Some(warning))) = &saved {
                sink(Report::Notice(warning.clone()));
            }
            // The view shows the words; a report is cloned, a file error is not.
            sink(Report::Settings(SettingsReport::Saved(
                saved
                    .map(|(path, _)| path)
                    .map_err(|error| error.to_string()),
            )));
        });
    }

    fn test_connection(&self, config: crate::cm::ClientConfig) {
        let sink = Arc::clone(&self.sink);
        self.runtime.spawn(async move {
            let report = crate::cm::check::run_check(&config).await;
            sink(Report::Settings(SettingsReport::Checked(report)));
        });
    }

    fn store_secret(
        &self,
        name: crate::platform::secrets::SecretName,
        secret: crate::platform::secrets::Secret,
    ) {
        let sink = Arc::clone(&self.sink);
        self.runtime.spawn(async move {
            // The keyring may talk to the Secret Service over D-Bus: off the async threads.
            let stored = off_thread(move || {
                let stored = crate::platform::secrets::set(&name, &secret);
                drop(secret);
                let store = crate::platform::secrets::store_name().unwrap_or("the keyring");
                stored.map(|()| format!("Stored {name} in the keyring ({store})."))
            })
            .await
            .map_err(|error| error.to_string());
            sink(Report::Settings(SettingsReport::SecretStored(stored)));
        });
    }

    fn look_up(&self, id: uuid::Uuid) {
        let client = self.context.client.clone();
        let sink = Arc::clone(&self.sink);
        self.runtime.spawn(async move {
            let result = match client.get_request(id).await {
                Ok(request) => Ok(Some(request)),
                Err(crate::cm::CmError::NotFound { .. }) => Ok(None),
                Err(error) => Err(error.to_failure()),
            };
            sink(Report::RequestLookedUp { id, result });
        });
    }

    /// Inserts demo card `index`, or takes the card out; the demo reader
    /// reports the change through the reader sink, as a real reader would.
    fn demo_card(&self, index: Option<usize>) {
        let Some(demo) = self.demo.clone() else {
            tracing::debug!("no demo reader; demo card command ignored");
            return;
        };
        // Reading the inserted card's identity runs APDUs: off the async threads.
        self.runtime.spawn_blocking(move || match index {
            Some(index) => {
                if !demo.insert_demo(index) {
                    tracing::warn!(index, "no such demo card");
                }
            }
            None => demo.remove(),
        });
    }

    fn look_up_card(&self, card_id: crate::domain::card::CardId) {
        let client = self.context.client.clone();
        let sink = Arc::clone(&self.sink);
        self.runtime.spawn(async move {
            use crate::domain::card_record::CmStanding;
            let standing = match client.card_record(&card_id).await {
                Ok(Some(record)) => CmStanding::Known(record),
                Ok(None) => CmStanding::New,
                Err(error) => CmStanding::Unknown(error.to_failure().to_string()),
            };
            sink(Report::CardLookedUp { card_id, standing });
        });
    }

    fn read_template_reuse(&self, template: uuid::Uuid) {
        let context = self.context.clone();
        let sink = Arc::clone(&self.sink);
        self.runtime.spawn(async move {
            let reuse = effects::template_reuse(&context, Some(template)).await;
            sink(Report::TemplateReuse { template, reuse });
        });
    }

    /// Aborts the list fetches under way: a dropped fetch closes its
    /// connection and reports nothing.
    fn cancel_fetches(&mut self) {
        for fetch in self.fetches.drain(..) {
            fetch.abort();
        }
    }

    fn refresh(&mut self, query: RequestQuery) {
        let client = self.context.client.clone();
        let sink = Arc::clone(&self.sink);
        sink(Report::RequestsLoading(query));
        self.fetches.retain(|fetch| !fetch.is_finished());
        let fetch = self.runtime.spawn(async move {
            let started = std::time::Instant::now();
            let result = fetch(&client, query).await;
            if let Ok(list) = &result {
                // P5 reads this line to know when the list is in memory.
                tracing::info!(
                    requests = list.len(),
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "request list loaded"
                );
            }
            let list = match result {
                Ok(list) => list,
                Err(failure) => {
                    sink(Report::Requests {
                        query,
                        result: Err(failure),
                    });
                    return;
                }
            };
            // Indexing 100,000 requests for the search takes longer than a
            // frame: it is done here, and the UI only swaps the list in.
            let indexed = tokio::task::spawn_blocking(move || {
                let index = Arc::new(crate::domain::search::SearchIndex::build(&list));
                crate::platform::allocator::return_freed_memory();
                (list, index)
            })
            .await;
            match indexed {
                Ok((requests, index)) => sink(Report::RequestsIndexed {
                    query,
                    requests,
                    index,
                }),
                Err(join) => sink(Report::Requests {
                    query,
                    result: Err(Failure::new(format!(
                        "The request list could not be prepared ({join})."
                    ))),
                }),
            }
        });
        self.fetches.push(fetch.abort_handle());
    }
}

/// Blocking work that failed, or never finished.
#[derive(Debug, thiserror::Error)]
enum OffThread<E: std::error::Error> {
    /// The work's own error.
    #[error(transparent)]
    Failed(E),
    /// The thread stopped before the work finished.
    #[error(transparent)]
    Stopped(#[from] WorkStopped),
}

/// Runs blocking work (a file write, the keyring) on a blocking thread.
async fn off_thread<T: Send + 'static, E: std::error::Error + Send + 'static>(
    work: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, OffThread<E>> {
    effects::blocking(work).await?.map_err(OffThread::Failed)
}

async fn fetch(client: &crate::cm::CmClient, query: RequestQuery) -> Result<Vec<Request>, Failure> {
    let mut all = Vec::new();
    for status in query.statuses() {
        let mut part = client
            .list_requests(status)
            .await
            .map_err(|error| error.to_failure())?;
        all.append(&mut part);
    }
    // A request whose status changed between two of the calls comes back twice.
    let mut seen = std::collections::HashSet::new();
    all.retain(|r| seen.insert(r.uuid));
    // The list stays for as long as it is shown: without the slack `append`
    // left, 10,000 requests hold a quarter less (issue 6, P5).
    all.shrink_to_fit();
    all.sort_by(Request::list_order);
    Ok(all)
}

/// The runtime the command line and the window share: small, named, built once.
pub fn runtime() -> Result<tokio::runtime::Runtime, NoRuntime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("enroll-worker")
        .enable_all()
        .build()
        .map_err(NoRuntime)
}

/// The worker threads could not be started (the system refused new threads).
#[derive(Debug, thiserror::Error)]
#[error("Could not start the station's worker threads: {0}")]
pub struct NoRuntime(std::io::Error);
