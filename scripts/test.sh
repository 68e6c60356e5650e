#!/usr/bin/env bash
# Runs the whole test suite on real parts: pcscd with vsmartcard-vpcd, the CM
# emulator over loopback HTTP, egui_kittest, and the real window under Xvfb.
# Installs what is missing and starts pcscd when it is not running.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh test
# The tests install and start these services, so a missing one is a failure, not a skip.
export ENROLL_STATION_REQUIRE_SERVICES=1

sudo=()
if [[ "$(id -u)" != 0 ]]; then sudo=(sudo); fi

cargo build --locked
vpcd_visible() { target/debug/enroll-station readers --json 2>/dev/null | grep -q '"Virtual PCD'; }
# pcscd loads the vpcd driver from /etc/reader.conf.d only when it starts: a
# daemon that was running before vsmartcard-vpcd was installed must be restarted.
if ! vpcd_visible; then
  if command -v systemctl >/dev/null && systemctl is-active --quiet pcscd.socket 2>/dev/null; then
    "${sudo[@]}" systemctl restart pcscd.socket pcscd.service
  else
    "${sudo[@]}" pkill -x pcscd 2>/dev/null || true
    for _ in $(seq 50); do pgrep -x pcscd >/dev/null || break; sleep 0.1; done
    "${sudo[@]}" pcscd
  fi
  for _ in $(seq 100); do vpcd_visible && break; sleep 0.1; done
  vpcd_visible || { echo "pcscd does not show the vpcd reader (Virtual PCD); see 'journalctl -u pcscd'" >&2; exit 1; }
fi
echo "pcscd is running with the vpcd reader"

cargo fmt --check
cargo clippy --all-targets --locked -- -D warnings
mkdir -p target
# Benches are run on their own (see docs/benchmarks.md): `--all-targets` would run them here.
cargo test --lib --bins --tests --locked 2>&1 | tee target/test-output.log
# The .deb and .rpm as an administrator gets them: build, lintian, install, run, remove.
packaging/check-linux.sh
summary=$(awk '/^test result:/ { passed += $4; failed += $6 } END { printf "%d passed, %d failed", passed, failed }' target/test-output.log)

# Most MIM CM sites run Windows desks: lint the Windows-only code, then the
# MSI as an administrator gets it, under Wine: build, install, run, upgrade, remove.
if command -v rustup >/dev/null; then
  rustup target list --installed | grep -qx x86_64-pc-windows-gnu || rustup target add x86_64-pc-windows-gnu
fi
cargo clippy --locked --target x86_64-pc-windows-gnu --lib --bins -- -D warnings
packaging/check-windows.sh
# macOS cannot be built here (no SDK): type-check it and its bundle metadata.
packaging/macos/check.sh

echo "tests: ${summary}"
