//! `[audit_forwarding]`: where the station sends a copy of every audit
//! record as it is written (see `docs/audit-forwarding.md`). A machine
//! policy can pin the table as a whole.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The syslog receiver's port when `syslog` names none: syslog over TLS.
pub const SYSLOG_TLS_PORT: u16 = 6514;

/// `audit_forwarding.syslog` is not a receiver's address.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "audit_forwarding.syslog must be HOST or HOST:PORT (e.g. \"siem.contoso.com:6514\"), \
     not {text:?}"
)]
pub struct BadSyslogAddress {
    /// The value as written (trimmed).
    pub text: String,
}

/// `[audit_forwarding]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditForwarding {
    /// Linux: send every record to journald. Default: on when journald's
    /// socket is there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub journald: Option<bool>,
    /// journald's socket (default `/run/systemd/journal/socket`; a
    /// namespace's is `/run/systemd/journal.NAME/socket`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub journald_socket: Option<PathBuf>,
    /// The syslog receiver, `HOST` or `HOST:PORT` (default port 6514),
    /// reached over TCP with TLS (RFC 5425). Default: none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub syslog: Option<String>,
    /// CA files (PEM) trusted for the syslog receiver beside the system's store.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub syslog_ca_files: Vec<PathBuf>,
    /// Windows: write every record to the Application event log under the
    /// `enroll-station` source. Default: on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_log: Option<bool>,
    /// How many records may wait for one destination before new ones are
    /// dropped (they stay in the journal). Default: 10000.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue: Option<u32>,
}

impl AuditForwarding {
    /// Whether the table says nothing (it is then left out of the file).
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }

    /// The syslog receiver as host and port; `Err` says what is wrong.
    pub fn syslog_target(&self) -> Result<Option<(String, u16)>, BadSyslogAddress> {
        let Some(text) = self.syslog.as_deref().map(str::trim) else {
            return Ok(None);
        };
        let bad = || BadSyslogAddress {
            text: text.to_owned(),
        };
        let (host, port) = match text.rsplit_once(':') {
            // An IPv6 address without a port: [::1]
            Some((host, port)) if !host.ends_with(':') && !port.contains(']') => {
                (host, port.parse::<u16>().map_err(|_| bad())?)
            }
            _ => (text, SYSLOG_TLS_PORT),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c == '/') || port == 0 {
            return Err(bad());
        }
        Ok(Some((host.to_owned(), port)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_syslog_receiver_is_a_host_and_a_port() {
        let with = |text: &str| AuditForwarding {
            syslog: Some(text.to_owned()),
            ..AuditForwarding::default()
        };
        assert_eq!(
            with("siem.example:1514").syslog_target(),
            Ok(Some(("siem.example".to_owned(), 1514)))
        );
        assert_eq!(
            with("siem.example").syslog_target(),
            Ok(Some(("siem.example".to_owned(), 6514)))
        );
        assert_eq!(
            with("[::1]:6514").syslog_target(),
            Ok(Some(("::1".to_owned(), 6514)))
        );
        assert!(with("siem.example:port").syslog_target().is_err());
        assert!(with("tcp://siem").syslog_target().is_err());
        assert_eq!(AuditForwarding::default().syslog_target(), Ok(None));
    }
}
