//! The settings form as the operator edits it (text and checkboxes), and
//! its validation into a configuration, with the key each mistake is about
//! and words that name the field as the form labels it, never the key.

use std::fmt;
use std::path::{Path, PathBuf};

use super::*;

/// A value the form cannot take: the field it belongs to, by its key in
/// the configuration file, and what is wrong in the form's words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// The TOML key, e.g. `timeouts.connect_secs`: which field to outline.
    pub field: &'static str,
    /// What is wrong and what to give instead, naming the field by its label.
    pub message: String,
}

impl FieldError {
    /// The field's name as the form labels it.
    pub fn label(&self) -> &'static str {
        label(self.field)
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The name the form gives the field of `key` (its label without the unit),
/// for messages: an operator looks for "Connect timeout", not for
/// `timeouts.connect_secs`.
pub fn label(key: &str) -> &'static str {
    match key {
        keys::SERVER => "Server address",
        keys::STATION_NAME => "Station name",
        keys::MODE => "Mode",
        keys::REFRESH_INTERVAL => "Refresh interval",
        keys::KIOSK_IDLE => "Kiosk idle reset",
        keys::IGNORE_READERS => "Ignore readers",
        keys::CA_FILES => "CA files",
        keys::ALLOW_INSECURE_HTTP => "Allow plain http://",
        keys::CLIENT_CERTIFICATE => "Client certificate file",
        keys::CLIENT_KEY => "Client key file",
        keys::CONNECT_TIMEOUT => "Connect timeout",
        keys::REQUEST_TIMEOUT => "Request timeout",
        keys::AUTH_METHOD => "Authentication method",
        keys::SERVICE_PRINCIPAL => "Service principal",
        keys::USER => "Sign-in account",
        keys::TOKEN_COMMAND => "Token command",
        _ => "Configuration file",
    }
}

/// The configuration's keys, as [`FieldError::field`] names them.
pub mod keys {
    /// `server`
    pub const SERVER: &str = "server";
    /// `station_name`
    pub const STATION_NAME: &str = "station_name";
    /// `mode`
    pub const MODE: &str = "mode";
    /// `refresh_interval_secs`
    pub const REFRESH_INTERVAL: &str = "refresh_interval_secs";
    /// `kiosk_idle_secs`
    pub const KIOSK_IDLE: &str = "kiosk_idle_secs";
    /// `ignore_readers`
    pub const IGNORE_READERS: &str = "ignore_readers";
    /// `tls.ca_files`
    pub const CA_FILES: &str = "tls.ca_files";
    /// `tls.allow_insecure_http`
    pub const ALLOW_INSECURE_HTTP: &str = "tls.allow_insecure_http";
    /// `tls.client_certificate`
    pub const CLIENT_CERTIFICATE: &str = "tls.client_certificate";
    /// `tls.client_key`
    pub const CLIENT_KEY: &str = "tls.client_key";
    /// `timeouts.connect_secs`
    pub const CONNECT_TIMEOUT: &str = "timeouts.connect_secs";
    /// `timeouts.request_secs`
    pub const REQUEST_TIMEOUT: &str = "timeouts.request_secs";
    /// `auth.method`
    pub const AUTH_METHOD: &str = "auth.method";
    /// `auth.service_principal`
    pub const SERVICE_PRINCIPAL: &str = "auth.service_principal";
    /// `auth.user`
    pub const USER: &str = "auth.user";
    /// `auth.token_command`
    pub const TOKEN_COMMAND: &str = "auth.token_command";

    /// Every key, longest first where one is a prefix of another.
    pub(super) const ALL: [&str; 16] = [
        SERVER,
        STATION_NAME,
        MODE,
        REFRESH_INTERVAL,
        KIOSK_IDLE,
        IGNORE_READERS,
        CA_FILES,
        ALLOW_INSECURE_HTTP,
        CLIENT_CERTIFICATE,
        CLIENT_KEY,
        CONNECT_TIMEOUT,
        REQUEST_TIMEOUT,
        AUTH_METHOD,
        SERVICE_PRINCIPAL,
        USER,
        TOKEN_COMMAND,
    ];
}

/// The modes, in the order the view offers them.
pub const MODES: [Mode; 3] = [Mode::Desk, Mode::Supervised, Mode::Kiosk];

/// The authentication methods, in the order the view offers them.
pub const AUTH_METHODS: [AuthMethod; 4] = [
    AuthMethod::Negotiate,
    AuthMethod::Bearer,
    AuthMethod::ClientCertificate,
    AuthMethod::None,
];

/// The editable fields of a [`StationConfig`], as text and checkboxes.
///
/// A blank text field means the key is left out of the file (its default).
/// Fields that do not apply to the chosen authentication method keep what was
/// typed (so switching back restores it) but are not saved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettingsForm {
    /// `server`.
    pub server: String,
    /// `station_name`.
    pub station_name: String,
    /// `mode`.
    pub mode: Mode,
    /// `[[cards.families]]`: not edited here, kept as the file has them.
    pub card_families: Vec<crate::config::FamilyEntry>,
    /// `refresh_interval_secs`.
    pub refresh_interval_secs: String,
    /// `kiosk_idle_secs`.
    pub kiosk_idle_secs: String,
    /// `tls.ca_files`, one path per line.
    pub ca_files: String,
    /// `tls.allow_insecure_http`.
    pub allow_insecure_http: bool,
    /// `tls.client_certificate`.
    pub client_certificate: String,
    /// `tls.client_key`.
    pub client_key: String,
    /// `timeouts.connect_secs`.
    pub connect_secs: String,
    /// `timeouts.request_secs`.
    pub request_secs: String,
    /// `auth.method`.
    pub auth_method: AuthMethod,
    /// `auth.service_principal` (Negotiate).
    pub service_principal: String,
    /// `auth.user` (Negotiate).
    pub user: String,
    /// `auth.token_command` (Bearer): one line, split on whitespace.
    pub token_command: String,
    /// `ignore_readers`, one pattern per line.
    pub ignore_readers: String,
    /// `audit_file`: not edited by the view, kept as loaded.
    pub audit_file: Option<PathBuf>,
    /// `[[supervisors]]`: not edited by the view (a password hash is made
    /// with `enroll-station supervisor hash`), kept as loaded.
    pub supervisors: Vec<SupervisorEntry>,
    /// `larger_text`.
    pub larger_text: bool,
    /// `[kiosk_site]`: not edited by the view, kept as loaded.
    pub kiosk_site: crate::config::KioskSite,
    /// `auth.allow_ntlm`: not edited by the view, kept as loaded.
    pub allow_ntlm: bool,
    /// `auth.allow_missing_mutual_auth`: not edited by the view, kept as loaded.
    pub allow_missing_mutual_auth: bool,
}

impl Default for SettingsForm {
    fn default() -> Self {
        SettingsForm::from_config(&StationConfig::default())
    }
}

pub(super) fn path_text(path: &Option<PathBuf>) -> String {
    path.as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

pub(super) fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().map(str::trim).filter(|line| !line.is_empty())
}

pub(super) fn optional(text: &str) -> Option<String> {
    Some(text.trim().to_owned()).filter(|t| !t.is_empty())
}

/// Why a file named in the field labelled `label` cannot be used, if it cannot.
pub(super) fn missing_file(label: &str, path: &Path) -> Option<String> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => Some(format!(
            "{label}: {} is a folder, not a file. Choose the PEM file inside it.",
            path.display()
        )),
        Ok(_) => None,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Some(format!(
            "{label}: {} does not exist. Check the path or choose the file.",
            path.display()
        )),
        Err(error) => Some(format!(
            "{label}: {} cannot be read ({error}).",
            path.display()
        )),
    }
}

/// Why the chosen sign-in method has no keyring entry to store a secret in.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NoSecretEntry {
    /// Bearer: the token is filed under the server's host, and none is given.
    #[error("Give the server's address first: the token is filed under its host.")]
    NoServer,
    /// Bearer: the server's address gives no host.
    #[error("The server's address is not usable: {0}")]
    UnusableServer(crate::cm::CmError),
    /// Negotiate: the password is filed under `auth.user`, and none is given.
    #[error(
        "Give the Sign-in account first: its password is filed under it. Without an account \
         the station uses the Kerberos ticket of the session."
    )]
    NoUser,
    /// The method keeps no secret.
    #[error("The method \"{}\" keeps no secret in the keyring.", .0.name())]
    MethodKeepsNone(AuthMethod),
}

pub(super) fn seconds<const D: u64>(
    text: &str,
    field: &'static str,
    errors: &mut Vec<FieldError>,
) -> Seconds<D> {
    let text = text.trim();
    if text.is_empty() {
        return Seconds::default();
    }
    match text.parse::<i64>().ok().map(Seconds::<D>::try_from) {
        Some(Ok(value)) => value,
        _ => {
            errors.push(FieldError {
                field,
                message: format!(
                    "{} must be a whole number from 1 to {} (seconds), not \"{text}\".",
                    label(field),
                    Seconds::<D>::MAX
                ),
            });
            Seconds::default()
        }
    }
}

/// A rule across keys that the form broke, under the field to change and
/// in the form's words. Keys the form has no field for (supervisors, card
/// families) come from the file as it is, are fixed there, and keep the
/// file's words; they are shown under the sign-in method, the last field.
pub(super) fn across_keys(problem: crate::config::KeyProblem) -> FieldError {
    let message = match problem.key {
        keys::CLIENT_KEY => "Client key file is set but Client certificate file is not: choose \
                             the certificate file too."
            .to_owned(),
        keys::AUTH_METHOD => "Authentication method \u{201c}Client certificate only\u{201d} \
                              needs a Client certificate file: choose the station's PEM \
                              certificate under Trust & TLS."
            .to_owned(),
        keys::SERVICE_PRINCIPAL | keys::USER | keys::TOKEN_COMMAND => format!(
            "{} does not apply to the chosen Authentication method: clear it or choose \
             another method.",
            label(problem.key)
        ),
        _ => problem.message,
    };
    let field = keys::ALL
        .into_iter()
        .find(|key| *key == problem.key)
        .unwrap_or(keys::AUTH_METHOD);
    FieldError { field, message }
}

impl SettingsForm {
    /// The form showing `config`.
    pub fn from_config(config: &StationConfig) -> SettingsForm {
        SettingsForm {
            server: config
                .server
                .as_ref()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            station_name: config
                .station_name
                .as_ref()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            mode: config.mode,
            card_families: config.cards.families.clone(),
            refresh_interval_secs: config.refresh_interval_secs.get().to_string(),
            kiosk_idle_secs: config.kiosk_idle_secs.get().to_string(),
            ca_files: config
                .tls
                .ca_files
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join("\n"),
            allow_insecure_http: config.tls.allow_insecure_http,
            client_certificate: path_text(&config.tls.client_certificate),
            client_key: path_text(&config.tls.client_key),
            connect_secs: config.timeouts.connect_secs.get().to_string(),
            request_secs: config.timeouts.request_secs.get().to_string(),
            auth_method: config.auth.method,
            service_principal: config.auth.service_principal.clone().unwrap_or_default(),
            user: config.auth.user.clone().unwrap_or_default(),
            token_command: config.auth.token_command.join(" "),
            ignore_readers: config.ignore_readers.join("\n"),
            audit_file: config.audit_file.clone(),
            supervisors: config.supervisors.clone(),
            larger_text: config.larger_text,
            kiosk_site: config.kiosk_site.clone(),
            allow_ntlm: config.auth.allow_ntlm,
            allow_missing_mutual_auth: config.auth.allow_missing_mutual_auth,
        }
    }

    /// Checks every field with the configuration's own rules, then the rules
    /// that span several keys. `Err` lists every mistake, each with its key.
    pub fn validate(&self) -> Result<StationConfig, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut fail =
            |field: &'static str, message: String| errors.push(FieldError { field, message });

        let server = optional(&self.server).and_then(|text| {
            ServerAddress::try_from(text)
                .map_err(|problem| fail(keys::SERVER, problem.to_string()))
                .ok()
        });
        let station_name = optional(&self.station_name).and_then(|text| {
            StationName::try_from(text)
                .map_err(|_| {
                    fail(
                        keys::STATION_NAME,
                        "Station name must be 1 to 64 printable characters on one line.".to_owned(),
                    )
                })
                .ok()
        });

        let ca_files: Vec<PathBuf> = lines(&self.ca_files).map(PathBuf::from).collect();
        for path in &ca_files {
            if let Some(message) = missing_file(label(keys::CA_FILES), path) {
                fail(keys::CA_FILES, message);
            }
        }
        let mut file = |text: &str, field: &'static str| {
            let path = optional(text).map(PathBuf::from)?;
            if let Some(message) = missing_file(label(field), &path) {
                fail(field, message);
            }
            Some(path)
        };
        let client_certificate = file(&self.client_certificate, keys::CLIENT_CERTIFICATE);
        let client_key = file(&self.client_key, keys::CLIENT_KEY);

        let negotiate = self.auth_method == AuthMethod::Negotiate;
        let user = optional(&self.user).filter(|_| negotiate);
        if let Some(user) = &user
            && (user.chars().any(char::is_whitespace) || user.chars().any(char::is_control))
        {
            fail(
                keys::USER,
                format!(
                    "Sign-in account: \"{user}\" is not an account name. Give it as \
                     alice@CONTOSO.COM or CONTOSO\\alice."
                ),
            );
        }
        let service_principal = optional(&self.service_principal).filter(|_| negotiate);
        let token_command: Vec<String> = if self.auth_method == AuthMethod::Bearer {
            self.token_command
                .split_whitespace()
                .map(str::to_owned)
                .collect()
        } else {
            Vec::new()
        };

        let refresh_interval_secs = seconds(
            &self.refresh_interval_secs,
            keys::REFRESH_INTERVAL,
            &mut errors,
        );
        let kiosk_idle_secs = seconds(&self.kiosk_idle_secs, keys::KIOSK_IDLE, &mut errors);
        let connect_secs = seconds(&self.connect_secs, keys::CONNECT_TIMEOUT, &mut errors);
        let request_secs = seconds(&self.request_secs, keys::REQUEST_TIMEOUT, &mut errors);

        if !errors.is_empty() {
            return Err(errors);
        }
        let config = StationConfig {
            server,
            station_name,
            mode: self.mode,
            cards: CardSettings {
                families: self.card_families.clone(),
                card_id_fallback: None,
            },
            refresh_interval_secs,
            kiosk_idle_secs,
            ignore_readers: lines(&self.ignore_readers).map(str::to_owned).collect(),
            audit_file: self.audit_file.clone(),
            tls: TlsSettings {
                ca_files,
                allow_insecure_http: self.allow_insecure_http,
                client_certificate,
                client_key,
            },
            timeouts: Timeouts {
                connect_secs,
                request_secs,
            },
            auth: AuthSettings {
                method: self.auth_method,
                service_principal,
                user,
                token_command,
                allow_ntlm: self.allow_ntlm,
                allow_missing_mutual_auth: self.allow_missing_mutual_auth,
            },
            supervisors: self.supervisors.clone(),
            larger_text: self.larger_text,
            // Not in the form: kept from the file by the caller that saves.
            readers_panel_width: None,
            kiosk_site: self.kiosk_site.clone(),
            // Not in the form: kept from the file by the caller that saves.
            directory: None,
            // Not in the form: kept from the file by the caller that saves.
            audit_forwarding: Default::default(),
            // Not in the form: kept from the file by the caller that saves.
            batch_max_concurrent_posts: Default::default(),
        };
        config
            .check()
            .map_err(|problem| vec![across_keys(problem)])?;
        Ok(config)
    }

    /// The keyring entry the chosen method reads its secret from, or why
    /// there is none (the method keeps no secret, or a key it needs is not set).
    pub fn secret_name(&self) -> Result<SecretName, NoSecretEntry> {
        match self.auth_method {
            AuthMethod::Bearer => {
                let server = optional(&self.server).ok_or(NoSecretEntry::NoServer)?;
                let base = crate::cm::client::api_base_url(&server)
                    .map_err(NoSecretEntry::UnusableServer)?;
                Ok(SecretName::BearerToken {
                    host: base.host_str().unwrap_or_default().to_owned(),
                })
            }
            AuthMethod::Negotiate => {
                let user = optional(&self.user).ok_or(NoSecretEntry::NoUser)?;
                Ok(SecretName::Password { user })
            }
            AuthMethod::ClientCertificate | AuthMethod::None => {
                Err(NoSecretEntry::MethodKeepsNone(self.auth_method))
            }
        }
    }

    /// What the secret field is called for the chosen method, when it has one.
    pub fn secret_label(&self) -> Option<&'static str> {
        match self.auth_method {
            AuthMethod::Bearer => Some("Bearer token"),
            AuthMethod::Negotiate => Some("Sign-in password"),
            AuthMethod::ClientCertificate | AuthMethod::None => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pem(dir: &Path, name: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, "-----BEGIN CERTIFICATE-----\n").expect("write");
        path
    }

    fn field_errors(form: &SettingsForm) -> Vec<FieldError> {
        form.validate().expect_err("the form has a mistake")
    }

    fn only_field(form: &SettingsForm) -> &'static str {
        let errors = field_errors(form);
        assert_eq!(errors.len(), 1, "{errors:?}");
        errors[0].field
    }

    #[test]
    fn a_good_form_round_trips() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = StationConfig {
            server: Some(ServerAddress::try_from("https://cm.contoso.com".to_owned()).expect("ok")),
            station_name: Some(StationName::try_from("Desk 12".to_owned()).expect("ok")),
            mode: Mode::Supervised,
            refresh_interval_secs: Seconds::new(60).expect("ok"),
            ignore_readers: vec!["*Windows Hello*".into(), "Yubico*".into()],
            audit_file: Some(PathBuf::from("/var/lib/enroll-station/audit.jsonl")),
            ..StationConfig::default()
        };
        config.tls.ca_files = vec![pem(dir.path(), "a.pem"), pem(dir.path(), "b.pem")];
        config.tls.client_certificate = Some(pem(dir.path(), "station.pem"));
        config.tls.client_key = Some(pem(dir.path(), "station.key"));
        config.timeouts.connect_secs = Seconds::new(5).expect("ok");
        config.timeouts.request_secs = Seconds::new(20).expect("ok");
        config.auth.method = AuthMethod::Negotiate;
        config.auth.service_principal = Some("HTTP/cm.contoso.com@CONTOSO.COM".into());
        config.auth.user = Some("alice@CONTOSO.COM".into());
        assert_eq!(
            SettingsForm::from_config(&config).validate(),
            Ok(config.clone())
        );

        config.auth = AuthSettings {
            method: AuthMethod::Bearer,
            token_command: vec!["/usr/local/bin/get-cm-token".into(), "--fresh".into()],
            ..AuthSettings::default()
        };
        assert_eq!(
            SettingsForm::from_config(&config).validate(),
            Ok(config.clone())
        );

        let defaults = StationConfig::default();
        assert_eq!(
            SettingsForm::from_config(&defaults).validate(),
            Ok(defaults)
        );
    }

    #[test]
    fn blank_fields_are_the_defaults_and_lists_skip_blank_lines() {
        let form = SettingsForm {
            connect_secs: "  ".into(),
            refresh_interval_secs: String::new(),
            ignore_readers: "\n  Yubico* \n\n".into(),
            token_command: "  /usr/local/bin/get-token   --fresh ".into(),
            auth_method: AuthMethod::Bearer,
            ..SettingsForm::default()
        };
        let config = form.validate().expect("valid");
        assert_eq!(config.timeouts.connect_secs.get(), 10);
        assert_eq!(config.refresh_interval_secs.get(), 30);
        assert_eq!(config.ignore_readers, ["Yubico*"]);
        assert_eq!(
            config.auth.token_command,
            ["/usr/local/bin/get-token", "--fresh"]
        );
        assert_eq!(config.server, None);
    }

    #[test]
    fn each_bad_field_names_its_key() {
        let bad = |edit: fn(&mut SettingsForm)| {
            let mut form = SettingsForm::default();
            edit(&mut form);
            form
        };
        assert_eq!(only_field(&bad(|f| f.server = "ftp://cm".into())), "server");
        assert_eq!(
            only_field(&bad(|f| f.station_name = "x".repeat(65))),
            "station_name"
        );
        assert_eq!(
            only_field(&bad(|f| f.refresh_interval_secs = "0".into())),
            "refresh_interval_secs"
        );
        assert_eq!(
            only_field(&bad(|f| f.kiosk_idle_secs = "soon".into())),
            "kiosk_idle_secs"
        );
        assert_eq!(
            only_field(&bad(|f| f.connect_secs = "0".into())),
            "timeouts.connect_secs"
        );
        assert_eq!(
            only_field(&bad(|f| f.connect_secs = "ten".into())),
            "timeouts.connect_secs"
        );
        assert_eq!(
            only_field(&bad(|f| f.request_secs = "86401".into())),
            "timeouts.request_secs"
        );
        assert_eq!(
            only_field(&bad(|f| f.request_secs = "-3".into())),
            "timeouts.request_secs"
        );
        assert_eq!(
            only_field(&bad(|f| f.ca_files = "/nonexistent/ca.pem".into())),
            "tls.ca_files"
        );
        assert_eq!(
            only_field(&bad(|f| f.client_certificate = "/nonexistent/s.pem".into())),
            "tls.client_certificate"
        );
        assert_eq!(
            only_field(&bad(|f| f.client_key = "/nonexistent/s.key".into())),
            "tls.client_key"
        );
        assert_eq!(
            only_field(&bad(|f| {
                f.auth_method = AuthMethod::Negotiate;
                f.user = "alice smith".into();
            })),
            "auth.user"
        );
        let errors = field_errors(&bad(|f| {
            f.connect_secs = "0".into();
            f.server = "ftp://cm".into();
        }));
        let fields: Vec<_> = errors.iter().map(|e| e.field).collect();
        assert!(
            fields.contains(&"server") && fields.contains(&"timeouts.connect_secs"),
            "every mistake is listed at once: {fields:?}"
        );
        let message = &errors
            .iter()
            .find(|e| e.field == "timeouts.connect_secs")
            .expect("listed")
            .message;
        assert!(message.contains("from 1 to 86400"), "{message}");
    }

    #[test]
    fn every_message_names_the_field_by_its_label_and_never_by_its_key() {
        let dir = tempfile::tempdir().expect("temp dir");
        let key_file = pem(dir.path(), "k.pem").display().to_string();
        let bad: [fn(&mut SettingsForm, &str); 11] = [
            |f, _| f.server = "ftp://cm".into(),
            |f, _| f.station_name = "x".repeat(65),
            |f, _| f.refresh_interval_secs = "0".into(),
            |f, _| f.kiosk_idle_secs = "soon".into(),
            |f, _| f.connect_secs = "ten".into(),
            |f, _| f.request_secs = "86401".into(),
            |f, _| f.ca_files = "/nonexistent/ca.pem".into(),
            |f, _| f.client_certificate = "/nonexistent/s.pem".into(),
            |f, key| f.client_key = key.to_owned(),
            |f, _| f.auth_method = AuthMethod::ClientCertificate,
            |f, _| {
                f.auth_method = AuthMethod::Negotiate;
                f.user = "alice smith".into();
            },
        ];
        for edit in bad {
            let mut form = SettingsForm::default();
            edit(&mut form, &key_file);
            for error in field_errors(&form) {
                let message = error.to_string();
                assert!(
                    !keys::ALL
                        .iter()
                        .any(|key| key.contains(['.', '_']) && message.contains(key)),
                    "no key of the file: {message}"
                );
                let label = error.label();
                let named = message.contains(label)
                    || (error.field == keys::SERVER && message.contains("CM server address"));
                assert!(named, "{message} names {label}");
            }
        }
        let form = SettingsForm {
            connect_secs: "0".into(),
            ..SettingsForm::default()
        };
        assert_eq!(
            field_errors(&form)[0].to_string(),
            "Connect timeout must be a whole number from 1 to 86400 (seconds), not \"0\"."
        );
    }

    #[test]
    fn a_missing_file_is_named() {
        let dir = tempfile::tempdir().expect("temp dir");
        let good = pem(dir.path(), "good.pem");
        let missing = dir.path().join("missing.pem");
        let form = SettingsForm {
            ca_files: format!("{}\n{}", good.display(), missing.display()),
            ..SettingsForm::default()
        };
        let errors = field_errors(&form);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].message.contains("missing.pem"), "{errors:?}");
        assert!(!errors[0].message.contains("good.pem"), "{errors:?}");
        let form = SettingsForm {
            client_certificate: dir.path().display().to_string(),
            ..SettingsForm::default()
        };
        assert!(field_errors(&form)[0].message.contains("folder"));
    }

    #[test]
    fn rules_across_keys_name_the_key_to_fix() {
        let dir = tempfile::tempdir().expect("temp dir");
        let form = SettingsForm {
            client_key: pem(dir.path(), "k.pem").display().to_string(),
            ..SettingsForm::default()
        };
        assert_eq!(only_field(&form), "tls.client_key");
        let form = SettingsForm {
            auth_method: AuthMethod::ClientCertificate,
            ..SettingsForm::default()
        };
        assert_eq!(only_field(&form), "auth.method");
        let form = SettingsForm {
            auth_method: AuthMethod::Bearer,
            token_command: "   ".into(),
            ..SettingsForm::default()
        };
        assert!(form.validate().is_ok(), "a blank command is no command");
    }

    #[test]
    fn keys_of_another_method_are_kept_in_the_form_but_not_saved() {
        let form = SettingsForm {
            auth_method: AuthMethod::Bearer,
            user: "alice@CONTOSO.COM".into(),
            service_principal: "HTTP/cm".into(),
            ..SettingsForm::default()
        };
        let config = form.validate().expect("valid");
        assert_eq!(config.auth.user, None);
        assert_eq!(config.auth.service_principal, None);
        let form = SettingsForm {
            auth_method: AuthMethod::Negotiate,
            token_command: "get-token".into(),
            ..SettingsForm::default()
        };
        assert!(
            form.validate()
                .expect("valid")
                .auth
                .token_command
                .is_empty()
        );
    }

    #[test]
    fn the_secret_is_filed_under_the_host_or_the_user() {
        let mut form = SettingsForm {
            auth_method: AuthMethod::Bearer,
            server: "https://cm.contoso.com:8443/CertificateManagement/api/v1.0/".into(),
            ..SettingsForm::default()
        };
        assert_eq!(
            form.secret_name(),
            Ok(SecretName::BearerToken {
                host: "cm.contoso.com".into()
            })
        );
        form.auth_method = AuthMethod::Negotiate;
        assert!(form.secret_name().is_err(), "no user, no password entry");
        form.user = " alice@CONTOSO.COM ".into();
        assert_eq!(
            form.secret_name(),
            Ok(SecretName::Password {
                user: "alice@CONTOSO.COM".into()
            })
        );
        form.auth_method = AuthMethod::None;
        assert!(form.secret_name().is_err());
        assert_eq!(form.secret_label(), None);
    }
}
