//! The station's configuration file: a TOML file in the platform's config
//! directory (on Linux `~/.config/enroll-station/station.toml`), read at start,
//! edited by the Settings view, overridden by command-line options.
//!
//! Every value is checked while the file is read, so a mistake is reported
//! with the key and the line it is on, before anything connects anywhere.
//! Secrets never live here: passwords and tokens go to the OS keyring
//! ([`crate::platform::secrets`]).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::cm::auth::AuthMethod;
mod audit_forwarding;
mod cards;
mod edit;
pub(crate) mod effective;
mod error;
mod kiosk_site;
mod overrides;
pub mod policy;
pub(crate) mod supervisors;
mod write;

pub use audit_forwarding::{AuditForwarding, BadSyslogAddress};
pub use cards::{CARD_ID_FALLBACK_REMOVED, CardSettings, FamilyEntry, FamilyName};
pub use edit::write_top_level_key;
pub use error::{ConfigError, KeyProblem, ValueProblem};
pub use kiosk_site::KioskSite;
pub use overrides::{Override, OverrideSource, Overrides};
pub use policy::{Policy, PolicyError, PolicySource};
pub use supervisors::SupervisorEntry;

/// The file's name inside the config directory.
pub const CONFIG_FILE_NAME: &str = "station.toml";

/// Everything the file can say. Every field is optional in the file; a
/// missing one takes the default shown in the README.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StationConfig {
    /// The CM server, e.g. `https://cm.contoso.com` (the API path is appended).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<ServerAddress>,
    /// The station's name in the audit journal (default: the host name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub station_name: Option<StationName>,
    /// How the station is used: at a desk, a supervised counter, or a kiosk.
    pub mode: Mode,
    /// Seconds between automatic refreshes of the request list.
    pub refresh_interval_secs: Seconds<30>,
    /// Kiosk mode: seconds without a touch or key before the flow starts
    /// over, clearing what the last person entered.
    pub kiosk_idle_secs: Seconds<60>,
    /// Batches: the most binds (so POSTs to CM) running at once.
    pub batch_max_concurrent_posts: BatchCap,
    /// Reader-name patterns to ignore (`*` and `?` wildcards, any case).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ignore_readers: Vec<String>,
    /// The audit journal (default: the platform's data directory).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_file: Option<PathBuf>,
    /// Trust and client identity.
    pub tls: TlsSettings,
    /// How long to wait for the server.
    pub timeouts: Timeouts,
    /// How the station proves who it works for.
    pub auth: AuthSettings,
    /// Site policies about cards.
    pub cards: CardSettings,
    /// `[[supervisors]]`: who may confirm a bind in supervised mode, or leave
    /// a kiosk; names with argon2 password hashes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub supervisors: Vec<SupervisorEntry>,
    /// Draw the window's text and widgets 1.25 times larger.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub larger_text: bool,
    /// The readers panel's width in points, as the operator last dragged it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readers_panel_width: Option<u16>,
    /// `[kiosk_site]`: the site's texts and logo at the kiosk.
    #[serde(default, skip_serializing_if = "KioskSite::is_default")]
    pub kiosk_site: KioskSite,
    /// `[directory]`: where request target accounts are looked up by GUID
    /// (see `docs/directory.md`); checked as a whole when the file is read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directory: Option<crate::directory::DirectorySettings>,
    /// `[audit_forwarding]`: where a copy of every audit record goes as it
    /// is written (journald, syslog over TLS, the Windows Event Log).
    #[serde(default, skip_serializing_if = "AuditForwarding::is_default")]
    pub audit_forwarding: AuditForwarding,
}

/// `[tls]`: what to trust besides the system's roots, and the client certificate.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsSettings {
    /// PEM files with CA certificates to trust besides the system's.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ca_files: Vec<PathBuf>,
    /// Allow plain `http://` to a host that is not this machine (test labs only).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub allow_insecure_http: bool,
    /// The client certificate (PEM, chain allowed) for `auth.method = "client-certificate"`,
    /// or for a site that asks for one besides another method.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_certificate: Option<PathBuf>,
    /// The client certificate's private key (PEM); may be the same file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_key: Option<PathBuf>,
}

/// `[timeouts]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Timeouts {
    /// Seconds to wait for a connection.
    pub connect_secs: Seconds<10>,
    /// Seconds to wait for one call's answer.
    pub request_secs: Seconds<30>,
}

/// `[auth]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthSettings {
    /// `negotiate`, `bearer`, `client-certificate` or `none`.
    pub method: AuthMethod,
    /// Negotiate: the server's Kerberos service principal when it is not
    /// `HTTP/<server host>` (e.g. `HTTP/cm.contoso.com@CONTOSO.COM`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_principal: Option<String>,
    /// Negotiate without a Kerberos ticket: the account to sign in as
    /// (`alice@CONTOSO.COM` or `CONTOSO\alice`); its password is in the OS keyring.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Bearer: a command printing a fresh ADFS token on stdout, program first,
    /// e.g. `["/usr/local/bin/get-cm-token", "--resource", "https://cm.contoso.com/certificatemanagement"]`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub token_command: Vec<String>,
    /// Negotiate: let SPNEGO fall back to NTLM (off: Kerberos only; NTLM
    /// does not prove the server and its answer can be relayed).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub allow_ntlm: bool,
    /// Negotiate: accept a success answer without the server's final token
    /// (mutual authentication), for servers known to omit it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub allow_missing_mutual_auth: bool,
}

/// How the station is used.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// An enrollment agent at a desk.
    #[default]
    Desk,
    /// An unattended kiosk.
    Kiosk,
    /// A counter where a second person witnesses each bind.
    Supervised,
}

impl Mode {
    /// The name used in the file and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Desk => "desk",
            Mode::Kiosk => "kiosk",
            Mode::Supervised => "supervised",
        }
    }
}

/// A server address, checked when the file is read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ServerAddress(String);

impl ServerAddress {
    /// The address as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ServerAddress {
    type Error = ValueProblem;

    fn try_from(value: String) -> Result<Self, ValueProblem> {
        crate::cm::client::api_base_url(&value).map_err(ValueProblem::ServerAddress)?;
        Ok(ServerAddress(value.trim().to_owned()))
    }
}

impl From<ServerAddress> for String {
    fn from(value: ServerAddress) -> String {
        value.0
    }
}

/// A station name: printable, one line, not blank.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct StationName(String);

impl StationName {
    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for StationName {
    type Error = ValueProblem;

    fn try_from(value: String) -> Result<Self, ValueProblem> {
        let trimmed = value.trim();
        if trimmed.is_empty() || trimmed.len() > 64 || trimmed.chars().any(char::is_control) {
            return Err(ValueProblem::StationName(value));
        }
        Ok(StationName(trimmed.to_owned()))
    }
}

impl From<StationName> for String {
    fn from(value: StationName) -> String {
        value.0
    }
}

/// How many binds of a batch may run at once (`batch_max_concurrent_posts`):
/// 1 to 32, 4 when absent. Each bind makes at most one POST, so this caps
/// the POSTs a station sends CM at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "u64")]
pub struct BatchCap(u8);

impl BatchCap {
    /// The largest cap accepted: beyond the readers a counter has, and a
    /// load no CM site should take from one desk.
    pub const MAX: u8 = 32;

    /// The cap.
    pub fn get(self) -> usize {
        usize::from(self.0)
    }
}

impl Default for BatchCap {
    fn default() -> Self {
        // The pure batch's own default, so the two cannot drift apart.
        BatchCap(crate::domain::batch::DEFAULT_MAX_CONCURRENT_POSTS as u8)
    }
}

impl TryFrom<i64> for BatchCap {
    type Error = ValueProblem;

    fn try_from(value: i64) -> Result<Self, ValueProblem> {
        match u8::try_from(value) {
            Ok(cap) if (1..=Self::MAX).contains(&cap) => Ok(BatchCap(cap)),
            _ => Err(ValueProblem::BatchCap {
                value,
                max: Self::MAX,
            }),
        }
    }
}

impl From<BatchCap> for u64 {
    fn from(value: BatchCap) -> u64 {
        u64::from(value.0)
    }
}

/// A whole number of seconds from 1 to a day, with `DEFAULT` when absent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "u64")]
pub struct Seconds<const DEFAULT: u64>(u64);

impl<const DEFAULT: u64> Seconds<DEFAULT> {
    /// The largest value accepted: a day.
    pub const MAX: u64 = 86_400;

    /// The value in seconds.
    pub fn get(self) -> u64 {
        self.0
    }

    /// As a duration.
    pub fn duration(self) -> std::time::Duration {
        std::time::Duration::from_secs(self.0)
    }

    /// Checks a value given elsewhere (the command line, the Settings view).
    pub fn new(value: u64) -> Result<Self, ValueProblem> {
        Self::try_from(i64::try_from(value).unwrap_or(i64::MAX))
    }
}

impl<const DEFAULT: u64> Default for Seconds<DEFAULT> {
    fn default() -> Self {
        Seconds(DEFAULT)
    }
}

impl<const DEFAULT: u64> TryFrom<i64> for Seconds<DEFAULT> {
    type Error = ValueProblem;

    fn try_from(value: i64) -> Result<Self, ValueProblem> {
        match u64::try_from(value) {
            Ok(secs) if (1..=Self::MAX).contains(&secs) => Ok(Seconds(secs)),
            _ => Err(ValueProblem::Seconds {
                value,
                max: Self::MAX,
            }),
        }
    }
}

impl<const DEFAULT: u64> From<Seconds<DEFAULT>> for u64 {
    fn from(value: Seconds<DEFAULT>) -> u64 {
        value.0
    }
}

impl StationConfig {
    /// Parses the text of a configuration file; `path` names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<StationConfig, ConfigError> {
        let config: StationConfig = toml::from_str(text).map_err(|error| ConfigError::Invalid {
            path: path.to_owned(),
            detail: error.to_string(),
        })?;
        config
            .check()
            .map_err(|problem| ConfigError::Inconsistent {
                path: Some(path.to_owned()),
                key: problem.key,
                detail: problem.message,
            })?;
        Ok(config)
    }

    /// Reads the file at `path`.
    pub fn load(path: &Path) -> Result<StationConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        StationConfig::parse(&text, path)
    }

    /// Reads the file at `path` when there is one; the defaults when there is not.
    pub fn load_if_present(path: &Path) -> Result<StationConfig, ConfigError> {
        match std::fs::metadata(path) {
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                Ok(StationConfig::default())
            }
            _ => StationConfig::load(path),
        }
    }

    /// The checks that span several keys. `Err` names the key to change and
    /// says what to set.
    pub fn check(&self) -> Result<(), KeyProblem> {
        let tls = &self.tls;
        if tls.client_key.is_some() && tls.client_certificate.is_none() {
            return Err(KeyProblem::new(
                "tls.client_key",
                "tls.client_key is set but tls.client_certificate is not: give the certificate \
                 file too",
            ));
        }
        match self.auth.method {
            AuthMethod::ClientCertificate if tls.client_certificate.is_none() => {
                return Err(KeyProblem::new(
                    "auth.method",
                    "auth.method is \"client-certificate\" but tls.client_certificate is not \
                     set: give the PEM file of the station's certificate",
                ));
            }
            AuthMethod::Bearer | AuthMethod::ClientCertificate | AuthMethod::None => {
                let set = [
                    (
                        "auth.service_principal",
                        self.auth.service_principal.is_some(),
                    ),
                    ("auth.user", self.auth.user.is_some()),
                ];
                if let Some((key, _)) = set.into_iter().find(|(_, set)| *set) {
                    return Err(KeyProblem::new(
                        key,
                        format!(
                            "{key} only applies to auth.method = \"negotiate\", but the method \
                             is \"{}\": remove the key or change the method",
                            self.auth.method.name()
                        ),
                    ));
                }
            }
            AuthMethod::Negotiate => {}
        }
        if !self.auth.token_command.is_empty() && self.auth.method != AuthMethod::Bearer {
            return Err(KeyProblem::new(
                "auth.token_command",
                format!(
                    "auth.token_command only applies to auth.method = \"bearer\", but the \
                     method is \"{}\": remove the key or change the method",
                    self.auth.method.name()
                ),
            ));
        }
        if self
            .auth
            .token_command
            .first()
            .is_some_and(|p| p.trim().is_empty())
        {
            return Err(KeyProblem::new(
                "auth.token_command",
                "auth.token_command starts with an empty program name: give the program first, \
                 then its arguments",
            ));
        }
        if let Some(program) = self.auth.token_command.first()
            && !Path::new(program.trim()).is_absolute()
        {
            return Err(KeyProblem::new(
                "auth.token_command",
                format!(
                    "auth.token_command must name its program by an absolute path (e.g. \
                     /usr/local/bin/get-cm-token), not \"{program}\": a bare name would be looked \
                     up on PATH, which whoever starts the station decides"
                ),
            ));
        }
        supervisors::check_unique_names(&self.supervisors)?;
        supervisors::check_accounts(&self.supervisors)?;
        self.cards.family_table()?;
        Ok(())
    }

    /// What an operator should know about this configuration though it
    /// loads: keys that were removed and are ignored.
    pub fn warnings(&self) -> Vec<&'static str> {
        let mut warnings = Vec::new();
        if self.cards.card_id_fallback.is_some() {
            warnings.push(CARD_ID_FALLBACK_REMOVED);
        }
        warnings
    }
}

/// The configuration file's default place: `station.toml` in the platform's
/// config directory (`~/.config/enroll-station/` on Linux,
/// `%APPDATA%\enroll-station\config\` on Windows). `None` without a home directory.
pub fn default_config_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "enroll-station")
        .map(|dirs| dirs.config_dir().join(CONFIG_FILE_NAME))
}

/// Writes the "Larger text" choice into the configuration file and nothing
/// else: every other line, comments included, stays as written. Off is the
/// default, so a file without the key is left alone; without a file, one
/// holding only `larger_text = true` is made.
pub fn save_larger_text(path: &Path, on: bool) -> Result<(), ConfigError> {
    edit::write_top_level_key(path, "larger_text", toml_edit::Value::from(on), on)
}

/// Writes the readers panel's width into the configuration file: that key
/// only, every other line kept as written.
pub fn save_readers_panel_width(path: &Path, width: u16) -> Result<(), ConfigError> {
    edit::write_top_level_key(
        path,
        "readers_panel_width",
        toml_edit::Value::from(i64::from(width)),
        true,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<StationConfig, String> {
        StationConfig::parse(text, Path::new("station.toml")).map_err(|e| e.to_string())
    }

    #[test]
    fn the_batch_cap_is_one_to_thirty_two_and_four_when_absent() {
        assert_eq!(
            parse("")
                .expect("defaults")
                .batch_max_concurrent_posts
                .get(),
            4
        );
        let eight = parse("batch_max_concurrent_posts = 8").expect("in range");
        assert_eq!(eight.batch_max_concurrent_posts.get(), 8);
        for wrong in ["0", "33", "-1", "1000"] {
            let error =
                parse(&format!("batch_max_concurrent_posts = {wrong}")).expect_err("out of range");
            assert!(error.contains("from 1 to 32"), "{wrong}: {error}");
        }
    }

    #[test]
    fn an_empty_file_is_the_defaults() {
        let config = parse("").expect("empty is fine");
        assert_eq!(config, StationConfig::default());
        assert_eq!(config.refresh_interval_secs.get(), 30);
        assert_eq!(config.kiosk_idle_secs.get(), 60);
        assert_eq!(config.timeouts.connect_secs.get(), 10);
        assert_eq!(config.timeouts.request_secs.get(), 30);
        // Windows sign-in is what CM deployments use; it only acts on a 401.
        assert_eq!(config.auth.method, AuthMethod::Negotiate);
        assert_eq!(config.mode, Mode::Desk);
    }

    #[test]
    fn a_full_file_is_read() {
        let config = parse(
            r#"
server = "https://cm.contoso.com"
station_name = "Desk 12"
mode = "supervised"
refresh_interval_secs = 60
ignore_readers = ["*Windows Hello*"]
audit_file = "/var/lib/enroll-station/audit.jsonl"

[tls]
ca_files = ["/etc/ssl/contoso-root.pem"]
client_certificate = "/etc/enroll-station/station.pem"

[timeouts]
connect_secs = 5
request_secs = 20

[auth]
method = "negotiate"
service_principal = "HTTP/cm.contoso.com@CONTOSO.COM"

[[cards.families]]
atr = "3b:7f:96:00:00:80:31:80:65:b0:85:59:56:fb:12:0f:fe:82:90:00"
mask = "ff:ff:00:ff:ff:ff:ff:ff:ff:ff:ff:00:00:00:ff:00:00:ff:ff:ff"
family = "idprime"
name = "Our eTokens"
"#,
        )
        .expect("valid");
        assert_eq!(
            config.server.as_ref().map(ServerAddress::as_str),
            Some("https://cm.contoso.com")
        );
        assert_eq!(config.mode, Mode::Supervised);
        assert_eq!(config.refresh_interval_secs.get(), 60);
        assert_eq!(config.timeouts.connect_secs.get(), 5);
        assert_eq!(config.auth.method, AuthMethod::Negotiate);
        assert_eq!(
            config.tls.ca_files,
            [PathBuf::from("/etc/ssl/contoso-root.pem")]
        );
        assert_eq!(config.cards.families.len(), 1);
        let table = config.cards.family_table().expect("valid rows");
        assert_eq!(table.rows()[0].name, "Our eTokens");
        assert!(config.warnings().is_empty());
    }

    #[test]
    fn the_removed_cplc_fallback_loads_with_a_warning_and_is_not_written_back() {
        let config = parse("[cards]\ncard_id_fallback = \"cplc\"\n").expect("still loads");
        let warnings = config.warnings();
        assert_eq!(warnings, [CARD_ID_FALLBACK_REMOVED]);
        assert!(warnings[0].contains("never the one Windows reports"));
        assert!(warnings[0].contains("Delete the line"));
        assert!(!config.to_toml().expect("toml").contains("card_id_fallback"));
    }

    #[test]
    fn a_bad_family_row_is_named_with_its_number() {
        let error = parse(
            "[[cards.families]]\natr = \"3b00\"\nfamily = \"gids\"\n[[cards.families]]\natr = \"3b:zz\"\nfamily = \"piv\"\n",
        )
        .expect_err("bad hex");
        assert!(error.contains("cards.families row 2"), "{error}");
        let error = parse("[[cards.families]]\natr = \"3b00\"\nfamily = \"cplc\"\n")
            .expect_err("bad family");
        assert!(error.contains("idprime"), "the choices are listed: {error}");
    }

    #[test]
    fn an_unknown_key_is_named_with_its_line() {
        let error = parse("server = \"https://cm.contoso.com\"\n\n[tls]\nca_file = \"x.pem\"\n")
            .expect_err("unknown key");
        assert!(error.contains("ca_file"), "{error}");
        assert!(error.contains("line 4"), "{error}");
        assert!(
            error.contains("ca_files"),
            "the valid keys are listed: {error}"
        );
    }

    #[test]
    fn a_bad_value_is_named_with_its_key_and_line() {
        let error = parse("mode = \"desk\"\n[timeouts]\nconnect_secs = 0\n").expect_err("zero");
        assert!(error.contains("line 3"), "{error}");
        assert!(error.contains("connect_secs"), "{error}");
        assert!(error.contains("from 1 to 86400"), "{error}");

        let error = parse("mode = \"office\"\n").expect_err("bad mode");
        assert!(
            error.contains("line 1") && error.contains("office"),
            "{error}"
        );
        assert!(error.contains("kiosk"), "the choices are listed: {error}");

        let error = parse("\n\nserver = \"ftp://cm\"\n").expect_err("bad url");
        assert!(
            error.contains("line 3") && error.contains("server"),
            "{error}"
        );

        let error = parse("[auth]\nmethod = \"kerberos\"\n").expect_err("bad method");
        assert!(
            error.contains("line 2") && error.contains("negotiate"),
            "{error}"
        );
    }

    #[test]
    fn keys_that_contradict_the_method_are_refused() {
        let error = parse("[auth]\nmethod = \"client-certificate\"\n").expect_err("no cert");
        assert!(error.contains("tls.client_certificate"), "{error}");

        let error =
            parse("[auth]\nmethod = \"bearer\"\nuser = \"alice\"\n").expect_err("user for bearer");
        assert!(
            error.contains("auth.user") && error.contains("negotiate"),
            "{error}"
        );

        let error = parse("[auth]\nmethod = \"negotiate\"\ntoken_command = [\"x\"]\n")
            .expect_err("command for negotiate");
        assert!(error.contains("auth.token_command"), "{error}");
    }

    #[test]
    fn save_then_load_gives_the_same_configuration() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("sub").join("station.toml");
        let mut config = StationConfig {
            server: Some(ServerAddress::try_from("https://cm.contoso.com".to_owned()).expect("ok")),
            mode: Mode::Kiosk,
            kiosk_idle_secs: Seconds::new(90).expect("in range"),
            ..StationConfig::default()
        };
        config.auth.method = AuthMethod::Bearer;
        config.auth.token_command = vec!["/usr/local/bin/get-token".into(), "--fresh".into()];
        config.tls.ca_files = vec![PathBuf::from("/etc/ssl/a.pem")];
        config.save(&path).expect("saved");
        assert_eq!(StationConfig::load(&path).expect("loaded"), config);
        assert!(
            !path.with_extension("toml.new").exists(),
            "no temporary file left"
        );
    }

    #[test]
    fn a_missing_file_is_the_defaults_but_an_unreadable_one_is_an_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        let missing = dir.path().join("none.toml");
        assert_eq!(
            StationConfig::load_if_present(&missing).expect("defaults"),
            StationConfig::default()
        );
        let error = StationConfig::load(&missing).expect_err("explicit path must exist");
        assert!(error.to_string().contains("none.toml"), "{error}");
        // A directory where the file should be cannot be read.
        let error = StationConfig::load_if_present(dir.path()).expect_err("a directory");
        assert!(error.to_string().contains("Cannot read"), "{error}");
    }

    #[test]
    fn the_kiosk_site_table_is_read_written_back_and_left_out_when_empty() {
        let config = parse(
            "mode = \"kiosk\"\n[kiosk_site]\nservice_name = \"Contoso badges\"\n\
             next_step = \"Go to desk 3 for your certificates.\"\n",
        )
        .expect("valid");
        assert_eq!(config.kiosk_site.service_name(), "Contoso badges");
        assert_eq!(
            config.kiosk_site.next_step(),
            "Go to desk 3 for your certificates."
        );
        assert_eq!(config.kiosk_site.help(), kiosk_site::DEFAULT_HELP);
        let text = config.to_toml().expect("toml");
        assert!(text.contains("[kiosk_site]"), "{text}");
        assert_eq!(
            parse(&text).expect("reads back").kiosk_site,
            config.kiosk_site
        );
        assert!(
            !StationConfig::default()
                .to_toml()
                .expect("toml")
                .contains("kiosk_site")
        );
        let error = parse(&format!("[kiosk_site]\nhelp = \"{}\"\n", "x".repeat(400)))
            .expect_err("too long");
        assert!(
            error.contains("line 2") && error.contains("kiosk_site.help"),
            "{error}"
        );
    }

    #[test]
    fn the_directory_table_is_checked_when_read_and_written_back() {
        let text = "[directory]\nurl = \"ldaps://dc1.corp.example\"\nbase_dn = \"DC=corp,DC=example\"\n\
                    bind_dn = \"CN=svc-enroll,DC=corp,DC=example\"\nca_file = \"/etc/ssl/corp.pem\"\n";
        let config = parse(text).expect("valid");
        let directory = config.directory.as_ref().expect("the table");
        assert_eq!(directory.tls(), crate::directory::TlsMode::Ldaps);
        assert_eq!(directory.timeout().as_secs(), 5);
        assert_eq!(
            parse(&config.to_toml().expect("toml")).expect("reads back"),
            config
        );
        assert!(
            !StationConfig::default()
                .to_toml()
                .expect("toml")
                .contains("directory")
        );

        let error = parse(
            "\n[directory]\nurl = \"ldap://dc1\"\nbase_dn = \"DC=corp\"\nsign_in = \"kerberos\"\n",
        )
        .expect_err("kerberos");
        assert!(
            error.contains("not supported yet") && error.contains("line 2"),
            "{error}"
        );
        let error = parse("[directory]\nurl = \"ldap://dc1\"\nbase_dn = \"DC=corp\"\nbind_dn = \"CN=x\"\ntls = \"none\"\n")
            .expect_err("plain password");
        assert!(error.contains("unencrypted"), "{error}");
        let error =
            parse("[directory]\nurl = \"ldaps://dc1\"\nbase_dn = \"DC=corp\"\nbind = \"CN=x\"\n")
                .expect_err("unknown key");
        assert!(
            error.contains("bind_dn"),
            "the valid keys are listed: {error}"
        );
    }

    #[test]
    fn the_readers_width_is_written_alone_and_read_back() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("station.toml");
        std::fs::write(&path, "# site file\nrefresh_interval_secs = 45\n").expect("written");
        save_readers_panel_width(&path, 420).expect("saved");
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(
            text,
            "# site file\nrefresh_interval_secs = 45\nreaders_panel_width = 420\n"
        );
        let config = StationConfig::load_if_present(&path).expect("loads");
        assert_eq!(config.readers_panel_width, Some(420));
        save_readers_panel_width(&path, 380).expect("saved");
        let config = StationConfig::load_if_present(&path).expect("loads");
        assert_eq!(config.readers_panel_width, Some(380));
    }
}
