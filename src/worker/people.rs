//! Looks up target accounts in the directory for the window, a few at a
//! time, each answer reported as it comes; and finds people by name or
//! account for the New request form ([`find_people`]).
//!
//! The worker only knows the [`PeopleSource`] trait: the LDAP directory
//! and the demo backend's directory both answer through it, so the window
//! behaves the same on either.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use uuid::Uuid;

use super::{Report, ReportSink};

pub use crate::directory::search::{PeopleQuery, SearchResult};
pub use crate::domain::person::LookupResult;

use crate::domain::person::DirectoryFailure;

/// A lookup under way.
pub type Lookup<'a> = Pin<Box<dyn Future<Output = LookupResult> + Send + 'a>>;

/// A search under way.
pub type Search<'a> = Pin<Box<dyn Future<Output = SearchResult> + Send + 'a>>;

/// Where target accounts are looked up.
pub trait PeopleSource: Send + Sync {
    /// The account whose GUID (`objectGUID`, CM's `TargetUserUuid`) is `user`.
    fn look_up(&self, user: Uuid) -> Lookup<'_>;

    /// The people whose names or accounts start with `query`.
    fn search<'a>(&'a self, query: &'a PeopleQuery) -> Search<'a>;
}

/// What a search says on a station without a directory (the form says
/// so before anyone searches; this answers a command sent anyway).
pub const NO_DIRECTORY: &str = "No directory is configured on this station, so people cannot \
     be found by name. Type the person's user GUID, or use their permanent card's ID; an \
     administrator can add the directory in [directory] (see docs/directory.md).";

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

/// Searches `source` for `query` on `runtime`, reporting the matches (or,
/// without a directory, [`NO_DIRECTORY`]). It waits for a place among the
/// lookups, so a search never adds to a burst.
pub(super) fn find_people(
    runtime: &tokio::runtime::Handle,
    source: Option<&Arc<dyn PeopleSource>>,
    limit: &Arc<tokio::sync::Semaphore>,
    query: PeopleQuery,
    sink: &ReportSink,
) {
    let sink = Arc::clone(sink);
    let Some(source) = source.map(Arc::clone) else {
        sink(Report::PeopleFound {
            query,
            result: Err(DirectoryFailure(NO_DIRECTORY.to_owned())),
        });
        return;
    };
    let limit = Arc::clone(limit);
    runtime.spawn(async move {
        // The semaphore is never closed, so a permit always comes.
        let result = match limit.acquire().await {
            Ok(_permit) => source.search(&query).await,
            Err(_) => return,
        };
        sink(Report::PeopleFound { query, result });
    });
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

    fn search<'a>(&'a self, query: &'a PeopleQuery) -> Search<'a> {
        let found = crate::directory::demo::DemoDirectory::search(self, query);
        Box::pin(async move { Ok(found) })
    }
}

impl PeopleSource for crate::directory::Directory {
    fn look_up(&self, user: Uuid) -> Lookup<'_> {
        Box::pin(async move {
            match self.lookup(user).await {
                Ok(found) => Ok(found.map(|person| (*person).clone())),
                Err(why) => Err(DirectoryFailure(why.to_string())),
            }
        })
    }

    fn search<'a>(&'a self, query: &'a PeopleQuery) -> Search<'a> {
        Box::pin(async move {
            crate::directory::Directory::search(self, query)
                .await
                .map_err(|why| DirectoryFailure(why.to_string()))
        })
    }
}
