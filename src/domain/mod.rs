//! Pure types and rules of the station: requests, cards, readers and the bind.
//!
//! Nothing in here knows egui, HTTP or PC/SC, so every rule is testable
//! without a window, a server or a reader.

pub mod action;
pub mod batch;
pub mod bind;
pub mod card;
pub(crate) mod card_choice;
pub mod card_record;
pub(crate) mod guid;
pub mod lifecycle;
pub mod person;
pub mod readers;
pub mod request;
pub mod request_cards;
pub(crate) mod reuse;
pub(crate) mod search;
pub mod smartcard;
pub mod text;
pub mod unblock;
