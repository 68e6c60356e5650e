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

use super::model::{ModelError, parse_guid, parse_lenient_json};
use crate::domain::bind::Failure;
use crate::domain::card::CardId;

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
         unencrypted. Use https://, or start the station with --allow-insecure-http \
         if this is a test lab."
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
        what: String,
        /// The configured limit.
        after: Duration,
    },

    /// The connection broke after the request left; for a POST the outcome is unknown.
    #[error("{}", lost_answer(what, &format!("broke the connection ({detail})"), "Check the network"))]
    Network {
        /// The call.
        what: String,
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
        what: String,
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
        what: String,
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
fn lost_answer(what: &str, happened: &str, advice: &str) -> String {
    let mut out = format!("The CM server {happened} during {what}. ");
    if what.starts_with("POST") {
        out.push_str(
            "The bind may have happened anyway: refresh the request and check whether a card \
             is bound to it before trying again. ",
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

/// The call an answer belongs to. It words a 403 for what was refused, names
/// the one object a 404 is about, and lists the GUIDs the station itself sent,
/// which are never taken for a correlation ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Call {
    /// `GET requests`.
    ListRequests,
    /// `GET requests/{id}`.
    GetRequest {
        /// The request.
        request: Uuid,
    },
    /// `POST smartcards`: the bind.
    Bind {
        /// The request.
        request: Uuid,
        /// The card.
        card_id: CardId,
    },
    /// `GET smartcards?cardid=`.
    FindCard {
        /// The card.
        card_id: CardId,
    },
    /// `GET smartcards/{id}`.
    GetSmartcard {
        /// The smart card object.
        smartcard: Uuid,
    },
    /// `GET smartcards/{id}/operations`.
    CardOperations {
        /// The smart card object.
        smartcard: Uuid,
    },
    /// `GET smartcards/{id}/certificates`.
    CardCertificates {
        /// The smart card object.
        smartcard: Uuid,
    },
    /// `GET profiletemplates`.
    ProfileTemplates,
    /// `GET profiletemplates/{id}/configuration/smartcards`: only its reuse flag is read.
    TemplateConfig {
        /// The profile template.
        template: Uuid,
    },
}

impl Call {
    /// The one object the call is about (`"Request <id>"`), or None for
    /// collection calls and the bind, where a 404 can only mean the API is off.
    pub fn object(&self) -> Option<String> {
        match self {
            Call::GetRequest { request } => Some(format!("Request {request}")),
            Call::FindCard { card_id } => Some(format!("Card {card_id}")),
            Call::GetSmartcard { smartcard } => Some(format!("Smart card {smartcard}")),
            Call::CardOperations { smartcard } => {
                Some(format!("The operations of smart card object {smartcard}"))
            }
            Call::CardCertificates { smartcard } => {
                Some(format!("The certificates of smart card object {smartcard}"))
            }
            Call::TemplateConfig { template } => Some(format!(
                "The smart card configuration of profile template {template}"
            )),
            Call::ListRequests | Call::Bind { .. } | Call::ProfileTemplates => None,
        }
    }

    /// Every GUID the station put into the call (the URL's and the body's, in
    /// each form a server might echo them in): none is a correlation ID.
    pub fn sent_guids(&self) -> Vec<Uuid> {
        let card = |id: &CardId| {
            let mut both = vec![Uuid::from_bytes(*id.raw())];
            both.extend(parse_guid(&id.to_cm_string()));
            both
        };
        match self {
            Call::GetRequest { request } => vec![*request],
            Call::Bind { request, card_id } => {
                let mut all = vec![*request];
                all.extend(card(card_id));
                all
            }
            Call::FindCard { card_id } => card(card_id),
            Call::GetSmartcard { smartcard }
            | Call::CardOperations { smartcard }
            | Call::CardCertificates { smartcard } => vec![*smartcard],
            Call::TemplateConfig { template } => vec![*template],
            Call::ListRequests | Call::ProfileTemplates => Vec::new(),
        }
    }
}

/// A 403, worded for what was refused: only the bind is about enrollment agents.
fn forbidden(
    call: Option<&Call>,
    message: &Option<String>,
    correlation_id: &Option<String>,
) -> String {
    let said = server_said(message, correlation_id);
    let (refused, why, todo) = match call {
        Some(Call::Bind { request, .. }) => (
            format!("to bind the card to request {request}"),
            "you are not an authorized enrollment agent for this request's profile template, \
             or this request must be executed by another enrollment agent"
                .to_owned(),
            "Ask the CM administrator to grant you the enrollment agent permission on that \
             profile template, or have the agent the request is meant for bind it.",
        ),
        Some(Call::ListRequests) => (
            "to list the requests".to_owned(),
            "the signed-in account is not permitted to read requests".to_owned(),
            "Ask the CM administrator to give this account permission to read requests.",
        ),
        Some(Call::GetRequest { request }) => (
            format!("to show request {request}"),
            "the signed-in account is not permitted to read this request (or the requests of \
             its profile template)"
                .to_owned(),
            "Ask the CM administrator to give this account permission to read the requests of \
             that profile template.",
        ),
        Some(Call::FindCard { card_id }) => (
            format!("to look up card {card_id}"),
            "the signed-in account is not permitted to read smart cards".to_owned(),
            "Ask the CM administrator to give this account permission to read smart cards.",
        ),
        Some(Call::GetSmartcard { smartcard }) => (
            format!("to show smart card object {smartcard}"),
            "the signed-in account is not permitted to read this smart card".to_owned(),
            "Ask the CM administrator to give this account permission to read smart cards.",
        ),
        Some(Call::CardOperations { smartcard }) => (
            format!("to list what may be done with smart card object {smartcard}"),
            "the signed-in account is not permitted to read this smart card's operations"
                .to_owned(),
            "The card can still be bound; ask the CM administrator for read permission on \
             smart cards to see its operations here.",
        ),
        Some(Call::CardCertificates { smartcard }) => (
            format!("to list the certificates of smart card object {smartcard}"),
            "the signed-in account is not permitted to read this smart card's certificates"
                .to_owned(),
            "The card can still be bound; ask the CM administrator for read permission on \
             smart cards to see its certificates here.",
        ),
        Some(Call::TemplateConfig { template }) => (
            format!("to show the smart card configuration of profile template {template}"),
            "the signed-in account is not permitted to read that profile template's \
             configuration"
                .to_owned(),
            "Ask the CM administrator to give this account permission to read the profile \
             template, or retire the card's old objects and use a card CM does not know.",
        ),
        Some(Call::ProfileTemplates) => (
            "to list the profile templates".to_owned(),
            "the signed-in account is not permitted to read them".to_owned(),
            "Ask the CM administrator to give this account permission to read the profile \
             templates.",
        ),
        None => (
            "this call".to_owned(),
            "the signed-in account lacks the permission it needs".to_owned(),
            "Ask the CM administrator which permission this account needs.",
        ),
    };
    format!("The CM server refused {refused} (HTTP 403): {why}{said}. {todo}")
}

/// A redirect in the API's place: a sign-in front end or a maintenance page.
fn redirected(what: &str, status: u16, location: Option<&str>) -> String {
    let target = location.map_or_else(
        || "a page it did not name".to_owned(),
        |l| format!("\"{l}\""),
    );
    let mut out = format!(
        "The CM server (or a sign-in front end in front of it) answered {what} with a redirect \
         (HTTP {status}) to {target} instead of answering as the API: the session may have \
         expired, or a pre-authentication proxy (ADFS, Web Application Proxy) or a load \
         balancer's page is in the way. The station follows no redirect. "
    );
    if what.starts_with("POST") {
        out.push_str(
            "Whether the bind took effect behind the front end is not known from this answer: \
             the station asks the server before anything else is done. ",
        );
    }
    out.push_str(
        "Sign in again and retry; if it keeps happening, ask the administrator to publish the \
         CM REST API to this station without pre-authentication, or to fix the address.",
    );
    out
}

fn too_large(what: &str, limit: usize) -> String {
    let mut out = format!(
        "The answer to {what} is larger than {}, far more than CM sends for it: something \
         other than the CM API may be answering. Check the server address and any proxy \
         between the station and the server.",
        size_text(limit)
    );
    if what.starts_with("POST") {
        out.push_str(
            " Whether the bind took effect is not known from this answer: the station asks \
             the server before anything else is done.",
        );
    }
    out
}

fn size_text(bytes: usize) -> String {
    const MIB: usize = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{bytes} bytes")
    }
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

/// The shape an error body arrived in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyKind {
    /// No body.
    Empty,
    /// A JSON object with `Message`/`ExceptionMessage`, or a bare JSON string.
    Json,
    /// Plain text.
    Text,
    /// An HTML page (IIS, a proxy).
    Html,
}

/// What could be read from an error answer's body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorBody {
    /// The shape it had.
    pub kind: BodyKind,
    /// The message, verbatim except for shortening.
    pub message: Option<String>,
    /// The GUID the server names as its correlation ID (see [`find_correlation_id`]).
    pub correlation_id: Option<String>,
}

impl ErrorBody {
    /// Reads an error body in the order of `enums.md`: JSON object with
    /// `Message`/`ExceptionMessage`; bare JSON string; plain text; HTML page.
    pub fn parse(content_type: Option<&str>, body: &[u8], url: &str) -> ErrorBody {
        Self::parse_sent(content_type, body, url, &[])
    }

    /// As [`ErrorBody::parse`]; `sent` are GUIDs the station sent besides the
    /// URL's (the bind body's request and card IDs), never a correlation ID.
    pub fn parse_sent(
        content_type: Option<&str>,
        body: &[u8],
        url: &str,
        sent: &[Uuid],
    ) -> ErrorBody {
        let text = String::from_utf8_lossy(body);
        let text = text.trim_matches(|c: char| c.is_whitespace() || c == '\0' || c == '\u{feff}');
        let (kind, message) = if text.is_empty() {
            (BodyKind::Empty, None)
        } else if let Some(message) = json_message(text) {
            (BodyKind::Json, message)
        } else if looks_like_html(content_type, text) {
            (BodyKind::Html, html_message(text))
        } else {
            (BodyKind::Text, Some(collapse(text)))
        };
        let message = message.map(|m| shorten(&m)).filter(|m| !m.is_empty());
        let mut excluded = guids_in(url);
        excluded.extend_from_slice(sent);
        let correlation_id = message
            .as_deref()
            .and_then(|m| find_correlation_id(m, &excluded))
            .or_else(|| find_correlation_id(text, &excluded));
        ErrorBody {
            kind,
            message,
            correlation_id,
        }
    }

    /// ASP.NET's answer for a path no controller serves: the API is not there.
    fn is_routing_miss(&self) -> bool {
        self.message.as_deref().is_some_and(|m| {
            let m = m.to_ascii_lowercase();
            m.contains("no http resource was found") || m.contains("no type was found")
        })
    }
}

/// `Some(message)` when the text is JSON (an object or a bare string);
/// `None` when it is not JSON at all.
fn json_message(text: &str) -> Option<Option<String>> {
    if !(text.starts_with('{') || text.starts_with('"') || text.starts_with('[')) {
        return None;
    }
    let value = parse_lenient_json(text).ok()?;
    Some(match value {
        serde_json::Value::String(s) => Some(s),
        serde_json::Value::Object(map) => {
            let field = |name: &str| {
                map.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .and_then(|(_, v)| v.as_str())
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
            };
            let message = field("Message").or_else(|| field("error_description"));
            match (message, field("ExceptionMessage")) {
                (Some(m), Some(e)) if !m.contains(&e) => Some(format!("{m} {e}")),
                (Some(m), _) => Some(m),
                (None, e) => e,
            }
        }
        other => Some(other.to_string()),
    })
}

fn looks_like_html(content_type: Option<&str>, text: &str) -> bool {
    content_type.is_some_and(|c| c.to_ascii_lowercase().contains("html")) || text.starts_with('<')
}

/// The page's `<title>`, or else its text without tags.
fn html_message(html: &str) -> Option<String> {
    let lower = html.to_ascii_lowercase();
    if let Some(start) = lower.find("<title") {
        let after = start + lower[start..].find('>')? + 1;
        if let Some(len) = lower[after..].find("</title") {
            let title = collapse(&decode_entities(&html[after..after + len]));
            if !title.is_empty() {
                return Some(title);
            }
        }
    }
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let text = collapse(&decode_entities(&out));
    (!text.is_empty()).then_some(text)
}

fn decode_entities(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn shorten(text: &str) -> String {
    let text = text.trim();
    if text.chars().count() <= MAX_MESSAGE_CHARS {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(MAX_MESSAGE_CHARS).collect();
    out.push('…');
    out
}

/// Every GUID-shaped run of text, in order of appearance, as it was written.
fn guid_candidates(text: &str) -> Vec<(usize, &str)> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i + 36 <= bytes.len() {
        let window = &bytes[i..i + 36];
        let shaped = window.iter().enumerate().all(|(j, b)| match j {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        });
        let bounded_before = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
        let bounded_after = bytes.get(i + 36).is_none_or(|b| !b.is_ascii_alphanumeric());
        if shaped && bounded_before && bounded_after {
            // The window is ASCII, so these are char boundaries.
            found.push((i, &text[i..i + 36]));
            i += 36;
        } else {
            i += 1;
        }
    }
    found
}

fn guids_in(text: &str) -> Vec<Uuid> {
    guid_candidates(text)
        .into_iter()
        .filter_map(|(_, g)| parse_guid(g))
        .collect()
}

/// How far after the word "correlation" its GUID may start: room for
/// `ID: `, `id = {`, `Id":"` and the like, not for another sentence.
const CORRELATION_REACH: usize = 32;

/// The correlation ID: a GUID the server names as one, i.e. one that follows
/// the word "correlation" closely (`Correlation ID: <guid>`, `correlation id
/// {<guid>}`, `"CorrelationId":"<guid>"`). Any other GUID in a message is
/// something else (the request, the card, the new smart card object), and the
/// administrator searching the event log for it would find nothing: without a
/// marked GUID there is no correlation ID. GUIDs in `excluded` (the ones the
/// station sent) and the all-zero GUID never are one.
pub fn find_correlation_id(text: &str, excluded: &[Uuid]) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let marks: Vec<usize> = lower
        .match_indices("correlation")
        .map(|(at, word)| at + word.len())
        .collect();
    guid_candidates(text)
        .into_iter()
        .filter(|(at, _)| {
            marks
                .iter()
                .any(|&end| *at >= end && *at - end <= CORRELATION_REACH)
        })
        .find(|(_, g)| parse_guid(g).is_some_and(|u| !u.is_nil() && !excluded.contains(&u)))
        .map(|(_, g)| g.to_owned())
}

impl fmt::Display for BodyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BodyKind::Empty => "an empty body",
            BodyKind::Json => "JSON",
            BodyKind::Text => "plain text",
            BodyKind::Html => "an HTML page",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://cm.contoso.com/CertificateManagement/api/v1.0/requests/a9b4b42c-cc50-4c9b-89d1-bbc0bcd5a099";
    const CID: &str = "5f4b1c2e-9a57-4a53-9a0c-6f0c1f9e0b11";

    #[test]
    fn json_object_message_and_correlation_id() {
        let body = format!(
            "{{\"Message\":\"Request a9b4b42c-cc50-4c9b-89d1-bbc0bcd5a099 already has a smart card. Correlation ID: {CID}\"}}"
        );
        let err = CmError::from_response(500, Some("application/json"), body.as_bytes(), URL, None);
        assert_eq!(err.correlation_id(), Some(CID));
        assert_eq!(err.status(), Some(500));
        let text = err.to_string();
        assert!(text.contains("already has a smart card"), "{text}");
        assert!(
            text.contains(&format!("Correlation ID: {CID}. Give this correlation ID")),
            "{text}"
        );
        assert!(text.contains("event log"), "{text}");
    }

    #[test]
    fn the_url_guid_is_never_the_correlation_id() {
        let body = "{\"Message\":\"Request a9b4b42c-cc50-4c9b-89d1-bbc0bcd5a099 failed\"}";
        let err = CmError::from_response(500, None, body.as_bytes(), URL, None);
        assert_eq!(err.correlation_id(), None);
        assert!(err.to_string().contains("gave no correlation ID"));
    }

    #[test]
    fn exception_message_is_added() {
        let body = format!(
            "{{\"Message\":\"An error has occurred.\",\"ExceptionMessage\":\"CM error, correlation ID {CID}\",\"ExceptionType\":\"X\"}}"
        );
        let parsed = ErrorBody::parse(None, body.as_bytes(), URL);
        assert_eq!(parsed.kind, BodyKind::Json);
        assert_eq!(
            parsed.message.as_deref(),
            Some(format!("An error has occurred. CM error, correlation ID {CID}").as_str())
        );
        assert_eq!(parsed.correlation_id.as_deref(), Some(CID));
    }

    #[test]
    fn bare_json_string_plain_text_and_empty() {
        let parsed = ErrorBody::parse(
            None,
            format!("\"Failed. Correlation ID: {CID}\"").as_bytes(),
            URL,
        );
        assert_eq!(parsed.kind, BodyKind::Json);
        assert_eq!(
            parsed.message.as_deref(),
            Some(format!("Failed. Correlation ID: {CID}").as_str())
        );
        assert_eq!(parsed.correlation_id.as_deref(), Some(CID));

        let parsed = ErrorBody::parse(Some("text/plain"), b"  Service\n Unavailable \0", URL);
        assert_eq!(parsed.kind, BodyKind::Text);
        assert_eq!(parsed.message.as_deref(), Some("Service Unavailable"));

        let parsed = ErrorBody::parse(None, b"", URL);
        assert_eq!(parsed.kind, BodyKind::Empty);
        assert_eq!(parsed.message, None);
        let err = CmError::from_response(502, None, b"", URL, None);
        assert!(err.to_string().contains("no message (HTTP 502)"));
    }

    #[test]
    fn iis_html_page_gives_its_title() {
        let page = "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Strict//EN\">\r\n<html><head>\
            <title>403 - Forbidden: Access is denied.</title><style>body{}</style></head>\
            <body><div id=\"header\"><h1>Server Error</h1></div>\
            <h2>403 - Forbidden: Access is denied.</h2></body></html>";
        let bind = Call::Bind {
            request: Uuid::from_u128(1),
            card_id: CardId::from_raw([7; 16]),
        };
        let err = CmError::for_call(&bind, 403, Some("text/html"), page.as_bytes(), URL);
        let text = err.to_string();
        assert!(
            text.contains("not an authorized enrollment agent"),
            "{text}"
        );
        assert!(
            text.contains("\"403 - Forbidden: Access is denied.\""),
            "{text}"
        );
        assert!(text.contains("CM administrator"), "{text}");
        assert_eq!(err.correlation_id(), None);
    }

    #[test]
    fn html_without_title_is_stripped_and_shortened() {
        let long = "word ".repeat(200);
        let page = format!("<html><body><h1>Bad &amp; worse</h1><p>{long}</p></body></html>");
        let parsed = ErrorBody::parse(None, page.as_bytes(), URL);
        assert_eq!(parsed.kind, BodyKind::Html);
        let message = parsed.message.expect("message");
        assert!(message.starts_with("Bad & worse word"), "{message}");
        assert!(message.chars().count() <= MAX_MESSAGE_CHARS + 1);
        assert!(message.ends_with('…'));
    }

    #[test]
    fn not_found_for_an_object_versus_the_api() {
        let body = b"{\"Message\":\"The request was not found.\"}";
        let err = CmError::from_response(404, None, body, URL, Some("Request a9b4b42c"));
        assert!(matches!(err, CmError::NotFound { .. }), "{err:?}");
        assert!(
            err.to_string()
                .starts_with("Request a9b4b42c was not found")
        );

        let routing =
            b"{\"Message\":\"No HTTP resource was found that matches the request URI 'x'.\"}";
        for (body, object) in [
            (&routing[..], Some("Request a9b4b42c")),
            (
                &b"<html><title>404 - File or directory not found.</title></html>"[..],
                Some("x"),
            ),
            (&b""[..], Some("x")),
            (&body[..], None),
        ] {
            let err = CmError::from_response(404, None, body, URL, object);
            assert!(matches!(err, CmError::ApiNotEnabled { .. }), "{err:?}");
            let text = err.to_string();
            assert!(text.contains("REST API is not enabled"), "{text}");
            assert!(text.contains("Clm.WebApi.Enabled"), "{text}");
        }
    }

    #[test]
    fn unauthorized_and_rejected() {
        let err = CmError::from_response(401, None, b"", URL, None);
        assert!(
            err.to_string()
                .contains("Authentication to the CM server failed")
        );
        assert_eq!(err.status(), Some(401));
        let err = CmError::from_response(
            400,
            None,
            b"{\"Message\":\"The request is invalid.\"}",
            URL,
            None,
        );
        assert!(
            err.to_string()
                .contains("HTTP 400: the server said \"The request is invalid.\"")
        );
    }

    #[test]
    fn correlation_prefers_the_marked_guid() {
        let other = "11111111-2222-3333-4444-555555555555";
        let text = format!("Card {other} refused. Correlation ID: {CID}");
        assert_eq!(find_correlation_id(&text, &[]).as_deref(), Some(CID));
        // A GUID nobody called a correlation ID is not one (issue 15).
        let text = format!("Card {other} refused.");
        assert_eq!(find_correlation_id(&text, &[]), None);
        assert_eq!(
            find_correlation_id("x1111111-2222-3333-4444-555555555555", &[]),
            None
        );
        assert_eq!(
            find_correlation_id("00000000-0000-0000-0000-000000000000", &[]),
            None
        );
    }

    #[test]
    fn outcome_unknown_only_for_lost_answers() {
        let timeout = CmError::Timeout {
            what: "POST smartcards".into(),
            after: Duration::from_secs(30),
        };
        assert!(timeout.outcome_unknown());
        let text = timeout.to_string();
        assert!(
            text.contains("did not answer within 30 s during POST smartcards"),
            "{text}"
        );
        assert!(text.contains("may have happened anyway"), "{text}");
        let list = CmError::Timeout {
            what: "GET requests".into(),
            after: Duration::from_millis(300),
        };
        assert!(!list.to_string().contains("bind"), "{list}");
        assert!(list.to_string().contains("0.3 s"), "{list}");
        let connect = CmError::Connect {
            host: "cm:443".into(),
            detail: "refused".into(),
        };
        assert!(!connect.outcome_unknown());
        let failure = CmError::from_response(
            500,
            None,
            format!("\"x. Correlation ID: {CID}\"").as_bytes(),
            URL,
            None,
        )
        .to_failure();
        assert_eq!(failure.correlation_id.as_deref(), Some(CID));
    }

    #[test]
    fn a_guid_without_a_correlation_marker_is_no_correlation_id() {
        let request = Uuid::parse_str("a9b4b42c-cc50-4c9b-89d1-bbc0bcd5a099").expect("GUID");
        let card_id = CardId::from_raw([0x3f; 16]);
        let bind = Call::Bind { request, card_id };
        let url = "https://cm.contoso.com/CertificateManagement/api/v1.0/smartcards";
        // The bind's URL has no GUID: the old rule took the request's GUID.
        let body = format!(
            "{{\"Message\":\"Request {request} is not in a valid state for card {card_id}.\"}}"
        );
        for err in [
            CmError::for_call(&bind, 500, None, body.as_bytes(), url),
            CmError::from_response(500, None, body.as_bytes(), url, None),
        ] {
            assert_eq!(err.correlation_id(), None, "{err:?}");
            let text = err.to_string();
            assert!(text.contains("gave no correlation ID"), "{text}");
            assert!(!text.contains("Correlation ID:"), "{text}");
        }
        let unmarked = format!(
            "{{\"Message\":\"An error has occurred.\",\"ExceptionMessage\":\"CM error {CID}\"}}"
        );
        assert_eq!(
            ErrorBody::parse(None, unmarked.as_bytes(), url).correlation_id,
            None
        );
        // A marker far from the GUID (another sentence) does not reach it.
        let far =
            format!("Correlation is logged by the server for every error. Card {CID} refused.");
        assert_eq!(find_correlation_id(&far, &[]), None);
    }

    #[test]
    fn a_marked_guid_is_the_correlation_id_unless_the_station_sent_it() {
        let request = Uuid::parse_str("a9b4b42c-cc50-4c9b-89d1-bbc0bcd5a099").expect("GUID");
        let bind = Call::Bind {
            request,
            card_id: CardId::from_raw([0x3f; 16]),
        };
        let url = "https://cm.contoso.com/CertificateManagement/api/v1.0/smartcards";
        let marked =
            format!("{{\"Message\":\"Request {request} failed. Correlation ID: {{{CID}}}\"}}");
        let err = CmError::for_call(&bind, 500, None, marked.as_bytes(), url);
        assert_eq!(err.correlation_id(), Some(CID));
        let keyed =
            format!("{{\"Message\":\"An error has occurred.\",\"CorrelationId\":\"{CID}\"}}");
        assert_eq!(
            ErrorBody::parse(None, keyed.as_bytes(), url)
                .correlation_id
                .as_deref(),
            Some(CID)
        );
        // The station's own request ID after the marker is still not one.
        let echoed = format!("{{\"Message\":\"correlation id {request}\"}}");
        let err = CmError::for_call(&bind, 500, None, echoed.as_bytes(), url);
        assert_eq!(err.correlation_id(), None, "{err:?}");
        // Nor is the card ID, in CM's form or in card byte order.
        let card_id = CardId::from_raw([0x3f; 16]);
        for form in [
            card_id.to_cm_string(),
            Uuid::from_bytes(*card_id.raw()).to_string(),
        ] {
            let echoed = format!("\"Correlation ID: {form}\"");
            let err = CmError::for_call(&bind, 500, None, echoed.as_bytes(), url);
            assert_eq!(err.correlation_id(), None, "{form}");
        }
    }

    #[test]
    fn each_403_says_what_was_refused() {
        let request = Uuid::from_u128(0xabc);
        let card_id = CardId::from_raw([9; 16]);
        let body = b"{\"Message\":\"Access denied.\"}";
        let text = |call: Call| CmError::for_call(&call, 403, None, body, URL).to_string();
        let bind = text(Call::Bind { request, card_id });
        assert!(
            bind.contains("refused to bind the card to request"),
            "{bind}"
        );
        assert!(
            bind.contains("not an authorized enrollment agent"),
            "{bind}"
        );
        assert!(bind.contains("another enrollment agent"), "{bind}");
        assert!(bind.contains("\"Access denied.\""), "{bind}");
        let others = [
            (Call::ListRequests, "refused to list the requests"),
            (Call::GetRequest { request }, "refused to show request"),
            (Call::FindCard { card_id }, "refused to look up card"),
            (
                Call::GetSmartcard { smartcard: request },
                "refused to show smart card object",
            ),
            (
                Call::TemplateConfig { template: request },
                "refused to show the smart card configuration of profile template",
            ),
            (
                Call::ProfileTemplates,
                "refused to list the profile templates",
            ),
        ];
        let mut seen = vec![bind];
        for (call, words) in others {
            let t = text(call);
            assert!(t.contains(words), "{t}");
            assert!(t.contains("HTTP 403"), "{t}");
            assert!(!t.contains("enrollment agent"), "{t}");
            assert!(!seen.contains(&t), "{t}");
            seen.push(t);
        }
        let generic = CmError::from_response(403, None, body, URL, None).to_string();
        assert!(!generic.contains("enrollment agent"), "{generic}");
    }

    #[test]
    fn a_redirect_or_an_oversized_answer_is_an_unknown_outcome_in_words() {
        let post = CmError::Redirected {
            what: "POST smartcards".into(),
            status: 302,
            location: Some("https://sts.contoso.com/adfs/ls/?wa=wsignin1.0".into()),
        };
        assert!(post.outcome_unknown());
        assert_eq!(post.status(), Some(302));
        let text = post.to_string();
        assert!(text.contains("redirect (HTTP 302)"), "{text}");
        assert!(text.contains("sts.contoso.com/adfs/ls/"), "{text}");
        assert!(text.contains("sign-in front end"), "{text}");
        assert!(text.contains("Sign in again"), "{text}");
        assert!(text.contains("not known"), "{text}");
        assert!(!text.contains("bound"), "{text}");
        let get = CmError::Redirected {
            what: "GET requests".into(),
            status: 301,
            location: None,
        };
        assert!(!get.to_string().contains("bind"), "{get}");
        let big = CmError::TooLarge {
            what: "GET requests/x".into(),
            limit: 1024 * 1024,
        };
        assert!(big.to_string().contains("larger than 1 MiB"), "{big}");
        assert!(big.outcome_unknown());
    }
}
