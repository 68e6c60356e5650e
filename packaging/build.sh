#!/usr/bin/env bash
# Builds an installable package of enroll-station into target/packages/.
#   packaging/build.sh deb   Debian/Ubuntu: target/packages/enroll-station_<version>-1_<arch>.deb
#   packaging/build.sh rpm   Fedora/RHEL:   target/packages/enroll-station-<version>-1.<arch>.rpm
#   packaging/build.sh msi   Windows:       target/packages/enroll-station-<version>-x64.msi (packaging/msi/build.sh;
#                                           add --no-build to pack the .exe already built, e.g. after signing it)
# The package lists live in Cargo.toml ([package.metadata.deb] and
# [package.metadata.generate-rpm]); packaging/README.md says what goes where.
# Installs the pinned cargo-deb / cargo-generate-rpm when missing (once, a few
# minutes each). Set ENROLL_STATION_GIT_COMMIT when building from a tarball.
set -euo pipefail
cd "$(dirname "$0")/.."

# Pinned so that a package built today and one built next year are laid out
# alike; raise them deliberately, then rerun packaging/check-linux.sh.
CARGO_DEB_VERSION=3.8.0
CARGO_GENERATE_RPM_VERSION=0.21.1

# cargo-deb and cargo-generate-rpm read the generated files from these paths
# (Cargo.toml names them), whatever CARGO_TARGET_DIR says.
assets=target/packaging-assets
out=target/packages
binary="${CARGO_TARGET_DIR:-target}/release/enroll-station"
# File times and build dates in both formats from the commit, not the clock:
# building the same commit twice gives the same package.
if [[ -z "${SOURCE_DATE_EPOCH:-}" ]]; then
  if epoch=$(git log -1 --format=%ct 2>/dev/null); then export SOURCE_DATE_EPOCH=$epoch; else unset SOURCE_DATE_EPOCH; fi
fi

usage() {
  echo "usage: $0 deb|rpm|msi" >&2
  exit 2
}

die() {
  echo "packaging/build.sh: $*" >&2
  exit 1
}

# cargo_tool SUBCOMMAND CRATE VERSION: installs CRATE@VERSION unless that
# version answers as `cargo SUBCOMMAND`.
cargo_tool() {
  local installed
  installed=$(cargo "$1" --version 2>/dev/null || true)
  if [[ "$installed" == *" $3"* ]]; then return; fi
  echo "Installing $2 $3 (takes minutes, once per machine)" >&2
  cargo install --locked "$2@$3"
}

build_binary() {
  cargo build --release --locked
  [[ -x "$binary" ]] || die "cargo build did not leave $binary"
}

# The version the binary reports is the one packaged: "enroll-station 0.1.0 (commit 1a2b3c4d5e6f)".
binary_version() {
  "$binary" --version | awk '{ print $2 }'
}

# Man pages, completions and the desktop entry, made by the binary being
# packaged so they describe exactly its options.
generate_assets() {
  rm -rf "$assets"
  mkdir -p "$assets/man" "$assets/completions"
  sed 's|@BINDIR@|/usr/bin|g' assets/enroll-station.desktop.in >"$assets/enroll-station.desktop"
  "$binary" manpage --dir "$assets/man"
  # -n: no name or time stamp inside, so equal pages give equal packages.
  gzip -9n "$assets"/man/*.1
  "$binary" completions bash >"$assets/completions/enroll-station.bash"
  "$binary" completions zsh >"$assets/completions/_enroll-station"
  "$binary" completions fish >"$assets/completions/enroll-station.fish"

  local version
  version=$(binary_version)
  # Software centres show the newest <release>: a forgotten entry would make
  # every package after it claim an old version.
  grep -q "<release version=\"$version\"" assets/com.example.EnrollStation.metainfo.xml ||
    die "assets/com.example.EnrollStation.metainfo.xml has no <release version=\"$version\">: add one"
}

# Debian packages must carry a changelog; the project keeps its history in
# git, so the entry is written from the version and commit being packaged.
write_debian_changelog() {
  local version commit maintainer date
  version=$(binary_version)
  commit=$("$binary" --version | sed -n 's/.*(commit \(.*\)).*/\1/p')
  maintainer=$(sed -n 's/^maintainer = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
  [[ -n "$maintainer" ]] || die "no maintainer in [package.metadata.deb] of Cargo.toml"
  # The commit's date rather than now, so that rebuilding the same commit gives the same package.
  date=$(git log -1 --format=%aD 2>/dev/null || date -R)
  {
    echo "enroll-station ($version-1) unstable; urgency=medium"
    echo
    echo "  * Package of enroll-station $version (commit ${commit:-unknown})."
    echo
    echo " -- $maintainer  $date"
  } >"$assets/changelog" # cargo-deb installs it gzipped as changelog.Debian.gz
}

build_deb() {
  cargo_tool deb cargo-deb "$CARGO_DEB_VERSION"
  build_binary
  generate_assets
  write_debian_changelog
  mkdir -p "$out"
  # --no-build: the binary above is the one the man pages were made from.
  cargo deb --no-build --output "$out/"
}

build_rpm() {
  cargo_tool generate-rpm cargo-generate-rpm "$CARGO_GENERATE_RPM_VERSION"
  build_binary
  generate_assets
  # cargo-deb strips its copy; cargo-generate-rpm packages what it is given.
  strip --strip-all -o "$assets/enroll-station" "$binary"
  mkdir -p "$out"
  cargo generate-rpm --output "$out/"
}

# Other formats (macOS, ...) add their branch here.
# In braces with the exit, so bash has read all of it before a long build
# starts: editing this file while it runs must not change what it does.
{
  case "${1:-}" in
    deb) build_deb ;;
    rpm) build_rpm ;;
    msi) exec packaging/msi/build.sh "${@:2}" ;;
    *) usage ;;
  esac
  exit
}
