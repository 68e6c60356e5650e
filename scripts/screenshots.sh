#!/usr/bin/env bash
# Regenerates the README's screenshots from the real window: the debug binary on
# its embedded demo backend (--demo), on its own Xvfb display, driven with xdotool
# by keys only, as a keyboard user would.
#   scripts/screenshots.sh [DIR]    writes the PNGs to DIR (default: assets/screenshots)
# The scenes, at 1280x800 unless named -800x600:
#   demo-window.png      the desk with a request selected and a demo card ready to bind
#   desk-search.png      a search, and a bind done with the keyboard (Ctrl+Enter)
#   desk-800x600.png     the same desk in a small window: the readers fold into a strip
#   supervised-confirm.png  the supervisor confirmation at a supervised station
#   settings.png         Settings, opened from the header
#   batch.png            a batch of three started and fed demo cards by keys only
#   kiosk.png            the kiosk's first screen (step 1 of 3)
#   kiosk-card.png       the kiosk's second step, after a request code was typed
# Needs Xvfb, xdotool, ImageMagick's import and openbox (a kiosk goes fullscreen only
# under a window manager). The user's configuration and journal are not touched: each
# scene runs with scratch XDG folders. PC/SC readers are hidden (--ignore-reader '*'),
# so the pictures show the demo reader alone, whatever this machine has plugged in.
set -euo pipefail
out=${1:+$(realpath -m -- "$1")} # relative to where it was started
cd "$(dirname "$0")/.."
out=${out:-assets/screenshots}
bin=target/debug/enroll-station
title="Enroll Station"
supervisor="Sam Supervisor"
password="demo-pass-42"

scripts/deps.sh build
missing=()
for tool in Xvfb:xvfb xdotool:xdotool import:imagemagick openbox:openbox; do
  command -v "${tool%%:*}" >/dev/null || missing+=("${tool#*:}")
done
if ((${#missing[@]})); then
  echo "Missing: ${missing[*]}. Install them (Debian/Ubuntu: apt-get install ${missing[*]} libgl1-mesa-dri), then run $0 again." >&2
  exit 1
fi

cargo build --locked
mkdir -p "$out"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/enroll-station-screenshots.XXXXXX")
xvfb_pid="" openbox_pid="" station_pid=""

stop() { # PID: SIGTERM, then SIGKILL after 5 s
  local pid=$1
  [[ -n "$pid" ]] && kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}
cleanup() {
  stop "$station_pid"
  stop "$openbox_pid"
  stop "$xvfb_pid" # SIGTERM: Xvfb removes its lock file and socket
  rm -rf "$scratch"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Xvfb on the first free display from :150 (another one may take a number first: try the next).
for n in $(seq 150 249); do
  [[ -e /tmp/.X$n-lock || -e /tmp/.X11-unix/X$n ]] && continue
  Xvfb ":$n" -screen 0 1280x800x24 -nolisten tcp >"$scratch/xvfb.log" 2>&1 &
  xvfb_pid=$!
  for _ in $(seq 100); do
    [[ -S /tmp/.X11-unix/X$n ]] && break
    kill -0 "$xvfb_pid" 2>/dev/null || break
    sleep 0.1
  done
  # The socket can appear before the server takes clients: ask it something.
  for _ in $(seq 50); do
    DISPLAY=":$n" xdotool getdisplaygeometry >/dev/null 2>&1 && break
    sleep 0.1
  done
  if [[ -S /tmp/.X11-unix/X$n ]] && kill -0 "$xvfb_pid" 2>/dev/null; then
    export DISPLAY=":$n"
    break
  fi
  stop "$xvfb_pid"
  xvfb_pid=""
done
[[ -n "$xvfb_pid" ]] || { echo "No free X display between :150 and :249 for Xvfb." >&2; exit 1; }
unset WAYLAND_DISPLAY
echo "Xvfb on $DISPLAY" >&2

log="" # the running station's log
fail() {
  echo "screenshots: $*" >&2
  [[ -n "$log" ]] && { echo "--- the station's log:" >&2; tail -n 30 "$log" >&2; }
  exit 1
}

# wait_until WHAT COMMAND...: runs COMMAND every 0.1 s until it succeeds (30 s at most).
wait_until() {
  local what=$1; shift
  for _ in $(seq 300); do
    "$@" && return 0
    [[ -z "$station_pid" ]] || kill -0 "$station_pid" 2>/dev/null || fail "the station exited while waiting for $what"
    sleep 0.1
  done
  fail "timed out waiting for $what"
}
logged() { # PATTERN [COUNT]: the station's log has COUNT lines (default 1) matching PATTERN
  (($(grep -c -- "$1" "$log" || true) >= ${2:-1}))
}
window=""
found_window() { window=$(xdotool search --onlyvisible --name "^$title\$" 2>/dev/null | head -n 1) && [[ -n "$window" ]]; }
snap() { import -window "$window" rgb:- 2>/dev/null | cksum; }
changed_from() { [[ "$(snap)" != "$1" ]]; }
# act WHAT XDOTOOL-ARGS...: sends the input and waits until the window's picture changes.
act() {
  local what=$1 before; shift
  before=$(snap)
  xdotool "$@"
  wait_until "$what" changed_from "$before"
  sleep 0.3
}
keys() { xdotool key --delay 200 "$@"; sleep 0.3; }
shoot() { # NAME [root]: a PNG of the window (or the whole screen)
  sleep 1
  import -window "${2:-$window}" -strip "$scratch/$1.png"
  (($(stat -c %s "$scratch/$1.png") > 10000)) || fail "$1.png is nearly empty: nothing was drawn"
  echo "took $1.png" >&2
}

# start NAME ARGS...: a station with scratch XDG folders under $scratch/NAME, its log in
# $scratch/NAME.log; waits for its window, its first frame and (at the desk) its request list.
start() {
  local name=$1; shift
  mkdir -p "$scratch/$name/config" "$scratch/$name/data" "$scratch/$name/cache"
  log="$scratch/$name.log"
  env -u ENROLL_STATION_CONFIG -u ENROLL_STATION_SERVER -u ENROLL_STATION_BEARER_TOKEN \
    -u DBUS_SESSION_BUS_ADDRESS \
    XDG_CONFIG_HOME="$scratch/$name/config" XDG_DATA_HOME="$scratch/$name/data" \
    XDG_CACHE_HOME="$scratch/$name/cache" ENROLL_STATION_LOG="info,enroll_station=debug" \
    "$bin" --demo --ignore-reader '*' "$@" </dev/null >/dev/null 2>"$log" &
  station_pid=$!
  wait_until "the window" found_window
  wait_until "the first frame" logged "first frame"
  if [[ " $* " != *" --kiosk "* ]]; then
    wait_until "the request list" logged "request list loaded"
  fi
  # Keys go to the window (no window manager gives it the focus); the pointer leaves it,
  # so no row is drawn hovered.
  timeout 10 xdotool windowfocus --sync "$window" || fail "the window did not take the keyboard focus"
  xdotool mousemove 1279 799
  sleep 0.5
}
finish() {
  stop "$station_pid"
  station_pid="" log="" window=""
}

# The desk's tab order (docs/ui-guide.md): search, the list, the "Request details"
# toggle, Bind (when enabled), the readers panel (the demo card menu, then
# "Insert demo card"), the header.
insert_demo_card() {
  keys Escape
  keys Tab Tab Tab Tab Tab
  act "the demo card to be read" key space
  sleep 0.5
}
# Enter in the search box selects the first request shown and moves to the list.
select_first() {
  keys ctrl+f
  act "a request selected" key Return
}

# 1. The desk, a request selected and a card ready: Bind says what it would bind.
start demo
insert_demo_card
select_first
keys Escape
shoot demo-window
finish

# 2. Search "finance", take the second match, bind with Ctrl+Enter.
start desk
insert_demo_card
keys ctrl+f
act "the search" type --delay 40 finance
act "the first match" key Return
keys Down
xdotool key ctrl+Return
wait_until "the bind" logged "CM emulator bound a card"
wait_until "the list after the bind" logged "request list loaded" 2
keys Escape # the search box gives up the focus: no caret in the picture
shoot desk-search
finish

# 3. The same desk in an 800x600 window.
start small
xdotool windowsize --sync "$window" 800 600
sleep 0.5
keys ctrl+f
act "the search" type --delay 40 finance
act "the first match" key Return
keys Escape
shoot desk-800x600
finish

# 4. A supervised station: select the first row, Ctrl+Enter opens the confirmation,
#    the supervisor types their name and password.
mkdir -p "$scratch/supervised/config/enroll-station"
{
  echo 'mode = "supervised"'
  echo
  printf '%s\n' "$password" | "$bin" supervisor hash --name "$supervisor" --account sam 2>/dev/null
} >"$scratch/supervised/config/enroll-station/station.toml"
start supervised
insert_demo_card
select_first
act "the supervisor confirmation" key ctrl+Return
xdotool type --delay 40 "$supervisor"
keys Return
xdotool type --delay 40 "$password"
shoot supervised-confirm
finish

# 5. Settings: Shift+Tab from nothing reaches the header's end ("Larger text",
#    then "Settings").
start settings
keys shift+Tab shift+Tab
act "Settings" key Return
shoot settings
finish

# 5b. A batch, by keys only: three requests selected with Shift+Down, Tab to "Bind 3
#     as a batch…", Space; the batch window takes the focus on Pause; three Tabs reach
#     "Next demo card", pressed twice: two bound, the third next.
start batch
select_first
keys shift+Down shift+Down
keys Tab Tab
act "the batch window" key space
wait_until "the batch to run" logged "batch started"
keys Tab Tab Tab
act "the first card" key space
wait_until "the first batch bind" logged "CM emulator bound a card"
act "the second card" key space
wait_until "the second batch bind" logged "CM emulator bound a card" 2
shoot batch
finish

# 6. The kiosk, fullscreen under openbox: its first screen, then its second step
#    for the embedded demo data's first approved request (Elif Eriksson's).
mkdir -p "$scratch/openbox"
XDG_CONFIG_HOME="$scratch/openbox" openbox --sm-disable >/dev/null 2>&1 &
openbox_pid=$!
wm_ready() { xdotool get_num_desktops >/dev/null 2>&1; } # openbox has set the EWMH hints
wait_until "openbox" wm_ready
start kiosk --kiosk
fullscreen() { [[ "$(xdotool getwindowgeometry "$window")" == *"Geometry: 1280x800"* ]]; }
wait_until "the kiosk to cover the screen" fullscreen
shoot kiosk root
xdotool type --delay 20 020ae075-8864-4844-bd23-9c27bee4a289
act "the card step" key Return
shoot kiosk-card root
finish

scenes=(demo-window desk-search desk-800x600 supervised-confirm settings batch kiosk kiosk-card)
for scene in "${scenes[@]}"; do cp "$scratch/$scene.png" "$out/"; done
echo "Wrote ${scenes[*]/%/.png} to $out" >&2
