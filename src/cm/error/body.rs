//! Reading an error answer: CM's JSON message, a bare string, plain text
//! or an IIS page, and the correlation ID the server named in it.

use super::*;

/// The shape an error body arrived in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyKind {
    /// No body.
    Empty,
    /// A JSON object with `Message`/`ExceptionMessage`, or a bare JSON string.
    Json,
    /// Plain text.
    Text,
    /// An HTML page (IIS, a proxy).
    Html,
}

/// What could be read from an error answer's body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorBody {
    /// The shape it had.
    pub kind: BodyKind,
    /// The message: one clean line, shortened (see [`shorten`]).
    pub message: Option<String>,
    /// The GUID the server names as its correlation ID (see [`find_correlation_id`]).
    pub correlation_id: Option<String>,
}

impl ErrorBody {
    /// Reads an error body in the order of `enums.md`: JSON object with
    /// `Message`/`ExceptionMessage`; bare JSON string; plain text; HTML page.
    pub fn parse(content_type: Option<&str>, body: &[u8], url: &str) -> ErrorBody {
        Self::parse_sent(content_type, body, url, &[])
    }

    /// As [`ErrorBody::parse`]; `sent` are GUIDs the station sent besides the
    /// URL's (the bind body's request and card IDs), never a correlation ID.
    pub fn parse_sent(
        content_type: Option<&str>,
        body: &[u8],
        url: &str,
        sent: &[Uuid],
    ) -> ErrorBody {
        let text = String::from_utf8_lossy(body);
        let text = text.trim_matches(|c: char| c.is_whitespace() || c == '\0' || c == '\u{feff}');
        let (kind, message) = if text.is_empty() {
            (BodyKind::Empty, None)
        } else if let Some(message) = json_message(text) {
            (BodyKind::Json, message)
        } else if looks_like_html(content_type, text) {
            (BodyKind::Html, html_message(text))
        } else {
            (BodyKind::Text, Some(collapse(text)))
        };
        let message = message.map(|m| shorten(&m)).filter(|m| !m.is_empty());
        let mut excluded = guids_in(url);
        excluded.extend_from_slice(sent);
        let correlation_id = message
            .as_deref()
            .and_then(|m| find_correlation_id(m, &excluded))
            .or_else(|| find_correlation_id(text, &excluded));
        ErrorBody {
            kind,
            message,
            correlation_id,
        }
    }

    /// ASP.NET's answer for a path no controller serves: the API is not there.
    pub(super) fn is_routing_miss(&self) -> bool {
        self.message.as_deref().is_some_and(|m| {
            let m = m.to_ascii_lowercase();
            m.contains("no http resource was found") || m.contains("no type was found")
        })
    }
}

/// `Some(message)` when the text is JSON (an object or a bare string);
/// `None` when it is not JSON at all.
pub(super) fn json_message(text: &str) -> Option<Option<String>> {
    if !(text.starts_with('{') || text.starts_with('"') || text.starts_with('[')) {
        return None;
    }
    let value = parse_lenient_json(text).ok()?;
    Some(match value {
        serde_json::Value::String(s) => Some(s),
        serde_json::Value::Object(map) => {
            let field = |name: &str| {
                map.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .and_then(|(_, v)| v.as_str())
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
            };
            let message = field("Message").or_else(|| field("error_description"));
            match (message, field("ExceptionMessage")) {
                (Some(m), Some(e)) if !m.contains(&e) => Some(format!("{m} {e}")),
                (Some(m), _) => Some(m),
                (None, e) => e,
            }
        }
        other => Some(other.to_string()),
    })
}

pub(super) fn looks_like_html(content_type: Option<&str>, text: &str) -> bool {
    content_type.is_some_and(|c| c.to_ascii_lowercase().contains("html")) || text.starts_with('<')
}

/// The page's `<title>`, or else its text without tags.
pub(super) fn html_message(html: &str) -> Option<String> {
    let lower = html.to_ascii_lowercase();
    if let Some(start) = lower.find("<title") {
        let after = start + lower[start..].find('>')? + 1;
        if let Some(len) = lower[after..].find("</title") {
            let title = collapse(&decode_entities(&html[after..after + len]));
            if !title.is_empty() {
                return Some(title);
            }
        }
    }
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let text = collapse(&decode_entities(&out));
    (!text.is_empty()).then_some(text)
}

pub(super) fn decode_entities(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

pub(super) fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The server's message as the station shows it: cleaned by the one rule
/// for text from the wire (one line, hidden characters as `<U+XXXX>`
/// marks, NFC; review M2) and cut at [`MAX_MESSAGE_CHARS`] with `…`.
pub(super) fn shorten(text: &str) -> String {
    crate::domain::text::from_wire(text, MAX_MESSAGE_CHARS).into_owned()
}

/// Every GUID-shaped run of text, in order of appearance, as it was written.
pub(super) fn guid_candidates(text: &str) -> Vec<(usize, &str)> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i + 36 <= bytes.len() {
        let window = &bytes[i..i + 36];
        let shaped = window.iter().enumerate().all(|(j, b)| match j {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        });
        let bounded_before = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
        let bounded_after = bytes.get(i + 36).is_none_or(|b| !b.is_ascii_alphanumeric());
        if shaped && bounded_before && bounded_after {
            // The window is ASCII, so these are char boundaries.
            found.push((i, &text[i..i + 36]));
            i += 36;
        } else {
            i += 1;
        }
    }
    found
}

pub(super) fn guids_in(text: &str) -> Vec<Uuid> {
    guid_candidates(text)
        .into_iter()
        .filter_map(|(_, g)| parse_guid(g))
        .collect()
}

/// How far after the word "correlation" its GUID may start: room for
/// `ID: `, `id = {`, `Id":"` and the like, not for another sentence.
pub(super) const CORRELATION_REACH: usize = 32;

/// The correlation ID: a GUID the server names as one, i.e. one that follows
/// the word "correlation" closely (`Correlation ID: <guid>`, `correlation id
/// {<guid>}`, `"CorrelationId":"<guid>"`). Any other GUID in a message is
/// something else (the request, the card, the new smart card object), and the
/// administrator searching the event log for it would find nothing: without a
/// marked GUID there is no correlation ID. GUIDs in `excluded` (the ones the
/// station sent) and the all-zero GUID never are one.
pub fn find_correlation_id(text: &str, excluded: &[Uuid]) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let marks: Vec<usize> = lower
        .match_indices("correlation")
        .map(|(at, word)| at + word.len())
        .collect();
    guid_candidates(text)
        .into_iter()
        .filter(|(at, _)| {
            marks
                .iter()
                .any(|&end| *at >= end && *at - end <= CORRELATION_REACH)
        })
        .find(|(_, g)| parse_guid(g).is_some_and(|u| !u.is_nil() && !excluded.contains(&u)))
        .map(|(_, g)| g.to_owned())
}

impl fmt::Display for BodyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BodyKind::Empty => "an empty body",
            BodyKind::Json => "JSON",
            BodyKind::Text => "plain text",
            BodyKind::Html => "an HTML page",
        })
    }
}
