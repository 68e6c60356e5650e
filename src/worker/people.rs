//! Looks up target accounts in the directory for the window, a few at a
//! time, each answer reported as it comes.
//!
//! The worker only knows the [`PeopleSource`] trait: the LDAP directory
//! and the demo backend's directory both answer through it, so the window
//! behaves the same on either.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use uuid::Uuid;

use super::{Report, ReportSink};

pub use crate::domain::person::LookupResult;

/// A lookup under way.
pub type Lookup<'a> = Pin<Box<dyn Future<Output = LookupResult> + Send + 'a>>;

/// Where target accounts are looked up.
pub trait PeopleSource: Send + Sync {
    /// The account whose GUID (`objectGUID`, CM's `TargetUserUuid`) is `user`.
    fn look_up(&self, user: Uuid) -> Lookup<'_>;
}

/// At most this many lookups at once: a page of rows is about thirty, and
/// a directory must not see a burst of them as an attack.
const AT_ONCE: usize = 4;

/// Runs the lookups of `users` on `runtime`, reporting each answer.
pub(super) fn look_up_people(
    runtime: &tokio::runtime::Handle,
    source: &Arc<dyn PeopleSource>,
    limit: &Arc<tokio::sync::Semaphore>,
    users: Vec<Uuid>,
    sink: &ReportSink,
) {
    for user in users {
        let source = Arc::clone(source);
        let limit = Arc::clone(limit);
        let sink = Arc::clone(sink);
        runtime.spawn(async move {
            // The semaphore is never closed, so a permit always comes.
            let result = match limit.acquire().await {
                Ok(_permit) => source.look_up(user).await,
                Err(_) => return,
            };
            sink(Report::PersonLookedUp { user, result });
        });
    }
}

/// A new limit for [`look_up_people`].
pub(super) fn limit() -> Arc<tokio::sync::Semaphore> {
    Arc::new(tokio::sync::Semaphore::new(AT_ONCE))
}

impl PeopleSource for crate::directory::demo::DemoDirectory {
    fn look_up(&self, user: Uuid) -> Lookup<'_> {
        let found = self.get(user);
        Box::pin(async move { Ok(found) })
    }
}

impl PeopleSource for crate::directory::Directory {
    fn look_up(&self, user: Uuid) -> Lookup<'_> {
        Box::pin(async move {
            match self.lookup(user).await {
                Ok(found) => Ok(found.map(|person| (*person).clone())),
                Err(why) => Err(crate::domain::person::DirectoryFailure(why.to_string())),
            }
        })
    }
}
