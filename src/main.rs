//! The `enroll-station` binary: parses the command line and hands over to the library.

// Started from the Start menu, a console-subsystem program would open a black
// console window behind the station's window. As a GUI program it opens none,
// and `attach_parent_console` gives the subcommands back the console they were
// typed in.
#![cfg_attr(windows, windows_subsystem = "windows")]

use std::process::ExitCode;

use clap::Parser as _;
use enroll_station::cli::{Cli, run_command};

fn main() -> ExitCode {
    // First, while this is the only thread and before any secret is read:
    // no core dump or crash report may carry a token or a password.
    let hardened = enroll_station::platform::hardening::disable_core_dumps();
    enroll_station::platform::allocator::keep_large_blocks_mapped();
    // Before anything prints: clap answers --version and --help while parsing.
    #[cfg(windows)]
    attach_parent_console();
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
    hardened.log();
    let cli = Cli::parse();
    match cli.command {
        Some(command) => run_command(&cli.server, command),
        None => match enroll_station::cli::open_window(&cli) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                enroll_station::cli::print_error(&error);
                ExitCode::FAILURE
            }
        },
    }
}

/// Writes to the console of the shell that started the program, if there is
/// one. A GUI-subsystem program gets no console of its own; without this,
/// `enroll-station.exe requests` in cmd or PowerShell would print nothing.
/// Handles the shell already redirected (`> out.json`, a pipe) stay as they
/// are: attaching may replace them with the console's.
#[cfg(windows)]
fn attach_parent_console() {
    use windows_sys::Win32::Foundation::{HANDLE, INVALID_HANDLE_VALUE};
    use windows_sys::Win32::System::Console::{
        ATTACH_PARENT_PROCESS, AttachConsole, GetStdHandle, STD_ERROR_HANDLE, STD_HANDLE,
        STD_INPUT_HANDLE, STD_OUTPUT_HANDLE, SetStdHandle,
    };
    const STREAMS: [STD_HANDLE; 3] = [STD_INPUT_HANDLE, STD_OUTPUT_HANDLE, STD_ERROR_HANDLE];
    let usable = |handle: HANDLE| !handle.is_null() && handle != INVALID_HANDLE_VALUE;
    // SAFETY: plain Win32 calls on this process's own standard handles, made
    // on the main thread before any other thread exists to use them.
    unsafe {
        let inherited = STREAMS.map(|stream| GetStdHandle(stream));
        // Fails when started from Explorer or the Start menu (no parent
        // console): the window is all there is, as intended.
        if AttachConsole(ATTACH_PARENT_PROCESS) == 0 {
            return;
        }
        for (stream, handle) in STREAMS.into_iter().zip(inherited) {
            if usable(handle) {
                SetStdHandle(stream, handle);
            }
        }
    }
}
