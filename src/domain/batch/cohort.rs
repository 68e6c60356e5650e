//! A batch's queue from a list a counter is given: request GUIDs, or the
//! employee IDs of an HR export's column, each matched to exactly one
//! bindable request through the search index.

use uuid::Uuid;

use crate::domain::request::Request;
use crate::domain::search::SearchIndex;

/// One line of the list, as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CohortEntry {
    /// A request GUID.
    Request(Uuid),
    /// Anything else: a value the request's workflow collected (an employee ID).
    Value(String),
}

/// Why a line names no single request.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CohortError {
    /// No bindable request holds the value.
    #[error(
        "line {line}: no request waiting for a card has \"{value}\" among the values its \
         requester entered; check the list, or that the request is approved in CM"
    )]
    NoMatch {
        /// The line (1-based).
        line: usize,
        /// The value as written.
        value: String,
    },
    /// Several bindable requests hold the value.
    #[error(
        "line {line}: {} requests waiting for a card have \"{value}\" ({}); put the GUID of the \
         right one on that line instead",
        candidates.len(),
        candidates.iter().map(Uuid::to_string).collect::<Vec<_>>().join(", ")
    )]
    Ambiguous {
        /// The line (1-based).
        line: usize,
        /// The value as written.
        value: String,
        /// The requests that hold it.
        candidates: Vec<Uuid>,
    },
}

/// The queue for `entries` (with their line numbers): a GUID stays as it is
/// (the batch's own bind checks it), a value must equal, ignoring case, one
/// collected value of exactly one bindable request among `requests`. A
/// substring is not a match: `E123` never picks the request of `E1234`.
pub fn resolve(
    entries: &[(usize, CohortEntry)],
    requests: &[Request],
) -> Result<Vec<Uuid>, CohortError> {
    let index = SearchIndex::build(requests);
    entries
        .iter()
        .map(|(line, entry)| match entry {
            CohortEntry::Request(id) => Ok(*id),
            CohortEntry::Value(value) => one_holder(*line, value, requests, &index),
        })
        .collect()
}

fn one_holder(
    line: usize,
    value: &str,
    requests: &[Request],
    index: &SearchIndex,
) -> Result<Uuid, CohortError> {
    let wanted = value.trim();
    // The index narrows the rows; only an equal collected value counts.
    let rows = index.matching(wanted).unwrap_or_default();
    let candidates: Vec<Uuid> = requests
        .iter()
        .zip(rows)
        .filter(|(request, hit)| *hit && request.is_bindable() && holds(request, wanted))
        .map(|(request, _)| request.uuid)
        .collect();
    match candidates.as_slice() {
        [one] => Ok(*one),
        [] => Err(CohortError::NoMatch {
            line,
            value: value.to_owned(),
        }),
        _ => Err(CohortError::Ambiguous {
            line,
            value: value.to_owned(),
            candidates,
        }),
    }
}

fn holds(request: &Request, value: &str) -> bool {
    request.data_collection.iter().any(|item| {
        item.value
            .as_deref()
            .is_some_and(|v| v.trim().eq_ignore_ascii_case(value))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::request::{DataItem, RequestStatus, example_request};

    fn request(n: u128, employee: &str, status: RequestStatus) -> Request {
        let mut request = example_request(n, status);
        request.data_collection.clear();
        request.data_collection.push(DataItem {
            name: "EmployeeID".into(),
            value: Some(employee.into()),
        });
        request
    }

    #[test]
    fn an_employee_id_names_the_one_bindable_request_that_holds_it_exactly() {
        let requests = vec![
            request(1, "E1234", RequestStatus::APPROVED),
            request(2, "E12345", RequestStatus::APPROVED),
            request(3, "E777", RequestStatus::COMPLETED),
            request(4, "E9", RequestStatus::APPROVED),
            request(5, "e9", RequestStatus::APPROVED),
        ];
        let guid = Uuid::from_u128(99);
        let entries = vec![
            (1, CohortEntry::Value("e1234".into())),
            (2, CohortEntry::Request(guid)),
            (3, CohortEntry::Value("E12345".into())),
        ];
        assert_eq!(
            resolve(&entries, &requests),
            Ok(vec![Uuid::from_u128(1), guid, Uuid::from_u128(2)])
        );
        assert_eq!(
            resolve(&[(7, CohortEntry::Value("E123".into()))], &requests),
            Err(CohortError::NoMatch {
                line: 7,
                value: "E123".into()
            }),
            "a part of an ID is not the ID"
        );
        assert!(
            matches!(
                resolve(&[(1, CohortEntry::Value("E777".into()))], &requests),
                Err(CohortError::NoMatch { .. })
            ),
            "a completed request takes no card"
        );
        assert_eq!(
            resolve(&[(2, CohortEntry::Value("E9".into()))], &requests),
            Err(CohortError::Ambiguous {
                line: 2,
                value: "E9".into(),
                candidates: vec![Uuid::from_u128(4), Uuid::from_u128(5)]
            })
        );
    }
}
