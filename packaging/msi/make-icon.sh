#!/usr/bin/env bash
# Regenerates packaging/msi/enroll-station.ico from assets/enroll-station.svg.
# The .ico is committed so that building the MSI needs neither tool; run this
# after changing the SVG and commit both.
#
# rsvg-convert (librsvg2-bin) draws the SVG: ImageMagick's own SVG renderer,
# which Debian's ImageMagick falls back to, outlines shapes that have no stroke.
# ImageMagick's convert (imagemagick) only packs the drawings into the .ico.
set -euo pipefail
cd "$(dirname "$0")/../.."
for tool in rsvg-convert convert; do
  command -v "$tool" >/dev/null || { echo "make-icon.sh: $tool is missing (apt-get install librsvg2-bin imagemagick)" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The sizes Explorer, the Start menu and Apps & features ask for, at 100% to
# 200% scaling; Windows shrinks the nearest larger one for any other.
sizes=(16 20 24 32 40 48 64 256)
pngs=()
for size in "${sizes[@]}"; do
  rsvg-convert -w "$size" -h "$size" assets/enroll-station.svg -o "$work/$size.png"
  pngs+=("$work/$size.png")
done
# -strip and no dates: regenerating from the same SVG gives the same bytes,
# so the committed file changes only when the drawing does.
convert "${pngs[@]}" -strip -define png:exclude-chunks=date,time packaging/msi/enroll-station.ico
echo "wrote packaging/msi/enroll-station.ico (${sizes[*]} px)"
