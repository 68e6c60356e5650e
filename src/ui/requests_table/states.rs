//! The list's line above the rows (what is shown, or that it loads, with
//! Cancel) and what the list area shows when it has no rows: loading,
//! cancelled, the server out of reach (review P2-14, P2-20).

use std::time::Instant;

use egui::{Align, Layout, RichText, Ui};

use super::ListAction;
use crate::app::request_filter::ListProblem;
use crate::app::station::StationState;
use crate::ui::theme;

/// The line between the search and the rows, one line high whatever it
/// says, so the rows never move when a load starts or fails.
pub(super) fn status_line(
    ui: &mut Ui,
    state: &mut StationState,
    now: Instant,
    action: &mut Option<ListAction>,
) {
    let size = egui::vec2(ui.available_width(), ui.spacing().interact_size.y);
    ui.allocate_ui_with_layout(size, Layout::left_to_right(Align::Center), |ui| {
        ui.set_min_size(size);
        ui.set_max_size(size);
        if state.loading {
            let slow = state
                .list_status
                .loading_for(now)
                .is_none_or(|took| took.as_secs() >= 1);
            if state.requests.is_empty() || slow {
                loading_words(ui, state, now, action);
                return;
            }
        }
        if state.requests.is_empty() {
            return;
        }
        if let Some(problem) = state.list_problem() {
            refresh_failed(ui, state, &problem, now, action);
            return;
        }
        let summary = state.view.summary(state.selected_request.is_some());
        ui.add(egui::Label::new(summary).truncate());
    });
}

/// "Loading requests… 3 s" and Cancel, with a spinner.
fn loading_words(
    ui: &mut Ui,
    state: &mut StationState,
    now: Instant,
    action: &mut Option<ListAction>,
) {
    ui.spinner();
    let words = match state.list_status.loading_for(now) {
        Some(took) if took.as_secs() >= 1 => {
            format!("Loading requests… {} s", took.as_secs())
        }
        _ => "Loading requests…".to_owned(),
    };
    ui.label(words);
    if ui
        .button("Cancel")
        .on_hover_text("Stop loading the list; it is fetched again at the next refresh")
        .clicked()
        && let Some(command) = state.cancel_loading()
    {
        *action = Some(ListAction::Send(Box::new(command)));
    }
}

/// A refresh failed while the last list is still shown: say so on the one
/// line, with Retry; the full text is in the tooltip.
fn refresh_failed(
    ui: &mut Ui,
    state: &mut StationState,
    problem: &ListProblem,
    now: Instant,
    action: &mut Option<ListAction>,
) {
    let palette = theme::palette(ui.visuals());
    ui.label(
        RichText::new("Not refreshed:")
            .strong()
            .color(palette.error),
    );
    if ui
        .button("Retry")
        .on_hover_text("Fetch the requests again (F5)")
        .clicked()
    {
        *action = Some(ListAction::Send(Box::new(state.refresh_now(now))));
    }
    let since = state
        .list_status
        .loaded_clock()
        .map(|at| format!(" Showing the list from {at}."))
        .unwrap_or_default();
    let details = problem.details.as_deref().unwrap_or(&problem.headline);
    ui.add(egui::Label::new(format!("{}{since}", problem.headline)).truncate())
        .on_hover_text(details);
}

/// The list area while the first list loads: nothing else to show; the
/// rows are drawn as grey bars by the caller.
pub(super) fn no_list_ui(
    ui: &mut Ui,
    state: &mut StationState,
    now: Instant,
    action: &mut Option<ListAction>,
) {
    if let Some(problem) = state.list_problem() {
        unreachable_ui(ui, state, &problem, now, action);
    } else if state.list_status.was_cancelled() {
        empty_panel(ui, |ui| {
            ui.label(RichText::new("Loading was cancelled.").strong());
            ui.label("The list is fetched again at the next automatic refresh.");
            if ui.button("Retry").clicked() {
                *action = Some(ListAction::Send(Box::new(state.refresh_now(now))));
            }
        });
    } else {
        empty_panel(ui, |ui| {
            ui.label(format!(
                "No requests match \"{}\".",
                state.list_choice().label()
            ));
        });
    }
}

fn empty_panel(ui: &mut Ui, add: impl FnOnce(&mut Ui)) {
    ui.add_space(24.0);
    ui.vertical(|ui| {
        ui.set_max_width(560.0);
        ui.spacing_mut().item_spacing.y = 8.0;
        add(ui);
    });
}

/// The list could not be loaded and there is none to show: what happened in
/// plain words, Retry and Test connection, when it was last tried, and the
/// technical text behind "Details" (review P2-20).
fn unreachable_ui(
    ui: &mut Ui,
    state: &mut StationState,
    problem: &ListProblem,
    now: Instant,
    action: &mut Option<ListAction>,
) {
    let palette = theme::palette(ui.visuals());
    empty_panel(ui, |ui| {
        ui.label(
            RichText::new("The request list could not be loaded")
                .strong()
                .color(palette.error),
        );
        ui.add(egui::Label::new(RichText::new(&problem.headline).heading()).wrap());
        if problem.unreachable {
            ui.label(
                "Check that the server is running and that this computer reaches it \
                 (network, VPN, proxy, firewall).",
            );
        }
        ui.horizontal(|ui| {
            if ui
                .button("Retry")
                .on_hover_text("Fetch the requests again now (F5)")
                .clicked()
            {
                *action = Some(ListAction::Send(Box::new(state.refresh_now(now))));
            }
            if ui
                .button("Test connection")
                .on_hover_text("Check the server step by step in Settings")
                .clicked()
            {
                *action = Some(ListAction::TestConnection);
            }
        });
        if let Some(line) = state.list_status.retry_line() {
            ui.weak(line);
        }
        if let Some(details) = &problem.details {
            egui::CollapsingHeader::new("Details")
                .id_salt("request-list-error-details")
                .show(ui, |ui| {
                    ui.add(egui::Label::new(details.as_str()).selectable(true).wrap());
                    if ui
                        .button("Copy")
                        .on_hover_text("Copy these details")
                        .clicked()
                    {
                        ui.ctx().copy_text(details.clone());
                    }
                });
        }
    });
}
