//! What this run changed over the configuration file: the command-line
//! options (and environment variables) the station started with, the kiosk
//! switch and the demo backend.
//!
//! The Settings view needs both sides: it shows what is running (an
//! operator who sees the file's server while the header names another one
//! stops trusting the window), and it saves only the file's own values, so
//! one run's `--server` never ends up in the file.

use super::{AuthSettings, ServerAddress, StationConfig};
use crate::cm::auth::AuthMethod;

/// What put a running value over the file's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OverrideSource {
    /// A command-line option, e.g. `--server`.
    Option(&'static str),
    /// An environment variable, e.g. `ENROLL_STATION_SERVER`.
    Environment(&'static str),
    /// `--demo`: the embedded demo backend, whatever the file names.
    Demo,
    /// The machine policy pins the key (see [`super::policy`]); the text
    /// names the policy (`/etc/enroll-station/policy.toml`).
    Policy(String),
}

/// One key whose running value is not the file's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Override {
    /// The key, as the file writes it (`server`, `timeouts.connect_secs`).
    pub key: &'static str,
    /// What set the running value.
    pub source: OverrideSource,
}

impl Override {
    /// The note the Settings view shows beside the field.
    pub fn note(&self) -> String {
        match &self.source {
            OverrideSource::Option(option) => format!(
                "Overridden by {option} on the command line: this run uses the value shown. \
                 Save keeps the file's own value."
            ),
            OverrideSource::Environment(variable) => format!(
                "Overridden by {variable} in the environment: this run uses the value shown. \
                 Save keeps the file's own value."
            ),
            OverrideSource::Demo if self.key == "server" => "Overridden by --demo on the command \
                 line: this run uses the embedded demo backend. Save keeps the file's own value."
                .to_owned(),
            OverrideSource::Demo => "Overridden by --demo on the command line: the demo backend \
                 asks for no sign-in. Save keeps the file's own value."
                .to_owned(),
            OverrideSource::Policy(_) => "Set by policy: the machine's administrator pins this \
                 value. Save never writes it into the file."
                .to_owned(),
        }
    }

    /// For a pinned key, the policy that pins it (for a tooltip).
    pub fn policy(&self) -> Option<&str> {
        match &self.source {
            OverrideSource::Policy(source) => Some(source),
            _ => None,
        }
    }
}

/// The keys an option can change, with the option and the environment
/// variable that also sets it. The form's fields and `audit_file` (which the
/// form carries without showing it) are all here.
const KEYS: [(&str, &str, Option<&str>); 14] = [
    ("server", "--server", Some("ENROLL_STATION_SERVER")),
    ("mode", "--kiosk", None),
    (
        "audit_file",
        "--audit-file",
        Some("ENROLL_STATION_AUDIT_FILE"),
    ),
    ("ignore_readers", "--ignore-reader", None),
    ("tls.ca_files", "--ca-file", None),
    ("tls.allow_insecure_http", "--allow-insecure-http", None),
    ("tls.client_certificate", "--client-cert", None),
    ("tls.client_key", "--client-key", None),
    ("timeouts.connect_secs", "--connect-timeout-secs", None),
    ("timeouts.request_secs", "--request-timeout-secs", None),
    ("auth.method", "--auth", None),
    // Changed by --service-principal, or cleared by an --auth of another method.
    ("auth.service_principal", "--service-principal", None),
    ("auth.user", "--auth", None),
    ("auth.token_command", "--auth", None),
];

/// The keys the demo backend replaces: its address and its sign-in.
const DEMO_KEYS: [&str; 5] = [
    "server",
    "auth.method",
    "auth.service_principal",
    "auth.user",
    "auth.token_command",
];

/// The running configuration's values that are not the file's, and what set them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Overrides {
    running: StationConfig,
    entries: Vec<Override>,
}

impl Overrides {
    /// The keys whose value differs between the `file` and what is `running`.
    /// `environment` reads a variable: a value that came from one is named
    /// by it rather than by the option.
    pub fn between(
        file: &StationConfig,
        running: &StationConfig,
        environment: impl Fn(&str) -> Option<String>,
    ) -> Overrides {
        let mut entries = Vec::new();
        for (key, option, variable) in KEYS {
            let mut copy = running.clone();
            copy_key(key, file, &mut copy);
            if copy == *running {
                continue;
            }
            let from_environment = variable.filter(|variable| {
                environment(variable).is_some_and(|value| {
                    Some(value.trim().to_owned()) == running_text(key, running)
                })
            });
            let option = match key {
                "auth.service_principal" if running.auth.service_principal.is_none() => "--auth",
                _ => option,
            };
            let source = match from_environment {
                Some(variable) => OverrideSource::Environment(variable),
                None => OverrideSource::Option(option),
            };
            entries.push(Override { key, source });
        }
        Overrides {
            running: running.clone(),
            entries,
        }
    }

    /// This run uses the embedded demo backend at `server` (`--demo`), which
    /// asks for no sign-in, whatever the file configures.
    pub fn demo_backend(&mut self, server: &str) {
        if let Ok(address) = ServerAddress::try_from(server.to_owned()) {
            self.running.server = Some(address);
        }
        self.running.auth = AuthSettings {
            method: AuthMethod::None,
            ..AuthSettings::default()
        };
        self.entries.retain(|entry| !DEMO_KEYS.contains(&entry.key));
        self.entries
            .extend(DEMO_KEYS.into_iter().map(|key| Override {
                key,
                source: OverrideSource::Demo,
            }));
    }

    /// The machine policy pins `key` (its value is the running one): the
    /// Settings view shows it locked, and Save never writes it. A pin
    /// replaces whatever else named the key.
    pub fn pin(&mut self, key: &'static str, source: String) {
        self.entries.retain(|entry| entry.key != key);
        self.entries.push(Override {
            key,
            source: OverrideSource::Policy(source),
        });
    }

    /// Every key the machine policy pins, for a save to leave out.
    pub fn pinned_keys(&self) -> Vec<&'static str> {
        self.entries
            .iter()
            .filter(|entry| matches!(entry.source, OverrideSource::Policy(_)))
            .map(|entry| entry.key)
            .collect()
    }

    /// Whether the machine policy pins `key`.
    pub fn is_pinned(&self, key: &str) -> bool {
        self.get(key)
            .is_some_and(|entry| matches!(entry.source, OverrideSource::Policy(_)))
    }

    /// What overrode `key`, when something did.
    pub fn get(&self, key: &str) -> Option<&Override> {
        self.entries.iter().find(|entry| entry.key == key)
    }

    /// Every overridden key.
    pub fn iter(&self) -> impl Iterator<Item = &Override> {
        self.entries.iter()
    }

    /// Nothing overrides the file.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// What runs with `file`: the file with this run's values over it.
    pub fn over(&self, file: &StationConfig) -> StationConfig {
        let mut config = file.clone();
        for entry in &self.entries {
            copy_key(entry.key, &self.running, &mut config);
        }
        config
    }

    /// Puts the `file`'s own values back into `edited` for every overridden
    /// key, so saving never writes this run's options into the file.
    pub fn keep_file_values(&self, edited: &mut StationConfig, file: &StationConfig) {
        for entry in &self.entries {
            copy_key(entry.key, file, edited);
        }
    }
}

/// The running value of a key that an environment variable can set, as text.
fn running_text(key: &str, running: &StationConfig) -> Option<String> {
    match key {
        "server" => running.server.as_ref().map(|s| s.as_str().to_owned()),
        "audit_file" => running
            .audit_file
            .as_ref()
            .map(|path| path.display().to_string()),
        _ => None,
    }
}

/// Copies one key's value from `from` into `to`.
fn copy_key(key: &str, from: &StationConfig, to: &mut StationConfig) {
    match key {
        "server" => to.server = from.server.clone(),
        "mode" => to.mode = from.mode,
        "audit_file" => to.audit_file = from.audit_file.clone(),
        "ignore_readers" => to.ignore_readers = from.ignore_readers.clone(),
        "tls.ca_files" => to.tls.ca_files = from.tls.ca_files.clone(),
        "tls.allow_insecure_http" => to.tls.allow_insecure_http = from.tls.allow_insecure_http,
        "tls.client_certificate" => {
            to.tls.client_certificate = from.tls.client_certificate.clone();
        }
        "tls.client_key" => to.tls.client_key = from.tls.client_key.clone(),
        "timeouts.connect_secs" => to.timeouts.connect_secs = from.timeouts.connect_secs,
        "timeouts.request_secs" => to.timeouts.request_secs = from.timeouts.request_secs,
        "auth.method" => to.auth.method = from.auth.method,
        "auth.service_principal" => {
            to.auth.service_principal = from.auth.service_principal.clone();
        }
        "auth.user" => to.auth.user = from.auth.user.clone(),
        "auth.token_command" => to.auth.token_command = from.auth.token_command.clone(),
        // The keys only a policy pins (`supervisors`, `kiosk_site`, ...).
        other => super::policy::copy_key(other, from, to),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Mode, Seconds};

    fn server(text: &str) -> Option<ServerAddress> {
        Some(ServerAddress::try_from(text.to_owned()).expect("a usable address"))
    }

    fn no_environment(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn only_the_keys_that_differ_are_overridden_and_each_names_its_option() {
        let mut file = StationConfig {
            server: server("https://cm.contoso.com"),
            ..StationConfig::default()
        };
        file.auth.user = Some("alice".into());
        let mut running = file.clone();
        running.server = server("https://cm2.contoso.com");
        running.mode = Mode::Kiosk;
        running.timeouts.request_secs = Seconds::new(20).expect("in range");
        running.auth = AuthSettings {
            method: AuthMethod::Bearer,
            ..AuthSettings::default()
        };
        let overrides = Overrides::between(&file, &running, no_environment);
        let named: Vec<_> = overrides
            .iter()
            .map(|o| (o.key, o.source.clone()))
            .collect();
        assert_eq!(
            named,
            [
                ("server", OverrideSource::Option("--server")),
                ("mode", OverrideSource::Option("--kiosk")),
                (
                    "timeouts.request_secs",
                    OverrideSource::Option("--request-timeout-secs")
                ),
                ("auth.method", OverrideSource::Option("--auth")),
                ("auth.user", OverrideSource::Option("--auth")),
            ]
        );
        assert_eq!(overrides.over(&file), running, "the running values");
        assert!(
            overrides
                .get("server")
                .expect("overridden")
                .note()
                .contains("Overridden by --server on the command line")
        );
        assert!(overrides.get("timeouts.connect_secs").is_none());
    }

    #[test]
    fn saving_keeps_the_files_values_of_overridden_keys_and_the_edits_of_the_others() {
        let file = StationConfig {
            server: server("https://cm.contoso.com"),
            ..StationConfig::default()
        };
        let running = StationConfig {
            server: server("https://cm2.contoso.com"),
            ..file.clone()
        };
        let overrides = Overrides::between(&file, &running, no_environment);
        let mut edited = overrides.over(&file);
        edited.refresh_interval_secs = Seconds::new(90).expect("in range");
        overrides.keep_file_values(&mut edited, &file);
        assert_eq!(edited.server, file.server, "the file's server is kept");
        assert_eq!(edited.refresh_interval_secs.get(), 90, "the edit is saved");
    }

    #[test]
    fn a_value_from_the_environment_names_the_variable() {
        let file = StationConfig::default();
        let running = StationConfig {
            server: server("https://cm.contoso.com"),
            ..StationConfig::default()
        };
        let overrides = Overrides::between(&file, &running, |name| {
            (name == "ENROLL_STATION_SERVER").then(|| " https://cm.contoso.com".to_owned())
        });
        let note = overrides.get("server").expect("overridden").note();
        assert!(
            note.contains("Overridden by ENROLL_STATION_SERVER in the environment"),
            "{note}"
        );
    }

    #[test]
    fn the_demo_backend_replaces_the_server_and_the_sign_in() {
        let mut file = StationConfig {
            server: server("https://cm.contoso.com"),
            ..StationConfig::default()
        };
        file.auth.user = Some("alice".into());
        let mut overrides = Overrides::between(&file, &file, no_environment);
        assert!(overrides.is_empty());
        overrides.demo_backend("http://127.0.0.1:9");
        let running = overrides.over(&file);
        assert_eq!(
            running.server.as_ref().map(ServerAddress::as_str),
            Some("http://127.0.0.1:9")
        );
        assert_eq!(running.auth.method, AuthMethod::None);
        assert_eq!(running.auth.user, None);
        assert_eq!(
            overrides.get("auth.method").map(|o| o.source.clone()),
            Some(OverrideSource::Demo)
        );
        let mut edited = running;
        overrides.keep_file_values(&mut edited, &file);
        assert_eq!(edited, file);
    }
}
