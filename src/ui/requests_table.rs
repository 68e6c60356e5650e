//! The request list: the search box, the line saying what is shown, the
//! sortable headers and the rows, drawn only where they are visible
//! (egui_extras), so 100,000 requests cost what thirty do.
//!
//! The list is one tab stop (the ARIA grid pattern): the rows are not
//! focusable; a focusable area over the table takes the focus and its keys
//! move the selection (arrows, PageUp/PageDown, Home/End) or, with ←/→,
//! pick a column header that Enter or Space sorts by.

mod cells;
mod states;

use std::time::Instant;

use egui::{Key, Modifiers, Sense, Ui};
use egui_extras::{Column as TableColumn, TableBuilder};

use crate::app::batch::RowClick;
use crate::app::request_filter::{Column, ColumnPlan, ListChoice, Sort};
use crate::app::station::StationState;
use crate::worker::Command;

pub(super) use crate::app::request_filter::request_title;

/// What the list asks the window to do.
#[derive(Clone, Debug)]
pub(super) enum ListAction {
    /// Send this to the worker (Retry's fetch, Cancel's stop).
    Send(Box<Command>),
    /// "Test connection" in the list's error: open Settings and run the
    /// connection test there.
    TestConnection,
}

/// How many rows PageUp/PageDown move.
const PAGE: isize = 10;

/// The search box's ID, so Ctrl+F can focus it and the list keys know when it has the focus.
pub(super) fn search_id() -> egui::Id {
    egui::Id::unique("request-search")
}

/// The list's one focusable area: Tab stops here once, and its keys move
/// the selection.
pub(super) fn list_id() -> egui::Id {
    egui::Id::unique("request-list")
}

/// The header the list's ←/→ keys are on, while the list has the focus.
fn header_cursor_id() -> egui::Id {
    egui::Id::unique("request-list-header-cursor")
}

/// Set for one frame when the keyboard moved the selection, so the list scrolls to it.
fn scroll_flag() -> egui::Id {
    egui::Id::unique("request-list-scroll-to-selection")
}

/// Asks the list to bring the selected row into view on the next draw.
pub(super) fn scroll_to_selection(ctx: &egui::Context) {
    ctx.data_mut(|d| d.insert_temp(scroll_flag(), true));
}

/// "Show [filter]": the label before its control, "Ready for a card" first.
/// Returns the fetch to send when the server must be asked.
pub(super) fn filter_combo_ui(ui: &mut Ui, state: &mut StationState) -> Option<Command> {
    let label = ui.label("Show");
    let mut choice = state.list_choice();
    egui::ComboBox::from_id_salt("request-filter")
        .width(super::layout::combo_width(
            ui,
            ListChoice::ALL.iter().map(|choice| choice.label()),
        ))
        .selected_text(choice.label())
        .show_ui(ui, |ui| {
            for option in ListChoice::ALL {
                ui.selectable_value(&mut choice, option, option.label());
            }
        })
        .response
        .labelled_by(label.id);
    state.choose_list(choice, Instant::now())
}

fn search_ui(ui: &mut Ui, state: &mut StationState) {
    // Nothing to search while there is no list (it failed or was cancelled).
    let usable = state.loading || !state.requests.is_empty();
    ui.horizontal(|ui| {
        let label = ui.label("Search");
        let response = ui
            .add_enabled(
                usable,
                egui::TextEdit::singleline(&mut state.view.input)
                    .id(search_id())
                    .hint_text("name, department, GUID, status… (Ctrl+F)")
                    .desired_width(320.0),
            )
            .labelled_by(label.id);
        // Enter takes the search's result, as in every desktop search box:
        // the first match is selected and the keys go to the list (arrows
        // move the selection). It never binds.
        let entered = response.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter));
        if ui
            .add_enabled(!state.view.input.is_empty(), egui::Button::new("Clear"))
            .on_hover_text("Clear the search")
            .clicked()
        {
            state.view.input.clear();
            response.request_focus();
        }
        // The bind bar is drawn after the list (`desk_frame`), so in this
        // same pass it no longer names a request the search just hid.
        state.apply_search();
        if entered && state.select_first_shown() {
            scroll_to_selection(ui.ctx());
            ui.memory_mut(|m| m.request_focus(list_id()));
        }
    });
}

/// Draws the list area; returns what a click in it asks the window to do.
pub(super) fn requests_ui(ui: &mut Ui, state: &mut StationState) -> Option<ListAction> {
    let now = Instant::now();
    let mut action = None;
    search_ui(ui, state);
    states::status_line(ui, state, now, &mut action);
    if state.requests.is_empty() {
        if state.loading && state.requests_error.is_none() {
            let plan = plan(ui);
            table_ui(ui, state, &plan, Body::Skeleton, None);
        } else {
            states::no_list_ui(ui, state, now, &mut action);
        }
        return action;
    }
    if state.view.rows().is_empty() {
        let search = state.view.search().trim();
        if search.is_empty() {
            ui.label(format!(
                "None of the {} open requests can take a card now.",
                state.requests.len()
            ));
        } else {
            ui.label(format!("No request matches \"{search}\"."));
        }
        return action;
    }
    list_ui(ui, state);
    action
}

fn plan(ui: &Ui) -> ColumnPlan {
    ColumnPlan::new(
        ui.available_width(),
        &cells::natural_widths(ui),
        ui.spacing().item_spacing.x,
    )
}

/// What the table's body shows.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Body {
    Rows,
    /// Grey bars while the first list loads.
    Skeleton,
}

/// The rows with the list's one focusable area over them.
fn list_ui(ui: &mut Ui, state: &mut StationState) {
    let plan = plan(ui);
    let focused = ui.memory(|m| m.has_focus(list_id()));
    let mut cursor = if focused {
        ui.data(|d| d.get_temp::<Option<Column>>(header_cursor_id()))
            .flatten()
    } else {
        None
    };
    let mut scroll_to = ui
        .ctx()
        .data_mut(|d| d.remove_temp::<bool>(scroll_flag()))
        .unwrap_or(false);
    if focused {
        let keys = list_keys(ui, &plan, &mut cursor);
        if keys.steps != 0 {
            let next = state
                .view
                .step(&state.requests, state.selected_request, keys.steps);
            if next.is_some() {
                state.select_single(next);
                scroll_to = true;
            }
        }
        if keys.extend != 0 {
            state.extend_selection(keys.extend);
            scroll_to = true;
        }
        if keys.cursor != 0 {
            state.move_cursor(keys.cursor);
            scroll_to = true;
        }
        if keys.toggle {
            state.toggle_cursor_row();
        }
        if let (Some(column), true) = (cursor, keys.activate) {
            let next = Sort::clicked(state.view.sort(), column);
            state.view.set_sort(&state.requests, Some(next));
        }
    }
    let area = ui.available_rect_before_wrap();
    let response = ui.interact(area, list_id(), Sense::FOCUSABLE);
    let name = match cursor {
        Some(column) => format!(
            "Requests, column {}: Enter sorts by it",
            cells::header_title(column)
        ),
        None => "Requests".to_owned(),
    };
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Grid, true, &name));
    if response.has_focus() {
        // The arrows are the list's while it has the focus, not egui's
        // focus moves.
        ui.memory_mut(|m| {
            m.set_focus_lock_filter(
                list_id(),
                egui::EventFilter {
                    horizontal_arrows: true,
                    vertical_arrows: true,
                    tab: false,
                    escape: false,
                },
            );
        });
    } else {
        cursor = None;
    }
    ui.data_mut(|d| d.insert_temp(header_cursor_id(), cursor));
    let scroll_to = scroll_to
        .then(|| {
            state
                .selected_request
                .and_then(|id| state.view.position(&state.requests, id))
        })
        .flatten();
    table_ui(ui, state, &plan, Body::Rows, scroll_to);
}

/// Takes the keys that move the selection (arrows, PageUp/PageDown and,
/// with `home_end`, Home/End) and returns how many rows they move it:
/// the list's own keys and the window's (from the search box) are one rule.
pub(super) fn take_row_steps(input: &mut egui::InputState, home_end: bool) -> isize {
    let mut steps = 0isize;
    for (key, by) in [
        (Key::ArrowDown, 1),
        (Key::ArrowUp, -1),
        (Key::PageDown, PAGE),
        (Key::PageUp, -PAGE),
        (Key::End, isize::MAX / 2),
        (Key::Home, isize::MIN / 2),
    ] {
        if !home_end && matches!(key, Key::Home | Key::End) {
            continue;
        }
        let pressed = input.count_and_consume_key(Modifiers::NONE, key) as isize;
        steps = steps.saturating_add(by.saturating_mul(pressed));
    }
    steps
}

/// What the keys pressed while the list has the focus ask for.
struct ListKeys {
    /// Plain arrows: move the selection.
    steps: isize,
    /// Shift+arrows: extend the selection from its anchor.
    extend: isize,
    /// Ctrl+arrows: move the cursor, keep the selection.
    cursor: isize,
    /// Space on a row: it joins the selection or leaves it.
    toggle: bool,
    activate: bool,
}

/// Takes the arrows pressed with `modifiers` and returns how many rows they move.
fn take_modified_steps(input: &mut egui::InputState, modifiers: Modifiers) -> isize {
    let down = input.count_and_consume_key(modifiers, Key::ArrowDown) as isize;
    let up = input.count_and_consume_key(modifiers, Key::ArrowUp) as isize;
    down - up
}

/// Reads (and takes) the list's keys: the window's own handler may have
/// taken the row keys already, which is the same move.
fn list_keys(ui: &Ui, plan: &ColumnPlan, cursor: &mut Option<Column>) -> ListKeys {
    ui.input_mut(|i| {
        // Before the plain arrows, which would take Shift+arrows too.
        let extend = take_modified_steps(i, Modifiers::SHIFT);
        let moved = take_modified_steps(i, Modifiers::COMMAND);
        let steps = take_row_steps(i, true);
        if steps != 0 || extend != 0 || moved != 0 {
            *cursor = None;
        }
        let shown: Vec<Column> = plan.columns.iter().map(|&(c, _)| c).collect();
        let at = cursor.and_then(|c| shown.iter().position(|&s| s == c));
        let right = i.count_and_consume_key(Modifiers::NONE, Key::ArrowRight) as isize;
        let left = i.count_and_consume_key(Modifiers::NONE, Key::ArrowLeft) as isize;
        if right + left > 0 && !shown.is_empty() {
            let from = at.map_or(if right > 0 { -1 } else { shown.len() as isize }, |a| {
                a as isize
            });
            let to = (from + right - left).clamp(0, shown.len() as isize - 1);
            *cursor = shown.get(to as usize).copied();
        }
        // Enter and Space act on a picked header only: they never bind.
        let activate = cursor.is_some()
            && (i.consume_key(Modifiers::NONE, Key::Enter)
                | i.consume_key(Modifiers::NONE, Key::Space));
        // Without a header picked, Space selects the row at the cursor or not.
        let toggle = cursor.is_none() && i.consume_key(Modifiers::NONE, Key::Space);
        ListKeys {
            steps,
            extend,
            cursor: moved,
            toggle,
            activate,
        }
    })
}

/// The header and the body in the plan's columns; scrolls sideways when
/// even the narrow plan does not fit.
fn table_ui(
    ui: &mut Ui,
    state: &mut StationState,
    plan: &ColumnPlan,
    body: Body,
    scroll_to: Option<usize>,
) {
    let available = ui.available_width();
    if plan.scrolls(available) {
        egui::ScrollArea::horizontal()
            .id_salt("request-list-sideways")
            .auto_shrink(false)
            .show(ui, |ui| {
                let rect = egui::Rect::from_min_size(
                    ui.cursor().min,
                    egui::vec2(plan.width, ui.available_height()),
                );
                ui.scope_builder(egui::UiBuilder::new().max_rect(rect), |ui| {
                    table(ui, state, plan, body, scroll_to);
                });
            });
    } else {
        table(ui, state, plan, body, scroll_to);
    }
}

fn table(
    ui: &mut Ui,
    state: &mut StationState,
    plan: &ColumnPlan,
    body: Body,
    scroll_to: Option<usize>,
) {
    let columns: Vec<Column> = plan.columns.iter().map(|&(c, _)| c).collect();
    let sort = state.view.sort();
    let cursor = ui
        .data(|d| d.get_temp::<Option<Column>>(header_cursor_id()))
        .flatten();
    let row_height = ui.text_style_height(&egui::TextStyle::Body) + 8.0;
    let mut table = TableBuilder::new(ui)
        .id_salt("requests")
        .striped(true)
        // Clickable, never focusable: the list is one tab stop.
        .sense(if body == Body::Rows {
            Sense::CLICK
        } else {
            Sense::hover()
        })
        .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
        .auto_shrink(false);
    for &(_, width) in &plan.columns {
        // Not clipped (`exact` clips by default): the plan's widths already
        // fit every value and the labels truncate. A clip rect per cell
        // splits each cell into its own mesh and draw call, which cost
        // about 4 MiB of the renderer's memory under llvmpipe (P5).
        table = table.column(TableColumn::exact(width).clip(false));
    }
    if let Some(row) = scroll_to {
        table = table.scroll_to_row(row, None);
    }
    let mut clicked = None;
    let mut sort_clicked = None;
    let mut focus_header = None;
    let table = table.header(row_height, |mut header| {
        for &column in &columns {
            header.col(|ui| {
                let response = cells::header_cell(ui, column, sort, cursor == Some(column));
                if response.clicked() {
                    sort_clicked = Some(column);
                }
                // An assistive technology focusing a header puts the list's
                // keys on it (the header itself is no tab stop).
                if ui.input(|i| {
                    i.has_accesskit_action_request(response.id, egui::accesskit::Action::Focus)
                }) {
                    focus_header = Some(column);
                }
            });
        }
    });
    match body {
        Body::Skeleton => {
            table.body(|body| {
                body.rows(row_height, 8, |mut row| {
                    let index = row.index();
                    for &column in &columns {
                        row.col(|ui| cells::skeleton_cell(ui, index, column));
                    }
                });
            });
        }
        Body::Rows => {
            let requests = &state.requests;
            let rows = state.view.rows();
            let selected_id = state.selected_request;
            let selection = &state.batch.selection;
            let just_bound = state.view.just_bound();
            let people = &mut state.people;
            table.body(|body| {
                body.rows(row_height, rows.len(), |mut row| {
                    let Some(request) = rows
                        .get(row.index())
                        .and_then(|&at| requests.get(at as usize))
                    else {
                        return;
                    };
                    row.set_selected(selection.contains(request.uuid, selected_id));
                    // Drawing the row is what asks the directory about it.
                    let identity = people.identity_of(request.target_user);
                    cells::row_cells(
                        &mut row,
                        &columns,
                        request,
                        &identity,
                        just_bound == Some(request.uuid),
                    );
                    let response = row.response();
                    if response.clicked() {
                        clicked = Some((request.uuid, ui_click(&response)));
                    }
                    response.context_menu(|ui| copy_menu(ui, request));
                });
            });
        }
    }
    if let Some((id, how)) = clicked {
        state.click_row(id, how);
        // A click in the list puts the keys there, as in any list.
        ui.memory_mut(|m| m.request_focus(list_id()));
    }
    if let Some(column) = focus_header {
        ui.memory_mut(|m| m.request_focus(list_id()));
        ui.data_mut(|d| d.insert_temp(header_cursor_id(), Some(column)));
    }
    if let Some(column) = sort_clicked {
        let next = Sort::clicked(sort, column);
        state.view.set_sort(&state.requests, Some(next));
    }
}

/// How a row was clicked: with Ctrl (toggle), Shift (range) or neither,
/// as the click's own event says (the modifiers may be up again by the
/// end of the frame).
fn ui_click(response: &egui::Response) -> RowClick {
    let modifiers = response.ctx.input(|i| {
        i.events
            .iter()
            .rev()
            .find_map(|event| match event {
                egui::Event::PointerButton {
                    button: egui::PointerButton::Primary,
                    pressed: false,
                    modifiers,
                    ..
                } => Some(*modifiers),
                _ => None,
            })
            .unwrap_or(i.modifiers)
    });
    if modifiers.shift {
        RowClick::Extend
    } else if modifiers.command || modifiers.ctrl {
        RowClick::Toggle
    } else {
        RowClick::Plain
    }
}

/// A row's context menu: the name first, the GUID second.
fn copy_menu(ui: &mut Ui, request: &crate::domain::request::Request) {
    if ui.button("Copy name").clicked() {
        ui.ctx().copy_text(request_title(request));
        ui.close();
    }
    if ui.button("Copy name and request ID").clicked() {
        ui.ctx().copy_text(format!(
            "{} (request {})",
            request_title(request),
            request.uuid
        ));
        ui.close();
    }
}
