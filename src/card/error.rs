//! Card and reader errors, each with what happened and what to do.

use thiserror::Error;

/// Why a card could not be read. The `Display` text is meant for the operator.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum CardError {
    /// The smart card service (pcscd / Windows "Smart Card" service) is not running.
    #[error(
        "The smart card service is not running ({0}). Start it (Linux: pcscd; Windows: the \"Smart Card\" service) and the readers will come back."
    )]
    NoService(String),
    /// The named reader is not connected.
    #[error("Reader \"{0}\" is not connected. Plug it in or choose another reader.")]
    UnknownReader(String),
    /// The reader has no card.
    #[error("There is no card in reader \"{0}\". Insert the card and try again.")]
    NoCard(String),
    /// The card was removed while the station was talking to it.
    #[error(
        "The card was removed from reader \"{0}\" while it was being read. Insert it again and keep it in the reader."
    )]
    Removed(String),
    /// Another program holds the card exclusively.
    #[error(
        "Another program holds the card in reader \"{0}\" exclusively (SCARD_E_SHARING_VIOLATION). Close other smart card tools or middleware and try again."
    )]
    SharingViolation(String),
    /// The read's transaction was ended under it (SCARD_E_NOT_TRANSACTED):
    /// another program reset the card, or the service dropped a handle of a
    /// program that had just died. Retried before it is shown.
    #[error(
        "The read of the card in reader \"{0}\" was interrupted by another program \
         (SCARD_E_NOT_TRANSACTED). Take the card out and insert it again."
    )]
    Interrupted(String),
    /// The card does not answer.
    #[error(
        "The card in reader \"{0}\" does not answer (it may be inserted the wrong way round or broken). Reinsert it; if it stays silent, use another card."
    )]
    Unresponsive(String),
    /// The card answered something the station cannot use.
    #[error(
        "The card answered unexpectedly: {0}. It may not be a GIDS or PIV card; check the card type."
    )]
    Protocol(String),
    /// The card has no card ID the station can bind.
    #[error("{reason}")]
    NoCardId {
        /// Why, and what to do, in words.
        reason: String,
        /// What the chip says about itself, when it was asked: shown, never bound.
        chip: Option<crate::domain::card::ChipInfo>,
    },
    /// Any other PC/SC failure.
    #[error(
        "The smart card system reported an error: {0}. Reinsert the card or reconnect the reader and try again."
    )]
    Pcsc(String),
}

impl CardError {
    /// The card has no card ID the station can bind: `reason` says why and
    /// what to do. The chip, when asked for, is added by the reader.
    pub fn no_card_id(reason: impl Into<String>) -> Self {
        CardError::NoCardId {
            reason: reason.into(),
            chip: None,
        }
    }
}

impl From<CardError> for crate::domain::readers::Unidentified {
    /// What the readers panel shows of a failed read: the chip of a card
    /// without a card ID stays visible.
    fn from(error: CardError) -> Self {
        match error {
            CardError::NoCardId { reason, chip } => Self { reason, chip },
            other => other.to_string().into(),
        }
    }
}
