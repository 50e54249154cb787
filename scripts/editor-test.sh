#!/usr/bin/env bash
# The editor test suite (test/editor, issue 6) as CI runs it: makes sure Debian's Chromium is there
# (playwright-core drives /usr/bin/chromium; no browser is downloaded), then `npm run test:editor`,
# which builds the package, starts Node-RED with it and drives the editor. Screenshots land in
# docs/screenshots/. Exit status is the suite's.
set -euo pipefail
cd "$(dirname "$0")/.."

CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ] && command -v apt-get >/dev/null 2>&1; then
  echo "== installing Debian's chromium for the editor tests"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
    || echo "warning: could not install chromium"
fi
if [ ! -x "$CHROMIUM" ]; then
  echo "error: no Chromium at $CHROMIUM (apt-get install chromium, or set CHROMIUM_PATH)" >&2
  exit 1
fi
echo "== editor tests with $("$CHROMIUM" --version 2>/dev/null | head -1)"
# The README's screenshot of the deployed demo should show the demo's port, not a random test port: use
# 5683 for the flows' ${BS_PORT} when nothing listens there.
if [ -z "${EDITOR_TEST_BS_PORT:-}" ] && node -e "const s=require('dgram').createSocket('udp4');s.on('error',()=>process.exit(1));s.bind(5683,'127.0.0.1',()=>s.close())"; then
  export EDITOR_TEST_BS_PORT=5683
fi
npm run test:editor
