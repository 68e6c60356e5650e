//! `enroll-station audit`: check and export the audit journal, for support and auditors.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::{Subcommand, ValueEnum};

use std::sync::Arc;

use super::Settings;
use crate::audit::{self, ExportFormat};
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
    /// Resolve attempts left without an outcome (a crash or a lost answer) by
    /// asking the CM server whether each bind happened, and record the outcome.
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
            let lines = super::runtime()?.block_on(reconcile_open_attempts(&context));
            if lines.is_empty() {
                println!("No unfinished attempts: nothing to reconcile.");
            }
            for line in lines {
                println!("{}", super::escape::term(&line));
            }
            Ok(())
        }
        AuditCommand::Verify { file } => {
            let path = journal_path(file, audit_file)?;
            let report = audit::verify(&path)?;
            // Saved settings and refused supervisors, named only when there are some.
            let controls = match report.controls {
                0 => String::new(),
                n => format!(", {}", count(n, "settings or supervisor record")),
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
            // Exported to memory first, so a broken journal leaves no half-written file behind.
            let mut exported = Vec::new();
            audit::export(&path, format.into(), &mut exported)?;
            match output {
                Some(out) => std::fs::write(&out, &exported).with_context(|| {
                    format!(
                        "Could not write the export to {}. Check the folder and its permissions.",
                        out.display()
                    )
                }),
                None => {
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
