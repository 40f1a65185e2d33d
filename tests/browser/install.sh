#!/bin/sh
# Installs the browser tests' npm packages (playwright-core, pinned by
# package-lock.json) with `npm ci`, unless node_modules already holds
# exactly that lock file's packages. Run by scripts/deps.sh check.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
stamp=$here/node_modules/.detente-lock
if [ -f "$stamp" ] && cmp -s "$stamp" "$here/package-lock.json" && [ -d "$here/node_modules/playwright-core" ]; then
    exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "deps: npm is not installed (Debian package npm): the browser tests cannot be set up" >&2
    exit 1
fi
echo "deps: npm ci in tests/browser" >&2
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error) >&2
cp "$here/package-lock.json" "$stamp"
