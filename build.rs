//! Stamps the binary with the git commit it was built from, for `--version`:
//! support must be able to tell which build a station runs.
//!
//! Plain `std` and the `git` command rather than vergen or built: those pull
//! in a git library (or a dozen crates) to read one line, and every build of
//! the station would compile them.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Used when the source is not a git checkout (a source tarball, a vendored
/// copy): packagers set it to the commit the tarball was made from.
const COMMIT_ENV: &str = "ENROLL_STATION_GIT_COMMIT";

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let commit = git_commit(&manifest_dir)
        .or_else(|| {
            std::env::var(COMMIT_ENV)
                .ok()
                .filter(|c| !c.trim().is_empty())
        })
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=ENROLL_STATION_COMMIT={}", commit.trim());
    println!("cargo:rerun-if-env-changed={COMMIT_ENV}");
}

/// The short commit, with `-dirty` when tracked files differ from it; `None`
/// when git is missing or the manifest is not the top of a git work tree (a
/// tarball unpacked inside some other repository must not take its commit).
fn git_commit(manifest_dir: &Path) -> Option<String> {
    let top = git(manifest_dir, &["rev-parse", "--show-toplevel"])?;
    if !same_dir(Path::new(&top), manifest_dir) {
        return None;
    }
    let hash = git(manifest_dir, &["rev-parse", "--short=12", "HEAD"])?;
    watch_git_state(manifest_dir);
    // Untracked files are left out, as `git describe --dirty` does: a stray
    // scratch file or log is not a change to what gets built.
    // No optional locks: a build must not hold the index lock that the
    // developer's own `git commit` in another terminal needs.
    let status = git(
        manifest_dir,
        &[
            "--no-optional-locks",
            "status",
            "--porcelain",
            "--untracked-files=no",
        ],
    );
    Some(match status {
        Some(changes) if !changes.is_empty() => format!("{hash}-dirty"),
        _ => hash,
    })
}

/// Reruns this script when the commit or the sources may have changed. HEAD
/// moves on checkout, the branch's ref on commit (packed-refs after `git gc`).
/// `.git/index` is not watched: git rewrites it on a mere `git status`, which
/// would rebuild the crate for nothing. Edits to the sources are what make a
/// tree dirty, and they rebuild the crate anyway, so the script reruns then.
fn watch_git_state(manifest_dir: &Path) {
    // `--git-path` finds the files in a worktree or with a .git file too.
    let git_path = |name: &str| {
        git(manifest_dir, &["rev-parse", "--git-path", name]).map(|path| manifest_dir.join(path))
    };
    for name in ["HEAD", "packed-refs"] {
        if let Some(path) = git_path(name) {
            watch_if_exists(&path);
        }
    }
    if let Some(branch) =
        git(manifest_dir, &["symbolic-ref", "-q", "HEAD"]).and_then(|b| git_path(&b))
    {
        watch_ref(&branch);
    }
    for source in ["src", "Cargo.toml", "Cargo.lock"] {
        watch_if_exists(&manifest_dir.join(source));
    }
}

/// A branch kept only in packed-refs (after `git gc`) gets its own file on
/// the next commit: until then, watch the directory it will appear in.
fn watch_ref(path: &Path) {
    for candidate in path.ancestors() {
        if candidate.exists() {
            println!("cargo:rerun-if-changed={}", candidate.display());
            return;
        }
        if candidate.file_name().is_some_and(|name| name == "refs") {
            return;
        }
    }
}

/// A missing path counts as changed on every build, which would recompile
/// the crate each time: only existing files are watched.
fn watch_if_exists(path: &Path) {
    if path.exists() {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    Some(String::from_utf8(output.stdout).ok()?.trim().to_owned())
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
