//! The bind's body and the smart card URI its answer names.

use super::*;

/// The body of `POST smartcards`, in exactly the formats of the reference example.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BindBody {
    /// The request's GUID: lower-case, hyphenated, no braces.
    pub requestid: String,
    /// The card ID from [`CardId::to_cm_string`].
    pub cardid: String,
    /// The ATR from [`Atr::to_hex`]: lower-case hex, no separators.
    pub atr: String,
}

impl BindBody {
    /// Builds the body for binding `card_id` (with `atr`) to `request`.
    pub fn new(request: Uuid, card_id: &CardId, atr: &Atr) -> Self {
        BindBody {
            requestid: guid_to_wire(request),
            cardid: card_id.to_cm_string(),
            atr: atr.to_hex(),
        }
    }
}

/// The smart card object's UUID from the URI a bind returns
/// (`api/v1.0/smartcards/<uuid>`), tolerating a trailing slash or query.
pub fn smartcard_uuid_from_uri(uri: &str) -> Option<Uuid> {
    let path = uri.split(['?', '#']).next().unwrap_or(uri);
    let last = path.trim().trim_end_matches('/').rsplit('/').next()?;
    parse_optional_guid(&percent_decode(last))
}

/// Decodes `%XX` escapes; invalid escapes are kept as they are.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let high = (bytes[i + 1] as char).to_digit(16);
            let low = (bytes[i + 2] as char).to_digit(16);
            if let (Some(high), Some(low)) = (high, low) {
                // Two hex digits always fit a byte.
                out.push((high * 16 + low) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
