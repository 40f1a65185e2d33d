#!/bin/sh
# detente close: usage errors; a server taking ballots is told to close (its
# token file, 0600; the admin endpoint refuses a wrong token, another peer
# and another method), commits what it acknowledged and then refuses ballots
# (403) while it still serves the board; closed.json records the board's size
# and is on the board; the tally is published and every guardian's next
# command printed; a server started on the closed election refuses ballots;
# then `close --guardians-from` decrypts with the demo's key files and
# `detente verify --require-board` passes; closing again does nothing again.
# Also: closing with no server running, and a server that cannot be told
# (the lock held without a token) makes close give up after --wait.
# usage: close.sh DETENTE DATA_DIR WORK_DIR
set -eu
dt=$1
work=$3
fails=0
pid=
rm -rf "$work"
mkdir -p "$work"
trap '[ -z "$pid" ] || kill "$pid" 2>/dev/null || true' EXIT

ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1"; fails=$((fails + 1)); }
command -v curl >/dev/null || { echo "SKIPPED: curl is not installed (scripts/deps.sh check)"; exit 77; }
command -v flock >/dev/null || { echo "SKIPPED: flock (util-linux) is not installed"; exit 77; }

# expect NAME STATUS PATTERN(stdout+stderr) ARGS...: runs detente close ARGS
expect() {
    name=$1 want=$2 pat=$3
    shift 3
    if "$dt" close "$@" </dev/null >"$work/out" 2>&1; then got=0; else got=$?; fi
    if [ "$got" != "$want" ]; then bad "$name: exit $got, expected $want"; cat "$work/out"; return 0; fi
    if [ -n "$pat" ] && ! grep -q -- "$pat" "$work/out"; then bad "$name: no '$pat' in the output"; cat "$work/out"; return 0; fi
    ok "$name"
}
# post FILE [QUERY]: POSTs a ballot, prints the status
post() { curl -s -o "$work/post.out" -w '%{http_code}' -X POST --data-binary "@$1" "$url/api/v1/ballots${2:-}"; }
start_server() {
    rm -f "$work/serve.log"
    "$dt" serve "$e" --listen 127.0.0.1:0 --publish-every 0 2>"$work/serve.log" &
    pid=$!
    i=0
    while [ $i -lt 600 ] && ! grep -q "on port" "$work/serve.log"; do sleep 0.1; i=$((i + 1)); done
    port=$(sed -n 's/.* on port \([0-9]*\).*/\1/p' "$work/serve.log")
    url=http://127.0.0.1:$port
}
entries() { "$dt" board entries "$e/board" 2>/dev/null | grep -c "^ *[0-9]" || true; }

e=$work/e
"$dt" demo --until voting --ballots 4 --guardians 3 --quorum 2 --absent 1 --quiet --out "$e" >/dev/null 2>&1
for i in 1 2 3 4; do
    "$dt" encrypt --allow-overvote "$e" "$e/private_data/input/pballot-ballot-$i.json" >"$work/b$i.json" 2>/dev/null
done

if "$dt" close --help | grep -q "usage: detente close ELECTION_DIR"; then ok "--help"; else bad "--help"; fi
expect "no arguments" 2 "needs ELECTION_DIR"
expect "unknown option" 2 "unexpected argument '--fast'" "$e" --fast
expect "a passphrase on the command line" 2 "never given on the command line" "$e" --guardians-from x --passphrase demo
expect "--passphrase-file alone" 2 "goes with --guardians-from" "$e" --passphrase-file x
expect "bad --wait" 2 "--wait" "$e" --wait soon
expect "not an election" 1 "$work/none" "$work/none"

start_server
[ -n "$port" ] || { bad "the server did not start"; cat "$work/serve.log"; exit 1; }
tok=$e/private_data/server.token
if [ "$(stat -c %a "$tok")" = 600 ] && grep -q "^token [0-9a-f]\{64\}$" "$tok" && grep -q "^url $url$" "$tok"; then
    ok "token file: 0600, token and url"
else bad "token file"; ls -l "$tok"; cat "$tok"; fi
for i in 1 2; do
    st=$(post "$work/b$i.json")
    if [ "$st" = 201 ]; then ok "ballot $i cast"; else bad "ballot $i: $st"; cat "$work/post.out"; fi
done
t=$(sed -n 's/^token //p' "$tok")
st=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url/api/v1/admin/close")
[ "$st" = 403 ] && ok "admin: no token 403" || bad "admin: no token $st"
# the token with its last digit changed (never to itself: 0 becomes 1, else 0)
case "$t" in *0) wrong="${t%?}1" ;; *) wrong="${t%?}0" ;; esac
st=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $wrong" "$url/api/v1/admin/close")
[ "$st" = 403 ] && ok "admin: wrong token 403" || bad "admin: wrong token $st"
st=$(curl -s -o /dev/null -w '%{http_code}' -X POST --interface 127.0.0.2 -H "Authorization: Bearer $t" "$url/api/v1/admin/close")
[ "$st" = 403 ] && ok "admin: peer 127.0.0.2 403" || bad "admin: peer 127.0.0.2 $st"
st=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $t" "$url/api/v1/admin/close")
[ "$st" = 405 ] && ok "admin: GET 405" || bad "admin: GET $st"
[ ! -e "$e/closed.json" ] && ok "still open" || bad "closed by a refused request"

# close, the server running: it stops taking ballots, nothing is decrypted
expect "close with a server" 0 "the server stopped taking ballots" "$e"
grep -q "detente decrypt share $e --key GUARDIAN3_KEYFILE" "$work/out" && ok "each guardian's next command" ||
    { bad "no next command for guardian 3"; cat "$work/out"; }
grep -q "detente decrypt combine $e" "$work/out" && ok "the combine step" || bad "no combine step"
size=$(sed -n 's/.*"board_size": \([0-9]*\).*/\1/p' "$e/closed.json")
if [ -n "$size" ] && grep -q '"board_root": "' "$e/closed.json"; then ok "closed.json: board size $size and root"; else bad "closed.json"; cat "$e/closed.json"; fi
if "$dt" board entries "$e/board" 2>/dev/null | grep -q "^$size[[:space:]]*closed.json$"; then ok "closed.json is entry $size of the board"; else
    bad "closed.json is not entry $size"; "$dt" board entries "$e/board" 2>&1 | tail -5; fi
[ -f "$e/encrypted_tally.json" ] && ok "tallied" || bad "no encrypted_tally.json"
[ ! -f "$e/tally.json" ] && ok "not decrypted without key files" || bad "decrypted without key files"
n0=$(entries)
st=$(post "$work/b3.json")
if [ "$st" = 403 ] && grep -q "voting is closed" "$work/post.out"; then ok "a ballot after closing: 403"; else bad "a ballot after closing: $st"; cat "$work/post.out"; fi
[ ! -e "$e/encrypted_ballots/device-1/eballot-ballot-3.json" ] && ok "not stored" || bad "stored after closing"
st=$(curl -s -o /dev/null -w '%{http_code}' "$url/board/checkpoint")
[ "$st" = 200 ] && ok "the closed server still serves the board" || bad "checkpoint after closing: $st"
kill -TERM "$pid"
if wait "$pid"; then ok "SIGTERM exits 0"; else bad "SIGTERM: exit $?"; fi
pid=
[ ! -e "$tok" ] && ok "token file removed" || bad "token file left"

# a server started on the closed election refuses ballots
start_server
st=$(post "$work/b4.json")
[ "$st" = 403 ] && ok "restarted on a closed election: 403" || { bad "restarted: $st"; cat "$work/post.out"; }
[ ! -e "$e/encrypted_ballots/device-1/eballot-ballot-4.json" ] && ok "not stored" || bad "stored after a restart"
kill -TERM "$pid"
wait "$pid" || true
pid=
[ "$(entries)" = "$n0" ] && ok "the board did not grow after closing" || bad "the board grew after closing"

# the guardians' key files here: decrypted, published, verified
DETENTE_PASSPHRASE=wrong expect "wrong passphrase" 1 "wrong passphrase" "$e" --guardians-from "$e/private_data/trustees"
DETENTE_PASSPHRASE=demo expect "close with the key files" 0 "decrypted by guardians 1, 2" "$e" --guardians-from "$e/private_data/trustees"
grep -q "voting was already closed" "$work/out" && ok "closing is not done twice" || bad "closed twice?"
if "$dt" verify --require-board "$e" >"$work/verify.out" 2>&1; then ok "verify --require-board passes"; else bad "verify fails"; tail -20 "$work/verify.out"; fi
grep -q "votes" "$work/out" && ok "the tally is printed" || bad "no tally printed"
DETENTE_PASSPHRASE=demo expect "close again" 0 "already decrypted" "$e" --guardians-from "$e/private_data/trustees"
grep -qE "B.6 no ballot came onto the board after voting closed +pass" "$work/verify.out" && ok "B.6 passes" ||
    { bad "B.6 does not pass"; grep "B\." "$work/verify.out"; }

# a ballot slipped into the folder after closing and put on the board: the
# verifier names it (B.6)
cp -r "$e" "$work/late"
sed 's/"state": "[A-Z]*"/"state": "CAST"/' "$work/b4.json" >"$work/late/encrypted_ballots/device-1/eballot-ballot-4.json"
"$dt" board publish "$work/late" >"$work/out" 2>&1 || { bad "board publish of the late ballot"; cat "$work/out"; }
if "$dt" verify --require-board "$work/late" >"$work/late.out" 2>&1; then bad "verify passes with a ballot after closing"; else
    ok "verify fails with a ballot after closing"; fi
grep -qE "B.6 no ballot came onto the board after voting closed +FAIL" "$work/late.out" && ok "B.6 fails" ||
    { bad "B.6 does not fail"; grep "B\." "$work/late.out"; }
grep -q "ballot encrypted_ballots/device-1/eballot-ballot-4.json came onto the board after voting closed" "$work/late.out" &&
    ok "B.6 names the ballot" || bad "B.6 does not name the ballot"
# and the tally refuses to count it, by name, writing nothing
cp "$work/late/encrypted_tally.json" "$work/etally.before"
"$dt" tally "$work/late" >"$work/out" 2>&1 && bad "tally counts a ballot put on the board after closing"
grep -q "eballot-ballot-4.json: not on the board when voting closed" "$work/out" && ok "tally refuses the late ballot" ||
    { bad "tally does not name the late ballot"; cat "$work/out"; }
cmp -s "$work/etally.before" "$work/late/encrypted_tally.json" && ok "encrypted_tally.json unchanged" ||
    bad "encrypted_tally.json rewritten"
# a closed.json without its board_size: B.6 cannot check, so it fails
cp -r "$e" "$work/nosize"
printf '{"version": 1, "closed_at": "2026-01-01T00:00:00Z"}\n' >"$work/nosize/closed.json"
"$dt" verify --require-board "$work/nosize" >"$work/nosize.out" 2>&1 && bad "verify passes without board_size"
grep -q "closed.json: no board_size" "$work/nosize.out" && ok "B.6 fails without board_size" ||
    { bad "B.6 without board_size"; grep "B\." "$work/nosize.out"; }

# no server running: closed at once; a lock held without a token: gives up
e=$work/e2
"$dt" demo --until voting --ballots 1 --selections 7 --guardians 1 --quorum 1 --absent 0 --witnesses 1 --witness-quorum 1 --quiet --out "$e" >/dev/null 2>&1
n=$(grep -c '"candidate_id"' "$e/manifest.json" || true)
[ "$n" = 7 ] && ok "demo --selections 7: 7 options" || bad "demo --selections 7: $n options"
flock -s "$e/private_data/serve.lock" sleep 5 &
lockpid=$!
sleep 0.3
expect "a server that cannot be told" 1 "still takes ballots" "$e" --wait 1
[ ! -e "$e/closed.json" ] && ok "not closed while a server may take ballots" || bad "closed under a held lock"
wait "$lockpid" || true
expect "close with no server" 0 "no server was taking ballots" "$e"

[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all passed"
