//! `GET requests/{r}/smartcards/{s}/authenticationresponse`
//! (get-smartcard-authentication-response): the offline unblock's answer
//! to a card's challenge. Apart from the request routes because it is the
//! one route that computes a secret: the admin key, its diversification and
//! the 3DES ([`super::des`]) stay here.

use base64::Engine as _;

use super::des;
use super::*;

/// The 24-byte key behind [`FAKE_DEFAULT_ADMIN_KEY_HEX`].
fn default_admin_key() -> [u8; 24] {
    let mut key = [0u8; 24];
    if let Ok(bytes) = hex::decode(FAKE_DEFAULT_ADMIN_KEY_HEX) {
        let n = bytes.len().min(24);
        key[..n].copy_from_slice(&bytes[..n]);
    }
    key
}

/// The card's admin key when the template diversifies it. CM's default
/// diversification provider derives it from the card and a certificate hash
/// by an algorithm Microsoft does not publish (support tip "FIM CM 2010 / MIM
/// CM 2016 Admin Key Diversification and Certificate Renewal"). This is a
/// documented stand-in: the 16 card ID bytes (card order) encrypted with
/// the template's key, the first 8 bytes repeated as K3.
fn diversified_key(key: &[u8; 24], card_id: &[u8; 16]) -> Option<[u8; 24]> {
    let derived = des::tdes_ecb_encrypt(key, card_id)?;
    let mut out = [0u8; 24];
    out[..16].copy_from_slice(&derived);
    out[16..].copy_from_slice(&derived[..8]);
    Some(out)
}

/// `GET requests/{r}/smartcards/{s}/authenticationresponse?cardid=&challenge=&diversified=`:
/// the card's challenge encrypted with its admin key, 3DES in ECB mode,
/// as the minidriver's `CardAuthenticateChallenge` expects from a Base CSP
/// card with a 3DES admin key; base64 in a JSON string. The reference's
/// example (challenge `1hFD+cz/0so=`, `diversified=False`, answer
/// `"F0Zudm4wPLY="`) is exactly that under an all-zero key.
pub(in crate::cm::emulator) fn authentication_response(
    shared: &Shared,
    request_id: &str,
    card_id: &str,
    query: &[(String, String)],
) -> Response {
    let Some(request) = parse_guid(request_id) else {
        return bad_request(format!("'{request_id}' is not a valid request ID."));
    };
    let Some(card) = parse_guid(card_id) else {
        return bad_request(format!("'{card_id}' is not a valid smart card ID."));
    };
    let mut state = lock(shared);
    let Some(serial) = query_value(query, "cardid").and_then(parse_guid) else {
        return bad_request("The cardid parameter is required and must be a GUID.");
    };
    let Some(challenge) = query_value(query, "challenge")
        .and_then(|c| {
            base64::engine::general_purpose::STANDARD
                .decode(c.trim())
                .ok()
        })
        .filter(|c| !c.is_empty() && c.len() <= 32 && c.len().is_multiple_of(8))
    else {
        return bad_request(
            "The challenge parameter is required: the card's challenge in base64 (8 bytes for a \
             3DES admin key).",
        );
    };
    let diversified = match (
        query_value(query, "diversified").map(str::trim),
        state.lifecycle.rules.diversified,
    ) {
        (Some(v), _) if v.eq_ignore_ascii_case("true") => true,
        (Some(v), _) if v.eq_ignore_ascii_case("false") => false,
        (Some(v), _) => return bad_request(format!("'{v}' is not a valid Boolean.")),
        (None, DiversifiedParameter::Optional) => false,
        (None, DiversifiedParameter::Required) => {
            return bad_request("The diversified parameter is required.");
        }
    };
    let Some(index) = state
        .requests
        .iter()
        .position(|r| r.uuid() == Some(request))
    else {
        return unknown_object(&state, "request", request);
    };
    let Some(object) = find_smartcard(&state, card).cloned() else {
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
    let status = get_key(&state.requests[index].object, "Status")
        .and_then(|v| status_number(&REQUEST_STATUSES, v));
    if !matches!(status, Some(3 | 18)) {
        let reason = format!(
            "The request {} is {}; a response is computed only for an Approved or Executing \
             request.",
            guid_to_wire(request),
            status_name(&REQUEST_STATUSES, status)
        );
        return wrong_request(&mut state, &reason);
    }
    if object.serial_number.as_deref().and_then(parse_guid) != Some(serial) {
        let reason = format!(
            "The card ID {} is not the card of the smart card {}.",
            guid_to_wire(serial),
            guid_to_wire(card)
        );
        return wrong_request(&mut state, &reason);
    }
    let template = object.profile_template_uuid.as_deref().and_then(parse_guid);
    let base = template
        .and_then(|t| state.lifecycle.admin_keys.get(&t).copied())
        .unwrap_or_else(default_admin_key);
    let key = if diversified {
        diversified_key(&base, &serial.to_bytes_le())
    } else {
        Some(base)
    };
    let Some(response) = key.and_then(|key| des::tdes_ecb_encrypt(&key, &challenge)) else {
        return server_error(&mut state, "The challenge response could not be computed.");
    };
    // Never logged: it unblocks the card.
    tracing::debug!(%request, smartcard = %card, diversified, "CM emulator answered a challenge");
    if is_offline_unblock(&state.requests[index].object) {
        let completion = state.lifecycle.rules.unblock_completion;
        let stored = &mut state.requests[index];
        match completion {
            UnblockCompletion::ClientCompletes => {
                if status == Some(3) {
                    stored.set("Status", json!(18));
                }
            }
            UnblockCompletion::ResponseCompletes => {
                stored.set("Status", json!(8));
                stored.set("Completed", Value::String(now_timestamp()));
            }
        }
    }
    json_response(
        StatusCode::OK,
        &Value::String(base64::engine::general_purpose::STANDARD.encode(response)),
    )
}

/// Whether a stored request is an OfflineUnblock (create-request's name;
/// `enums.md` gives it no number, so it is stored and read as the name).
fn is_offline_unblock(object: &Map<String, Value>) -> bool {
    get_key(object, "RequestType")
        .and_then(Value::as_str)
        .is_some_and(|kind| kind.trim().eq_ignore_ascii_case("OfflineUnblock"))
}
