//! Reading a card's identity through PC/SC (pcscd, WinSCard, CryptoTokenKit).
//!
//! The card is shared with minidrivers and middleware, so every read
//! connects in shared mode inside a transaction and lets go right after.

use std::ffi::CString;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use pcsc::{Card, Context, Disposition, Protocols, ReaderState, Scope, ShareMode, State};

use super::family::FamilyTable;
use super::{CardChannel, CardError, IdentityReader, ReadOptions, identity};
use crate::domain::card::{Atr, CardIdentity};
use crate::domain::readers::{ReaderBoard, ReaderEvent};

/// Waits between attempts when another program holds the card exclusively.
const SHARING_RETRY_DELAYS: [Duration; 3] = [
    Duration::from_millis(100),
    Duration::from_millis(200),
    Duration::from_millis(400),
];

/// Reads card identities from the system's PC/SC readers.
#[derive(Clone, Debug, Default)]
pub struct PcscReader {
    families: Arc<FamilyTable>,
}

impl PcscReader {
    /// A reader of the system's PC/SC service with the built-in card
    /// families; it connects only when asked to read.
    pub fn new() -> Self {
        Self::default()
    }

    /// A reader that knows the site's card families besides the built-in ones.
    pub fn with_families(families: FamilyTable) -> Self {
        Self {
            families: Arc::new(families),
        }
    }

    /// The card families this reader reads by.
    pub fn families(&self) -> &FamilyTable {
        &self.families
    }

    /// Every reader and its card (with its chip information), right now, built
    /// from the same events the window applies. No readers is an empty board, not an error.
    pub fn snapshot(&self) -> Result<ReaderBoard, CardError> {
        self.snapshot_with(ReadOptions::INSERTION)
    }

    /// [`PcscReader::snapshot`], reading each card as `options` say.
    pub fn snapshot_with(&self, options: ReadOptions) -> Result<ReaderBoard, CardError> {
        let context = establish()?;
        let names = match context.list_readers_owned() {
            Ok(names) => names,
            Err(pcsc::Error::NoReadersAvailable) => Vec::new(),
            Err(err) => return Err(map_pcsc_error(err, "")),
        };
        let mut states: Vec<ReaderState> = names
            .into_iter()
            .map(|name| ReaderState::new(name, State::UNAWARE))
            .collect();
        if !states.is_empty() {
            match context.get_status_change(Duration::ZERO, &mut states) {
                Ok(()) | Err(pcsc::Error::Timeout) => {}
                Err(err) => return Err(map_pcsc_error(err, "")),
            }
        }
        let mut board = ReaderBoard::default();
        for state in &states {
            for event in self.snapshot_events(&context, state, options) {
                board.apply(&event);
            }
        }
        Ok(board)
    }

    /// The events that describe one reader as it is now.
    fn snapshot_events(
        &self,
        context: &Context,
        state: &ReaderState,
        options: ReadOptions,
    ) -> Vec<ReaderEvent> {
        let flags = state.event_state();
        if flags.intersects(State::UNKNOWN | State::IGNORE) {
            // The reader left between listing and asking for its state.
            return Vec::new();
        }
        let reader = match super::reader_name::check(state.name()) {
            Ok(reader) => reader,
            Err(refused) => {
                return vec![
                    ReaderEvent::ReaderAdded {
                        reader: refused.shown.clone(),
                    },
                    ReaderEvent::ReaderUnavailable {
                        reader: refused.shown,
                        reason: refused.reason,
                    },
                ];
            }
        };
        let mut events = vec![ReaderEvent::ReaderAdded {
            reader: reader.clone(),
        }];
        if let Some(reason) = unavailable_reason(flags) {
            events.push(ReaderEvent::ReaderUnavailable { reader, reason });
        } else if flags.contains(State::PRESENT) {
            let insertion = 1;
            events.push(ReaderEvent::CardInserted {
                reader: reader.clone(),
                atr: Atr::from_bytes(state.atr()),
                insertion,
                // A snapshot cannot tell when the card went in.
                arrival: crate::domain::readers::Arrival::AlreadyPresent,
            });
            let result = read_with_retries(context, state.name(), &reader, &self.families, options);
            events.push(ReaderEvent::CardIdentified {
                reader,
                insertion,
                result: result.map_err(Into::into),
            });
        }
        events
    }
}

impl IdentityReader for PcscReader {
    fn read_with(&self, reader: &str, options: ReadOptions) -> Result<CardIdentity, CardError> {
        let name = CString::new(reader).map_err(|_| CardError::UnknownReader(reader.to_owned()))?;
        let context = establish()?;
        read_with_retries(&context, &name, reader, &self.families, options)
    }
}

/// Why a reader cannot be used, when its state says so.
pub fn unavailable_reason(flags: State) -> Option<String> {
    if flags.contains(State::MUTE) {
        Some(
            "The card does not answer (mute). Reinsert it the right way round; if it stays silent, use another card."
                .to_owned(),
        )
    } else if flags.contains(State::UNAVAILABLE) {
        Some("The reader is not available (another program or driver holds it).".to_owned())
    } else {
        None
    }
}

/// Connects to the smart card service for this user.
fn establish() -> Result<Context, CardError> {
    Context::establish(Scope::User).map_err(|err| map_pcsc_error(err, ""))
}

/// One identity read, retried with back-off while another program holds the card.
fn read_with_retries(
    context: &Context,
    name: &std::ffi::CStr,
    reader: &str,
    families: &FamilyTable,
    options: ReadOptions,
) -> Result<CardIdentity, CardError> {
    let mut delays = SHARING_RETRY_DELAYS.iter();
    loop {
        match read_once(context, name, reader, families, options) {
            // Both pass: another program lets go of the card, or the
            // service finishes cleaning up after one that died.
            Err(error @ (CardError::SharingViolation(_) | CardError::Interrupted(_))) => {
                match delays.next() {
                    Some(delay) => {
                        tracing::debug!(reader, ?delay, %error, "card busy or read interrupted; retrying");
                        thread::sleep(*delay);
                    }
                    None => return Err(error),
                }
            }
            other => return other,
        }
    }
}

/// Connect shared, read inside a transaction, leave the card as it was, disconnect.
fn read_once(
    context: &Context,
    name: &std::ffi::CStr,
    reader: &str,
    families: &FamilyTable,
    options: ReadOptions,
) -> Result<CardIdentity, CardError> {
    let mut card = context
        .connect(name, ShareMode::Shared, Protocols::T0 | Protocols::T1)
        .map_err(|err| map_pcsc_error(err, reader))?;
    let result = read_in_transaction(&mut card, reader, families, options);
    if let Err((_, err)) = card.disconnect(Disposition::LeaveCard) {
        // The identity is already read; a failed disconnect only leaks a handle
        // until the context goes, so it is worth a log line, not a failure.
        tracing::debug!(reader, %err, "disconnecting from the card failed");
    }
    result
}

fn read_in_transaction(
    card: &mut Card,
    reader: &str,
    families: &FamilyTable,
    options: ReadOptions,
) -> Result<CardIdentity, CardError> {
    let transaction = card
        .transaction()
        .map_err(|err| map_pcsc_error(err, reader))?;
    let status = transaction
        .status2_owned()
        .map_err(|err| map_pcsc_error(err, reader))?;
    let atr = Atr::from_bytes(status.atr());
    let mut channel = PcscChannel {
        card: &transaction,
        reader,
    };
    let result = identity::read_identity_with(&mut channel, atr, families, options);
    if let Err((_, err)) = transaction.end(Disposition::LeaveCard) {
        tracing::debug!(reader, %err, "ending the card transaction failed");
    }
    result
}

/// A [`CardChannel`] over a connected PC/SC card.
struct PcscChannel<'a> {
    card: &'a Card,
    reader: &'a str,
}

impl CardChannel for PcscChannel<'_> {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, CardError> {
        // Commands stay short, but some cards and drivers hand a long object
        // back in one piece: a short buffer would fail with
        // SCARD_E_INSUFFICIENT_BUFFER. 64 KiB + SW fits any extended answer.
        let mut buffer = vec![0u8; pcsc::MAX_BUFFER_SIZE_EXTENDED];
        let answer = self
            .card
            .transmit(command, &mut buffer)
            .map_err(|err| map_pcsc_error(err, self.reader))?;
        Ok(answer.to_vec())
    }
}

/// Maps a PC/SC error to what the operator should be told about `reader`.
pub fn map_pcsc_error(err: pcsc::Error, reader: &str) -> CardError {
    use pcsc::Error as E;
    let reader = reader.to_owned();
    match err {
        E::NoService | E::ServiceStopped | E::NoReadersAvailable => {
            CardError::NoService(err.to_string())
        }
        E::UnknownReader | E::ReaderUnavailable => CardError::UnknownReader(reader),
        E::NoSmartcard => CardError::NoCard(reader),
        E::RemovedCard | E::ResetCard => CardError::Removed(reader),
        E::SharingViolation => CardError::SharingViolation(reader),
        E::NotTransacted => CardError::Interrupted(reader),
        E::UnresponsiveCard | E::UnpoweredCard => CardError::Unresponsive(reader),
        other => CardError::Pcsc(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcsc_errors_map_to_operator_errors() {
        let r = "Reader 0";
        assert!(matches!(
            map_pcsc_error(pcsc::Error::NoService, r),
            CardError::NoService(_)
        ));
        assert!(matches!(
            map_pcsc_error(pcsc::Error::NoReadersAvailable, r),
            CardError::NoService(_)
        ));
        assert_eq!(
            map_pcsc_error(pcsc::Error::ReaderUnavailable, r),
            CardError::UnknownReader(r.into())
        );
        assert_eq!(
            map_pcsc_error(pcsc::Error::NoSmartcard, r),
            CardError::NoCard(r.into())
        );
        assert_eq!(
            map_pcsc_error(pcsc::Error::ResetCard, r),
            CardError::Removed(r.into())
        );
        assert_eq!(
            map_pcsc_error(pcsc::Error::SharingViolation, r),
            CardError::SharingViolation(r.into())
        );
        assert_eq!(
            map_pcsc_error(pcsc::Error::UnpoweredCard, r),
            CardError::Unresponsive(r.into())
        );
        assert!(matches!(
            map_pcsc_error(pcsc::Error::CommError, r),
            CardError::Pcsc(_)
        ));
    }

    #[test]
    fn mute_and_unavailable_readers_have_reasons() {
        assert!(
            unavailable_reason(State::PRESENT | State::MUTE).is_some_and(|r| r.contains("mute"))
        );
        assert!(unavailable_reason(State::UNAVAILABLE).is_some());
        assert_eq!(unavailable_reason(State::PRESENT | State::INUSE), None);
    }
}
