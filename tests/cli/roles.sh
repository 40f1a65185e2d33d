#!/bin/sh
# An election run by its roles, each alone, exchanging only files (docs/roles.md):
# election create; 3 guardians (quorum 2) init, shares, receive; election open;
# ballots by detente encrypt; tally; decryption by guardians 1 and 3 only (share,
# combine, respond, finish); detente verify. Then the refusals: fewer than k,
# a second respond, a bad response named, a wrong passphrase, another election's
# key file, a cheating guardian (test hook DETENTE_TEST_CORRUPT_SHARE) named by
# its victim's complaint and upheld at open, a share changed on the way (the
# honest sender's reveal clears it).
# usage: roles.sh DETENTE DATA_DIR WORK_DIR
set -u
dt=$1
work=$3
fails=0
rm -rf "$work"
mkdir -p "$work/keys" "$work/ckeys"
chmod 700 "$work/keys" "$work/ckeys"
unset DETENTE_TEST_CORRUPT_SHARE
DETENTE_PASSPHRASE='correct horse'
export DETENTE_PASSPHRASE

ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1"; fails=$((fails + 1)); }

# run NAME EXPECTED_STATUS ARGS...: runs detente, output in $work/out and $work/err
run() {
    name=$1
    want=$2
    shift 2
    "$dt" "$@" >"$work/out" 2>"$work/err"
    got=$?
    if [ "$got" = "$want" ]; then ok "$name"; else
        bad "$name: exit status $got, expected $want"
        cat "$work/out" "$work/err"
    fi
}

# says NAME TEXT: the last run printed TEXT (stdout or stderr)
says() {
    if grep -qF -- "$2" "$work/out" "$work/err"; then ok "$1"; else
        bad "$1: no '$2' in the output"
        cat "$work/out" "$work/err"
    fi
}

cat >"$work/manifest.json" <<'EOF'
{
    "election_scope_id": "roles-test",
    "spec_version": "v2.0.0",
    "type": "general",
    "start_date": "2026-11-03T07:00:00Z",
    "end_date": "2026-11-03T20:00:00Z",
    "geopolitical_units": [{"object_id": "county", "name": "County", "type": "county"}],
    "ballot_styles": [{"object_id": "ballot", "geopolitical_unit_ids": ["county"], "party_ids": []}],
    "contests": [
        {"object_id": "mayor", "sequence_order": 1, "electoral_district_id": "county",
         "vote_variation": "one_of_m", "number_elected": 1, "votes_allowed": 1, "option_selection_limit": 1,
         "name": "Mayor", "ballot_selections": [
            {"object_id": "mayor-a", "sequence_order": 1, "candidate_id": "a"},
            {"object_id": "mayor-b", "sequence_order": 2, "candidate_id": "b"}]},
        {"object_id": "council", "sequence_order": 2, "electoral_district_id": "county",
         "vote_variation": "n_of_m", "number_elected": 2, "votes_allowed": 2, "option_selection_limit": 1,
         "name": "Council", "ballot_selections": [
            {"object_id": "council-c", "sequence_order": 1, "candidate_id": "c"},
            {"object_id": "council-d", "sequence_order": 2, "candidate_id": "d"},
            {"object_id": "council-e", "sequence_order": 3, "candidate_id": "e"}]}
    ],
    "candidates": [{"object_id": "a"}, {"object_id": "b"}, {"object_id": "c"}, {"object_id": "d"},
                   {"object_id": "e"}],
    "parties": [],
    "contact_information": {"name": "Test office"}
}
EOF

# ballot ID MAYOR_A MAYOR_B COUNCIL_C COUNCIL_D COUNCIL_E: a plaintext ballot
ballot() {
    cat >"$work/p-$1.json" <<EOF
{"ballot_id": "$1", "ballot_style": "ballot", "contests": [
 {"contest_id": "mayor", "sequence_order": 1, "selections": [
   {"selection_id": "mayor-a", "sequence_order": 1, "vote": $2},
   {"selection_id": "mayor-b", "sequence_order": 2, "vote": $3}], "write_ins": []},
 {"contest_id": "council", "sequence_order": 2, "selections": [
   {"selection_id": "council-c", "sequence_order": 1, "vote": $4},
   {"selection_id": "council-d", "sequence_order": 2, "vote": $5},
   {"selection_id": "council-e", "sequence_order": 3, "vote": $6}], "write_ins": []}]}
EOF
}

E=$work/election
K=$work/keys

# ---- set-up and key ceremony ----
run "election create" 0 election create --manifest "$work/manifest.json" --guardians 3 --quorum 2 "$E"
run "create refuses an existing election" 1 election create --manifest "$work/manifest.json" --guardians 3 --quorum 2 "$E"
run "init guardian 1" 0 guardian init "$E" --index 1 --key "$K/g1.key"
printf 'guardian two passphrase\n' >"$work/pass2"
chmod 600 "$work/pass2"
(unset DETENTE_PASSPHRASE; "$dt" guardian init "$E" --index 2 --key "$K/g2.key" --passphrase-file "$work/pass2" \
    >"$work/out" 2>"$work/err") && ok "init guardian 2 (--passphrase-file)" || { bad "init guardian 2"; cat "$work/err"; }
run "shares before everyone joined: waiting" 1 guardian shares "$E" --key "$K/g1.key"
says "waiting names guardian 3" "commitments-I.json for I = 3"
run "init guardian 3" 0 guardian init "$E" --index 3 --key "$K/g3.key"
m=$(stat -c %a "$K/g1.key")
[ "$m" = 600 ] && ok "key files are 0600" || bad "key file mode $m"
run "init refuses to overwrite a key file" 1 guardian init "$E" --index 1 --key "$K/g1.key"
says "overwrite refusal says why" "refusing to overwrite a key file"
run "a passphrase on the command line is refused" 2 guardian shares "$E" --key "$K/g1.key" --passphrase x
run "missing --index" 2 guardian init "$E" --key "$K/g9.key"

run "wrong passphrase refused" 1 guardian shares "$E" --key "$K/g2.key"
says "wrong passphrase named" "wrong passphrase"
run "missing key file" 1 guardian shares "$E" --key "$K/none.key"
says "missing key file named" "no such key file"

run "shares, guardian 1" 0 guardian shares "$E" --key "$K/g1.key"
(unset DETENTE_PASSPHRASE; "$dt" guardian shares "$E" --key "$K/g2.key" --passphrase-file "$work/pass2" \
    >"$work/out" 2>"$work/err") && ok "shares, guardian 2" || { bad "shares, guardian 2"; cat "$work/err"; }
run "receive before guardian 3's shares: waiting" 1 guardian receive "$E" --key "$K/g1.key"
says "waiting names guardian 3" "waiting for the shares of guardians 3"
run "shares, guardian 3" 0 guardian shares "$E" --key "$K/g3.key"
run "open before the guardians are ready: refused" 1 election open "$E"
says "open says who is not ready" "guardians 1, 2, 3 have not confirmed"
run "receive, guardian 1" 0 guardian receive "$E" --key "$K/g1.key"
(unset DETENTE_PASSPHRASE; "$dt" guardian receive "$E" --key "$K/g2.key" --passphrase-file "$work/pass2" \
    >"$work/out" 2>"$work/err") && ok "receive, guardian 2" || { bad "receive, guardian 2"; cat "$work/err"; }
run "receive, guardian 3" 0 guardian receive "$E" --key "$K/g3.key"
run "election open" 0 election open "$E"
[ -f "$E/election_initialized.json" ] && ok "election_initialized.json written" || bad "no election_initialized.json"
run "open twice refused" 1 election open "$E"

# ---- voting: four ballots, the last challenged ----
ballot b1 1 0 1 1 0
ballot b2 0 1 0 1 1
ballot b3 1 0 1 0 0
ballot b4 0 1 0 0 1
mkdir -p "$E/encrypted_ballots/dev"
for b in b1 b2 b3; do
    "$dt" encrypt --device dev "$E" "$work/p-$b.json" >"$E/encrypted_ballots/dev/eballot-$b.json" 2>"$work/err" ||
        { bad "encrypt $b"; cat "$work/err"; }
done
"$dt" encrypt --device dev --challenge "$E" "$work/p-b4.json" >"$E/encrypted_ballots/dev/eballot-b4.json" \
    2>"$work/err" || { bad "encrypt b4"; cat "$work/err"; }
run "tally" 0 tally "$E"
says "tally counts the cast ballots" "the sum of 3 cast ballots"

# a guardian refuses to decrypt a record that does not verify: here a cast ballot
# copied as a challenged one (its decryption would reveal the cast vote)
cp -r "$E" "$work/copy"
sed -e 's/"ballot_id": "b1"/"ballot_id": "b9"/' -e 's/"state": "CAST"/"state": "CHALLENGED"/' \
    "$E/encrypted_ballots/dev/eballot-b1.json" >"$work/copy/encrypted_ballots/dev/eballot-b9.json"
run "tally (copy)" 0 tally "$work/copy"

# the tally refuses a cast ballot whose ciphertext is not in the group (b2's
# first pad: 32 bytes of 0xff, not canonical), names its file and writes nothing
cp -r "$E" "$work/copy2"
sed -e '0,/"pad": "[^"]*"/s//"pad": "\/\/\/\/\/\/\/\/\/\/\/\/\/\/\/\/\/\/\/\/\/\/\/\/\/\/\/\/\/\/\/\/\/\/\/\/\/\/\/\/\/\/8="/' \
    "$E/encrypted_ballots/dev/eballot-b2.json" >"$work/copy2/encrypted_ballots/dev/eballot-b2.json"
run "tally refuses a ciphertext not in the group" 1 tally "$work/copy2"
says "the refusal names the ballot's file" "eballot-b2.json: a ciphertext is not in the group"
cmp -s "$E/encrypted_tally.json" "$work/copy2/encrypted_tally.json" && ok "encrypted_tally.json unchanged" ||
    bad "encrypted_tally.json changed by a refused tally"
run "decrypt share refuses a record that fails verification" 1 decrypt share "$work/copy" --key "$K/g1.key"
says "the refusal names the step" "refusing to decrypt: the record fails verification step 7"
[ ! -e "$work/copy/decryption" ] && ok "nothing shared" || bad "a share was written"

# ---- decryption by guardians 1 and 3 ----
run "decrypt share, guardian 1" 0 decrypt share "$E" --key "$K/g1.key"
[ -f "$K/g1.key.pending" ] && ok "pending nonces kept beside the key file" || bad "no $K/g1.key.pending"
m=$(stat -c %a "$K/g1.key.pending")
[ "$m" = 600 ] && ok "pending file is 0600" || bad "pending file mode $m"
run "combine with one guardian: refused" 1 decrypt combine "$E"
says "fewer than k says why" "decryption needs at least 2 of the 3 guardians; have 1"
[ ! -e "$E/decryption/challenge.json" ] && ok "no challenge written" || bad "a challenge was written"
run "decrypt share, guardian 3" 0 decrypt share "$E" --key "$K/g3.key"
run "combine" 0 decrypt combine "$E"
says "combine names the guardians" "challenge for guardians 1, 3"
run "respond, guardian 1" 0 decrypt respond "$E" --key "$K/g1.key"
[ ! -e "$K/g1.key.pending" ] && ok "pending nonces deleted" || bad "$K/g1.key.pending left"
run "respond twice: refused" 1 decrypt respond "$E" --key "$K/g1.key"
says "second respond says why" "a nonce answers one challenge only"
run "finish before guardian 3 answered: refused" 1 decrypt finish "$E"
says "finish names the missing response" "response-3.json: missing"
run "respond, guardian 3" 0 decrypt respond "$E" --key "$K/g3.key"
run "combine after the answers: refused" 1 decrypt combine "$E"

# a bad answer is named: guardian 3's first response replaced by guardian 1's
cp "$E/decryption/response-3.json" "$work/response-3.json"
v1=$(grep -A1 '"responses"' "$E/decryption/response-1.json" | tail -1 | tr -d ' ,"')
v3=$(grep -A1 '"responses"' "$E/decryption/response-3.json" | tail -1 | tr -d ' ,"')
sed "s|$v3|$v1|" "$work/response-3.json" >"$E/decryption/response-3.json"
run "finish with a bad response: refused" 1 decrypt finish "$E"
says "the bad guardian is named" "guardian 3's decryption share does not match its public key share"
[ ! -e "$E/tally.json" ] && ok "nothing written" || bad "tally.json written despite a bad response"
cp "$work/response-3.json" "$E/decryption/response-3.json"

run "finish" 0 decrypt finish "$E"
says "finish names the guardians" "decrypted by guardians 1, 3"
for want in "mayor-a 2" "mayor-b 1" "council-c 2" "council-d 2" "council-e 1"; do
    set -- $want
    grep -qE "^ *(mayor|council)? +$1 +$2\$" "$work/out" && ok "tally $1 = $2" || { bad "tally $1 is not $2"; cat "$work/out"; }
done
[ -f "$E/challenged_ballots/dballot-b4.json" ] && ok "challenged ballot decrypted" || bad "no dballot-b4.json"
"$dt" verify --quiet "$E" >"$work/vout" 2>&1 && ok "the record verifies" || { bad "the record does not verify"; cat "$work/vout"; }

# a key file of another election (quorum 3: another H_B)
run "election create, another election" 0 election create --manifest "$work/manifest.json" --guardians 3 --quorum 3 "$work/other"
run "key file of another election refused" 1 guardian shares "$work/other" --key "$K/g1.key"
says "another election named" "another election"

# ---- a cheating guardian, and a share changed on the way ----
C=$work/cheat
CK=$work/ckeys
run "election create (cheat)" 0 election create --manifest "$work/manifest.json" --guardians 3 --quorum 2 "$C"
for i in 1 2 3; do run "init $i (cheat)" 0 guardian init "$C" --index $i --key "$CK/g$i.key"; done
DETENTE_TEST_CORRUPT_SHARE=3 "$dt" guardian shares "$C" --key "$CK/g1.key" >"$work/out" 2>"$work/err" &&
    ok "guardian 1 sends a wrong share to guardian 3 (test hook)" || { bad "cheating shares"; cat "$work/err"; }
run "shares, guardian 2 (cheat)" 0 guardian shares "$C" --key "$CK/g2.key"
run "shares, guardian 3 (cheat)" 0 guardian shares "$C" --key "$CK/g3.key"
# guardian 2's share to guardian 3 is changed on the way (its first base64 digit)
sed -E '/"c1"/{s/": "A/": "B/;t;s/": "./": "A/}' "$C/ceremony/share-2-3.json" >"$work/share" &&
    cp "$work/share" "$C/ceremony/share-2-3.json"
run "guardian 3 receives: complaints" 1 guardian receive "$C" --key "$CK/g3.key"
says "the complaint names guardian 1" "guardian 1's share"
[ -f "$C/ceremony/complaint-3-against-1.json" ] && ok "complaint against guardian 1 published" || bad "no complaint-3-against-1.json"
[ -f "$C/ceremony/complaint-3-against-2.json" ] && ok "complaint against guardian 2 published" || bad "no complaint-3-against-2.json"
run "open with unanswered complaints: refused" 1 election open "$C"
says "open says the complaint awaits an answer" "a complaint awaits its answer"
DETENTE_TEST_CORRUPT_SHARE=3 "$dt" guardian reveal "$C" --key "$CK/g1.key" >"$work/out" 2>"$work/err" &&
    ok "guardian 1 reveals what it sent" || { bad "reveal, guardian 1"; cat "$work/err"; }
run "guardian 2 reveals" 0 guardian reveal "$C" --key "$CK/g2.key"
says "guardian 2 learns its share was changed" "is not the one guardian 2 sent"
run "open: the cheater is upheld" 1 election open "$C"
says "guardian 1 named" "guardian 1 cheated: replace it"
says "guardian 2 cleared" "guardian 3's complaint against guardian 2: complaint dismissed"
[ ! -e "$C/election_initialized.json" ] && ok "nothing written" || bad "election_initialized.json written"
run "guardian 3 receives again" 1 guardian receive "$C" --key "$CK/g3.key"
says "it takes guardian 2's share from the reveal" "took guardian 2's share from its reveal"
says "and still complains about guardian 1" "complaint against guardian 1"

rm -rf "$work"
[ $fails = 0 ] || { echo "$fails failures"; exit 1; }
echo "all passed"
