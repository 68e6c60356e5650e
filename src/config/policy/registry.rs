//! The machine policy in the Windows registry
//! (`HKLM\Software\Policies\enroll-station`, written by Group Policy from
//! the ADMX template in `packaging/windows/policy/`): its values, each named
//! by the key it pins, made into the TOML text of a policy file. The
//! conversion is plain code, tested on every platform; only the reading is
//! Windows'.

use super::{PINNABLE_KEYS, PolicyError, PolicySource, present_keys};

#[cfg(windows)]
pub(super) use os::read;

/// A registry value as read.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(not(windows), allow(dead_code))]
pub(super) enum RegValue {
    /// `REG_SZ` or `REG_EXPAND_SZ`.
    Text(String),
    /// `REG_DWORD`.
    Number(u32),
    /// `REG_MULTI_SZ`.
    Lines(Vec<String>),
}

/// The registry value holding TOML text for the keys that have no value of
/// their own there (`[[supervisors]]`, `[kiosk_site]`, `[[cards.families]]`,
/// `[directory]`), or for any other pinnable key.
#[cfg_attr(not(windows), allow(dead_code))]
const REGISTRY_TOML_VALUE: &str = "toml";

/// What kind of value a key takes in the registry.
#[cfg_attr(not(windows), allow(dead_code))]
enum Kind {
    Text,
    Number,
    Switch,
    List,
    /// Only through [`REGISTRY_TOML_VALUE`].
    Table,
}

#[cfg_attr(not(windows), allow(dead_code))]
fn kind(key: &str) -> Kind {
    match key {
        "kiosk_idle_secs"
        | "batch_max_concurrent_posts"
        | "timeouts.connect_secs"
        | "timeouts.request_secs" => Kind::Number,
        "tls.allow_insecure_http" | "auth.allow_ntlm" | "auth.allow_missing_mutual_auth" => {
            Kind::Switch
        }
        "ignore_readers" | "tls.ca_files" | "auth.token_command" => Kind::List,
        "supervisors" | "kiosk_site" | "cards.families" | "directory" | "audit_forwarding" => {
            Kind::Table
        }
        _ => Kind::Text,
    }
}

/// The policy the registry's values make, as the TOML text of a policy
/// file: each value is named by its key (`mode`, `tls.ca_files`), and the
/// value `toml` holds TOML lines for the rest.
#[cfg_attr(not(windows), allow(dead_code))]
pub(super) fn registry_toml(values: Vec<(String, RegValue)>) -> Result<String, PolicyError> {
    let invalid = |detail: String| PolicyError::Invalid {
        policy: PolicySource::Registry,
        detail,
    };
    let mut table = toml::Table::new();
    let mut fragment = None;
    for (name, value) in values {
        if name.eq_ignore_ascii_case(REGISTRY_TOML_VALUE) {
            fragment = Some(match value {
                RegValue::Text(text) => text,
                RegValue::Lines(lines) => lines.join("\n"),
                RegValue::Number(_) => {
                    return Err(invalid(format!(
                        "the value `{REGISTRY_TOML_VALUE}` must be text (REG_SZ or REG_MULTI_SZ)"
                    )));
                }
            });
            continue;
        }
        let Some(key) = PINNABLE_KEYS.iter().find(|k| k.eq_ignore_ascii_case(&name)) else {
            return Err(PolicyError::NotPinnable {
                policy: PolicySource::Registry,
                key: name,
            });
        };
        let wrong = |expected: &str| invalid(format!("the value `{key}` must be {expected}"));
        let toml_value = match (kind(key), value) {
            (Kind::Text, RegValue::Text(text)) => toml::Value::String(text),
            (Kind::Number, RegValue::Number(n)) => toml::Value::Integer(i64::from(n)),
            (Kind::Number, RegValue::Text(text)) => toml::Value::Integer(
                text.trim()
                    .parse()
                    .map_err(|_| wrong("a number (REG_DWORD)"))?,
            ),
            (Kind::Switch, RegValue::Number(n)) => toml::Value::Boolean(n != 0),
            (Kind::List, RegValue::Lines(lines)) => toml::Value::Array(
                lines
                    .into_iter()
                    .filter(|l| !l.trim().is_empty())
                    .map(toml::Value::String)
                    .collect(),
            ),
            (Kind::Text, _) => return Err(wrong("text (REG_SZ)")),
            (Kind::Number, _) => return Err(wrong("a number (REG_DWORD)")),
            (Kind::Switch, _) => return Err(wrong("0 or 1 (REG_DWORD)")),
            (Kind::List, _) => return Err(wrong("a list of lines (REG_MULTI_SZ)")),
            (Kind::Table, _) => {
                return Err(wrong(&format!(
                    "given as TOML in the value `{REGISTRY_TOML_VALUE}`"
                )));
            }
        };
        insert(&mut table, key, toml_value);
    }
    if let Some(text) = fragment {
        let more: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            invalid(format!("the value `{REGISTRY_TOML_VALUE}`: {e}"))
        })?;
        for key in present_keys(&more) {
            if present_keys(&table).contains(&key) {
                return Err(invalid(format!(
                    "`{key}` is given twice: as a value of its own and in `{REGISTRY_TOML_VALUE}`"
                )));
            }
        }
        for (key, value) in more {
            match (table.get_mut(&key), value) {
                (Some(toml::Value::Table(mine)), toml::Value::Table(theirs)) => mine.extend(theirs),
                (_, value) => {
                    table.insert(key, value);
                }
            }
        }
    }
    toml::to_string(&table).map_err(|e| invalid(e.to_string()))
}

/// Sets the dotted `key` in `table`.
#[cfg_attr(not(windows), allow(dead_code))]
fn insert(table: &mut toml::Table, key: &str, value: toml::Value) {
    match key.split_once('.') {
        None => {
            table.insert(key.to_owned(), value);
        }
        Some((outer, inner)) => {
            let entry = table
                .entry(outer.to_owned())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if let toml::Value::Table(inner_table) = entry {
                inner_table.insert(inner.to_owned(), value);
            }
        }
    }
}

/// Reading `HKLM\Software\Policies\enroll-station`.
#[cfg(windows)]
mod os {
    use super::RegValue;
    use windows_sys::Win32::Foundation::{
        ERROR_FILE_NOT_FOUND, ERROR_NO_MORE_ITEMS, ERROR_SUCCESS,
    };
    use windows_sys::Win32::System::Registry::{
        HKEY, HKEY_LOCAL_MACHINE, KEY_READ, KEY_WOW64_64KEY, REG_DWORD, REG_EXPAND_SZ,
        REG_MULTI_SZ, REG_SZ, RegCloseKey, RegEnumValueW, RegOpenKeyExW, RegQueryInfoKeyW,
    };

    /// The key below HKLM.
    const SUBKEY: &str = r"Software\Policies\enroll-station";

    /// Closes the key when dropped.
    struct Key(HKEY);

    impl Drop for Key {
        fn drop(&mut self) {
            // SAFETY: the handle was opened by RegOpenKeyExW and is closed once.
            unsafe {
                RegCloseKey(self.0);
            }
        }
    }

    fn os_error(code: u32) -> std::io::Error {
        std::io::Error::from_raw_os_error(code as i32)
    }

    /// The key's values; `None` when the key does not exist.
    pub(in crate::config::policy) fn read() -> std::io::Result<Option<Vec<(String, RegValue)>>> {
        let name: Vec<u16> = SUBKEY.encode_utf16().chain(Some(0)).collect();
        let mut handle: HKEY = std::ptr::null_mut();
        // SAFETY: `name` is NUL-terminated and outlives the call; `handle` is written on success.
        let status = unsafe {
            RegOpenKeyExW(
                HKEY_LOCAL_MACHINE,
                name.as_ptr(),
                0,
                KEY_READ | KEY_WOW64_64KEY,
                &mut handle,
            )
        };
        if status == ERROR_FILE_NOT_FOUND {
            return Ok(None);
        }
        if status != ERROR_SUCCESS {
            return Err(os_error(status));
        }
        let key = Key(handle);
        let (mut max_name, mut max_data) = (0u32, 0u32);
        // SAFETY: every out-pointer is either null (not wanted) or a live u32.
        let status = unsafe {
            RegQueryInfoKeyW(
                key.0,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                &mut max_name,
                &mut max_data,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        };
        if status != ERROR_SUCCESS {
            return Err(os_error(status));
        }
        let mut values = Vec::new();
        let mut index = 0u32;
        loop {
            let mut name = vec![0u16; max_name as usize + 1];
            let mut name_len = name.len() as u32;
            let mut data = vec![0u8; max_data as usize + 2];
            let mut data_len = data.len() as u32;
            let mut kind = 0u32;
            // SAFETY: the buffers are as long as the lengths passed with them.
            let status = unsafe {
                RegEnumValueW(
                    key.0,
                    index,
                    name.as_mut_ptr(),
                    &mut name_len,
                    std::ptr::null(),
                    &mut kind,
                    data.as_mut_ptr(),
                    &mut data_len,
                )
            };
            if status == ERROR_NO_MORE_ITEMS {
                break;
            }
            if status != ERROR_SUCCESS {
                return Err(os_error(status));
            }
            index += 1;
            let name = String::from_utf16_lossy(&name[..name_len as usize]);
            let data = &data[..data_len as usize];
            let wide: Vec<u16> = data
                .chunks_exact(2)
                .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
                .collect();
            let value = match kind {
                REG_SZ | REG_EXPAND_SZ => {
                    let end = wide.iter().position(|c| *c == 0).unwrap_or(wide.len());
                    RegValue::Text(String::from_utf16_lossy(&wide[..end]))
                }
                REG_MULTI_SZ => RegValue::Lines(
                    wide.split(|c| *c == 0)
                        .filter(|s| !s.is_empty())
                        .map(String::from_utf16_lossy)
                        .collect(),
                ),
                REG_DWORD if data.len() >= 4 => {
                    RegValue::Number(u32::from_le_bytes([data[0], data[1], data[2], data[3]]))
                }
                // The ADMX template writes none of the other kinds; a value
                // of another kind is named so the administrator can fix it.
                _ => RegValue::Text(format!("\u{0}unsupported registry type {kind}")),
            };
            if let RegValue::Text(text) = &value
                && text.starts_with('\u{0}')
            {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("the value `{name}` has a type the station does not read ({kind})"),
                ));
            }
            values.push((name, value));
        }
        Ok(Some(values))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Mode;
    use crate::config::policy::{Policy, REGISTRY_KEY};
    use std::path::PathBuf;
    #[test]
    fn registry_values_make_a_policy() {
        let text = registry_toml(vec![
            ("mode".into(), RegValue::Text("supervised".into())),
            ("kiosk_idle_secs".into(), RegValue::Number(90)),
            ("tls.allow_insecure_http".into(), RegValue::Number(0)),
            (
                "tls.ca_files".into(),
                RegValue::Lines(vec!["C:\\ca.pem".into(), String::new()]),
            ),
            (
                "toml".into(),
                RegValue::Lines(vec![
                    "[kiosk_site]".into(),
                    "service_name = \"Contoso badges\"".into(),
                ]),
            ),
        ])
        .expect("valid");
        let policy = Policy::from_layers(vec![(PolicySource::Registry, text)]).expect("valid");
        assert_eq!(policy.values().mode, Mode::Supervised);
        assert_eq!(policy.values().kiosk_idle_secs.get(), 90);
        assert_eq!(policy.values().tls.ca_files, [PathBuf::from("C:\\ca.pem")]);
        assert_eq!(policy.values().kiosk_site.service_name(), "Contoso badges");
        assert!(policy.pinned("tls.allow_insecure_http").is_some());
        assert_eq!(
            policy
                .pinned("kiosk_site")
                .map(ToString::to_string)
                .as_deref(),
            Some(REGISTRY_KEY)
        );

        let error = registry_toml(vec![("larger_text".into(), RegValue::Number(1))])
            .expect_err("not pinnable");
        assert!(error.to_string().contains("larger_text"), "{error}");
        let error = registry_toml(vec![("mode".into(), RegValue::Number(1))]).expect_err("type");
        assert!(error.to_string().contains("REG_SZ"), "{error}");
        let error = registry_toml(vec![
            ("mode".into(), RegValue::Text("desk".into())),
            ("toml".into(), RegValue::Text("mode = \"kiosk\"".into())),
        ])
        .expect_err("twice");
        assert!(error.to_string().contains("given twice"), "{error}");
    }
}
