//! Everything about the MIM CM server: wire types, the HTTP client, the emulator.

pub mod auth;
pub mod check;
pub mod client;
pub mod config;
pub mod demo_data;
pub mod emulator;
pub mod error;
pub mod model;
pub mod tls;

pub use client::{ClientConfig, CmClient};
pub use error::CmError;
