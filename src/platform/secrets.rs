//! Secrets (a bearer token, the password of a sign-in account) live in the
//! operating system's keyring, never in the configuration file or the logs:
//! the Secret Service (GNOME Keyring, KWallet) on a Linux desktop, the
//! kernel keyring where no Secret Service runs (a kiosk session, a server),
//! the Credential Manager on Windows and the Keychain on macOS.
//!
//! In memory a secret is a [`Secret`] (or, while typed, a [`SecretInput`]):
//! both overwrite their bytes when dropped (`zeroize`). Copies this module
//! cannot wipe, and that exist for as long as the library holding them keeps
//! them: the keyring crate's own buffers, the process environment's copy of
//! `ENROLL_STATION_BEARER_TOKEN`, a `HeaderValue` (reqwest/hyper copy the
//! `Authorization` header into their write buffers; it is marked sensitive so
//! that it is never logged), and the security library's (GSSAPI, SSPI) copy of
//! a password. Core dumps are off (`platform::hardening`), so none of these
//! reaches a crash file.

use std::fmt;
use std::sync::{Arc, OnceLock};

use keyring_core::{CredentialStore, Entry};
use zeroize::{Zeroize, Zeroizing};

/// The keyring "service" all the station's entries are filed under.
pub const SERVICE: &str = "enroll-station";

/// A secret the station keeps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretName {
    /// The ADFS bearer token for a CM server host.
    BearerToken {
        /// The server's host name.
        host: String,
    },
    /// The password of a Negotiate sign-in account.
    Password {
        /// The account, as configured in `auth.user`.
        user: String,
    },
    /// The password of the directory's bind account (`[directory] bind_dn`).
    DirectoryPassword {
        /// The bind account's DN, as configured.
        bind_dn: String,
    },
}

impl SecretName {
    /// The keyring's "user" field for this secret.
    fn account(&self) -> String {
        match self {
            SecretName::BearerToken { host } => format!("bearer-token@{host}"),
            SecretName::Password { user } => format!("password:{user}"),
            SecretName::DirectoryPassword { bind_dn } => format!("directory-password:{bind_dn}"),
        }
    }
}

impl fmt::Display for SecretName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretName::BearerToken { host } => write!(f, "the bearer token for {host}"),
            SecretName::Password { user } => write!(f, "the password of {user}"),
            SecretName::DirectoryPassword { bind_dn } => {
                write!(f, "the directory password of {bind_dn}")
            }
        }
    }
}

/// A secret, shown nowhere: its `Debug` and `Display` hide the value, and
/// its bytes are overwritten when it is dropped (each clone wipes its own).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wraps a value. A `String` is moved in, not copied; a `&str` is copied,
    /// and wiping the original is then the caller's job.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(Zeroizing::new(value.into()))
    }

    /// The value, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<hidden>)")
    }
}

/// The keyring could not be used, in words.
#[derive(Debug, thiserror::Error)]
#[error(
    "The keyring ({store}) could not {action} {name}: {detail}. On a Linux desktop, check that \
     GNOME Keyring or KWallet is running and unlocked."
)]
pub struct KeyringError {
    store: String,
    action: &'static str,
    name: String,
    detail: String,
}

/// No keyring could be opened on this machine, with the keyring crate's words
/// for why. Opened once per process; every later use sees the same answer.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{detail}")]
pub struct NoKeyring {
    detail: String,
}

impl NoKeyring {
    fn new(detail: impl ToString) -> Self {
        NoKeyring {
            detail: detail.to_string(),
        }
    }
}

/// The keyring this process uses, with its label for the operator.
type OpenStore = (Arc<CredentialStore>, &'static str);

fn store() -> Result<&'static OpenStore, &'static NoKeyring> {
    static STORE: OnceLock<Result<OpenStore, NoKeyring>> = OnceLock::new();
    STORE.get_or_init(open_store).as_ref()
}

#[cfg(all(unix, not(target_os = "macos")))]
fn open_store() -> Result<OpenStore, NoKeyring> {
    // The desktop's Secret Service persists across reboots; a session without
    // one (kiosk autologin, SSH) still has the kernel keyring.
    let has_session_bus = std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some();
    if has_session_bus {
        match zbus_secret_service_keyring_store::Store::new() {
            Ok(store) => return Ok((store, "Secret Service")),
            Err(error) => tracing::info!(%error, "no Secret Service; using the kernel keyring"),
        }
    }
    linux_keyutils_keyring_store::Store::new()
        .map(|store| (store as Arc<CredentialStore>, "kernel keyring"))
        .map_err(NoKeyring::new)
}

#[cfg(windows)]
fn open_store() -> Result<OpenStore, NoKeyring> {
    windows_native_keyring_store::Store::new()
        .map(|store| (store as Arc<CredentialStore>, "Windows Credential Manager"))
        .map_err(NoKeyring::new)
}

#[cfg(target_os = "macos")]
fn open_store() -> Result<OpenStore, NoKeyring> {
    apple_native_keyring_store::keychain::Store::new()
        .map(|store| (store as Arc<CredentialStore>, "Keychain"))
        .map_err(NoKeyring::new)
}

#[cfg(not(any(unix, windows)))]
fn open_store() -> Result<OpenStore, NoKeyring> {
    Err(NoKeyring::new("this platform has no supported keyring"))
}

fn entry(name: &SecretName, action: &'static str) -> Result<(Entry, &'static str), KeyringError> {
    let fail = |store: &str, detail: String| KeyringError {
        store: store.to_owned(),
        action,
        name: name.to_string(),
        detail,
    };
    let (store, label) = store().map_err(|no_keyring| fail("none", no_keyring.to_string()))?;
    Entry::new_in_store(store, SERVICE, &name.account())
        .map(|entry| (entry, *label))
        .map_err(|error| fail(label, error.to_string()))
}

/// Reads a secret; `None` when the keyring holds none under that name.
pub fn get(name: &SecretName) -> Result<Option<Secret>, KeyringError> {
    let (entry, label) = entry(name, "read")?;
    match entry.get_password() {
        Ok(value) => Ok(Some(Secret::new(value))),
        Err(keyring_core::Error::NoEntry) => Ok(None),
        Err(error) => Err(KeyringError {
            store: label.to_owned(),
            action: "read",
            name: name.to_string(),
            detail: error.to_string(),
        }),
    }
}

/// Stores a secret, replacing any earlier one.
pub fn set(name: &SecretName, value: &Secret) -> Result<(), KeyringError> {
    let (entry, label) = entry(name, "store")?;
    entry
        .set_password(value.expose())
        .map_err(|error| KeyringError {
            store: label.to_owned(),
            action: "store",
            name: name.to_string(),
            detail: error.to_string(),
        })
}

/// Removes a secret; `false` when there was none.
pub fn delete(name: &SecretName) -> Result<bool, KeyringError> {
    let (entry, label) = entry(name, "remove")?;
    match entry.delete_credential() {
        Ok(()) => Ok(true),
        Err(keyring_core::Error::NoEntry) => Ok(false),
        Err(error) => Err(KeyringError {
            store: label.to_owned(),
            action: "remove",
            name: name.to_string(),
            detail: error.to_string(),
        }),
    }
}

/// The keyring in use, for the connection check and the Settings view.
pub fn store_name() -> Result<&'static str, &'static NoKeyring> {
    store().map(|(_, label)| *label)
}

/// What the password field holds. Its `Debug` hides the text, and it is
/// overwritten before it is let go. Its buffer is reserved up front: a field
/// that grows past its capacity moves to a new buffer, and the old one is
/// freed unwiped (the editor owns the `String` while typing).
pub struct SecretInput(String);

impl Default for SecretInput {
    fn default() -> Self {
        SecretInput(String::with_capacity(SecretInput::RESERVED))
    }
}

impl SecretInput {
    /// Bytes reserved for typing: longer than any password a person types.
    const RESERVED: usize = 256;

    /// The text, for the password field to edit.
    pub fn text_mut(&mut self) -> &mut String {
        &mut self.0
    }

    /// True when nothing is typed.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// True when nothing but spaces is typed.
    pub fn is_blank(&self) -> bool {
        self.0.trim().is_empty()
    }

    /// Moves the text out into a [`Secret`], leaving the field empty and the
    /// field's buffer overwritten.
    pub fn take(&mut self) -> Secret {
        let secret = Secret::new(self.0.trim());
        self.clear();
        secret
    }

    /// Empties the field, overwriting its buffer first.
    pub fn clear(&mut self) {
        // Overwrites the whole buffer, spare capacity included, and keeps it
        // for the next typing.
        self.0.zeroize();
    }
}

impl Drop for SecretInput {
    fn drop(&mut self) {
        self.clear();
    }
}

impl fmt::Debug for SecretInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretInput(<hidden>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_show_their_value() {
        let secret = Secret::new("eyJhbGciOi.secret");
        assert_eq!(format!("{secret:?}"), "Secret(<hidden>)");
    }

    #[test]
    fn typed_secrets_are_moved_out_and_the_field_emptied() {
        let mut input = SecretInput::default();
        input.text_mut().push_str("  correct horse  ");
        let secret = input.take();
        assert_eq!(secret.expose(), "correct horse");
        assert!(input.is_empty());
        assert!(input.0.capacity() >= SecretInput::RESERVED);
        assert_eq!(format!("{input:?}"), "SecretInput(<hidden>)");
    }

    #[test]
    fn names_are_filed_per_host_and_per_user() {
        let token = SecretName::BearerToken {
            host: "cm.contoso.com".into(),
        };
        let password = SecretName::Password {
            user: "alice@CONTOSO.COM".into(),
        };
        assert_eq!(token.account(), "bearer-token@cm.contoso.com");
        assert_eq!(password.account(), "password:alice@CONTOSO.COM");
        assert_eq!(token.to_string(), "the bearer token for cm.contoso.com");
        let directory = SecretName::DirectoryPassword {
            bind_dn: "CN=svc-enroll,OU=Service,DC=corp,DC=example".into(),
        };
        assert_eq!(
            directory.account(),
            "directory-password:CN=svc-enroll,OU=Service,DC=corp,DC=example"
        );
    }
}
