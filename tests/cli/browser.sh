#!/bin/sh
# The pages of detente serve (web/, docs/pages.md) in a real browser:
# Debian's chromium, headless, driven by playwright-core from npm
# (tests/browser/run.mjs: one voting and one finished election, three
# servers, one browser). Check my ballot passes for a ballot cast over HTTP
# and published, says "no such ballot" for an unknown code, and names the
# failing check for each tampered receipt or served key; the board page shows
# the size and each witness's cosignature time; the results page shows the
# record's tally with a chart per contest, refuses a record that does not
# verify, and its download is a tar that detente verify accepts.
# Skipped (77) only without node or chromium; scripts/deps.sh check
# installs both, and the npm packages (tests/browser/install.sh).
# usage: browser.sh DETENTE DATA_DIR WORK_DIR
set -eu
dt=$1
src=$(cd "$2/../.." && pwd)
work=$3
chromium=${DT_CHROMIUM:-/usr/bin/chromium}
if ! command -v node >/dev/null 2>&1; then
    echo "SKIPPED: node is not installed (scripts/deps.sh check installs it)"
    exit 77
fi
if [ ! -x "$chromium" ]; then
    echo "SKIPPED: $chromium is not installed (Debian package chromium; scripts/deps.sh check installs it)"
    exit 77
fi
if [ ! -d "$src/tests/browser/node_modules/playwright-core" ]; then
    "$src/tests/browser/install.sh" || { echo "FAIL: the npm packages of tests/browser cannot be installed"; exit 1; }
fi
DT_CHROMIUM=$chromium exec node "$src/tests/browser/run.mjs" "$dt" "$work"
