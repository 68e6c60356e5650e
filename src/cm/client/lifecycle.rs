//! The lifecycle calls: undo a request (abandon, cancel), create a request
//! (retire, revoke, temporary card, on behalf, offline unblock), read a
//! workflow policy, and compute an offline unblock's response.
//!
//! A card's operations (`GET smartcards/{id}/operations`) and the lookup by
//! card ID (`GET smartcards?cardid=`) are in the parent module already:
//! [`CmClient::smartcard_operations`], [`CmClient::smartcards_by_card_id`].

use base64::Engine as _;
use zeroize::Zeroize as _;

use super::*;
use crate::cm::model::{
    CreateRequestBody, StatusBody, policy_from_json, policy_type, uuid_from_uri,
};
use crate::domain::lifecycle::{NewRequest, StatusChange, WorkflowPolicy};
use crate::domain::request::RequestType;
use crate::domain::unblock::{Challenge, ChallengeResponse};

/// The two routes the reference gives for a workflow policy: its examples
/// and controller table say `policies/{type}`, its URL table
/// `policy/workflow/{type}` (review `cm-api.md` section 3, item 2). The
/// first is asked first; the second only when the server has no such route.
const POLICY_ROUTES: [&str; 2] = ["policies", "policy/workflow"];

impl CmClient {
    /// `PUT requests/{id}` `{"status":"Abandoned"|"Canceled"|"Completed"}`.
    ///
    /// The request as the server now holds it, or `None` when the server
    /// answered `204 No Content` (also documented): read it again to see it.
    /// Which changes CM allows from which status is not documented; a
    /// refusal is CM's own error (HTTP 500 with its message and correlation
    /// ID, or another status) and comes back as that [`CmError`].
    pub async fn set_request_status(
        &self,
        request: Uuid,
        change: StatusChange,
    ) -> Result<Option<Request>, CmError> {
        let body = to_json(&StatusBody::new(change))?;
        let path = format!("requests/{}", guid_to_wire(request));
        let call = Call::ChangeRequestStatus { request, change };
        let answer = self
            .call(&call, Method::PUT, &path, &[], Some(body))
            .await?;
        let Some(wire) = answer.object::<WireRequest>()? else {
            return Ok(None);
        };
        Request::try_from(wire).map(Some).map_err(invalid)
    }

    /// `POST requests`: creates `request` and returns the new request's GUID,
    /// read from the documented answer (`201`, the bare string
    /// `"api/v1.0/requests/{uuid}"`) or else from `Location`.
    ///
    /// Sent once, never retried. A success that names no request is an
    /// error saying the request may exist: look for it before creating another.
    pub async fn create_request(&self, request: &NewRequest) -> Result<Uuid, CmError> {
        let body = to_json(&CreateRequestBody::new(request))?;
        let call = Call::CreateRequest {
            kind: request.kind,
            smartcard: request.smartcard,
            target: request.target,
            template: request.template,
        };
        let answer = self
            .call(&call, Method::POST, "requests", &[], Some(body))
            .await?;
        let from_body = if answer.is_empty() || answer.is_html() {
            None
        } else {
            match answer.json() {
                Ok(Value::String(uri)) => uuid_from_uri(&uri),
                // A front end that sends the URI unquoted.
                _ => uuid_from_uri(String::from_utf8_lossy(&answer.body).trim()),
            }
        };
        from_body
            .or_else(|| answer.location.as_deref().and_then(uuid_from_uri))
            .ok_or_else(|| {
                answer.unexpected(format!(
                    "HTTP {} and {}, which names no request: the {} request may have been \
                     created anyway; refresh the request list before creating it again",
                    answer.status.as_u16(),
                    answer.describe(),
                    request.kind
                ))
            })
    }

    /// `GET profiletemplates/{id}/policies/{type}`: the template's policy for
    /// the workflow of `kind`, read leniently (its shape is not documented).
    /// `None` when the server answers `204` (no such policy).
    ///
    /// When the server has no `policies/{type}` route (a routing 404), the
    /// reference's other spelling `policy/workflow/{type}` is tried once;
    /// which one answered is logged.
    pub async fn workflow_policy(
        &self,
        template: Uuid,
        kind: RequestType,
    ) -> Result<Option<WorkflowPolicy>, CmError> {
        let Some(segment) = policy_type(kind) else {
            return Err(CmError::InvalidData {
                source: ModelError::Missing {
                    object: "workflow",
                    field: "policy type (CM has no workflow policy for this request type)",
                },
            });
        };
        let call = Call::WorkflowPolicy { template, kind };
        let mut first_error = None;
        for route in POLICY_ROUTES {
            let path = format!(
                "profiletemplates/{}/{route}/{segment}",
                guid_to_wire(template)
            );
            match self.call(&call, Method::GET, &path, &[], None).await {
                Ok(answer) => {
                    tracing::debug!(route, "CM answered the workflow policy");
                    if answer.is_empty() {
                        return Ok(None);
                    }
                    let value = answer.json()?;
                    return policy_from_json(&value).map(Some).map_err(|shape| {
                        answer.unexpected(format!("{shape} where a workflow policy belongs"))
                    });
                }
                // The route is not there: the other spelling may be.
                Err(CmError::ApiNotEnabled { url }) if first_error.is_none() => {
                    first_error = Some(CmError::ApiNotEnabled { url });
                }
                Err(other) => return Err(first_error.unwrap_or(other)),
            }
        }
        Err(first_error.unwrap_or_else(|| not_found(&call)))
    }

    /// `GET requests/{r}/smartcards/{s}/authenticationresponse`: CM's response
    /// to the card's admin `challenge`, for an (approved) offline unblock
    /// request. `diversified` says whether the card's admin key was
    /// diversified (the reference marks it required; it is always sent).
    ///
    /// The challenge travels in base64, as the reference says; the answer is
    /// a JSON string in base64. The response unblocks the card: it is never
    /// logged, and an answer the station cannot read is described without
    /// quoting it.
    pub async fn authentication_response(
        &self,
        request: Uuid,
        smartcard: Uuid,
        card_id: &CardId,
        challenge: &Challenge,
        diversified: bool,
        atr: Option<&Atr>,
    ) -> Result<ChallengeResponse, CmError> {
        let base64 = base64::engine::general_purpose::STANDARD;
        let mut query = vec![
            ("cardid", card_id.to_cm_string()),
            ("challenge", base64.encode(challenge.bytes())),
            // As the reference's example writes a .NET bool.
            (
                "diversified",
                if diversified { "True" } else { "False" }.to_owned(),
            ),
        ];
        if let Some(atr) = atr.filter(|a| !a.is_empty()) {
            query.push(("atr", atr.to_hex()));
        }
        let path = format!(
            "requests/{}/smartcards/{}/authenticationresponse",
            guid_to_wire(request),
            guid_to_wire(smartcard)
        );
        let call = Call::AuthenticationResponse {
            request,
            smartcard,
            card_id: *card_id,
        };
        let mut answer = self.call(&call, Method::GET, &path, &query, None).await?;
        let unreadable = |why: &str| CmError::UnexpectedBody {
            url: answer.url.clone(),
            detail: format!(
                "an unblock response the station cannot read ({why}; its text is not shown, \
                 for it may be the response)"
            ),
        };
        let result = if answer.is_empty() {
            Err(not_found(&call))
        } else if answer.is_html() {
            Err(unreadable("an HTML page"))
        } else {
            let mut text = String::from_utf8_lossy(&answer.body).into_owned();
            let decoded = match parse_lenient_json(text.trim()) {
                Ok(Value::String(mut inner)) => {
                    let bytes = base64.decode(inner.trim());
                    inner.zeroize();
                    bytes.map_err(|_| unreadable("a string that is not base64"))
                }
                Ok(other) => Err(unreadable(kind(&other))),
                Err(_) => Err(unreadable("not JSON")),
            };
            text.zeroize();
            decoded.and_then(|bytes| {
                if bytes.is_empty() {
                    Err(unreadable("an empty string"))
                } else {
                    Ok(ChallengeResponse::from_bytes(bytes))
                }
            })
        };
        answer.body.zeroize();
        result
    }
}

/// A body as JSON bytes; only a type that cannot be JSON fails.
fn to_json<T: serde::Serialize>(body: &T) -> Result<Vec<u8>, CmError> {
    serde_json::to_vec(body).map_err(|e| CmError::ClientSetup {
        detail: e.to_string(),
    })
}
