//! The card panel: a card found by its ID (typed, or the card in a reader),
//! what CM holds for it, the requests that took it (to undo), and the
//! operations CM allows on it (`GET smartcards/{id}/operations`): Retire and
//! Revoke with the workflow's data items and a comment, and the phone
//! unblock. Every action opens its confirmation; nothing is sent from here.

use egui::{RichText, TextEdit, Ui};

use crate::app::actions::{Intent, ItemsForm, card_intent, status_changes};
use crate::app::request_detail::Answer;
use crate::app::station::StationState;
use crate::domain::card::CardId;
use crate::domain::card_record::CmStanding;
use crate::domain::lifecycle::{StatusChange, WorkflowPolicy};
use crate::domain::readers::{IdentityState, SlotState};
use crate::domain::request::RequestType;
use crate::worker::Command;

/// The card panel's window, while open; returns the commands to send.
pub(super) fn card_window_ui(ctx: &egui::Context, state: &mut StationState) -> Vec<Command> {
    let mut commands = Vec::new();
    let mut open = state.actions.card.open;
    egui::Window::new("Card lookup")
        .open(&mut open)
        .default_width(560.0)
        .default_height(520.0)
        .collapsible(false)
        .show(ctx, |ui| {
            egui::ScrollArea::vertical()
                .auto_shrink([false, true])
                .show(ui, |ui| card_panel_ui(ui, state, &mut commands));
        });
    state.actions.card.open = open;
    commands
}

/// The card in the reader a bind would use, when it is identified.
fn reader_card(state: &StationState) -> Option<CardId> {
    let reader = state.desk_reader()?;
    match state.board.get(&reader)? {
        SlotState::Present {
            identity: IdentityState::Known { card_id, .. },
            ..
        } => Some(*card_id),
        _ => None,
    }
}

fn card_panel_ui(ui: &mut Ui, state: &mut StationState, commands: &mut Vec<Command>) {
    ui.horizontal(|ui| {
        let label = ui.label("Card ID");
        let field = ui
            .add(
                TextEdit::singleline(&mut state.actions.card.typed)
                    .desired_width(320.0)
                    .hint_text("bc88f13f-83ba-4037-8262-46eba1291c6e"),
            )
            .labelled_by(label.id);
        let enter = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        if ui.button("Look up").clicked() || enter {
            commands.extend(state.actions.card.look_up_typed());
        }
    });
    match reader_card(state) {
        Some(card_id) => {
            if ui
                .button("Look up the card in the reader")
                .on_hover_text(format!("Card ID {card_id}"))
                .clicked()
            {
                commands.push(state.actions.card.look_up(card_id));
            }
        }
        None => {
            ui.weak("Or insert the card: its ID is read from the card.");
        }
    }
    if let Some(error) = &state.actions.card.error {
        ui.colored_label(ui.visuals().error_fg_color, error);
    }
    let Some((card_id, standing)) = state.actions.card.looked_up.clone() else {
        return;
    };
    ui.separator();
    ui.label(RichText::new(format!("Card ID {card_id}")).strong());
    let record = match standing {
        CmStanding::Asking => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Asking CM about the card…");
            });
            return;
        }
        CmStanding::New => {
            ui.label("CM has no smart card object for this card ID: there is nothing to retire, revoke or unblock.");
            return;
        }
        CmStanding::Unknown(why) => {
            crate::ui::theme::error_label(
                ui,
                format!("CM could not be asked about the card: {why}"),
            );
            return;
        }
        CmStanding::Known(record) => record,
    };
    let Some(card) = record.current().cloned() else {
        ui.label("Known to CM, with no smart card object the station could read.");
        return;
    };
    let identity = state.people.identity_of(card.assigned_user);
    super::identity::account_block(ui, card.assigned_user, &identity);
    for line in record.lines() {
        ui.add(egui::Label::new(line).selectable(true).wrap());
    }
    card_requests_ui(ui, state, card.uuid);
    ui.add_space(6.0);
    ui.label(RichText::new("What you may do to this card").strong());
    let offered = state.actions.card.offered();
    if offered.is_empty() {
        ui.label("CM allows no operation on this card that this station starts.");
        return;
    }
    ui.horizontal_wrapped(|ui| {
        for kind in &offered {
            let words = match *kind {
                RequestType::RETIRE => "Retire…",
                RequestType::REVOKE => "Revoke…",
                _ => "Unblock PIN by phone…",
            };
            let chosen = state.actions.card.operation == Some(*kind)
                || (*kind == RequestType::OFFLINE_UNBLOCK && state.actions.unblock.open);
            if ui.selectable_label(chosen, words).clicked() {
                if *kind == RequestType::OFFLINE_UNBLOCK {
                    state.actions.unblock.open = true;
                } else {
                    state.actions.card.operation = Some(*kind);
                }
            }
        }
    });
    let Some(kind) = state.actions.card.operation else {
        return;
    };
    ui.add_space(4.0);
    let key = card.profile_template.map(|template| (template, kind));
    state.actions.card.form.use_policy(key);
    let (policy, command) = state.action_policy(key);
    commands.extend(command);
    let policy = policy.cloned();
    let verb = if kind == RequestType::RETIRE {
        "Retire card…"
    } else {
        "Revoke card…"
    };
    let (send, retry) = items_form_ui(ui, &mut state.actions.card.form, policy.as_ref(), verb);
    if retry && let Some(key) = key {
        state.detail.retry_policy(key);
    }
    if send {
        let form = &mut state.actions.card.form;
        let policy = read_policy(policy.as_ref());
        if let Ok(data) = form.data(policy) {
            match card_intent(kind, card_id, &card, data, &form.comment) {
                Ok(intent) => {
                    state.actions.confirm(intent);
                }
                Err(why) => form.error = Some(why.to_string()),
            }
        }
    }
}

/// The requests in the list that took this card object, with their undo.
fn card_requests_ui(ui: &mut Ui, state: &mut StationState, smartcard: uuid::Uuid) {
    let requests: Vec<_> = state
        .requests_of_card(smartcard)
        .into_iter()
        .cloned()
        .collect();
    if requests.is_empty() {
        return;
    }
    ui.add_space(4.0);
    ui.label(RichText::new("The card's request").strong());
    for request in requests {
        ui.horizontal_wrapped(|ui| {
            ui.label(format!(
                "{} request {}, {}",
                request.request_type, request.uuid, request.status
            ));
            if let Some(change) = undo_buttons_ui(ui, request.status) {
                state.actions.confirm(Intent::ChangeStatus {
                    request: Box::new(request.clone()),
                    change,
                });
            }
        });
    }
}

/// The undo buttons a request's status allows; the one pressed.
pub(super) fn undo_buttons_ui(
    ui: &mut Ui,
    status: crate::domain::request::RequestStatus,
) -> Option<StatusChange> {
    let mut pressed = None;
    for change in status_changes(status) {
        let (words, hover) = match change {
            StatusChange::Abandon => (
                "Abandon request…",
                "Give up this approved request (after a wrong card was bound, say): it shows \
                 Failed and cannot be used again",
            ),
            _ => (
                "Cancel request…",
                "Cancel this request (a duplicate or a mistake): it cannot be used again",
            ),
        };
        if ui.button(words).on_hover_text(hover).clicked() {
            pressed = Some(*change);
        }
    }
    pressed
}

/// The policy, when it was read and CM has one.
pub(super) fn read_policy(
    answer: Option<&Answer<Option<WorkflowPolicy>>>,
) -> Option<&WorkflowPolicy> {
    match answer {
        Some(Answer::Read(Some(policy))) => Some(policy),
        _ => None,
    }
}

/// The workflow's data items (each with its hint, required ones marked in
/// words), the comment, the form's error and its button: (button pressed,
/// Try again pressed). While the policy is being read, the button waits.
pub(super) fn items_form_ui(
    ui: &mut Ui,
    form: &mut ItemsForm,
    policy: Option<&Answer<Option<WorkflowPolicy>>>,
    verb: &str,
) -> (bool, bool) {
    let mut retry = false;
    let ready = match policy {
        None => {
            ui.weak("The card names no profile template: CM's workflow policy cannot be read.");
            true
        }
        Some(Answer::Asking) => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Reading the workflow policy…");
            });
            false
        }
        Some(Answer::Failed(failure)) => {
            crate::ui::theme::error_label(
                ui,
                format!("The workflow policy could not be read: {failure}"),
            );
            retry = ui.button("Try again").clicked();
            false
        }
        Some(Answer::Read(None)) => {
            ui.weak("The profile template has no policy for this workflow: no items to fill in.");
            true
        }
        Some(Answer::Read(Some(policy))) => {
            let items = policy.data_collection.as_deref().unwrap_or(&[]);
            if items.is_empty() {
                ui.weak("The workflow asks for no data items.");
            }
            egui::Grid::new(("action-items", verb))
                .num_columns(2)
                .spacing([12.0, 4.0])
                .show(ui, |ui| {
                    for item in items {
                        let name = if item.required {
                            format!("{} (required)", item.name)
                        } else {
                            item.name.clone()
                        };
                        let label = ui.label(name);
                        let mut field =
                            TextEdit::singleline(form.value_mut(&item.name)).desired_width(260.0);
                        if let Some(hint) = item.validation.hint() {
                            field = field.hint_text(hint);
                        }
                        let response = ui.add(field).labelled_by(label.id);
                        if let Some(hint) = item.validation.hint() {
                            response.on_hover_text(hint);
                        }
                        ui.end_row();
                    }
                });
            true
        }
    };
    ui.horizontal(|ui| {
        let label = ui.label("Comment");
        ui.add(TextEdit::singleline(&mut form.comment).desired_width(320.0))
            .labelled_by(label.id);
    });
    if let Some(error) = &form.error {
        ui.add(egui::Label::new(RichText::new(error).color(ui.visuals().error_fg_color)).wrap());
    }
    let send = ui
        .add_enabled(ready, egui::Button::new(verb))
        .on_hover_text("Shows what will happen and asks you to confirm")
        .clicked();
    (send, retry)
}
