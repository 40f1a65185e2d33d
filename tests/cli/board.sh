#!/bin/sh
# The board of an election, end to end: detente demo puts every public file
# on the board with 3 witnesses (quorum 2); detente verify checks it (B.1-B.5)
# and each check fails, by name, on a record tampered for it; a published
# file cannot be changed; receipts verify offline and fail when tampered;
# an auditor reading only the tiles finds every ballot's confirmation code.
# usage: board.sh DETENTE DATA_DIR WORK_DIR
set -u
dt=$1
work=$3
fails=0
rm -rf "$work"
mkdir -p "$work"

ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1"; fails=$((fails + 1)); }

# verify_expect NAME DIR STATUS [CHECK_PREFIX...]: exit status STATUS, and each
# named board check (e.g. "B.3") reported FAIL and every other one pass.
verify_expect() {
    name=$1 dir=$2 want=$3
    shift 3
    "$dt" verify --quiet --threads 2 "$dir" >"$work/vout" 2>&1
    got=$?
    [ "$got" = "$want" ] || { bad "$name: exit status $got, expected $want"; cat "$work/vout"; return; }
    for c in B.1 B.2 B.3 B.4 B.5; do
        line=$(grep "^     $c " "$work/vout")
        expect=pass
        for f in "$@"; do [ "$f" = "$c" ] && expect=FAIL; done
        case "$line" in
        *" $expect"*) ;;
        *" not checked"*) [ "$expect" = FAIL ] || [ -n "$(grep -E 'FAIL$|FAIL ' "$work/vout" | head -1)" ] ||
            { bad "$name: $c not checked"; cat "$work/vout"; return; } ;;
        *) bad "$name: $c should be $expect: $line"; cat "$work/vout"; return ;;
        esac
    done
    # the ElectionGuard steps are untouched by a board-only tamper
    if grep -E '^ *[0-9]+  .*FAIL' "$work/vout" >/dev/null; then bad "$name: an ElectionGuard step failed"; cat "$work/vout"; return; fi
    ok "$name"
}

fresh() { # NAME: a copy of the clean record
    rm -rf "$work/$1"
    cp -a "$work/clean" "$work/$1"
}

"$dt" demo --quiet --ballots 12 --guardians 3 --quorum 2 --absent 1 --out "$work/clean" >"$work/out" 2>&1 ||
    { bad "demo"; cat "$work/out"; exit 1; }
for f in checkpoint log.vkey witnesses.vkey; do
    [ -s "$work/clean/board/$f" ] || bad "demo wrote no board/$f"
done
[ "$(wc -l <"$work/clean/board/witnesses.vkey")" = 3 ] || bad "witnesses.vkey has not 3 keys"
[ "$(grep -c '^— witness-' "$work/clean/board/checkpoint")" = 3 ] && ! grep -q "warning" "$work/out" &&
    ok "every witness (the verifying one too) cosigned every checkpoint of the demo" ||
    { bad "a witness refused a checkpoint of the demo"; cat "$work/out"; }
# while voting is open (no tally yet) the verifying witness cosigns too
"$dt" demo --quiet --until voting --ballots 2 --guardians 2 --quorum 1 --absent 0 --witnesses 1 --witness-quorum 1 \
    --out "$work/voting" >"$work/out" 2>&1 && ! grep -q warning "$work/out" &&
    ok "the verifying witness alone cosigns an election that is open for voting" || { bad "--until voting with 1 verifying witness"; cat "$work/out"; }
ls "$work/clean/ceremony/commitments-1.json" "$work/clean/ceremony/share-1-2.json" \
    "$work/clean/decryption/challenge.json" >/dev/null 2>&1 || bad "ceremony and decryption messages missing"
verify_expect "clean record: every board check passes" "$work/clean" 0
grep -q "B.5 every public file of the record is on the board *pass" "$work/vout" || bad "B.5 not reported"

# B.1: the log's signature
fresh b1
# its first base64 character changed (A to B, any other to A: the two in
# turn left a B as it was, one run in 64)
sed -i '0,/^— demo/{s/^\(— demo[^ ]* \)A/\1B/;t;s/^\(— demo[^ ]* \)./\1A/}' "$work/b1/board/checkpoint"
verify_expect "B.1 fails: the log's signature altered" "$work/b1" 1 B.1
fresh b1k
# another Ed25519 key of the same name as the log: a key that did not sign
printf '%s\n' "$(sed 's/+[0-9a-f]*+.*$//' "$work/b1k/board/log.vkey")+00000000+AUhqjnNdHnHyfHlVSjC5TdZYrt6wPzNzlZv+T9OGRUCd" \
    >"$work/b1k/board/log.vkey"
verify_expect "B.1 fails: another log key" "$work/b1k" 1 B.1

# B.2: the witness quorum
fresh b2
sed -i '/^— witness-1\./d; /^— witness-2\./d' "$work/b2/board/checkpoint"
verify_expect "B.2 fails: two of three cosignatures removed" "$work/b2" 1 B.2
fresh b2b
sed -i '/^— witness-3\./d' "$work/b2b/board/checkpoint"
verify_expect "B.2 passes with one of three cosignatures removed (quorum 2)" "$work/b2b" 0
"$dt" verify --quiet --witness-quorum 3 "$work/b2b" >"$work/vout" 2>&1 && bad "B.2: --witness-quorum 3 accepted 2 cosignatures"
grep -q "B.2 .*FAIL" "$work/vout" && ok "B.2 fails with --witness-quorum 3 and 2 cosignatures" || bad "B.2 not named"
fresh b2c
awk '/^— witness-2\./ { n = split($0, a, " "); s = a[3]; c = substr(s, 20, 1); r = (c == "A") ? "B" : "A";
     $0 = a[1] " " a[2] " " substr(s, 1, 19) r substr(s, 21) } { print }' "$work/b2c/board/checkpoint" >"$work/cp" &&
    cp "$work/cp" "$work/b2c/board/checkpoint"
verify_expect "B.2 fails: a witness cosignature altered" "$work/b2c" 1 B.2
grep -q "cosignature of witness witness-2" "$work/vout" || bad "B.2 does not name the bad witness"

# B.3: the tiles against the checkpoint's root
fresh b3
size=$(sed -n 2p "$work/b3/board/checkpoint")
[ "$size" -lt 256 ] || bad "the test expects fewer than 256 entries"
bundle="$work/b3/board/tile/entries/000.p/$size"
printf 'X' | dd of="$bundle" bs=1 seek=40 conv=notrunc 2>/dev/null
verify_expect "B.3 fails: a byte of an entry bundle changed" "$work/b3" 1 B.3
fresh b3t
tile="$work/b3t/board/tile/0/000.p/$size"
printf 'X' | dd of="$tile" bs=1 seek=5 conv=notrunc 2>/dev/null
verify_expect "B.3 fails: a byte of a hash tile changed" "$work/b3t" 1 B.3

# B.4: entries against the record (files verify never reads otherwise)
fresh b4
sed -i 's/"c0"/"c0" /' "$work/b4/ceremony/share-1-2.json"
verify_expect "B.4 fails: a published ceremony message changed" "$work/b4" 1 B.4
grep -q "ceremony/share-1-2.json differs" "$work/vout" || bad "B.4 does not name the file"
fresh b4d
rm "$work/b4d/decryption/response-1.json" 2>/dev/null || rm "$(ls "$work"/b4d/decryption/response-*.json | head -1)"
verify_expect "B.4 fails: a published file removed from the record" "$work/b4d" 1 B.4

# B.5: every public file on the board
fresh b5
echo '{}' >"$work/b5/ceremony/extra.json"
verify_expect "B.5 fails: a file added to the record after publication" "$work/b5" 1 B.5
grep -q "ceremony/extra.json is in the record but not on the board" "$work/vout" || bad "B.5 does not name the file"

# B.1 on a checkpoint that is too large, or not a file: a failure, not "no board"
fresh b1b
head -c 1000000 /dev/zero | tr '\0' 'a' >>"$work/b1b/board/checkpoint"
verify_expect "B.1 fails: a checkpoint over 64 KiB" "$work/b1b" 1 B.1
fresh b1d
rm "$work/b1d/board/checkpoint"
mkdir "$work/b1d/board/checkpoint"
verify_expect "B.1 fails: a checkpoint that is a folder" "$work/b1d" 1 B.1

# A file the verifier reads must be on the board: a leftover temporary file
# of an atomic write is refused, not skipped
fresh tmpf
f=$(ls "$work"/tmpf/encrypted_ballots/*/*.json | head -1)
cp "$f" "$(dirname "$f")/eballot-extra.tmp-1.json"
"$dt" verify --quiet "$work/tmpf" >"$work/vout" 2>&1 && bad "a record with a .tmp- file verifies"
grep -q "B.5 .*FAIL" "$work/vout" && grep -q "temporary file" "$work/vout" &&
    ok "B.5 fails on a temporary file in the record, naming it" || { bad "B.5 on a .tmp- file"; cat "$work/vout"; }
"$dt" board publish "$work/tmpf" >"$work/pout" 2>&1 && bad "publish accepted a .tmp- file"
grep -q "temporary file" "$work/pout" && ok "publish refuses a temporary file" || { bad "publish .tmp- message"; cat "$work/pout"; }

# A published ballot whose confirmation code is changed is a change, refused
fresh cc
f=$(ls "$work"/cc/encrypted_ballots/*/*.json | head -1)
sed -i 's/"confirmation_code": *"[A-Za-z0-9+\/]\{4\}/"confirmation_code": "ABCD/' "$f"
"$dt" board publish "$work/cc" >"$work/pout" 2>&1 && bad "publish accepted a ballot whose code changed"
grep -q "changed after it was published" "$work/pout" && ok "publish refuses a published ballot whose code changed" ||
    { bad "changed code message"; cat "$work/pout"; }

# No board: not applicable, unless required
fresh nb
rm -rf "$work/nb/board"
"$dt" verify --quiet "$work/nb" >"$work/vout" 2>&1 && grep -q "the board .*not applicable" "$work/vout" &&
    ok "a record without a board verifies (board not applicable)" || { bad "record without a board"; cat "$work/vout"; }
"$dt" verify --quiet --require-board "$work/nb" >/dev/null 2>&1 && bad "--require-board accepted a record without a board" ||
    ok "--require-board refuses a record without a board"

# The board is append-only: a published file that changed is refused
fresh ap
sed -i 's/"c0"/"c0" /' "$work/ap/ceremony/share-1-2.json"
"$dt" board publish "$work/ap" >"$work/pout" 2>&1 && bad "publish accepted a changed file"
grep -q "changed after it was published" "$work/pout" && ok "publish refuses a changed file" || { bad "publish message"; cat "$work/pout"; }
# and a new file goes on with a new cosigned checkpoint, consistent with the last
fresh ap2
old_size=$(sed -n 2p "$work/ap2/board/checkpoint")
echo '{"note": "late"}' >"$work/ap2/ceremony/late.json"
"$dt" board publish "$work/ap2" >"$work/pout" 2>&1 || { bad "publish of a new file"; cat "$work/pout"; }
new_size=$(sed -n 2p "$work/ap2/board/checkpoint")
[ "$new_size" = $((old_size + 1)) ] && ok "publish appends one entry ($old_size -> $new_size)" || bad "size $old_size -> $new_size"
verify_expect "the grown board verifies" "$work/ap2" 0

# A split view: the operator rewinds its log and publishes another history
# of the same size. Every witness has cosigned the first one and refuses.
fresh fk
mkdir "$work/fk-saved"
cp -a "$work"/fk/private_data/board/log.db* "$work/fk-saved/"
echo '{"a": 1}' >"$work/fk/ceremony/a.json"
"$dt" board publish "$work/fk" >"$work/pout" 2>&1 || { bad "publish before the fork"; cat "$work/pout"; }
cp "$work/fk/board/checkpoint" "$work/fk-first-checkpoint"
rm -f "$work"/fk/private_data/board/log.db*
cp -a "$work"/fk-saved/log.db* "$work/fk/private_data/board/"
rm "$work/fk/ceremony/a.json"
echo '{"b": 2}' >"$work/fk/ceremony/b.json"
if "$dt" board publish "$work/fk" >"$work/pout" 2>&1; then
    bad "the witnesses cosigned a second history of the same size"; cat "$work/pout"
elif grep -q "only 0 of 3 witnesses cosigned" "$work/pout"; then
    ok "a fork (same size, another root) is refused by every witness"
else
    bad "fork refusal message"; cat "$work/pout"
fi
cmp -s "$work/fk/board/checkpoint" "$work/fk-first-checkpoint" && ok "the published checkpoint stays the first history's" ||
    bad "the checkpoint changed after a refused fork"

# The verifying witness (witness 1 of the demo) refuses a record that fails
# verification; the two others cosign, the quorum holds, and it says so.
fresh vw
f=$(ls "$work"/vw/encrypted_ballots/*/*.json | head -1)
sed 's/"confirmation_code": *"[A-Za-z0-9+\/]\{4\}/"confirmation_code": "ABCD/' "$f" >"$(dirname "$f")/eballot-forged.json"
"$dt" board publish "$work/vw" >"$work/pout" 2>&1 || { bad "publish with a forged ballot"; cat "$work/pout"; }
if grep -q "1 of 3 witnesses did not cosign" "$work/pout" && grep -q "w1: 422: .*fails step" "$work/pout"; then
    ok "the verifying witness refuses a forged ballot, naming the failing step"
else
    bad "the verifying witness did not refuse"; cat "$work/pout"
fi
[ "$(grep -c '^— witness-' "$work/vw/board/checkpoint")" = 2 ] && ok "2 cosignatures on that checkpoint" ||
    bad "cosignatures on the forged checkpoint"

# Witnesses over HTTP (tlog-witness), one of them verifying: a record
# published by the roles' commands onto a board with two served witnesses
# and one local witness folder.
mkdir -p "$work/h"
mkdir -p "$work/h/rec"
tar -C "$work/clean" --exclude=./private_data --exclude=./board -cf - . | tar -C "$work/h/rec" -xf - ||
    bad "copy of the public record"
for i in 1 2 3; do
    "$dt" witness init "$work/h/w$i" --name "w$i.test.example" >"$work/h/w$i.vkey.out" 2>&1 || { bad "witness init $i"; cat "$work/h/w$i.vkey.out"; }
done
vk1=$(cat "$work/h/w1/witness.vkey")
vk2=$(cat "$work/h/w2/witness.vkey")
"$dt" witness serve "$work/h/w1" --listen 127.0.0.1:0 --verify "$work/h/rec/board" 2>"$work/h/s1.log" &
s1=$!
"$dt" witness serve "$work/h/w2" --listen 127.0.0.1:0 2>"$work/h/s2.log" &
s2=$!
port() { # LOG: the port a server reports
    for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
        p=$(sed -n 's/.* on port \([0-9]*\):.*/\1/p' "$1")
        [ -n "$p" ] && { echo "$p"; return; }
        sleep 0.2
    done
}
p1=$(port "$work/h/s1.log")
p2=$(port "$work/h/s2.log")
if [ -z "$p1" ] || [ -z "$p2" ]; then
    bad "witness servers did not start"; cat "$work/h/s1.log" "$work/h/s2.log"
else
    "$dt" board init "$work/h/rec" --origin board-test.example/h --quorum 3 \
        --witness "http://127.0.0.1:$p1 $vk1" --witness "http://127.0.0.1:$p2 $vk2" --witness "$work/h/w3" \
        >"$work/h/out" 2>&1 || { bad "board init with http witnesses"; cat "$work/h/out"; }
    # the served witnesses learn the log's key (they read it when they start)
    kill $s1 $s2; wait $s1 $s2 2>/dev/null
    "$dt" witness add-log "$work/h/w1" "$work/h/rec/board/log.vkey" >/dev/null 2>&1 || bad "add-log w1"
    "$dt" witness add-log "$work/h/w2" "$work/h/rec/board/log.vkey" >/dev/null 2>&1 || bad "add-log w2"
    "$dt" witness serve "$work/h/w1" --listen "127.0.0.1:$p1" --verify "$work/h/rec/board" 2>"$work/h/s1.log" &
    s1=$!
    "$dt" witness serve "$work/h/w2" --listen "127.0.0.1:$p2" 2>"$work/h/s2.log" &
    s2=$!
    port "$work/h/s1.log" >/dev/null
    port "$work/h/s2.log" >/dev/null
    if "$dt" board publish "$work/h/rec" >"$work/h/out" 2>&1 && grep -q "cosigned by 3 witnesses" "$work/h/out"; then
        ok "published with 3 witnesses, two over HTTP (one verifying)"
    else
        bad "publish with http witnesses"; cat "$work/h/out" "$work/h/s1.log" "$work/h/s2.log"
    fi
    verify_expect "the record published over HTTP verifies" "$work/h/rec" 0
    [ -n "$(find "$work/h/w1/mirror" -name election_initialized.json)" ] && ok "the verifying witness mirrored the record" ||
        bad "no mirror at the verifying witness"
    # a served witness that is down: the quorum of 3 fails, nothing is replaced
    kill $s2; wait $s2 2>/dev/null
    echo '{"late": 1}' >"$work/h/rec/ceremony/late.json"
    cp "$work/h/rec/board/checkpoint" "$work/h/cp-before"
    if "$dt" board publish "$work/h/rec" >"$work/h/out" 2>&1; then
        bad "published without the quorum"
    else
        grep -q "only 2 of 3 witnesses cosigned" "$work/h/out" && grep -q "unreachable" "$work/h/out" &&
            ok "a witness down: the quorum fails and says which is unreachable" || { bad "quorum message"; cat "$work/h/out"; }
    fi
    cmp -s "$work/h/rec/board/checkpoint" "$work/h/cp-before" && ok "the checkpoint is not replaced without the quorum" ||
        bad "checkpoint replaced without the quorum"
    kill $s1; wait $s1 2>/dev/null
fi

# Blobs: a file too big for an entry goes in as its hash and is served beside
# the tiles; the blob and the file are both checked.
fresh bl
head -c 75000 /dev/zero | tr '\0' 'x' | sed 's/^/{"big": "/; s/$/"}/' >"$work/bl/ceremony/big.json"
"$dt" board publish "$work/bl" >"$work/pout" 2>&1 || { bad "publish of a big file"; cat "$work/pout"; }
blob=$(ls "$work/bl/board/blob" 2>/dev/null | head -1)
[ -n "$blob" ] && [ "$(sha256sum "$work/bl/board/blob/$blob" | cut -d' ' -f1)" = "$blob" ] &&
    ok "a 75 KB file is published as a blob named by its SHA-256" || bad "no blob for a 75 KB file"
"$dt" board entries "$work/bl/board" | grep -q "ceremony/big.json	blob 75011 bytes" && ok "its entry names the blob" ||
    bad "the blob entry is not listed"
verify_expect "a board with a blob verifies" "$work/bl" 0
cp -a "$work/bl" "$work/bl2"
printf 'y' | dd of="$work/bl2/board/blob/$blob" bs=1 seek=100 conv=notrunc 2>/dev/null
verify_expect "B.4 fails: a byte of a blob changed" "$work/bl2" 1 B.4
grep -q "does not hash to its name" "$work/vout" || bad "B.4 does not say the blob is damaged"
rm -rf "$work/bl2"; cp -a "$work/bl" "$work/bl2"
rm "$work/bl2/board/blob/$blob"
verify_expect "B.4 fails: a blob missing" "$work/bl2" 1 B.4
rm -rf "$work/bl2"; cp -a "$work/bl" "$work/bl2"
sed -i 's/"big"/"bag"/' "$work/bl2/ceremony/big.json"
verify_expect "B.4 fails: the record's big file changed" "$work/bl2" 1 B.4
grep -q "differs from the blob" "$work/vout" || bad "B.4 does not say the file differs from its blob"

# Receipts: for every cast ballot, from its confirmation code alone
cp -a "$work/clean/board" "$work/tiles-only"
"$dt" board entries "$work/tiles-only" >"$work/entries" 2>&1 || { bad "board entries"; cat "$work/entries"; }
"$dt" board entries "$work/clean" >"$work/eout" 2>&1 && bad "board entries accepted a folder without a checkpoint"
grep -q "no checkpoint" "$work/eout" && ok "board entries names a folder that is not a board" || { bad "entries message"; cat "$work/eout"; }
n=0
for f in "$work"/clean/encrypted_ballots/*/*.json; do
    code=$(sed -n 's/.*"confirmation_code": *"\([^"]*\)".*/\1/p' "$f")
    "$dt" board receipt "$work/clean" "$code" --out "$work/receipt" >"$work/rout" 2>&1 || { bad "receipt for $f"; cat "$work/rout"; continue; }
    "$dt" receipt verify "$work/receipt" --log-key "$work/clean/board/log.vkey" \
        --witnesses "$work/clean/board/witnesses.vkey" --code "$code" >"$work/rout" 2>&1 ||
        { bad "receipt of $f does not verify"; cat "$work/rout"; continue; }
    n=$((n + 1))
    # an auditor reading only the tiles finds the code in the entries
    grep -q "	code $code\$" "$work/entries" || bad "the code of $f is not in the entries listed from the tiles"
done
[ $n = 12 ] && ok "12 receipts verify offline, and every code is in the tiles" || bad "only $n receipts verified"
sed -i 's/^index \([0-9]*\)$/index 1\1/' "$work/receipt"
"$dt" receipt verify "$work/receipt" --log-key "$work/clean/board/log.vkey" \
    --witnesses "$work/clean/board/witnesses.vkey" >/dev/null 2>&1 && bad "a receipt with another index verifies" ||
    ok "a receipt with another index fails"
"$dt" board receipt "$work/clean" "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" >"$work/rout" 2>&1 && bad "receipt for an unknown code"
grep -q "no ballot with this confirmation code" "$work/rout" && ok "an unknown code gets no receipt" || bad "unknown code message"

[ $fails = 0 ] || { echo "$fails failures"; exit 1; }
echo "all board checks behave"
