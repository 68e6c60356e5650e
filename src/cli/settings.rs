//! The settings a run uses: the configuration file, then the environment and
//! the command line on top, in that order of strength.

use super::GlobalArgs;
use crate::config::effective::Settings;
use crate::config::{Policy, Seconds, StationConfig, ValueProblem, default_config_path};

/// Reads the machine policy and the configuration file (`--config`, else
/// the default one when it exists), applies the command line over them, and
/// refuses any layer that sets a key the policy pins to another value.
pub fn from_args(args: &GlobalArgs) -> anyhow::Result<Settings> {
    let policy = Policy::load()?;
    let (file, config_path) = match &args.config {
        Some(path) => (StationConfig::load(path)?, Some(path.clone())),
        None => match default_config_path() {
            Some(path) => (StationConfig::load_if_present(&path)?, Some(path)),
            None => (StationConfig::default(), None),
        },
    };
    if let Some(path) = &config_path
        && !policy.is_empty()
    {
        // Read again for which keys it names: a key the file leaves out
        // takes the policy's value, one it sets must agree with it.
        match std::fs::read_to_string(path) {
            Ok(text) => policy.check_file(&text, &file, path)?,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(crate::config::ConfigError::Read {
                    path: path.clone(),
                    source,
                }
                .into());
            }
        }
    }
    let mut config = file;
    policy.apply(&mut config);
    // The file's (or the policy's) server, before --server and the environment.
    let token_host = config.server_host();
    args.apply_to(&mut config)?;
    if let Some(key) = policy.differing(&config).first() {
        return Err(policy.conflict(key, args.remedy(key)).into());
    }
    config
        .check()
        .map_err(|problem| crate::config::ConfigError::Inconsistent {
            path: None,
            key: problem.key,
            detail: format!(
                "{problem} (the configuration file, the machine policy and the command line \
                 together)"
            ),
        })?;
    for warning in config.warnings() {
        eprintln!("enroll-station: {}", super::escape::term_lines(warning));
    }
    let audit_file = config.audit_file.clone();
    if let Some(name) = &config.station_name {
        crate::audit::set_station_name(name.as_str());
    }
    Ok(Settings {
        config,
        config_path,
        audit_file,
        policy,
        token_host,
    })
}

/// Refuses window switches that contradict the machine policy: `--kiosk`
/// where it pins another mode, `--demo` where it pins the server.
pub fn check_window_switches(settings: &Settings, demo: bool, kiosk: bool) -> anyhow::Result<()> {
    let policy = &settings.policy;
    if kiosk
        && policy.pinned("mode").is_some()
        && policy.values().mode != crate::config::Mode::Kiosk
    {
        return Err(policy
            .conflict("mode", "remove --kiosk from the command line".to_owned())
            .into());
    }
    if demo && policy.pinned("server").is_some() {
        return Err(policy
            .conflict(
                "server",
                "--demo would replace it with the demo backend: remove --demo from the command \
                 line"
                    .to_owned(),
            )
            .into());
    }
    Ok(())
}

impl GlobalArgs {
    /// Puts what the command line (and the environment) says over `config`.
    fn apply_to(&self, config: &mut StationConfig) -> anyhow::Result<()> {
        if let Some(server) = &self.server {
            config.server = Some(
                server
                    .clone()
                    .try_into()
                    .map_err(|problem: ValueProblem| anyhow::anyhow!("{problem}"))?,
            );
        }
        if !self.ca_files.is_empty() {
            config.tls.ca_files = self.ca_files.clone();
        }
        config.tls.allow_insecure_http |= self.allow_insecure_http;
        if let Some(secs) = self.connect_timeout_secs {
            config.timeouts.connect_secs = seconds("--connect-timeout-secs", secs)?;
        }
        if let Some(secs) = self.request_timeout_secs {
            config.timeouts.request_secs = seconds("--request-timeout-secs", secs)?;
        }
        if let Some(path) = &self.audit_file {
            config.audit_file = Some(path.clone());
        }
        if !self.ignore_readers.is_empty() {
            config.ignore_readers = self.ignore_readers.clone();
        }
        if let Some(method) = self.auth
            && method != config.auth.method
        {
            // Keys of the file's method do not apply to the one chosen here.
            config.auth = crate::config::AuthSettings {
                method,
                ..Default::default()
            };
        }
        if let Some(principal) = &self.service_principal {
            config.auth.service_principal = Some(principal.clone());
        }
        if let Some(path) = &self.client_cert {
            config.tls.client_certificate = Some(path.clone());
        }
        if let Some(path) = &self.client_key {
            config.tls.client_key = Some(path.clone());
        }
        Ok(())
    }
}

impl GlobalArgs {
    /// What to remove so that the command line and the environment leave
    /// the pinned `key` alone: the option, or the variable it came from.
    fn remedy(&self, key: &str) -> String {
        let from_variable = |variable: &str, value: Option<String>| {
            value.is_some() && std::env::var(variable).ok().map(|v| v.trim().to_owned()) == value
        };
        let option = match key {
            "server" => {
                if from_variable(
                    "ENROLL_STATION_SERVER",
                    self.server.as_ref().map(|s| s.trim().to_owned()),
                ) {
                    return "unset ENROLL_STATION_SERVER in the environment".to_owned();
                }
                "--server"
            }
            "audit_file" => {
                if from_variable(
                    "ENROLL_STATION_AUDIT_FILE",
                    self.audit_file.as_ref().map(|p| p.display().to_string()),
                ) {
                    return "unset ENROLL_STATION_AUDIT_FILE in the environment".to_owned();
                }
                "--audit-file"
            }
            "ignore_readers" => "--ignore-reader",
            "tls.ca_files" => "--ca-file",
            "tls.allow_insecure_http" => "--allow-insecure-http",
            "tls.client_certificate" => "--client-cert",
            "tls.client_key" => "--client-key",
            "timeouts.connect_secs" => "--connect-timeout-secs",
            "timeouts.request_secs" => "--request-timeout-secs",
            "auth.service_principal" if self.service_principal.is_some() => "--service-principal",
            _ => "--auth",
        };
        format!("remove {option} from the command line")
    }
}

fn seconds<const D: u64>(option: &str, value: u64) -> anyhow::Result<Seconds<D>> {
    Seconds::new(value).map_err(|reason| anyhow::anyhow!("{option} {reason}"))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use clap::Parser as _;

    use super::*;
    use crate::cli::Cli;
    use crate::cm::auth::AuthMethod;

    fn timeouts(settings: &Settings) -> (Duration, Duration) {
        let config = settings.client_config("https://cm.contoso.com");
        (config.connect_timeout, config.request_timeout)
    }

    fn settings(file: &str, args: &[&str]) -> anyhow::Result<Settings> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("station.toml");
        std::fs::write(&path, file)?;
        let config = path.display().to_string();
        let mut argv = vec!["enroll-station", "--config", &config];
        argv.extend_from_slice(args);
        let cli = Cli::try_parse_from(argv)?;
        from_args(&cli.server)
    }

    #[test]
    fn the_command_line_wins_over_the_file() {
        let file = "server = \"https://cm.contoso.com\"\n[timeouts]\nconnect_secs = 5\n\
                    [auth]\nmethod = \"negotiate\"\nuser = \"alice\"\n";
        let from_file = settings(file, &[]).expect("valid");
        assert_eq!(from_file.server(), Some("https://cm.contoso.com"));
        assert_eq!(timeouts(&from_file).0, Duration::from_secs(5));
        assert_eq!(from_file.config.auth.user.as_deref(), Some("alice"));

        let overridden = settings(
            file,
            &[
                "--server",
                "https://cm2.contoso.com",
                "--connect-timeout-secs",
                "7",
                "--auth",
                "bearer",
            ],
        )
        .expect("valid");
        assert_eq!(overridden.server(), Some("https://cm2.contoso.com"));
        assert_eq!(
            timeouts(&overridden),
            (Duration::from_secs(7), Duration::from_secs(30))
        );
        assert_eq!(overridden.config.auth.method, AuthMethod::Bearer);
        assert_eq!(
            overridden.config.auth.user, None,
            "negotiate's keys do not follow to bearer"
        );
    }

    #[test]
    fn bad_command_line_values_are_refused_in_words() {
        let error = settings("", &["--connect-timeout-secs", "0"]).expect_err("zero");
        assert!(
            error.to_string().contains("--connect-timeout-secs"),
            "{error}"
        );
        let error = settings("", &["--server", "ftp://cm"]).expect_err("bad url");
        assert!(error.to_string().contains("ftp://cm"), "{error}");
        let error = settings("", &["--auth", "client-certificate"]).expect_err("no cert");
        assert!(error.to_string().contains("client_certificate"), "{error}");
    }

    #[test]
    fn a_broken_file_stops_the_run_naming_the_file() {
        let error = settings("[tls]\nca_file = \"x\"\n", &[]).expect_err("unknown key");
        let text = format!("{error:#}");
        assert!(
            text.contains("station.toml") && text.contains("ca_file"),
            "{text}"
        );
    }
}
