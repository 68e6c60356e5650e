//! The man pages and shell completions, generated from the clap definitions
//! so they never drift from what the binary accepts. Packagers run the built
//! binary (`completions`, `manpage --dir`) rather than keeping copies.

use std::io::Write;
use std::path::Path;

use anyhow::Context as _;
use clap::CommandFactory as _;
use clap_complete::Shell;

use super::Cli;

/// The name the packages install the binary under, and the completions complete.
const BIN_NAME: &str = "enroll-station";

/// `completions SHELL`: the completion script for `shell`, on standard output.
pub fn completions(shell: Shell) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    write_completions(shell, &mut out)?;
    out.flush().context("Could not write the completions")
}

/// `manpage`: the main page (options, and the subcommands by name) on
/// standard output; `manpage --dir DIR`: enroll-station.1 and one
/// enroll-station-<subcommand>.1 per (nested) subcommand, with its options.
pub fn manpage(dir: Option<&Path>) -> anyhow::Result<()> {
    match dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("Could not create {}", dir.display()))?;
            clap_mangen::generate_to(command(), dir)
                .with_context(|| format!("Could not write the man pages to {}", dir.display()))
        }
        None => {
            let mut out = std::io::stdout().lock();
            write_manpage(&mut out)?;
            out.flush().context("Could not write the man page")
        }
    }
}

fn write_completions(shell: Shell, out: &mut dyn Write) -> anyhow::Result<()> {
    clap_complete::generate(shell, &mut command(), BIN_NAME, out);
    Ok(())
}

fn write_manpage(out: &mut dyn Write) -> anyhow::Result<()> {
    clap_mangen::Man::new(command())
        .render(out)
        .context("Could not write the man page")
}

/// `help` as a subcommand is clap's, not ours: `--help` covers it, and
/// `clap_mangen::generate_to` leaves it out too, so the main page and the
/// set agree.
fn command() -> clap::Command {
    Cli::command().disable_help_subcommand(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manpage_text() -> String {
        let mut page = Vec::new();
        write_manpage(&mut page).expect("renders");
        String::from_utf8(page).expect("roff is UTF-8")
    }

    #[test]
    fn the_man_page_names_every_visible_subcommand_and_the_version() {
        let page = manpage_text();
        for name in [
            "readers",
            "requests",
            "bind",
            "emulator",
            "check",
            "secret",
            "audit",
            "supervisor",
            "completions",
        ] {
            assert!(
                page.contains(&format!("enroll\\-station\\-{name}(1)")),
                "the man page lists {name}"
            );
        }
        // A packaging helper, not something a user runs.
        assert!(!page.contains("manpage"), "the hidden subcommand stays out");
        assert!(page.contains(super::super::VERSION));
    }

    #[test]
    fn the_man_page_set_has_one_page_per_subcommand() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        manpage(Some(dir.path())).expect("writes the pages");
        for page in [
            "enroll-station.1",
            "enroll-station-bind.1",
            "enroll-station-secret-set.1",
            "enroll-station-completions.1",
        ] {
            let text = std::fs::read_to_string(dir.path().join(page)).expect(page);
            assert!(text.starts_with(".ie"), "{page} is roff: {text:.40}");
        }
        assert!(!dir.path().join("enroll-station-manpage.1").exists());
        assert!(!dir.path().join("enroll-station-help.1").exists());
    }

    #[test]
    fn bash_completions_know_the_subcommands_and_global_options() {
        let mut script = Vec::new();
        write_completions(Shell::Bash, &mut script).expect("renders");
        let script = String::from_utf8(script).expect("UTF-8");
        assert!(script.contains("enroll-station"));
        assert!(script.contains("bind"));
        assert!(script.contains("--server"));
        assert!(script.contains("--expect-card-id"));
    }

    #[test]
    fn every_shell_gets_a_script() {
        for shell in [
            Shell::Bash,
            Shell::Zsh,
            Shell::Fish,
            Shell::Elvish,
            Shell::PowerShell,
        ] {
            let mut script = Vec::new();
            write_completions(shell, &mut script).expect("renders");
            // fish spells the option `-l server`, the others `--server`.
            assert!(
                String::from_utf8_lossy(&script).contains("server"),
                "{shell} completes --server"
            );
        }
    }
}
