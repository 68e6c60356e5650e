//! The `enroll-station` binary: parses the command line and hands over to the library.

use std::process::ExitCode;

use clap::Parser as _;
use enroll_station::cli::{Cli, run_command};

fn main() -> ExitCode {
    // Scripts pipe the output into `head` and the like: a closed pipe must end
    // the program quietly, as it does any Unix tool, not panic in println!.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of one signal before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ENROLL_STATION_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Some(command) => run_command(&cli.server, command),
        None => match enroll_station::gui::run_window(&cli) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("enroll-station: {error:#}");
                ExitCode::FAILURE
            }
        },
    }
}
