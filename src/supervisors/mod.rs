//! Supervisor credentials: the second person who witnesses a bind at a
//! supervised counter, and who lets a kiosk be left or reconfigured.
//!
//! An administrator configures each supervisor as a name with an argon2 PHC
//! hash of their password (`enroll-station supervisor hash` prints the lines).
//! The hashes are checked when the file is read, so a pasted half-hash is
//! named with its line rather than refusing every supervisor later.
//!
//! Checking a password is slow on purpose (argon2): call [`SupervisorStore::verify`]
//! off the UI thread. Wrong credentials are rate-limited per station, not per
//! name, so trying many names does not buy more guesses.

mod throttle;

use std::fmt;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

use argon2::Argon2;
use argon2::password_hash::PasswordVerifier as _;

use crate::audit::Operator;
use crate::config::supervisors::same_name;
pub use crate::config::supervisors::{
    HashCost, PasswordHashPhc, SupervisorAccount, SupervisorEntry, SupervisorName, check_accounts,
    check_unique_names, config_snippet, hash_password,
};
use crate::domain::bind::BindTarget;
use crate::platform::secrets::Secret;
pub use throttle::refusals_path;
use throttle::{SharedCount, Throttle};

/// Why a supervisor credential was not accepted, in words.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum SupervisorError {
    /// The configuration names no supervisor.
    #[error(
        "No supervisor is configured, so nothing can be confirmed. Ask the administrator to add \
         a [[supervisors]] table to the configuration file (`enroll-station supervisor hash \
         --name NAME --account ACCOUNT` prints it) and start the station again."
    )]
    NoneConfigured,
    /// The name or the password is wrong (the same words for both, so a
    /// refusal does not tell which names exist).
    #[error("The supervisor name or password is wrong. Check both and try again.")]
    Refused,
    /// Too many refusals: the station waits before checking again.
    #[error(
        "Too many wrong supervisor credentials: wait {retry_after_secs} s before trying again."
    )]
    RateLimited {
        /// Seconds until the next check is accepted.
        retry_after_secs: u64,
    },
    /// The witness of a bind is the operator themself: the supervisor's
    /// account is the OS account running the station, or the account the
    /// CM server signed in.
    #[error(
        "{supervisor} (account {account}) is the operator signed in at this station ({operator}): \
         a bind must be confirmed by another supervisor."
    )]
    IsOperator {
        /// The supervisor's name as configured.
        supervisor: String,
        /// Their account as configured.
        account: String,
        /// The operator's account it matched.
        operator: String,
    },
    /// The supervisor has no `account`, so nothing shows they are not the operator.
    #[error(
        "{supervisor} has no account in the configuration, so the station cannot tell them from \
         the operator: ask the administrator to add `account = ...` to their [[supervisors]] \
         table, or have another supervisor confirm."
    )]
    NoAccount {
        /// The supervisor's name as configured.
        supervisor: String,
    },
    /// The check never finished: the thread running it stopped (a panic,
    /// or the station shutting down).
    #[error("the work stopped unexpectedly ({why})")]
    Unfinished {
        /// Why, in the runtime's words.
        why: String,
    },
}

/// What a supervisor credential is asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SupervisorPurpose {
    /// Witness this bind (supervised mode).
    ConfirmBind(BindTarget),
    /// Witness a whole batch (supervised mode): one confirmation for all
    /// its binds, shown with its size and its first and last names.
    ConfirmBatch {
        /// The batch.
        batch: uuid::Uuid,
        /// How many requests it holds.
        size: usize,
        /// The first request's person (or GUID).
        first: String,
        /// The last request's person (or GUID).
        last: String,
    },
    /// Leave kiosk mode.
    LeaveKiosk,
    /// Open the Settings view of a kiosk.
    OpenSettings,
}

/// The whole check for one purpose: the credential, and for a bind, that the
/// witness is not the operator. Slow (argon2): call off the UI thread.
/// `Ok` holds the supervisor's name as configured; `Err` says what to do.
pub fn check(
    store: &SupervisorStore,
    operator: &Operator,
    name: &str,
    password: &Secret,
    purpose: &SupervisorPurpose,
) -> Result<String, SupervisorError> {
    let supervisor = store.verify(name, password)?;
    // A kiosk runs under a kiosk account, not a person: only a bind has an
    // operator the supervisor must differ from.
    if let SupervisorPurpose::ConfirmBind(_) | SupervisorPurpose::ConfirmBatch { .. } = purpose {
        check_witness(operator, &supervisor, store.account_of(&supervisor))?;
    }
    Ok(supervisor)
}

impl SupervisorPurpose {
    /// What the credential was asked for, in a few words for the journal.
    pub fn describe(&self) -> String {
        match self {
            SupervisorPurpose::ConfirmBind(target) => {
                format!("to witness the bind of request {}", target.request_id)
            }
            SupervisorPurpose::ConfirmBatch {
                batch,
                size,
                first,
                last,
            } => format!(
                "to witness batch {batch} of {size} requests, from {} to {}",
                crate::domain::text::one_line(first, 100),
                crate::domain::text::one_line(last, 100)
            ),
            SupervisorPurpose::LeaveKiosk => "to leave kiosk mode".to_owned(),
            SupervisorPurpose::OpenSettings => "to open Settings".to_owned(),
        }
    }
}

/// The journal record of a refused credential, and a warning in the log:
/// the name tried, what for and why, never the password. `None` for what is
/// not a refusal of a credential (accepted, nobody configured, the check
/// never finished).
pub fn refusal_record(
    operator: &Operator,
    name_tried: &str,
    purpose: &SupervisorPurpose,
    result: &Result<String, SupervisorError>,
) -> Option<crate::audit::StationEvent> {
    let request_id = match purpose {
        SupervisorPurpose::ConfirmBind(target) => Some(target.request_id),
        _ => None,
    };
    refusal_event(
        operator,
        name_tried,
        &purpose.describe(),
        request_id,
        result,
    )
}

/// [`refusal_record`] for a purpose in words (`what`, "to witness the bind
/// of request …") and the request it concerns, if any.
pub fn refusal_event(
    operator: &Operator,
    name_tried: &str,
    what: &str,
    request_id: Option<uuid::Uuid>,
    result: &Result<String, SupervisorError>,
) -> Option<crate::audit::StationEvent> {
    let why = match result {
        Err(
            why @ (SupervisorError::Refused
            | SupervisorError::RateLimited { .. }
            | SupervisorError::IsOperator { .. }
            | SupervisorError::NoAccount { .. }),
        ) => why,
        _ => return None,
    };
    // The name as typed: one short line, whatever was typed.
    let name = crate::domain::text::one_line(name_tried.trim(), 64);
    tracing::warn!(supervisor = %name, purpose = %what, reason = %why, "supervisor credential refused");
    // The throttle's wait is a lock-out of every supervisor, its own kind.
    let kind = match why {
        SupervisorError::RateLimited { .. } => crate::audit::ControlKind::SupervisorLockedOut,
        _ => crate::audit::ControlKind::SupervisorRefused,
    };
    Some(crate::audit::StationEvent {
        kind,
        operator: operator.clone(),
        supervisor: Some(name),
        request_id,
        changed: None,
        message: format!("Supervisor credential refused {what}: {why}"),
        batch: None,
    })
}

/// Whether a bind needs a supervisor: the one encoding of "this station is
/// supervised", which the worker enforces and the window shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Witness {
    /// A desk or a kiosk: Bind binds.
    #[default]
    NotNeeded,
    /// Supervised mode: Bind opens the supervisor confirmation.
    Needed,
    /// Supervised mode without any `[[supervisors]]`: nothing can be bound.
    NoneConfigured,
}

impl Witness {
    /// For a station in `mode` with these supervisors.
    pub fn for_station(mode: crate::config::Mode, store: &SupervisorStore) -> Self {
        match mode {
            crate::config::Mode::Supervised if store.is_empty() => Witness::NoneConfigured,
            crate::config::Mode::Supervised => Witness::Needed,
            crate::config::Mode::Desk | crate::config::Mode::Kiosk => Witness::NotNeeded,
        }
    }
}

impl Witness {
    /// True when no bind may start without a checked supervisor credential
    /// (including a supervised station with nobody configured to give one).
    pub fn is_required(self) -> bool {
        self != Witness::NotNeeded
    }
}

/// What the station does about supervisors: whether every bind needs one,
/// and who they are. The worker holds it.
#[derive(Clone, Debug)]
pub struct Supervision {
    /// Whether a bind starts only after a supervisor's credential was checked.
    pub witness: Witness,
    /// Whether Settings is saved only after a supervisor's credential opened
    /// it (a supervised or kiosk station).
    pub settings_need_supervisor: bool,
    /// The configured supervisors.
    pub store: std::sync::Arc<SupervisorStore>,
}

impl Supervision {
    /// No supervisor needed, none configured.
    pub fn none() -> Self {
        Self {
            witness: Witness::NotNeeded,
            settings_need_supervisor: false,
            store: std::sync::Arc::new(SupervisorStore::from_config(&[])),
        }
    }

    /// For a station in `mode` with these supervisors.
    pub fn new(mode: crate::config::Mode, store: std::sync::Arc<SupervisorStore>) -> Self {
        Self {
            witness: Witness::for_station(mode, &store),
            settings_need_supervisor: matches!(
                mode,
                crate::config::Mode::Supervised | crate::config::Mode::Kiosk
            ),
            store,
        }
    }
}

/// A supervisor's name and password as typed, sent with an action that a
/// supervised station must have witnessed; the worker checks it like a
/// bind's witness. The password is hidden from `Debug` and wiped when dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SupervisorCredential {
    /// The name as typed.
    pub name: String,
    /// The password.
    pub password: Secret,
}

/// The configured supervisors, and the station's count of wrong credentials.
pub struct SupervisorStore {
    entries: Vec<SupervisorEntry>,
    throttle: Mutex<Throttle>,
    /// The file the count is shared through with the station's other processes.
    shared: Option<PathBuf>,
}

impl fmt::Debug for SupervisorStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SupervisorStore")
            .field("supervisors", &self.entries.len())
            .finish_non_exhaustive()
    }
}

impl SupervisorStore {
    /// The supervisors of the configuration's `[[supervisors]]` tables.
    pub fn from_config(entries: &[SupervisorEntry]) -> Self {
        Self {
            entries: entries.to_vec(),
            throttle: Mutex::new(Throttle::default()),
            shared: None,
        }
    }

    /// The station's supervisors, counting wrong credentials beside its audit
    /// journal with every other process of the station; in this process only
    /// when the journal has no path.
    pub fn for_station(entries: &[SupervisorEntry], journal: Option<&std::path::Path>) -> Self {
        let store = Self::from_config(entries);
        match journal {
            Some(journal) => store.sharing_refusals(refusals_path(journal)),
            None => store,
        }
    }

    /// Keeps the count of wrong credentials in `path` (see [`refusals_path`]),
    /// shared with the station's other processes, instead of in this one only.
    pub fn sharing_refusals(mut self, path: PathBuf) -> Self {
        self.shared = Some(path);
        self
    }

    /// No supervisor is configured.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The account of the supervisor called `name` (in any case), when
    /// there is such a supervisor and their table names one.
    pub fn account_of(&self, name: &str) -> Option<&str> {
        let name = name.trim();
        self.entries
            .iter()
            .find(|entry| same_name(entry.name.as_str(), name))
            .and_then(|entry| entry.account.as_ref())
            .map(SupervisorAccount::as_str)
    }

    /// Checks a name and password (argon2 PHC hashes); slow on purpose: call
    /// off the UI thread. `Ok` holds the name as configured.
    pub fn verify(&self, name: &str, password: &Secret) -> Result<String, SupervisorError> {
        self.verify_at(name, password, Instant::now)
    }

    fn verify_at(
        &self,
        name: &str,
        password: &Secret,
        now: impl Fn() -> Instant,
    ) -> Result<String, SupervisorError> {
        let Some(first) = self.entries.first() else {
            return Err(SupervisorError::NoneConfigured);
        };
        // Held across the hash: checks run one at a time, so parallel
        // guesses cannot slip past the count.
        let mut throttle = self
            .throttle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Another process of this station may have counted refusals: its
        // file is locked across the hash too, and read over this count.
        let mut shared = self.shared.as_deref().and_then(|path| {
            SharedCount::lock(path, now())
                .inspect_err(|error| {
                    tracing::warn!(path = %path.display(), %error, "the supervisor refusal count cannot be shared; counting in this process only");
                })
                .ok()
        });
        if let Some(loaded) = shared.as_mut().and_then(SharedCount::load) {
            *throttle = loaded;
        }
        throttle.check(now())?;
        let wanted = name.trim();
        let entry = self
            .entries
            .iter()
            .find(|entry| same_name(entry.name.as_str(), wanted) && !wanted.is_empty());
        // An unknown name costs the same hash as a known one, so the time a
        // refusal takes does not tell which names exist.
        let matches = matches(entry.unwrap_or(first), password);
        let result = match entry {
            Some(entry) if matches => {
                *throttle = Throttle::default();
                Ok(entry.name.as_str().to_owned())
            }
            _ => Err(throttle.refused(now())),
        };
        if let Some(shared) = &mut shared
            && let Err(error) = shared.store(&throttle)
        {
            tracing::warn!(%error, "the supervisor refusal count could not be written");
        }
        result
    }
}

fn matches(entry: &SupervisorEntry, password: &Secret) -> bool {
    let Some(hash) = entry.password_hash.parsed() else {
        return false;
    };
    Argon2::default()
        .verify_password(password.expose().as_bytes(), &hash)
        .is_ok()
}

/// The user part of an account: without a `DOMAIN\` prefix or an `@REALM`
/// suffix, lower-case, so `CONTOSO\Alice`, `alice@CONTOSO.COM` and `alice`
/// agree. Domains are left out on purpose: a NetBIOS domain (`CONTOSO`) and
/// a Kerberos realm (`CONTOSO.COM`) cannot be matched reliably, and a
/// false match only asks for another witness, while a missed one lets the
/// operator witness their own bind.
fn user_part(name: &str) -> String {
    let name = name.trim();
    let name = name.rsplit_once('\\').map_or(name, |(_, account)| account);
    let name = name.split_once('@').map_or(name, |(account, _)| account);
    name.trim().to_lowercase()
}

/// The operator's account that `account` (a supervisor's) names, if any:
/// their OS account or the principal the server signed in.
pub fn operator_match<'a>(operator: &'a Operator, account: &str) -> Option<&'a str> {
    let wanted = user_part(account);
    if wanted.is_empty() {
        return None;
    }
    [&operator.os_user, &operator.principal]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .find(|name| user_part(name) == wanted)
}

/// Whether the supervisor `account` is the operator themself (their OS
/// account or the principal the server knows them by); a witness must be
/// another person.
pub fn is_operator(operator: &Operator, account: &str) -> bool {
    operator_match(operator, account).is_some()
}

/// Refuses a witness who is the operator, or whose account is not known.
pub fn check_witness(
    operator: &Operator,
    supervisor: &str,
    account: Option<&str>,
) -> Result<(), SupervisorError> {
    let Some(account) = account else {
        return Err(SupervisorError::NoAccount {
            supervisor: supervisor.to_owned(),
        });
    };
    if let Some(matched) = operator_match(operator, account) {
        return Err(SupervisorError::IsOperator {
            supervisor: supervisor.to_owned(),
            account: account.to_owned(),
            operator: matched.to_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests;
