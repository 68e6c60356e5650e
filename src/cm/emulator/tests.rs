//! The emulator's own tests (through HTTP in tests/emulator_fidelity.rs).

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
