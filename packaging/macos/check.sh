#!/usr/bin/env bash
# Type-checks the station for macOS on Linux: `cargo check --target
# x86_64-apple-darwin`. Build scripts still compile their C (ring's), and
# without Apple's SDK that needs clang, ring's own switch for building without
# a C library (RING_CORE_NOSTDLIBINC), and a stand-in for the one SDK header
# it reads (check-headers/). The objects are never linked: linking and running
# need a Mac.
set -euo pipefail
cd "$(dirname "$0")/../.."
target=x86_64-apple-darwin
command -v clang >/dev/null || { echo "macos/check.sh: clang is missing (apt-get install clang)" >&2; exit 1; }
if command -v rustup >/dev/null; then
  rustup target list --installed | grep -qx "$target" || rustup target add "$target"
fi
export CC_x86_64_apple_darwin=clang
export CFLAGS_x86_64_apple_darwin="-ffreestanding -nostdlibinc -DRING_CORE_NOSTDLIBINC=1 -I$PWD/packaging/macos/check-headers"
cargo check --locked --target "$target" --lib --bins
# The bundle's metadata must be a property list a Mac will read.
python3 - <<'PY'
import plistlib, sys
with open("packaging/macos/Info.plist", "rb") as f:
    info = plistlib.load(f)
for key in ("CFBundleIdentifier", "CFBundleExecutable", "CFBundleIconFile", "CFBundleShortVersionString"):
    if not info.get(key):
        sys.exit(f"packaging/macos/Info.plist: {key} is missing")
print("Info.plist:", info["CFBundleIdentifier"], info["CFBundleExecutable"])
PY
[[ -s packaging/macos/enroll-station.icns ]] || { echo "macos/check.sh: packaging/macos/enroll-station.icns is missing" >&2; exit 1; }
