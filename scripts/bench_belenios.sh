#!/bin/bash
# belenios-tool beside detente, in the same run, on elections of one shape:
# B ballots (BELENIOS_BALLOTS, default 200; 50 with BENCH_QUICK) of S 0/1 selections
# (BELENIOS_SELECTIONS, default 5) in questions of at most 5 answers, at most
# one chosen (belenios: min 0, max 1, no blank answer; detente: `demo
# --selections S`, contests of at most 5 options, votes_allowed 1). Each side
# verifies a whole record (ballots, tally, decryption); the figures are medians
# of BELENIOS_RUNS runs (default 3). Prints JSON lines: belenios-tool's time
# per ballot and per ciphertext (one 0/1 answer with its proof), detente's
# bench_verify lines, and the ratio per selection on one core.
#   usage: scripts/bench_belenios.sh [BUILD_DIR]
# bash for `time` (wall and CPU of a child without GNU time).
set -euo pipefail
build=${1:-build}
cd "$(dirname "$0")/.."
quick=${BENCH_QUICK:+50}
ballots=${BELENIOS_BALLOTS:-${quick:-200}}
nsel=${BELENIOS_SELECTIONS:-5}
runs=${BELENIOS_RUNS:-3}
group=BELENIOS-2048 # 2048-bit p, 256-bit q; Debian's 2.0 has no Ed25519
tool=${BELENIOS_TOOL:-belenios-tool} # another one to try (its path)

# an error is a JSON line too (on the standard output kept as fd 3), never a figure
exec 3>&1
stage="arguments"
fail() {
    printf '{"bench":"belenios_verify","error":"%s"}\n' "$1" >&3
    stage=""
    exit 1
}
# a command that fails under set -e exits here: say at which stage
work=""
on_exit() {
    local rc=$?
    [ -z "$work" ] || rm -rf "$work"
    if [ "$rc" != 0 ] && [ -n "$stage" ]; then
        printf '{"bench":"belenios_verify","error":"failed at: %s"}\n' "$stage" >&3
    fi
}
trap on_exit EXIT
case "$ballots$nsel$runs" in *[!0-9]*) fail "BELENIOS_BALLOTS, BELENIOS_SELECTIONS and BELENIOS_RUNS are numbers" ;; esac
if [ "$ballots" -lt 1 ] || [ "$nsel" -lt 1 ] || [ "$nsel" -gt 500 ] || [ "$runs" -lt 1 ]; then
    fail "need BELENIOS_BALLOTS >= 1, 1 <= BELENIOS_SELECTIONS <= 500, BELENIOS_RUNS >= 1"
fi

if ! command -v "$tool" >/dev/null 2>&1; then
    # no figure without the peer: say so, and let the rest of make bench stand
    echo '{"bench":"belenios_verify","skipped":"belenios-tool is not installed (scripts/deps.sh bench installs Debian'"'"'s belenios-tool)"}'
    exit 0
fi
stage="belenios-tool --version"
version=$("$tool" --version)
pkg=$(dpkg-query -W -f='${Version}' belenios-tool 2>/dev/null || echo unknown)

work=$(mktemp -d)
export BELENIOS_USE_URANDOM=1 TERM=dumb

# median of the first field, and of the second, over lines "WALL_US CPU_US"
median2() {
    sort -n -k1,1 "$1" | awk '{a[NR]=$1} END {printf "%d ", a[int((NR+1)/2)]}'
    sort -n -k2,2 "$1" | awk '{a[NR]=$2} END {printf "%d\n", a[int((NR+1)/2)]}'
}

# one run of CMD...: appends "WALL_US CPU_US" (CPU: user + system) to the file
# OUT; the output of CMD goes to $work/run.log. Fails on a non-zero exit.
time_run() {
    local out=$1 t
    shift
    TIMEFORMAT='%R %U %S'
    t=$( { time "$@" >"$work/run.log" 2>&1; } 2>&1) ||
        fail "$* failed: $(tail -n 3 "$work/run.log" | tr '\n"' ' _')"
    echo "$t" | awk '{printf "%d %d\n", $1 * 1e6 + 0.5, ($2 + $3) * 1e6 + 0.5}' >>"$out"
}

# one run of `belenios-tool election verify` on the belenios election, into OUT
# (called in this shell, not a subshell, so that fail exits)
belenios_verify() {
    time_run "$1" "$tool" election verify --dir "$bel"
    grep -q 'all checks passed' "$work/run.log" || fail "belenios-tool election verify did not pass"
}

# ---- belenios: set-up, B ballots, tally, decryption by 3 trustees ----
bel=$work/belenios
mkdir -p "$bel"
stage="belenios-tool election set-up"
(
    cd "$bel"
    uuid=$("$tool" setup generate-token)
    "$tool" setup generate-credentials --uuid "$uuid" --group "$group" --count "$ballots" >/dev/null
    mv ./*.pubcreds public_creds.json
    mv ./*.privcreds private_creds.txt
    for _ in 1 2 3; do "$tool" setup generate-trustee-key --group "$group" >/dev/null 2>&1; done
    cat ./*.pubkey >public_keys.jsons
    "$tool" setup make-trustees >/dev/null 2>&1
    rm public_keys.jsons
    # the 2.0 template: questions without the later {"type":..., "value":...} wrapper
    awk -v s="$nsel" 'BEGIN {
        printf "{\"description\":\"detente bench\",\"name\":\"detente bench\",\"questions\":["
        for (q = 0; q * 5 < s; q++) {
            printf "%s{\"answers\":[", q ? "," : ""
            for (a = 0; a < 5 && q * 5 + a < s; a++)
                printf "%s\"q%d-a%d\"", a ? "," : "", q + 1, a + 1
            printf "],\"blank\":false,\"min\":0,\"max\":1,\"question\":\"question %d\"}", q + 1
        }
        printf "],\"administrator\":\"bench\",\"credential_authority\":\"bench\"}\n"
    }' >template.json
    "$tool" setup make-election --uuid "$uuid" --group "$group" --template template.json
    cp election.json election.kept.json
    "$tool" archive init >/dev/null 2>&1
    rm -f election.json trustees.json public_creds.json
)
# ciphertexts per ballot, from the election's questions: one per answer (none is blank)
per_ballot=$(grep -o '"answers":\[[^]]*\]' "$bel/election.kept.json" | sed 's/^"answers"://' | tr -cd '"' | wc -c)
per_ballot=$((per_ballot / 2))
[ "$per_ballot" = "$nsel" ] || fail "the belenios election has $per_ballot answers a ballot, not $nsel"
ciphertexts=$((ballots * per_ballot))
nquestions=$(grep -o '"answers":' "$bel/election.kept.json" | wc -l)

# the fixed cost (process start, set-up checks), taken off below
: >"$work/empty"
for _ in $(seq "$runs"); do belenios_verify "$work/empty"; done
median2 "$work/empty" >"$work/m"
read -r empty_wall empty_cpu <"$work/m"

stage="belenios-tool voting, tally and decryption"
(
    cd "$bel"
    while read -r _ cred; do
        printf '%s\n' "$cred" >cred.txt
        # one answer or none in each question, as the question allows
        awk -v s="$nsel" -v seed="$RANDOM" 'BEGIN {
            srand(seed); printf "["
            for (q = 0; q * 5 < s; q++) {
                n = (s - q * 5 < 5) ? s - q * 5 : 5
                pick = int(rand() * (n + 1)) # n: blank
                printf "%s[", q ? "," : ""
                for (a = 0; a < n; a++)
                    printf "%s%d", a ? "," : "", a == pick
                printf "]"
            }
            printf "]\n"
        }' >choice.json
        "$tool" election generate-ballot --privcred cred.txt --ballot choice.json 2>/dev/null >ballot.json
        "$tool" archive add-event --type=Ballot <ballot.json
    done <private_creds.txt
    rm -f cred.txt
    "$tool" archive add-event --type=EndBallots </dev/null
    "$tool" election compute-encrypted-tally 2>/dev/null | "$tool" archive add-event --type=EncryptedTally
    i=1
    for k in ./*.privkey; do
        "$tool" election decrypt --privkey "$k" --trustee-id "$i" 2>/dev/null |
            "$tool" archive add-event --type=PartialDecryption
        i=$((i + 1))
    done
    "$tool" election compute-result 2>/dev/null | "$tool" archive add-event --type=Result
)
# every ballot is on the archive (one Ballot event each)
nev=$(tar -xOf "$bel"/*.bel --wildcards '*.event.json' | grep -o '"type":"Ballot"' | wc -l)
[ "$nev" = "$ballots" ] || fail "the belenios archive holds $nev ballots, not $ballots"

# ---- detente: the same shape on ristretto255 ----
rec=$work/detente
stage="detente demo"
"$build/detente" demo --selections "$nsel" --ballots "$ballots" --out "$rec" --quiet >/dev/null 2>"$work/demo.log" ||
    fail "detente demo --selections $nsel failed: $(tail -n 1 "$work/demo.log" | tr '"' _)"

# ---- the runs, interleaved so that both sides see the same load ----
stage="the runs"
: >"$work/full"
: >"$work/dcli"
: >"$work/dlines"
for _ in $(seq "$runs"); do
    belenios_verify "$work/full"
    if [ -x "$build/bench_verify" ]; then
        # its median of 5 (0.1 s each at 1,000 selections) against one belenios run of seconds
        "$build/bench_verify" "$rec" --threads 1 --threads 2 --runs 5 >>"$work/dlines"
    else
        # without bench_verify: the whole CLI, loading and the board included
        time_run "$work/dcli" "$build/detente" verify --quiet --threads 1 "$rec"
    fi
done
median2 "$work/full" >"$work/m"
read -r full_wall full_cpu <"$work/m"
awk -v v="$version" -v pkg="$pkg" -v g="$group" -v b="$ballots" -v q="$nquestions" -v c="$ciphertexts" \
    -v r="$runs" -v fw="$full_wall" -v fc="$full_cpu" -v ew="$empty_wall" -v ec="$empty_cpu" 'BEGIN {
    printf "{\"bench\":\"belenios_verify\",\"tool\":\"belenios-tool %s\",\"package\":\"%s\",\"group\":\"%s\",", v, pkg, g
    printf "\"ballots\":%d,\"questions_per_ballot\":%d,\"ciphertexts\":%d,\"runs\":%d,", b, q, c, r
    printf "\"median_us\":%d,\"median_cpu_us\":%d,\"empty_median_us\":%d,\"empty_median_cpu_us\":%d,", fw, fc, ew, ec
    printf "\"us_per_ballot\":%.0f,\"us_per_ciphertext\":%.0f,", (fw - ew) / b, (fw - ew) / c
    printf "\"us_per_ballot_cpu\":%.0f,\"us_per_ciphertext_cpu\":%.0f}\n", (fc - ec) / b, (fc - ec) / c
}'
bcpu=$(awk -v a="$full_cpu" -v e="$empty_cpu" -v c="$ciphertexts" 'BEGIN {printf "%.0f", (a - e) / c}')
bwall=$(awk -v a="$full_wall" -v e="$empty_wall" -v c="$ciphertexts" 'BEGIN {printf "%.0f", (a - e) / c}')

# detente's figures: medians over the rounds of bench_verify's lines (each a median of 5)
field() { sed -n "s/.*\"$1\":\([0-9.a-z]*\).*/\1/p"; }
if [ -s "$work/dlines" ]; then
    grep -q '"valid":false' "$work/dlines" && fail "detente verify found the demo record invalid"
    dsel=$(head -n 1 "$work/dlines" | field selections)
    for th in 1 2; do
        grep "\"threads\":$th," "$work/dlines" >"$work/d$th" || fail "bench_verify printed no line for $th threads"
        paste -d ' ' <(field us_per_selection_wall <"$work/d$th") <(field us_per_selection_cpu <"$work/d$th") \
            >"$work/m$th"
        paste -d ' ' <(field load_us_per_selection_wall <"$work/d$th") \
            <(field load_us_per_selection_cpu <"$work/d$th") >"$work/l$th"
        # median2 prints integers: in tenths of a microsecond here
        awk '{printf "%d %d\n", $1 * 10 + 0.5, $2 * 10 + 0.5}' "$work/m$th" >"$work/m$th.x"
        awk '{printf "%d %d\n", $1 * 10 + 0.5, $2 * 10 + 0.5}' "$work/l$th" >"$work/l$th.x"
        read -r w c < <(median2 "$work/m$th.x")
        read -r lw lc < <(median2 "$work/l$th.x")
        awk -v b="$ballots" -v s="$dsel" -v th="$th" -v r="$runs" -v w="$w" -v c="$c" -v lw="$lw" -v lc="$lc" 'BEGIN {
            printf "{\"bench\":\"verify_belenios_shape\",\"group\":\"ristretto255\",\"ballots\":%d,\"selections\":%d,", b, s
            printf "\"threads\":%d,\"runs\":%d,\"us_per_selection_wall\":%.1f,\"us_per_selection_cpu\":%.1f,", th, r, w / 10, c / 10
            printf "\"load_us_per_selection_wall\":%.1f,\"load_us_per_selection_cpu\":%.1f}\n", lw / 10, lc / 10
        }' | tee "$work/dsum$th"
    done
    dcpu=$(field us_per_selection_cpu <"$work/dsum1")
    dload=$(field load_us_per_selection_cpu <"$work/dsum1")
    how="bench_verify --threads 1 (dt_verify on the loaded record)"
else
    median2 "$work/dcli" >"$work/m"
    read -r _ dcpu_total <"$work/m"
    dsel=$ciphertexts
    dcpu=$(awk -v t="$dcpu_total" -v n="$dsel" 'BEGIN {printf "%.1f", t / n}')
    dload=0
    how="detente verify --threads 1 (the whole CLI: loading and the board included)"
fi
# bench_verify counts every ballot's selections, challenged ones included: the same B x S
[ "$dsel" = "$ciphertexts" ] || fail "the detente record has $dsel selections, belenios $ciphertexts"
awk -v g="$group" -v b="$ballots" -v s="$nsel" -v how="$how" -v d="$dcpu" -v l="$dload" -v bc="$bcpu" \
    -v bw="$bwall" -v r="$runs" 'BEGIN {
    printf "{\"bench\":\"verify_vs_belenios\",\"ballots\":%d,\"selections_per_ballot\":%d,\"runs\":%d,", b, s, r
    printf "\"detente_group\":\"ristretto255\",\"detente\":\"%s\",", how
    printf "\"detente_us_per_selection_cpu\":%.1f,\"detente_load_us_per_selection_cpu\":%.1f,", d, l
    printf "\"belenios_group\":\"%s\",\"belenios_us_per_ciphertext_cpu\":%d,\"belenios_us_per_ciphertext\":%d,", g, bc, bw
    printf "\"ratio\":%.1f,\"ratio_with_load\":%.1f,\"goal_ratio\":100}\n", bc / d, bc / (d + l)
}'
stage=""
