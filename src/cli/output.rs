//! JSON shapes printed by the command line, kept in one place so scripts can rely on them.

use serde::Serialize;

use crate::domain::card::ChipInfo;
use crate::domain::readers::{IdentityState, ReaderEvent, SlotState};
use crate::domain::request::Request;

/// One reader in `readers --json`.
#[derive(Debug, Serialize)]
pub struct ReaderJson {
    /// The reader's name.
    pub name: String,
    /// `empty`, `present` or `unavailable`.
    pub state: &'static str,
    /// Lower-case hex, or null.
    pub atr: Option<String>,
    /// The card ID in CM's form, or null.
    pub card_id: Option<String>,
    /// `gids`, `piv`, `idprime`, or null.
    pub card_kind: Option<&'static str>,
    /// Why there is no card ID or the reader is unavailable, or null.
    pub problem: Option<String>,
    /// The chip's GlobalPlatform CPLC, when the card answered it, with or
    /// without a card ID: information, never a card ID.
    pub chip: Option<ChipJson>,
    /// A YubiKey's serial number, or null: information, never bound.
    pub yubikey_serial: Option<u32>,
}

/// The CPLC fields the station shows, as upper-case hex.
#[derive(Debug, Serialize)]
pub struct ChipJson {
    /// IC fabricator.
    pub fabricator: String,
    /// IC type.
    pub ic_type: String,
    /// IC serial number.
    pub serial: String,
    /// IC batch.
    pub batch: String,
}

impl From<&ChipInfo> for ChipJson {
    fn from(chip: &ChipInfo) -> Self {
        Self {
            fabricator: format!("{:04X}", chip.fabricator),
            ic_type: format!("{:04X}", chip.ic_type),
            serial: format!("{:08X}", chip.serial),
            batch: format!("{:04X}", chip.batch),
        }
    }
}

impl ReaderJson {
    /// The JSON view of one reader.
    pub fn new(name: &str, slot: &SlotState) -> Self {
        let mut out = Self {
            name: name.to_owned(),
            state: slot.name(),
            atr: slot.atr().map(|atr| atr.to_hex()),
            card_id: None,
            card_kind: None,
            problem: None,
            chip: None,
            yubikey_serial: None,
        };
        if let Some(identity) = slot.identity() {
            out.card_id = Some(identity.card_id.to_string());
            out.card_kind = Some(identity.kind.as_str());
            out.chip = identity.chip.as_ref().map(ChipJson::from);
            out.yubikey_serial = identity.yubikey_serial;
        }
        match slot {
            SlotState::Present {
                identity: IdentityState::Failed(why),
                ..
            } => {
                out.problem = Some(why.reason.clone());
                out.chip = why.chip.as_ref().map(ChipJson::from);
            }
            SlotState::Unavailable { reason } => out.problem = Some(reason.clone()),
            _ => {}
        }
        out
    }
}

/// One request in `requests --json`.
#[derive(Debug, Serialize)]
pub struct RequestJson {
    /// The request's GUID.
    pub uuid: String,
    /// The status by name (`Unknown(n)` for undocumented numbers).
    pub status: String,
    /// The type by name.
    pub request_type: String,
    /// The target user's GUID, or null.
    pub target_user: Option<String>,
    /// When it was submitted: the server's instant, RFC 3339 in UTC
    /// (`2015-07-07T23:36:21.93Z`), whatever offset the server wrote.
    pub submitted: Option<String>,
    /// The smart card object bound to it, or null.
    pub new_smartcard: Option<String>,
    /// CM's priority.
    pub priority: i32,
    /// Whether CM would accept a card for it now.
    pub bindable: bool,
    /// Why not, in the operator's words (null when it is bindable).
    pub why_not_bindable: Option<String>,
    /// The collected data, name to value, as the requester entered it
    /// (cleaned, unchecked). A name that comes twice keeps its first value,
    /// as the window shows it.
    pub data: serde_json::Map<String, serde_json::Value>,
}

impl From<&Request> for RequestJson {
    fn from(r: &Request) -> Self {
        Self {
            uuid: r.uuid.to_string(),
            status: r.status.to_string(),
            request_type: r.request_type.to_string(),
            target_user: r.target_user.map(|u| u.to_string()),
            submitted: r.submitted.map(crate::cm::model::format_cm_time),
            new_smartcard: r.new_smartcard.map(|u| u.to_string()),
            priority: r.priority,
            bindable: r.is_bindable(),
            why_not_bindable: r.bindability().err().map(|why| why.to_string()),
            data: first_values(r),
        }
    }
}

/// The collected data as a map; the first value of a name wins, as in the
/// window (`Request::collected`), not the last (review M2).
fn first_values(r: &Request) -> serde_json::Map<String, serde_json::Value> {
    let mut data = serde_json::Map::new();
    for item in &r.data_collection {
        data.entry(item.name.to_string()).or_insert_with(|| {
            item.value
                .as_deref()
                .map_or(serde_json::Value::Null, Into::into)
        });
    }
    data
}

/// A value as one line of JSON, safe for a terminal ([`json_for_terminal`]).
///
/// [`json_for_terminal`]: super::escape::json_for_terminal
pub fn json_line(value: &impl Serialize) -> anyhow::Result<String> {
    Ok(super::escape::json_for_terminal(serde_json::to_string(
        value,
    )?))
}

/// Prints a value as one line of JSON.
pub fn print_json(value: &impl Serialize) -> anyhow::Result<()> {
    println!("{}", json_line(value)?);
    Ok(())
}

/// One line of `readers --watch --json`.
#[derive(Debug, Serialize)]
pub struct EventJson {
    /// Unix epoch milliseconds at which the station learned of the event.
    pub time_ms: u128,
    /// `reader_added`, `reader_removed`, `card_inserted`, `card_removed`,
    /// `card_identified`, `reader_unavailable`, `service_down` or `service_up`.
    pub event: &'static str,
    /// The reader, when the event is about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reader: Option<String>,
    /// The card's ATR, on insertion and identification.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub atr: Option<String>,
    /// On insertion: `inserted` when the reader was seen empty first,
    /// `already_present` for a card found in a reader the station just saw.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arrival: Option<&'static str>,
    /// The card ID, on identification.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub card_id: Option<String>,
    /// `gids` or `piv`, on identification.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub card_kind: Option<&'static str>,
    /// Why a card has no ID, a reader is unavailable or the service is down.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

impl EventJson {
    /// The JSON view of one reader event.
    pub fn new(event: &ReaderEvent, time_ms: u128) -> Self {
        let mut out = Self {
            time_ms,
            event: "",
            reader: event.reader().map(str::to_owned),
            atr: None,
            arrival: None,
            card_id: None,
            card_kind: None,
            problem: None,
        };
        out.event = match event {
            ReaderEvent::ReaderAdded { .. } => "reader_added",
            ReaderEvent::ReaderRemoved { .. } => "reader_removed",
            ReaderEvent::CardInserted { atr, arrival, .. } => {
                out.atr = Some(atr.to_hex());
                out.arrival = Some(match arrival {
                    crate::domain::readers::Arrival::Inserted => "inserted",
                    crate::domain::readers::Arrival::AlreadyPresent => "already_present",
                });
                "card_inserted"
            }
            ReaderEvent::CardRemoved { .. } => "card_removed",
            ReaderEvent::CardIdentified { result, .. } => {
                match result {
                    Ok(identity) => {
                        out.atr = Some(identity.atr.to_hex());
                        out.card_id = Some(identity.card_id.to_string());
                        out.card_kind = Some(identity.kind.as_str());
                    }
                    Err(why) => out.problem = Some(why.reason.clone()),
                }
                "card_identified"
            }
            ReaderEvent::ReaderUnavailable { reason, .. } => {
                out.problem = Some(reason.clone());
                "reader_unavailable"
            }
            ReaderEvent::ServiceDown { reason } => {
                out.problem = Some(reason.clone());
                "service_down"
            }
            ReaderEvent::ServiceUp => "service_up",
        };
        out
    }
}

/// `card show --json`: the card in a reader and what CM knows of it.
#[derive(Debug, Serialize)]
pub struct CardShowJson {
    /// The reader.
    pub reader: String,
    /// Lower-case hex.
    pub atr: String,
    /// The card ID in CM's form.
    pub card_id: String,
    /// `gids`, `piv` or `idprime`.
    pub card_kind: &'static str,
    /// Null when CM has no smart card object for the card ID.
    pub cm: Option<CmCardJson>,
}

/// What CM knows of a card, in `card show --json`.
#[derive(Debug, Serialize)]
pub struct CmCardJson {
    /// The object that speaks for the card: the one in use, else the first.
    pub smartcard_uuid: String,
    /// Its status by name (`Unknown(n)` for undocumented numbers).
    pub status: String,
    /// The user it is assigned to, or null.
    pub assigned_user: Option<String>,
    /// Its profile template, or null.
    pub profile_template: Option<String>,
    /// What the signed-in account may start on it (REST names), or null
    /// when that could not be read (the reason is on standard error).
    pub operations: Option<Vec<String>>,
    /// How many certificates it holds, or null when that could not be read.
    pub certificates: Option<usize>,
    /// How many smart card objects CM holds for the card ID (one per assignment).
    pub objects: usize,
}

impl CmCardJson {
    /// The JSON view of a record; `None` when it names no object.
    pub fn new(record: &crate::domain::card_record::CardRecord) -> Option<Self> {
        let current = record.current()?;
        Some(Self {
            smartcard_uuid: current.uuid.to_string(),
            status: current.status.to_string(),
            assigned_user: current.assigned_user.map(|u| u.to_string()),
            profile_template: current.profile_template.map(|t| t.to_string()),
            operations: record
                .operations
                .as_ref()
                .ok()
                .map(|ops| ops.iter().map(ToString::to_string).collect()),
            certificates: record.certificates.as_ref().ok().copied(),
            objects: record.objects.len(),
        })
    }
}
