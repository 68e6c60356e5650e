//! The PUT calls: a request's status (Completed, Canceled, Abandoned) and a
//! smart card's status, with the transitions the emulator allows.

use super::*;

// ---------------------------------------------------------------------------
// Request and smart card status (PUT)
// ---------------------------------------------------------------------------

/// The `status` of a PUT body, read as Json.NET reads it: the key in any
/// case, a name or a number (also a number in a string).
pub(super) fn parse_status_body(body: &[u8]) -> Result<Value, BadBody> {
    let Value::Object(object) = parse_body(body)? else {
        return Err(BadBody::NotObject {
            shape: "{\"status\"}",
        });
    };
    match get_key(&object, "status") {
        Some(status @ (Value::String(_) | Value::Number(_))) => Ok(status.clone()),
        Some(other) => Err(BadBody::NotStatus(other.clone())),
        None => Err(BadBody::Missing("status")),
    }
}

/// A status given in a query string.
pub(super) fn status_value(text: &str) -> Value {
    Value::String(text.to_owned())
}

/// What `PUT requests/{id}` may set (cancel-abandon-complete-request).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum RequestMark {
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
    /// `cm-api.md` section 6, item 3), so it is a switch
    /// ([`super::lifecycle::Transitions`]); by default Canceled before
    /// execution (Pending, Approved), Abandoned once approved (Approved,
    /// Executing), Completed from Executing.
    fn allowed_from(self, rule: super::lifecycle::Transitions) -> &'static [(&'static str, i64)] {
        rule.allowed_from(self.name())
    }
}

/// `PUT requests/{id}` `{"status":"Completed"|"Canceled"|"Abandoned"}`.
pub(super) fn put_request(shared: &Shared, id: &str, body: &[u8]) -> Response {
    let Some(uuid) = parse_guid(id) else {
        return bad_request(format!("'{id}' is not a valid request ID."));
    };
    let status = match parse_status_body(body) {
        Ok(status) => status,
        Err(detail) => return bad_request(detail.to_string()),
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
    let allowed = mark.allowed_from(state.lifecycle.rules.transitions);
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
    let answer = match state.put_answer {
        PutAnswer::Object => state.requests[index].response(),
        PutAnswer::NoContent => no_content(),
    };
    super::lifecycle::maybe_drop(&mut state, answer)
}

/// The current time as CM writes dates.
pub(super) fn now_timestamp() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
    demo_data::format_timestamp(secs, now.subsec_millis() / 10)
}

/// Whether the smart card object belongs to the request: the request names
/// it (`NewSmartcardUuid`, `OldSmartcardUuid`) or a bind made it for it.
pub(super) fn card_of_request(
    state: &EmulatorState,
    index: usize,
    request: Uuid,
    card: Uuid,
) -> bool {
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
pub(super) fn update_card_status(
    shared: &Shared,
    request_id: &str,
    card_id: &str,
    status: Result<Value, BadBody>,
) -> Response {
    let Some(request) = parse_guid(request_id) else {
        return bad_request(format!("'{request_id}' is not a valid request ID."));
    };
    let Some(card) = parse_guid(card_id) else {
        return bad_request(format!("'{card_id}' is not a valid smart card ID."));
    };
    let status = match status {
        Ok(status) => status,
        Err(detail) => return bad_request(detail.to_string()),
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
