#!/bin/sh
# make bench: benchmarks as JSON lines (medians; ratios to DESIGN.md's cost model).
# usage: scripts/bench.sh BUILD_DIR
set -eu
build=${1:-build}
cd "$(dirname "$0")/.."
runs=${BENCH_RUNS:-5}

"$build/bench_group"
# the log store: appends in batches of 1..1024 beside bare SQLite; proofs and memory at 1,000,000 entries
if [ -n "${BENCH_QUICK:-}" ]; then
    "$build/bench_log" --quick
else
    "$build/bench_log"
fi
# the ceremony for 5, 10, 20 guardians; tally and decryption of 1,000 and 100,000 cast ballots
if [ -n "${BENCH_QUICK:-}" ]; then
    "$build/bench_election" --quick --ballots 1000
else
    "$build/bench_election" --ballots 1000 --ballots 100000
fi

# detente verify on the sample record: median of $runs runs, and per selection
rec=tests/data/allAvailable
sel=700 # selections in the sample (step 5 checks 700)
times=""
for i in $(seq "$runs"); do
    t0=$(date +%s%N)
    "$build/detente" verify --quiet "$rec" >/dev/null
    t1=$(date +%s%N)
    times="$times $(( (t1 - t0) / 1000 ))"
done
median=$(printf '%s\n' $times | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
cores=$(nproc)
awk -v rec="$rec" -v runs="$runs" -v cores="$cores" -v m="$median" -v sel="$sel" 'BEGIN {
    printf "{\"bench\":\"verify_sample\",\"group\":\"integer4096\",\"record\":\"%s\",\"runs\":%d,\"cores\":%d,\"median_us\":%d,\"selections\":%d,\"us_per_selection\":%.0f,\"us_per_selection_core\":%.0f,\"cost_model_powm_us\":1290,\"powm_per_selection_core\":%.2f}\n",
        rec, runs, cores, m, sel, m / sel, m * cores / sel, m * cores / sel / 1290 }'

# belenios-tool 2.0 beside detente on elections of one shape, in this run (docs/performance.md, "Peers")
bash scripts/bench_belenios.sh "$build"
