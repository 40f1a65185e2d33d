#!/bin/sh
# detente receipt: usage and unusable input (exit 2, naming what is wrong),
# and 'show' on a receipt written here. Valid and tampered receipts, which
# need signing keys, are checked by tests/test_receipt.c through the same
# command.
# usage: receipt.sh DETENTE DATA_DIR WORK_DIR
set -u
dt=$1
work=$3
fails=0
rm -rf "$work"
mkdir -p "$work"
ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1"; fails=$((fails + 1)); }
expect() { # NAME STATUS PATTERN(stdout and stderr) ARGS...
    name=$1 want=$2 pat=$3
    shift 3
    "$dt" receipt "$@" >"$work/out" 2>&1
    got=$?
    if [ "$got" != "$want" ]; then bad "$name: exit $got, expected $want"; cat "$work/out"; return; fi
    if [ -n "$pat" ] && ! grep -q -- "$pat" "$work/out"; then bad "$name: no '$pat'"; cat "$work/out"; return; fi
    ok "$name"
}

# A log key (the golang.org/x/mod signed-note vector's) and no real signatures.
vkey='PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'
echo "$vkey" >"$work/log.vkey"
h='gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ='
printf 'c2sp.org/tlog-proof@v1\nextra aGk=\nindex 3\n%s\n\n' "$h" >"$work/r.tlog-proof"
printf 'PeterNeumann\n5\n%s\n\n\342\200\224 PeterNeumann AAAA\n' "$h" >>"$work/r.tlog-proof"

expect "no arguments" 2 "usage:"
expect "--help" 0 "tlog-proof" --help
expect "verify --help" 0 "--quorum" verify --help
expect "an unknown subcommand" 2 "no subcommand 'check'" check
expect "verify without a receipt" 2 "which receipt" verify --log-key "$work/log.vkey" --witnesses "$work/log.vkey"
expect "show without a receipt" 2 "which receipt" show
expect "two receipts" 2 "unexpected argument" show "$work/r.tlog-proof" "$work/r.tlog-proof"
expect "an unknown option" 2 "unexpected argument '--frob'" verify --frob "$work/r.tlog-proof"
expect "no --log-key" 2 "needs --log-key" verify "$work/r.tlog-proof" --witnesses "$work/log.vkey"
expect "no --witnesses" 2 "needs --witnesses" verify "$work/r.tlog-proof" --log-key "$work/log.vkey"
expect "--quorum without a value" 2 "--quorum needs a value" verify "$work/r.tlog-proof" --quorum
expect "a bad --code" 2 "--code: 'abc' is not a confirmation code" \
    verify "$work/r.tlog-proof" --log-key "$vkey" --witnesses "$work/log.vkey" --code abc
expect "a bad --log-key" 2 "--log-key: 'nokey' is neither a file nor a verifier key" \
    verify "$work/r.tlog-proof" --log-key nokey --witnesses "$work/log.vkey"
printf 'not a key\n' >"$work/junk.vkey"
expect "a --log-key file without a key" 2 "junk.vkey: not a verifier key" \
    verify "$work/r.tlog-proof" --log-key "$work/junk.vkey" --witnesses "$work/log.vkey"
expect "a log key as a witness" 2 "log.vkey:1: not a witness key" \
    verify "$work/r.tlog-proof" --log-key "$vkey" --witnesses "$work/log.vkey"
expect "no witnesses file" 2 "nofile: no such file" \
    verify "$work/r.tlog-proof" --log-key "$vkey" --witnesses "$work/nofile"
printf '\n\n' >"$work/empty.vkey"
expect "an empty witnesses file" 2 "empty.vkey: no witness key" \
    verify "$work/r.tlog-proof" --log-key "$vkey" --witnesses "$work/empty.vkey"

expect "show" 0 "index: 3" show "$work/r.tlog-proof"
expect "show: the entry" 0 "entry: 2 bytes, not a detente board entry" show "$work/r.tlog-proof"
expect "show: the proof" 0 "  $h" show "$work/r.tlog-proof"
expect "show: not verified" 0 "not verified" show "$work/r.tlog-proof"
expect "show: the checkpoint" 0 "^PeterNeumann$" show "$work/r.tlog-proof"

for broken in 'c2sp.org/tlog-proof@v2\nindex 3\n\nN\n' 'c2sp.org/tlog-proof@v1\nindex 03\n\nN\n' \
    'c2sp.org/tlog-proof@v1\nindex 3\nAAAA\n\nN\n' 'c2sp.org/tlog-proof@v1\nindex 3\n'; do
    printf "$broken" >"$work/broken.tlog-proof"
    expect "malformed: $broken" 2 "broken.tlog-proof: not a tlog-proof receipt (malformed)" \
        show "$work/broken.tlog-proof"
done
expect "no such receipt" 2 "nothere.tlog-proof: no such file" show "$work/nothere.tlog-proof"
head -c 200000 /dev/zero >"$work/big.tlog-proof"
expect "too big" 2 "big.tlog-proof: larger than" show "$work/big.tlog-proof"

if [ "$fails" -ne 0 ]; then
    echo "$fails failures"
    exit 1
fi
echo "all receipt CLI checks passed"
