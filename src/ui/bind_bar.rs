//! The bind bar: what would be bound, the one **Bind** button, and the result.

use super::theme;
use crate::app::credentials::Witness;
use crate::app::station::{BindBlocked, StationState};
use crate::domain::bind::{BindState, BindTarget, Failure, wrong_card_alarm};
use crate::domain::card_choice::NoCard;
use crate::supervisors::SupervisorError;
use crate::worker::Command;

/// Draws an error: its title in the error colour and in words, the
/// message selectable, and the correlation ID on its own line for the
/// administrator. Its Copy button is in the bar's first row.
pub(super) fn error_ui(ui: &mut egui::Ui, title: &str, failure: &Failure) {
    ui.horizontal_wrapped(|ui| {
        ui.label(
            egui::RichText::new(title)
                .strong()
                .color(ui.visuals().error_fg_color),
        );
        ui.add(
            egui::Label::new(failure.message.as_str())
                .selectable(true)
                .wrap(),
        );
    });
    if let Some(id) = &failure.correlation_id {
        ui.horizontal(|ui| {
            ui.label("Correlation ID:");
            ui.add(egui::Label::new(egui::RichText::new(id).monospace()).selectable(true));
        });
    }
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

/// The person a bind is for: the name its target carries (the list's
/// title, cleaned, taken when the bind was asked for), or the request's
/// GUID when it has none. No search of the list on every frame.
fn person(target: &BindTarget) -> String {
    if target.person.is_empty() {
        format!("request {}", target.request_id)
    } else {
        target.person.clone()
    }
}

/// Draws the bar and returns the command a click asked for. At a
/// supervised station a click opens the supervisor confirmation instead.
///
/// The bar has a fixed height (`layout::BIND_BAR_HEIGHT`): its first row
/// holds Bind, what it would bind, and the result's buttons, always at the
/// same place; below it a status area scrolls when its text is long.
pub(super) fn bind_bar_ui(ui: &mut egui::Ui, state: &mut StationState) -> Option<Command> {
    let mut command = None;
    let witness = state.witness;
    let target = bind_ready(state);
    let row_height = 40.0;
    let width = ui.available_width();
    ui.allocate_ui_with_layout(
        egui::vec2(width, row_height),
        egui::Layout::left_to_right(egui::Align::Center),
        |ui| {
            ui.set_min_size(egui::vec2(width, row_height));
            let enabled = target.is_ok();
            let button = ui
                .add_enabled(
                    enabled,
                    theme::primary_button(
                        ui.visuals(),
                        egui::RichText::new("Bind").heading(),
                        enabled,
                    )
                    .shortcut_text(BIND_ACCELERATOR)
                    .min_size(egui::vec2(140.0, 36.0)),
                )
                .on_hover_text(format!("Bind ({BIND_ACCELERATOR})"));
            // The shortcut is drawn on the button; its name stays the action's.
            button.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, enabled, "Bind"));
            if enabled && button.clicked() {
                command = bind_intent(state);
            }
            // The result's buttons, right-aligned in this row so they never
            // move with the length of the text below.
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                command = command.take().or(result_buttons_ui(ui, state));
                ui.with_layout(egui::Layout::left_to_right(egui::Align::Center), |ui| {
                    summary_ui(ui, state, &target, witness);
                });
            });
        },
    );
    ui.separator();
    egui::ScrollArea::vertical()
        .id_salt("bind-status")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            if state
                .batch
                .selection
                .marked(state.selected_request)
                .is_some()
            {
                super::batch_view::selection_status_ui(ui, state);
            } else {
                status_ui(ui, state);
            }
        });
    command
}

/// What Bind would bind, with the person's name large, or why it is disabled.
fn summary_ui(
    ui: &mut egui::Ui,
    state: &mut StationState,
    target: &Result<BindTarget, BindBlocked>,
    witness: Witness,
) {
    match target {
        Ok(target) => {
            let name = person(target);
            let mut job = egui::text::LayoutJob::default();
            let style = ui.style();
            let body = egui::TextStyle::Body.resolve(style);
            let normal = ui.visuals().text_color();
            let strong = ui.visuals().strong_text_color();
            job.append(
                "Bind the request for ",
                0.0,
                egui::TextFormat::simple(body.clone(), normal),
            );
            job.append(
                &name,
                0.0,
                egui::TextFormat::simple(egui::FontId::proportional(body.size * 1.25), strong),
            );
            job.append(
                &format!(
                    " to card {} ({}) in \u{201c}{}\u{201d}{}",
                    target.expected.card_id,
                    target.expected.kind,
                    target.reader,
                    if witness == Witness::Needed {
                        ". A supervisor confirms."
                    } else {
                        "."
                    }
                ),
                0.0,
                egui::TextFormat::simple(body, normal),
            );
            ui.add(egui::Label::new(job).wrap());
        }
        Err(why) => {
            let flash = state
                .bind_reason_flash
                .is_some_and(|until| until > std::time::Instant::now());
            if !flash {
                state.bind_reason_flash = None;
            }
            reason_ui(ui, state, why, flash);
        }
    }
}

/// Why Bind is disabled, in normal text (it is the "what do I do next"
/// line), emphasised and announced for a while after Ctrl+Enter; where
/// another reader holds a usable card, a button to use it.
fn reason_ui(ui: &mut egui::Ui, state: &mut StationState, why: &BindBlocked, flash: bool) {
    let text = egui::RichText::new(why.to_string());
    let text = if flash {
        text.strong().color(ui.visuals().warn_fg_color)
    } else {
        text
    };
    let mut builder = egui::UiBuilder::new();
    if flash {
        builder = builder.accessibility_role(egui::accesskit::Role::Alert);
    }
    ui.scope_builder(builder, |ui| {
        ui.add(egui::Label::new(text).selectable(true).wrap());
    });
    if flash {
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_millis(500));
    }
    if let BindBlocked::Selection(_) = why {
        super::batch_view::batch_button_ui(ui, state);
    }
    if let BindBlocked::NoCard(NoCard::Several(readers)) = why {
        for reader in readers.iter().take(3) {
            if ui
                .button(format!("Use \u{201c}{reader}\u{201d}"))
                .on_hover_text("Bind the card in this reader")
                .clicked()
            {
                state.use_reader(reader.clone());
            }
        }
    }
}

/// The buttons that act on the last result, in the bar's first row.
fn result_buttons_ui(ui: &mut egui::Ui, state: &StationState) -> Option<Command> {
    let mut command = None;
    match &state.bind {
        BindState::Bound { .. } if ui.button("Done").clicked() => {
            command = Some(Command::DismissBind);
        }
        BindState::Refused {
            reason: failure, ..
        }
        | BindState::Failed { failure, .. } => {
            if ui.button("Dismiss").clicked() {
                command = Some(Command::DismissBind);
            }
            copy_error_button(ui, failure);
        }
        BindState::WrongCard { target, bound } => {
            if ui.button("Dismiss").clicked() {
                command = Some(Command::DismissBind);
            }
            copy_error_button(ui, &Failure::new(wrong_card_alarm(target, bound)));
        }
        BindState::Unknown { failure, .. } => {
            if ui.button("Check again").clicked() {
                command = Some(Command::RecheckBind);
            }
            copy_error_button(ui, failure);
        }
        _ => {}
    }
    command
}

fn copy_error_button(ui: &mut egui::Ui, failure: &Failure) {
    if ui.button("Copy error").clicked() {
        let mut text = failure.message.clone();
        if let Some(id) = &failure.correlation_id {
            text.push_str(&format!("\nCorrelation ID: {id}"));
        }
        ui.ctx().copy_text(text);
    }
}

/// The bind under way, in the person's name and with a step count, or its result.
fn status_ui(ui: &mut egui::Ui, state: &StationState) {
    let steps = |step: u8, text: String| (Some(step), text);
    let progress = match &state.bind {
        BindState::Idle => {
            // Before a bind, who it is for: the face to compare.
            if let Some(request) = state.request() {
                let identity = state.people.peek_of(request.target_user);
                super::identity::person_block(ui, request, &identity);
            }
            None
        }
        BindState::Recording { .. } => Some(steps(
            1,
            "Writing the attempt to the audit journal…".to_owned(),
        )),
        BindState::Checking { target, .. } => Some(steps(
            2,
            format!(
                "Checking the request for {} and the card with the CM server…",
                person(target)
            ),
        )),
        BindState::ReadingCard { target, .. } => Some(steps(
            3,
            format!(
                "Checking that the card in \u{201c}{}\u{201d} is still the one shown…",
                target.reader
            ),
        )),
        BindState::Posting { target, .. } => Some(steps(
            4,
            format!(
                "Binding the card to the request for {}: waiting for the CM server…",
                person(target)
            ),
        )),
        BindState::Reconciling { .. } => Some((
            None,
            "The server\u{2019}s answer was lost: asking the server whether the bind happened…"
                .to_owned(),
        )),
        BindState::Bound {
            target,
            receipt,
            confirmed_after_loss,
        } => {
            bound_ui(ui, target, receipt, *confirmed_after_loss);
            None
        }
        BindState::Refused { reason, .. } => {
            error_ui(ui, "Not bound", reason);
            None
        }
        BindState::Failed { failure, .. } => {
            error_ui(ui, "Not bound", failure);
            None
        }
        BindState::WrongCard { target, bound } => {
            let failure = Failure::new(wrong_card_alarm(target, bound));
            error_ui(ui, "Bound to a different card", &failure);
            None
        }
        BindState::Unknown { failure, .. } => {
            error_ui(ui, "Result unknown", failure);
            None
        }
    };
    if let Some((step, text)) = progress {
        ui.horizontal(|ui| {
            ui.spinner();
            match step {
                Some(step) => ui.label(format!("Step {step} of 4: {text}")),
                None => ui.label(text),
            };
        });
        ui.label(egui::RichText::new("Keep the card in the reader.").strong());
    }
}

fn bound_ui(
    ui: &mut egui::Ui,
    target: &BindTarget,
    receipt: &crate::domain::bind::BindReceipt,
    confirmed_after_loss: bool,
) {
    let mut text = format!(
        "The request for {} is now bound to card {} ({}).",
        person(target),
        target.expected.card_id,
        target.expected.kind
    );
    if let Some(supervisor) = &target.supervisor {
        text.push_str(&format!(" Confirmed by supervisor {supervisor}."));
    }
    if confirmed_after_loss {
        text.push_str(" (Confirmed with the server after its answer was lost.)");
    }
    ui.horizontal_wrapped(|ui| {
        ui.label(
            egui::RichText::new("Bound")
                .strong()
                .color(theme::success(ui.visuals())),
        );
        ui.add(egui::Label::new(text).selectable(true).wrap());
    });
    ui.horizontal_wrapped(|ui| {
        ui.label(format!("Request {}", target.request_id));
        let object = receipt
            .smartcard_uri
            .clone()
            .or_else(|| receipt.smartcard_uuid.map(|u| u.to_string()));
        if let Some(object) = object {
            ui.label("New smart card object:");
            ui.add(egui::Label::new(egui::RichText::new(object).monospace()).selectable(true));
        }
    });
}
