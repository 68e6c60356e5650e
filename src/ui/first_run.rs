//! The first-run screen: a desk station with no CM server configured opens
//! here, never on the demo backend by itself (security review L4). It says
//! so and offers two ways on:
//!
//! - **Enter the server…** opens Settings (with Test connection). Once a
//!   server is saved, **Connect** starts the station on it.
//! - **Try the demo** starts the embedded demo backend.
//!
//! Both end this window and let [`super::launch`]'s caller open the station's
//! window again from the top (`cli::open_window` loops): the settings are
//! read anew, so the saved server or `--demo` takes effect exactly as at a
//! fresh start, the machine policy and every check included. That is simpler
//! and harder to get wrong than swapping a half-built station into a running
//! window; eframe reuses its event loop, so the process stays the same.
//!
//! The screen has no worker of its own: the few Settings commands it needs
//! (save, test, pick a file, store a secret) run here on the runtime.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, mpsc};

use egui::RichText;

use crate::app::settings_form::SettingsState;
use crate::config::{Overrides, StationConfig};
use crate::worker::Command;
use crate::worker::protocol::SettingsReport;

/// What the person chose on the first-run screen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FirstRunChoice {
    /// Start again on the configuration just saved (it names a server).
    Connect,
    /// Start on the embedded demo backend.
    Demo,
}

/// What the first-run screen needs.
pub struct FirstRunSetup {
    /// The configuration file as it is (no server in it).
    pub config: StationConfig,
    /// This run's overrides and the machine policy's pins, as the Settings view shows them.
    pub overrides: Overrides,
    /// The file Save writes.
    pub config_path: Option<PathBuf>,
    /// Where the Settings commands run.
    pub runtime: tokio::runtime::Handle,
}

/// The first-run window.
pub struct FirstRunApp {
    settings: SettingsState,
    show_settings: bool,
    runtime: tokio::runtime::Handle,
    reports_tx: mpsc::Sender<SettingsReport>,
    reports: mpsc::Receiver<SettingsReport>,
    choice: Arc<Mutex<Option<FirstRunChoice>>>,
}

/// The screen's headline, also what tests look for.
pub const NO_SERVER: &str = "No CM server is configured";

impl FirstRunApp {
    /// The screen for `setup`.
    pub fn new(ctx: &egui::Context, setup: FirstRunSetup) -> FirstRunApp {
        super::theme::apply(ctx);
        let (reports_tx, reports) = mpsc::channel();
        FirstRunApp {
            settings: SettingsState::new(setup.config, setup.overrides, setup.config_path, None),
            show_settings: false,
            runtime: setup.runtime,
            reports_tx,
            reports,
            choice: Arc::new(Mutex::new(None)),
        }
    }

    /// What was chosen, once the window closes on a choice.
    pub fn choice(&self) -> Option<FirstRunChoice> {
        self.choice.lock().ok().and_then(|c| *c)
    }

    /// Records the choice in `slot`, which outlives the app (eframe drops it).
    pub(super) fn choice_into(mut self, slot: Arc<Mutex<Option<FirstRunChoice>>>) -> Self {
        self.choice = slot;
        self
    }

    /// The Settings view's state, for tests.
    pub fn settings(&self) -> &SettingsState {
        &self.settings
    }

    fn choose(&mut self, ctx: &egui::Context, choice: FirstRunChoice) {
        if let Ok(mut chosen) = self.choice.lock() {
            *chosen = Some(choice);
        }
        ctx.send_viewport_cmd(egui::ViewportCommand::Close);
    }

    /// Runs one Settings command; the answer comes back as a report.
    fn run(&self, ctx: &egui::Context, command: Command) {
        let tx = self.reports_tx.clone();
        let ctx = ctx.clone();
        let send = move |report| {
            if tx.send(report).is_ok() {
                ctx.request_repaint();
            }
        };
        match command {
            Command::SaveSettings {
                config,
                path,
                pinned,
            } => {
                self.runtime.spawn_blocking(move || {
                    let saved = config
                        .save_without(&path, &pinned)
                        .map(|()| path)
                        .map_err(|e| e.to_string());
                    send(SettingsReport::Saved(saved));
                });
            }
            Command::TestConnection(client) => {
                self.runtime.spawn(async move {
                    send(SettingsReport::Checked(
                        crate::cm::check::run_check(&client).await,
                    ));
                });
            }
            Command::PickFiles(target) => {
                self.runtime.spawn(async move {
                    let dialog = rfd::AsyncFileDialog::new().set_title(target.title());
                    let paths = if target.multiple() {
                        dialog.pick_files().await.unwrap_or_default()
                    } else {
                        dialog.pick_file().await.into_iter().collect()
                    };
                    let paths = paths.iter().map(|h| h.path().to_owned()).collect();
                    send(SettingsReport::FilesPicked { target, paths });
                });
            }
            Command::StoreSecret { name, secret } => {
                self.runtime.spawn_blocking(move || {
                    let stored = crate::platform::secrets::set(&name, &secret);
                    drop(secret);
                    let store = crate::platform::secrets::store_name().unwrap_or("the keyring");
                    let stored = stored
                        .map(|()| format!("Stored {name} in the keyring ({store})."))
                        .map_err(|e| e.to_string());
                    send(SettingsReport::SecretStored(stored));
                });
            }
            other => tracing::debug!(?other, "not a command of the first-run screen"),
        }
    }

    /// The server the file names now, once Save wrote one.
    fn saved_server(&self) -> Option<String> {
        self.settings
            .saved
            .server
            .as_ref()
            .map(|s| s.as_str().to_owned())
    }

    fn screen(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        ui.vertical_centered(|ui| {
            ui.add_space((ui.available_height() * 0.2).min(160.0));
            ui.heading(RichText::new("Enroll Station").size(28.0));
            ui.add_space(16.0);
            ui.label(RichText::new(NO_SERVER).strong().size(20.0));
            ui.add_space(8.0);
            ui.label(
                "The station binds smart card requests held by a MIM Certificate Management \
                 server. Give its address to start; Test connection in Settings checks it step \
                 by step.",
            );
            ui.add_space(16.0);
            if let Some(server) = self.saved_server() {
                ui.label(format!("Saved: the configuration names {server}."));
                let connect = super::theme::primary_button(
                    ui.visuals(),
                    format!("Connect to {server}"),
                    true,
                );
                if ui.add(connect).clicked() {
                    self.choose(&ctx, FirstRunChoice::Connect);
                }
                ui.add_space(8.0);
            }
            let enter = super::theme::primary_button(ui.visuals(), "Enter the server…", true);
            if ui
                .add(enter)
                .on_hover_text("Open Settings: the server's address, its trust and sign-in")
                .clicked()
            {
                self.show_settings = true;
            }
            ui.add_space(8.0);
            if ui
                .button("Try the demo")
                .on_hover_text(
                    "An embedded CM emulator and a demo reader with virtual cards: nothing \
                     reaches a real server.",
                )
                .clicked()
            {
                self.choose(&ctx, FirstRunChoice::Demo);
            }
            ui.add_space(16.0);
            let file = match &self.settings.config_path {
                Some(path) => format!("Configuration file: {}", path.display()),
                None => "There is no configuration file: start with --config PATH to save one."
                    .to_owned(),
            };
            ui.label(RichText::new(file).weak());
        });
    }
}

impl eframe::App for FirstRunApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        while let Ok(report) = self.reports.try_recv() {
            self.settings.apply(report);
        }
        egui::CentralPanel::default().show(ui, |ui| self.screen(ui));
        if self.show_settings {
            let ctx = ui.ctx().clone();
            let mut open = true;
            if let Some(command) =
                super::settings_view::settings_window_ui(&ctx, &mut open, &mut self.settings)
            {
                self.run(&ctx, command);
            }
            self.show_settings = open;
        }
    }
}
