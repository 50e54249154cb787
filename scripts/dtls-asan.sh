#!/usr/bin/env bash
# Builds the DTLS addon with AddressSanitizer and UndefinedBehaviorSanitizer in a temporary folder and runs
# the DTLS tests against it (needs gcc; run `npm run build` first). Exits non-zero on any sanitizer report.
#   bash scripts/dtls-asan.sh
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r native binding.gyp "$tmp"/
echo '{"name":"lwm2m-dtls-asan","version":"0.0.0","private":true}' > "$tmp/package.json"
prefix=$(dirname "$(dirname "$(command -v node)")")
nodedir=${npm_config_nodedir:-$prefix}
gyp=${npm_config_node_gyp:-$prefix/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js}
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g"
(cd "$tmp" && CFLAGS="$san" LDFLAGS="-fsanitize=address,undefined" node "$gyp" rebuild --nodedir="$nodedir" > build.log 2>&1) \
  || { cat "$tmp/build.log"; exit 1; }
export LWM2M_DTLS_ADDON_DIR="$tmp"
nm -D "$tmp/build/Release/lwm2m_dtls.node" | grep -q __asan_report || { echo "sanitizer build has no ASan hooks"; exit 1; }
echo "sanitizer build: $tmp/build/Release/lwm2m_dtls.node"
export LD_PRELOAD="$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so)"
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
node node_modules/mocha/bin/mocha.js --no-config --timeout 20000 --exit 'dist/test/lib/dtls/**/*.test.js'
