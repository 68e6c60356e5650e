//! The station's TLS client setup, in one place for the client and the
//! connection check: the system's roots plus the configured CA files, and the
//! client certificate when one is configured.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::config::ClientConfig;
use super::error::CmError;

/// The rustls configuration for `config`'s trust and client identity.
pub fn rustls_config(config: &ClientConfig) -> Result<rustls::ClientConfig, CmError> {
    let setup = |detail: String| CmError::ClientSetup { detail };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut extra_roots = Vec::new();
    for path in &config.ca_files {
        extra_roots.extend(read_ca_file(path)?);
    }
    // Without CA files, the plain verifier: on Windows the extra roots need a
    // chain engine of their own, which Wine cannot create (the CLI under Wine
    // could not even reach an http:// server).
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
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| setup(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier));
    match &config.client_certificate {
        Some(certificate) => {
            let (chain, key) = read_identity(certificate, config.client_key.as_deref())?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| CmError::ClientIdentity {
                    path: certificate.clone(),
                    reason: format!("the key does not fit the certificate or is unusable ({e})"),
                })
        }
        None => Ok(builder.with_no_client_auth()),
    }
}

/// The certificates of a PEM CA file.
fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, CmError> {
    let ca_error = |reason: String| CmError::CaFile {
        path: path.to_owned(),
        reason,
    };
    let pem = std::fs::read(path).map_err(|e| ca_error(e.to_string()))?;
    if !contains(&pem, b"-----BEGIN CERTIFICATE-----") {
        return Err(ca_error("it holds no PEM certificate".to_owned()));
    }
    let certificates = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ca_error(format!("it is not valid PEM ({e})")))?;
    if certificates.is_empty() {
        return Err(ca_error("it holds no PEM certificate".to_owned()));
    }
    Ok(certificates)
}

type Identity = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

/// The client certificate chain and key (PEM).
fn read_identity(certificate: &Path, key: Option<&Path>) -> Result<Identity, CmError> {
    let fail = |path: &Path, reason: String| CmError::ClientIdentity {
        path: path.to_owned(),
        reason,
    };
    let read = |path: &Path| std::fs::read(path).map_err(|e| fail(path, e.to_string()));
    let pem = read(certificate)?;
    if !contains(&pem, b"-----BEGIN CERTIFICATE-----") {
        let reason = if pem.first() == Some(&0x30) {
            "it looks like PKCS#12 (.p12/.pfx), which the station does not read; convert it with \
             `openssl pkcs12 -in station.p12 -out station.pem -nodes`"
        } else {
            "it holds no PEM certificate"
        };
        return Err(fail(certificate, reason.to_owned()));
    }
    let chain = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| fail(certificate, format!("it is not valid PEM ({e})")))?;
    let key_path = key.unwrap_or(certificate);
    let key_pem = if key.is_some() { read(key_path)? } else { pem };
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
        fail(
            key_path,
            format!(
                "no usable private key in it ({e}); give the key's PEM file with \
                 tls.client_key (--client-key)"
            ),
        )
    })?;
    Ok((chain, key))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config_with(setup: impl FnOnce(&mut ClientConfig)) -> ClientConfig {
        let mut config = ClientConfig::new("https://cm.contoso.com");
        setup(&mut config);
        config
    }

    #[test]
    fn unusable_client_certificates_are_named() {
        let dir = tempfile::tempdir().expect("temp dir");
        let p12 = dir.path().join("station.p12");
        std::fs::write(&p12, [0x30, 0x82, 0x01, 0x00]).expect("write");
        let error = rustls_config(&config_with(|c| c.client_certificate = Some(p12.clone())))
            .expect_err("PKCS#12 is refused")
            .to_string();
        assert!(
            error.contains("PKCS#12") && error.contains("openssl pkcs12"),
            "{error}"
        );

        let missing = dir.path().join("missing.pem");
        let error = rustls_config(&config_with(|c| c.client_certificate = Some(missing)))
            .expect_err("missing file")
            .to_string();
        assert!(error.contains("missing.pem"), "{error}");
    }
}
