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
    HashCost, PasswordHashPhc, SupervisorEntry, SupervisorName, check_unique_names, config_snippet,
    hash_password,
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
         --name NAME` prints it) and start the station again."
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
    /// The witness of a bind is the operator themself.
    #[error(
        "{supervisor} is signed in at this station as the operator: a bind must be confirmed by \
         another supervisor."
    )]
    IsOperator {
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
    if let SupervisorPurpose::ConfirmBind(_) = purpose {
        check_witness(operator, &supervisor)?;
    }
    Ok(supervisor)
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
    /// The configured supervisors.
    pub store: std::sync::Arc<SupervisorStore>,
}

impl Supervision {
    /// No supervisor needed, none configured.
    pub fn none() -> Self {
        Self {
            witness: Witness::NotNeeded,
            store: std::sync::Arc::new(SupervisorStore::from_config(&[])),
        }
    }

    /// For a station in `mode` with these supervisors.
    pub fn new(mode: crate::config::Mode, store: std::sync::Arc<SupervisorStore>) -> Self {
        Self {
            witness: Witness::for_station(mode, &store),
            store,
        }
    }
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
        if let Some(shared) = &mut shared {
            *throttle = shared.load();
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

/// The account part of a name: without a `DOMAIN\` prefix or an `@REALM`
/// suffix, lower-case, so `CONTOSO\Alice`, `alice@CONTOSO.COM` and `alice` agree.
fn account(name: &str) -> String {
    let name = name.trim();
    let name = name.rsplit_once('\\').map_or(name, |(_, account)| account);
    let name = name.split_once('@').map_or(name, |(account, _)| account);
    name.to_lowercase()
}

/// Whether `supervisor` names the operator themself (their OS account or the
/// principal the server knows them by); a witness must be another person.
pub fn is_operator(operator: &Operator, supervisor: &str) -> bool {
    let supervisor = account(supervisor);
    [&operator.os_user, &operator.principal]
        .into_iter()
        .flatten()
        .any(|name| account(name) == supervisor)
}

/// Refuses a witness who is the operator.
pub fn check_witness(operator: &Operator, supervisor: &str) -> Result<(), SupervisorError> {
    if is_operator(operator, supervisor) {
        return Err(SupervisorError::IsOperator {
            supervisor: supervisor.to_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::time::Duration;

    pub(crate) fn entry(name: &str, password: &str) -> SupervisorEntry {
        SupervisorEntry {
            name: SupervisorName::try_from(name.to_owned()).expect("name"),
            password_hash: hash_password(&Secret::new(password), HashCost::Minimal).expect("hash"),
        }
    }

    fn store() -> SupervisorStore {
        SupervisorStore::from_config(&[entry("Bob", "correct horse"), entry("Carol", "battery")])
    }

    #[test]
    fn supervisor_right_password_gives_the_configured_name() {
        let store = store();
        assert_eq!(
            store.verify("bob", &Secret::new("correct horse")),
            Ok("Bob".to_owned())
        );
        assert_eq!(
            store.verify(" Carol ", &Secret::new("battery")),
            Ok("Carol".to_owned())
        );
    }

    #[test]
    fn supervisor_wrong_password_and_unknown_name_read_the_same() {
        let store = store();
        let wrong = store.verify("Bob", &Secret::new("battery"));
        let unknown = store.verify("Mallory", &Secret::new("correct horse"));
        assert_eq!(wrong, Err(SupervisorError::Refused));
        assert_eq!(unknown, Err(SupervisorError::Refused));
        assert_eq!(
            store.verify("", &Secret::new("correct horse")),
            Err(SupervisorError::RateLimited {
                retry_after_secs: 30
            })
        );
    }

    #[test]
    fn supervisor_store_without_entries_says_none_configured() {
        let store = SupervisorStore::from_config(&[]);
        assert!(store.is_empty());
        let error = store.verify("Bob", &Secret::new("x")).expect_err("none");
        assert_eq!(error, SupervisorError::NoneConfigured);
        assert!(error.to_string().contains("[[supervisors]]"), "{error}");
        assert!(error.to_string().contains("supervisor hash"), "{error}");
    }

    #[test]
    fn supervisor_refusals_are_rate_limited_doubling_up_to_fifteen_minutes() {
        let store = store();
        let start = Instant::now();
        let at = |secs: u64| move || start + Duration::from_secs(secs);
        let wrong = Secret::new("wrong");
        let right = Secret::new("correct horse");
        assert_eq!(
            store.verify_at("Bob", &wrong, at(0)),
            Err(SupervisorError::Refused)
        );
        assert_eq!(
            store.verify_at("Bob", &wrong, at(1)),
            Err(SupervisorError::Refused)
        );
        assert_eq!(
            store.verify_at("Bob", &wrong, at(2)),
            Err(SupervisorError::RateLimited {
                retry_after_secs: 30
            })
        );
        // Even the right password waits, and the wait counts down.
        assert_eq!(
            store.verify_at("Bob", &right, at(12)),
            Err(SupervisorError::RateLimited {
                retry_after_secs: 20
            })
        );
        assert_eq!(
            store.verify_at("Carol", &wrong, at(32)),
            Err(SupervisorError::RateLimited {
                retry_after_secs: 60
            })
        );
        let mut now = 92;
        let mut last = 0;
        for _ in 0..8 {
            match store.verify_at("Bob", &wrong, at(now)) {
                Err(SupervisorError::RateLimited { retry_after_secs }) => {
                    last = retry_after_secs;
                    now += retry_after_secs;
                }
                other => panic!("expected a wait, got {other:?}"),
            }
        }
        assert_eq!(last, 900, "the wait stops growing at 15 minutes");
        assert_eq!(
            store.verify_at("Bob", &right, at(now)),
            Ok("Bob".to_owned())
        );
        // A success starts the count afresh.
        assert_eq!(
            store.verify_at("Bob", &wrong, at(now + 1)),
            Err(SupervisorError::Refused)
        );
    }

    #[test]
    fn supervisor_refusals_far_apart_are_forgotten() {
        let store = store();
        let start = Instant::now();
        let wrong = Secret::new("wrong");
        for minutes in [0, 6, 12, 18] {
            assert_eq!(
                store.verify_at("Bob", &wrong, || start + Duration::from_secs(minutes * 60)),
                Err(SupervisorError::Refused)
            );
        }
    }

    /// Two stores on one file stand for two processes of one station (the
    /// window and a `bind` command, or a command started again).
    fn sharing(file: &std::path::Path) -> SupervisorStore {
        store().sharing_refusals(file.to_owned())
    }

    #[test]
    fn supervisor_refusals_count_across_the_stations_processes() {
        let dir = tempfile::tempdir().expect("temp dir");
        let journal = dir.path().join("audit.jsonl");
        let file = refusals_path(&journal);
        assert_eq!(file, dir.path().join("audit.supervisor-refusals.json"));
        let wrong = Secret::new("wrong");
        let first = sharing(&file);
        assert_eq!(first.verify("Bob", &wrong), Err(SupervisorError::Refused));
        assert_eq!(first.verify("Bob", &wrong), Err(SupervisorError::Refused));
        drop(first);
        // A new process (a script starting the command again) goes on counting.
        let again = sharing(&file);
        assert_eq!(
            again.verify("Carol", &wrong),
            Err(SupervisorError::RateLimited {
                retry_after_secs: 30
            })
        );
        // And even the right password waits, in any process of the station.
        match sharing(&file).verify("Bob", &Secret::new("correct horse")) {
            Err(SupervisorError::RateLimited { retry_after_secs }) => {
                assert!((29..=30).contains(&retry_after_secs), "{retry_after_secs}");
            }
            other => panic!("expected a wait, got {other:?}"),
        }
        // Another station (another journal) has a count of its own.
        let elsewhere = dir.path().join("other").join("audit.jsonl");
        std::fs::create_dir_all(elsewhere.parent().expect("a parent")).expect("dir");
        assert_eq!(
            store()
                .sharing_refusals(refusals_path(&elsewhere))
                .verify("Bob", &Secret::new("correct horse")),
            Ok("Bob".to_owned())
        );
    }

    #[test]
    fn supervisor_shared_count_is_reset_by_a_success_and_survives_a_damaged_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("audit.supervisor-refusals.json");
        // Five refusals whose wait ended a second ago, two minutes after the last one.
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_millis() as u64;
        let five_refusals_waited_out = || {
            std::fs::write(
                &file,
                format!(
                    r#"{{"refusals":5,"last_refusal_unix_ms":{},"wait_until_unix_ms":{}}}"#,
                    now_ms - 121_000,
                    now_ms - 1_000
                ),
            )
            .expect("write");
        };
        five_refusals_waited_out();
        // One more refusal continues from five: the wait is doubled thrice.
        assert_eq!(
            sharing(&file).verify("Bob", &Secret::new("wrong")),
            Err(SupervisorError::RateLimited {
                retry_after_secs: 240
            })
        );
        five_refusals_waited_out();
        assert_eq!(
            sharing(&file).verify("Bob", &Secret::new("correct horse")),
            Ok("Bob".to_owned())
        );
        let stored = std::fs::read_to_string(&file).expect("read");
        assert!(stored.contains(r#""refusals":0"#), "{stored}");
        // A damaged file neither locks supervisors out nor stops the count.
        std::fs::write(&file, "{ not json").expect("write");
        assert_eq!(
            sharing(&file).verify("Bob", &Secret::new("wrong")),
            Err(SupervisorError::Refused)
        );
        let stored = std::fs::read_to_string(&file).expect("read");
        assert!(stored.contains(r#""refusals":1"#), "{stored}");
    }

    #[test]
    fn supervisor_count_in_an_unwritable_place_is_kept_in_the_process() {
        let dir = tempfile::tempdir().expect("temp dir");
        // A directory where the file should be: it cannot be opened as one.
        let file = dir.path().join("audit.supervisor-refusals.json");
        std::fs::create_dir(&file).expect("dir");
        let store = sharing(&file);
        let wrong = Secret::new("wrong");
        assert_eq!(store.verify("Bob", &wrong), Err(SupervisorError::Refused));
        assert_eq!(store.verify("Bob", &wrong), Err(SupervisorError::Refused));
        assert_eq!(
            store.verify("Bob", &wrong),
            Err(SupervisorError::RateLimited {
                retry_after_secs: 30
            })
        );
    }

    #[test]
    fn supervisor_password_hashes_are_checked_when_read() {
        let good = hash_password(&Secret::new("pw"), HashCost::Minimal).expect("hash");
        assert!(good.as_str().starts_with("$argon2id$v=19$m=8,t=1,p=1$"));
        assert!(PasswordHashPhc::try_from(good.as_str().to_owned()).is_ok());
        for bad in [
            "",
            "hunter2",
            "$argon2id$v=19$m=19456,t=2,p=1$",
            "$pbkdf2-sha256$i=1000$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ",
            "$argon2id$v=19$m=4194304,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
        ] {
            let error = PasswordHashPhc::try_from(bad.to_owned())
                .expect_err(bad)
                .to_string();
            assert!(error.contains("supervisor hash"), "{error}");
        }
    }

    #[test]
    fn supervisor_hash_stays_out_of_debug_output() {
        let entry = entry("Bob", "pw");
        assert!(!format!("{entry:?}").contains("argon2"));
    }

    #[test]
    fn supervisor_snippet_reads_back() {
        let entry = entry("O'Brien \"Ops\"", "pw");
        let text = config_snippet(&entry.name, &entry.password_hash);
        #[derive(serde::Deserialize)]
        struct File {
            supervisors: Vec<SupervisorEntry>,
        }
        let file: File = toml::from_str(&text).expect(&text);
        assert_eq!(file.supervisors, [entry]);
    }

    #[test]
    fn supervisor_operator_is_matched_without_domain_or_case() {
        let operator = Operator {
            os_user: Some("CONTOSO\\Alice".to_owned()),
            principal: None,
        };
        assert!(is_operator(&operator, "alice"));
        assert!(is_operator(&operator, "ALICE"));
        assert!(is_operator(&operator, "contoso\\alice"));
        assert!(is_operator(&operator, "FABRIKAM\\alice"));
        assert!(is_operator(&operator, "alice@CONTOSO.COM"));
        assert!(!is_operator(&operator, "bob"));
        assert!(!is_operator(&operator, "alice2"));
        let by_principal = Operator {
            os_user: Some("kiosk".to_owned()),
            principal: Some("alice@CONTOSO.COM".to_owned()),
        };
        assert!(is_operator(&by_principal, "Alice"));
        assert!(!is_operator(&Operator::default(), "alice"));
        let error = check_witness(&operator, "Alice")
            .expect_err("same person")
            .to_string();
        assert!(error.contains("another supervisor"), "{error}");
        assert!(check_witness(&operator, "Bob").is_ok());
    }

    #[test]
    fn supervisor_check_refuses_the_operator_only_for_a_bind() {
        let store = store();
        let operator = Operator {
            os_user: Some("CONTOSO\\bob".to_owned()),
            principal: None,
        };
        let password = Secret::new("correct horse");
        let bind = SupervisorPurpose::ConfirmBind(crate::domain::bind::BindTarget {
            request_id: uuid::Uuid::nil(),
            person: String::new(),
            reader: "R".into(),
            expected: crate::domain::card::CardIdentity {
                atr: crate::domain::card::Atr::from_bytes(vec![0x3b]),
                card_id: crate::domain::card::CardId::from_raw([1; 16]),
                kind: crate::domain::card::CardKind::Piv,
                chip: None,
                location: None,
                yubikey_serial: None,
            },
            supervisor: None,
        });
        let error = check(&store, &operator, "Bob", &password, &bind)
            .expect_err("own bind")
            .to_string();
        assert!(error.contains("another supervisor"), "{error}");
        assert_eq!(
            check(
                &store,
                &operator,
                "Bob",
                &password,
                &SupervisorPurpose::LeaveKiosk
            ),
            Ok("Bob".to_owned())
        );
        assert_eq!(
            check(&store, &operator, "carol", &Secret::new("battery"), &bind),
            Ok("Carol".to_owned())
        );
    }

    #[test]
    fn supervisor_witness_follows_the_mode() {
        use crate::config::Mode;
        let empty = SupervisorStore::from_config(&[]);
        let some = store();
        assert_eq!(Witness::for_station(Mode::Desk, &some), Witness::NotNeeded);
        assert_eq!(
            Witness::for_station(Mode::Kiosk, &empty),
            Witness::NotNeeded
        );
        assert_eq!(
            Witness::for_station(Mode::Supervised, &some),
            Witness::Needed
        );
        assert_eq!(
            Witness::for_station(Mode::Supervised, &empty),
            Witness::NoneConfigured
        );
    }

    fn parse(text: &str) -> Result<crate::config::StationConfig, String> {
        crate::config::StationConfig::parse(text, std::path::Path::new("station.toml"))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn supervisor_tables_are_read_from_the_configuration_and_written_back() {
        let bob = entry("Bob", "pw");
        let text = format!(
            "mode = \"supervised\"\n\n{}",
            config_snippet(&bob.name, &bob.password_hash)
        );
        let config = parse(&text).expect(&text);
        assert_eq!(config.supervisors, [bob]);
        assert_eq!(parse(&config.to_toml()).expect("round trip"), config);
        assert!(!parse("").expect("empty").to_toml().contains("supervisors"));
    }

    #[test]
    fn a_bad_supervisor_hash_is_named_with_its_key_and_line() {
        let error = parse(
            "mode = \"supervised\"\n\n[[supervisors]]\nname = \"Bob\"\npassword_hash = \"hunter2\"\n",
        )
        .expect_err("not a hash");
        assert!(error.contains("line 5"), "{error}");
        assert!(error.contains("password_hash"), "{error}");
        assert!(error.contains("supervisor hash --name"), "{error}");
        let error = parse("[[supervisors]]\nname = \"Bob\"\n").expect_err("no hash");
        assert!(error.contains("password_hash"), "{error}");
    }

    #[test]
    fn two_supervisors_of_one_name_are_refused() {
        let text = [entry("Bob", "a"), entry("BOB", "b")]
            .iter()
            .map(|e| config_snippet(&e.name, &e.password_hash))
            .collect::<Vec<_>>()
            .join("\n");
        let error = parse(&text).expect_err("two Bobs");
        assert!(error.contains("\"BOB\" is given to two"), "{error}");
    }
}
