//! TLS trust, bearer tokens and client certificates against the emulator over
//! https on loopback, with a PKI made at test time: through the library, the
//! binary, and (to check the emulator itself) a bare TLS connection.

mod common;

use std::io;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;

use common::tls::{Leaf, TestPki};
use enroll_station::cm::emulator::{Emulator, EmulatorConfig, EmulatorTls};
use enroll_station::cm::{ClientConfig, CmClient};
use rustls::RootCertStore;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const TOKEN: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.eyJzdWIiOiJzdGF0aW9uIn0.";

async fn emulator(tls: EmulatorTls) -> Emulator {
    emulator_with(tls, None).await
}

async fn emulator_with(tls: EmulatorTls, bearer_token: Option<&str>) -> Emulator {
    Emulator::start(EmulatorConfig {
        requests: 3,
        tls: Some(tls),
        bearer_token: bearer_token.map(str::to_owned),
        ..EmulatorConfig::default()
    })
    .await
    .expect("the emulator starts on loopback with TLS")
}

fn client_for(emulator: &Emulator, ca_files: &[&Path]) -> CmClient {
    let mut config = ClientConfig::new(emulator.base_url());
    config.ca_files = ca_files.iter().map(|p| p.to_path_buf()).collect();
    CmClient::new(&config).expect("a client for a loopback server")
}

/// The error of listing requests, in the words the operator reads.
async fn list_error(emulator: &Emulator, ca_files: &[&Path]) -> String {
    let err = client_for(emulator, ca_files)
        .list_requests(None)
        .await
        .expect_err("the connection is refused");
    err.to_string()
}

fn assert_contains(text: &str, words: &[&str]) {
    for word in words {
        assert!(text.contains(word), "{word:?} missing in: {text}");
    }
}

// ---------------------------------------------------------------------------
// Trust, through the library
// ---------------------------------------------------------------------------

#[tokio::test]
async fn https_emulator_names_localhost() {
    let pki = TestPki::new();
    let emulator = emulator(pki.good.emulator_tls(None)).await;
    let port = emulator.local_addr().port();
    assert_eq!(emulator.base_url(), format!("https://localhost:{port}"));
    assert_eq!(
        emulator.api_url(),
        format!("https://localhost:{port}/CertificateManagement/api/v1.0/")
    );
}

#[tokio::test]
async fn trusted_ca_file_works() {
    let pki = TestPki::new();
    let emulator = emulator(pki.good.emulator_tls(None)).await;
    let client = client_for(&emulator, &[&pki.ca]);
    let list = client.list_requests(None).await.expect("list over https");
    assert_eq!(list.len(), 3);
    // The same server by the IP address the certificate also names.
    let by_ip = CmClient::new(&ClientConfig {
        ca_files: vec![pki.ca.clone()],
        ..ClientConfig::new(format!("https://{}", emulator.local_addr()))
    })
    .expect("client by IP");
    assert_eq!(
        by_ip.list_requests(None).await.expect("list by IP").len(),
        3
    );
}

#[tokio::test]
async fn untrusted_ca_is_named() {
    let pki = TestPki::new();
    let emulator = emulator(pki.good.emulator_tls(None)).await;
    for ca_files in [&[][..], &[pki.other_ca.as_path()][..]] {
        let text = list_error(&emulator, ca_files).await;
        assert_contains(
            &text,
            &[
                "not issued by a certificate authority this station trusts",
                "--ca-file",
            ],
        );
    }
}

#[tokio::test]
async fn expired_certificate_is_named() {
    let pki = TestPki::new();
    let emulator = emulator(pki.expired.emulator_tls(None)).await;
    let text = list_error(&emulator, &[&pki.ca]).await;
    assert_contains(&text, &["expired"]);
}

#[tokio::test]
async fn wrong_host_certificate_is_named() {
    let pki = TestPki::new();
    let emulator = emulator(pki.wrong_host.emulator_tls(None)).await;
    let text = list_error(&emulator, &[&pki.ca]).await;
    assert_contains(&text, &["not valid for the name"]);
}

#[tokio::test]
async fn failed_handshakes_do_not_stop_the_server() {
    let pki = TestPki::new();
    let emulator = emulator(pki.good.emulator_tls(None)).await;
    // A client that speaks plain HTTP, one that connects and says nothing
    // (held open meanwhile), and one that does not trust the certificate.
    let mut plain = tokio::net::TcpStream::connect(emulator.local_addr())
        .await
        .expect("connect");
    plain
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .expect("write");
    let mut answer = Vec::new();
    let _ = plain.read_to_end(&mut answer).await;
    assert!(
        !answer.starts_with(b"HTTP/1.1 200"),
        "plain HTTP was served"
    );
    let _silent = tokio::net::TcpStream::connect(emulator.local_addr())
        .await
        .expect("connect");
    let _ = client_for(&emulator, &[])
        .list_requests(None)
        .await
        .expect_err("untrusted");

    let list = client_for(&emulator, &[&pki.ca])
        .list_requests(None)
        .await
        .expect("a good client is still served");
    assert_eq!(list.len(), 3);
}

// ---------------------------------------------------------------------------
// The emulator's demands, checked on a bare TLS connection
// ---------------------------------------------------------------------------

/// `GET requests` over a fresh TLS connection to `emulator`, trusting `ca`,
/// with an optional client certificate and bearer token: (status, body).
async fn raw_get(
    emulator: &Emulator,
    ca: &Path,
    client: Option<&Leaf>,
    bearer: Option<&str>,
) -> io::Result<(u16, String)> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).expect("CA file") {
        roots.add(cert.expect("CA PEM")).expect("CA certificate");
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots);
    let config = match client {
        None => builder.with_no_client_auth(),
        Some(leaf) => builder
            .with_client_auth_cert(
                CertificateDer::pem_file_iter(&leaf.cert)
                    .expect("client certificate file")
                    .collect::<Result<Vec<_>, _>>()
                    .expect("client certificate PEM"),
                PrivateKeyDer::from_pem_file(&leaf.key).expect("client key"),
            )
            .expect("client identity"),
    };
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(emulator.local_addr()).await?;
    let name = ServerName::try_from("localhost").expect("a DNS name");
    let mut tls = connector.connect(name, tcp).await?;
    let authorization = bearer
        .map(|token| format!("Authorization: Bearer {token}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "GET /CertificateManagement/api/v1.0/requests HTTP/1.1\r\nHost: localhost\r\n\
         Accept: application/json\r\n{authorization}Connection: close\r\n\r\n"
    );
    tls.write_all(request.as_bytes()).await?;
    let mut answer = Vec::new();
    tls.read_to_end(&mut answer).await?;
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| io::Error::other(format!("not an HTTP answer: {answer}")))?;
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

#[tokio::test]
async fn the_emulator_requires_a_client_certificate_from_its_ca() {
    let pki = TestPki::new();
    let tls = pki.good.emulator_tls(Some(&pki.client_ca));
    let emulator = emulator(tls).await;

    let refused = raw_get(&emulator, &pki.ca, None, None).await;
    assert!(
        refused.is_err(),
        "served without a client certificate: {refused:?}"
    );
    // A certificate from another CA is no better: the server's own leaf.
    let foreign = raw_get(&emulator, &pki.ca, Some(&pki.good), None).await;
    assert!(
        foreign.is_err(),
        "served a foreign client certificate: {foreign:?}"
    );

    let (status, body) = raw_get(&emulator, &pki.ca, Some(&pki.client), None)
        .await
        .expect("served with the client certificate");
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn the_emulator_checks_bearer_tokens_over_tls() {
    let pki = TestPki::new();
    let emulator = emulator_with(pki.good.emulator_tls(None), Some(TOKEN)).await;

    let (status, body) = raw_get(&emulator, &pki.ca, None, Some(TOKEN))
        .await
        .expect("an answer");
    assert_eq!(status, 200, "{body}");
    for bearer in [None, Some("expired-token")] {
        let (status, body) = raw_get(&emulator, &pki.ca, None, bearer)
            .await
            .expect("an answer");
        assert_eq!(status, 401, "{body}");
        assert!(body.contains("Authorization has been denied"), "{body}");
    }
}

#[tokio::test]
async fn a_client_certificate_needs_no_bearer_token() {
    let pki = TestPki::new();
    let tls = pki.good.emulator_tls(Some(&pki.client_ca));
    let emulator = emulator_with(tls, Some(TOKEN)).await;
    let (status, body) = raw_get(&emulator, &pki.ca, Some(&pki.client), None)
        .await
        .expect("an answer");
    assert_eq!(status, 200, "{body}");
}

// ---------------------------------------------------------------------------
// Authentication, through the binary
// ---------------------------------------------------------------------------

fn thread_emulator(tls: EmulatorTls, bearer_token: Option<&str>) -> Emulator {
    Emulator::start_on_thread(EmulatorConfig {
        requests: 3,
        tls: Some(tls),
        bearer_token: bearer_token.map(str::to_owned),
        ..EmulatorConfig::default()
    })
    .expect("the emulator starts on loopback with TLS")
}

/// Runs the binary with none of the station's settings from this environment
/// (variables, or a configuration file in the user's directories: those are
/// the helper's own), plus `env`.
fn station(args: &[&str], env: &[(&str, &str)]) -> Output {
    let (_home, mut command) = common::binary::station();
    command
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("the binary runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn stdout_json(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "exit {:?}, stderr: {}",
        output.status,
        stderr(output)
    );
    serde_json::from_slice(&output.stdout).expect("stdout is JSON")
}

fn path(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

fn requests_args<'a>(url: &'a str, ca: &'a Path, auth: &'a [&'a str]) -> Vec<&'a str> {
    let mut args = vec!["--server", url, "--ca-file", path(ca)];
    args.extend_from_slice(auth);
    args.extend(["requests", "--json"]);
    args
}

#[test]
fn bearer_right_token_works() {
    let pki = TestPki::new();
    let emulator = thread_emulator(pki.good.emulator_tls(None), Some(TOKEN));
    let url = emulator.base_url();
    let output = station(
        &requests_args(&url, &pki.ca, &["--auth", "bearer"]),
        &[("ENROLL_STATION_BEARER_TOKEN", TOKEN)],
    );
    let list = stdout_json(&output);
    assert_eq!(list.as_array().map(Vec::len), Some(3), "{list}");
}

#[test]
fn bearer_wrong_token_is_explained() {
    let pki = TestPki::new();
    let emulator = thread_emulator(pki.good.emulator_tls(None), Some(TOKEN));
    let url = emulator.base_url();
    let output = station(
        &requests_args(&url, &pki.ca, &["--auth", "bearer"]),
        &[("ENROLL_STATION_BEARER_TOKEN", "an-old-token")],
    );
    assert!(!output.status.success(), "a wrong token was accepted");
    assert_contains(&stderr(&output), &["bearer token", "expired or rejected"]);
    assert!(output.stdout.is_empty(), "printed to stdout");
}

#[test]
fn client_certificate_required_and_given_works() {
    let pki = TestPki::new();
    let emulator = thread_emulator(pki.good.emulator_tls(Some(&pki.client_ca)), None);
    let url = emulator.base_url();
    let auth = [
        "--auth",
        "client-certificate",
        "--client-cert",
        path(&pki.client.cert),
        "--client-key",
        path(&pki.client.key),
    ];
    let list = stdout_json(&station(&requests_args(&url, &pki.ca, &auth), &[]));
    assert_eq!(list.as_array().map(Vec::len), Some(3), "{list}");
}

#[test]
fn client_certificate_missing_is_explained() {
    let pki = TestPki::new();
    let emulator = thread_emulator(pki.good.emulator_tls(Some(&pki.client_ca)), None);
    let url = emulator.base_url();
    let output = station(&requests_args(&url, &pki.ca, &["--auth", "none"]), &[]);
    assert!(
        !output.status.success(),
        "served without a client certificate"
    );
    assert_contains(&stderr(&output), &["client certificate"]);
    assert!(output.stdout.is_empty(), "printed to stdout");
}

/// The PKI's files are where it says and hold what the tests need.
#[test]
fn the_test_pki_writes_its_files() {
    let pki = TestPki::new();
    let files: [&PathBuf; 11] = [
        &pki.ca,
        &pki.other_ca,
        &pki.client_ca,
        &pki.good.cert,
        &pki.good.key,
        &pki.expired.cert,
        &pki.expired.key,
        &pki.wrong_host.cert,
        &pki.wrong_host.key,
        &pki.client.cert,
        &pki.client.key,
    ];
    for file in files {
        assert!(file.starts_with(pki.dir.path()), "{}", file.display());
        let text = std::fs::read_to_string(file).expect("readable");
        assert!(text.starts_with("-----BEGIN "), "{}", file.display());
    }
}
