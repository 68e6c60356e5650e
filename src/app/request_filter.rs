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

pub mod columns;
pub mod status;

pub use columns::ColumnPlan;
pub use status::{ListChoice, ListProblem, ListStatus, RefreshFeedback};

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
    /// Which rows can take a card, for the "Ready for a card" choice and
    /// the summary's count of what is shown.
    ready: Vec<bool>,
    /// Only the rows that can take a card are shown ("Ready for a card").
    ready_only: bool,
    /// How many of the shown rows can take a card.
    shown_ready: usize,
    /// The request bound at this desk, kept where it was until the operator
    /// (or the timer) asks for the list again.
    held: Option<Held>,
}

/// A just-bound request: it keeps its place and a badge, so an agent working
/// down the queue does not lose their place when the bound row would sort
/// last.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Held {
    id: Uuid,
    /// Its index in the sort order when it was bound; `None` once the
    /// operator sorted the list by a column.
    at: Option<usize>,
    /// Its row in the list as loaded now.
    row: Option<u32>,
    /// A refresh was asked for after the bind: its answer lets go.
    release_on_load: bool,
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
        self.ready = requests.iter().map(Request::is_bindable).collect();
        self.bindable = self.ready.iter().filter(|&&ready| ready).count();
        self.order = sorted_rows(requests, &self.index, self.sort);
        self.hits = self.index.matching(&self.search);
        if self.held.is_some_and(|held| held.release_on_load) {
            self.held = None;
        }
        self.place_held(requests);
        self.select_rows();
    }

    /// Puts the held request back at its place in the fresh sort order.
    fn place_held(&mut self, requests: &[Request]) {
        let Some(held) = &mut self.held else {
            return;
        };
        held.row = requests
            .iter()
            .position(|r| r.uuid == held.id)
            .and_then(|row| u32::try_from(row).ok());
        let (Some(row), Some(at)) = (held.row, held.at) else {
            return;
        };
        if let Some(from) = self.order.iter().position(|&r| r == row) {
            self.order.remove(from);
            let at = at.min(self.order.len());
            self.order.insert(at, row);
        }
    }

    /// A bind of `id` ended bound: the row keeps its place and shows it was
    /// bound until the next refresh asked for (not the one the bind itself
    /// starts).
    pub fn hold_bound(&mut self, requests: &[Request], id: Uuid) {
        let row = requests
            .iter()
            .position(|r| r.uuid == id)
            .and_then(|row| u32::try_from(row).ok());
        let at = row.and_then(|row| self.order.iter().position(|&r| r == row));
        self.held = Some(Held {
            id,
            at,
            row,
            release_on_load: false,
        });
        self.select_rows();
    }

    /// A refresh was asked for: when its list arrives, a held request
    /// goes to its sorted place and loses its badge.
    pub fn release_on_next_load(&mut self) {
        if let Some(held) = &mut self.held {
            held.release_on_load = true;
        }
    }

    /// The request bound at this desk since the last refresh, for its badge.
    pub fn just_bound(&self) -> Option<Uuid> {
        self.held.map(|held| held.id)
    }

    /// Shows only the requests that can take a card (or all of them).
    pub fn set_ready_only(&mut self, ready_only: bool) {
        if self.ready_only != ready_only {
            self.ready_only = ready_only;
            self.select_rows();
        }
    }

    /// True when only the requests that can take a card are shown.
    pub fn ready_only(&self) -> bool {
        self.ready_only
    }

    /// Forgets the list (the query changed; a new one is on its way).
    pub fn clear(&mut self) {
        self.index = Arc::default();
        self.order.clear();
        self.rows.clear();
        self.hits = None;
        self.bindable = 0;
        self.ready.clear();
        self.shown_ready = 0;
        self.held = None;
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
        // The operator chose an order: the held row goes where it sorts.
        if let Some(held) = &mut self.held {
            held.at = None;
        }
        self.select_rows();
    }

    fn select_rows(&mut self) {
        let held = self.held.and_then(|held| held.row);
        let ready = &self.ready;
        let ready_only = self.ready_only;
        let passes = |row: u32| {
            !ready_only || Some(row) == held || ready.get(row as usize).copied().unwrap_or(false)
        };
        self.rows = match (&self.hits, ready_only) {
            (None, false) => self.order.clone(),
            (hits, _) => self
                .order
                .iter()
                .copied()
                .filter(|&row| {
                    passes(row)
                        && hits
                            .as_ref()
                            .is_none_or(|hits| hits.get(row as usize).copied().unwrap_or(false))
                })
                .collect(),
        };
        self.shown_ready = self
            .rows
            .iter()
            .filter(|&&row| self.ready.get(row as usize).copied().unwrap_or(false))
            .count();
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

    /// True when the search (and "Ready for a card") lets row `row` (an
    /// index into the list) through.
    pub fn shows(&self, row: usize) -> bool {
        row < self.index.len()
            && self
                .hits
                .as_ref()
                .is_none_or(|hits| hits.get(row).copied().unwrap_or(false))
            && (!self.ready_only
                || self.ready.get(row).copied().unwrap_or(false)
                || self.held.and_then(|held| held.row) == u32::try_from(row).ok())
    }

    /// True when the search or "Ready for a card" hides some rows.
    pub fn is_filtered(&self) -> bool {
        self.hits.is_some() || self.ready_only
    }

    /// How many of the shown rows can take a card.
    pub fn shown_ready(&self) -> usize {
        self.shown_ready
    }

    /// The line above the list: what is shown, of how many, and how many
    /// can take a card, following the search. The hint to select one is
    /// only given when there is one to select and none is selected.
    pub fn summary(&self, selected: bool) -> String {
        let total = self.index.len();
        let ready = match self.shown_ready {
            0 => "none can take a card".to_owned(),
            n => format!("{n} ready for a card"),
        };
        let mut line = if self.is_filtered() {
            format!("{} of {total} shown · {ready}", self.rows.len())
        } else {
            let noun = if total == 1 { "request" } else { "requests" };
            format!("{total} {noun} · {ready}")
        };
        if self.shown_ready > 0 && !selected {
            line.push_str(". Select one, then insert the card.");
        }
        line
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
    fn a_just_bound_request_keeps_its_place_until_a_refresh_is_asked_for() {
        let requests = list();
        let mut view = view(&requests);
        assert_eq!(ids(&view, &requests), vec![1, 3, 2, 4]);
        view.hold_bound(&requests, Uuid::from_u128(1));
        assert_eq!(view.just_bound(), Some(Uuid::from_u128(1)));
        // The bind's own refresh: 1 now has a card and would sort last.
        let mut bound = list();
        bound
            .iter_mut()
            .filter(|r| r.uuid == Uuid::from_u128(1))
            .for_each(|r| r.new_smartcard = Some(Uuid::from_u128(0xb)));
        bound.sort_by(Request::list_order);
        assert_eq!(
            bound[0].uuid,
            Uuid::from_u128(3),
            "sorted, 1 is no longer first"
        );
        view.load(&bound);
        assert_eq!(
            ids(&view, &bound),
            vec![1, 3, 2, 4],
            "it stays where it was"
        );
        assert_eq!(view.just_bound(), Some(Uuid::from_u128(1)));
        assert_eq!(view.bindable(), 1);
        // F5 or the timer: the next list puts it in its place.
        view.release_on_next_load();
        assert_eq!(
            view.just_bound(),
            Some(Uuid::from_u128(1)),
            "until it arrives"
        );
        view.load(&bound);
        assert_eq!(view.just_bound(), None);
        assert_eq!(ids(&view, &bound)[0], 3);
        assert_ne!(ids(&view, &bound)[0], 1);
    }

    #[test]
    fn ready_for_a_card_shows_the_bindable_rows_and_the_one_just_bound() {
        let requests = list();
        let mut view = view(&requests);
        view.set_ready_only(true);
        assert_eq!(ids(&view, &requests), vec![1, 3]);
        assert!(view.is_filtered());
        assert!(!view.shows(2) && view.shows(0));
        view.hold_bound(&requests, Uuid::from_u128(1));
        let mut bound = list();
        bound
            .iter_mut()
            .filter(|r| r.uuid == Uuid::from_u128(1))
            .for_each(|r| r.new_smartcard = Some(Uuid::from_u128(0xb)));
        bound.sort_by(Request::list_order);
        view.load(&bound);
        assert_eq!(
            ids(&view, &bound),
            vec![1, 3],
            "the bound one stays in view"
        );
        assert_eq!(view.shown_ready(), 1);
        view.release_on_next_load();
        view.load(&bound);
        assert_eq!(ids(&view, &bound), vec![3]);
        view.set_ready_only(false);
        assert_eq!(ids(&view, &bound).len(), 4);
    }

    #[test]
    fn the_summary_follows_the_search_and_never_asks_for_a_card_it_cannot_take() {
        let requests = list();
        let mut view = view(&requests);
        assert_eq!(
            view.summary(false),
            "4 requests · 2 ready for a card. Select one, then insert the card."
        );
        assert_eq!(view.summary(true), "4 requests · 2 ready for a card");
        view.set_search("finance");
        assert_eq!(
            view.summary(true),
            "2 of 4 shown · 2 ready for a card",
            "the count follows the search"
        );
        view.set_search("legal");
        assert_eq!(view.summary(false), "1 of 4 shown · none can take a card");
        let completed = vec![example_request(9, RequestStatus::COMPLETED)];
        let view = super::tests::view(&completed);
        assert_eq!(view.summary(false), "1 request · none can take a card");
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
