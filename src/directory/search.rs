//! Finding a person by name or account, for the New request form: the text
//! the agent typed, checked ([`PeopleQuery`]); the LDAP filter built from it
//! with every special character escaped ([`people_filter`], RFC 4515); and
//! the matches, at most [`MAX_MATCHES`] of them ([`Matches`]).
//!
//! The typed text is only ever a *value* in the filter: `*`, `(`, `)`, `\`
//! and NUL are written as `\XX` (RFC 4515; ldap3's `ldap_escape`), so no
//! typing can widen the search, end the filter early or add a condition.
//! The one `*` of the filter is the station's own, after the value: a
//! prefix search.

use crate::domain::person::{DirectoryFailure, DirectoryPerson};
use crate::domain::text::{PERSON_MAX_CHARS, from_wire};

/// The most matches shown; more means "type more of the name".
pub const MAX_MATCHES: usize = 20;

/// The fewest characters searched for: one letter would list half the company.
pub const MIN_QUERY_CHARS: usize = 2;

/// The most characters searched for.
pub const MAX_QUERY_CHARS: usize = 64;

/// Which entries are people, when `[directory] people_filter` is not set:
/// Active Directory's user accounts, without computer accounts (their class
/// derives from `user`) and contacts (no `user` class).
pub const DEFAULT_PEOPLE_FILTER: &str = "(&(objectCategory=person)(objectClass=user))";

/// The attributes the typed text is a prefix of: the display name, the
/// sign-in name, the user principal name, and the given and family names
/// (so "Doe" finds Jane Doe).
pub const PREFIX_ATTRIBUTES: [&str; 5] = [
    "displayName",
    "sAMAccountName",
    "userPrincipalName",
    "givenName",
    "sn",
];

/// The attributes a search asks for: no photos, twenty of them would be a
/// megabyte; the chosen person's photo comes with the usual lookup.
pub const SEARCH_ATTRIBUTES: [&str; 4] = [
    "objectGUID",
    "sAMAccountName",
    "displayName",
    "userPrincipalName",
];

/// What the agent typed to find a person, checked: trimmed, from
/// [`MIN_QUERY_CHARS`] to [`MAX_QUERY_CHARS`] characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PeopleQuery(String);

/// Why the typed text is not searched for.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// Too little typed.
    #[error(
        "Type at least {MIN_QUERY_CHARS} characters of the person's name or account, then \
         press Find person."
    )]
    TooShort,
    /// Too much typed.
    #[error(
        "That is more than {MAX_QUERY_CHARS} characters: type the beginning of the person's \
         name or account."
    )]
    TooLong,
}

impl QueryError {
    /// The same, for `directory search` (no Find person button there).
    pub fn for_command_line(&self) -> String {
        match self {
            QueryError::TooShort => format!(
                "Give at least {MIN_QUERY_CHARS} characters of the person's name or account."
            ),
            QueryError::TooLong => self.to_string(),
        }
    }
}

impl PeopleQuery {
    /// The typed text, trimmed, or why it is not searched for.
    pub fn parse(typed: &str) -> Result<PeopleQuery, QueryError> {
        let text = typed.trim();
        match text.chars().count() {
            n if n < MIN_QUERY_CHARS => Err(QueryError::TooShort),
            n if n > MAX_QUERY_CHARS => Err(QueryError::TooLong),
            _ => Ok(PeopleQuery(text.to_owned())),
        }
    }

    /// The text searched for.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True when `text` starts with the query, ignoring case: what the
    /// directory's prefix search does, for a directory held in memory.
    pub fn is_prefix_of(&self, text: &str) -> bool {
        text.to_lowercase().starts_with(&self.0.to_lowercase())
    }
}

impl std::fmt::Display for PeopleQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The filter that finds people whose names or accounts start with
/// `query`, among the entries `people` selects (an LDAP filter from the
/// settings, e.g. [`DEFAULT_PEOPLE_FILTER`]):
/// `(&people(|(displayName=q*)(sAMAccountName=q*)…))`.
pub fn people_filter(people: &str, query: &PeopleQuery) -> String {
    // RFC 4515's escaping of an assertion value, as ldap3 does it.
    let value = ldap3::ldap_escape(query.as_str());
    let mut filter = String::with_capacity(people.len() + 16 + PREFIX_ATTRIBUTES.len() * 24);
    filter.push_str("(&");
    filter.push_str(people);
    filter.push_str("(|");
    for attribute in PREFIX_ATTRIBUTES {
        filter.push('(');
        filter.push_str(attribute);
        filter.push('=');
        filter.push_str(&value);
        filter.push_str("*)");
    }
    filter.push_str("))");
    filter
}

/// The people a search found, in name order, at most [`MAX_MATCHES`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Matches {
    /// The people, names cleaned for the screen.
    pub people: Vec<DirectoryPerson>,
    /// More matched than are shown: the agent types more of the name.
    pub more: bool,
}

impl Matches {
    /// `people` sorted by name then account, each account once, cut to
    /// [`MAX_MATCHES`]; `more` when the directory said there were more.
    pub fn new(mut people: Vec<DirectoryPerson>, more: bool) -> Matches {
        people.sort_by(|a, b| {
            let key = |p: &DirectoryPerson| (p.name().to_lowercase(), p.account.to_lowercase());
            key(a).cmp(&key(b))
        });
        let mut seen = std::collections::HashSet::new();
        people.retain(|p| seen.insert(p.user));
        let more = more || people.len() > MAX_MATCHES;
        people.truncate(MAX_MATCHES);
        Matches { people, more }
    }
}

/// A search's answer: the matches, or why the directory could not be
/// searched, in the operator's words.
pub type SearchResult = Result<Matches, DirectoryFailure>;

/// A directory's text as a match shows it: hostile until cleaned
/// ([`from_wire`]: hidden characters marked, one line, bounded).
pub fn shown(raw: &str) -> String {
    from_wire(raw, PERSON_MAX_CHARS).into_owned()
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    fn query(text: &str) -> PeopleQuery {
        PeopleQuery::parse(text).expect("a query")
    }

    fn value_of(text: &str) -> String {
        let mut out = String::new();
        out.push_str(&ldap3::ldap_escape(text));
        out
    }

    #[test]
    fn the_filters_special_characters_are_escaped() {
        assert_eq!(value_of("*"), r"\2a");
        assert_eq!(value_of("("), r"\28");
        assert_eq!(value_of(")"), r"\29");
        assert_eq!(value_of("\\"), r"\5c");
        assert_eq!(value_of("\0"), r"\00");
        assert_eq!(value_of("jdoe@corp.example"), "jdoe@corp.example");
        assert_eq!(value_of("O'Brien-Smith Jr."), "O'Brien-Smith Jr.");
        // RFC 4515 lets UTF-8 stand as it is in a value.
        assert_eq!(value_of("é"), "é");
        assert_eq!(value_of("*)(objectClass=*"), r"\2a\29\28objectClass=\2a");
    }

    #[test]
    fn typed_text_cannot_widen_or_end_the_filter() {
        // An attempt to match everyone, and one to close the filter early.
        for hostile in [
            "*",
            "*)(objectClass=*",
            "x)(|(sAMAccountName=*",
            "a\\2a",
            "a\0b",
        ] {
            let filter = people_filter(DEFAULT_PEOPLE_FILTER, &query(&format!("{hostile}zz")));
            let parsed = ldap3::parse_filter(&filter);
            assert!(parsed.is_ok(), "{filter}");
            let values: Vec<&str> = filter
                .split(['=', ')'])
                .filter(|part| part.ends_with('*'))
                .collect();
            assert_eq!(values.len(), PREFIX_ATTRIBUTES.len(), "{filter}");
            for value in values {
                let value = value.trim_end_matches('*');
                assert!(!value.contains(['*', '(', ')', '\0']), "{filter}");
                assert!(
                    value.split('\\').skip(1).all(|escape| escape.len() >= 2
                        && escape[..2].chars().all(|c| c.is_ascii_hexdigit())),
                    "every backslash starts an escape: {filter}"
                );
            }
        }
        let filter = people_filter("(objectClass=inetOrgPerson)", &query("*)(cn=*"));
        let value = r"\2a\29\28cn=\2a";
        let expected: String = PREFIX_ATTRIBUTES
            .iter()
            .map(|attribute| format!("({attribute}={value}*)"))
            .collect();
        assert_eq!(
            filter,
            format!("(&(objectClass=inetOrgPerson)(|{expected}))")
        );
    }

    #[test]
    fn the_filter_is_a_prefix_search_of_the_names() {
        let filter = people_filter(DEFAULT_PEOPLE_FILTER, &query("  jan "));
        assert_eq!(
            filter,
            "(&(&(objectCategory=person)(objectClass=user))(|(displayName=jan*)\
             (sAMAccountName=jan*)(userPrincipalName=jan*)(givenName=jan*)(sn=jan*)))"
        );
        assert!(ldap3::parse_filter(&filter).is_ok());
    }

    #[test]
    fn too_little_or_too_much_is_refused_in_words() {
        assert_eq!(PeopleQuery::parse(" j "), Err(QueryError::TooShort));
        assert_eq!(PeopleQuery::parse(""), Err(QueryError::TooShort));
        let long = "a".repeat(MAX_QUERY_CHARS + 1);
        assert_eq!(PeopleQuery::parse(&long), Err(QueryError::TooLong));
        assert!(QueryError::TooShort.to_string().contains("Find person"));
        assert!(query("Jö").is_prefix_of("jöran"));
        assert!(!query("Jö").is_prefix_of("Ajö"));
    }

    #[test]
    fn matches_are_sorted_once_each_and_bounded() {
        let person = |n: u128, name: &str| DirectoryPerson {
            user: Uuid::from_u128(n),
            account: format!("a{n}"),
            principal: None,
            display_name: Some(name.to_owned()),
            photo: None,
        };
        let matches = Matches::new(
            vec![person(1, "bob"), person(2, "Alice"), person(1, "bob")],
            false,
        );
        assert_eq!(matches.people.len(), 2);
        assert_eq!(matches.people[0].name(), "Alice");
        assert!(!matches.more);
        let many = (0..30).map(|n| person(n, "Same")).collect();
        let matches = Matches::new(many, false);
        assert_eq!(matches.people.len(), MAX_MATCHES);
        assert!(matches.more);
    }
}
