#!/bin/sh
# detente encrypt, as a voting device uses it: a ballot on standard output,
# each kind of bad plaintext refused with its own message.
# usage: encrypt.sh DETENTE DATA_DIR WORK_DIR
set -u
dt=$1
work=$3
fails=0
rm -rf "$work"
mkdir -p "$work"
ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1"; fails=$((fails + 1)); }
expect() { # NAME STATUS PATTERN(stderr) ARGS...
    name=$1 want=$2 pat=$3
    shift 3
    "$dt" encrypt "$@" >"$work/out" 2>"$work/err"
    got=$?
    if [ "$got" != "$want" ]; then bad "$name: exit $got, expected $want"; cat "$work/err"; return; fi
    if [ -n "$pat" ] && ! grep -q -- "$pat" "$work/err"; then bad "$name: no '$pat'"; cat "$work/err"; return; fi
    ok "$name"
}

"$dt" demo --quiet --until voting --ballots 2 --out "$work/e" >/dev/null 2>&1 || bad "demo --until voting"
# a ballot of one vote (the demo's random ballots include overvotes, which
# encrypt refuses without --allow-overvote: not this test's subject)
p="$work/one.json"
printf '{"ballot_id": "ballot-1", "ballot_style": "north-ballot", "contests": [{"contest_id": "mayor", "selections": [{"selection_id": "mayor-amara", "vote": 1}]}]}' >"$p"
expect "a ballot" 0 "confirmation code: " "$work/e" "$p"
grep -q '"state": "CAST"' "$work/out" && grep -q '"confirmation_code"' "$work/out" && ok "cast ballot JSON" || bad "cast ballot JSON"
expect "challenged, nonce kept" 0 "" --challenge --nonce-out "$work/nonce" "$work/e" "$p"
grep -q '"state": "CHALLENGED"' "$work/out" && ok "challenged ballot JSON" || bad "challenged ballot JSON"
[ "$(stat -c %a "$work/nonce")" = 600 ] && [ "$(tr -d '\n' <"$work/nonce" | wc -c)" = 64 ] && ok "nonce file" || bad "nonce file"

# the ballot goes into the record and verifies with the rest (steps 1-7)
mkdir -p "$work/e/encrypted_ballots/dev"
"$dt" encrypt "$work/e" "$p" >"$work/e/encrypted_ballots/dev/eballot-ballot-1.json" 2>/dev/null
"$dt" verify --json --quiet "$work/e" >"$work/v" 2>&1
for s in 1 2 3 4 5 6 7; do
    grep -A3 "\"step\": $s," "$work/v" | grep -q '"status": "pass"' || bad "step $s of the encrypted ballot"
done
ok "the encrypted ballot passes steps 1-7"

printf '{"ballot_id": "x", "ballot_style": "north-ballot", "contests": [{"contest_id": "mayor", "selections": [{"selection_id": "mayor-amara", "vote": 1}, {"selection_id": "mayor-bodhan", "vote": 1}]}]}' >"$work/over.json"
expect "overvote refused" 1 "contest mayor has 2 votes, its limit is 1 (an overvote)" "$work/e" "$work/over.json"
expect "overvote recorded when allowed" 0 "" --allow-overvote "$work/e" "$work/over.json"
sed 's/"vote": 1}]/"vote": 2}]/' "$work/over.json" >"$work/r.json"
expect "vote above R" 1 "exceeds the option limit R = 1" "$work/e" "$work/r.json"
sed 's/"mayor"/"sheriff"/' "$work/over.json" >"$work/u.json"
expect "unknown contest" 1 "contest sheriff is not in the manifest" "$work/e" "$work/u.json"
sed 's/north-ballot/east-ballot/' "$work/over.json" >"$work/s.json"
expect "unknown style" 1 "east-ballot" "$work/e" "$work/s.json"
printf '{"ballot_id": ' >"$work/bad.json"
expect "malformed JSON" 1 "invalid JSON" "$work/e" "$work/bad.json"
expect "missing plaintext" 2 "cannot read the file" "$work/e" "$work/none.json"
expect "missing election" 2 "cannot read the election" "$work/none" "$p"
expect "no arguments" 2 "usage"

rm -rf "$work"
[ $fails = 0 ] || { echo "$fails failures"; exit 1; }
echo "all passed"
