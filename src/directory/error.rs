//! What went wrong with the directory, in the operator's words: what
//! happened, and what to do. Every failure to ask it ends by saying that
//! the names on screen are unchecked, because that is what it means at the
//! desk: the requester's typing is all there is until the directory answers.

use uuid::Uuid;

/// A directory lookup or check that failed.
///
/// `Clone`, so the lookup cache can answer with the same words for a while
/// instead of making every request on screen wait for the same timeout.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DirectoryError {
    /// `[directory] ca_file` cannot be read or holds no certificate.
    #[error(
        "The directory's CA file {path} cannot be used: {reason}. Fix [directory] ca_file, or \
         remove it to trust only the system's certificate authorities."
    )]
    CaFile {
        /// The file, as configured.
        path: String,
        /// Why.
        reason: String,
    },
    /// The TLS setup itself failed (the system's certificate store).
    #[error(
        "The station cannot set up TLS for the directory: {detail}. Ask the station's \
         administrator. Names on screen are unchecked until the directory answers."
    )]
    TlsSetup {
        /// Why.
        detail: String,
    },
    /// The keyring holds no password for the bind account.
    #[error(
        "No password for the directory account {bind_dn} is stored on this station. Store it \
         with `enroll-station directory set-password`. Names on screen are unchecked until \
         the directory answers."
    )]
    NoPassword {
        /// The bind account.
        bind_dn: String,
    },
    /// The keyring could not be read.
    #[error("{detail} Names on screen are unchecked until the directory answers.")]
    Keyring {
        /// The keyring's words.
        detail: String,
    },
    /// A password would cross the network unencrypted.
    #[error(
        "The station will not send the password of {bind_dn} unencrypted to {url}. Use \
         ldaps:// or StartTLS (tls = \"starttls\"); plain LDAP with a password is only allowed \
         to this machine."
    )]
    Unencrypted {
        /// The directory.
        url: String,
        /// The bind account.
        bind_dn: String,
    },
    /// No connection: refused, no route, the name does not resolve.
    #[error(
        "The directory at {url} could not be reached ({detail}). Check [directory] url and the \
         network, or ask the directory administrator. Names on screen are unchecked until it \
         answers."
    )]
    Unreachable {
        /// The directory.
        url: String,
        /// The system's words.
        detail: String,
    },
    /// No answer within the timeout.
    #[error(
        "The directory at {url} did not answer within {secs} s. Check the network, or ask the \
         directory administrator. Names on screen are unchecked until it answers."
    )]
    Timeout {
        /// The directory.
        url: String,
        /// `[directory] timeout_secs`.
        secs: u64,
    },
    /// The TLS handshake failed, mostly an untrusted or wrong certificate.
    #[error(
        "The directory at {url} could not be trusted: {detail}. If its certificate comes from \
         your own certificate authority, give that CA's PEM file in [directory] ca_file; \
         otherwise ask the directory administrator. Names on screen are unchecked until it \
         answers."
    )]
    Untrusted {
        /// The directory.
        url: String,
        /// rustls' words.
        detail: String,
    },
    /// The server refused StartTLS.
    #[error(
        "The directory at {url} refused to start TLS ({detail}). Use ldaps:// instead, or ask \
         the directory administrator to enable TLS on LDAP. Names on screen are unchecked \
         until it answers."
    )]
    StartTls {
        /// The directory.
        url: String,
        /// The server's words.
        detail: String,
    },
    /// Invalid credentials (result code 49).
    #[error(
        "The directory at {url} refused the sign-in of {bind_dn}: the password is wrong, or \
         the account is locked, disabled or expired. Store the current password with \
         `enroll-station directory set-password`, or ask the directory administrator. Names \
         on screen are unchecked until it answers."
    )]
    BindRefused {
        /// The directory.
        url: String,
        /// The bind account.
        bind_dn: String,
    },
    /// Another bind failure.
    #[error(
        "The directory at {url} did not accept the sign-in of {bind_dn} ({detail}). Ask the \
         directory administrator. Names on screen are unchecked until it answers."
    )]
    BindFailed {
        /// The directory.
        url: String,
        /// The bind account.
        bind_dn: String,
        /// The result code and the server's words.
        detail: String,
    },
    /// The search base does not exist (result code 32).
    #[error(
        "The directory at {url} has no {base_dn}. Check [directory] base_dn (e.g. \
         DC=corp,DC=example). Names on screen are unchecked until it is fixed."
    )]
    NoBase {
        /// The directory.
        url: String,
        /// `[directory] base_dn`.
        base_dn: String,
    },
    /// The search failed otherwise.
    #[error(
        "The directory at {url} refused the search under {base_dn} ({detail}). Check that \
         {bind_dn} may read user accounts, or ask the directory administrator. Names on \
         screen are unchecked until it answers."
    )]
    SearchFailed {
        /// The directory.
        url: String,
        /// `[directory] base_dn`.
        base_dn: String,
        /// The bind account.
        bind_dn: String,
        /// The result code and the server's words.
        detail: String,
    },
    /// More than one account carries the GUID.
    #[error(
        "The directory at {url} holds more than one account with the GUID {user}; the station \
         does not guess which is meant. Ask the directory administrator."
    )]
    Ambiguous {
        /// The directory.
        url: String,
        /// The GUID.
        user: Uuid,
    },
    /// The connection broke, or the answer made no sense.
    #[error(
        "The connection to the directory at {url} failed ({detail}). Try again; if it keeps \
         failing, ask the directory administrator. Names on screen are unchecked until it \
         answers."
    )]
    Broken {
        /// The directory.
        url: String,
        /// What broke.
        detail: String,
    },
}

impl DirectoryError {
    /// True when the connection itself failed, so a fresh one may work.
    pub(super) fn is_connection_lost(&self) -> bool {
        matches!(self, DirectoryError::Broken { .. })
    }
}
