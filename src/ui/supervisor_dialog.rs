//! The supervisor confirmation of a supervised bind: whose bind it is, what
//! is about to be bound, and the supervisor's name and password. The check
//! and the bind run on the worker; this only draws [`SupervisorPrompt`] and
//! sends its command.

use std::time::Instant;

use egui::{Key, RichText, TextEdit};

use super::theme;
use crate::app::credentials::CredentialForm;
use crate::app::station::StationState;
use crate::supervisors::SupervisorPurpose;
use crate::worker::Command;

/// The dialog's width: the target's GUIDs and the fields fit on one line each.
const WIDTH: f32 = 520.0;

/// Lines kept free for the refusal under the fields, whether or not there
/// is one, so the buttons never move when it appears (a supervisor aiming
/// at Confirm must not hit the text instead).
const MESSAGE_LINES: f32 = 3.0;

/// Draws the dialog while it is open; returns the check to send.
pub(super) fn supervisor_dialog_ui(
    ctx: &egui::Context,
    state: &mut StationState,
) -> Option<Command> {
    // Who the bind is for, as the bind bar showed it: the supervisor
    // compares the same face and directory name.
    let person = state
        .supervisor_prompt
        .as_ref()
        .and_then(|prompt| match &prompt.purpose {
            SupervisorPurpose::ConfirmBind(target) => {
                state.requests.iter().find(|r| r.uuid == target.request_id)
            }
            _ => None,
        })
        .map(|request| {
            let identity = state.people.peek_of(request.target_user);
            (request.clone(), identity)
        });
    // A batch's queue and the cards it uses first, before the prompt is borrowed.
    let batch_parts = super::batch_view::BatchConfirmation::of(state);
    let Some(prompt) = state.supervisor_prompt.as_mut() else {
        forget_closed_opening(ctx);
        return None;
    };
    let (target, batch) = match &prompt.purpose {
        SupervisorPurpose::ConfirmBind(target) => (Some(target.clone()), None),
        SupervisorPurpose::OpenSettings => (None, None),
        // The kiosk's staff sign-in asks for this one.
        SupervisorPurpose::LeaveKiosk => return None,
        SupervisorPurpose::ConfirmBatch {
            size, first, last, ..
        } => (None, Some((*size, first.clone(), last.clone()))),
    };
    let password_id = password_id(prompt.opening);
    // Remembered for the frame the dialog is gone in, whichever way it went.
    ctx.data_mut(|d| d.insert_temp(last_opening_id(), password_id));
    let now = Instant::now();
    let mut command = None;
    let mut cancel = false;
    let id = egui::Id::unique("supervisor-confirmation");
    // Anchored at the top, not centred: its height may change (a long
    // name, a spinner) and the buttons must stay where the pointer is.
    let area = egui::Modal::default_area(id).anchor(egui::Align2::CENTER_TOP, [0.0, 72.0]);
    let modal = egui::Modal::new(id).area(area).show(ctx, |ui| {
        ui.set_width(WIDTH);
        if let Some((size, first, last)) = &batch {
            batch_parts.ui(ui, *size, first, last, prompt.operator.as_str());
            ui.separator();
            (command, cancel) =
                confirm_ui(ui, prompt, now, password_id, "Confirm and start the batch");
            return;
        }
        let Some(target) = &target else {
            ui.heading("Supervisor confirmation: Settings");
            ui.add(
                egui::Label::new(
                    "At this station a supervisor opens Settings: it holds the server, the \
                     sign-in and the station's mode. The supervisor confirms with their own \
                     name and password; every saved change is written to the audit journal.",
                )
                .wrap(),
            );
            ui.add_space(6.0);
            ui.add(
                egui::Label::new(RichText::new(prompt.operator.as_str()).strong()).selectable(true),
            );
            ui.separator();
            (command, cancel) =
                confirm_ui(ui, prompt, now, password_id, "Confirm and open Settings");
            return;
        };
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
        ui.add(egui::Label::new(RichText::new(prompt.operator.as_str()).strong()).selectable(true));
        ui.add_space(4.0);
        egui::Grid::new("supervisor-confirmation-target")
            .num_columns(2)
            .spacing([12.0, 4.0])
            .show(ui, |ui| {
                ui.label("Request");
                ui.vertical(|ui| {
                    if let Some((request, identity)) = &person {
                        super::identity::person_block(ui, request, identity);
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
        (command, cancel) = confirm_ui(ui, prompt, now, password_id, "Confirm and bind");
    });
    // The wait counts down once a second, and no frame runs otherwise.
    if let Some(tick) = prompt.form.next_tick(now) {
        ctx.request_repaint_after(tick);
    }
    // Esc cancels; a click beside the dialog does not, so a stray click never
    // throws away what the supervisor typed. A check under way cannot be
    // called back, so the dialog stays until its answer. A popup open in the
    // dialog takes the Esc first.
    let escape = modal.is_top_modal
        && !egui::Popup::is_any_open(ctx)
        && ctx.input_mut(|i| i.consume_key(egui::Modifiers::NONE, Key::Escape));
    if (cancel || escape) && !prompt.form.pending {
        state.supervisor_prompt = None;
        forget_closed_opening(ctx);
    }
    command
}

/// Where the password field's id of the last opening is kept, so what
/// egui remembers of it goes however the dialog closed (Confirm, Cancel,
/// Esc, the window going back to the kiosk).
fn last_opening_id() -> egui::Id {
    egui::Id::unique("supervisor-confirmation-last-opening")
}

/// Drops everything egui remembers of the closed dialog's password field:
/// its text state and undo history (review M6). With the id salted by the
/// opening, a later dialog could not reach it anyway; this also keeps it
/// out of memory.
fn forget_closed_opening(ctx: &egui::Context) {
    let last = ctx.data_mut(|d| {
        let last = d.get_temp::<egui::Id>(last_opening_id());
        d.remove::<egui::Id>(last_opening_id());
        last
    });
    if let Some(password) = last {
        ctx.data_mut(|d| d.remove::<egui::text_edit::TextEditState>(password));
        if ctx.memory(|m| m.has_focus(password)) {
            ctx.memory_mut(|m| m.surrender_focus(password));
        }
    }
}

fn selectable_mono(ui: &mut egui::Ui, text: &str) {
    ui.add(egui::Label::new(RichText::new(text).monospace()).selectable(true));
}

/// The password field's id for one opening of the dialog: known before it
/// is drawn, so its undo history can be dropped whichever way the password
/// was sent, and new at every opening, so nothing typed in an earlier one
/// can come back.
fn password_id(opening: u64) -> egui::Id {
    egui::Id::unique(("supervisor-confirmation-password", opening))
}

/// The name and password fields, the message slot and the buttons:
/// (confirm pressed, cancel pressed).
/// The credential fields under `confirm_words`: the check to send once
/// submitted (the typing is then forgotten), and whether it was cancelled.
fn confirm_ui(
    ui: &mut egui::Ui,
    prompt: &mut crate::app::credentials::SupervisorPrompt,
    now: Instant,
    password_id: egui::Id,
    confirm_words: &str,
) -> (Option<Command>, bool) {
    let (submit, cancelled) = credential_ui(ui, &mut prompt.form, now, password_id, confirm_words);
    let command = submit.then(|| prompt.submit()).flatten();
    if command.is_some() {
        forget_typing(ui.ctx(), password_id);
    }
    (command, cancelled)
}

pub(super) fn credential_ui(
    ui: &mut egui::Ui,
    form: &mut CredentialForm,
    now: Instant,
    password_id: egui::Id,
    confirm_words: &str,
) -> (bool, bool) {
    let mut submit = false;
    let mut cancel = false;
    let can_submit = form.can_submit(now);
    egui::Grid::new("supervisor-confirmation-credential")
        .num_columns(2)
        .spacing([12.0, 6.0])
        .show(ui, |ui| {
            let label = ui.label("Supervisor name");
            // Typing stays open during the station's wait: what is typed
            // then is kept for when Confirm comes back.
            let name = ui
                .add_enabled(
                    !form.pending,
                    TextEdit::singleline(&mut form.name).desired_width(260.0),
                )
                .labelled_by(label.id);
            ui.end_row();
            let label = ui.label("Password");
            let password = ui
                .add_enabled(
                    !form.pending,
                    TextEdit::singleline(form.password.text_mut())
                        .id(password_id)
                        .password(true)
                        .desired_width(260.0),
                )
                .labelled_by(label.id);
            ui.end_row();
            let enter = |response: &egui::Response| {
                response.lost_focus() && response.ctx.input(|i| i.key_pressed(Key::Enter))
            };
            submit |=
                can_submit && (enter(&password) || (enter(&name) && !form.password.is_empty()));
            if enter(&name) && form.password.is_empty() {
                password.request_focus();
            }
            let nothing_focused = ui.ctx().memory(|m| m.focused().is_none());
            if nothing_focused && !form.pending {
                if form.name.trim().is_empty() {
                    name.request_focus();
                } else {
                    password.request_focus();
                }
            }
        });
    message_slot(ui, form.message(now).as_deref());
    ui.horizontal(|ui| {
        let confirm = theme::primary_button(ui.visuals(), confirm_words, can_submit);
        let confirm = ui.add_enabled(can_submit, confirm);
        let confirm = if form.lockout_left(now).is_some() {
            confirm.on_disabled_hover_text("The station is making everyone wait: see the countdown")
        } else {
            confirm.on_hover_text("Check the supervisor's credential, then go on (Enter)")
        };
        submit |= confirm.clicked();
        cancel = ui
            .add_enabled(!form.pending, egui::Button::new("Cancel"))
            .on_hover_text("Esc")
            .clicked();
        if form.pending {
            ui.spinner();
            ui.label("Checking the supervisor's credential…");
        }
    });
    (submit, cancel)
}

/// The refusal (or the wait) under the fields, in a slot of fixed height:
/// at least [`MESSAGE_LINES`] lines, whether there is a message or not.
fn message_slot(ui: &mut egui::Ui, message: Option<&str>) {
    let width = ui.available_width();
    let line = ui.text_style_height(&egui::TextStyle::Body);
    let galley = message.map(|message| {
        egui::WidgetText::from(RichText::new(message).color(ui.visuals().error_fg_color))
            .into_galley(
                ui,
                Some(egui::TextWrapMode::Wrap),
                width,
                egui::TextStyle::Body,
            )
    });
    let height = galley
        .as_ref()
        .map_or(0.0, |galley| galley.size().y)
        .max(line * MESSAGE_LINES);
    let (rect, _) = ui.allocate_exact_size(egui::vec2(width, height), egui::Sense::hover());
    if let Some(galley) = galley {
        // A child that leaves the parent's cursor alone: the slot was allocated above.
        let mut slot = ui.new_child(
            egui::UiBuilder::new()
                .max_rect(rect)
                .layout(egui::Layout::top_down(egui::Align::Min)),
        );
        slot.add(egui::Label::new(galley).selectable(true));
    }
}

/// Drops what the password field's undo history remembers of the password.
pub(super) fn forget_typing(ctx: &egui::Context, id: egui::Id) {
    if let Some(mut text_state) = egui::text_edit::TextEditState::load(ctx, id) {
        text_state.clear_undoer();
        text_state.store(ctx, id);
    }
}

/// The Settings view's row about `[[supervisors]]`: shown, not edited, since
/// a password hash is made on the command line. The text wraps at the field
/// column's `width` and the row grows with it (a label sized to `[width, 0]`
/// was clipped by the next row and justified with wide gaps).
pub(super) fn supervisors_row(
    ui: &mut egui::Ui,
    supervisors: &[crate::config::SupervisorEntry],
    width: f32,
) {
    ui.label("Supervisors");
    let names: Vec<&str> = supervisors.iter().map(|s| s.name.as_str()).collect();
    let text = if names.is_empty() {
        "None. Supervised mode and leaving a kiosk need one: add a [[supervisors]] table to \
         the configuration file (`enroll-station supervisor hash --name NAME --account ACCOUNT` prints it)."
            .to_owned()
    } else {
        format!(
            "{}. Kept as they are in the configuration file; this view does not edit them \
             (`enroll-station supervisor hash --name NAME --account ACCOUNT` prints a new one).",
            names.join(", ")
        )
    };
    super::settings_view::wrapped_label(ui, RichText::new(text).weak(), width);
    ui.end_row();
}
