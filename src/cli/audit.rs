//! `enroll-station audit`: check and export the audit journal, for support and auditors.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::{Subcommand, ValueEnum};

use std::sync::Arc;

use super::Settings;
use crate::audit::{self, ExportFormat};
use crate::worker::actions::reconcile_open_actions;
use crate::worker::effects::{BindContext, reconcile_open_attempts};

/// The `audit` subcommands.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the journal's hash chain: exit 0 with a summary when it is intact,
    /// non-zero naming the first broken record otherwise.
    Verify {
        /// The journal; default: --audit-file, else the station's own journal.
        #[arg(value_name = "FILE")]
        file: Option<PathBuf>,
    },
    /// Write every record as CSV or JSON (only from an intact journal).
    Export {
        /// The output format.
        #[arg(long, value_enum, value_name = "FORMAT")]
        format: FormatArg,
        /// Write to this file instead of standard output.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// The journal; default: --audit-file, else the station's own journal.
        #[arg(value_name = "FILE")]
        file: Option<PathBuf>,
    },
    /// Resolve attempts and lifecycle actions left without an outcome (a
    /// crash or a lost answer) by asking the CM server whether each bind or
    /// action happened, and record the outcome.
    Reconcile,
}

/// The export formats as the command line names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// A header row and one row per record.
    Csv,
    /// One JSON array of records.
    Json,
}

impl From<FormatArg> for ExportFormat {
    fn from(format: FormatArg) -> Self {
        match format {
            FormatArg::Csv => ExportFormat::Csv,
            FormatArg::Json => ExportFormat::Json,
        }
    }
}

/// The journal to read: the one named, else `--audit-file`, else the default.
fn journal_path(file: Option<PathBuf>, audit_file: Option<&Path>) -> anyhow::Result<PathBuf> {
    Ok(crate::audit::journal::journal_path(
        file.as_deref().or(audit_file),
        false,
    )?)
}

/// What `[audit_forwarding]` asks for, as the forwarder takes it.
pub(crate) fn forward_settings(
    table: &crate::config::AuditForwarding,
) -> anyhow::Result<audit::forward::ForwardSettings> {
    use audit::forward::{ForwardSettings, JOURNALD_SOCKET, syslog::SyslogTarget};
    let socket = table
        .journald_socket
        .clone()
        .unwrap_or_else(|| PathBuf::from(JOURNALD_SOCKET));
    // Default: on where journald listens (Linux with systemd).
    let journald = table
        .journald
        .unwrap_or_else(|| cfg!(target_os = "linux") && socket.exists());
    let syslog = table.syslog_target()?.map(|(host, port)| SyslogTarget {
        host,
        port,
        ca_files: table.syslog_ca_files.clone(),
    });
    Ok(ForwardSettings {
        journald: journald.then_some(socket),
        syslog,
        event_log: table.event_log.unwrap_or(cfg!(windows)),
        queue: table.queue.map_or(0, |n| n as usize),
    })
}

/// Starts forwarding the records of the station's journal (`audit_file`,
/// else the default; never the demo journal) as `[audit_forwarding]` says
/// (nothing when it names no destination, or there is no journal path).
pub(crate) fn start_forwarding(settings: &Settings) -> anyhow::Result<()> {
    let forward = forward_settings(&settings.config.audit_forwarding)?;
    if !forward.any() {
        audit::forward::uninstall();
        return Ok(());
    }
    match crate::audit::journal::journal_path(settings.audit_file(), false) {
        Ok(journal) => audit::forward::install(&journal, &forward),
        // The journal cannot be opened either: binding says why.
        Err(why) => tracing::warn!(%why, "audit records cannot be forwarded"),
    }
    Ok(())
}

/// Waits a little for the records a command wrote to be forwarded, and
/// says on stderr what could not be.
pub(crate) fn finish_forwarding() {
    if let Some(status) = audit::forward::flush(std::time::Duration::from_secs(5))
        && status.troubled()
    {
        eprintln!(
            "enroll-station: {} The journal file keeps every record.",
            super::escape::term_lines(&status.line())
        );
    }
}

/// The head marker's part of `audit verify`: `Err` when the journal is
/// missing or shorter than the station wrote, or records a gap.
fn verify_head(path: &Path, records: Option<u64>) -> anyhow::Result<()> {
    let check = audit::head::check(path, records);
    let mut problems = Vec::new();
    if let Some(gap) = &check.gap {
        problems.push(format!(
            "{gap} (head marker {})",
            audit::head::head_path(path).display()
        ));
    }
    for (seq, message) in &check.recorded_gaps {
        problems.push(format!("record {seq} records a gap: {message}"));
    }
    if problems.is_empty() {
        if check.marker.is_none() && records.is_some_and(|n| n > 0) {
            // Not a failure (a journal of a version before markers), but
            // what verify cannot vouch for is said.
            eprintln!(
                "enroll-station: note: there is no head marker beside the journal ({}), so a \
                 cut-off end cannot be seen here; the station makes one the next time it \
                 writes to the journal.",
                super::escape::term(&audit::head::head_path(path).display().to_string())
            );
        }
        return Ok(());
    }
    anyhow::bail!(
        "the audit journal {} is not complete:\n  {}",
        path.display(),
        problems.join("\n  ")
    )
}

fn count(n: u64, noun: &str) -> String {
    match n {
        1 => format!("1 {noun}"),
        _ => format!("{n} {noun}s"),
    }
}

pub(super) fn run(server: &Settings, command: AuditCommand) -> anyhow::Result<()> {
    let audit_file = server.audit_file();
    match command {
        AuditCommand::Reconcile => {
            let context = BindContext {
                client: server.client()?,
                readers: Arc::new(server.card_reader()),
                journal: crate::audit::journal::open_shared(audit_file, false)?,
            };
            let runtime = super::runtime()?;
            let mut lines = runtime.block_on(reconcile_open_attempts(&context));
            lines.extend(runtime.block_on(reconcile_open_actions(&context)));
            if lines.is_empty() {
                println!("No unfinished attempts or actions: nothing to reconcile.");
            }
            for line in lines {
                println!("{}", super::escape::term(&line));
            }
            Ok(())
        }
        AuditCommand::Verify { file } => {
            let path = journal_path(file, audit_file)?;
            let report = match audit::verify(&path) {
                Ok(report) => report,
                Err(error @ audit::AuditError::NotFound { .. }) => {
                    // A journal the head marker says existed is reported as missing.
                    verify_head(&path, None)?;
                    return Err(error.into());
                }
                Err(error) => return Err(error.into()),
            };
            verify_head(&path, Some(report.records))?;
            // What the station did to its own trust (start, kiosk, settings,
            // supervisors, gaps), named only when there are some.
            let controls = match report.controls {
                0 => String::new(),
                n => format!(", {}", count(n, "station control record")),
            };
            println!(
                "Audit journal intact: {} ({}, {}, {} unfinished{controls}), last hash {} ({}).",
                count(report.records, "record"),
                count(report.attempts, "attempt"),
                count(report.outcomes, "outcome"),
                report.unfinished,
                report.last_hash,
                path.display()
            );
            Ok(())
        }
        AuditCommand::Export {
            format,
            output,
            file,
        } => {
            let path = journal_path(file, audit_file)?;
            match output {
                // A new file renamed into place (never through a link
                // planted at the name), written only from an intact journal.
                Some(out) => {
                    audit::export_to_file(&path, format.into(), &out)?;
                    Ok(())
                }
                None => {
                    // Exported to memory first, so a broken journal writes nothing.
                    let mut exported = Vec::new();
                    audit::export(&path, format.into(), &mut exported)?;
                    let mut stdout = std::io::stdout().lock();
                    stdout
                        .write_all(&exported)
                        .and_then(|()| stdout.flush())
                        .context("Could not write the export to standard output")
                }
            }
        }
    }
}
