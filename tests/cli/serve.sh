#!/bin/sh
# detente serve from the command line: --help, each usage error (exit 2 with
# a message naming the input), an election without a board refused, then a
# real server on the demo election with periodic publishing (every second)
# that writes a cosigned checkpoint by itself and exits 0 on SIGTERM.
# The HTTP API itself is tested by tests/test_serve.c.
# usage: serve.sh DETENTE DATA_DIR WORK_DIR
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
# expect NAME STATUS PATTERN(stderr) ARGS...: runs detente serve ARGS
expect() {
    name=$1 want=$2 pat=$3
    shift 3
    if "$dt" serve "$@" </dev/null >"$work/out" 2>"$work/err"; then got=0; else got=$?; fi
    if [ "$got" != "$want" ]; then bad "$name: exit $got, expected $want"; cat "$work/err"; return 0; fi
    if [ -n "$pat" ] && ! grep -q -- "$pat" "$work/err"; then bad "$name: no '$pat' in stderr"; cat "$work/err"; return 0; fi
    ok "$name"
}

"$dt" demo --until voting --ballots 2 --guardians 3 --quorum 2 --absent 1 --quiet --out "$work/e" >/dev/null 2>&1

if "$dt" serve --help | grep -q "usage: detente serve ELECTION_DIR --listen"; then ok "--help"; else bad "--help"; fi
expect "no arguments" 2 "needs ELECTION_DIR and --listen"
expect "no --listen" 2 "needs ELECTION_DIR and --listen" "$work/e"
expect "bad address" 2 "--listen 'localhost:80'" "$work/e" --listen localhost:80
expect "no port" 2 "--listen '127.0.0.1'" "$work/e" --listen 127.0.0.1
expect "bad --publish-every" 2 "publish-every" "$work/e" --listen 127.0.0.1:0 --publish-every soon
expect "unknown option" 2 "unexpected argument '--fast'" "$work/e" --listen 127.0.0.1:0 --fast
expect "no election" 2 "$work/none" "$work/none" --listen 127.0.0.1:0
mkdir -p "$work/noboard"
for f in constants.json manifest.json election_config.json election_initialized.json; do
    cp "$work/e/$f" "$work/noboard/"
done
expect "no board" 2 "has no board" "$work/noboard" --listen 127.0.0.1:0
# a log elsewhere (--board) still needs the folder's own board, through
# which detente close writes the ballots' files
expect "no board, with --board" 2 "has no board of its own" "$work/noboard" --listen 127.0.0.1:0 \
    --board postgresql://nobody@127.0.0.1:1/none

# periodic publishing: the checkpoint is rewritten by the server itself
before=$(head -2 "$work/e/board/checkpoint" | tail -1)
cp "$work/e/board/checkpoint" "$work/cp.before"
# a file of the record that is not on the board yet: the next publish adds it
echo '{"note": "added while serving"}' >"$work/e/extra.json"
"$dt" serve "$work/e" --listen 127.0.0.1:0 --publish-every 1 2>"$work/serve.log" &
pid=$!
i=0
while [ $i -lt 100 ]; do
    after=$(head -2 "$work/e/board/checkpoint" | tail -1)
    [ "$after" != "$before" ] && break
    sleep 0.1
    i=$((i + 1))
done
if [ "$after" = $((before + 1)) ]; then ok "periodic publish: checkpoint $before -> $after"; else bad "periodic publish: checkpoint still $before"; cat "$work/serve.log"; fi
if grep -q "serving .* on port [1-9]" "$work/serve.log"; then ok "port printed"; else bad "port not printed"; fi
kill -TERM "$pid"
if wait "$pid"; then ok "SIGTERM exits 0"; else bad "SIGTERM: exit $?"; fi
pid=

[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all passed"
