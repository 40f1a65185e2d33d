#!/bin/sh
# make loadtest: the election server under load, as JSON lines.
#
# An election whose ballots have 20 selections (detente demo --until voting
# --selections 20), its plaintext ballots encrypted beforehand by
# bench/mkballots on every core (what `detente encrypt` does, in one process;
# encryption is not what is measured); then,
# LOADTEST_RUNS times (default 3), a fresh copy of the election is served by
# `detente serve` and bench/loadtest casts the ballots over
# LOADTEST_CONNECTIONS keep-alive connections (default 64) for
# LOADTEST_SECONDS (default 10), and measures the board's raw append rate in
# the same run. Each run prints its lines; the last lines are the median run
# (by steady ballots per second), labelled "median"; then LOADTEST_RATE_RUNS
# (default 3) open-loop runs at LOADTEST_RATE, and last the one of median
# p99, labelled "open loop ... median p99". Each run starts after a sync
# (the runs before written back). The runs' folders are
# removed only at the end: deleting thousands of files just before a run
# slows the next run's file creation (ext4 skips recently freed inodes).
#
# usage: scripts/loadtest.sh BUILD_DIR
# env:   LOADTEST_RUNS, LOADTEST_CONNECTIONS, LOADTEST_SECONDS,
#        LOADTEST_BALLOTS (ballots encrypted beforehand; default 36000: each run
#        must not run out: rate x (warm-up + seconds)), LOADTEST_SELECTIONS (20),
#        LOADTEST_WARMUP (seconds of ballots sent before each run's
#        measured part, default 1: bench/loadtest.c --warmup),
#        LOADTEST_SERVER_THREADS (the server's --threads, default 2),
#        LOADTEST_WORKERS (its --workers; default: one per processor),
#        LOADTEST_RATE (then open-loop runs at this many ballots a second,
#        over LOADTEST_RATE_CONNECTIONS connections, default 128: latency
#        counted from when each ballot was due; default 1500, 0: none),
#        LOADTEST_RATE_RUNS (how many, default 3), LOADTEST_PUBLISH_RUNS
#        (then this many open-loop runs, default 1, of LOADTEST_PUBLISH_SECONDS
#        (20) with the server publishing every LOADTEST_PUBLISH_EVERY (10)
#        seconds: the other runs publish never, to measure the ballots' way)
set -eu
build=${1:-build}
cd "$(dirname "$0")/.."
dt=$(pwd)/$build/detente
lt=$(pwd)/$build/loadtest
mk=$(pwd)/$build/mkballots
runs=${LOADTEST_RUNS:-3}
conns=${LOADTEST_CONNECTIONS:-64}
secs=${LOADTEST_SECONDS:-10}
nballots=${LOADTEST_BALLOTS:-36000}
warmup=${LOADTEST_WARMUP:-1}
nsel=${LOADTEST_SELECTIONS:-20}
sthreads=${LOADTEST_SERVER_THREADS:-2}
workers=${LOADTEST_WORKERS:-}
rate=${LOADTEST_RATE:-1500}
rate_conns=${LOADTEST_RATE_CONNECTIONS:-128}
rate_runs=${LOADTEST_RATE_RUNS:-3}
pub_runs=${LOADTEST_PUBLISH_RUNS:-1}
pub_every=${LOADTEST_PUBLISH_EVERY:-10}
pub_secs=${LOADTEST_PUBLISH_SECONDS:-20}
[ -x "$dt" ] && [ -x "$lt" ] && [ -x "$mk" ] || { echo "loadtest: build first ($dt, $lt, $mk)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/dt-loadtest-XXXXXX")
pid=
cleanup() {
    [ -z "$pid" ] || kill "$pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

echo "loadtest: an election of $nsel selections a ballot, $nballots plaintext ballots" >&2
"$dt" demo --until voting --selections "$nsel" --ballots "$nballots" --guardians 3 --quorum 2 --absent 1 --quiet \
    --out "$work/template" >/dev/null
mkdir "$work/ballots"
"$mk" "$work/template" "$work/ballots"

# one run: serve a fresh copy of the election, cast at it, check the folder
# one_run LABEL FILE PUBLISH_EVERY LOADTEST-ARGS...
one_run() {
    label=$1 out=$2 every=$3
    shift 3
    e=$work/run-$(basename "$out" .json)
    cp -a "$work/template" "$e"
    # The demo's witnesses are folders in the election's own, so they run in
    # the server's process; its first verifies the whole record at every
    # checkpoint (docs/board.md, "The verifying witness": every proof again,
    # which belongs on the witness's own machine). Here it only cosigns, so
    # that a publishing run measures the server's own publish.
    rm -f "$e/private_data/witnesses/w1/verify"
    # the disk quiet first: the copy and the runs before written back, so
    # that their write-back does not fall into this run's figures
    sync
    rm -f "$work/serve.log"
    "$dt" serve "$e" --listen 127.0.0.1:0 --publish-every "$every" --quiet --threads "$sthreads" \
        ${workers:+--workers "$workers"} --connections 4096 --connections-per-ip 4096 2>"$work/serve.log" &
    pid=$!
    i=0
    while [ $i -lt 600 ] && ! grep -q "on port" "$work/serve.log" 2>/dev/null; do sleep 0.05; i=$((i + 1)); done
    port=$(sed -n 's/.* on port \([0-9]*\).*/\1/p' "$work/serve.log")
    [ -n "$port" ] || { cat "$work/serve.log" >&2; exit 1; }
    "$lt" --url "http://127.0.0.1:$port" --ballots "$work/ballots" --duration "$secs" --server-pid "$pid" \
        --warmup "$warmup" --label "$label" "$@" | tee "$out"
    kill -TERM "$pid"
    wait "$pid"
    pid=
    grep "ballots checked in" "$work/serve.log" >&2 || true
    # what the server acknowledged is what the folder holds once the board
    # is published (the ballots' files are written from the log then, as
    # detente close does): the measured part's ballots and the warm-up's
    acc=$(sed -n 's/.*"requests":[0-9]*,"accepted":\([0-9]*\),.*/\1/p' "$out" | head -1)
    wacc=$(sed -n 's/.*"warmup":{[^}]*"accepted":\([0-9]*\).*/\1/p' "$out" | head -1)
    acc=$((acc + ${wacc:-0}))
    t0=$(date +%s.%N)
    "$dt" board publish "$e" >"$work/publish.out" 2>&1 || { cat "$work/publish.out" >&2; exit 1; }
    t1=$(date +%s.%N)
    got=$(find "$e/encrypted_ballots" -name '*.json' | wc -l)
    [ "$acc" = "$got" ] || { echo "loadtest: $label: $acc accepted, $got ballots in the folder" >&2; exit 1; }
    echo "loadtest: $label: board publish wrote the $got ballots' files in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s" >&2
    if grep -q '"ran_out_of_ballots":true' "$out"; then
        echo "loadtest: $label ran out of ballots: raise LOADTEST_BALLOTS" >&2
    fi
}

for r in $(seq "$runs"); do
    one_run "run $r" "$work/run$r.json" 0 --connections "$conns" --log-bench "$work"
done
if [ "$rate" != 0 ]; then
    # open loop: ballots sent at a fixed rate, latency from when each was due
    for r in $(seq "$rate_runs"); do
        one_run "open loop at $rate/s, run $r" "$work/open$r.json" 0 --connections "$rate_conns" --rate "$rate"
    done
    # and with the periodic publish (serve's default, every 10 s): signing,
    # the tiles, the three witnesses' cosignatures (in this process)
    for r in $(seq "$pub_runs"); do
        one_run "open loop at $rate/s, publishing every ${pub_every} s, run $r" "$work/pub$r.json" "$pub_every" \
            --connections "$rate_conns" --rate "$rate" --duration "$pub_secs"
    done
fi

# the median run by steady ballots per second
median=$(for r in $(seq "$runs"); do
    printf '%s %s\n' "$(sed -n 's/.*"steady_ballots_per_s":\([0-9.]*\).*/\1/p' "$work/run$r.json")" "$r"
done | sort -n | awk '{a[NR]=$2} END {print a[int((NR+1)/2)]}')
sed "s/\"label\":\"run $median\"/\"label\":\"median of $runs (run $median)\"/" "$work/run$median.json"
if [ "$rate" != 0 ]; then
    # the open-loop run of median p99
    omed=$(for r in $(seq "$rate_runs"); do
        printf '%s %s\n' "$(sed -n 's/.*"latency_ms":{[^}]*"p99":\([0-9.]*\).*/\1/p' "$work/open$r.json")" "$r"
    done | sort -n | awk '{a[NR]=$2} END {print a[int((NR+1)/2)]}')
    sed "s/\"label\":\"open loop at $rate\/s, run $omed\"/\"label\":\"open loop at $rate\/s, median p99 of $rate_runs (run $omed)\"/" \
        "$work/open$omed.json"
fi
