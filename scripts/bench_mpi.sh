#!/bin/sh
# Verification under MPI, for docs/scale.md: `detente verify --mpi --timing`
# on 1 and 2 ranks of one thread each (RUNS runs each), bench_verify's
# per-core figure on the same record, and the record's and board's bytes per
# ballot. JSON lines on standard output. The record (a demo election of
# BALLOTS ballots) is made once under WORK and kept.
# usage: scripts/bench_mpi.sh [BUILD_DIR [BALLOTS [RUNS [WORK]]]]
set -eu
build=${1:-build}
ballots=${2:-3000}
runs=${3:-3}
work=${4:-$build/bench-mpi}
rec=$work/rec-$ballots

command -v mpirun >/dev/null 2>&1 || { echo "bench_mpi: mpirun not found (Debian package openmpi-bin)" >&2; exit 1; }
if [ ! -f "$rec/tally.json" ]; then
    rm -rf "$rec"
    mkdir -p "$work"
    "$build/detente" demo --quiet --ballots "$ballots" --out "$rec" >/dev/null 2>&1
fi

# what a record of this size weighs: the public files (private_data/ and
# board/ apart), the ballots alone, and the board (tiles, checkpoint, blobs)
bytes() { find "$@" -type f -printf '%s\n' | awk '{s += $1} END {printf "%d", s}'; }
public=$(cd "$rec" && find . -path ./private_data -prune -o -path ./board -prune -o -type f -printf '%s\n' |
    awk '{s += $1} END {printf "%d", s}')
printf '{"bench":"record_size","ballots":%d,"public_bytes":%s,"ballot_files_bytes":%s,"board_bytes":%s,"board_tiles_bytes":%s,"board_entries":%s}\n' \
    "$ballots" "$public" "$(bytes "$rec/encrypted_ballots")" "$(bytes "$rec/board")" "$(bytes "$rec/board/tile")" \
    "$(sed -n 2p "$rec/board/checkpoint")"

root=""
[ "$(id -u)" = 0 ] && root="--allow-run-as-root"
for ranks in 1 2; do
    i=0
    while [ $i -lt "$runs" ]; do
        # shellcheck disable=SC2086
        mpirun $root --oversubscribe --mca btl self,vader --mca btl_vader_single_copy_mechanism none -n $ranks \
            "$build/detente" verify --mpi --quiet --timing --threads 1 "$rec" 2>&1 >/dev/null | grep '^{"bench"'
        i=$((i + 1))
    done
done
"$build/bench_verify" "$rec" --threads 1 --runs "$runs"
