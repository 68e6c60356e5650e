//! enroll-station: binds pending MIM CM smart card requests to the card in the reader.
//!
//! The library holds everything; `main.rs` only parses the command line.
//! `docs/architecture.md` walks one bind through the layers below.
//!
//! ## Layers
//!
//! Each top folder is one layer; a layer imports only the ones named on its
//! row (`-`: nothing of ours). `tests/architecture.rs` checks every file.
//!
//! ```text
//! # the bottom: pure rules, and OS glue without station rules
//! domain       -
//! platform     -
//! # the outside world: the CM server, the readers and cards, the directory
//! cm           domain, platform
//! card         domain
//! directory    domain, platform
//! # what the station is told, and what it writes down
//! config       domain, platform, cm, card, directory
//! audit        domain, platform
//! supervisors  domain, platform, config, audit
//! # the tokio side, then the window's model (no egui), then the views
//! worker       domain, platform, cm, card, directory, config, audit, supervisors
//! app          domain, platform, cm, card, directory, config, audit, supervisors, worker
//! ui           domain, platform, cm, card, directory, config, audit, supervisors, worker, app
//! # the command line, which also opens the window
//! cli          domain, platform, cm, card, directory, config, audit, supervisors, worker, app, ui
//! ```

pub mod app;
pub mod audit;
pub mod card;
pub mod cli;
pub mod cm;
pub mod config;
pub mod directory;
pub mod domain;
pub mod platform;
pub mod supervisors;
pub mod ui;
pub mod worker;
