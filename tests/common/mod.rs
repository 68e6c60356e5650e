//! Helpers shared by the integration tests.

pub mod vectors;
pub mod vpcd;
pub mod xvfb;
