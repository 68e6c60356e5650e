//! The bind bar: what would be bound, the one **Bind** button, and the result.

use crate::domain::bind::{BindState, Failure};
use crate::station::StationState;
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

/// Draws the bar and returns the command a click asked for.
pub(super) fn bind_bar_ui(ui: &mut egui::Ui, state: &StationState) -> Option<Command> {
    let mut command = None;
    ui.add_space(4.0);
    let target = state.bind_target();
    ui.horizontal(|ui| {
        let button = ui.add_enabled(
            target.is_ok(),
            egui::Button::new(egui::RichText::new("Bind").heading())
                .min_size(egui::vec2(120.0, 36.0)),
        );
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
                if button.clicked() {
                    command = Some(Command::Bind(target.clone()));
                }
            }
            Err(why) => {
                ui.weak(why.as_str());
            }
        }
    });
    match &state.bind {
        BindState::Idle => {}
        BindState::ReadingCard { target } => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(format!(
                    "Checking that the card in \"{}\" is still the one you selected…",
                    target.reader
                ));
            });
        }
        BindState::Posting { target } => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(format!(
                    "Binding card {} to request {}: waiting for the CM server…",
                    target.expected.card_id, target.request_id
                ));
            });
        }
        BindState::Bound { target, receipt } => {
            ui.colored_label(
                egui::Color32::from_rgb(0x2e, 0x9e, 0x44),
                format!(
                    "Bound: card {} is now bound to request {}.",
                    target.expected.card_id, target.request_id
                ),
            );
            if let Some(uri) = &receipt.smartcard_uri {
                ui.horizontal(|ui| {
                    ui.label("New smart card object:");
                    ui.add(egui::Label::new(egui::RichText::new(uri).monospace()).selectable(true));
                });
            }
            if ui.button("Done").clicked() {
                command = Some(Command::DismissBind);
            }
        }
        BindState::Refused { reason, .. } => {
            let failure = Failure {
                message: reason.clone(),
                correlation_id: None,
            };
            error_ui(ui, "Not bound: the station refused", &failure);
            if ui.button("Dismiss").clicked() {
                command = Some(Command::DismissBind);
            }
        }
        BindState::Failed { failure, .. } => {
            error_ui(ui, "Not bound: the server answered with an error", failure);
            if ui.button("Dismiss").clicked() {
                command = Some(Command::DismissBind);
            }
        }
    }
    ui.add_space(4.0);
    command
}
