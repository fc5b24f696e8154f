#!/usr/bin/env bash
# Renders the PNG sizes of the application icon from ghost-runner.svg (Debian: librsvg2-bin).
# The PNGs are committed, so building and packaging never need this tool.
set -euo pipefail
cd "$(dirname "$0")"
command -v rsvg-convert >/dev/null || { echo "render-pngs.sh: needs rsvg-convert (apt-get install librsvg2-bin)" >&2; exit 1; }
for s in 16 22 24 32 48 64 128 256 512 1024; do
    rsvg-convert -w "$s" -h "$s" ghost-runner.svg -o "ghost-runner-$s.png"
done
echo "rendered: $(ls ghost-runner-*.png | tr '\n' ' ')"
