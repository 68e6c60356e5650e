//! Tests of the client's rules that need no server (the HTTP ones are in
//! tests/cm_client.rs).

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
        // Names are never loopback: only literal addresses are.
        ("http://localhost/", false),
        ("http://LOCALHOST:9/", false),
        ("http://cm.localhost/", false),
        ("http://127.0.0.1.nip.io/", false),
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
    assert!(CmClient::new(&ClientConfig::new("http://127.0.0.1:1")).is_ok());
    assert!(CmClient::new(&ClientConfig::new("http://[::1]:1")).is_ok());
    for name in ["http://localhost:1", "http://cm.localhost"] {
        let err = CmClient::new(&ClientConfig::new(name)).expect_err("a name is not loopback");
        assert!(matches!(err, CmError::InsecureHttp { .. }), "{name}: {err}");
    }
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
