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

use super::client::API_PATH;
use super::demo_data::{self, random_uuid};
pub use super::emulator_tls::EmulatorTls;
use super::emulator_tls::{TlsListener, TlsPeer};
use super::model::{
    ModelError, WireEnum, WireProfileTemplate, WireRequest, WireSmartcard, guid_to_wire,
    parse_guid, parse_lenient_json, percent_decode,
};
use crate::domain::card::{Atr, CardId};
use crate::domain::request::{Request, RequestStatus, SmartcardStatus};
use crate::domain::smartcard::Smartcard;

/// Where the emulator listens and what it starts with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmulatorConfig {
    /// The address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
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
    binds: usize,
    /// Calls to [`SIGN_IN_PATH`]: a client that follows a redirect lands there.
    sign_in_visits: usize,
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
        // Checked before binding, so a bad certificate is the caller's error.
        let tls = config.tls.as_ref().map(EmulatorTls::acceptor).transpose()?;
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let state = new_state(&config);
        let (stop, stopped) = oneshot::channel::<()>();
        let app = secure(router(Arc::clone(&state)), &config);
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
        let app = secure(router(Arc::clone(&state)), &config);
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
        binds: 0,
        sign_in_visits: 0,
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

/// Adds the configured authentication in front of `router`.
fn secure(router: Router, config: &EmulatorConfig) -> Router {
    match &config.bearer_token {
        None => router,
        Some(token) => router.layer(axum::middleware::from_fn_with_state(
            Arc::<str>::from(token.as_str()),
            require_bearer,
        )),
    }
}

// ---------------------------------------------------------------------------
// Authentication
// ---------------------------------------------------------------------------

/// What ASP.NET Web API answers for a call its `[Authorize]` refuses.
const UNAUTHORIZED_MESSAGE: &str = "Authorization has been denied for this request.";

async fn require_bearer(
    State(token): State<Arc<str>>,
    request: axum::extract::Request,
    next: Next,
) -> Response {
    let client_certificate = request
        .extensions()
        .get::<ConnectInfo<TlsPeer>>()
        .is_some_and(|ConnectInfo(peer)| peer.client_certificate);
    match bearer_refusal(&token, request.headers(), client_certificate) {
        Some(refusal) => {
            tracing::debug!(
                path = request.uri().path(),
                "CM emulator refuses: no valid bearer token"
            );
            refusal
        }
        None => next.run(request).await,
    }
}

/// The 401 for a call without the expected bearer token, or `None` to let it
/// through. A client that presented a certificate needs no token. Without any
/// bearer token the challenge is a plain `Bearer`; with a wrong one it says
/// `error="invalid_token"` (RFC 6750, section 3.1).
fn bearer_refusal(
    expected: &str,
    headers: &HeaderMap,
    client_certificate: bool,
) -> Option<Response> {
    if client_certificate {
        return None;
    }
    let mut presented = false;
    for value in headers.get_all(AUTHORIZATION) {
        let Ok(value) = value.to_str() else {
            continue;
        };
        // "Bearer" with nothing after it is a token too: an empty, invalid one.
        let value = value.trim();
        let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
        if !scheme.eq_ignore_ascii_case("Bearer") {
            continue;
        }
        presented = true;
        if same_token(token.trim().as_bytes(), expected.as_bytes()) {
            return None;
        }
    }
    let challenge = if presented {
        "Bearer error=\"invalid_token\""
    } else {
        "Bearer"
    };
    let mut response = message(StatusCode::UNAUTHORIZED, UNAUTHORIZED_MESSAGE);
    response
        .headers_mut()
        .insert(WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
    Some(response)
}

/// Compares tokens without stopping at the first difference.
fn same_token(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

// ---------------------------------------------------------------------------
// Answers
// ---------------------------------------------------------------------------

fn json_response(status: StatusCode, body: &Value) -> Response {
    json_text_response(status, body.to_string())
}

fn json_text_response(status: StatusCode, text: String) -> Response {
    (
        status,
        [(
            CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        )],
        text,
    )
        .into_response()
}

fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

fn message(status: StatusCode, text: impl Into<String>) -> Response {
    json_response(status, &json!({ "Message": text.into() }))
}

fn bad_request(detail: impl Into<String>) -> Response {
    json_response(
        StatusCode::BAD_REQUEST,
        &json!({ "Message": "The request is invalid.", "MessageDetail": detail.into() }),
    )
}

/// What ASP.NET answers for a path no controller serves.
fn no_route(uri: &Uri) -> Response {
    message(
        StatusCode::NOT_FOUND,
        format!("No HTTP resource was found that matches the request URI '{uri}'."),
    )
}

/// What IIS answers for a path outside any application.
fn iis_page(status: StatusCode, title: &str) -> Response {
    let page = format!(
        "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Strict//EN\" \
         \"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd\">\r\n\
         <html xmlns=\"http://www.w3.org/1999/xhtml\">\r\n<head>\r\n\
         <meta http-equiv=\"Content-Type\" content=\"text/html; charset=iso-8859-1\"/>\r\n\
         <title>{title}</title>\r\n</head>\r\n<body>\r\n\
         <div id=\"header\"><h1>Server Error</h1></div>\r\n\
         <div id=\"content\"><div class=\"content-container\"><fieldset>\r\n\
         <h2>{title}</h2>\r\n</fieldset></div></div>\r\n</body>\r\n</html>\r\n"
    );
    (
        status,
        [(CONTENT_TYPE, HeaderValue::from_static("text/html"))],
        page,
    )
        .into_response()
}

/// An unhandled-exception answer: 500 with the reason and a fresh correlation
/// ID (or the reason alone, with [`Faults::unmarked_errors`]).
fn server_error(state: &mut EmulatorState, reason: &str) -> Response {
    if state.faults.unmarked_errors {
        tracing::debug!(reason, "CM emulator refuses without a correlation ID");
        return message(StatusCode::INTERNAL_SERVER_ERROR, reason);
    }
    let correlation = random_uuid(&mut state.rng);
    tracing::debug!(%correlation, reason, "CM emulator refuses");
    message(
        StatusCode::INTERNAL_SERVER_ERROR,
        format!("{reason} Correlation ID: {correlation}"),
    )
}

fn method_not_allowed(method: &Method) -> Response {
    message(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("The requested resource does not support http method '{method}'."),
    )
}

// ---------------------------------------------------------------------------
// Routing
// ---------------------------------------------------------------------------

async fn dispatch(State(state): State<Shared>, method: Method, uri: Uri, body: Bytes) -> Response {
    let response = route(&state, &method, &uri, &body).await;
    tracing::debug!(%method, path = uri.path(), status = response.status().as_u16(), "CM emulator");
    response
}

async fn route(state: &Shared, method: &Method, uri: &Uri, body: &[u8]) -> Response {
    let path = uri.path();
    if path
        .get(..SIGN_IN_PATH.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(SIGN_IN_PATH))
    {
        lock(state).sign_in_visits += 1;
        return sign_in_page(StatusCode::OK);
    }
    let prefix = API_PATH.trim_end_matches('/');
    // IIS paths are case-insensitive; the prefix is ASCII so byte offsets hold.
    let rest = match path.get(..prefix.len()) {
        Some(head) if head.eq_ignore_ascii_case(prefix) => &path[prefix.len()..],
        _ => return iis_page(StatusCode::NOT_FOUND, "404 - File or directory not found."),
    };
    if !(rest.is_empty() || rest.starts_with('/')) {
        return iis_page(StatusCode::NOT_FOUND, "404 - File or directory not found.");
    }
    let segments: Vec<String> = rest
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect();
    let query = parse_query(uri.query());
    let lower: Vec<String> = segments.iter().map(|s| s.to_ascii_lowercase()).collect();
    let lower: Vec<&str> = lower.iter().map(String::as_str).collect();
    match (lower.as_slice(), method) {
        (["requests"], &Method::GET) => list_requests(state, &query).await,
        (["requests", _], &Method::GET) => get_request(state, &segments[1]),
        (["requests", _], &Method::PUT) => put_request(state, &segments[1], body),
        (["requests", _, "smartcards", _], &Method::PUT) => {
            update_card_status(state, &segments[1], &segments[3], parse_status_body(body))
        }
        (["requests", _, "smartcards", _], &Method::GET) if lock(state).card_status_get => {
            let status = match query_value(&query, "status") {
                Some(text) => Ok(status_value(text)),
                None => Err("The status parameter is required.".to_owned()),
            };
            update_card_status(state, &segments[1], &segments[3], status)
        }
        (["smartcards"], &Method::POST) => bind(state, body).await,
        (["smartcards"], &Method::GET) => match query_value(&query, "cardid") {
            Some(card_id) => smartcard_by_card_id(state, card_id),
            None => callers_smartcards(state),
        },
        (["smartcards", _], &Method::GET) => get_smartcard(state, &segments[1]),
        (["smartcards", _, "operations"], &Method::GET) => card_operations(state, &segments[1]),
        (["smartcards", _, "certificates"], &Method::GET) => card_certificates(state, &segments[1]),
        (["profiletemplates"], &Method::GET) => profile_templates(state),
        (["profiletemplates", _, "configuration", "smartcards"], &Method::GET) => {
            template_smartcard_config(state, &segments[1])
        }
        (
            ["requests"]
            | ["requests", _]
            | ["requests", _, "smartcards", _]
            | ["smartcards"]
            | ["smartcards", _]
            | ["smartcards", _, "operations" | "certificates"]
            | ["profiletemplates"]
            | ["profiletemplates", _, "configuration", "smartcards"],
            _,
        ) => method_not_allowed(method),
        _ => no_route(uri),
    }
}

/// Query parameters with lower-cased names (ASP.NET binds them case-insensitively).
fn parse_query(query: Option<&str>) -> Vec<(String, String)> {
    query
        .unwrap_or_default()
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (
                percent_decode(&key.replace('+', " ")).to_ascii_lowercase(),
                percent_decode(&value.replace('+', " ")),
            )
        })
        .collect()
}

fn query_value<'a>(query: &'a [(String, String)], key: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

async fn list_requests(state: &Shared, query: &[(String, String)]) -> Response {
    let filter = match query_value(query, "status").map(str::trim) {
        None | Some("") => None,
        Some(text) => {
            let status = text
                .parse::<i32>()
                .ok()
                .map(RequestStatus)
                .or_else(|| RequestStatus::from_name(text));
            match status {
                Some(status) => Some(status),
                None => return bad_request(format!("'{text}' is not a request status.")),
            }
        }
    };
    let delay = lock(state).faults.list_delay;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let state = lock(state);
    let list: Vec<&serde_json::value::RawValue> = state
        .requests
        .iter()
        .filter(|r| filter.is_none_or(|wanted| request_status(&r.object) == Some(wanted)))
        .filter_map(|r| r.json.as_deref())
        .collect();
    if list.is_empty() {
        return no_content();
    }
    match serde_json::to_string(&list) {
        Ok(text) => json_text_response(StatusCode::OK, text),
        Err(error) => message(StatusCode::INTERNAL_SERVER_ERROR, error.to_string()),
    }
}

fn get_request(state: &Shared, id: &str) -> Response {
    let Some(uuid) = parse_guid(id) else {
        return bad_request(format!("'{id}' is not a valid request ID."));
    };
    let state = lock(state);
    match state.requests.iter().find(|r| r.uuid() == Some(uuid)) {
        Some(request) => request.response(),
        None => unknown_object(&state, "request", uuid),
    }
}

/// The configured answer ([`UnknownObjectAnswer`]) for an object the server does not hold.
fn unknown_object(state: &EmulatorState, what: &str, uuid: Uuid) -> Response {
    match state.unknown_object {
        UnknownObjectAnswer::NoContent => no_content(),
        UnknownObjectAnswer::NotFound => message(
            StatusCode::NOT_FOUND,
            format!("The {what} {} was not found.", guid_to_wire(uuid)),
        ),
    }
}

fn smartcard_json(card: &WireSmartcard) -> Value {
    Value::Object(wire_object(card))
}

/// `GET smartcards?cardid=`, shaped by [`KnownCardAnswer`].
fn smartcard_by_card_id(state: &Shared, text: &str) -> Response {
    let Some(card_id) = parse_guid(text) else {
        return bad_request(format!("'{text}' is not a valid card ID."));
    };
    let state = lock(state);
    let mut found: Vec<Value> = objects_of_card(&state, card_id)
        .map(smartcard_json)
        .collect();
    if found.is_empty() {
        return no_content();
    }
    match state.known_card_answer {
        KnownCardAnswer::ObjectOrList if found.len() == 1 => {
            json_response(StatusCode::OK, &found.swap_remove(0))
        }
        KnownCardAnswer::ObjectOrList | KnownCardAnswer::List => {
            json_response(StatusCode::OK, &Value::Array(found))
        }
        KnownCardAnswer::Latest => match found.pop() {
            Some(latest) => json_response(StatusCode::OK, &latest),
            None => no_content(),
        },
    }
}

/// `GET smartcards` without `cardid`: the smart card objects assigned to
/// the signed-in user ([`EmulatorConfig::caller`]), as a list; 204 for none.
fn callers_smartcards(state: &Shared) -> Response {
    let state = lock(state);
    let caller = state.caller;
    let mine: Vec<Value> = state
        .smartcards
        .iter()
        .filter(|c| c.assigned_user_uuid.as_deref().and_then(parse_guid) == Some(caller))
        .map(smartcard_json)
        .collect();
    if mine.is_empty() {
        return no_content();
    }
    json_response(StatusCode::OK, &Value::Array(mine))
}

/// Every smart card object CM holds for a card ID (one per assignment).
fn objects_of_card(state: &EmulatorState, card_id: Uuid) -> impl Iterator<Item = &WireSmartcard> {
    state
        .smartcards
        .iter()
        .filter(move |c| c.serial_number.as_deref().and_then(parse_guid) == Some(card_id))
}

/// A template's `AllowSmartcardReuse`.
fn reuse_allowed(state: &EmulatorState, template: Uuid) -> bool {
    state
        .template_reuse
        .get(&template)
        .copied()
        .unwrap_or(state.default_reuse)
}

/// `GET profiletemplates/{id}/configuration/smartcards`, with the fields of
/// the SDK's `SmartcardConfig` a station might see, the default admin key among them.
fn template_smartcard_config(state: &Shared, id: &str) -> Response {
    let Some(uuid) = parse_guid(id) else {
        return bad_request(format!("'{id}' is not a valid profile template ID."));
    };
    let state = lock(state);
    if state.faults.forbid_template_config {
        return iis_page(StatusCode::FORBIDDEN, "403 - Forbidden: Access is denied.");
    }
    if !state
        .templates
        .iter()
        .any(|t| t.uuid.as_deref().and_then(parse_guid) == Some(uuid))
    {
        return message(
            StatusCode::NOT_FOUND,
            format!("The profile template {} was not found.", guid_to_wire(uuid)),
        );
    }
    json_response(
        StatusCode::OK,
        &json!({
            "AllowSmartcardReuse": reuse_allowed(&state, uuid),
            "DefaultAdminKeyHex": FAKE_DEFAULT_ADMIN_KEY_HEX,
            "AdminKeyAlgorithm": "3DES",
            "CardFilter": "",
            "Middleware": "MSBaseCSP",
            "UseSecureKeyInjection": false,
        }),
    )
}

fn get_smartcard(state: &Shared, id: &str) -> Response {
    let Some(uuid) = parse_guid(id) else {
        return bad_request(format!("'{id}' is not a valid smart card ID."));
    };
    let state = lock(state);
    match find_smartcard(&state, uuid) {
        Some(card) => json_response(StatusCode::OK, &smartcard_json(card)),
        None => unknown_object(&state, "smart card", uuid),
    }
}

fn find_smartcard(state: &EmulatorState, uuid: Uuid) -> Option<&WireSmartcard> {
    state
        .smartcards
        .iter()
        .find(|c| c.parsed_uuid() == Some(uuid))
}

fn profile_templates(state: &Shared) -> Response {
    let state = lock(state);
    let list: Vec<Value> = state
        .templates
        .iter()
        .map(|t| Value::Object(wire_object(t)))
        .collect();
    json_response(StatusCode::OK, &Value::Array(list))
}

// ---------------------------------------------------------------------------
// A smart card's operations and certificates
// ---------------------------------------------------------------------------

/// SmartcardStatus names and numbers as `enums.md` gives them: the
/// emulator's own table, so it does not share the client's reading of names.
/// Suspended and None have no known number.
const SMARTCARD_STATUSES: [(&str, i64); 5] = [
    ("New", 0),
    ("Assigned", 1),
    ("Active", 2),
    ("Disabled", 3),
    ("Retired", 6),
];

/// RequestStatus names and numbers as `enums.md` gives them (None inferred).
const REQUEST_STATUSES: [(&str, i64); 8] = [
    ("None", 0),
    ("Approved", 3),
    ("Denied", 4),
    ("Completed", 8),
    ("Failed", 9),
    ("Pending", 16),
    ("Canceled", 17),
    ("Executing", 18),
];

/// A status's number from a table, by name (any case) or number.
fn status_number(table: &[(&str, i64)], value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(text) => {
            let text = text.trim();
            text.parse().ok().or_else(|| {
                table
                    .iter()
                    .find(|(name, _)| name.eq_ignore_ascii_case(text))
                    .map(|&(_, n)| n)
            })
        }
        _ => None,
    }
}

/// A status's name from a table, or `Unknown(n)`.
fn status_name(table: &[(&str, i64)], number: Option<i64>) -> String {
    match number {
        Some(n) => table
            .iter()
            .find(|&&(_, v)| v == n)
            .map_or_else(|| format!("Unknown({n})"), |&(name, _)| name.to_owned()),
        None => "without a status".to_owned(),
    }
}

/// A stored smart card object's status number.
fn smartcard_status_number(card: &WireSmartcard) -> Option<i64> {
    match card.status.as_ref()? {
        WireEnum::Number(n) => Some(*n),
        WireEnum::Name(name) => status_number(&SMARTCARD_STATUSES, &Value::String(name.clone())),
    }
}

/// The operations get-profile-state-operations would list for an object in
/// this status when none were set: its example (`renew`, `unblock`,
/// `retire`) for an Active card; only `retire` for a card not yet in use.
fn default_operations(status: Option<i64>) -> Vec<String> {
    let names: &[&str] = match status {
        Some(2) => &["renew", "unblock", "retire"],
        Some(0 | 1) => &["retire"],
        _ => &[],
    };
    names.iter().map(|&n| n.to_owned()).collect()
}

/// `GET smartcards/{id}/operations`: lower-case names of the operations the
/// signed-in user may start; 204 for none.
fn card_operations(state: &Shared, id: &str) -> Response {
    let Some(uuid) = parse_guid(id) else {
        return bad_request(format!("'{id}' is not a valid smart card ID."));
    };
    let state = lock(state);
    let Some(card) = find_smartcard(&state, uuid) else {
        return unknown_object(&state, "smart card", uuid);
    };
    let operations = match state.card_operations.get(&uuid) {
        Some(set) => set.clone(),
        None => default_operations(smartcard_status_number(card)),
    };
    if operations.is_empty() {
        return no_content();
    }
    json_response(StatusCode::OK, &json!(operations))
}

/// `GET smartcards/{id}/certificates`: X509ClmCertificate objects; 204 for none.
fn card_certificates(state: &Shared, id: &str) -> Response {
    let Some(uuid) = parse_guid(id) else {
        return bad_request(format!("'{id}' is not a valid smart card ID."));
    };
    let state = lock(state);
    let Some(card) = find_smartcard(&state, uuid) else {
        return unknown_object(&state, "smart card", uuid);
    };
    let count = match state.card_certificates.get(&uuid) {
        Some(&count) => count,
        None if smartcard_status_number(card) == Some(2) => 2,
        None => 0,
    };
    if count == 0 {
        return no_content();
    }
    let list: Vec<Value> = (0..count).map(|i| certificate_json(uuid, i)).collect();
    json_response(StatusCode::OK, &Value::Array(list))
}

/// One X509ClmCertificate, the same for the same object and index. The
/// reference names the properties only: the values are made up. Serial
/// number and thumbprint are upper-case hex, as .NET's `X509Certificate2`
/// gives them; certificates after the first two are archived key history.
fn certificate_json(smartcard: Uuid, index: usize) -> Value {
    let mut rng = fastrand::Rng::with_seed(
        (smartcard.as_u128() as u64) ^ ((smartcard.as_u128() >> 64) as u64) ^ index as u64,
    );
    let mut hex = |bytes: usize| -> String {
        (0..bytes)
            .map(|_| format!("{:02X}", rng.u8(..)))
            .collect::<String>()
    };
    let serial = hex(19);
    let thumbprint = hex(20);
    let (template, kind) = match index % 2 {
        0 => ("SmartcardLogon", "Authentication"),
        _ => ("SmartcardUser", "Signature"),
    };
    let history = index >= 2;
    json!({
        "ArchivedOnCa": history,
        "CertificateType": kind,
        "IsKeyHistory": history,
        "SerialNumber": serial,
        "TemplateCommonName": template,
        "Thumbprint": thumbprint,
    })
}

// ---------------------------------------------------------------------------
// Request and smart card status (PUT)
// ---------------------------------------------------------------------------

/// The `status` of a PUT body, read as Json.NET reads it: the key in any
/// case, a name or a number (also a number in a string).
fn parse_status_body(body: &[u8]) -> Result<Value, String> {
    let text = std::str::from_utf8(body).map_err(|_| "The body is not UTF-8 text.".to_owned())?;
    let value = parse_lenient_json(text).map_err(|e| format!("The body is not JSON: {e}."))?;
    let Value::Object(object) = value else {
        return Err("The body must be a JSON object {\"status\"}.".into());
    };
    match get_key(&object, "status") {
        Some(status @ (Value::String(_) | Value::Number(_))) => Ok(status.clone()),
        Some(other) => Err(format!("The status {other} is not a name or a number.")),
        None => Err("The body has no status.".into()),
    }
}

/// A status given in a query string.
fn status_value(text: &str) -> Value {
    Value::String(text.to_owned())
}

/// What `PUT requests/{id}` may set (cancel-abandon-complete-request).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RequestMark {
    Completed,
    Canceled,
    Abandoned,
}

impl RequestMark {
    /// By name (any case) or by the number of the status it sets; Abandoned
    /// has no number of its own, so only its name.
    fn parse(value: &Value) -> Option<Self> {
        let marks = [
            ("Completed", RequestMark::Completed),
            ("Canceled", RequestMark::Canceled),
            ("Abandoned", RequestMark::Abandoned),
        ];
        if let Some(name) = value.as_str().map(str::trim)
            && let Some(&(_, mark)) = marks.iter().find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            return Some(mark);
        }
        match status_number(&REQUEST_STATUSES, value)? {
            8 => Some(RequestMark::Completed),
            17 => Some(RequestMark::Canceled),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            RequestMark::Completed => "Completed",
            RequestMark::Canceled => "Canceled",
            RequestMark::Abandoned => "Abandoned",
        }
    }

    /// The Status stored: `enums.md` says abandoning an Approved or
    /// Executing request moves it to Failed (9).
    fn stored_status(self) -> i64 {
        match self {
            RequestMark::Completed => 8,
            RequestMark::Canceled => 17,
            RequestMark::Abandoned => 9,
        }
    }

    /// The statuses it may be set from. The reference does not say (review
    /// `cm-api.md` section 6, item 3): Canceled before execution (Pending,
    /// Approved), Abandoned once approved (Approved, Executing), Completed
    /// from Executing.
    fn allowed_from(self) -> &'static [(&'static str, i64)] {
        match self {
            RequestMark::Completed => &[("Executing", 18)],
            RequestMark::Canceled => &[("Pending", 16), ("Approved", 3)],
            RequestMark::Abandoned => &[("Approved", 3), ("Executing", 18)],
        }
    }
}

/// `PUT requests/{id}` `{"status":"Completed"|"Canceled"|"Abandoned"}`.
fn put_request(shared: &Shared, id: &str, body: &[u8]) -> Response {
    let Some(uuid) = parse_guid(id) else {
        return bad_request(format!("'{id}' is not a valid request ID."));
    };
    let status = match parse_status_body(body) {
        Ok(status) => status,
        Err(detail) => return bad_request(detail),
    };
    let Some(mark) = RequestMark::parse(&status) else {
        return bad_request(format!(
            "The status {status} is not Completed, Canceled or Abandoned."
        ));
    };
    let mut state = lock(shared);
    let Some(index) = state.requests.iter().position(|r| r.uuid() == Some(uuid)) else {
        return unknown_object(&state, "request", uuid);
    };
    let current = get_key(&state.requests[index].object, "Status")
        .and_then(|v| status_number(&REQUEST_STATUSES, v));
    let allowed = mark.allowed_from();
    if !current.is_some_and(|c| allowed.iter().any(|&(_, n)| n == c)) {
        let from: Vec<&str> = allowed.iter().map(|&(name, _)| name).collect();
        let reason = format!(
            "The request {} is {}; it can be marked {} only while it is {}.",
            guid_to_wire(uuid),
            status_name(&REQUEST_STATUSES, current),
            mark.name(),
            from.join(" or ")
        );
        return wrong_request(&mut state, &reason);
    }
    let request = &mut state.requests[index];
    request.set("Status", json!(mark.stored_status()));
    if mark == RequestMark::Completed {
        request.set("Completed", Value::String(now_timestamp()));
    }
    tracing::debug!(request = %uuid, mark = mark.name(), "CM emulator marked a request");
    match state.put_answer {
        PutAnswer::Object => state.requests[index].response(),
        PutAnswer::NoContent => no_content(),
    }
}

/// The current time as CM writes dates.
fn now_timestamp() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
    demo_data::format_timestamp(secs, now.subsec_millis() / 10)
}

/// Whether the smart card object belongs to the request: the request names
/// it (`NewSmartcardUuid`, `OldSmartcardUuid`) or a bind made it for it.
fn card_of_request(state: &EmulatorState, index: usize, request: Uuid, card: Uuid) -> bool {
    let object = &state.requests[index].object;
    let named = ["NewSmartcardUuid", "OldSmartcardUuid"].iter().any(|key| {
        get_key(object, key)
            .and_then(Value::as_str)
            .and_then(parse_guid)
            == Some(card)
    });
    named || state.bound_for.get(&card) == Some(&request)
}

/// `PUT requests/{r}/smartcards/{s}` `{"status":"Retired"}` (update-smartcard-status),
/// or its GET form ([`EmulatorConfig::card_status_get`]).
fn update_card_status(
    shared: &Shared,
    request_id: &str,
    card_id: &str,
    status: Result<Value, String>,
) -> Response {
    let Some(request) = parse_guid(request_id) else {
        return bad_request(format!("'{request_id}' is not a valid request ID."));
    };
    let Some(card) = parse_guid(card_id) else {
        return bad_request(format!("'{card_id}' is not a valid smart card ID."));
    };
    let status = match status {
        Ok(status) => status,
        Err(detail) => return bad_request(detail),
    };
    let Some(number) =
        status_number(&SMARTCARD_STATUSES, &status).filter(|n| i32::try_from(*n).is_ok())
    else {
        return bad_request(format!(
            "The status {status} is not a smart card status with a known number (New, \
             Assigned, Active, Disabled, Retired, or a number)."
        ));
    };
    let mut state = lock(shared);
    let Some(index) = state
        .requests
        .iter()
        .position(|r| r.uuid() == Some(request))
    else {
        return unknown_object(&state, "request", request);
    };
    let Some(position) = state
        .smartcards
        .iter()
        .position(|c| c.parsed_uuid() == Some(card))
    else {
        return unknown_object(&state, "smart card", card);
    };
    if !card_of_request(&state, index, request, card) {
        let reason = format!(
            "The smart card {} does not belong to the request {}.",
            guid_to_wire(card),
            guid_to_wire(request)
        );
        return wrong_request(&mut state, &reason);
    }
    state.smartcards[position].status = Some(WireEnum::Number(number));
    tracing::debug!(%request, smartcard = %card, status = number, "CM emulator set a card's status");
    match state.put_answer {
        PutAnswer::Object => {
            json_response(StatusCode::OK, &smartcard_json(&state.smartcards[position]))
        }
        PutAnswer::NoContent => no_content(),
    }
}

/// The bind body, read the way Json.NET reads it: keys in any case, GUIDs in any dress.
struct BindInput {
    request: Uuid,
    card_id: Uuid,
    atr: Atr,
}

fn parse_bind_body(body: &[u8]) -> Result<BindInput, String> {
    let text = std::str::from_utf8(body).map_err(|_| "The body is not UTF-8 text.".to_owned())?;
    let value = parse_lenient_json(text).map_err(|e| format!("The body is not JSON: {e}."))?;
    let Value::Object(object) = value else {
        return Err("The body must be a JSON object {\"requestid\",\"cardid\",\"atr\"}.".into());
    };
    let field = |name: &str| -> Result<String, String> {
        object
            .iter()
            .find(|(k, _)| k.trim().eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.as_str())
            .map(str::to_owned)
            .ok_or_else(|| format!("The body has no {name}."))
    };
    let request_text = field("requestid")?;
    let request = parse_guid(&request_text)
        .ok_or_else(|| format!("requestid '{request_text}' is not a GUID."))?;
    let card_text = field("cardid")?;
    let card_id =
        parse_guid(&card_text).ok_or_else(|| format!("cardid '{card_text}' is not a GUID."))?;
    let atr_text = field("atr")?;
    let atr = Atr::parse_hex(&atr_text)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| format!("atr '{atr_text}' is not hex."))?;
    Ok(BindInput {
        request,
        card_id,
        atr,
    })
}

/// A front end's sign-in page: what a proxy answers in CM's place.
fn sign_in_page(status: StatusCode) -> Response {
    let page = "<!DOCTYPE html>\r\n<html lang=\"en-US\"><head>\
        <meta http-equiv=\"content-type\" content=\"text/html;charset=UTF-8\"/>\
        <title>Sign In</title></head><body>\
        <form method=\"post\" id=\"loginForm\" autocomplete=\"off\" \
        action=\"/adfs/ls/?wa=wsignin1.0\">\
        <input id=\"userNameInput\" name=\"UserName\" type=\"email\" placeholder=\"someone@contoso.com\"/>\
        <input id=\"passwordInput\" name=\"Password\" type=\"password\" placeholder=\"Password\"/>\
        <span id=\"submitButton\" role=\"button\">Sign in</span></form></body></html>\r\n";
    (
        status,
        [(
            CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        )],
        page,
    )
        .into_response()
}

/// [`Faults::redirect_posts`]: the front end's 302, after committing the
/// bind behind it when [`Faults::redirect_after_commit`] says so.
fn front_end_redirect(state: &mut EmulatorState, body: &[u8]) -> Option<Response> {
    if state.faults.redirect_posts == 0 {
        return None;
    }
    state.faults.redirect_posts -= 1;
    if state.faults.redirect_after_commit {
        // Whatever CM answered is lost behind the front end.
        let behind = commit_bind(state, body);
        tracing::debug!(
            status = behind.status().as_u16(),
            "CM emulator's front end hides the bind's answer"
        );
    }
    let location = state
        .faults
        .redirect_location
        .clone()
        .unwrap_or_else(|| DEFAULT_SIGN_IN_LOCATION.to_owned());
    let mut response = sign_in_page(StatusCode::FOUND);
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(LOCATION, value);
    }
    Some(response)
}

async fn bind(shared: &Shared, body: &[u8]) -> Response {
    let (response, delay) = {
        let mut state = lock(shared);
        if let Some(redirect) = front_end_redirect(&mut state, body) {
            return redirect;
        }
        let delay = state.faults.post_delay;
        let response = commit_bind(&mut state, body);
        let response = if state_committed(&response) {
            lose_answer(&mut state, response)
        } else {
            response
        };
        (response, delay)
    };
    // Only a committed bind is delayed: that is the "answer lost on the way" case.
    if !delay.is_zero() && state_committed(&response) {
        tokio::time::sleep(delay).await;
    }
    response
}

/// True for an answer that follows a committed bind (201, or a fault after commit).
fn state_committed(response: &Response) -> bool {
    response.status() == StatusCode::CREATED || response.extensions().get::<Committed>().is_some()
}

/// Marks a fault answer sent after the bind was committed.
#[derive(Clone, Copy)]
struct Committed;

/// Replaces a committed bind's 201 by the configured after-commit fault, if any.
fn lose_answer(state: &mut EmulatorState, created: Response) -> Response {
    if state.faults.fail_after_commit > 0 {
        state.faults.fail_after_commit -= 1;
        let mut response = server_error(
            state,
            "An error has occurred after the smart card was saved.",
        );
        response.extensions_mut().insert(Committed);
        return response;
    }
    if state.faults.drop_after_commit > 0 {
        state.faults.drop_after_commit -= 1;
        // A body that fails makes the server abort the connection mid-answer.
        let broken = futures_util::stream::iter([Err::<Bytes, io::Error>(io::Error::other(
            "the emulator drops this answer",
        ))]);
        let mut response = Response::new(axum::body::Body::from_stream(broken));
        *response.status_mut() = StatusCode::CREATED;
        return response;
    }
    created
}

/// Why CM would never bind a card to `request`, whatever its status: a
/// software-profile request, or a type that does not issue a card (the same
/// rule as [`Request::bindability`], in a server's words).
fn takes_no_card(request: &Request, request_id: &str) -> Option<String> {
    if !request.is_smartcard {
        return Some(format!(
            "The request {request_id} is not a smart card request (it is for a software \
             profile); a smart card cannot be bound to it."
        ));
    }
    match request.request_type.issues_card() {
        Some(true) => None,
        Some(false) => Some(format!(
            "The request {request_id} is a {} request, which acts on an existing smart card; \
             a new smart card cannot be bound to it.",
            request.request_type
        )),
        None => Some(format!(
            "The request {request_id} has the unknown request type {}; a smart card cannot \
             be bound to it.",
            request.request_type.0
        )),
    }
}

/// CM's reuse rule: a card with an object in use (anything but Retired or
/// Disabled) is refused; a card whose objects are all discontinued is
/// refused unless the request's template allows smart card reuse.
fn card_not_reusable(state: &EmulatorState, card_id: Uuid, request: &Request) -> Option<String> {
    let card = guid_to_wire(card_id);
    let mut known = objects_of_card(state, card_id).peekable();
    let first = known.peek().map(|c| c.uuid.clone().unwrap_or_default())?;
    let status = |c: &WireSmartcard| {
        c.status
            .as_ref()
            .map_or(SmartcardStatus(i32::MIN), WireEnum::to_domain)
    };
    if let Some(in_use) = known.find(|c| status(c).is_in_use()) {
        return Some(format!(
            "The card {card} is in use as smart card {} (status {}).",
            in_use.uuid.as_deref().unwrap_or("?"),
            status(in_use)
        ));
    }
    let template = request.profile_template.unwrap_or_default();
    (!reuse_allowed(state, template)).then(|| {
        format!(
            "The card {card} is already known to CM as smart card {first}, and the profile \
             template {} does not allow smart card reuse.",
            guid_to_wire(template)
        )
    })
}

/// The configured refusal ([`WrongRequestAnswer`]) of a bind for a request
/// that never takes a card, or of a PUT the request's state does not allow.
fn wrong_request(state: &mut EmulatorState, reason: &str) -> Response {
    tracing::debug!(reason, "CM emulator refuses a request that takes no card");
    match state.wrong_request {
        WrongRequestAnswer::ServerError => server_error(state, reason),
        WrongRequestAnswer::BadRequest => bad_request(reason),
        WrongRequestAnswer::Forbidden => message(StatusCode::FORBIDDEN, reason),
        WrongRequestAnswer::Conflict => message(StatusCode::CONFLICT, reason),
    }
}

fn commit_bind(state: &mut EmulatorState, body: &[u8]) -> Response {
    if state.faults.forbid_binds {
        return iis_page(StatusCode::FORBIDDEN, "403 - Forbidden: Access is denied.");
    }
    let input = match parse_bind_body(body) {
        Ok(input) => input,
        Err(detail) => return bad_request(detail),
    };
    if state.faults.fail_next_posts > 0 {
        state.faults.fail_next_posts -= 1;
        return server_error(
            state,
            "An error has occurred while binding the smart card; nothing was changed.",
        );
    }
    let request_id = guid_to_wire(input.request);
    let Some(index) = state
        .requests
        .iter()
        .position(|r| r.uuid() == Some(input.request))
    else {
        return server_error(state, &format!("The request {request_id} does not exist."));
    };
    let request = match domain_request(&state.requests[index].object) {
        Ok(request) => request,
        Err(e) => {
            return server_error(state, &format!("The request {request_id} is damaged: {e}."));
        }
    };
    if let Some(reason) = takes_no_card(&request, &request_id) {
        return wrong_request(state, &reason);
    }
    if !matches!(
        request.status,
        RequestStatus::APPROVED | RequestStatus::EXECUTING
    ) {
        let reason = format!(
            "The request {request_id} is in status {}; a smart card can only be bound to a \
             request that is Approved or Executing.",
            request.status
        );
        return server_error(state, &reason);
    }
    if let Some(bound) = request.new_smartcard {
        let reason = format!(
            "A smart card ({}) is already bound to the request {request_id}.",
            guid_to_wire(bound)
        );
        return server_error(state, &reason);
    }
    if let Some(reason) = card_not_reusable(state, input.card_id, &request) {
        return wrong_request(state, &reason);
    }

    let card_uuid = random_uuid(&mut state.rng);
    let nil = guid_to_wire(Uuid::nil());
    state.smartcards.push(WireSmartcard {
        uuid: Some(guid_to_wire(card_uuid)),
        status: Some(WireEnum::from_domain(SmartcardStatus::ASSIGNED)),
        flags: 1,
        parent_smartcard_uuid: Some(nil.clone()),
        primary_smartcard_uuid: Some(nil.clone()),
        permanent_smartcard_uuid: Some(nil),
        assigned_user_uuid: Some(guid_to_wire(request.target_user.unwrap_or_default())),
        profile_template_uuid: Some(guid_to_wire(request.profile_template.unwrap_or_default())),
        profile_template_version: 1,
        comment: None,
        serial_number: Some(format!("{{{}}}", guid_to_wire(input.card_id))),
        middleware: Some("MSBaseCSP".into()),
        atr: Some(input.atr.to_hex()),
    });
    state.requests[index].set("NewSmartcardUuid", Value::String(guid_to_wire(card_uuid)));
    state.bound_for.insert(card_uuid, input.request);
    state.binds += 1;
    tracing::debug!(request = %request_id, smartcard = %card_uuid, "CM emulator bound a card");

    let relative = format!("api/v1.0/smartcards/{}", guid_to_wire(card_uuid));
    let location = format!("{}smartcards/{}", API_PATH, guid_to_wire(card_uuid));
    let mut response = match state.faults.bind_answer {
        BindAnswer::Created => {
            let mut response = json_response(StatusCode::CREATED, &Value::String(relative));
            if let Ok(value) = HeaderValue::from_str(&location) {
                response.headers_mut().insert(LOCATION, value);
            }
            response
        }
        BindAnswer::NoContent => no_content(),
        BindAnswer::CreatedUnreadable => {
            json_response(StatusCode::CREATED, &json!({ "Result": "Created" }))
        }
    };
    response.extensions_mut().insert(Committed);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(json: &str) -> Vec<u8> {
        json.as_bytes().to_vec()
    }

    #[test]
    fn bind_bodies_are_read_like_json_net_reads_them() {
        let input = parse_bind_body(&body(
            "{\"RequestId\":\" {A9B4B42C-CC50-4C9B-89D1-BBC0BCD5A099}\",\
              \"CARDID\":\"bc88f13f-83ba-4037-8262-46eba1291c6e\",\"atr\":\"3B8D01\",}",
        ))
        .expect("tolerated");
        assert_eq!(
            input.request.to_string(),
            "a9b4b42c-cc50-4c9b-89d1-bbc0bcd5a099"
        );
        assert_eq!(input.atr.to_hex(), "3b8d01");
        for bad in [
            "",
            "[]",
            "{\"requestid\":\"x\"}",
            "{\"requestid\":\"a9b4b42c-cc50-4c9b-89d1-bbc0bcd5a099\",\"cardid\":\"bc88f13f-83ba-4037-8262-46eba1291c6e\",\"atr\":\"zz\"}",
        ] {
            assert!(parse_bind_body(&body(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn queries_are_decoded_and_case_insensitive() {
        let query = parse_query(Some("Status=Approved&cardid=%7Babc%7D&flag"));
        assert_eq!(query_value(&query, "status"), Some("Approved"));
        assert_eq!(query_value(&query, "cardid"), Some("{abc}"));
        assert_eq!(query_value(&query, "flag"), Some(""));
    }

    fn authorization(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(AUTHORIZATION, HeaderValue::from_str(value).expect("header"));
        }
        headers
    }

    fn challenge(response: &Response) -> &str {
        response
            .headers()
            .get(WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .expect("a WWW-Authenticate challenge")
    }

    #[test]
    fn the_right_bearer_token_passes() {
        for value in ["Bearer s3cret", "bearer s3cret", "BEARER  s3cret "] {
            assert!(
                bearer_refusal("s3cret", &authorization(&[value]), false).is_none(),
                "{value}"
            );
        }
        // One of several Authorization headers is enough.
        let headers = authorization(&["Basic dXNlcjpwYXNz", "Bearer s3cret"]);
        assert!(bearer_refusal("s3cret", &headers, false).is_none());
    }

    #[test]
    fn a_wrong_bearer_token_is_an_invalid_token() {
        for value in [
            "Bearer s3cre",
            "Bearer s3cret2",
            "Bearer S3CRET",
            "Bearer ",
            "Bearer",
        ] {
            let refusal = bearer_refusal("s3cret", &authorization(&[value]), false)
                .unwrap_or_else(|| panic!("{value} refused"));
            assert_eq!(refusal.status(), StatusCode::UNAUTHORIZED);
            assert_eq!(
                challenge(&refusal),
                "Bearer error=\"invalid_token\"",
                "{value}"
            );
        }
    }

    #[test]
    fn no_bearer_token_is_a_plain_challenge() {
        for headers in [
            authorization(&[]),
            authorization(&["Basic dXNlcjpwYXNz"]),
            authorization(&["Negotiate YIIF"]),
            authorization(&["s3cret"]),
        ] {
            let refusal = bearer_refusal("s3cret", &headers, false).expect("refused");
            assert_eq!(refusal.status(), StatusCode::UNAUTHORIZED);
            assert_eq!(challenge(&refusal), "Bearer");
        }
    }

    #[test]
    fn a_client_certificate_needs_no_bearer_token() {
        assert!(bearer_refusal("s3cret", &authorization(&[]), true).is_none());
        assert!(bearer_refusal("s3cret", &authorization(&["Bearer x"]), true).is_none());
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same_token(b"abc", b"abc"));
        assert!(!same_token(b"abc", b"abd"));
        assert!(!same_token(b"abc", b"ab"));
        assert!(!same_token(b"", b"a"));
        assert!(same_token(b"", b""));
    }

    #[tokio::test]
    async fn the_emulator_demands_its_bearer_token() {
        let emulator = Emulator::start(EmulatorConfig {
            requests: 3,
            bearer_token: Some("s3cret".into()),
            ..EmulatorConfig::default()
        })
        .await
        .expect("starts");
        assert!(emulator.base_url().starts_with("http://127.0.0.1:"));
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("client");
        let url = format!("{}requests", emulator.api_url());

        let refused = http
            .get(&url)
            .bearer_auth("wrong")
            .send()
            .await
            .expect("answer");
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            refused
                .headers()
                .get(WWW_AUTHENTICATE)
                .and_then(|v| v.to_str().ok()),
            Some("Bearer error=\"invalid_token\"")
        );
        assert!(
            refused
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/json"))
        );
        let body: Value = refused.json().await.expect("a JSON body");
        assert_eq!(body, json!({ "Message": UNAUTHORIZED_MESSAGE }));

        let unnamed = http.get(&url).send().await.expect("answer");
        assert_eq!(unnamed.status(), StatusCode::UNAUTHORIZED);
        // Even paths outside the API are behind the token, as on a protected site.
        let outside = http
            .get(format!("{}/", emulator.base_url()))
            .send()
            .await
            .expect("answer");
        assert_eq!(outside.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(emulator.bind_count(), 0);

        let listed = http
            .get(&url)
            .bearer_auth("s3cret")
            .send()
            .await
            .expect("answer");
        assert_eq!(listed.status(), StatusCode::OK);
        let list: Value = listed.json().await.expect("a JSON list");
        assert_eq!(list.as_array().map(Vec::len), Some(3));
    }

    #[tokio::test]
    async fn without_a_bearer_token_nothing_is_demanded() {
        let emulator = Emulator::start(EmulatorConfig {
            requests: 1,
            ..EmulatorConfig::default()
        })
        .await
        .expect("starts");
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("client");
        let answer = http
            .get(format!("{}requests", emulator.api_url()))
            .bearer_auth("anything")
            .send()
            .await
            .expect("answer");
        assert_eq!(answer.status(), StatusCode::OK);
    }

    #[test]
    fn bad_tls_material_is_refused_before_listening() {
        let config = EmulatorConfig {
            tls: Some(EmulatorTls {
                cert_chain_pem: b"not a certificate".to_vec(),
                key_pem: Vec::new(),
                client_ca_pem: None,
            }),
            ..EmulatorConfig::default()
        };
        let error = Emulator::start_on_thread(config.clone()).expect_err("refused");
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
        assert!(error.to_string().contains("certificate"), "{error}");
        // The key never shows in logs.
        let debug = format!("{config:?}");
        assert!(debug.contains("<redacted>"), "{debug}");
    }

    /// Posts a bind of a fresh card to `request`; the answer's status and JSON body.
    async fn post_bind(emulator: &Emulator, request: &str, card: u8) -> (StatusCode, Value) {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("client");
        let answer = http
            .post(format!("{}smartcards", emulator.api_url()))
            .json(&json!({
                "requestid": request,
                "cardid": format!("{card:02x}88f13f-83ba-4037-8262-46eba1291c6e"),
                "atr": "3b8d0180fba000000397425446590301c8",
            }))
            .send()
            .await
            .expect("answer");
        let status = answer.status();
        (status, answer.json().await.unwrap_or(Value::Null))
    }

    #[tokio::test]
    async fn a_bind_for_a_request_that_takes_no_card_is_refused_as_configured() {
        let software = "5f0e0c1a-0000-4000-8000-000000000001";
        let retire = "5f0e0c1a-0000-4000-8000-000000000002";
        let revoke = "5f0e0c1a-0000-4000-8000-000000000003";
        let unknown = "5f0e0c1a-0000-4000-8000-000000000004";
        let enroll = "5f0e0c1a-0000-4000-8000-000000000005";
        for (answer, expected) in [
            (
                WrongRequestAnswer::ServerError,
                StatusCode::INTERNAL_SERVER_ERROR,
            ),
            (WrongRequestAnswer::BadRequest, StatusCode::BAD_REQUEST),
            (WrongRequestAnswer::Forbidden, StatusCode::FORBIDDEN),
            (WrongRequestAnswer::Conflict, StatusCode::CONFLICT),
        ] {
            let emulator = Emulator::start(EmulatorConfig {
                requests: 0,
                wrong_request: answer,
                ..EmulatorConfig::default()
            })
            .await
            .expect("starts");
            for (id, kind, smartcard) in [
                (software, json!(1), false),
                (retire, json!(7), true),
                (revoke, json!("Revoke"), true),
                (unknown, json!(42), true),
                (enroll, json!(1), true),
            ] {
                emulator
                    .insert_request(json!({"Uuid": id, "RequestType": kind, "Status": 3,
                        "IsSmartcard": smartcard,
                        "NewSmartcardUuid": "00000000-0000-0000-0000-000000000000"}))
                    .expect("inserted");
            }
            for (card, (id, words)) in [
                (software, "is not a smart card request"),
                (
                    retire,
                    "is a Retire request, which acts on an existing smart card",
                ),
                (revoke, "is a Revoke request"),
                (unknown, "unknown request type 42"),
            ]
            .into_iter()
            .enumerate()
            {
                let (status, body) = post_bind(&emulator, id, card as u8).await;
                assert_eq!(status, expected, "{answer:?} {id}");
                let text = body.to_string();
                assert!(text.contains(words), "{answer:?}: {text}");
                assert_eq!(
                    text.contains("Correlation ID"),
                    answer == WrongRequestAnswer::ServerError,
                    "{text}"
                );
            }
            assert_eq!(emulator.bind_count(), 0, "{answer:?}: nothing committed");
            assert!(emulator.smartcards().is_empty());
            assert!(
                emulator
                    .requests()
                    .iter()
                    .all(|r| r.new_smartcard.is_none())
            );
            let (status, _) = post_bind(&emulator, enroll, 9).await;
            assert_eq!(status, StatusCode::CREATED, "an Enroll request still binds");
            assert_eq!(emulator.bind_count(), 1);
        }
        assert_eq!(
            EmulatorConfig::default().wrong_request,
            WrongRequestAnswer::ServerError
        );
    }

    #[test]
    fn set_key_replaces_other_casings() {
        let mut object = Map::new();
        object.insert("newsmartcarduuid".into(), Value::Null);
        set_key(&mut object, "NewSmartcardUuid", json!("x"));
        assert_eq!(object.len(), 1);
        assert_eq!(object["NewSmartcardUuid"], "x");
    }

    #[tokio::test]
    async fn a_request_with_keys_in_another_case_is_found_filtered_and_bound() {
        let emulator = Emulator::start(EmulatorConfig {
            requests: 0,
            ..EmulatorConfig::default()
        })
        .await
        .expect("starts");
        let id = "5f0e0c1a-0000-4000-8000-00000000000a";
        let inserted = emulator
            .insert_request(
                json!({"uuid": id, "requestType": "enroll", "STATUS": "approved",
                "isSmartcard": true}),
            )
            .expect("a lower-case uuid is a Uuid");
        assert_eq!(inserted.to_string(), id);
        let stored = &emulator.requests()[0];
        assert!(stored.is_bindable(), "{stored:?}");
        let state = Arc::clone(&emulator.state);
        let approved = list_requests(&state, &[("status".into(), "Approved".into())]).await;
        assert_eq!(
            approved.status(),
            StatusCode::OK,
            "the status filter reads STATUS"
        );
        let (status, _) = post_bind(&emulator, id, 1).await;
        assert_eq!(status, StatusCode::CREATED);
        assert!(emulator.requests()[0].new_smartcard.is_some());
    }
}
