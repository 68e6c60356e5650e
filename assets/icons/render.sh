#!/usr/bin/env bash
# Renders assets/enroll-station.svg to the PNG sizes of the hicolor icon theme.
# The PNGs are committed, so building a package needs no SVG renderer: run this
# only after changing the SVG, then commit the PNGs it writes.
# Needs rsvg-convert (Debian: librsvg2-bin) or, failing that, ImageMagick.
set -euo pipefail
cd "$(dirname "$0")"
svg=../enroll-station.svg

render() { # size output
  if command -v rsvg-convert >/dev/null; then
    rsvg-convert --width "$1" --height "$1" --keep-aspect-ratio --output "$2" "$svg"
  elif command -v convert >/dev/null; then
    convert -background none -density 384 "$svg" -resize "$1x$1" "$2"
  else
    echo "render.sh: needs rsvg-convert (apt-get install librsvg2-bin) or ImageMagick's convert" >&2
    exit 1
  fi
}

for size in 16 24 32 48 64 128 256; do
  dir="hicolor/${size}x${size}/apps"
  mkdir -p "$dir"
  render "$size" "$dir/enroll-station.png"
  echo "$dir/enroll-station.png"
done
