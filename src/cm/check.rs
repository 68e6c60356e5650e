//! The connection check: every layer between the station and the CM API, in
//! order, each with pass or fail and the exact reason, so an administrator can
//! fix a deployment from the report alone.
//!
//! DNS, then TCP, then TLS (done separately, with the station's own trust, to
//! show the server's certificate chain), then the API calls through the real
//! client, which authenticate as configured and say who was accepted.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::client::{ClientConfig, CmClient, api_base_url};
use super::error::{CmError, TlsProblem};
use crate::domain::request::RequestStatus;

/// How a step ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepOutcome {
    /// It worked.
    Passed,
    /// It failed; the detail says why and what to do.
    Failed,
    /// Not tried, because an earlier step failed or it does not apply.
    Skipped,
}

/// One step of the check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CheckStep {
    /// What was checked: "DNS", "TCP", "TLS", "Authentication", "GET profiletemplates", ...
    pub name: String,
    /// How it ended.
    pub outcome: StepOutcome,
    /// What was found, one fact per line (addresses, the certificate chain,
    /// the principal) or, on failure, what happened and what to do.
    pub detail: Vec<String>,
    /// How long it took, in milliseconds.
    pub millis: u64,
}

/// The whole check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    /// The API base that was checked.
    pub server: String,
    /// The steps, in order.
    pub steps: Vec<CheckStep>,
}

impl CheckReport {
    /// True when every step that ran passed.
    pub fn passed(&self) -> bool {
        self.steps.iter().all(|s| s.outcome != StepOutcome::Failed)
    }

    /// The report as text, one step per paragraph.
    pub fn to_text(&self) -> String {
        let mut out = format!("Connection check of {}\n", self.server);
        for step in &self.steps {
            let mark = match step.outcome {
                StepOutcome::Passed => "PASS",
                StepOutcome::Failed => "FAIL",
                StepOutcome::Skipped => "skip",
            };
            out.push_str(&format!("{mark}  {} ({} ms)\n", step.name, step.millis));
            for line in &step.detail {
                out.push_str(&format!("      {line}\n"));
            }
        }
        out.push_str(if self.passed() {
            "Result: the station can work with this server.\n"
        } else {
            "Result: the station cannot work with this server yet; fix the first failing step.\n"
        });
        out
    }
}

struct Recorder {
    steps: Vec<CheckStep>,
}

impl Recorder {
    fn record(
        &mut self,
        name: &str,
        started: Instant,
        result: Result<Vec<String>, Vec<String>>,
    ) -> bool {
        let millis = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let (outcome, detail) = match result {
            Ok(detail) => (StepOutcome::Passed, detail),
            Err(detail) => (StepOutcome::Failed, detail),
        };
        self.steps.push(CheckStep {
            name: name.to_owned(),
            outcome,
            detail,
            millis,
        });
        outcome == StepOutcome::Passed
    }

    fn skip(&mut self, names: &[&str], why: &str) {
        for name in names {
            self.steps.push(CheckStep {
                name: (*name).to_owned(),
                outcome: StepOutcome::Skipped,
                detail: vec![why.to_owned()],
                millis: 0,
            });
        }
    }
}

const API_STEPS: [&str; 3] = [
    "Authentication",
    "GET profiletemplates",
    "GET requests?status=Approved",
];

/// Runs the check against the server of `config`.
pub async fn run_check(config: &ClientConfig) -> CheckReport {
    let mut report = Recorder { steps: Vec::new() };
    let base = match api_base_url(&config.server) {
        Ok(base) => base,
        Err(error) => {
            report.record(
                "Server address",
                Instant::now(),
                Err(vec![error.to_string()]),
            );
            return CheckReport {
                server: config.server.clone(),
                steps: report.steps,
            };
        }
    };
    let server = base.to_string();
    let host = base
        .host_str()
        .unwrap_or_default()
        .trim_matches(['[', ']'])
        .to_owned();
    let port = base.port_or_known_default().unwrap_or(443);
    let https = base.scheme() == "https";
    let finish = |report: Recorder| CheckReport {
        server: server.clone(),
        steps: report.steps,
    };

    let started = Instant::now();
    let resolved = tokio::time::timeout(
        config.connect_timeout,
        tokio::net::lookup_host((host.as_str(), port)),
    )
    .await;
    let addresses: Vec<SocketAddr> = match resolved {
        Ok(Ok(addresses)) => addresses.collect(),
        Ok(Err(error)) => {
            report.record("DNS", started, Err(vec![format!(
                "The name {host} cannot be resolved: {error}. Check the server name (its full DNS \
                 name, e.g. cm.contoso.com) and this computer's DNS settings or VPN."
            )]));
            report.skip(&["TCP", "TLS"], "not tried: the name did not resolve");
            report.skip(&API_STEPS, "not tried: the name did not resolve");
            return finish(report);
        }
        Err(_) => Vec::new(),
    };
    if addresses.is_empty() {
        report.record("DNS", started, Err(vec![format!(
            "The name {host} resolved to no address within {} s. Check this computer's DNS settings.",
            config.connect_timeout.as_secs()
        )]));
        report.skip(&["TCP", "TLS"], "not tried: the name did not resolve");
        report.skip(&API_STEPS, "not tried: the name did not resolve");
        return finish(report);
    }
    report.record(
        "DNS",
        started,
        Ok(vec![format!(
            "{host} is {}",
            addresses
                .iter()
                .map(|a| a.ip().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )]),
    );

    let started = Instant::now();
    let tcp = connect_any(&addresses, config.connect_timeout).await;
    let stream = match tcp {
        Ok((stream, addr)) => {
            report.record("TCP", started, Ok(vec![format!("connected to {addr}")]));
            stream
        }
        Err(detail) => {
            report.record("TCP", started, Err(vec![format!(
                "No connection to {host} port {port}: {detail}. Check that the server is running, \
                 the port (https is 443), and firewalls or proxies in between."
            )]));
            report.skip(&["TLS"], "not tried: no connection");
            report.skip(&API_STEPS, "not tried: no connection");
            return finish(report);
        }
    };

    if https {
        let started = Instant::now();
        let shown = tls_handshake(stream, &host, config).await;
        let ok = report.record("TLS", started, shown);
        if !ok {
            report.skip(&API_STEPS, "not tried: the secure connection failed");
            return finish(report);
        }
    } else {
        drop(stream);
        report.skip(
            &["TLS"],
            "plain http: nothing is encrypted (test setups only)",
        );
    }

    let client = match CmClient::new(config) {
        Ok(client) => client,
        Err(error) => {
            report.record(
                "Authentication",
                Instant::now(),
                Err(vec![error.to_string()]),
            );
            report.skip(&API_STEPS[1..], "not tried: the client could not be set up");
            return finish(report);
        }
    };
    let started = Instant::now();
    let templates = client.profile_templates().await;
    let auth_result = match &templates {
        Err(error) if is_auth_error(error) => Err(vec![error.to_string()]),
        // Any answer that is not a 401 means the server accepted who we are.
        _ => Ok(signed_in_lines(&client)),
    };
    if !report.record("Authentication", started, auth_result) {
        report.skip(&API_STEPS[1..], "not tried: authentication failed");
        return finish(report);
    }
    let list = match templates {
        Ok(templates) => Ok(vec![format!("{} profile templates", templates.len())]),
        Err(error) => Err(vec![error.to_string()]),
    };
    report.record("GET profiletemplates", started, list);
    let started = Instant::now();
    let approved = match client.list_requests(Some(RequestStatus::APPROVED)).await {
        Ok(requests) => Ok(vec![format!("{} approved requests", requests.len())]),
        Err(error) => Err(vec![error.to_string()]),
    };
    report.record("GET requests?status=Approved", started, approved);
    finish(report)
}

fn is_auth_error(error: &CmError) -> bool {
    matches!(
        error,
        CmError::Unauthorized { .. }
            | CmError::BearerRejected { .. }
            | CmError::NegotiateRejected { .. }
            | CmError::MutualAuthentication { .. }
            | CmError::AuthSetup { .. }
            | CmError::ClientIdentity { .. }
    ) || matches!(
        error,
        CmError::Tls {
            problem: TlsProblem::ClientCertificate,
            ..
        }
    )
}

fn signed_in_lines(client: &CmClient) -> Vec<String> {
    let signed_in = client.signed_in();
    let method = client.auth_method();
    let mut lines = vec![format!("method: {}", method.name())];
    if let Some(mechanism) = signed_in.mechanism {
        lines.push(format!("mechanism: {mechanism}"));
    }
    if let Some(principal) = signed_in.principal {
        lines.push(format!("signed in as: {principal}"));
    }
    if let Some(source) = signed_in.token_source {
        lines.push(format!("bearer token from {source}"));
    }
    if signed_in.method.is_none() && method == super::auth::AuthMethod::Negotiate {
        lines.push("the server did not ask for a sign-in".to_owned());
    }
    lines
}

/// No address of the server took the connection: each address, and how it failed.
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.join("; "))]
struct NoConnection(Vec<String>);

async fn connect_any(
    addresses: &[SocketAddr],
    timeout: Duration,
) -> Result<(tokio::net::TcpStream, SocketAddr), NoConnection> {
    let mut failures = Vec::new();
    for addr in addresses {
        match tokio::time::timeout(timeout, tokio::net::TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => return Ok((stream, *addr)),
            Ok(Err(error)) => failures.push(format!("{addr}: {error}")),
            Err(_) => failures.push(format!("{addr}: no answer within {} s", timeout.as_secs())),
        }
    }
    Err(NoConnection(failures))
}

/// A handshake with the client's own trust, to show the chain the server sends.
async fn tls_handshake(
    stream: tokio::net::TcpStream,
    host: &str,
    config: &ClientConfig,
) -> Result<Vec<String>, Vec<String>> {
    let tls_config = match super::tls::rustls_config(config) {
        Ok(tls_config) => tls_config,
        Err(error) => return Err(vec![error.to_string()]),
    };
    let name = match rustls::pki_types::ServerName::try_from(host.to_owned()) {
        Ok(name) => name,
        Err(error) => {
            return Err(vec![format!(
                "{host} is not a usable TLS server name: {error}"
            )]);
        }
    };
    let connector = tokio_rustls::TlsConnector::from(Arc::new(tls_config));
    let handshake =
        tokio::time::timeout(config.connect_timeout, connector.connect(name, stream)).await;
    match handshake {
        Ok(Ok(tls)) => {
            let (_, session) = tls.get_ref();
            let mut lines = Vec::new();
            if let Some(version) = session.protocol_version() {
                lines.push(format!("protocol: {version:?}"));
            }
            lines.push("the server's certificate is trusted and valid for this name".to_owned());
            for (index, der) in session
                .peer_certificates()
                .unwrap_or_default()
                .iter()
                .enumerate()
            {
                lines.push(format!(
                    "certificate {index}: {}",
                    describe_certificate(der)
                ));
            }
            Ok(lines)
        }
        Ok(Err(error)) => {
            let (detail, problem) = super::client::tls_cause(&error)
                .unwrap_or_else(|| (error.to_string(), TlsProblem::Protocol));
            Err(vec![
                CmError::Tls {
                    host: host.to_owned(),
                    detail,
                    problem,
                }
                .to_string(),
            ])
        }
        Err(_) => Err(vec![format!(
            "The server accepted the connection but did not complete a TLS handshake within {} s. \
             Check that the port speaks https.",
            config.connect_timeout.as_secs()
        )]),
    }
}

/// Subject, issuer and validity of a DER certificate, in one line.
fn describe_certificate(der: &[u8]) -> String {
    match x509_parser::parse_x509_certificate(der) {
        Ok((_, cert)) => format!(
            "subject \"{}\", issued by \"{}\", valid {} to {}",
            cert.subject(),
            cert.issuer(),
            cert.validity().not_before,
            cert.validity().not_after
        ),
        Err(error) => format!("({} bytes, not readable: {error})", der.len()),
    }
}
