//! A save of the Settings view, journalled: which keys changed (never their
//! values), who saved, and the supervisor who opened Settings.

use std::path::PathBuf;

use crate::audit::journal::SharedJournal;
use crate::audit::{ControlKind, Operator, StationEvent};
use crate::config::StationConfig;

/// Why a save of the Settings view wrote nothing.
#[derive(Debug, thiserror::Error)]
pub(super) enum NotSaved {
    /// At a guarded station, the journal cannot take the record.
    #[error(
        "Nothing was saved: at this station every saved change is written to the audit \
         journal, and it cannot be written: {0}"
    )]
    NoJournal(String),
    /// The file refused the configuration or the write.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The thread doing it stopped.
    #[error(transparent)]
    Stopped(#[from] super::effects::WorkStopped),
}

/// Writes `config` to `path` without the `pinned` keys, then a `settings_saved` record. At a station
/// where Settings is `guarded` (supervised or kiosk) nothing is written
/// when the journal cannot take the record. `Ok` holds the file, and a
/// warning for the operator when the record could not be written after
/// the save.
pub(super) async fn save_and_journal(
    config: StationConfig,
    path: PathBuf,
    pinned: Vec<&'static str>,
    journal: SharedJournal,
    operator: Operator,
    supervisor: Option<String>,
    guarded: bool,
) -> Result<(PathBuf, Option<String>), NotSaved> {
    let problem = super::effects::on_journal(&journal, |j| j.problem()).await?;
    if let (true, Some(problem)) = (guarded, problem) {
        return Err(NotSaved::NoJournal(problem));
    }
    let (changed, path) = super::effects::blocking(move || {
        // What the file held before, to name the keys that change.
        let before = StationConfig::load_if_present(&path).ok();
        config
            .save_without(&path, &pinned)
            .map(|()| (changed_keys(before.as_ref(), &config), path))
    })
    .await??;
    let message = match changed.as_slice() {
        [] => format!("Settings saved to {} with no key changed", path.display()),
        keys => format!(
            "Settings saved to {}; changed: {}",
            path.display(),
            keys.join(", ")
        ),
    };
    tracing::info!(supervisor = ?supervisor, changed = ?changed, "settings saved");
    let event = StationEvent {
        kind: ControlKind::SettingsSaved,
        operator,
        supervisor,
        request_id: None,
        changed: Some(changed),
        message,
        batch: None,
    };
    let written = super::effects::on_journal(&journal, move |j| j.record_event(event)).await;
    let warning = match written {
        Ok(Ok(())) => None,
        Ok(Err(why)) => Some(format!(
            "The settings were saved, but the audit journal could not record it: {why}"
        )),
        Err(stopped) => Some(format!(
            "The settings were saved, but the audit journal could not record it: {stopped}"
        )),
    };
    Ok((path, warning))
}

/// The keys whose values differ between the file as it was (`None`: it
/// could not be read, so every key counts as changed) and as saved, in
/// the file's dotted form (`server`, `tls.ca_files`, `supervisors`).
pub(crate) fn changed_keys(before: Option<&StationConfig>, after: &StationConfig) -> Vec<String> {
    let flat = |config: &StationConfig| {
        let mut keys = std::collections::BTreeMap::new();
        if let Ok(toml::Value::Table(table)) = toml::Value::try_from(config) {
            flatten("", &table, &mut keys);
        }
        keys
    };
    let after = flat(after);
    let before = before.map(flat).unwrap_or_default();
    let mut changed: Vec<String> = after
        .iter()
        .filter(|(key, value)| before.get(*key) != Some(*value))
        .map(|(key, _)| key.clone())
        .chain(
            before
                .keys()
                .filter(|key| !after.contains_key(*key))
                .cloned(),
        )
        .collect();
    changed.sort();
    changed.dedup();
    changed
}

/// Puts every leaf of `table` in `keys` under its dotted name; an array
/// (of tables too, like `[[supervisors]]`) is one leaf.
fn flatten(
    prefix: &str,
    table: &toml::map::Map<String, toml::Value>,
    keys: &mut std::collections::BTreeMap<String, toml::Value>,
) {
    for (key, value) in table {
        let name = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            toml::Value::Table(inner) => flatten(&name, inner, keys),
            leaf => {
                keys.insert(name, leaf.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_keys_are_named_by_their_dotted_keys_without_values() {
        let before = StationConfig::default();
        let mut after = before.clone();
        after.mode = crate::config::Mode::Kiosk;
        after.larger_text = !before.larger_text;
        let changed = changed_keys(Some(&before), &after);
        assert_eq!(changed, ["larger_text", "mode"], "{changed:?}");
        assert_eq!(changed_keys(Some(&after), &after), Vec::<String>::new());
        // A file that could not be read: every key of the saved one counts.
        assert!(changed_keys(None, &after).contains(&"mode".to_owned()));
    }
}
