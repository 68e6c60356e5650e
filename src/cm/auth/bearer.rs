//! Where an ADFS bearer token comes from: the environment, a configured
//! command that mints one, or the keyring, in that order.

use std::time::Duration;

use crate::cm::error::CmError;
use crate::platform::secrets::{self, Secret, SecretName};

/// The environment variable that carries a token (scripts, CI).
pub const TOKEN_VARIABLE: &str = "ENROLL_STATION_BEARER_TOKEN";

/// How long a token command may take.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// A token and where it came from.
pub(super) async fn fetch(
    command: &[String],
    host: &str,
) -> Result<(Secret, &'static str), CmError> {
    if let Some(token) = std::env::var(TOKEN_VARIABLE)
        .ok()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
    {
        return Ok((Secret::new(token), "the environment"));
    }
    if let Some((program, args)) = command.split_first() {
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

async fn run_command(program: &str, args: &[String]) -> Result<Secret, CmError> {
    let fail = |what: String| CmError::AuthSetup {
        detail: format!(
            "The token command ({program}) {what}. Fix auth.token_command in the configuration, \
             or run the command by hand to see why."
        ),
    };
    let child = tokio::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(COMMAND_TIMEOUT, child)
        .await
        .map_err(|_| {
            fail(format!(
                "did not finish within {} s",
                COMMAND_TIMEOUT.as_secs()
            ))
        })?
        .map_err(|error| fail(format!("could not be started: {error}")))?;
    if !output.status.success() {
        // Its error output explains itself; the token is on stdout and never shown.
        let stderr = String::from_utf8_lossy(&output.stderr);
        let said = stderr
            .trim()
            .lines()
            .last()
            .unwrap_or("no message")
            .to_owned();
        return Err(fail(format!("failed ({}): {said}", output.status)));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let token = stdout.lines().map(str::trim).find(|l| !l.is_empty());
    match token {
        Some(token) => Ok(Secret::new(token)),
        None => Err(fail("printed no token".to_owned())),
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_command_token_is_its_first_line() {
        let args = vec![
            "-c".to_owned(),
            "printf '\\n  abc.def  \\nrest\\n'".to_owned(),
        ];
        let token = run_command("sh", &args).await.expect("token");
        assert_eq!(token.expose(), "abc.def");
    }

    #[tokio::test]
    async fn a_failing_command_is_explained_without_its_output() {
        let args = vec![
            "-c".to_owned(),
            "echo leaked-token; echo 'account locked' >&2; exit 3".to_owned(),
        ];
        let error = run_command("sh", &args)
            .await
            .expect_err("fails")
            .to_string();
        assert!(error.contains("account locked"), "{error}");
        assert!(error.contains("auth.token_command"), "{error}");
        assert!(!error.contains("leaked-token"), "{error}");
        let error = run_command("/nonexistent/get-token", &[])
            .await
            .expect_err("missing")
            .to_string();
        assert!(error.contains("could not be started"), "{error}");
    }
}
