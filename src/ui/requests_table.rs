//! The request list: the search box, sortable headers, and the rows, drawn
//! only where they are visible (egui_extras), so 100,000 requests cost what
//! thirty do.

use egui_extras::{Column as TableColumn, TableBuilder};

use crate::app::request_filter::{Column, Sort, card_text};
use crate::app::station::StationState;
use crate::domain::request::{Request, RequestQuery, RequestStatus, ShownTime};

pub(super) use crate::app::request_filter::request_title;

/// The filters offered above the list.
pub(super) const QUERIES: [RequestQuery; 6] = [
    RequestQuery::Open,
    RequestQuery::Status(RequestStatus::APPROVED),
    RequestQuery::Status(RequestStatus::PENDING),
    RequestQuery::Status(RequestStatus::EXECUTING),
    RequestQuery::Status(RequestStatus::COMPLETED),
    RequestQuery::All,
];

/// The search box's ID, so Ctrl+F can focus it and the list keys know when it has the focus.
pub(super) fn search_id() -> egui::Id {
    egui::Id::unique("request-search")
}

/// Set for one frame when the keyboard moved the selection, so the list scrolls to it.
fn scroll_flag() -> egui::Id {
    egui::Id::unique("request-list-scroll-to-selection")
}

/// Asks the list to bring the selected row into view on the next draw.
pub(super) fn scroll_to_selection(ctx: &egui::Context) {
    ctx.data_mut(|d| d.insert_temp(scroll_flag(), true));
}

/// The header of a sortable column: its title, with a triangle pointing up
/// or down when the list is sorted by it (painted: egui's built-in fonts have
/// no ▲/▼); the accessible name says what a click does or did.
fn header_button(ui: &mut egui::Ui, column: Column, sort: Option<Sort>) -> egui::Response {
    let title = column.title();
    let direction = sort.filter(|s| s.column == column).map(|s| s.descending);
    let name = match direction {
        Some(false) => format!("Sorted by {title}, ascending"),
        Some(true) => format!("Sorted by {title}, descending"),
        None => format!("Sort by {title}"),
    };
    ui.horizontal(|ui| {
        let response = ui
            .add(egui::Button::new(egui::RichText::new(title).strong()).frame(false))
            .on_hover_text("Click to sort by this column, again to reverse");
        response.widget_info(|| {
            egui::WidgetInfo::selected(egui::Role::Button, true, direction.is_some(), &name)
        });
        if let Some(descending) = direction {
            let (rect, _) = ui.allocate_exact_size(egui::vec2(10.0, 10.0), egui::Sense::hover());
            let (top, bottom) = (rect.top() + 2.0, rect.bottom() - 2.0);
            let (tip, base) = if descending {
                (bottom, top)
            } else {
                (top, bottom)
            };
            ui.painter().add(egui::Shape::convex_polygon(
                vec![
                    egui::pos2(rect.center().x, tip),
                    egui::pos2(rect.left() + 1.0, base),
                    egui::pos2(rect.right() - 1.0, base),
                ],
                ui.visuals().strong_text_color(),
                egui::Stroke::NONE,
            ));
        }
        response
    })
    .inner
}

fn search_ui(ui: &mut egui::Ui, state: &mut StationState) {
    ui.horizontal(|ui| {
        let label = ui.label("Search");
        let response = ui
            .add(
                egui::TextEdit::singleline(&mut state.view.input)
                    .id(search_id())
                    .hint_text("name, department, GUID, status… (Ctrl+F)")
                    .desired_width(320.0),
            )
            .labelled_by(label.id);
        // Enter takes the search's result, as in every desktop search box:
        // the first match is selected and the keys go back to the list
        // (arrows move the selection). It never binds.
        let entered = response.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        if ui
            .add_enabled(!state.view.input.is_empty(), egui::Button::new("Clear"))
            .on_hover_text("Clear the search")
            .clicked()
        {
            state.view.input.clear();
            response.request_focus();
        }
        if state.apply_search() {
            // The bind bar, drawn earlier in this pass, still names the
            // request the search just hid: draw the pass again.
            ui.ctx()
                .request_discard("the search hid the selected request");
        }
        if entered && state.select_first_shown() {
            scroll_to_selection(ui.ctx());
        }
        if state.view.is_filtered() {
            ui.label(format!(
                "{} of {} shown",
                state.view.rows().len(),
                state.requests.len()
            ));
        }
    });
}

pub(super) fn requests_ui(ui: &mut egui::Ui, state: &mut StationState) {
    if let Some(failure) = &state.requests_error {
        super::bind_bar::error_ui(ui, "The request list could not be loaded", failure);
        ui.separator();
    }
    search_ui(ui, state);
    if state.requests.is_empty() {
        if !state.loading && state.requests_error.is_none() {
            ui.label(format!("No requests match \"{}\".", state.query.label()));
        }
        return;
    }
    ui.label(format!(
        "{} requests, {} ready for a card. Select one, then insert the card.",
        state.requests.len(),
        state.view.bindable()
    ));
    if state.view.rows().is_empty() {
        ui.label(format!(
            "No request matches \"{}\".",
            state.view.search().trim()
        ));
        return;
    }
    let scroll_to = ui
        .ctx()
        .data_mut(|d| d.remove_temp::<bool>(scroll_flag()))
        .unwrap_or(false)
        .then(|| {
            state
                .selected_request
                .and_then(|id| state.view.position(&state.requests, id))
        })
        .flatten();
    let mut clicked = None;
    let mut sort_clicked = None;
    let sort = state.view.sort();
    let row_height = ui.text_style_height(&egui::TextStyle::Body) + 6.0;
    let mut table = TableBuilder::new(ui)
        .striped(true)
        .sense(egui::Sense::click())
        .column(TableColumn::remainder().at_least(180.0).clip(true))
        .column(TableColumn::auto().at_least(80.0))
        .column(TableColumn::auto().at_least(160.0))
        .column(TableColumn::auto().at_least(50.0))
        .column(TableColumn::auto().at_least(90.0))
        .column(TableColumn::auto().at_least(60.0));
    if let Some(row) = scroll_to {
        table = table.scroll_to_row(row, None);
    }
    let requests = &state.requests;
    let rows = state.view.rows();
    let selected_id = state.selected_request;
    table
        .header(row_height, |mut header| {
            for column in Column::ALL {
                header.col(|ui| {
                    if header_button(ui, column, sort).clicked() {
                        sort_clicked = Some(column);
                    }
                });
            }
        })
        .body(|body| {
            body.rows(row_height, rows.len(), |mut row| {
                let Some(request) = rows
                    .get(row.index())
                    .and_then(|&at| requests.get(at as usize))
                else {
                    return;
                };
                let selected = selected_id == Some(request.uuid);
                row.set_selected(selected);
                row_ui(&mut row, request, selected, &mut clicked);
                if row.response().clicked() {
                    clicked = Some(request.uuid);
                }
            });
        });
    if let Some(id) = clicked {
        state.selected_request = Some(id);
    }
    if let Some(column) = sort_clicked {
        let next = Sort::clicked(sort, column);
        state.view.set_sort(&state.requests, Some(next));
    }
}

fn row_ui(
    row: &mut egui_extras::TableRow<'_, '_>,
    request: &Request,
    selected: bool,
    clicked: &mut Option<uuid::Uuid>,
) {
    row.col(|ui| {
        let label = ui
            .selectable_label(selected, request_title(request))
            .on_hover_text(format!("Request {}", request.uuid));
        if label.clicked() {
            *clicked = Some(request.uuid);
        }
    });
    row.col(|ui| {
        ui.label(request.request_type.to_string());
    });
    row.col(|ui| {
        // The minute is what an agent needs, in local time with its zone.
        ui.label(
            request
                .submitted
                .map(|t| ShownTime::local(t).to_string())
                .unwrap_or_default(),
        );
    });
    row.col(|ui| {
        ui.label(request.priority.to_string());
    });
    row.col(|ui| {
        let text = request.status.to_string();
        match request.bindability() {
            Ok(()) => {
                ui.strong(text);
            }
            Err(why) => {
                ui.weak(text)
                    .on_hover_text(format!("Cannot take a card: {why}."));
            }
        }
    });
    row.col(|ui| {
        ui.label(card_text(request));
    });
}
