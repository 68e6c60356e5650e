//! The demo backend's directory: the accounts of the demo requests, with a
//! drawn silhouette for a photo, answered from memory.
//!
//! It lets the demo show what an agent sees with a directory configured,
//! including one request whose typed name is not its account's (the
//! impersonation a directory exists to catch). A real station uses LDAP.

use std::collections::HashMap;
use std::sync::Arc;

use uuid::Uuid;

use super::search::{Matches, PeopleQuery, shown};
use crate::domain::person::{DirectoryPerson, Photo};
use crate::domain::request::{FAMILY_NAME_FIELDS, GIVEN_NAME_FIELDS, Request};

/// The silhouettes' side, in pixels.
const SIDE: u32 = 96;

/// The demo directory's accounts, by GUID.
#[derive(Debug, Default)]
pub struct DemoDirectory {
    people: HashMap<Uuid, DirectoryPerson>,
}

impl DemoDirectory {
    /// A directory of `people`: each account's GUID, display name and
    /// sign-in name. Every one gets a silhouette in a colour of its own.
    pub fn new(people: impl IntoIterator<Item = (Uuid, String, String)>) -> DemoDirectory {
        let people = people
            .into_iter()
            .map(|(user, display_name, account)| {
                let person = DirectoryPerson {
                    user,
                    principal: Some(format!("{account}@demo.example")),
                    account,
                    display_name: Some(display_name),
                    photo: Some(silhouette(user)),
                };
                (user, person)
            })
            .collect();
        DemoDirectory { people }
    }

    /// The accounts of `requests`' target users, named as the requester
    /// typed them, but for the second bindable request in the list's
    /// order: its account is someone else's (the look of review H1's
    /// impersonation, for training).
    pub fn for_requests(requests: &[Request]) -> DemoDirectory {
        let mut ordered: Vec<&Request> = requests.iter().collect();
        ordered.sort_by(|a, b| Request::list_order(a, b));
        let impostor = ordered
            .iter()
            .filter(|r| r.is_bindable())
            .nth(1)
            .map(|r| r.uuid);
        DemoDirectory::new(ordered.into_iter().filter_map(|request| {
            let user = request.target_user?;
            if Some(request.uuid) == impostor {
                return Some((user, "Priya Privileged".to_owned(), "ppriv".to_owned()));
            }
            let given = request.collected(GIVEN_NAME_FIELDS).unwrap_or("Demo");
            let family = request.collected(FAMILY_NAME_FIELDS).unwrap_or("User");
            let account: String = given
                .chars()
                .take(1)
                .chain(family.chars())
                .filter(char::is_ascii_alphanumeric)
                .collect::<String>()
                .to_ascii_lowercase();
            Some((user, format!("{given} {family}"), account))
        }))
    }

    /// The account with GUID `user`.
    pub fn get(&self, user: Uuid) -> Option<DirectoryPerson> {
        self.people.get(&user).cloned()
    }

    /// The accounts whose display name, one of its words (a given or
    /// family name), account or principal name starts with `query`,
    /// ignoring case: what the LDAP search finds, answered from memory, with
    /// the texts cleaned the same way and no photo, as the LDAP search.
    pub fn search(&self, query: &PeopleQuery) -> Matches {
        let found = self
            .people
            .values()
            .filter(|person| {
                let display = person.display_name.as_deref().unwrap_or_default();
                std::iter::once(display)
                    .chain(display.split_whitespace())
                    .chain(std::iter::once(person.account.as_str()))
                    .chain(person.principal.as_deref())
                    .any(|text| query.is_prefix_of(text))
            })
            .map(|person| DirectoryPerson {
                user: person.user,
                account: shown(&person.account),
                principal: person.principal.as_deref().map(shown),
                display_name: person.display_name.as_deref().map(shown),
                photo: None,
            })
            .collect();
        Matches::new(found, false)
    }

    /// How many accounts it holds.
    pub fn len(&self) -> usize {
        self.people.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.people.is_empty()
    }
}

/// A head and shoulders in a light tone on a darker one, the hue taken
/// from the GUID so neighbouring rows differ.
fn silhouette(user: Uuid) -> Photo {
    let hue = (user.as_u128() % 360) as f32;
    let background = hsl(hue, 0.35, 0.35);
    let figure = hsl(hue, 0.25, 0.80);
    let side = SIDE as f32;
    let (head_x, head_y, head_r) = (side / 2.0, side * 0.38, side * 0.19);
    let (body_x, body_y, body_rx, body_ry) = (side / 2.0, side * 1.02, side * 0.36, side * 0.36);
    let mut rgba = Vec::with_capacity((SIDE * SIDE * 4) as usize);
    for y in 0..SIDE {
        for x in 0..SIDE {
            let (fx, fy) = (x as f32 + 0.5, y as f32 + 0.5);
            let in_head = (fx - head_x).powi(2) + (fy - head_y).powi(2) <= head_r.powi(2);
            let in_body =
                ((fx - body_x) / body_rx).powi(2) + ((fy - body_y) / body_ry).powi(2) <= 1.0;
            let [r, g, b] = if in_head || in_body {
                figure
            } else {
                background
            };
            rgba.extend_from_slice(&[r, g, b, 255]);
        }
    }
    Photo {
        width: SIDE,
        height: SIDE,
        rgba: Arc::from(rgba),
    }
}

/// An sRGB colour from hue (degrees), saturation and lightness (0 to 1).
fn hsl(hue: f32, saturation: f32, lightness: f32) -> [u8; 3] {
    let chroma = (1.0 - (2.0 * lightness - 1.0).abs()) * saturation;
    let h = hue / 60.0;
    let x = chroma * (1.0 - (h % 2.0 - 1.0).abs());
    let (r, g, b) = match h as u32 {
        0 => (chroma, x, 0.0),
        1 => (x, chroma, 0.0),
        2 => (0.0, chroma, x),
        3 => (0.0, x, chroma),
        4 => (x, 0.0, chroma),
        _ => (chroma, 0.0, x),
    };
    let m = lightness - chroma / 2.0;
    let channel = |v: f32| ((v + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    [channel(r), channel(g), channel(b)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_account_has_its_names_and_a_whole_photo() {
        let user = Uuid::from_u128(42);
        let directory = DemoDirectory::new([(user, "Jane Doe".to_owned(), "jdoe".to_owned())]);
        let person = directory.get(user).expect("the account");
        assert_eq!(person.name(), "Jane Doe");
        assert_eq!(person.principal.as_deref(), Some("jdoe@demo.example"));
        let photo = person.photo.expect("a photo");
        assert_eq!(photo.rgba.len(), (photo.width * photo.height * 4) as usize);
        // The centre of the head is the figure's tone, a corner the background's.
        let at = |x: u32, y: u32| {
            let i = ((y * photo.width + x) * 4) as usize;
            [photo.rgba[i], photo.rgba[i + 1], photo.rgba[i + 2]]
        };
        assert_ne!(at(48, 36), at(0, 0));
        assert_eq!(directory.get(Uuid::from_u128(43)), None);
    }

    #[test]
    fn the_search_finds_by_the_beginning_of_a_name_or_account() {
        let directory = DemoDirectory::new([
            (Uuid::from_u128(1), "Jane Doe".to_owned(), "jdoe".to_owned()),
            (
                Uuid::from_u128(2),
                "John Smith".to_owned(),
                "jsmith".to_owned(),
            ),
            (
                Uuid::from_u128(3),
                "Ann Doerr".to_owned(),
                "adoerr".to_owned(),
            ),
        ]);
        let names = |typed: &str| -> Vec<String> {
            let query = PeopleQuery::parse(typed).expect("a query");
            directory
                .search(&query)
                .people
                .iter()
                .map(|p| p.name().to_owned())
                .collect()
        };
        assert_eq!(names("doe"), ["Ann Doerr", "Jane Doe"], "family names");
        assert_eq!(names("JSM"), ["John Smith"], "an account, any case");
        assert_eq!(names("jdoe@demo"), ["Jane Doe"], "a principal name");
        assert_eq!(
            names("oe"),
            Vec::<String>::new(),
            "a prefix, not a substring"
        );
        let query = PeopleQuery::parse("ja").expect("a query");
        assert_eq!(directory.search(&query).people[0].photo, None);
    }
}
