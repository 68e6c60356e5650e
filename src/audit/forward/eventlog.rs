//! The Windows Event Log: each record is an event of the `enroll-station`
//! source in the Application log, with the record kind's event ID
//! ([`super::event_id`]). The MSI registers the source with .NET's
//! `EventLogMessages.dll`, whose message for every ID is the event's one
//! string: the summary, the fields, and the journal line.

use windows_sys::Win32::Foundation::HANDLE;
use windows_sys::Win32::System::EventLog::{
    DeregisterEventSource, EVENTLOG_ERROR_TYPE, EVENTLOG_INFORMATION_TYPE, EVENTLOG_WARNING_TYPE,
    RegisterEventSourceW, ReportEventW,
};

use super::message::{event_id, fields, priority, summary};
use super::{Entry, ForwardError, Sink};

/// The event source the MSI registers.
pub const SOURCE: &str = "enroll-station";

/// The Event Log destination.
pub struct EventLog {
    handle: HANDLE,
}

// SAFETY: an event source handle may be used from any thread.
unsafe impl Send for EventLog {}

fn wide(text: &str) -> Vec<u16> {
    text.encode_utf16().chain(std::iter::once(0)).collect()
}

impl EventLog {
    /// Opens the source lazily, at the first record.
    pub fn new() -> Self {
        Self {
            handle: std::ptr::null_mut(),
        }
    }

    fn open(&mut self) -> Result<HANDLE, ForwardError> {
        if self.handle.is_null() {
            let source = wide(SOURCE);
            // SAFETY: `source` is a NUL-terminated UTF-16 string that outlives the call.
            let handle = unsafe { RegisterEventSourceW(std::ptr::null(), source.as_ptr()) };
            if handle.is_null() {
                return Err(ForwardError::EventSource {
                    source: std::io::Error::last_os_error(),
                });
            }
            self.handle = handle;
        }
        Ok(self.handle)
    }

    /// Whether the source can be opened (for `check`).
    pub fn probe(mut self) -> Result<(), ForwardError> {
        self.open().map(|_| ())
    }
}

impl Default for EventLog {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for EventLog {
    fn drop(&mut self) {
        if !self.handle.is_null() {
            // SAFETY: the handle came from RegisterEventSourceW and is closed once.
            unsafe { DeregisterEventSource(self.handle) };
        }
    }
}

/// The event's one string: the summary, the fields, the journal line.
pub fn text(entry: &Entry) -> String {
    let mut text = summary(&entry.record);
    text.push_str("\r\n");
    for (name, value) in fields(entry) {
        text.push_str(&format!("\r\n{}: {value}", name.to_ascii_lowercase()));
    }
    text.push_str("\r\n\r\nrecord: ");
    text.push_str(&String::from_utf8_lossy(&entry.line));
    text
}

impl Sink for EventLog {
    fn name(&self) -> String {
        "the Windows Event Log".to_owned()
    }

    fn deliver(&mut self, entry: &Entry) -> Result<(), ForwardError> {
        let handle = self.open()?;
        let kind = match priority(&entry.record) {
            0..=3 => EVENTLOG_ERROR_TYPE,
            4 => EVENTLOG_WARNING_TYPE,
            _ => EVENTLOG_INFORMATION_TYPE,
        };
        let text = wide(&text(entry));
        let strings = [text.as_ptr()];
        // SAFETY: one NUL-terminated string, alive for the call; no raw data.
        let reported = unsafe {
            ReportEventW(
                handle,
                kind,
                0,
                event_id(entry.record.event),
                std::ptr::null_mut(),
                1,
                0,
                strings.as_ptr(),
                std::ptr::null(),
            )
        };
        if reported == 0 {
            return Err(ForwardError::Report(std::io::Error::last_os_error()));
        }
        Ok(())
    }
}
