//! Edits to the configuration file's text: one key set in place, with the
//! file's comments, order and spacing kept (`toml_edit`). The window's
//! checkboxes write this way; Save in Settings writes the whole file.

use std::path::Path;

use super::{ConfigError, StationConfig};

/// Sets one top-level key of the configuration file, editing the file's
/// text in place: a checkbox in the window must not turn an administrator's
/// commented file into a dump of every default. A key already there keeps
/// its place and its comment; a missing one is added only when
/// `add_if_missing` (not for a value that is the default anyway). The file
/// is read again now (the Settings view may have saved since the window
/// opened), and the result is checked like any file before it replaces the
/// old one atomically; nothing is written when the value is already so.
pub fn write_top_level_key(
    path: &Path,
    key: &str,
    value: toml_edit::Value,
    add_if_missing: bool,
) -> Result<(), ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(source) => {
            return Err(ConfigError::Read {
                path: path.to_owned(),
                source,
            });
        }
    };
    let mut document: toml_edit::DocumentMut =
        text.parse()
            .map_err(|error: toml_edit::TomlError| ConfigError::Invalid {
                path: path.to_owned(),
                detail: error.to_string(),
            })?;
    // Compared without the spaces and the comment around them, which stay.
    let bare = |value: &toml_edit::Value| {
        let mut value = value.clone();
        value.decor_mut().clear();
        value.to_string()
    };
    match document.get_mut(key) {
        Some(toml_edit::Item::Value(old)) => {
            if bare(old) == bare(&value) {
                return Ok(());
            }
            let decor = old.decor().clone();
            *old = value;
            *old.decor_mut() = decor;
        }
        None if !add_if_missing => return Ok(()),
        _ => document[key] = toml_edit::Item::Value(value),
    }
    let text = document.to_string();
    StationConfig::parse(&text, path)?;
    super::write::replace_file(path, &text)
}

#[cfg(test)]
mod tests {
    use super::super::save_larger_text;
    use super::*;

    #[test]
    fn larger_text_on_a_missing_file_makes_a_file_of_that_key_only() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join("sub").join("station.toml");
        save_larger_text(&path, false).expect("nothing to do");
        assert!(!path.exists(), "off is the default: no file for it");
        save_larger_text(&path, true).expect("saved");
        let text = std::fs::read_to_string(&path).expect("reads");
        assert_eq!(text, "larger_text = true\n");
        assert!(StationConfig::load(&path).expect("reads back").larger_text);
        assert!(
            !path.with_extension("toml.new").exists(),
            "no temporary file left"
        );
    }

    #[test]
    fn larger_text_changes_its_own_line_and_keeps_every_other_byte() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join("station.toml");
        let original = "# Desk 12, ground floor: set up by IT (ticket 4711)\n\
                        station_name = \"Desk 12\"   # as on the label\n\
                        \n\
                        [timeouts]\n\
                        # the WAN link is slow\n\
                        connect_secs = 20\n";
        std::fs::write(&path, original).expect("written");
        save_larger_text(&path, true).expect("saved");
        let on = std::fs::read_to_string(&path).expect("reads");
        assert_eq!(
            on.lines()
                .filter(|l| !l.starts_with("larger_text"))
                .collect::<Vec<_>>(),
            original.lines().collect::<Vec<_>>(),
            "every other line as written: {on}"
        );
        assert_eq!(on.lines().filter(|l| *l == "larger_text = true").count(), 1);
        let config = StationConfig::load(&path).expect("reads back");
        assert!(config.larger_text);
        assert_eq!(config.timeouts.connect_secs.get(), 20);
        assert!(
            !on.contains("[auth]") && !on.contains("mode"),
            "no default is written: {on}"
        );

        // Off keeps the line (and a comment an administrator put on it).
        let commented = on.replace("larger_text = true", "larger_text = true # for low vision");
        std::fs::write(&path, &commented).expect("written");
        save_larger_text(&path, false).expect("saved");
        let off = std::fs::read_to_string(&path).expect("reads");
        assert_eq!(
            off,
            commented.replace("larger_text = true", "larger_text = false")
        );
        assert!(!StationConfig::load(&path).expect("reads back").larger_text);
        let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
        save_larger_text(&path, false).expect("nothing to do");
        assert_eq!(
            std::fs::read_to_string(&path).expect("reads"),
            off,
            "already so: unchanged"
        );
        assert_eq!(
            std::fs::metadata(&path).and_then(|m| m.modified()).ok(),
            modified
        );
    }

    #[test]
    fn larger_text_refuses_to_touch_a_broken_file() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join("station.toml");
        std::fs::write(&path, "server = [\n").expect("written");
        assert!(save_larger_text(&path, true).is_err());
        assert_eq!(
            std::fs::read_to_string(&path).expect("reads"),
            "server = [\n",
            "left as it was"
        );
    }
}
