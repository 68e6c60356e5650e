//! `enroll-station audit`: check and export the audit journal, for support and auditors.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::{Subcommand, ValueEnum};

use crate::audit::{self, ExportFormat};

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
    file.or_else(|| audit_file.map(Path::to_path_buf))
        .or_else(audit::default_journal_path)
        .context(
            "This system names no home directory, so there is no default audit journal. \
             Give the journal's path: enroll-station audit verify FILE.",
        )
}

pub(super) fn run(audit_file: Option<&Path>, command: AuditCommand) -> anyhow::Result<()> {
    match command {
        AuditCommand::Verify { file } => {
            let path = journal_path(file, audit_file)?;
            let report = audit::verify(&path)?;
            println!(
                "Audit journal intact: {} records ({} attempts, {} outcomes, {} unfinished), \
                 last hash {} ({}).",
                report.records,
                report.attempts,
                report.outcomes,
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
