//! Who acts and where, as the journal names them: the station's name and the
//! OS account running this process (from the OS, never the environment). They describe the process, not the
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
/// The OS account this process runs as: on Windows the process token's user
/// as `DOMAIN\user`, elsewhere the real uid's account from the system's user
/// database. Never an environment variable: `USER`, `LOGNAME`, `USERNAME`
/// and `USERDOMAIN` are set by whoever starts the process, and the journal
/// and the four-eyes check must name who really acts.
#[cfg(windows)]
pub(super) fn os_user_name() -> Option<String> {
    windows_account::token_user()
}

#[cfg(not(windows))]
pub(super) fn os_user_name() -> Option<String> {
    // SAFETY: getuid cannot fail and touches no memory of ours.
    let uid = unsafe { libc::getuid() };
    account_of_uid(uid).or_else(|| Some(format!("uid {uid}")))
}

/// The name of `uid` in the user database (`/etc/passwd`, LDAP or SSSD
/// through NSS), read with the thread-safe `getpwuid_r`.
#[cfg(not(windows))]
fn account_of_uid(uid: libc::uid_t) -> Option<String> {
    let mut size = 1024usize;
    loop {
        let mut buffer = vec![0 as libc::c_char; size];
        // SAFETY: an all-zero passwd is a valid value of this plain C struct.
        let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: every pointer is to live memory of the given size; the
        // strings it fills in point into `buffer`, read before it is dropped.
        let code =
            unsafe { libc::getpwuid_r(uid, &mut entry, buffer.as_mut_ptr(), size, &mut found) };
        if code == libc::ERANGE && size < 1 << 20 {
            size *= 4;
            continue;
        }
        if code != 0 || found.is_null() || entry.pw_name.is_null() {
            return None;
        }
        // SAFETY: getpwuid_r succeeded: pw_name is a NUL-terminated string in `buffer`.
        let name = unsafe { std::ffi::CStr::from_ptr(entry.pw_name) };
        return name
            .to_str()
            .ok()
            .filter(|name| !name.is_empty())
            .map(str::to_owned);
    }
}

#[cfg(windows)]
mod windows_account {
    use windows_sys::Win32::Foundation::{CloseHandle, HANDLE};
    use windows_sys::Win32::Security::{
        GetTokenInformation, LookupAccountSidW, SID_NAME_USE, TOKEN_QUERY, TOKEN_USER, TokenUser,
    };
    use windows_sys::Win32::System::Threading::{GetCurrentProcess, OpenProcessToken};

    /// The process token's user, `DOMAIN\user`.
    pub(super) fn token_user() -> Option<String> {
        let mut token: HANDLE = std::ptr::null_mut();
        // SAFETY: the pseudo handle of this process needs no closing; the
        // token handle is written to a local and closed below.
        if unsafe { OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &mut token) } == 0 {
            return None;
        }
        let name = user_of(token);
        // SAFETY: `token` was opened above and is closed once.
        unsafe { CloseHandle(token) };
        name
    }

    fn user_of(token: HANDLE) -> Option<String> {
        let mut needed = 0u32;
        // SAFETY: a size query: no buffer is written.
        unsafe { GetTokenInformation(token, TokenUser, std::ptr::null_mut(), 0, &mut needed) };
        if needed == 0 {
            return None;
        }
        // u64s: TOKEN_USER holds pointers and must be aligned for them.
        let mut buffer = vec![0u64; (needed as usize).div_ceil(8)];
        // SAFETY: the buffer holds at least `needed` bytes.
        let ok = unsafe {
            GetTokenInformation(
                token,
                TokenUser,
                buffer.as_mut_ptr().cast(),
                needed,
                &mut needed,
            )
        };
        if ok == 0 {
            return None;
        }
        // SAFETY: GetTokenInformation wrote a TOKEN_USER at the start of the buffer.
        let sid = unsafe { (*buffer.as_ptr().cast::<TOKEN_USER>()).User.Sid };
        let mut name = vec![0u16; 256];
        let mut domain = vec![0u16; 256];
        loop {
            let mut name_len = name.len() as u32;
            let mut domain_len = domain.len() as u32;
            let mut used: SID_NAME_USE = 0;
            // SAFETY: the SID lives in `buffer`; both buffers hold their given lengths.
            let ok = unsafe {
                LookupAccountSidW(
                    std::ptr::null(),
                    sid,
                    name.as_mut_ptr(),
                    &mut name_len,
                    domain.as_mut_ptr(),
                    &mut domain_len,
                    &mut used,
                )
            };
            if ok != 0 {
                let name = String::from_utf16(&name[..name_len as usize]).ok()?;
                let domain = String::from_utf16(&domain[..domain_len as usize]).ok()?;
                if name.is_empty() {
                    return None;
                }
                return Some(if domain.is_empty() {
                    name
                } else {
                    format!("{domain}\\{name}")
                });
            }
            // Too small: the lengths now say how much is needed.
            let bigger = |buffer: &Vec<u16>, wanted: u32| (wanted as usize) > buffer.len();
            if !(bigger(&name, name_len) || bigger(&domain, domain_len)) || name_len > 65_536 {
                return None;
            }
            name.resize(name_len as usize, 0);
            domain.resize(domain_len as usize, 0);
        }
    }
}
