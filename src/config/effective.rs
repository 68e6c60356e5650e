//! The settings one run uses: the configuration file with the command
//! line's overrides on top (the command line merges them; every layer above
//! `config` reads them from here).

use std::path::{Path, PathBuf};

use crate::card::pcsc_reader::PcscReader;
use crate::card::reader_filter::ReaderFilter;
use crate::cm::{ClientConfig, CmClient, CmError};

use super::StationConfig;

/// The merged settings of one run.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The merged configuration.
    pub config: StationConfig,
    /// The file it came from (or would be saved to).
    pub config_path: Option<PathBuf>,
    /// The audit journal, when not the default.
    pub audit_file: Option<PathBuf>,
    /// The machine policy's pins, already in `config`: the keys no other
    /// layer may change (see [`super::policy`]).
    pub policy: super::Policy,
    /// The host of the server the file (or the policy) names, before the
    /// command line and the environment: a bearer token from
    /// `ENROLL_STATION_BEARER_TOKEN` or `auth.token_command` is sent only there.
    pub token_host: Option<String>,
}

impl Settings {
    /// The readers to ignore.
    pub fn reader_filter(&self) -> ReaderFilter {
        ReaderFilter::new(&self.config.ignore_readers)
    }

    /// The PC/SC card reader, with the site's card families.
    pub fn card_reader(&self) -> PcscReader {
        self.config.card_reader()
    }

    /// The configured server, if any.
    pub fn server(&self) -> Option<&str> {
        self.config.server.as_ref().map(|s| s.as_str())
    }

    /// The client configuration for `server`.
    pub fn client_config(&self, server: &str) -> ClientConfig {
        let mut client = self.config.client_config(server);
        client.auth.token_host = self.token_host.clone();
        client
    }

    /// A client for the configured server; an error in words when there is none.
    pub fn client(&self) -> Result<CmClient, ClientError> {
        let server = self.server().ok_or(ClientError::NoServer)?;
        Ok(CmClient::new(&self.client_config(server))?)
    }

    /// The journal path option as the journal module takes it.
    pub fn audit_file(&self) -> Option<&Path> {
        self.audit_file.as_deref()
    }
}

/// Why no CM client could be made.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Neither the file nor the command line names a server.
    #[error(
        "No CM server is configured. Give --server https://cm.example.com (or set \
         ENROLL_STATION_SERVER, or `server` in the configuration file)."
    )]
    NoServer,
    /// The client could not be set up (a CA file, a certificate, the address).
    #[error(transparent)]
    Cm(#[from] CmError),
}

/// What a station configuration makes of the other layers: the CM client's
/// settings and the card reader.
impl StationConfig {
    /// The client configuration this station configuration gives for `server`.
    pub fn client_config(&self, server: &str) -> crate::cm::ClientConfig {
        let mut client = crate::cm::ClientConfig::new(server);
        client.ca_files = self.tls.ca_files.clone();
        client.allow_insecure_http = self.tls.allow_insecure_http;
        client.connect_timeout = self.timeouts.connect_secs.duration();
        client.request_timeout = self.timeouts.request_secs.duration();
        client.client_certificate = self.tls.client_certificate.clone();
        client.client_key = self.tls.client_key.clone();
        client.auth = crate::cm::auth::AuthConfig {
            method: self.auth.method,
            service_principal: self.auth.service_principal.clone(),
            user: self.auth.user.clone(),
            token_command: self.auth.token_command.clone(),
            token_host: None,
            allow_ntlm: self.auth.allow_ntlm,
            allow_missing_mutual_auth: self.auth.allow_missing_mutual_auth,
        };
        client
    }

    /// The host of the server this configuration names: a bearer token
    /// from the environment or `auth.token_command` is sent there only
    /// (`AuthConfig::token_host`).
    pub fn server_host(&self) -> Option<String> {
        let server = self.server.as_ref()?;
        let url = crate::cm::client::api_base_url(server.as_str()).ok()?;
        url.host_str().map(str::to_owned)
    }

    /// The client configuration for the embedded demo backend at `server`:
    /// it asks for no credentials, whatever the file configures.
    pub fn demo_client_config(&self, server: &str) -> crate::cm::ClientConfig {
        let mut client = self.client_config(server);
        client.auth = crate::cm::auth::AuthConfig {
            method: crate::cm::auth::AuthMethod::None,
            ..Default::default()
        };
        client.client_certificate = None;
        client.client_key = None;
        client
    }

    /// The PC/SC card reader this configuration asks for: the built-in
    /// card families behind the site's rows.
    pub fn card_reader(&self) -> crate::card::pcsc_reader::PcscReader {
        use crate::card::pcsc_reader::PcscReader;
        match self.cards.family_table() {
            Ok(families) => PcscReader::with_families(families),
            // `check` refused such a configuration before anything ran.
            Err(error) => {
                tracing::error!(%error, "the site's card families are invalid; using the built-in ones");
                PcscReader::new()
            }
        }
    }
}
