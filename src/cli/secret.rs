//! `enroll-station secret`: puts a bearer token or a sign-in password into the
//! OS keyring, where the station reads it; never on the command line, where
//! it would end up in the shell history and the process list.

use std::io::{BufRead as _, IsTerminal as _};

use anyhow::Context as _;

use super::Settings;
use crate::platform::secrets::{self, Secret, SecretName};

/// Which secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SecretKind {
    /// The ADFS bearer token for the configured server (`auth.method = "bearer"`).
    BearerToken,
    /// The password of `auth.user` (Negotiate without a Kerberos ticket).
    Password,
}

/// The `secret` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum SecretCommand {
    /// Store a secret, read from standard input (typed without echo on a terminal).
    Set {
        /// Which secret.
        #[arg(value_enum)]
        kind: SecretKind,
    },
    /// Remove a stored secret.
    Delete {
        /// Which secret.
        #[arg(value_enum)]
        kind: SecretKind,
    },
}

pub(super) fn run(settings: &Settings, command: SecretCommand) -> anyhow::Result<()> {
    match command {
        SecretCommand::Set { kind } => {
            let name = name(settings, kind)?;
            let value = read_secret(&name)?;
            secrets::set(&name, &value)?;
            eprintln!(
                "Stored {name} in the {}.",
                secrets::store_name().unwrap_or("keyring")
            );
        }
        SecretCommand::Delete { kind } => {
            let name = name(settings, kind)?;
            if secrets::delete(&name)? {
                eprintln!("Removed {name}.");
            } else {
                eprintln!("The keyring held no {name}; nothing to remove.");
            }
        }
    }
    Ok(())
}

fn name(settings: &Settings, kind: SecretKind) -> anyhow::Result<SecretName> {
    match kind {
        SecretKind::BearerToken => {
            let client = settings.client_config(settings.server().context(
                "A bearer token is stored for a server: give --server (or `server` in the \
                 configuration file) first.",
            )?);
            let base = crate::cm::client::api_base_url(&client.server)?;
            Ok(SecretName::BearerToken {
                host: base.host_str().unwrap_or_default().to_owned(),
            })
        }
        SecretKind::Password => {
            let user = settings.config.auth.user.clone().context(
                "A password is stored for the sign-in account: set auth.user in the \
                 configuration file first (e.g. user = \"alice@CONTOSO.COM\").",
            )?;
            Ok(SecretName::Password { user })
        }
    }
}

fn read_secret(name: &SecretName) -> anyhow::Result<Secret> {
    let line = read_line(&name.to_string())?;
    let value = line.trim();
    anyhow::ensure!(
        !value.is_empty(),
        "Nothing was given: type {name} (or pipe it in) and press Enter."
    );
    // A copy into a wiping type; `line` is wiped as it goes.
    Ok(Secret::new(value))
}

/// Bytes reserved for a secret read from the terminal or a pipe: more than
/// a password or a bearer token takes.
pub(super) const SECRET_LINE_RESERVE: usize = 16 * 1024;

/// One line typed without echo at a terminal, or piped in, without its
/// line end; wiped when dropped (it is a secret).
pub(super) fn read_line(name: &str) -> anyhow::Result<zeroize::Zeroizing<String>> {
    let stdin = std::io::stdin();
    // Reserved up front: a line that outgrew its buffer would leave the
    // old one freed unwiped.
    let mut line = zeroize::Zeroizing::new(String::with_capacity(SECRET_LINE_RESERVE));
    if stdin.is_terminal() {
        *line = rpassword::prompt_password(format!("Enter {name}: "))
            .context("Could not read from the terminal")?;
    } else {
        stdin
            .lock()
            .read_line(&mut line)
            .with_context(|| format!("Could not read {name} from standard input"))?;
    }
    let end = line.trim_end_matches(['\r', '\n']).len();
    line.truncate(end);
    Ok(line)
}
