//! The request list's search index and columns: what a list load
//! precomputes so that searching and sorting 100,000 requests stay quick
//! (see `request_filter` in the window's model for the view built on it).
//! Pure: it is built by the worker, off the window's thread.

use std::cmp::Ordering;
use std::io::Write as _;

use memchr::memmem;
use uuid::Uuid;

use time::format_description::well_known::Rfc3339;

use super::request::{Request, ShownTime};

/// A column of the request list, in display order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Column {
    /// The collected name, or the target user.
    Target,
    /// The request type.
    Type,
    /// When it was submitted.
    Submitted,
    /// CM's priority.
    Priority,
    /// The request status.
    Status,
    /// Whether a card is bound.
    Card,
}

impl Column {
    fn position(self) -> usize {
        self as usize
    }

    /// Every column, left to right.
    pub const ALL: [Column; 6] = [
        Column::Target,
        Column::Type,
        Column::Submitted,
        Column::Priority,
        Column::Status,
        Column::Card,
    ];

    /// The header's text.
    pub fn title(self) -> &'static str {
        match self {
            Column::Target => "Target",
            Column::Type => "Type",
            Column::Submitted => "Submitted",
            Column::Priority => "Priority",
            Column::Status => "Status",
            Column::Card => "Card",
        }
    }
}

/// A column sort chosen by the operator; without one the list keeps
/// [`Request::list_order`] (bindable first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Sort {
    /// The column.
    pub column: Column,
    /// Largest (or last in the alphabet, newest) first.
    pub descending: bool,
}

impl Sort {
    /// What a click on `column`'s header makes of the current sort: the
    /// first click sorts ascending, the next one reverses it.
    pub fn clicked(current: Option<Sort>, column: Column) -> Sort {
        match current {
            Some(sort) if sort.column == column => Sort {
                column,
                descending: !sort.descending,
            },
            _ => Sort {
                column,
                descending: false,
            },
        }
    }
}

/// What the first column shows: the collected data when there is some, else the target user.
pub fn request_title(request: &Request) -> String {
    let summary = request.data_summary();
    if !summary.is_empty() {
        return summary;
    }
    match request.target_user {
        Some(user) => format!("User {user}"),
        None => format!("Request {}", request.uuid),
    }
}

/// What the card column shows.
pub fn card_text(request: &Request) -> &'static str {
    if request.new_smartcard.is_some() {
        "bound"
    } else {
        "—"
    }
}

/// What a list load precomputes so that searching and sorting stay quick:
/// every request's searchable text, lower-cased, in one buffer, and the
/// list's order by each column.
///
/// A row's text is its fields separated by `\n`; rows follow each other, so
/// row `i` is `text[starts[i]..starts[i + 1]]`. Search terms never hold
/// whitespace, so a match never spans two fields or two rows.
#[derive(Debug, Default)]
pub struct SearchIndex {
    text: Vec<u8>,
    starts: Vec<usize>,
    /// Where each row's title (its first field) ends, for sorting by it.
    title_ends: Vec<usize>,
    /// Per column (in [`Column::ALL`] order), the rows ascending; equal
    /// rows in list order.
    ascending: Vec<Vec<u32>>,
}

/// Appends `field` lower-cased; ASCII (nearly everything) without the per-char iterator.
fn push_lower(out: &mut Vec<u8>, field: &str) {
    if field.is_ascii() {
        out.extend(field.bytes().map(|b| b.to_ascii_lowercase()));
    } else {
        let mut buf = [0u8; 4];
        for c in field.chars().flat_map(char::to_lowercase) {
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
    }
}

fn push_uuid(out: &mut Vec<u8>, id: Uuid) {
    let mut buf = Uuid::encode_buffer();
    out.extend_from_slice(id.hyphenated().encode_lower(&mut buf).as_bytes());
}

impl SearchIndex {
    /// Indexes `requests`: every column as shown, every data-collection value,
    /// the request's, target user's, originator's and smart card's GUIDs, and the comment.
    pub fn build(requests: &[Request]) -> SearchIndex {
        let mut text = Vec::with_capacity(requests.len() * 256);
        let mut starts = Vec::with_capacity(requests.len() + 1);
        let mut title_ends = Vec::with_capacity(requests.len());
        for request in requests {
            starts.push(text.len());
            // The title holds every non-empty data-collection value (see
            // `Request::data_summary`), so they are not added again.
            push_lower(&mut text, &request_title(request));
            title_ends.push(text.len());
            for (name, number) in [
                (request.request_type.name(), request.request_type.0),
                (request.status.name(), request.status.0),
            ] {
                text.push(b'\n');
                match name {
                    Some(name) => push_lower(&mut text, name),
                    None => {
                        let _ = write!(text, "unknown({number})");
                    }
                }
            }
            text.push(b'\n');
            // Into the buffer directly: a String per number added up over 100,000 rows.
            let _ = write!(text, "{}", request.priority);
            text.push(b'\n');
            push_lower(&mut text, card_text(request));
            if let Some(submitted) = request.submitted {
                // As shown (local time and zone), and as the server wrote it (UTC).
                text.push(b'\n');
                let from = text.len();
                let _ = write!(text, "{}", ShownTime::local(submitted));
                text.push(b'\n');
                let _ = submitted.format_into(&mut text, &Rfc3339);
                text[from..].make_ascii_lowercase();
            }
            for id in [
                Some(request.uuid),
                request.target_user,
                request.originator_user,
                request.new_smartcard,
            ]
            .into_iter()
            .flatten()
            {
                text.push(b'\n');
                push_uuid(&mut text, id);
            }
            if let Some(comment) = &request.comment {
                text.push(b'\n');
                push_lower(&mut text, comment);
            }
            text.push(b'\n');
        }
        starts.push(text.len());
        // The estimate above is rarely exact, and the index is kept as long as the list.
        text.shrink_to_fit();
        let mut index = SearchIndex {
            text,
            starts,
            title_ends,
            ascending: Vec::new(),
        };
        // Sorting 100,000 titles takes longer than a frame: done here, with
        // the rest of the load, rather than when a header is clicked.
        index.ascending = Column::ALL
            .iter()
            .map(|&column| {
                let mut rows: Vec<u32> = (0..requests.len() as u32).collect();
                // The row number breaks ties, so the quicker unstable sort keeps list order.
                rows.sort_unstable_by(|&a, &b| {
                    compare(requests, &index, column, a, b).then(a.cmp(&b))
                });
                rows
            })
            .collect();
        index
    }

    /// How many rows it indexes.
    pub fn len(&self) -> usize {
        self.title_ends.len()
    }

    /// True when it indexes no row.
    pub fn is_empty(&self) -> bool {
        self.title_ends.is_empty()
    }

    /// The lower-cased title of row `row`.
    fn title(&self, row: usize) -> &[u8] {
        &self.text[self.starts[row]..self.title_ends[row]]
    }

    fn row_text(&self, row: usize) -> &[u8] {
        &self.text[self.starts[row]..self.starts[row + 1]]
    }

    /// Which rows hold every whitespace-separated term of `query` (any case),
    /// as one flag per row; `None` when the query has no term (every row matches).
    pub fn matching(&self, query: &str) -> Option<Vec<bool>> {
        let lowered = query.to_lowercase();
        let mut terms: Vec<&str> = lowered.split_whitespace().collect();
        if terms.is_empty() {
            return None;
        }
        // The longest term is usually the rarest: one scan of the buffer finds
        // its rows, and only those rows are searched for the other terms.
        terms.sort_by_key(|t| std::cmp::Reverse(t.len()));
        let first = memmem::Finder::new(terms[0].as_bytes());
        let others: Vec<memmem::Finder<'_>> = terms[1..]
            .iter()
            .map(|t| memmem::Finder::new(t.as_bytes()))
            .collect();
        let mut hits = vec![false; self.len()];
        let mut at = 0;
        let mut row = 0;
        while let Some(found) = first.find(&self.text[at..]) {
            // Matches come in buffer order: walk the rows forward to the one holding it.
            while self.starts[row + 1] <= at + found {
                row += 1;
            }
            let text = self.row_text(row);
            hits[row] = others.iter().all(|f| f.find(text).is_some());
            // One hit per row is enough: go on with the next row.
            at = self.starts[row + 1];
        }
        Some(hits)
    }
}

/// Compares two rows by `column`, ascending; ties are equal (the caller's stable sort keeps list order).
fn compare(requests: &[Request], index: &SearchIndex, column: Column, a: u32, b: u32) -> Ordering {
    let (ra, rb) = (&requests[a as usize], &requests[b as usize]);
    match column {
        Column::Target => index.title(a as usize).cmp(index.title(b as usize)),
        Column::Type => ra
            .request_type
            .name()
            .cmp(&rb.request_type.name())
            .then_with(|| ra.request_type.cmp(&rb.request_type)),
        Column::Submitted => ra.submitted.cmp(&rb.submitted),
        Column::Priority => ra.priority.cmp(&rb.priority),
        Column::Status => ra
            .status
            .name()
            .cmp(&rb.status.name())
            .then_with(|| ra.status.cmp(&rb.status)),
        Column::Card => ra.new_smartcard.is_some().cmp(&rb.new_smartcard.is_some()),
    }
}

/// The rows of `requests` (already in [`Request::list_order`], and indexed
/// by `index`) in `sort`'s order. Rows that compare equal keep list order,
/// in both directions.
pub fn sorted_rows(requests: &[Request], index: &SearchIndex, sort: Option<Sort>) -> Vec<u32> {
    let Some(sort) = sort else {
        return (0..requests.len() as u32).collect();
    };
    let Some(ascending) = index
        .ascending
        .get(sort.column.position())
        .filter(|rows| rows.len() == requests.len())
    else {
        // An index of another list: list order rather than a wrong order.
        return (0..requests.len() as u32).collect();
    };
    if !sort.descending {
        return ascending.clone();
    }
    // Descending: the runs of equal rows in reverse, each run still in list order.
    let same = |a: u32, b: u32| compare(requests, index, sort.column, a, b).is_eq();
    let mut rows = Vec::with_capacity(ascending.len());
    let mut end = ascending.len();
    while end > 0 {
        let mut start = end - 1;
        while start > 0 && same(ascending[start - 1], ascending[end - 1]) {
            start -= 1;
        }
        rows.extend_from_slice(&ascending[start..end]);
        end = start;
    }
    rows
}
