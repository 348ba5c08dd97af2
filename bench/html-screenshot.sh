#!/usr/bin/env bash
# Render the sample incident report to HTML and screenshot it in headless Chromium.
#
#   bench/html-screenshot.sh [calm|hostile] [OUT.png]
#
# Writes bench/out/report-sample.html and the PNG (default assets/report-screenshot.png).
# Installs Debian's chromium when missing. Chromium gets no network (the report makes no
# fetches anyway: its CSP is default-src 'none').
set -euo pipefail
cd "$(dirname "$0")/.."
kind="${1:-calm}"
png="${2:-assets/report-screenshot.png}"
mkdir -p bench/out "$(dirname "$png")"
html="$PWD/bench/out/report-sample.html"

cargo run --quiet --example report_sample -- "$kind" "$html"

if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
  --disable-component-update --no-first-run --hide-scrollbars \
  --user-data-dir="$profile" --window-size=1280,2400 \
  --screenshot="$PWD/$png" "file://$html" 2>/dev/null
echo "screenshot: $png"
