//! journald, natively: one datagram per record to journald's socket, in
//! systemd's Native Journal Protocol (`KEY=value\n`, or for a value with a
//! line break `KEY\n`, its length as 64-bit little-endian, the value, `\n`).
//!
//! Written here rather than through a crate: the protocol is a few lines,
//! and the crates that speak it (`libsystemd`, `systemd-journal-logger`)
//! bring `nix` or a `log` integration the station does not need.

use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;

use super::message::{fields, message_id, priority, summary};
use super::{Entry, ForwardError, Sink};

/// The journald destination.
pub struct Journald {
    socket: PathBuf,
    sender: Option<UnixDatagram>,
}

impl Journald {
    /// journald listening on `socket` (usually [`super::JOURNALD_SOCKET`]).
    pub fn new(socket: PathBuf) -> Self {
        Self {
            socket,
            sender: None,
        }
    }

    /// Whether the socket takes datagrams (for `check`), without sending a record.
    pub fn probe(&self) -> Result<(), ForwardError> {
        UnixDatagram::unbound()
            .and_then(|socket| socket.connect(&self.socket))
            .map_err(|source| ForwardError::Journald {
                socket: self.socket.clone(),
                source,
            })
    }
}

/// Appends one field in the native protocol's form.
pub fn push_field(datagram: &mut Vec<u8>, name: &str, value: &[u8]) {
    datagram.extend_from_slice(name.as_bytes());
    if value.contains(&b'\n') {
        datagram.push(b'\n');
        datagram.extend_from_slice(&(value.len() as u64).to_le_bytes());
        datagram.extend_from_slice(value);
    } else {
        datagram.push(b'=');
        datagram.extend_from_slice(value);
    }
    datagram.push(b'\n');
}

/// The datagram for one record.
pub fn datagram(entry: &Entry) -> Vec<u8> {
    let record = &entry.record;
    let mut datagram = Vec::with_capacity(1024 + 2 * entry.line.len());
    push_field(&mut datagram, "MESSAGE", summary(record).as_bytes());
    push_field(
        &mut datagram,
        "MESSAGE_ID",
        message_id(record.event).as_bytes(),
    );
    push_field(
        &mut datagram,
        "PRIORITY",
        priority(record).to_string().as_bytes(),
    );
    push_field(&mut datagram, "SYSLOG_IDENTIFIER", b"enroll-station");
    // authpriv: who did what to a security-relevant system.
    push_field(&mut datagram, "SYSLOG_FACILITY", b"10");
    for (name, value) in fields(entry) {
        push_field(
            &mut datagram,
            &format!("ENROLL_STATION_{name}"),
            value.as_bytes(),
        );
    }
    // The exact line: its SHA-256 is ENROLL_STATION_HASH.
    push_field(&mut datagram, "ENROLL_STATION_RECORD", &entry.line);
    datagram
}

impl Sink for Journald {
    fn name(&self) -> String {
        "journald".to_owned()
    }

    fn deliver(&mut self, entry: &Entry) -> Result<(), ForwardError> {
        let sender = match &self.sender {
            Some(sender) => sender,
            None => self
                .sender
                .insert(UnixDatagram::unbound().map_err(ForwardError::NoSocket)?),
        };
        sender
            .send_to(&datagram(entry), &self.socket)
            .map(|_| ())
            .map_err(|source| ForwardError::Journald {
                socket: self.socket.clone(),
                source,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_with_a_line_break_is_sent_with_its_length() {
        let mut datagram = Vec::new();
        push_field(&mut datagram, "A", b"one");
        push_field(&mut datagram, "B", b"two\nlines");
        let mut expected = b"A=one\nB\n".to_vec();
        expected.extend_from_slice(&9u64.to_le_bytes());
        expected.extend_from_slice(b"two\nlines\n");
        assert_eq!(datagram, expected);
    }
}
