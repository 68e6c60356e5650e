//! The directory connection's trust: the system's roots plus
//! `[directory] ca_file`, verified as the CM client verifies its server
//! (`rustls-platform-verifier`, ring), so a station trusts the same
//! authorities for both.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;

use super::error::DirectoryError;

/// The rustls client configuration for the directory.
pub fn client_config(ca_file: Option<&Path>) -> Result<rustls::ClientConfig, DirectoryError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let extra_roots = match ca_file {
        Some(path) => read_ca_file(path)?,
        None => Vec::new(),
    };
    let setup = |detail: String| DirectoryError::TlsSetup { detail };
    let verifier = if extra_roots.is_empty() {
        rustls_platform_verifier::Verifier::new(Arc::clone(&provider))
    } else {
        rustls_platform_verifier::Verifier::new_with_extra_roots(extra_roots, Arc::clone(&provider))
    }
    .map_err(|e| {
        setup(format!(
            "the system's certificate store cannot be used: {e}"
        ))
    })?;
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| setup(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth())
}

fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, DirectoryError> {
    let fail = |reason: String| DirectoryError::CaFile {
        path: path.display().to_string(),
        reason,
    };
    let pem = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
    let certificates = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| fail(format!("it is not valid PEM ({e})")))?;
    if certificates.is_empty() {
        return Err(fail("it holds no PEM certificate".to_owned()));
    }
    Ok(certificates)
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
