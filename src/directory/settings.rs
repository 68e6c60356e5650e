//! `[directory]`: where the directory is, how the station signs in to it, and
//! how long it waits. Checked when the configuration file is read, so a
//! mistake is reported with the key and its line before anything connects.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use url::{Host, Url};

use crate::platform::secrets::SecretName;

pub use super::search::DEFAULT_PEOPLE_FILTER;

/// The longest `people_filter` accepted.
const PEOPLE_FILTER_MAX_CHARS: usize = 1000;

/// The default of `timeout_secs`.
pub const DEFAULT_TIMEOUT_SECS: u64 = 5;

/// The longest `timeout_secs` accepted: an agent waits at the desk.
pub const MAX_TIMEOUT_SECS: u64 = 120;

/// How the station signs in to the directory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignIn {
    /// A simple bind as `bind_dn`, its password in the OS keyring.
    #[default]
    Password,
    /// SASL GSSAPI as the station's own account (not supported yet; refused
    /// when the file is read, see `docs/directory.md`).
    Kerberos,
}

/// How the connection is encrypted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TlsMode {
    /// TLS from the first byte: `ldaps://`, port 636 by default.
    Ldaps,
    /// `ldap://`, then the StartTLS operation before anything else is sent.
    Starttls,
    /// Plain `ldap://`, no encryption: tests and labs only. A password is
    /// sent this way only to this machine.
    None,
}

impl TlsMode {
    /// The name used in the file.
    pub fn name(self) -> &'static str {
        match self {
            TlsMode::Ldaps => "ldaps",
            TlsMode::Starttls => "starttls",
            TlsMode::None => "none",
        }
    }
}

/// `[directory]` as the file writes it. Every key is checked by
/// [`DirectorySettings::try_from`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectoryFile {
    /// `ldaps://dc1.corp.example` or `ldap://dc1.corp.example` (a port may follow).
    pub url: String,
    /// Where accounts are searched, e.g. `DC=corp,DC=example`.
    pub base_dn: String,
    /// `password` (default) or `kerberos`.
    #[serde(default)]
    pub sign_in: SignIn,
    /// The bind account's DN for `sign_in = "password"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bind_dn: Option<String>,
    /// `ldaps`, `starttls` or `none`; default: `ldaps` for `ldaps://`,
    /// `starttls` for `ldap://`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsMode>,
    /// A PEM file with CA certificates to trust besides the system's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// Seconds to wait for the directory, per lookup (default 5).
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
    /// The LDAP filter that selects people when the New request form
    /// searches by name; default [`DEFAULT_PEOPLE_FILTER`] (Active
    /// Directory's user accounts). An OpenLDAP directory gives e.g.
    /// `(objectClass=inetOrgPerson)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub people_filter: Option<String>,
}

fn default_timeout_secs() -> u64 {
    DEFAULT_TIMEOUT_SECS
}

impl DirectoryFile {
    /// A password sign-in over the URL's default encryption.
    pub fn new(url: impl Into<String>, base_dn: impl Into<String>) -> DirectoryFile {
        DirectoryFile {
            url: url.into(),
            base_dn: base_dn.into(),
            sign_in: SignIn::Password,
            bind_dn: None,
            tls: None,
            ca_file: None,
            timeout_secs: DEFAULT_TIMEOUT_SECS,
            people_filter: None,
        }
    }
}

/// A `[directory]` value the station cannot use: what is wrong, with the
/// key, and what to set.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SettingsError(String);

/// Checked `[directory]` settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "DirectoryFile", into = "DirectoryFile")]
pub struct DirectorySettings {
    file: DirectoryFile,
    url: Url,
    tls: TlsMode,
    bind_dn: String,
}

impl DirectorySettings {
    /// The directory's address, as checked.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The address for messages: scheme, host and port, nothing else.
    pub fn url_text(&self) -> String {
        let mut text = format!(
            "{}://{}",
            self.url.scheme(),
            self.url.host_str().unwrap_or_default()
        );
        if let Some(port) = self.url.port() {
            text.push_str(&format!(":{port}"));
        }
        text
    }

    /// The search base.
    pub fn base_dn(&self) -> &str {
        self.file.base_dn.trim()
    }

    /// The bind account's DN.
    pub fn bind_dn(&self) -> &str {
        &self.bind_dn
    }

    /// How the connection is encrypted.
    pub fn tls(&self) -> TlsMode {
        self.tls
    }

    /// The filter that selects people in a search by name
    /// (`people_filter`, default [`DEFAULT_PEOPLE_FILTER`]).
    pub fn people_filter(&self) -> &str {
        self.file
            .people_filter
            .as_deref()
            .map(str::trim)
            .unwrap_or(DEFAULT_PEOPLE_FILTER)
    }

    /// The extra CA file, if any.
    pub fn ca_file(&self) -> Option<&std::path::Path> {
        self.file.ca_file.as_deref()
    }

    /// How long one lookup may take, connecting and signing in included.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.file.timeout_secs)
    }

    /// True when the URL's host is this machine (`localhost`, 127.0.0.0/8, `::1`).
    pub fn is_loopback(&self) -> bool {
        is_loopback(&self.url)
    }

    /// The keyring entry holding the bind account's password.
    pub fn secret_name(&self) -> SecretName {
        SecretName::DirectoryPassword {
            bind_dn: self.bind_dn.clone(),
        }
    }

    /// The settings as the file writes them.
    pub fn file(&self) -> &DirectoryFile {
        &self.file
    }
}

impl From<DirectorySettings> for DirectoryFile {
    fn from(settings: DirectorySettings) -> DirectoryFile {
        settings.file
    }
}

impl TryFrom<DirectoryFile> for DirectorySettings {
    type Error = SettingsError;

    fn try_from(file: DirectoryFile) -> Result<DirectorySettings, SettingsError> {
        let fail = |message: String| Err(SettingsError(message));
        let url = match parse_url(&file.url) {
            Ok(url) => url,
            Err(why) => return fail(format!("directory.url \"{}\" {why}", file.url.trim())),
        };
        let base_dn = file.base_dn.trim();
        if base_dn.is_empty() || base_dn.chars().any(char::is_control) {
            return fail(
                "directory.base_dn is empty or not printable: give the DN accounts are searched \
                 under, e.g. base_dn = \"DC=corp,DC=example\""
                    .to_owned(),
            );
        }
        let tls = match (file.tls, url.scheme()) {
            (None, "ldaps") | (Some(TlsMode::Ldaps), "ldaps") => TlsMode::Ldaps,
            (None, _) | (Some(TlsMode::Starttls), "ldap") => TlsMode::Starttls,
            (Some(TlsMode::None), "ldap") => TlsMode::None,
            (Some(mode), scheme) => {
                return fail(format!(
                    "directory.tls = \"{}\" does not fit the {scheme}:// address: use ldaps:// \
                     with \"ldaps\", ldap:// with \"starttls\" or \"none\", or leave tls out to \
                     follow the address",
                    mode.name()
                ));
            }
        };
        if tls == TlsMode::None && file.ca_file.is_some() {
            return fail(
                "directory.ca_file is set but directory.tls = \"none\": a CA file is only used \
                 with TLS; remove one of them"
                    .to_owned(),
            );
        }
        if !(1..=MAX_TIMEOUT_SECS).contains(&file.timeout_secs) {
            return fail(format!(
                "directory.timeout_secs = {} is out of range: give a whole number of seconds \
                 from 1 to {MAX_TIMEOUT_SECS}",
                file.timeout_secs
            ));
        }
        if file.sign_in == SignIn::Kerberos {
            return fail(
                "directory.sign_in = \"kerberos\" is not supported yet: the station signs in to \
                 the directory with a bind account. Set sign_in = \"password\" with bind_dn, \
                 and store its password with `enroll-station directory set-password` (see \
                 docs/directory.md)"
                    .to_owned(),
            );
        }
        let bind_dn = match file.bind_dn.as_deref().map(str::trim) {
            Some(dn) if !dn.is_empty() && !dn.chars().any(char::is_control) => dn.to_owned(),
            _ => {
                return fail(
                    "directory.bind_dn is missing or empty: sign_in = \"password\" needs the \
                     bind account, e.g. bind_dn = \"CN=svc-enroll,OU=Service Accounts,\
                     DC=corp,DC=example\""
                        .to_owned(),
                );
            }
        };
        if let Some(filter) = file.people_filter.as_deref()
            && let Err(why) = check_people_filter(filter.trim())
        {
            return fail(format!(
                "directory.people_filter {why}: give an LDAP filter in parentheses, e.g. \
                 people_filter = \"(objectClass=inetOrgPerson)\", or leave it out for Active \
                 Directory's {DEFAULT_PEOPLE_FILTER}"
            ));
        }
        if tls == TlsMode::None && !is_loopback(&url) {
            return fail(format!(
                "directory.tls = \"none\" would send the password of {bind_dn} unencrypted to \
                 {}: use ldaps:// or StartTLS; plain LDAP with a password is only allowed to \
                 this machine (localhost)",
                url.host_str().unwrap_or_default()
            ));
        }
        Ok(DirectorySettings {
            file,
            url,
            tls,
            bind_dn,
        })
    }
}

/// The URL when it is a usable directory address; `Err` says why not (the
/// caller puts the key and the value in front).
fn parse_url(text: &str) -> Result<Url, &'static str> {
    let url = Url::parse(text.trim()).map_err(|_| {
        "is not an address: give ldaps://host (or ldap://host for StartTLS), e.g. \
         ldaps://dc1.corp.example"
    })?;
    if !matches!(url.scheme(), "ldap" | "ldaps") {
        return Err(
            "is not an LDAP address: give ldaps://host (or ldap://host for StartTLS), e.g. \
             ldaps://dc1.corp.example",
        );
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("names no host: give ldaps://host, e.g. ldaps://dc1.corp.example");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "carries a user or password: give only the host (and port); the bind account is \
             bind_dn and its password is in the keyring",
        );
    }
    if !matches!(url.path(), "" | "/") || url.query().is_some() || url.fragment().is_some() {
        return Err(
            "has a path or query: give only the host (and port); the search base is base_dn",
        );
    }
    Ok(url)
}

/// `Err` says why `filter` is not one LDAP filter in parentheses.
fn check_people_filter(filter: &str) -> Result<(), &'static str> {
    if filter.chars().count() > PEOPLE_FILTER_MAX_CHARS {
        return Err("is too long");
    }
    if filter.chars().any(char::is_control) {
        return Err("holds a control character");
    }
    if !(filter.starts_with('(') && filter.ends_with(')')) {
        return Err("is not in parentheses");
    }
    ldap3::parse_filter(filter)
        .map(|_| ())
        .map_err(|_| "is not a valid LDAP filter")
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        // `ldap` is not a "special" scheme to the URL standard: its IPv4
        // hosts stay text.
        Some(Host::Domain(name)) => {
            name.eq_ignore_ascii_case("localhost")
                || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
        }
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(url: &str) -> DirectoryFile {
        DirectoryFile {
            bind_dn: Some("CN=svc-enroll,DC=corp,DC=example".into()),
            ..DirectoryFile::new(url, "DC=corp,DC=example")
        }
    }

    fn check(file: DirectoryFile) -> Result<DirectorySettings, String> {
        DirectorySettings::try_from(file).map_err(|e| e.to_string())
    }

    #[test]
    fn the_encryption_follows_the_address_unless_given() {
        let settings = check(file("ldaps://dc1.corp.example")).expect("valid");
        assert_eq!(settings.tls(), TlsMode::Ldaps);
        assert_eq!(settings.url_text(), "ldaps://dc1.corp.example");
        assert_eq!(settings.timeout(), Duration::from_secs(5));
        let settings = check(file("ldap://dc1.corp.example:3268/")).expect("valid");
        assert_eq!(settings.tls(), TlsMode::Starttls);
        assert_eq!(settings.url_text(), "ldap://dc1.corp.example:3268");
        let error = check(DirectoryFile {
            tls: Some(TlsMode::Starttls),
            ..file("ldaps://dc1.corp.example")
        })
        .expect_err("StartTLS on ldaps");
        assert!(error.contains("directory.tls"), "{error}");
    }

    #[test]
    fn plain_ldap_with_a_password_is_only_for_this_machine() {
        let plain = |url: &str| DirectoryFile {
            tls: Some(TlsMode::None),
            ..file(url)
        };
        for url in [
            "ldap://127.0.0.1:3389",
            "ldap://localhost",
            "ldap://[::1]:389",
        ] {
            let settings = check(plain(url)).expect(url);
            assert!(settings.is_loopback(), "{url}");
        }
        for url in [
            "ldap://dc1.corp.example",
            "ldap://10.0.0.5",
            "ldap://x.localhost",
        ] {
            let error = check(plain(url)).expect_err(url);
            assert!(
                error.contains("unencrypted") && error.contains("ldaps://"),
                "{error}"
            );
        }
    }

    #[test]
    fn bad_values_are_refused_in_words() {
        for (bad, words) in [
            (file("https://dc1"), "not an LDAP address"),
            (file("dc1.corp.example"), "not an address"),
            (file("ldaps://user:pw@dc1"), "user or password"),
            (file("ldaps://dc1/DC=corp?cn"), "path or query"),
            (
                DirectoryFile {
                    bind_dn: None,
                    ..file("ldaps://dc1")
                },
                "directory.bind_dn",
            ),
            (
                DirectoryFile {
                    timeout_secs: 0,
                    ..file("ldaps://dc1")
                },
                "from 1 to 120",
            ),
            (
                DirectoryFile {
                    base_dn: " ".into(),
                    ..file("ldaps://dc1")
                },
                "directory.base_dn",
            ),
            (
                DirectoryFile {
                    sign_in: SignIn::Kerberos,
                    ..file("ldaps://dc1")
                },
                "not supported yet",
            ),
            (
                DirectoryFile {
                    tls: Some(TlsMode::None),
                    ca_file: Some("ca.pem".into()),
                    ..file("ldap://localhost")
                },
                "directory.ca_file",
            ),
        ] {
            let error = check(bad.clone()).expect_err(&format!("{bad:?}"));
            assert!(error.contains(words), "{bad:?}: {error}");
        }
    }

    #[test]
    fn the_people_filter_is_checked_and_defaults_to_ads_users() {
        let settings = check(file("ldaps://dc1")).expect("valid");
        assert_eq!(settings.people_filter(), DEFAULT_PEOPLE_FILTER);
        let openldap = DirectoryFile {
            people_filter: Some(" (objectClass=inetOrgPerson) ".into()),
            ..file("ldaps://dc1")
        };
        let settings = check(openldap).expect("valid");
        assert_eq!(settings.people_filter(), "(objectClass=inetOrgPerson)");
        for bad in [
            "objectClass=user",
            "(objectClass=user",
            "(&(a=b)",
            "(a=\u{7}b)",
        ] {
            let error = check(DirectoryFile {
                people_filter: Some(bad.into()),
                ..file("ldaps://dc1")
            })
            .expect_err(bad);
            assert!(error.contains("directory.people_filter"), "{bad}: {error}");
        }
    }

    #[test]
    fn the_password_is_filed_under_the_bind_account() {
        let settings = check(file("ldaps://dc1")).expect("valid");
        assert_eq!(
            settings.secret_name(),
            SecretName::DirectoryPassword {
                bind_dn: "CN=svc-enroll,DC=corp,DC=example".into()
            }
        );
    }
}
