//! What the directory said about each account, kept while the station
//! runs, so a request list of forty does not ask forty times at every
//! refresh.
//!
//! Found and not-found answers are kept for [`KEEP`] (a working day: a
//! changed photo shows up by the next shift); a failure for [`FAILURE_KEEP`]
//! only, so the directory is asked again soon but a list of forty requests
//! does not wait forty times for the same timeout. At most [`MAX_ENTRIES`]
//! answers are kept (a photo is up to 64 KiB); the oldest goes first.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use uuid::Uuid;

use super::error::DirectoryError;
use crate::domain::person::DirectoryPerson;

/// How long a found or not-found answer is kept.
pub const KEEP: Duration = Duration::from_secs(8 * 60 * 60);

/// How long a failure is kept.
pub const FAILURE_KEEP: Duration = Duration::from_secs(10);

/// The most answers kept.
pub const MAX_ENTRIES: usize = 256;

/// A lookup's answer.
pub type Answer = Result<Option<Arc<DirectoryPerson>>, DirectoryError>;

/// The answers, by account GUID.
#[derive(Debug, Default)]
pub struct Cache {
    entries: HashMap<Uuid, (Instant, Answer)>,
}

impl Cache {
    /// The kept answer for `user`, unless it is too old at `now`.
    pub fn get(&self, user: Uuid, now: Instant) -> Option<Answer> {
        let (stored, answer) = self.entries.get(&user)?;
        let keep = if answer.is_ok() { KEEP } else { FAILURE_KEEP };
        (now.saturating_duration_since(*stored) < keep).then(|| answer.clone())
    }

    /// Keeps `answer` for `user` from `now`.
    pub fn put(&mut self, user: Uuid, answer: Answer, now: Instant) {
        if self.entries.len() >= MAX_ENTRIES && !self.entries.contains_key(&user) {
            self.entries.retain(|_, (stored, answer)| {
                let keep = if answer.is_ok() { KEEP } else { FAILURE_KEEP };
                now.saturating_duration_since(*stored) < keep
            });
            if self.entries.len() >= MAX_ENTRIES {
                let oldest = self
                    .entries
                    .iter()
                    .min_by_key(|(_, (stored, _))| *stored)
                    .map(|(user, _)| *user);
                if let Some(oldest) = oldest {
                    self.entries.remove(&oldest);
                }
            }
        }
        self.entries.insert(user, (now, answer));
    }

    /// Forgets `user`, so the next lookup asks the directory.
    pub fn forget(&mut self, user: Uuid) {
        self.entries.remove(&user);
    }

    /// Forgets every answer.
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// How many answers are kept.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when none is.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(user: Uuid) -> Arc<DirectoryPerson> {
        Arc::new(DirectoryPerson {
            user,
            account: "jdoe".into(),
            principal: None,
            display_name: None,
            photo: None,
        })
    }

    fn failure() -> DirectoryError {
        DirectoryError::Timeout {
            url: "ldaps://dc1".into(),
            secs: 5,
        }
    }

    #[test]
    fn answers_are_kept_and_failures_only_briefly() {
        let mut cache = Cache::default();
        let start = Instant::now();
        let (found, missing, failed) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        cache.put(found, Ok(Some(person(found))), start);
        cache.put(missing, Ok(None), start);
        cache.put(failed, Err(failure()), start);
        let soon = start + Duration::from_secs(5);
        assert_eq!(cache.get(found, soon), Some(Ok(Some(person(found)))));
        assert_eq!(cache.get(missing, soon), Some(Ok(None)));
        assert_eq!(cache.get(failed, soon), Some(Err(failure())));
        let later = start + FAILURE_KEEP;
        assert!(cache.get(found, later).is_some());
        assert!(cache.get(missing, later).is_some());
        assert_eq!(cache.get(failed, later), None, "a failure is asked again");
        assert_eq!(cache.get(found, start + KEEP), None);
        cache.forget(found);
        assert_eq!(cache.get(found, soon), None);
    }

    #[test]
    fn the_cache_is_bounded_and_drops_the_oldest() {
        let mut cache = Cache::default();
        let start = Instant::now();
        let first = Uuid::new_v4();
        cache.put(first, Ok(None), start);
        for i in 1..=MAX_ENTRIES as u64 {
            cache.put(Uuid::new_v4(), Ok(None), start + Duration::from_secs(i));
        }
        assert_eq!(cache.len(), MAX_ENTRIES);
        assert_eq!(cache.get(first, start + Duration::from_secs(1)), None);
    }
}
