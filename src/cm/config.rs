//! How to reach the CM server: the client's settings, apart from the client
//! so that the TLS setup can read them without the client.

use std::path::PathBuf;
use std::time::Duration;

use super::auth::{AuthConfig, AuthMethod};

/// How to reach the CM server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientConfig {
    /// The server's address, e.g. `https://cm.contoso.com`; the API path may be included.
    pub server: String,
    /// PEM files with extra CA certificates, trusted besides the system's.
    pub ca_files: Vec<PathBuf>,
    /// Allow plain `http://` to hosts other than this machine.
    pub allow_insecure_http: bool,
    /// How long to wait for a connection.
    pub connect_timeout: Duration,
    /// How long to wait for a whole call, answer included.
    pub request_timeout: Duration,
    /// How to authenticate.
    pub auth: AuthConfig,
    /// A PEM client certificate (with its chain) to present when the server asks.
    pub client_certificate: Option<PathBuf>,
    /// Its PEM private key, when not in the certificate file.
    pub client_key: Option<PathBuf>,
}

impl ClientConfig {
    /// A configuration for `server` with the default timeouts (10 s to connect,
    /// 30 s per call) and no authentication.
    pub fn new(server: impl Into<String>) -> Self {
        ClientConfig {
            server: server.into(),
            ca_files: Vec::new(),
            allow_insecure_http: false,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            auth: AuthConfig {
                method: AuthMethod::None,
                ..AuthConfig::default()
            },
            client_certificate: None,
            client_key: None,
        }
    }
}
