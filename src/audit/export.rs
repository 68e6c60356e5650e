//! Exports for people and tools outside the station: CSV and JSON, written
//! only from a journal whose chain checks out.

use std::io::Write;
use std::path::{Path, PathBuf};

use time::Date;
use uuid::Uuid;

use super::chain::{read_chain, read_settled};
use super::{AuditError, Record};

/// The export formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// A header row and one row per record (RFC 4180 quoting).
    Csv,
    /// One JSON array of the records, each written again from its parsed
    /// fields (so nothing but a record's fields passes through).
    Json,
}
/// Writes every record of the journal at `path` to `out`, and returns how many.
///
/// The journal is verified first and nothing is written when it is broken, so
/// an export never passes off a tampered journal as a clean one. A torn last
/// line is read again a few times first: a writer may be in the middle of it.
pub fn export(
    path: impl AsRef<Path>,
    format: ExportFormat,
    out: &mut dyn Write,
) -> Result<u64, AuditError> {
    let path = path.as_ref();
    let (buffer, records) = read_settled(path, |file| {
        let mut buffer = Vec::new();
        match format {
            ExportFormat::Csv => {
                write_csv_row(&mut buffer, CSV_HEADER.iter().map(|h| (*h).to_owned()));
            }
            ExportFormat::Json => buffer.push(b'['),
        }
        let mut first = true;
        let mut encoded = Ok(());
        let chain = read_chain(path, file, |_, record| match format {
            ExportFormat::Csv => write_csv_row(&mut buffer, csv_fields(record)),
            ExportFormat::Json => {
                buffer.extend_from_slice(if first { b"\n" } else { b",\n" });
                // The parsed record, not the line: nothing else passes.
                if let Err(error) = serde_json::to_writer(&mut buffer, record) {
                    encoded = Err(error);
                }
                first = false;
            }
        })?;
        encoded?;
        if format == ExportFormat::Json {
            buffer.extend_from_slice(if first { b"]\n" } else { b"\n]\n" });
        }
        Ok((buffer, chain.records()))
    })?;
    out.write_all(&buffer)
        .and_then(|()| out.flush())
        .map_err(AuditError::Output)?;
    Ok(records)
}

/// The CSV columns, in order.
/// `batch_id` came last, after `prev_hash`, so that the columns a
/// spreadsheet already reads by position stay where they were.
pub const CSV_HEADER: [&str; 20] = [
    "seq",
    "time",
    "event",
    "outcome",
    "attempt_id",
    "station",
    "operator_os_user",
    "operator_principal",
    "supervisor",
    "person",
    "request_id",
    "card_id",
    "atr",
    "reader",
    "api_base",
    "smartcard_uuid",
    "correlation_id",
    "message",
    "prev_hash",
    "batch_id",
];

fn csv_fields(record: &Record) -> [String; 20] {
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    let uuid = |value: &Option<Uuid>| value.map(|u| u.to_string()).unwrap_or_default();
    let time = record
        .time
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    [
        record.seq.to_string(),
        time,
        record.event.as_str().to_owned(),
        record
            .outcome
            .map(|o| o.as_str().to_owned())
            .unwrap_or_default(),
        record.attempt_id.to_string(),
        record.station.clone(),
        text(&record.operator.os_user),
        text(&record.operator.principal),
        text(&record.supervisor),
        text(&record.person),
        record.request_id.to_string(),
        record.card_id.clone(),
        record.atr.clone(),
        record.reader.clone(),
        text(&record.api_base),
        uuid(&record.smartcard_uuid),
        text(&record.correlation_id),
        text(&record.message),
        record.prev_hash.clone(),
        uuid(&record.batch_id),
    ]
}

fn write_csv_row(buffer: &mut Vec<u8>, fields: impl IntoIterator<Item = String>) {
    for (index, field) in fields.into_iter().enumerate() {
        if index > 0 {
            buffer.push(b',');
        }
        // A spreadsheet runs a cell that starts like a formula; a requester's
        // name is typed by anyone, so such a value is kept as text.
        let field = if field.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            format!("'{field}")
        } else {
            field
        };
        let needs_quotes = field.contains([',', '"', '\r', '\n'])
            || field.starts_with(' ')
            || field.ends_with(' ');
        if needs_quotes {
            buffer.push(b'"');
            buffer.extend_from_slice(field.replace('"', "\"\"").as_bytes());
            buffer.push(b'"');
        } else {
            buffer.extend_from_slice(field.as_bytes());
        }
    }
    buffer.extend_from_slice(b"\r\n");
}

/// Writes the export of the journal at `journal` to `target`, replacing it
/// (a file dialog asked before, or `--output` named it), and returns how
/// many records it holds.
///
/// The journal is exported to memory first: a broken journal leaves no file.
/// The file is a new one (`0600` on Unix) renamed over `target`: a symbolic
/// link planted at `target` is replaced, never written through.
pub fn export_to_file(
    journal: &Path,
    format: ExportFormat,
    target: &Path,
) -> Result<u64, AuditError> {
    let mut exported = Vec::new();
    let count = export(journal, format, &mut exported)?;
    crate::platform::files::replace_file(target, &exported, crate::platform::files::OWNER_ONLY)
        .map_err(|source| AuditError::ExportFile {
            path: target.to_owned(),
            source,
        })?;
    Ok(count)
}

/// The most files of one day and format [`export_to_new_file`] numbers
/// before it gives up: beyond it something is exporting in a loop.
pub(super) const MAX_EXPORTS_PER_DAY: u32 = 999;

/// The export's file name on `date`: `enroll-station-audit-2026-12-04.csv`,
/// then `…-2.csv`, `…-3.csv` for the `n`th of the day.
pub fn export_file_name(date: Date, format: ExportFormat, n: u32) -> String {
    let extension = format.extension();
    let (year, month, day) = (date.year(), u8::from(date.month()), date.day());
    match n {
        0 | 1 => format!("enroll-station-audit-{year:04}-{month:02}-{day:02}.{extension}"),
        n => format!("enroll-station-audit-{year:04}-{month:02}-{day:02}-{n}.{extension}"),
    }
}

/// Writes the export into `dir` (created if needed) under the day's first
/// free [`export_file_name`], never replacing a file, and returns the path
/// and how many records it holds.
pub fn export_to_new_file(
    journal: &Path,
    format: ExportFormat,
    dir: &Path,
    date: Date,
) -> Result<(PathBuf, u64), AuditError> {
    let mut exported = Vec::new();
    let count = export(journal, format, &mut exported)?;
    let failed = |path: &Path| {
        let path = path.to_owned();
        move |source| AuditError::ExportFile { path, source }
    };
    std::fs::create_dir_all(dir).map_err(failed(dir))?;
    for n in 1..=MAX_EXPORTS_PER_DAY {
        let path = dir.join(export_file_name(date, format, n));
        // `create_new` is the check and the creation in one step: a file
        // another process made in between is skipped, not overwritten.
        // A symbolic link at the name counts as taken: it is never followed.
        let mut file =
            match crate::platform::files::create_new(&path, crate::platform::files::OWNER_ONLY) {
                Ok(file) => file,
                Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(error) => return Err(failed(&path)(error)),
            };
        if let Err(error) = file.write_all(&exported).and_then(|()| file.sync_all()) {
            drop(file);
            // Only this call's file, and only half written: nothing worth keeping.
            let _ = std::fs::remove_file(&path);
            return Err(failed(&path)(error));
        }
        return Ok((path, count));
    }
    Err(AuditError::NoFreeExportName {
        dir: dir.to_owned(),
    })
}

/// Where an export goes when no file dialog can ask.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExportPlace {
    /// The user's documents folder.
    Documents(PathBuf),
    /// The station's data folder, beside the journal: the user has no
    /// documents folder.
    DataFolder(PathBuf),
}

impl ExportPlace {
    /// The folder.
    pub fn dir(&self) -> &Path {
        match self {
            ExportPlace::Documents(dir) | ExportPlace::DataFolder(dir) => dir,
        }
    }
}

/// The folder an export goes to when no file dialog can ask: the user's
/// documents folder (on Linux `XDG_DOCUMENTS_DIR`, else `~/Documents` when it
/// exists), else the station's data folder. None without a home directory.
pub fn default_export_place() -> Option<ExportPlace> {
    let user = directories::UserDirs::new();
    choose_export_place(
        user.as_ref()
            .and_then(|u| u.document_dir().map(Path::to_owned)),
        user.as_ref().map(|u| u.home_dir().join("Documents")),
        directories::ProjectDirs::from("", "", "enroll-station")
            .map(|dirs| dirs.data_local_dir().to_owned()),
    )
}

/// The first of the candidates that is a folder, else the data folder.
fn choose_export_place(
    documents: Option<PathBuf>,
    home_documents: Option<PathBuf>,
    data: Option<PathBuf>,
) -> Option<ExportPlace> {
    documents
        .into_iter()
        .chain(home_documents)
        .find(|dir| dir.is_dir())
        .map(ExportPlace::Documents)
        .or_else(|| data.map(ExportPlace::DataFolder))
}

impl ExportFormat {
    /// The file name extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Json => "json",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Outcome;
    use crate::audit::tests::{dir, journal_with_three_binds, lines, write_lines};

    #[test]
    fn exports_quote_csv_and_give_json_the_parsed_records() {
        let dir = dir();
        let path = dir.path().join("audit.jsonl");
        journal_with_three_binds(&path);
        let mut csv = Vec::new();
        assert_eq!(export(&path, ExportFormat::Csv, &mut csv).expect("csv"), 5);
        let csv = String::from_utf8(csv).expect("utf-8");
        let rows: Vec<&str> = csv.split("\r\n").filter(|r| !r.is_empty()).collect();
        assert_eq!(rows.len(), 6);
        assert_eq!(rows[0], CSV_HEADER.join(","));
        assert!(
            rows[4].contains(",\"The server said, \"\"no\"\"\","),
            "{}",
            rows[4]
        );

        let mut json = Vec::new();
        export(&path, ExportFormat::Json, &mut json).expect("json");
        let records: Vec<Record> = serde_json::from_slice(&json).expect("a JSON array");
        assert_eq!(records.len(), 5);
        assert_eq!(records[1].outcome, Some(Outcome::Bound));
    }

    #[test]
    fn csv_names_the_person_and_keeps_formulas_as_text() {
        let dir = dir();
        let path = dir.path().join("audit.jsonl");
        let mut journal = crate::audit::AuditJournal::open(&path).expect("opens");
        let _named = journal
            .record_attempt(crate::audit::AttemptInfo {
                person: Some("=HYPERLINK(\"http://evil\",\"Jane\")".into()),
                ..crate::audit::tests::attempt(1)
            })
            .expect("attempt");
        drop(journal);
        let mut csv = Vec::new();
        export(&path, ExportFormat::Csv, &mut csv).expect("csv");
        let csv = String::from_utf8(csv).expect("utf-8");
        let rows: Vec<&str> = csv.split("\r\n").collect();
        let person = CSV_HEADER
            .iter()
            .position(|h| *h == "person")
            .expect("a person column");
        assert!(
            person
                < CSV_HEADER
                    .iter()
                    .position(|h| *h == "request_id")
                    .expect("ids"),
            "names first"
        );
        assert!(
            rows[1].contains(",\"'=HYPERLINK(\"\"http://evil\"\",\"\"Jane\"\")\","),
            "{}",
            rows[1]
        );
        // JSON keeps the value exactly as journalled.
        let mut json = Vec::new();
        export(&path, ExportFormat::Json, &mut json).expect("json");
        let records: Vec<Record> = serde_json::from_slice(&json).expect("JSON");
        assert_eq!(
            records[0].person.as_deref(),
            Some("=HYPERLINK(\"http://evil\",\"Jane\")")
        );
    }

    #[test]
    fn new_files_are_numbered_and_never_replace_one() {
        let dir = dir();
        let path = dir.path().join("audit.jsonl");
        journal_with_three_binds(&path);
        let out = dir.path().join("exports");
        let day = Date::from_calendar_date(2026, time::Month::December, 4).expect("a date");
        let (first, count) =
            export_to_new_file(&path, ExportFormat::Csv, &out, day).expect("first");
        assert_eq!(count, 5);
        assert_eq!(first, out.join("enroll-station-audit-2026-12-04.csv"));
        std::fs::write(out.join("enroll-station-audit-2026-12-04-2.csv"), "mine")
            .expect("a file of the user's");
        let (third, _) = export_to_new_file(&path, ExportFormat::Csv, &out, day).expect("third");
        assert_eq!(third, out.join("enroll-station-audit-2026-12-04-3.csv"));
        assert_eq!(
            std::fs::read_to_string(out.join("enroll-station-audit-2026-12-04-2.csv"))
                .expect("kept"),
            "mine"
        );
        assert_eq!(
            std::fs::read(&first).expect("first"),
            std::fs::read(&third).expect("third")
        );
    }

    #[test]
    fn the_default_place_prefers_an_existing_documents_folder() {
        let dir = dir();
        let documents = dir.path().join("Documents");
        let data = dir.path().join("data");
        let missing = dir.path().join("missing");
        assert_eq!(
            choose_export_place(
                Some(missing.clone()),
                Some(data.clone()),
                Some(data.clone())
            ),
            Some(ExportPlace::DataFolder(data.clone())),
            "folders that do not exist are skipped"
        );
        std::fs::create_dir(&documents).expect("created");
        assert_eq!(
            choose_export_place(Some(missing), Some(documents.clone()), Some(data.clone())),
            Some(ExportPlace::Documents(documents.clone()))
        );
        assert_eq!(choose_export_place(None, None, None), None);
    }

    #[test]
    fn a_broken_journal_is_not_exported() {
        let dir = dir();
        let path = dir.path().join("audit.jsonl");
        journal_with_three_binds(&path);
        let mut lines = lines(&path);
        lines.remove(2);
        write_lines(&path, &lines);
        let mut out = Vec::new();
        assert!(export(&path, ExportFormat::Json, &mut out).is_err());
        assert!(out.is_empty());
    }
}
