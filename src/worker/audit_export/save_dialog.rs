//! The desktop's save dialog, and whether one can be shown at all.
//!
//! rfd cannot say. On Linux its xdg-portal backend logs "Failed to connect
//! to session bus" (or the portal's error), falls back to running `zenity`,
//! logs again when that cannot start, and returns `None`: the same answer
//! as a cancel. So the station first asks what rfd will ask (a session bus
//! whose xdg desktop portal has a file chooser, else `zenity` with a display)
//! and opens the dialog only when one of them is there; then `None` means
//! the operator cancelled. Windows and macOS always have their own dialog.

use std::path::PathBuf;

use crate::audit::ExportFormat;

/// What the file dialog answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(in crate::worker) enum DialogAnswer {
    /// The operator chose this file (and agreed to replace it if it existed).
    Chosen(PathBuf),
    /// The operator closed the dialog without choosing.
    Cancelled,
    /// No dialog can be shown on this desktop: what is missing, in words.
    Unavailable(String),
}

/// Asks where to save an export, suggesting the day's file name in the
/// Documents folder.
pub(super) async fn ask(format: ExportFormat) -> DialogAnswer {
    // Both read the system (D-Bus, PATH, the XDG folders): off the runtime's threads.
    let looked = crate::worker::effects::blocking(|| {
        (missing_dialog(), crate::audit::default_export_place())
    })
    .await;
    let place = match looked {
        Ok((None, place)) => place,
        Ok((Some(missing), _)) => return DialogAnswer::Unavailable(missing),
        Err(stopped) => {
            return DialogAnswer::Unavailable(format!(
                "the check for a file dialog stopped: {}",
                stopped.why()
            ));
        }
    };
    let extension = format.extension();
    let mut dialog = rfd::AsyncFileDialog::new()
        .set_title("Export the audit journal")
        .set_file_name(crate::audit::export_file_name(
            super::local_today(),
            format,
            1,
        ))
        .add_filter(extension.to_uppercase(), &[extension]);
    if let Some(place) = place {
        dialog = dialog.set_directory(place.dir());
    }
    match dialog.save_file().await {
        Some(handle) => DialogAnswer::Chosen(handle.path().to_owned()),
        None => DialogAnswer::Cancelled,
    }
}

/// What keeps rfd from showing a dialog here, or None when it can.
#[cfg(all(unix, not(target_os = "macos")))]
fn missing_dialog() -> Option<String> {
    let portal = portal::missing()?;
    if !on_path("zenity") {
        return Some(format!("{portal}, and zenity is not installed"));
    }
    let display = ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|name| std::env::var_os(name).is_some_and(|value| !value.is_empty()));
    (!display).then(|| format!("{portal}, and there is no display for zenity"))
}

#[cfg(not(all(unix, not(target_os = "macos"))))]
fn missing_dialog() -> Option<String> {
    None
}

/// Whether an executable `program` is in one of `PATH`'s folders, as
/// rfd's `Command::new("zenity")` would find it.
#[cfg(all(unix, not(target_os = "macos")))]
fn on_path(program: &str) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    let Some(path) = std::env::var_os("PATH") else {
        return false;
    };
    std::env::split_paths(&path).any(|dir| {
        std::fs::metadata(dir.join(program))
            .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
    })
}

/// The xdg desktop portal's file chooser, asked the way rfd reaches it:
/// through libdbus, loaded at run time (rfd loads it the same way, so a
/// station without libdbus has no portal dialog either).
#[cfg(all(unix, not(target_os = "macos")))]
mod portal {
    use std::ffi::{CStr, c_char, c_int, c_uint, c_void};
    use std::sync::OnceLock;

    const BUS_SESSION: c_int = 0;
    const TYPE_INVALID: c_int = 0;
    const TYPE_STRING: c_int = b's' as c_int;
    /// The portal may be started on demand (D-Bus activation): long enough
    /// for that, short enough that an export never seems to hang.
    const TIMEOUT_MS: c_int = 10_000;

    /// `DBusError` (dbus/dbus-errors.h).
    #[repr(C)]
    struct RawError {
        name: *const c_char,
        message: *const c_char,
        dummy: c_uint,
        padding: *mut c_void,
    }

    type Handle = *mut c_void;

    /// The few libdbus functions the check calls (dbus/dbus-bus.h,
    /// dbus-connection.h, dbus-message.h, dbus-errors.h: stable since 1.0).
    struct Dbus {
        error_init: unsafe extern "C" fn(*mut RawError),
        error_free: unsafe extern "C" fn(*mut RawError),
        bus_get_private: unsafe extern "C" fn(c_int, *mut RawError) -> Handle,
        set_exit_on_disconnect: unsafe extern "C" fn(Handle, c_uint),
        new_method_call: unsafe extern "C" fn(
            *const c_char,
            *const c_char,
            *const c_char,
            *const c_char,
        ) -> Handle,
        append_args: unsafe extern "C" fn(Handle, c_int, ...) -> c_uint,
        send_with_reply_and_block:
            unsafe extern "C" fn(Handle, Handle, c_int, *mut RawError) -> Handle,
        message_unref: unsafe extern "C" fn(Handle),
        connection_close: unsafe extern "C" fn(Handle),
        connection_unref: unsafe extern "C" fn(Handle),
    }

    fn dbus() -> Option<&'static Dbus> {
        static DBUS: OnceLock<Option<Dbus>> = OnceLock::new();
        DBUS.get_or_init(load).as_ref()
    }

    fn load() -> Option<Dbus> {
        // SAFETY: loading libdbus runs no initialiser with preconditions. The
        // library is never unloaded (leaked below), so the function pointers
        // taken from it stay valid for the life of the process.
        let library = ["libdbus-1.so.3", "libdbus-1.so"]
            .into_iter()
            .find_map(|name| unsafe { libloading::Library::new(name) }.ok())?;
        let library: &'static libloading::Library = Box::leak(Box::new(library));
        // SAFETY: each name is a public libdbus function whose C signature is
        // the field's type above.
        unsafe {
            Some(Dbus {
                error_init: *library.get(b"dbus_error_init\0").ok()?,
                error_free: *library.get(b"dbus_error_free\0").ok()?,
                bus_get_private: *library.get(b"dbus_bus_get_private\0").ok()?,
                set_exit_on_disconnect: *library
                    .get(b"dbus_connection_set_exit_on_disconnect\0")
                    .ok()?,
                new_method_call: *library.get(b"dbus_message_new_method_call\0").ok()?,
                append_args: *library.get(b"dbus_message_append_args\0").ok()?,
                send_with_reply_and_block: *library
                    .get(b"dbus_connection_send_with_reply_and_block\0")
                    .ok()?,
                message_unref: *library.get(b"dbus_message_unref\0").ok()?,
                connection_close: *library.get(b"dbus_connection_close\0").ok()?,
                connection_unref: *library.get(b"dbus_connection_unref\0").ok()?,
            })
        }
    }

    /// A `DBusError`, freed when dropped.
    struct Error<'a> {
        dbus: &'a Dbus,
        raw: RawError,
    }

    impl<'a> Error<'a> {
        fn new(dbus: &'a Dbus) -> Self {
            let mut raw = RawError {
                name: std::ptr::null(),
                message: std::ptr::null(),
                dummy: 0,
                padding: std::ptr::null_mut(),
            };
            // SAFETY: `raw` is a valid DBusError to initialise.
            unsafe { (dbus.error_init)(&mut raw) };
            Self { dbus, raw }
        }

        fn text(pointer: *const c_char) -> String {
            if pointer.is_null() {
                return String::new();
            }
            // SAFETY: libdbus sets a set error's name and message to
            // NUL-terminated strings that live until dbus_error_free.
            unsafe { CStr::from_ptr(pointer) }
                .to_string_lossy()
                .into_owned()
        }

        fn name(&self) -> String {
            Self::text(self.raw.name)
        }

        fn message(&self) -> String {
            Self::text(self.raw.message)
        }
    }

    impl Drop for Error<'_> {
        fn drop(&mut self) {
            // SAFETY: initialised in `new`; freeing an unset error is allowed.
            unsafe { (self.dbus.error_free)(&mut self.raw) };
        }
    }

    /// What keeps the portal's file chooser from answering, in words; None
    /// when it answers.
    pub(super) fn missing() -> Option<String> {
        let Some(dbus) = dbus() else {
            return Some("libdbus-1 is not installed, so no desktop portal can be reached".into());
        };
        let mut error = Error::new(dbus);
        // SAFETY: `error` is initialised; a private connection is ours to close.
        let connection = unsafe { (dbus.bus_get_private)(BUS_SESSION, &mut error.raw) };
        if connection.is_null() {
            return Some(format!(
                "there is no D-Bus session bus for a desktop portal ({})",
                error.message()
            ));
        }
        // SAFETY: `connection` is valid until unreferenced below. libdbus
        // would otherwise end the whole process if the bus went away.
        unsafe { (dbus.set_exit_on_disconnect)(connection, 0) };
        let missing = ask_version(dbus, connection);
        // SAFETY: closed and released once; nothing uses it afterwards.
        unsafe {
            (dbus.connection_close)(connection);
            (dbus.connection_unref)(connection);
        }
        missing
    }

    /// Reads the FileChooser interface's `version` property: an answer
    /// proves a portal with a file chooser is there.
    fn ask_version(dbus: &Dbus, connection: Handle) -> Option<String> {
        // SAFETY: the four arguments are NUL-terminated strings.
        let message = unsafe {
            (dbus.new_method_call)(
                c"org.freedesktop.portal.Desktop".as_ptr(),
                c"/org/freedesktop/portal/desktop".as_ptr(),
                c"org.freedesktop.DBus.Properties".as_ptr(),
                c"Get".as_ptr(),
            )
        };
        if message.is_null() {
            return Some("libdbus could not build a message (out of memory)".into());
        }
        let interface: *const c_char = c"org.freedesktop.portal.FileChooser".as_ptr();
        let property: *const c_char = c"version".as_ptr();
        // SAFETY: each string argument is passed as a pointer to a `const
        // char *`, and the list ends with DBUS_TYPE_INVALID, as libdbus requires.
        let appended = unsafe {
            (dbus.append_args)(
                message,
                TYPE_STRING,
                &interface as *const *const c_char,
                TYPE_STRING,
                &property as *const *const c_char,
                TYPE_INVALID,
            )
        };
        let mut error = Error::new(dbus);
        let reply = if appended == 0 {
            std::ptr::null_mut()
        } else {
            // SAFETY: both handles are valid and `error` is initialised.
            unsafe {
                (dbus.send_with_reply_and_block)(connection, message, TIMEOUT_MS, &mut error.raw)
            }
        };
        // SAFETY: each message is released once and not used afterwards.
        unsafe { (dbus.message_unref)(message) };
        if !reply.is_null() {
            // SAFETY: as above.
            unsafe { (dbus.message_unref)(reply) };
            return None;
        }
        Some(describe(&error.name(), &error.message()))
    }

    /// The portal's failure as the operator reads it.
    fn describe(name: &str, message: &str) -> String {
        match name {
            "org.freedesktop.DBus.Error.ServiceUnknown" => {
                "no xdg desktop portal runs on this session".into()
            }
            "org.freedesktop.DBus.Error.NoReply" | "org.freedesktop.DBus.Error.Timeout" => {
                format!(
                    "the xdg desktop portal did not answer within {} s",
                    TIMEOUT_MS / 1000
                )
            }
            "" => "libdbus could not ask the desktop portal".into(),
            _ => format!("the xdg desktop portal offers no file dialog ({name}: {message})"),
        }
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn the_portals_errors_are_told_in_words() {
            assert_eq!(
                super::describe("org.freedesktop.DBus.Error.ServiceUnknown", "x"),
                "no xdg desktop portal runs on this session"
            );
            assert!(super::describe("org.freedesktop.DBus.Error.NoReply", "x").contains("10 s"));
            let other = super::describe("org.freedesktop.DBus.Error.UnknownInterface", "nope");
            assert!(other.contains("offers no file dialog") && other.contains("nope"));
        }
    }
}

#[cfg(test)]
mod tests {
    #[cfg(all(unix, not(target_os = "macos")))]
    #[test]
    fn a_program_is_found_on_path_only_when_executable() {
        // `sh` is on every Unix PATH the tests run with; a made-up name is not.
        assert!(super::on_path("sh"));
        assert!(!super::on_path("no-such-program-enroll-station"));
    }
}
