//! The CM client against the emulator (and a few fixed-answer servers), over
//! real HTTP on loopback.

use std::time::Duration;

use enroll_station::cm::emulator::{BindAnswer, Emulator, EmulatorConfig, Faults, SIGN_IN_PATH};
use enroll_station::cm::error::TlsProblem;
use enroll_station::cm::{ClientConfig, CmClient, CmError};
use enroll_station::domain::card::{Atr, CardId};
use enroll_station::domain::request::{Request, RequestStatus};
use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use uuid::Uuid;

const ATR: &str = "3b8d0180fba000000397425446590301c8";

async fn emulator(requests: usize) -> Emulator {
    Emulator::start(EmulatorConfig {
        requests,
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator starts on loopback")
}

fn client_for(server: &str) -> CmClient {
    CmClient::new(&ClientConfig::new(server)).expect("client for a loopback server")
}

fn card(n: u8) -> CardId {
    CardId::from_raw([
        n, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, n,
    ])
}

fn atr() -> Atr {
    Atr::parse_hex(ATR).expect("test ATR is hex")
}

/// A fresh approved, unbound request, inserted with some of the server's quirks.
fn insert_request(emulator: &Emulator, status: serde_json::Value) -> Uuid {
    let id = Uuid::new_v4();
    emulator
        .insert_request(json!({
            "Uuid": format!("{{{}}}", id.to_string().to_uppercase()),
            "RequestType": 1,
            "Status": status,
            "DataCollection": [{"Name": "FirstName", "Value": "Ada\u{0}"}, {"Name": "LastName", "Value": null}],
            "Submitted": "2026-11-20T09:14:33.12Z",
            "Completed": "0001-01-01T00:00:00",
            "NewSmartcardUuid": "00000000-0000-0000-0000-000000000000",
            "SecurityDescriptor": "O:SYG:SY\u{0}",
            "IsSmartcard": true,
            "IsEnrollmentAgent": true,
            "FutureField": [1, 2, 3]
        }))
        .expect("inserted request has a Uuid")
}

#[tokio::test]
async fn lists_all_by_status_and_empty() {
    let emulator = emulator(40).await;
    let client = client_for(&emulator.base_url());
    assert!(
        client
            .api_base()
            .ends_with("/CertificateManagement/api/v1.0/")
    );

    let all = client.list_requests(None).await.expect("list all");
    assert_eq!(all.len(), 40);
    let mut expected = emulator.requests();
    let mut got = all.clone();
    expected.sort_by_key(|r| r.uuid);
    got.sort_by_key(|r| r.uuid);
    assert_eq!(got, expected);

    let approved = client
        .list_requests(Some(RequestStatus::APPROVED))
        .await
        .expect("list approved");
    assert!(!approved.is_empty());
    assert!(approved.iter().all(|r| r.status == RequestStatus::APPROVED));
    assert!(approved.len() < all.len());
    assert!(approved.iter().any(Request::is_bindable));

    // Nothing has this status: the server answers 204 with no body.
    let none = client
        .list_requests(Some(RequestStatus(42)))
        .await
        .expect("204 is an empty list");
    assert!(none.is_empty());

    let empty = emulator_empty().await;
    let client = client_for(&empty.base_url());
    assert!(
        client
            .list_requests(None)
            .await
            .expect("204 list")
            .is_empty()
    );
    assert_eq!(
        client.profile_templates().await.expect("templates").len(),
        5
    );
}

async fn emulator_empty() -> Emulator {
    emulator(0).await
}

#[tokio::test]
async fn gets_one_request_and_tolerates_quirks() {
    let emulator = emulator(5).await;
    let client = client_for(&emulator.base_url());
    let id = insert_request(&emulator, json!("approved"));
    let request = client.get_request(id).await.expect("get inserted request");
    assert_eq!(request.uuid, id);
    assert_eq!(request.status, RequestStatus::APPROVED);
    assert_eq!(request.data_collection[0].value.as_deref(), Some("Ada"));
    assert_eq!(request.data_collection[1].value, None);
    assert!(request.is_bindable());

    let listed = client.list_requests(None).await.expect("list");
    assert!(listed.iter().any(|r| r.uuid == id));

    let unknown = client
        .get_request(Uuid::new_v4())
        .await
        .expect_err("unknown request");
    assert!(matches!(unknown, CmError::NotFound { .. }), "{unknown:?}");
    assert_eq!(unknown.status(), Some(404));
    assert!(unknown.to_string().contains("was not found"), "{unknown}");
}

#[tokio::test]
async fn bind_then_the_server_shows_the_card_and_refuses_a_second_bind() {
    let emulator = emulator(10).await;
    let client = client_for(&emulator.base_url());
    let id = insert_request(&emulator, json!(3));

    let receipt = client
        .bind(id, &card(1), &atr())
        .await
        .expect("bind succeeds");
    let smartcard_uuid = receipt
        .smartcard_uuid
        .expect("the 201 URI names the smart card");
    assert!(
        receipt
            .smartcard_uri
            .as_deref()
            .is_some_and(|u| u.starts_with("api/v1.0/smartcards/")),
        "{receipt:?}"
    );
    assert_eq!(emulator.bind_count(), 1);

    let request = client.get_request(id).await.expect("get after bind");
    assert_eq!(request.new_smartcard, Some(smartcard_uuid));
    assert!(!request.is_bindable());

    let found = client
        .smartcard_by_card_id(&card(1))
        .await
        .expect("lookup by card ID")
        .expect("the card is known now");
    assert_eq!(found.uuid, smartcard_uuid);
    assert_eq!(found.card_id, Some(card(1)));
    assert_eq!(found.atr, Some(atr()));
    assert_eq!(
        client
            .smartcard(smartcard_uuid)
            .await
            .expect("get smart card"),
        found
    );
    assert_eq!(
        client
            .smartcard_by_card_id(&card(2))
            .await
            .expect("204 lookup"),
        None
    );

    let again = client
        .bind(id, &card(2), &atr())
        .await
        .expect_err("a second bind is refused");
    assert_eq!(again.status(), Some(500));
    let correlation = again.correlation_id().expect("a correlation ID").to_owned();
    assert_ne!(correlation, id.to_string());
    let text = again.to_string();
    assert!(text.contains("already bound"), "{text}");
    assert!(text.contains(&correlation), "{text}");
    assert!(text.contains("CM administrator"), "{text}");
    assert_eq!(emulator.bind_count(), 1);

    let other = insert_request(&emulator, json!(18));
    let known = client
        .bind(other, &card(1), &atr())
        .await
        .expect_err("a card in use (Assigned) is refused");
    assert!(known.to_string().contains("is in use"), "{known}");
    assert_eq!(emulator.bind_count(), 1);
}

#[tokio::test]
async fn pending_requests_are_refused_by_the_server() {
    let emulator = emulator(3).await;
    let client = client_for(&emulator.base_url());
    let id = insert_request(&emulator, json!(16));
    let err = client
        .bind(id, &card(3), &atr())
        .await
        .expect_err("pending cannot take a card");
    assert!(
        matches!(err, CmError::Server { status: 500, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("Pending"), "{err}");
    assert!(err.correlation_id().is_some());
    assert_eq!(emulator.bind_count(), 0);
}

#[tokio::test]
async fn forbidden_bind_says_enrollment_agent() {
    let emulator = emulator(3).await;
    let client = client_for(&emulator.base_url());
    let id = insert_request(&emulator, json!(3));
    emulator.set_faults(Faults {
        forbid_binds: true,
        ..Faults::default()
    });
    let err = client.bind(id, &card(4), &atr()).await.expect_err("403");
    assert_eq!(err.status(), Some(403));
    let text = err.to_string();
    assert!(
        text.contains("not an authorized enrollment agent"),
        "{text}"
    );
    assert!(text.contains("Access is denied"), "{text}");
    assert_eq!(emulator.bind_count(), 0);
}

#[tokio::test]
async fn server_failure_carries_the_correlation_id_and_commits_nothing() {
    let emulator = emulator(3).await;
    let client = client_for(&emulator.base_url());
    let id = insert_request(&emulator, json!(3));
    emulator.set_faults(Faults {
        fail_next_posts: 1,
        ..Faults::default()
    });
    let err = client.bind(id, &card(5), &atr()).await.expect_err("500");
    let correlation = err.correlation_id().expect("correlation ID").to_owned();
    assert!(Uuid::parse_str(&correlation).is_ok(), "{correlation}");
    let text = err.to_string();
    assert!(
        text.contains(&format!("Correlation ID: {correlation}")),
        "{text}"
    );
    assert!(text.contains("event log"), "{text}");
    assert!(!err.outcome_unknown());
    assert_eq!(emulator.bind_count(), 0);
    assert_eq!(emulator.faults().fail_next_posts, 0);

    client
        .bind(id, &card(5), &atr())
        .await
        .expect("the next POST succeeds");
    assert_eq!(emulator.bind_count(), 1);
}

#[tokio::test]
async fn wrong_base_path_says_the_api_is_not_enabled() {
    let emulator = emulator(3).await;
    let client = client_for(&format!("{}/wrong/", emulator.base_url()));
    let err = client.list_requests(None).await.expect_err("404");
    assert!(matches!(err, CmError::ApiNotEnabled { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("REST API is not enabled"), "{text}");
    assert!(text.contains("Clm.WebApi.Enabled"), "{text}");
    // An object call on the wrong path is the same: not "request not found".
    let err = client.get_request(Uuid::new_v4()).await.expect_err("404");
    assert!(matches!(err, CmError::ApiNotEnabled { .. }), "{err:?}");
}

#[tokio::test]
async fn base_url_with_the_api_path_in_any_case_works() {
    let emulator = emulator(3).await;
    let client = client_for(&format!(
        "{}/certificatemanagement/API/v1.0",
        emulator.base_url()
    ));
    assert_eq!(client.list_requests(None).await.expect("list").len(), 3);
}

#[test]
fn plain_http_to_another_host_is_refused() {
    let err = CmClient::new(&ClientConfig::new("http://cm.contoso.com")).expect_err("refused");
    assert!(matches!(err, CmError::InsecureHttp { .. }));
    let text = err.to_string();
    assert!(
        text.contains("https://") && text.contains("--allow-insecure-http"),
        "{text}"
    );
    let err = CmClient::new(&ClientConfig::new("not a url at all")).expect_err("refused");
    assert!(matches!(err, CmError::InvalidServerUrl { .. }), "{err:?}");
}

#[tokio::test]
async fn a_lost_bind_answer_is_a_timeout_and_the_bind_can_be_found() {
    let emulator = emulator(3).await;
    let mut config = ClientConfig::new(emulator.base_url());
    config.request_timeout = Duration::from_millis(300);
    let client = CmClient::new(&config).expect("client");
    let id = insert_request(&emulator, json!(3));
    emulator.set_faults(Faults {
        post_delay: Duration::from_secs(3),
        ..Faults::default()
    });
    let err = client
        .bind(id, &card(6), &atr())
        .await
        .expect_err("timeout");
    assert!(matches!(err, CmError::Timeout { .. }), "{err:?}");
    assert!(err.outcome_unknown());
    assert!(err.to_string().contains("during POST smartcards"), "{err}");
    // The server committed before the delay: reconciliation finds the card.
    assert_eq!(emulator.bind_count(), 1);
    let request = client.get_request(id).await.expect("get after the timeout");
    assert!(request.new_smartcard.is_some());

    emulator.set_faults(Faults {
        list_delay: Duration::from_secs(3),
        ..Faults::default()
    });
    let err = client.list_requests(None).await.expect_err("list timeout");
    assert!(matches!(err, CmError::Timeout { .. }), "{err:?}");
}

#[tokio::test]
async fn nobody_listening_is_a_connect_error() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a free port");
    let addr = listener.local_addr().expect("address");
    drop(listener);
    let client = client_for(&format!("http://{addr}"));
    let err = client.list_requests(None).await.expect_err("refused");
    assert!(matches!(err, CmError::Connect { .. }), "{err:?}");
    assert!(!err.outcome_unknown());
    assert!(err.to_string().contains("Check the server name"), "{err}");
}

#[tokio::test]
async fn https_to_a_plain_http_port_is_a_tls_error() {
    let emulator = emulator(1).await;
    let client = client_for(&format!("https://{}", emulator.local_addr()));
    let err = client.list_requests(None).await.expect_err("TLS fails");
    assert!(matches!(err, CmError::Tls { .. }), "{err:?}");
    assert!(err.to_string().contains("secure connection"), "{err}");
}

#[test]
fn the_thread_emulator_serves_sync_callers() {
    let emulator = Emulator::start_on_thread(EmulatorConfig {
        requests: 4,
        ..EmulatorConfig::default()
    })
    .expect("starts");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("test runtime");
    let client = client_for(&emulator.base_url());
    let list = runtime
        .block_on(client.list_requests(None))
        .expect("list from the thread emulator");
    assert_eq!(list.len(), 4);
    let addr = emulator.local_addr();
    emulator.shutdown();
    let err = runtime
        .block_on(client_for(&format!("http://{addr}")).list_requests(None))
        .expect_err("stopped");
    assert!(
        matches!(err, CmError::Connect { .. } | CmError::Network { .. }),
        "{err:?}"
    );
}

// ---------------------------------------------------------------------------
// Fixed-answer servers for what the emulator never sends.
// ---------------------------------------------------------------------------

/// Serves one fixed raw HTTP response to every connection.
async fn fixed_server(response: String) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let response = response.clone();
            tokio::spawn(async move {
                let mut seen = Vec::new();
                let mut buf = [0u8; 4096];
                // Read the head and any announced body so the client sees a clean answer.
                loop {
                    let Ok(n) = socket.read(&mut buf).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    seen.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&seen).to_string();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let length = text[..end]
                            .lines()
                            .find_map(|l| {
                                let (k, v) = l.split_once(':')?;
                                k.eq_ignore_ascii_case("content-length")
                                    .then(|| v.trim().parse::<usize>().ok())?
                            })
                            .unwrap_or(0);
                        if seen.len() >= end + 4 + length {
                            break;
                        }
                    }
                }
                let _ = socket.write_all(response.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    format!("http://{addr}")
}

fn http(status: &str, content_type: &str, extra: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n{body}",
        body.len()
    )
}

#[tokio::test]
async fn an_html_page_where_json_was_expected_is_named_as_such() {
    let page = "<html><head><title>Sign in to Contoso</title></head><body>login</body></html>";
    let server = fixed_server(http("200 OK", "text/html", "", page)).await;
    let err = client_for(&server)
        .list_requests(None)
        .await
        .expect_err("not the API");
    assert!(matches!(err, CmError::UnexpectedBody { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("not the CM API"), "{text}");
    assert!(text.contains("Sign in to Contoso"), "{text}");
    assert!(text.contains("proxy or a login page"), "{text}");
}

#[tokio::test]
async fn a_bare_string_error_body_gives_message_and_correlation_id() {
    let cid = "0f1e2d3c-4b5a-4968-8776-655443322110";
    let body = format!("\"Binding failed: CA unreachable. Correlation ID: {cid}\"");
    let server = fixed_server(http(
        "500 Internal Server Error",
        "application/json",
        "",
        &body,
    ))
    .await;
    let err = client_for(&server)
        .bind(Uuid::new_v4(), &card(7), &atr())
        .await
        .expect_err("500");
    assert_eq!(err.correlation_id(), Some(cid));
    assert!(
        err.to_string().contains("Binding failed: CA unreachable."),
        "{err}"
    );
}

#[tokio::test]
async fn a_201_with_only_a_location_header_still_gives_the_uuid() {
    let id = "17cf063d-e337-4aa9-a822-346554ddd3c9";
    let server = fixed_server(http(
        "201 Created",
        "application/json",
        &format!("Location: /CertificateManagement/api/v1.0/smartcards/{id}\r\n"),
        "",
    ))
    .await;
    let receipt = client_for(&server)
        .bind(Uuid::new_v4(), &card(8), &atr())
        .await
        .expect("201");
    assert_eq!(
        receipt.smartcard_uuid.map(|u| u.to_string()).as_deref(),
        Some(id)
    );

    let server = fixed_server(http("204 No Content", "application/json", "", "")).await;
    let receipt = client_for(&server)
        .bind(Uuid::new_v4(), &card(8), &atr())
        .await
        .expect("204");
    assert_eq!(receipt.smartcard_uuid, None);
    assert_eq!(receipt.smartcard_uri, None);
    // The request could not be read for its NewSmartcardUuid (this server
    // answers 204 to that too): still a bind, with a note for the journal.
    let note = receipt.note.expect("a note");
    assert!(note.contains("could not be read"), "{note}");
}

#[tokio::test]
async fn a_json_403_and_a_401_are_worded_for_the_operator() {
    let server = fixed_server(http(
        "403 Forbidden",
        "application/json",
        "",
        "{\"Message\":\"Access denied for profile template.\"}",
    ))
    .await;
    let err = client_for(&server)
        .list_requests(None)
        .await
        .expect_err("403");
    let text = err.to_string();
    assert!(
        text.contains("refused to list the requests")
            && text.contains("not permitted to read requests")
            && text.contains("Access denied for profile template."),
        "{text}"
    );
    assert!(!text.contains("enrollment agent"), "{text}");

    let server = fixed_server(http(
        "401 Unauthorized",
        "text/html",
        "WWW-Authenticate: Negotiate\r\n",
        "<html><head><title>401 - Unauthorized: Access is denied due to invalid credentials.</title></head></html>",
    ))
    .await;
    let err = client_for(&server)
        .list_requests(None)
        .await
        .expect_err("401");
    assert_eq!(err.status(), Some(401));
    assert!(
        err.to_string()
            .contains("Authentication to the CM server failed"),
        "{err}"
    );
}

// ---------------------------------------------------------------------------
// Only a bind is a bind; errors in the server's terms (issue 15).
// ---------------------------------------------------------------------------

#[tokio::test]
async fn a_302_to_a_sign_in_page_is_an_error_in_words_and_never_followed() {
    let emulator = emulator(3).await;
    let client = client_for(&emulator.base_url());
    let id = insert_request(&emulator, json!(3));
    let sign_in = format!("{}{SIGN_IN_PATH}?wa=wsignin1.0", emulator.base_url());
    emulator.set_faults(Faults {
        redirect_posts: 1,
        redirect_location: Some(sign_in.clone()),
        ..Faults::default()
    });
    let err = client
        .bind(id, &card(9), &atr())
        .await
        .expect_err("a redirect is not a bind");
    assert!(
        matches!(err, CmError::Redirected { status: 302, .. }),
        "{err:?}"
    );
    assert!(err.outcome_unknown(), "the bind must be reconciled");
    let text = err.to_string();
    assert!(text.contains("redirect (HTTP 302)"), "{text}");
    assert!(text.contains(&sign_in), "{text}");
    assert!(text.contains("sign-in front end"), "{text}");
    assert!(text.contains("Sign in again"), "{text}");
    assert_eq!(emulator.sign_in_visits(), 0, "the redirect was followed");
    assert_eq!(emulator.bind_count(), 0);

    // A GET answered with a redirect is the same error, and not followed either.
    let server = fixed_server(http(
        "302 Found",
        "text/html; charset=utf-8",
        &format!("Location: {sign_in}\r\n"),
        "<html><head><title>Object moved</title></head><body>Object moved</body></html>",
    ))
    .await;
    let err = client_for(&server)
        .list_requests(None)
        .await
        .expect_err("a redirect is not a list");
    assert!(matches!(err, CmError::Redirected { .. }), "{err:?}");
    assert!(!err.to_string().contains("bind"), "{err}");
    let err = client_for(&server)
        .get_request(id)
        .await
        .expect_err("a redirect is not a request");
    assert!(matches!(err, CmError::Redirected { .. }), "{err:?}");
    assert_eq!(emulator.sign_in_visits(), 0, "the redirect was followed");
    // The page itself is there: only a client that follows would see it.
    let mut socket = tokio::net::TcpStream::connect(emulator.local_addr())
        .await
        .expect("connect");
    socket
        .write_all(
            format!(
                "GET {SIGN_IN_PATH}?wa=wsignin1.0 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
            )
            .as_bytes(),
        )
        .await
        .expect("send");
    let mut page = String::new();
    socket
        .read_to_string(&mut page)
        .await
        .expect("the sign-in page");
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert_eq!(emulator.sign_in_visits(), 1);
}

#[tokio::test]
async fn a_200_or_an_html_page_to_a_bind_is_not_a_bind() {
    let page = "<html><head><title>Sign In</title></head><body>form</body></html>";
    let uri = "\"api/v1.0/smartcards/17cf063d-e337-4aa9-a822-346554ddd3c9\"";
    for (status, content_type, body) in [
        ("200 OK", "text/html; charset=utf-8", page),
        ("201 Created", "text/html", page),
        ("200 OK", "application/json", uri),
    ] {
        let server = fixed_server(http(status, content_type, "", body)).await;
        let err = client_for(&server)
            .bind(Uuid::new_v4(), &card(10), &atr())
            .await
            .expect_err("not a bind");
        assert!(
            matches!(err, CmError::UnclearBindAnswer { .. }),
            "{status} {content_type}: {err:?}"
        );
        assert!(err.outcome_unknown(), "{err}");
    }
}

#[tokio::test]
async fn a_204_or_an_unreadable_201_bind_reads_the_smart_card_from_the_request() {
    let emulator = emulator(3).await;
    let client = client_for(&emulator.base_url());
    for (n, answer) in [BindAnswer::NoContent, BindAnswer::CreatedUnreadable]
        .into_iter()
        .enumerate()
    {
        let id = insert_request(&emulator, json!(3));
        emulator.set_faults(Faults {
            bind_answer: answer,
            ..Faults::default()
        });
        let receipt = client
            .bind(id, &card(20 + n as u8), &atr())
            .await
            .unwrap_or_else(|e| panic!("{answer:?} is a bind: {e}"));
        assert_eq!(receipt.smartcard_uri, None, "{answer:?}");
        let bound = client.get_request(id).await.expect("the request");
        assert!(bound.new_smartcard.is_some());
        assert_eq!(receipt.smartcard_uuid, bound.new_smartcard, "{answer:?}");
        let note = receipt.note.expect("how the UUID was found");
        assert!(note.contains("read from the request"), "{note}");
    }
    assert_eq!(emulator.bind_count(), 2);
}

#[tokio::test]
async fn a_500_shows_a_correlation_id_only_where_the_server_names_one() {
    let emulator = emulator(3).await;
    let client = client_for(&emulator.base_url());
    // A Pending request: the server's message names the request's GUID.
    let id = insert_request(&emulator, json!(16));
    emulator.set_faults(Faults {
        unmarked_errors: true,
        ..Faults::default()
    });
    let err = client
        .bind(id, &card(11), &atr())
        .await
        .expect_err("pending");
    assert_eq!(err.status(), Some(500));
    let text = err.to_string();
    assert!(text.contains(&id.to_string()), "{text}");
    assert_eq!(err.correlation_id(), None, "{text}");
    assert!(text.contains("gave no correlation ID"), "{text}");
    assert_eq!(err.to_failure().correlation_id, None);

    emulator.set_faults(Faults::default());
    let err = client
        .bind(id, &card(11), &atr())
        .await
        .expect_err("pending");
    let text = err.to_string();
    let marked = text
        .split("Correlation ID: ")
        .nth(1)
        .and_then(|rest| rest.get(..36))
        .expect("the server's message names a correlation ID");
    assert_eq!(err.correlation_id(), Some(marked), "{text}");
    assert_ne!(marked, id.to_string());
}

#[tokio::test]
async fn a_403_on_the_bind_and_on_the_list_read_differently() {
    let server = fixed_server(http(
        "403 Forbidden",
        "application/json",
        "",
        "{\"Message\":\"Access is denied.\"}",
    ))
    .await;
    let client = client_for(&server);
    let request = Uuid::new_v4();
    let bind = client
        .bind(request, &card(12), &atr())
        .await
        .expect_err("403")
        .to_string();
    let list = client
        .list_requests(None)
        .await
        .expect_err("403")
        .to_string();
    let one = client
        .get_request(request)
        .await
        .expect_err("403")
        .to_string();
    let lookup = client
        .smartcard_by_card_id(&card(12))
        .await
        .expect_err("403")
        .to_string();
    let templates = client
        .profile_templates()
        .await
        .expect_err("403")
        .to_string();
    assert!(
        bind.contains("not an authorized enrollment agent"),
        "{bind}"
    );
    assert!(bind.contains(&request.to_string()), "{bind}");
    assert!(list.contains("refused to list the requests"), "{list}");
    assert!(
        one.contains(&format!("refused to show request {request}")),
        "{one}"
    );
    assert!(lookup.contains("refused to look up card"), "{lookup}");
    assert!(
        templates.contains("refused to list the profile templates"),
        "{templates}"
    );
    for other in [&list, &one, &lookup, &templates] {
        assert!(!other.contains("enrollment agent"), "{other}");
        assert!(other.contains("\"Access is denied.\""), "{other}");
    }
}

#[tokio::test]
async fn an_oversized_single_object_is_refused_in_words() {
    let huge = format!(
        "{{\"Uuid\":\"{}\",\"Comment\":\"{}\"}}",
        Uuid::new_v4(),
        "x".repeat(2 * 1024 * 1024)
    );
    // Announced by Content-Length: refused before it is read.
    let server = fixed_server(http("200 OK", "application/json", "", &huge)).await;
    let err = client_for(&server)
        .get_request(Uuid::new_v4())
        .await
        .expect_err("too large");
    assert!(matches!(err, CmError::TooLarge { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("larger than 1 MiB"), "{text}");
    assert!(text.contains("GET requests/"), "{text}");
    // Not announced (the body runs until the connection closes): cut at the limit.
    let server = fixed_server(format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{huge}"
    ))
    .await;
    let err = client_for(&server)
        .smartcard(Uuid::new_v4())
        .await
        .expect_err("too large");
    assert!(matches!(err, CmError::TooLarge { .. }), "{err:?}");
    // The request list may be far larger than one object.
    let emulator = emulator(3_000).await;
    let list = client_for(&emulator.base_url())
        .list_requests(None)
        .await
        .expect("a list over 1 MiB");
    assert_eq!(list.len(), 3_000);
}

// ---------------------------------------------------------------------------
// TLS: a throwaway CA and a localhost certificate it signed (valid until 2126),
// made for these tests only. The key protects nothing.
// ---------------------------------------------------------------------------

const TEST_CA_PEM: &str = "-----BEGIN CERTIFICATE-----
MIIBqTCCAU+gAwIBAgIUZNEeAOT6hJspw+gPN80GDKhDOVIwCgYIKoZIzj0EAwIw
ITEfMB0GA1UEAwwWZW5yb2xsLXN0YXRpb24gdGVzdCBDQTAgFw0yNjExMjgyMDUx
MTJaGA8yMTI2MTEwNDIwNTExMlowITEfMB0GA1UEAwwWZW5yb2xsLXN0YXRpb24g
dGVzdCBDQTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABJtoiQ/2HzEA88fDKCtz
vIlaoneVJ1Tqt9S6vVN9iFW3LOiSL8qUKUgxFj6lYS+aw+sr3Q6f5bPbdtYMVspV
oKOjYzBhMB0GA1UdDgQWBBRjBag7UDh2tjDIApbGYqc8Z8v+hjAfBgNVHSMEGDAW
gBRjBag7UDh2tjDIApbGYqc8Z8v+hjAPBgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB
/wQEAwIBBjAKBggqhkjOPQQDAgNIADBFAiEAi0gv5sUk4IPO/4//bb5DcIAUINby
o6nJf0W/dSWyEb8CIFjV2XE6qKoys5VwTbLr4nElJp/0ppir2/WAF38M2TqV
-----END CERTIFICATE-----
";

const TEST_LEAF_PEM: &str = "-----BEGIN CERTIFICATE-----
MIIByTCCAW+gAwIBAgIUR4EKp6dSf9P/okGt81AG/eXH+YIwCgYIKoZIzj0EAwIw
ITEfMB0GA1UEAwwWZW5yb2xsLXN0YXRpb24gdGVzdCBDQTAgFw0yNjExMjgyMDUx
MTJaGA8yMTI2MTEwNDIwNTExMlowFDESMBAGA1UEAwwJbG9jYWxob3N0MFkwEwYH
KoZIzj0CAQYIKoZIzj0DAQcDQgAEKP1UVWYJypnrRvM7XFhAwqZquXvQVKj2Buew
0RE39xrQQfYTqk+OwHmng6AtPcvX5hW8OXilyA7Iky942gQvq6OBjzCBjDAJBgNV
HRMEAjAAMA4GA1UdDwEB/wQEAwIHgDATBgNVHSUEDDAKBggrBgEFBQcDATAaBgNV
HREEEzARgglsb2NhbGhvc3SHBH8AAAEwHQYDVR0OBBYEFESzNfpjE4/hwHLzXxph
mYjaASkNMB8GA1UdIwQYMBaAFGMFqDtQOHa2MMgClsZipzxny/6GMAoGCCqGSM49
BAMCA0gAMEUCIQDr37RNTh9IGbxrK+JUPm6cgTaYrsIEBC5p083ylge5PQIgBZkY
54IAXaKgmtEFfCiobfez1+kREVOhViu4ZcnzNHI=
-----END CERTIFICATE-----
";

const TEST_LEAF_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg/Wx96ZoktsSI51Bg
CoRX3DcyFWzyE50VQ6EbY5nA+LyhRANCAAQo/VRVZgnKmetG8ztcWEDCpmq5e9BU
qPYG57DRETf3GtBB9hOqT47AeaeDoC09y9fmFbw5eKXIDsiTL3jaBC+r
-----END PRIVATE KEY-----
";

/// An https server on loopback (blocking rustls on a thread) answering every
/// request with an empty request list (204).
fn tls_server() -> std::net::SocketAddr {
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use std::io::{Read as _, Write as _};
    use std::sync::Arc;

    let certs = vec![
        CertificateDer::from_pem_slice(TEST_LEAF_PEM.as_bytes()).expect("leaf PEM"),
        CertificateDer::from_pem_slice(TEST_CA_PEM.as_bytes()).expect("CA PEM"),
    ];
    let key = PrivateKeyDer::from_pem_slice(TEST_LEAF_KEY.as_bytes()).expect("key PEM");
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocol versions")
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .expect("server certificate");
    let config = Arc::new(config);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().expect("address");
    std::thread::spawn(move || {
        for socket in listener.incoming() {
            let Ok(socket) = socket else { continue };
            let config = Arc::clone(&config);
            std::thread::spawn(move || {
                let _ = socket.set_read_timeout(Some(Duration::from_secs(5)));
                let Ok(connection) = rustls::ServerConnection::new(config) else {
                    return;
                };
                let mut stream = rustls::StreamOwned::new(connection, socket);
                let mut seen = Vec::new();
                let mut buf = [0u8; 1024];
                // A client that distrusts the certificate aborts the handshake here.
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = stream.write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
                stream.conn.send_close_notify();
                let _ = stream.flush();
            });
        }
    });
    addr
}

#[tokio::test]
async fn an_untrusted_certificate_asks_for_ca_file_and_ca_file_fixes_it() {
    let addr = tls_server();
    let server = format!("https://localhost:{}", addr.port());

    let err = client_for(&server)
        .list_requests(None)
        .await
        .expect_err("the test CA is not trusted by the system");
    assert!(
        matches!(
            err,
            CmError::Tls {
                problem: TlsProblem::UnknownIssuer,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("--ca-file"), "{err}");

    let ca_path =
        std::env::temp_dir().join(format!("enroll-station-test-ca-{}.pem", std::process::id()));
    std::fs::write(&ca_path, TEST_CA_PEM).expect("write the CA file");
    let mut config = ClientConfig::new(server);
    config.ca_files = vec![ca_path.clone()];
    let client = CmClient::new(&config).expect("client with the test CA");
    let list = client.list_requests(None).await;
    let _ = std::fs::remove_file(&ca_path);
    assert!(list.expect("trusted through --ca-file").is_empty());
}

/// Everything `tracing` writes while `f` runs on this thread, at every level.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(
            &self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
        .into_owned()
    }
}

fn capture_logs() -> (Captured, tracing::subscriber::DefaultGuard) {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    (captured, tracing::subscriber::set_default(subscriber))
}

#[tokio::test]
async fn the_template_reuse_flag_is_read_cached_and_the_admin_key_never_kept() {
    use enroll_station::cm::emulator::FAKE_DEFAULT_ADMIN_KEY_HEX as KEY;
    let (logs, _guard) = capture_logs();
    let emulator = emulator(3).await;
    let client = client_for(&emulator.base_url());
    let template = client
        .profile_templates()
        .await
        .expect("templates")
        .first()
        .expect("the demo has templates")
        .uuid;
    // CM's default: no reuse.
    assert!(!client.template_allows_reuse(template).await.expect("read"));
    // Read once for the client's life: a switch on the server is seen by a new client.
    emulator.set_template_reuse(template, true);
    assert!(
        !client
            .template_allows_reuse(template)
            .await
            .expect("cached")
    );
    let fresh = client_for(&emulator.base_url());
    assert!(fresh.template_allows_reuse(template).await.expect("read"));

    let unknown = fresh
        .template_allows_reuse(Uuid::from_u128(0xdead))
        .await
        .expect_err("an unknown template");
    assert_eq!(unknown.status(), Some(404), "{unknown:?}");

    emulator.set_faults(Faults {
        forbid_template_config: true,
        ..Faults::default()
    });
    let forbidden = client_for(&emulator.base_url())
        .template_allows_reuse(template)
        .await
        .expect_err("403");
    assert_eq!(forbidden.status(), Some(403));
    let text = forbidden.to_string();
    assert!(
        text.contains("refused to show the smart card configuration of profile template"),
        "{text}"
    );
    for shown in [
        format!("{client:?}"),
        format!("{fresh:?}"),
        format!("{unknown:?} {unknown}"),
        format!("{forbidden:?} {text}"),
        logs.text(),
    ] {
        assert!(!shown.contains(KEY), "{shown}");
    }
}

#[tokio::test]
async fn a_template_configuration_is_read_in_any_case_and_never_quoted() {
    const KEY: &str = "00112233445566778899aabbccddeeff0011223344556677";
    let (logs, _guard) = capture_logs();
    let template = Uuid::from_u128(0x77);
    let lower = format!("{{\"defaultadminkeyhex\":\"{KEY}\",\"allowsmartcardreuse\":\"True\"}}");
    let server = fixed_server(http("200 OK", "application/json", "", &lower)).await;
    let client = client_for(&server);
    assert!(client.template_allows_reuse(template).await.expect("read"));
    assert!(!format!("{client:?}").contains(KEY));
    // A body that is not JSON is described without its text.
    let broken = format!("{{\"DefaultAdminKeyHex\":\"{KEY}\",\"AllowSmartcardReuse\":tru");
    let server = fixed_server(http("200 OK", "application/json", "", &broken)).await;
    let err = client_for(&server)
        .template_allows_reuse(template)
        .await
        .expect_err("not JSON");
    let text = format!("{err} {err:?}");
    assert!(text.contains("its text is not shown"), "{text}");
    assert!(!text.contains(KEY), "{text}");
    assert!(!logs.text().contains(KEY), "{}", logs.text());
}

#[tokio::test]
async fn a_retired_card_is_bound_again_only_where_the_template_allows_reuse() {
    let emulator = emulator(3).await;
    let client = client_for(&emulator.base_url());
    let template = Uuid::from_u128(0x7e);
    let retired = emulator.insert_smartcard(
        &card(5),
        enroll_station::domain::request::SmartcardStatus::RETIRED,
        Uuid::from_u128(0x05),
        template,
    );
    // The request names no template the emulator switched: reuse is off.
    let id = insert_request(&emulator, json!(3));
    let refused = client
        .bind(id, &card(5), &atr())
        .await
        .expect_err("reuse is off");
    assert!(
        refused
            .to_string()
            .contains("does not allow smart card reuse"),
        "{refused}"
    );
    assert_eq!(emulator.bind_count(), 0);

    let mut request = client.get_request(id).await.expect("request");
    request.profile_template = Some(template);
    emulator.insert_domain_request(&request);
    emulator.set_template_reuse(template, true);
    let receipt = client.bind(id, &card(5), &atr()).await.expect("reused");
    assert_eq!(emulator.bind_count(), 1);

    // Two objects now: the server answers a list; the client reads both.
    let all = client
        .smartcards_by_card_id(&card(5))
        .await
        .expect("lookup");
    let mut uuids: Vec<Uuid> = all.iter().map(|c| c.uuid).collect();
    uuids.sort();
    let mut expected = vec![retired, receipt.smartcard_uuid.expect("uuid")];
    expected.sort();
    assert_eq!(uuids, expected);
    let in_use = client
        .smartcard_by_card_id(&card(5))
        .await
        .expect("lookup")
        .expect("known");
    assert_eq!(Some(in_use.uuid), receipt.smartcard_uuid);

    // The card is in use now: refused even though the template allows reuse.
    let other = insert_request(&emulator, json!(3));
    let mut other_request = client.get_request(other).await.expect("request");
    other_request.profile_template = Some(template);
    emulator.insert_domain_request(&other_request);
    let again = client
        .bind(other, &card(5), &atr())
        .await
        .expect_err("in use");
    assert!(again.to_string().contains("is in use"), "{again}");
    assert_eq!(emulator.bind_count(), 1);
}

/// `GET smartcards?cardid=` for a card assigned twice: the reference shows
/// one object and never says which, so each shape the emulator can give is
/// read, and the object in use speaks for the card whenever the server names it.
#[tokio::test]
async fn a_card_record_is_read_from_every_shape_of_the_card_lookup() {
    use enroll_station::cm::emulator::KnownCardAnswer;
    use enroll_station::domain::card_record::CardOperation;
    use enroll_station::domain::request::{RequestType, SmartcardStatus};
    for shape in [
        KnownCardAnswer::ObjectOrList,
        KnownCardAnswer::List,
        KnownCardAnswer::Latest,
    ] {
        let emulator = Emulator::start(EmulatorConfig {
            requests: 2,
            known_card_answer: shape,
            ..EmulatorConfig::default()
        })
        .await
        .expect("emulator");
        let client = client_for(&emulator.base_url());
        assert_eq!(client.card_record(&card(9)).await.expect("lookup"), None);

        let template = Uuid::from_u128(0x7e);
        emulator.insert_smartcard(
            &card(9),
            SmartcardStatus::RETIRED,
            Uuid::from_u128(1),
            template,
        );
        let only = client
            .card_record(&card(9))
            .await
            .expect("lookup")
            .expect("known");
        assert_eq!(only.objects.len(), 1, "{shape:?}");
        assert_eq!(only.operations, Ok(Vec::new()), "a 204 is no operation");
        assert_eq!(only.certificates, Ok(0));

        let active = emulator.insert_smartcard(
            &card(9),
            SmartcardStatus::ACTIVE,
            Uuid::from_u128(2),
            template,
        );
        let record = client
            .card_record(&card(9))
            .await
            .expect("lookup")
            .expect("known");
        let current = record.current().expect("an object");
        assert_eq!(current.uuid, active, "{shape:?}");
        assert_eq!(current.assigned_user, Some(Uuid::from_u128(2)));
        let expected_objects = if shape == KnownCardAnswer::Latest {
            1
        } else {
            2
        };
        assert_eq!(record.objects.len(), expected_objects, "{shape:?}");
        assert_eq!(
            record.operations,
            Ok(vec![
                CardOperation::Known(RequestType::RENEW),
                CardOperation::Known(RequestType::UNBLOCK),
                CardOperation::Known(RequestType::RETIRE),
            ])
        );
        assert_eq!(record.certificates, Ok(2));
    }
}

#[tokio::test]
async fn hostile_operation_names_are_dropped_and_a_forbidden_list_is_kept_as_a_reason() {
    let emulator = emulator(1).await;
    let client = client_for(&emulator.base_url());
    let object = emulator.insert_smartcard(
        &card(11),
        enroll_station::domain::request::SmartcardStatus::ACTIVE,
        Uuid::from_u128(3),
        Uuid::from_u128(0x7e),
    );
    emulator.set_card_operations(
        object,
        vec![
            "unblock".into(),
            "re\u{202e}tire".into(),
            "x".repeat(100_000),
            "Ret\u{0456}re".into(),
        ],
    );
    let ops = client
        .smartcard_operations(object)
        .await
        .expect("operations");
    assert_eq!(ops.len(), 1, "{ops:?}");
    assert_eq!(ops[0].to_string(), "Unblock");

    // A server that refuses the operations still answers the lookup.
    let server = fixed_server(http(
        "403 Forbidden",
        "text/html",
        "",
        "<html><title>403 - Forbidden: Access is denied.</title></html>",
    ))
    .await;
    let refused = client_for(&server)
        .smartcard_operations(object)
        .await
        .expect_err("403");
    let text = refused.to_string();
    assert!(
        text.contains("to list what may be done with smart card object"),
        "{text}"
    );
    assert!(!text.contains("enrollment agent"), "{text}");
}

#[tokio::test]
async fn unknown_single_objects_are_not_found_whether_answered_204_or_404() {
    use enroll_station::cm::emulator::UnknownObjectAnswer;
    for answer in [
        UnknownObjectAnswer::NoContent,
        UnknownObjectAnswer::NotFound,
    ] {
        let emulator = Emulator::start(EmulatorConfig {
            requests: 1,
            unknown_object: answer,
            ..EmulatorConfig::default()
        })
        .await
        .expect("emulator");
        let client = client_for(&emulator.base_url());
        let missing = Uuid::from_u128(0xdead);
        for error in [
            client.get_request(missing).await.expect_err("no request"),
            client.smartcard(missing).await.expect_err("no smart card"),
        ] {
            assert!(
                matches!(error, CmError::NotFound { .. }),
                "{answer:?}: {error:?}"
            );
        }
        assert_eq!(
            client.smartcard_operations(missing).await.ok(),
            if answer == UnknownObjectAnswer::NoContent {
                Some(Vec::new())
            } else {
                None
            },
            "{answer:?}"
        );
    }
}
