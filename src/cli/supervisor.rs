//! `enroll-station supervisor`: makes the `[[supervisors]]` lines an
//! administrator pastes into the configuration file, and reads a supervisor's
//! password for `bind` at a supervised station. Passwords are read from the
//! terminal without echo (or a piped line), never from the command line,
//! where they would end up in the shell history and the process list.

use std::io::{BufRead as _, IsTerminal as _};

use anyhow::Context as _;

use crate::platform::secrets::Secret;
use crate::supervisors::{
    HashCost, SupervisorAccount, SupervisorName, config_snippet, hash_password,
};

/// The fewest characters a supervisor's password may have.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// The `supervisor` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum SupervisorCommand {
    /// Print a `[[supervisors]]` table for the configuration file: the name,
    /// the account and an argon2id hash of a password of at least 12
    /// characters read from standard input (typed twice without echo on a
    /// terminal, or one piped line).
    Hash {
        /// The supervisor's name, as they will type it to confirm.
        #[arg(long, value_name = "NAME")]
        name: String,
        /// The supervisor's own sign-in account (`CONTOSO\sam`,
        /// `sam@CONTOSO.COM` or `sam`): the station refuses them as witness
        /// when it is the operator's account.
        #[arg(long, value_name = "ACCOUNT")]
        account: String,
    },
}

pub(super) fn run(command: SupervisorCommand) -> anyhow::Result<()> {
    match command {
        SupervisorCommand::Hash { name, account } => {
            let name = SupervisorName::try_from(name).map_err(|why| anyhow::anyhow!("{why}."))?;
            let account =
                SupervisorAccount::try_from(account).map_err(|why| anyhow::anyhow!("{why}."))?;
            let password = read_password(
                &format!(
                    "New password for supervisor {} (at least {MIN_PASSWORD_CHARS} characters): ",
                    name.as_str()
                ),
                true,
            )?;
            let length = password.expose().chars().count();
            anyhow::ensure!(
                length >= MIN_PASSWORD_CHARS,
                "The password has {length} characters; a supervisor's password needs at least \
                 {MIN_PASSWORD_CHARS} (a few words make a long one easy to remember). Nothing \
                 was printed: run the command again."
            );
            let hash = hash_password(&password, HashCost::Recommended)
                .map_err(|why| anyhow::anyhow!("{why}"))?;
            drop(password);
            eprintln!(
                "Add these lines to the station's configuration file (station.toml), \
                 then start the station again:"
            );
            print!("{}", config_snippet(&name, &account, &hash));
            Ok(())
        }
    }
}

/// Reads a password: without echo on a terminal (twice when `confirm`),
/// else one line from standard input. Only the line ending is removed: a
/// password may start or end with a space.
pub(super) fn read_password(prompt: &str, confirm: bool) -> anyhow::Result<Secret> {
    let stdin = std::io::stdin();
    let password = if stdin.is_terminal() {
        let first = Secret::new(
            rpassword::prompt_password(prompt).context("Could not read from the terminal")?,
        );
        if confirm {
            let again = Secret::new(
                rpassword::prompt_password("Type it again: ")
                    .context("Could not read from the terminal")?,
            );
            anyhow::ensure!(
                first == again,
                "The two passwords differ. Nothing was printed: run the command again."
            );
        }
        first
    } else {
        // Reserved up front, so that no unwiped shorter buffer is left behind.
        let mut line = String::with_capacity(super::secret::SECRET_LINE_RESERVE);
        stdin
            .lock()
            .read_line(&mut line)
            .context("Could not read the password from standard input")?;
        let end = line.trim_end_matches(['\r', '\n']).len();
        line.truncate(end);
        Secret::new(line)
    };
    anyhow::ensure!(
        !password.expose().is_empty(),
        "No password was given: type it (or pipe it in) and press Enter."
    );
    Ok(password)
}
