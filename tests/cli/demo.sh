#!/bin/sh
# detente demo then detente verify, in both groups, with 0, 1 and n-k guardians
# absent; too many absent is refused; --until voting stops with voting open.
# usage: demo.sh DETENTE DATA_DIR WORK_DIR
set -u
dt=$1
work=$3
fails=0
rm -rf "$work"
mkdir -p "$work"

ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1"; fails=$((fails + 1)); }

run_demo() { # NAME EXPECTED_STATUS ARGS...
    name=$1
    want=$2
    shift 2
    "$dt" demo --quiet "$@" >"$work/out" 2>"$work/err"
    got=$?
    if [ "$got" = "$want" ]; then ok "$name"; else
        bad "$name: exit status $got, expected $want"
        cat "$work/out" "$work/err"
    fi
}

verify_ok() { # NAME DIR
    "$dt" verify --quiet "$2" >"$work/vout" 2>&1
    if [ $? = 0 ]; then ok "$1 verifies"; else
        bad "$1 does not verify"
        cat "$work/vout"
    fi
}

# ristretto255 (the default): 5 guardians, quorum 3, 0, 1 and 2 absent
for absent in 0 1 2; do
    run_demo "ristretto255, $absent absent" 0 --guardians 5 --quorum 3 --absent $absent --ballots 30 --out "$work/r$absent"
    grep -q "The decrypted tally equals the count of the cast plaintext ballots" "$work/out" ||
        bad "ristretto255, $absent absent: tally differs from the plaintexts"
    verify_ok "ristretto255 record, $absent absent" "$work/r$absent"
done
n=$(ls "$work/r0/encrypted_ballots/demo-device" | wc -l)
[ "$n" = 30 ] && ok "30 encrypted ballots" || bad "expected 30 encrypted ballots, found $n"
n=$(ls "$work/r0/challenged_ballots" | wc -l)
[ "$n" = 3 ] && ok "every tenth ballot challenged" || bad "expected 3 challenged ballots, found $n"
n=$(ls "$work/r0/private_data/input" | wc -l)
[ "$n" = 30 ] && ok "30 plaintext ballots" || bad "expected 30 plaintext ballots, found $n"
m=$(stat -c %a "$work/r0/private_data/trustees/guardian1.key")
[ "$m" = 600 ] && ok "guardian files are 0600" || bad "guardian file mode $m"

# more than n - k absent: refused, and nothing is left behind
run_demo "3 of 5 absent with quorum 3" 1 --guardians 5 --quorum 3 --absent 3 --ballots 5 --out "$work/refused"
grep -q "decryption needs at least 3 of the 5 guardians" "$work/err" && ok "refusal says why" ||
    { bad "refusal message"; cat "$work/err"; }
[ ! -e "$work/refused" ] && ok "no record left" || bad "a refused demo left $work/refused"
ls "$work" | grep -q partial && bad "a partial folder was left" || ok "no partial folder"

# the integer group (ElectionGuard's standard parameters): small, it is slow
for absent in 0 1; do
    run_demo "integer4096, $absent absent" 0 --group integer4096 --guardians 3 --quorum 2 --absent $absent --ballots 6 --out "$work/i$absent"
    verify_ok "integer4096 record, $absent absent" "$work/i$absent"
done
grep -q '"type": "IntegerGroup"' "$work/i0/constants.json" && ok "integer group constants" || bad "integer group constants"

# --until voting: the ceremony is done, the plaintexts written, nothing cast
run_demo "until voting" 0 --until voting --ballots 4 --out "$work/open"
[ -f "$work/open/election_initialized.json" ] && ok "election open" || bad "no election_initialized.json"
n=$(ls "$work/open/private_data/input" | wc -l)
[ "$n" = 4 ] && ok "4 plaintext ballots" || bad "expected 4 plaintext ballots, found $n"
[ ! -e "$work/open/encrypted_ballots" ] && [ ! -e "$work/open/tally.json" ] && ok "nothing cast yet" || bad "ballots or a tally exist"

# bad options
run_demo "quorum above n" 2 --guardians 3 --quorum 4 --out "$work/x"
run_demo "unknown group" 2 --group p256 --out "$work/x"
run_demo "bad number" 2 --ballots many --out "$work/x"
mkdir -p "$work/notanelection" && touch "$work/notanelection/file"
run_demo "refuses to overwrite a folder that is not an election" 2 --out "$work/notanelection"
[ -f "$work/notanelection/file" ] && ok "folder untouched" || bad "folder was touched"

rm -rf "$work"
[ $fails = 0 ] || { echo "$fails failures"; exit 1; }
echo "all passed"
