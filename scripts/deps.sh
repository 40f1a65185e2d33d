#!/bin/sh
# Installs the Debian packages detente needs (as root), or lists what is
# missing (otherwise). Usage: scripts/deps.sh [build|check|bench]
set -eu
what=${1:-build}
pkgs="build-essential cmake pkg-config libgmp-dev libsodium-dev libssl-dev libjansson-dev libcjson-dev libsqlite3-dev libmicrohttpd-dev libpq-dev
      libopenmpi-dev openmpi-bin" # Open MPI: detente verify --mpi, built when found, tested in make check
case "$what" in
    check) pkgs="$pkgs libcmocka-dev valgrind curl chromium postgresql"
        # the browser tests (tests/cli/browser.sh) need node and npm; a node
        # installed otherwise (nodesource's package carries npm) is kept
        command -v node >/dev/null 2>&1 || pkgs="$pkgs nodejs"
        command -v npm >/dev/null 2>&1 || pkgs="$pkgs npm" ;;
    bench) pkgs="$pkgs libcmocka-dev valgrind hyperfine belenios-tool postgresql" ;;
esac
missing=""
for p in $pkgs; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
if [ -z "$missing" ]; then
    :
elif [ "$(id -u)" = 0 ]; then
    echo "deps: installing$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >&2
else
    echo "deps: missing Debian packages:$missing" >&2
    echo "deps: install them with: sudo apt-get install$missing" >&2
    exit 1
fi
# the browser tests' npm packages (npm ci, skipped when already current)
[ "$what" != check ] || "$(dirname "$0")/../tests/browser/install.sh"
