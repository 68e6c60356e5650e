//! Tests of the operator's words for each error.

use super::*;

const URL: &str = "https://cm.contoso.com/CertificateManagement/api/v1.0/requests/a9b4b42c-cc50-4c9b-89d1-bbc0bcd5a099";
const CID: &str = "5f4b1c2e-9a57-4a53-9a0c-6f0c1f9e0b11";

#[test]
fn json_object_message_and_correlation_id() {
    let body = format!(
        "{{\"Message\":\"Request a9b4b42c-cc50-4c9b-89d1-bbc0bcd5a099 already has a smart card. Correlation ID: {CID}\"}}"
    );
    let err = CmError::from_response(500, Some("application/json"), body.as_bytes(), URL, None);
    assert_eq!(err.correlation_id(), Some(CID));
    assert_eq!(err.status(), Some(500));
    let text = err.to_string();
    assert!(text.contains("already has a smart card"), "{text}");
    assert!(
        text.contains(&format!("Correlation ID: {CID}. Give this correlation ID")),
        "{text}"
    );
    assert!(text.contains("event log"), "{text}");
}

#[test]
fn the_url_guid_is_never_the_correlation_id() {
    let body = "{\"Message\":\"Request a9b4b42c-cc50-4c9b-89d1-bbc0bcd5a099 failed\"}";
    let err = CmError::from_response(500, None, body.as_bytes(), URL, None);
    assert_eq!(err.correlation_id(), None);
    assert!(err.to_string().contains("gave no correlation ID"));
}

#[test]
fn exception_message_is_added() {
    let body = format!(
        "{{\"Message\":\"An error has occurred.\",\"ExceptionMessage\":\"CM error, correlation ID {CID}\",\"ExceptionType\":\"X\"}}"
    );
    let parsed = ErrorBody::parse(None, body.as_bytes(), URL);
    assert_eq!(parsed.kind, BodyKind::Json);
    assert_eq!(
        parsed.message.as_deref(),
        Some(format!("An error has occurred. CM error, correlation ID {CID}").as_str())
    );
    assert_eq!(parsed.correlation_id.as_deref(), Some(CID));
}

#[test]
fn bare_json_string_plain_text_and_empty() {
    let parsed = ErrorBody::parse(
        None,
        format!("\"Failed. Correlation ID: {CID}\"").as_bytes(),
        URL,
    );
    assert_eq!(parsed.kind, BodyKind::Json);
    assert_eq!(
        parsed.message.as_deref(),
        Some(format!("Failed. Correlation ID: {CID}").as_str())
    );
    assert_eq!(parsed.correlation_id.as_deref(), Some(CID));

    let parsed = ErrorBody::parse(Some("text/plain"), b"  Service\n Unavailable \0", URL);
    assert_eq!(parsed.kind, BodyKind::Text);
    assert_eq!(parsed.message.as_deref(), Some("Service Unavailable"));

    let parsed = ErrorBody::parse(None, b"", URL);
    assert_eq!(parsed.kind, BodyKind::Empty);
    assert_eq!(parsed.message, None);
    let err = CmError::from_response(502, None, b"", URL, None);
    assert!(err.to_string().contains("no message (HTTP 502)"));
}

#[test]
fn iis_html_page_gives_its_title() {
    let page = "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Strict//EN\">\r\n<html><head>\
        <title>403 - Forbidden: Access is denied.</title><style>body{}</style></head>\
        <body><div id=\"header\"><h1>Server Error</h1></div>\
        <h2>403 - Forbidden: Access is denied.</h2></body></html>";
    let bind = Call::Bind {
        request: Uuid::from_u128(1),
        card_id: CardId::from_raw([7; 16]),
    };
    let err = CmError::for_call(&bind, 403, Some("text/html"), page.as_bytes(), URL);
    let text = err.to_string();
    assert!(
        text.contains("not an authorized enrollment agent"),
        "{text}"
    );
    assert!(
        text.contains("\"403 - Forbidden: Access is denied.\""),
        "{text}"
    );
    assert!(text.contains("CM administrator"), "{text}");
    assert_eq!(err.correlation_id(), None);
}

#[test]
fn html_without_title_is_stripped_and_shortened() {
    let long = "word ".repeat(200);
    let page = format!("<html><body><h1>Bad &amp; worse</h1><p>{long}</p></body></html>");
    let parsed = ErrorBody::parse(None, page.as_bytes(), URL);
    assert_eq!(parsed.kind, BodyKind::Html);
    let message = parsed.message.expect("message");
    assert!(message.starts_with("Bad & worse word"), "{message}");
    assert!(message.chars().count() <= MAX_MESSAGE_CHARS + 1);
    assert!(message.ends_with('…'));
}

#[test]
fn not_found_for_an_object_versus_the_api() {
    let body = b"{\"Message\":\"The request was not found.\"}";
    let err = CmError::from_response(404, None, body, URL, Some("Request a9b4b42c"));
    assert!(matches!(err, CmError::NotFound { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("Request a9b4b42c was not found")
    );

    let routing = b"{\"Message\":\"No HTTP resource was found that matches the request URI 'x'.\"}";
    for (body, object) in [
        (&routing[..], Some("Request a9b4b42c")),
        (
            &b"<html><title>404 - File or directory not found.</title></html>"[..],
            Some("x"),
        ),
        (&b""[..], Some("x")),
        (&body[..], None),
    ] {
        let err = CmError::from_response(404, None, body, URL, object);
        assert!(matches!(err, CmError::ApiNotEnabled { .. }), "{err:?}");
        let text = err.to_string();
        assert!(text.contains("REST API is not enabled"), "{text}");
        assert!(text.contains("Clm.WebApi.Enabled"), "{text}");
    }
}

#[test]
fn unauthorized_and_rejected() {
    let err = CmError::from_response(401, None, b"", URL, None);
    assert!(
        err.to_string()
            .contains("Authentication to the CM server failed")
    );
    assert_eq!(err.status(), Some(401));
    let err = CmError::from_response(
        400,
        None,
        b"{\"Message\":\"The request is invalid.\"}",
        URL,
        None,
    );
    assert!(
        err.to_string()
            .contains("HTTP 400: the server said \"The request is invalid.\"")
    );
}

#[test]
fn correlation_prefers_the_marked_guid() {
    let other = "11111111-2222-3333-4444-555555555555";
    let text = format!("Card {other} refused. Correlation ID: {CID}");
    assert_eq!(find_correlation_id(&text, &[]).as_deref(), Some(CID));
    // A GUID nobody called a correlation ID is not one (issue 15).
    let text = format!("Card {other} refused.");
    assert_eq!(find_correlation_id(&text, &[]), None);
    assert_eq!(
        find_correlation_id("x1111111-2222-3333-4444-555555555555", &[]),
        None
    );
    assert_eq!(
        find_correlation_id("00000000-0000-0000-0000-000000000000", &[]),
        None
    );
}

#[test]
fn outcome_unknown_only_for_lost_answers() {
    let timeout = CmError::Timeout {
        what: crate::cm::error::CallName::new(&reqwest::Method::POST, "smartcards"),
        after: Duration::from_secs(30),
    };
    assert!(timeout.outcome_unknown());
    let text = timeout.to_string();
    assert!(
        text.contains("did not answer within 30 s during POST smartcards"),
        "{text}"
    );
    assert!(text.contains("may have happened anyway"), "{text}");
    let list = CmError::Timeout {
        what: crate::cm::error::CallName::new(&reqwest::Method::GET, "requests"),
        after: Duration::from_millis(300),
    };
    assert!(!list.to_string().contains("bind"), "{list}");
    assert!(list.to_string().contains("0.3 s"), "{list}");
    let connect = CmError::Connect {
        host: "cm:443".into(),
        detail: "refused".into(),
    };
    assert!(!connect.outcome_unknown());
    let failure = CmError::from_response(
        500,
        None,
        format!("\"x. Correlation ID: {CID}\"").as_bytes(),
        URL,
        None,
    )
    .to_failure();
    assert_eq!(failure.correlation_id.as_deref(), Some(CID));
}

#[test]
fn a_guid_without_a_correlation_marker_is_no_correlation_id() {
    let request = Uuid::parse_str("a9b4b42c-cc50-4c9b-89d1-bbc0bcd5a099").expect("GUID");
    let card_id = CardId::from_raw([0x3f; 16]);
    let bind = Call::Bind { request, card_id };
    let url = "https://cm.contoso.com/CertificateManagement/api/v1.0/smartcards";
    // The bind's URL has no GUID: the old rule took the request's GUID.
    let body = format!(
        "{{\"Message\":\"Request {request} is not in a valid state for card {card_id}.\"}}"
    );
    for err in [
        CmError::for_call(&bind, 500, None, body.as_bytes(), url),
        CmError::from_response(500, None, body.as_bytes(), url, None),
    ] {
        assert_eq!(err.correlation_id(), None, "{err:?}");
        let text = err.to_string();
        assert!(text.contains("gave no correlation ID"), "{text}");
        assert!(!text.contains("Correlation ID:"), "{text}");
    }
    let unmarked = format!(
        "{{\"Message\":\"An error has occurred.\",\"ExceptionMessage\":\"CM error {CID}\"}}"
    );
    assert_eq!(
        ErrorBody::parse(None, unmarked.as_bytes(), url).correlation_id,
        None
    );
    // A marker far from the GUID (another sentence) does not reach it.
    let far = format!("Correlation is logged by the server for every error. Card {CID} refused.");
    assert_eq!(find_correlation_id(&far, &[]), None);
}

#[test]
fn a_marked_guid_is_the_correlation_id_unless_the_station_sent_it() {
    let request = Uuid::parse_str("a9b4b42c-cc50-4c9b-89d1-bbc0bcd5a099").expect("GUID");
    let bind = Call::Bind {
        request,
        card_id: CardId::from_raw([0x3f; 16]),
    };
    let url = "https://cm.contoso.com/CertificateManagement/api/v1.0/smartcards";
    let marked = format!("{{\"Message\":\"Request {request} failed. Correlation ID: {{{CID}}}\"}}");
    let err = CmError::for_call(&bind, 500, None, marked.as_bytes(), url);
    assert_eq!(err.correlation_id(), Some(CID));
    let keyed = format!("{{\"Message\":\"An error has occurred.\",\"CorrelationId\":\"{CID}\"}}");
    assert_eq!(
        ErrorBody::parse(None, keyed.as_bytes(), url)
            .correlation_id
            .as_deref(),
        Some(CID)
    );
    // The station's own request ID after the marker is still not one.
    let echoed = format!("{{\"Message\":\"correlation id {request}\"}}");
    let err = CmError::for_call(&bind, 500, None, echoed.as_bytes(), url);
    assert_eq!(err.correlation_id(), None, "{err:?}");
    // Nor is the card ID, in CM's form or in card byte order.
    let card_id = CardId::from_raw([0x3f; 16]);
    for form in [
        card_id.to_cm_string(),
        Uuid::from_bytes(*card_id.raw()).to_string(),
    ] {
        let echoed = format!("\"Correlation ID: {form}\"");
        let err = CmError::for_call(&bind, 500, None, echoed.as_bytes(), url);
        assert_eq!(err.correlation_id(), None, "{form}");
    }
}

#[test]
fn each_403_says_what_was_refused() {
    let request = Uuid::from_u128(0xabc);
    let card_id = CardId::from_raw([9; 16]);
    let body = b"{\"Message\":\"Access denied.\"}";
    let text = |call: Call| CmError::for_call(&call, 403, None, body, URL).to_string();
    let bind = text(Call::Bind { request, card_id });
    assert!(
        bind.contains("refused to bind the card to request"),
        "{bind}"
    );
    assert!(
        bind.contains("not an authorized enrollment agent"),
        "{bind}"
    );
    assert!(bind.contains("another enrollment agent"), "{bind}");
    assert!(bind.contains("\"Access denied.\""), "{bind}");
    let others = [
        (Call::ListRequests, "refused to list the requests"),
        (Call::GetRequest { request }, "refused to show request"),
        (Call::FindCard { card_id }, "refused to look up card"),
        (
            Call::GetSmartcard { smartcard: request },
            "refused to show smart card object",
        ),
        (
            Call::TemplateConfig { template: request },
            "refused to show the smart card configuration of profile template",
        ),
        (
            Call::ProfileTemplates,
            "refused to list the profile templates",
        ),
    ];
    let mut seen = vec![bind];
    for (call, words) in others {
        let t = text(call);
        assert!(t.contains(words), "{t}");
        assert!(t.contains("HTTP 403"), "{t}");
        assert!(!t.contains("enrollment agent"), "{t}");
        assert!(!seen.contains(&t), "{t}");
        seen.push(t);
    }
    let generic = CmError::from_response(403, None, body, URL, None).to_string();
    assert!(!generic.contains("enrollment agent"), "{generic}");
}

#[test]
fn a_redirect_or_an_oversized_answer_is_an_unknown_outcome_in_words() {
    let post = CmError::Redirected {
        what: crate::cm::error::CallName::new(&reqwest::Method::POST, "smartcards"),
        status: 302,
        location: Some("https://sts.contoso.com/adfs/ls/?wa=wsignin1.0".into()),
    };
    assert!(post.outcome_unknown());
    assert_eq!(post.status(), Some(302));
    let text = post.to_string();
    assert!(text.contains("redirect (HTTP 302)"), "{text}");
    assert!(text.contains("sts.contoso.com/adfs/ls/"), "{text}");
    assert!(text.contains("sign-in front end"), "{text}");
    assert!(text.contains("Sign in again"), "{text}");
    assert!(text.contains("not known"), "{text}");
    assert!(!text.contains("bound"), "{text}");
    let get = CmError::Redirected {
        what: crate::cm::error::CallName::new(&reqwest::Method::GET, "requests"),
        status: 301,
        location: None,
    };
    assert!(!get.to_string().contains("bind"), "{get}");
    let big = CmError::TooLarge {
        what: crate::cm::error::CallName::new(&reqwest::Method::GET, "requests/x"),
        limit: 1024 * 1024,
    };
    assert!(big.to_string().contains("larger than 1 MiB"), "{big}");
    assert!(big.outcome_unknown());
}

#[test]
fn a_servers_message_is_one_clean_line_whatever_it_holds() {
    let body = "{\"Message\":\"Bad\\u001b[2K\\r\\nthing\\u009b31m\",\
                \"ExceptionMessage\":\"\\u202eevil\\u200b\\u2028more\"}";
    let parsed = ErrorBody::parse(Some("application/json"), body.as_bytes(), URL);
    assert_eq!(
        parsed.message.as_deref(),
        Some("Bad<U+001B>[2K thing<U+009B>31m <U+202E>evil<U+200B> more")
    );
    let text = CmError::from_response(500, None, body.as_bytes(), URL, None).to_string();
    assert!(
        !text.contains(['\u{1b}', '\u{9b}', '\u{202e}', '\u{200b}', '\n', '\r']),
        "{text:?}"
    );
    let plain = ErrorBody::parse(Some("text/plain"), "x\u{1b}]52;c;aGk=\u{7}".as_bytes(), URL);
    assert_eq!(
        plain.message.as_deref(),
        Some("x<U+001B>]52;c;aGk=<U+0007>")
    );
}
