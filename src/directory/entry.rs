//! One search result entry, read without trusting its shape, made into the
//! [`DirectoryPerson`] the station shows.
//!
//! ldap3's `SearchEntry::construct` panics on an entry of the wrong shape
//! and splits values by whether they happen to be UTF-8; this reads the
//! BER structure itself, and a malformed entry is an error in words.

use std::collections::HashMap;

use ldap3::asn1::{PL, StructureTag};
use uuid::Uuid;

use super::filter::guid_bytes;
use super::photo;
use super::search::shown;
use crate::domain::person::DirectoryPerson;
use crate::domain::text::person_name;

/// The attributes the station asks for.
pub const ATTRIBUTES: [&str; 6] = [
    "objectGUID",
    "sAMAccountName",
    "displayName",
    "userPrincipalName",
    "thumbnailPhoto",
    "jpegPhoto",
];

/// An entry's DN and values, attribute names in lower case.
#[derive(Debug, Default)]
pub struct RawEntry {
    /// The entry's DN.
    pub dn: String,
    values: HashMap<String, Vec<Vec<u8>>>,
}

impl RawEntry {
    /// Reads a SearchResultEntry (`[APPLICATION 4]`); `None` when it is not one.
    pub fn parse(tag: StructureTag) -> Option<RawEntry> {
        if tag.id != 4 {
            return None;
        }
        let mut parts = constructed(tag)?.into_iter();
        let dn = String::from_utf8_lossy(&primitive(parts.next()?)?).into_owned();
        let mut values: HashMap<String, Vec<Vec<u8>>> = HashMap::new();
        for attribute in constructed(parts.next()?)? {
            let mut attribute = constructed(attribute)?.into_iter();
            let name = String::from_utf8_lossy(&primitive(attribute.next()?)?).to_ascii_lowercase();
            let vals = constructed(attribute.next()?)?
                .into_iter()
                .map(primitive)
                .collect::<Option<Vec<_>>>()?;
            values.entry(name).or_default().extend(vals);
        }
        Some(RawEntry { dn, values })
    }

    /// The first value of `attribute` (any case).
    pub fn first(&self, attribute: &str) -> Option<&[u8]> {
        self.values
            .get(&attribute.to_ascii_lowercase())
            .and_then(|vals| vals.first())
            .map(Vec::as_slice)
    }

    fn text(&self, attribute: &str) -> Option<String> {
        self.first(attribute)
            .map(|raw| person_name(&String::from_utf8_lossy(raw)))
            .filter(|text| !text.is_empty())
    }

    /// True when the entry's `objectGUID` is `user`'s.
    pub fn has_guid(&self, user: Uuid) -> bool {
        self.first("objectGUID") == Some(&guid_bytes(user)[..])
    }

    /// The account's GUID, when its `objectGUID` is 16 bytes (Windows order).
    pub fn guid(&self) -> Option<Uuid> {
        let bytes: [u8; 16] = self.first("objectGUID")?.try_into().ok()?;
        Some(Uuid::from_bytes_le(bytes))
    }

    /// The entry as a search match, every text hostile until cleaned by
    /// [`shown`] (hidden characters marked, not dropped: a match list is
    /// where an odd name must stand out); no photo. `None` without a GUID,
    /// which is what the pick fills in.
    pub fn into_match(self) -> Option<DirectoryPerson> {
        let user = self.guid()?;
        let text = |attribute: &str| {
            self.first(attribute)
                .map(|raw| shown(&String::from_utf8_lossy(raw)))
                .filter(|text| !text.is_empty())
        };
        Some(DirectoryPerson {
            user,
            account: text("sAMAccountName").unwrap_or_else(|| shown(&self.dn)),
            principal: text("userPrincipalName"),
            display_name: text("displayName"),
            photo: None,
        })
    }

    /// The person, every text cleaned for the screen. A photo that cannot be
    /// read is left out (and logged): the names still count.
    pub fn into_person(self, user: Uuid) -> DirectoryPerson {
        let account = self
            .text("sAMAccountName")
            .unwrap_or_else(|| person_name(&self.dn));
        let photo = ["thumbnailPhoto", "jpegPhoto"]
            .into_iter()
            .filter_map(|attribute| Some((attribute, self.first(attribute)?)))
            .find_map(|(attribute, bytes)| match photo::decode(bytes) {
                Ok(photo) => Some(photo),
                Err(error) => {
                    tracing::warn!(%user, attribute, %error, "directory photo not shown");
                    None
                }
            });
        DirectoryPerson {
            user,
            principal: self.text("userPrincipalName"),
            display_name: self.text("displayName"),
            account,
            photo,
        }
    }
}

fn constructed(tag: StructureTag) -> Option<Vec<StructureTag>> {
    match tag.payload {
        PL::C(inner) => Some(inner),
        PL::P(_) => None,
    }
}

fn primitive(tag: StructureTag) -> Option<Vec<u8>> {
    match tag.payload {
        PL::P(bytes) => Some(bytes),
        PL::C(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use ldap3::asn1::TagClass;

    use super::*;

    fn p(id: u64, bytes: &[u8]) -> StructureTag {
        StructureTag {
            class: TagClass::Universal,
            id,
            payload: PL::P(bytes.to_vec()),
        }
    }

    fn c(class: TagClass, id: u64, inner: Vec<StructureTag>) -> StructureTag {
        StructureTag {
            class,
            id,
            payload: PL::C(inner),
        }
    }

    fn attribute(name: &str, values: &[&[u8]]) -> StructureTag {
        c(
            TagClass::Universal,
            16,
            vec![
                p(4, name.as_bytes()),
                c(
                    TagClass::Universal,
                    17,
                    values.iter().map(|v| p(4, v)).collect(),
                ),
            ],
        )
    }

    fn entry(attributes: Vec<StructureTag>) -> StructureTag {
        c(
            TagClass::Application,
            4,
            vec![
                p(4, b"CN=Jane,DC=corp"),
                c(TagClass::Universal, 16, attributes),
            ],
        )
    }

    #[test]
    fn an_entry_becomes_a_cleaned_person() {
        let user = Uuid::new_v4();
        let raw = RawEntry::parse(entry(vec![
            attribute("objectGUID", &[&guid_bytes(user)]),
            attribute("samaccountname", &[b"jdoe"]),
            attribute("displayName", &["Jane\u{202E}eoD\n".as_bytes()]),
            attribute("thumbnailPhoto", &[b"not a jpeg"]),
        ]))
        .expect("an entry");
        assert!(raw.has_guid(user));
        assert!(!raw.has_guid(Uuid::new_v4()));
        let person = raw.into_person(user);
        assert_eq!(person.account, "jdoe");
        assert_eq!(person.display_name.as_deref(), Some("JaneeoD"));
        assert_eq!(person.principal, None);
        assert_eq!(person.photo, None, "an unreadable photo is left out");
    }

    #[test]
    fn a_search_match_marks_hidden_characters_and_needs_a_guid() {
        let user = Uuid::new_v4();
        let found = RawEntry::parse(entry(vec![
            attribute("objectGUID", &[&guid_bytes(user)]),
            attribute("sAMAccountName", &[b"mallory"]),
            attribute("displayName", &["Mallory\u{202E}nimdA\nAdmins".as_bytes()]),
        ]))
        .and_then(RawEntry::into_match)
        .expect("a match");
        assert_eq!(found.user, user);
        assert_eq!(found.account, "mallory");
        let name = found.display_name.expect("a name");
        assert!(name.contains("<U+202E>"), "{name}");
        assert!(!name.contains(['\u{202E}', '\n']), "{name}");
        let no_guid = RawEntry::parse(entry(vec![
            attribute("objectGUID", &[b"short"]),
            attribute("sAMAccountName", &[b"x"]),
        ]))
        .expect("an entry");
        assert_eq!(no_guid.into_match(), None);
    }

    #[test]
    fn a_malformed_entry_is_refused_not_a_panic() {
        assert!(RawEntry::parse(p(4, b"x")).is_none());
        assert!(RawEntry::parse(c(TagClass::Application, 4, vec![])).is_none());
        assert!(
            RawEntry::parse(c(
                TagClass::Application,
                4,
                vec![p(4, b"dn"), p(4, b"not a list")]
            ))
            .is_none()
        );
        assert!(RawEntry::parse(entry(vec![p(4, b"not an attribute")])).is_none());
    }
}
