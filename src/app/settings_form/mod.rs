//! The Settings view's logic, kept apart from drawing so it is testable
//! without a window: the configuration as the operator edits it (text and
//! checkboxes), its checks with the key each mistake is about, and the view's
//! state, which turns button presses into worker commands and worker reports
//! into what the view shows.
//!
//! Secrets typed into the view never reach the form, the configuration file,
//! the logs or a report: they go straight from the password field to the
//! keyring (through the worker) and the field is wiped.

use std::path::PathBuf;

use crate::cm::auth::AuthMethod;
use crate::cm::check::CheckReport;
use crate::config::{
    AuthSettings, CardSettings, Mode, Seconds, ServerAddress, StationConfig, StationName,
    SupervisorEntry, Timeouts, TlsSettings,
};
use crate::platform::secrets::{SecretInput, SecretName};
use crate::worker::Command;
use crate::worker::protocol::{FileTarget, SettingsReport};

mod fields;

pub use fields::*;

/// A human name for a method, for the view's choice list.
pub fn method_label(method: AuthMethod) -> &'static str {
    match method {
        AuthMethod::Negotiate => "Negotiate (Kerberos / Windows sign-in)",
        AuthMethod::Bearer => "Bearer token (ADFS)",
        AuthMethod::ClientCertificate => "Client certificate only",
        AuthMethod::None => "None (emulator, tests)",
    }
}

/// A human name for a mode, for the view's choice list.
/// How the view names a mode.
pub fn mode_label(mode: Mode) -> &'static str {
    match mode {
        Mode::Desk => "Desk (an enrollment agent)",
        Mode::Supervised => "Supervised (a witness confirms each bind)",
        Mode::Kiosk => "Kiosk (unattended)",
    }
}

/// A line the view shows above its buttons: what happened last.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    /// The text.
    pub text: String,
    /// Whether it is a problem (shown in the error colour).
    pub problem: bool,
}

impl Status {
    fn ok(text: impl Into<String>) -> Option<Status> {
        Some(Status {
            text: text.into(),
            problem: false,
        })
    }

    fn problem(text: impl Into<String>) -> Option<Status> {
        Some(Status {
            text: text.into(),
            problem: true,
        })
    }
}

/// Everything the Settings view shows and remembers between frames.
#[derive(Debug, Default)]
pub struct SettingsState {
    /// The form being edited.
    pub form: SettingsForm,
    /// The mistakes the last Save or Test connection found, by key.
    pub errors: Vec<FieldError>,
    /// The outcome of the last action, in words.
    pub status: Option<Status>,
    /// The result of the last Test connection.
    pub check: Option<CheckReport>,
    /// A check is running.
    pub checking: bool,
    /// A save is running.
    pub saving: bool,
    /// A secret is being stored.
    pub storing_secret: bool,
    /// The secret being typed.
    pub secret: SecretInput,
    /// What the keyring answered last.
    pub secret_status: Option<Status>,
    /// The configuration file Save writes; `None` when there is no place for one.
    pub config_path: Option<PathBuf>,
    /// The configuration as the file holds it (loaded, or last saved).
    pub saved: StationConfig,
    /// The embedded demo backend's address, in demo mode.
    pub demo_server: Option<String>,
    /// What is being saved, until the worker answers.
    pending_save: Option<StationConfig>,
}

impl SettingsState {
    /// The view of `config`, which is saved to `config_path`.
    pub fn new(
        config: StationConfig,
        config_path: Option<PathBuf>,
        demo_server: Option<String>,
    ) -> SettingsState {
        SettingsState {
            form: SettingsForm::from_config(&config),
            saved: config,
            config_path,
            demo_server,
            ..SettingsState::default()
        }
    }

    /// The mistakes found for `field`.
    pub fn errors_for(&self, field: &str) -> impl Iterator<Item = &FieldError> {
        self.errors.iter().filter(move |e| e.field == field)
    }

    /// Whether the form differs from the file.
    pub fn edited(&self) -> bool {
        self.form != SettingsForm::from_config(&self.saved)
    }

    /// Puts the form back to what the file holds.
    pub fn revert(&mut self) {
        self.form = SettingsForm::from_config(&self.saved);
        self.errors.clear();
        self.status = None;
    }

    fn validated(&mut self, action: &str) -> Option<StationConfig> {
        match self.form.validate() {
            Ok(config) => {
                self.errors.clear();
                Some(config)
            }
            Err(errors) => {
                self.status = Status::problem(match errors.len() {
                    1 => format!(
                        "One setting needs attention ({}); {action}.",
                        errors[0].field
                    ),
                    n => format!("{n} settings need attention; {action}."),
                });
                self.errors = errors;
                None
            }
        }
    }

    /// Save pressed: the command that writes the file, or nothing when the
    /// form has mistakes (they are shown under their fields) or there is no file.
    pub fn save(&mut self) -> Option<Command> {
        if self.saving {
            return None;
        }
        let config = self.validated("nothing was saved")?;
        let Some(path) = self.config_path.clone() else {
            self.status = Status::problem(
                "There is no place for the configuration file (no home directory): start the \
                 station with --config PATH to choose one.",
            );
            return None;
        };
        self.saving = true;
        self.status = Status::ok(format!("Saving to {}…", path.display()));
        self.pending_save = Some(config.clone());
        Some(Command::SaveSettings {
            config: Box::new(config),
            path,
        })
    }

    /// Test connection pressed: the command that runs the check on the form's
    /// settings (on the demo backend when no server is given in demo mode).
    pub fn test_connection(&mut self) -> Option<Command> {
        if self.checking {
            return None;
        }
        let config = self.validated("the connection was not tested")?;
        let client = match (&config.server, &self.demo_server) {
            (Some(server), _) => config.client_config(server.as_str()),
            // The demo backend asks for no credentials (as the window's own client).
            (None, Some(demo)) => config.demo_client_config(demo),
            (None, None) => {
                self.errors = vec![FieldError {
                    field: keys::SERVER,
                    message: "give the CM server's address (e.g. https://cm.contoso.com) to test \
                              the connection"
                        .to_owned(),
                }];
                self.status = Status::problem("No server to test.");
                return None;
            }
        };
        self.checking = true;
        self.check = None;
        self.status = Status::ok(format!("Testing the connection to {}…", client.server));
        Some(Command::TestConnection(Box::new(client)))
    }

    /// Store pressed: the command that puts the typed secret in the keyring.
    /// The field is emptied (and its buffer overwritten) as the command is made.
    pub fn store_secret(&mut self) -> Option<Command> {
        if self.storing_secret {
            return None;
        }
        let name = match self.form.secret_name() {
            Ok(name) => name,
            Err(why) => {
                self.secret_status = Status::problem(why.to_string());
                return None;
            }
        };
        if self.secret.is_blank() {
            self.secret_status = Status::problem("Type the secret first.");
            return None;
        }
        let secret = self.secret.take();
        self.storing_secret = true;
        self.secret_status = Status::ok(format!("Storing {name} in the keyring…"));
        Some(Command::StoreSecret { name, secret })
    }

    /// Applies what the worker reports.
    pub fn apply(&mut self, report: SettingsReport) {
        match report {
            SettingsReport::FilesPicked { target, paths } => {
                if paths.is_empty() {
                    self.status = Status::ok(
                        "No file chosen (or no file dialog is available on this desktop: type \
                         the path instead).",
                    );
                    return;
                }
                let text = |path: &PathBuf| path.display().to_string();
                match target {
                    FileTarget::CaFiles => {
                        let mut list: Vec<String> =
                            lines(&self.form.ca_files).map(str::to_owned).collect();
                        for path in &paths {
                            let path = text(path);
                            if !list.contains(&path) {
                                list.push(path);
                            }
                        }
                        self.form.ca_files = list.join("\n");
                    }
                    FileTarget::ClientCertificate => {
                        self.form.client_certificate = text(&paths[0]);
                    }
                    FileTarget::ClientKey => self.form.client_key = text(&paths[0]),
                }
            }
            SettingsReport::Saved(result) => {
                self.saving = false;
                let pending = self.pending_save.take();
                self.status = match result {
                    Ok(path) => {
                        if let Some(config) = pending {
                            self.saved = config;
                        }
                        Status::ok(format!(
                            "Saved to {}; restart the station to connect with the new settings.",
                            path.display()
                        ))
                    }
                    Err(why) => Status::problem(format!("Not saved: {why}")),
                };
            }
            SettingsReport::Checked(report) => {
                self.checking = false;
                self.status = if report.passed() {
                    Status::ok("Connection test passed.")
                } else {
                    Status::problem("Connection test failed: fix the first failing step.")
                };
                self.check = Some(report);
            }
            SettingsReport::SecretStored(result) => {
                self.storing_secret = false;
                self.secret_status = match result {
                    Ok(done) => Status::ok(done),
                    Err(why) => Status::problem(why),
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storing_a_secret_empties_the_field_and_hides_it() {
        let mut state = SettingsState::default();
        state.form.auth_method = AuthMethod::Negotiate;
        state.form.user = "alice@CONTOSO.COM".into();
        state.secret.text_mut().push_str("hunter2");
        assert!(!format!("{state:?}").contains("hunter2"));
        let command = state.store_secret().expect("a command");
        assert!(state.secret.is_empty());
        assert!(!format!("{command:?}").contains("hunter2"));
        let Command::StoreSecret { name, secret } = command else {
            panic!("expected StoreSecret, got {command:?}");
        };
        assert_eq!(secret.expose(), "hunter2");
        assert_eq!(
            name,
            SecretName::Password {
                user: "alice@CONTOSO.COM".into()
            }
        );
        assert!(state.store_secret().is_none(), "one store at a time");
        state.apply(SettingsReport::SecretStored(Ok("stored".into())));
        assert!(state.store_secret().is_none(), "nothing typed");
        assert!(state.secret_status.as_ref().is_some_and(|s| s.problem));
    }

    #[test]
    fn save_refuses_a_bad_form_and_remembers_a_good_one() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("station.toml");
        let mut state = SettingsState::new(StationConfig::default(), Some(path.clone()), None);
        state.form.connect_secs = "0".into();
        assert!(state.save().is_none());
        assert_eq!(state.errors_for("timeouts.connect_secs").count(), 1);
        state.form.connect_secs = "7".into();
        assert!(state.edited());
        let Some(Command::SaveSettings { config, path: to }) = state.save() else {
            panic!("expected a save");
        };
        assert!(state.errors.is_empty());
        assert_eq!(to, path);
        assert_eq!(config.timeouts.connect_secs.get(), 7);
        state.apply(SettingsReport::Saved(Ok(path)));
        assert!(!state.edited(), "the saved file is the new baseline");
        assert!(
            state
                .status
                .as_ref()
                .is_some_and(|s| s.text.contains("restart the station"))
        );
    }

    #[test]
    fn a_test_without_a_server_uses_the_demo_backend_or_asks_for_one() {
        let mut state = SettingsState::new(StationConfig::default(), None, None);
        assert!(state.test_connection().is_none());
        assert_eq!(state.errors_for("server").count(), 1);
        let mut state = SettingsState::new(
            StationConfig::default(),
            None,
            Some("http://127.0.0.1:9".into()),
        );
        state.form.auth_method = AuthMethod::Bearer;
        let Some(Command::TestConnection(client)) = state.test_connection() else {
            panic!("expected a test");
        };
        assert_eq!(client.server, "http://127.0.0.1:9");
        assert_eq!(client.auth.method, AuthMethod::None);
        assert!(state.checking);
    }
}
