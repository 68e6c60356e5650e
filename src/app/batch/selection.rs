//! The request list's multi-selection, as desktop lists have it: a plain
//! click (or an arrow key) selects one row, Ctrl+click toggles a row,
//! Shift+click (or Shift+arrow) selects the range from the anchor,
//! Ctrl+arrow moves the cursor and keeps the selection, Space toggles the
//! row at the cursor.
//!
//! One row selected is the single selection the bind bar has always had:
//! [`StationState::selected_request`] is both the cursor and the selected
//! row. Only while more (or another) rows are marked does the selection
//! live here; then the bind bar offers the batch instead of Bind.

use std::collections::HashSet;

use uuid::Uuid;

use crate::app::station::StationState;
use crate::domain::request::Request;
use crate::domain::search::Sort;

/// How a row was clicked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowClick {
    /// Selects this row alone.
    Plain,
    /// Ctrl+click: adds the row to the selection, or takes it out.
    Toggle,
    /// Shift+click: selects the rows from the anchor to this one.
    Extend,
}

/// The marked rows while a multi-selection is active.
#[derive(Debug, Default)]
pub struct Selection {
    /// The rows selected; `None` in single selection.
    marks: Option<HashSet<Uuid>>,
    /// Where a Shift range starts: the last row clicked or toggled.
    anchor: Option<Uuid>,
    /// The cursor the marks were made with: when the selected request
    /// changes any other way, the multi-selection ends.
    cursor: Option<Uuid>,
    /// Counts changes of the marks, for the cached order.
    generation: u64,
    /// The marked requests' places in the list, in the order shown.
    ordered: Vec<usize>,
    /// What `ordered` was worked out for.
    key: Option<OrderKey>,
}

/// The list as the cached order saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct OrderKey {
    generation: u64,
    list: usize,
    len: usize,
    rows: usize,
    sort: Option<Sort>,
    search: String,
}

impl Selection {
    /// How many rows are marked, while a multi-selection is active.
    pub fn marked(&self, selected: Option<Uuid>) -> Option<usize> {
        let marks = self.marks.as_ref()?;
        (self.cursor == selected).then_some(marks.len())
    }

    /// Whether `id` is selected.
    pub fn contains(&self, id: Uuid, selected: Option<Uuid>) -> bool {
        match (&self.marks, self.cursor == selected) {
            (Some(marks), true) => marks.contains(&id),
            _ => selected == Some(id),
        }
    }

    /// The selected rows as a set.
    fn current(&self, selected: Option<Uuid>) -> HashSet<Uuid> {
        match (&self.marks, self.cursor == selected) {
            (Some(marks), true) => marks.clone(),
            _ => selected.into_iter().collect(),
        }
    }

    /// Takes `set` with the cursor on `cursor`; returns the selected
    /// request to keep. One row at the cursor is the single selection;
    /// with `collapse`, one row anywhere is (the cursor goes to it).
    fn set(&mut self, set: HashSet<Uuid>, cursor: Option<Uuid>, collapse: bool) -> Option<Uuid> {
        self.generation += 1;
        let only = (set.len() == 1)
            .then(|| set.iter().next().copied())
            .flatten();
        match only {
            Some(only) if collapse || Some(only) == cursor => {
                self.marks = None;
                self.cursor = None;
                Some(only)
            }
            _ => {
                self.marks = Some(set);
                self.cursor = cursor;
                cursor
            }
        }
    }

    /// Back to single selection.
    fn clear(&mut self) {
        if self.marks.take().is_some() {
            self.generation += 1;
        }
        self.cursor = None;
    }

    /// The marked requests' places in the list, in the order shown (as
    /// the last [`StationState::sync_selection`] found them).
    pub fn ordered(&self) -> &[usize] {
        &self.ordered
    }
}

impl StationState {
    /// Whether Ctrl and Shift select several requests: where a batch can be
    /// started (never at a kiosk station).
    pub fn multi_select_offered(&self) -> bool {
        self.actions_offered()
    }

    /// Whether the row of `id` is drawn selected.
    pub fn row_selected(&self, id: Uuid) -> bool {
        self.batch.selection.contains(id, self.selected_request)
    }

    /// A click on the row of `id`.
    pub fn click_row(&mut self, id: Uuid, how: RowClick) {
        self.sync_cursor();
        let how = if self.multi_select_offered() {
            how
        } else {
            RowClick::Plain
        };
        match how {
            RowClick::Plain => self.select_single(Some(id)),
            RowClick::Toggle => {
                let mut set = self.batch.selection.current(self.selected_request);
                if !set.remove(&id) {
                    set.insert(id);
                }
                self.batch.selection.anchor = Some(id);
                self.selected_request = self.batch.selection.set(set, Some(id), true);
            }
            RowClick::Extend => self.extend_to(id),
        }
    }

    /// Selects `id` alone (a plain click or arrow key), or nothing.
    pub fn select_single(&mut self, id: Option<Uuid>) {
        self.batch.selection.clear();
        self.batch.selection.anchor = id;
        self.selected_request = id;
    }

    /// Space in the list: the row at the cursor joins the selection or
    /// leaves it.
    pub fn toggle_cursor_row(&mut self) {
        self.sync_cursor();
        let Some(cursor) = self.selected_request else {
            return;
        };
        if !self.multi_select_offered() {
            return;
        }
        let mut set = self.batch.selection.current(self.selected_request);
        if !set.remove(&cursor) {
            set.insert(cursor);
        }
        self.batch.selection.anchor = Some(cursor);
        self.selected_request = self.batch.selection.set(set, Some(cursor), true);
    }

    /// Shift+arrow: the selection runs from the anchor to the row `steps`
    /// away from the cursor.
    pub fn extend_selection(&mut self, steps: isize) {
        self.sync_cursor();
        let Some(next) = self.view.step(&self.requests, self.selected_request, steps) else {
            return;
        };
        if self.multi_select_offered() {
            self.extend_to(next);
        } else {
            self.select_single(Some(next));
        }
    }

    /// Ctrl+arrow: the cursor moves `steps` rows and the selection stays.
    pub fn move_cursor(&mut self, steps: isize) {
        self.sync_cursor();
        let Some(next) = self.view.step(&self.requests, self.selected_request, steps) else {
            return;
        };
        if !self.multi_select_offered() {
            return self.select_single(Some(next));
        }
        let set = self.batch.selection.current(self.selected_request);
        self.selected_request = self.batch.selection.set(set, Some(next), false);
    }

    fn extend_to(&mut self, id: Uuid) {
        let from = self
            .batch
            .selection
            .anchor
            .or(self.selected_request)
            .unwrap_or(id);
        let at = |target: Uuid| self.view.position(&self.requests, target);
        let (start, end) = match (at(from), at(id)) {
            (Some(a), Some(b)) => (a.min(b), a.max(b)),
            (_, Some(b)) => (b, b),
            _ => return,
        };
        let set: HashSet<Uuid> = self.view.rows()[start..=end]
            .iter()
            .filter_map(|&row| self.requests.get(row as usize).map(|r| r.uuid))
            .collect();
        if self.batch.selection.anchor.is_none() {
            self.batch.selection.anchor = Some(from);
        }
        self.selected_request = self.batch.selection.set(set, Some(id), false);
    }

    /// The multi-selection ends when the selected request was changed any
    /// other way (the search's Enter, an arrow from the search box).
    fn sync_cursor(&mut self) {
        let selection = &mut self.batch.selection;
        if selection.marks.is_some() && selection.cursor != self.selected_request {
            selection.clear();
        }
    }

    /// Once a frame, before drawing: ends a multi-selection the cursor
    /// left, drops marks the list no longer shows, and works out the
    /// marked requests' order (only when the list or the marks changed).
    pub fn sync_selection(&mut self) {
        self.sync_cursor();
        let selection = &mut self.batch.selection;
        let Some(marks) = &mut selection.marks else {
            selection.ordered.clear();
            selection.key = None;
            return;
        };
        let key = OrderKey {
            generation: selection.generation,
            list: self.requests.as_ptr() as usize,
            len: self.requests.len(),
            rows: self.view.rows().len(),
            sort: self.view.sort(),
            search: self.view.search().to_owned(),
        };
        if selection.key.as_ref() == Some(&key) {
            return;
        }
        let ordered: Vec<usize> = self
            .view
            .rows()
            .iter()
            .map(|&row| row as usize)
            .filter(|&row| {
                self.requests
                    .get(row)
                    .is_some_and(|r| marks.contains(&r.uuid))
            })
            .collect();
        if ordered.len() != marks.len() {
            // A search or a new list hid some: what is not shown is not selected.
            let shown: HashSet<Uuid> = ordered
                .iter()
                .filter_map(|&row| self.requests.get(row).map(|r| r.uuid))
                .collect();
            *marks = shown;
            selection.generation += 1;
        }
        selection.ordered = ordered;
        selection.key = Some(OrderKey {
            generation: selection.generation,
            ..key
        });
    }

    /// The marked requests, in the order the list shows them.
    pub fn marked_requests(&self) -> impl Iterator<Item = &Request> {
        self.batch
            .selection
            .ordered()
            .iter()
            .filter_map(|&row| self.requests.get(row))
    }
}
