//! Helpers shared by the integration tests.

// Each test binary that declares `mod common` uses only part of the rig.
#![allow(dead_code)]

pub mod binary;
pub mod kerberos;
pub mod negotiate_proxy;
pub mod slapd;
pub mod tls;
pub mod vectors;
pub mod vpcd;
pub mod window;
pub mod xvfb;

/// A journal path inside a fresh temporary directory; the directory (and the
/// journal with its lock file) goes when the returned guard is dropped.
pub fn temp_journal() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("audit.jsonl");
    (dir, path)
}

/// The emulator's first request that can take a card.
pub fn first_bindable(
    emulator: &enroll_station::cm::emulator::Emulator,
) -> enroll_station::domain::request::Request {
    emulator
        .requests()
        .into_iter()
        .find(enroll_station::domain::request::Request::is_bindable)
        .expect("the demo data has an approved request")
}
