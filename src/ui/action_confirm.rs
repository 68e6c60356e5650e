//! The confirmation of a desk action (abandon, cancel, retire, revoke, a new
//! request, a phone unblock): who it is for, through the same identity
//! display as the bind bar, what it acts on and what happens, in words; at a
//! supervised station the supervisor's name and password, in the same form
//! as a supervised bind's. Nothing is sent before Confirm, and the result
//! (CM's refusal in its words, or what happens next) stays here until Close.

use std::time::Instant;

use egui::{Key, RichText};

use super::theme;
use crate::app::actions::{Intent, Stage};
use crate::app::station::StationState;
use crate::supervisors::Witness;
use crate::worker::Command;

/// The dialog's width, as the supervisor confirmation's.
const WIDTH: f32 = 560.0;

/// The password field's id for one opening.
fn password_id(opening: u64) -> egui::Id {
    egui::Id::unique(("action-confirmation-password", opening))
}

/// Draws the confirmation while one is open; returns the command to send.
pub(super) fn confirmation_ui(ctx: &egui::Context, state: &mut StationState) -> Option<Command> {
    let confirmation = state.actions.confirmation.as_ref()?;
    let identity = state.people.peek_of(confirmation.intent.target_user());
    let witness = state.witness;
    let now = Instant::now();
    let mut confirm = false;
    let mut close = false;
    let mut again = false;
    let id = egui::Id::unique("action-confirmation");
    let area = egui::Modal::default_area(id).anchor(egui::Align2::CENTER_TOP, [0.0, 72.0]);
    let modal = egui::Modal::new(id).area(area).show(ctx, |ui| {
        ui.set_width(WIDTH);
        let Some(confirmation) = state.actions.confirmation.as_mut() else {
            return;
        };
        let verb = confirmation.intent.verb();
        ui.heading(format!("{verb}?"));
        ui.label(RichText::new("For").strong());
        match &confirmation.intent {
            Intent::ChangeStatus { request, .. } => {
                super::identity::person_block(ui, request, &identity);
            }
            intent => super::identity::account_block(ui, intent.target_user(), &identity),
        }
        ui.add_space(4.0);
        ui.label(RichText::new("What happens").strong());
        for line in confirmation.intent.lines() {
            ui.add(egui::Label::new(line).selectable(true).wrap());
        }
        ui.separator();
        // Shown to the password field while a check runs, as the bind's dialog does.
        confirmation.supervisor.pending = confirmation.busy();
        match &confirmation.stage {
            Stage::Confirming => match witness {
                Witness::NotNeeded => {
                    ui.horizontal(|ui| {
                        let button = theme::primary_button(ui.visuals(), &verb, true);
                        confirm = ui.add(button).clicked();
                        close = ui.button("Cancel").on_hover_text("Esc").clicked();
                    });
                }
                Witness::Needed | Witness::NoneConfigured => {
                    ui.add(
                        egui::Label::new(
                            "At this counter a supervisor confirms every action. The supervisor \
                             checks what is named above, then confirms with their own name and \
                             password.",
                        )
                        .wrap(),
                    );
                    let words = format!("Confirm: {verb}");
                    let password = password_id(confirmation.opening);
                    let (submit, cancelled) = super::supervisor_dialog::credential_ui(
                        ui,
                        &mut confirmation.supervisor,
                        now,
                        password,
                        &words,
                    );
                    confirm = submit;
                    close = cancelled;
                    if submit {
                        super::supervisor_dialog::forget_typing(ui.ctx(), password);
                    }
                }
            },
            Stage::Running(_) => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("Sending to CM…");
                });
            }
            Stage::Done(words) => {
                ui.add(
                    egui::Label::new(
                        RichText::new(format!("Done. {words}")).color(theme::success(ui.visuals())),
                    )
                    .selectable(true)
                    .wrap(),
                );
                close = ui.button("Close").clicked();
            }
            Stage::Refused(why) => {
                crate::ui::theme::error_label(ui, format!("Not done: {why}"));
                ui.horizontal(|ui| {
                    again = ui.button("Try again").clicked();
                    close = ui.button("Close").clicked();
                });
            }
        }
    });
    let escape = modal.is_top_modal
        && !egui::Popup::is_any_open(ctx)
        && ctx.input_mut(|i| i.consume_key(egui::Modifiers::NONE, Key::Escape));
    if again {
        state.actions.try_again();
    }
    if close || escape {
        if let Some(confirmation) = &state.actions.confirmation {
            let password = password_id(confirmation.opening);
            ctx.data_mut(|d| d.remove::<egui::text_edit::TextEditState>(password));
        }
        state.actions.close_confirmation();
    }
    confirm.then(|| state.confirm_action()).flatten()
}
