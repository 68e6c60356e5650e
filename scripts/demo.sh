#!/usr/bin/env bash
# Opens the station on its embedded demo backend: no CM server, no card reader needed.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build
exec cargo run --release -- --demo "$@"
