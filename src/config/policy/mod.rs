//! The machine policy: keys an administrator pins for every run of the
//! station on this machine, which the operator's own configuration file,
//! `--config`, the environment and the command line cannot change.
//!
//! - Linux and macOS: `/etc/enroll-station/policy.toml`, in the syntax of
//!   `station.toml`, holding only keys of [`PINNABLE_KEYS`]. It and its
//!   directory must be owned by root and not writable by group or others: a
//!   policy anyone can edit is no policy, so the station refuses to start.
//! - Windows: the values under `HKLM\Software\Policies\enroll-station`
//!   (Group Policy, with the ADMX template in `packaging/windows/policy/`);
//!   only administrators can write there.
//!
//! A pinned key wins over every other layer. A layer that tries to set a
//! pinned key to another value is refused in words at start, never merged:
//! see `docs/policy.md`.
//!
//! [`EXTRA_POLICY_VARIABLE`] names one more policy file below the machine's,
//! for tests (which cannot write `/etc`). Its pins are added to the machine
//! policy's, never over them: on a key both pin, the machine policy's value
//! is the one used. Whoever sets the variable could set every key it pins on
//! the command line anyway, and a pin can only stop later layers from
//! changing a value; so an operator who sets it only restricts themselves,
//! and nothing they put there can replace, loosen or switch off the machine
//! policy. The machine policy's path is a constant for the same reason:
//! nothing in the environment or on the command line chooses it.

use std::fmt;
use std::path::{Path, PathBuf};

use super::StationConfig;

mod protect;
mod registry;

use protect::read_protected;

/// The machine policy's file on Linux and macOS.
pub const MACHINE_POLICY_FILE: &str = "/etc/enroll-station/policy.toml";

/// The machine policy's registry key on Windows.
pub const REGISTRY_KEY: &str = r"HKLM\Software\Policies\enroll-station";

/// The variable naming a further policy file that can only add pins.
pub const EXTRA_POLICY_VARIABLE: &str = "ENROLL_STATION_EXTRA_POLICY";

/// Every key a policy can pin, as `station.toml` writes it. A table or a
/// list of tables (`supervisors`, `kiosk_site`, `cards.families`,
/// `directory`) is pinned as a whole.
pub const PINNABLE_KEYS: [&str; 24] = [
    "mode",
    "supervisors",
    "server",
    "station_name",
    "audit_file",
    "kiosk_idle_secs",
    "batch_max_concurrent_posts",
    "kiosk_site",
    "ignore_readers",
    "cards.families",
    "directory",
    "audit_forwarding",
    "tls.ca_files",
    "tls.allow_insecure_http",
    "tls.client_certificate",
    "tls.client_key",
    "timeouts.connect_secs",
    "timeouts.request_secs",
    "auth.method",
    "auth.service_principal",
    "auth.user",
    "auth.token_command",
    "auth.allow_ntlm",
    "auth.allow_missing_mutual_auth",
];

/// The tables whose keys are pinned one by one.
const SPLIT_TABLES: [&str; 4] = ["tls", "timeouts", "auth", "cards"];

/// Where a pin comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PolicySource {
    /// The machine policy file (`/etc/enroll-station/policy.toml`).
    File(PathBuf),
    /// The machine policy in the Windows registry.
    Registry,
    /// The file named by [`EXTRA_POLICY_VARIABLE`].
    Extra(PathBuf),
}

impl fmt::Display for PolicySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicySource::File(path) => write!(f, "{}", path.display()),
            PolicySource::Registry => f.write_str(REGISTRY_KEY),
            PolicySource::Extra(path) => {
                write!(f, "{}, named by {EXTRA_POLICY_VARIABLE}", path.display())
            }
        }
    }
}

/// Why the policy cannot be used, or a configuration contradicts it. Each
/// stops the station before anything connects anywhere.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The policy file exists but cannot be read.
    #[error(
        "The machine policy {path} cannot be read: {source}. The station does not start without it."
    )]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The policy file, or its directory, could be changed by someone else
    /// than the administrator.
    #[error(
        "The machine policy {path} is not protected: {why}. A policy anyone can edit is no \
         policy, so the station does not start. Make it (and its directory) owned by root and \
         writable by nobody else, e.g. `chown root:root {path} && chmod 644 {path}`."
    )]
    Unprotected {
        /// The file or directory.
        path: String,
        /// What is wrong.
        why: String,
    },
    /// The policy is not valid TOML, or a value is wrong.
    #[error("The machine policy ({policy}) is invalid: {detail}")]
    Invalid {
        /// Which policy.
        policy: PolicySource,
        /// What is wrong.
        detail: String,
    },
    /// The policy names a key a policy cannot pin.
    #[error(
        "The machine policy ({policy}) sets `{key}`, which a policy cannot pin. The keys it can \
         pin are: {}.",
        PINNABLE_KEYS.join(", ")
    )]
    NotPinnable {
        /// Which policy.
        policy: PolicySource,
        /// The key.
        key: String,
    },
    /// The registry key cannot be read.
    #[error("The machine policy in {REGISTRY_KEY} cannot be read: {0}")]
    Registry(std::io::Error),
    /// A layer of the configuration sets a pinned key to another value.
    #[error(
        "`{key}` is set by the machine policy ({policy}) to {value}; {remedy}. The station does \
         not start while its configuration contradicts the policy."
    )]
    Conflict {
        /// The key.
        key: &'static str,
        /// The policy that pins it.
        policy: PolicySource,
        /// The pinned value, as TOML text.
        value: String,
        /// What to remove, e.g. "remove it from /home/alice/station.toml".
        remedy: String,
    },
}

/// The pins in force: the keys and the values a policy gives them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Policy {
    /// The pinned values; every key that is not pinned holds its default.
    values: StationConfig,
    /// The pinned keys, each with the policy that pins it.
    pins: Vec<(&'static str, PolicySource)>,
}

impl Policy {
    /// The machine policy of this platform, with the pins of the file named
    /// by [`EXTRA_POLICY_VARIABLE`] added below it. No policy: no pins.
    pub fn load() -> Result<Policy, PolicyError> {
        let mut layers = Vec::new();
        if let Some(layer) = machine_layer()? {
            layers.push(layer);
        }
        if let Some(path) = std::env::var_os(EXTRA_POLICY_VARIABLE).filter(|p| !p.is_empty()) {
            let path = PathBuf::from(path);
            let text =
                read_protected(&path, Owner::RootOrSelf)?.ok_or_else(|| PolicyError::Read {
                    path: path.clone(),
                    source: std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        format!("{EXTRA_POLICY_VARIABLE} names a file that does not exist"),
                    ),
                })?;
            layers.push((PolicySource::Extra(path), text));
        }
        Policy::from_layers(layers)
    }

    /// The policy of `layers` (source, TOML text), strongest first: a key
    /// pinned by an earlier layer keeps that layer's value.
    pub fn from_layers(layers: Vec<(PolicySource, String)>) -> Result<Policy, PolicyError> {
        let mut policy = Policy::default();
        for (source, text) in layers {
            let invalid = |detail: String| PolicyError::Invalid {
                policy: source.clone(),
                detail,
            };
            let table: toml::Table = text
                .parse()
                .map_err(|e: toml::de::Error| invalid(e.to_string()))?;
            let keys = keys_of(&table, &source)?;
            let values: StationConfig =
                toml::from_str(&text).map_err(|e: toml::de::Error| invalid(e.to_string()))?;
            for key in keys {
                if let Some(stronger) = policy.pinned(key) {
                    tracing::warn!(key, %stronger, weaker = %source, "a key pinned twice: the stronger policy's value is used");
                    continue;
                }
                copy_key(key, &values, &mut policy.values);
                policy.pins.push((key, source.clone()));
            }
        }
        Ok(policy)
    }

    /// Nothing is pinned.
    pub fn is_empty(&self) -> bool {
        self.pins.is_empty()
    }

    /// The policy that pins `key`, when one does.
    pub fn pinned(&self, key: &str) -> Option<&PolicySource> {
        self.pins.iter().find(|(k, _)| *k == key).map(|(_, s)| s)
    }

    /// Every pinned key with the policy that pins it.
    pub fn pins(&self) -> impl Iterator<Item = (&'static str, &PolicySource)> {
        self.pins.iter().map(|(k, s)| (*k, s))
    }

    /// The pinned keys.
    pub fn keys(&self) -> Vec<&'static str> {
        self.pins.iter().map(|(k, _)| *k).collect()
    }

    /// The pinned values (every other key holds its default).
    pub fn values(&self) -> &StationConfig {
        &self.values
    }

    /// Puts every pinned value into `config`.
    pub fn apply(&self, config: &mut StationConfig) {
        for (key, _) in &self.pins {
            copy_key(key, &self.values, config);
        }
    }

    /// The pinned keys whose value in `config` is not the policy's.
    pub fn differing(&self, config: &StationConfig) -> Vec<&'static str> {
        self.pins
            .iter()
            .map(|(key, _)| *key)
            .filter(|key| !same(key, &self.values, config))
            .collect()
    }

    /// Refuses a configuration file (its `text`, read from `path`, and what
    /// it parsed to) that sets a pinned key to another value. A file that
    /// repeats the policy's value is accepted: it changes nothing.
    pub fn check_file(
        &self,
        text: &str,
        config: &StationConfig,
        path: &Path,
    ) -> Result<(), PolicyError> {
        let Ok(table) = text.parse::<toml::Table>() else {
            // Parsed already by the caller; a file that does not parse never gets here.
            return Ok(());
        };
        let present = present_keys(&table);
        for (key, _) in &self.pins {
            if present.iter().any(|p| p == key) && !same(key, &self.values, config) {
                return Err(self.conflict(key, format!("remove it from {}", path.display())));
            }
        }
        Ok(())
    }

    /// The refusal for a layer that sets `key` otherwise; `remedy` says what
    /// to remove. `key` must be pinned.
    pub fn conflict(&self, key: &'static str, remedy: String) -> PolicyError {
        PolicyError::Conflict {
            key,
            policy: self
                .pinned(key)
                .cloned()
                .unwrap_or_else(|| PolicySource::File(MACHINE_POLICY_FILE.into())),
            value: self.value_text(key),
            remedy,
        }
    }

    /// The pinned value of `key` as TOML text (`"supervised"`, `60`), or
    /// "its own list" for a table.
    pub fn value_text(&self, key: &str) -> String {
        let Ok(toml::Value::Table(table)) = toml::Value::try_from(&self.values) else {
            return "its own value".to_owned();
        };
        let mut value = None;
        let mut at = &table;
        let parts: Vec<&str> = key.split('.').collect();
        for (i, part) in parts.iter().enumerate() {
            match at.get(*part) {
                Some(toml::Value::Table(inner)) if i + 1 < parts.len() => at = inner,
                found => {
                    value = found;
                    break;
                }
            }
        }
        match value {
            Some(
                v @ (toml::Value::String(_) | toml::Value::Integer(_) | toml::Value::Boolean(_)),
            ) => v.to_string(),
            Some(toml::Value::Array(items)) if items.iter().all(|i| i.is_str()) => {
                toml::Value::Array(items.clone()).to_string()
            }
            None if key.starts_with("tls.") || key.starts_with("auth.") => {
                "nothing (unset)".to_owned()
            }
            None if key == "server" || key == "audit_file" || key == "station_name" => {
                "nothing (unset)".to_owned()
            }
            _ => "its own value".to_owned(),
        }
    }
}

/// The keys of the policy from `source`, each checked against
/// [`PINNABLE_KEYS`]; `Err` names the first key that cannot be pinned.
fn keys_of(table: &toml::Table, source: &PolicySource) -> Result<Vec<&'static str>, PolicyError> {
    present_keys(table)
        .into_iter()
        .map(|key| {
            PINNABLE_KEYS
                .iter()
                .find(|k| **k == key)
                .copied()
                .ok_or_else(|| PolicyError::NotPinnable {
                    policy: source.clone(),
                    key,
                })
        })
        .collect()
}

/// The dotted keys a TOML table sets: top-level keys, and the keys inside
/// the tables pinned key by key (`tls.ca_files`).
pub fn present_keys(table: &toml::Table) -> Vec<String> {
    let mut keys = Vec::new();
    for (key, value) in table {
        match value {
            toml::Value::Table(inner) if SPLIT_TABLES.contains(&key.as_str()) => {
                keys.extend(inner.keys().map(|k| format!("{key}.{k}")));
            }
            _ => keys.push(key.clone()),
        }
    }
    keys
}

/// Whether `key` holds the same value in `a` and `b`.
fn same(key: &str, a: &StationConfig, b: &StationConfig) -> bool {
    let mut copy = b.clone();
    copy_key(key, a, &mut copy);
    copy == *b
}

/// Copies one pinnable key's value from `from` into `to`.
pub(crate) fn copy_key(key: &str, from: &StationConfig, to: &mut StationConfig) {
    match key {
        "mode" => to.mode = from.mode,
        "supervisors" => to.supervisors = from.supervisors.clone(),
        "server" => to.server = from.server.clone(),
        "station_name" => to.station_name = from.station_name.clone(),
        "audit_file" => to.audit_file = from.audit_file.clone(),
        "kiosk_idle_secs" => to.kiosk_idle_secs = from.kiosk_idle_secs,
        "batch_max_concurrent_posts" => {
            to.batch_max_concurrent_posts = from.batch_max_concurrent_posts;
        }
        "kiosk_site" => to.kiosk_site = from.kiosk_site.clone(),
        "ignore_readers" => to.ignore_readers = from.ignore_readers.clone(),
        "cards.families" => to.cards.families = from.cards.families.clone(),
        "directory" => to.directory = from.directory.clone(),
        "audit_forwarding" => to.audit_forwarding = from.audit_forwarding.clone(),
        "tls.ca_files" => to.tls.ca_files = from.tls.ca_files.clone(),
        "tls.allow_insecure_http" => to.tls.allow_insecure_http = from.tls.allow_insecure_http,
        "tls.client_certificate" => to.tls.client_certificate = from.tls.client_certificate.clone(),
        "tls.client_key" => to.tls.client_key = from.tls.client_key.clone(),
        "timeouts.connect_secs" => to.timeouts.connect_secs = from.timeouts.connect_secs,
        "timeouts.request_secs" => to.timeouts.request_secs = from.timeouts.request_secs,
        "auth.method" => to.auth.method = from.auth.method,
        "auth.service_principal" => to.auth.service_principal = from.auth.service_principal.clone(),
        "auth.user" => to.auth.user = from.auth.user.clone(),
        "auth.token_command" => to.auth.token_command = from.auth.token_command.clone(),
        "auth.allow_ntlm" => to.auth.allow_ntlm = from.auth.allow_ntlm,
        "auth.allow_missing_mutual_auth" => {
            to.auth.allow_missing_mutual_auth = from.auth.allow_missing_mutual_auth;
        }
        _ => {}
    }
}

/// Removes the dotted `keys` from a TOML document (a table left empty goes too).
pub(crate) fn remove_keys(document: &mut toml_edit::DocumentMut, keys: &[&str]) {
    for key in keys {
        match key.split_once('.') {
            None => {
                document.remove(key);
            }
            Some((table, inner)) => {
                let now_empty = match document.get_mut(table).and_then(|t| t.as_table_like_mut()) {
                    Some(t) => {
                        t.remove(inner);
                        t.is_empty()
                    }
                    None => false,
                };
                if now_empty {
                    document.remove(table);
                }
            }
        }
    }
}

/// Who may own a policy file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(windows, allow(dead_code))]
enum Owner {
    /// The machine policy: root only.
    Root,
    /// The extra policy: root, or the account running the station (it can
    /// only restrict that account itself).
    RootOrSelf,
}

/// The machine policy of this platform, when there is one.
#[cfg(not(windows))]
fn machine_layer() -> Result<Option<(PolicySource, String)>, PolicyError> {
    let path = PathBuf::from(MACHINE_POLICY_FILE);
    Ok(read_protected(&path, Owner::Root)?.map(|text| (PolicySource::File(path), text)))
}

/// The machine policy of this platform, when there is one.
#[cfg(windows)]
fn machine_layer() -> Result<Option<(PolicySource, String)>, PolicyError> {
    let Some(values) = registry::read().map_err(PolicyError::Registry)? else {
        return Ok(None);
    };
    let text = registry::registry_toml(values)?;
    Ok(Some((PolicySource::Registry, text)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Mode;

    fn machine(text: &str) -> (PolicySource, String) {
        (
            PolicySource::File(MACHINE_POLICY_FILE.into()),
            text.to_owned(),
        )
    }

    #[test]
    fn a_policy_pins_its_keys_and_the_machine_wins_over_the_extra_policy() {
        let extra = (
            PolicySource::Extra("/tmp/extra.toml".into()),
            "mode = \"kiosk\"\nserver = \"https://cm2.contoso.com\"\n".to_owned(),
        );
        let policy = Policy::from_layers(vec![
            machine("mode = \"supervised\"\n[tls]\nca_files = [\"/etc/ssl/a.pem\"]\n"),
            extra,
        ])
        .expect("valid");
        assert_eq!(
            policy.values().mode,
            Mode::Supervised,
            "the machine's value"
        );
        assert_eq!(
            policy.pinned("mode"),
            Some(&PolicySource::File(MACHINE_POLICY_FILE.into()))
        );
        assert!(matches!(
            policy.pinned("server"),
            Some(PolicySource::Extra(_))
        ));
        assert!(policy.pinned("tls.ca_files").is_some());
        assert!(policy.pinned("tls.client_key").is_none());
        let mut config = StationConfig::default();
        policy.apply(&mut config);
        assert_eq!(config.mode, Mode::Supervised);
        assert!(policy.differing(&config).is_empty());
        assert_eq!(policy.value_text("mode"), "\"supervised\"");
    }

    #[test]
    fn a_key_a_policy_cannot_pin_is_refused_by_name() {
        let error = Policy::from_layers(vec![machine("larger_text = true\n")]).expect_err("no");
        assert!(error.to_string().contains("`larger_text`"), "{error}");
        let error = Policy::from_layers(vec![machine("mode = \"office\"\n")]).expect_err("bad");
        assert!(error.to_string().contains("office"), "{error}");
    }

    #[test]
    fn a_file_repeating_the_policy_is_accepted_and_one_contradicting_it_is_refused() {
        let policy = Policy::from_layers(vec![machine("mode = \"supervised\"\n")]).expect("ok");
        let path = Path::new("/home/alice/station.toml");
        let same = "mode = \"supervised\"\n";
        let parsed = StationConfig::parse(same, path).expect("valid");
        policy
            .check_file(same, &parsed, path)
            .expect("the same value");
        let other = "mode = \"desk\"\n";
        let parsed = StationConfig::parse(other, path).expect("valid");
        let error = policy
            .check_file(other, &parsed, path)
            .expect_err("refused");
        assert_eq!(
            error.to_string(),
            "`mode` is set by the machine policy (/etc/enroll-station/policy.toml) to \
             \"supervised\"; remove it from /home/alice/station.toml. The station does not start \
             while its configuration contradicts the policy."
        );
        // A file silent on the key takes the policy's value.
        policy
            .check_file("", &StationConfig::default(), path)
            .expect("nothing said");
    }

    #[test]
    fn removing_keys_leaves_the_rest_and_drops_emptied_tables() {
        let mut document: toml_edit::DocumentMut =
            "mode = \"desk\"\nserver = \"https://cm\"\n[tls]\nca_files = [\"a\"]\n[auth]\nmethod = \"none\"\nuser = \"x\"\n"
                .parse()
                .expect("toml");
        remove_keys(&mut document, &["mode", "tls.ca_files", "auth.user"]);
        assert_eq!(
            document.to_string(),
            "server = \"https://cm\"\n[auth]\nmethod = \"none\"\n"
        );
    }
}
