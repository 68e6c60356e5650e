//! The command line: the window by default, subcommands for scripts, support and tests.

mod arguments;
mod audit;
mod batch;
mod bind;
mod card;
mod check;
mod directory;
mod docs;
pub mod escape;
mod lifecycle;
mod output;
mod readers;
mod requests;
mod secret;
mod settings;
mod supervisor;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

pub use crate::config::effective::Settings;

use crate::cm::auth::AuthMethod;

/// The version and the commit it was built from (see build.rs), so a support
/// call can tell which build a station runs: `enroll-station 0.1.0 (commit 1a2b3c4d5e6f)`.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("ENROLL_STATION_COMMIT"),
    ")"
);

/// Binds pending MIM CM smart card requests to the card in the reader.
#[derive(Debug, Parser)]
#[command(name = "enroll-station", version = VERSION, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub server: GlobalArgs,
    /// Open the window on the embedded demo backend (a CM emulator and a demo
    /// reader with virtual cards); no CM server or card reader needed.
    #[arg(long)]
    pub demo: bool,
    /// Open the window as an unattended kiosk (fullscreen, always on top, a
    /// guided flow for one request at a time), whatever `mode` the
    /// configuration file says. Leaving it needs a supervisor's credential.
    #[arg(long)]
    pub kiosk: bool,
    #[command(subcommand)]
    pub command: Option<Commands>,
}

/// Options every subcommand and the window share: the configuration, the CM
/// server, the journal, the readers. Each overrides the configuration file.
#[derive(Debug, clap::Args)]
pub struct GlobalArgs {
    /// The configuration file (default: station.toml in the platform's config
    /// directory, e.g. ~/.config/enroll-station/station.toml, when it exists).
    #[arg(
        long,
        global = true,
        env = "ENROLL_STATION_CONFIG",
        value_name = "FILE"
    )]
    pub config: Option<PathBuf>,
    /// The CM server, e.g. https://cm.contoso.com (the API path is appended).
    #[arg(long, global = true, env = "ENROLL_STATION_SERVER", value_name = "URL")]
    pub server: Option<String>,
    /// How to authenticate to the server.
    #[arg(long, global = true, value_enum, value_name = "METHOD")]
    pub auth: Option<AuthMethod>,
    /// Negotiate: the server's Kerberos service principal when it is not
    /// HTTP/<server host>, e.g. HTTP/cm.contoso.com@CONTOSO.COM.
    #[arg(long, global = true, value_name = "PRINCIPAL")]
    pub service_principal: Option<String>,
    /// A PEM client certificate (with its chain) to present to the server.
    #[arg(long, global = true, value_name = "PEM")]
    pub client_cert: Option<PathBuf>,
    /// The client certificate's PEM private key, when not in the certificate file.
    #[arg(long, global = true, value_name = "PEM")]
    pub client_key: Option<PathBuf>,
    /// A PEM file with CA certificates to trust besides the system's (repeatable).
    #[arg(long = "ca-file", global = true, value_name = "PEM")]
    pub ca_files: Vec<PathBuf>,
    /// Allow plain http:// to a host that is not a loopback address.
    #[arg(long, global = true)]
    pub allow_insecure_http: bool,
    /// Seconds to wait for a connection to the server (default 10).
    #[arg(long, global = true, value_name = "SECS")]
    pub connect_timeout_secs: Option<u64>,
    /// Seconds to wait for the server's answer to one call (default 30).
    #[arg(long, global = true, value_name = "SECS")]
    pub request_timeout_secs: Option<u64>,
    /// The audit journal (default: the platform's data directory, e.g.
    /// ~/.local/share/enroll-station/audit.jsonl).
    #[arg(
        long,
        global = true,
        env = "ENROLL_STATION_AUDIT_FILE",
        value_name = "FILE"
    )]
    pub audit_file: Option<PathBuf>,
    /// Ignore readers whose name matches this pattern (`*` and `?` wildcards,
    /// any case; repeatable), e.g. "*Windows Hello*".
    #[arg(long = "ignore-reader", global = true, value_name = "PATTERN")]
    pub ignore_readers: Vec<String>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Commands {
    /// List the PC/SC readers, their cards, ATRs and card IDs.
    Readers {
        /// Print JSON: an array, or with --watch one object per line.
        #[arg(long)]
        json: bool,
        /// Follow the readers and print one line per event until interrupted.
        #[arg(long)]
        watch: bool,
    },
    /// List requests from the CM server.
    Requests {
        /// Only requests with this status (Approved, Pending, Executing, ...).
        #[arg(long, value_name = "NAME")]
        status: Option<String>,
        /// Print a JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Bind a request to the card in a reader.
    Bind {
        /// The request's GUID (any case, braces allowed).
        #[arg(long, value_name = "GUID")]
        request: String,
        /// The reader holding the card. Without it (and without
        /// --expect-card-id), bind waits for a card inserted after it
        /// started: a card already in a reader is never used unnamed.
        #[arg(long, value_name = "NAME")]
        reader: Option<String>,
        /// Refuse unless the card in the reader has this card ID.
        #[arg(long, value_name = "GUID")]
        expect_card_id: Option<String>,
        /// How long to wait for the card when none was named.
        #[arg(long, default_value_t = 120, value_name = "SECS")]
        card_timeout: u64,
        /// How many more POSTs to allow, each only after the server proved the
        /// previous one did not bind (its answer was lost and the request has no card).
        #[arg(long, default_value_t = 2, value_name = "N")]
        retries: u32,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
        /// At a supervised station (`mode = "supervised"`): the supervisor who
        /// witnesses the bind; their password is read from standard input
        /// (typed without echo on a terminal).
        #[arg(long, value_name = "NAME")]
        supervisor: Option<String>,
    },
    /// Bind a queue of requests across every reader at once: each reader's
    /// card takes the next request (see "Batches" in the README).
    Batch(batch::BatchArgs),
    /// The card in a reader and what CM knows of it.
    Card {
        #[command(subcommand)]
        command: card::CardCommand,
    },
    /// Run the CM emulator: a CM REST API server on loopback, for demos, tests and training.
    Emulator {
        /// The address to listen on: a loopback address unless --allow-remote.
        #[arg(long, default_value = "127.0.0.1:8443", value_name = "ADDR")]
        listen: SocketAddr,
        /// How many demo requests to seed.
        #[arg(long, default_value_t = 40, value_name = "N")]
        requests: usize,
        /// The seed for the demo data.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[command(flatten)]
        switches: EmulatorSwitches,
    },
    /// Undo a request (abandon, cancel) or create one (a temporary card, a
    /// card on someone's behalf).
    Request {
        #[command(subcommand)]
        command: lifecycle::RequestCommand,
    },
    /// Offline PIN unblock: use the card's approved OfflineUnblock request
    /// (or create one) and get CM's response to the card's challenge (shown,
    /// never logged); --complete marks the request Completed afterwards.
    Unblock(lifecycle::UnblockArgs),
    /// Check the connection to the CM server step by step: DNS, TCP, TLS (with
    /// the certificate chain), authentication, and the API.
    Check {
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Look up a request's target account in the directory, check the
    /// directory connection, or store its bind account's password.
    Directory {
        #[command(subcommand)]
        command: directory::DirectoryCommand,
    },
    /// Store or remove a secret (bearer token, sign-in password) in the OS keyring.
    Secret {
        #[command(subcommand)]
        command: secret::SecretCommand,
    },
    /// Check or export the audit journal.
    Audit {
        #[command(subcommand)]
        command: audit::AuditCommand,
    },
    /// Supervisor credentials for supervised binding and kiosk mode.
    Supervisor {
        #[command(subcommand)]
        command: supervisor::SupervisorCommand,
    },
    /// Print the completion script for a shell on standard output.
    ///
    /// The packages install them; by hand, e.g.: `enroll-station completions
    /// bash > ~/.local/share/bash-completion/completions/enroll-station`.
    Completions {
        /// The shell to complete in.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff); with --dir, write enroll-station.1 and one
    /// page per subcommand there. For packaging: the packages install them.
    #[command(hide = true)]
    Manpage {
        /// The directory to write the pages to (created when missing).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

/// Opens the window (no subcommand) and returns when it is closed. The
/// first-run screen may ask for the window again, on the server just saved
/// or on the demo backend: the settings are then read anew, as at a start.
pub fn open_window(cli: &Cli) -> anyhow::Result<()> {
    use crate::ui::launch::WindowExit;
    let mut demo = cli.demo;
    loop {
        let settings = settings::from_args(&cli.server)?;
        settings::check_window_switches(&settings, demo, cli.kiosk)?;
        // The station's journal only: demo binds go to the demo journal,
        // which is not forwarded (unless --audit-file makes it the same).
        audit::start_forwarding(&settings)?;
        let options = crate::ui::launch::WindowOptions {
            demo,
            kiosk: cli.kiosk,
        };
        match crate::ui::launch::run_window(&settings, options)? {
            WindowExit::Closed => return Ok(()),
            WindowExit::Reload => {}
            WindowExit::Demo => demo = true,
        }
    }
}

/// Runs a subcommand and turns its error into words on stderr and a failing exit code.
pub fn run_command(args: &GlobalArgs, command: Commands) -> ExitCode {
    let result = match command {
        // The emulator is the server: the station's own settings do not apply.
        Commands::Emulator {
            listen,
            requests,
            seed,
            switches,
        } => emulator(listen, requests, seed, switches),
        // An administrator hashes a password while writing the file: a file
        // with a mistake in it must not stop them.
        Commands::Supervisor { command } => supervisor::run(command),
        // Packaging runs these in a build environment without any configuration.
        Commands::Completions { shell } => docs::completions(shell),
        Commands::Manpage { dir } => docs::manpage(dir.as_deref()),
        command => settings::from_args(args).and_then(|settings| {
            audit::start_forwarding(&settings)?;
            let result = run_with(&settings, command);
            audit::finish_forwarding();
            result
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            print_error(&error);
            ExitCode::FAILURE
        }
    }
}

/// Prints a failure on standard error, safe for a terminal: whatever a
/// server, a card or a reader put into it is escaped ([`escape::term_lines`]).
pub fn print_error(error: &anyhow::Error) {
    eprintln!(
        "enroll-station: {}",
        escape::term_lines(&format!("{error:#}"))
    );
}

fn run_with(server: &Settings, command: Commands) -> anyhow::Result<()> {
    match command {
        Commands::Readers { json, watch: false } => readers::run(server, json),
        Commands::Readers { json, watch: true } => readers::watch(server, json),
        Commands::Requests { status, json } => requests::run(server, status.as_deref(), json),
        Commands::Bind {
            request,
            reader,
            expect_card_id,
            card_timeout,
            retries,
            json,
            supervisor,
        } => bind::run(
            server,
            bind::BindArgs {
                request: &request,
                reader: reader.as_deref(),
                expect_card_id: expect_card_id.as_deref(),
                card_timeout: std::time::Duration::from_secs(card_timeout),
                retries,
                json,
                supervisor: supervisor.as_deref(),
            },
        ),
        Commands::Emulator {
            listen,
            requests,
            seed,
            switches,
        } => emulator(listen, requests, seed, switches),
        Commands::Batch(args) => batch::run(server, args),
        Commands::Card { command } => card::run(server, command),
        Commands::Request { command } => lifecycle::run_request(server, command),
        Commands::Unblock(args) => lifecycle::run_unblock(server, args),
        Commands::Audit { command } => audit::run(server, command),
        Commands::Check { json } => check::run(server, json),
        Commands::Directory { command } => directory::run(server, command),
        Commands::Secret { command } => secret::run(server, command),
        Commands::Supervisor { command } => supervisor::run(command),
        Commands::Completions { shell } => docs::completions(shell),
        Commands::Manpage { dir } => docs::manpage(dir.as_deref()),
    }
}

pub use crate::worker::runtime;

/// The emulator's answers where the CM reference leaves them open (each
/// default is [`EmulatorConfig::default`]'s).
///
/// [`EmulatorConfig::default`]: crate::cm::emulator::EmulatorConfig
#[derive(Debug, Clone, clap::Args)]
pub struct EmulatorSwitches {
    /// How to refuse a bind for a request that takes no card or a card that
    /// cannot be issued again, and a PUT the request's state does not allow.
    #[arg(long, value_enum, value_name = "ANSWER",
          default_value_t = crate::cm::emulator::WrongRequestAnswer::default())]
    pub wrong_request: crate::cm::emulator::WrongRequestAnswer,
    /// Let every profile template reissue a card whose objects are all
    /// retired or disabled (AllowSmartcardReuse).
    #[arg(long)]
    pub allow_smartcard_reuse: bool,
    /// How to answer for a request or smart card the server does not hold.
    #[arg(long, value_enum, value_name = "ANSWER",
          default_value_t = crate::cm::emulator::UnknownObjectAnswer::default())]
    pub unknown_object: crate::cm::emulator::UnknownObjectAnswer,
    /// The shape of `GET smartcards?cardid=` for a card assigned more than once.
    #[arg(long, value_enum, value_name = "SHAPE",
          default_value_t = crate::cm::emulator::KnownCardAnswer::default())]
    pub known_card_answer: crate::cm::emulator::KnownCardAnswer,
    /// How to answer a successful PUT of a request's or a smart card's status.
    #[arg(long, value_enum, value_name = "ANSWER",
          default_value_t = crate::cm::emulator::PutAnswer::default())]
    pub put_answer: crate::cm::emulator::PutAnswer,
    /// Also update a smart card's status by GET requests/{r}/smartcards/{s}?status=.
    #[arg(long)]
    pub card_status_get: bool,
    /// Let --listen be an address other machines can reach (not loopback).
    /// The emulator has no authentication and serves plain http.
    #[arg(long)]
    pub allow_remote: bool,
}

/// The emulator's configuration from the command line.
fn emulator_config(
    listen: SocketAddr,
    requests: usize,
    seed: u64,
    switches: EmulatorSwitches,
) -> crate::cm::emulator::EmulatorConfig {
    crate::cm::emulator::EmulatorConfig {
        listen,
        requests,
        seed,
        wrong_request: switches.wrong_request,
        allow_smartcard_reuse: switches.allow_smartcard_reuse,
        unknown_object: switches.unknown_object,
        known_card_answer: switches.known_card_answer,
        put_answer: switches.put_answer,
        card_status_get: switches.card_status_get,
        allow_remote: switches.allow_remote,
        ..Default::default()
    }
}

fn emulator(
    listen: SocketAddr,
    requests: usize,
    seed: u64,
    switches: EmulatorSwitches,
) -> anyhow::Result<()> {
    let config = emulator_config(listen, requests, seed, switches);
    runtime()?
        .block_on(crate::cm::emulator::run_standalone(config))
        .with_context(|| format!("The emulator could not listen on {listen}"))
}

#[cfg(test)]
mod emulator_args_tests {
    use clap::Parser as _;

    use super::*;
    use crate::cm::emulator::{
        EmulatorConfig, KnownCardAnswer, PutAnswer, UnknownObjectAnswer, WrongRequestAnswer,
    };

    fn config(args: &[&str]) -> EmulatorConfig {
        let cli = Cli::try_parse_from([&["enroll-station", "emulator"], args].concat())
            .unwrap_or_else(|e| panic!("{args:?}: {e}"));
        match cli.command {
            Some(Commands::Emulator {
                listen,
                requests,
                seed,
                switches,
            }) => emulator_config(listen, requests, seed, switches),
            other => panic!("not the emulator: {other:?}"),
        }
    }

    #[test]
    fn without_flags_the_emulator_has_its_default_switches() {
        let parsed = config(&[]);
        assert_eq!(
            parsed,
            EmulatorConfig {
                listen: parsed.listen,
                ..EmulatorConfig::default()
            }
        );
    }

    #[test]
    fn every_switch_has_its_flag() {
        let parsed = config(&[
            "--wrong-request",
            "conflict",
            "--allow-smartcard-reuse",
            "--unknown-object",
            "not-found",
            "--known-card-answer",
            "latest",
            "--put-answer",
            "no-content",
            "--card-status-get",
            "--allow-remote",
        ]);
        assert!(parsed.allow_remote);
        assert_eq!(parsed.wrong_request, WrongRequestAnswer::Conflict);
        assert!(parsed.allow_smartcard_reuse);
        assert_eq!(parsed.unknown_object, UnknownObjectAnswer::NotFound);
        assert_eq!(parsed.known_card_answer, KnownCardAnswer::Latest);
        assert_eq!(parsed.put_answer, PutAnswer::NoContent);
        assert!(parsed.card_status_get);
        let parsed = |flag: &str, value: &str| config(&[flag, value]);
        assert_eq!(
            parsed("--wrong-request", "server-error").wrong_request,
            WrongRequestAnswer::ServerError
        );
        assert_eq!(
            parsed("--wrong-request", "bad-request").wrong_request,
            WrongRequestAnswer::BadRequest
        );
        assert_eq!(
            parsed("--wrong-request", "forbidden").wrong_request,
            WrongRequestAnswer::Forbidden
        );
        assert_eq!(
            parsed("--known-card-answer", "object-or-list").known_card_answer,
            KnownCardAnswer::ObjectOrList
        );
        assert_eq!(
            parsed("--known-card-answer", "list").known_card_answer,
            KnownCardAnswer::List
        );
        assert_eq!(
            parsed("--unknown-object", "no-content").unknown_object,
            UnknownObjectAnswer::NoContent
        );
        assert_eq!(
            parsed("--put-answer", "object").put_answer,
            PutAnswer::Object
        );
        for bad in [
            ["--unknown-object", "gone"],
            ["--put-answer", "created"],
            ["--known-card-answer", "first"],
        ] {
            assert!(
                Cli::try_parse_from([&["enroll-station", "emulator"][..], &bad[..]].concat())
                    .is_err(),
                "{bad:?}"
            );
        }
    }
}
