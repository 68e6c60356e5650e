//! A throwaway PKI made at test time: CAs, server certificates good and bad,
//! and a client certificate, as PEM files in a temporary directory.

use std::path::{Path, PathBuf};

use enroll_station::cm::emulator::EmulatorTls;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};
use time::{Duration, OffsetDateTime};

/// A certificate and its private key, as PEM files.
#[derive(Clone, Debug)]
pub struct Leaf {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Leaf {
    /// The emulator's TLS identity for this certificate; with `client_ca`,
    /// client certificates from that CA are required.
    pub fn emulator_tls(&self, client_ca: Option<&Path>) -> EmulatorTls {
        EmulatorTls::from_pem_files(&self.cert, &self.key, client_ca)
            .expect("the test PKI's files are readable")
    }
}

/// Every file lives in `dir`, removed when the `TestPki` is dropped.
#[derive(Debug)]
pub struct TestPki {
    pub dir: tempfile::TempDir,
    /// The CA that issued the server certificates below (`ca.pem`).
    pub ca: PathBuf,
    /// A CA that issued nothing the emulator serves (`other-ca.pem`).
    pub other_ca: PathBuf,
    /// For `localhost` and 127.0.0.1, valid from yesterday for 30 days.
    pub good: Leaf,
    /// For `localhost` and 127.0.0.1, expired yesterday.
    pub expired: Leaf,
    /// For `wrong.example` only, otherwise fine.
    pub wrong_host: Leaf,
    /// The CA that issues client certificates (`client-ca.pem`).
    pub client_ca: PathBuf,
    /// A client certificate (client-auth usage) from `client_ca`.
    pub client: Leaf,
}

impl TestPki {
    pub fn new() -> TestPki {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let now = OffsetDateTime::now_utc();
        let write = |name: &str, pem: String| -> PathBuf {
            let path = dir.path().join(name);
            std::fs::write(&path, pem).expect("write a PEM file");
            path
        };

        let (ca, ca_pem) = new_ca("Enroll Station Test CA", now);
        let (_other, other_pem) = new_ca("Unrelated Test CA", now);
        let (client_ca, client_ca_pem) = new_ca("Enroll Station Test Client CA", now);

        let server_names = || vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
        let leaf = |name: &str,
                    sans: Vec<String>,
                    from: OffsetDateTime,
                    to: OffsetDateTime,
                    usage: ExtendedKeyUsagePurpose,
                    issuer: &CertifiedIssuer<'_, KeyPair>| {
            let (cert, key) = issue(name, sans, from, to, usage, issuer);
            Leaf {
                cert: write(&format!("{name}.pem"), cert),
                key: write(&format!("{name}.key"), key),
            }
        };
        let day = Duration::days(1);
        let good = leaf(
            "good",
            server_names(),
            now - day,
            now + Duration::days(30),
            ExtendedKeyUsagePurpose::ServerAuth,
            &ca,
        );
        let expired = leaf(
            "expired",
            server_names(),
            now - Duration::days(60),
            now - day,
            ExtendedKeyUsagePurpose::ServerAuth,
            &ca,
        );
        let wrong_host = leaf(
            "wrong-host",
            vec!["wrong.example".to_owned()],
            now - day,
            now + Duration::days(30),
            ExtendedKeyUsagePurpose::ServerAuth,
            &ca,
        );
        let client = leaf(
            "client",
            vec!["station01.contoso.test".to_owned()],
            now - day,
            now + Duration::days(30),
            ExtendedKeyUsagePurpose::ClientAuth,
            &client_ca,
        );
        TestPki {
            ca: write("ca.pem", ca_pem),
            other_ca: write("other-ca.pem", other_pem),
            client_ca: write("client-ca.pem", client_ca_pem),
            good,
            expired,
            wrong_host,
            client,
            dir,
        }
    }
}

fn name(common_name: &str) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    name.push(DnType::OrganizationName, "Enroll Station tests");
    name.push(DnType::CommonName, common_name);
    name
}

/// A self-signed CA valid from yesterday for a year, and its certificate's PEM.
fn new_ca(common_name: &str, now: OffsetDateTime) -> (CertifiedIssuer<'static, KeyPair>, String) {
    let mut params = CertificateParams::default();
    params.distinguished_name = name(common_name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.not_before = now - Duration::days(1);
    params.not_after = now + Duration::days(365);
    let key = KeyPair::generate().expect("a CA key");
    let issuer = CertifiedIssuer::self_signed(params, key).expect("a self-signed CA");
    let pem = issuer.pem();
    (issuer, pem)
}

/// An end-entity certificate from `issuer`: (certificate PEM, key PEM).
fn issue(
    common_name: &str,
    sans: Vec<String>,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    usage: ExtendedKeyUsagePurpose,
    issuer: &CertifiedIssuer<'_, KeyPair>,
) -> (String, String) {
    let mut params = CertificateParams::new(sans).expect("valid subject names");
    params.distinguished_name = name(common_name);
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![usage];
    params.use_authority_key_identifier_extension = true;
    params.not_before = not_before;
    params.not_after = not_after;
    let key = KeyPair::generate().expect("a leaf key");
    let cert = params.signed_by(&key, &**issuer).expect("a signed leaf");
    (cert.pem(), key.serialize_pem())
}
