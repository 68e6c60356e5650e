//! Pure types and rules of the station: requests, cards, readers and the bind.
//!
//! Nothing in here knows egui, HTTP or PC/SC, so every rule is testable
//! without a window, a server or a reader.

pub mod bind;
pub mod card;
pub mod card_choice;
pub mod card_record;
pub mod guid;
pub mod readers;
pub mod request;
pub mod reuse;
pub mod search;
pub mod smartcard;
