//! CM's smart card objects: what the server knows about a physical card.

use uuid::Uuid;

use super::card::{Atr, CardId};
use super::request::SmartcardStatus;

/// A CM smart card object, strictly typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Smartcard {
    /// The object's UUID (a new one each time a card is assigned).
    pub uuid: Uuid,
    /// Its status.
    pub status: SmartcardStatus,
    /// The card ID it was bound with (`SerialNumber`), when parseable.
    pub card_id: Option<CardId>,
    /// The ATR CM stored.
    pub atr: Option<Atr>,
    /// The user the card is assigned to.
    pub assigned_user: Option<Uuid>,
    /// The profile template it was issued with.
    pub profile_template: Option<Uuid>,
}
