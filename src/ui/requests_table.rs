//! The request list.

use egui_extras::{Column, TableBuilder};

use crate::domain::request::{Request, RequestQuery, RequestStatus};
use crate::station::StationState;

/// The filters offered above the list.
pub(super) const QUERIES: [RequestQuery; 6] = [
    RequestQuery::Open,
    RequestQuery::Status(RequestStatus::APPROVED),
    RequestQuery::Status(RequestStatus::PENDING),
    RequestQuery::Status(RequestStatus::EXECUTING),
    RequestQuery::Status(RequestStatus::COMPLETED),
    RequestQuery::All,
];

/// What the first column shows: the collected name when there is one, else the target user.
pub(super) fn request_title(request: &Request) -> String {
    let summary = request.data_summary();
    if !summary.is_empty() {
        return summary;
    }
    match request.target_user {
        Some(user) => format!("User {user}"),
        None => format!("Request {}", request.uuid),
    }
}

/// "2026-11-20T09:14:33.12Z" → "2026-11-20 09:14": the minute is what an agent needs.
fn short_time(iso: &str) -> String {
    iso.replacen('T', " ", 1).chars().take(16).collect()
}

pub(super) fn requests_ui(ui: &mut egui::Ui, state: &mut StationState) {
    if let Some(failure) = &state.requests_error {
        super::bind_bar::error_ui(ui, "The request list could not be loaded", failure);
        ui.separator();
    }
    if state.requests.is_empty() {
        if !state.loading && state.requests_error.is_none() {
            ui.label(format!("No requests match \"{}\".", state.query.label()));
        }
        return;
    }
    let bindable = state.requests.iter().filter(|r| r.is_bindable()).count();
    ui.label(format!(
        "{} requests, {} ready for a card. Select one, then insert the card.",
        state.requests.len(),
        bindable
    ));
    let mut clicked = None;
    let row_height = ui.text_style_height(&egui::TextStyle::Body) + 6.0;
    TableBuilder::new(ui)
        .striped(true)
        .sense(egui::Sense::click())
        .column(Column::remainder().at_least(180.0).clip(true))
        .column(Column::auto().at_least(80.0))
        .column(Column::auto().at_least(120.0))
        .column(Column::auto().at_least(50.0))
        .column(Column::auto().at_least(90.0))
        .column(Column::auto().at_least(60.0))
        .header(row_height, |mut header| {
            for title in ["Target", "Type", "Submitted", "Priority", "Status", "Card"] {
                header.col(|ui| {
                    ui.strong(title);
                });
            }
        })
        .body(|body| {
            body.rows(row_height, state.requests.len(), |mut row| {
                let Some(request) = state.requests.get(row.index()) else {
                    return;
                };
                let selected = state.selected_request == Some(request.uuid);
                row.set_selected(selected);
                row.col(|ui| {
                    let label = ui
                        .selectable_label(selected, request_title(request))
                        .on_hover_text(format!("Request {}", request.uuid));
                    if label.clicked() {
                        clicked = Some(request.uuid);
                    }
                });
                row.col(|ui| {
                    ui.label(request.request_type.to_string());
                });
                row.col(|ui| {
                    ui.label(
                        request
                            .submitted
                            .as_deref()
                            .map(short_time)
                            .unwrap_or_default(),
                    );
                });
                row.col(|ui| {
                    ui.label(request.priority.to_string());
                });
                row.col(|ui| {
                    let text = request.status.to_string();
                    if request.is_bindable() {
                        ui.strong(text);
                    } else {
                        ui.weak(text);
                    }
                });
                row.col(|ui| {
                    ui.label(if request.new_smartcard.is_some() {
                        "bound"
                    } else {
                        "—"
                    });
                });
                if row.response().clicked() {
                    clicked = Some(request.uuid);
                }
            });
        });
    if let Some(id) = clicked {
        state.selected_request = Some(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_shortened_to_the_minute() {
        assert_eq!(short_time("2026-11-20T09:14:33.12Z"), "2026-11-20 09:14");
        assert_eq!(short_time("bad"), "bad");
    }
}
