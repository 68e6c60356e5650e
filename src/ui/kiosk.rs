//! Kiosk mode's screen: a thin view of [`crate::app::kiosk`] with large,
//! touch-friendly targets. It shows one person's request and card and
//! nothing about any other request.

use std::time::Duration;

use egui::{Align, Color32, FontId, Id, Key, Layout, RichText, TextEdit, TextStyle, Ui, vec2};

use super::{StationApp, readers_panel, settings_view};
use crate::app::kiosk::{CardStatus, KioskState, StaffGrant, Step, outcome};
use crate::app::station::StationState;
use crate::supervisors::SupervisorPurpose;
use crate::worker::Command;

const BIG_BUTTON: egui::Vec2 = vec2(320.0, 76.0);
const SUCCESS: Color32 = Color32::from_rgb(0x1f, 0x7a, 0x3a);
const FAILURE: Color32 = Color32::from_rgb(0xa3, 0x24, 0x24);

fn code_field_id(generation: u64) -> Id {
    Id::unique(("kiosk-request-code", generation))
}

const SEEN_KEY: &str = "kiosk-step-seen";
const STAFF_NAME_ID: &str = "kiosk-staff-name";
const STAFF_PASSWORD_ID: &str = "kiosk-staff-password";

fn step_name(step: &Step) -> &'static str {
    match step {
        Step::Code => "code",
        Step::LookingUp(_) => "looking-up",
        Step::Card(_) => "card",
        Step::Binding(_) => "binding",
        Step::Result { .. } => "result",
        Step::TakeCard { .. } => "take-card",
    }
}

/// Where the keyboard focus should go this frame.
#[derive(Clone, Copy)]
struct Focus {
    /// The screen changed since the last frame: its main control takes the focus.
    step_changed: bool,
    /// The Settings view is open over the kiosk: it keeps the focus.
    settings_open: bool,
}

impl StationApp {
    /// One frame of the kiosk: the close request refused, the flow, the
    /// staff sign-in, and the Settings view once a supervisor opened it.
    pub(super) fn kiosk_frame(&mut self, ui: &mut Ui) {
        let ctx = ui.ctx().clone();
        // Window-manager close and Alt+F4 arrive as a close request; only a
        // supervisor (through "Staff") or stopping the session ends a kiosk.
        if ctx.input(|i| i.viewport().close_requested()) {
            tracing::info!("close request refused: the station is in kiosk mode");
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
        }
        let now = ctx.input(|i| i.time);
        let mut commands = Vec::new();
        // The timers ran in the logic step (`StationState::kiosk_tick`); this
        // only reads what they left.
        let status = self.state.kiosk.flow.card_status(&self.state.board);
        // Steps change on reports and clicks; acting on the change here, at
        // the start of the next frame, covers every way it happened.
        let generation = self.state.kiosk.flow.generation;
        let seen = (generation, step_name(&self.state.kiosk.flow.step));
        let last_seen = ctx.data(|d| d.get_temp::<(u64, &'static str)>(Id::unique(SEEN_KEY)));
        let step_changed = last_seen != Some(seen);
        if step_changed {
            ctx.data_mut(|d| d.insert_temp(Id::unique(SEEN_KEY), seen));
            if last_seen.is_none_or(|(previous, _)| previous != generation) {
                self.forget_the_last_person(&ctx, &mut commands);
            }
        }
        if !self.state.kiosk.staff.open {
            forget_staff_fields(&ctx);
        }

        egui::Panel::bottom("kiosk-footer")
            .show_separator_line(false)
            .show(ui, |ui| {
                ui.horizontal(|ui| {
                    if self.demo_reader.is_some() {
                        ui.colored_label(ui.visuals().warn_fg_color, "DEMO MODE");
                        let has_card = readers_panel::demo_has_card(&self.state);
                        commands.extend(readers_panel::demo_controls_ui(
                            ui,
                            has_card,
                            &mut self.demo_card_choice,
                        ));
                    }
                    ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
                        // Small and plain for customers; a normal button for
                        // keyboards and screen readers.
                        let staff =
                            ui.add(egui::Button::new(RichText::new("Staff").small()).frame(false));
                        if staff
                            .on_hover_text("For staff: leave kiosk mode or open Settings")
                            .clicked()
                        {
                            self.state.kiosk.staff.open = true;
                        }
                    });
                });
            });
        egui::CentralPanel::default().show(ui, |ui| {
            kiosk_style(ui);
            if self.state.kiosk.staff.open {
                staff_ui(ui, &mut self.state.kiosk, &mut commands);
            } else {
                let focus = Focus {
                    step_changed,
                    settings_open: self.show_settings,
                };
                flow_ui(ui, &mut self.state, &status, now, focus, &mut commands);
            }
        });

        match self.state.kiosk.staff.take_grant() {
            Some(StaffGrant::LeaveKiosk(supervisor)) => self.leave_kiosk(&ctx, &supervisor),
            Some(StaffGrant::OpenSettings(supervisor)) => {
                tracing::info!(%supervisor, "kiosk settings opened by a supervisor");
                self.state.kiosk.settings_open = true;
            }
            None => {}
        }
        // The kiosk decides (a supervisor opened it, the idle reset closed
        // it); the window's close button tells it.
        self.show_settings = self.state.kiosk.settings_open;
        if self.show_settings
            && let Some(command) = settings_view::settings_window_ui(
                &ctx,
                &mut self.show_settings,
                &mut self.state.settings,
            )
        {
            commands.push(command);
        }
        self.state.kiosk.settings_open = self.show_settings;
        for command in commands {
            self.worker.send(command);
        }
        // The next reset is scheduled, not polled: no frame runs until then
        // unless something happens.
        if let Some(wake) = self.state.kiosk.wake_at() {
            ctx.request_repaint_after(Duration::from_secs_f64((wake - now).max(0.0)));
        }
    }

    /// Clears everything the last person entered, on screen and in egui's
    /// memory (a text field's undo history would give their code back).
    fn forget_the_last_person(&mut self, ctx: &egui::Context, commands: &mut Vec<Command>) {
        let previous = code_field_id(self.state.kiosk.flow.generation.wrapping_sub(1));
        ctx.data_mut(|data| {
            data.remove::<egui::text_edit::TextEditState>(previous);
        });
        if outcome(&self.state.bind).is_some() {
            commands.push(Command::DismissBind);
        }
        // The focus may still name a button of the last screen: move it
        // before the first keystroke of the next scan arrives.
        let field = code_field_id(self.state.kiosk.flow.generation);
        ctx.memory_mut(|memory| memory.request_focus(field));
    }

    /// Back to the desk window, for the supervisor who signed in.
    fn leave_kiosk(&mut self, ctx: &egui::Context, supervisor: &str) {
        tracing::info!(%supervisor, "kiosk mode left by a supervisor");
        self.state.kiosk.active = false;
        self.state.kiosk.reset();
        ctx.send_viewport_cmd(egui::ViewportCommand::Fullscreen(false));
        ctx.send_viewport_cmd(egui::ViewportCommand::Decorations(true));
        ctx.send_viewport_cmd(egui::ViewportCommand::WindowLevel(
            egui::WindowLevel::Normal,
        ));
        self.state
            .notices
            .push(format!("Kiosk mode was left by supervisor {supervisor}. Press \u{201c}Back to kiosk\u{201d} when you are done."));
        self.worker.send(Command::RefreshRequests(self.state.query));
    }

    /// Back to the kiosk for the next person, from the desk a supervisor opened.
    pub(super) fn return_to_kiosk(&mut self, ctx: &egui::Context) {
        tracing::info!("kiosk mode resumed");
        self.state.return_to_kiosk();
        self.show_audit = false;
        self.show_settings = false;
        ctx.send_viewport_cmd(egui::ViewportCommand::Decorations(false));
        ctx.send_viewport_cmd(egui::ViewportCommand::Fullscreen(true));
        ctx.send_viewport_cmd(egui::ViewportCommand::WindowLevel(
            egui::WindowLevel::AlwaysOnTop,
        ));
        let mut commands = Vec::new();
        self.forget_the_last_person(ctx, &mut commands);
        for command in commands {
            self.worker.send(command);
        }
    }
}

/// Large text and targets for a touch screen, in this part of the window only.
fn kiosk_style(ui: &mut Ui) {
    let style = ui.style_mut();
    style.text_styles = [
        (TextStyle::Heading, FontId::proportional(44.0)),
        (TextStyle::Body, FontId::proportional(26.0)),
        (TextStyle::Button, FontId::proportional(30.0)),
        (TextStyle::Monospace, FontId::monospace(24.0)),
        (TextStyle::Small, FontId::proportional(18.0)),
    ]
    .into();
    style.spacing.button_padding = vec2(28.0, 16.0);
    style.spacing.interact_size = vec2(64.0, 56.0);
    style.spacing.item_spacing = vec2(16.0, 18.0);
}

fn big_button(ui: &mut Ui, enabled: bool, text: &str) -> egui::Response {
    ui.add_enabled(enabled, egui::Button::new(text).min_size(BIG_BUTTON))
}

fn problem_ui(ui: &mut Ui, problem: Option<&str>) {
    if let Some(problem) = problem {
        ui.add(
            egui::Label::new(RichText::new(problem).color(ui.visuals().error_fg_color))
                .selectable(true)
                .wrap(),
        );
    }
}

fn flow_ui(
    ui: &mut Ui,
    state: &mut StationState,
    status: &CardStatus,
    now: f64,
    focus: Focus,
    commands: &mut Vec<Command>,
) {
    let step = state.kiosk.flow.step.clone();
    if let Step::Result { .. } = step {
        result_ui(ui, state, focus, commands);
        return;
    }
    ui.add_space((ui.available_height() * 0.12).min(120.0));
    ui.vertical_centered(|ui| {
        ui.set_max_width(900.0);
        match step {
            Step::Code => code_ui(ui, state, now, focus, commands),
            Step::LookingUp(_) => {
                ui.heading("Looking up your request…");
                ui.add(egui::Spinner::new().size(64.0));
            }
            Step::Card(request) => {
                ui.heading("Insert your card");
                let summary = request.data_summary();
                if !summary.is_empty() {
                    ui.label(format!("Request for {summary}"));
                }
                ui.add_space(24.0);
                card_status_ui(ui, status);
                ui.add_space(24.0);
                problem_ui(ui, state.kiosk.flow.problem.as_deref());
                let ready = matches!(status, CardStatus::Ready { .. });
                // Never given the focus: a scanner's trailing Enter, or a
                // key pressed by the next person, must not confirm. Tab
                // reaches it.
                let confirm = big_button(ui, ready, "Link my card");
                if confirm.clicked() {
                    let rule = state.kiosk.flow.card_rule();
                    let target = state.bind_target_for(&request, &rule);
                    commands.extend(state.kiosk.flow.confirm(target, now));
                }
                if big_button(ui, true, "Start over").clicked() {
                    state.kiosk.flow.reset();
                    ui.ctx().request_repaint();
                }
            }
            Step::Binding(_) => {
                ui.heading("Linking your card to your request…");
                ui.add(egui::Spinner::new().size(64.0));
                ui.label("Do not take your card out.");
            }
            Step::TakeCard { .. } => take_card_ui(ui, state.kiosk.flow.card_left_too_long()),
            Step::Result { .. } => {}
        }
    });
}

/// The kiosk starts over only with empty readers: until then it asks for
/// the card, and after a while for staff.
fn take_card_ui(ui: &mut Ui, call_staff: bool) {
    ui.heading("Please take your card out of the reader.");
    ui.label("The next person can start as soon as the reader is empty.");
    if call_staff {
        ui.add_space(24.0);
        ui.add(
            egui::Label::new(
                RichText::new(
                    "Staff: a card has been left in the reader. Take it out and keep it safe; \
                     the kiosk starts again once the reader is empty.",
                )
                .size(30.0)
                .color(ui.visuals().warn_fg_color),
            )
            .wrap(),
        );
    }
}

fn code_ui(
    ui: &mut Ui,
    state: &mut StationState,
    now: f64,
    focus: Focus,
    commands: &mut Vec<Command>,
) {
    let cards_now = state.board.now();
    let flow = &mut state.kiosk.flow;
    let id = code_field_id(flow.generation);
    // A keyboard-wedge scanner types wherever the focus is: keep it here,
    // and before the field is drawn, so this frame's keystrokes reach it.
    // When this screen comes back (from "take your card"), the focus may
    // still be on Staff, the only control there: the next scan must not
    // land on it.
    if !focus.settings_open && (focus.step_changed || ui.memory(|m| m.focused().is_none())) {
        ui.memory_mut(|m| m.request_focus(id));
    }
    let heading = ui.heading("Scan or type your request code");
    ui.label("Hold the code from your letter under the scanner, or type it and press Enter.");
    ui.add_space(16.0);
    let field = ui
        .add(
            TextEdit::singleline(&mut flow.code)
                .id(id)
                .font(FontId::monospace(34.0))
                .hint_text("xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx")
                .align(egui::Align2::CENTER_CENTER)
                .char_limit(200)
                .desired_width(860.0),
        )
        .labelled_by(heading.id);
    let entered = field.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter));
    ui.add_space(8.0);
    problem_ui(ui, flow.problem.as_deref());
    let pressed = big_button(ui, true, "Continue").clicked();
    if entered || pressed {
        commands.extend(flow.submit(now, cards_now));
    }
}

fn card_status_ui(ui: &mut Ui, status: &CardStatus) {
    let big = |text: &str| RichText::new(text).size(34.0);
    match status {
        CardStatus::NoCard => {
            ui.label(big("No card yet: insert your card into the reader."));
        }
        CardStatus::Reading => {
            ui.horizontal(|ui| {
                ui.add(egui::Spinner::new().size(34.0));
                ui.label(big("Reading your card…"));
            });
        }
        CardStatus::TakeOut => {
            ui.add(
                egui::Label::new(
                    big("Please take the card out of the reader, then insert your card.")
                        .color(ui.visuals().warn_fg_color),
                )
                .wrap(),
            );
        }
        CardStatus::Ready { .. } => {
            ui.label(big("Card ready.").color(SUCCESS).strong());
        }
        CardStatus::Problem(problem) => {
            ui.add(egui::Label::new(big(problem).color(ui.visuals().warn_fg_color)).wrap());
        }
    }
}

fn result_ui(ui: &mut Ui, state: &mut StationState, focus: Focus, commands: &mut Vec<Command>) {
    let Some(shown) = outcome(&state.bind) else {
        return;
    };
    let fill = if shown.bound { SUCCESS } else { FAILURE };
    egui::Frame::new()
        .fill(fill)
        .inner_margin(48.0)
        .show(ui, |ui| {
            ui.set_min_size(ui.available_size());
            ui.visuals_mut().override_text_color = Some(Color32::WHITE);
            ui.vertical_centered(|ui| {
                ui.add_space(40.0);
                ui.heading(&shown.headline);
                ui.add_space(24.0);
                ui.label(&shown.advice);
                if let Some(failure) = &shown.failure {
                    ui.add_space(24.0);
                    ui.add(
                        egui::Label::new(failure.message.as_str())
                            .selectable(true)
                            .wrap(),
                    );
                    if let Some(id) = &failure.correlation_id {
                        ui.horizontal(|ui| {
                            ui.label("Correlation ID:");
                            ui.add(
                                egui::Label::new(RichText::new(id).monospace()).selectable(true),
                            );
                        });
                    }
                }
                ui.add_space(32.0);
                if matches!(state.bind, crate::domain::bind::BindState::Unknown { .. })
                    && big_button(ui, true, "Check again").clicked()
                {
                    commands.push(Command::RecheckBind);
                }
                let finish = big_button(ui, true, "Finish");
                if !focus.settings_open
                    && (focus.step_changed || ui.memory(|m| m.focused().is_none()))
                {
                    finish.request_focus();
                }
                if finish.clicked() {
                    state.kiosk.flow.reset();
                    ui.ctx().request_repaint();
                }
                ui.label(
                    RichText::new(format!(
                        "This screen clears itself after {} seconds.",
                        crate::app::kiosk::RESULT_HOLD.as_secs()
                    ))
                    .small(),
                );
            });
        });
}

fn staff_ui(ui: &mut Ui, kiosk: &mut KioskState, commands: &mut Vec<Command>) {
    ui.add_space(40.0);
    ui.vertical_centered(|ui| {
        ui.set_max_width(900.0);
        ui.heading("Staff sign-in");
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
            if big_button(ui, true, "Back").clicked() {
                kiosk.staff.close();
            }
            return;
        }
        let staff = &mut kiosk.staff;
        ui.label("A supervisor's name and password leave kiosk mode or open Settings.");
        let name_label = ui.label("Supervisor name");
        ui.add(
            TextEdit::singleline(&mut staff.form.name)
                .id(Id::unique(STAFF_NAME_ID))
                .desired_width(600.0),
        )
        .labelled_by(name_label.id);
        let password_label = ui.label("Password");
        ui.add(
            TextEdit::singleline(staff.form.password.text_mut())
                .id(Id::unique(STAFF_PASSWORD_ID))
                .password(true)
                .desired_width(600.0),
        )
        .labelled_by(password_label.id);
        problem_ui(ui, staff.form.error.as_deref());
        if staff.form.pending {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Checking…");
            });
        }
        let enabled = !staff.form.pending;
        if big_button(ui, enabled, "Leave kiosk mode").clicked() {
            commands.extend(staff.request(SupervisorPurpose::LeaveKiosk));
        }
        if big_button(ui, enabled, "Open Settings").clicked() {
            commands.extend(staff.request(SupervisorPurpose::OpenSettings));
        }
        if big_button(ui, true, "Back").clicked() {
            staff.close();
        }
    });
}

/// The password field's undo history holds what was typed: drop it with the dialog.
fn forget_staff_fields(ctx: &egui::Context) {
    ctx.data_mut(|data| {
        for salt in [STAFF_NAME_ID, STAFF_PASSWORD_ID] {
            data.remove::<egui::text_edit::TextEditState>(Id::unique(salt));
        }
    });
}
