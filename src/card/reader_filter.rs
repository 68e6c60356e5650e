//! Which readers the station ignores: name patterns with `*` and `?`, case-insensitive.
//!
//! Windows lists Windows Hello and TPM virtual smart cards as readers; a site
//! hides them with patterns such as `*Windows Hello*` or `*Virtual Smart Card*`.

use std::sync::Arc;

use wildmatch::WildMatch;

use crate::domain::readers::{ReaderBoard, ReaderEvent};

/// A set of reader-name patterns to ignore. The default ignores nothing.
#[derive(Clone, Debug, Default)]
pub struct ReaderFilter {
    patterns: Vec<(String, WildMatch)>,
}

impl ReaderFilter {
    /// Builds the filter from patterns as the operator wrote them.
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Self {
        Self {
            patterns: patterns
                .iter()
                .map(|p| p.as_ref().trim())
                .filter(|p| !p.is_empty())
                .map(|p| (p.to_owned(), WildMatch::new_case_insensitive(p)))
                .collect(),
        }
    }

    /// True when the reader is to be shown and used.
    pub fn allows(&self, reader: &str) -> bool {
        !self
            .patterns
            .iter()
            .any(|(_, pattern)| pattern.matches(reader))
    }

    /// The patterns, as given.
    pub fn patterns(&self) -> impl Iterator<Item = &str> {
        self.patterns.iter().map(|(text, _)| text.as_str())
    }

    /// Wraps an event sink so events about ignored readers never reach it.
    pub fn wrap(
        &self,
        sink: Arc<dyn Fn(ReaderEvent) + Send + Sync>,
    ) -> Arc<dyn Fn(ReaderEvent) + Send + Sync> {
        if self.patterns.is_empty() {
            return sink;
        }
        let filter = self.clone();
        Arc::new(move |event: ReaderEvent| {
            if event.reader().is_none_or(|reader| filter.allows(reader)) {
                sink(event);
            }
        })
    }

    /// Drops ignored readers from a snapshot.
    pub fn apply(&self, board: &mut ReaderBoard) {
        board.retain_readers(|reader| self.allows(reader));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[test]
    fn patterns_match_case_insensitively_with_wildcards() {
        let filter = ReaderFilter::new(&["*windows hello*", "Microsoft Virtual Smart Card ?", " "]);
        assert!(!filter.allows("Windows Hello for Business 1"));
        assert!(!filter.allows("Microsoft Virtual Smart Card 0"));
        assert!(filter.allows("Microsoft Virtual Smart Card 10"));
        assert!(filter.allows("Identiv uTrust 3700 F 00 00"));
        assert_eq!(filter.patterns().count(), 2, "blank patterns are dropped");
        assert!(ReaderFilter::default().allows("anything"));
    }

    #[test]
    fn wrapped_sinks_and_snapshots_lose_only_ignored_readers() {
        let filter = ReaderFilter::new(&["TPM*"]);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = Arc::clone(&seen);
        let sink = filter.wrap(Arc::new(move |event: ReaderEvent| {
            if let Ok(mut seen) = record.lock() {
                seen.push(event);
            }
        }));
        let events = [
            ReaderEvent::ReaderAdded {
                reader: "TPM Virtual Reader".into(),
            },
            ReaderEvent::ReaderAdded {
                reader: "USB Reader".into(),
            },
            ReaderEvent::ServiceUp,
        ];
        let mut board = ReaderBoard::default();
        for event in events {
            board.apply(&event);
            sink(event);
        }
        let seen = seen.lock().map(|s| s.clone()).unwrap_or_default();
        assert_eq!(
            seen,
            vec![
                ReaderEvent::ReaderAdded {
                    reader: "USB Reader".into()
                },
                ReaderEvent::ServiceUp
            ]
        );
        filter.apply(&mut board);
        assert_eq!(
            board.readers().map(|(n, _)| n).collect::<Vec<_>>(),
            vec!["USB Reader"]
        );
    }
}
