//! The HTTP client for the CM REST API: server address, TLS, and the calls the
//! station makes, each answer mapped to domain types or a [`CmError`].

use std::collections::HashMap;
use std::error::Error as StdError;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::{
    ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, LOCATION, WWW_AUTHENTICATE,
};
use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;
use serde_json::Value;
use uuid::Uuid;

use super::auth::{AfterUnauthorized, AuthConfig, AuthMethod, Authenticator, Exchange, SignedIn};
use super::error::{Call, CmError, TlsProblem};
use super::model::{
    BindBody, ModelError, ProfileTemplate, WireProfileTemplate, WireRequest, WireSmartcard,
    WireSmartcardConfig, guid_to_wire, parse_lenient_json, smartcard_uuid_from_uri,
};
use crate::domain::card::{Atr, CardId};
use crate::domain::card_record::{CardOperation, CardRecord, current_object};
use crate::domain::request::{Request, RequestStatus};
use crate::domain::smartcard::Smartcard;

/// What a successful bind returns; the domain's type, so the bind machine takes it as is.
pub use crate::domain::bind::BindReceipt;

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
        | Call::CardCertificates { .. } => OBJECT_BODY_LIMIT,
    }
}

/// How to reach the CM server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientConfig {
    /// The server's address, e.g. `https://cm.contoso.com`; the API path may be included.
    pub server: String,
    /// PEM files with extra CA certificates, trusted besides the system's.
    pub ca_files: Vec<PathBuf>,
    /// Allow plain `http://` to hosts other than this machine.
    pub allow_insecure_http: bool,
    /// How long to wait for a connection.
    pub connect_timeout: Duration,
    /// How long to wait for a whole call, answer included.
    pub request_timeout: Duration,
    /// How to authenticate.
    pub auth: AuthConfig,
    /// A PEM client certificate (with its chain) to present when the server asks.
    pub client_certificate: Option<PathBuf>,
    /// Its PEM private key, when not in the certificate file.
    pub client_key: Option<PathBuf>,
}

impl ClientConfig {
    /// A configuration for `server` with the default timeouts (10 s to connect,
    /// 30 s per call) and no authentication.
    pub fn new(server: impl Into<String>) -> Self {
        ClientConfig {
            server: server.into(),
            ca_files: Vec::new(),
            allow_insecure_http: false,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            auth: AuthConfig {
                method: AuthMethod::None,
                ..AuthConfig::default()
            },
            client_certificate: None,
            client_key: None,
        }
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
        if loopback {
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
        let auth = Authenticator::new(config.auth.clone(), base.host_str().unwrap_or_default());
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
        let mut all = self.smartcards_by_card_id(card_id).await?;
        let in_use = all.iter().position(|c| c.status.is_in_use());
        Ok(match in_use {
            Some(index) => Some(all.swap_remove(index)),
            None => all.into_iter().next(),
        })
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
        let what = format!("{method} {path}");
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

    fn transport_error(&self, error: &reqwest::Error, what: &str) -> CmError {
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

/// A successful answer, body read.
struct Answer {
    status: StatusCode,
    content_type: Option<String>,
    location: Option<String>,
    body: Vec<u8>,
    url: String,
}

impl Answer {
    fn is_empty(&self) -> bool {
        self.status == StatusCode::NO_CONTENT || self.body.iter().all(u8::is_ascii_whitespace)
    }

    fn unexpected(&self, detail: impl Into<String>) -> CmError {
        CmError::UnexpectedBody {
            url: self.url.clone(),
            detail: detail.into(),
        }
    }

    fn json(&self) -> Result<Value, CmError> {
        let text = String::from_utf8_lossy(&self.body);
        let text = text.trim();
        if text.starts_with('<')
            || self
                .content_type
                .as_deref()
                .is_some_and(|c| c.to_ascii_lowercase().contains("html"))
        {
            let title =
                super::error::ErrorBody::parse(self.content_type.as_deref(), &self.body, &self.url)
                    .message
                    .unwrap_or_default();
            return Err(self.unexpected(format!("an HTML page: \"{}\"", shorten(&title, 120))));
        }
        parse_lenient_json(text)
            .map_err(|_| self.unexpected(format!("not JSON: \"{}\"", shorten(text, 120))))
    }

    /// A JSON array (or a single object, or nothing) as a list.
    fn list<T: DeserializeOwned>(&self) -> Result<Vec<T>, CmError> {
        if self.is_empty() {
            return Ok(Vec::new());
        }
        // The usual answer, a well-formed array, is cut into its entries
        // without building a JSON tree of it first: with 100,000 requests
        // that tree cost most of the time. Anything else goes the lenient way.
        if let Some(items) = self.raw_array() {
            return Ok(items
                .into_iter()
                .filter_map(|item| self.entry(serde_json::from_str::<T>(item.get())))
                .collect());
        }
        let items = match self.json()? {
            Value::Array(items) => items,
            Value::Null => Vec::new(),
            object @ Value::Object(_) => vec![object],
            other => {
                return Err(
                    self.unexpected(format!("JSON {} where a list was expected", kind(&other)))
                );
            }
        };
        Ok(items
            .into_iter()
            .filter_map(|item| self.entry(serde_json::from_value::<T>(item)))
            .collect())
    }

    /// A list converted to domain types, entries the station cannot use
    /// logged and left out. A long well-formed array is parsed and converted
    /// on every core: 100,000 requests took over half a second on one.
    fn list_converted<W, D>(&self, what: &str) -> Result<Vec<D>, CmError>
    where
        W: DeserializeOwned,
        D: TryFrom<W, Error = ModelError> + Send,
    {
        const ENTRIES_PER_THREAD: usize = 4096;
        let Some(items) = self.raw_array() else {
            return Ok(convert_all(self.list::<W>()?, what));
        };
        let one = |item: &&serde_json::value::RawValue| {
            let wire = self.entry(serde_json::from_str::<W>(item.get()))?;
            convert_one(wire, what)
        };
        let threads = std::thread::available_parallelism()
            .map_or(1, std::num::NonZero::get)
            .min(items.len() / ENTRIES_PER_THREAD)
            .max(1);
        if threads == 1 {
            return Ok(items.iter().filter_map(one).collect());
        }
        let chunk = items.len().div_ceil(threads);
        Ok(std::thread::scope(|scope| {
            let parts: Vec<_> = items
                .chunks(chunk)
                .map(|part| scope.spawn(move || part.iter().filter_map(one).collect::<Vec<D>>()))
                .collect();
            let parts: Vec<Vec<D>> = parts
                .into_iter()
                .map(|part| {
                    part.join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect();
            // Sized once: growing by doubling would leave up to half of a
            // large list's allocation unused for as long as it is kept.
            let mut all = Vec::with_capacity(parts.iter().map(Vec::len).sum());
            for mut part in parts {
                all.append(&mut part);
            }
            all
        }))
    }

    /// The body's entries when it is a well-formed JSON array in UTF-8 (and
    /// not labelled a page: that goes the way that names it as one).
    fn raw_array(&self) -> Option<Vec<&serde_json::value::RawValue>> {
        if self.is_html() {
            return None;
        }
        let text = std::str::from_utf8(&self.body).ok()?;
        let text = text.trim().trim_start_matches('\u{feff}');
        if !text.starts_with('[') {
            return None;
        }
        serde_json::from_str(text).ok()
    }

    /// One list entry: one odd entry must not hide the others, so it is logged and skipped.
    fn entry<T>(&self, parsed: Result<T, serde_json::Error>) -> Option<T> {
        match parsed {
            Ok(t) => Some(t),
            Err(e) => {
                tracing::warn!(error = %e, url = %self.url, "skipping a list entry the station cannot read");
                None
            }
        }
    }

    /// One JSON object, or `None` for an empty answer.
    fn object<T: DeserializeOwned>(&self) -> Result<Option<T>, CmError> {
        if self.is_empty() {
            return Ok(None);
        }
        from_value(self.json()?, &self.url).map(Some)
    }

    /// True when the Content-Type says HTML or the body starts like markup.
    /// Only the first non-blank byte is looked at: a list body is ~100 MB.
    fn is_html(&self) -> bool {
        self.content_type
            .as_deref()
            .is_some_and(|c| c.to_ascii_lowercase().contains("html"))
            || self
                .body
                .iter()
                .find(|b| !b.is_ascii_whitespace())
                .is_some_and(|b| *b == b'<')
    }

    /// What arrived, in a few words, for an answer that is not the expected one.
    fn describe(&self) -> String {
        if self.is_html() {
            let title =
                super::error::ErrorBody::parse(self.content_type.as_deref(), &self.body, &self.url)
                    .message
                    .unwrap_or_default();
            return format!("an HTML page (\"{}\")", shorten(&title, 120));
        }
        let text = String::from_utf8_lossy(&self.body);
        let text = text.trim();
        let kind = self
            .content_type
            .as_deref()
            .map_or_else(String::new, |c| format!(" of type {}", shorten(c, 60)));
        if text.is_empty() {
            format!("no body{kind}")
        } else {
            format!("a body{kind}: \"{}\"", shorten(text, 120))
        }
    }

    /// The bind receipt: a bare JSON string URI (201), or nothing (204).
    /// Anything else, even with a success status, is not CM's answer to a bind.
    fn receipt(&self) -> Result<BindReceipt, CmError> {
        let unclear = || CmError::UnclearBindAnswer {
            status: self.status.as_u16(),
            detail: self.describe(),
        };
        if !matches!(self.status, StatusCode::CREATED | StatusCode::NO_CONTENT) {
            return Err(unclear());
        }
        let has_body = !self.body.iter().all(u8::is_ascii_whitespace);
        let json_labelled = self
            .content_type
            .as_deref()
            .is_none_or(|c| c.to_ascii_lowercase().contains("json"));
        if self.is_html() || (has_body && !json_labelled) {
            return Err(unclear());
        }
        let text = String::from_utf8_lossy(&self.body);
        let text = text.trim();
        let from_body = if self.status == StatusCode::NO_CONTENT || text.is_empty() {
            None
        } else {
            match parse_lenient_json(text) {
                Ok(Value::String(uri)) => Some(uri),
                // Some front ends send the URI unquoted.
                Err(_) if !text.starts_with(['{', '[', '<']) => Some(text.to_owned()),
                Ok(other) => {
                    tracing::warn!(body = %shorten(&other.to_string(), 200),
                        "the bind succeeded but its answer is not the documented URI string");
                    None
                }
                Err(_) => None,
            }
        };
        let smartcard_uri = from_body.or_else(|| self.location.clone());
        let smartcard_uuid = smartcard_uri.as_deref().and_then(smartcard_uuid_from_uri);
        Ok(BindReceipt {
            smartcard_uri,
            smartcard_uuid,
            note: None,
        })
    }
}

fn from_value<T: DeserializeOwned>(value: Value, url: &str) -> Result<T, CmError> {
    let shape = kind(&value);
    serde_json::from_value(value).map_err(|e| CmError::UnexpectedBody {
        url: url.to_owned(),
        detail: format!("JSON {shape} that does not fit: {e}"),
    })
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn convert_all<W, D>(wires: Vec<W>, what: &str) -> Vec<D>
where
    D: TryFrom<W, Error = ModelError>,
{
    wires
        .into_iter()
        .filter_map(|wire| convert_one(wire, what))
        .collect()
}

fn convert_one<W, D>(wire: W, what: &str) -> Option<D>
where
    D: TryFrom<W, Error = ModelError>,
{
    match D::try_from(wire) {
        Ok(d) => Some(d),
        Err(e) => {
            tracing::warn!(error = %e, "skipping a {what} the station cannot use");
            None
        }
    }
}

fn invalid(source: ModelError) -> CmError {
    CmError::InvalidData { source }
}

fn not_found(call: &Call) -> CmError {
    CmError::NotFound {
        what: call.object().unwrap_or_default(),
        message: Some("the server answered with no content".to_owned()),
        correlation_id: None,
    }
}

fn shorten(text: &str, max: usize) -> String {
    let mut out: String = text.chars().take(max).collect();
    if text.chars().count() > max {
        out.push('…');
    }
    out
}

/// Reads at most `limit` bytes of the body: the bytes, and whether that was all of it.
///
/// Nothing is allocated from what `Content-Length` announces (a server can
/// announce anything): the chunks as they arrive are kept and joined once at
/// the end, so a 100 MB list is copied once, not at every doubling.
async fn read_body(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<(Vec<u8>, bool), reqwest::Error> {
    let mut chunks = Vec::new();
    let mut total = 0usize;
    let mut whole = true;
    while let Some(chunk) = response.chunk().await? {
        let room = limit - total;
        if chunk.len() > room {
            chunks.push(chunk.slice(..room));
            total = limit;
            whole = false;
            break;
        }
        total += chunk.len();
        chunks.push(chunk);
    }
    let mut body = Vec::with_capacity(total);
    for chunk in chunks.drain(..) {
        body.extend_from_slice(&chunk);
    }
    Ok((body, whole))
}

/// Query parameters whose values may be secrets (an OAuth code or token, a
/// SAML assertion): shown as `…` in a redirect's target.
const SECRET_PARAMETERS: [&str; 9] = [
    "code",
    "token",
    "access_token",
    "id_token",
    "refresh_token",
    "assertion",
    "samlresponse",
    "samlrequest",
    "client_secret",
];

fn is_secret_parameter(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    SECRET_PARAMETERS.contains(&key.as_str()) || key.contains("password")
}

/// A redirect's `Location` as the operator may see it: resolved against the
/// URL called, without user name, password or fragment, secret-looking query
/// values replaced by `…`, no control characters, at most 160 characters.
pub fn redirect_target(called: &Url, location: &str) -> String {
    let shown = match called.join(location.trim()) {
        Ok(mut target) => {
            let _ = target.set_username("");
            let _ = target.set_password(None);
            target.set_fragment(None);
            let query = target.query().map(|query| {
                query
                    .split('&')
                    .map(|pair| match pair.split_once('=') {
                        Some((key, _)) if is_secret_parameter(key) => format!("{key}=…"),
                        _ => pair.to_owned(),
                    })
                    .collect::<Vec<_>>()
                    .join("&")
            });
            target.set_query(None);
            match query {
                Some(query) => format!("{target}?{query}"),
                None => target.to_string(),
            }
        }
        Err(_) => location.to_owned(),
    };
    let clean: String = shown.chars().filter(|c| !c.is_control()).collect();
    shorten(clean.trim(), 160)
}

/// Turns what the operator typed into the API's base URL.
pub fn api_base_url(server: &str) -> Result<Url, CmError> {
    let original = server.trim();
    let refuse = |reason: &str| CmError::InvalidServerUrl {
        url: original.to_owned(),
        reason: reason.to_owned(),
    };
    if original.is_empty() {
        return Err(refuse("it is empty"));
    }
    if original.chars().any(char::is_whitespace) {
        return Err(refuse("it contains spaces"));
    }
    let with_scheme = if original.contains("://") {
        original.to_owned()
    } else {
        // A bare host name is what people type; CM is only ever served over https.
        format!("https://{original}")
    };
    let mut url = Url::parse(&with_scheme).map_err(|e| refuse(&format!("{e}")))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(refuse("only https:// (or http:// for tests) is possible"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(refuse("it names no server"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refuse(
            "it contains a user name or password; sign-in is not configured in the address",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(refuse("it contains a query (?...) or fragment (#...)"));
    }
    let path = url.path().to_owned();
    let lower = path.to_ascii_lowercase();
    let api = API_PATH.trim_end_matches('/').to_ascii_lowercase();
    let prefix = if let Some(at) = lower.find(&api) {
        // Anything after the API path (a pasted ".../requests" URL) is dropped.
        let rest = &lower[at + api.len()..];
        if !(rest.is_empty() || rest.starts_with('/')) {
            return Err(refuse("only version v1.0 of the CM REST API exists"));
        }
        path[..at].to_owned()
    } else if let Some(at) = lower.find("/certificatemanagement") {
        let rest = &lower[at + "/certificatemanagement".len()..];
        let rest = rest.trim_end_matches('/');
        if rest.starts_with("/api") {
            return Err(refuse("only version v1.0 of the CM REST API exists"));
        }
        if !rest.is_empty() {
            return Err(refuse(
                "the path after /CertificateManagement is not the API's",
            ));
        }
        path[..at].to_owned()
    } else {
        path.trim_end_matches('/').to_owned()
    };
    url.set_path(&format!("{}{API_PATH}", prefix.trim_end_matches('/')));
    Ok(url)
}

/// True for 127.0.0.0/8, ::1 and `localhost`: the only hosts plain http may reach by default.
pub fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.eq_ignore_ascii_case("localhost") || host.to_ascii_lowercase().ends_with(".localhost") {
        return true;
    }
    host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn header_text(response: &reqwest::Response, name: reqwest::header::HeaderName) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn host_and_port(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

/// Finds a rustls error in the chain: `(description, which problem)`.
pub(crate) fn tls_cause(error: &(dyn StdError + 'static)) -> Option<(String, TlsProblem)> {
    if let Some(tls) = error.downcast_ref::<rustls::Error>() {
        return Some((tls.to_string(), TlsProblem::of(tls)));
    }
    // io::Error hides the error it wraps from source(): look inside explicitly.
    let wrapped = error
        .downcast_ref::<std::io::Error>()
        .and_then(|io| io.get_ref())
        .and_then(|inner| tls_cause(inner));
    wrapped.or_else(|| error.source().and_then(tls_cause))
}

/// The innermost cause's text, which says what actually went wrong
/// ("Connection refused") where the outer ones say "error sending request".
fn root_cause(error: &(dyn StdError + 'static)) -> String {
    let mut last = error;
    while let Some(next) = last.source() {
        last = next;
    }
    let text = last.to_string();
    // reqwest's messages may carry the URL; the host is already in the error.
    text.split(" for url (").next().unwrap_or(&text).to_owned()
}

fn error_chain(error: &(dyn StdError + 'static)) -> String {
    let mut parts = vec![error.to_string()];
    let mut current = error.source();
    while let Some(err) = current {
        parts.push(err.to_string());
        current = err.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(server: &str) -> String {
        api_base_url(server)
            .map(String::from)
            .unwrap_or_else(|e| format!("ERR {e}"))
    }

    #[test]
    fn server_addresses_become_the_api_base() {
        let expected = "https://cm.contoso.com/CertificateManagement/api/v1.0/";
        for input in [
            "https://cm.contoso.com",
            "https://cm.contoso.com/",
            "cm.contoso.com",
            "  https://CM.contoso.com  ",
            "https://cm.contoso.com/certificatemanagement",
            "https://cm.contoso.com/CertificateManagement/",
            "https://cm.contoso.com/certificatemanagement/api/v1.0",
            "https://cm.contoso.com/CERTIFICATEMANAGEMENT/API/V1.0/",
            "https://cm.contoso.com/CertificateManagement/api/v1.0/requests",
        ] {
            assert_eq!(base(input), expected, "{input}");
        }
        assert_eq!(
            base("https://proxy.contoso.com:8443/cm/"),
            "https://proxy.contoso.com:8443/cm/CertificateManagement/api/v1.0/"
        );
        assert_eq!(
            base("http://127.0.0.1:8080"),
            "http://127.0.0.1:8080/CertificateManagement/api/v1.0/"
        );
    }

    #[test]
    fn garbage_addresses_are_refused_clearly() {
        for input in [
            "",
            "   ",
            "ftp://cm.contoso.com",
            "https://",
            "https://cm contoso",
            "https://user:pw@cm.contoso.com",
            "https://cm.contoso.com/?x=1",
            "https://cm.contoso.com/CertificateManagement/api/v2.0/",
            "https://cm.contoso.com/CertificateManagement/other",
            "http://[::1",
        ] {
            let text = base(input);
            assert!(
                text.starts_with("ERR The CM server address"),
                "{input}: {text}"
            );
            assert!(text.contains("https://cm.contoso.com"), "{text}");
        }
    }

    #[test]
    fn loopback_hosts_are_recognized() {
        for (url, expected) in [
            ("http://127.0.0.1:1/", true),
            ("http://127.9.8.7/", true),
            ("http://[::1]:8080/", true),
            ("http://localhost/", true),
            ("http://LOCALHOST:9/", true),
            ("http://10.0.0.1/", false),
            ("http://cm.contoso.com/", false),
            ("http://localhost.contoso.com/", false),
        ] {
            let url = Url::parse(url).expect("test URL parses");
            assert_eq!(is_loopback(&url), expected, "{url}");
        }
    }

    #[test]
    fn plain_http_is_refused_off_loopback() {
        let err = CmClient::new(&ClientConfig::new("http://cm.contoso.com")).expect_err("refused");
        assert!(matches!(err, CmError::InsecureHttp { .. }));
        assert!(err.to_string().contains("--allow-insecure-http"));
        let mut config = ClientConfig::new("http://cm.contoso.com");
        config.allow_insecure_http = true;
        assert!(CmClient::new(&config).is_ok());
        assert!(CmClient::new(&ClientConfig::new("http://localhost:1")).is_ok());
    }

    #[test]
    fn bad_ca_files_name_the_file() {
        let dir = std::env::temp_dir().join(format!("enroll-station-ca-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let not_pem = dir.join("not-pem.txt");
        std::fs::write(&not_pem, "hello").expect("write");
        let broken = dir.join("broken.pem");
        std::fs::write(
            &broken,
            "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
        )
        .expect("write");
        for path in [dir.join("missing.pem"), not_pem, broken] {
            let mut config = ClientConfig::new("https://cm.contoso.com");
            config.ca_files = vec![path.clone()];
            let err = CmClient::new(&config).expect_err("refused");
            let text = err.to_string();
            assert!(matches!(err, CmError::CaFile { .. }), "{text}");
            assert!(text.contains(&path.display().to_string()), "{text}");
            assert!(text.contains("--ca-file"), "{text}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn answer(body: String) -> Answer {
        Answer {
            status: StatusCode::OK,
            content_type: Some("application/json".into()),
            location: None,
            body: body.into_bytes(),
            url: "http://127.0.0.1/requests".into(),
        }
    }

    #[test]
    fn a_long_list_is_read_in_order_on_several_threads_skipping_odd_entries() {
        let entries: Vec<String> = (1..=10_000u128)
            .map(|n| {
                if n == 5_000 {
                    // Not a request at all: left out, the others kept.
                    "[1, 2]".to_owned()
                } else {
                    format!(r#"{{"Uuid": "{}", "Status": 3}}"#, Uuid::from_u128(n))
                }
            })
            .collect();
        let list: Vec<Request> = answer(format!("[{}]", entries.join(",")))
            .list_converted::<WireRequest, Request>("request")
            .expect("a list");
        assert_eq!(list.len(), 9_999);
        assert!(
            list.windows(2).all(|w| w[0].uuid < w[1].uuid),
            "the server's order is kept"
        );
        assert!(list.iter().all(|r| r.uuid != Uuid::from_u128(5_000)));
    }

    #[test]
    fn a_list_with_a_trailing_comma_is_still_read() {
        let body = format!(r#"[{{"Uuid": "{}"}},]"#, Uuid::from_u128(7));
        let list: Vec<Request> = answer(body)
            .list_converted::<WireRequest, Request>("request")
            .expect("the lenient way");
        assert_eq!(list.len(), 1);
    }

    fn bind_answer(status: StatusCode, content_type: Option<&str>, body: &str) -> Answer {
        Answer {
            status,
            content_type: content_type.map(str::to_owned),
            location: None,
            body: body.as_bytes().to_vec(),
            url: "http://127.0.0.1/CertificateManagement/api/v1.0/smartcards".into(),
        }
    }

    #[test]
    fn only_a_201_or_204_from_the_api_is_a_bind() {
        let uri = "\"api/v1.0/smartcards/17cf063d-e337-4aa9-a822-346554ddd3c9\"";
        let json = Some("application/json; charset=utf-8");
        let receipt = bind_answer(StatusCode::CREATED, json, uri)
            .receipt()
            .expect("201 with the URI");
        assert_eq!(
            receipt.smartcard_uuid.map(|u| u.to_string()).as_deref(),
            Some("17cf063d-e337-4aa9-a822-346554ddd3c9")
        );
        let receipt = bind_answer(StatusCode::NO_CONTENT, None, "")
            .receipt()
            .expect("204");
        assert_eq!(receipt.smartcard_uuid, None);
        let page = "<html><head><title>Sign In</title></head><body>form</body></html>";
        for (status, content_type, body) in [
            (StatusCode::OK, json, uri),
            (StatusCode::ACCEPTED, json, ""),
            (StatusCode::OK, Some("text/html"), page),
            (StatusCode::CREATED, Some("text/html; charset=utf-8"), page),
            (StatusCode::CREATED, json, page),
            (StatusCode::CREATED, None, page),
            (
                StatusCode::CREATED,
                Some("text/plain"),
                "api/v1.0/smartcards/x",
            ),
        ] {
            let err = bind_answer(status, content_type, body)
                .receipt()
                .expect_err("not a bind");
            assert!(
                matches!(err, CmError::UnclearBindAnswer { .. }),
                "{status} {content_type:?}: {err:?}"
            );
            assert!(err.outcome_unknown(), "{err}");
            let text = err.to_string();
            assert!(
                text.contains(&format!("HTTP {}", status.as_u16())),
                "{text}"
            );
            if body == page {
                assert!(text.contains("an HTML page (\"Sign In\")"), "{text}");
            }
        }
    }

    #[test]
    fn a_page_is_never_read_as_a_list() {
        let mut page = answer(format!(r#"[{{"Uuid": "{}"}}]"#, Uuid::from_u128(7)));
        page.content_type = Some("text/html".into());
        let err = page
            .list_converted::<WireRequest, Request>("request")
            .expect_err("a page labelled HTML is not data");
        assert!(matches!(err, CmError::UnexpectedBody { .. }), "{err:?}");
    }

    #[test]
    fn a_redirect_target_is_shown_resolved_without_secrets() {
        let called = Url::parse("https://cm.contoso.com/CertificateManagement/api/v1.0/smartcards")
            .expect("URL");
        let adfs = "https://sts.contoso.com/adfs/ls/?wa=wsignin1.0&wtrealm=https%3a%2f%2fcm";
        assert_eq!(redirect_target(&called, adfs), adfs);
        assert_eq!(
            redirect_target(&called, "/maintenance.html"),
            "https://cm.contoso.com/maintenance.html"
        );
        let shown = redirect_target(
            &called,
            "https://user:pw@idp.contoso.com/cb?state=1&code=SECRET&Password=x#access_token=T",
        );
        assert_eq!(
            shown,
            "https://idp.contoso.com/cb?state=1&code=…&Password=…"
        );
        let long = format!("https://sts.contoso.com/{}", "a".repeat(500));
        let shown = redirect_target(&called, &long);
        assert_eq!(shown.chars().count(), 161, "{shown}");
        assert!(shown.ends_with('…'));
        let shown = redirect_target(&called, "http://[bad\u{7}");
        assert!(!shown.contains('\u{7}'), "{shown}");
    }

    #[test]
    fn each_call_has_its_body_limit() {
        assert_eq!(body_limit(&Call::ListRequests), 256 * 1024 * 1024);
        for call in [
            Call::GetRequest {
                request: Uuid::nil(),
            },
            Call::Bind {
                request: Uuid::nil(),
                card_id: CardId::from_raw([1; 16]),
            },
            Call::FindCard {
                card_id: CardId::from_raw([1; 16]),
            },
            Call::GetSmartcard {
                smartcard: Uuid::nil(),
            },
        ] {
            assert_eq!(body_limit(&call), 1024 * 1024, "{call:?}");
        }
    }
}
