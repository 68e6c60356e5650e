//! What every TLS client of the station trusts: the operating system's
//! certificate store (`rustls-platform-verifier`, with ring) plus the CA
//! files an administrator configured. The CM client and the directory both
//! build on it, so a station trusts the same authorities for both.

use std::path::Path;
use std::sync::Arc;

use rustls::client::WantsClientCert;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;
use rustls::{ClientConfig, ConfigBuilder};

/// Why a CA file cannot be used, in words (the caller names the file).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CaFileProblem(pub String);

/// Why the trust could not be set up, in words.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TrustProblem(pub String);

/// The certificates of a PEM CA file; at least one.
pub fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, CaFileProblem> {
    let pem = std::fs::read(path).map_err(|e| CaFileProblem(e.to_string()))?;
    let certificates = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CaFileProblem(format!("it is not valid PEM ({e})")))?;
    if certificates.is_empty() {
        return Err(CaFileProblem("it holds no PEM certificate".to_owned()));
    }
    Ok(certificates)
}

/// A rustls client configuration, up to the client certificate, that
/// verifies servers against the system's store plus `extra_roots`.
pub fn verifying_builder(
    extra_roots: Vec<CertificateDer<'static>>,
) -> Result<ConfigBuilder<ClientConfig, WantsClientCert>, TrustProblem> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    // Without CA files, the plain verifier: on Windows the extra roots need a
    // chain engine of their own, which Wine cannot create (the CLI under Wine
    // could not even reach an http:// server).
    let verifier = if extra_roots.is_empty() {
        rustls_platform_verifier::Verifier::new(Arc::clone(&provider))
    } else {
        rustls_platform_verifier::Verifier::new_with_extra_roots(extra_roots, Arc::clone(&provider))
    }
    .map_err(|e| {
        TrustProblem(format!(
            "the system's certificate store cannot be used: {e}"
        ))
    })?;
    Ok(ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TrustProblem(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier)))
}
