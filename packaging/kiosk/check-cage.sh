#!/usr/bin/env bash
# Checks the Cage kiosk session as far as a machine without a seat allows
# (a build machine, a container): the unit verifies, the session file and the
# sysusers file are valid, and the station starts inside Cage on wlroots'
# headless backend with the software renderer and draws its first frame,
# with a screenshot when grim is installed. It does not boot into tty1: that
# needs a real seat (see README.md, "Trying it").
#
#   packaging/kiosk/check-cage.sh [path/to/enroll-station]
#
# Needs cage (Debian's 0.1.4 also needs xwayland), libwayland-egl1 and
# systemd; grim for the screenshot. Cage refuses to run as root: as root the
# station runs as nobody (setpriv), so its binary must be readable by nobody.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
binary=${1:-$here/../../target/debug/enroll-station}
binary=$(realpath "$binary")
fail() { echo "check-cage: $*" >&2; exit 1; }
for tool in cage systemd-analyze systemd-sysusers desktop-file-validate; do
  command -v "$tool" >/dev/null || fail "$tool is missing"
done
[[ -x "$binary" ]] || fail "no station binary at $binary (cargo build first)"

systemd-analyze verify --man=no "$here/enroll-station-cage.service" ||
  fail "the unit does not verify"
desktop-file-validate "$here/enroll-station-cage.desktop" || fail "the session file is invalid"
systemd-sysusers --dry-run "$here/enroll-station-kiosk.sysusers" >/dev/null 2>&1 ||
  fail "the sysusers file is invalid"

scratch=$(mktemp -d /tmp/enroll-station-cage.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/run" "$scratch/home"
chmod 700 "$scratch/run"
log="$scratch/station.log"
: >"$log"
as_user=()
if [[ "$(id -u)" == 0 ]]; then
  chown -R 65534:65534 "$scratch"
  as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
fi
env_vars=(PATH=/usr/bin:/bin HOME="$scratch/home" XDG_RUNTIME_DIR="$scratch/run"
  XDG_CONFIG_HOME="$scratch/home/.config" XDG_DATA_HOME="$scratch/home/.local/share"
  XDG_STATE_HOME="$scratch/home/.local/state" WLR_BACKENDS=headless WLR_RENDERER=pixman
  WLR_LIBINPUT_NO_DEVICES=1 ENROLL_STATION_LOG=info)
# The kiosk on the demo backend: no server needed.
"${as_user[@]}" env -i "${env_vars[@]}" cage -- "$binary" --kiosk --demo >"$log" 2>&1 &
cage_pid=$!
for _ in $(seq 1 60); do
  grep -q "first frame" "$log" && break
  kill -0 "$cage_pid" 2>/dev/null || break
  sleep 0.5
done
if grep -q "first frame" "$log" && command -v grim >/dev/null; then
  # The window goes fullscreen a moment after its first frame. Under
  # Debian 12's cage 0.1.4 the headless output fails wlroots' output test
  # ("Basic output test failed for HEADLESS-1"): it neither sizes the window
  # nor sends frame callbacks, so the picture is the station's first frame at
  # its own size, not what a real seat shows.
  sleep 3
  socket=$(cd "$scratch/run" && ls wayland-* 2>/dev/null | grep -v lock | head -1 || true)
  if [[ -n "$socket" ]]; then
    "${as_user[@]}" env -i "${env_vars[@]}" WAYLAND_DISPLAY="$socket" grim "$scratch/run/kiosk.png" &&
      cp "$scratch/run/kiosk.png" "${TMPDIR:-/tmp}/enroll-station-cage.png" &&
      echo "check-cage: screenshot in ${TMPDIR:-/tmp}/enroll-station-cage.png"
  fi
fi
kill "$cage_pid" 2>/dev/null || true
wait "$cage_pid" 2>/dev/null || true
grep -q "first frame" "$log" || { cat "$log" >&2; fail "the station did not start inside cage"; }
echo "check-cage: the unit, the session file and the account verify; the kiosk starts in cage"
