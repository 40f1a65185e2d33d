#!/bin/sh
# make demo: for now, verify the real ElectionGuard 2.0 sample record step by step.
set -eu
dt=${1:-build/detente}
cd "$(dirname "$0")/.."
echo "== detente verify on a real ElectionGuard 2.0 record (egk-ec, 42 ballots, 3 guardians)"
exec "$dt" verify tests/data/allAvailable
