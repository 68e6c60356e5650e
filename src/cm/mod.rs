//! Everything about the MIM CM server: wire types, the HTTP client, the emulator.

pub(crate) mod auth;
pub(crate) mod check;
pub mod client;
pub(crate) mod config;
pub mod demo_data;
pub mod emulator;
pub mod error;
pub mod model;
pub(crate) mod tls;

pub use client::{ClientConfig, CmClient};
pub use error::CmError;
