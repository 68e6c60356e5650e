//! `enroll-station requests`.
//!
//! One line per request: GUID, status, type, when it was submitted, the
//! account the card is for (`TargetUserUuid`, the one fact the requester does
//! not type), then what the requester entered, labelled as unchecked. A
//! value that mixes scripts, looks like other letters, hides characters or
//! looks like another request's ends the line with a warning (review H1).
//! Everything is escaped for the terminal (review M2).

use std::collections::HashMap;

use anyhow::Context as _;
use uuid::Uuid;

use super::Settings;
use super::escape::term;
use super::output::{RequestJson, print_json};
use crate::domain::request::{Request, RequestStatus, ShownTime};
use crate::domain::text::{Suspicion, skeleton_key, suspicion};

/// What comes before the requester's values on each line.
pub(super) const ENTERED_LABEL: &str = "entered by requester (unchecked):";

pub(super) fn run(server: &Settings, status: Option<&str>, json: bool) -> anyhow::Result<()> {
    let status = status
        .map(|name| {
            RequestStatus::from_name(name).with_context(|| {
                let known: Vec<String> =
                    RequestStatus::KNOWN.iter().map(|s| s.to_string()).collect();
                format!(
                    "Unknown status \"{}\". Use one of: {}.",
                    term(name),
                    known.join(", ")
                )
            })
        })
        .transpose()?;
    let client = server.client()?;
    let mut requests = super::runtime()?.block_on(client.list_requests(status))?;
    requests.sort_by(Request::list_order);
    if json {
        let out: Vec<RequestJson> = requests.iter().map(RequestJson::from).collect();
        return print_json(&out);
    }
    if requests.is_empty() {
        println!("No requests.");
    }
    for line in human_lines(&requests) {
        println!("{line}");
    }
    Ok(())
}

/// The human lines, one per request, in the order given.
fn human_lines(requests: &[Request]) -> Vec<String> {
    // The first request seen with each look of its summary.
    let mut looks: HashMap<String, (Uuid, String)> = HashMap::new();
    let mut lines = Vec::with_capacity(requests.len());
    for r in requests {
        // In local time with its zone; --json keeps the server's instant in UTC.
        let submitted = r
            .submitted
            .map_or_else(|| "-".to_owned(), |t| ShownTime::local(t).to_string());
        let target = r
            .target_user
            .map_or_else(|| "none".to_owned(), |u| u.to_string());
        let summary = r.data_summary();
        let mut warnings: Vec<String> = odd_values(r)
            .map(|odd| odd.to_string())
            .into_iter()
            .collect();
        if !summary.is_empty() {
            match looks.get(&skeleton_key(&summary)) {
                Some((other, text)) if *text != summary => {
                    warnings.push(format!("looks the same as request {other}"));
                }
                Some(_) => {}
                None => {
                    looks.insert(skeleton_key(&summary), (r.uuid, summary.clone()));
                }
            }
        }
        let mut line = format!(
            "{}  {:<10} {:<15} {:<22}  target {:<36}  {ENTERED_LABEL} {}",
            r.uuid,
            r.status.to_string(),
            r.request_type.to_string(),
            submitted,
            target,
            if summary.is_empty() { "-" } else { &summary },
        );
        if !warnings.is_empty() {
            line.push_str("  !! CHECK: ");
            line.push_str(&warnings.join("; "));
        }
        lines.push(term(&line).into_owned());
    }
    lines
}

/// What is odd about the request's collected values, each judged alone
/// (a Cyrillic first name and a Latin family name are not "mixed"), told
/// once: the scripts mixed anywhere, the plain texts they look like.
fn odd_values(r: &Request) -> Option<Suspicion> {
    let mut all: Option<Suspicion> = None;
    for odd in r
        .data_collection
        .iter()
        .filter_map(|i| i.value.as_deref())
        .filter_map(suspicion)
    {
        let Some(all) = &mut all else {
            all = Some(odd);
            continue;
        };
        for script in odd.mixed_scripts {
            if !all.mixed_scripts.contains(&script) {
                all.mixed_scripts.push(script);
            }
        }
        all.looks_like = match (all.looks_like.take(), odd.looks_like) {
            (Some(a), Some(b)) => Some(format!("{a} {b}")),
            (a, b) => a.or(b),
        };
        all.hidden_characters |= odd.hidden_characters;
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::request::{DataItem, RequestType};

    fn request(n: u128, values: &[(&str, &str)]) -> Request {
        let mut r = Request {
            uuid: Uuid::from_u128(n),
            request_type: RequestType::ENROLL,
            status: RequestStatus::APPROVED,
            target_user: Some(Uuid::from_u128(0xabc)),
            originator_user: None,
            submitted: None,
            priority: 0,
            new_smartcard: None,
            profile_template: None,
            is_smartcard: true,
            is_enrollment_agent: false,
            data_collection: Default::default(),
            comment: None,
        };
        for (name, value) in values {
            r.data_collection.push(DataItem {
                name: (*name).into(),
                value: Some((*value).into()),
            });
        }
        r
    }

    #[test]
    fn a_line_names_the_target_account_and_labels_what_the_requester_typed() {
        let lines = human_lines(&[request(1, &[("FirstName", "Jane"), ("LastName", "Doe")])]);
        assert_eq!(lines.len(), 1);
        assert!(
            lines[0].contains(&format!("target {}", Uuid::from_u128(0xabc))),
            "{}",
            lines[0]
        );
        assert!(
            lines[0].ends_with("entered by requester (unchecked): Jane Doe"),
            "{}",
            lines[0]
        );
    }

    #[test]
    fn look_alikes_and_hidden_characters_are_flagged() {
        let lines = human_lines(&[
            request(1, &[("FirstName", "Jane"), ("LastName", "Doe")]),
            request(2, &[("FirstName", "J\u{430}ne"), ("LastName", "Doe")]),
            request(3, &[("FirstName", "Ja<U+200B>ne")]),
            request(4, &[("FirstName", "Jane"), ("LastName", "Doe")]),
        ]);
        assert!(!lines[0].contains("!!"), "{}", lines[0]);
        assert!(
            lines[1].contains("mixes Latin and Cyrillic letters")
                && lines[1].contains(&format!("looks the same as request {}", Uuid::from_u128(1))),
            "{}",
            lines[1]
        );
        assert!(lines[2].contains("invisible"), "{}", lines[2]);
        assert!(
            !lines[3].contains("!!"),
            "the same text is not a look-alike"
        );
    }
}
