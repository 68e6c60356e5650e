//! What the window and the worker say to each other: the intents the UI
//! sends ([`Command`]) and what comes back ([`Report`]). The window's model
//! depends on this file alone of the worker.

use std::path::PathBuf;
use std::sync::Arc;

use crate::cm::check::CheckReport;
use crate::domain::bind::{BindState, BindTarget, Failure};
use crate::domain::readers::ReaderEvent;
use crate::domain::request::{Request, RequestQuery};

/// What the UI asks the worker to do.
#[derive(Clone, Debug)]
pub enum Command {
    /// Fetch the request list for this query.
    RefreshRequests(RequestQuery),
    /// Stop the request-list fetches under way (the operator pressed
    /// Cancel): nothing more is reported for them.
    CancelRequests,
    /// Fetch one request by its GUID (the kiosk's scanned code); answered
    /// with [`Report::RequestLookedUp`].
    LookUpRequest(uuid::Uuid),
    /// Ask the directory who these target accounts are; each is answered
    /// with a [`Report::PersonLookedUp`] (none without a directory).
    LookUpPeople(Vec<uuid::Uuid>),
    /// Ask CM what it knows of a card just identified; answered with
    /// [`Report::CardLookedUp`].
    LookUpCard(crate::domain::card::CardId),
    /// Find the people whose names or accounts start with the typed text
    /// (the New request form); answered with [`Report::PeopleFound`].
    FindPeople {
        /// The text, checked.
        query: super::people::PeopleQuery,
    },
    /// Read CM's profile templates (the New request form's drop-down);
    /// answered with [`Report::TemplatesRead`].
    ReadTemplates,
    /// Ask whether a template allows a discontinued card to be reused;
    /// answered with [`Report::TemplateReuse`].
    ReadTemplateReuse(uuid::Uuid),
    /// Read a template's workflow policy for a request type (why a Pending
    /// request waits); answered with [`Report::WorkflowPolicy`].
    ReadWorkflowPolicy {
        /// The profile template.
        template: uuid::Uuid,
        /// The request type whose workflow is asked about.
        kind: crate::domain::request::RequestType,
    },
    /// Read the cards a request names (old and new, each looked up) for the
    /// detail pane; answered with [`Report::RequestCards`].
    ReadRequestCards(uuid::Uuid),
    /// Put the demo card at this index of [`crate::card::demo::demo_cards`]
    /// into the demo reader (demo mode only; ignored elsewhere).
    InsertDemoCard(usize),
    /// Take the card out of the demo reader.
    RemoveDemoCard,
    /// Bind a request to a card (one click). Ignored while a bind is in flight.
    Bind(BindTarget),
    /// The operator acknowledged the last bind's result.
    DismissBind,
    /// Ask the server again about a bind whose result is unknown.
    RecheckBind,
    /// Load the journal's recent records for the audit view.
    LoadAudit,
    /// Ask where to save, then export the journal.
    ExportAudit(crate::audit::ExportFormat),
    /// Open the desktop's file dialog for a Settings field; answered with
    /// [`SettingsReport::FilesPicked`].
    PickFiles(FileTarget),
    /// Write the configuration file (it is checked again before writing);
    /// answered with [`SettingsReport::Saved`].
    SaveSettings {
        /// The configuration to write.
        config: Box<crate::config::StationConfig>,
        /// The file.
        path: std::path::PathBuf,
        /// The keys the machine policy pins: never written into the file.
        pinned: Vec<&'static str>,
    },
    /// Run the connection check with these settings; answered with
    /// [`SettingsReport::Checked`].
    TestConnection(Box<crate::cm::ClientConfig>),
    /// Put a secret in the OS keyring; answered with
    /// [`SettingsReport::SecretStored`]. The secret is
    /// dropped once stored and never reported or logged.
    StoreSecret {
        /// The keyring entry.
        name: crate::platform::secrets::SecretName,
        /// The value.
        secret: crate::platform::secrets::Secret,
    },
    /// Write the "Larger text" choice into the configuration file, keeping the
    /// rest of it; a failure is reported as a [`Report::Notice`].
    SaveLargerText {
        /// The configuration file.
        path: std::path::PathBuf,
        /// Larger text on or off.
        on: bool,
    },
    /// Write the readers panel's width into the configuration file, keeping
    /// the rest of it; a failure is reported as a [`Report::Notice`].
    SaveReadersWidth {
        /// The configuration file.
        path: std::path::PathBuf,
        /// The width in points.
        width: f32,
    },
    /// The Settings view closed: a supervisor's opening of it no longer
    /// covers a save (at a supervised or kiosk station, the next one needs
    /// a new credential).
    SettingsClosed,
    /// Journal something the station did to its own trust (kiosk left or
    /// resumed, Settings opened): the worker adds who operates the station;
    /// a record that cannot be written is reported as a [`Report::Notice`].
    RecordControl {
        /// What happened.
        kind: crate::audit::ControlKind,
        /// The supervisor who allowed it, if one did.
        supervisor: Option<String>,
        /// What happened, in words.
        message: String,
    },
    /// Perform a lifecycle action (issue 21: abandon or cancel a request,
    /// retire or revoke a card, a temporary card or a card on someone's
    /// behalf, an offline unblock), after the agent confirmed it; answered
    /// with [`Report::ActionFinished`] carrying the same `id`.
    ///
    /// For the window (the interface of issue 21's window part):
    /// - build the [`Action`](crate::domain::action::Action) from
    ///   `domain::action` and `domain::lifecycle::NewRequest`;
    /// - offer a card's actions from [`Command::LookUpCard`] →
    ///   [`Report::CardLookedUp`] (`CardRecord::operations`), a request's
    ///   undo from its status; take the data items from
    ///   [`Command::ReadWorkflowPolicy`] and check them with
    ///   `domain::action::missing_items_message`;
    /// - at a supervised station send the supervisor's name and password
    ///   in `supervisor`: the worker checks it (same throttle and refusal
    ///   records as a bind's witness) and refuses the action without it;
    /// - the worker journals an `action_intent` before the call and one
    ///   `action_outcome` after (new [`crate::audit::EventKind`]s), and
    ///   reconciles a lost answer itself before it reports.
    PerformAction {
        /// The window's number for this action, repeated in the report.
        id: u64,
        /// What to do.
        action: crate::domain::action::Action,
        /// The supervisor's credential, at a supervised station.
        supervisor: Option<crate::supervisors::SupervisorCredential>,
    },
    /// Look for OfflineUnblock requests CM holds, approved, for this card
    /// object and its user (the phone unblock uses one instead of creating
    /// another); answered with [`Report::UnblockRequests`].
    FindUnblockRequests(crate::domain::smartcard::Smartcard),
    /// The agent pressed Done after reading out an unblock response: mark
    /// its request Completed (journalled; only a request this run gave a
    /// response under). Answered with [`Report::ActionFinished`] carrying
    /// the same `id`.
    CompleteUnblock {
        /// The window's number for it, repeated in the report.
        id: u64,
        /// The OfflineUnblock request the response was given under.
        request: uuid::Uuid,
        /// The card it unblocks.
        card_id: crate::domain::card::CardId,
    },
    /// Start a batch (issue 22): bind `spec`'s requests across every reader
    /// at once, each through the same safe bind as a single one; answered
    /// with [`Report::Batch`]. `readers` is the window's picture of the
    /// readers now (their cards are the first the batch uses); the window
    /// then forwards each reader event it applies ([`Command::BatchReader`]).
    /// Refused, in words, while a bind or another batch runs, and at a
    /// supervised station without the supervisor's checked confirmation of
    /// this batch (`SupervisorPurpose::ConfirmBatch`).
    StartBatch {
        /// The batch: its ID, queue and the people's names.
        spec: super::batch::BatchSpec,
        /// Continue the journal's open batch of `spec.id` (after a crash).
        resume: bool,
        /// The readers as the window knows them now.
        readers: Vec<ReaderEvent>,
    },
    /// The operator's control of the running batch (pause, skip, retry, stop).
    BatchControl(super::batch::BatchControl),
    /// A reader event the window applied, for the running batch (ignored
    /// when none runs): the batch sees the readers the window shows.
    BatchReader(ReaderEvent),
    /// Put a fresh GIDS virtual card (a new random card ID) into the demo
    /// reader (demo mode only; ignored elsewhere): a batch needs a new card
    /// for each request.
    InsertFreshDemoCard,
    /// Check a supervisor's credential for `purpose`, off the UI thread;
    /// answered with [`Report::SupervisorVerified`]. A confirmed bind then
    /// starts here, with the supervisor's name, and nowhere else.
    VerifySupervisor {
        /// The name as typed.
        name: String,
        /// The password; dropped once checked, never reported or logged.
        password: crate::platform::secrets::Secret,
        /// What the credential is for.
        purpose: crate::supervisors::SupervisorPurpose,
    },
}

/// What the worker (and the reader monitors) tell the UI.
#[derive(Clone, Debug)]
pub enum Report {
    /// The directory's answer about a target account.
    PersonLookedUp {
        /// The account's GUID.
        user: uuid::Uuid,
        /// The account, none, or why the directory could not be asked.
        result: super::people::LookupResult,
    },
    /// The people a [`Command::FindPeople`] found.
    PeopleFound {
        /// The text searched for.
        query: super::people::PeopleQuery,
        /// The matches, or why the directory could not be searched.
        result: super::people::SearchResult,
    },
    /// CM's profile templates (names cleaned at the `cm` boundary), or why
    /// they could not be read.
    TemplatesRead(Result<Vec<crate::cm::model::ProfileTemplate>, Failure>),
    /// A request list is being fetched.
    RequestsLoading(RequestQuery),
    /// The request list for a query, or why it could not be fetched.
    Requests {
        /// The query it answers.
        query: RequestQuery,
        /// The list, or the failure.
        result: Result<Vec<Request>, Failure>,
    },
    /// The request list for a query with its search index, built off the UI thread.
    RequestsIndexed {
        /// The query it answers.
        query: RequestQuery,
        /// The list, in [`Request::list_order`].
        requests: Vec<Request>,
        /// Its search index.
        index: Arc<crate::domain::search::SearchIndex>,
    },
    /// One request fetched by its GUID: `Ok(None)` when the server has no such request.
    RequestLookedUp {
        /// The GUID asked for.
        id: uuid::Uuid,
        /// The request, none, or why the server could not say.
        result: Result<Option<Request>, Failure>,
    },
    /// What CM knows of a card.
    CardLookedUp {
        /// The card asked about.
        card_id: crate::domain::card::CardId,
        /// The answer.
        standing: crate::domain::card_record::CmStanding,
    },
    /// A template's `AllowSmartcardReuse`, or why it could not be read.
    TemplateReuse {
        /// The template asked about.
        template: uuid::Uuid,
        /// The answer.
        reuse: crate::domain::reuse::TemplateReuse,
    },
    /// A template's workflow policy for a request type: `Ok(None)` when the
    /// server has none (204), or why it could not be read.
    WorkflowPolicy {
        /// The template asked about.
        template: uuid::Uuid,
        /// The request type asked about.
        kind: crate::domain::request::RequestType,
        /// The policy, none, or the failure (with the correlation ID).
        result: Result<Option<crate::domain::lifecycle::WorkflowPolicy>, Failure>,
    },
    /// The cards a request names, or why the request could not be read.
    RequestCards {
        /// The request asked about.
        request: uuid::Uuid,
        /// Its old and new card.
        result: Result<crate::domain::request_cards::RequestCards, Failure>,
    },
    /// The bind moved to a new state.
    Bind(BindState),
    /// Something happened to a reader or a card.
    Reader(ReaderEvent),
    /// Something the operator must know (e.g. an earlier unfinished bind was reconciled).
    Notice(String),
    /// The journal's recent records, oldest first.
    Audit(Vec<crate::audit::Record>),
    /// What the audit window shows besides the records: the journal they
    /// come from (or why there is none) and each export's result.
    AuditNews(AuditNews),
    /// The card name list (pcsc-tools' smartcard_list.txt), or why there is none.
    CardNames(CardNames),
    /// An answer for the Settings view.
    Settings(SettingsReport),
    /// A [`Command::PerformAction`] finished: what CM did, or why not (in
    /// words, with CM's correlation ID). An unblock response in it is shown
    /// on screen only.
    ActionFinished {
        /// The command's `id`.
        id: u64,
        /// What was done, or the failure.
        result: Result<crate::domain::action::ActionDone, Failure>,
    },
    /// The approved OfflineUnblock requests CM holds for a card object,
    /// newest first, or why CM could not be asked.
    UnblockRequests {
        /// The smart card object asked about.
        smartcard: uuid::Uuid,
        /// The requests, or the failure (with the correlation ID).
        result: Result<Vec<crate::domain::unblock::ApprovedUnblock>, Failure>,
    },
    /// News of the window's batch.
    Batch(BatchReport),
    /// A supervisor's credential was checked: their name as configured, or
    /// the refusal in words.
    SupervisorVerified {
        /// What it was asked for.
        purpose: crate::supervisors::SupervisorPurpose,
        /// The supervisor's configured name, or why not.
        result: Result<String, crate::supervisors::SupervisorError>,
    },
}

/// What the worker tells the window about its batch (issue 22).
#[derive(Clone, Debug)]
pub enum BatchReport {
    /// The batch started (or resumed) on the worker.
    Started {
        /// The batch.
        id: uuid::Uuid,
        /// The supervisor who confirmed it, at a supervised station.
        supervisor: Option<String>,
    },
    /// The runner's news: the batch as it is now, an ended bind, a notice.
    Update(super::batch::BatchUpdate),
    /// The batch ended, with its counts.
    Finished {
        /// The batch.
        id: uuid::Uuid,
        /// Its counts at the end, and whether it was stopped.
        summary: super::batch::BatchSummary,
    },
    /// The batch did not start (or could not go on): why, in words.
    Refused {
        /// The batch.
        id: uuid::Uuid,
        /// Why, and what to do.
        why: String,
    },
    /// The batches the journal holds open (the station stopped during
    /// one, or answers are still unknown): the window offers to resume them.
    Open(Vec<OpenBatchOffer>),
}

/// A batch the journal holds open, as the window offers to resume it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenBatchOffer {
    /// The batch.
    pub id: uuid::Uuid,
    /// Its requests in queue order.
    pub members: Vec<uuid::Uuid>,
    /// How many of them were bound before it stopped.
    pub bound: usize,
}

/// The card name list, or why there is none; shared, as a report is cloned.
pub type CardNames = Result<
    Arc<crate::card::smartcard_list::SmartcardList>,
    Arc<crate::card::smartcard_list::ListError>,
>;

/// Where reports go; it wakes the UI after each one.
pub type ReportSink = Arc<dyn Fn(Report) + Send + Sync>;

/// Which field a file dialog fills.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileTarget {
    /// `tls.ca_files`: several files may be chosen; they are added to the list.
    CaFiles,
    /// `tls.client_certificate`.
    ClientCertificate,
    /// `tls.client_key`.
    ClientKey,
}

impl FileTarget {
    /// The file dialog's title.
    pub fn title(self) -> &'static str {
        match self {
            FileTarget::CaFiles => "Choose CA certificate files (PEM)",
            FileTarget::ClientCertificate => "Choose the station's client certificate (PEM)",
            FileTarget::ClientKey => "Choose the client certificate's private key (PEM)",
        }
    }

    /// Whether the dialog lets several files be chosen.
    pub fn multiple(self) -> bool {
        self == FileTarget::CaFiles
    }
}

/// What the worker tells the Settings view.
#[derive(Clone, Debug)]
pub enum SettingsReport {
    /// The file dialog closed; no paths when it was cancelled (or no dialog is available).
    FilesPicked {
        /// The field the dialog was for.
        target: FileTarget,
        /// The chosen files.
        paths: Vec<PathBuf>,
    },
    /// The configuration was written to this file, or why not, in words.
    Saved(Result<PathBuf, String>),
    /// The connection check finished.
    Checked(CheckReport),
    /// The secret was stored (what, and where), or why not, in words.
    SecretStored(Result<String, String>),
}

/// News for the audit window, answering [`Command::LoadAudit`] and
/// [`Command::ExportAudit`]; it is shown there and nowhere else.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuditNews {
    /// Where the records come from, sent with each load.
    Journal(JournalSource),
    /// An export finished.
    Exported(ExportResult),
}

/// The journal the audit window reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JournalSource {
    /// This file.
    File(PathBuf),
    /// There is no journal to read: why, and what to do, in words.
    Unusable(String),
}

/// One export's result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportResult {
    /// When it finished (UTC).
    pub at: time::OffsetDateTime,
    /// What happened.
    pub outcome: ExportOutcome,
}

/// How an export of the journal ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExportOutcome {
    /// The file was written.
    Saved {
        /// The file.
        path: PathBuf,
        /// How many records it holds.
        records: u64,
        /// Why the station chose the place instead of asking: no file
        /// dialog is available (what is missing), in words; None when the
        /// operator chose it in the dialog.
        no_dialog: Option<String>,
    },
    /// The operator closed the file dialog without choosing a file.
    Cancelled,
    /// Nothing (or nothing usable) was written: why, and what to do.
    Failed(String),
}

/// What the audit window knows besides the records, as the window's model keeps it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditStatus {
    /// The journal of the last load; None until the first one answers.
    pub journal: Option<JournalSource>,
    /// The last export's result.
    pub export: Option<ExportResult>,
}

impl AuditStatus {
    /// The file the last export wrote, when it wrote one.
    pub fn saved(&self) -> Option<&std::path::Path> {
        match &self.export.as_ref()?.outcome {
            ExportOutcome::Saved { path, .. } => Some(path),
            ExportOutcome::Cancelled | ExportOutcome::Failed(_) => None,
        }
    }

    /// Takes in one piece of news.
    pub fn apply(&mut self, news: AuditNews) {
        match news {
            AuditNews::Journal(source) => self.journal = Some(source),
            AuditNews::Exported(result) => self.export = Some(result),
        }
    }
}
