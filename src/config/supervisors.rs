//! The `[[supervisors]]` tables of the configuration file: names, OS or
//! domain accounts and argon2id PHC hashes, checked when the file is read
//! (checking a password against them is `crate::supervisors`' job).
//!
//! Every table needs an `account`: the four-eyes check compares it with the
//! operator's OS account and CM principal, and a name alone ("Sam
//! Supervisor") never matches an account. A table without one is refused
//! when the file is read, in words that say what to add. Hashes weaker than
//! argon2's recommended minimum (argon2id, 19 MiB, 2 passes, 1 lane; OWASP's
//! too) are refused the same way.

use std::fmt;

use argon2::password_hash::PasswordHasher as _;
use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Params, Version};
use serde::{Deserialize, Serialize};

use super::{KeyProblem, ValueProblem};
use crate::platform::secrets::Secret;

/// A hash asking for more memory than this (KiB) would stall the station at
/// every check; it is refused when the file is read.
const MAX_MEMORY_KIB: u32 = 1024 * 1024;

/// The least memory (KiB), passes and lanes a hash may use: argon2's
/// `Params::DEFAULT`, which is OWASP's minimum for argon2id.
const MIN_MEMORY_KIB: u32 = Params::DEFAULT_M_COST;
const MIN_PASSES: u32 = Params::DEFAULT_T_COST;
const MIN_LANES: u32 = Params::DEFAULT_P_COST;

/// One `[[supervisors]]` table of the configuration file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupervisorEntry {
    /// The name the supervisor types, recorded in the audit journal.
    pub name: SupervisorName,
    /// The supervisor's own OS or domain account (`CONTOSO\sam`,
    /// `sam@CONTOSO.COM` or `sam`): a witness whose account is the
    /// operator's is refused. Required: a table without it is refused when
    /// the file is read (the `Option` lets that refusal be in words).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<SupervisorAccount>,
    /// The argon2 PHC hash of their password (`$argon2id$v=19$m=...`).
    pub password_hash: PasswordHashPhc,
}

/// A supervisor's account: printable, one word, not blank.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SupervisorAccount(String);

impl SupervisorAccount {
    /// The account as configured.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for SupervisorAccount {
    type Error = ValueProblem;

    fn try_from(value: String) -> Result<Self, ValueProblem> {
        let trimmed = value.trim();
        if trimmed.is_empty()
            || trimmed.chars().count() > 256
            || trimmed
                .chars()
                .any(|c| c.is_control() || c.is_whitespace() && c != ' ')
        {
            return Err(ValueProblem::SupervisorAccount(value));
        }
        Ok(SupervisorAccount(trimmed.to_owned()))
    }
}

impl From<SupervisorAccount> for String {
    fn from(value: SupervisorAccount) -> String {
        value.0
    }
}

/// A supervisor's name: printable, one line, not blank.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SupervisorName(String);

impl SupervisorName {
    /// The name as configured.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for SupervisorName {
    type Error = ValueProblem;

    fn try_from(value: String) -> Result<Self, ValueProblem> {
        let trimmed = value.trim();
        if trimmed.is_empty()
            || trimmed.chars().count() > 64
            || trimmed.chars().any(char::is_control)
        {
            return Err(ValueProblem::SupervisorName(value));
        }
        Ok(SupervisorName(trimmed.to_owned()))
    }
}

impl From<SupervisorName> for String {
    fn from(value: SupervisorName) -> String {
        value.0
    }
}

/// An argon2 password hash in PHC form, checked when the file is read.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PasswordHashPhc(String);

impl PasswordHashPhc {
    /// The PHC string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub(crate) fn parsed(&self) -> Option<PasswordHash> {
        PasswordHash::new(&self.0).ok()
    }
}

// A hash is not a password, but it still lets an attacker guess offline:
// it stays out of logs and debug output like the secrets do.
impl fmt::Debug for PasswordHashPhc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHashPhc(<hidden>)")
    }
}

impl TryFrom<String> for PasswordHashPhc {
    type Error = ValueProblem;

    fn try_from(value: String) -> Result<Self, ValueProblem> {
        let value = value.trim().to_owned();
        let explain = |why: &str| ValueProblem::PasswordHash(why.to_owned());
        let hash = PasswordHash::new(&value).map_err(|error| explain(&error.to_string()))?;
        let algorithm = Algorithm::try_from(hash.algorithm.as_str())
            .map_err(|_| explain(&format!("the algorithm is {}", hash.algorithm.as_str())))?;
        if algorithm != Algorithm::Argon2id {
            return Err(explain(&format!(
                "it is {}, and only argon2id resists both GPU guessing and side channels",
                hash.algorithm.as_str()
            )));
        }
        if let Some(version) = hash.version {
            Version::try_from(version).map_err(|_| explain(&format!("version {version}")))?;
        }
        let params = Params::try_from(&hash).map_err(|error| explain(&error.to_string()))?;
        if params.m_cost() > MAX_MEMORY_KIB {
            return Err(explain("it asks for more than 1 GiB of memory per check"));
        }
        if params.m_cost() < MIN_MEMORY_KIB
            || params.t_cost() < MIN_PASSES
            || params.p_cost() < MIN_LANES
        {
            return Err(explain(&format!(
                "its cost (m={}, t={}, p={}) is below the minimum of m={MIN_MEMORY_KIB}, \
                 t={MIN_PASSES}, p={MIN_LANES}, so a stolen configuration would be cheap to \
                 guess from; hash the password again",
                params.m_cost(),
                params.t_cost(),
                params.p_cost()
            )));
        }
        if hash.salt.is_none() || hash.hash.is_none() {
            return Err(explain("the salt or the hash itself is missing"));
        }
        Ok(PasswordHashPhc(value))
    }
}

impl From<PasswordHashPhc> for String {
    fn from(value: PasswordHashPhc) -> String {
        value.0
    }
}

/// Names are compared without case, in any script.
pub(crate) fn same_name(a: &str, b: &str) -> bool {
    a.to_lowercase() == b.to_lowercase()
}

/// Refuses a `[[supervisors]]` table without an `account`: the four-eyes
/// check needs it to tell the supervisor from the operator.
pub fn check_accounts(entries: &[SupervisorEntry]) -> Result<(), KeyProblem> {
    match entries.iter().find(|entry| entry.account.is_none()) {
        Some(entry) => Err(KeyProblem::new(
            "supervisors.account",
            format!(
                "supervisors: the supervisor \"{}\" has no account: add `account = \"DOMAIN\\\\user\"` \
                 (or `user@REALM`, or the local account name) with their own sign-in account to \
                 their [[supervisors]] table, so the station can refuse them as witness of \
                 their own binds (`enroll-station supervisor hash --name NAME --account \
                 ACCOUNT` prints a whole table)",
                entry.name.as_str()
            ),
        )),
        None => Ok(()),
    }
}

/// Refuses two `[[supervisors]]` with the same name (in any case): a name
/// must say who confirmed.
pub fn check_unique_names(entries: &[SupervisorEntry]) -> Result<(), KeyProblem> {
    for (index, entry) in entries.iter().enumerate() {
        let name = entry.name.as_str();
        if entries[..index]
            .iter()
            .any(|earlier| same_name(earlier.name.as_str(), name))
        {
            return Err(KeyProblem::new(
                "supervisors",
                format!(
                    "supervisors: the name \"{name}\" is given to two [[supervisors]] tables: \
                     give each supervisor a name of their own"
                ),
            ));
        }
    }
    Ok(())
}

/// How costly a new hash is to check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashCost {
    /// For a station: argon2id, 64 MiB, 3 passes (RFC 9106's second recommendation,
    /// with one lane).
    Recommended,
    /// The cheapest the station accepts (argon2's default: 19 MiB, 2
    /// passes): for tests, which hash many passwords.
    Minimal,
}

impl HashCost {
    fn params(self) -> Params {
        let (m_cost, t_cost) = match self {
            HashCost::Recommended => (64 * 1024, 3),
            HashCost::Minimal => (MIN_MEMORY_KIB, MIN_PASSES),
        };
        Params::new(m_cost, t_cost, 1, None).unwrap_or(Params::DEFAULT)
    }
}

/// A password that could not be hashed.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// No salt: the operating system's random numbers failed.
    #[error("The system's random number generator failed: try again.")]
    Random,
    /// argon2 refused the password or the parameters.
    #[error("The password could not be hashed: {0}.")]
    Argon2(argon2::password_hash::Error),
    /// The hash came out in a form the configuration would refuse.
    #[error(transparent)]
    Unusable(#[from] ValueProblem),
}

/// Hashes a password for a `[[supervisors]]` table, with a fresh random salt.
pub fn hash_password(password: &Secret, cost: HashCost) -> Result<PasswordHashPhc, HashError> {
    use ring::rand::SecureRandom as _;
    let mut salt = [0u8; 16];
    ring::rand::SystemRandom::new()
        .fill(&mut salt)
        .map_err(|_| HashError::Random)?;
    let hash = Argon2::new(Algorithm::Argon2id, Version::V0x13, cost.params())
        .hash_password_with_salt(password.expose().as_bytes(), &salt)
        .map_err(HashError::Argon2)?;
    Ok(PasswordHashPhc::try_from(hash.to_string())?)
}

/// The `[[supervisors]]` snippet for a configuration file.
pub fn config_snippet(
    name: &SupervisorName,
    account: &SupervisorAccount,
    hash: &PasswordHashPhc,
) -> String {
    // TOML basic strings: the name is printable, but may hold a quote or a
    // backslash (an account of a domain always does).
    let quoted = |text: &str| toml::Value::String(text.to_owned()).to_string();
    format!(
        "[[supervisors]]\nname = {}\naccount = {}\npassword_hash = \"{}\"\n",
        quoted(name.as_str()),
        quoted(account.as_str()),
        hash.as_str()
    )
}
