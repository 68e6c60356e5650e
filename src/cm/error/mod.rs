//! Everything that can go wrong talking to CM, and the one place it becomes
//! words an operator can act on.
//!
//! Every [`CmError`] displays as "what happened. What to do." with the
//! server's own message and correlation ID verbatim when there are some, so the
//! operator can copy them to the CM administrator.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use uuid::Uuid;

use crate::cm::model::{ModelError, parse_guid, parse_lenient_json};

mod body;
mod call;
#[cfg(test)]
mod tests;

use crate::domain::bind::Failure;
use crate::domain::card::CardId;
use crate::domain::lifecycle::StatusChange;
use crate::domain::request::RequestType;
pub use body::*;
pub use call::*;

/// The longest server message shown; IIS pages and stack-trace-like texts are cut.
const MAX_MESSAGE_CHARS: usize = 400;

/// A failure talking to the CM server, already phrased for the operator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CmError {
    /// The configured server address cannot be used at all.
    #[error(
        "The CM server address \"{url}\" is not usable: {reason}. \
         Enter the CM server's https address, e.g. https://cm.contoso.com."
    )]
    InvalidServerUrl {
        /// What was configured.
        url: String,
        /// Why it is refused.
        reason: String,
    },

    /// Plain `http://` to a host that is not this machine.
    #[error(
        "Refusing plain http:// for {url}: requests and credentials would cross the network \
         unencrypted. Plain http is allowed only to a literal loopback address \
         (http://127.0.0.1:PORT or http://[::1]:PORT), never to a name, localhost included. \
         Use https://, or start the station with --allow-insecure-http if this is a test lab."
    )]
    InsecureHttp {
        /// What was configured.
        url: String,
    },

    /// A `--ca-file` that is missing, unreadable or not PEM.
    #[error(
        "Cannot use the CA certificate file {}: {reason}. \
         Give a readable PEM file (\"-----BEGIN CERTIFICATE-----\") with --ca-file.",
        path.display()
    )]
    CaFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// The HTTP client could not be built (should not happen with a valid configuration).
    #[error("The station could not set up its HTTP client: {detail}.")]
    ClientSetup {
        /// The library's description.
        detail: String,
    },

    /// No connection could be made: name resolution, refused, unreachable, or connect timeout.
    #[error(
        "Cannot reach the CM server at {host}: {detail}. \
         Check the server name, that the server is running, and the network (VPN, proxy, firewall)."
    )]
    Connect {
        /// The host (and port) the station tried.
        host: String,
        /// What the network stack said.
        detail: String,
    },

    /// The TLS handshake failed: the server's certificate, a client
    /// certificate the server wants, or the protocol.
    #[error("{}", tls_failure(host, detail, *problem))]
    Tls {
        /// The host.
        host: String,
        /// What the TLS library said.
        detail: String,
        /// Which kind of problem it is.
        problem: TlsProblem,
    },

    /// The client certificate or its key cannot be used.
    #[error(
        "Cannot use the client certificate {}: {reason}. \
         Give a PEM file with the certificate (and its chain) and a PEM private key \
         (tls.client_certificate and tls.client_key, or --client-cert and --client-key).",
        path.display()
    )]
    ClientIdentity {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },

    /// Authentication could not even be attempted: no token, no ticket, a
    /// failing token command, an unusable keyring. The text says which.
    #[error("{detail}")]
    AuthSetup {
        /// What happened and what to do, already in words.
        detail: String,
    },

    /// The server refused the bearer token.
    #[error(
        "The CM server did not accept the bearer token (HTTP 401): it is expired or rejected{}. \
         Get a fresh token for the relying party https://<server>/certificatemanagement \
         (ENROLL_STATION_BEARER_TOKEN, auth.token_command, or the keyring) and try again.",
        server_said(message, correlation_id)
    )]
    BearerRejected {
        /// The server's message, if any.
        message: Option<String>,
        /// The correlation ID, if any.
        correlation_id: Option<String>,
    },

    /// The server refused the Kerberos/Negotiate token.
    #[error(
        "The CM server did not accept the Kerberos sign-in of {principal} (HTTP 401){}. \
         Check that the server's service principal (HTTP/<server name>) is registered on the \
         CM web pool account and that you address the server by that name; renew your \
         ticket with kinit if it is old.",
        server_said(message, correlation_id)
    )]
    NegotiateRejected {
        /// Who the station signed in as.
        principal: String,
        /// The server's message, if any.
        message: Option<String>,
        /// The correlation ID, if any.
        correlation_id: Option<String>,
    },

    /// The server's answer did not prove its identity (Kerberos mutual authentication).
    #[error(
        "The CM server at {host} answered, but could not prove it is the server the Kerberos \
         ticket was for ({detail}). Nothing was trusted from that answer. Tell the CM or network \
         administrator: something between the station and the server may be impersonating it."
    )]
    MutualAuthentication {
        /// The host.
        host: String,
        /// What the security library said.
        detail: String,
    },

    /// The server did not answer in time. For a POST the outcome is unknown.
    #[error("{}", lost_answer(what, &format!("did not answer within {}", seconds(*after)), "Check the network and the server's load"))]
    Timeout {
        /// The call, e.g. "POST smartcards".
        what: CallName,
        /// The configured limit.
        after: Duration,
    },

    /// The connection broke after the request left; for a POST the outcome is unknown.
    #[error("{}", lost_answer(what, &format!("broke the connection ({detail})"), "Check the network"))]
    Network {
        /// The call.
        what: CallName,
        /// What the network stack said.
        detail: String,
    },

    /// HTTP 401 that the configured method could not answer.
    #[error("{}", unauthorized(message, correlation_id, offered))]
    Unauthorized {
        /// The server's message, if any.
        message: Option<String>,
        /// The correlation ID, if any.
        correlation_id: Option<String>,
        /// The schemes the server offers (`WWW-Authenticate`), e.g. `["Negotiate", "NTLM"]`.
        offered: Vec<String>,
    },

    /// HTTP 403, worded for the call that was refused.
    #[error("{}", forbidden(call.as_ref(), message, correlation_id))]
    Forbidden {
        /// The call that was refused, when known.
        call: Option<Call>,
        /// The server's message, if any.
        message: Option<String>,
        /// The correlation ID, if any.
        correlation_id: Option<String>,
    },

    /// HTTP 3xx: something answered in the API's place with a redirect (a
    /// sign-in front end such as ADFS or a Web Application Proxy, a load
    /// balancer's page). The station follows no redirect.
    #[error("{}", redirected(what, *status, location.as_deref()))]
    Redirected {
        /// The call, e.g. "POST smartcards".
        what: CallName,
        /// The HTTP status (301, 302, 303, 307, 308, ...).
        status: u16,
        /// Where the redirect pointed, sanitized and shortened; None when it named nothing.
        location: Option<String>,
    },

    /// A `POST smartcards` answered with a success status other than the
    /// documented 201 or 204, or with a page instead of CM's JSON: not CM's
    /// answer to a bind, so whether the card was bound is not known from it.
    #[error(
        "The CM server answered the bind with HTTP {status} and {detail}, not with CM's \
         answer (201 Created and the new smart card's address). A proxy or a sign-in page may \
         have answered in CM's place, so this answer does not say whether the card was linked \
         to the request: the station asks the server before anything else is done."
    )]
    UnclearBindAnswer {
        /// The HTTP status.
        status: u16,
        /// What arrived, shortened.
        detail: String,
    },

    /// An answer larger than anything CM sends for that call.
    #[error("{}", too_large(what, *limit))]
    TooLarge {
        /// The call, e.g. "GET requests".
        what: CallName,
        /// The limit for that call, in bytes.
        limit: usize,
    },

    /// HTTP 404 where the API itself should answer.
    #[error(
        "The CM REST API is not enabled on this server, or the address is wrong \
         ({url} answered 404). Ask the CM administrator to set Clm.WebApi.Enabled to true \
         in the CM web.config, and check the server address."
    )]
    ApiNotEnabled {
        /// The URL that answered 404.
        url: String,
    },

    /// HTTP 404 for one object.
    #[error(
        "{what} was not found on the CM server (HTTP 404){}. \
         It may have been removed or the list is out of date: refresh the list.",
        server_said(message, correlation_id)
    )]
    NotFound {
        /// What was looked for, e.g. "Request a9b4...".
        what: String,
        /// The server's message, if any.
        message: Option<String>,
        /// The correlation ID, if any.
        correlation_id: Option<String>,
    },

    /// HTTP 5xx: the server failed; its message carries the correlation ID.
    #[error("{}", server_failure(*status, message, correlation_id))]
    Server {
        /// The HTTP status.
        status: u16,
        /// The server's message, verbatim.
        message: String,
        /// The correlation ID, if any.
        correlation_id: Option<String>,
    },

    /// Another 4xx status (400, 405, 409, ...).
    #[error(
        "The CM server rejected the request with HTTP {status}{}. \
         This station may not match the server's version; report it with the message above.",
        server_said(message, correlation_id)
    )]
    Rejected {
        /// The HTTP status.
        status: u16,
        /// The server's message, if any.
        message: Option<String>,
        /// The correlation ID, if any.
        correlation_id: Option<String>,
    },

    /// The answer is not the CM API's JSON (an HTML page, a proxy's page, garbage).
    #[error(
        "The server at {url} answered something that is not the CM API ({detail}). \
         A proxy or a login page may be in the way; check the server address."
    )]
    UnexpectedBody {
        /// The URL that answered.
        url: String,
        /// What arrived instead, shortened.
        detail: String,
    },

    /// The JSON was CM's, but a field the station needs was unusable.
    #[error(
        "The CM server sent data the station cannot use: {source}. \
         Report this to the CM administrator."
    )]
    InvalidData {
        /// What was wrong.
        #[source]
        source: ModelError,
    },
}

/// `: the server said "..." (correlation ID ...)` or nothing, for the 4xx messages.
fn server_said(message: &Option<String>, correlation_id: &Option<String>) -> String {
    let mut out = String::new();
    if let Some(message) = message.as_deref().filter(|m| !m.is_empty()) {
        out.push_str(&format!(": the server said \"{message}\""));
    }
    if let Some(id) = correlation_id {
        // The message usually names the ID already; repeating it would be noise.
        if !message.as_deref().is_some_and(|m| m.contains(id.as_str())) {
            out.push_str(&format!(" (correlation ID {id})"));
        }
    }
    out
}

/// A call whose answer never arrived. A POST may have taken effect anyway, and
/// saying so is what keeps an operator from binding a second card blindly.
fn lost_answer(what: &CallName, happened: &str, advice: &str) -> String {
    let mut out = format!("The CM server {happened} during {what}. ");
    if what.is_bind() {
        out.push_str(
            "The bind may have happened anyway: refresh the request and check whether a card \
             is bound to it before trying again. ",
        );
    } else if what.writes() {
        out.push_str(
            "The change may have happened anyway: refresh the request list and check before \
             trying again. ",
        );
    }
    out.push_str(advice);
    out.push_str(", then try again.");
    out
}

fn seconds(duration: Duration) -> String {
    if duration.subsec_millis() == 0 {
        format!("{} s", duration.as_secs())
    } else {
        format!("{:.1} s", duration.as_secs_f64())
    }
}

fn tls_failure(host: &str, detail: &str, problem: TlsProblem) -> String {
    let what = match problem {
        TlsProblem::UnknownIssuer => {
            "the server's certificate is not issued by a certificate authority this station \
             trusts. If your organization uses its own certificate authority, give its \
             certificate (PEM) with --ca-file or tls.ca_files in the configuration"
        }
        TlsProblem::Expired => {
            "the server's certificate has expired (or is not valid yet: check this \
             computer's clock). The server's administrator must renew the certificate"
        }
        TlsProblem::WrongName => {
            "the server's certificate is not valid for the name the station used. Address the \
             server by the name its certificate carries (usually its full DNS name, e.g. \
             https://cm.contoso.com, not a short name or an IP address)"
        }
        TlsProblem::Revoked => {
            "the server's certificate has been revoked. Tell the server's administrator"
        }
        TlsProblem::BadCertificate => {
            "the server's certificate cannot be used. Tell the server's administrator"
        }
        TlsProblem::ClientCertificate => {
            "the server wants a client certificate and did not accept the station's (or \
             none was configured). Set tls.client_certificate and tls.client_key (or \
             --client-cert and --client-key) to a certificate the server trusts"
        }
        TlsProblem::Protocol => {
            "the station and the server found no TLS setting in common, or the port does \
             not speak TLS. Check that the address points at the CM server's https port"
        }
    };
    format!("The secure connection to {host} failed: {what}. (TLS library: {detail}.)")
}

fn unauthorized(
    message: &Option<String>,
    correlation_id: &Option<String>,
    offered: &[String],
) -> String {
    let has = |scheme: &str| offered.iter().any(|o| o.eq_ignore_ascii_case(scheme));
    let todo = if has("Negotiate") || has("NTLM") || has("Kerberos") {
        "The server asks for Windows sign-in (Negotiate): set auth.method = \"negotiate\" \
         (--auth negotiate) and sign in to Kerberos (kinit on Linux or macOS)."
    } else if has("Bearer") {
        "The server asks for a bearer token: set auth.method = \"bearer\" (--auth bearer) \
         and provide an ADFS token."
    } else {
        "Sign in again (on Linux or macOS: renew your Kerberos ticket with kinit) or check the \
         configured authentication method and credentials."
    };
    let asks = if offered.is_empty() {
        String::new()
    } else {
        format!("; the server offers: {}", offered.join(", "))
    };
    format!(
        "Authentication to the CM server failed (HTTP 401){}{asks}. {todo}",
        server_said(message, correlation_id)
    )
}

fn server_failure(status: u16, message: &str, correlation_id: &Option<String>) -> String {
    let mut out = format!("The CM server failed (HTTP {status}): {message}");
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    match correlation_id {
        Some(id) => out.push_str(&format!(
            " Correlation ID: {id}. Give this correlation ID to the CM administrator; \
             the details are in the server's event log."
        )),
        None => out.push_str(
            " The server gave no correlation ID; tell the CM administrator the time of the \
             error: the details are in the server's event log.",
        ),
    }
    out
}

impl CmError {
    /// The server's correlation ID, for the CM administrator.
    pub fn correlation_id(&self) -> Option<&str> {
        match self {
            CmError::Unauthorized { correlation_id, .. }
            | CmError::Forbidden { correlation_id, .. }
            | CmError::NotFound { correlation_id, .. }
            | CmError::Server { correlation_id, .. }
            | CmError::Rejected { correlation_id, .. } => correlation_id.as_deref(),
            _ => None,
        }
    }

    /// The HTTP status the server answered, when it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            CmError::Unauthorized { .. } => Some(401),
            CmError::Forbidden { .. } => Some(403),
            CmError::Redirected { status, .. } | CmError::UnclearBindAnswer { status, .. } => {
                Some(*status)
            }
            CmError::ApiNotEnabled { .. } | CmError::NotFound { .. } => Some(404),
            CmError::Server { status, .. } | CmError::Rejected { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// True when a request may have reached the server without the API's
    /// answer reaching the station: a timeout, a broken connection, or an
    /// answer that is not the API's (a redirect, a page where CM's answer
    /// belongs, a body far too large). After a POST this means "bound or not:
    /// unknown": look at the request's `NewSmartcardUuid` before trying again.
    pub fn outcome_unknown(&self) -> bool {
        matches!(
            self,
            CmError::Timeout { .. }
                | CmError::Network { .. }
                | CmError::Redirected { .. }
                | CmError::UnclearBindAnswer { .. }
                | CmError::TooLarge { .. }
        )
    }

    /// The same error as the bind state machine records it.
    pub fn to_failure(&self) -> Failure {
        Failure {
            message: self.to_string(),
            correlation_id: self.correlation_id().map(str::to_owned),
        }
    }

    /// Maps an HTTP error answer to an error.
    ///
    /// `object` names the one object the call was about (`"Request <id>"`) or is
    /// `None` for collection calls, where a 404 can only mean the API is off.
    /// `url` is the full URL called; GUIDs in it are never taken for a correlation ID.
    pub fn from_response(
        status: u16,
        content_type: Option<&str>,
        body: &[u8],
        url: &str,
        object: Option<&str>,
    ) -> CmError {
        Self::from_answer(None, status, content_type, body, url, object)
    }

    /// Maps an HTTP error answer to `call` to an error: a 403 says what was
    /// refused, and no GUID the call sent is taken for a correlation ID.
    pub fn for_call(
        call: &Call,
        status: u16,
        content_type: Option<&str>,
        body: &[u8],
        url: &str,
    ) -> CmError {
        let object = call.object();
        Self::from_answer(
            Some(call),
            status,
            content_type,
            body,
            url,
            object.as_deref(),
        )
    }

    fn from_answer(
        call: Option<&Call>,
        status: u16,
        content_type: Option<&str>,
        body: &[u8],
        url: &str,
        object: Option<&str>,
    ) -> CmError {
        let sent = call.map(Call::sent_guids).unwrap_or_default();
        let parsed = ErrorBody::parse_sent(content_type, body, url, &sent);
        let message = parsed.message.clone();
        let correlation_id = parsed.correlation_id.clone();
        match status {
            401 => CmError::Unauthorized {
                message,
                correlation_id,
                offered: Vec::new(),
            },
            403 => CmError::Forbidden {
                call: call.copied(),
                message,
                correlation_id,
            },
            404 => match object {
                // Only CM's own "not found" message is believed: IIS pages and the
                // routing message mean the API is not there at all.
                Some(what) if parsed.kind == BodyKind::Json && !parsed.is_routing_miss() => {
                    CmError::NotFound {
                        what: what.to_owned(),
                        message,
                        correlation_id,
                    }
                }
                _ => CmError::ApiNotEnabled {
                    url: url.to_owned(),
                },
            },
            500..=599 => CmError::Server {
                status,
                message: message.unwrap_or_else(|| format!("no message (HTTP {status})")),
                correlation_id,
            },
            _ => CmError::Rejected {
                status,
                message,
                correlation_id,
            },
        }
    }
}

/// Which part of a TLS handshake failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsProblem {
    /// The certificate chains to no trusted authority.
    UnknownIssuer,
    /// The certificate has expired or is not valid yet.
    Expired,
    /// The certificate is for other names.
    WrongName,
    /// The certificate is revoked.
    Revoked,
    /// Another certificate problem.
    BadCertificate,
    /// The server wants a client certificate it did not get or did not accept.
    ClientCertificate,
    /// No certificate problem: versions, ciphers, or not TLS at all.
    Protocol,
}

impl TlsProblem {
    /// Names the problem a rustls error shows.
    pub fn of(error: &rustls::Error) -> TlsProblem {
        use rustls::AlertDescription as Alert;
        use rustls::CertificateError as Cert;
        match error {
            rustls::Error::InvalidCertificate(cert) => match cert {
                Cert::UnknownIssuer => TlsProblem::UnknownIssuer,
                Cert::Expired
                | Cert::ExpiredContext { .. }
                | Cert::NotValidYet
                | Cert::NotValidYetContext { .. } => TlsProblem::Expired,
                Cert::NotValidForName | Cert::NotValidForNameContext { .. } => {
                    TlsProblem::WrongName
                }
                Cert::Revoked => TlsProblem::Revoked,
                Cert::Other(other) if other.to_string().contains("UnknownIssuer") => {
                    TlsProblem::UnknownIssuer
                }
                _ => TlsProblem::BadCertificate,
            },
            rustls::Error::NoCertificatesPresented => TlsProblem::BadCertificate,
            rustls::Error::AlertReceived(
                Alert::CertificateRequired
                | Alert::BadCertificate
                | Alert::UnknownCA
                | Alert::CertificateUnknown
                | Alert::AccessDenied,
            ) => TlsProblem::ClientCertificate,
            _ => TlsProblem::Protocol,
        }
    }

    /// True for problems with the server's certificate.
    pub fn is_server_certificate(self) -> bool {
        !matches!(self, TlsProblem::ClientCertificate | TlsProblem::Protocol)
    }
}
