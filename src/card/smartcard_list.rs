//! Card model names from pcsc-tools' `smartcard_list.txt`, when one is installed.
//!
//! The list is GPL and changes often, so the station never bundles it: it
//! reads whatever copy the machine has, at run time. The format is one ATR
//! pattern per line (upper-case hex bytes separated by spaces, as a regular
//! expression matched against the whole ATR: `..` is any byte, `3.` any low
//! nibble, `[12]` a class, `.*` anything), followed by TAB-indented
//! description lines; `#` starts a comment. The real file holds some four
//! thousand patterns and takes a noticeable moment to read: load it once,
//! lazily, off the UI thread, and share the result.
//!
//! Patterns are matched by a small regular-expression subset (literals, `.`,
//! classes, `*` `+` `?`) run as a set of positions, so a hostile or odd
//! pattern costs at most pattern length × ATR length steps and never panics.
//! A pattern that uses anything else (groups, alternation) is skipped and
//! counted, never guessed at.

use std::io;
use std::path::{Path, PathBuf};

use thiserror::Error;

use super::atr::spaced_hex;
use crate::domain::card::Atr;

/// The file name pcsc-tools uses in every location.
pub const FILE_NAME: &str = "smartcard_list.txt";

/// Where pcsc-tools' maintainer publishes the current list.
pub const DOWNLOAD_URL: &str = "https://pcsc-tools.apdu.fr/smartcard_list.txt";

/// Why no list could be loaded.
#[derive(Debug, Error)]
pub enum ListError {
    /// No copy of the list in any known place.
    #[error(
        "No {FILE_NAME} found (looked in: {}). Card names come from pcsc-tools' list: install it (Debian/Ubuntu: apt install pcsc-tools) or download {DOWNLOAD_URL} into ~/.cache/{FILE_NAME}.",
        display_paths(.searched)
    )]
    NotFound {
        /// The places looked in, in order.
        searched: Vec<PathBuf>,
    },
    /// A copy exists but could not be read.
    #[error("Could not read the card name list {}: {source}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: io::Error,
    },
}

fn display_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A parsed card name list.
#[derive(Clone, Debug, Default)]
pub struct SmartcardList {
    /// Each kept pattern followed by its description lines, each line ended
    /// by `\n`. One buffer rather than a few allocations per pattern: the
    /// list's 4,000 patterns took 1.3 MB that way (issue 6's memory goal).
    text: String,
    /// The patterns' literal prefixes, back to back.
    prefixes: Vec<u8>,
    entries: Vec<Entry>,
    skipped: Vec<String>,
    source: Option<PathBuf>,
}

/// Where one pattern, its literal prefix and its description lines are.
#[derive(Clone, Debug)]
struct Entry {
    /// `text[start..descriptions]` is the pattern, checked to be in the supported subset.
    start: usize,
    /// `text[descriptions..end]` are its description lines.
    descriptions: usize,
    end: usize,
    /// `prefixes[prefix]`: the literal bytes the pattern starts with.
    prefix: std::ops::Range<usize>,
}

impl SmartcardList {
    /// The places pcsc-tools looks in, the user's copies first:
    /// `$XDG_CACHE_HOME` (or `~/.cache`), `~/.smartcard_list.txt`, then the system's.
    pub fn default_paths() -> Vec<PathBuf> {
        let home = std::env::var_os("HOME")
            .or_else(|| std::env::var_os("USERPROFILE"))
            .map(PathBuf::from);
        let cache = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| home.as_ref().map(|h| h.join(".cache")));
        let mut paths = Vec::new();
        paths.extend(cache.map(|c| c.join(FILE_NAME)));
        paths.extend(home.map(|h| h.join(".smartcard_list.txt")));
        paths.extend(
            [
                "/usr/local/pcsc",
                "/usr/share/pcsc",
                "/usr/local/share/pcsc",
            ]
            .iter()
            .map(|dir| Path::new(dir).join(FILE_NAME)),
        );
        paths
    }

    /// Loads the first list found in [`SmartcardList::default_paths`]. Reads
    /// and parses the whole file: call it once, off the UI thread.
    pub fn load_default() -> Result<Self, ListError> {
        Self::load_first(&Self::default_paths())
    }

    /// Loads the first of `paths` that exists.
    pub fn load_first(paths: &[PathBuf]) -> Result<Self, ListError> {
        for path in paths {
            match Self::load(path) {
                Err(ListError::Read { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
                }
                other => return other,
            }
        }
        Err(ListError::NotFound {
            searched: paths.to_vec(),
        })
    }

    /// Loads one file; bytes that are not UTF-8 are replaced, not refused.
    pub fn load(path: &Path) -> Result<Self, ListError> {
        let bytes = std::fs::read(path).map_err(|source| ListError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut list = Self::parse(&String::from_utf8_lossy(&bytes));
        list.source = Some(path.to_owned());
        Ok(list)
    }

    /// Parses the text of a list. Odd lines are ignored; patterns it cannot
    /// read are skipped (see [`SmartcardList::skipped_patterns`]).
    pub fn parse(text: &str) -> Self {
        let mut list = Self::default();
        // Descriptions belong to the pattern just above; `None` after a
        // skipped pattern, a comment or an empty line.
        let mut current: Option<usize> = None;
        for raw in text.split('\n') {
            let line = raw.trim_end_matches(['\r', '\n']);
            if line.starts_with('\t') || line.starts_with(' ') {
                let description = line.trim();
                // Descriptions only ever follow the last pattern kept, so
                // they extend it at the end of the buffer.
                if let (Some(index), false) = (current, description.is_empty())
                    && let Some(entry) = list.entries.get_mut(index)
                {
                    list.text.push_str(description);
                    list.text.push('\n');
                    entry.end = list.text.len();
                }
                continue;
            }
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                current = None;
                continue;
            }
            match literal_prefix(line) {
                Some(prefix) => {
                    let start = list.text.len();
                    list.text.push_str(line);
                    let at = list.prefixes.len();
                    list.prefixes.extend(prefix);
                    list.entries.push(Entry {
                        start,
                        descriptions: list.text.len(),
                        end: list.text.len(),
                        prefix: at..list.prefixes.len(),
                    });
                    current = Some(list.entries.len() - 1);
                }
                None => {
                    list.skipped.push(line.to_owned());
                    current = None;
                }
            }
        }
        list.text.shrink_to_fit();
        list.prefixes.shrink_to_fit();
        list.entries.shrink_to_fit();
        list
    }

    /// Every description line of every pattern that matches the ATR, in file order.
    pub fn names_for(&self, atr: &Atr) -> Vec<&str> {
        self.matching(atr)
            .flat_map(|entry| self.text[entry.descriptions..entry.end].lines())
            .collect()
    }

    /// The patterns (as written in the list) that match the ATR, in file order.
    pub fn patterns_for(&self, atr: &Atr) -> Vec<&str> {
        self.matching(atr)
            .map(|entry| &self.text[entry.start..entry.descriptions])
            .collect()
    }

    /// How many patterns the list holds (skipped ones not counted).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the list holds no usable pattern.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The pattern lines that use a syntax this matcher does not support.
    pub fn skipped_patterns(&self) -> &[String] {
        &self.skipped
    }

    /// The file the list was loaded from, if it came from a file.
    pub fn source(&self) -> Option<&Path> {
        self.source.as_deref()
    }

    fn matching(&self, atr: &Atr) -> impl Iterator<Item = &Entry> {
        // The list's patterns are written against "3B 8D 01 ...".
        let subject = spaced_hex(atr.bytes()).into_bytes();
        self.entries.iter().filter(move |entry| {
            subject.starts_with(&self.prefixes[entry.prefix.clone()])
                && pattern_matches(&self.text[entry.start..entry.descriptions], &subject)
        })
    }
}

#[derive(Clone, Debug)]
struct Token {
    atom: Atom,
    optional: bool,
    repeat: bool,
}

#[derive(Clone, Debug)]
enum Atom {
    Any,
    Byte(u8),
    Class { negated: bool, items: Vec<(u8, u8)> },
}

impl Atom {
    fn matches(&self, c: u8) -> bool {
        match self {
            Atom::Any => c != b'\n',
            Atom::Byte(b) => *b == c,
            Atom::Class { negated, items } => {
                items.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c)) != *negated
            }
        }
    }
}

// ATR patterns are kept as text. The atoms are compiled again for each match
// instead of being kept: kept, the list's 4,000 patterns held about 10 MB of
// tokens (issue 6's memory goal), while only the few patterns whose literal
// prefix fits an ATR ever get that far. Most patterns differ from an ATR
// within the first bytes, so the prefix rejects them without the NFA.

/// The pattern's literal prefix, or `None` when the pattern is outside the supported subset.
fn literal_prefix(text: &str) -> Option<Vec<u8>> {
    let tokens = tokens_of(text)?;
    Some(
        tokens
            .iter()
            .map_while(|token| match token.atom {
                Atom::Byte(b) if !token.optional && !token.repeat => Some(b),
                _ => None,
            })
            .collect(),
    )
}

/// Compiles the regular-expression subset to atoms with repeat counts.
fn tokens_of(text: &str) -> Option<Vec<Token>> {
    // Perl matched it case-insensitively (`m/^$line$/i`); upper-casing both sides does the same.
    let upper = text.to_ascii_uppercase();
    let mut bytes = upper.bytes().peekable();
    let mut tokens: Vec<Token> = Vec::new();
    while let Some(c) = bytes.next() {
        let atom = match c {
            b'.' => Atom::Any,
            b'[' => {
                let negated = bytes.next_if_eq(&b'^').is_some();
                let mut items = Vec::new();
                // A `]` right after `[` is a literal in Perl.
                let mut first = true;
                loop {
                    let c = bytes.next()?;
                    if c == b']' && !first {
                        break;
                    }
                    first = false;
                    let lo = if c == b'\\' { bytes.next()? } else { c };
                    let is_range = bytes.peek() == Some(&b'-');
                    if is_range {
                        bytes.next();
                        match bytes.peek() {
                            Some(b']') | None => {
                                items.push((lo, lo));
                                items.push((b'-', b'-'));
                            }
                            Some(_) => {
                                let hi = bytes.next()?;
                                let hi = if hi == b'\\' { bytes.next()? } else { hi };
                                if hi < lo {
                                    return None;
                                }
                                items.push((lo, hi));
                            }
                        }
                    } else {
                        items.push((lo, lo));
                    }
                }
                Atom::Class { negated, items }
            }
            b'*' | b'+' | b'?' => {
                let last = tokens.last_mut()?;
                if last.repeat || last.optional {
                    // `a**`, `a*?`: nested quantifiers are beyond this subset.
                    return None;
                }
                match c {
                    b'*' => {
                        last.optional = true;
                        last.repeat = true;
                    }
                    b'+' => last.repeat = true,
                    _ => last.optional = true,
                }
                continue;
            }
            b'\\' => Atom::Byte(bytes.next()?),
            b'(' | b')' | b'|' | b'{' | b'}' | b'^' | b'$' => return None,
            other => Atom::Byte(other),
        };
        tokens.push(Token {
            atom,
            optional: false,
            repeat: false,
        });
    }
    Some(tokens)
}

/// Whether `pattern` matches the whole subject (`^pattern$`).
fn pattern_matches(pattern: &str, subject: &[u8]) -> bool {
    // `literal_prefix` accepted the text, so this cannot fail.
    let Some(tokens) = tokens_of(pattern) else {
        return false;
    };
    // states[i]: "the next thing to match is token i"; states[n] accepts.
    let n = tokens.len();
    let mut states = vec![false; n + 1];
    let mut next = vec![false; n + 1];
    if let Some(first) = states.first_mut() {
        *first = true;
    }
    close(&tokens, &mut states);
    for &c in subject {
        next.iter_mut().for_each(|s| *s = false);
        let mut alive = false;
        for (i, token) in tokens.iter().enumerate() {
            if states.get(i) == Some(&true) && token.atom.matches(c) {
                if let Some(s) = next.get_mut(i + 1) {
                    *s = true;
                }
                if token.repeat
                    && let Some(s) = next.get_mut(i)
                {
                    *s = true;
                }
                alive = true;
            }
        }
        if !alive {
            return false;
        }
        close(&tokens, &mut next);
        std::mem::swap(&mut states, &mut next);
    }
    states.get(n) == Some(&true)
}

/// Adds the states reachable by skipping optional tokens.
fn close(tokens: &[Token], states: &mut [bool]) {
    for (i, token) in tokens.iter().enumerate() {
        if token.optional
            && states.get(i) == Some(&true)
            && let Some(s) = states.get_mut(i + 1)
        {
            *s = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const LIST: &str = "#\n\
# syntax:\n\
# ATR in regular expression form\n\
\n\
3B 8D 01 80 FB A0 00 00 03 97 42 54 46 59 03 01 C8\n\
\tGIDS seed card\n\
\thttps://example.invalid/gids\n\
\n\
3B 8D 01 80 FB A0 00 00 03 97 42 54 46 59 .. .. ..\n\
\tAny GIDS applet with the AID in its ATR\n\
\n\
3B F8 13 00 00 81 31 FE 15 59 75 62 69 6B 65 79 34 D4\n\
\tYubico Yubikey 4 OTP+U2F+CCID\n\
\n\
3B 68 00 00 00 73 C8 40 [01]0 00 9[0-2] 00\n\
\tA T=0 card\n\
\n\
3B 6. 00 00 .*\n\
\tSome T=0 family\n\
\n\
3B (8D|8E) 01\n\
\tAlternation is not supported\n";

    fn atr(text: &str) -> Atr {
        Atr::parse_hex(text).expect("test ATR is hex")
    }

    #[test]
    fn exact_and_wildcard_patterns_give_all_their_descriptions() {
        let list = SmartcardList::parse(LIST);
        assert_eq!(list.len(), 5);
        assert_eq!(list.skipped_patterns(), &["3B (8D|8E) 01".to_owned()]);
        assert_eq!(
            list.names_for(&atr("3b8d0180fba000000397425446590301c8")),
            vec![
                "GIDS seed card",
                "https://example.invalid/gids",
                "Any GIDS applet with the AID in its ATR"
            ]
        );
        assert_eq!(
            list.names_for(&atr("3b8d0180fba000000397425446590302c9")),
            vec!["Any GIDS applet with the AID in its ATR"]
        );
        assert_eq!(
            list.names_for(&atr("3bf81300008131fe15597562696b657934d4")),
            vec!["Yubico Yubikey 4 OTP+U2F+CCID"]
        );
    }

    #[test]
    fn nibble_wildcards_classes_and_star_follow_perl() {
        let list = SmartcardList::parse(LIST);
        assert_eq!(
            list.names_for(&atr("3b6800000073c84000009000")),
            vec!["A T=0 card", "Some T=0 family"]
        );
        assert_eq!(
            list.names_for(&atr("3b6800000073c84010009200")),
            vec!["A T=0 card", "Some T=0 family"]
        );
        assert_eq!(
            list.names_for(&atr("3b6800000073c84020009000")),
            vec!["Some T=0 family"]
        );
        // `.*` still needs the space before it: "3B 65 00 00" alone does not match.
        assert!(list.names_for(&atr("3b650000")).is_empty());
        assert_eq!(
            list.patterns_for(&atr("3b65000001")),
            vec!["3B 6. 00 00 .*"]
        );
        // The pattern is anchored at both ends.
        assert!(
            list.names_for(&atr("3b8d0180fba000000397425446590301c800"))
                .is_empty()
        );
        assert!(list.names_for(&Atr::default()).is_empty());
    }

    #[test]
    fn patterns_match_case_insensitively_and_odd_lines_are_ignored() {
        let text = "\tdescription before any pattern\r\n\
                    3b 8d ..\r\n\
                    \tlower-case pattern\r\n\
                    \t\r\n\
                    # a comment ends the entry\n\
                    \tstray description\n\
                    [\n\
                    \tunterminated class\n\
                    3B 8[^0-7]\n\
                    \tnegated class\n";
        let list = SmartcardList::parse(text);
        assert_eq!(list.len(), 2);
        assert_eq!(list.skipped_patterns(), &["[".to_owned()]);
        assert_eq!(list.names_for(&atr("3b8d01")), vec!["lower-case pattern"]);
        assert_eq!(list.names_for(&atr("3b8d")), vec!["negated class"]);
        assert!(list.names_for(&atr("3b85")).is_empty());
    }

    #[test]
    fn non_utf8_bytes_are_replaced_not_refused() {
        let dir = std::env::temp_dir().join(format!(
            "enroll-station-smartcard-list-{}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join(FILE_NAME);
        std::fs::write(&path, b"3B 02 14 50\n\tCarte \xE0 puce\n").expect("write");
        let list = SmartcardList::load(&path).expect("loads");
        assert_eq!(list.source(), Some(path.as_path()));
        assert_eq!(
            list.names_for(&atr("3b021450")),
            vec!["Carte \u{FFFD} puce"]
        );

        let missing = dir.join("absent.txt");
        let found = SmartcardList::load_first(&[missing.clone(), path.clone()]).expect("second");
        assert_eq!(found.len(), 1);
        let err = SmartcardList::load_first(&[missing]).expect_err("absent");
        assert!(matches!(err, ListError::NotFound { .. }));
        let text = err.to_string();
        assert!(text.contains("apt install pcsc-tools"), "{text}");
        assert!(text.contains("~/.cache/smartcard_list.txt"), "{text}");
        std::fs::remove_dir_all(&dir).expect("clean up");
    }

    #[test]
    fn default_paths_put_the_user_copy_first() {
        let paths = SmartcardList::default_paths();
        let system = Path::new("/usr/share/pcsc/smartcard_list.txt");
        let system_at = paths.iter().position(|p| p == system).expect("system path");
        if let Some(cache_at) = paths
            .iter()
            .position(|p| p.ends_with(Path::new(".cache").join(FILE_NAME)))
        {
            assert!(cache_at < system_at);
        }
    }

    #[test]
    fn the_installed_list_loads_when_present() {
        // Only a sanity check of the real file's syntax; CI may not have it.
        let started = std::time::Instant::now();
        let Ok(list) = SmartcardList::load_default() else {
            eprintln!("no smartcard_list.txt installed; skipping");
            return;
        };
        let loaded = started.elapsed();
        let yubikey = atr("3bf81300008131fe15597562696b657934d4");
        let started = std::time::Instant::now();
        let names = list.names_for(&yubikey);
        eprintln!(
            "{}: {} patterns loaded in {loaded:?}; one lookup took {:?}: {names:?}",
            list.source()
                .map(Path::display)
                .map(|d| d.to_string())
                .unwrap_or_default(),
            list.len(),
            started.elapsed()
        );
        assert!(list.len() > 1000, "{} patterns", list.len());
        assert!(
            list.skipped_patterns().is_empty(),
            "{:?}",
            list.skipped_patterns()
        );
    }

    proptest! {
        #[test]
        fn arbitrary_lists_and_atrs_never_panic(
            text in "[0-9A-F .\\[\\]^*+?\\\\()|#\t\n-]{0,200}",
            bytes in prop::collection::vec(any::<u8>(), 0..34),
        ) {
            let list = SmartcardList::parse(&text);
            let _ = list.names_for(&Atr::from_bytes(bytes));
        }

        #[test]
        fn an_exact_pattern_matches_its_own_atr(bytes in prop::collection::vec(any::<u8>(), 1..34)) {
            let text = format!("{}\n\tthe card\n", spaced_hex(&bytes));
            let list = SmartcardList::parse(&text);
            prop_assert_eq!(list.names_for(&Atr::from_bytes(bytes)), vec!["the card"]);
        }
    }
}
