#!/usr/bin/env bash
# Assembles "Enroll Station.app" from a macOS build of the binary. Run on a
# Mac after `cargo build --release` (this repository cannot build for macOS
# on Linux: there is no SDK to link with; packaging/macos/check.sh type-checks
# the code instead). Usage: packaging/macos/make-app.sh [BINARY] [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
binary=${1:-target/release/enroll-station}
out=${2:-target/packages}
[[ -x "$binary" ]] || { echo "make-app.sh: no executable at $binary; build it with 'cargo build --release' on a Mac first" >&2; exit 1; }
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
app="$out/Enroll Station.app"
rm -rf "$app"
mkdir -p "$app/Contents/MacOS" "$app/Contents/Resources"
sed "s/@VERSION@/$version/g" packaging/macos/Info.plist >"$app/Contents/Info.plist"
cp "$binary" "$app/Contents/MacOS/enroll-station"
# The icon was made from assets/icons/hicolor with png2icns (Debian icnsutils).
cp packaging/macos/enroll-station.icns "$app/Contents/Resources/"
echo "$app"
