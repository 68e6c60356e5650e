//! Reading a policy file only when nobody but its owner (root, for the
//! machine policy) can change it or its directory: a policy anyone can edit
//! is no policy.

use std::path::Path;

use super::{Owner, PolicyError};

/// Reads a policy file after checking that only its owner (of the kind
/// `owner` asks for) can change it or its directory. `None`: no such file.
#[cfg(unix)]
pub(super) fn read_protected(path: &Path, owner: Owner) -> Result<Option<String>, PolicyError> {
    use std::io::Read as _;
    use std::os::unix::fs::{MetadataExt as _, OpenOptionsExt as _};
    let unprotected = |why: String| PolicyError::Unprotected {
        path: path.display().to_string(),
        why,
    };
    let read_error = |source| PolicyError::Read {
        path: path.to_owned(),
        source,
    };
    // Not through a symbolic link: the link's target could be anyone's file.
    let mut file = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
    {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) if error.raw_os_error() == Some(libc::ELOOP) => {
            return Err(unprotected("it is a symbolic link".to_owned()));
        }
        Err(error) => return Err(read_error(error)),
    };
    // The open file's own metadata: what is read is what was checked.
    let meta = file.metadata().map_err(read_error)?;
    if !meta.is_file() {
        return Err(unprotected("it is not a regular file".to_owned()));
    }
    // SAFETY: getuid has no preconditions and cannot fail.
    let me = unsafe { libc::getuid() };
    if let Some(why) = protection_problem(meta.uid(), meta.mode(), false, owner, me) {
        return Err(unprotected(why));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let dir_meta = std::fs::metadata(dir).map_err(read_error)?;
        if let Some(why) = protection_problem(dir_meta.uid(), dir_meta.mode(), true, owner, me) {
            return Err(PolicyError::Unprotected {
                path: dir.display().to_string(),
                why: format!("its directory {}: {why}", dir.display()),
            });
        }
    }
    let mut text = String::new();
    file.read_to_string(&mut text).map_err(read_error)?;
    Ok(Some(text))
}

/// Reads a policy file. Windows: the file's ACL is not checked (only the
/// extra policy, which can only restrict its own user, is ever a file there).
#[cfg(not(unix))]
pub(super) fn read_protected(path: &Path, _owner: Owner) -> Result<Option<String>, PolicyError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(PolicyError::Read {
            path: path.to_owned(),
            source,
        }),
    }
}

/// What is wrong with a file (or directory) owned by `uid` with `mode`,
/// for a policy whose owner must be `owner`, read by the account `me`.
#[cfg_attr(not(unix), allow(dead_code))]
fn protection_problem(
    uid: u32,
    mode: u32,
    directory: bool,
    owner: Owner,
    me: u32,
) -> Option<String> {
    let owner_ok = match owner {
        Owner::Root => uid == 0,
        Owner::RootOrSelf => uid == 0 || uid == me,
    };
    if !owner_ok {
        let expected = match owner {
            Owner::Root => "root (uid 0)".to_owned(),
            Owner::RootOrSelf => format!("root or this account (uid {me})"),
        };
        return Some(format!("it is owned by uid {uid}, not by {expected}"));
    }
    // A directory with the sticky bit (/tmp) lets nobody else replace what is in it.
    let sticky = directory && mode & 0o1000 != 0;
    if mode & 0o022 != 0 && !sticky {
        let who = if mode & 0o002 != 0 {
            "anyone"
        } else {
            "its group"
        };
        return Some(format!(
            "{who} can write to it (mode {:04o})",
            mode & 0o7777
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn only_root_may_own_the_machine_policy_and_nobody_else_may_write_it() {
        assert_eq!(
            protection_problem(0, 0o100644, false, Owner::Root, 1000),
            None
        );
        let why = protection_problem(1000, 0o100644, false, Owner::Root, 1000).expect("not root");
        assert!(why.contains("owned by uid 1000, not by root"), "{why}");
        let why = protection_problem(0, 0o100666, false, Owner::Root, 0).expect("world");
        assert!(why.contains("anyone can write to it (mode 0666)"), "{why}");
        let why = protection_problem(0, 0o100664, false, Owner::Root, 0).expect("group");
        assert!(why.contains("its group"), "{why}");
        assert_eq!(
            protection_problem(1000, 0o100600, false, Owner::RootOrSelf, 1000),
            None
        );
        assert!(protection_problem(1001, 0o100600, false, Owner::RootOrSelf, 1000).is_some());
        assert_eq!(
            protection_problem(0, 0o41777, true, Owner::RootOrSelf, 1000),
            None,
            "/tmp"
        );
        assert!(protection_problem(0, 0o40777, true, Owner::Root, 0).is_some());
    }
    #[cfg(unix)]
    #[test]
    fn a_writable_or_linked_policy_file_is_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("a directory");
        let path = dir.path().join("policy.toml");
        std::fs::write(&path, "mode = \"kiosk\"\n").expect("written");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        assert!(
            read_protected(&path, Owner::RootOrSelf)
                .expect("ok")
                .is_some()
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).expect("chmod");
        let error = read_protected(&path, Owner::RootOrSelf).expect_err("world-writable");
        assert!(error.to_string().contains("anyone can write"), "{error}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let link = dir.path().join("link.toml");
        std::os::unix::fs::symlink(&path, &link).expect("a link");
        let error = read_protected(&link, Owner::RootOrSelf).expect_err("a link");
        assert!(error.to_string().contains("symbolic link"), "{error}");
        assert!(
            read_protected(&dir.path().join("none.toml"), Owner::Root)
                .expect("absent")
                .is_none()
        );
    }
}
