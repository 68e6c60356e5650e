//! Exports for people and tools outside the station: CSV and JSON, written
//! only from a journal whose chain checks out.

use std::io::Write;
use std::path::Path;

use uuid::Uuid;

use super::chain::{open_for_reading, read_chain};
use super::{AuditError, Record};

/// The export formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// A header row and one row per record (RFC 4180 quoting).
    Csv,
    /// One JSON array of the records, each exactly as stored.
    Json,
}
/// Writes every record of the journal at `path` to `out`, and returns how many.
///
/// The journal is verified first and nothing is written when it is broken, so
/// an export never passes off a tampered journal as a clean one.
pub fn export(
    path: impl AsRef<Path>,
    format: ExportFormat,
    out: &mut dyn Write,
) -> Result<u64, AuditError> {
    let path = path.as_ref();
    let file = open_for_reading(path)?;
    let mut buffer = Vec::new();
    match format {
        ExportFormat::Csv => {
            write_csv_row(&mut buffer, CSV_HEADER.iter().map(|h| (*h).to_owned()));
        }
        ExportFormat::Json => buffer.push(b'['),
    }
    let mut first = true;
    let chain = read_chain(path, &file, |bytes, record| match format {
        ExportFormat::Csv => write_csv_row(&mut buffer, csv_fields(record)),
        ExportFormat::Json => {
            buffer.extend_from_slice(if first { b"\n" } else { b",\n" });
            buffer.extend_from_slice(bytes);
            first = false;
        }
    })?;
    if format == ExportFormat::Json {
        buffer.extend_from_slice(if first { b"]\n" } else { b"\n]\n" });
    }
    out.write_all(&buffer)
        .and_then(|()| out.flush())
        .map_err(AuditError::Output)?;
    Ok(chain.records())
}

/// The CSV columns, in order.
pub const CSV_HEADER: [&str; 17] = [
    "seq",
    "time",
    "event",
    "outcome",
    "attempt_id",
    "station",
    "operator_os_user",
    "operator_principal",
    "supervisor",
    "request_id",
    "card_id",
    "atr",
    "reader",
    "smartcard_uuid",
    "correlation_id",
    "message",
    "prev_hash",
];

fn csv_fields(record: &Record) -> [String; 17] {
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
        record.request_id.to_string(),
        record.card_id.clone(),
        record.atr.clone(),
        record.reader.clone(),
        uuid(&record.smartcard_uuid),
        text(&record.correlation_id),
        text(&record.message),
        record.prev_hash.clone(),
    ]
}

fn write_csv_row(buffer: &mut Vec<u8>, fields: impl IntoIterator<Item = String>) {
    for (index, field) in fields.into_iter().enumerate() {
        if index > 0 {
            buffer.push(b',');
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Outcome;
    use crate::audit::tests::{dir, journal_with_three_binds, lines, write_lines};

    #[test]
    fn exports_quote_csv_and_keep_json_records_as_stored() {
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
