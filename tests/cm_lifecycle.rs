//! The lifecycle calls (issue 21's CM layer) against the emulator over real
//! HTTP on loopback: undo a request, create requests on cards and for
//! people, a card's operations, workflow policies in every shape the
//! emulator can write, and the offline unblock's challenge response; each
//! emulator switch both ways.

use enroll_station::cm::demo_data::TEMPLATES;
use enroll_station::cm::emulator::lifecycle::{
    DataCollectionForm, DiversifiedParameter, EmulatedPolicy, LifecycleRules, PolicyRoute,
    PolicyShape, Transitions,
};
use enroll_station::cm::emulator::{
    Emulator, EmulatorConfig, PutAnswer, UnknownObjectAnswer, WrongRequestAnswer,
};
use enroll_station::cm::{ClientConfig, CmClient, CmError};
use enroll_station::domain::card::{Atr, CardId};
use enroll_station::domain::card_record::CardOperation;
use enroll_station::domain::lifecycle::{NewRequest, StatusChange, Validation};
use enroll_station::domain::request::{
    DataItem, RequestStatus, RequestType, SmartcardStatus, Text,
};
use enroll_station::domain::smartcard::Smartcard;
use enroll_station::domain::unblock::Challenge;
use serde_json::json;
use uuid::Uuid;

const USER: Uuid = Uuid::from_u128(0x7a7a_0000_4000_8000_0000_0000_0000_0001);

async fn emulator_with(config: EmulatorConfig) -> Emulator {
    Emulator::start(EmulatorConfig {
        requests: 4,
        ..config
    })
    .await
    .expect("emulator starts on loopback")
}

async fn emulator() -> Emulator {
    emulator_with(EmulatorConfig::default()).await
}

fn client(emulator: &Emulator) -> CmClient {
    CmClient::new(&ClientConfig::new(emulator.base_url())).expect("client for loopback")
}

fn template(n: usize) -> Uuid {
    TEMPLATES[n].uuid
}

fn card_id(n: u8) -> CardId {
    CardId::from_raw([n, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, n])
}

fn data(pairs: &[(&str, &str)]) -> Vec<DataItem> {
    pairs
        .iter()
        .map(|(name, value)| DataItem {
            name: Text::from(*name),
            value: Some(Text::from(*value)),
        })
        .collect()
}

/// A request in `status` (a number, as CM sends it), bound to `card` if given.
fn insert_request(emulator: &Emulator, status: i64, card: Option<Uuid>) -> Uuid {
    let id = Uuid::new_v4();
    let nil = Uuid::nil().to_string();
    emulator
        .insert_request(json!({
            "Uuid": id.to_string(),
            "RequestType": 1,
            "Status": status,
            "DataCollection": [],
            "Submitted": "2026-11-20T09:14:33.12Z",
            "Completed": "0001-01-01T00:00:00",
            "NewSmartcardUuid": card.map_or(nil, |c| c.to_string()),
            "ProfileTemplateUuid": template(0).to_string(),
            "TargetUserUuid": USER.to_string(),
            "IsSmartcard": true,
            "IsEnrollmentAgent": true,
        }))
        .expect("inserted request has a Uuid")
}

/// A smart card object for `card` as the station reads it.
async fn card_object(
    emulator: &Emulator,
    client: &CmClient,
    card: &CardId,
    status: SmartcardStatus,
) -> Smartcard {
    let uuid = emulator.insert_smartcard(card, status, USER, template(0));
    client.smartcard(uuid).await.expect("the object just made")
}

// ---------------------------------------------------------------------------
// Abandon, cancel
// ---------------------------------------------------------------------------

#[tokio::test]
async fn abandon_and_cancel_are_accepted_from_open_statuses() {
    let emulator = emulator().await;
    let client = client(&emulator);
    let approved = insert_request(&emulator, 3, Some(Uuid::new_v4()));
    let abandoned = client
        .set_request_status(approved, StatusChange::Abandon)
        .await
        .expect("an approved request can be abandoned")
        .expect("the reference's answer is the request");
    assert_eq!(abandoned.uuid, approved);
    assert_eq!(abandoned.status, StatusChange::Abandon.resulting_status());
    assert_eq!(abandoned.status, RequestStatus::FAILED);

    let pending = insert_request(&emulator, 16, None);
    let canceled = client
        .set_request_status(pending, StatusChange::Cancel)
        .await
        .expect("a pending request can be canceled")
        .expect("the request");
    assert_eq!(canceled.status, RequestStatus::CANCELED);
}

#[tokio::test]
async fn a_204_answer_to_a_status_change_is_a_success_without_the_request() {
    let emulator = emulator_with(EmulatorConfig {
        put_answer: PutAnswer::NoContent,
        ..EmulatorConfig::default()
    })
    .await;
    let client = client(&emulator);
    let approved = insert_request(&emulator, 3, None);
    let answer = client
        .set_request_status(approved, StatusChange::Abandon)
        .await
        .expect("204 is a documented success");
    assert_eq!(answer, None);
    let read = client.get_request(approved).await.expect("read again");
    assert_eq!(read.status, RequestStatus::FAILED);
}

#[tokio::test]
async fn a_refused_status_change_brings_the_servers_message_and_correlation_id() {
    let emulator = emulator().await;
    let client = client(&emulator);
    let completed = insert_request(&emulator, 8, None);
    let error = client
        .set_request_status(completed, StatusChange::Abandon)
        .await
        .expect_err("a completed request cannot be abandoned");
    let CmError::Server {
        status,
        message,
        correlation_id,
    } = &error
    else {
        panic!("expected the server's 500, got {error:?}");
    };
    assert_eq!(*status, 500);
    assert!(
        message.contains("can be marked Abandoned only while"),
        "{message}"
    );
    let correlation_id = correlation_id.as_deref().expect("a correlation ID");
    // The request's own GUID, which the message also names, is not taken for it.
    assert_ne!(correlation_id, completed.to_string());
    assert!(message.contains(correlation_id), "{message}");
    assert!(error.to_string().contains(correlation_id), "{error}");
    // Nothing changed.
    let read = client.get_request(completed).await.expect("read");
    assert_eq!(read.status, RequestStatus::COMPLETED);
}

#[tokio::test]
async fn a_refusal_in_another_status_code_is_typed_too() {
    let emulator = emulator_with(EmulatorConfig {
        wrong_request: WrongRequestAnswer::Conflict,
        ..EmulatorConfig::default()
    })
    .await;
    let client = client(&emulator);
    let canceled = insert_request(&emulator, 17, None);
    let error = client
        .set_request_status(canceled, StatusChange::Cancel)
        .await
        .expect_err("canceled is final");
    match &error {
        CmError::Rejected {
            status: 409,
            message: Some(message),
            ..
        } => assert!(message.contains("is Canceled"), "{message}"),
        other => panic!("expected a 409 with the message, got {other:?}"),
    }
}

#[tokio::test]
async fn transitions_switch_cancel_only_pending_both_ways() {
    let emulator = emulator().await;
    let client = client(&emulator);
    // Default: an approved request may still be canceled.
    let first = insert_request(&emulator, 3, None);
    assert!(
        client
            .set_request_status(first, StatusChange::Cancel)
            .await
            .is_ok()
    );

    emulator.set_lifecycle_rules(LifecycleRules {
        transitions: Transitions::CancelOnlyPending,
        ..LifecycleRules::default()
    });
    let second = insert_request(&emulator, 3, None);
    let error = client
        .set_request_status(second, StatusChange::Cancel)
        .await
        .expect_err("only a pending request is canceled under this rule");
    assert!(error.correlation_id().is_some(), "{error:?}");
    assert!(
        error.to_string().contains("only while it is Pending"),
        "{error}"
    );
    // The SDK's way out for an approved request: abandon it.
    assert!(
        client
            .set_request_status(second, StatusChange::Abandon)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn transitions_switch_any_open_both_ways() {
    let emulator = emulator().await;
    let client = client(&emulator);
    let pending = insert_request(&emulator, 16, None);
    assert!(
        client
            .set_request_status(pending, StatusChange::Abandon)
            .await
            .is_err(),
        "by default a pending request is not abandoned"
    );
    emulator.set_lifecycle_rules(LifecycleRules {
        transitions: Transitions::AnyOpen,
        ..LifecycleRules::default()
    });
    let abandoned = client
        .set_request_status(pending, StatusChange::Abandon)
        .await
        .expect("any open request under this rule")
        .expect("the request");
    assert_eq!(abandoned.status, RequestStatus::FAILED);
}

#[tokio::test]
async fn a_status_change_for_an_unknown_request_is_not_found() {
    let emulator = emulator_with(EmulatorConfig {
        unknown_object: UnknownObjectAnswer::NotFound,
        ..EmulatorConfig::default()
    })
    .await;
    let client = client(&emulator);
    let error = client
        .set_request_status(Uuid::new_v4(), StatusChange::Cancel)
        .await
        .expect_err("no such request");
    assert!(matches!(error, CmError::NotFound { .. }), "{error:?}");
}

// ---------------------------------------------------------------------------
// Requests on a card, for a person
// ---------------------------------------------------------------------------

#[tokio::test]
async fn retire_and_revoke_requests_are_created_for_the_card() {
    let emulator = emulator().await;
    let client = client(&emulator);
    let card = card_object(&emulator, &client, &card_id(1), SmartcardStatus::ACTIVE).await;
    let before = emulator.created_requests();

    let retire = NewRequest::retire(&card, data(&[("EmployeeID", "E1234")]), "returned")
        .expect("an active card can be retired");
    let id = client.create_request(&retire).await.expect("created");
    let read = client.get_request(id).await.expect("the new request");
    assert_eq!(read.request_type, RequestType::RETIRE);
    assert_eq!(read.status, RequestStatus::APPROVED);
    assert_eq!(read.target_user, Some(USER));
    assert_eq!(read.profile_template, Some(template(0)));
    assert_eq!(read.comment.as_deref(), Some("returned"));
    assert_eq!(read.collected(&["EmployeeID"]), Some("E1234"));
    assert!(!read.is_bindable(), "a retire request takes no card");

    let revoke = NewRequest::revoke(&card, Vec::new(), "lost").expect("revoke");
    let id = client.create_request(&revoke).await.expect("created");
    let read = client.get_request(id).await.expect("the new request");
    // Revoke has no known number: the emulator stores the name, and it reads back.
    assert_eq!(read.request_type, RequestType::REVOKE);
    assert_eq!(emulator.created_requests(), before + 2);
}

#[tokio::test]
async fn a_request_on_a_discontinued_card_is_refused_by_the_server_in_its_words() {
    let emulator = emulator().await;
    let client = client(&emulator);
    let mut card = card_object(&emulator, &client, &card_id(2), SmartcardStatus::RETIRED).await;
    // The station would not send it (the domain refuses); a stale record might.
    assert!(NewRequest::retire(&card, Vec::new(), "").is_err());
    card.status = SmartcardStatus::ACTIVE;
    let stale = NewRequest::retire(&card, Vec::new(), "").expect("looks active");
    let error = client.create_request(&stale).await.expect_err("refused");
    let message = match &error {
        CmError::Server { message, .. } => message.clone(),
        other => panic!("expected the server's refusal, got {other:?}"),
    };
    assert!(message.contains("is Retired"), "{message}");
    assert!(error.correlation_id().is_some(), "{error:?}");
}

#[tokio::test]
async fn a_temporary_card_request_can_take_a_card() {
    let emulator = emulator().await;
    let client = client(&emulator);
    let request = NewRequest::temporary_card(
        template(2),
        USER,
        data(&[("EmployeeID", "E0042"), ("Reason", "forgot the card")]),
        "walk-in",
    );
    let id = client.create_request(&request).await.expect("created");
    let read = client.get_request(id).await.expect("read");
    assert_eq!(read.request_type, RequestType::TEMPORARY_CARD_ENROLL);
    assert_eq!(read.target_user, Some(USER));
    assert!(read.is_bindable(), "{:?}", read.bindability());
    let atr = Atr::parse_hex("3b8d0180fba000000397425446590301c8").expect("hex");
    let receipt = client.bind(id, &card_id(3), &atr).await.expect("bound");
    assert!(receipt.smartcard_uuid.is_some());
}

#[tokio::test]
async fn created_on_behalf_and_pending_explained_by_the_policy() {
    let emulator = emulator().await;
    let client = client(&emulator);
    emulator.set_workflow_policy(
        template(0),
        "Duplicate",
        EmulatedPolicy {
            approvals_needed: 2,
            ..EmulatedPolicy::default()
        },
    );
    let enroll = NewRequest::on_behalf(
        RequestType::ENROLL,
        template(0),
        USER,
        data(&[("EmployeeID", "E1234")]),
        "new hire",
    )
    .expect("enroll on behalf");
    let id = client.create_request(&enroll).await.expect("created");
    let read = client.get_request(id).await.expect("read");
    assert_eq!(read.status, RequestStatus::APPROVED);
    assert_eq!(read.originator_user, Some(emulator_caller()));
    assert_eq!(read.target_user, Some(USER));

    let duplicate =
        NewRequest::on_behalf(RequestType::DUPLICATE, template(0), USER, Vec::new(), "")
            .expect("duplicate on behalf");
    let id = client.create_request(&duplicate).await.expect("created");
    let read = client.get_request(id).await.expect("read");
    assert_eq!(read.request_type, RequestType::DUPLICATE);
    assert_eq!(read.status, RequestStatus::PENDING);
    let policy = client
        .workflow_policy(template(0), RequestType::DUPLICATE)
        .await
        .expect("policy")
        .expect("a policy");
    let reasons = policy.pending_reasons();
    assert!(
        reasons.iter().any(|r| r.contains("2 approvals")),
        "{reasons:?}"
    );
    let missing = policy.missing_items(&[]);
    assert_eq!(missing.len(), 1);
    assert_eq!(missing[0].name, "EmployeeID");
}

fn emulator_caller() -> Uuid {
    EmulatorConfig::default().caller
}

#[tokio::test]
async fn datacollection_form_switch_both_ways() {
    let emulator = emulator().await;
    let client = client(&emulator);
    let request = NewRequest::temporary_card(template(2), USER, data(&[("EmployeeID", "E1")]), "");
    assert!(
        client.create_request(&request).await.is_ok(),
        "any form by default"
    );

    emulator.set_lifecycle_rules(LifecycleRules {
        data_collection: DataCollectionForm::JsonText,
        ..LifecycleRules::default()
    });
    let error = client
        .create_request(&request)
        .await
        .expect_err("this server reads only JSON text in a string");
    match &error {
        CmError::Rejected {
            status: 400,
            message,
            ..
        } => assert!(message.is_some(), "{error:?}"),
        other => panic!("expected a 400, got {other:?}"),
    }
    // What that server reads: the walkthrough's form, typographic quotes and all.
    let raw = reqwest::Client::new()
        .post(format!("{}requests", emulator.api_url()))
        .json(&json!({
            "profiletemplateuuid": template(2).to_string(),
            "datacollection": "[{\u{201c}Reason\u{201d}:\u{201d}Need VPN Certs\u{201d}}]",
            "type": "TemporaryCards",
            "comment": "",
        }))
        .send()
        .await
        .expect("sent");
    assert_eq!(raw.status().as_u16(), 201);

    emulator.set_lifecycle_rules(LifecycleRules {
        data_collection: DataCollectionForm::List,
        ..LifecycleRules::default()
    });
    assert!(client.create_request(&request).await.is_ok(), "an array");
}

// ---------------------------------------------------------------------------
// What a card allows, and the lookup by card ID
// ---------------------------------------------------------------------------

#[tokio::test]
async fn a_cards_operations_after_a_lookup_by_card_id() {
    let emulator = emulator().await;
    let client = client(&emulator);
    let id = card_id(4);
    let uuid = emulator.insert_smartcard(&id, SmartcardStatus::ACTIVE, USER, template(0));
    let found = client.smartcards_by_card_id(&id).await.expect("lookup");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].uuid, uuid);
    let operations = client.smartcard_operations(uuid).await.expect("operations");
    assert_eq!(
        operations,
        vec![
            CardOperation::Known(RequestType::RENEW),
            CardOperation::Known(RequestType::UNBLOCK),
            CardOperation::Known(RequestType::RETIRE),
        ]
    );
    emulator.set_card_operations(uuid, vec!["Revoke".into(), "OfflineUnblock".into()]);
    let operations = client.smartcard_operations(uuid).await.expect("operations");
    assert_eq!(
        operations,
        vec![
            CardOperation::Known(RequestType::REVOKE),
            CardOperation::Known(RequestType::OFFLINE_UNBLOCK),
        ]
    );
    assert!(
        client
            .smartcards_by_card_id(&card_id(5))
            .await
            .expect("lookup")
            .is_empty()
    );
}

// ---------------------------------------------------------------------------
// Workflow policies
// ---------------------------------------------------------------------------

async fn policy_in(
    emulator: &Emulator,
    client: &CmClient,
    shape: PolicyShape,
) -> enroll_station::domain::lifecycle::WorkflowPolicy {
    emulator.set_lifecycle_rules(LifecycleRules {
        policy_shape: shape,
        ..LifecycleRules::default()
    });
    client
        .workflow_policy(template(0), RequestType::ENROLL)
        .await
        .unwrap_or_else(|e| panic!("{shape:?}: {e}"))
        .unwrap_or_else(|| panic!("{shape:?}: no policy"))
}

#[tokio::test]
async fn the_policy_is_read_in_every_shape_the_emulator_writes() {
    let emulator = emulator().await;
    let client = client(&emulator);
    for shape in [
        PolicyShape::SdkList,
        PolicyShape::Wrapped,
        PolicyShape::CamelCase,
        PolicyShape::JsonText,
    ] {
        let policy = policy_in(&emulator, &client, shape).await;
        assert_eq!(policy.approvals_needed, 0, "{shape:?}");
        assert!(policy.enroll_agent_required, "{shape:?}");
        assert_eq!(policy.enabled, Some(true), "{shape:?}");
        let items = policy
            .data_collection
            .unwrap_or_else(|| panic!("{shape:?}: items"));
        assert_eq!(items.len(), 2, "{shape:?}: {items:?}");
        assert_eq!(items[0].name, "EmployeeID", "{shape:?}");
        assert!(items[0].required, "{shape:?}");
        assert_eq!(
            items[0].validation,
            Validation::RegularExpression("^E[0-9]{4}$".into()),
            "{shape:?}"
        );
        assert_eq!(items[1].name, "Reason", "{shape:?}");
        assert!(!items[1].required, "{shape:?}");
        assert_eq!(items[1].validation, Validation::None, "{shape:?}");
    }
    let names = policy_in(&emulator, &client, PolicyShape::NamesOnly).await;
    let items = names.data_collection.expect("names are items");
    let listed: Vec<&str> = items.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(listed, ["EmployeeID", "Reason"]);
    assert!(items.iter().all(|i| !i.required));

    let absent = policy_in(&emulator, &client, PolicyShape::Absent).await;
    assert_eq!(absent.data_collection, None, "not sent is not 'none asked'");
    assert!(absent.enroll_agent_required, "the rest is still read");
}

#[tokio::test]
async fn policy_route_switch_both_ways() {
    let emulator = emulator().await;
    let client = client(&emulator);
    for route in [
        PolicyRoute::Policies,
        PolicyRoute::PolicyWorkflow,
        PolicyRoute::Both,
    ] {
        emulator.set_lifecycle_rules(LifecycleRules {
            policy_route: route,
            ..LifecycleRules::default()
        });
        let policy = client
            .workflow_policy(template(1), RequestType::TEMPORARY_CARD_ENROLL)
            .await
            .unwrap_or_else(|e| panic!("{route:?}: {e}"));
        assert!(policy.is_some(), "{route:?}");
    }
    // Only the other spelling, checked without the client's fallback.
    emulator.set_lifecycle_rules(LifecycleRules {
        policy_route: PolicyRoute::PolicyWorkflow,
        ..LifecycleRules::default()
    });
    let direct = reqwest::get(format!(
        "{}profiletemplates/{}/policies/enroll",
        emulator.api_url(),
        template(0)
    ))
    .await
    .expect("sent");
    assert_eq!(direct.status().as_u16(), 404);
}

#[tokio::test]
async fn a_policy_for_an_unknown_template_and_a_type_without_one() {
    let emulator = emulator().await;
    let client = client(&emulator);
    let unknown = client
        .workflow_policy(Uuid::new_v4(), RequestType::ENROLL)
        .await
        .expect("204 is an answer");
    assert_eq!(unknown, None);
    let error = client
        .workflow_policy(template(0), RequestType::DISABLE)
        .await
        .expect_err("Disable has no workflow policy");
    assert!(matches!(error, CmError::InvalidData { .. }), "{error:?}");
}

// ---------------------------------------------------------------------------
// Offline unblock
// ---------------------------------------------------------------------------

/// An approved offline unblock request for an active card: (request, card object).
async fn offline_unblock(
    emulator: &Emulator,
    client: &CmClient,
    card: &CardId,
) -> (Uuid, Smartcard) {
    let object = card_object(emulator, client, card, SmartcardStatus::ACTIVE).await;
    let request = NewRequest::offline_unblock(&object, data(&[("EmployeeID", "E1234")]), "")
        .expect("an active card");
    let id = client.create_request(&request).await.expect("created");
    (id, object)
}

#[tokio::test]
async fn the_unblock_response_is_the_references_example() {
    let emulator = emulator().await;
    let client = client(&emulator);
    // The reference's example answer is 3DES under an all-zero admin key.
    emulator.set_admin_key(template(0), [0; 24]);
    let card = card_id(6);
    let (request, object) = offline_unblock(&emulator, &client, &card).await;
    let read = client.get_request(request).await.expect("read");
    assert_eq!(read.request_type, RequestType::OFFLINE_UNBLOCK);
    assert_eq!(read.status, RequestStatus::APPROVED);

    // "1hFD+cz/0so=" as a person reads it off the card's screen.
    let challenge = Challenge::parse("D611 43F9 CCFF D2CA").expect("typed challenge");
    let response = client
        .authentication_response(request, object.uuid, &card, &challenge, false, None)
        .await
        .expect("response");
    // "F0Zudm4wPLY=", grouped for reading out.
    assert_eq!(response.grouped().as_str(), "1746 6E76 6E30 3CB6");
    assert!(!format!("{response:?}").contains("1746"));

    let diversified = client
        .authentication_response(request, object.uuid, &card, &challenge, true, None)
        .await
        .expect("diversified response");
    assert_eq!(diversified.bytes().len(), 8);
    assert_ne!(
        diversified, response,
        "a diversified key answers differently"
    );
    let again = client
        .authentication_response(request, object.uuid, &card, &challenge, true, None)
        .await
        .expect("again");
    assert_eq!(again, diversified, "deterministic, as a card needs");
}

#[tokio::test]
async fn the_unblock_response_is_refused_for_the_wrong_card_or_an_unapproved_request() {
    let emulator = emulator().await;
    let client = client(&emulator);
    let card = card_id(7);
    emulator.set_workflow_policy(
        template(0),
        "offlineunblock",
        EmulatedPolicy {
            approvals_needed: 1,
            ..EmulatedPolicy::default()
        },
    );
    let (pending, object) = offline_unblock(&emulator, &client, &card).await;
    let challenge = Challenge::parse("0011223344556677").expect("challenge");
    let error = client
        .authentication_response(pending, object.uuid, &card, &challenge, false, None)
        .await
        .expect_err("pending");
    assert!(error.to_string().contains("is Pending"), "{error}");
    assert!(error.correlation_id().is_some(), "{error:?}");

    let approved = insert_request(&emulator, 3, Some(object.uuid));
    let error = client
        .authentication_response(approved, object.uuid, &card_id(8), &challenge, false, None)
        .await
        .expect_err("another card's ID");
    assert!(error.to_string().contains("is not the card of"), "{error}");
    let atr = Atr::parse_hex("3b8d0180fba000000397425446590301c8").expect("hex");
    assert!(
        client
            .authentication_response(approved, object.uuid, &card, &challenge, false, Some(&atr))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn diversified_parameter_switch_both_ways() {
    let emulator = emulator().await;
    let client = client(&emulator);
    let card = card_id(9);
    let (request, object) = offline_unblock(&emulator, &client, &card).await;
    let url = format!(
        "{}requests/{request}/smartcards/{}/authenticationresponse?cardid={}&challenge=1hFD%2Bcz%2F0so%3D",
        emulator.api_url(),
        object.uuid,
        card.to_cm_string()
    );
    let without = reqwest::get(&url).await.expect("sent");
    assert_eq!(without.status().as_u16(), 400, "required by default");

    emulator.set_lifecycle_rules(LifecycleRules {
        diversified: DiversifiedParameter::Optional,
        ..LifecycleRules::default()
    });
    let optional = reqwest::get(&url).await.expect("sent");
    assert_eq!(optional.status().as_u16(), 200);
    let body: serde_json::Value = optional.json().await.expect("a JSON string");
    let challenge = Challenge::parse("d61143f9ccffd2ca").expect("challenge");
    let with_false = client
        .authentication_response(request, object.uuid, &card, &challenge, false, None)
        .await
        .expect("response");
    use base64::Engine as _;
    let missing_means_false = base64::engine::general_purpose::STANDARD
        .decode(body.as_str().expect("string"))
        .expect("base64");
    assert_eq!(missing_means_false, with_false.bytes());
}

// ---------------------------------------------------------------------------
// Lifecycle actions a crash left open
// ---------------------------------------------------------------------------

mod open_actions {
    use super::*;
    use enroll_station::audit::{ActionInfo, AttemptId, AuditJournal, Operator};
    use enroll_station::domain::action::{Action, OfflineUnblock};
    use enroll_station::worker::actions::{marker_of, reconcile_open_actions};
    use enroll_station::worker::effects::BindContext;

    /// A journal in a fresh directory (kept while the directory lives).
    pub(super) fn journal() -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("audit.jsonl");
        (dir, path)
    }

    /// The intent `perform` writes before it sends `action` to `client`'s
    /// server, left open as a crash leaves it: no outcome follows.
    pub(super) fn open_intent(
        path: &std::path::Path,
        client: &CmClient,
        action: &Action,
    ) -> AttemptId {
        let (card_id, smartcard_uuid) = match action {
            Action::OfflineUnblock(unblock) => (Some(unblock.card_id), unblock.smartcard),
            _ => (None, None),
        };
        let mut journal = AuditJournal::open(path).expect("the journal opens");
        journal
            .record_action_intent(ActionInfo {
                operator: Operator::from_os(),
                supervisor: None,
                request_id: action.request(),
                card_id,
                smartcard_uuid,
                message: action.describe(),
                api_base: client.api_base().to_owned(),
            })
            .expect("the intent is written")
    }

    pub(super) fn context(client: CmClient, path: &std::path::Path) -> BindContext {
        BindContext {
            client,
            readers: enroll_station::card::demo::DemoReader::new(std::sync::Arc::new(|_| {})),
            journal: enroll_station::audit::journal::open_shared(Some(path), false)
                .expect("the journal"),
        }
    }

    /// The outcome record of `intent`, as JSON.
    pub(super) fn outcome_of(path: &std::path::Path, intent: AttemptId) -> serde_json::Value {
        let text = std::fs::read_to_string(path).expect("the journal");
        text.lines()
            .map(|line| serde_json::from_str::<serde_json::Value>(line).expect("JSON"))
            .find(|record| {
                record["event"] == "action_outcome"
                    && record["attempt_id"] == intent.to_string().as_str()
            })
            .unwrap_or_else(|| panic!("no outcome for {intent}: {text}"))
    }

    fn unfinished(path: &std::path::Path) -> u64 {
        enroll_station::audit::verify(path)
            .expect("the journal is intact")
            .unfinished
    }

    #[tokio::test]
    async fn a_status_change_left_open_is_settled_by_reading_the_request() {
        let emulator = emulator().await;
        let client = client(&emulator);
        let (_dir, path) = journal();
        // CM did the first (the station stopped before its answer was
        // recorded); the second never reached CM.
        let changed = insert_request(&emulator, 3, None);
        let unchanged = insert_request(&emulator, 3, None);
        let abandon = |request| Action::ChangeStatus {
            request,
            change: StatusChange::Abandon,
            comment: Some("lost: reported by phone".into()),
        };
        let done = open_intent(&path, &client, &abandon(changed));
        let not_done = open_intent(&path, &client, &abandon(unchanged));
        client
            .set_request_status(changed, StatusChange::Abandon)
            .await
            .expect("CM abandons it");
        assert_eq!(unfinished(&path), 2, "audit verify sees them open");

        let lines = reconcile_open_actions(&context(client.clone(), &path)).await;
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(
            lines.iter().all(|l| l.starts_with("Reconciled: ")),
            "{lines:?}"
        );
        let record = outcome_of(&path, done);
        assert_eq!(record["outcome"], "reconciled_done");
        assert_eq!(record["request_id"], changed.to_string().as_str());
        let words = record["message"].as_str().expect("words");
        assert!(words.contains("CM shows the request Failed"), "{words}");
        let record = outcome_of(&path, not_done);
        assert_eq!(record["outcome"], "reconciled_not_done");
        let words = record["message"].as_str().expect("words");
        assert!(
            words.contains("Approved, not Failed: it was not done"),
            "{words}"
        );
        assert_eq!(unfinished(&path), 0, "audit verify: nothing unfinished");
        assert_eq!(
            client.get_request(unchanged).await.expect("read").status,
            RequestStatus::APPROVED,
            "reconciliation reads, it never repeats the action"
        );
        // Settled once: a second run finds nothing.
        assert!(
            reconcile_open_actions(&context(client, &path))
                .await
                .is_empty()
        );
    }

    #[tokio::test]
    async fn a_creation_left_open_is_settled_by_its_marker() {
        let emulator = emulator().await;
        let client = client(&emulator);
        let (_dir, path) = journal();
        let new = || {
            NewRequest::temporary_card(
                template(2),
                USER,
                data(&[("EmployeeID", "E0042")]),
                "walk-in",
            )
        };
        let created = open_intent(&path, &client, &Action::Create(new()));
        let not_created = open_intent(&path, &client, &Action::Create(new()));
        // What the station sent before it stopped: its comment carries the marker.
        let mut sent = new();
        sent.comment = format!("walk-in {}", marker_of(&created));
        let id = client.create_request(&sent).await.expect("CM created it");
        // Another request of the same type and user, without the marker.
        client.create_request(&new()).await.expect("someone else's");
        let before = emulator.created_requests();

        let lines = reconcile_open_actions(&context(client, &path)).await;
        assert_eq!(lines.len(), 2, "{lines:?}");
        let record = outcome_of(&path, created);
        assert_eq!(record["outcome"], "reconciled_done");
        assert_eq!(
            record["request_id"],
            id.to_string().as_str(),
            "the outcome names the request it created"
        );
        let record = outcome_of(&path, not_created);
        assert_eq!(record["outcome"], "reconciled_not_done");
        let words = record["message"].as_str().expect("words");
        assert!(words.contains(&marker_of(&not_created)), "{words}");
        assert!(words.contains("it was not created"), "{words}");
        assert_eq!(emulator.created_requests(), before, "nothing created again");
        assert_eq!(unfinished(&path), 0);
    }

    #[tokio::test]
    async fn an_unblock_left_open_is_settled_in_words_that_claim_no_pin() {
        let emulator = emulator().await;
        let client = client(&emulator);
        let (_dir, path) = journal();
        let card = card_id(10);
        let (request, object) = offline_unblock(&emulator, &client, &card).await;
        let unblock = |request| {
            Action::OfflineUnblock(OfflineUnblock {
                card_id: card,
                smartcard: Some(object.uuid),
                request,
                challenge: Challenge::parse("D611 43F9 CCFF D2CA").expect("challenge"),
                diversified: false,
                data: Vec::new(),
                comment: String::new(),
            })
        };
        let under_request = open_intent(&path, &client, &unblock(Some(request)));
        let nothing_created = open_intent(&path, &client, &unblock(None));

        let lines = reconcile_open_actions(&context(client, &path)).await;
        assert_eq!(lines.len(), 2, "{lines:?}");
        let record = outcome_of(&path, under_request);
        assert_eq!(record["outcome"], "reconciled_not_done");
        let words = record["message"].as_str().expect("words");
        for said in [
            "cannot be asked of CM: it may have",
            "showed no response",
            "changes no PIN itself",
        ] {
            assert!(words.contains(said), "{said}: {words}");
        }
        let record = outcome_of(&path, nothing_created);
        assert_eq!(record["outcome"], "reconciled_not_done");
        let words = record["message"].as_str().expect("words");
        assert!(words.contains("none was created"), "{words}");
        assert!(words.contains("changed no PIN"), "{words}");
        assert_eq!(unfinished(&path), 0);
    }

    #[tokio::test]
    async fn an_intent_sent_to_another_server_is_not_judged_here() {
        let emulator = emulator().await;
        let client = client(&emulator);
        let (_dir, path) = journal();
        let request = insert_request(&emulator, 3, None);
        let elsewhere = CmClient::new(&ClientConfig::new(
            "https://cm-old.contoso.com/CertificateManagement/api/v1.0/",
        ))
        .expect("a client for the other server");
        let intent = open_intent(
            &path,
            &elsewhere,
            &Action::ChangeStatus {
                request,
                change: StatusChange::Cancel,
                comment: None,
            },
        );
        let lines = reconcile_open_actions(&context(client, &path)).await;
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(
            lines[0].contains("--server https://cm-old.contoso.com/"),
            "{}",
            lines[0]
        );
        assert_eq!(unfinished(&path), 1, "{intent} stays open");
    }
}

// ---------------------------------------------------------------------------
// Offline unblock under an approved request CM already holds
// ---------------------------------------------------------------------------

mod approved_unblock {
    use super::open_actions::{context, journal, outcome_of};
    use super::*;
    use enroll_station::cm::emulator::lifecycle::UnblockCompletion;
    use enroll_station::domain::action::{Action, ActionDone, OfflineUnblock};
    use enroll_station::supervisors::Supervision;
    use enroll_station::worker::actions::{
        UnblockLedger, approved_unblocks, complete_unblock, perform,
    };

    /// An OfflineUnblock request in `status` on `card`, for `user`, as the
    /// CM portal or a help-desk workflow leaves it.
    fn unblock_request(emulator: &Emulator, card: Uuid, user: Uuid, status: i64) -> Uuid {
        let id = Uuid::new_v4();
        let nil = Uuid::nil().to_string();
        emulator
            .insert_request(json!({
                "Uuid": id.to_string(),
                "RequestType": "OfflineUnblock",
                "Status": status,
                "DataCollection": [],
                "Submitted": "2026-11-20T09:14:33.12Z",
                "Completed": "0001-01-01T00:00:00",
                "NewSmartcardUuid": nil,
                "OldSmartcardUuid": card.to_string(),
                "ProfileTemplateUuid": template(0).to_string(),
                "TargetUserUuid": user.to_string(),
                "IsSmartcard": true,
                "IsEnrollmentAgent": true,
            }))
            .expect("inserted")
    }

    #[tokio::test]
    async fn only_the_cards_approved_offline_unblock_is_found() {
        let emulator = emulator().await;
        let client = client(&emulator);
        let card = card_object(&emulator, &client, &card_id(11), SmartcardStatus::ACTIVE).await;
        let other = card_object(&emulator, &client, &card_id(12), SmartcardStatus::ACTIVE).await;
        let approved = unblock_request(&emulator, card.uuid, USER, 3);
        unblock_request(&emulator, other.uuid, USER, 3);
        unblock_request(&emulator, card.uuid, USER, 16);
        unblock_request(&emulator, card.uuid, Uuid::new_v4(), 3);
        // Another type on the same card.
        let retire =
            NewRequest::retire(&card, data(&[("EmployeeID", "E1234")]), "").expect("retire");
        client.create_request(&retire).await.expect("created");

        let found = approved_unblocks(&client, &card).await.expect("asked");
        let ids: Vec<Uuid> = found.iter().map(|f| f.request).collect();
        assert_eq!(ids, [approved]);
        let offer = found[0].offer();
        assert!(
            offer.starts_with(&format!(
                "Use the approved unblock request {approved} (submitted 2026-11-"
            )),
            "{offer}"
        );
        assert!(
            approved_unblocks(&client, &other)
                .await
                .expect("asked")
                .iter()
                .all(|f| f.request != approved)
        );
    }

    /// The response under the approved request, through `perform` as the
    /// window and the command line ask for it.
    async fn response_under(
        emulator: &Emulator,
        completion: UnblockCompletion,
    ) -> (BindContextHolder, Uuid, CardId, UnblockLedger) {
        emulator.set_lifecycle_rules(LifecycleRules {
            unblock_completion: completion,
            ..LifecycleRules::default()
        });
        let client = client(emulator);
        let card_id = card_id(13);
        let card = card_object(emulator, &client, &card_id, SmartcardStatus::ACTIVE).await;
        let request = unblock_request(emulator, card.uuid, USER, 3);
        let (dir, path) = journal();
        let ctx = context(client, &path);
        let ledger = UnblockLedger::default();
        let result = perform(
            &ctx,
            &Supervision::none(),
            Action::OfflineUnblock(OfflineUnblock {
                card_id,
                smartcard: Some(card.uuid),
                request: Some(request),
                challenge: Challenge::parse("D611 43F9 CCFF D2CA").expect("challenge"),
                diversified: false,
                data: Vec::new(),
                comment: String::new(),
            }),
            None,
        )
        .await;
        ledger.note(&result);
        let Ok(ActionDone::UnblockResponse { request_id, .. }) = result else {
            panic!("a response under the approved request: {result:?}");
        };
        assert_eq!(request_id, request);
        assert_eq!(
            emulator.created_requests(),
            0,
            "no request created beside it"
        );
        (
            BindContextHolder {
                ctx,
                path,
                _dir: dir,
            },
            request,
            card_id,
            ledger,
        )
    }

    struct BindContextHolder {
        ctx: enroll_station::worker::effects::BindContext,
        path: std::path::PathBuf,
        _dir: tempfile::TempDir,
    }

    fn intents(path: &std::path::Path) -> Vec<serde_json::Value> {
        std::fs::read_to_string(path)
            .expect("the journal")
            .lines()
            .map(|line| serde_json::from_str::<serde_json::Value>(line).expect("JSON"))
            .filter(|record| record["event"] == "action_intent")
            .collect()
    }

    #[tokio::test]
    async fn unblock_completion_switch_client_completes() {
        let emulator = emulator().await;
        let (held, request, card_id, ledger) =
            response_under(&emulator, UnblockCompletion::ClientCompletes).await;
        let client = &held.ctx.client;
        assert_eq!(
            client.get_request(request).await.expect("read").status,
            RequestStatus::EXECUTING,
            "the response starts the execution; the request waits for Done"
        );
        let done = complete_unblock(&held.ctx, &ledger, request, card_id)
            .await
            .expect("Done completes it");
        assert_eq!(
            done,
            ActionDone::StatusChanged {
                request,
                status: RequestStatus::COMPLETED
            }
        );
        assert_eq!(
            client.get_request(request).await.expect("read").status,
            RequestStatus::COMPLETED
        );
        // Journalled as every action: an intent and its one outcome.
        let intents = intents(&held.path);
        let completion = intents
            .iter()
            .find(|r| {
                r["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with(&format!("complete request {request}")))
            })
            .unwrap_or_else(|| panic!("the completion's intent: {intents:?}"));
        let id: enroll_station::audit::AttemptId = completion["attempt_id"]
            .as_str()
            .and_then(|id| id.parse().ok())
            .expect("an intent ID");
        assert_eq!(outcome_of(&held.path, id)["outcome"], "done");
        assert_eq!(
            enroll_station::audit::verify(&held.path)
                .expect("intact")
                .unfinished,
            0
        );
        // Done once: a second completion is not the station's to send.
        let again = complete_unblock(&held.ctx, &ledger, request, card_id)
            .await
            .expect_err("no response was given for it since");
        assert!(
            again.message.contains("gave no unblock response"),
            "{again}"
        );
    }

    #[tokio::test]
    async fn unblock_completion_switch_response_completes() {
        let emulator = emulator().await;
        let (held, request, card_id, ledger) =
            response_under(&emulator, UnblockCompletion::ResponseCompletes).await;
        let client = &held.ctx.client;
        assert_eq!(
            client.get_request(request).await.expect("read").status,
            RequestStatus::COMPLETED,
            "CM completed it with the response"
        );
        // A PUT now is refused, as for any completed request...
        let refused = client
            .set_request_status(request, StatusChange::Complete)
            .await
            .expect_err("completed already");
        assert!(refused.to_string().contains("is Completed"), "{refused}");
        // ...so Done sends none, and says what CM shows.
        let done = complete_unblock(&held.ctx, &ledger, request, card_id)
            .await
            .expect("Done is fine");
        assert_eq!(
            done,
            ActionDone::StatusChanged {
                request,
                status: RequestStatus::COMPLETED
            }
        );
        assert!(
            !intents(&held.path).iter().any(|r| r["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("complete request"))),
            "nothing was sent, so nothing was journalled as sent"
        );
        assert_eq!(
            enroll_station::audit::verify(&held.path)
                .expect("intact")
                .unfinished,
            0
        );
    }

    #[tokio::test]
    async fn done_completes_only_a_request_a_response_was_given_under() {
        let emulator = emulator().await;
        let client = client(&emulator);
        let card = card_object(&emulator, &client, &card_id(14), SmartcardStatus::ACTIVE).await;
        let request = unblock_request(&emulator, card.uuid, USER, 18);
        let (_dir, path) = journal();
        let ctx = context(client, &path);
        let refused = complete_unblock(&ctx, &UnblockLedger::default(), request, card_id(14))
            .await
            .expect_err("no response was given under it");
        assert!(refused.message.starts_with("Not done:"), "{refused}");
        assert_eq!(
            ctx.client.get_request(request).await.expect("read").status,
            RequestStatus::EXECUTING,
            "nothing was sent"
        );
    }
}
