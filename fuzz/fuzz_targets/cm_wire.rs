//! The CM wire parsing: request lists, smart card objects and error bodies all
//! come from the server (or whatever answers in its place) and must never panic.

#![no_main]

use enroll_station::cm::CmError;
use enroll_station::cm::model::{
    WireRequest, WireSmartcard, parse_lenient_json, smartcard_uuid_from_uri,
};
use enroll_station::domain::request::Request;
use enroll_station::domain::smartcard::Smartcard;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(value) = parse_lenient_json(&text) {
        let items = match &value {
            serde_json::Value::Array(items) => items.clone(),
            other => vec![other.clone()],
        };
        for item in items {
            if let Ok(wire) = serde_json::from_value::<WireRequest>(item.clone())
                && let Ok(request) = Request::try_from(wire)
            {
                let _ = request.bindability();
                let _ = request.data_summary();
            }
            if let Ok(wire) = serde_json::from_value::<WireSmartcard>(item)
                && let Ok(card) = Smartcard::try_from(wire)
            {
                let _ = card.card_id.map(|id| id.to_cm_string());
            }
        }
        if let serde_json::Value::String(uri) = &value {
            let _ = smartcard_uuid_from_uri(uri);
        }
    }
    for (status, content_type) in [
        (500, Some("application/json")),
        (403, Some("text/html")),
        (404, None),
    ] {
        let error = CmError::from_response(
            status,
            content_type,
            data,
            "https://cm.example/CertificateManagement/api/v1.0/smartcards",
            None,
        );
        let message = error.to_string();
        assert!(!message.is_empty());
        if let Some(id) = error.correlation_id() {
            assert!(!id.is_empty());
        }
    }
});
