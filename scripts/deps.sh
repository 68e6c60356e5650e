#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages enroll-station needs, only those missing.
#   scripts/deps.sh build     what building and running the window needs
#   scripts/deps.sh test      that, plus what the test suite needs (pcscd, vpcd, Xvfb, ...)
#   scripts/deps.sh --list test   print the package names only
set -euo pipefail

build_packages=(pkgconf libpcsclite-dev libgl1 libegl1 libxkbcommon-x11-0 libxcursor1 libxrandr2 libxi6)
test_packages=(pcscd vsmartcard-vpcd xvfb openbox wmctrl xdotool imagemagick libgl1-mesa-dri gcc-mingw-w64-x86-64 krb5-kdc krb5-admin-server krb5-user apache2-bin libapache2-mod-auth-gssapi openssl curl keyutils
  rsyslog rsyslog-openssl  # tests/audit_forwarding.rs (its own rsyslogd with imtcp+TLS; journald comes with systemd)
  slapd ldap-utils  # tests/directory.rs (tests/common/slapd.rs runs its own slapd; the package's service is not used)
  lintian rpm dpkg-dev desktop-file-utils appstream systemd jq  # packaging/check-linux.sh
  wine wine64 msitools wixl x11-utils  # packaging/msi/build.sh and packaging/check-windows.sh
  clang)  # packaging/macos/check.sh

list_only=false
if [[ "${1:-}" == "--list" ]]; then list_only=true; shift; fi
case "${1:-build}" in
  build) wanted=("${build_packages[@]}") ;;
  test) wanted=("${build_packages[@]}" "${test_packages[@]}") ;;
  *) echo "usage: $0 [--list] build|test" >&2; exit 2 ;;
esac

if $list_only; then echo "${wanted[@]}"; exit 0; fi

if ! command -v dpkg-query >/dev/null; then
  echo "Not a Debian/Ubuntu system: install these (or your distribution's equivalents) yourself: ${wanted[*]}" >&2
  exit 0
fi

missing=()
for package in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]} == 0)); then exit 0; fi

sudo=()
if [[ "$(id -u)" != 0 ]]; then sudo=(sudo); fi
echo "Installing: ${missing[*]}" >&2
"${sudo[@]}" apt-get update
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
