//! The Settings view's logic, kept apart from drawing so it is testable
//! without a window: the configuration as the operator edits it (text and
//! checkboxes), its checks with the key each mistake is about, and the view's
//! state, which turns button presses into worker commands and worker reports
//! into what the view shows.
//!
//! The form shows what this run uses: the file with the command line's
//! overrides over it ([`Overrides`]). An overridden field is shown, not
//! edited, and Save writes the file's own value for it back: one run's
//! `--server` never ends up in the file.
//!
//! Secrets typed into the view never reach the form, the configuration file,
//! the logs or a report: they go straight from the password field to the
//! keyring (through the worker) and the field is wiped.

use std::path::PathBuf;

use crate::cm::auth::AuthMethod;
use crate::cm::check::CheckReport;
use crate::config::{
    AuthSettings, CardSettings, Mode, OverrideSource, Overrides, Seconds, ServerAddress,
    StationConfig, StationName, SupervisorEntry, Timeouts, TlsSettings,
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

/// Why Test connection does not run a token command typed into the form.
pub const UNSAVED_TOKEN_COMMAND: &str = "Save first: a token command runs only once it is saved.";

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
    /// The form being edited: the running values, as text.
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
    /// The configuration as the file holds it (loaded, or last saved),
    /// without this run's overrides.
    pub saved: StationConfig,
    /// What this run's command line put over the file.
    pub overrides: Overrides,
    /// The embedded demo backend's address, in demo mode.
    pub demo_server: Option<String>,
    /// What is being saved, and the form it was made from, until the worker answers.
    pending_save: Option<(StationConfig, SettingsForm)>,
    /// The form the connection test runs on, until the worker answers.
    pending_check: Option<SettingsForm>,
    /// The form the status, the errors and the test report describe: once
    /// the form differs from it they describe nothing on screen, and go.
    results_for: Option<SettingsForm>,
}

impl SettingsState {
    /// The view of the `file`'s configuration with this run's `overrides`
    /// over it; Save writes `config_path`.
    pub fn new(
        file: StationConfig,
        overrides: Overrides,
        config_path: Option<PathBuf>,
        demo_server: Option<String>,
    ) -> SettingsState {
        SettingsState {
            form: SettingsForm::from_config(&overrides.over(&file)),
            saved: file,
            overrides,
            config_path,
            demo_server,
            ..SettingsState::default()
        }
    }

    /// The mistakes found for `field`.
    pub fn errors_for(&self, field: &str) -> impl Iterator<Item = &FieldError> {
        self.errors.iter().filter(move |e| e.field == field)
    }

    /// The form as it stands with nothing edited: the file's values with
    /// this run's overrides over them.
    pub fn baseline(&self) -> SettingsForm {
        SettingsForm::from_config(&self.overrides.over(&self.saved))
    }

    /// Whether the form differs from the file (the "Unsaved changes" cue).
    pub fn edited(&self) -> bool {
        self.form != self.baseline()
    }

    /// Why the field of `key` shows a value the file does not hold, when the
    /// command line overrode it: the field is shown, not edited.
    pub fn override_note(&self, key: &str) -> Option<String> {
        self.overrides.get(key).map(crate::config::Override::note)
    }

    /// In demo mode with no server in the form, the sign-in this run (and
    /// Test connection) uses is not the method in the form: the demo backend
    /// asks for none. `None` when the form's method is what runs.
    pub fn demo_sign_in_note(&self) -> Option<&'static str> {
        let blank_server = self.form.server.trim().is_empty();
        (self.demo_server.is_some()
            && blank_server
            && self.overrides.get(keys::AUTH_METHOD).is_none())
        .then_some(
            "This run signs in with: none. The demo backend asks for no sign-in; the method \
                 above applies once a server is configured.",
        )
    }

    /// Forgets the status, the errors and the test report once the form no
    /// longer is the one they describe: a "passed" beside an edited server
    /// would vouch for a server nobody tested. The view calls it each frame.
    pub fn forget_stale_results(&mut self) {
        if self
            .results_for
            .as_ref()
            .is_some_and(|shown| *shown != self.form)
        {
            self.results_for = None;
            self.status = None;
            self.errors.clear();
            self.check = None;
        }
    }

    /// Puts the form back to what the file holds.
    pub fn revert(&mut self) {
        self.form = self.baseline();
        self.errors.clear();
        self.status = None;
        self.check = None;
        self.results_for = None;
    }

    fn show(&mut self, status: Option<Status>, form: SettingsForm) {
        self.status = status;
        self.results_for = Some(form);
    }

    /// Shows `errors` under their fields and a summary naming them by label.
    fn refuse(&mut self, errors: Vec<FieldError>, action: &str) {
        let mut names: Vec<&str> = Vec::new();
        for error in &errors {
            if !names.contains(&error.label()) {
                names.push(error.label());
            }
        }
        let summary = match names.as_slice() {
            [one] => format!("One setting needs attention: {one}. {action}."),
            many => format!(
                "{} settings need attention: {}. {action}.",
                many.len(),
                many.join(", ")
            ),
        };
        self.errors = errors;
        self.show(Status::problem(summary), self.form.clone());
    }

    fn validated(&mut self, action: &str) -> Option<StationConfig> {
        match self.form.validate() {
            Ok(config) => {
                self.errors.clear();
                Some(config)
            }
            Err(errors) => {
                self.refuse(errors, action);
                None
            }
        }
    }

    /// Save pressed: the command that writes the file, or nothing when the
    /// form has mistakes (they are shown under their fields) or there is no
    /// file. Overridden fields are saved with the file's own values.
    pub fn save(&mut self) -> Option<Command> {
        if self.saving {
            return None;
        }
        const NOT_SAVED: &str = "Nothing was saved";
        let mut config = self.validated(NOT_SAVED)?;
        self.overrides.keep_file_values(&mut config, &self.saved);
        // Keys the form does not show are the file's.
        config.readers_panel_width = self.saved.readers_panel_width;
        config.directory = self.saved.directory.clone();
        config.audit_forwarding = self.saved.audit_forwarding.clone();
        config.batch_max_concurrent_posts = self.saved.batch_max_concurrent_posts;
        // The form's values passed; with the file's values back in, the
        // rules across keys are asked again.
        if let Err(problem) = config.check() {
            self.refuse(vec![across_keys(problem)], NOT_SAVED);
            return None;
        }
        let Some(path) = self.config_path.clone() else {
            self.show(
                Status::problem(
                    "There is no place for the configuration file (no home directory): start the \
                     station with --config PATH to choose one.",
                ),
                self.form.clone(),
            );
            return None;
        };
        self.saving = true;
        self.show(
            Status::ok(format!("Saving to {}…", path.display())),
            self.form.clone(),
        );
        self.pending_save = Some((config.clone(), self.form.clone()));
        Some(Command::SaveSettings {
            config: Box::new(config),
            path,
            pinned: self.overrides.pinned_keys(),
        })
    }

    /// Test connection pressed: the command that runs the check on the
    /// values in the form, which are the running ones where the command line
    /// set them (on the demo backend when the form names no server in demo
    /// mode, or when `--demo` replaced it).
    pub fn test_connection(&mut self) -> Option<Command> {
        if self.checking {
            return None;
        }
        let config = self.validated("The connection was not tested")?;
        let demo_replaces_server = self
            .overrides
            .get(keys::SERVER)
            .is_some_and(|o| o.source == OverrideSource::Demo);
        let demo = self
            .demo_server
            .as_deref()
            .filter(|_| demo_replaces_server || config.server.is_none());
        let client = match (demo, &config.server) {
            // The demo backend asks for no credentials (as the window's own client).
            (Some(demo), _) => config.demo_client_config(demo),
            // A token command typed into the form is a program to run: it
            // runs only once saved (review M4: the form must not be a way to
            // run commands at a station where the operator cannot).
            (None, Some(_)) if self.unsaved_token_command(&config) => {
                self.errors = vec![FieldError {
                    field: keys::TOKEN_COMMAND,
                    message: UNSAVED_TOKEN_COMMAND.to_owned(),
                }];
                self.show(Status::problem(UNSAVED_TOKEN_COMMAND), self.form.clone());
                return None;
            }
            (None, Some(server)) => {
                let mut client = config.client_config(server.as_str());
                // A token from the environment or the command belongs to the
                // file's server (or, with none there, this run's): a server
                // typed into the form must not receive it (review L2).
                client.auth.token_host = self
                    .saved
                    .server_host()
                    .or_else(|| self.overrides.over(&self.saved).server_host());
                client
            }
            (None, None) => {
                self.errors = vec![FieldError {
                    field: keys::SERVER,
                    message: "Give the Server address (e.g. https://cm.contoso.com) to test the \
                              connection."
                        .to_owned(),
                }];
                self.show(
                    Status::problem("No server to test: give the Server address."),
                    self.form.clone(),
                );
                return None;
            }
        };
        self.checking = true;
        self.check = None;
        self.show(
            Status::ok(format!("Testing the connection to {}…", client.server)),
            self.form.clone(),
        );
        self.pending_check = Some(self.form.clone());
        Some(Command::TestConnection(Box::new(client)))
    }

    /// Whether the form's token command, which a test would run, is not
    /// the one saved in the file (nor the one this run uses).
    fn unsaved_token_command(&self, config: &StationConfig) -> bool {
        let command = &config.auth.token_command;
        config.auth.method == AuthMethod::Bearer
            && !command.is_empty()
            && *command != self.saved.auth.token_command
            && *command != self.overrides.over(&self.saved).auth.token_command
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
                    self.show(
                        Status::ok(
                            "No file chosen (or no file dialog is available on this desktop: \
                             type the path instead).",
                        ),
                        self.form.clone(),
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
                let (config, form) = self
                    .pending_save
                    .take()
                    .map_or((None, self.form.clone()), |(config, form)| {
                        (Some(config), form)
                    });
                let status = match result {
                    Ok(path) => {
                        if let Some(config) = config {
                            self.saved = config;
                        }
                        Status::ok(format!(
                            "Saved to {}; restart the station to connect with the new settings.",
                            path.display()
                        ))
                    }
                    Err(why) => Status::problem(format!("Not saved: {why}")),
                };
                self.show(status, form);
            }
            SettingsReport::Checked(report) => {
                self.checking = false;
                let status = if report.passed() {
                    Status::ok("Connection test passed.")
                } else {
                    Status::problem("Connection test failed: fix the first failing step.")
                };
                self.check = Some(report);
                let tested = self
                    .pending_check
                    .take()
                    .unwrap_or_else(|| self.form.clone());
                self.show(status, tested);
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
        let mut state = SettingsState::new(
            StationConfig::default(),
            Overrides::default(),
            Some(path.clone()),
            None,
        );
        state.form.connect_secs = "0".into();
        assert!(state.save().is_none());
        assert_eq!(state.errors_for("timeouts.connect_secs").count(), 1);
        assert_eq!(
            state.status.as_ref().map(|s| s.text.as_str()),
            Some("One setting needs attention: Connect timeout. Nothing was saved.")
        );
        state.form.connect_secs = "7".into();
        assert!(state.edited());
        let Some(Command::SaveSettings {
            config, path: to, ..
        }) = state.save()
        else {
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
        let mut state =
            SettingsState::new(StationConfig::default(), Overrides::default(), None, None);
        assert!(state.test_connection().is_none());
        assert_eq!(state.errors_for("server").count(), 1);
        let mut state = SettingsState::new(
            StationConfig::default(),
            Overrides::default(),
            None,
            Some("http://127.0.0.1:9".into()),
        );
        state.form.auth_method = AuthMethod::Bearer;
        assert!(
            state
                .demo_sign_in_note()
                .is_some_and(|n| n.contains("none")),
            "the form says what the test will use"
        );
        let Some(Command::TestConnection(client)) = state.test_connection() else {
            panic!("expected a test");
        };
        assert_eq!(client.server, "http://127.0.0.1:9");
        assert_eq!(client.auth.method, AuthMethod::None);
        assert!(state.checking);
        state.form.server = "https://cm.contoso.com".into();
        assert_eq!(
            state.demo_sign_in_note(),
            None,
            "a named server uses the form's method"
        );
    }

    fn server(text: &str) -> Option<ServerAddress> {
        Some(ServerAddress::try_from(text.to_owned()).expect("a usable address"))
    }

    /// A file naming one server, and a run started with `--server` and
    /// `--request-timeout-secs` over it.
    fn overridden() -> SettingsState {
        let file = StationConfig {
            server: server("https://cm.contoso.com"),
            readers_panel_width: Some(420),
            ..StationConfig::default()
        };
        let mut running = file.clone();
        running.server = server("https://cm2.contoso.com");
        running.timeouts.request_secs = Seconds::new(20).expect("in range");
        let overrides = Overrides::between(&file, &running, |_| None);
        SettingsState::new(file, overrides, Some(PathBuf::from("station.toml")), None)
    }

    #[test]
    fn the_form_shows_the_running_values_and_says_which_are_overridden() {
        let state = overridden();
        assert_eq!(state.form.server, "https://cm2.contoso.com");
        assert_eq!(state.form.request_secs, "20");
        assert!(!state.edited(), "nothing edited yet");
        let note = state.override_note(keys::SERVER).expect("overridden");
        assert!(
            note.contains("Overridden by --server on the command line"),
            "{note}"
        );
        assert!(state.override_note(keys::CONNECT_TIMEOUT).is_none());
    }

    #[test]
    fn a_test_uses_the_running_values_and_a_save_writes_only_the_files_own() {
        let mut state = overridden();
        let Some(Command::TestConnection(client)) = state.test_connection() else {
            panic!("expected a test");
        };
        assert!(
            client.server.starts_with("https://cm2.contoso.com"),
            "{}",
            client.server
        );
        assert_eq!(client.request_timeout, std::time::Duration::from_secs(20));
        state.form.refresh_interval_secs = "90".into();
        let Some(Command::SaveSettings { config, .. }) = state.save() else {
            panic!("expected a save");
        };
        assert_eq!(
            config.server.as_ref().map(ServerAddress::as_str),
            Some("https://cm.contoso.com"),
            "the file's server, not the run's"
        );
        assert_eq!(
            config.timeouts.request_secs.get(),
            30,
            "the file's (default) timeout"
        );
        assert_eq!(
            config.refresh_interval_secs.get(),
            90,
            "the operator's edit"
        );
        assert_eq!(
            config.readers_panel_width,
            Some(420),
            "a key the form does not show"
        );
        state.apply(SettingsReport::Saved(Ok(PathBuf::from("station.toml"))));
        assert!(!state.edited(), "saved: no unsaved changes");
        assert_eq!(
            state.form.server, "https://cm2.contoso.com",
            "still the running value"
        );
    }

    #[test]
    fn an_unsaved_token_command_is_never_run_by_a_test() {
        let mut file = StationConfig {
            server: server("https://cm.contoso.com"),
            ..StationConfig::default()
        };
        file.auth.method = AuthMethod::Bearer;
        file.auth.token_command = vec!["/usr/local/bin/get-cm-token".into()];
        let mut state = SettingsState::new(file, Overrides::default(), None, None);
        let Some(Command::TestConnection(client)) = state.test_connection() else {
            panic!("the saved command may run");
        };
        assert_eq!(client.auth.token_command, ["/usr/local/bin/get-cm-token"]);
        state.apply(SettingsReport::Checked(crate::cm::check::CheckReport {
            server: "https://cm.contoso.com".into(),
            steps: Vec::new(),
        }));
        state.form.token_command = "/bin/sh -c whoami".into();
        assert!(state.test_connection().is_none(), "not run");
        assert_eq!(
            state.status.as_ref().map(|s| s.text.as_str()),
            Some(UNSAVED_TOKEN_COMMAND)
        );
        assert_eq!(state.errors_for(keys::TOKEN_COMMAND).count(), 1);
    }

    #[test]
    fn a_test_of_another_server_is_not_given_the_files_token() {
        let mut file = StationConfig {
            server: server("https://cm.contoso.com"),
            ..StationConfig::default()
        };
        file.auth.method = AuthMethod::Bearer;
        let mut state = SettingsState::new(file, Overrides::default(), None, None);
        state.form.server = "https://elsewhere.example".into();
        let Some(Command::TestConnection(client)) = state.test_connection() else {
            panic!("the test runs");
        };
        assert_eq!(client.server, "https://elsewhere.example");
        // An environment or command token is tied to the file's server.
        assert_eq!(client.auth.token_host.as_deref(), Some("cm.contoso.com"));
    }

    #[test]
    fn a_pinned_key_is_locked_and_never_saved_from_the_form() {
        let file = StationConfig::default();
        let mut running = file.clone();
        running.mode = Mode::Supervised;
        let mut overrides = Overrides::between(&file, &running, |_| None);
        overrides.pin(keys::MODE, "/etc/enroll-station/policy.toml".into());
        let mut state =
            SettingsState::new(file, overrides, Some(PathBuf::from("station.toml")), None);
        assert_eq!(
            state.form.mode,
            Mode::Supervised,
            "the policy's value is shown"
        );
        let note = state.override_note(keys::MODE).expect("locked");
        assert!(note.contains("Set by policy"), "{note}");
        assert!(state.overrides.is_pinned(keys::MODE));
        state.form.refresh_interval_secs = "90".into();
        let Some(Command::SaveSettings { config, pinned, .. }) = state.save() else {
            panic!("expected a save");
        };
        assert_eq!(
            config.mode,
            Mode::Desk,
            "the file's own value, not the policy's"
        );
        assert_eq!(
            pinned,
            vec![keys::MODE],
            "the worker leaves it out of the file"
        );
    }

    #[test]
    fn an_edit_clears_the_test_report_and_the_errors_it_no_longer_describes() {
        let mut state = SettingsState::new(
            StationConfig::default(),
            Overrides::default(),
            None,
            Some("http://127.0.0.1:9".into()),
        );
        assert!(state.test_connection().is_some());
        state.apply(SettingsReport::Checked(crate::cm::check::CheckReport {
            server: "http://127.0.0.1:9".into(),
            steps: Vec::new(),
        }));
        state.forget_stale_results();
        assert!(
            state.check.is_some() && state.status.is_some(),
            "the report stays"
        );
        state.form.connect_secs = "abc".into();
        state.forget_stale_results();
        assert!(
            state.check.is_none() && state.status.is_none(),
            "edited: gone"
        );
        assert!(state.save().is_none());
        let message = state.errors[0].to_string();
        assert_eq!(
            message,
            "Connect timeout must be a whole number from 1 to 86400 (seconds), not \"abc\"."
        );
        state.form.connect_secs = "12".into();
        state.forget_stale_results();
        assert!(
            state.errors.is_empty(),
            "the error went with the value it was about"
        );
        state.revert();
        assert!(!state.edited());
    }
}
