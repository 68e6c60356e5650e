//! Everything about the MIM CM server: wire types, the HTTP client, the emulator.

pub mod client;
pub mod demo_data;
pub mod emulator;
pub mod error;
pub mod model;

pub use client::{ClientConfig, CmClient};
pub use error::CmError;
