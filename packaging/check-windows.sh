#!/usr/bin/env bash
# Smoke test of the Windows build, on Linux: builds the MSI, checks its tables
# and contents with msitools, then, in a throwaway Wine prefix on its own
# Xvfb display, installs it with msiexec as Intune or SCCM would, runs the
# installed enroll-station.exe (`--version`; `requests` against the CM
# emulator on loopback, whose answer must match the Linux build's; the
# `--demo` window, left in target/screenshots/windows-demo.png), installs a
# rebuild over it and uninstalls it.
#
# Run after `cargo build` (it starts target/debug/enroll-station as the
# emulator). Exits non-zero with a message on the first failure. A missing
# tool skips the test, except with ENROLL_STATION_REQUIRE_SERVICES=1 (CI, via
# scripts/test.sh), where it fails.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "check-windows: FAIL: $*" >&2; exit 1; }
missing() {
  if [[ "${ENROLL_STATION_REQUIRE_SERVICES:-}" == 1 ]]; then
    fail "$1 is missing (scripts/deps.sh test installs it)"
  fi
  echo "check-windows: skipped: $1 is missing (scripts/deps.sh test installs it)" >&2
  exit 0
}

wine=$(command -v wine64 || command -v wine || true)
[[ -n "$wine" ]] || missing "wine (Debian: wine, wine64)"
wineserver=$(command -v wineserver || command -v wineserver64 || true)
for tool in msiinfo msiextract wixl x86_64-w64-mingw32-gcc Xvfb xwininfo import; do
  command -v "$tool" >/dev/null || missing "$tool"
done
target_dir=${CARGO_TARGET_DIR:-target}
linux_exe="$target_dir/debug/enroll-station"
[[ -x "$linux_exe" ]] || fail "$linux_exe is missing: run cargo build first (it serves as the CM emulator)"

work=$(mktemp -d)
emulator_pid=
window_pid=
xvfb_pid=
cleanup() {
  for pid in "$emulator_pid" "$window_pid"; do
    if [[ -n "$pid" ]]; then kill "$pid" 2>/dev/null || true; fi
  done
  # The prefix's own wineserver: it lingers for seconds after the last program.
  if [[ -d "$work/prefix" && -n "$wineserver" ]]; then WINEPREFIX="$work/prefix" "$wineserver" -k 2>/dev/null || true; fi
  if [[ -n "$xvfb_pid" ]]; then kill "$xvfb_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

started=$SECONDS
msi=$(packaging/build.sh msi | tail -n 1) || fail "packaging/build.sh msi failed (its messages are above)"
[[ -f "$msi" ]] || fail "packaging/build.sh msi made no MSI (it said: $msi)"
echo "check-windows: built $msi in $((SECONDS - started)) s"
exe="$target_dir/x86_64-pc-windows-gnu/release/enroll-station.exe"
version=$(awk -F'"' '/^\[/ { in_package = ($0 == "[package]") } in_package && /^version *=/ { print $2; exit }' Cargo.toml)
msi_version=${version%%[-+]*}

# --- The MSI's tables -------------------------------------------------------
properties=$(msiinfo export "$msi" Property) || fail "msiinfo cannot read the Property table of $msi"
expect_property() {
  grep -qxF "$1"$'\t'"$2" <<<"${properties//$'\r'/}" || fail "the MSI's Property table has no $1 = $2"
}
expect_property ProductName "Enroll Station"
expect_property ProductVersion "$msi_version"
expect_property Manufacturer "Enroll Station"
# The upgrade code must never change: a new one installs beside the old version.
expect_property UpgradeCode "{B5E45876-6982-4657-8069-F55E00F4E3DB}"
expect_property ALLUSERS 1
expect_property ARPPRODUCTICON EnrollStation.ico
tables=$(msiinfo tables "$msi")
for table in File Component Shortcut Upgrade Icon; do
  grep -qx "$table" <<<"$tables" || fail "the MSI has no $table table"
done
grep -q 'WIX_UPGRADE_DETECTED' <<<"$(msiinfo export "$msi" Upgrade)" || fail "the MSI does not replace older versions (no MajorUpgrade row)"
grep -q '^Template: x64;' <<<"$(msiinfo suminfo "$msi")" || fail "the MSI is not marked x64"
grep -qF 'ProgramMenuFolder' <<<"$(msiinfo export "$msi" Shortcut)" || fail "the MSI has no Start menu shortcut"

mkdir "$work/extract"
msiextract -C "$work/extract" "$msi" >/dev/null || fail "msiextract cannot unpack $msi"
installed=$(find "$work/extract" -type f -name enroll-station.exe -path '*Enroll Station*' | head -n 1)
[[ -n "$installed" ]] || fail "the MSI does not install Enroll Station/enroll-station.exe"
cmp -s "$installed" "$exe" || fail "the enroll-station.exe in the MSI is not the one just built"
echo "check-windows: MSI tables and contents are as expected"

# --- Under Wine: install, run, upgrade, uninstall --------------------------
export WINEPREFIX="$work/prefix" WINEDEBUG=-all WINEARCH=win64
# No Mono or Gecko installer prompts on the prefix's first start (nothing here
# needs them), and no menu entries for the installed shortcut on this machine.
export WINEDLLOVERRIDES="mscoree,mshtml=;winemenubuilder.exe=d"
export XDG_DATA_HOME="$work/xdg-data" XDG_CONFIG_HOME="$work/xdg-config"
# A display of its own, from the start: Wine's desktop takes its graphics
# driver from the first program of the prefix, and none would draw the window
# later. -displayfd lets Xvfb take a free display, not one another test uses.
unset WAYLAND_DISPLAY
Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$work/display" 2>"$work/xvfb.log" &
xvfb_pid=$!
display=
for _ in $(seq 100); do
  display=$(cat "$work/display")
  [[ -n "$display" ]] && break
  kill -0 "$xvfb_pid" 2>/dev/null || fail "Xvfb did not start: $(cat "$work/xvfb.log")"
  sleep 0.1
done
[[ -n "$display" ]] || fail "Xvfb did not say which display it took"
export DISPLAY=":$display"
started=$SECONDS
timeout 300 "$wine" wineboot --init >/dev/null 2>&1 || fail "wineboot could not create a Wine prefix"
echo "check-windows: Wine prefix ready in $((SECONDS - started)) s"

# Rust's std draws random numbers with ProcessPrng from bcryptprimitives.dll,
# which every Windows 10 and later has but Wine before 9 lacks (Debian 12 has
# Wine 8): the .exe would not even start. A stand-in for the test prefix only,
# over RtlGenRandom; the MSI and the .exe are untouched.
system32="$WINEPREFIX/drive_c/windows/system32"
if [[ ! -e "$system32/bcryptprimitives.dll" ]]; then
  cat >"$work/bcryptprimitives.c" <<'C'
#include <windows.h>
#include <ntsecapi.h>
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
  while (len > 0) {
    ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
    if (!RtlGenRandom(data, chunk)) return FALSE;
    data += chunk;
    len -= chunk;
  }
  return TRUE;
}
C
  x86_64-w64-mingw32-gcc -shared -O2 -o "$system32/bcryptprimitives.dll" "$work/bcryptprimitives.c" -ladvapi32 \
    || fail "could not build the bcryptprimitives.dll stand-in for Wine"
  echo "check-windows: this Wine has no bcryptprimitives.dll; using a stand-in in the test prefix"
fi

# msiexec as Intune or SCCM runs it; the log is kept for the failure message.
wine_msiexec() { # ACTION MSI LOG
  timeout 300 "$wine" msiexec "$1" "$(winepath_of "$2")" /qn /norestart /l*v "$(winepath_of "$3")" >/dev/null 2>&1 \
    || fail "msiexec $1 $(basename "$2") failed under Wine; the end of its log:
$(tail -n 20 "$3" | tr -d '\0')"
}
# Wine maps / to Z:, so Z:<path> names any file of this machine.
winepath_of() { local path; path=$(realpath -m "$1"); echo "Z:${path//\//\\}"; }
product_code() { msiinfo export "$1" Property | tr -d '\r' | sed -n 's/^ProductCode\t//p'; }
# The Apps & features entries (the uninstall keys) named Enroll Station.
arp_entries() {
  "$wine" reg query 'HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall' /s 2>/dev/null | tr -d '\r' |
    awk '/^HKEY_/ { key = $0 } /DisplayName +REG_SZ +Enroll Station$/ { sub(/.*\\/, "", key); print key }'
}

# Copied away: the rebuild below writes a new MSI under the same name.
cp "$msi" "$work/first.msi"
wine_msiexec /i "$work/first.msi" "$work/install.log"
program_dir="$WINEPREFIX/drive_c/Program Files/Enroll Station"
installed_exe="$program_dir/enroll-station.exe"
[[ -f "$installed_exe" ]] || fail "the MSI did not install C:\\Program Files\\Enroll Station\\enroll-station.exe"
cmp -s "$installed_exe" "$exe" || fail "the installed enroll-station.exe is not the one just built"
# Wine puts even a per-machine shortcut in the user's Start menu: look in both.
shortcut=$(find "$WINEPREFIX/drive_c" -name 'Enroll Station.lnk' -path '*Start Menu*' | head -n 1)
[[ -n "$shortcut" ]] || fail "the MSI made no Start menu shortcut"
[[ "$(arp_entries)" == "$(product_code "$work/first.msi")" ]] \
  || fail "Apps & features does not list exactly the installed Enroll Station: $(arp_entries)"
echo "check-windows: msiexec /i installed enroll-station.exe, its Start menu shortcut and its Apps & features entry"

# The output of a GUI-subsystem program, through a pipe: attach_parent_console
# in src/main.rs must keep such a handle, not swap in the console's.
version_output=$(timeout 60 "$wine" "$installed_exe" --version 2>"$work/version.err") \
  || fail "enroll-station.exe --version failed under Wine: $(cat "$work/version.err")"
version_output=${version_output//$'\r'/}
[[ "$version_output" == *"enroll-station $version"* ]] \
  || fail "enroll-station.exe --version printed \"$version_output\", not the version $version"
echo "check-windows: wine enroll-station.exe --version: $version_output"

"$linux_exe" emulator --listen 127.0.0.1:0 --requests 5 >"$work/emulator.out" 2>&1 &
emulator_pid=$!
url=
for _ in $(seq 100); do
  url=$(sed -n 's/^listening on //p' "$work/emulator.out")
  [[ -n "$url" ]] && break
  kill -0 "$emulator_pid" 2>/dev/null || fail "the emulator stopped: $(cat "$work/emulator.out")"
  sleep 0.1
done
[[ -n "$url" ]] || fail "the emulator did not say where it listens: $(cat "$work/emulator.out")"

# Settings from the caller's environment must not leak into either run.
unset ENROLL_STATION_CONFIG ENROLL_STATION_SERVER ENROLL_STATION_AUDIT_FILE
expected=$("$linux_exe" --server "$url" --auth none requests --json) || fail "the Linux build cannot list the emulator's requests"
listed=$(timeout 120 "$wine" "$installed_exe" --server "$url" --auth none requests --json 2>"$work/requests.err") \
  || fail "enroll-station.exe requests failed under Wine: $(cat "$work/requests.err")"
listed=${listed//$'\r'/}
count=$(grep -o '"uuid":' <<<"$listed" | wc -l)
((count == 5)) || fail "enroll-station.exe requests listed $count requests, not the emulator's 5: $listed"
[[ "$listed" == "$expected" ]] || fail "enroll-station.exe requests differs from the Linux build's:
windows: $listed
linux:   $expected"
echo "check-windows: wine enroll-station.exe requests --json listed the emulator's $count requests"

# The window: winit, glow over Wine's opengl32 and egui, as the Start menu
# shortcut opens it (--demo: no server or reader needed).
timeout 300 "$wine" "$installed_exe" --demo >"$work/window.log" 2>&1 &
window_pid=$!
started=$SECONDS
until xwininfo -root -tree 2>/dev/null | grep -q '"Enroll Station"'; do
  kill -0 "$window_pid" 2>/dev/null || fail "enroll-station.exe --demo ended without a window: $(cat "$work/window.log")"
  ((SECONDS - started < 120)) || fail "enroll-station.exe --demo opened no window in 120 s: $(cat "$work/window.log")"
  sleep 1
done
# Let egui draw its first frames before the picture.
sleep 5
mkdir -p "$target_dir/screenshots"
import -window root "$target_dir/screenshots/windows-demo.png" \
  || fail "could not take a screenshot of the window"
kill "$window_pid" 2>/dev/null || true
wait "$window_pid" 2>/dev/null || true
window_pid=
echo "check-windows: enroll-station.exe --demo opened its window in $((SECONDS - started)) s ($target_dir/screenshots/windows-demo.png)"

# A rebuild of the same version has a new ProductCode: it must replace the
# installed one, not sit beside it.
packaging/build.sh msi --no-build >/dev/null || fail "rebuilding the MSI failed"
cp "$msi" "$work/rebuild.msi"
[[ "$(product_code "$work/rebuild.msi")" != "$(product_code "$work/first.msi")" ]] \
  || fail "two builds of the MSI share a ProductCode"
wine_msiexec /i "$work/rebuild.msi" "$work/upgrade.log"
[[ "$(arp_entries)" == "$(product_code "$work/rebuild.msi")" ]] \
  || fail "after installing a rebuild, Apps & features lists $(arp_entries | tr '\n' ' ')instead of the rebuild alone"
[[ -f "$installed_exe" ]] || fail "the upgrade left no enroll-station.exe"
echo "check-windows: a rebuild of $version replaced the installed one"

wine_msiexec /x "$work/rebuild.msi" "$work/uninstall.log"
[[ ! -e "$installed_exe" ]] || fail "msiexec /x left enroll-station.exe behind"
[[ -z "$(find "$WINEPREFIX/drive_c" -name 'Enroll Station.lnk')" ]] || fail "msiexec /x left the Start menu shortcut behind"
[[ -z "$(arp_entries)" ]] || fail "msiexec /x left the Apps & features entry behind"
echo "check-windows: msiexec /x removed it all"
echo "check-windows: passed"
