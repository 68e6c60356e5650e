//! The request detail pane under the list: everything the selected request
//! says (type, status, target account, every collected value, the comment,
//! its old and new card) and, for a Pending request, what it waits for.
//!
//! It takes room from the list, never from the bind bar or the readers
//! (`docs/ui-guide.md`, "Layout"): a one-line toggle at the list's foot,
//! and when open a scrolling area of at most [`OPEN_SHARE`] of the list.
//! Drawn after the list and before the bind bar, so Tab reaches it there.

use egui::{Rect, RichText, Ui, pos2};

use crate::app::request_detail::{Answer, PendingPolicy, pending_lines};
use crate::app::station::StationState;
use crate::domain::request::Request;
use crate::domain::request_cards::RequestCard;
use crate::domain::text::suspicion;

/// The toggle's line.
const TOGGLE_HEIGHT: f32 = 34.0;
/// The share of the list area an open pane takes.
const OPEN_SHARE: f32 = 0.45;
/// The tallest open pane; it scrolls beyond.
const OPEN_MAX: f32 = 340.0;

/// The list's rectangle and the pane's, from the list area: the pane's
/// height depends on whether it is open and on the window, never on what
/// it shows, so nothing moves when an answer arrives.
pub(super) fn split(list: Rect, open: bool) -> (Rect, Rect) {
    let height = if open {
        (list.height() * OPEN_SHARE).clamp(TOGGLE_HEIGHT, OPEN_MAX)
    } else {
        TOGGLE_HEIGHT
    }
    .min(list.height() / 2.0);
    let top = list.bottom() - height;
    (
        Rect::from_min_max(list.min, pos2(list.right(), top)),
        Rect::from_min_max(pos2(list.left(), top), list.max),
    )
}

/// The pane: its toggle, and when open the selected request's detail.
pub(super) fn detail_ui(ui: &mut Ui, state: &mut StationState) {
    ui.horizontal(|ui| {
        ui.toggle_value(&mut state.detail.open, "Request details")
            .on_hover_text(
                "Everything the selected request says: collected values, comment, cards, and \
                 what a Pending request waits for",
            );
        if !state.detail.open {
            ui.weak("Show the selected request's values, comment and cards");
        }
    });
    if !state.detail.open {
        return;
    }
    let Some(request) = state.request().cloned() else {
        ui.weak("Select a request in the list to see its details.");
        return;
    };
    if state.actions_offered()
        && let Some(change) = ui
            .horizontal(|ui| super::card_panel::undo_buttons_ui(ui, request.status))
            .inner
    {
        state
            .actions
            .confirm(crate::app::actions::Intent::ChangeStatus {
                request: Box::new(request.clone()),
                change,
            });
    }
    let mut retry = false;
    egui::ScrollArea::vertical()
        .id_salt("request-detail-scroll")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            retry = request_ui(ui, state, &request);
        });
    if retry {
        state.detail.retry(&request);
    }
}

/// The request's detail; true when Try again was pressed.
fn request_ui(ui: &mut Ui, state: &StationState, request: &Request) -> bool {
    let mut retry = false;
    let identity = state.people.peek_of(request.target_user);
    let (person, _) = super::identity::list_text(request, &identity);
    ui.label(
        RichText::new(format!(
            "{} request, {}: {person}",
            request.request_type, request.status
        ))
        .strong(),
    );
    selectable(
        ui,
        RichText::new(format!("Request {}", request.uuid)).weak(),
    );
    match request.target_user {
        Some(user) => selectable(ui, format!("Target account {user}")),
        None => selectable(ui, "No target account (CM issues to the requester)"),
    }
    if let Some(template) = request.profile_template {
        selectable(
            ui,
            RichText::new(format!("Profile template {template}")).weak(),
        );
    }
    if let Some(pending) = state.detail.pending_policy(request) {
        ui.add_space(4.0);
        retry |= pending_ui(ui, &pending);
    }
    ui.add_space(4.0);
    collected_ui(ui, request);
    ui.add_space(4.0);
    ui.label(RichText::new("Comment").strong());
    match &request.comment {
        Some(comment) => selectable(ui, comment.as_str()),
        None => {
            ui.weak("No comment");
        }
    }
    ui.add_space(4.0);
    retry |= cards_ui(ui, state, request);
    retry
}

/// Why a Pending request waits; true when Try again was pressed.
fn pending_ui(ui: &mut Ui, pending: &PendingPolicy<'_>) -> bool {
    ui.label(RichText::new("Why it is Pending").strong());
    let mut retry = false;
    match pending {
        PendingPolicy::Asking => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Reading the workflow policy…");
            });
        }
        PendingPolicy::Read(policy) => {
            for line in pending_lines(policy) {
                ui.label(line);
            }
            // The domain's own reasons, for the agent who wants the rule.
            let reasons = policy.pending_reasons();
            if !reasons.is_empty() {
                ui.weak(format!("Policy: {}.", reasons.join("; ")));
            }
        }
        PendingPolicy::NoPolicy => {
            ui.label("The profile template has no policy for this workflow (CM sent none).");
        }
        PendingPolicy::NoTemplate => {
            ui.label("The request names no profile template, so there is no policy to read.");
        }
        PendingPolicy::NoPolicyType(kind) => {
            ui.label(format!("CM has no workflow policy for a {kind} request."));
        }
        PendingPolicy::Failed(failure) => {
            crate::ui::theme::error_label(
                ui,
                format!("The workflow policy could not be read: {failure}"),
            );
            retry = ui.button("Try again").clicked();
        }
    }
    ui.label(
        "Approval happens in the CM portal: the REST API has no approve call, so this station \
         cannot approve a request.",
    );
    retry
}

/// Every collected value, as the requester entered it (cleaned where it
/// entered the station), each flagged when it hides characters or mixes
/// look-alike letters.
fn collected_ui(ui: &mut Ui, request: &Request) {
    ui.label(RichText::new("Entered by the requester (unchecked)").strong())
        .on_hover_text(
            "Typed by whoever submitted the request: never proof of who it is for. The target \
             account is.",
        );
    if request.data_collection.is_empty() {
        ui.weak("No collected values");
        return;
    }
    egui::Grid::new("request-detail-values")
        .num_columns(2)
        .spacing([12.0, 2.0])
        .show(ui, |ui| {
            for item in &request.data_collection {
                selectable(ui, RichText::new(format!("{}:", item.name)).weak());
                match item.value.as_deref().filter(|v| !v.is_empty()) {
                    Some(value) => {
                        ui.horizontal_wrapped(|ui| {
                            selectable(ui, value);
                            if let Some(odd) = suspicion(value) {
                                ui.colored_label(
                                    ui.visuals().warn_fg_color,
                                    format!("This value {odd}."),
                                );
                            }
                        });
                    }
                    None => {
                        ui.weak("(not filled in)");
                    }
                }
                ui.end_row();
            }
        });
}

/// The old and new card; true when Try again was pressed.
fn cards_ui(ui: &mut Ui, state: &StationState, request: &Request) -> bool {
    ui.label(RichText::new("Cards").strong());
    match state.detail.cards(request.uuid) {
        None | Some(Answer::Asking) => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Reading the request's cards…");
            });
            false
        }
        Some(Answer::Read(cards)) => {
            card_line(ui, "Old card", cards.old.as_ref());
            card_line(ui, "New card", cards.new.as_ref());
            false
        }
        Some(Answer::Failed(failure)) => {
            crate::ui::theme::error_label(
                ui,
                format!("The request's cards could not be read: {failure}"),
            );
            ui.button("Try again").clicked()
        }
    }
}

fn card_line(ui: &mut Ui, what: &str, card: Option<&RequestCard>) {
    let text = match card {
        Some(card) => format!("{what}: {}", card.describe()),
        None => format!("{what}: none"),
    };
    selectable(ui, text);
}

fn selectable(ui: &mut Ui, text: impl Into<egui::WidgetText>) {
    ui.add(egui::Label::new(text).selectable(true).wrap());
}

#[cfg(test)]
mod tests {
    use super::*;
    use egui::vec2;

    #[test]
    fn the_pane_takes_room_from_the_list_only_and_by_its_toggle_alone() {
        let list = Rect::from_min_size(pos2(0.0, 60.0), vec2(900.0, 500.0));
        let (rows, closed) = split(list, false);
        assert_eq!(closed.height(), TOGGLE_HEIGHT);
        assert_eq!(rows.bottom(), closed.top());
        assert_eq!(closed.bottom(), list.bottom(), "never below the list area");
        let (rows, open) = split(list, true);
        assert_eq!(open.height(), 225.0);
        assert!(rows.height() >= list.height() / 2.0, "the list keeps half");
        let tiny = Rect::from_min_size(pos2(0.0, 0.0), vec2(900.0, 40.0));
        let (rows, pane) = split(tiny, true);
        assert_eq!(rows.height() + pane.height(), 40.0);
    }
}
