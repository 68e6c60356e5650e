//! A real HTTP server on loopback that speaks the CM REST API the way the
//! reference (and its quirks) describe it: the demo backend, the tests'
//! server, and a training server whose faults can be switched on.
//!
//! It enforces the server's bind rules (request exists, is a smart card
//! request of a type that issues a card, is Approved or Executing, has no
//! card bound yet, card not in use and, when CM knows it, the template
//! allows smart card reuse) and answers violations the way ASP.NET does:
//! HTTP 500 with a `Message` carrying a correlation ID (for a request that
//! never takes a card or a card that cannot be issued again, the answer is a
//! switch: [`EmulatorConfig::wrong_request`]).
//!
//! Where the reference leaves an answer open it follows the reference's
//! letter by default and offers the other reading as a switch: an unknown
//! object is `204 No Content` ([`EmulatorConfig::unknown_object`]), a card
//! assigned more than once ([`EmulatorConfig::known_card_answer`]), the
//! answer to a PUT ([`EmulatorConfig::put_answer`]) and the GET form of the
//! smart card status update ([`EmulatorConfig::card_status_get`]). Besides
//! the calls the station makes it serves `GET smartcards` (the signed-in
//! user's cards, [`EmulatorConfig::caller`]), `GET smartcards/{id}/operations`
//! and `.../certificates`, `PUT requests/{id}` (Completed, Canceled,
//! Abandoned) and `PUT requests/{r}/smartcards/{s}` (a card's status).
//!
//! It can also demand what real deployments demand: https with a given
//! certificate ([`EmulatorConfig::tls`]), client certificates from a given CA
//! ([`EmulatorTls::client_ca_pem`]) and a bearer token
//! ([`EmulatorConfig::bearer_token`]).
//!
//! Having no authentication of its own, it listens on loopback unless
//! [`EmulatorConfig::allow_remote`] and answers only a `Host` that names it
//! (`exposure`).

use std::collections::HashMap;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, LOCATION, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use tokio::sync::oneshot;
use uuid::Uuid;

use crate::cm::client::API_PATH;
use crate::cm::demo_data::{self, random_uuid};
use crate::cm::model::{
    ModelError, WireEnum, WireProfileTemplate, WireRequest, WireSmartcard, guid_to_wire,
    parse_guid, parse_lenient_json, percent_decode,
};
use crate::domain::card::{Atr, CardId};
use crate::domain::request::{Request, RequestStatus, SmartcardStatus};
use crate::domain::smartcard::Smartcard;
pub use tls::EmulatorTls;
use tls::{TlsListener, TlsPeer};

mod exposure;
pub mod lifecycle;
mod replies;
mod routes;
mod rules;
mod status;
#[cfg(test)]
mod tests;
mod tls;

use replies::*;
use routes::*;
use rules::*;
use status::*;

/// Where the emulator listens and what it starts with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmulatorConfig {
    /// The address to listen on; port 0 picks a free port. Only a loopback
    /// address unless `allow_remote`.
    pub listen: SocketAddr,
    /// Let `listen` be an address other machines can reach. The emulator has
    /// no authentication of its own and serves plain http unless `tls` is
    /// set; a station pointed at it may send it real credentials.
    pub allow_remote: bool,
    /// How many demo requests to generate.
    pub requests: usize,
    /// The seed of the demo data: the same seed gives the same requests.
    pub seed: u64,
    /// Serve https with this certificate (and, if it names a client CA, require
    /// client certificates) instead of plain http. [`Emulator::base_url`] then
    /// names the host `localhost`, so the certificate must be valid for it.
    pub tls: Option<EmulatorTls>,
    /// Demand `Authorization: Bearer <this token>` on every call: any other
    /// call is answered 401 with a `WWW-Authenticate: Bearer` challenge, as by
    /// a CM site behind token authentication. A call on a TLS connection whose
    /// client presented a (verified) client certificate needs no token.
    pub bearer_token: Option<String>,
    /// How a bind for a request that never takes a card (a software-profile
    /// request, or a type that acts on an existing card), or of a card CM
    /// does not let be issued again (in use, or known and the template does
    /// not allow reuse), is refused: the reference does not say, so each kind
    /// of answer can be tried.
    pub wrong_request: WrongRequestAnswer,
    /// Every template's `AllowSmartcardReuse` at the start (CM's default:
    /// off); one template's can be switched with [`Emulator::set_template_reuse`].
    pub allow_smartcard_reuse: bool,
    /// How a single object the server does not hold is answered.
    pub unknown_object: UnknownObjectAnswer,
    /// The signed-in user: `GET smartcards` without `cardid` lists the smart
    /// card objects assigned to this user ("a list of smart card profiles
    /// for a user", get-smartcard-data).
    pub caller: Uuid,
    /// How `GET smartcards?cardid=` answers for a card with several objects.
    pub known_card_answer: KnownCardAnswer,
    /// How a successful `PUT requests/{id}` or `PUT requests/{r}/smartcards/{s}` is answered.
    pub put_answer: PutAnswer,
    /// Also serve the smart card status update as `GET
    /// requests/{r}/smartcards/{s}?status=`: update-smartcard-status's method
    /// table says GET, its example PUT (review `cm-api.md` section 3, item 1).
    /// Off, such a GET is answered 405.
    pub card_status_get: bool,
}

/// The signed-in user [`EmulatorConfig::caller`] names by default: the
/// demo's first enrollment agent, who submits many of its requests.
pub const DEFAULT_CALLER: Uuid = demo_data::DEMO_AGENT;

/// The answer for a single object (`requests/{id}`, `smartcards/{id}` and the
/// routes under them) that the server does not hold. The reference lists only
/// 200, 204, 403 and 500 for these calls and never 404 (review `cm-api.md`
/// section 5, E2); a controller that returns `NotFound()` answers 404, as
/// this emulator used to, so a switch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum UnknownObjectAnswer {
    /// `204 No Content` with no body: the only listed code that fits.
    #[default]
    NoContent,
    /// `404 Not Found` with a JSON `Message` naming the object.
    NotFound,
}

/// The shape of `GET smartcards?cardid=` for a card CM knows. Each
/// assignment of a card makes a new object; get-smartcard-data shows one
/// object and never says what a card assigned more than once gives (review
/// `cm-api.md` section 6, item 1), so a switch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum KnownCardAnswer {
    /// One object when there is one, a JSON array when there are several.
    #[default]
    ObjectOrList,
    /// Always a JSON array, even of one object.
    List,
    /// Always one object: the most recent assignment (the last stored).
    Latest,
}

/// How a successful PUT (request status, smart card status) is answered:
/// cancel-abandon-complete-request and update-smartcard-status list both
/// 200 and 204 and show only the 200 (review `cm-api.md` section 6, item 3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum PutAnswer {
    /// `200 OK` with the changed object, as the examples show.
    #[default]
    Object,
    /// `204 No Content` with no body.
    NoContent,
}

/// The fake `DefaultAdminKeyHex` every template's smart card configuration
/// carries, as CM's does: a test can check it never leaves the client.
pub const FAKE_DEFAULT_ADMIN_KEY_HEX: &str = "0badc0de5ec7e7a11d0badc0de5ec7e7a11d0badc0de5ec7";

/// The answer to `POST smartcards` for a request that can never take a card
/// (`IsSmartcard` false, or a type such as Retire that does not issue one).
/// The reference lists only 201, 204, 403 and 500 for the call and says
/// nothing of this case (review `cm-api.md` section 6, item 2), so it is a
/// switch. Every answer carries a `Message` saying why; nothing is committed.
/// A PUT the server refuses (a request status change its status does not
/// allow, section 6 item 3; a smart card of another request) is answered the same way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum WrongRequestAnswer {
    /// 500 with the reason and a correlation ID: CM's business layer throws
    /// and ASP.NET reports the unhandled exception, as for its other bind rules.
    #[default]
    ServerError,
    /// 400, ASP.NET's answer for a request its validation refuses.
    BadRequest,
    /// 403, as for a call the caller may not make on that request.
    Forbidden,
    /// 409, a REST server's answer for a state that does not allow the call.
    Conflict,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            allow_remote: false,
            requests: 40,
            seed: 1,
            tls: None,
            bearer_token: None,
            wrong_request: WrongRequestAnswer::default(),
            allow_smartcard_reuse: false,
            unknown_object: UnknownObjectAnswer::default(),
            caller: DEFAULT_CALLER,
            known_card_answer: KnownCardAnswer::default(),
            put_answer: PutAnswer::default(),
            card_status_get: false,
        }
    }
}

/// Misbehaviour to switch on, for tests and training.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Faults {
    /// Answer `POST smartcards` this much later. The bind is committed before
    /// the wait, like a server whose answer is lost on the way back.
    pub post_delay: Duration,
    /// Answer this many coming `POST smartcards` with 500 and commit nothing.
    pub fail_next_posts: u32,
    /// Answer `POST smartcards` with 403, as for a user who is not an enrollment agent.
    pub forbid_binds: bool,
    /// Answer `GET requests` (the list) this much later.
    pub list_delay: Duration,
    /// Commit this many coming binds, then answer 500 with a correlation ID, as
    /// a server whose exception came after the database write.
    pub fail_after_commit: u32,
    /// Commit this many coming binds, then break the connection mid-answer, as a
    /// proxy or network that drops the answer.
    pub drop_after_commit: u32,
    /// Answer this many coming `POST smartcards` the way a sign-in front end
    /// in front of CM does (ADFS pre-authentication, a Web Application Proxy
    /// whose session expired): `302 Found` to [`Faults::redirect_location`],
    /// `Content-Type: text/html` and a small sign-in page.
    pub redirect_posts: u32,
    /// With `redirect_posts`: true commits the bind behind the front end before
    /// the 302 (a proxy that forwarded the call, then failed); false commits
    /// nothing (a proxy that stopped the call).
    pub redirect_after_commit: bool,
    /// Where that 302 points; None: [`DEFAULT_SIGN_IN_LOCATION`]. Point it at
    /// [`Emulator::base_url`] + [`SIGN_IN_PATH`] to see whether a client
    /// follows it ([`Emulator::sign_in_visits`]).
    pub redirect_location: Option<String>,
    /// Server failures (500) say only their reason, with no correlation ID:
    /// a reason that names the request then carries a GUID that is not one.
    pub unmarked_errors: bool,
    /// How a committed bind is answered.
    pub bind_answer: BindAnswer,
    /// Answer `GET profiletemplates/{id}/configuration/smartcards` with 403,
    /// as for an account that may not read the template.
    pub forbid_template_config: bool,
}

/// How the emulator answers a committed bind: both documented successes, and
/// a 201 the station cannot read a smart card URI from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BindAnswer {
    /// `201 Created`, the new object's relative URI as a JSON string (and a `Location`).
    #[default]
    Created,
    /// `204 No Content`, the reference's other success code: no URI at all.
    NoContent,
    /// `201 Created` with a JSON body that names no smart card and no `Location`.
    CreatedUnreadable,
}

/// The emulator's own sign-in page, served (and counted) as a front end's would be.
pub const SIGN_IN_PATH: &str = "/adfs/ls/";

/// Where [`Faults::redirect_posts`] points by default: an ADFS sign-in.
pub const DEFAULT_SIGN_IN_LOCATION: &str = "https://sts.contoso.com/adfs/ls/?wa=wsignin1.0\
    &wtrealm=https%3a%2f%2fcm.contoso.com%2fCertificateManagement%2f\
    &wctx=rm%3d0%26id%3dpassive%26ru%3d%252fCertificateManagement%252fapi%252fv1.0%252fsmartcards";

/// The server's data and switches.
struct EmulatorState {
    /// Requests as wire JSON objects, served exactly as stored: a test can
    /// insert any quirk and the client sees it verbatim.
    requests: Vec<StoredRequest>,
    smartcards: Vec<WireSmartcard>,
    templates: Vec<WireProfileTemplate>,
    faults: Faults,
    /// How a bind for a request that never takes a card (or a card CM
    /// does not let be issued again) is refused.
    wrong_request: WrongRequestAnswer,
    /// `AllowSmartcardReuse` of templates switched one by one.
    template_reuse: HashMap<Uuid, bool>,
    /// `AllowSmartcardReuse` of every other template.
    default_reuse: bool,
    /// The answer for an object the server does not hold.
    unknown_object: UnknownObjectAnswer,
    /// The signed-in user, whose smart cards `GET smartcards` lists.
    caller: Uuid,
    /// The shape of `GET smartcards?cardid=`.
    known_card_answer: KnownCardAnswer,
    /// How a successful PUT is answered.
    put_answer: PutAnswer,
    /// Whether `GET requests/{r}/smartcards/{s}?status=` updates like the PUT.
    card_status_get: bool,
    /// `GET smartcards/{id}/operations` of objects set one by one.
    card_operations: HashMap<Uuid, Vec<String>>,
    /// How many certificates `GET smartcards/{id}/certificates` lists, for
    /// objects set one by one.
    card_certificates: HashMap<Uuid, usize>,
    /// The request each smart card object was made by a bind for.
    bound_for: HashMap<Uuid, Uuid>,
    /// Created requests, workflow policies, admin keys and the lifecycle switches.
    lifecycle: lifecycle::Lifecycle,
    binds: usize,
    /// Calls to [`SIGN_IN_PATH`]: a client that follows a redirect lands there.
    sign_in_visits: usize,
    /// Calls that carried an `Authorization` header, whatever their fate.
    credentialed_calls: usize,
    /// Smart card UUIDs and correlation IDs come from here, so a demo run is repeatable.
    rng: fastrand::Rng,
}

type Shared = Arc<Mutex<EmulatorState>>;

/// A request as stored, and its JSON text, made when it is stored or
/// changed: serializing 100,000 requests again on every list call was most
/// of the time of the emulator's answer.
struct StoredRequest {
    object: Map<String, Value>,
    json: Option<Box<serde_json::value::RawValue>>,
}

impl StoredRequest {
    fn new(object: Map<String, Value>) -> Self {
        let json = serde_json::value::to_raw_value(&object).ok();
        StoredRequest { object, json }
    }

    /// Sets a key (see [`set_key`]) and writes the JSON text again.
    fn set(&mut self, key: &str, value: Value) {
        set_key(&mut self.object, key, value);
        self.json = serde_json::value::to_raw_value(&self.object).ok();
    }

    fn uuid(&self) -> Option<Uuid> {
        request_uuid(&self.object)
    }

    fn response(&self) -> Response {
        match &self.json {
            Some(json) => json_text_response(StatusCode::OK, json.get().to_owned()),
            None => json_response(StatusCode::OK, &Value::Object(self.object.clone())),
        }
    }
}

fn lock(state: &Shared) -> MutexGuard<'_, EmulatorState> {
    // A panic while holding the lock cannot leave the data half-changed in a
    // way that matters to a test server; keep serving.
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A running emulator. Dropping it stops the server.
pub struct Emulator {
    addr: SocketAddr,
    /// Serving https (see [`EmulatorConfig::tls`]).
    tls: bool,
    state: Shared,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("addr", &self.addr)
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// Starts the server on the current tokio runtime.
    pub async fn start(config: EmulatorConfig) -> io::Result<Emulator> {
        exposure::check_listen(&config)?;
        // Checked before binding, so a bad certificate is the caller's error.
        let tls = config.tls.as_ref().map(EmulatorTls::acceptor).transpose()?;
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let state = new_state(&config);
        let (stop, stopped) = oneshot::channel::<()>();
        let app = secure(router(Arc::clone(&state)), &config, &state);
        let https = tls.is_some();
        tokio::spawn(async move {
            let stopped = async move {
                let _ = stopped.await;
            };
            let result = match tls {
                None => {
                    axum::serve(listener, app)
                        .with_graceful_shutdown(stopped)
                        .await
                }
                Some(acceptor) => {
                    axum::serve(
                        TlsListener::new(listener, acceptor),
                        app.into_make_service_with_connect_info::<TlsPeer>(),
                    )
                    .with_graceful_shutdown(stopped)
                    .await
                }
            };
            if let Err(error) = result {
                tracing::warn!(%error, "the CM emulator stopped");
            }
        });
        tracing::info!(%addr, https, "CM emulator listening");
        Ok(Emulator {
            addr,
            tls: https,
            state,
            stop: Some(stop),
            thread: None,
        })
    }

    /// Starts the server on its own thread and runtime, for callers without one
    /// (the window's demo mode, UI tests).
    pub fn start_on_thread(config: EmulatorConfig) -> io::Result<Emulator> {
        exposure::check_listen(&config)?;
        // Checked here so a bad certificate is reported to the caller.
        let tls = config.tls.as_ref().map(EmulatorTls::acceptor).transpose()?;
        let https = tls.is_some();
        // Bound here so a busy port is reported to the caller, not lost on the thread.
        let listener = std::net::TcpListener::bind(config.listen)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let state = new_state(&config);
        let (stop, stopped) = oneshot::channel::<()>();
        let app = secure(router(Arc::clone(&state)), &config, &state);
        let thread = std::thread::Builder::new()
            .name("cm-emulator".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(listener) {
                        Ok(listener) => listener,
                        Err(error) => {
                            tracing::warn!(%error, "the CM emulator could not use its socket");
                            return;
                        }
                    };
                    let server: std::pin::Pin<Box<dyn Future<Output = io::Result<()>> + Send>> =
                        match tls {
                            None => Box::pin(axum::serve(listener, app).into_future()),
                            Some(acceptor) => Box::pin(
                                axum::serve(
                                    TlsListener::new(listener, acceptor),
                                    app.into_make_service_with_connect_info::<TlsPeer>(),
                                )
                                .into_future(),
                            ),
                        };
                    // Stopping must not wait for a delayed answer: dropping the
                    // runtime below cancels whatever is still in flight.
                    tokio::select! {
                        result = server => if let Err(error) = result {
                            tracing::warn!(%error, "the CM emulator stopped");
                        },
                        _ = stopped => {}
                    }
                });
                runtime.shutdown_timeout(Duration::from_secs(1));
            })?;
        tracing::info!(%addr, https, "CM emulator listening on its own thread");
        Ok(Emulator {
            addr,
            tls: https,
            state,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server's root URL, e.g. `http://127.0.0.1:8080`: what an operator
    /// would type as the server address.
    ///
    /// Over TLS it is `https://localhost:PORT` when the emulator listens on a
    /// loopback or unspecified address (certificates name hosts, and test
    /// certificates name `localhost`), else `https://IP:PORT`, which needs a
    /// certificate with that IP address.
    pub fn base_url(&self) -> String {
        if !self.tls {
            return format!("http://{}", self.addr);
        }
        let ip = self.addr.ip();
        if ip.is_loopback() || ip.is_unspecified() {
            format!("https://localhost:{}", self.addr.port())
        } else {
            format!("https://{}", self.addr)
        }
    }

    /// The API's base URL, ending with `/CertificateManagement/api/v1.0/`.
    pub fn api_url(&self) -> String {
        format!("{}{API_PATH}", self.base_url())
    }

    /// Switches faults on or off; takes effect with the next call.
    pub fn set_faults(&self, faults: Faults) {
        lock(&self.state).faults = faults;
    }

    /// The faults in force (`fail_next_posts` counts down as it is used).
    pub fn faults(&self) -> Faults {
        lock(&self.state).faults.clone()
    }

    /// Adds a request given as wire JSON (any quirks are kept and served
    /// verbatim), replacing one with the same Uuid. Returns its Uuid.
    pub fn insert_request(&self, wire_json: Value) -> Result<Uuid, ModelError> {
        let missing = ModelError::Missing {
            object: "request",
            field: "Uuid",
        };
        let Value::Object(object) = wire_json else {
            return Err(missing);
        };
        let uuid = request_uuid(&object).ok_or(missing)?;
        let mut state = lock(&self.state);
        match state.requests.iter_mut().find(|r| r.uuid() == Some(uuid)) {
            Some(existing) => *existing = StoredRequest::new(object),
            None => state.requests.push(StoredRequest::new(object)),
        }
        Ok(uuid)
    }

    /// Adds a typed request (converted to the wire form CM sends). Returns its Uuid.
    pub fn insert_domain_request(&self, request: &Request) -> Uuid {
        let object = wire_object(&WireRequest::from_domain(request));
        let mut state = lock(&self.state);
        state.requests.retain(|r| r.uuid() != Some(request.uuid));
        state.requests.push(StoredRequest::new(object));
        request.uuid
    }

    /// Switches one template's `AllowSmartcardReuse`.
    pub fn set_template_reuse(&self, template: Uuid, allowed: bool) {
        lock(&self.state).template_reuse.insert(template, allowed);
    }

    /// Adds a smart card object for `card_id` with this status, as CM holds
    /// one after an earlier assignment of the card (e.g. Retired). Returns its Uuid.
    pub fn insert_smartcard(
        &self,
        card_id: &CardId,
        status: SmartcardStatus,
        user: Uuid,
        template: Uuid,
    ) -> Uuid {
        let mut state = lock(&self.state);
        let uuid = random_uuid(&mut state.rng);
        let nil = guid_to_wire(Uuid::nil());
        state.smartcards.push(WireSmartcard {
            uuid: Some(guid_to_wire(uuid)),
            status: Some(WireEnum::from_domain(status)),
            flags: 1,
            parent_smartcard_uuid: Some(nil.clone()),
            primary_smartcard_uuid: Some(nil.clone()),
            permanent_smartcard_uuid: Some(nil),
            assigned_user_uuid: Some(guid_to_wire(user)),
            profile_template_uuid: Some(guid_to_wire(template)),
            profile_template_version: 1,
            comment: None,
            serial_number: Some(format!("{{{}}}", card_id.to_cm_string())),
            middleware: Some("MSBaseCSP".into()),
            atr: None,
        });
        uuid
    }

    /// Sets what `GET smartcards/{smartcard}/operations` lists (served
    /// verbatim, in this case and order; empty: 204). Without it the list
    /// follows the object's status: Active `["renew","unblock","retire"]`,
    /// New or Assigned `["retire"]`, any other none.
    pub fn set_card_operations(&self, smartcard: Uuid, ops: Vec<String>) {
        lock(&self.state).card_operations.insert(smartcard, ops);
    }

    /// Sets how many certificates `GET smartcards/{smartcard}/certificates`
    /// lists (0: 204). Without it an Active object has 2, any other none.
    pub fn set_card_certificates(&self, smartcard: Uuid, count: usize) {
        lock(&self.state).card_certificates.insert(smartcard, count);
    }

    /// How many binds were committed since the start.
    pub fn bind_count(&self) -> usize {
        lock(&self.state).binds
    }

    /// How many calls reached the emulator's sign-in page ([`SIGN_IN_PATH`]).
    pub fn sign_in_visits(&self) -> usize {
        lock(&self.state).sign_in_visits
    }

    /// How many calls carried an `Authorization` header (a bearer token, a
    /// Negotiate token), refused ones included: a server a client must not
    /// send credentials to sees none.
    pub fn credentialed_calls(&self) -> usize {
        lock(&self.state).credentialed_calls
    }

    /// The requests as the station would see them now.
    pub fn requests(&self) -> Vec<Request> {
        lock(&self.state)
            .requests
            .iter()
            .filter_map(|r| domain_request(&r.object).ok())
            .collect()
    }

    /// The smart card objects as the station would see them now.
    pub fn smartcards(&self) -> Vec<Smartcard> {
        lock(&self.state)
            .smartcards
            .iter()
            .filter_map(|c| Smartcard::try_from(c.clone()).ok())
            .collect()
    }

    /// Stops the server and, if it has its own thread, waits for the thread.
    pub fn shutdown(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            // The thread's runtime cancels in-flight answers, so this is short.
            let _ = thread.join();
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop_now();
    }
}

/// Runs the emulator until Ctrl-C, for `enroll-station emulator`. Prints
/// `listening on http://ADDR` (or its https [`Emulator::base_url`]) on stdout
/// once it accepts connections.
pub async fn run_standalone(config: EmulatorConfig) -> io::Result<()> {
    use std::io::Write as _;

    let emulator = Emulator::start(config).await?;
    let mut stdout = io::stdout();
    writeln!(stdout, "listening on {}", emulator.base_url())?;
    stdout.flush()?;
    tokio::signal::ctrl_c().await?;
    emulator.shutdown();
    Ok(())
}

fn new_state(config: &EmulatorConfig) -> Shared {
    let data = demo_data::generate(config.requests, config.seed);
    Arc::new(Mutex::new(EmulatorState {
        requests: data
            .requests
            .iter()
            .map(|wire| StoredRequest::new(wire_object(wire)))
            .collect(),
        smartcards: data.smartcards,
        templates: data.templates,
        faults: Faults::default(),
        wrong_request: config.wrong_request,
        template_reuse: HashMap::new(),
        default_reuse: config.allow_smartcard_reuse,
        unknown_object: config.unknown_object,
        caller: config.caller,
        known_card_answer: config.known_card_answer,
        put_answer: config.put_answer,
        card_status_get: config.card_status_get,
        card_operations: HashMap::new(),
        card_certificates: HashMap::new(),
        bound_for: HashMap::new(),
        lifecycle: lifecycle::Lifecycle::default(),
        binds: 0,
        sign_in_visits: 0,
        credentialed_calls: 0,
        rng: fastrand::Rng::with_seed(config.seed ^ 0x5eed_cafe_f00d_d00d),
    }))
}

fn wire_object<T: serde::Serialize>(wire: &T) -> Map<String, Value> {
    match serde_json::to_value(wire) {
        Ok(Value::Object(object)) => object,
        // Wire structs always serialize to objects.
        _ => Map::new(),
    }
}

fn wire_request(object: &Map<String, Value>) -> Option<WireRequest> {
    serde_json::from_value(Value::Object(object.clone())).ok()
}

/// The request's GUID from its `Uuid` key alone (as [`WireRequest`] reads
/// it): lookups walk the whole list, and converting every request on the way
/// made them slow with 100,000 requests.
fn request_uuid(object: &Map<String, Value>) -> Option<Uuid> {
    let uuid = get_key(object, "Uuid")?.as_str()?;
    super::model::parse_optional_guid(&super::model::strip_nuls(uuid))
}

/// The request's status from its `Status` key alone, for the same reason.
fn request_status(object: &Map<String, Value>) -> Option<RequestStatus> {
    let status = <WireEnum as serde::Deserialize>::deserialize(get_key(object, "Status")?).ok()?;
    Some(status.to_domain())
}

fn domain_request(object: &Map<String, Value>) -> Result<Request, ModelError> {
    let wire = wire_request(object).ok_or(ModelError::Missing {
        object: "request",
        field: "Uuid",
    })?;
    Request::try_from(wire)
}

/// A key's value: under its PascalCase name, or else under the same name
/// in another case, as [`WireRequest`] reads it.
fn get_key<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    object.get(key).or_else(|| {
        object
            .iter()
            .find(|(k, _)| k.trim().eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// Sets a key, replacing a differently-cased existing one (inserted JSON may use any case).
fn set_key(object: &mut Map<String, Value>, key: &str, value: Value) {
    let existing: Vec<String> = object
        .keys()
        .filter(|k| k.eq_ignore_ascii_case(key))
        .cloned()
        .collect();
    for k in existing {
        object.remove(&k);
    }
    object.insert(key.to_owned(), value);
}

fn router(state: Shared) -> Router {
    Router::new().fallback(dispatch).with_state(state)
}

/// Adds the configured authentication in front of `router`, behind the
/// `Host` check (DNS rebinding), behind the count of calls that carried
/// credentials (see [`exposure`]).
fn secure(router: Router, config: &EmulatorConfig, state: &Shared) -> Router {
    let router = match &config.bearer_token {
        None => router,
        Some(token) => router.layer(axum::middleware::from_fn_with_state(
            Arc::<str>::from(token.as_str()),
            require_bearer,
        )),
    };
    let this_machine: Arc<[String]> = if config.allow_remote {
        exposure::this_machine_names().into()
    } else {
        Arc::from([])
    };
    router
        .layer(axum::middleware::from_fn_with_state(
            this_machine,
            exposure::require_own_host,
        ))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(state),
            exposure::count_credentials,
        ))
}
