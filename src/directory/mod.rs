//! The directory (Active Directory, or any LDAP server with its attributes):
//! who a request's target account is, as the directory holds it.
//!
//! A CM request names its target account by GUID (`TargetUserUuid`, the
//! account's `objectGUID`); the names on it were typed by the requester.
//! [`Directory::lookup`] finds the account by that GUID and returns its
//! account name, display name, user principal name and photo, every text
//! cleaned for the screen, so the agent compares a face with the person at
//! the desk instead of trusting a typed name (security review H1).
//! [`Directory::search`] finds people by the beginning of their name or
//! account, for the New request form: picking one gives their GUID.
//!
//! One job per module: [`settings`] (`[directory]`), [`filter`] (GUID to
//! LDAP filter), [`search`] (typed text to LDAP filter, the matches),
//! [`tls`] (trust), [`client`] (connect, sign in, search),
//! [`entry`] (a result entry to a person), [`photo`] (bounded JPEG
//! decoding), [`cache`] (answers kept while the station runs), [`error`]
//! (failures in words). `docs/directory.md` is the administrator's side.

pub mod cache;
pub mod client;
pub mod demo;
pub mod entry;
pub mod error;
pub mod filter;
pub mod photo;
pub mod search;
pub mod settings;
pub mod tls;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ldap3::Ldap;
use uuid::Uuid;

pub use error::DirectoryError;
pub use settings::{DirectoryFile, DirectorySettings, SettingsError, SignIn, TlsMode};

use crate::domain::person::Identity;
use crate::platform::secrets::{self, Secret};
use cache::{Answer, Cache};

/// A configured directory: one connection, reused and reopened when it
/// breaks, and the answers cache. Cheap to clone; clones share both.
///
/// Its async methods must run inside a tokio runtime.
#[derive(Clone)]
pub struct Directory {
    inner: Arc<Inner>,
}

struct Inner {
    settings: DirectorySettings,
    password: Secret,
    tls: Option<Arc<rustls::ClientConfig>>,
    /// The open connection; the async lock makes concurrent lookups wait
    /// for one connection attempt rather than each opening their own.
    connection: tokio::sync::Mutex<Option<Ldap>>,
    cache: Mutex<Cache>,
}

impl std::fmt::Debug for Directory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Directory")
            .field("url", &self.inner.settings.url_text())
            .field("bind_dn", &self.inner.settings.bind_dn())
            .finish_non_exhaustive()
    }
}

/// What `enroll-station directory check` reports when everything worked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckReport {
    /// The directory, `ldaps://dc1.corp.example`.
    pub url: String,
    /// How the connection was encrypted.
    pub tls: TlsMode,
    /// The bind account.
    pub bind_dn: String,
    /// The search base that was read.
    pub base_dn: String,
    /// How long connecting, signing in and reading took.
    pub elapsed: Duration,
}

impl std::fmt::Display for CheckReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let encryption = match self.tls {
            TlsMode::Ldaps => "TLS (ldaps)",
            TlsMode::Starttls => "TLS (StartTLS)",
            TlsMode::None => "no encryption (tls = \"none\")",
        };
        writeln!(f, "Directory:  {}", self.url)?;
        writeln!(f, "Encryption: {encryption}")?;
        writeln!(f, "Signed in:  {}", self.bind_dn)?;
        writeln!(f, "Search base {} is readable.", self.base_dn)?;
        writeln!(
            f,
            "The directory answered in {} ms: request target accounts can be checked.",
            self.elapsed.as_millis()
        )
    }
}

impl Directory {
    /// A directory for `settings`, signing in with `password` (the bind
    /// account's, from the keyring: see [`Directory::from_keyring`]).
    /// Connects on the first lookup, not here.
    pub fn new(
        settings: DirectorySettings,
        password: Option<Secret>,
    ) -> Result<Directory, DirectoryError> {
        // An empty password would be an unauthenticated bind (RFC 4513,
        // 5.1.2), which many servers accept as anonymous: never send one.
        let password = password.filter(|p| !p.expose().is_empty()).ok_or_else(|| {
            DirectoryError::NoPassword {
                bind_dn: settings.bind_dn().to_owned(),
            }
        })?;
        let tls = match settings.tls() {
            TlsMode::None => None,
            TlsMode::Ldaps | TlsMode::Starttls => {
                Some(Arc::new(tls::client_config(settings.ca_file())?))
            }
        };
        Ok(Directory {
            inner: Arc::new(Inner {
                settings,
                password,
                tls,
                connection: tokio::sync::Mutex::new(None),
                cache: Mutex::new(Cache::default()),
            }),
        })
    }

    /// [`Directory::new`] with the bind account's password from the OS keyring.
    pub fn from_keyring(settings: DirectorySettings) -> Result<Directory, DirectoryError> {
        let password =
            secrets::get(&settings.secret_name()).map_err(|error| DirectoryError::Keyring {
                detail: error.to_string(),
            })?;
        Directory::new(settings, password)
    }

    /// The settings in use.
    pub fn settings(&self) -> &DirectorySettings {
        &self.inner.settings
    }

    /// The account whose `objectGUID` is `user`: `Ok(None)` when the
    /// directory answered and has none. Answers are cached (see [`cache`]);
    /// the whole lookup, connecting included, takes at most the configured
    /// timeout.
    pub async fn lookup(&self, user: Uuid) -> Answer {
        if let Some(answer) = self.cached(user) {
            return answer;
        }
        let answer = self.ask(user).await;
        self.cache().put(user, answer.clone(), Instant::now());
        answer
    }

    /// [`Directory::lookup`] as what the window shows.
    pub async fn identity(&self, user: Uuid) -> Identity {
        identity_of(self.lookup(user).await)
    }

    /// The cached answer for `user`, without asking the directory.
    pub fn cached(&self, user: Uuid) -> Option<Answer> {
        self.cache().get(user, Instant::now())
    }

    /// Forgets `user`'s answer (a "check again" button).
    pub fn forget(&self, user: Uuid) {
        self.cache().forget(user);
    }

    /// Forgets every answer.
    pub fn forget_all(&self) {
        self.cache().clear();
    }

    /// The people whose names or accounts start with `query` (at most
    /// [`search::MAX_MATCHES`]), never cached: a search is typed once. Like
    /// a lookup it takes at most the configured timeout, on the shared
    /// connection, reopened once when it broke since its last use.
    pub async fn search(
        &self,
        query: &search::PeopleQuery,
    ) -> Result<search::Matches, DirectoryError> {
        let settings = &self.inner.settings;
        let answer = self
            .deadline(async {
                let (mut ldap, reused) = self.connection().await?;
                match client::search(&mut ldap, settings, query).await {
                    Err(error) if reused && error.is_connection_lost() => {
                        tracing::debug!(%error, "directory connection lost; reconnecting");
                        self.drop_connection().await;
                        let (mut ldap, _) = self.connection().await?;
                        client::search(&mut ldap, settings, query).await
                    }
                    answer => answer,
                }
            })
            .await;
        if answer.is_err() {
            self.drop_connection().await;
        }
        answer
    }

    /// Connects, signs in and reads the search base, on a fresh connection
    /// and bypassing the cache: `enroll-station directory check`.
    pub async fn check(&self) -> Result<CheckReport, DirectoryError> {
        let settings = &self.inner.settings;
        let started = Instant::now();
        self.deadline(async {
            let mut ldap =
                client::open(settings, self.inner.tls.as_ref(), &self.inner.password).await?;
            client::read_base(&mut ldap, settings).await?;
            let _ = ldap.unbind().await;
            Ok(())
        })
        .await?;
        Ok(CheckReport {
            url: settings.url_text(),
            tls: settings.tls(),
            bind_dn: settings.bind_dn().to_owned(),
            base_dn: settings.base_dn().to_owned(),
            elapsed: started.elapsed(),
        })
    }

    /// Asks the directory, on the open connection or a new one; a
    /// connection that broke since its last use is reopened once.
    async fn ask(&self, user: Uuid) -> Answer {
        let settings = &self.inner.settings;
        let answer = self
            .deadline(async {
                let (mut ldap, reused) = self.connection().await?;
                match client::find(&mut ldap, settings, user).await {
                    Err(error) if reused && error.is_connection_lost() => {
                        tracing::debug!(%error, "directory connection lost; reconnecting");
                        self.drop_connection().await;
                        let (mut ldap, _) = self.connection().await?;
                        client::find(&mut ldap, settings, user).await
                    }
                    answer => answer,
                }
            })
            .await;
        if answer.is_err() {
            self.drop_connection().await;
        }
        answer.map(|person| person.map(Arc::new))
    }

    /// The open connection (and `true`), or a new one (and `false`).
    async fn connection(&self) -> Result<(Ldap, bool), DirectoryError> {
        let mut slot = self.inner.connection.lock().await;
        if let Some(ldap) = slot.as_mut()
            && !ldap.is_closed()
        {
            return Ok((ldap.clone(), true));
        }
        let inner = &self.inner;
        let ldap = client::open(&inner.settings, inner.tls.as_ref(), &inner.password).await?;
        *slot = Some(ldap.clone());
        Ok((ldap, false))
    }

    async fn drop_connection(&self) {
        self.inner.connection.lock().await.take();
    }

    /// `work`, or [`DirectoryError::Timeout`] after the configured timeout.
    async fn deadline<T>(
        &self,
        work: impl Future<Output = Result<T, DirectoryError>>,
    ) -> Result<T, DirectoryError> {
        let settings = &self.inner.settings;
        tokio::time::timeout(settings.timeout(), work)
            .await
            .unwrap_or_else(|_| {
                Err(DirectoryError::Timeout {
                    url: settings.url_text(),
                    secs: settings.timeout().as_secs(),
                })
            })
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        // The cache holds plain data; a panic elsewhere leaves it usable.
        self.inner
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A lookup's answer as the window shows it.
pub fn identity_of(answer: Answer) -> Identity {
    match answer {
        Ok(Some(person)) => Identity::Found(person),
        Ok(None) => Identity::NotFound,
        Err(error) => Identity::Failed(error.to_string()),
    }
}
