//! The bind bar: what would be bound, the one **Bind** button, and the result.

use crate::app::credentials::Witness;
use crate::app::station::{BindBlocked, StationState};
use crate::domain::bind::{BindState, BindTarget, Failure, wrong_card_alarm};
use crate::supervisors::SupervisorError;
use crate::worker::Command;

/// Draws an error in the theme's error colour: selectable, with a copy button,
/// and the correlation ID on its own line for the administrator.
pub(super) fn error_ui(ui: &mut egui::Ui, title: &str, failure: &Failure) {
    ui.colored_label(ui.visuals().error_fg_color, title);
    ui.add(
        egui::Label::new(failure.message.as_str())
            .selectable(true)
            .wrap(),
    );
    ui.horizontal(|ui| {
        if let Some(id) = &failure.correlation_id {
            ui.label("Correlation ID:");
            ui.add(egui::Label::new(egui::RichText::new(id).monospace()).selectable(true));
        }
        if ui.button("Copy error").clicked() {
            let mut text = failure.message.clone();
            if let Some(id) = &failure.correlation_id {
                text.push_str(&format!("\nCorrelation ID: {id}"));
            }
            ui.ctx().copy_text(text);
        }
    });
}

/// The keys that press Bind from anywhere in the desk window (`desk`),
/// written on the button so the accelerator is never a secret.
pub(super) const BIND_ACCELERATOR: &str = "Ctrl+Enter";

/// What the Bind button would bind, or why it is disabled. The button and
/// its accelerator (`desk`) both ask here, so they can never disagree.
pub(super) fn bind_ready(state: &StationState) -> Result<BindTarget, BindBlocked> {
    state.bind_target().and_then(|target| match state.witness {
        Witness::NoneConfigured => Err(BindBlocked::Supervisor(SupervisorError::NoneConfigured)),
        Witness::NotNeeded | Witness::Needed => Ok(target),
    })
}

/// A press of Bind, by the button or its accelerator: the command to send (at a
/// supervised station, none: the supervisor confirmation opens instead).
pub(super) fn bind_intent(state: &mut StationState) -> Option<Command> {
    match state.press_bind() {
        Ok(next) => next,
        Err(why) => {
            state.notices.push(why.to_string());
            None
        }
    }
}

/// Draws the bar and returns the command a click asked for. At a supervised
/// station a click opens the supervisor confirmation instead.
pub(super) fn bind_bar_ui(ui: &mut egui::Ui, state: &mut StationState) -> Option<Command> {
    let mut command = None;
    ui.add_space(4.0);
    let witness = state.witness;
    let target = bind_ready(state);
    ui.horizontal(|ui| {
        let button = ui
            .add_enabled(
                target.is_ok(),
                egui::Button::new(egui::RichText::new("Bind").heading())
                    .shortcut_text(BIND_ACCELERATOR)
                    .min_size(egui::vec2(120.0, 36.0)),
            )
            .on_hover_text(format!("Bind ({BIND_ACCELERATOR})"));
        // The shortcut is drawn on the button; its name stays the action's.
        let enabled = target.is_ok();
        button.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, enabled, "Bind"));
        match &target {
            Ok(target) => {
                let title = state
                    .request()
                    .map(super::requests_table::request_title)
                    .unwrap_or_default();
                ui.label(format!(
                    "Bind the request for {title} to card {} ({}) in \"{}\"",
                    target.expected.card_id, target.expected.kind, target.reader
                ));
                if witness == Witness::Needed {
                    ui.weak("(a supervisor confirms)");
                }
                if button.clicked() {
                    command = bind_intent(state);
                }
            }
            Err(why) if witness == Witness::NoneConfigured => {
                ui.add(
                    egui::Label::new(
                        egui::RichText::new(why.to_string()).color(ui.visuals().warn_fg_color),
                    )
                    .selectable(true)
                    .wrap(),
                );
            }
            Err(why) => {
                ui.weak(why.to_string());
            }
        }
    });
    match &state.bind {
        BindState::Idle => {}
        BindState::Recording { .. } => progress_ui(ui, "Writing the attempt to the audit journal…"),
        BindState::Checking { target, .. } => progress_ui(
            ui,
            &format!(
                "Checking request {} and card {} with the CM server…",
                target.request_id, target.expected.card_id
            ),
        ),
        BindState::ReadingCard { target, .. } => progress_ui(
            ui,
            &format!(
                "Checking that the card in \"{}\" is still the one you selected…",
                target.reader
            ),
        ),
        BindState::Posting { target, .. } => progress_ui(
            ui,
            &format!(
                "Binding card {} to request {}: waiting for the CM server…",
                target.expected.card_id, target.request_id
            ),
        ),
        BindState::Reconciling { .. } => progress_ui(
            ui,
            "The server's answer was lost: asking the server whether the bind happened…",
        ),
        BindState::Bound {
            target,
            receipt,
            confirmed_after_loss,
        } => {
            let how = if *confirmed_after_loss {
                " (confirmed after the answer was lost)"
            } else {
                ""
            };
            ui.colored_label(
                egui::Color32::from_rgb(0x2e, 0x9e, 0x44),
                format!(
                    "Bound{how}: card {} is now bound to request {}.",
                    target.expected.card_id, target.request_id
                ),
            );
            let object = receipt
                .smartcard_uri
                .clone()
                .or_else(|| receipt.smartcard_uuid.map(|u| u.to_string()));
            if let Some(object) = object {
                ui.horizontal(|ui| {
                    ui.label("New smart card object:");
                    ui.add(
                        egui::Label::new(egui::RichText::new(object).monospace()).selectable(true),
                    );
                });
            }
            if ui.button("Done").clicked() {
                command = Some(Command::DismissBind);
            }
        }
        BindState::Refused { reason, .. } => {
            error_ui(ui, "Not bound: the station refused", reason);
            command = command.or(dismiss_ui(ui));
        }
        BindState::Failed { failure, .. } => {
            error_ui(ui, "Not bound: the server answered with an error", failure);
            command = command.or(dismiss_ui(ui));
        }
        BindState::WrongCard { target, bound } => {
            let failure = Failure::new(wrong_card_alarm(target, bound));
            error_ui(ui, "Bound to a different card", &failure);
            command = command.or(dismiss_ui(ui));
        }
        BindState::Unknown { failure, .. } => {
            error_ui(ui, "Result unknown", failure);
            if ui.button("Check again").clicked() {
                command = Some(Command::RecheckBind);
            }
        }
    }
    ui.add_space(4.0);
    command
}

fn progress_ui(ui: &mut egui::Ui, text: &str) {
    ui.horizontal(|ui| {
        ui.spinner();
        ui.label(text);
    });
}

fn dismiss_ui(ui: &mut egui::Ui) -> Option<Command> {
    ui.button("Dismiss")
        .clicked()
        .then_some(Command::DismissBind)
}
