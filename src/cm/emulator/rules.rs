//! The bind as CM applies it: the body, the rules that refuse a request or a
//! card, the commit, and the faults that lose or disguise the answer.

use super::*;

/// The bind body, read the way Json.NET reads it: keys in any case, GUIDs in any dress.
pub(super) struct BindInput {
    pub(super) request: Uuid,
    pub(super) card_id: Uuid,
    pub(super) atr: Atr,
}

/// What the emulator refuses in a call's body (or, for the GET form of a status
/// change, its query), in the `MessageDetail` of its 400.
#[derive(Debug, thiserror::Error)]
pub(super) enum BadBody {
    #[error("The body is not UTF-8 text.")]
    NotUtf8,
    #[error("The body is not JSON: {0}.")]
    NotJson(serde_json::Error),
    /// `shape` lists the keys the call takes.
    #[error("The body must be a JSON object {shape}.")]
    NotObject { shape: &'static str },
    #[error("The body has no {0}.")]
    Missing(&'static str),
    #[error("{key} '{text}' is not a GUID.")]
    NotGuid { key: &'static str, text: String },
    #[error("atr '{0}' is not hex.")]
    NotHex(String),
    #[error("The status {0} is not a name or a number.")]
    NotStatus(Value),
    /// The GET form of a status change without its query parameter.
    #[error("The status parameter is required.")]
    NoStatusParameter,
    /// `datacollection` as text that is not a JSON array.
    #[error("datacollection '{0}' is not a JSON array.")]
    DataCollectionText(String),
    /// `datacollection` in a form the rule
    /// ([`super::lifecycle::DataCollectionForm`]) refuses; `accepted` names
    /// the forms it takes.
    #[error("datacollection {value} is not in a form this server reads ({accepted}).")]
    DataCollectionShape {
        value: Value,
        accepted: &'static str,
    },
    /// A `datacollection` item that is neither `{Name, Value}` nor `{name: value}`.
    #[error("datacollection item {0} is not an object.")]
    DataCollectionItem(Value),
}

/// The body's text as JSON, read the way the server reads it.
pub(super) fn parse_body(body: &[u8]) -> Result<Value, BadBody> {
    let text = std::str::from_utf8(body).map_err(|_| BadBody::NotUtf8)?;
    parse_lenient_json(text).map_err(BadBody::NotJson)
}

pub(super) fn parse_bind_body(body: &[u8]) -> Result<BindInput, BadBody> {
    let Value::Object(object) = parse_body(body)? else {
        return Err(BadBody::NotObject {
            shape: "{\"requestid\",\"cardid\",\"atr\"}",
        });
    };
    let field = |name: &'static str| {
        object
            .iter()
            .find(|(k, _)| k.trim().eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.as_str())
            .map(str::to_owned)
            .ok_or(BadBody::Missing(name))
    };
    let guid = |key: &'static str| {
        let text = field(key)?;
        parse_guid(&text).ok_or(BadBody::NotGuid { key, text })
    };
    let request = guid("requestid")?;
    let card_id = guid("cardid")?;
    let atr_text = field("atr")?;
    let atr = Atr::parse_hex(&atr_text)
        .filter(|a| !a.is_empty())
        .ok_or(BadBody::NotHex(atr_text))?;
    Ok(BindInput {
        request,
        card_id,
        atr,
    })
}

/// A front end's sign-in page: what a proxy answers in CM's place.
pub(super) fn sign_in_page(status: StatusCode) -> Response {
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
pub(super) fn front_end_redirect(state: &mut EmulatorState, body: &[u8]) -> Option<Response> {
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

pub(super) async fn bind(shared: &Shared, body: &[u8]) -> Response {
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
pub(super) fn state_committed(response: &Response) -> bool {
    response.status() == StatusCode::CREATED || response.extensions().get::<Committed>().is_some()
}

/// Marks a fault answer sent after the bind was committed.
#[derive(Clone, Copy)]
pub(super) struct Committed;

/// Replaces a committed bind's 201 by the configured after-commit fault, if any.
pub(super) fn lose_answer(state: &mut EmulatorState, created: Response) -> Response {
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
pub(super) fn takes_no_card(request: &Request, request_id: &str) -> Option<String> {
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
pub(super) fn card_not_reusable(
    state: &EmulatorState,
    card_id: Uuid,
    request: &Request,
) -> Option<String> {
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
pub(super) fn wrong_request(state: &mut EmulatorState, reason: &str) -> Response {
    tracing::debug!(reason, "CM emulator refuses a request that takes no card");
    match state.wrong_request {
        WrongRequestAnswer::ServerError => server_error(state, reason),
        WrongRequestAnswer::BadRequest => bad_request(reason),
        WrongRequestAnswer::Forbidden => message(StatusCode::FORBIDDEN, reason),
        WrongRequestAnswer::Conflict => message(StatusCode::CONFLICT, reason),
    }
}

pub(super) fn commit_bind(state: &mut EmulatorState, body: &[u8]) -> Response {
    if state.faults.forbid_binds {
        return iis_page(StatusCode::FORBIDDEN, "403 - Forbidden: Access is denied.");
    }
    let input = match parse_bind_body(body) {
        Ok(input) => input,
        Err(detail) => return bad_request(detail.to_string()),
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
