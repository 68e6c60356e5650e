//! Which call failed, and the 403s, redirects and oversized answers worded
//! for that call.

use super::*;

/// A call as the operator reads it ("POST smartcards"), and whether it
/// changes anything on the server: only a lost answer to such a call may
/// have taken effect anyway.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallName {
    text: String,
    writes: bool,
}

impl CallName {
    /// The call `method path`.
    pub fn new(method: &reqwest::Method, path: &str) -> Self {
        Self {
            text: format!("{method} {path}"),
            writes: !method.is_safe(),
        }
    }

    /// True for a call that changes the server (a POST, a PUT).
    pub fn writes(&self) -> bool {
        self.writes
    }

    /// True for the bind (`POST smartcards`): the one write whose lost
    /// answer is about a card; other writes' messages say "the change".
    pub fn is_bind(&self) -> bool {
        self.text == "POST smartcards"
    }
}

impl fmt::Display for CallName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
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
    /// `PUT requests/{id}`: abandon, cancel or complete a request.
    ChangeRequestStatus {
        /// The request.
        request: Uuid,
        /// What was asked.
        change: StatusChange,
    },
    /// `POST requests`: a new request.
    CreateRequest {
        /// Its type.
        kind: RequestType,
        /// The smart card object it acts on, if any.
        smartcard: Option<Uuid>,
        /// The user it is for, if not the caller.
        target: Option<Uuid>,
        /// The profile template, if named.
        template: Option<Uuid>,
    },
    /// `GET profiletemplates/{id}/policies/{type}`.
    WorkflowPolicy {
        /// The profile template.
        template: Uuid,
        /// The workflow.
        kind: RequestType,
    },
    /// `GET requests/{r}/smartcards/{s}/authenticationresponse`.
    AuthenticationResponse {
        /// The (offline unblock) request.
        request: Uuid,
        /// The smart card object.
        smartcard: Uuid,
        /// The card.
        card_id: CardId,
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
            Call::ChangeRequestStatus { request, .. } => Some(format!("Request {request}")),
            Call::WorkflowPolicy { template, kind } => Some(format!(
                "The {kind} workflow policy of profile template {template}"
            )),
            Call::AuthenticationResponse {
                request, smartcard, ..
            } => Some(format!(
                "Request {request} with smart card object {smartcard}"
            )),
            Call::ListRequests
            | Call::Bind { .. }
            | Call::ProfileTemplates
            | Call::CreateRequest { .. } => None,
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
            Call::ChangeRequestStatus { request, .. } => vec![*request],
            Call::CreateRequest {
                smartcard,
                target,
                template,
                ..
            } => [*smartcard, *target, *template]
                .into_iter()
                .flatten()
                .collect(),
            Call::WorkflowPolicy { template, .. } => vec![*template],
            Call::AuthenticationResponse {
                request,
                smartcard,
                card_id,
            } => {
                let mut all = vec![*request, *smartcard];
                all.extend(card(card_id));
                all
            }
            Call::ListRequests | Call::ProfileTemplates => Vec::new(),
        }
    }
}

/// A 403, worded for what was refused: only the bind is about enrollment agents.
pub(super) fn forbidden(
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
        Some(Call::ChangeRequestStatus { request, change }) => (
            format!("to {change} request {request}"),
            format!(
                "the signed-in account may not {change} this request (CM's {} permission on \
                 its profile template)",
                match change {
                    StatusChange::Abandon => "Abandon",
                    StatusChange::Cancel => "Cancel",
                    StatusChange::Complete => "Execute",
                }
            ),
            "Ask the CM administrator for that permission on the profile template, or have \
             someone who holds it do this in the CM portal.",
        ),
        Some(Call::CreateRequest { kind, .. }) => (
            format!("to create a {kind} request"),
            "the signed-in account is not an authorized initiator of this workflow on the \
             profile template (or of requests for another user)"
                .to_owned(),
            "Ask the CM administrator to make this account an initiator of that workflow, or \
             create the request in the CM portal.",
        ),
        Some(Call::WorkflowPolicy { template, kind }) => (
            format!("to show the {kind} workflow policy of profile template {template}"),
            "the signed-in account is not permitted to read that profile template's policies"
                .to_owned(),
            "Ask the CM administrator for read permission on the profile template.",
        ),
        Some(Call::AuthenticationResponse { request, .. }) => (
            format!("to compute the unblock response for request {request}"),
            "the signed-in account may not execute this request, or the request is not \
             approved for this card"
                .to_owned(),
            "Check that the unblock request is approved and that this account may execute it.",
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
pub(super) fn redirected(what: &CallName, status: u16, location: Option<&str>) -> String {
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
    if what.is_bind() {
        out.push_str(
            "Whether the bind took effect behind the front end is not known from this answer: \
             the station asks the server before anything else is done. ",
        );
    } else if what.writes() {
        out.push_str(
            "Whether the change took effect behind the front end is not known from this \
             answer: refresh before trying again. ",
        );
    }
    out.push_str(
        "Sign in again and retry; if it keeps happening, ask the administrator to publish the \
         CM REST API to this station without pre-authentication, or to fix the address.",
    );
    out
}

pub(super) fn too_large(what: &CallName, limit: usize) -> String {
    let mut out = format!(
        "The answer to {what} is larger than {}, far more than CM sends for it: something \
         other than the CM API may be answering. Check the server address and any proxy \
         between the station and the server.",
        size_text(limit)
    );
    if what.is_bind() {
        out.push_str(
            " Whether the bind took effect is not known from this answer: the station asks \
             the server before anything else is done.",
        );
    } else if what.writes() {
        out.push_str(
            " Whether the change took effect is not known from this answer: refresh before \
             trying again.",
        );
    }
    out
}

pub(super) fn size_text(bytes: usize) -> String {
    const MIB: usize = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{bytes} bytes")
    }
}
