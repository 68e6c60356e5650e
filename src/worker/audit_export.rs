//! The audit window's journal: its recent records, and exports that work
//! with or without a desktop file dialog.
//!
//! An export asks where to save through the desktop's file dialog. Where
//! none can be shown (no xdg desktop portal, no zenity: a kiosk, a minimal
//! session), it saves into the user's Documents folder under a dated name
//! that never replaces a file, and says so. Every result goes back to the
//! audit window, never to the desk's notices.

mod save_dialog;

use std::path::Path;

use time::{Date, OffsetDateTime, UtcOffset};

use super::effects::{self, SharedJournal};
use super::protocol::{ExportOutcome, ExportResult, JournalSource};
use crate::audit::{ExportFormat, ExportPlace, Record};
use save_dialog::DialogAnswer;

/// How many records the window's audit view shows.
const AUDIT_VIEW_RECORDS: usize = 200;

/// The journal's latest records, oldest first, and where they come from.
pub(super) async fn load(journal: &SharedJournal) -> (Vec<Record>, JournalSource) {
    let read = effects::on_journal(journal, |j| {
        let source = match (j.path(), j.problem()) {
            (Some(path), _) => JournalSource::File(path),
            (None, Some(why)) => JournalSource::Unusable(why),
            (None, None) => JournalSource::Unusable(NO_JOURNAL.to_owned()),
        };
        (j.recent(AUDIT_VIEW_RECORDS), source)
    })
    .await;
    read.unwrap_or_else(|stopped| {
        let why = format!(
            "The audit journal could not be read ({}). Restart the station; it checks the \
             journal when it opens it.",
            stopped.why()
        );
        (Vec::new(), JournalSource::Unusable(why))
    })
}

const NO_JOURNAL: &str = "This station has no audit journal to read, so it does not bind. \
                          Check the journal's path (--audit-file) and restart the station.";

/// Exports the journal: asks where through the desktop's file dialog, or
/// saves to the default place when no dialog can be shown.
pub(super) async fn export(journal: &SharedJournal, format: ExportFormat) -> ExportResult {
    let outcome = export_outcome(journal, format).await;
    ExportResult {
        at: OffsetDateTime::now_utc(),
        outcome,
    }
}

async fn export_outcome(journal: &SharedJournal, format: ExportFormat) -> ExportOutcome {
    let source = match effects::on_journal(journal, |j| (j.path(), j.problem())).await {
        Ok((Some(path), _)) => path,
        Ok((None, problem)) => {
            return ExportOutcome::Failed(format!(
                "There is no usable audit journal to export: {}",
                problem.as_deref().unwrap_or(NO_JOURNAL)
            ));
        }
        Err(stopped) => {
            return ExportOutcome::Failed(format!(
                "The audit journal could not be read ({}). Restart the station and export again.",
                stopped.why()
            ));
        }
    };
    let answer = save_dialog::ask(format).await;
    let written = effects::blocking(move || {
        write(
            &source,
            format,
            answer,
            crate::audit::default_export_place,
            local_today(),
        )
    })
    .await;
    written.unwrap_or_else(|stopped| {
        ExportOutcome::Failed(format!(
            "The export stopped unexpectedly ({}). Export again; if it stops again, export from \
             a terminal with `enroll-station audit export --format csv --output FILE`.",
            stopped.why()
        ))
    })
}

/// Writes the export where the dialog's answer says; without a dialog, to
/// the default place `place` names (asked only then).
fn write(
    source: &Path,
    format: ExportFormat,
    answer: DialogAnswer,
    place: impl FnOnce() -> Option<ExportPlace>,
    today: Date,
) -> ExportOutcome {
    let failed = |error: crate::audit::AuditError| {
        ExportOutcome::Failed(format!("The audit journal was not exported: {error}"))
    };
    match answer {
        DialogAnswer::Cancelled => ExportOutcome::Cancelled,
        DialogAnswer::Chosen(path) => match crate::audit::export_to_file(source, format, &path) {
            Ok(records) => ExportOutcome::Saved {
                path,
                records,
                no_dialog: None,
            },
            Err(error) => failed(error),
        },
        DialogAnswer::Unavailable(missing) => {
            let Some(place) = place() else {
                return ExportOutcome::Failed(format!(
                    "No file dialog is available on this desktop: {missing}. There is no home \
                     folder to save the export in either: export from a terminal with \
                     `enroll-station audit export --format csv --output FILE`."
                ));
            };
            let folder = match &place {
                ExportPlace::Documents(_) => "your Documents folder",
                ExportPlace::DataFolder(_) => {
                    "the station's data folder (there is no Documents folder)"
                }
            };
            match crate::audit::export_to_new_file(source, format, place.dir(), today) {
                Ok((path, records)) => ExportOutcome::Saved {
                    path,
                    records,
                    no_dialog: Some(format!(
                        "No file dialog is available on this desktop: {missing}. The station \
                         saved the export in {folder} instead."
                    )),
                },
                Err(error) => failed(error),
            }
        }
    }
}

/// Today in local time, for the export's file name; UTC where the local
/// offset cannot be read.
fn local_today() -> Date {
    let now = OffsetDateTime::now_utc();
    UtcOffset::local_offset_at(now)
        .ok()
        .and_then(|offset| now.checked_to_offset(offset))
        .unwrap_or(now)
        .date()
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::audit::{AttemptInfo, AuditJournal, Operator, Outcome, OutcomeInfo};
    use crate::domain::card::{Atr, CardId};

    fn journal(dir: &Path) -> PathBuf {
        let path = dir.join("audit.jsonl");
        let mut journal = AuditJournal::open(&path).expect("the journal opens");
        let attempt = journal
            .record_attempt(AttemptInfo {
                station: "desk-1".into(),
                operator: Operator::default(),
                supervisor: None,
                request_id: uuid::Uuid::from_u128(1),
                person: Some("Jane Doe".into()),
                card_id: CardId::from_raw([1; 16]),
                atr: Atr::from_bytes(vec![0x3b, 1]),
                reader: "R".into(),
                message: None,
                api_base: None,
            })
            .expect("attempt");
        journal
            .record_outcome(attempt, Outcome::Bound, OutcomeInfo::default())
            .expect("outcome");
        path
    }

    fn day() -> Date {
        Date::from_calendar_date(2026, time::Month::December, 4).expect("a date")
    }

    #[test]
    fn without_a_dialog_exports_go_to_documents_and_never_replace_a_file() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let source = journal(dir.path());
        let documents = dir.path().join("Documents");
        std::fs::create_dir(&documents).expect("a Documents folder");
        let place = || Some(ExportPlace::Documents(documents.clone()));
        let no_portal = || DialogAnswer::Unavailable("no portal".into());

        let first = write(&source, ExportFormat::Csv, no_portal(), place, day());
        let ExportOutcome::Saved {
            path,
            records,
            no_dialog,
        } = first
        else {
            panic!("not saved: {first:?}");
        };
        assert_eq!(path, documents.join("enroll-station-audit-2026-12-04.csv"));
        assert_eq!(records, 2);
        let why = no_dialog.expect("the result says why no dialog was shown");
        assert!(
            why.contains("no portal") && why.contains("Documents"),
            "{why}"
        );
        let first_text = std::fs::read_to_string(&path).expect("written");
        assert!(first_text.contains("Jane Doe"), "{first_text}");

        std::fs::write(&path, "the operator's own notes").expect("edited by hand");
        let second = write(&source, ExportFormat::Csv, no_portal(), place, day());
        let ExportOutcome::Saved { path: second, .. } = second else {
            panic!("not saved: {second:?}");
        };
        assert_eq!(
            second,
            documents.join("enroll-station-audit-2026-12-04-2.csv")
        );
        assert_eq!(
            std::fs::read_to_string(&path).expect("still there"),
            "the operator's own notes",
            "the first export is never replaced"
        );
        let json = write(&source, ExportFormat::Json, no_portal(), place, day());
        assert!(
            matches!(&json, ExportOutcome::Saved { path, .. }
                if path.ends_with("enroll-station-audit-2026-12-04.json")),
            "{json:?}"
        );
    }

    #[test]
    fn a_cancel_writes_nothing_and_is_not_a_missing_dialog() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let source = journal(dir.path());
        let asked = std::cell::Cell::new(false);
        let place = || {
            asked.set(true);
            Some(ExportPlace::Documents(dir.path().to_owned()))
        };
        let outcome = write(
            &source,
            ExportFormat::Csv,
            DialogAnswer::Cancelled,
            place,
            day(),
        );
        assert_eq!(outcome, ExportOutcome::Cancelled);
        assert!(
            !asked.get(),
            "a cancel never falls back to the default place"
        );
        let files = std::fs::read_dir(dir.path()).expect("listed").count();
        assert_eq!(files, 2, "only the journal and its head marker");
    }

    #[test]
    fn a_chosen_file_is_written_and_failures_say_what_to_do() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let source = journal(dir.path());
        let chosen = dir.path().join("chosen.json");
        let outcome = write(
            &source,
            ExportFormat::Json,
            DialogAnswer::Chosen(chosen.clone()),
            || None,
            day(),
        );
        assert_eq!(
            outcome,
            ExportOutcome::Saved {
                path: chosen.clone(),
                records: 2,
                no_dialog: None
            }
        );
        let records: Vec<serde_json::Value> =
            serde_json::from_slice(&std::fs::read(&chosen).expect("written")).expect("JSON");
        assert_eq!(records[0]["person"], "Jane Doe");

        let nowhere = dir.path().join("no-such-folder").join("x.csv");
        let failed = write(
            &source,
            ExportFormat::Csv,
            DialogAnswer::Chosen(nowhere),
            || None,
            day(),
        );
        let ExportOutcome::Failed(why) = failed else {
            panic!("written: {failed:?}");
        };
        assert!(
            why.contains("no-such-folder") && why.contains("Check that the folder exists"),
            "{why}"
        );

        let homeless = write(
            &source,
            ExportFormat::Csv,
            DialogAnswer::Unavailable("no portal".into()),
            || None,
            day(),
        );
        let ExportOutcome::Failed(why) = homeless else {
            panic!("written: {homeless:?}");
        };
        assert!(why.contains("enroll-station audit export"), "{why}");
    }
}
