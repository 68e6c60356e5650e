//! Why a record could not reach a destination. The words end up inside the
//! audit view's "delivery is failing (…)" and `check`'s line for the
//! destination, after its name, so each says what failed in terms an
//! operator can act on; the record itself stays in the journal and is tried
//! again.

use std::io;
use std::path::PathBuf;

use crate::platform::tls_trust::{CaFileProblem, TrustProblem};

/// Why one delivery (or a `check` probe) to a destination failed.
#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    /// No datagram socket could be made to talk to journald.
    #[error("no socket to reach journald: {0}")]
    NoSocket(#[source] io::Error),
    /// journald's socket did not take the datagram: journald is not
    /// running there, or the path is wrong.
    #[error("{}: {source}", socket.display())]
    Journald {
        /// The socket configured (`journald_socket`).
        socket: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// A CA file configured in `syslog_ca_files` cannot be read as PEM.
    #[error("the CA file {} cannot be used: {source}", file.display())]
    CaFile {
        /// The file.
        file: PathBuf,
        /// What is wrong with it.
        source: CaFileProblem,
    },
    /// No trust store to verify the receiver with.
    #[error(transparent)]
    Trust(#[from] TrustProblem),
    /// The receiver's name cannot carry a certificate.
    #[error("{0} is not a host name")]
    NotHostName(String),
    /// Name resolution failed.
    #[error("{host} cannot be found: {source}")]
    NotFound {
        /// The receiver's host name.
        host: String,
        /// The resolver's error.
        source: io::Error,
    },
    /// The name resolved to nothing.
    #[error("{0} has no address")]
    NoAddress(String),
    /// The TCP connection failed or broke (refused, timed out, reset).
    #[error("{0}")]
    Connection(#[source] io::Error),
    /// TLS could not be set up with the receiver's name.
    #[error("TLS: {0}")]
    TlsSetup(#[source] rustls::Error),
    /// The TLS handshake failed: most often the receiver's certificate is
    /// not trusted, or not for its name.
    #[error("TLS: {0}")]
    Handshake(#[source] io::Error),
    /// No connection after connecting (not expected).
    #[error("not connected")]
    NotConnected,
    /// The event source is not registered (the MSI registers it) or
    /// cannot be opened.
    #[cfg(windows)]
    #[error(
        "the event source {} cannot be opened: {source}",
        super::eventlog::SOURCE
    )]
    EventSource {
        /// The operating system's error.
        source: io::Error,
    },
    /// The Event Log refused the event.
    #[cfg(windows)]
    #[error("the event could not be reported: {0}")]
    Report(#[source] io::Error),
}
