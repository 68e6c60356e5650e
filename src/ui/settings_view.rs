//! The Settings view: the running configuration as one aligned form, with
//! Save, Test connection and Revert pinned under it, and a field that stores
//! a secret in the OS keyring.
//!
//! Only drawing lives here; the checks and the state are in
//! [`crate::app::settings_form`], the file, the dialogs, the check and the keyring
//! in the worker.

use egui::{Key, Response, RichText, TextEdit, Ui};

use super::theme;
use crate::app::settings_form::{
    AUTH_METHODS, FieldError, MODES, SettingsState, Status, keys, method_label, mode_label,
};
use crate::cm::auth::AuthMethod;
use crate::cm::check::{CheckReport, StepOutcome};
use crate::config::{OverrideSource, Overrides};
use crate::worker::Command;
use crate::worker::protocol::FileTarget;

/// The width of every field: text fields, choices, and a path with its
/// "Choose…" button together.
const FIELD_WIDTH: f32 = 420.0;

/// The width of a "Choose…" or "Store" button beside a field.
const BESIDE_WIDTH: f32 = 190.0;

/// The test report's height before it scrolls: the footer, and Save in it,
/// stays in the window whatever the report says.
const REPORT_HEIGHT: f32 = 170.0;

/// The form keeps at least this much of a small window.
const MIN_FORM_HEIGHT: f32 = 80.0;

/// Draws the Settings window while `open`; returns the command a click asked for.
pub(super) fn settings_window_ui(
    ctx: &egui::Context,
    open: &mut bool,
    state: &mut SettingsState,
) -> Option<Command> {
    // Asked before anything of the window is drawn: a combo open in the
    // form closes itself on this Esc while it is drawn, and only it.
    let escape = escape_for_windows(ctx);
    state.forget_stale_results();
    let mut command = None;
    let screen = ctx.content_rect();
    egui::Window::new("Settings")
        .open(open)
        .default_size([
            FIELD_WIDTH + 360.0,
            (screen.height() - 96.0).clamp(320.0, 720.0),
        ])
        .min_size([480.0, 300.0])
        .vscroll(false)
        .resizable(true)
        .show(ctx, |ui| {
            if let Some(c) = window_body(ui, state) {
                command = Some(c);
            }
        });
    if escape {
        *open = false;
    }
    if !*open {
        // A secret typed but not stored does not outlive the view.
        state.secret.clear();
    }
    command
}

/// The form, scrolling, above the footer, which stays at the window's
/// bottom: Save is never below the fold, whatever the report or an error
/// adds. The footer is drawn after the form (so Tab reaches the fields
/// first), in the height it took last time; when that changes, egui lays
/// the frame out again before showing it. Neither part may make the window
/// taller: egui keeps a window at least as tall as its last content, even
/// content of a pass it threw away.
fn window_body(ui: &mut Ui, state: &mut SettingsState) -> Option<Command> {
    let mut command = None;
    let height_id = ui.scope_id().with("settings-footer-height");
    let footer_height = ui
        .ctx()
        .data(|d| d.get_temp::<f32>(height_id))
        .unwrap_or(64.0);
    let full = ui.available_rect_before_wrap();
    let footer_top = (full.max.y - footer_height).max(full.min.y + MIN_FORM_HEIGHT);
    let form_rect = egui::Rect::from_min_max(
        full.min,
        egui::pos2(full.max.x, footer_top - ui.spacing().item_spacing.y),
    );
    // Open downwards: what the footer holds decides its height (a report
    // that scrolls would otherwise take the height of the last frame's footer).
    let footer_rect = egui::Rect::from_min_max(
        egui::pos2(full.min.x, footer_top),
        egui::pos2(
            full.max.x,
            footer_top + full.height().max(REPORT_HEIGHT * 4.0),
        ),
    );
    let top_down = egui::Layout::top_down(egui::Align::Min);
    let mut form = ui.new_child(egui::UiBuilder::new().max_rect(form_rect).layout(top_down));
    egui::ScrollArea::vertical()
        .id_salt("settings-form-scroll")
        .auto_shrink(false)
        .max_height(form_rect.height())
        .show(&mut form, |ui| {
            if let Some(c) = form_ui(ui, state) {
                command = Some(c);
            }
        });
    let mut footer = ui.new_child(
        egui::UiBuilder::new()
            .max_rect(footer_rect)
            .layout(top_down),
    );
    footer.separator();
    if let Some(c) = footer_ui(&mut footer, state) {
        command = Some(c);
    }
    let measured = footer.min_rect().height();
    if (measured - footer_height).abs() > 0.5 {
        ui.ctx().data_mut(|d| d.insert_temp(height_id, measured));
        ui.ctx()
            .request_discard("the Settings footer changed height");
    }
    ui.advance_cursor_after_rect(full);
    command
}

/// Whether this frame's Esc is for the windows (Settings, the audit view):
/// pressed, with no popup open and no modal dialog on top when the frame
/// began. egui closes an open popup (a combo's list) on Esc while drawing
/// it, later in the frame; `Context::any_popup_open` only knows the popups
/// drawn so far in this frame, which at its start is none, so it cannot
/// tell. egui's memory still holds the popup open since the last frame: the
/// first call in a frame (the desk's keys, before anything is drawn) asks
/// it, and later calls in that frame get the same answer.
pub(super) fn escape_for_windows(ctx: &egui::Context) -> bool {
    if !ctx.input(|i| i.key_pressed(Key::Escape)) {
        return false;
    }
    let id = egui::Id::unique("enroll-station-escape-for-windows");
    let pass = ctx.cumulative_pass_nr();
    if let Some((at, answer)) = ctx.data(|d| d.get_temp::<(u64, bool)>(id))
        && at == pass
    {
        return answer;
    }
    let answer = !egui::Popup::is_any_open(ctx) && ctx.memory(|m| m.top_modal_layer()).is_none();
    ctx.data_mut(|d| d.insert_temp(id, (pass, answer)));
    answer
}

/// What each row needs to know besides its own value.
struct Rows<'a> {
    errors: &'a [FieldError],
    overrides: &'a Overrides,
}

impl Rows<'_> {
    fn has_error(&self, key: &str) -> bool {
        self.errors.iter().any(|e| e.field == key)
    }

    /// One row of the form: the label, then `field` (given whether it may be
    /// edited) with an error outline; under it, in the field's column, why it
    /// is not the file's value and what is wrong with it. Notes get rows of
    /// their own so a label stays level with its field.
    fn row(
        &self,
        ui: &mut Ui,
        label: &str,
        key: &'static str,
        field: impl FnOnce(&mut Ui, bool) -> Response,
    ) -> Response {
        self.row_named(ui, label, key, true, field)
    }

    fn row_named(
        &self,
        ui: &mut Ui,
        label: &str,
        key: &'static str,
        named_by_label: bool,
        field: impl FnOnce(&mut Ui, bool) -> Response,
    ) -> Response {
        let label = ui.label(label);
        let overridden = self.overrides.get(key);
        let response = field(ui, overridden.is_none());
        // A checkbox is named by its own text; the other fields by the label.
        let response = if named_by_label {
            response.labelled_by(label.id)
        } else {
            response
        };
        // Locked by the machine policy: the tooltip names the policy.
        let response = match overridden.and_then(|entry| entry.policy()) {
            Some(source) => {
                response.on_hover_text(format!("Set by policy: the machine policy ({source})"))
            }
            None => response,
        };
        if self.has_error(key) {
            outline(ui, &response);
        }
        ui.end_row();
        if let Some(entry) = overridden {
            let colour = match entry.source {
                OverrideSource::Demo => ui.visuals().warn_fg_color,
                OverrideSource::Option(_)
                | OverrideSource::Environment(_)
                | OverrideSource::Policy(_) => ui.visuals().weak_text_color(),
            };
            note_row(ui, &entry.note(), colour);
        }
        let colour = ui.visuals().error_fg_color;
        for error in self.errors.iter().filter(|e| e.field == key) {
            note_row(ui, &error.message, colour);
        }
        response
    }

    /// A one-line text field; overridden, it shows the running value read-only.
    fn text(&self, ui: &mut Ui, label: &str, key: &'static str, text: &mut String, hint: &str) {
        self.row(ui, label, key, |ui, editable| {
            let field = TextEdit::singleline(text)
                .desired_width(FIELD_WIDTH)
                .hint_text(hint);
            ui.add(editable_or_shown(ui, field, editable))
        });
    }

    /// A several-line text field (one item per line).
    fn lines(&self, ui: &mut Ui, label: &str, key: &'static str, text: &mut String, hint: &str) {
        self.row(ui, label, key, |ui, editable| {
            let field = TextEdit::multiline(text)
                .desired_rows(2)
                .desired_width(FIELD_WIDTH)
                .hint_text(hint);
            ui.add(editable_or_shown(ui, field, editable))
        });
    }

    /// A path with its "Choose…" button; returns the dialog to open.
    fn file(
        &self,
        ui: &mut Ui,
        label: &str,
        key: &'static str,
        text: &mut String,
        choose: &str,
        target: FileTarget,
    ) -> Option<FileTarget> {
        let mut chosen = None;
        self.row(ui, label, key, |ui, editable| {
            ui.horizontal(|ui| {
                let field = TextEdit::singleline(text)
                    .desired_width(FIELD_WIDTH - BESIDE_WIDTH - ui.spacing().item_spacing.x)
                    .hint_text("PEM file");
                let field = ui.add(editable_or_shown(ui, field, editable));
                let button = egui::Button::new(choose).min_size(egui::vec2(BESIDE_WIDTH, 0.0));
                if ui.add_enabled(editable, button).clicked() {
                    chosen = Some(target);
                }
                field
            })
            .inner
        });
        chosen
    }

    /// A choice among `options`; overridden, the running choice read-only.
    fn choice<T: Copy + PartialEq>(
        &self,
        ui: &mut Ui,
        label: &str,
        key: &'static str,
        value: &mut T,
        options: &[T],
        name: fn(T) -> &'static str,
    ) {
        self.row(ui, label, key, |ui, editable| {
            if !editable {
                return read_only(ui, name(*value));
            }
            egui::ComboBox::from_id_salt(("settings", key))
                .selected_text(name(*value))
                .width(FIELD_WIDTH)
                .show_ui(ui, |ui| {
                    for option in options {
                        ui.selectable_value(value, *option, name(*option));
                    }
                })
                .response
        });
    }

    /// A checkbox in the field column.
    fn check(&self, ui: &mut Ui, label: &str, key: &'static str, on: &mut bool, text: &str) {
        self.row_named(ui, label, key, false, |ui, editable| {
            ui.add_enabled(editable, egui::Checkbox::new(on, text))
        });
    }
}

/// `field` as it is, or showing a running value that cannot be edited: in
/// full contrast (a disabled widget is greyed below what reads
/// comfortably), without the input well's fill so it does not invite typing.
fn editable_or_shown<'t>(ui: &Ui, field: TextEdit<'t>, editable: bool) -> TextEdit<'t> {
    if editable {
        field
    } else {
        field
            .interactive(false)
            .background_color(ui.visuals().window_fill)
    }
}

/// A value shown as a field that cannot be edited (see [`editable_or_shown`]).
fn read_only(ui: &mut Ui, text: &str) -> Response {
    let mut text = text.to_owned();
    let field = TextEdit::singleline(&mut text).desired_width(FIELD_WIDTH);
    ui.add(editable_or_shown(ui, field, false))
}

/// Draws a field's outline in the error colour; the words under it say what is wrong.
fn outline(ui: &Ui, response: &Response) {
    ui.painter().rect_stroke(
        response.rect.expand(1.0),
        ui.visuals().widgets.inactive.corner_radius,
        egui::Stroke::new(2.0, ui.visuals().error_fg_color),
        egui::StrokeKind::Outside,
    );
}

/// A row with no label: a note under the field above, wrapped to its width.
fn note_row(ui: &mut Ui, text: &str, colour: egui::Color32) {
    ui.label("");
    wrapped_label(ui, RichText::new(text).color(colour), FIELD_WIDTH);
    ui.end_row();
}

/// Text wrapped at `width`, laid out before it is placed: a grid cell
/// offers a wrapping label the whole row's width on the first frame (and
/// keeps the column that wide), and places a child ui from the row's
/// middle, so the text would run into the next row.
pub(super) fn wrapped_label(ui: &mut Ui, text: RichText, width: f32) -> Response {
    let galley = egui::WidgetText::from(text).into_galley(
        ui,
        Some(egui::TextWrapMode::Wrap),
        width,
        egui::TextStyle::Body,
    );
    ui.add(egui::Label::new(galley).selectable(true))
}

/// A section's title, in the label column.
fn section(ui: &mut Ui, title: &str) {
    ui.vertical(|ui| {
        ui.add_space(8.0);
        ui.label(RichText::new(title).strong().size(16.0));
    });
    ui.end_row();
}

/// What runs in place of the file's server, above the form.
fn demo_banner(ui: &mut Ui, state: &SettingsState) {
    let Some(demo) = &state.demo_server else {
        return;
    };
    let text = if state.overrides.get(keys::SERVER).is_some() {
        format!(
            "Demo mode (--demo): this run uses the embedded demo backend at {demo}, whatever \
             server the file names. Save still writes the file; start the station without \
             --demo to connect to the server it names."
        )
    } else {
        format!(
            "Demo mode (--demo): this run uses the embedded demo backend at {demo}; no \
             server is configured. Save still writes the file; start the station without --demo \
             to connect to the server it names. Test connection without a server checks the \
             demo backend."
        )
    };
    ui.add(
        egui::Label::new(RichText::new(text).color(ui.visuals().warn_fg_color))
            .selectable(true)
            .wrap(),
    );
}

/// The form, in one grid: one label column, fields of one width.
fn form_ui(ui: &mut Ui, state: &mut SettingsState) -> Option<Command> {
    let mut command = None;
    demo_banner(ui, state);
    match &state.config_path {
        Some(path) => ui.add(
            egui::Label::new(format!("Configuration file: {}", path.display()))
                .selectable(true)
                .wrap(),
        ),
        None => ui.label("There is no configuration file: start with --config PATH to save."),
    };
    if state
        .overrides
        .iter()
        .any(|entry| matches!(entry.source, OverrideSource::Policy(_)))
    {
        ui.add(
            egui::Label::new(
                RichText::new(
                    "Fields marked \u{201c}Set by policy\u{201d} are pinned by this machine's \
                     policy: they are shown, not edited, and Save never writes them. Only the \
                     administrator of the policy can change them.",
                )
                .weak(),
            )
            .wrap(),
        );
    }
    if state
        .overrides
        .iter()
        .any(|entry| !matches!(entry.source, OverrideSource::Policy(_)))
    {
        ui.add(
            egui::Label::new(
                RichText::new(
                    "Fields marked \u{201c}Overridden\u{201d} show what this run uses, set on \
                     the command line; change them there.",
                )
                .weak(),
            )
            .wrap(),
        );
    }
    ui.add_space(4.0);

    let demo_sign_in = state.demo_sign_in_note();
    let SettingsState {
        form,
        errors,
        overrides,
        secret,
        secret_status,
        storing_secret,
        ..
    } = state;
    let rows = Rows { errors, overrides };
    let mut store_clicked = false;
    let mut secret_field_id = None;
    egui::Grid::new("settings-form")
        .num_columns(2)
        .spacing([16.0, 6.0])
        .show(ui, |ui| {
            section(ui, "Server");
            rows.text(
                ui,
                "Server address",
                keys::SERVER,
                &mut form.server,
                "https://cm.contoso.com",
            );
            rows.text(
                ui,
                "Connect timeout (seconds)",
                keys::CONNECT_TIMEOUT,
                &mut form.connect_secs,
                "10",
            );
            rows.text(
                ui,
                "Request timeout (seconds)",
                keys::REQUEST_TIMEOUT,
                &mut form.request_secs,
                "30",
            );
            rows.text(
                ui,
                "Refresh interval (seconds)",
                keys::REFRESH_INTERVAL,
                &mut form.refresh_interval_secs,
                "30",
            );

            section(ui, "Trust & TLS");
            rows.lines(
                ui,
                "CA files (one per line)",
                keys::CA_FILES,
                &mut form.ca_files,
                "PEM files trusted besides the system's",
            );
            let editable = overrides.get(keys::CA_FILES).is_none();
            ui.label("");
            if ui
                .add_enabled(editable, egui::Button::new("Choose CA files…"))
                .clicked()
            {
                command = Some(Command::PickFiles(FileTarget::CaFiles));
            }
            ui.end_row();
            rows.check(
                ui,
                "Plain http://",
                keys::ALLOW_INSECURE_HTTP,
                &mut form.allow_insecure_http,
                "Allow plain http:// to other hosts (test labs only)",
            );
            for (label, key, text, choose, target) in [
                (
                    "Client certificate file",
                    keys::CLIENT_CERTIFICATE,
                    &mut form.client_certificate,
                    "Choose client certificate…",
                    FileTarget::ClientCertificate,
                ),
                (
                    "Client key file",
                    keys::CLIENT_KEY,
                    &mut form.client_key,
                    "Choose client key…",
                    FileTarget::ClientKey,
                ),
            ] {
                if let Some(target) = rows.file(ui, label, key, text, choose, target) {
                    command = Some(Command::PickFiles(target));
                }
            }

            section(ui, "Authentication");
            rows.choice(
                ui,
                "Authentication method",
                keys::AUTH_METHOD,
                &mut form.auth_method,
                &AUTH_METHODS,
                method_label,
            );
            if let Some(note) = demo_sign_in {
                let colour = ui.visuals().warn_fg_color;
                note_row(ui, note, colour);
            }
            match form.auth_method {
                AuthMethod::Negotiate => {
                    rows.text(
                        ui,
                        "Service principal",
                        keys::SERVICE_PRINCIPAL,
                        &mut form.service_principal,
                        "HTTP/<server host> when blank",
                    );
                    rows.text(
                        ui,
                        "Sign-in account",
                        keys::USER,
                        &mut form.user,
                        "blank: the session's Kerberos ticket",
                    );
                }
                AuthMethod::Bearer => {
                    rows.text(
                        ui,
                        "Token command",
                        keys::TOKEN_COMMAND,
                        &mut form.token_command,
                        "program and arguments, e.g. get-cm-token --fresh",
                    );
                }
                AuthMethod::ClientCertificate | AuthMethod::None => {}
            }
            if let Some(name) = form.secret_label() {
                let label = ui.label(name);
                ui.horizontal(|ui| {
                    let response = ui
                        .add(
                            TextEdit::singleline(secret.text_mut())
                                .password(true)
                                .desired_width(
                                    FIELD_WIDTH - BESIDE_WIDTH - ui.spacing().item_spacing.x,
                                )
                                .hint_text("kept in the OS keyring only"),
                        )
                        .labelled_by(label.id)
                        .on_hover_text(
                            "Stored in the operating system's keyring, never in the \
                             configuration file. The field is emptied once stored.",
                        );
                    secret_field_id = Some(response.id);
                    store_clicked = ui
                        .add_enabled(
                            !*storing_secret && !secret.is_empty(),
                            egui::Button::new("Store secret in keyring")
                                .min_size(egui::vec2(BESIDE_WIDTH, 0.0)),
                        )
                        .clicked();
                    if *storing_secret {
                        ui.spinner();
                    }
                });
                ui.end_row();
                if let Some(status) = secret_status {
                    let colour = status_colour(ui, status);
                    note_row(ui, &status.text, colour);
                }
            }

            section(ui, "Station");
            rows.text(
                ui,
                "Station name",
                keys::STATION_NAME,
                &mut form.station_name,
                "blank: the host name",
            );
            rows.choice(ui, "Mode", keys::MODE, &mut form.mode, &MODES, mode_label);
            super::supervisor_dialog::supervisors_row(ui, &form.supervisors, FIELD_WIDTH);
            if let Some(entry) = overrides.get("supervisors") {
                let colour = ui.visuals().weak_text_color();
                note_row(ui, &entry.note(), colour);
            }
            rows.text(
                ui,
                "Kiosk idle reset (seconds)",
                keys::KIOSK_IDLE,
                &mut form.kiosk_idle_secs,
                "60",
            );
            ui.label("Display");
            ui.checkbox(&mut form.larger_text, "Larger text (125 %)")
                .on_hover_text("Draw text and controls larger; also in the window's header");
            ui.end_row();

            section(ui, "Readers");
            rows.lines(
                ui,
                "Ignore readers (one pattern per line)",
                keys::IGNORE_READERS,
                &mut form.ignore_readers,
                "* and ? wildcards, any case, e.g. *Windows Hello*",
            );
        });
    if store_clicked {
        command = state.store_secret();
        if let Some(id) = secret_field_id {
            forget_typing(ui.ctx(), id);
        }
    }
    command
}

/// The bar under the form: the test report, what happened last, and the
/// buttons, with the "Unsaved changes" cue beside them.
fn footer_ui(ui: &mut Ui, state: &mut SettingsState) -> Option<Command> {
    let mut command = None;
    ui.add_space(4.0);
    if let Some(report) = &state.check {
        report_ui(ui, report);
    }
    if let Some(status) = &state.status {
        let colour = status_colour(ui, status);
        ui.add(
            egui::Label::new(RichText::new(&status.text).color(colour))
                .selectable(true)
                .wrap(),
        );
    }
    let edited = state.edited();
    ui.horizontal(|ui| {
        let save = theme::primary_button(ui.visuals(), "Save", !state.saving);
        let save = ui
            .add_enabled(!state.saving, save)
            .on_hover_text("Check the settings, then write the configuration file");
        if save.clicked() {
            command = state.save();
        }
        let test = ui
            .add_enabled(!state.checking, egui::Button::new("Test connection"))
            .on_hover_text("Check DNS, TCP, TLS and the CM API with the values in this form");
        if test.clicked() {
            command = state.test_connection();
        }
        if ui
            .add_enabled(edited, egui::Button::new("Revert to the file"))
            .clicked()
        {
            state.revert();
        }
        if state.saving || state.checking {
            ui.spinner();
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if edited {
                // Words, not only a colour: the cue must read without it.
                ui.label(RichText::new("Unsaved changes").color(ui.visuals().warn_fg_color))
                    .on_hover_text("The form differs from the configuration file: Save or Revert");
            }
        });
    });
    ui.add_space(4.0);
    command
}

fn status_colour(ui: &Ui, status: &Status) -> egui::Color32 {
    if status.problem {
        ui.visuals().error_fg_color
    } else {
        ui.visuals().text_color()
    }
}

/// Drops what the password field's undo history remembers of the secret.
fn forget_typing(ctx: &egui::Context, id: egui::Id) {
    if let Some(mut text_state) = egui::text_edit::TextEditState::load(ctx, id) {
        text_state.clear_undoer();
        text_state.store(ctx, id);
    }
}

/// The connection check, collapsible, scrolling within [`REPORT_HEIGHT`].
fn report_ui(ui: &mut Ui, report: &CheckReport) {
    let verdict = if report.passed() { "passed" } else { "failed" };
    egui::CollapsingHeader::new(format!("Connection check of {}: {verdict}", report.server))
        .id_salt("settings-check-report")
        .default_open(true)
        .show(ui, |ui| {
            if ui.button("Copy report").clicked() {
                ui.ctx().copy_text(report.to_text());
            }
            egui::ScrollArea::vertical()
                .max_height(REPORT_HEIGHT)
                .auto_shrink([false, true])
                .show(ui, |ui| check_ui(ui, report));
        });
}

fn check_ui(ui: &mut Ui, report: &CheckReport) {
    for step in &report.steps {
        let (mark, color) = match step.outcome {
            StepOutcome::Passed => ("PASS", theme::success(ui.visuals())),
            StepOutcome::Failed => ("FAIL", ui.visuals().error_fg_color),
            StepOutcome::Skipped => ("skip", ui.visuals().weak_text_color()),
        };
        ui.add(
            egui::Label::new(
                RichText::new(format!("{mark}  {} ({} ms)", step.name, step.millis))
                    .strong()
                    .color(color),
            )
            .selectable(true),
        );
        for line in &step.detail {
            ui.horizontal(|ui| {
                ui.add_space(24.0);
                ui.add(egui::Label::new(line.as_str()).selectable(true).wrap());
            });
        }
    }
    let verdict = if report.passed() {
        "Result: the station can work with this server."
    } else {
        "Result: the station cannot work with this server yet; fix the first failing step."
    };
    ui.add(egui::Label::new(RichText::new(verdict).strong()).selectable(true));
}
