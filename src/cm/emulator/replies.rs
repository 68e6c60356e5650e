//! The emulator's answers as ASP.NET and IIS shape them: JSON messages,
//! IIS error pages, 204s, and the bearer refusal.

use super::*;

// ---------------------------------------------------------------------------
// Authentication
// ---------------------------------------------------------------------------

/// What ASP.NET Web API answers for a call its `[Authorize]` refuses.
pub(super) const UNAUTHORIZED_MESSAGE: &str = "Authorization has been denied for this request.";

pub(super) async fn require_bearer(
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
pub(super) fn bearer_refusal(
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
pub(super) fn same_token(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

// ---------------------------------------------------------------------------
// Answers
// ---------------------------------------------------------------------------

pub(super) fn json_response(status: StatusCode, body: &Value) -> Response {
    json_text_response(status, body.to_string())
}

pub(super) fn json_text_response(status: StatusCode, text: String) -> Response {
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

pub(super) fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

pub(super) fn message(status: StatusCode, text: impl Into<String>) -> Response {
    json_response(status, &json!({ "Message": text.into() }))
}

pub(super) fn bad_request(detail: impl Into<String>) -> Response {
    json_response(
        StatusCode::BAD_REQUEST,
        &json!({ "Message": "The request is invalid.", "MessageDetail": detail.into() }),
    )
}

/// What ASP.NET answers for a path no controller serves.
pub(super) fn no_route(uri: &Uri) -> Response {
    message(
        StatusCode::NOT_FOUND,
        format!("No HTTP resource was found that matches the request URI '{uri}'."),
    )
}

/// What IIS answers for a path outside any application.
pub(super) fn iis_page(status: StatusCode, title: &str) -> Response {
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
pub(super) fn server_error(state: &mut EmulatorState, reason: &str) -> Response {
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

pub(super) fn method_not_allowed(method: &Method) -> Response {
    message(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("The requested resource does not support http method '{method}'."),
    )
}
