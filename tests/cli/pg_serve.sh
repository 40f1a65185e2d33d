#!/bin/sh
# The board on PostgreSQL shared by two election servers (docs/scale.md):
# a private PostgreSQL server (scripts/pg.sh), a demo election whose board's
# log is in it (`board init --board URI`), two `detente serve` on the same
# election folder and board, each publishing every second, and ballots
# cast to both at once (curl, in parallel). Then: every ballot answered 201
# is on the board exactly once, at the index its answer gave; the board's
# size is the set-up entries plus the ballot files, with no entry twice;
# no publish failed in either server (checkpoints from both stay
# consistent for the witnesses). Then one server is killed (SIGKILL) in the
# middle of a second stream of ballots: the other takes the rest, and no
# ballot acknowledged by either is lost. Finally the tally and decryption,
# a publish, and `detente verify` accepts the record with its board, whose
# checkpoint a quorum of witnesses cosigned; receipts verify.
# usage: pg_serve.sh DETENTE DATA_DIR WORK_DIR   (exit 77: no PostgreSQL or curl)
set -eu
dt=$1
work=$3
root=$(cd "$(dirname "$0")/../.." && pwd)
fails=0
pida=
pidb=
ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1"; fails=$((fails + 1)); }

if ! command -v curl >/dev/null 2>&1; then
    echo "pg_serve SKIPPED: curl is not installed"
    exit 77
fi
rm -rf "$work"
mkdir -p "$work/b"
cleanup() {
    [ -z "$pida" ] || kill -9 "$pida" 2>/dev/null || true
    [ -z "$pidb" ] || kill -9 "$pidb" 2>/dev/null || true
    sh "$root/scripts/pg.sh" stop "$work/pg" || true
    rm -rf "$work/pg/data"
}
trap cleanup EXIT
st=0
uri=$(sh "$root/scripts/pg.sh" start "$work/pg") || st=$?
if [ "$st" = 77 ]; then
    echo "pg_serve SKIPPED: no PostgreSQL server (see above)"
    exit 77
fi
[ "$st" = 0 ] || { echo "FAIL: the PostgreSQL server does not start"; exit 1; }
ok "a private PostgreSQL server"

# fewer ballots under the sanitizers (each check of a ballot is slower there)
if [ -n "${DT_SANITIZED:-}" ]; then n1=80 n2=40; else n1=160 n2=80; fi
e=$work/e
"$dt" demo --until voting --ballots $((n1 + n2)) --guardians 3 --quorum 2 --absent 1 --quiet --out "$e" \
    >"$work/demo.out" 2>&1
# the demo's board (SQLite) makes way for one on PostgreSQL, with three new witnesses
rm -rf "$e/board" "$e/private_data/board"
for i in 1 2 3; do
    "$dt" witness init "$work/w$i" --name "pg.example/w$i" >/dev/null 2>&1
done
if "$dt" board init "$e" --board "$uri" --origin pg.example/election --witness "$work/w1" --witness "$work/w2" \
    --witness "$work/w3" --quorum 2 >"$work/init.out" 2>&1 &&
    [ "$(stat -c %a "$e/private_data/board/log.location")" = 600 ] && [ ! -e "$e/private_data/board/log.db" ]; then
    ok "board init --board URI (log.location 0600, no log.db)"
else
    bad "board init --board"
    cat "$work/init.out"
fi
if "$dt" board init "$work/other" --board "$uri" --origin pg.example/other --witness "$work/w1" >"$work/init2.out" 2>&1; then
    bad "a second board on the same database was accepted"
elif grep -q "already holds a log" "$work/init2.out"; then
    ok "a second board on the same database is refused"
else
    bad "a second board on the same database: $(cat "$work/init2.out")"
fi
"$dt" board init "$work/other" --board /tmp/not-a-uri --origin pg.example/other --witness "$work/w1" >"$work/init3.out" 2>&1 &&
    bad "board init --board with a file path accepted" || ok "board init --board refuses a path"
"$dt" board publish "$e" >"$work/publish0.out" 2>&1 || { bad "first publish"; cat "$work/publish0.out"; }
setup=$(sed -n 2p "$e/board/checkpoint")
ok "the set-up published: $setup entries"

# the ballots, encrypted beforehand (two at a time)
ls "$e/private_data/input" | sort >"$work/inputs"
enc() {
    while read -r f; do
        b=${f#pballot-}
        b=${b%.json}
        "$dt" encrypt --allow-overvote "$e" "$e/private_data/input/$f" >"$work/b/$b.json" 2>>"$work/enc.err" ||
            echo "$f" >>"$work/enc.fail"
    done
}
awk 'NR % 2 == 0' "$work/inputs" | enc &
encpid=$!
awk 'NR % 2 == 1' "$work/inputs" | enc
wait "$encpid"
[ ! -e "$work/enc.fail" ] || { bad "encrypt failed: $(cat "$work/enc.fail")"; grep -v "confirmation code" "$work/enc.err" | head -3; }
ls "$work/b" | sed 's/\.json$//' | sort >"$work/all"
head -n "$n1" "$work/all" >"$work/phase1"
tail -n "$n2" "$work/all" >"$work/phase2"

# two servers on the same folder and board: A finds the log through
# log.location, B is given it (as a server on another machine would be)
start_server() { # NAME [--board URI]: sets port
    name=$1
    shift
    : >"$work/$name.log"
    "$dt" serve "$e" --listen 127.0.0.1:0 --publish-every 1 --quiet "$@" 2>>"$work/$name.log" &
    spid=$!
    port=
    i=0
    while [ $i -lt 200 ] && [ -z "$port" ]; do
        port=$(sed -n 's/.* on port \([0-9][0-9]*\).*/\1/p' "$work/$name.log" || true)
        [ -n "$port" ] || sleep 0.05
        i=$((i + 1))
    done
    [ -n "$port" ] || { echo "FAIL: server $name does not start"; cat "$work/$name.log"; exit 1; }
}
start_server A
pida=$spid porta=$port
start_server B --board "$uri"
pidb=$spid portb=$port
ok "two servers on one board (ports $porta and $portb)"

# cast PORT LIST OUT: POSTs each ballot of LIST, one line a ballot in OUT:
# "ballot status body" (status 000 when the connection failed)
cast() {
    while read -r b; do
        code=$(curl -s -o "$work/b/$b.resp" -w '%{http_code}' --max-time 30 -X POST \
            -H 'Content-Type: application/json' --data-binary "@$work/b/$b.json" \
            "http://127.0.0.1:$1/api/v1/ballots" 2>/dev/null) || code=000
        body=
        [ ! -f "$work/b/$b.resp" ] || body=$(tr -d '\n' <"$work/b/$b.resp")
        echo "$b $code $body" >>"$3"
    done <"$2"
}
# phase 1: four streams at once, two to each server
for k in 0 1 2 3; do
    awk -v k=$k 'NR % 4 == k' "$work/phase1" >"$work/p1.$k"
done
cast "$porta" "$work/p1.0" "$work/r1.0" &
c0=$!
cast "$portb" "$work/p1.1" "$work/r1.1" &
c1=$!
cast "$porta" "$work/p1.2" "$work/r1.2" &
c2=$!
cast "$portb" "$work/p1.3" "$work/r1.3"
wait "$c0" "$c1" "$c2" # (not the servers)
cat "$work"/r1.* >"$work/r1"
c201=$(awk '$2 == 201' "$work/r1" | wc -l)
if [ "$c201" = "$n1" ]; then ok "phase 1: $c201 of $n1 ballots answered 201 by two servers at once"; else
    bad "phase 1: $c201 of $n1 answered 201"
    awk '$2 != 201' "$work/r1" | head -5
fi
# the indexes answered are distinct
dupidx=$(sed -n 's/.*"index":\([0-9]*\).*/\1/p' "$work/r1" | sort | uniq -d | wc -l)
[ "$dupidx" = 0 ] && ok "phase 1: distinct indexes in the answers" || bad "phase 1: $dupidx indexes answered twice"

# phase 2: B killed (SIGKILL) in the middle of a stream to both
awk 'NR % 2 == 0' "$work/phase2" >"$work/p2.a"
awk 'NR % 2 == 1' "$work/phase2" >"$work/p2.b"
cast "$porta" "$work/p2.a" "$work/r2.a" &
casta=$!
cast "$portb" "$work/p2.b" "$work/r2.b" &
castb=$!
i=0
while [ $i -lt 400 ] && [ "$(cat "$work/r2.b" 2>/dev/null | wc -l)" -lt $((n2 / 4)) ]; do
    sleep 0.05
    i=$((i + 1))
done
kill -9 "$pidb"
wait "$pidb" 2>/dev/null || true
pidb=
wait "$castb" || true
wait "$casta" || true
killed_acked=$(awk '$2 == 201' "$work/r2.b" | wc -l)
failed=$(awk '$2 != 201 { print $1 }' "$work/r2.b")
ok "B killed after acknowledging $killed_acked of $(wc -l <"$work/p2.b") ballots; the rest go to A"
# the voters whose ballot B did not acknowledge cast it again at A: 201, or
# 409 when B had put it on the board but died before its answer (the log
# holds its code; its receipt shows it)
printf '%s\n' $failed | sed '/^$/d' >"$work/p2.retry"
: >"$work/r2.retry"
cast "$porta" "$work/p2.retry" "$work/r2.retry"
odd=$(awk '$2 != 201 && $2 != 409' "$work/r2.retry" "$work/r2.a" | wc -l)
[ "$odd" = 0 ] && ok "A took every ballot after the kill: $(awk '$2 == 201' "$work/r2.retry" | wc -l) of the \
$(wc -l <"$work/p2.retry") sent again 201, the others 409 (on the board already)" ||
    { bad "A answered otherwise $odd times"; awk '$2 != 201 && $2 != 409' "$work/r2.retry" "$work/r2.a" | head -3; }
# let A's publisher run once more, then stop it
sleep 1.5
kill -TERM "$pida"
wait "$pida" || bad "A did not stop cleanly on SIGTERM"
pida=
if grep -q "publish failed" "$work/A.log" "$work/B.log"; then
    bad "a publish failed in a server"
    grep "publish failed" "$work/A.log" "$work/B.log" | head -3
else
    ok "no publish failed in either server (each published every second)"
fi

# every ballot acknowledged (phase 1, phase 2, the retries) is on the board
# exactly once, and the board holds the set-up, every ballot file, nothing twice
"$dt" board publish "$e" >"$work/publish1.out" 2>&1 || { bad "publish after serving"; cat "$work/publish1.out"; }
"$dt" board entries "$e/board" >"$work/entries" 2>"$work/entries.err" || { bad "board entries"; cat "$work/entries.err"; }
cat "$work/r1" "$work/r2.a" "$work/r2.b" "$work/r2.retry" | awk '$2 == 201' >"$work/acked"
# (one awk: the entries' codes counted, then each acknowledged code looked up)
missing=$(awk -F '\t' '
    FNR == NR { if ($3 ~ /^code /) { c = substr($3, 6); n[c]++; at[c] = $1 } next }
    {
        c = $0; sub(/.*"confirmation_code":"/, "", c); sub(/".*/, "", c)
        i = $0; sub(/.*"index":/, "", i); sub(/[^0-9].*/, "", i)
        if (n[c] != 1 || at[c] != i) {
            bad++
            if (bad <= 3) printf "  %s (code %s, index %s): %d times on the board, at %s\n", $1, c, i, n[c], at[c] > "/dev/stderr"
        }
    }
    END { print bad + 0 }' "$work/entries" "$work/acked")
acked=$(wc -l <"$work/acked")
[ "$missing" = 0 ] && ok "all $acked acknowledged ballots on the board exactly once, at their answered index" ||
    bad "$missing of $acked acknowledged ballots are not on the board exactly once"
size=$(sed -n 2p "$e/board/checkpoint")
files=$(find "$e/encrypted_ballots" -name '*.json' ! -name '.*' | wc -l)
lines=$(grep -c '^[0-9]' "$work/entries")
twice=$(awk -F '\t' '/^[0-9]/ { print $2; if ($3 != "") print $3 }' "$work/entries" | sort | uniq -d | wc -l)
if [ "$size" = $((setup + files)) ] && [ "$lines" = "$size" ] && [ "$twice" = 0 ] && [ "$files" -ge "$acked" ]; then
    ok "sizes add up: $setup set-up entries + $files ballot files = $size entries, none twice ($acked acknowledged)"
else
    bad "sizes: checkpoint $size, listed $lines, set-up $setup, ballot files $files, acknowledged $acked, paths twice $twice"
fi

# the witnesses agree: each cosigned this log up to the checkpoint or before it
for i in 1 2 3; do
    "$dt" witness show "$work/w$i" >"$work/w$i.show" 2>&1 || bad "witness show w$i"
done

# the rest of the election, and the verifier over the record and its board
"$dt" tally "$e" >"$work/tally.out" 2>&1 || { bad "tally"; cat "$work/tally.out"; }
for g in 1 2; do
    DETENTE_PASSPHRASE=demo "$dt" decrypt share "$e" --key "$e/private_data/trustees/guardian$g.key" >>"$work/dec.out" 2>&1 ||
        bad "decrypt share $g"
done
"$dt" decrypt combine "$e" >>"$work/dec.out" 2>&1 || bad "decrypt combine"
for g in 1 2; do
    DETENTE_PASSPHRASE=demo "$dt" decrypt respond "$e" --key "$e/private_data/trustees/guardian$g.key" >>"$work/dec.out" 2>&1 ||
        bad "decrypt respond $g"
done
"$dt" decrypt finish "$e" >>"$work/dec.out" 2>&1 || { bad "decrypt finish"; tail -5 "$work/dec.out"; }
"$dt" board publish "$e" >"$work/publish2.out" 2>&1 || { bad "final publish"; cat "$work/publish2.out"; }
if "$dt" verify --require-board "$e" >"$work/verify.out" 2>&1; then
    ok "detente verify --require-board accepts the record (B.2: $(grep 'B.2' "$work/verify.out" | sed 's/.*(//; s/).*//'))"
else
    bad "detente verify"
    grep -E "FAIL|verdict|B\." "$work/verify.out" | head -10
fi
# a receipt for the first and the last ballot acknowledged
for b in $(head -1 "$work/acked" | cut -d' ' -f1) $(tail -1 "$work/acked" | cut -d' ' -f1); do
    c=$(sed -n 's/.*"confirmation_code":"\([^"]*\)".*/\1/p' "$work/b/$b.resp")
    if "$dt" board receipt "$e" "$c" --out "$work/$b.receipt" >/dev/null 2>&1 &&
        "$dt" receipt verify "$work/$b.receipt" --log-key "$e/board/log.vkey" --witnesses "$e/board/witnesses.vkey" \
            --code "$c" >"$work/$b.rv" 2>&1; then
        ok "receipt of $b verifies"
    else
        bad "receipt of $b"
        cat "$work/$b.rv" 2>/dev/null | tail -3
    fi
done

[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all passed"
