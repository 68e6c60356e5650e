//! Writing files without following a link someone planted: a new temporary
//! file beside the target (created, never opened if it exists), written
//! for its owner only, flushed, then renamed over the target. The rename
//! replaces a symbolic link at the target's name rather than writing
//! through it, and a crash leaves the old file or the new one, never half.

use std::fs::{File, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

/// Owner read and write only: the journal, the configuration, counts.
pub const OWNER_ONLY: u32 = 0o600;

/// How many temporary names [`replace_file`] tries before it gives up.
const TEMPORARY_TRIES: u32 = 16;

/// Replaces the file at `path` with `bytes`, created with `mode` on Unix
/// (see the module). The directory must exist.
pub fn replace_file(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    let (temporary, mut file) = create_temporary(path, mode)?;
    let written = file
        .write_all(bytes)
        .and_then(|()| file.sync_all())
        .and_then(|()| {
            drop(file);
            std::fs::rename(&temporary, path)
        });
    if let Err(error) = written {
        let _ = std::fs::remove_file(&temporary);
        return Err(error);
    }
    sync_dir(dir.unwrap_or(Path::new(".")));
    Ok(())
}

/// Creates `path` as a new file for writing with `mode` on Unix; fails
/// with `AlreadyExists` when anything is at that name, a symbolic link
/// included (`O_CREAT|O_EXCL` never follows one).
pub fn create_new(path: &Path, mode: u32) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options
            .mode(mode)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC);
    }
    #[cfg(not(unix))]
    let _ = mode;
    options.open(path)
}

/// Opens (or creates, with `mode` on Unix) a file that is only ever
/// locked, never written: a lock beside a file that is replaced on every
/// write. A symbolic link at its name is neither followed nor created
/// through (`InvalidInput`), and nothing but a regular file is taken.
pub fn open_lock_file(path: &Path, mode: u32) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options
            .mode(mode)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC);
    }
    #[cfg(windows)]
    {
        use std::os::windows::fs::OpenOptionsExt as _;
        // FILE_FLAG_OPEN_REPARSE_POINT: the link itself, never its target.
        options.custom_flags(0x0020_0000);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let not_a_file = || {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{} is a symbolic link or not a regular file; it is not used",
                path.display()
            ),
        )
    };
    let opened = options.open(path);
    // O_NOFOLLOW's answer to a link at the name.
    #[cfg(unix)]
    let opened = opened.map_err(|error| {
        if error.raw_os_error() == Some(libc::ELOOP) {
            not_a_file()
        } else {
            error
        }
    });
    let file = opened?;
    let meta = file.metadata()?;
    if meta.file_type().is_symlink() || !meta.is_file() {
        return Err(not_a_file());
    }
    Ok(file)
}

/// A new temporary file beside `path`: `.<name>.<random>.tmp`.
fn create_temporary(path: &Path, mode: u32) -> io::Result<(PathBuf, File)> {
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut last = None;
    for _ in 0..TEMPORARY_TRIES {
        let temporary = path.with_file_name(format!(".{name}.{:016x}.tmp", fastrand::u64(..)));
        match create_new(&temporary, mode) {
            Ok(file) => return Ok((temporary, file)),
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => last = Some(error),
            Err(error) => return Err(error),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no free temporary file name")))
}

/// Makes a rename or a new entry in `dir` durable (Unix; Windows cannot
/// open a directory for flushing, and NTFS journals the entry itself).
pub fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_replaced_whole_and_no_temporary_is_left() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("sub").join("counts.json");
        assert!(
            replace_file(&path, b"one", OWNER_ONLY).is_err(),
            "no folder"
        );
        std::fs::create_dir(dir.path().join("sub")).expect("a folder");
        replace_file(&path, b"one", OWNER_ONLY).expect("written");
        replace_file(&path, b"two", OWNER_ONLY).expect("replaced");
        assert_eq!(std::fs::read(&path).expect("read"), b"two");
        let names: Vec<_> = std::fs::read_dir(path.parent().expect("dir"))
            .expect("listed")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("counts.json")]);
    }

    #[cfg(unix)]
    #[test]
    fn a_planted_link_is_replaced_not_followed_and_the_mode_is_the_owners() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("temp dir");
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").expect("written");
        let path = dir.path().join("station.toml");
        std::os::unix::fs::symlink(&victim, &path).expect("planted");
        replace_file(&path, b"mode = \"desk\"\n", OWNER_ONLY).expect("written");
        assert_eq!(std::fs::read_to_string(&victim).expect("read"), "precious");
        let meta = std::fs::symlink_metadata(&path).expect("meta");
        assert!(meta.is_file(), "the link itself was replaced");
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);

        let error = create_new(&path, OWNER_ONLY).expect_err("exists");
        assert_eq!(error.kind(), io::ErrorKind::AlreadyExists);
        let dangling = dir.path().join("dangling");
        std::os::unix::fs::symlink(dir.path().join("nowhere"), &dangling).expect("planted");
        assert!(create_new(&dangling, OWNER_ONLY).is_err());
        assert!(!dir.path().join("nowhere").exists());
    }

    #[cfg(unix)]
    #[test]
    fn a_lock_file_is_its_owners_and_never_a_link() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("temp dir");
        let lock = dir.path().join("counts.json.lock");
        drop(open_lock_file(&lock, OWNER_ONLY).expect("created"));
        let mode = std::fs::metadata(&lock).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(open_lock_file(&lock, OWNER_ONLY).is_ok(), "opened again");

        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").expect("written");
        let planted = dir.path().join("planted.lock");
        std::os::unix::fs::symlink(&victim, &planted).expect("planted");
        let error = open_lock_file(&planted, OWNER_ONLY).expect_err("a link");
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput, "{error}");
        let dangling = dir.path().join("dangling.lock");
        std::os::unix::fs::symlink(dir.path().join("nowhere"), &dangling).expect("planted");
        assert!(open_lock_file(&dangling, OWNER_ONLY).is_err());
        assert!(!dir.path().join("nowhere").exists(), "nothing created");
        assert_eq!(std::fs::read_to_string(&victim).expect("read"), "precious");
        let folder = dir.path().join("folder.lock");
        std::fs::create_dir(&folder).expect("a folder");
        assert!(open_lock_file(&folder, OWNER_ONLY).is_err());
    }
}
