//! syslog to a receiver over TCP with TLS: RFC 5424 messages in RFC 5425's
//! octet-counting frames (`LEN SP MSG`), one connection kept open and made
//! again after a failure. The receiver is verified like the CM server: the
//! system's certificate store plus the CA files configured
//! ([`crate::platform::tls_trust`]).
//!
//! The message's structured data carries the sequence number and the hash
//! (`[enroll@32473 seq="…" hash="…" …]`) and its text is the journal line
//! itself, so a receiver can check `SHA-256(MSG) == hash`.
//!
//! TCP has no acknowledgement a sender can see: "delivered" means written
//! and flushed into the TLS connection. A receiver that vanishes after that
//! can lose the last records; the journal file keeps them.

use std::io::Write as _;
use std::net::{TcpStream, ToSocketAddrs as _};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use rustls::{ClientConnection, StreamOwned};

use super::message::{fields, priority};
use super::{Entry, ForwardError, Sink};

/// The syslog facility: 13, "log audit" (RFC 5424, table 1).
pub const FACILITY: u8 = 13;

/// The structured data's ID: `enroll@32473` (32473 is the private
/// enterprise number RFC 5612 reserves for examples and documentation).
pub const SD_ID: &str = "enroll@32473";

/// How long to wait for the receiver.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Where syslog records go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyslogTarget {
    /// The receiver's host name (also the name its certificate must carry).
    pub host: String,
    /// Its port (6514 is syslog over TLS).
    pub port: u16,
    /// CA files trusted beside the system's store.
    pub ca_files: Vec<PathBuf>,
}

/// The syslog destination.
pub struct Syslog {
    target: SyslogTarget,
    stream: Option<StreamOwned<ClientConnection, TcpStream>>,
}

impl Syslog {
    /// A destination that connects at its first record.
    pub fn new(target: SyslogTarget) -> Self {
        Self {
            target,
            stream: None,
        }
    }

    /// Connects and completes the TLS handshake, without sending a record.
    pub fn probe(&mut self) -> Result<(), ForwardError> {
        self.connect().map(|_| ())
    }

    fn tls_config(&self) -> Result<Arc<rustls::ClientConfig>, ForwardError> {
        let mut roots = Vec::new();
        for file in &self.target.ca_files {
            roots.extend(
                crate::platform::tls_trust::read_ca_file(file).map_err(|source| {
                    ForwardError::CaFile {
                        file: file.clone(),
                        source,
                    }
                })?,
            );
        }
        let config = crate::platform::tls_trust::verifying_builder(roots)?.with_no_client_auth();
        Ok(Arc::new(config))
    }

    fn connect(&mut self) -> Result<&mut StreamOwned<ClientConnection, TcpStream>, ForwardError> {
        if self.stream.is_none() {
            let config = self.tls_config()?;
            let host = &self.target.host;
            let name = ServerName::try_from(host.clone())
                .map_err(|_| ForwardError::NotHostName(host.clone()))?;
            let address = (host.as_str(), self.target.port)
                .to_socket_addrs()
                .map_err(|source| ForwardError::NotFound {
                    host: host.clone(),
                    source,
                })?
                .next()
                .ok_or_else(|| ForwardError::NoAddress(host.clone()))?;
            let tcp =
                TcpStream::connect_timeout(&address, TIMEOUT).map_err(ForwardError::Connection)?;
            tcp.set_read_timeout(Some(TIMEOUT))
                .and_then(|()| tcp.set_write_timeout(Some(TIMEOUT)))
                .and_then(|()| tcp.set_nodelay(true))
                .map_err(ForwardError::Connection)?;
            let connection = ClientConnection::new(config, name).map_err(ForwardError::TlsSetup)?;
            let mut stream = StreamOwned::new(connection, tcp);
            while stream.conn.is_handshaking() {
                stream
                    .conn
                    .complete_io(&mut stream.sock)
                    .map_err(ForwardError::Handshake)?;
            }
            self.stream = Some(stream);
        }
        self.stream.as_mut().ok_or(ForwardError::NotConnected)
    }
}

/// Escapes a structured-data parameter value (RFC 5424 §6.3.3).
fn param_value(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, '"' | '\\' | ']') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// A header field: printable US-ASCII, at most `max` characters, `-` when empty.
fn header_field(value: &str, max: usize) -> String {
    let field: String = value
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(max)
        .collect();
    if field.is_empty() {
        "-".to_owned()
    } else {
        field
    }
}

/// The RFC 5424 message for one record.
pub fn message(entry: &Entry) -> Vec<u8> {
    let record = &entry.record;
    let pri = u16::from(FACILITY) * 8 + u16::from(priority(record));
    let time = record
        .time
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "-".to_owned());
    let mut data = format!("[{SD_ID}");
    for (name, value) in fields(entry) {
        data.push_str(&format!(
            " {}=\"{}\"",
            name.to_ascii_lowercase(),
            param_value(&value)
        ));
    }
    data.push(']');
    let mut message = format!(
        "<{pri}>1 {time} {} enroll-station {} {} {data} ",
        header_field(&record.station, 255),
        std::process::id(),
        header_field(record.event.as_str(), 32),
    )
    .into_bytes();
    message.extend_from_slice(&entry.line);
    message
}

/// The RFC 5425 frame: the message's length in octets, a space, the message.
pub fn frame(message: &[u8]) -> Vec<u8> {
    let mut frame = format!("{} ", message.len()).into_bytes();
    frame.extend_from_slice(message);
    frame
}

impl Sink for Syslog {
    fn name(&self) -> String {
        format!("syslog to {}:{}", self.target.host, self.target.port)
    }

    fn deliver(&mut self, entry: &Entry) -> Result<(), ForwardError> {
        let frame = frame(&message(entry));
        let written = self.connect().and_then(|stream| {
            stream
                .write_all(&frame)
                .and_then(|()| stream.flush())
                .map_err(ForwardError::Connection)
        });
        if written.is_err() {
            // Made again for the next try.
            self.stream = None;
        }
        written
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_header_fields_are_escaped() {
        assert_eq!(param_value(r#"a"b\c]d"#), r#"a\"b\\c\]d"#);
        assert_eq!(header_field("desk 7\u{e9}", 255), "desk7");
        assert_eq!(header_field("", 255), "-");
        assert_eq!(frame(b"<110>1 x"), b"8 <110>1 x".to_vec());
    }
}
