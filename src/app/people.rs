//! Who the requests on screen are for, as the directory says: the window
//! asks for the target accounts it draws, each once while the station runs,
//! and keeps the answers.
//!
//! Lookups are lazy: a list of 100,000 requests must not become 100,000
//! directory searches. The rows drawn, the selected request and the kiosk's
//! request are what the agent looks at, so those are asked about.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::domain::person::{Identity, LookupResult};

/// How long a failed lookup waits before it is asked again: a directory
/// that was down a moment ago may be back, but a frame loop must not
/// hammer one that is not.
const RETRY_FAILED_AFTER: Duration = Duration::from_secs(30);

/// The directory's answers so far, and the questions not yet sent.
#[derive(Debug, Default)]
pub struct People {
    /// A directory is configured; without one every account is unchecked.
    directory: bool,
    /// Every account asked about: `Looking` while the question is out.
    known: HashMap<Uuid, Identity>,
    /// When each failure came back, to ask again later.
    failed_at: HashMap<Uuid, Instant>,
    /// Asked for by this frame's drawing, not yet sent.
    wanted: Vec<Uuid>,
}

impl People {
    /// A station with (`true`) or without a directory.
    pub fn new(directory: bool) -> People {
        People {
            directory,
            ..People::default()
        }
    }

    /// Whether a directory is configured.
    pub fn has_directory(&self) -> bool {
        self.directory
    }

    /// What is known of `user`'s account. Asking is what puts the account
    /// on the next question list: call it for what is drawn.
    pub fn identity(&mut self, user: Uuid) -> Identity {
        if !self.directory {
            return Identity::Unchecked;
        }
        match self.known.get(&user) {
            Some(Identity::Failed(why))
                if self
                    .failed_at
                    .get(&user)
                    .is_some_and(|at| at.elapsed() >= RETRY_FAILED_AFTER) =>
            {
                let why = why.clone();
                self.want(user);
                Identity::Failed(why)
            }
            Some(identity) => identity.clone(),
            None => {
                self.want(user);
                Identity::Looking
            }
        }
    }

    /// What is known of `user`'s account, without asking.
    pub fn peek(&self, user: Uuid) -> Identity {
        if !self.directory {
            return Identity::Unchecked;
        }
        self.known.get(&user).cloned().unwrap_or(Identity::Looking)
    }

    /// [`People::peek`] for the account a request or card names, if it
    /// names one: without one there is nothing to check.
    pub fn peek_of(&self, user: Option<Uuid>) -> Identity {
        user.map_or(Identity::Unchecked, |user| self.peek(user))
    }

    /// [`People::identity`] for the account a request or card names, if any.
    pub fn identity_of(&mut self, user: Option<Uuid>) -> Identity {
        user.map_or(Identity::Unchecked, |user| self.identity(user))
    }

    fn want(&mut self, user: Uuid) {
        if !self.wanted.contains(&user) {
            self.wanted.push(user);
        }
    }

    /// The accounts to look up now, each marked as being looked up.
    pub fn questions(&mut self) -> Vec<Uuid> {
        let wanted = std::mem::take(&mut self.wanted);
        for user in &wanted {
            self.failed_at.remove(user);
            self.known.insert(*user, Identity::Looking);
        }
        wanted
    }

    /// The directory's answer about `user`: the account, none, or why it
    /// could not be asked (in the operator's words).
    pub fn answered(&mut self, user: Uuid, answer: LookupResult) {
        let identity = match answer {
            Ok(Some(person)) => Identity::Found(Arc::new(person)),
            Ok(None) => Identity::NotFound,
            Err(why) => {
                self.failed_at.insert(user, Instant::now());
                Identity::Failed(why.0)
            }
        };
        self.known.insert(user, identity);
    }

    /// The last failure's words, while any lookup is failing: the header
    /// says the directory is out, once, rather than every row.
    pub fn trouble(&self) -> Option<&str> {
        self.known.values().find_map(|identity| match identity {
            Identity::Failed(why) => Some(why.as_str()),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::person::{DirectoryFailure, DirectoryPerson};

    fn person(user: Uuid) -> DirectoryPerson {
        DirectoryPerson {
            user,
            account: "jdoe".into(),
            principal: None,
            display_name: Some("Jane Doe".into()),
            photo: None,
        }
    }

    #[test]
    fn without_a_directory_nothing_is_asked_and_every_account_is_unchecked() {
        let mut people = People::new(false);
        let user = Uuid::from_u128(1);
        assert_eq!(people.identity(user), Identity::Unchecked);
        assert!(people.questions().is_empty());
    }

    #[test]
    fn each_account_is_asked_once_and_its_answer_kept() {
        let mut people = People::new(true);
        let user = Uuid::from_u128(1);
        assert_eq!(people.identity(user), Identity::Looking);
        assert_eq!(people.identity(user), Identity::Looking);
        assert_eq!(people.questions(), vec![user]);
        assert_eq!(people.identity(user), Identity::Looking);
        assert!(people.questions().is_empty(), "asked once");
        people.answered(user, Ok(Some(person(user))));
        assert!(matches!(people.identity(user), Identity::Found(p) if p.account == "jdoe"));
        let other = Uuid::from_u128(2);
        people.identity(other);
        people.questions();
        people.answered(other, Ok(None));
        assert_eq!(people.identity(other), Identity::NotFound);
        assert!(people.questions().is_empty());
    }

    #[test]
    fn a_failure_is_shown_in_words_and_asked_again_later_not_every_frame() {
        let mut people = People::new(true);
        let user = Uuid::from_u128(1);
        people.identity(user);
        people.questions();
        people.answered(
            user,
            Err(DirectoryFailure("The directory did not answer.".into())),
        );
        assert_eq!(
            people.identity(user),
            Identity::Failed("The directory did not answer.".into())
        );
        assert!(people.questions().is_empty(), "not again at once");
        assert_eq!(people.trouble(), Some("The directory did not answer."));
        people
            .failed_at
            .insert(user, Instant::now() - RETRY_FAILED_AFTER);
        people.identity(user);
        assert_eq!(people.questions(), vec![user]);
        people.answered(user, Ok(Some(person(user))));
        assert_eq!(people.trouble(), None);
    }
}
