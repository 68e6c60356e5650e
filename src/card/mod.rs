//! Everything about readers and cards: PC/SC, APDUs, card identity, the demo reader.

pub mod apdu;
pub mod atr;
pub mod cplc;
pub mod demo;
pub mod error;
pub mod identity;
pub mod monitor;
pub mod pcsc_reader;
pub mod reader_filter;
pub mod smartcard_list;
pub mod tlv;
pub mod virtual_card;

pub use error::CardError;

use crate::domain::card::CardIdentity;

/// An open channel to one card: sends a command APDU, returns the response with its status word.
pub trait CardChannel {
    /// Transmits one short command APDU and returns the full response (data + SW1 SW2).
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, CardError>;
}

/// Reads the identity of the card in a named reader, right now.
///
/// Both real PC/SC readers and the demo reader implement it, so the bind's
/// card re-read does not care which kind of reader the operator chose.
pub trait IdentityReader: Send + Sync {
    /// Connects to the card in `reader`, reads its ATR and card ID, and releases it.
    fn read_identity(&self, reader: &str) -> Result<CardIdentity, CardError>;
}
