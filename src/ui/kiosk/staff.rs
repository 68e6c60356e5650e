//! The staff sign-in and the "Are you still there?" question: what
//! appears over the person's screen.

use egui::{Id, Key, RichText, TextEdit, Ui, vec2};

use super::guided::{Bands, band, button_row, place};
use super::{
    BIG_BUTTON, COLUMN_WIDTH, SMALL_BUTTON, STAFF_BUTTON, STAFF_NAME_ID, STAFF_PASSWORD_ID,
    kiosk_style,
};
use crate::app::kiosk::{KioskState, StaffField};
use crate::supervisors::SupervisorPurpose;
use crate::ui::theme;
use crate::worker::Command;

/// The last seconds before an idle start-over: the person may just be
/// reading. Any input puts this away (the logic step counts it as
/// activity); the button is for a touch screen.
pub(super) fn still_there_ui(ctx: &egui::Context, left: f64, kiosk: &mut KioskState, now: f64) {
    egui::Modal::new(Id::unique("kiosk-still-there"))
        .frame(egui::Frame::popup(&ctx.global_style()).inner_margin(32.0))
        .show(ctx, |ui| {
            kiosk_style(ui);
            ui.set_width(640.0);
            ui.vertical_centered(|ui| {
                ui.label(RichText::new("Are you still there?").heading().strong());
                ui.add(
                    egui::Label::new(format!(
                        "This screen starts over in {} s, and what you entered is cleared.",
                        left.ceil()
                    ))
                    .wrap(),
                );
                let visuals = ui.visuals().clone();
                if ui
                    .add(
                        theme::primary_button(&visuals, "I'm still here", true)
                            .min_size(BIG_BUTTON),
                    )
                    .clicked()
                {
                    kiosk.flow.touch(now);
                }
            });
        });
}

pub(super) fn staff_ui(ui: &mut Ui, kiosk: &mut KioskState, commands: &mut Vec<Command>) {
    ui.add_space(40.0);
    ui.vertical_centered(|ui| {
        ui.set_max_width(COLUMN_WIDTH);
        ui.label(RichText::new("Staff sign-in").heading().strong());
        if !kiosk.supervisors_configured {
            ui.add(
                egui::Label::new(
                    "No supervisor is configured for this station, so kiosk mode cannot be left \
                     and Settings cannot be opened from this window. To leave kiosk mode, stop \
                     the session (or the service) that runs the station. An administrator adds \
                     supervisors to the configuration file.",
                )
                .wrap(),
            );
            if ui
                .add(egui::Button::new("Back").min_size(SMALL_BUTTON))
                .clicked()
            {
                kiosk.staff.close();
            }
            return;
        }
        let staff = &mut kiosk.staff;
        // The Enter or the click that opened this screen or left a field
        // would reach the field given the focus in the same frame (and end
        // its input at once): the focus moves at the next frame.
        let settled = ui.input(|i| !i.key_pressed(Key::Enter) && !i.pointer.any_click());
        let focus = if settled { staff.take_focus() } else { None };
        ui.label("A supervisor's name and password leave kiosk mode or open Settings.");
        let name_label = ui.label("Supervisor name");
        let name_id = Id::unique(STAFF_NAME_ID);
        let password_id = Id::unique(STAFF_PASSWORD_ID);
        match focus {
            Some(StaffField::Name) => ui.memory_mut(|m| m.request_focus(name_id)),
            Some(StaffField::Password) => ui.memory_mut(|m| m.request_focus(password_id)),
            Some(StaffField::Choice) | None => {}
        }
        let name = ui
            .add(
                TextEdit::singleline(&mut staff.form.name)
                    .id(name_id)
                    .desired_width(600.0),
            )
            .labelled_by(name_label.id);
        let enter = |response: &egui::Response| {
            response.lost_focus() && response.ctx.input(|i| i.key_pressed(Key::Enter))
        };
        if enter(&name) {
            staff.focus(StaffField::Password);
        }
        let password_label = ui.label("Password");
        let password = ui
            .add(
                TextEdit::singleline(staff.form.password.text_mut())
                    .id(password_id)
                    .password(true)
                    .desired_width(600.0),
            )
            .labelled_by(password_label.id);
        // Enter goes on to the choice, which is the supervisor's to make.
        if enter(&password) {
            staff.focus(StaffField::Choice);
        }
        if !settled {
            // The focus moves at the next frame, whatever else happens.
            ui.ctx().request_repaint();
        }
        let bands = Bands::of(ui);
        band(ui, bands.error, |ui| {
            if let Some(error) = &staff.form.error {
                ui.add(
                    egui::Label::new(RichText::new(error).color(ui.visuals().error_fg_color))
                        .selectable(false)
                        .wrap(),
                );
            } else if staff.form.pending {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("Checking…");
                });
            } else {
                ui.label(RichText::new("Then choose what to do:").weak());
            }
        });
        let enabled = !staff.form.pending;
        let visuals = ui.visuals().clone();
        let (_, band) = ui.allocate_space(vec2(ui.available_width(), STAFF_BUTTON.y));
        let places = button_row(band, &[STAFF_BUTTON, STAFF_BUTTON, SMALL_BUTTON]);
        let leave = place(
            ui,
            places[0],
            enabled,
            theme::primary_button(&visuals, "Leave kiosk mode", enabled),
        );
        if focus == Some(StaffField::Choice) {
            leave.request_focus();
        }
        if leave.clicked() {
            commands.extend(staff.request(SupervisorPurpose::LeaveKiosk));
        }
        if place(ui, places[1], enabled, egui::Button::new("Open Settings")).clicked() {
            commands.extend(staff.request(SupervisorPurpose::OpenSettings));
        }
        if place(ui, places[2], true, egui::Button::new("Back")).clicked() {
            staff.close();
        }
    });
}

/// The password field's undo history holds what was typed: drop it with the dialog.
pub(super) fn forget_staff_fields(ctx: &egui::Context) {
    ctx.data_mut(|data| {
        for salt in [STAFF_NAME_ID, STAFF_PASSWORD_ID] {
            data.remove::<egui::text_edit::TextEditState>(Id::unique(salt));
        }
    });
}
