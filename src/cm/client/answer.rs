//! A successful answer's body: read within the call's limit, then parsed
//! as CM's JSON (lists in parallel), and the causes behind a failed call.

use super::*;

/// A successful answer, body read.
pub(super) struct Answer {
    pub(super) status: StatusCode,
    pub(super) content_type: Option<String>,
    pub(super) location: Option<String>,
    pub(super) body: Vec<u8>,
    pub(super) url: String,
}

impl Answer {
    pub(super) fn is_empty(&self) -> bool {
        self.status == StatusCode::NO_CONTENT || self.body.iter().all(u8::is_ascii_whitespace)
    }

    pub(super) fn unexpected(&self, detail: impl Into<String>) -> CmError {
        CmError::UnexpectedBody {
            url: self.url.clone(),
            detail: detail.into(),
        }
    }

    pub(super) fn json(&self) -> Result<Value, CmError> {
        let text = String::from_utf8_lossy(&self.body);
        let text = text.trim();
        if self.is_html() || text.starts_with('<') {
            let title = self.page_title();
            return Err(self.unexpected(format!("an HTML page: \"{title}\"")));
        }
        parse_lenient_json(text)
            .map_err(|_| self.unexpected(format!("not JSON: \"{}\"", shorten(text, 120))))
    }

    /// A JSON array (or a single object, or nothing) as a list.
    pub(super) fn list<T: DeserializeOwned>(&self) -> Result<Vec<T>, CmError> {
        if self.is_empty() {
            return Ok(Vec::new());
        }
        // The usual answer, a well-formed array, is cut into its entries
        // without building a JSON tree of it first: with 100,000 requests
        // that tree cost most of the time. Anything else goes the lenient way.
        if let Some(items) = self.raw_array() {
            return Ok(items
                .into_iter()
                .filter_map(|item| self.entry(serde_json::from_str::<T>(item.get())))
                .collect());
        }
        let items = match self.json()? {
            Value::Array(items) => items,
            Value::Null => Vec::new(),
            object @ Value::Object(_) => vec![object],
            other => {
                return Err(
                    self.unexpected(format!("JSON {} where a list was expected", kind(&other)))
                );
            }
        };
        Ok(items
            .into_iter()
            .filter_map(|item| self.entry(serde_json::from_value::<T>(item)))
            .collect())
    }

    /// A list converted to domain types, entries the station cannot use
    /// logged and left out. A long well-formed array is parsed and converted
    /// on every core: 100,000 requests took over half a second on one.
    pub(super) fn list_converted<W, D>(&self, what: &str) -> Result<Vec<D>, CmError>
    where
        W: DeserializeOwned,
        D: TryFrom<W, Error = ModelError> + Send,
    {
        const ENTRIES_PER_THREAD: usize = 4096;
        let Some(items) = self.raw_array() else {
            return Ok(convert_all(self.list::<W>()?, what));
        };
        let one = |item: &&serde_json::value::RawValue| {
            let wire = self.entry(serde_json::from_str::<W>(item.get()))?;
            convert_one(wire, what)
        };
        let threads = std::thread::available_parallelism()
            .map_or(1, std::num::NonZero::get)
            .min(items.len() / ENTRIES_PER_THREAD)
            .max(1);
        if threads == 1 {
            return Ok(items.iter().filter_map(one).collect());
        }
        let chunk = items.len().div_ceil(threads);
        Ok(std::thread::scope(|scope| {
            let parts: Vec<_> = items
                .chunks(chunk)
                .map(|part| scope.spawn(move || part.iter().filter_map(one).collect::<Vec<D>>()))
                .collect();
            let parts: Vec<Vec<D>> = parts
                .into_iter()
                .map(|part| {
                    part.join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect();
            // Sized once: growing by doubling would leave up to half of a
            // large list's allocation unused for as long as it is kept.
            let mut all = Vec::with_capacity(parts.iter().map(Vec::len).sum());
            for mut part in parts {
                all.append(&mut part);
            }
            all
        }))
    }

    /// The body's entries when it is a well-formed JSON array in UTF-8 (and
    /// not labelled a page: that goes the way that names it as one).
    pub(super) fn raw_array(&self) -> Option<Vec<&serde_json::value::RawValue>> {
        if self.is_html() {
            return None;
        }
        let text = std::str::from_utf8(&self.body).ok()?;
        let text = text.trim().trim_start_matches('\u{feff}');
        if !text.starts_with('[') {
            return None;
        }
        serde_json::from_str(text).ok()
    }

    /// One list entry: one odd entry must not hide the others, so it is logged and skipped.
    pub(super) fn entry<T>(&self, parsed: Result<T, serde_json::Error>) -> Option<T> {
        match parsed {
            Ok(t) => Some(t),
            Err(e) => {
                tracing::warn!(error = %e, url = %self.url, "skipping a list entry the station cannot read");
                None
            }
        }
    }

    /// One JSON object, or `None` for an empty answer.
    pub(super) fn object<T: DeserializeOwned>(&self) -> Result<Option<T>, CmError> {
        if self.is_empty() {
            return Ok(None);
        }
        from_value(self.json()?, &self.url).map(Some)
    }

    /// True when the Content-Type says HTML or the body starts like markup.
    /// Only the first non-blank byte is looked at: a list body is ~100 MB.
    pub(super) fn is_html(&self) -> bool {
        self.content_type
            .as_deref()
            .is_some_and(|c| c.to_ascii_lowercase().contains("html"))
            || self
                .body
                .iter()
                .find(|b| !b.is_ascii_whitespace())
                .is_some_and(|b| *b == b'<')
    }

    /// A page's title (or its first words), shortened, for a message.
    fn page_title(&self) -> String {
        let title =
            crate::cm::error::ErrorBody::parse(self.content_type.as_deref(), &self.body, &self.url)
                .message
                .unwrap_or_default();
        shorten(&title, 120)
    }

    /// What arrived, in a few words, for an answer that is not the expected one.
    pub(super) fn describe(&self) -> String {
        if self.is_html() {
            return format!("an HTML page (\"{}\")", self.page_title());
        }
        let text = String::from_utf8_lossy(&self.body);
        let text = text.trim();
        let kind = self
            .content_type
            .as_deref()
            .map_or_else(String::new, |c| format!(" of type {}", shorten(c, 60)));
        if text.is_empty() {
            format!("no body{kind}")
        } else {
            format!("a body{kind}: \"{}\"", shorten(text, 120))
        }
    }

    /// The bind receipt: a bare JSON string URI (201), or nothing (204).
    /// Anything else, even with a success status, is not CM's answer to a bind.
    pub(super) fn receipt(&self) -> Result<BindReceipt, CmError> {
        let unclear = || CmError::UnclearBindAnswer {
            status: self.status.as_u16(),
            detail: self.describe(),
        };
        if !matches!(self.status, StatusCode::CREATED | StatusCode::NO_CONTENT) {
            return Err(unclear());
        }
        let has_body = !self.body.iter().all(u8::is_ascii_whitespace);
        let json_labelled = self
            .content_type
            .as_deref()
            .is_none_or(|c| c.to_ascii_lowercase().contains("json"));
        if self.is_html() || (has_body && !json_labelled) {
            return Err(unclear());
        }
        let text = String::from_utf8_lossy(&self.body);
        let text = text.trim();
        let from_body = if self.status == StatusCode::NO_CONTENT || text.is_empty() {
            None
        } else {
            match parse_lenient_json(text) {
                Ok(Value::String(uri)) => Some(uri),
                // Some front ends send the URI unquoted.
                Err(_) if !text.starts_with(['{', '[', '<']) => Some(text.to_owned()),
                Ok(other) => {
                    tracing::warn!(body = %shorten(&other.to_string(), 200),
                        "the bind succeeded but its answer is not the documented URI string");
                    None
                }
                Err(_) => None,
            }
        };
        let smartcard_uri = from_body.or_else(|| self.location.clone());
        let smartcard_uuid = smartcard_uri.as_deref().and_then(smartcard_uuid_from_uri);
        Ok(BindReceipt {
            smartcard_uri,
            smartcard_uuid,
            note: None,
        })
    }
}

pub(super) fn from_value<T: DeserializeOwned>(value: Value, url: &str) -> Result<T, CmError> {
    let shape = kind(&value);
    serde_json::from_value(value).map_err(|e| CmError::UnexpectedBody {
        url: url.to_owned(),
        detail: format!("JSON {shape} that does not fit: {e}"),
    })
}

pub(super) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

pub(super) fn convert_all<W, D>(wires: Vec<W>, what: &str) -> Vec<D>
where
    D: TryFrom<W, Error = ModelError>,
{
    wires
        .into_iter()
        .filter_map(|wire| convert_one(wire, what))
        .collect()
}

pub(super) fn convert_one<W, D>(wire: W, what: &str) -> Option<D>
where
    D: TryFrom<W, Error = ModelError>,
{
    match D::try_from(wire) {
        Ok(d) => Some(d),
        Err(e) => {
            tracing::warn!(error = %e, "skipping a {what} the station cannot use");
            None
        }
    }
}

pub(super) fn invalid(source: ModelError) -> CmError {
    CmError::InvalidData { source }
}

pub(super) fn not_found(call: &Call) -> CmError {
    CmError::NotFound {
        what: call.object().unwrap_or_default(),
        message: Some("the server answered with no content".to_owned()),
        correlation_id: None,
    }
}

/// Server text quoted in a message: cleaned by the one rule for text from
/// the wire (one line, hidden characters marked), at most `max` characters
/// and the `…` of a cut.
pub(super) fn shorten(text: &str, max: usize) -> String {
    crate::domain::text::from_wire(text, max + 1).into_owned()
}

/// Reads at most `limit` bytes of the body: the bytes, and whether that was all of it.
///
/// Nothing is allocated from what `Content-Length` announces (a server can
/// announce anything): the chunks as they arrive are kept and joined once at
/// the end, so a 100 MB list is copied once, not at every doubling.
pub(super) async fn read_body(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<(Vec<u8>, bool), reqwest::Error> {
    let mut chunks = Vec::new();
    let mut total = 0usize;
    let mut whole = true;
    while let Some(chunk) = response.chunk().await? {
        let room = limit - total;
        if chunk.len() > room {
            chunks.push(chunk.slice(..room));
            total = limit;
            whole = false;
            break;
        }
        total += chunk.len();
        chunks.push(chunk);
    }
    let mut body = Vec::with_capacity(total);
    for chunk in chunks.drain(..) {
        body.extend_from_slice(&chunk);
    }
    Ok((body, whole))
}

pub(super) fn header_text(
    response: &reqwest::Response,
    name: reqwest::header::HeaderName,
) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Finds a rustls error in the chain: `(description, which problem)`.
pub(crate) fn tls_cause(error: &(dyn StdError + 'static)) -> Option<(String, TlsProblem)> {
    if let Some(tls) = error.downcast_ref::<rustls::Error>() {
        return Some((tls.to_string(), TlsProblem::of(tls)));
    }
    // io::Error hides the error it wraps from source(): look inside explicitly.
    let wrapped = error
        .downcast_ref::<std::io::Error>()
        .and_then(|io| io.get_ref())
        .and_then(|inner| tls_cause(inner));
    wrapped.or_else(|| error.source().and_then(tls_cause))
}

/// The innermost cause's text, which says what actually went wrong
/// ("Connection refused") where the outer ones say "error sending request".
pub(super) fn root_cause(error: &(dyn StdError + 'static)) -> String {
    let mut last = error;
    while let Some(next) = last.source() {
        last = next;
    }
    let text = last.to_string();
    // reqwest's messages may carry the URL; the host is already in the error.
    text.split(" for url (").next().unwrap_or(&text).to_owned()
}

pub(super) fn error_chain(error: &(dyn StdError + 'static)) -> String {
    let mut parts = vec![error.to_string()];
    let mut current = error.source();
    while let Some(err) = current {
        parts.push(err.to_string());
        current = err.source();
    }
    parts.join(": ")
}
