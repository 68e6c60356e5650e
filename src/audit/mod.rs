//! The audit journal: an append-only, hash-chained JSON Lines file with one
//! record per event of a bind.
//!
//! Every bind writes an `attempt` record (flushed to disk *before* the POST)
//! and later exactly one `outcome` record. Each line carries the SHA-256 of
//! the previous line's exact bytes, so an edited, removed or reordered record
//! breaks the chain at a line [`verify`] can name.
//!
//! The chain cannot tell that the *last* records were cut off or that the last
//! line was changed: nothing after them vouches for them. [`VerifyReport::last_hash`]
//! is printed by `audit verify` so it can be noted elsewhere as an anchor.
//!
//! Lines are hashed without their terminating `\n`. A writer locks the
//! opened journal file itself, so two paths to one file meet at one lock
//! (on Windows the file is opened sharing reads only: its byte-range locks
//! are mandatory and would stop `audit verify` from reading the journal
//! while the window is open). See [`AuditJournal::open`] for the checks
//! before each append and the repair of a torn last line.
pub mod forward;
pub mod head;
pub mod journal;

mod chain;
mod error;
mod export;
mod file;
mod identity;

pub use chain::{BreakReason, ChainBreak, Inconsistency, VerifyReport, verify};
pub use error::{AuditError, EndChanged};
pub use export::{
    CSV_HEADER, ExportFormat, ExportPlace, default_export_place, export, export_file_name,
    export_to_file, export_to_new_file,
};
pub use file::{AuditJournal, Repair};
pub use identity::{set_station_name, station_name};

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use self::identity::os_user_name;
use crate::domain::bind::BindTarget;
use crate::domain::card::{Atr, CardId};

/// The `prev_hash` of the first record: 64 zeros.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The journal's file name inside the data directory.
pub const JOURNAL_FILE_NAME: &str = "audit.jsonl";

/// How many of the latest records an open journal keeps for [`AuditJournal::recent`].
pub const RECENT_CAPACITY: usize = 1000;

/// The station's journal: `audit.jsonl` in the platform's local data directory
/// (on Linux `$XDG_DATA_HOME/enroll-station/`, by default `~/.local/share/enroll-station/`).
///
/// `None` when the platform names no home directory; the caller then needs an
/// explicit path.
pub fn default_journal_path() -> Option<PathBuf> {
    // The local (not roaming) directory: a station's journal belongs to that
    // machine and must not be synchronised between Windows profiles.
    directories::ProjectDirs::from("", "", "enroll-station")
        .map(|dirs| dirs.data_local_dir().join(JOURNAL_FILE_NAME))
}
/// Who acted: the OS account and, when the server authenticated them, their principal.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Operator {
    /// The operating-system account running the station (`DOMAIN\user` on Windows).
    pub os_user: Option<String>,
    /// The principal the CM server authenticated (e.g. `alice@CONTOSO.COM`), when known.
    pub principal: Option<String>,
}

impl Operator {
    /// The account running this process, with no principal yet.
    pub fn from_os() -> Self {
        Self {
            os_user: os_user_name(),
            principal: None,
        }
    }

    /// The same operator with the principal the server authenticated.
    pub fn with_principal(mut self, principal: impl Into<String>) -> Self {
        self.principal = Some(principal.into());
        self
    }
}
pub use crate::domain::bind::AttemptId;

/// What a record says happened: the start or the end of a bind, or an event
/// of the station's controls that is part of no bind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// The station is about to send the bind; written before the POST.
    Attempt,
    /// How the attempt ended.
    Outcome,
    /// The Settings view saved the configuration file: who saved (the
    /// operator, and the supervisor who opened Settings) and which keys
    /// changed, never their values.
    SettingsSaved,
    /// A supervisor credential was refused (wrong, throttled, or the
    /// operator's own): the name tried and why, never the password.
    SupervisorRefused,
    /// The throttle made the station wait before checking supervisor
    /// credentials again (too many wrong ones): the name tried and how long.
    SupervisorLockedOut,
    /// The station started: in which mode, on which server, by whom.
    StationStarted,
    /// A supervisor left kiosk mode for the staff desk.
    KioskLeft,
    /// The station went back to kiosk mode (a button, or the staff desk left idle).
    KioskResumed,
    /// The Settings view was opened (by the operator at a desk, or a
    /// supervisor at a supervised station or kiosk).
    SettingsOpened,
    /// Start-up reconciliation found a request bound to another card than
    /// the one its unfinished attempt tried: someone else bound it.
    ReconcileAlarm,
    /// The journal was found missing, shortened or rewritten against the
    /// head marker the station keeps beside it ([`head`]): what the marker
    /// said and what the file held.
    JournalGap,
    /// A journal with records but no head marker beside it was opened for
    /// writing (one from a version before markers, or the marker was
    /// deleted): the station created the marker from the journal as it
    /// found it, and says how many records and which last hash it vouched for.
    HeadMarkerCreated,
    /// A lifecycle action (issue 21: a status change, a created request, an
    /// offline unblock) is about to be sent; written before the call, like
    /// a bind's attempt. Its `message` says what, `request_id` the request
    /// (nil for one still to be created), `card_id` the card, if any.
    ActionIntent,
    /// How an action ended; exactly one per intent. For an offline unblock
    /// it records THAT a response was issued, never the response.
    ActionOutcome,
    /// A batch began (issue 22): its ID, its requests in queue order
    /// (`members`), who ran it and the supervisor who confirmed it.
    BatchStarted,
    /// What happened to one request of a batch beyond its bind's own
    /// records (a card refused or pulled, a skip, a retry), so that a
    /// batch resumed after a crash is where it was.
    BatchMember,
    /// A batch ended (finished or stopped), with its totals in words.
    BatchFinished,
}

impl EventKind {
    /// The name used in the journal and in exports.
    pub fn as_str(&self) -> &'static str {
        match self {
            EventKind::Attempt => "attempt",
            EventKind::Outcome => "outcome",
            EventKind::SettingsSaved => "settings_saved",
            EventKind::SupervisorRefused => "supervisor_refused",
            EventKind::SupervisorLockedOut => "supervisor_locked_out",
            EventKind::StationStarted => "station_started",
            EventKind::KioskLeft => "kiosk_left",
            EventKind::KioskResumed => "kiosk_resumed",
            EventKind::SettingsOpened => "settings_opened",
            EventKind::ReconcileAlarm => "reconcile_alarm",
            EventKind::JournalGap => "journal_gap",
            EventKind::HeadMarkerCreated => "head_marker_created",
            EventKind::ActionIntent => "action_intent",
            EventKind::ActionOutcome => "action_outcome",
            EventKind::BatchStarted => "batch_started",
            EventKind::BatchMember => "batch_member",
            EventKind::BatchFinished => "batch_finished",
        }
    }

    /// Every kind, in the order of the enum.
    pub const ALL: [EventKind; 17] = [
        EventKind::Attempt,
        EventKind::Outcome,
        EventKind::SettingsSaved,
        EventKind::SupervisorRefused,
        EventKind::SupervisorLockedOut,
        EventKind::StationStarted,
        EventKind::KioskLeft,
        EventKind::KioskResumed,
        EventKind::SettingsOpened,
        EventKind::ReconcileAlarm,
        EventKind::JournalGap,
        EventKind::HeadMarkerCreated,
        EventKind::ActionIntent,
        EventKind::ActionOutcome,
        EventKind::BatchStarted,
        EventKind::BatchMember,
        EventKind::BatchFinished,
    ];

    /// Whether the record belongs to a bind (an attempt or its outcome);
    /// the other kinds carry no request, card or reader.
    pub fn is_bind(&self) -> bool {
        matches!(self, EventKind::Attempt | EventKind::Outcome)
    }

    /// Whether the record belongs to a lifecycle action (its intent or its outcome).
    pub fn is_action(&self) -> bool {
        matches!(self, EventKind::ActionIntent | EventKind::ActionOutcome)
    }

    /// Whether the record opens something that needs exactly one outcome.
    pub fn opens(&self) -> bool {
        matches!(self, EventKind::Attempt | EventKind::ActionIntent)
    }

    /// Whether the record is the outcome of what an earlier one opened.
    pub fn closes(&self) -> bool {
        matches!(self, EventKind::Outcome | EventKind::ActionOutcome)
    }
}

/// The kinds of [`StationEvent`]: the [`EventKind`]s that are part of no bind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ControlKind {
    /// [`EventKind::SettingsSaved`].
    SettingsSaved,
    /// [`EventKind::SupervisorRefused`].
    SupervisorRefused,
    /// [`EventKind::SupervisorLockedOut`].
    SupervisorLockedOut,
    /// [`EventKind::StationStarted`].
    StationStarted,
    /// [`EventKind::KioskLeft`].
    KioskLeft,
    /// [`EventKind::KioskResumed`].
    KioskResumed,
    /// [`EventKind::SettingsOpened`].
    SettingsOpened,
    /// [`EventKind::ReconcileAlarm`].
    ReconcileAlarm,
    /// [`EventKind::JournalGap`].
    JournalGap,
    /// [`EventKind::HeadMarkerCreated`].
    HeadMarkerCreated,
    /// [`EventKind::BatchStarted`].
    BatchStarted,
    /// [`EventKind::BatchMember`].
    BatchMember,
    /// [`EventKind::BatchFinished`].
    BatchFinished,
}

impl From<ControlKind> for EventKind {
    fn from(kind: ControlKind) -> EventKind {
        match kind {
            ControlKind::SettingsSaved => EventKind::SettingsSaved,
            ControlKind::SupervisorRefused => EventKind::SupervisorRefused,
            ControlKind::SupervisorLockedOut => EventKind::SupervisorLockedOut,
            ControlKind::StationStarted => EventKind::StationStarted,
            ControlKind::KioskLeft => EventKind::KioskLeft,
            ControlKind::KioskResumed => EventKind::KioskResumed,
            ControlKind::SettingsOpened => EventKind::SettingsOpened,
            ControlKind::ReconcileAlarm => EventKind::ReconcileAlarm,
            ControlKind::JournalGap => EventKind::JournalGap,
            ControlKind::HeadMarkerCreated => EventKind::HeadMarkerCreated,
            ControlKind::BatchStarted => EventKind::BatchStarted,
            ControlKind::BatchMember => EventKind::BatchMember,
            ControlKind::BatchFinished => EventKind::BatchFinished,
        }
    }
}

impl StationEvent {
    /// A record of `kind` by `operator`, with `supervisor` when one acted,
    /// saying `message`.
    pub fn new(
        kind: ControlKind,
        operator: Operator,
        supervisor: Option<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            kind,
            operator,
            supervisor,
            request_id: None,
            changed: None,
            message: message.into(),
            batch: None,
        }
    }
}

/// A batch started and not finished, as the journal holds it: what a
/// resume after a crash starts from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenBatch {
    /// The `batch_started` record (its `batch_id`, `members`, operator, supervisor).
    pub start: Record,
    /// Its `batch_member` records and its requests' attempts and outcomes, in order.
    pub history: Vec<Record>,
    members: std::collections::HashSet<Uuid>,
}

impl OpenBatch {
    fn new(start: Record) -> Self {
        let members = start.members.iter().flatten().copied().collect();
        OpenBatch {
            start,
            history: Vec::new(),
            members,
        }
    }

    /// Keeps `record` when it belongs to this batch.
    fn take(&mut self, record: &Record) {
        let ours = match record.event {
            EventKind::BatchMember => record.batch_id == self.start.batch_id,
            EventKind::Attempt | EventKind::Outcome => self.members.contains(&record.request_id),
            _ => false,
        };
        if ours {
            self.history.push(record.clone());
        }
    }

    /// The batch's ID (nil for a start record without one, which the station never writes).
    pub fn id(&self) -> Uuid {
        self.start.batch_id.unwrap_or_default()
    }

    /// Its requests in queue order.
    pub fn members(&self) -> &[Uuid] {
        self.start.members.as_deref().unwrap_or_default()
    }
}

/// What a batch record adds: which batch, and for its start the queue;
/// for a member's record, the card and reader it concerns.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BatchMark {
    /// The batch's ID.
    pub id: Uuid,
    /// The requests in queue order (`batch_started` only).
    pub members: Option<Vec<Uuid>>,
    /// The card the member's record concerns, in CM's form.
    pub card_id: Option<String>,
    /// The reader that held it.
    pub reader: Option<String>,
}

/// A record of the station's controls, part of no bind: see
/// [`AuditJournal::record_event`]. Its request and attempt IDs are the nil
/// UUID and its card, ATR and reader are empty, unless a refused supervisor
/// was asked to witness a bind (then the request is named).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StationEvent {
    /// What happened.
    pub kind: ControlKind,
    /// Who acted at the station.
    pub operator: Operator,
    /// The supervisor: who opened Settings, or the name tried.
    pub supervisor: Option<String>,
    /// The request a refused witness was asked to confirm.
    pub request_id: Option<Uuid>,
    /// The keys that changed (settings_saved only).
    pub changed: Option<Vec<String>>,
    /// What happened, in words.
    pub message: String,
    /// The batch the record belongs to (batch records only).
    pub batch: Option<BatchMark>,
}

/// How an attempt ended: the bind machine's outcome, stored by its snake_case name.
pub use crate::domain::bind::Outcome;

/// What an attempt record says about the bind about to be sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttemptInfo {
    /// The station's name (see [`station_name`]).
    pub station: String,
    /// Who asked for the bind.
    pub operator: Operator,
    /// Who supervised it, in a supervised mode.
    pub supervisor: Option<String>,
    /// The request being bound.
    pub request_id: Uuid,
    /// The person the request is for, as the desk showed them; cleaned again
    /// when it is written (see [`Record::person`]).
    pub person: Option<String>,
    /// The card ID about to be sent.
    pub card_id: CardId,
    /// The ATR about to be sent.
    pub atr: Atr,
    /// The reader holding the card.
    pub reader: String,
    /// A note for the record, if any.
    pub message: Option<String>,
    /// The CM API's base URL the bind is sent to (see [`Record::api_base`]).
    pub api_base: Option<String>,
}

impl AttemptInfo {
    /// An attempt to bind `target`, by this machine's OS user on this station.
    pub fn for_target(target: &BindTarget) -> Self {
        Self::for_target_by(target, Operator::from_os())
    }

    /// An attempt to bind `target` by `operator` (the OS account and the
    /// principal the server accepted), on this station.
    pub fn for_target_by(target: &BindTarget, operator: Operator) -> Self {
        Self {
            station: station_name(),
            operator,
            supervisor: target.supervisor.clone(),
            request_id: target.request_id,
            person: Some(target.person.clone()),
            card_id: target.expected.card_id,
            atr: target.expected.atr.clone(),
            reader: target.reader.clone(),
            // A YubiKey's CHUID GUID can be rotated by ykman or erased by a
            // PIV reset; its serial lets support match a later "unknown
            // card" to this bind. It is recorded, never sent.
            message: target.expected.yubikey_serial.map(|serial| {
                format!(
                    "YubiKey serial {serial}; the card ID is its PIV CHUID GUID, which must not \
                     change before the request is executed"
                )
            }),
            api_base: None,
        }
    }

    /// The same attempt, sent to the CM API at `api_base`.
    pub fn to_server(mut self, api_base: impl Into<String>) -> Self {
        self.api_base = Some(api_base.into());
        self
    }
}

/// What an action intent record says about the action about to be sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionInfo {
    /// Who asked for it (the OS account and the principal the server accepted).
    pub operator: Operator,
    /// Who witnessed it, at a supervised station.
    pub supervisor: Option<String>,
    /// The request it acts on; `None` for a request still to be created.
    pub request_id: Option<Uuid>,
    /// The card it acts on, when one is known.
    pub card_id: Option<CardId>,
    /// The smart card object it acts on, when one is known.
    pub smartcard_uuid: Option<Uuid>,
    /// What is about to be done, in words (never a response or a secret).
    pub message: String,
    /// The CM API's base URL the call goes to.
    pub api_base: String,
}

/// What an outcome record adds to its attempt.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutcomeInfo {
    /// The smart card object the server created, when it named one.
    pub smartcard_uuid: Option<Uuid>,
    /// The server's correlation ID, for the CM administrator.
    pub correlation_id: Option<String>,
    /// Why, in operator words (a refusal's reason, a failure's message).
    pub message: Option<String>,
}

/// One line of the journal.
///
/// Outcome records repeat their attempt's station, operator, request, card,
/// reader and server so that every line (and every exported row) stands on
/// its own. A line with a field the station does not write is not a record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// 1 for the first record, one more for each next one.
    pub seq: u64,
    /// When the record was written (UTC, RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    pub time: OffsetDateTime,
    /// `attempt` or `outcome`.
    pub event: EventKind,
    /// How the attempt ended; only on outcome records.
    pub outcome: Option<Outcome>,
    /// The attempt this record starts or ends.
    pub attempt_id: AttemptId,
    /// The station's name.
    pub station: String,
    /// Who asked for the bind.
    pub operator: Operator,
    /// Who supervised it, in a supervised mode.
    pub supervisor: Option<String>,
    /// The request.
    pub request_id: Uuid,
    /// The person the request is for, as the desk showed them: text a
    /// requester typed, so one line without control or bidi characters, at
    /// most [`PERSON_MAX_CHARS`](crate::domain::text::PERSON_MAX_CHARS).
    /// Absent from records written before the station journalled it, and
    /// where it was not known (a bind from the command line). Like every
    /// field, it is part of the line the next record's `prev_hash` covers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<String>,
    /// The card ID in CM's form.
    pub card_id: String,
    /// The ATR, lower-case hex.
    pub atr: String,
    /// The reader.
    pub reader: String,
    /// The CM API's base URL the attempt was sent to
    /// (`https://cm.contoso.com/CertificateManagement/api/v1.0/`), so that
    /// reconciliation asks the same server. Absent from records written
    /// before the station journalled it, and from records of no bind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_base: Option<String>,
    /// The smart card object the server created.
    pub smartcard_uuid: Option<Uuid>,
    /// The server's correlation ID.
    pub correlation_id: Option<String>,
    /// A note, a refusal's reason or a failure's message.
    pub message: Option<String>,
    /// The configuration keys a `settings_saved` record says changed (never
    /// their values); absent from every other record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed: Option<Vec<String>>,
    /// The batch a `batch_*` record belongs to; absent from every other record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_id: Option<Uuid>,
    /// A `batch_started` record's requests, in queue order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members: Option<Vec<Uuid>>,
    /// SHA-256 (hex) of the previous line's bytes; [`GENESIS_HASH`] on the first.
    pub prev_hash: String,
}

/// An attempt with no outcome yet: what start-up reconciliation must resolve.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttemptRecord {
    /// The ID to pass to [`AuditJournal::record_outcome`] once it is resolved.
    pub attempt_id: AttemptId,
    /// The attempt record as written.
    pub record: Record,
}

impl AttemptRecord {
    /// The card ID the attempt was about to send, parsed back.
    pub fn card_id(&self) -> Option<CardId> {
        CardId::parse_cm_string(&self.record.card_id)
    }

    /// The ATR the attempt was about to send, parsed back.
    pub fn atr(&self) -> Option<Atr> {
        Atr::parse_hex(&self.record.atr)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::domain::card::{CardIdentity, CardKind};

    pub(super) fn target(n: u8) -> BindTarget {
        BindTarget {
            request_id: Uuid::from_u128(u128::from(n)),
            person: format!("Person {n}"),
            reader: "Reader 0".into(),
            expected: CardIdentity {
                atr: Atr::from_bytes(vec![0x3b, 0x8d, n]),
                card_id: CardId::from_raw([n; 16]),
                kind: CardKind::Gids,
                chip: None,
                location: None,
                yubikey_serial: None,
            },
            supervisor: None,
        }
    }

    pub(super) fn attempt(n: u8) -> AttemptInfo {
        AttemptInfo {
            station: "station-1".into(),
            operator: Operator {
                os_user: Some("alice".into()),
                principal: Some("alice@CONTOSO.COM".into()),
            },
            ..AttemptInfo::for_target(&target(n))
        }
    }

    pub(super) fn dir() -> tempfile::TempDir {
        tempfile::tempdir().expect("a temporary directory")
    }

    pub(super) fn lines(path: &Path) -> Vec<String> {
        std::fs::read_to_string(path)
            .expect("the journal is readable")
            .lines()
            .map(str::to_owned)
            .collect()
    }

    pub(super) fn write_lines(path: &Path, lines: &[String]) {
        let mut text = lines.join("\n");
        text.push('\n');
        std::fs::write(path, text).expect("the journal is writable");
    }

    /// Three binds: bound, failed, and one attempt left open.
    pub(super) fn journal_with_three_binds(path: &Path) {
        let mut journal = AuditJournal::open(path).expect("the journal opens");
        let first = journal.record_attempt(attempt(1)).expect("attempt 1");
        journal
            .record_outcome(
                first,
                Outcome::Bound,
                OutcomeInfo {
                    smartcard_uuid: Some(Uuid::from_u128(99)),
                    ..OutcomeInfo::default()
                },
            )
            .expect("outcome 1");
        let second = journal.record_attempt(attempt(2)).expect("attempt 2");
        journal
            .record_outcome(
                second,
                Outcome::Failed,
                OutcomeInfo {
                    correlation_id: Some("corr-2".into()),
                    message: Some("The server said, \"no\"".into()),
                    ..OutcomeInfo::default()
                },
            )
            .expect("outcome 2");
        let _open = journal.record_attempt(attempt(3)).expect("attempt 3");
    }

    pub(super) fn broken_at(path: &Path) -> ChainBreak {
        let error = verify(path).expect_err("the journal is broken");
        error.chain_break().cloned().expect("a chain break")
    }
    #[test]
    fn attempt_ids_round_trip_through_text() {
        let id = AttemptId::from_uuid(Uuid::from_u128(7));
        assert_eq!(id.to_string().parse::<AttemptId>().ok(), Some(id));
        assert!("not-an-id".parse::<AttemptId>().is_err());
    }
    /// One attempt as the station wrote it before it journalled the person:
    /// a line from an older journal, which must keep verifying and opening.
    const OLD_ATTEMPT: &str = concat!(
        r#"{"seq":1,"time":"2026-11-20T09:14:33.123Z","event":"attempt","outcome":null,"#,
        r#""attempt_id":"6f9619ff-8b86-4d01-b42d-00c04fc964ff","station":"desk-7","#,
        r#""operator":{"os_user":"alice","principal":null},"supervisor":null,"#,
        r#""request_id":"00000000-0000-0000-0000-000000000001","#,
        r#""card_id":"bc88f13f-83ba-4037-8262-46eba1291c6e","atr":"3b8d01","#,
        r#""reader":"Reader 0","smartcard_uuid":null,"correlation_id":null,"message":null,"#,
        r#""prev_hash":"0000000000000000000000000000000000000000000000000000000000000000"}"#
    );

    #[test]
    fn the_person_round_trips_and_is_left_out_when_unknown() {
        let dir = dir();
        let path = dir.path().join("audit.jsonl");
        let mut journal = AuditJournal::open(&path).expect("opens");
        let named = journal.record_attempt(attempt(1)).expect("attempt 1");
        journal
            .record_outcome(named, Outcome::Bound, OutcomeInfo::default())
            .expect("outcome 1");
        let unnamed = AttemptInfo {
            person: None,
            ..attempt(2)
        };
        let _open = journal.record_attempt(unnamed).expect("attempt 2");
        drop(journal);

        let lines = lines(&path);
        let first: Record = serde_json::from_str(&lines[0]).expect("a record");
        assert_eq!(first.person.as_deref(), Some("Person 1"));
        assert_eq!(serde_json::to_string(&first).expect("encodes"), lines[0]);
        let outcome: Record = serde_json::from_str(&lines[1]).expect("a record");
        assert_eq!(
            outcome.person.as_deref(),
            Some("Person 1"),
            "the outcome repeats its attempt's person"
        );
        assert!(
            !lines[2].contains("\"person\""),
            "an unknown person is left out, as in older journals: {}",
            lines[2]
        );
        let third: Record = serde_json::from_str(&lines[2]).expect("a record");
        assert_eq!(third.person, None);
        assert_eq!(verify(&path).expect("intact").records, 3);
    }

    #[test]
    fn an_old_journal_without_persons_verifies_and_takes_new_records() {
        let dir = dir();
        let path = dir.path().join("audit.jsonl");
        write_lines(&path, &[OLD_ATTEMPT.to_owned()]);
        assert_eq!(verify(&path).expect("an old journal is intact").records, 1);
        let mut journal = AuditJournal::open(&path).expect("an old journal opens");
        let old = journal.unfinished_attempts();
        assert_eq!(old.len(), 1);
        assert_eq!(old[0].record.person, None);
        assert_eq!(old[0].record.station, "desk-7");
        journal
            .record_outcome(old[0].attempt_id, Outcome::Refused, OutcomeInfo::default())
            .expect("the old attempt ends");
        let _new = journal.record_attempt(attempt(2)).expect("a new attempt");
        drop(journal);
        let report = verify(&path).expect("old and new records chain");
        assert_eq!(report.records, 4);
        let lines = lines(&path);
        assert_eq!(lines[0], OLD_ATTEMPT, "the old line is left as it was");
        // An old journal has no head marker: the writer made one, and said so.
        let marked: Record = serde_json::from_str(&lines[1]).expect("a record");
        assert_eq!(marked.event, EventKind::HeadMarkerCreated);
        assert!(!lines[2].contains("\"person\""));
        assert!(lines[3].contains("\"person\":\"Person 2\""), "{}", lines[3]);
    }

    #[test]
    fn the_person_is_covered_by_the_chain() {
        let dir = dir();
        let path = dir.path().join("audit.jsonl");
        journal_with_three_binds(&path);
        let original = lines(&path);

        let mut renamed = original.clone();
        renamed[2] = renamed[2].replace("\"person\":\"Person 2\"", "\"person\":\"Mallory\"");
        assert_ne!(renamed[2], original[2]);
        write_lines(&path, &renamed);
        let found = broken_at(&path);
        assert_eq!(found.line, 3);
        assert_eq!(found.reason, BreakReason::Edited { next_line: 4 });

        // Removing it is an edit too, though the line is then well-formed
        // like an older one.
        let mut removed = original;
        removed[2] = removed[2].replace(",\"person\":\"Person 2\"", "");
        write_lines(&path, &removed);
        assert_eq!(broken_at(&path).line, 3);
    }

    #[test]
    fn hostile_names_are_cleaned_before_they_are_journalled() {
        let dir = dir();
        let path = dir.path().join("audit.jsonl");
        let mut journal = AuditJournal::open(&path).expect("opens");
        let hostile = |person: &str| AttemptInfo {
            person: Some(person.to_owned()),
            ..attempt(1)
        };
        let _a = journal
            .record_attempt(hostile("Eve\u{202E}exe.txt\r\n{\"seq\":99}\u{1b}[2J"))
            .expect("attempt");
        let _b = journal
            .record_attempt(hostile(&"Long ".repeat(1000)))
            .expect("attempt");
        let _c = journal
            .record_attempt(hostile("\u{2066}\u{200B}\n\t"))
            .expect("attempt");
        let recent = journal.recent(3);
        assert_eq!(
            recent[0].person.as_deref(),
            Some("Eveexe.txt {\"seq\":99}[2J")
        );
        let long = recent[1]
            .person
            .as_deref()
            .expect("a long name is kept, cut");
        assert_eq!(long.chars().count(), crate::domain::text::PERSON_MAX_CHARS);
        assert!(long.ends_with('…'));
        assert_eq!(recent[2].person, None, "nothing visible is no name");
        drop(journal);
        assert_eq!(
            lines(&path).len(),
            3,
            "one line per record, whatever the name held"
        );
        assert_eq!(verify(&path).expect("intact").records, 3);
    }

    #[test]
    fn the_default_path_is_in_the_data_directory() {
        let path = default_journal_path().expect("a home directory in tests");
        assert!(path.ends_with(Path::new("enroll-station").join(JOURNAL_FILE_NAME)));
    }
}
