//! The station's TLS client setup, in one place for the client and the
//! connection check: the system's roots plus the configured CA files, and the
//! client certificate when one is configured.

use std::path::Path;

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::config::ClientConfig;
use super::error::CmError;
use crate::platform::tls_trust;

/// The rustls configuration for `config`'s trust and client identity.
pub fn rustls_config(config: &ClientConfig) -> Result<rustls::ClientConfig, CmError> {
    let mut extra_roots = Vec::new();
    for path in &config.ca_files {
        extra_roots.extend(read_ca_file(path)?);
    }
    let builder = tls_trust::verifying_builder(extra_roots)
        .map_err(|e| CmError::ClientSetup { detail: e.0 })?;
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
    tls_trust::read_ca_file(path).map_err(|e| CmError::CaFile {
        path: path.to_owned(),
        reason: e.0,
    })
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
