//! `enroll-station directory`: the directory lookup from the command line,
//! for support: look an account up by GUID, check the connection step by
//! step, store the bind account's password in the OS keyring.

use anyhow::Context as _;

use super::Settings;
use super::escape::term;
use crate::directory::{Directory, DirectorySettings};
use crate::platform::secrets::{self, Secret};

/// The `directory` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum DirectoryCommand {
    /// Look up a request's target account by its GUID (CM's TargetUserUuid,
    /// the account's objectGUID) and print what the directory holds.
    Lookup {
        /// The account's GUID (any case, braces allowed).
        #[arg(value_name = "GUID")]
        user: String,
    },
    /// Find people by the beginning of their name or account, as the
    /// window's New request form does (at most 20, names from the directory).
    Search {
        /// The beginning of the name, account or principal (2 to 64 characters).
        #[arg(value_name = "TEXT")]
        text: String,
        /// Print a JSON array of {user, account, principal, display_name}.
        #[arg(long)]
        json: bool,
    },
    /// Connect, sign in and read the search base, and say what failed.
    Check,
    /// Store the bind account's password in the OS keyring, read from
    /// standard input (typed without echo on a terminal).
    SetPassword,
    /// Remove the bind account's password from the OS keyring.
    DeletePassword,
}

pub(super) fn run(settings: &Settings, command: DirectoryCommand) -> anyhow::Result<()> {
    let directory_settings = configured(settings)?;
    match command {
        DirectoryCommand::Lookup { user } => {
            let user = crate::domain::guid::parse(&user).with_context(|| {
                format!(
                    "\"{}\" is not a GUID: give the request's target account GUID, e.g. \
                     a9b4b42c-cc50-4c9b-89d1-bbc0bcd5a099",
                    term(&user)
                )
            })?;
            let directory = Directory::from_keyring(directory_settings)?;
            let url = directory.settings().url_text();
            let answer = super::runtime()?.block_on(directory.lookup(user))?;
            let Some(person) = answer else {
                anyhow::bail!(
                    "The directory at {url} has no account with the GUID {user}. Check the GUID; \
                     a request whose target account does not exist should not be bound."
                );
            };
            let or_none = |value: Option<&str>| {
                value.map_or_else(|| "(none)".to_owned(), |v| term(v).into_owned())
            };
            println!("Account:      {}", term(&person.account));
            println!("Display name: {}", or_none(person.display_name.as_deref()));
            println!("Principal:    {}", or_none(person.principal.as_deref()));
            match &person.photo {
                Some(photo) => println!("Photo:        {}x{} pixels", photo.width, photo.height),
                None => println!("Photo:        (none)"),
            }
            println!("GUID:         {user}");
            println!("Directory:    {}", term(&url));
        }
        DirectoryCommand::Search { text, json } => {
            let query = crate::directory::search::PeopleQuery::parse(&text)
                .map_err(|why| anyhow::anyhow!("{}", why.for_command_line()))?;
            let directory = Directory::from_keyring(directory_settings)?;
            let found = super::runtime()?.block_on(directory.search(&query))?;
            print_matches(&found, json)?;
        }
        DirectoryCommand::Check => {
            let directory = Directory::from_keyring(directory_settings)?;
            let report = super::runtime()?.block_on(directory.check())?;
            print!("{}", term_report(&report.to_string()));
        }
        DirectoryCommand::SetPassword => {
            let name = directory_settings.secret_name();
            let value = read_secret(&name.to_string())?;
            secrets::set(&name, &value)?;
            eprintln!(
                "Stored {} in the {}.",
                term(&name.to_string()),
                secrets::store_name().unwrap_or("keyring")
            );
        }
        DirectoryCommand::DeletePassword => {
            let name = directory_settings.secret_name();
            if secrets::delete(&name)? {
                eprintln!("Removed {}.", term(&name.to_string()));
            } else {
                eprintln!(
                    "The keyring held no {}; nothing to remove.",
                    term(&name.to_string())
                );
            }
        }
    }
    Ok(())
}

#[derive(serde::Serialize)]
struct MatchJson<'a> {
    user: String,
    account: &'a str,
    principal: Option<&'a str>,
    display_name: Option<&'a str>,
}

fn print_matches(found: &crate::directory::search::Matches, json: bool) -> anyhow::Result<()> {
    if json {
        let out: Vec<MatchJson<'_>> = found
            .people
            .iter()
            .map(|p| MatchJson {
                user: p.user.to_string(),
                account: &p.account,
                principal: p.principal.as_deref(),
                display_name: p.display_name.as_deref(),
            })
            .collect();
        super::output::print_json(&out)?;
    } else if found.people.is_empty() {
        println!("No one's name or account starts with that.");
    } else {
        for person in &found.people {
            println!(
                "{} ({})  {}  {}",
                term(person.name()),
                term(&person.account),
                term(person.principal.as_deref().unwrap_or("-")),
                person.user
            );
        }
    }
    if found.more {
        eprintln!(
            "enroll-station: more people match than the {} shown: type more of the name.",
            found.people.len()
        );
    }
    Ok(())
}

fn configured(settings: &Settings) -> anyhow::Result<DirectorySettings> {
    settings.config.directory.clone().context(
        "No directory is configured: add a [directory] table to the configuration file (url, \
         base_dn, bind_dn; see docs/directory.md).",
    )
}

/// The report's lines, each escaped for the terminal.
fn term_report(report: &str) -> String {
    report
        .lines()
        .map(|line| format!("{}\n", term(line)))
        .collect()
}

fn read_secret(name: &str) -> anyhow::Result<Secret> {
    // Only the line end is removed: a password may begin or end with a space.
    let mut value = super::secret::read_line(name)?;
    anyhow::ensure!(
        !value.is_empty(),
        "Nothing was given: type {name} (or pipe it in) and press Enter."
    );
    // Moved, not copied, into the wiping type.
    Ok(Secret::new(std::mem::take(&mut *value)))
}
