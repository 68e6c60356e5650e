//! Writing the configuration file: the whole file (Settings' Save) or its
//! text after an edit in place. Every write goes through [`replace_file`]:
//! a temporary file in the same directory, written `0600` on Unix (the file
//! holds the supervisors' password hashes), flushed to the disk, then
//! renamed over the old one. A crash leaves the old file or the new one,
//! never half of one, and a configuration that cannot be serialised is
//! never written: the old file stays as it was.

use std::path::Path;

use super::{ConfigError, StationConfig};

impl StationConfig {
    /// The file's text, as [`StationConfig::save`] writes it. `Err` when a
    /// value cannot be written as TOML (a path that is not UTF-8): nothing
    /// is written then, rather than an empty or lossy file.
    pub fn to_toml(&self) -> Result<String, toml::ser::Error> {
        toml::to_string_pretty(self)
    }

    /// The file's text without the `keys` a machine policy pins (see
    /// [`super::policy`]): the operator's file never repeats them.
    pub fn to_toml_without(&self, keys: &[&str]) -> Result<String, toml::ser::Error> {
        let text = self.to_toml()?;
        if keys.is_empty() {
            return Ok(text);
        }
        let Ok(mut document) = text.parse::<toml_edit::DocumentMut>() else {
            // What toml wrote, toml_edit reads; should it not, the keys stay.
            return Ok(text);
        };
        super::policy::remove_keys(&mut document, keys);
        Ok(document.to_string())
    }

    /// Checks, then writes the file atomically ([`replace_file`]), every
    /// key in it: where a machine policy pins keys, use
    /// [`StationConfig::save_without`].
    pub fn save(&self, path: &Path) -> Result<(), ConfigError> {
        self.save_without(path, &[])
    }

    /// [`StationConfig::save`], leaving out the pinned `keys`.
    pub fn save_without(&self, path: &Path, keys: &[&str]) -> Result<(), ConfigError> {
        self.check().map_err(|problem| ConfigError::Inconsistent {
            path: Some(path.to_owned()),
            key: problem.key,
            detail: problem.message,
        })?;
        let text = self
            .to_toml_without(keys)
            .map_err(|error| ConfigError::Write {
                path: path.to_owned(),
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!(
                        "a value cannot be written as TOML ({error}); the file was left as it was"
                    ),
                ),
            })?;
        replace_file(path, &text)
    }
}

/// Replaces the file at `path` with `text` through
/// [`crate::platform::files::replace_file`]: a new temporary file in the
/// same directory, `0600` on Unix, synced, renamed over the old one (or a
/// link planted in its place), then the directory synced. An empty `text`
/// is refused: a configuration file is never replaced by nothing.
pub(crate) fn replace_file(path: &Path, text: &str) -> Result<(), ConfigError> {
    let write = |source| ConfigError::Write {
        path: path.to_owned(),
        source,
    };
    if text.trim().is_empty() && path.exists() {
        return Err(write(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "the new text is empty; the file was left as it was",
        )));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(write)?;
    }
    // A new temporary file (never one someone left at its name), renamed
    // over the old file or a link planted in its place.
    crate::platform::files::replace_file(path, text.as_bytes(), crate::platform::files::OWNER_ONLY)
        .map_err(write)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_configuration_that_cannot_be_serialised_never_empties_the_file() {
        use std::os::unix::ffi::OsStrExt as _;
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("station.toml");
        let good = StationConfig {
            mode: super::super::Mode::Supervised,
            ..StationConfig::default()
        };
        good.save_without(&path, &[]).expect("saved");
        let before = std::fs::read_to_string(&path).expect("read");
        assert!(before.contains("mode = \"supervised\""), "{before}");

        let bad = StationConfig {
            audit_file: Some(std::ffi::OsStr::from_bytes(b"/var/\xffaudit.jsonl").into()),
            ..StationConfig::default()
        };
        assert!(bad.to_toml().is_err(), "a path that is not UTF-8");
        let error = bad.save_without(&path, &[]).expect_err("not written");
        assert!(error.to_string().contains("left as it was"), "{error}");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), before);
        assert_eq!(
            std::fs::read_dir(dir.path()).expect("listed").count(),
            1,
            "no temporary file is left"
        );

        let error = replace_file(&path, "  \n").expect_err("empty");
        assert!(error.to_string().contains("empty"), "{error}");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), before);
    }

    #[cfg(unix)]
    #[test]
    fn the_file_is_written_for_its_owner_only() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("station.toml");
        std::fs::write(&path, "mode = \"desk\"\n").expect("written");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        StationConfig::default()
            .save_without(&path, &[])
            .expect("saved");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn pinned_keys_are_left_out_of_the_saved_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("station.toml");
        let config = StationConfig {
            refresh_interval_secs: super::super::Seconds::new(45).expect("in range"),
            ..StationConfig::default()
        };
        config
            .save_without(&path, &["mode", "kiosk_idle_secs", "auth.method"])
            .expect("saved");
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(!text.contains("mode"), "{text}");
        assert!(!text.contains("kiosk_idle_secs"), "{text}");
        assert!(!text.contains("method"), "{text}");
        assert!(text.contains("refresh_interval_secs = 45"), "{text}");
    }
}
