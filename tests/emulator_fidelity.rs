//! The emulator answers as the CM REST reference allows, not as the client
//! expects (issue 15, point 7): raw HTTP against the emulator on loopback,
//! each switch both ways.

mod common;

use std::time::Duration;

use common::binary::StationHome;

use enroll_station::cm::emulator::{
    DEFAULT_CALLER, Emulator, EmulatorConfig, KnownCardAnswer, PutAnswer, UnknownObjectAnswer,
    WrongRequestAnswer,
};
use enroll_station::domain::card::CardId;
use enroll_station::domain::request::SmartcardStatus;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

const NIL: &str = "00000000-0000-0000-0000-000000000000";
const ATR: &str = "3b8d0180fba000000397425446590301c8";

/// Starts the emulator with no demo requests.
fn start(config: EmulatorConfig) -> Emulator {
    Emulator::start_on_thread(EmulatorConfig {
        requests: 0,
        ..config
    })
    .expect("the emulator starts on loopback")
}

fn default_emulator() -> Emulator {
    start(EmulatorConfig::default())
}

fn card(n: u8) -> CardId {
    CardId::from_raw([n, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, n])
}

/// One answer: its status, its body as text, and the body as JSON if it is.
struct Answer {
    status: StatusCode,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.text))
    }

    fn message(&self) -> String {
        self.json()["Message"]
            .as_str()
            .unwrap_or_else(|| panic!("no Message: {}", self.text))
            .to_owned()
    }
}

/// Calls `path` (relative to the API base) on the emulator.
async fn call(emulator: &Emulator, method: Method, path: &str, body: Option<Value>) -> Answer {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("an HTTP client");
    let mut request = http.request(method, format!("{}{path}", emulator.api_url()));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let answer = request.send().await.expect("an answer");
    let status = answer.status();
    let text = answer.text().await.expect("a body");
    Answer { status, text }
}

async fn get(emulator: &Emulator, path: &str) -> Answer {
    call(emulator, Method::GET, path, None).await
}

async fn put(emulator: &Emulator, path: &str, body: Value) -> Answer {
    call(emulator, Method::PUT, path, Some(body)).await
}

fn assert_no_content(answer: &Answer, what: &str) {
    assert_eq!(
        answer.status,
        StatusCode::NO_CONTENT,
        "{what}: {}",
        answer.text
    );
    assert!(answer.text.is_empty(), "{what}: a 204 has no body");
}

/// Inserts a smart card request of type Enroll in this status; its Uuid.
fn insert_request(emulator: &Emulator, status: Value, new_card: Uuid, old_card: Uuid) -> Uuid {
    let id = Uuid::new_v4();
    emulator
        .insert_request(json!({
            "Uuid": id.to_string(),
            "RequestType": 1,
            "Status": status,
            "IsSmartcard": true,
            "Completed": "0001-01-01T00:00:00",
            "NewSmartcardUuid": new_card.to_string(),
            "OldSmartcardUuid": old_card.to_string(),
        }))
        .expect("inserted")
}

fn insert_card(emulator: &Emulator, n: u8, status: SmartcardStatus, user: Uuid) -> Uuid {
    emulator.insert_smartcard(&card(n), status, user, Uuid::from_u128(0x7e))
}

fn uuid_of(value: &Value) -> Uuid {
    value["Uuid"]
        .as_str()
        .and_then(|s| Uuid::parse_str(s).ok())
        .unwrap_or_else(|| panic!("no Uuid: {value}"))
}

// ---------------------------------------------------------------------------
// Unknown objects
// ---------------------------------------------------------------------------

/// Every single-object call, for an unknown GUID (and, for the card status,
/// a known request with an unknown card): a label, the object a 404 names,
/// and the answer.
async fn unknown_object_answers(emulator: &Emulator) -> Vec<(String, &'static str, Answer)> {
    let known_request = insert_request(emulator, json!(3), Uuid::nil(), Uuid::nil());
    let unknown = Uuid::new_v4();
    let retired = Some(json!({"status": "Retired"}));
    let mut answers = Vec::new();
    for (method, path, body, what) in [
        (Method::GET, format!("requests/{unknown}"), None, "request"),
        (
            Method::GET,
            format!("smartcards/{unknown}"),
            None,
            "smart card",
        ),
        (
            Method::GET,
            format!("smartcards/{unknown}/operations"),
            None,
            "smart card",
        ),
        (
            Method::GET,
            format!("smartcards/{unknown}/certificates"),
            None,
            "smart card",
        ),
        (
            Method::PUT,
            format!("requests/{unknown}"),
            Some(json!({"status": "Canceled"})),
            "request",
        ),
        (
            Method::PUT,
            format!("requests/{unknown}/smartcards/{}", Uuid::new_v4()),
            retired.clone(),
            "request",
        ),
        (
            Method::PUT,
            format!("requests/{known_request}/smartcards/{unknown}"),
            retired,
            "smart card",
        ),
    ] {
        let label = format!("{method} {path}");
        answers.push((label, what, call(emulator, method, &path, body).await));
    }
    answers
}

#[tokio::test]
async fn an_unknown_object_is_204_by_default() {
    assert_eq!(
        EmulatorConfig::default().unknown_object,
        UnknownObjectAnswer::NoContent
    );
    let emulator = default_emulator();
    let answers = unknown_object_answers(&emulator).await;
    assert_eq!(answers.len(), 7);
    for (label, _, answer) in &answers {
        assert_no_content(answer, label);
    }
    // A known object is still served.
    let known = insert_request(&emulator, json!(3), Uuid::nil(), Uuid::nil());
    let answer = get(&emulator, &format!("requests/{known}")).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(uuid_of(&answer.json()), known);
    let card = insert_card(&emulator, 1, SmartcardStatus::ACTIVE, DEFAULT_CALLER);
    let answer = get(&emulator, &format!("smartcards/{card}")).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(uuid_of(&answer.json()), card);
}

#[tokio::test]
async fn an_unknown_object_is_404_with_a_message_on_the_switch() {
    let emulator = start(EmulatorConfig {
        unknown_object: UnknownObjectAnswer::NotFound,
        ..EmulatorConfig::default()
    });
    for (label, what, answer) in unknown_object_answers(&emulator).await {
        assert_eq!(
            answer.status,
            StatusCode::NOT_FOUND,
            "{label}: {}",
            answer.text
        );
        let message = answer.message();
        assert!(
            message.starts_with(&format!("The {what} ")) && message.ends_with(" was not found."),
            "{label}: {message}"
        );
    }
}

// ---------------------------------------------------------------------------
// GET smartcards: the caller's objects, and a card assigned more than once
// ---------------------------------------------------------------------------

#[tokio::test]
async fn smartcards_without_cardid_lists_only_the_callers_objects() {
    assert_eq!(EmulatorConfig::default().caller, DEFAULT_CALLER);
    let emulator = default_emulator();
    let other_user = Uuid::new_v4();
    let mine = [
        insert_card(&emulator, 1, SmartcardStatus::ACTIVE, DEFAULT_CALLER),
        insert_card(&emulator, 2, SmartcardStatus::RETIRED, DEFAULT_CALLER),
    ];
    let theirs = insert_card(&emulator, 3, SmartcardStatus::ACTIVE, other_user);

    let answer = get(&emulator, "smartcards").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let list = answer.json();
    let list = list.as_array().expect("a JSON array");
    let listed: Vec<Uuid> = list.iter().map(uuid_of).collect();
    assert_eq!(listed, mine);
    assert!(!listed.contains(&theirs));
    for object in list {
        assert_eq!(
            object["AssignedUserUuid"].as_str(),
            Some(DEFAULT_CALLER.to_string().as_str())
        );
    }

    // Another caller sees their own card, as a list even of one.
    let emulator_for_other = start(EmulatorConfig {
        caller: other_user,
        ..EmulatorConfig::default()
    });
    insert_card(&emulator_for_other, 3, SmartcardStatus::ACTIVE, other_user);
    insert_card(
        &emulator_for_other,
        4,
        SmartcardStatus::ACTIVE,
        DEFAULT_CALLER,
    );
    let answer = get(&emulator_for_other, "smartcards").await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json().as_array().map(Vec::len), Some(1));

    // A caller with no cards: 204.
    let nobody = Emulator::start_on_thread(EmulatorConfig {
        caller: Uuid::new_v4(),
        requests: 40,
        ..EmulatorConfig::default()
    })
    .expect("starts");
    assert!(!nobody.smartcards().is_empty(), "the demo has cards");
    assert_no_content(&get(&nobody, "smartcards").await, "no cards of the caller");
}

/// An emulator with card 1 assigned twice (Retired, then Assigned) and card 2
/// once; the second object of card 1.
fn reassigned_card(answer: KnownCardAnswer) -> (Emulator, Uuid) {
    let emulator = start(EmulatorConfig {
        known_card_answer: answer,
        ..EmulatorConfig::default()
    });
    insert_card(&emulator, 1, SmartcardStatus::RETIRED, Uuid::new_v4());
    let latest = insert_card(&emulator, 1, SmartcardStatus::ASSIGNED, Uuid::new_v4());
    insert_card(&emulator, 2, SmartcardStatus::ACTIVE, Uuid::new_v4());
    (emulator, latest)
}

async fn by_card_id(emulator: &Emulator, n: u8) -> Answer {
    get(
        emulator,
        &format!("smartcards?cardid={}", card(n).to_cm_string()),
    )
    .await
}

#[tokio::test]
async fn a_known_card_is_an_object_or_a_list_by_default() {
    assert_eq!(
        EmulatorConfig::default().known_card_answer,
        KnownCardAnswer::ObjectOrList
    );
    let (emulator, _) = reassigned_card(KnownCardAnswer::ObjectOrList);
    let twice = by_card_id(&emulator, 1).await;
    assert_eq!(twice.status, StatusCode::OK);
    assert_eq!(
        twice.json().as_array().map(Vec::len),
        Some(2),
        "{}",
        twice.text
    );
    let once = by_card_id(&emulator, 2).await.json();
    assert!(once.is_object(), "{once}");
    assert_eq!(
        once["SerialNumber"].as_str(),
        Some(format!("{{{}}}", card(2).to_cm_string()).as_str())
    );
    assert_no_content(&by_card_id(&emulator, 9).await, "an unknown card");
}

#[tokio::test]
async fn a_known_card_can_always_be_a_list() {
    let (emulator, _) = reassigned_card(KnownCardAnswer::List);
    assert_eq!(
        by_card_id(&emulator, 1)
            .await
            .json()
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    let once = by_card_id(&emulator, 2).await.json();
    assert_eq!(once.as_array().map(Vec::len), Some(1), "{once}");
    assert_no_content(&by_card_id(&emulator, 9).await, "an unknown card");
}

#[tokio::test]
async fn a_known_card_can_always_be_its_latest_object() {
    let (emulator, latest) = reassigned_card(KnownCardAnswer::Latest);
    let twice = by_card_id(&emulator, 1).await.json();
    assert!(twice.is_object(), "{twice}");
    assert_eq!(uuid_of(&twice), latest);
    assert_eq!(twice["Status"], 1);
    assert!(by_card_id(&emulator, 2).await.json().is_object());
    assert_no_content(&by_card_id(&emulator, 9).await, "an unknown card");
}

// ---------------------------------------------------------------------------
// Operations and certificates
// ---------------------------------------------------------------------------

#[tokio::test]
async fn operations_follow_the_status_unless_set() {
    let emulator = default_emulator();
    let user = Uuid::new_v4();
    let active = insert_card(&emulator, 1, SmartcardStatus::ACTIVE, user);
    let assigned = insert_card(&emulator, 2, SmartcardStatus::ASSIGNED, user);
    let new = insert_card(&emulator, 3, SmartcardStatus::NEW, user);
    let retired = insert_card(&emulator, 4, SmartcardStatus::RETIRED, user);
    let disabled = insert_card(&emulator, 5, SmartcardStatus(3), user);
    let odd = insert_card(&emulator, 6, SmartcardStatus(42), user);
    let operations = |uuid: Uuid| format!("smartcards/{uuid}/operations");

    let answer = get(&emulator, &operations(active)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json(), json!(["renew", "unblock", "retire"]));
    for uuid in [assigned, new] {
        assert_eq!(
            get(&emulator, &operations(uuid)).await.json(),
            json!(["retire"])
        );
    }
    for uuid in [retired, disabled, odd] {
        assert_no_content(&get(&emulator, &operations(uuid)).await, "no operations");
    }

    // Set ones are served as set, even on a retired card.
    emulator.set_card_operations(retired, vec!["recover".into(), "Revoke".into()]);
    assert_eq!(
        get(&emulator, &operations(retired)).await.json(),
        json!(["recover", "Revoke"])
    );
    emulator.set_card_operations(active, Vec::new());
    assert_no_content(&get(&emulator, &operations(active)).await, "set to none");
}

#[tokio::test]
async fn certificates_follow_the_status_unless_set() {
    let emulator = default_emulator();
    let user = Uuid::new_v4();
    let active = insert_card(&emulator, 1, SmartcardStatus::ACTIVE, user);
    let assigned = insert_card(&emulator, 2, SmartcardStatus::ASSIGNED, user);
    let certificates = |uuid: Uuid| format!("smartcards/{uuid}/certificates");

    let answer = get(&emulator, &certificates(active)).await;
    assert_eq!(answer.status, StatusCode::OK);
    let list = answer.json();
    let list = list.as_array().expect("a list").clone();
    assert_eq!(list.len(), 2);
    let hex = |s: &str| s.chars().all(|c| c.is_ascii_hexdigit());
    for certificate in &list {
        let object = certificate.as_object().expect("an object");
        let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "ArchivedOnCa",
                "CertificateType",
                "IsKeyHistory",
                "SerialNumber",
                "TemplateCommonName",
                "Thumbprint"
            ]
        );
        assert!(object["ArchivedOnCa"].is_boolean());
        assert!(object["IsKeyHistory"].is_boolean());
        assert!(object["CertificateType"].is_string());
        assert!(object["TemplateCommonName"].is_string());
        let serial = object["SerialNumber"].as_str().expect("a string");
        assert!(!serial.is_empty() && hex(serial), "{serial}");
        let thumbprint = object["Thumbprint"].as_str().expect("a string");
        assert!(thumbprint.len() == 40 && hex(thumbprint), "{thumbprint}");
    }
    assert_ne!(list[0]["Thumbprint"], list[1]["Thumbprint"]);
    // The same object lists the same certificates each time.
    assert_eq!(
        get(&emulator, &certificates(active)).await.json(),
        json!(list)
    );

    assert_no_content(&get(&emulator, &certificates(assigned)).await, "not active");
    emulator.set_card_certificates(assigned, 3);
    assert_eq!(
        get(&emulator, &certificates(assigned))
            .await
            .json()
            .as_array()
            .map(Vec::len),
        Some(3)
    );
    emulator.set_card_certificates(active, 0);
    assert_no_content(&get(&emulator, &certificates(active)).await, "set to none");
}

// ---------------------------------------------------------------------------
// PUT requests/{id}
// ---------------------------------------------------------------------------

const PENDING: i64 = 16;
const APPROVED: i64 = 3;
const EXECUTING: i64 = 18;
const COMPLETED: i64 = 8;
const FAILED: i64 = 9;
const CANCELED: i64 = 17;
const DENIED: i64 = 4;

/// (from, mark as sent, the Status after it, or None when refused)
fn transitions() -> Vec<(i64, Value, Option<i64>)> {
    let mut all = Vec::new();
    for from in [
        PENDING, APPROVED, EXECUTING, COMPLETED, FAILED, CANCELED, DENIED,
    ] {
        let canceled = matches!(from, PENDING | APPROVED).then_some(CANCELED);
        let abandoned = matches!(from, APPROVED | EXECUTING).then_some(FAILED);
        let completed = (from == EXECUTING).then_some(COMPLETED);
        all.push((from, json!("Canceled"), canceled));
        all.push((from, json!("Abandoned"), abandoned));
        all.push((from, json!("Completed"), completed));
    }
    all
}

async fn request_status(emulator: &Emulator, id: Uuid) -> Value {
    get(emulator, &format!("requests/{id}")).await.json()["Status"].clone()
}

#[tokio::test]
async fn put_request_marks_only_from_the_statuses_that_allow_it() {
    assert_eq!(EmulatorConfig::default().put_answer, PutAnswer::Object);
    let emulator = default_emulator();
    for (from, mark, after) in transitions() {
        let id = insert_request(&emulator, json!(from), Uuid::nil(), Uuid::nil());
        let answer = put(
            &emulator,
            &format!("requests/{id}"),
            json!({"status": mark}),
        )
        .await;
        let label = format!("{from} -> {mark}");
        match after {
            Some(after) => {
                assert_eq!(answer.status, StatusCode::OK, "{label}: {}", answer.text);
                let body = answer.json();
                assert_eq!(uuid_of(&body), id, "{label}");
                assert_eq!(body["Status"], after, "{label}");
                assert_eq!(request_status(&emulator, id).await, after, "{label}");
                let completed = body["Completed"].as_str().unwrap_or_default().to_owned();
                assert_eq!(
                    completed != "0001-01-01T00:00:00",
                    after == COMPLETED,
                    "{label}: Completed {completed}"
                );
            }
            None => {
                assert_eq!(
                    answer.status,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "{label}: {}",
                    answer.text
                );
                let message = answer.message();
                assert!(message.contains("only while it is"), "{label}: {message}");
                assert!(message.contains("Correlation ID"), "{label}: {message}");
                assert_eq!(
                    request_status(&emulator, id).await,
                    from,
                    "{label}: unchanged"
                );
            }
        }
    }
}

#[tokio::test]
async fn put_request_reads_names_in_any_case_and_numbers() {
    let emulator = default_emulator();
    for (from, body, after) in [
        (PENDING, json!({"status": "canceled"}), CANCELED),
        (APPROVED, json!({"Status": 17}), CANCELED),
        (EXECUTING, json!({"STATUS": "8"}), COMPLETED),
        (EXECUTING, json!({"status": " ABANDONED "}), FAILED),
        (APPROVED, json!({"status": "Abandoned"}), FAILED),
        (EXECUTING, json!({"status": 8}), COMPLETED),
    ] {
        let id = insert_request(&emulator, json!(from), Uuid::nil(), Uuid::nil());
        let answer = put(&emulator, &format!("requests/{id}"), body.clone()).await;
        assert_eq!(answer.status, StatusCode::OK, "{body}: {}", answer.text);
        assert_eq!(answer.json()["Status"], after, "{body}");
    }
    // A stored status given by name is read too.
    let id = insert_request(&emulator, json!("Executing"), Uuid::nil(), Uuid::nil());
    let answer = put(
        &emulator,
        &format!("requests/{id}"),
        json!({"status": "Completed"}),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);

    // Only the three marks, by their reference spelling, are accepted.
    for body in [
        json!({"status": "Approved"}),
        json!({"status": "Cancelled"}),
        json!({"status": "Failed"}),
        json!({"status": 9}),
        json!({"status": true}),
        json!({"state": "Canceled"}),
        json!(["Canceled"]),
    ] {
        let id = insert_request(&emulator, json!(APPROVED), Uuid::nil(), Uuid::nil());
        let answer = put(&emulator, &format!("requests/{id}"), body.clone()).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            answer.text
        );
        assert_eq!(request_status(&emulator, id).await, APPROVED, "{body}");
    }
}

#[tokio::test]
async fn put_request_refusals_follow_the_wrong_request_switch() {
    let emulator = start(EmulatorConfig {
        wrong_request: WrongRequestAnswer::Conflict,
        ..EmulatorConfig::default()
    });
    let id = insert_request(&emulator, json!(COMPLETED), Uuid::nil(), Uuid::nil());
    let answer = put(
        &emulator,
        &format!("requests/{id}"),
        json!({"status": "Canceled"}),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CONFLICT, "{}", answer.text);
    let message = answer.message();
    assert!(
        message.contains("is Completed") && message.contains("Pending or Approved"),
        "{message}"
    );
}

#[tokio::test]
async fn put_request_can_answer_204() {
    let emulator = start(EmulatorConfig {
        put_answer: PutAnswer::NoContent,
        ..EmulatorConfig::default()
    });
    let id = insert_request(&emulator, json!(APPROVED), Uuid::nil(), Uuid::nil());
    let answer = put(
        &emulator,
        &format!("requests/{id}"),
        json!({"status": "Canceled"}),
    )
    .await;
    assert_no_content(&answer, "PUT requests/{id}");
    assert_eq!(request_status(&emulator, id).await, CANCELED);
    // A refusal is still a refusal.
    let answer = put(
        &emulator,
        &format!("requests/{id}"),
        json!({"status": "Canceled"}),
    )
    .await;
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
}

// ---------------------------------------------------------------------------
// PUT requests/{r}/smartcards/{s}
// ---------------------------------------------------------------------------

/// A request naming one card as new and one as old, and a card of no request.
struct CardSetup {
    emulator: Emulator,
    request: Uuid,
    new_card: Uuid,
    old_card: Uuid,
    stranger: Uuid,
}

fn card_setup(config: EmulatorConfig) -> CardSetup {
    let emulator = start(config);
    let user = Uuid::new_v4();
    let new_card = insert_card(&emulator, 1, SmartcardStatus::ACTIVE, user);
    let old_card = insert_card(&emulator, 2, SmartcardStatus::ACTIVE, user);
    let stranger = insert_card(&emulator, 3, SmartcardStatus::ACTIVE, user);
    let request = insert_request(&emulator, json!(EXECUTING), new_card, old_card);
    CardSetup {
        emulator,
        request,
        new_card,
        old_card,
        stranger,
    }
}

async fn card_status(emulator: &Emulator, card: Uuid) -> Value {
    get(emulator, &format!("smartcards/{card}")).await.json()["Status"].clone()
}

#[tokio::test]
async fn put_card_status_sets_a_status_of_the_requests_card() {
    let s = card_setup(EmulatorConfig::default());
    let path = |card: Uuid| format!("requests/{}/smartcards/{card}", s.request);

    let answer = put(&s.emulator, &path(s.new_card), json!({"status": "Retired"})).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let body = answer.json();
    assert_eq!(uuid_of(&body), s.new_card);
    assert_eq!(body["Status"], 6);
    assert_eq!(card_status(&s.emulator, s.new_card).await, 6);

    for (status, number) in [
        (json!("disabled"), 3),
        (json!(2), 2),
        (json!("6"), 6),
        (json!("ACTIVE"), 2),
    ] {
        let answer = put(&s.emulator, &path(s.old_card), json!({"Status": status})).await;
        assert_eq!(answer.status, StatusCode::OK, "{status}: {}", answer.text);
        assert_eq!(
            card_status(&s.emulator, s.old_card).await,
            number,
            "{status}"
        );
    }

    // Not the request's card: refused as a wrong request, nothing changes.
    let answer = put(&s.emulator, &path(s.stranger), json!({"status": "Retired"})).await;
    assert_eq!(
        answer.status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{}",
        answer.text
    );
    assert!(answer.message().contains("does not belong to the request"));
    assert_eq!(card_status(&s.emulator, s.stranger).await, 2);

    // No known number, or no status at all: 400.
    for body in [
        json!({"status": "Suspended"}),
        json!({"status": "Gone"}),
        json!({}),
    ] {
        let answer = put(&s.emulator, &path(s.new_card), body.clone()).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            answer.text
        );
    }
    assert_eq!(card_status(&s.emulator, s.new_card).await, 6);
}

#[tokio::test]
async fn put_card_status_knows_the_cards_the_emulator_bound() {
    let emulator = default_emulator();
    let request = insert_request(&emulator, json!(APPROVED), Uuid::nil(), Uuid::nil());
    let bind = call(
        &emulator,
        Method::POST,
        "smartcards",
        Some(
            json!({"requestid": request.to_string(), "cardid": card(7).to_cm_string(), "atr": ATR}),
        ),
    )
    .await;
    assert_eq!(bind.status, StatusCode::CREATED, "{}", bind.text);
    let bound = emulator.smartcards()[0].uuid;
    // The request no longer names the card: the bind still ties them.
    insert_request_again(&emulator, request);
    let answer = put(
        &emulator,
        &format!("requests/{request}/smartcards/{bound}"),
        json!({"status": "Retired"}),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(card_status(&emulator, bound).await, 6);
    // Another request is refused.
    let other = insert_request(&emulator, json!(APPROVED), Uuid::nil(), Uuid::nil());
    let answer = put(
        &emulator,
        &format!("requests/{other}/smartcards/{bound}"),
        json!({"status": "Disabled"}),
    )
    .await;
    assert_eq!(
        answer.status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{}",
        answer.text
    );
}

fn insert_request_again(emulator: &Emulator, id: Uuid) {
    emulator
        .insert_request(json!({
            "Uuid": id.to_string(), "RequestType": 1, "Status": 18, "IsSmartcard": true,
            "NewSmartcardUuid": NIL, "OldSmartcardUuid": NIL,
        }))
        .expect("replaced");
}

#[tokio::test]
async fn put_card_status_can_answer_204() {
    let s = card_setup(EmulatorConfig {
        put_answer: PutAnswer::NoContent,
        ..EmulatorConfig::default()
    });
    let answer = put(
        &s.emulator,
        &format!("requests/{}/smartcards/{}", s.request, s.new_card),
        json!({"status": "Retired"}),
    )
    .await;
    assert_no_content(&answer, "PUT card status");
    assert_eq!(card_status(&s.emulator, s.new_card).await, 6);
}

#[tokio::test]
async fn the_get_form_of_the_card_status_update_is_a_switch() {
    assert!(!EmulatorConfig::default().card_status_get);
    let off = card_setup(EmulatorConfig::default());
    let answer = get(
        &off.emulator,
        &format!(
            "requests/{}/smartcards/{}?status=Retired",
            off.request, off.new_card
        ),
    )
    .await;
    assert_eq!(
        answer.status,
        StatusCode::METHOD_NOT_ALLOWED,
        "{}",
        answer.text
    );
    assert_eq!(card_status(&off.emulator, off.new_card).await, 2);

    let on = card_setup(EmulatorConfig {
        card_status_get: true,
        ..EmulatorConfig::default()
    });
    let path =
        |card: Uuid, query: &str| format!("requests/{}/smartcards/{card}{query}", on.request);
    let answer = get(&on.emulator, &path(on.new_card, "?status=Retired")).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.json()["Status"], 6);
    assert_eq!(card_status(&on.emulator, on.new_card).await, 6);
    let answer = get(&on.emulator, &path(on.old_card, "?Status=3")).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(card_status(&on.emulator, on.old_card).await, 3);
    let answer = get(&on.emulator, &path(on.old_card, "")).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text);
    let answer = get(&on.emulator, &path(on.stranger, "?status=Retired")).await;
    assert_eq!(
        answer.status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{}",
        answer.text
    );
    // The PUT still works with the switch on.
    let answer = put(
        &on.emulator,
        &path(on.old_card, ""),
        json!({"status": "Retired"}),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
}

#[tokio::test]
async fn other_methods_are_405() {
    let s = card_setup(EmulatorConfig::default());
    let (r, c) = (s.request, s.new_card);
    for (method, path) in [
        (Method::DELETE, format!("requests/{r}")),
        (Method::POST, format!("requests/{r}")),
        (Method::PUT, "requests".to_owned()),
        (Method::PUT, format!("smartcards/{c}")),
        (Method::POST, format!("requests/{r}/smartcards/{c}")),
        (Method::DELETE, format!("requests/{r}/smartcards/{c}")),
        (Method::POST, format!("smartcards/{c}/operations")),
        (Method::PUT, format!("smartcards/{c}/certificates")),
    ] {
        let answer = call(&s.emulator, method.clone(), &path, Some(json!({}))).await;
        assert_eq!(
            answer.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}: {}",
            answer.text
        );
    }
    // Nothing changed on the way.
    assert_eq!(request_status(&s.emulator, r).await, EXECUTING);
    assert_eq!(card_status(&s.emulator, c).await, 2);
}

// ---------------------------------------------------------------------------
// The command line
// ---------------------------------------------------------------------------

/// Starts `enroll-station emulator --listen 127.0.0.1:0 --requests 0 ARGS`
/// in `home`; the child and its base URL.
async fn run_emulator(home: &StationHome, args: &[&str]) -> (tokio::process::Child, String) {
    use tokio::io::AsyncBufReadExt as _;
    let mut child = tokio::process::Command::from(home.command())
        .args(["emulator", "--listen", "127.0.0.1:0", "--requests", "0"])
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the binary starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let url = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.expect("stdout") {
            if let Some(url) = line.strip_prefix("listening on ") {
                return url.trim().to_owned();
            }
        }
        panic!("the emulator ended without listening");
    })
    .await
    .expect("the emulator listens within 30 s");
    (child, url)
}

async fn raw(method: Method, url: &str, body: Option<Value>) -> Answer {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("an HTTP client");
    let mut request = http.request(method, url);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let answer = request.send().await.expect("an answer");
    let status = answer.status();
    Answer {
        status,
        text: answer.text().await.expect("a body"),
    }
}

#[tokio::test]
async fn the_emulator_command_takes_the_switches() {
    let api = "/CertificateManagement/api/v1.0/";
    let unknown = Uuid::new_v4();

    let home = StationHome::new();
    let (mut child, url) = run_emulator(&home, &[]).await;
    let answer = raw(Method::GET, &format!("{url}{api}requests/{unknown}"), None).await;
    assert_no_content(&answer, "the default");
    let answer = raw(
        Method::GET,
        &format!("{url}{api}requests/{unknown}/smartcards/{unknown}?status=Retired"),
        None,
    )
    .await;
    assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED);
    child.kill().await.expect("stopped");

    let (mut child, url) = run_emulator(
        &home,
        &[
            "--unknown-object",
            "not-found",
            "--card-status-get",
            "--put-answer",
            "no-content",
            "--known-card-answer",
            "list",
            "--wrong-request",
            "forbidden",
            "--allow-smartcard-reuse",
        ],
    )
    .await;
    let answer = raw(Method::GET, &format!("{url}{api}requests/{unknown}"), None).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND, "{}", answer.text);
    let answer = raw(
        Method::GET,
        &format!("{url}{api}requests/{unknown}/smartcards/{unknown}?status=Retired"),
        None,
    )
    .await;
    assert_eq!(
        answer.status,
        StatusCode::NOT_FOUND,
        "the GET form is served: {}",
        answer.text
    );
    child.kill().await.expect("stopped");

    let refused = tokio::process::Command::from(home.command())
        .args([
            "emulator",
            "--listen",
            "127.0.0.1:0",
            "--unknown-object",
            "gone",
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .expect("the binary runs");
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("no-content") && stderr.contains("not-found"),
        "{stderr}"
    );
}
