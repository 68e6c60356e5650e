//! The station's count of wrong supervisor credentials, and the waits it imposes.
//!
//! Three refusals are free; each further one makes every credential wait,
//! twice as long as the last time, from 30 s up to 8 hours. The count is
//! forgotten only after a success, or after 24 hours without a refusal
//! (counted from the end of the last wait): a guesser gets a handful of
//! tries a day, not hundreds.
//!
//! The count belongs to the station, not to one process: the window and
//! every `bind --supervisor` command at a station keep it in one file beside
//! the station's audit journal, so it survives restarts. Without that, a
//! script could restart the command for each guess and never wait. A
//! sidecar lock file is held for the whole check (the argon2 hash
//! included), so processes check one at a time, as the window's threads do.
//! The count itself is written to a temporary file renamed over the old
//! one: a crash or a full disk never leaves an empty count behind. Both
//! files are their owner's only (`0600`), and a symbolic link planted at
//! either name is never written through (see [`crate::platform::files`]).
//!
//! A user who can delete the file can also delete the journal: the file
//! stops scripted guessing through the station, not its own account.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use serde::{Deserialize, Serialize};

use super::SupervisorError;

/// Refused attempts allowed before the station makes the next one wait.
const FREE_ATTEMPTS: u32 = 3;
/// Refused attempts further apart than this (after any wait) start the count afresh.
pub(super) const FORGET_AFTER: Duration = Duration::from_secs(24 * 60 * 60);
/// The first wait; it doubles with each further refusal.
const FIRST_WAIT: Duration = Duration::from_secs(30);
/// The longest wait.
pub(super) const LONGEST_WAIT: Duration = Duration::from_secs(8 * 60 * 60);

#[derive(Debug, Default)]
pub(super) struct Throttle {
    refusals: u32,
    last_refusal: Option<Instant>,
    wait_until: Option<Instant>,
}

impl Throttle {
    pub(super) fn check(&mut self, now: Instant) -> Result<(), SupervisorError> {
        if let Some(until) = self.wait_until.filter(|until| *until > now) {
            return Err(SupervisorError::RateLimited {
                retry_after_secs: whole_seconds_up(until - now),
            });
        }
        let quiet_since = self.wait_until.max(self.last_refusal);
        if quiet_since.is_some_and(|since| now.saturating_duration_since(since) > FORGET_AFTER) {
            *self = Throttle::default();
        }
        Ok(())
    }

    pub(super) fn refused(&mut self, now: Instant) -> SupervisorError {
        self.refusals = self.refusals.saturating_add(1);
        self.last_refusal = Some(now);
        if self.refusals < FREE_ATTEMPTS {
            return SupervisorError::Refused;
        }
        let doublings = (self.refusals - FREE_ATTEMPTS).min(20);
        let wait = FIRST_WAIT.saturating_mul(1 << doublings).min(LONGEST_WAIT);
        self.wait_until = Some(now + wait);
        SupervisorError::RateLimited {
            retry_after_secs: wait.as_secs(),
        }
    }
}

fn whole_seconds_up(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

/// Where a station keeps its count: beside its audit journal
/// (`audit.jsonl` → `audit.supervisor-refusals.json`).
pub fn refusals_path(journal: &Path) -> PathBuf {
    journal.with_extension("supervisor-refusals.json")
}

/// The count as written to the file. Instants mean nothing to another
/// process, so times are wall-clock milliseconds since the Unix epoch.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Stored {
    refusals: u32,
    last_refusal_unix_ms: Option<u64>,
    wait_until_unix_ms: Option<u64>,
}

/// The shared count, locked until dropped.
pub(super) struct SharedCount {
    /// Held only for its lock.
    _lock: File,
    path: PathBuf,
    /// The same moment on both clocks, to convert between them.
    instant: Instant,
    wall: SystemTime,
}

/// The lock beside the count: `….supervisor-refusals.json.lock`. The count
/// itself is replaced on every write, so it cannot carry the lock.
fn lock_path(path: &Path) -> PathBuf {
    let mut lock = path.as_os_str().to_owned();
    lock.push(".lock");
    PathBuf::from(lock)
}

impl SharedCount {
    /// Opens (or creates) the lock file and waits for the lock.
    pub(super) fn lock(path: &Path, now: Instant) -> std::io::Result<Self> {
        // Never through a link planted at its name, and its owner's only.
        let lock = crate::platform::files::open_lock_file(
            &lock_path(path),
            crate::platform::files::OWNER_ONLY,
        )?;
        lock.lock()?;
        Ok(Self {
            _lock: lock,
            path: path.to_owned(),
            instant: now,
            wall: SystemTime::now(),
        })
    }

    /// The count in the file: `Some` fresh when there is none yet, `None`
    /// when it cannot be read or understood (named in the log; the caller
    /// keeps the count it has, and the next store rewrites the file).
    pub(super) fn load(&mut self) -> Option<Throttle> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Some(Throttle::default());
            }
            Err(error) => {
                tracing::warn!(path = %self.path.display(), %error, "the supervisor refusal count could not be read; counting in this process");
                return None;
            }
        };
        let stored = match serde_json::from_str::<Stored>(&text) {
            Ok(stored) => stored,
            Err(error) => {
                tracing::warn!(path = %self.path.display(), %error, "the supervisor refusal count is unreadable; counting in this process");
                return None;
            }
        };
        let time = |ms: Option<u64>| ms.map(|ms| self.to_instant(ms));
        Some(
            match (
                time(stored.last_refusal_unix_ms),
                time(stored.wait_until_unix_ms),
            ) {
                (Some(None), _) | (_, Some(None)) => {
                    // Before this machine's clock can count back to: long forgotten.
                    Throttle::default()
                }
                (last_refusal, wait_until) => Throttle {
                    refusals: stored.refusals,
                    last_refusal: last_refusal.flatten(),
                    wait_until: wait_until.flatten(),
                },
            },
        )
    }

    /// Writes the count to a temporary file beside it, flushes it and
    /// renames it over the old count: the file always holds a whole count.
    pub(super) fn store(&mut self, throttle: &Throttle) -> std::io::Result<()> {
        let stored = Stored {
            refusals: throttle.refusals,
            last_refusal_unix_ms: throttle.last_refusal.map(|at| self.to_unix_ms(at)),
            wait_until_unix_ms: throttle.wait_until.map(|at| self.to_unix_ms(at)),
        };
        let text = serde_json::to_string(&stored).map_err(std::io::Error::other)?;
        // A new temporary file for its owner only, renamed over the count
        // (or over a link planted in its place, never through it).
        crate::platform::files::replace_file(
            &self.path,
            text.as_bytes(),
            crate::platform::files::OWNER_ONLY,
        )
    }
    fn to_instant(&self, unix_ms: u64) -> Option<Instant> {
        let at = SystemTime::UNIX_EPOCH.checked_add(Duration::from_millis(unix_ms))?;
        match at.duration_since(self.wall) {
            Ok(ahead) => self.instant.checked_add(ahead),
            Err(behind) => self.instant.checked_sub(behind.duration()),
        }
    }

    fn to_unix_ms(&self, at: Instant) -> u64 {
        let wall = if at >= self.instant {
            self.wall.checked_add(at - self.instant)
        } else {
            self.wall.checked_sub(self.instant - at)
        };
        wall.and_then(|wall| wall.duration_since(SystemTime::UNIX_EPOCH).ok())
            .map_or(0, |since| {
                u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn the_count_and_its_lock_are_the_owners_and_never_written_through_a_link() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("temp dir");
        let path = refusals_path(&dir.path().join("audit.jsonl"));
        let mode = |path: &Path| {
            let meta = std::fs::symlink_metadata(path).expect("meta");
            assert!(meta.is_file(), "{} is a file", path.display());
            meta.permissions().mode() & 0o777
        };
        let now = Instant::now();
        let mut throttle = Throttle::default();
        let _refused = throttle.refused(now);
        let mut shared = SharedCount::lock(&path, now).expect("locked");
        shared.store(&throttle).expect("stored");
        assert_eq!(shared.load().expect("read back").refusals, 1);
        drop(shared);
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&lock_path(&path)), 0o600);

        // Links planted at both names: the lock is refused, the count is
        // replaced rather than written through.
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").expect("written");
        std::fs::remove_file(&path).expect("removed");
        std::os::unix::fs::symlink(&victim, &path).expect("planted");
        let lock = lock_path(&path);
        std::fs::remove_file(&lock).expect("removed");
        std::os::unix::fs::symlink(&victim, &lock).expect("planted");
        assert!(SharedCount::lock(&path, now).is_err(), "a linked lock");
        std::fs::remove_file(&lock).expect("removed");
        let mut shared = SharedCount::lock(&path, now).expect("locked");
        shared.store(&throttle).expect("stored");
        assert_eq!(mode(&path), 0o600);
        assert_eq!(std::fs::read_to_string(&victim).expect("read"), "precious");
    }
}
