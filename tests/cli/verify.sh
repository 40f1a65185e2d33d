#!/bin/sh
# detente verify as a user runs it: output, exit status, bad input.
# usage: verify.sh DETENTE DATA_DIR WORK_DIR
set -u
dt=$1
data=$2
work=$3
fails=0
rm -rf "$work"
mkdir -p "$work"

check() { # check NAME EXPECTED_STATUS ACTUAL_STATUS
    if [ "$2" != "$3" ]; then
        echo "FAIL: $1: exit status $3, expected $2"
        fails=$((fails + 1))
    else
        echo "ok: $1"
    fi
}
contains() { # contains NAME FILE PATTERN
    if grep -q -- "$3" "$2"; then
        echo "ok: $1"
    else
        echo "FAIL: $1: output lacks '$3'"
        cat "$2"
        fails=$((fails + 1))
    fi
}

# the sample record is valid, step by step
"$dt" verify "$data/allAvailable" >"$work/out" 2>"$work/err"
check "sample verifies" 0 $?
contains "step 1 passes" "$work/out" "  1  Parameter validation .* pass"
contains "step 5 passes" "$work/out" "  5  Well-formedness of selection encryptions .* pass (700 checked)"
contains "step 11 not applicable" "$work/out" " 11  Correctness of decryptions of contest data .* not applicable"
contains "step 15 not applicable" "$work/out" " 15  .* not applicable (no pre-encrypted ballots)"
contains "verdict" "$work/out" "verdict: VALID"
test "$(grep -c '^ *[0-9][0-9]*  ' "$work/out")" = 18 || { echo "FAIL: not 18 step lines"; fails=$((fails + 1)); }
contains "the sample has no board" "$work/out" "  B  the board .* not applicable (the record has no board/checkpoint)"

# --json
"$dt" verify --json --quiet "$data/allAvailable" >"$work/json" 2>"$work/err"
check "json verifies" 0 $?
contains "json valid" "$work/json" '"valid": true'
contains "json step" "$work/json" '"status": "not_applicable"'

# a tampered copy: exit 1, and the failing step names the file and ballot
cp -r "$data/allAvailable" "$work/rec"
rm -rf "$work/rec/private_data"
sed -i 's/"tally": 7,/"tally": 8,/' "$work/rec/tally.json"
"$dt" verify "$work/rec" >"$work/out" 2>"$work/err"
check "changed tally is invalid" 1 $?
contains "step 10 fails" "$work/out" " 10  Validation of correct decryption of tallies .* FAIL"
contains "names the place" "$work/out" "10.A tally.json: contest contest1, selection selection1"
contains "verdict invalid" "$work/out" "verdict: INVALID"

# unreadable records: exit 2 with the file named
"$dt" verify "$work/nonexistent" >"$work/out" 2>"$work/err"
check "missing folder" 2 $?
contains "missing names the file" "$work/err" "constants.json: cannot read the file"

printf '{"number_of_guardians": 3,' >"$work/rec/election_config.json"
"$dt" verify "$work/rec" >"$work/out" 2>"$work/err"
check "malformed JSON" 2 $?
contains "malformed names the file" "$work/err" "election_config.json: invalid JSON at line"

cp "$data/allAvailable/election_config.json" "$work/rec/"
sed -i 's/"quorum": 3/"quorum": "three"/' "$work/rec/election_config.json"
"$dt" verify "$work/rec" >"$work/out" 2>"$work/err"
check "wrong type" 2 $?
contains "wrong type names the key" "$work/err" "election_config.json: quorum: expected an integer, found a string"

cp "$data/allAvailable/election_config.json" "$work/rec/"
sed -i 's/"quorum": 3/"quorum": 99999999999999999999999/' "$work/rec/election_config.json"
"$dt" verify "$work/rec" >"$work/out" 2>"$work/err"
check "huge integer" 2 $?

cp "$data/allAvailable/election_config.json" "$work/rec/"
f="$work/rec/encrypted_ballots/runWorkflowDevice/eballot-id-2.json"
sed -i 's/"pad": "\([A-Za-z0-9+\/]*\)=*"/"pad": "\1"/' "$f"
"$dt" verify "$work/rec" >"$work/out" 2>"$work/err"
check "bad base64" 2 $?
contains "bad base64 names the key" "$work/err" "eballot-id-2.json: contests\[0\].selections\[0\].encrypted_vote.pad: not base64 of 512 bytes"

# usage errors
"$dt" verify >"$work/out" 2>"$work/err"
check "no argument" 2 $?
"$dt" verify --bogus x >"$work/out" 2>"$work/err"
check "unknown option" 2 $?
"$dt" frobnicate >"$work/out" 2>"$work/err"
check "unknown command" 2 $?
"$dt" help >"$work/out" 2>"$work/err"
check "help" 0 $?
contains "help lists verify" "$work/out" "verify"

rm -rf "$work"
[ $fails = 0 ] || { echo "$fails failures"; exit 1; }
echo "all passed"
