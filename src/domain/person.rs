//! Who a request is for, as an authority holds it, not as a requester typed it.
//!
//! A request names its person twice: the target account CM will issue the
//! certificates to (`TargetUserUuid`, the account's objectGUID in Active
//! Directory), and the values collected when it was submitted (first name,
//! last name, employee ID), which the requester typed. Only the first is
//! authoritative; an insider with originator rights can type anyone's name
//! over a privileged account (security review H1). With a directory
//! configured the station resolves the account to its name and photo, so the
//! agent compares a face; without one it shows the GUID and says so.

use std::sync::Arc;

use uuid::Uuid;

/// A decoded photo, small enough to keep per person while the station runs.
#[derive(Clone, PartialEq, Eq)]
pub struct Photo {
    pub width: u32,
    pub height: u32,
    /// `width * height` pixels, RGBA, row by row.
    pub rgba: Arc<[u8]>,
}

impl std::fmt::Debug for Photo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Photo({}x{})", self.width, self.height)
    }
}

/// A directory account, as the directory holds it. Every text is already
/// cleaned for the screen (see [`super::text`]): a directory's values are
/// typed by people too, only by fewer and more trusted ones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectoryPerson {
    /// The account's GUID (`objectGUID`): CM's `TargetUserUuid`.
    pub user: Uuid,
    /// The sign-in name (`sAMAccountName`), e.g. `jdoe`.
    pub account: String,
    /// The user principal name, e.g. `jdoe@corp.example`, when it has one.
    pub principal: Option<String>,
    /// The display name, e.g. `Jane Doe`, when it has one.
    pub display_name: Option<String>,
    /// The photo (`thumbnailPhoto`, else `jpegPhoto`), when it has a readable one.
    pub photo: Option<Photo>,
}

impl DirectoryPerson {
    /// The name to show first: the display name, else the account.
    pub fn name(&self) -> &str {
        self.display_name
            .as_deref()
            .filter(|n| !n.is_empty())
            .unwrap_or(&self.account)
    }
}

/// Why the directory could not be asked, in the operator's words: what
/// happened and what to do.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DirectoryFailure(pub String);

/// A directory lookup's answer: the account, none with that GUID, or why
/// the directory could not be asked.
pub type LookupResult = Result<Option<DirectoryPerson>, DirectoryFailure>;

/// What the station knows of a request's target account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Identity {
    /// No directory is configured: only the GUID is known, names are unchecked.
    Unchecked,
    /// The directory is being asked.
    Looking,
    /// The directory knows the account.
    Found(Arc<DirectoryPerson>),
    /// The directory answered and has no account with that GUID.
    NotFound,
    /// The directory could not be asked; the words say why and what to do.
    Failed(String),
}

/// Whether the name the requester typed (given and family name) is not the
/// directory's: each typed name must be a word of the display name or the
/// account, ignoring case. `false` when nothing was typed or the directory
/// has no name to compare.
///
/// A mismatch is not proof of fraud (a married name, a nickname), but it
/// is what the impersonation of review H1 looks like, so it is shown.
pub fn names_differ(person: &DirectoryPerson, request: &super::request::Request) -> bool {
    use super::request::{FAMILY_NAME_FIELDS, GIVEN_NAME_FIELDS};
    let words: Vec<String> = person
        .name()
        .split(|c: char| !c.is_alphanumeric())
        .chain(std::iter::once(person.account.as_str()))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    [GIVEN_NAME_FIELDS, FAMILY_NAME_FIELDS]
        .into_iter()
        .filter_map(|fields| request.collected(fields))
        .flat_map(|typed| {
            typed
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .map(str::to_lowercase)
                .collect::<Vec<_>>()
        })
        .any(|typed| !words.contains(&typed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::request::{DataItem, RequestStatus, example_request};

    fn typed(given: &str, family: &str) -> crate::domain::request::Request {
        let mut request = example_request(1, RequestStatus::APPROVED);
        request.data_collection = smallvec::smallvec![
            DataItem {
                name: "FirstName".into(),
                value: Some(given.into()),
            },
            DataItem {
                name: "LastName".into(),
                value: Some(family.into()),
            },
        ];
        request
    }

    fn person(display: &str, account: &str) -> DirectoryPerson {
        DirectoryPerson {
            user: Uuid::from_u128(1),
            account: account.into(),
            principal: None,
            display_name: Some(display.into()),
            photo: None,
        }
    }

    #[test]
    fn a_typed_name_that_is_not_the_directorys_is_told() {
        let jane = person("Jane van Doe", "jdoe");
        assert!(!names_differ(&jane, &typed("jane", "Van Doe")));
        assert!(names_differ(&jane, &typed("Mallory", "Smith")));
        assert!(
            names_differ(&jane, &typed("J\u{430}ne", "Doe")),
            "a Cyrillic a"
        );
        let mut nothing = example_request(2, RequestStatus::APPROVED);
        nothing.data_collection.clear();
        assert!(!names_differ(&jane, &nothing));
    }
}
