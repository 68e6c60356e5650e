#!/usr/bin/env bash
# Checks the Linux packages end to end, as an administrator would meet them:
# builds the .deb, lints it, installs it, runs the installed binary, validates
# the installed desktop entries, AppStream data and kiosk unit, removes it;
# then builds the .rpm and checks its metadata and file list.
# Needs root (or sudo) for dpkg, and the tools scripts/deps.sh test installs.
# Removes an enroll-station package that was installed before it ran.
# scripts/test.sh runs it; alone: packaging/check-linux.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# All in braces with the exit: bash reads the whole script before the long
# builds start, so editing it meanwhile does not change the run.
{
  sudo=()
  if [[ "$(id -u)" != 0 ]]; then sudo=(sudo); fi

  fail() {
    echo "check-linux: FAIL: $*" >&2
    exit 1
  }
  step() { echo "check-linux: $*" >&2; }

  # A missing tool fails the check: skipping would let a broken package pass CI.
  for tool in lintian dpkg dpkg-deb apt-get rpm desktop-file-validate appstreamcli systemd-analyze jq git; do
    command -v "$tool" >/dev/null || fail "$tool is missing (scripts/deps.sh test installs it)"
  done

  package=enroll-station
  installed_binary=/usr/bin/enroll-station
  out=target/packages
  version=$(cargo pkgid | sed 's/.*[#@]//')
  [[ -n "$version" ]] || fail "cannot read the version from cargo pkgid"
  # What build.rs stamps into the binary; outside a git checkout, what the packager set.
  if commit=$(git rev-parse --short=12 HEAD 2>/dev/null); then :; else commit=${ENROLL_STATION_GIT_COMMIT:-unknown}; fi

  purge() { "${sudo[@]}" dpkg --purge "$package" >/dev/null 2>&1 || true; }

  # ---- .deb ------------------------------------------------------------------
  step "building the .deb"
  rm -f "$out/${package}"_*.deb
  packaging/build.sh deb
  debs=("$out/${package}_${version}"-*.deb)
  [[ -f "${debs[0]}" ]] || fail "packaging/build.sh deb wrote no $out/${package}_${version}-*.deb"
  deb=${debs[0]}
  step "built $deb"

  control=$(dpkg-deb --field "$deb")
  grep -Eq '^Depends:.*\blibpcsclite1\b' <<<"$control" || fail "Depends lacks libpcsclite1: $(grep '^Depends' <<<"$control")"
  grep -Eq '^Recommends:.*\bpcscd\b' <<<"$control" || fail "Recommends lacks pcscd"
  # The kiosk's cage session draws through Wayland, which the window dlopens.
  grep -Eq '^Depends:.*\blibwayland-egl1\b' <<<"$control" || fail "Depends lacks libwayland-egl1 (the kiosk's cage session)"
  grep -q "^Version: ${version}-" <<<"$control" || fail "the .deb's version is not $version"

  step "lintian"
  # Errors fail; warnings are printed for whoever reads the log (packaging/README.md lists the known ones).
  if ! lintian_output=$(lintian --fail-on error "$deb" 2>&1); then
    echo "$lintian_output" >&2
    fail "lintian reports errors in $deb"
  fi
  [[ -z "$lintian_output" ]] || echo "$lintian_output" >&2

  step "installing $deb"
  purge
  trap purge EXIT
  if ! "${sudo[@]}" dpkg -i "$deb"; then
    # dpkg leaves the package unconfigured when a dependency is missing; apt fetches it.
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -f -y --no-install-recommends ||
      fail "apt-get install -f could not complete the installation of $deb"
  fi
  dpkg-query -W -f='${Status}' "$package" | grep -q "install ok installed" || fail "$package is not installed after dpkg -i"

  version_line=$("$installed_binary" --version) || fail "$installed_binary --version failed"
  [[ "$version_line" == "enroll-station $version (commit $commit"* ]] ||
    fail "$installed_binary --version says '$version_line', expected version $version and commit $commit"
  step "$version_line"

  # Any configuration of the developer's own would change what readers sees.
  no_config=$(mktemp -d)
  readers=$(env -u ENROLL_STATION_CONFIG -u ENROLL_STATION_SERVER XDG_CONFIG_HOME="$no_config" \
    "$installed_binary" readers --json) || fail "$installed_binary readers --json failed (is pcscd running?)"
  rmdir "$no_config"
  jq -e 'type == "array"' >/dev/null <<<"$readers" || fail "readers --json did not print a JSON array: $readers"
  step "readers --json: $(jq length <<<"$readers") reader(s)"

  for file in \
    /usr/share/applications/enroll-station.desktop \
    /usr/share/metainfo/com.example.EnrollStation.metainfo.xml \
    /usr/share/icons/hicolor/scalable/apps/enroll-station.svg \
    /usr/share/icons/hicolor/48x48/apps/enroll-station.png \
    /usr/share/man/man1/enroll-station.1.gz \
    /usr/share/man/man1/enroll-station-bind.1.gz \
    /usr/share/bash-completion/completions/enroll-station \
    /usr/share/zsh/vendor-completions/_enroll-station \
    /usr/share/fish/vendor_completions.d/enroll-station.fish \
    /usr/share/doc/enroll-station/copyright \
    /usr/share/doc/enroll-station/examples/enroll-station-kiosk.desktop \
    /usr/share/doc/enroll-station/examples/enroll-station-kiosk.service \
    /usr/share/doc/enroll-station/examples/enroll-station-cage.service \
    /usr/share/doc/enroll-station/examples/enroll-station-cage.pam \
    /usr/share/doc/enroll-station/examples/enroll-station-cage.desktop \
    /usr/share/doc/enroll-station/examples/enroll-station-kiosk.sysusers; do
    [[ -f "$file" ]] || fail "the installed package lacks $file"
  done

  step "desktop-file-validate, appstreamcli validate, systemd-analyze verify"
  desktop-file-validate /usr/share/applications/enroll-station.desktop || fail "the desktop entry is invalid"
  desktop-file-validate /usr/share/doc/enroll-station/examples/enroll-station-kiosk.desktop ||
    fail "the kiosk autostart entry is invalid"
  appstreamcli validate --no-net /usr/share/metainfo/com.example.EnrollStation.metainfo.xml ||
    fail "the AppStream metainfo is invalid"
  grep -qx "Exec=$installed_binary" /usr/share/applications/enroll-station.desktop ||
    fail "the desktop entry does not run $installed_binary"
  # --man=no: man-db may be absent; the unit's syntax and ExecStart are what count.
  systemd-analyze verify --man=no /usr/share/doc/enroll-station/examples/enroll-station-kiosk.service ||
    fail "the kiosk's systemd unit does not verify"
  desktop-file-validate /usr/share/doc/enroll-station/examples/enroll-station-cage.desktop ||
    fail "the cage session's desktop entry is invalid"
  bash -c 'source /usr/share/bash-completion/completions/enroll-station && complete -p enroll-station' >/dev/null ||
    fail "the bash completion does not register for enroll-station"

  step "removing $package"
  "${sudo[@]}" dpkg -r "$package"
  [[ ! -e "$installed_binary" ]] || fail "$installed_binary is still there after dpkg -r"
  # dpkg -r forgets a package without conffiles entirely; purge only what it kept.
  if dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q config-files; then
    "${sudo[@]}" dpkg --purge "$package"
  fi
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [[ -z "$status" || "$status" == *not-installed ]] || fail "dpkg still has $package after removal: $status"
  trap - EXIT

  # ---- .rpm ------------------------------------------------------------------
  step "building the .rpm"
  rm -f "$out/${package}"-*.rpm
  packaging/build.sh rpm
  rpms=("$out/${package}-${version}"-*.rpm)
  [[ -f "${rpms[0]}" ]] || fail "packaging/build.sh rpm wrote no $out/${package}-${version}-*.rpm"
  rpm_file=${rpms[0]}
  step "built $rpm_file"

  info=$(rpm -qip "$rpm_file" 2>/dev/null) || fail "rpm -qip cannot read $rpm_file"
  echo "$info" >&2
  grep -Eq "^Name +: $package\$" <<<"$info" || fail "the rpm's Name is not $package"
  grep -Eq "^Version +: $version\$" <<<"$info" || fail "the rpm's Version is not $version"
  grep -Eq '^License +: MIT OR Apache-2.0$' <<<"$info" || fail "the rpm's License is not 'MIT OR Apache-2.0'"
  requires=$(rpm -qp --requires "$rpm_file" 2>/dev/null)
  grep -qx 'pcsc-lite-libs' <<<"$requires" || fail "the rpm does not require pcsc-lite-libs: $requires"
  grep -qxF 'libwayland-egl.so.1()(64bit)' <<<"$requires" || fail "the rpm does not require libwayland-egl.so.1: $requires"
  rpm -qp --recommends "$rpm_file" 2>/dev/null | grep -qx 'pcsc-lite' || fail "the rpm does not recommend pcsc-lite"

  files=$(rpm -qlp "$rpm_file" 2>/dev/null)
  for file in \
    /usr/bin/enroll-station \
    /usr/share/applications/enroll-station.desktop \
    /usr/share/metainfo/com.example.EnrollStation.metainfo.xml \
    /usr/share/icons/hicolor/scalable/apps/enroll-station.svg \
    /usr/share/icons/hicolor/16x16/apps/enroll-station.png \
    /usr/share/icons/hicolor/256x256/apps/enroll-station.png \
    /usr/share/man/man1/enroll-station.1.gz \
    /usr/share/man/man1/enroll-station-bind.1.gz \
    /usr/share/bash-completion/completions/enroll-station \
    /usr/share/zsh/site-functions/_enroll-station \
    /usr/share/fish/vendor_completions.d/enroll-station.fish \
    /usr/share/licenses/enroll-station/copyright \
    /usr/share/doc/enroll-station/examples/enroll-station-kiosk.desktop \
    /usr/share/doc/enroll-station/examples/enroll-station-kiosk.service \
    /usr/share/doc/enroll-station/examples/enroll-station-cage.service; do
    grep -qx "$file" <<<"$files" || fail "the rpm lacks $file"
  done

  echo "check-linux: ok: $deb (lintian: no errors) and $rpm_file"
  exit 0
}
