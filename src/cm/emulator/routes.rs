//! The emulator's routing and its read-only calls: requests, smart cards
//! (with their operations and certificates) and profile templates.

use super::*;

// ---------------------------------------------------------------------------
// Routing
// ---------------------------------------------------------------------------

pub(super) async fn dispatch(
    State(state): State<Shared>,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> Response {
    let response = route(&state, &method, &uri, &body).await;
    tracing::debug!(%method, path = uri.path(), status = response.status().as_u16(), "CM emulator");
    response
}

pub(super) async fn route(state: &Shared, method: &Method, uri: &Uri, body: &[u8]) -> Response {
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
        (["requests"], &Method::POST) => lifecycle::create_request(state, body),
        (["requests", _, "smartcards", _, "authenticationresponse"], &Method::GET) => {
            lifecycle::authentication_response(state, &segments[1], &segments[3], &query)
        }
        (["profiletemplates", _, "policies", _], &Method::GET) => {
            let url = lifecycle::PolicyUrl::Policies;
            lifecycle::workflow_policy(state, uri, url, &segments[1], &segments[3])
        }
        (["profiletemplates", _, "policy", "workflow", _], &Method::GET) => {
            let url = lifecycle::PolicyUrl::PolicyWorkflow;
            lifecycle::workflow_policy(state, uri, url, &segments[1], &segments[4])
        }
        (["requests", _], &Method::GET) => get_request(state, &segments[1]),
        (["requests", _], &Method::PUT) => put_request(state, &segments[1], body),
        (["requests", _, "smartcards", _], &Method::PUT) => {
            update_card_status(state, &segments[1], &segments[3], parse_status_body(body))
        }
        (["requests", _, "smartcards", _], &Method::GET) if lock(state).card_status_get => {
            let status = match query_value(&query, "status") {
                Some(text) => Ok(status_value(text)),
                None => Err(BadBody::NoStatusParameter),
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
            | ["profiletemplates", _, "configuration", "smartcards"]
            | ["requests", _, "smartcards", _, "authenticationresponse"]
            | ["profiletemplates", _, "policies", _]
            | ["profiletemplates", _, "policy", "workflow", _],
            _,
        ) => method_not_allowed(method),
        _ => no_route(uri),
    }
}

/// Query parameters with lower-cased names (ASP.NET binds them case-insensitively).
pub(super) fn parse_query(query: Option<&str>) -> Vec<(String, String)> {
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

pub(super) fn query_value<'a>(query: &'a [(String, String)], key: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

pub(super) async fn list_requests(state: &Shared, query: &[(String, String)]) -> Response {
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

pub(super) fn get_request(state: &Shared, id: &str) -> Response {
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
pub(super) fn unknown_object(state: &EmulatorState, what: &str, uuid: Uuid) -> Response {
    match state.unknown_object {
        UnknownObjectAnswer::NoContent => no_content(),
        UnknownObjectAnswer::NotFound => message(
            StatusCode::NOT_FOUND,
            format!("The {what} {} was not found.", guid_to_wire(uuid)),
        ),
    }
}

pub(super) fn smartcard_json(card: &WireSmartcard) -> Value {
    Value::Object(wire_object(card))
}

/// `GET smartcards?cardid=`, shaped by [`KnownCardAnswer`].
pub(super) fn smartcard_by_card_id(state: &Shared, text: &str) -> Response {
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
pub(super) fn callers_smartcards(state: &Shared) -> Response {
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
pub(super) fn objects_of_card(
    state: &EmulatorState,
    card_id: Uuid,
) -> impl Iterator<Item = &WireSmartcard> {
    state
        .smartcards
        .iter()
        .filter(move |c| c.serial_number.as_deref().and_then(parse_guid) == Some(card_id))
}

/// A template's `AllowSmartcardReuse`.
pub(super) fn reuse_allowed(state: &EmulatorState, template: Uuid) -> bool {
    state
        .template_reuse
        .get(&template)
        .copied()
        .unwrap_or(state.default_reuse)
}

/// `GET profiletemplates/{id}/configuration/smartcards`, with the fields of
/// the SDK's `SmartcardConfig` a station might see, the default admin key among them.
pub(super) fn template_smartcard_config(state: &Shared, id: &str) -> Response {
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

pub(super) fn get_smartcard(state: &Shared, id: &str) -> Response {
    let Some(uuid) = parse_guid(id) else {
        return bad_request(format!("'{id}' is not a valid smart card ID."));
    };
    let state = lock(state);
    match find_smartcard(&state, uuid) {
        Some(card) => json_response(StatusCode::OK, &smartcard_json(card)),
        None => unknown_object(&state, "smart card", uuid),
    }
}

pub(super) fn find_smartcard(state: &EmulatorState, uuid: Uuid) -> Option<&WireSmartcard> {
    state
        .smartcards
        .iter()
        .find(|c| c.parsed_uuid() == Some(uuid))
}

pub(super) fn profile_templates(state: &Shared) -> Response {
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
pub(super) const SMARTCARD_STATUSES: [(&str, i64); 5] = [
    ("New", 0),
    ("Assigned", 1),
    ("Active", 2),
    ("Disabled", 3),
    ("Retired", 6),
];

/// RequestStatus names and numbers as `enums.md` gives them (None inferred).
pub(super) const REQUEST_STATUSES: [(&str, i64); 8] = [
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
pub(super) fn status_number(table: &[(&str, i64)], value: &Value) -> Option<i64> {
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
pub(super) fn status_name(table: &[(&str, i64)], number: Option<i64>) -> String {
    match number {
        Some(n) => table
            .iter()
            .find(|&&(_, v)| v == n)
            .map_or_else(|| format!("Unknown({n})"), |&(name, _)| name.to_owned()),
        None => "without a status".to_owned(),
    }
}

/// A stored smart card object's status number.
pub(super) fn smartcard_status_number(card: &WireSmartcard) -> Option<i64> {
    match card.status.as_ref()? {
        WireEnum::Number(n) => Some(*n),
        WireEnum::Name(name) => status_number(&SMARTCARD_STATUSES, &Value::String(name.clone())),
    }
}

/// The operations get-profile-state-operations would list for an object in
/// this status when none were set: its example (`renew`, `unblock`,
/// `retire`) for an Active card; only `retire` for a card not yet in use.
pub(super) fn default_operations(status: Option<i64>) -> Vec<String> {
    let names: &[&str] = match status {
        Some(2) => &["renew", "unblock", "retire"],
        Some(0 | 1) => &["retire"],
        _ => &[],
    };
    names.iter().map(|&n| n.to_owned()).collect()
}

/// `GET smartcards/{id}/operations`: lower-case names of the operations the
/// signed-in user may start; 204 for none.
pub(super) fn card_operations(state: &Shared, id: &str) -> Response {
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
pub(super) fn card_certificates(state: &Shared, id: &str) -> Response {
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
pub(super) fn certificate_json(smartcard: Uuid, index: usize) -> Value {
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
