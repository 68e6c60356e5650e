//! Who acts and where, as the journal names them: the station's name and the
//! OS account running this process. They describe the process, not the
//! journal, and are kept apart so they can leave for a platform layer.

static STATION_NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Names this station in the journal instead of its host name (the
/// configuration's `station_name`). The name belongs to the process: the
/// first call wins.
pub fn set_station_name(name: &str) {
    let _ = STATION_NAME.set(name.to_owned());
}

/// The station's name for the journal: the configured name, else the host
/// name, else `unknown-station`.
pub fn station_name() -> String {
    if let Some(name) = STATION_NAME.get() {
        return name.clone();
    }
    gethostname::gethostname()
        .into_string()
        .ok()
        .filter(|name| !name.trim().is_empty())
        .unwrap_or_else(|| "unknown-station".to_owned())
}
#[cfg(windows)]
pub(super) fn os_user_name() -> Option<String> {
    let user = non_empty_var("USERNAME")?;
    Some(match non_empty_var("USERDOMAIN") {
        Some(domain) => format!("{domain}\\{user}"),
        None => user,
    })
}

#[cfg(not(windows))]
pub(super) fn os_user_name() -> Option<String> {
    non_empty_var("USER")
        .or_else(|| non_empty_var("LOGNAME"))
        .or_else(account_of_this_process)
}

/// The local account owning this process, from `/etc/passwd`: services and
/// autologin sessions (a kiosk) may run without `USER`, and the journal and
/// the supervised-mode witness check still need to name the operator.
#[cfg(not(windows))]
fn account_of_this_process() -> Option<String> {
    use std::os::unix::fs::MetadataExt as _;
    let uid = std::fs::metadata("/proc/self").ok()?.uid().to_string();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        (fields.nth(1)? == uid && !name.is_empty()).then(|| name.to_owned())
    })
}

fn non_empty_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}
