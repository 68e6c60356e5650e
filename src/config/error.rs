//! What is wrong with a configuration, in words that name the key to change:
//! the file as a whole ([`ConfigError`]), a value on its own
//! ([`ValueProblem`]), and a key that contradicts another ([`KeyProblem`]).

use std::fmt;
use std::path::PathBuf;

/// A configuration file that cannot be used, in words.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("Cannot read the configuration file {}: {source}. Check the path and its permissions.", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML or has a wrong key or value.
    #[error("The configuration file {} has a mistake: {}Fix the file (or open Settings in the window) and start again.", path.display(), Indented(detail))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The parser's report: the line, the key and what is wrong.
        detail: String,
    },
    /// The file could not be written.
    #[error("Cannot save the configuration file {}: {source}. Check that its folder is writable.", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A value is wrong in a way only the combination of keys shows.
    #[error("The configuration {}: {detail}.", path.as_ref().map_or_else(|| "is not usable".to_owned(), |p| format!("file {} is not usable", p.display())))]
    Inconsistent {
        /// The file, when the configuration came from one.
        path: Option<PathBuf>,
        /// The key to change.
        key: &'static str,
        /// What is wrong and what to set.
        detail: String,
    },
}

/// A value that is wrong in a way only the combination of keys shows: the
/// key to change, and what to set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct KeyProblem {
    /// The key to change, as the file writes it (`auth.user`, `tls.client_key`).
    pub key: &'static str,
    /// What is wrong and what to set, naming the key.
    pub message: String,
}

impl KeyProblem {
    pub(super) fn new(key: &'static str, message: impl Into<String>) -> Self {
        Self {
            key,
            message: message.into(),
        }
    }
}

/// A value refused on its own, before any other key is looked at. Read from
/// the file, the parser puts the key and the line in front of these words;
/// typed elsewhere (Settings, the command line), the caller names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueProblem {
    /// `server`: not a usable CM server address.
    #[error(transparent)]
    ServerAddress(crate::cm::CmError),
    /// `station_name`: blank, too long or not printable.
    #[error("\"{0}\" is not a usable station name: give 1 to 64 printable characters")]
    StationName(String),
    /// A number of seconds (the refresh interval, the kiosk's idle time, a
    /// timeout) outside 1 to `max`.
    #[error("{value} is out of range: give a whole number of seconds from 1 to {max}")]
    Seconds {
        /// What was given.
        value: i64,
        /// The largest value accepted.
        max: u64,
    },
    /// `batch_max_concurrent_posts` outside 1 to `max`.
    #[error("{value} is out of range: give a whole number of binds from 1 to {max}")]
    BatchCap {
        /// What was given.
        value: i64,
        /// The largest value accepted.
        max: u8,
    },
    /// `supervisors.name`: blank, too long or not printable.
    #[error("\"{0}\" is not a usable supervisor name: give 1 to 64 printable characters")]
    SupervisorName(String),
    /// `supervisors.account`: blank, too long or not printable.
    #[error(
        "\"{0}\" is not a usable supervisor account: give their sign-in account, e.g. \
         CONTOSO\\sam, sam@CONTOSO.COM or sam"
    )]
    SupervisorAccount(String),
    /// `supervisors.password_hash`: not an argon2 PHC hash the station can check.
    #[error(
        "this is not a usable argon2 password hash ({0}): paste the whole password_hash line \
         that `enroll-station supervisor hash --name NAME --account ACCOUNT` prints"
    )]
    PasswordHash(String),
}

impl ValueProblem {
    /// The key the value belongs to, when its type sits under only one
    /// (a number of seconds can be any of four).
    pub fn key(&self) -> Option<&'static str> {
        match self {
            ValueProblem::ServerAddress(_) => Some("server"),
            ValueProblem::StationName(_) => Some("station_name"),
            ValueProblem::Seconds { .. } => None,
            ValueProblem::BatchCap { .. } => Some("batch_max_concurrent_posts"),
            ValueProblem::SupervisorName(_) => Some("supervisors.name"),
            ValueProblem::SupervisorAccount(_) => Some("supervisors.account"),
            ValueProblem::PasswordHash(_) => Some("supervisors.password_hash"),
        }
    }
}

/// The parser's multi-line report, kept readable inside one sentence.
struct Indented<'a>(&'a str);

impl fmt::Display for Indented<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f)?;
        for line in self.0.trim_end().lines() {
            writeln!(f, "    {line}")?;
        }
        Ok(())
    }
}
