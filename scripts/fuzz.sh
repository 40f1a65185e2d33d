#!/bin/sh
# Builds the libFuzzer harnesses (fuzz/harnesses.txt) with clang, ASan and
# UBSan, runs each in turn for FUZZ_SECONDS, and prints one JSON line per
# harness:
#   {"harness": ..., "seconds": ..., "execs": ..., "execs_per_s": ..., "crashes": ...}
# Each crashing input (crash-, leak-, timeout- or oom-) is copied into
# fuzz/regressions/<harness>/, where `make check` replays it from then on;
# the script then exits 1.
#
# usage: scripts/fuzz.sh [HARNESS...]       (default: every harness)
# environment:
#   FUZZ_SECONDS  seconds per harness (default 60)
#   FUZZ_TIMEOUT  seconds one input may take before it counts as a crash (default 10)
#   FUZZ_RSS_MB   memory limit of a run, in MiB (default 2048)
#   FUZZ_BUILD    build folder (default build-fuzz); it also keeps each
#                 harness's growing corpus (corpus/<harness>) and logs
#   FUZZ_JOBS     parallel compile jobs (default: the number of CPUs)
# Runs are one at a time, one process each. The corpus of fuzz/corpus and
# the regressions are read, never written.
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
seconds=${FUZZ_SECONDS:-60}
timeout=${FUZZ_TIMEOUT:-10}
rss=${FUZZ_RSS_MB:-2048}
build=${FUZZ_BUILD:-build-fuzz}
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}
case "$build" in /*) ;; *) build=$root/$build ;; esac

for v in "$seconds" "$timeout" "$rss" "$jobs"; do
    case "$v" in '' | *[!0-9]*) echo "fuzz: FUZZ_SECONDS, FUZZ_TIMEOUT, FUZZ_RSS_MB and FUZZ_JOBS are whole numbers, not '$v'" >&2; exit 2 ;; esac
done

# clang with libFuzzer: install it the way scripts/deps.sh installs packages.
can_fuzz() {
    command -v clang >/dev/null 2>&1 || return 1
    t=$(mktemp -d)
    printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' >"$t/t.c"
    ok=0
    clang -fsanitize=fuzzer,address,undefined "$t/t.c" -o "$t/t" >/dev/null 2>&1 || ok=1
    rm -rf "$t"
    return $ok
}
scripts/deps.sh build
if ! can_fuzz; then
    if [ "$(id -u)" = 0 ]; then
        echo "fuzz: installing clang libclang-rt-dev" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >&2
        apt-get install -y -qq --no-install-recommends clang libclang-rt-dev >&2
    fi
    if ! can_fuzz; then
        echo "fuzz: clang cannot link -fsanitize=fuzzer; install them with: sudo apt-get install clang libclang-rt-dev" >&2
        exit 1
    fi
fi

CC=clang cmake -S fuzz -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$jobs" >&2

# harness lines: name source max_len dict [definitions]
list=$(grep '^[a-z]' fuzz/harnesses.txt)
only=" $* "
for h in "$@"; do
    printf '%s\n' "$list" | awk -v h="$h" '$1 == h { f = 1 } END { exit !f }' ||
        { echo "fuzz: no harness '$h' in fuzz/harnesses.txt" >&2; exit 2; }
done

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
found=0
printf '%s\n' "$list" | {
    while read -r name source maxlen dict defs; do
        case "$only" in "  " | *" $name "*) ;; *) continue ;; esac
        work=$build/corpus/$name
        art=$build/artifacts/$name
        log=$build/logs/$name.log
        mkdir -p "$work" "$art" "$build/logs"
        rm -f "$art"/*
        set -- -max_len="$maxlen" -timeout="$timeout" -rss_limit_mb="$rss" -max_total_time="$seconds" \
            -print_final_stats=1 -artifact_prefix="$art/"
        [ "$dict" = - ] || set -- "$@" -dict="fuzz/$dict"
        start=$(date +%s)
        "$build/fuzz_$name" "$@" "$work" "fuzz/corpus/$name" "fuzz/regressions/$name" >"$log" 2>&1 || true
        elapsed=$(($(date +%s) - start))
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
        rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
        crashes=0
        for f in "$art"/crash-* "$art"/leak-* "$art"/timeout-* "$art"/oom-*; do
            [ -f "$f" ] || continue
            crashes=$((crashes + 1))
            cp "$f" "fuzz/regressions/$name/"
            echo "fuzz: $name: $(basename "$f") saved in fuzz/regressions/$name/ (log: $log;" \
                "reproduce: $build/fuzz_$name fuzz/regressions/$name/$(basename "$f"))" >&2
        done
        if [ -z "$execs" ]; then
            echo "fuzz: $name: no final statistics; see $log" >&2
            crashes=$((crashes + 1))
        fi
        [ $crashes -eq 0 ] || found=1
        printf '{"harness": "%s", "seconds": %d, "execs": %d, "execs_per_s": %d, "crashes": %d}\n' \
            "$name" "$elapsed" "${execs:-0}" "${rate:-0}" "$crashes"
    done
    exit $found
}
