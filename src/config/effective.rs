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
        self.config.client_config(server)
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
