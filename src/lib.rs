//! enroll-station: binds pending MIM CM smart card requests to the card in the reader.
//!
//! The library holds everything; `main.rs` only parses the command line.

pub mod allocator;
pub mod audit;
pub mod card;
pub mod card_lookups;
pub mod cli;
pub mod cm;
pub mod config;
pub mod desk;
pub mod domain;
pub mod gui;
pub mod journal;
pub mod kiosk;
pub mod request_filter;
pub mod secrets;
pub mod settings_form;
pub mod station;
pub mod supervisors;
pub mod ui;
pub mod worker;
