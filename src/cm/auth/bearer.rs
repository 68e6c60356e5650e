//! Where an ADFS bearer token comes from: the environment, a configured
//! command that mints one, or the keyring, in that order.
//!
//! A token from the environment or the command belongs to the configured
//! server's host (`AuthConfig::token_host`): a run pointed elsewhere
//! (`--server`) refuses to send it. The keyring's tokens are filed per host.
//!
//! The command is run by its absolute path, with a small fixed environment
//! ([`ALLOWED_VARIABLES`], `PATH` set to [`SAFE_PATH`]), no stdin, at most
//! [`STDOUT_LIMIT`] bytes of stdout (kept in a buffer wiped afterwards), and
//! its stderr drained and counted but never kept: only its length and the
//! exit status reach the log and the error message.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncReadExt as _;
use zeroize::Zeroizing;

use crate::cm::error::CmError;
use crate::platform::secrets::{self, Secret, SecretName};

/// The environment variable that carries a token (scripts, CI).
pub const TOKEN_VARIABLE: &str = "ENROLL_STATION_BEARER_TOKEN";

/// How long a token command may take.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// The most a token command may print on stdout: a token is a few KiB.
pub const STDOUT_LIMIT: usize = 64 * 1024;

/// The variables a token command gets from the station's environment, when
/// set; nothing else (no `ENROLL_STATION_*`, no `DBUS_SESSION_BUS_ADDRESS`,
/// no `LD_PRELOAD`). `PATH` is not among them: it is [`SAFE_PATH`].
#[cfg(unix)]
pub const ALLOWED_VARIABLES: &[&str] = &[
    "HOME",
    "USER",
    "LOGNAME",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "TMPDIR",
    "KRB5CCNAME",
    "KRB5_CONFIG",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "HTTPS_PROXY",
    "https_proxy",
    "NO_PROXY",
    "no_proxy",
];

/// The variables a token command gets on Windows (those a Windows program
/// needs to start, the profile's folders, Kerberos and the proxy).
#[cfg(windows)]
pub const ALLOWED_VARIABLES: &[&str] = &[
    "SystemRoot",
    "SystemDrive",
    "windir",
    "ComSpec",
    "PATHEXT",
    "TEMP",
    "TMP",
    "USERPROFILE",
    "APPDATA",
    "LOCALAPPDATA",
    "USERNAME",
    "USERDOMAIN",
    "COMPUTERNAME",
    "KRB5CCNAME",
    "HTTPS_PROXY",
    "NO_PROXY",
];

/// The token command's `PATH`, whatever the station's is.
#[cfg(unix)]
pub const SAFE_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// The token command's `PATH` on Windows, below `%SystemRoot%`.
#[cfg(windows)]
pub const SAFE_PATH: &str = r"C:\Windows\System32;C:\Windows";

/// A token and where it came from.
pub(super) async fn fetch(
    command: &[String],
    host: &str,
    token_host: Option<&str>,
) -> Result<(Secret, &'static str), CmError> {
    if let Ok(mut value) = std::env::var(TOKEN_VARIABLE) {
        let token = Secret::new(value.trim());
        // The process environment keeps its own copy; this one is wiped.
        zeroize::Zeroize::zeroize(&mut value);
        if !token.expose().is_empty() {
            only_for_its_host(TOKEN_VARIABLE, token_host, host)?;
            return Ok((token, "the environment"));
        }
    }
    if let Some((program, args)) = command.split_first() {
        only_for_its_host("auth.token_command", token_host, host)?;
        return run_command(program, args)
            .await
            .map(|t| (t, "the token command"));
    }
    let name = SecretName::BearerToken {
        host: host.to_owned(),
    };
    match secrets::get(&name) {
        Ok(Some(token)) => Ok((token, "the keyring")),
        Ok(None) => Err(CmError::AuthSetup {
            detail: format!(
                "No bearer token for {host}: set {TOKEN_VARIABLE}, configure auth.token_command \
                 (a command that prints a fresh ADFS token), or store a token in the keyring with \
                 `enroll-station secret set bearer-token`."
            ),
        }),
        Err(error) => Err(CmError::AuthSetup {
            detail: format!("No bearer token: {error}"),
        }),
    }
}

/// Refuses a token from `source` for a host other than the configured
/// server's: a `--server` pointing elsewhere must not receive it.
fn only_for_its_host(source: &str, token_host: Option<&str>, host: &str) -> Result<(), CmError> {
    match token_host {
        Some(own) if !own.eq_ignore_ascii_case(host) => Err(CmError::AuthSetup {
            detail: format!(
                "The bearer token from {source} was not sent to {host}: it is for {own}, the \
                 server the configuration names, and this run goes to {host} (--server or \
                 ENROLL_STATION_SERVER). Point the configuration's server at {host}, or store a \
                 token for {host} in the keyring with `enroll-station secret set bearer-token` \
                 and unset {TOKEN_VARIABLE}."
            ),
        }),
        _ => Ok(()),
    }
}

/// The token command's environment: [`SAFE_PATH`] and the
/// [`ALLOWED_VARIABLES`] the station has.
pub fn command_environment() -> Vec<(String, std::ffi::OsString)> {
    let mut environment = vec![("PATH".to_owned(), SAFE_PATH.into())];
    environment.extend(
        ALLOWED_VARIABLES
            .iter()
            .filter_map(|name| std::env::var_os(name).map(|value| ((*name).to_owned(), value))),
    );
    environment
}

async fn run_command(program: &str, args: &[String]) -> Result<Secret, CmError> {
    let fail = |what: String| CmError::AuthSetup {
        detail: format!(
            "The token command ({program}) {what}. Fix auth.token_command in the configuration, \
             or run the command by hand to see why."
        ),
    };
    if !Path::new(program).is_absolute() {
        return Err(fail(
            "is not named by an absolute path; a bare name would be looked up on PATH, which \
             the environment decides"
                .to_owned(),
        ));
    }
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .env_clear()
        .envs(command_environment())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|error| fail(format!("could not be started: {error}")))?;
    // Its error output may echo secrets: counted, never kept.
    let stderr = child.stderr.take().map(|mut stderr| {
        tokio::spawn(async move {
            tokio::io::copy(&mut stderr, &mut tokio::io::sink())
                .await
                .unwrap_or(0)
        })
    });
    let mut stdout = child.stdout.take();
    let run = async {
        let mut output = Zeroizing::new(Vec::with_capacity(4096));
        if let Some(stdout) = stdout.as_mut() {
            // One byte past the limit tells a long output from one at the limit.
            let mut limited = stdout.take(STDOUT_LIMIT as u64 + 1);
            limited
                .read_to_end(&mut output)
                .await
                .map_err(|error| fail(format!("could not be read: {error}")))?;
        }
        if output.len() > STDOUT_LIMIT {
            let _ = child.start_kill();
            return Err(fail(format!(
                "printed more than {} KiB; a token is a few KiB, so its output was cut and \
                 refused",
                STDOUT_LIMIT / 1024
            )));
        }
        let status = child
            .wait()
            .await
            .map_err(|error| fail(format!("could not be waited for: {error}")))?;
        Ok((output, status))
    };
    let outcome = tokio::time::timeout(COMMAND_TIMEOUT, run).await;
    drop(stdout);
    let stderr_bytes = match stderr {
        Some(task) => tokio::time::timeout(Duration::from_secs(1), task)
            .await
            .ok()
            .and_then(Result::ok),
        None => Some(0),
    };
    let (output, status) = match outcome {
        Ok(result) => result?,
        Err(_) => {
            return Err(fail(format!(
                "did not finish within {} s",
                COMMAND_TIMEOUT.as_secs()
            )));
        }
    };
    if !status.success() {
        tracing::warn!(%status, stderr_bytes, "the token command failed; its error output is not kept");
        let said = match stderr_bytes {
            Some(0) => "it wrote no error output".to_owned(),
            Some(n) => format!("its error output ({n} bytes) is neither shown nor stored"),
            None => "its error output is neither shown nor stored".to_owned(),
        };
        return Err(fail(format!("failed ({status}); {said}")));
    }
    let Ok(text) = std::str::from_utf8(&output) else {
        return Err(fail(
            "printed something that is not text (UTF-8)".to_owned(),
        ));
    };
    match text.lines().map(str::trim).find(|l| !l.is_empty()) {
        Some(token) => Ok(Secret::new(token)),
        None => Err(fail("printed no token".to_owned())),
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn sh(script: &str) -> Vec<String> {
        vec!["-c".to_owned(), script.to_owned()]
    }

    #[tokio::test]
    async fn a_command_token_is_its_first_line() {
        let token = run_command("/bin/sh", &sh("printf '\\n  abc.def  \\nrest\\n'"))
            .await
            .expect("token");
        assert_eq!(token.expose(), "abc.def");
    }

    #[tokio::test]
    async fn a_failing_command_is_explained_without_its_output() {
        let error = run_command(
            "/bin/sh",
            &sh("echo leaked-token; echo 'account locked for s3cret' >&2; exit 3"),
        )
        .await
        .expect_err("fails")
        .to_string();
        assert!(!error.contains("account locked"), "{error}");
        assert!(!error.contains("s3cret"), "{error}");
        assert!(error.contains("bytes"), "{error}");
        assert!(error.contains("auth.token_command"), "{error}");
        assert!(!error.contains("leaked-token"), "{error}");
        let error = run_command("/nonexistent/get-token", &[])
            .await
            .expect_err("missing")
            .to_string();
        assert!(error.contains("could not be started"), "{error}");
    }

    #[tokio::test]
    async fn a_relative_command_is_refused() {
        let error = run_command("sh", &sh("echo token"))
            .await
            .expect_err("relative")
            .to_string();
        assert!(error.contains("absolute path"), "{error}");
    }

    #[tokio::test]
    async fn a_long_output_is_cut_and_refused() {
        let error = run_command("/bin/sh", &sh("head -c 1000000 /dev/zero | tr '\\0' a"))
            .await
            .expect_err("too long")
            .to_string();
        assert!(error.contains("more than 64 KiB"), "{error}");
    }

    #[test]
    fn tokens_stay_with_their_host() {
        assert!(only_for_its_host(TOKEN_VARIABLE, None, "cm2.contoso.com").is_ok());
        assert!(
            only_for_its_host(TOKEN_VARIABLE, Some("CM.contoso.com"), "cm.contoso.com").is_ok()
        );
        let error = only_for_its_host(TOKEN_VARIABLE, Some("cm.contoso.com"), "evil.example")
            .expect_err("another host")
            .to_string();
        assert!(error.contains("was not sent to evil.example"), "{error}");
    }
}
