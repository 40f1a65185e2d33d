#!/bin/sh
# web/assets/verify.js, the checks the pages run in the voter's browser,
# under node's WebCrypto against the RFC 9162 inclusion vectors and the
# signed-note vectors the C side is tested with (tests/browser/verify.test.mjs).
# Skipped (77) only without node.
# usage: verify_js.sh DETENTE DATA_DIR WORK_DIR
set -eu
src=$(cd "$2/../.." && pwd)
if ! command -v node >/dev/null 2>&1; then
    echo "SKIPPED: node is not installed (scripts/deps.sh check installs it)"
    exit 77
fi
exec node --test "$src/tests/browser/verify.test.mjs"
