//! The HTTP client for the CM REST API: server address, TLS, and the calls the
//! station makes, each answer mapped to domain types or a [`CmError`].

use std::collections::HashMap;
use std::error::Error as StdError;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::{
    ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, LOCATION, WWW_AUTHENTICATE,
};
use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;
use serde_json::Value;
use uuid::Uuid;

use super::auth::{AfterUnauthorized, AuthMethod, Authenticator, Exchange, SignedIn};
use super::error::{Call, CallName, CmError, TlsProblem};
use super::model::{
    BindBody, ModelError, ProfileTemplate, WireProfileTemplate, WireRequest, WireSmartcard,
    WireSmartcardConfig, guid_to_wire, parse_lenient_json, smartcard_uuid_from_uri,
};
use crate::domain::card::{Atr, CardId};
use crate::domain::card_record::{CardOperation, CardRecord, current_object};
use crate::domain::request::{Request, RequestStatus};
use crate::domain::smartcard::Smartcard;

pub use super::config::ClientConfig;
/// What a successful bind returns; the domain's type, so the bind machine takes it as is.
pub use crate::domain::bind::BindReceipt;

mod address;
mod answer;
mod detail;
mod lifecycle;
#[cfg(test)]
mod tests;

pub use address::*;
pub(crate) use answer::tls_cause;
use answer::*;

/// The API's path below the server's root, in the canonical casing.
pub const API_PATH: &str = "/CertificateManagement/api/v1.0/";

/// The request list's limit: a list of 100,000 requests is about 100 MB
/// (each carries its security descriptor and a dozen GUIDs). Larger is not CM's.
const LIST_BODY_LIMIT: usize = 256 * 1024 * 1024;

/// The profile templates: a few dozen short entries.
const TEMPLATES_BODY_LIMIT: usize = 16 * 1024 * 1024;

/// One object (a request, a smart card, the bind's URI), and every error
/// body: a few kilobytes at most; a page or a stream past this is not CM's.
const OBJECT_BODY_LIMIT: usize = 1024 * 1024;

/// A template's smart card configuration: a few dozen flags and numbers.
const TEMPLATE_CONFIG_BODY_LIMIT: usize = 64 * 1024;

/// How much of an answer to `call` the station reads at most.
fn body_limit(call: &Call) -> usize {
    match call {
        Call::ListRequests => LIST_BODY_LIMIT,
        Call::ProfileTemplates => TEMPLATES_BODY_LIMIT,
        Call::TemplateConfig { .. } => TEMPLATE_CONFIG_BODY_LIMIT,
        Call::GetRequest { .. }
        | Call::Bind { .. }
        | Call::FindCard { .. }
        | Call::GetSmartcard { .. }
        | Call::CardOperations { .. }
        | Call::CardCertificates { .. }
        | Call::ChangeRequestStatus { .. }
        | Call::CreateRequest { .. }
        | Call::WorkflowPolicy { .. }
        | Call::AuthenticationResponse { .. } => OBJECT_BODY_LIMIT,
    }
}

/// A client for one CM server. Cheap to clone; clones share connections and cookies.
#[derive(Clone, Debug)]
pub struct CmClient {
    http: reqwest::Client,
    base: Url,
    host: String,
    request_timeout: Duration,
    auth: Arc<Authenticator>,
    /// `AllowSmartcardReuse` per profile template, as read once for the client's life.
    reuse: Arc<Mutex<HashMap<Uuid, bool>>>,
}

impl CmClient {
    /// Checks the configuration and builds the client. Nothing is sent yet.
    pub fn new(config: &ClientConfig) -> Result<CmClient, CmError> {
        let base = api_base_url(&config.server)?;
        let loopback = is_loopback(&base);
        if base.scheme() == "http" && !loopback && !config.allow_insecure_http {
            return Err(CmError::InsecureHttp {
                url: config.server.trim().to_owned(),
            });
        }
        // reqwest is built without a default provider; installing ours twice is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();

        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let mut builder = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(concat!("enroll-station/", env!("CARGO_PKG_VERSION")))
            .cookie_store(true)
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            // A redirect is never the API's answer (a sign-in front end, a
            // maintenance page): it is reported, not followed.
            .redirect(reqwest::redirect::Policy::none())
            // Nothing may quietly downgrade an https session to http.
            .https_only(base.scheme() == "https");
        if bypasses_proxy(&base) {
            // A proxy from the environment cannot reach this machine's loopback.
            builder = builder.no_proxy();
        }
        if config.client_certificate.is_none()
            && config.auth.method == AuthMethod::ClientCertificate
        {
            return Err(CmError::AuthSetup {
                detail: "The authentication method is client-certificate, but no client \
                         certificate is configured: set tls.client_certificate (--client-cert)."
                    .to_owned(),
            });
        }
        builder = builder.tls_backend_preconfigured(super::tls::rustls_config(config)?);
        let http = builder.build().map_err(|e| CmError::ClientSetup {
            detail: error_chain(&e),
        })?;
        let auth = Authenticator::new(config.auth.clone(), base.host_str().unwrap_or_default())
            .with_certificate_subject(
                config
                    .client_certificate
                    .as_deref()
                    .and_then(certificate_subject),
            );
        Ok(CmClient {
            host: host_and_port(&base),
            http,
            base,
            request_timeout: config.request_timeout,
            auth: Arc::new(auth),
            reuse: Arc::default(),
        })
    }

    /// The API's base URL; always ends with `/CertificateManagement/api/v1.0/`.
    pub fn api_base(&self) -> &str {
        self.base.as_str()
    }

    /// How the last accepted call was authenticated, and as whom.
    pub fn signed_in(&self) -> SignedIn {
        self.auth.signed_in()
    }

    /// The configured authentication method.
    pub fn auth_method(&self) -> AuthMethod {
        self.auth.method()
    }

    /// `GET requests[?status=Name]`: the requests, optionally of one status.
    /// Requests the station cannot use (no Uuid) are logged and left out.
    pub async fn list_requests(
        &self,
        status: Option<RequestStatus>,
    ) -> Result<Vec<Request>, CmError> {
        let status_text = status.map(|s| s.name().map_or_else(|| s.0.to_string(), str::to_owned));
        let query: Vec<(&str, String)> = status_text.into_iter().map(|s| ("status", s)).collect();
        let answer = self
            .call(&Call::ListRequests, Method::GET, "requests", &query, None)
            .await?;
        answer.list_converted::<WireRequest, Request>("request")
    }

    /// `GET requests/{id}`: one request.
    pub async fn get_request(&self, id: Uuid) -> Result<Request, CmError> {
        let path = format!("requests/{}", guid_to_wire(id));
        let call = Call::GetRequest { request: id };
        let answer = self.call(&call, Method::GET, &path, &[], None).await?;
        let wire: WireRequest = answer.object()?.ok_or_else(|| not_found(&call))?;
        Request::try_from(wire).map_err(invalid)
    }

    /// `POST smartcards`: binds the card to the request. Sent exactly once,
    /// never retried: after [`CmError::outcome_unknown`], read the request again.
    ///
    /// Only CM's `201 Created` or `204 No Content` is a bind. Any other
    /// success status, or a page where CM's JSON belongs, is
    /// [`CmError::UnclearBindAnswer`]; a redirect is [`CmError::Redirected`]:
    /// both leave the outcome unknown. When the answer names no smart card
    /// object (a 204, or a 201 whose URI cannot be read), the request is read
    /// once for its `NewSmartcardUuid`, so the journal holds the object; if
    /// that fails the bind still stands and the receipt's note says so.
    pub async fn bind(
        &self,
        request: Uuid,
        card_id: &CardId,
        atr: &Atr,
    ) -> Result<BindReceipt, CmError> {
        let body = BindBody::new(request, card_id, atr);
        let body = serde_json::to_vec(&body).map_err(|e| CmError::ClientSetup {
            detail: e.to_string(),
        })?;
        let call = Call::Bind {
            request,
            card_id: *card_id,
        };
        let answer = self
            .call(&call, Method::POST, "smartcards", &[], Some(body))
            .await?;
        let mut receipt = answer.receipt()?;
        if receipt.smartcard_uuid.is_none() {
            let why = if answer.status == StatusCode::NO_CONTENT {
                "the server answered 204 No Content, which names no smart card object"
            } else {
                "the server's 201 answer named no smart card object the station could read"
            };
            let note = match self.get_request(request).await {
                Ok(read) => match read.new_smartcard {
                    Some(uuid) => {
                        receipt.smartcard_uuid = Some(uuid);
                        format!("{why}; smart card object {uuid} was read from the request")
                    }
                    None => format!(
                        "{why}, and the request shows none yet (NewSmartcardUuid is empty): \
                         the smart card UUID could not be read"
                    ),
                },
                Err(error) => format!(
                    "{why}, and the smart card UUID could not be read from the request: {error}"
                ),
            };
            receipt.note = Some(note);
        }
        Ok(receipt)
    }

    /// `GET smartcards?cardid=`: the smart card object CM holds for this card ID, if any
    /// (one that is in use first, when the server names several).
    pub async fn smartcard_by_card_id(
        &self,
        card_id: &CardId,
    ) -> Result<Option<Smartcard>, CmError> {
        let all = self.smartcards_by_card_id(card_id).await?;
        Ok(current_object(&all).cloned())
    }

    /// `GET smartcards?cardid=`: every smart card object CM holds for this card
    /// ID. The reference shows one object; a list is read too, and only its
    /// entries for this card ID are kept.
    pub async fn smartcards_by_card_id(&self, card_id: &CardId) -> Result<Vec<Smartcard>, CmError> {
        let query = [("cardid", card_id.to_cm_string())];
        let call = Call::FindCard { card_id: *card_id };
        let answer = match self
            .call(&call, Method::GET, "smartcards", &query, None)
            .await
        {
            // A CM-worded 404 for a card ID is the same answer as 204: unknown card.
            Err(CmError::NotFound { .. }) => return Ok(Vec::new()),
            other => other?,
        };
        if answer.is_empty() {
            return Ok(Vec::new());
        }
        let value = answer.json()?;
        let wires: Vec<WireSmartcard> = match value {
            Value::Array(items) => items
                .into_iter()
                .filter_map(|v| serde_json::from_value::<WireSmartcard>(v).ok())
                .filter(|w| w.card_id().as_ref() == Some(card_id))
                .collect(),
            other => vec![from_value(other, &answer.url)?],
        };
        wires
            .into_iter()
            .map(Smartcard::try_from)
            .collect::<Result<_, _>>()
            .map_err(invalid)
    }

    /// `GET profiletemplates/{id}/configuration/smartcards`: whether the
    /// template allows a discontinued card to be issued again
    /// (`AllowSmartcardReuse`). Read once per template for the client's life.
    /// Nothing else of the answer is kept: it also holds the template's
    /// default admin key, which is never read into memory the station keeps.
    pub async fn template_allows_reuse(&self, template: Uuid) -> Result<bool, CmError> {
        if let Some(known) = self.reuse_cache().get(&template) {
            return Ok(*known);
        }
        let path = format!(
            "profiletemplates/{}/configuration/smartcards",
            guid_to_wire(template)
        );
        let call = Call::TemplateConfig { template };
        let answer = self.call(&call, Method::GET, &path, &[], None).await?;
        if answer.is_empty() {
            return Err(not_found(&call));
        }
        // Read here, not through `object`: an answer that does not fit is
        // described without quoting it, for it may hold the default admin key.
        let unreadable = |why: &str| CmError::UnexpectedBody {
            url: answer.url.clone(),
            detail: format!(
                "a smart card configuration the station cannot read ({why}; its text is not \
                 shown, for it may hold the template's default admin key)"
            ),
        };
        if answer.is_html() {
            return Err(unreadable("an HTML page"));
        }
        let text = String::from_utf8_lossy(&answer.body);
        let value = parse_lenient_json(text.trim()).map_err(|_| unreadable("not JSON"))?;
        let wire: WireSmartcardConfig = match value {
            Value::Object(_) => serde_json::from_value(value)
                .map_err(|_| unreadable("an object that does not fit"))?,
            other => return Err(unreadable(kind(&other))),
        };
        self.reuse_cache()
            .insert(template, wire.allow_smartcard_reuse);
        Ok(wire.allow_smartcard_reuse)
    }

    fn reuse_cache(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, bool>> {
        self.reuse
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// `GET smartcards/{uuid}`: one smart card object.
    pub async fn smartcard(&self, id: Uuid) -> Result<Smartcard, CmError> {
        let path = format!("smartcards/{}", guid_to_wire(id));
        let call = Call::GetSmartcard { smartcard: id };
        let answer = self.call(&call, Method::GET, &path, &[], None).await?;
        let wire: WireSmartcard = answer.object()?.ok_or_else(|| not_found(&call))?;
        Smartcard::try_from(wire).map_err(invalid)
    }

    /// `GET smartcards/{uuid}/operations`: what the signed-in account may
    /// start on the object (lower-case names). Names the station cannot
    /// show safely are left out; none is `204`.
    pub async fn smartcard_operations(&self, id: Uuid) -> Result<Vec<CardOperation>, CmError> {
        let path = format!("smartcards/{}/operations", guid_to_wire(id));
        let call = Call::CardOperations { smartcard: id };
        let answer = self.call(&call, Method::GET, &path, &[], None).await?;
        let names: Vec<Value> = answer.list()?;
        Ok(names
            .iter()
            .filter_map(Value::as_str)
            .filter_map(CardOperation::from_wire)
            .collect())
    }

    /// `GET smartcards/{uuid}/certificates`: how many certificates the
    /// object holds. Only the count is kept; none is `204`.
    pub async fn smartcard_certificate_count(&self, id: Uuid) -> Result<usize, CmError> {
        let path = format!("smartcards/{}/certificates", guid_to_wire(id));
        let call = Call::CardCertificates { smartcard: id };
        let answer = self.call(&call, Method::GET, &path, &[], None).await?;
        let certificates: Vec<Value> = answer.list()?;
        Ok(certificates.iter().filter(|c| c.is_object()).count())
    }

    /// What CM knows of a card, asked as soon as it is identified: `None`
    /// when CM has no object for its card ID. The operations and the
    /// certificates are only shown, so a failure to read them is kept in
    /// the record rather than failing the lookup.
    pub async fn card_record(&self, card_id: &CardId) -> Result<Option<CardRecord>, CmError> {
        let objects = self.smartcards_by_card_id(card_id).await?;
        let Some(current) = current_object(&objects).map(|o| o.uuid) else {
            return Ok(None);
        };
        // One after the other: an NTLM handshake is bound to one connection.
        let operations = self.smartcard_operations(current).await;
        let certificates = self.smartcard_certificate_count(current).await;
        Ok(Some(CardRecord {
            objects,
            operations: operations.map_err(|e| e.to_string()),
            certificates: certificates.map_err(|e| e.to_string()),
        }))
    }

    /// `GET profiletemplates`: the templates, for names instead of GUIDs.
    /// Also the cheapest call to test a connection with.
    pub async fn profile_templates(&self) -> Result<Vec<ProfileTemplate>, CmError> {
        let answer = self
            .call(
                &Call::ProfileTemplates,
                Method::GET,
                "profiletemplates",
                &[],
                None,
            )
            .await?;
        let wires: Vec<WireProfileTemplate> = answer.list()?;
        Ok(convert_all(wires, "profile template"))
    }

    /// Sends one call and turns every non-2xx answer into a [`CmError`]: a
    /// redirect is reported, never followed, and its page never read as data.
    async fn call(
        &self,
        call: &Call,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<Vec<u8>>,
    ) -> Result<Answer, CmError> {
        let mut url = self
            .base
            .join(path)
            .map_err(|e| CmError::InvalidServerUrl {
                url: self.base.to_string(),
                reason: e.to_string(),
            })?;
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        let what = CallName::new(&method, path);
        let mut exchange = Exchange::default();
        let (response, challenges) = loop {
            let mut builder = self.http.request(method.clone(), url.clone());
            if let Some(authorization) = self.auth.authorization(&mut exchange).await? {
                builder = builder.header(AUTHORIZATION, authorization);
            }
            // The body is sent again after a 401: it is kept, not streamed.
            if let Some(body) = &body {
                builder = builder
                    .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                    .body(body.clone());
            }
            let response = builder
                .send()
                .await
                .map_err(|e| self.transport_error(&e, &what))?;
            let challenges: Vec<String> = response
                .headers()
                .get_all(WWW_AUTHENTICATE)
                .iter()
                .filter_map(|v| v.to_str().ok().map(str::to_owned))
                .collect();
            if response.status() != StatusCode::UNAUTHORIZED {
                break (response, challenges);
            }
            let content_type = header_text(&response, CONTENT_TYPE);
            let (error_body, _) = read_body(response, OBJECT_BODY_LIMIT)
                .await
                .map_err(|e| self.transport_error(&e, &what))?;
            let unauthorized = CmError::for_call(
                call,
                401,
                content_type.as_deref(),
                &error_body,
                url.as_str(),
            );
            match self
                .auth
                .on_unauthorized(&mut exchange, &challenges, unauthorized)
                .await
            {
                AfterUnauthorized::Retry => continue,
                AfterUnauthorized::Fail(error) => {
                    tracing::debug!(method = %method, path = %url.path(), status = 401,
                        correlation_id = error.correlation_id(), "CM call not authenticated");
                    return Err(error);
                }
            }
        };
        if response.status().is_success() {
            self.auth
                .on_success(&mut exchange, &challenges, &self.host)
                .await?;
        }
        let status = response.status();
        tracing::debug!(method = %method, path = %url.path(), status = status.as_u16(), "CM call");
        let content_type = header_text(&response, CONTENT_TYPE);
        let location = header_text(&response, LOCATION);
        if status.is_redirection() {
            // Its page is a sign-in form or a notice, never data: it is not read.
            let target = location.as_deref().map(|l| redirect_target(&url, l));
            tracing::debug!(method = %method, path = %url.path(), status = status.as_u16(),
                location = target.as_deref(), "CM call redirected; not followed");
            return Err(CmError::Redirected {
                what,
                status: status.as_u16(),
                location: target,
            });
        }
        if !status.is_success() {
            // An error body serves only the message: a long one is cut, not refused.
            let (body, _) = read_body(response, OBJECT_BODY_LIMIT)
                .await
                .map_err(|e| self.transport_error(&e, &what))?;
            let error = CmError::for_call(
                call,
                status.as_u16(),
                content_type.as_deref(),
                &body,
                url.as_str(),
            );
            tracing::debug!(method = %method, path = %url.path(), status = status.as_u16(),
                correlation_id = error.correlation_id(), "CM call failed");
            return Err(error);
        }
        let limit = body_limit(call);
        let too_large = || CmError::TooLarge {
            what: what.clone(),
            limit,
        };
        if response
            .content_length()
            .is_some_and(|announced| announced > limit as u64)
        {
            return Err(too_large());
        }
        let (body, whole) = read_body(response, limit)
            .await
            .map_err(|e| self.transport_error(&e, &what))?;
        if !whole {
            return Err(too_large());
        }
        Ok(Answer {
            status,
            content_type,
            location,
            body,
            url: url.to_string(),
        })
    }

    fn transport_error(&self, error: &reqwest::Error, what: &CallName) -> CmError {
        if let Some((detail, problem)) = tls_cause(error) {
            return CmError::Tls {
                host: self.host.clone(),
                detail,
                problem,
            };
        }
        if error.is_connect() {
            let detail = if error.is_timeout() {
                "no connection within the connect timeout".to_owned()
            } else {
                root_cause(error)
            };
            return CmError::Connect {
                host: self.host.clone(),
                detail,
            };
        }
        if error.is_timeout() {
            return CmError::Timeout {
                what: what.to_owned(),
                after: self.request_timeout,
            };
        }
        CmError::Network {
            what: what.to_owned(),
            detail: root_cause(error),
        }
    }
}

/// The subject of the first certificate in a PEM file (the client
/// certificate's leaf), as the journal names the principal it authenticates.
fn certificate_subject(path: &std::path::Path) -> Option<String> {
    use rustls::pki_types::pem::PemObject as _;
    let pem = std::fs::read(path).ok()?;
    let leaf = rustls::pki_types::CertificateDer::pem_slice_iter(&pem)
        .next()?
        .ok()?;
    let (_, certificate) = x509_parser::parse_x509_certificate(&leaf).ok()?;
    Some(certificate.subject().to_string())
}
