//! The supervisor confirmation of a supervised bind: what is about to be
//! bound, and the supervisor's name and password. The check and the bind run
//! on the worker; this only draws [`SupervisorPrompt`] and sends its command.

use egui::{Key, RichText, TextEdit};

use crate::app::credentials::SupervisorPrompt;
use crate::app::station::StationState;
use crate::supervisors::SupervisorPurpose;
use crate::worker::Command;

/// Draws the dialog while it is open; returns the check to send.
pub(super) fn supervisor_dialog_ui(
    ctx: &egui::Context,
    state: &mut StationState,
) -> Option<Command> {
    let title = state
        .supervisor_prompt
        .as_ref()
        .and_then(|prompt| match &prompt.purpose {
            SupervisorPurpose::ConfirmBind(target) => state
                .requests
                .iter()
                .find(|r| r.uuid == target.request_id)
                .map(super::requests_table::request_title),
            _ => None,
        });
    let prompt = state.supervisor_prompt.as_mut()?;
    let SupervisorPurpose::ConfirmBind(target) = &prompt.purpose else {
        return None;
    };
    let target = target.clone();
    let mut command = None;
    let mut cancel = false;
    let modal = egui::Modal::new(egui::Id::unique("supervisor-confirmation")).show(ctx, |ui| {
        ui.set_max_width(520.0);
        ui.heading("Supervisor confirmation");
        ui.add(
            egui::Label::new(
                "At this counter a supervisor witnesses every bind. The supervisor checks the \
                 request and the card below, then confirms with their own name and password; \
                 the operator cannot confirm their own bind.",
            )
            .wrap(),
        );
        ui.add_space(6.0);
        egui::Grid::new("supervisor-confirmation-target")
            .num_columns(2)
            .spacing([12.0, 4.0])
            .show(ui, |ui| {
                ui.label("Request");
                ui.vertical(|ui| {
                    if let Some(title) = &title {
                        ui.strong(title.as_str());
                    }
                    selectable_mono(ui, &target.request_id.to_string());
                });
                ui.end_row();
                ui.label("Reader");
                ui.add(egui::Label::new(target.reader.as_str()).selectable(true));
                ui.end_row();
                ui.label("Card ID");
                ui.horizontal(|ui| {
                    selectable_mono(ui, &target.expected.card_id.to_string());
                    ui.weak(format!("({})", target.expected.kind));
                });
                ui.end_row();
            });
        ui.separator();
        let (submit, cancelled) = credential_ui(ui, prompt);
        cancel = cancelled;
        if submit {
            command = prompt.submit();
        }
    });
    // Esc cancels; a click beside the dialog does not, so a stray click never
    // throws away what the supervisor typed. A check under way cannot be
    // called back, so the dialog stays until its answer.
    let escape =
        modal.is_top_modal && ctx.input_mut(|i| i.consume_key(egui::Modifiers::NONE, Key::Escape));
    if (cancel || escape) && !prompt.form.pending {
        state.supervisor_prompt = None;
    }
    command
}

fn selectable_mono(ui: &mut egui::Ui, text: &str) {
    ui.add(egui::Label::new(RichText::new(text).monospace()).selectable(true));
}

/// The name and password fields and the buttons: (confirm pressed, cancel pressed).
fn credential_ui(ui: &mut egui::Ui, prompt: &mut SupervisorPrompt) -> (bool, bool) {
    let mut submit = false;
    let mut cancel = false;
    let mut password_id = None;
    egui::Grid::new("supervisor-confirmation-credential")
        .num_columns(2)
        .spacing([12.0, 6.0])
        .show(ui, |ui| {
            let label = ui.label("Supervisor name");
            let name = ui
                .add_enabled(
                    !prompt.form.pending,
                    TextEdit::singleline(&mut prompt.form.name).desired_width(260.0),
                )
                .labelled_by(label.id);
            ui.end_row();
            let label = ui.label("Password");
            let password = ui
                .add_enabled(
                    !prompt.form.pending,
                    TextEdit::singleline(prompt.form.password.text_mut())
                        .password(true)
                        .desired_width(260.0),
                )
                .labelled_by(label.id);
            ui.end_row();
            password_id = Some(password.id);
            let enter = |response: &egui::Response| {
                response.lost_focus() && response.ctx.input(|i| i.key_pressed(Key::Enter))
            };
            submit |= enter(&password) || (enter(&name) && !prompt.form.password.is_empty());
            if enter(&name) && prompt.form.password.is_empty() {
                password.request_focus();
            }
            let nothing_focused = ui.ctx().memory(|m| m.focused().is_none());
            if nothing_focused && !prompt.form.pending {
                if prompt.form.name.trim().is_empty() {
                    name.request_focus();
                } else {
                    password.request_focus();
                }
            }
        });
    if let Some(error) = &prompt.form.error {
        ui.add(
            egui::Label::new(RichText::new(error).color(ui.visuals().error_fg_color))
                .selectable(true)
                .wrap(),
        );
    }
    ui.horizontal(|ui| {
        submit |= ui
            .add_enabled(!prompt.form.pending, egui::Button::new("Confirm and bind"))
            .clicked();
        cancel = ui
            .add_enabled(!prompt.form.pending, egui::Button::new("Cancel"))
            .on_hover_text("Esc")
            .clicked();
        if prompt.form.pending {
            ui.spinner();
            ui.label("Checking the supervisor's credential…");
        }
    });
    if submit && let Some(id) = password_id {
        forget_typing(ui.ctx(), id);
    }
    (submit, cancel)
}

/// Drops what the password field's undo history remembers of the password.
fn forget_typing(ctx: &egui::Context, id: egui::Id) {
    if let Some(mut text_state) = egui::text_edit::TextEditState::load(ctx, id) {
        text_state.clear_undoer();
        text_state.store(ctx, id);
    }
}

/// The Settings view's row about `[[supervisors]]`: shown, not edited, since
/// a password hash is made on the command line.
pub(super) fn supervisors_row(
    ui: &mut egui::Ui,
    supervisors: &[crate::config::SupervisorEntry],
    width: f32,
) {
    ui.label("Supervisors");
    let names: Vec<&str> = supervisors.iter().map(|s| s.name.as_str()).collect();
    let text = if names.is_empty() {
        "None. Supervised mode and leaving a kiosk need one: add a [[supervisors]] table to \
         the configuration file (`enroll-station supervisor hash --name NAME` prints it)."
            .to_owned()
    } else {
        format!(
            "{}. Kept as they are in the configuration file; this view does not edit them \
             (`enroll-station supervisor hash --name NAME` prints a new one).",
            names.join(", ")
        )
    };
    ui.add_sized(
        [width, 0.0],
        egui::Label::new(RichText::new(text).weak()).wrap(),
    );
    ui.end_row();
}
