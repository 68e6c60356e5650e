//! The Settings view: the configuration file as a form, with Save, Test
//! connection and a field that stores a secret in the OS keyring.
//!
//! Only drawing lives here; the checks and the state are in
//! [`crate::app::settings_form`], the file, the dialogs, the check and the keyring
//! in the worker.

use egui::{RichText, TextEdit, Ui};

use crate::app::settings_form::{
    AUTH_METHODS, FieldError, MODES, SettingsState, Status, keys, method_label, mode_label,
};
use crate::cm::auth::AuthMethod;
use crate::cm::check::{CheckReport, StepOutcome};
use crate::worker::Command;
use crate::worker::protocol::FileTarget;

/// How wide the text fields are.
const FIELD_WIDTH: f32 = 380.0;

/// Draws the Settings window while `open`; returns the command a click asked for.
pub(super) fn settings_window_ui(
    ctx: &egui::Context,
    open: &mut bool,
    state: &mut SettingsState,
) -> Option<Command> {
    let mut command = None;
    egui::Window::new("Settings")
        .open(open)
        .default_size([760.0, 680.0])
        .vscroll(true)
        .show(ctx, |ui| {
            command = settings_ui(ui, state);
        });
    if !*open {
        // A secret typed but not stored does not outlive the view.
        state.secret.clear();
    }
    command
}

fn settings_ui(ui: &mut Ui, state: &mut SettingsState) -> Option<Command> {
    let mut command = None;
    if state.demo_server.is_some() {
        ui.add(
            egui::Label::new(
                RichText::new(
                    "Demo mode: this window uses the embedded demo backend until a server is \
                     configured. Save still writes the file; restart the station to connect to \
                     the server it names. Test connection without a server checks the demo backend.",
                )
                .color(ui.visuals().warn_fg_color),
            )
            .wrap(),
        );
    }
    match &state.config_path {
        Some(path) => ui.add(
            egui::Label::new(format!("Configuration file: {}", path.display()))
                .selectable(true)
                .wrap(),
        ),
        None => ui.label("There is no configuration file: start with --config PATH to save."),
    };
    ui.add_space(4.0);

    let SettingsState {
        form,
        errors,
        secret,
        secret_status,
        storing_secret,
        ..
    } = state;

    section(ui, "Server");
    egui::Grid::new("settings-server")
        .num_columns(2)
        .show(ui, |ui| {
            text_field(
                ui,
                errors,
                "Server address",
                keys::SERVER,
                &mut form.server,
                "https://cm.contoso.com",
            );
            text_field(
                ui,
                errors,
                "Connect timeout (seconds)",
                keys::CONNECT_TIMEOUT,
                &mut form.connect_secs,
                "10",
            );
            text_field(
                ui,
                errors,
                "Request timeout (seconds)",
                keys::REQUEST_TIMEOUT,
                &mut form.request_secs,
                "30",
            );
            text_field(
                ui,
                errors,
                "Refresh interval (seconds)",
                keys::REFRESH_INTERVAL,
                &mut form.refresh_interval_secs,
                "30",
            );
        });

    section(ui, "Trust & TLS");
    egui::Grid::new("settings-tls")
        .num_columns(2)
        .show(ui, |ui| {
            let label = ui.label("CA files (one per line)");
            ui.vertical(|ui| {
                ui.add(
                    TextEdit::multiline(&mut form.ca_files)
                        .desired_rows(2)
                        .desired_width(FIELD_WIDTH)
                        .hint_text("PEM files trusted besides the system's"),
                )
                .labelled_by(label.id);
                if ui.button("Choose CA files…").clicked() {
                    command = Some(Command::PickFiles(FileTarget::CaFiles));
                }
                field_errors(ui, errors, keys::CA_FILES);
            });
            ui.end_row();
            ui.label("");
            ui.vertical(|ui| {
                ui.checkbox(
                    &mut form.allow_insecure_http,
                    "Allow plain http:// to other hosts (test labs only)",
                );
                field_errors(ui, errors, keys::ALLOW_INSECURE_HTTP);
            });
            ui.end_row();
            if let Some(target) = file_field(
                ui,
                errors,
                "Client certificate file",
                keys::CLIENT_CERTIFICATE,
                &mut form.client_certificate,
                "Choose client certificate…",
                FileTarget::ClientCertificate,
            ) {
                command = Some(Command::PickFiles(target));
            }
            if let Some(target) = file_field(
                ui,
                errors,
                "Client key file",
                keys::CLIENT_KEY,
                &mut form.client_key,
                "Choose client key…",
                FileTarget::ClientKey,
            ) {
                command = Some(Command::PickFiles(target));
            }
        });

    section(ui, "Authentication");
    let mut store_clicked = false;
    let mut secret_field_id = None;
    egui::Grid::new("settings-auth")
        .num_columns(2)
        .show(ui, |ui| {
            let label = ui.label("Authentication method");
            ui.vertical(|ui| {
                egui::ComboBox::from_id_salt("settings-auth-method")
                    .selected_text(method_label(form.auth_method))
                    .width(FIELD_WIDTH)
                    .show_ui(ui, |ui| {
                        for method in AUTH_METHODS {
                            ui.selectable_value(
                                &mut form.auth_method,
                                method,
                                method_label(method),
                            );
                        }
                    })
                    .response
                    .labelled_by(label.id);
                field_errors(ui, errors, keys::AUTH_METHOD);
            });
            ui.end_row();
            match form.auth_method {
                AuthMethod::Negotiate => {
                    text_field(
                        ui,
                        errors,
                        "Service principal",
                        keys::SERVICE_PRINCIPAL,
                        &mut form.service_principal,
                        "HTTP/<server host> when blank",
                    );
                    text_field(
                        ui,
                        errors,
                        "Sign-in account",
                        keys::USER,
                        &mut form.user,
                        "blank: the session's Kerberos ticket",
                    );
                }
                AuthMethod::Bearer => {
                    text_field(
                        ui,
                        errors,
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
                ui.vertical(|ui| {
                    ui.horizontal(|ui| {
                        let response = ui
                            .add(
                                TextEdit::singleline(secret.text_mut())
                                    .password(true)
                                    .desired_width(FIELD_WIDTH - 130.0)
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
                                egui::Button::new("Store secret in keyring"),
                            )
                            .clicked();
                    });
                    if *storing_secret {
                        ui.spinner();
                    }
                    if let Some(status) = secret_status {
                        status_label(ui, status);
                    }
                });
                ui.end_row();
            }
        });
    if store_clicked {
        command = state.store_secret();
        if let Some(id) = secret_field_id {
            forget_typing(ui.ctx(), id);
        }
    }
    let SettingsState { form, errors, .. } = state;

    section(ui, "Station");
    egui::Grid::new("settings-station")
        .num_columns(2)
        .show(ui, |ui| {
            text_field(
                ui,
                errors,
                "Station name",
                keys::STATION_NAME,
                &mut form.station_name,
                "blank: the host name",
            );
            let label = ui.label("Mode");
            ui.vertical(|ui| {
                egui::ComboBox::from_id_salt("settings-mode")
                    .selected_text(mode_label(form.mode))
                    .width(FIELD_WIDTH)
                    .show_ui(ui, |ui| {
                        for mode in MODES {
                            ui.selectable_value(&mut form.mode, mode, mode_label(mode));
                        }
                    })
                    .response
                    .labelled_by(label.id);
                field_errors(ui, errors, keys::MODE);
            });
            ui.end_row();
            super::supervisor_dialog::supervisors_row(ui, &form.supervisors, FIELD_WIDTH);
            text_field(
                ui,
                errors,
                "Kiosk idle reset (seconds)",
                keys::KIOSK_IDLE,
                &mut form.kiosk_idle_secs,
                "60",
            );
            ui.label("Display");
            ui.checkbox(&mut form.larger_text, "Larger text (125 %)")
                .on_hover_text("Draw text and controls larger; also in the window's header");
            ui.end_row();
        });

    section(ui, "Readers");
    egui::Grid::new("settings-readers")
        .num_columns(2)
        .show(ui, |ui| {
            let label = ui.label("Ignore readers (one pattern per line)");
            ui.vertical(|ui| {
                ui.add(
                    TextEdit::multiline(&mut form.ignore_readers)
                        .desired_rows(2)
                        .desired_width(FIELD_WIDTH)
                        .hint_text("* and ? wildcards, any case, e.g. *Windows Hello*"),
                )
                .labelled_by(label.id);
                field_errors(ui, errors, keys::IGNORE_READERS);
            });
            ui.end_row();
        });

    ui.separator();
    if let Some(status) = &state.status {
        status_label(ui, status);
    }
    ui.horizontal(|ui| {
        let save = ui
            .add_enabled(!state.saving, egui::Button::new("Save"))
            .on_hover_text("Check the settings, then write the configuration file");
        if save.clicked() {
            command = state.save();
        }
        let test = ui
            .add_enabled(!state.checking, egui::Button::new("Test connection"))
            .on_hover_text("Check DNS, TCP, TLS and the CM API with the settings in this form");
        if test.clicked() {
            command = state.test_connection();
        }
        if ui
            .add_enabled(state.edited(), egui::Button::new("Revert to the file"))
            .clicked()
        {
            state.revert();
        }
        if state.saving || state.checking {
            ui.spinner();
        }
    });
    if let Some(report) = &state.check {
        ui.separator();
        check_ui(ui, report);
    }
    command
}

fn section(ui: &mut Ui, title: &str) {
    ui.add_space(6.0);
    ui.label(RichText::new(title).strong().size(16.0));
}

/// A labelled one-line field with its mistakes under it, as one grid row.
fn text_field(
    ui: &mut Ui,
    errors: &[FieldError],
    label: &str,
    key: &str,
    text: &mut String,
    hint: &str,
) {
    let label = ui.label(label);
    ui.vertical(|ui| {
        ui.add(
            TextEdit::singleline(text)
                .desired_width(FIELD_WIDTH)
                .hint_text(hint),
        )
        .labelled_by(label.id);
        field_errors(ui, errors, key);
    });
    ui.end_row();
}

/// A labelled path field with a "Choose…" button; returns the dialog to open.
fn file_field(
    ui: &mut Ui,
    errors: &[FieldError],
    label: &str,
    key: &str,
    text: &mut String,
    choose: &str,
    target: FileTarget,
) -> Option<FileTarget> {
    let label = ui.label(label);
    let mut chosen = None;
    ui.vertical(|ui| {
        ui.horizontal(|ui| {
            ui.add(
                TextEdit::singleline(text)
                    .desired_width(FIELD_WIDTH - 180.0)
                    .hint_text("PEM file"),
            )
            .labelled_by(label.id);
            if ui.button(choose).clicked() {
                chosen = Some(target);
            }
        });
        field_errors(ui, errors, key);
    });
    ui.end_row();
    chosen
}

fn field_errors(ui: &mut Ui, errors: &[FieldError], key: &str) {
    for error in errors.iter().filter(|e| e.field == key) {
        ui.add(
            egui::Label::new(RichText::new(error.to_string()).color(ui.visuals().error_fg_color))
                .selectable(true)
                .wrap(),
        );
    }
}

fn status_label(ui: &mut Ui, status: &Status) {
    let color = if status.problem {
        ui.visuals().error_fg_color
    } else {
        ui.visuals().text_color()
    };
    ui.add(
        egui::Label::new(RichText::new(&status.text).color(color))
            .selectable(true)
            .wrap(),
    );
}

/// Drops what the password field's undo history remembers of the secret.
fn forget_typing(ctx: &egui::Context, id: egui::Id) {
    if let Some(mut text_state) = egui::text_edit::TextEditState::load(ctx, id) {
        text_state.clear_undoer();
        text_state.store(ctx, id);
    }
}

fn check_ui(ui: &mut Ui, report: &CheckReport) {
    ui.horizontal(|ui| {
        ui.strong(format!("Connection check of {}", report.server));
        if ui.button("Copy report").clicked() {
            ui.ctx().copy_text(report.to_text());
        }
    });
    for step in &report.steps {
        let (mark, color) = match step.outcome {
            StepOutcome::Passed => ("PASS", egui::Color32::from_rgb(0x2e, 0x9e, 0x4f)),
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
