//! What every destination says about a record: its stable IDs, its
//! priority, one line of words, and its fields.

use super::Entry;
use crate::audit::{EventKind, Outcome, Record};

/// The journald `MESSAGE_ID` of a record kind: 128 bits, lower-case hex,
/// never changed once published (`docs/audit-forwarding.md` lists them).
pub fn message_id(kind: EventKind) -> &'static str {
    match kind {
        EventKind::Attempt => "8a39e53df7cf4a89b12bc6d60bf4d75b",
        EventKind::Outcome => "302f1aeb8ae34edcbb328983d1f02516",
        EventKind::SettingsSaved => "ecdb7a33022140f3b5a61add6b6ddbd4",
        EventKind::SupervisorRefused => "c9bbb0b2f7b949c599466b53310a0ac5",
        EventKind::SupervisorLockedOut => "8179a554599a4b7b85fd6333f612ec0d",
        EventKind::StationStarted => "d6eeeeaaae604e5d9c3b83f7cba3b18e",
        EventKind::KioskLeft => "5ba27cd873894c9d9830658da56e1489",
        EventKind::KioskResumed => "6c07a82829cc4e77b760b5c6a3269436",
        EventKind::SettingsOpened => "ebe92ea91497490abeea177aedf22307",
        EventKind::ReconcileAlarm => "2ac0af3743bb43b09169a755c7b61abd",
        EventKind::JournalGap => "59319a27c0e44b9fbd800a46a07c2030",
        EventKind::HeadMarkerCreated => "a73c563cc2ba4ef2b3ef3989f7c593aa",
        EventKind::ActionIntent => "4d1f0c6e2b8a4f97a3c55e0d7b96e214",
        EventKind::ActionOutcome => "b57e2a90c1d34c6e8f0a7d3b5e9c4f81",
        EventKind::BatchStarted => "e3b1f5a07c9d4e2f8a6b0c4d2e7f9a13",
        EventKind::BatchMember => "71c8d2e4a6b04f3e9d5c1b7a0e8f2d46",
        EventKind::BatchFinished => "9f4a2c6e8b1d4a7c3e5f0b2d6a8c4e19",
    }
}

/// The Windows Event Log event ID of a record kind (never changed once published).
pub fn event_id(kind: EventKind) -> u32 {
    match kind {
        EventKind::Attempt => 1000,
        EventKind::Outcome => 1001,
        EventKind::SettingsSaved => 1002,
        EventKind::SupervisorRefused => 1003,
        EventKind::SupervisorLockedOut => 1004,
        EventKind::StationStarted => 1005,
        EventKind::KioskLeft => 1006,
        EventKind::KioskResumed => 1007,
        EventKind::SettingsOpened => 1008,
        EventKind::ReconcileAlarm => 1009,
        EventKind::JournalGap => 1010,
        EventKind::HeadMarkerCreated => 1011,
        EventKind::ActionIntent => 1012,
        EventKind::ActionOutcome => 1013,
        EventKind::BatchStarted => 1014,
        EventKind::BatchMember => 1015,
        EventKind::BatchFinished => 1016,
    }
}

/// The syslog severity of a record (journald's `PRIORITY`): 2 critical for
/// a journal gap or a reconcile alarm, 4 warning for a refusal, a lock-out,
/// a head marker created for a journal without one, or a failed bind, 5
/// notice for the station's controls, 6 for the rest.
pub fn priority(record: &Record) -> u8 {
    match (record.event, record.outcome) {
        (EventKind::JournalGap | EventKind::ReconcileAlarm, _) => 2,
        (
            EventKind::SupervisorRefused
            | EventKind::SupervisorLockedOut
            | EventKind::HeadMarkerCreated,
            _,
        ) => 4,
        (
            EventKind::Outcome | EventKind::ActionOutcome,
            Some(Outcome::Failed | Outcome::Refused | Outcome::ReconciledNotDone),
        ) => 4,
        (
            EventKind::Attempt
            | EventKind::Outcome
            | EventKind::ActionIntent
            | EventKind::ActionOutcome,
            _,
        ) => 6,
        _ => 5,
    }
}

/// One line about the record, for `MESSAGE` and the event's text.
pub fn summary(record: &Record) -> String {
    let who = record
        .operator
        .os_user
        .as_deref()
        .or(record.operator.principal.as_deref())
        .unwrap_or("unknown operator");
    let mut line = format!(
        "enroll-station audit record {} ({}) at {} by {who}",
        record.seq,
        record.event.as_str(),
        record.station
    );
    if let Some(supervisor) = &record.supervisor {
        line.push_str(&format!(", supervisor {supervisor}"));
    }
    if record.event.is_bind() || (record.event.is_action() && !record.request_id.is_nil()) {
        line.push_str(&format!(", request {}", record.request_id));
    }
    if let Some(outcome) = record.outcome {
        line.push_str(&format!(
            ": {}",
            serde_json::to_value(outcome)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        ));
    }
    if let Some(message) = &record.message {
        line.push_str(&format!(": {message}"));
    }
    line
}

/// The record's fields as `(NAME, value)`, without the empty ones:
/// `ENROLL_STATION_*` for journald, `name="value"` parameters for syslog.
pub(super) fn fields(entry: &Entry) -> Vec<(&'static str, String)> {
    let record = &entry.record;
    let mut fields = vec![
        ("SEQ", record.seq.to_string()),
        ("HASH", entry.hash.clone()),
        ("PREV_HASH", record.prev_hash.clone()),
        ("EVENT", record.event.as_str().to_owned()),
        ("STATION", record.station.clone()),
    ];
    let mut optional = |name: &'static str, value: Option<String>| {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            fields.push((name, value));
        }
    };
    optional(
        "OUTCOME",
        record.outcome.and_then(|o| {
            serde_json::to_value(o)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
        }),
    );
    optional("OPERATOR", record.operator.os_user.clone());
    optional("PRINCIPAL", record.operator.principal.clone());
    optional("SUPERVISOR", record.supervisor.clone());
    let nil = uuid::Uuid::nil();
    optional(
        "REQUEST",
        (record.request_id != nil).then(|| record.request_id.to_string()),
    );
    optional(
        "ATTEMPT",
        (record.attempt_id.to_string() != nil.to_string()).then(|| record.attempt_id.to_string()),
    );
    optional("CARD_ID", Some(record.card_id.clone()));
    optional("READER", Some(record.reader.clone()));
    optional("SMARTCARD", record.smartcard_uuid.map(|u| u.to_string()));
    optional("CORRELATION_ID", record.correlation_id.clone());
    fields
}
