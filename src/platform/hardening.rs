//! Process hardening done once at start, before any secret is read: no core
//! dump of this process may carry a bearer token, a Kerberos password or a
//! supervisor's password to disk (systemd-coredump, apport, `core` files,
//! Windows Error Reporting).
//!
//! - Linux and other Unixes: `setrlimit(RLIMIT_CORE, 0)` (no core file, and
//!   systemd-coredump honours the limit), then on Linux
//!   `prctl(PR_SET_DUMPABLE, 0)`: no dump even where a core pattern pipes to
//!   a helper, and other processes of the same user can no longer attach
//!   (ptrace) or read this process's memory through `/proc/<pid>/mem`.
//! - Windows: `SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX)`
//!   (no crash dialog for the operator to answer "send"), and
//!   `WerSetFlags(WER_FAULT_REPORTING_FLAG_NOHEAP)`: a report Windows Error
//!   Reporting still makes holds no heap, where secrets live. A site that
//!   configured WER `LocalDumps` with full dumps should exclude
//!   `enroll-station.exe` (`WerAddExcludedApplication`, or the
//!   `Windows Error Reporting\ExcludedApplications` policy); the station does
//!   not change that machine-wide setting itself.
//!
//! `ENROLL_STATION_ALLOW_CORE_DUMPS=1` leaves all of this off for a debugging
//! session (or a benchmark that reads `/proc/<pid>/smaps` as another user).

/// The variable that leaves core dumps on, for debugging.
pub const ALLOW_CORE_DUMPS_VARIABLE: &str = "ENROLL_STATION_ALLOW_CORE_DUMPS";

/// What [`disable_core_dumps`] did, for a log line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Hardened {
    /// Dumps are off.
    Done,
    /// Left on: [`ALLOW_CORE_DUMPS_VARIABLE`] is set.
    LeftOn,
    /// A call failed; the words say which. The station still runs.
    Failed(String),
}

/// Turns core dumps (and crash reports with heap) off for this process.
/// Call first in `main`, while it is the only thread.
pub fn disable_core_dumps() -> Hardened {
    if std::env::var_os(ALLOW_CORE_DUMPS_VARIABLE).is_some_and(|v| v == "1") {
        return Hardened::LeftOn;
    }
    match disable() {
        Ok(()) => Hardened::Done,
        Err(error) => Hardened::Failed(error.to_string()),
    }
}

/// Which call left dumps on. Only logged: the station runs on either way,
/// so the words name the call for whoever reads the log.
#[derive(Debug, thiserror::Error)]
enum DisableError {
    /// A system call failed.
    #[cfg(unix)]
    #[error("{call} failed: {source}")]
    Call {
        /// The call, with its arguments.
        call: &'static str,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// `WerSetFlags` returned a failing HRESULT.
    #[cfg(windows)]
    #[error("WerSetFlags failed: HRESULT {0:#010x}")]
    WerSetFlags(u32),
    /// Nothing to call here.
    #[cfg(not(any(unix, windows)))]
    #[error("this platform has no way to turn core dumps off")]
    Unsupported,
}

#[cfg(unix)]
fn disable() -> Result<(), DisableError> {
    let none = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: a plain system call on this process with a valid struct.
    if unsafe { libc::setrlimit(libc::RLIMIT_CORE, &none) } != 0 {
        return Err(DisableError::Call {
            call: "setrlimit(RLIMIT_CORE, 0)",
            source: std::io::Error::last_os_error(),
        });
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        // SAFETY: PR_SET_DUMPABLE takes one integer argument; the rest are ignored.
        if unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) } != 0 {
            return Err(DisableError::Call {
                call: "prctl(PR_SET_DUMPABLE, 0)",
                source: std::io::Error::last_os_error(),
            });
        }
    }
    Ok(())
}

#[cfg(windows)]
fn disable() -> Result<(), DisableError> {
    use windows_sys::Win32::System::Diagnostics::Debug::{
        SEM_FAILCRITICALERRORS, SEM_NOGPFAULTERRORBOX, SetErrorMode,
    };
    use windows_sys::Win32::System::ErrorReporting::{
        WER_FAULT_REPORTING_FLAG_NOHEAP, WerSetFlags,
    };
    // SAFETY: plain Win32 calls on this process's own settings.
    unsafe {
        let previous = SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX);
        SetErrorMode(previous | SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX);
        let result = WerSetFlags(WER_FAULT_REPORTING_FLAG_NOHEAP);
        if result < 0 {
            return Err(DisableError::WerSetFlags(result as u32));
        }
    }
    Ok(())
}

#[cfg(not(any(unix, windows)))]
fn disable() -> Result<(), DisableError> {
    Err(DisableError::Unsupported)
}

impl Hardened {
    /// Says what was done, once logging is set up: a warning when dumps are
    /// on, and at debug level what the process reports of itself (the tests
    /// read that line from the running station).
    pub fn log(&self) {
        match self {
            Hardened::Done => {}
            Hardened::LeftOn => tracing::warn!(
                "core dumps are left on ({ALLOW_CORE_DUMPS_VARIABLE}=1): a crash file may hold \
                 tokens and passwords"
            ),
            Hardened::Failed(error) => {
                tracing::warn!(%error, "core dumps could not be turned off");
            }
        }
        #[cfg(any(target_os = "linux", target_os = "android"))]
        tracing::debug!(
            dumpable = is_dumpable(),
            core_limit = ?core_limit(),
            "process hardening"
        );
    }
}

/// Whether this process may leave a core dump (and be traced by others of
/// its user): `false` after [`disable_core_dumps`] on Linux.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub fn is_dumpable() -> bool {
    // SAFETY: PR_GET_DUMPABLE takes no argument and returns the flag.
    unsafe { libc::prctl(libc::PR_GET_DUMPABLE, 0, 0, 0, 0) != 0 }
}

/// The soft and hard `RLIMIT_CORE` of this process; `(0, 0)` after
/// [`disable_core_dumps`]. `None` if the call fails.
#[cfg(unix)]
pub fn core_limit() -> Option<(u64, u64)> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: a plain system call that fills a valid struct.
    if unsafe { libc::getrlimit(libc::RLIMIT_CORE, &mut limit) } != 0 {
        return None;
    }
    #[allow(clippy::useless_conversion)] // rlim_t is u64 on most targets, not all.
    Some((u64::from(limit.rlim_cur), u64::from(limit.rlim_max)))
}
