//! Helpers shared by the integration tests.

pub mod vpcd;
pub mod xvfb;
