#!/bin/sh
# make demo: a whole election (detente demo), then anyone's check of it
# (detente verify), then the same check on a real ElectionGuard 2.0 record
# made by another implementation (egk-ec).
set -eu
dt=${1:-build/detente}
cd "$(dirname "$0")/.."
out=${DEMO_OUT:-demo-election}
echo "== detente demo: 5 guardians (any 3 decrypt), 100 voters, 2 guardians absent at decryption"
"$dt" demo --out "$out"
echo
echo "== detente verify $out: every verification step of ElectionGuard 2.0"
"$dt" verify "$out"
echo
echo "== the board, as an auditor reads it from the tiles alone (first entries)"
"$dt" board entries "$out/board" | head -8
echo
code=$(sed -n 's/.*"confirmation_code": *"\([^"]*\)".*/\1/p' "$(ls "$out"/encrypted_ballots/*/*.json | head -1)")
echo "== a voter with confirmation code $code gets a receipt and checks it offline"
"$dt" board receipt "$out" "$code" --out "$out.receipt"
"$dt" receipt verify "$out.receipt" --log-key "$out/board/log.vkey" --witnesses "$out/board/witnesses.vkey" --code "$code"
echo
echo "== detente verify on a real ElectionGuard 2.0 record (egk-ec, 42 ballots, 3 guardians)"
"$dt" verify tests/data/allAvailable
