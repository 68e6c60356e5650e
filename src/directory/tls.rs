//! The directory connection's trust: the system's roots plus
//! `[directory] ca_file`, verified as the CM client verifies its server
//! (`rustls-platform-verifier`, ring), so a station trusts the same
//! authorities for both.

use std::path::Path;

use super::error::DirectoryError;
use crate::platform::tls_trust;

/// The rustls client configuration for the directory.
pub fn client_config(ca_file: Option<&Path>) -> Result<rustls::ClientConfig, DirectoryError> {
    let extra_roots = match ca_file {
        Some(path) => tls_trust::read_ca_file(path).map_err(|e| DirectoryError::CaFile {
            path: path.display().to_string(),
            reason: e.0,
        })?,
        None => Vec::new(),
    };
    Ok(tls_trust::verifying_builder(extra_roots)
        .map_err(|e| DirectoryError::TlsSetup { detail: e.0 })?
        .with_no_client_auth())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_or_empty_ca_file_is_named() {
        let dir = tempfile::tempdir().expect("temp dir");
        let missing = dir.path().join("missing.pem");
        let error = client_config(Some(&missing))
            .expect_err("missing")
            .to_string();
        assert!(
            error.contains("missing.pem") && error.contains("ca_file"),
            "{error}"
        );
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").expect("write");
        let error = client_config(Some(&empty)).expect_err("empty").to_string();
        assert!(error.contains("no PEM certificate"), "{error}");
        assert!(client_config(None).is_ok());
    }
}
