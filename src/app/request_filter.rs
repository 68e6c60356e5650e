//! Searching and sorting the request list, without egui.
//!
//! A list can hold 100,000 requests, and the search runs on every keystroke,
//! so the work is split: [`SearchIndex::build`] lower-cases every request's
//! searchable text once per list load (into one buffer, so a term is found by
//! one SIMD scan of it, `memchr::memmem`), and [`RequestView`] keeps the sort
//! order of the whole list, so a keystroke only scans and then picks the
//! matching rows out of that order.

use std::sync::Arc;

use uuid::Uuid;

use crate::domain::request::Request;
pub use crate::domain::search::{Column, SearchIndex, Sort, card_text, request_title, sorted_rows};

/// The list as the operator sees it: which rows, in which order.
///
/// Built from the list once per load ([`RequestView::load`]); searching
/// ([`RequestView::set_search`]) and sorting ([`RequestView::set_sort`]) then
/// only recompute what changed.
#[derive(Debug, Default)]
pub struct RequestView {
    /// What the search box holds; [`RequestView::apply_input`] searches for it.
    pub input: String,
    index: Arc<SearchIndex>,
    search: String,
    sort: Option<Sort>,
    /// Every row, in the sort order.
    order: Vec<u32>,
    /// The rows the search lets through, in the sort order.
    rows: Vec<u32>,
    /// Which rows the search matches; `None` when it has no term.
    hits: Option<Vec<bool>>,
    bindable: usize,
}

impl RequestView {
    /// Takes a freshly loaded list; the search and sort stay as they were.
    pub fn load(&mut self, requests: &[Request]) {
        self.load_indexed(requests, Arc::new(SearchIndex::build(requests)));
    }

    /// Takes a freshly loaded list whose index was built elsewhere (off the UI thread).
    pub fn load_indexed(&mut self, requests: &[Request], index: Arc<SearchIndex>) {
        debug_assert_eq!(index.len(), requests.len());
        self.index = index;
        self.bindable = requests.iter().filter(|r| r.is_bindable()).count();
        self.order = sorted_rows(requests, &self.index, self.sort);
        self.hits = self.index.matching(&self.search);
        self.select_rows();
    }

    /// Forgets the list (the query changed; a new one is on its way).
    pub fn clear(&mut self) {
        self.index = Arc::default();
        self.order.clear();
        self.rows.clear();
        self.hits = None;
        self.bindable = 0;
    }

    /// Searches for `text`, as if typed into the search box.
    pub fn set_search(&mut self, text: &str) {
        text.clone_into(&mut self.input);
        self.apply_input();
    }

    /// Searches again when the search box's text changed since the last search.
    pub fn apply_input(&mut self) {
        if self.search == self.input {
            return;
        }
        self.search.clone_from(&self.input);
        self.hits = self.index.matching(&self.search);
        self.select_rows();
    }

    /// Sorts again when the sort changed.
    pub fn set_sort(&mut self, requests: &[Request], sort: Option<Sort>) {
        if self.sort == sort {
            return;
        }
        self.sort = sort;
        self.order = sorted_rows(requests, &self.index, sort);
        self.select_rows();
    }

    fn select_rows(&mut self) {
        self.rows = match &self.hits {
            None => self.order.clone(),
            Some(hits) => self
                .order
                .iter()
                .copied()
                .filter(|&row| hits.get(row as usize).copied().unwrap_or(false))
                .collect(),
        };
    }

    /// The search text applied.
    pub fn search(&self) -> &str {
        &self.search
    }

    /// The column sort applied.
    pub fn sort(&self) -> Option<Sort> {
        self.sort
    }

    /// The shown rows, as indices into the list, in display order.
    pub fn rows(&self) -> &[u32] {
        &self.rows
    }

    /// How many requests of the whole list can take a card.
    pub fn bindable(&self) -> usize {
        self.bindable
    }

    /// True when the search lets row `row` (an index into the list) through.
    pub fn shows(&self, row: usize) -> bool {
        row < self.index.len()
            && self
                .hits
                .as_ref()
                .is_none_or(|hits| hits.get(row).copied().unwrap_or(false))
    }

    /// True when the search hides some rows.
    pub fn is_filtered(&self) -> bool {
        self.hits.is_some()
    }

    /// The shown row `steps` away from `current` (a request ID), clamped to the
    /// list; from nothing, the first row going down and the last going up.
    pub fn step(&self, requests: &[Request], current: Option<Uuid>, steps: isize) -> Option<Uuid> {
        let last = self.rows.len().checked_sub(1)?;
        let position = current.and_then(|id| {
            self.rows
                .iter()
                .position(|&row| requests.get(row as usize).is_some_and(|r| r.uuid == id))
        });
        let next = match position {
            Some(at) => at.saturating_add_signed(steps).min(last),
            None if steps < 0 => last,
            None => 0,
        };
        let row = *self.rows.get(next)?;
        requests.get(row as usize).map(|r| r.uuid)
    }

    /// Where the request `id` is among the shown rows.
    pub fn position(&self, requests: &[Request], id: Uuid) -> Option<usize> {
        self.rows
            .iter()
            .position(|&row| requests.get(row as usize).is_some_and(|r| r.uuid == id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::request::{
        DataItem, RequestStatus, RequestType, ShownTime, at, example_request,
    };

    fn person(id: u128, status: RequestStatus, name: &str, department: &str) -> Request {
        let mut request = example_request(id, status);
        request.data_collection = smallvec::smallvec![
            DataItem {
                name: "DisplayName".into(),
                value: Some(name.into()),
            },
            DataItem {
                name: "Department".into(),
                value: Some(department.into()),
            },
        ];
        request
    }

    fn list() -> Vec<Request> {
        let mut a = person(1, RequestStatus::APPROVED, "Zoë Müller", "Finance");
        a.priority = 1;
        a.submitted = Some(at("2026-11-02T10:00:00Z"));
        let mut b = person(2, RequestStatus::PENDING, "anna Bauer", "Legal");
        b.priority = 5;
        b.submitted = Some(at("2026-11-01T10:00:00Z"));
        b.comment = Some("Contractor until Q1".into());
        let mut c = person(3, RequestStatus::EXECUTING, "Ben Castillo", "Finance");
        c.priority = 1;
        c.request_type = RequestType::RENEW;
        c.submitted = Some(at("2026-11-03T10:00:00Z"));
        let mut d = person(4, RequestStatus::APPROVED, "Ines Dubois", "IT Operations");
        d.priority = 3;
        d.new_smartcard = Some(Uuid::from_u128(0xabcdef));
        let mut list = vec![a, b, c, d];
        list.sort_by(Request::list_order);
        list
    }

    fn ids(view: &RequestView, requests: &[Request]) -> Vec<u128> {
        view.rows()
            .iter()
            .map(|&r| requests[r as usize].uuid.as_u128())
            .collect()
    }

    fn view(requests: &[Request]) -> RequestView {
        let mut view = RequestView::default();
        view.load(requests);
        view
    }

    #[test]
    fn without_sort_or_search_the_list_keeps_bindable_first_order() {
        let requests = list();
        let view = view(&requests);
        assert_eq!(ids(&view, &requests), vec![1, 3, 2, 4]);
        assert_eq!(view.bindable(), 2, "the bound approved one is not bindable");
        assert!(!view.is_filtered());
    }

    #[test]
    fn every_term_must_match_in_any_case_and_any_column() {
        let requests = list();
        let mut view = view(&requests);
        view.set_search("finance");
        assert_eq!(ids(&view, &requests), vec![1, 3]);
        view.set_search("  FINANCE   castillo ");
        assert_eq!(ids(&view, &requests), vec![3]);
        view.set_search("müller");
        assert_eq!(ids(&view, &requests), vec![1], "non-ASCII is lower-cased");
        view.set_search("ZOË");
        assert_eq!(ids(&view, &requests), vec![1]);
        view.set_search("contractor");
        assert_eq!(ids(&view, &requests), vec![2], "the comment is searched");
        view.set_search("renew");
        assert_eq!(ids(&view, &requests), vec![3], "the type column");
        view.set_search("pending");
        assert_eq!(ids(&view, &requests), vec![2], "the status column");
        view.set_search("bound");
        assert_eq!(ids(&view, &requests), vec![4], "the card column");
        view.set_search("2026-11-01");
        assert_eq!(ids(&view, &requests), vec![2], "the submitted column");
        view.set_search(&Uuid::from_u128(3).to_string().to_uppercase());
        assert_eq!(ids(&view, &requests), vec![3], "the request's GUID");
        view.set_search(&Uuid::from_u128(0xabcdef).to_string());
        assert_eq!(
            ids(&view, &requests),
            vec![4],
            "the bound smart card's GUID"
        );
        view.set_search("finance legal");
        assert!(view.rows().is_empty(), "no request holds both");
        view.set_search("e\ncastillo");
        assert_eq!(ids(&view, &requests), vec![3]);
        view.set_search("   ");
        assert_eq!(ids(&view, &requests), vec![1, 3, 2, 4]);
    }

    #[test]
    fn a_term_never_matches_across_two_rows_or_fields() {
        let requests = list();
        let mut view = view(&requests);
        // The title "zoë müller, finance" is followed by the type "enroll".
        view.set_search("financeenroll");
        assert!(view.rows().is_empty());
        view.set_search("finance,");
        assert!(view.rows().is_empty());
    }

    #[test]
    fn a_data_collection_value_is_found_even_when_it_is_not_a_name() {
        let mut request = example_request(9, RequestStatus::APPROVED);
        request.data_collection = smallvec::smallvec![
            DataItem {
                name: "EmployeeId".into(),
                value: Some("E12345".into()),
            },
            DataItem {
                name: "Unused".into(),
                value: None,
            },
        ];
        let requests = vec![request];
        let mut view = view(&requests);
        view.set_search("e1234");
        assert_eq!(ids(&view, &requests), vec![9]);
    }

    #[test]
    fn sorting_by_a_column_is_stable_and_reverses() {
        let requests = list();
        let mut view = view(&requests);
        let mut sort = Sort::clicked(None, Column::Priority);
        view.set_sort(&requests, Some(sort));
        // Priority 1 twice: they keep list order (1 before 3) both ways.
        assert_eq!(ids(&view, &requests), vec![1, 3, 4, 2]);
        sort = Sort::clicked(Some(sort), Column::Priority);
        assert!(sort.descending);
        view.set_sort(&requests, Some(sort));
        assert_eq!(ids(&view, &requests), vec![2, 4, 1, 3]);

        view.set_sort(&requests, Some(Sort::clicked(Some(sort), Column::Target)));
        assert_eq!(
            ids(&view, &requests),
            vec![2, 3, 4, 1],
            "names compare without regard to case"
        );
        view.set_sort(
            &requests,
            Some(Sort {
                column: Column::Submitted,
                descending: true,
            }),
        );
        assert_eq!(ids(&view, &requests), vec![3, 1, 2, 4], "newest first");
        view.set_sort(
            &requests,
            Some(Sort {
                column: Column::Status,
                descending: false,
            }),
        );
        assert_eq!(ids(&view, &requests), vec![1, 4, 3, 2]);
        view.set_sort(
            &requests,
            Some(Sort {
                column: Column::Card,
                descending: true,
            }),
        );
        assert_eq!(ids(&view, &requests), vec![4, 1, 3, 2]);
        view.set_sort(
            &requests,
            Some(Sort {
                column: Column::Type,
                descending: false,
            }),
        );
        assert_eq!(ids(&view, &requests), vec![1, 2, 4, 3]);
        view.set_sort(&requests, None);
        assert_eq!(ids(&view, &requests), vec![1, 3, 2, 4]);
    }

    #[test]
    fn search_and_sort_combine_and_survive_a_reload() {
        let requests = list();
        let mut view = view(&requests);
        view.set_search("finance");
        view.set_sort(
            &requests,
            Some(Sort {
                column: Column::Target,
                descending: true,
            }),
        );
        assert_eq!(ids(&view, &requests), vec![1, 3]);
        let mut fresh = list();
        fresh.retain(|r| r.uuid != Uuid::from_u128(1));
        fresh.push(person(
            5,
            RequestStatus::APPROVED,
            "Chloé Dubois",
            "Finance",
        ));
        fresh.sort_by(Request::list_order);
        view.load(&fresh);
        assert_eq!(ids(&view, &fresh), vec![5, 3]);
        assert_eq!(view.search(), "finance");
        view.clear();
        assert!(view.rows().is_empty());
    }

    #[test]
    fn arrows_move_through_the_shown_rows_and_stop_at_the_ends() {
        let requests = list();
        let mut view = view(&requests);
        let id = |n: u128| Some(Uuid::from_u128(n));
        assert_eq!(view.step(&requests, None, 1), id(1));
        assert_eq!(view.step(&requests, None, -1), id(4));
        assert_eq!(view.step(&requests, id(1), 1), id(3));
        assert_eq!(view.step(&requests, id(1), -1), id(1));
        assert_eq!(view.step(&requests, id(4), 1), id(4));
        assert_eq!(view.step(&requests, id(1), 10), id(4), "a page down clamps");
        view.set_search("finance");
        assert_eq!(
            view.step(&requests, id(2), 1),
            id(1),
            "a hidden selection starts over"
        );
        assert_eq!(view.position(&requests, Uuid::from_u128(3)), Some(1));
        view.set_search("nobody");
        assert_eq!(view.step(&requests, id(1), 1), None);
    }

    #[test]
    fn submission_times_sort_as_instants_across_offsets() {
        // Each written as a server might: later text is not always later.
        let mut requests: Vec<Request> = [
            (1, "2026-11-20T09:30:00+01:00"), // 08:30 UTC
            (2, "2026-11-20T08:45:00Z"),      // 08:45 UTC
            (3, "2026-11-20T03:00:00-05:00"), // 08:00 UTC
            (4, "2026-11-20T08:30:00.5Z"),    // half a second after 1
            (5, "2026-11-20T08:30:00Z"),      // the same instant as 1
        ]
        .into_iter()
        .map(|(id, time)| {
            let mut r = example_request(id, RequestStatus::APPROVED);
            r.submitted = Some(at(time));
            r
        })
        .collect();
        requests.sort_by(Request::list_order);
        assert_eq!(
            requests
                .iter()
                .map(|r| r.uuid.as_u128())
                .collect::<Vec<_>>(),
            vec![3, 1, 5, 4, 2],
            "oldest first; the same instant keeps GUID order"
        );
        let mut view = view(&requests);
        view.set_sort(
            &requests,
            Some(Sort {
                column: Column::Submitted,
                descending: true,
            }),
        );
        assert_eq!(ids(&view, &requests), vec![2, 4, 1, 5, 3]);
        let mut none = example_request(6, RequestStatus::APPROVED);
        none.submitted = None;
        requests.push(none);
        let mut view = view_sorted(&requests, Column::Submitted);
        assert_eq!(ids(&view, &requests)[0], 6, "no date sorts first ascending");
        view.set_search("08:45:00z");
        assert_eq!(
            ids(&view, &requests),
            vec![2],
            "the server's UTC form is searched"
        );
    }

    fn view_sorted(requests: &[Request], column: Column) -> RequestView {
        let mut view = view(requests);
        view.set_sort(
            requests,
            Some(Sort {
                column,
                descending: false,
            }),
        );
        view
    }

    #[test]
    fn the_time_is_found_as_shown() {
        let requests = list();
        let mut view = view(&requests);
        let shown = ShownTime::local(at("2026-11-01T10:00:00Z")).to_string();
        view.set_search(&shown.to_uppercase());
        assert_eq!(ids(&view, &requests), vec![2], "{shown}");
    }

    #[test]
    fn a_header_click_sorts_ascending_then_reverses() {
        let first = Sort::clicked(None, Column::Status);
        assert_eq!(
            first,
            Sort {
                column: Column::Status,
                descending: false
            }
        );
        let second = Sort::clicked(Some(first), Column::Status);
        assert!(second.descending);
        assert!(!Sort::clicked(Some(second), Column::Status).descending);
        assert_eq!(
            Sort::clicked(Some(second), Column::Type).column,
            Column::Type
        );
        assert!(!Sort::clicked(Some(second), Column::Type).descending);
    }
}
