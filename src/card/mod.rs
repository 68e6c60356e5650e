//! Everything about readers and cards: PC/SC, APDUs, card identity, the demo reader.

pub(crate) mod apdu;
pub mod atr;
pub(crate) mod cplc;
pub mod demo;
pub(crate) mod error;
pub(crate) mod family;
pub mod identity;
pub mod idprime;
pub mod monitor;
pub mod pcsc_reader;
pub(crate) mod reader_filter;
pub mod reader_name;
pub(crate) mod smartcard_list;
pub mod tlv;
pub mod virtual_card;

pub use error::CardError;

use crate::domain::card::{CardIdLocation, CardIdentity, CardKind};

/// An open channel to one card: sends a command APDU, returns the response with its status word.
pub trait CardChannel {
    /// Transmits one short command APDU and returns the full response (data + SW1 SW2).
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, CardError>;
}

/// How much to read from a card, and in which order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// Also read the chip's CPLC and a YubiKey's serial (information for the
    /// operator and the journal; a few more APDUs).
    pub chip: bool,
    /// The application the card is expected to have: tried first, so a
    /// re-read right before a bind costs no failed SELECT.
    pub expected_kind: Option<CardKind>,
    /// Where a GIDS card was seen to keep its card ID: read there first.
    pub location: Option<CardIdLocation>,
}

impl ReadOptions {
    /// Everything, as when a card is inserted: the card ID and the chip information.
    pub const INSERTION: ReadOptions = ReadOptions {
        chip: true,
        expected_kind: None,
        location: None,
    };

    /// Only the card ID, the way the expected card was read: the swap guard's re-read.
    pub fn reread(kind: CardKind, location: Option<CardIdLocation>) -> Self {
        Self {
            chip: false,
            expected_kind: Some(kind),
            location,
        }
    }
}

/// Reads the identity of the card in a named reader, right now.
///
/// Both real PC/SC readers and the demo reader implement it, so the bind's
/// card re-read does not care which kind of reader the operator chose.
pub trait IdentityReader: Send + Sync {
    /// Connects to the card in `reader`, reads what `options` ask for, and releases it.
    fn read_with(&self, reader: &str, options: ReadOptions) -> Result<CardIdentity, CardError>;

    /// Reads the ATR and card ID only, PIV first then GIDS as Windows does.
    fn read_identity(&self, reader: &str) -> Result<CardIdentity, CardError> {
        self.read_with(reader, ReadOptions::default())
    }
}
