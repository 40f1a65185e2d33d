#!/bin/sh
# detente verify --mpi under mpirun (Open MPI): the same verdict and the
# same step lines as detente verify, valid or tampered (a changed response
# in a ballot of rank 1's shard, a removed cast ballot), with or without a
# board; an unreadable ballot on rank 1 is exit 2 with its file named.
# usage: mpi.sh DETENTE DATA_DIR WORK_DIR
set -u
dt=$1
work=$3
fails=0
here=$(cd "$(dirname "$0")" && pwd)

if ! command -v mpirun >/dev/null 2>&1; then
    echo "mpi.sh: SKIPPED: mpirun not found (Debian package openmpi-bin)"
    exit 77
fi
# Open MPI leaks by design: under AddressSanitizer its libraries' leaks are
# suppressed, and only theirs (tests/lsan-mpi.supp). Suppressions match a
# leak's stack by library: its components stay loaded to the end (not
# dlclose'd at MPI_Finalize) and stacks are unwound fully (frames of
# libraries built without frame pointers), so that every frame is named.
if [ "${DT_SANITIZED:-0}" = 1 ]; then
    LSAN_OPTIONS="suppressions=$here/../lsan-mpi.supp:fast_unwind_on_malloc=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
    OMPI_MCA_mca_base_component_disable_dlclose=1
    export LSAN_OPTIONS OMPI_MCA_mca_base_component_disable_dlclose
fi
[ $fails = 0 ] && rm -rf "$work"
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
same() { # same NAME SINGLE MPI: the MPI report is the single one plus its mpi: line
    grep -v '^mpi: ' "$3" >"$3.steps"
    if cmp -s "$2" "$3.steps"; then
        echo "ok: $1"
    else
        echo "FAIL: $1: the reports differ"
        diff "$2" "$3.steps"
        fails=$((fails + 1))
    fi
}

# as root, in a container, on a 2-core machine: what this mpirun needs here
root=""
[ "$(id -u)" = 0 ] && root="--allow-run-as-root"
mpi() { # mpi N ARGS...: detente ARGS... on N ranks
    n=$1
    shift
    # shellcheck disable=SC2086
    mpirun $root --oversubscribe --mca btl self,vader --mca btl_vader_single_copy_mechanism none -n "$n" "$dt" "$@"
}

"$dt" demo --quiet --guardians 3 --quorum 2 --absent 1 --ballots 40 --out "$work/rec" >/dev/null 2>"$work/err" ||
    { echo "FAIL: demo"; cat "$work/err"; exit 1; }
rm -rf "$work/rec/private_data"

# a valid record
"$dt" verify --quiet "$work/rec" >"$work/single" 2>"$work/err"
check "single verifies" 0 $?
mpi 2 verify --mpi --quiet "$work/rec" >"$work/mpi" 2>"$work/err"
check "mpi 2 verifies" 0 $?
if grep -q "built without MPI" "$work/err"; then
    echo "FAIL: mpirun is here, but detente was built without MPI (libopenmpi-dev missing at build time?)"
    exit 1
fi
same "mpi 2: the single report" "$work/single" "$work/mpi"
contains "mpi line" "$work/mpi" "^mpi: 2 ranks over the board's [0-9]* entries: rank 0 \[0, [0-9]*) [1-9][0-9]* ballots; rank 1 \[[0-9]*, [0-9]*) [1-9][0-9]* ballots$"
contains "mpi valid" "$work/mpi" "verdict: VALID"
mpi 2 verify --mpi --quiet --json "$work/rec" >"$work/json" 2>"$work/err"
check "mpi json" 0 $?
contains "json ranks" "$work/json" '"ranks": 2'
contains "json shards" "$work/json" '"shards_by": "board entries"'

# tampered: a response changed in a cast ballot of rank 1's shard (the second
# half of the board's entries), and a cast ballot removed
"$dt" board entries "$work/rec/board" >"$work/entries" 2>"$work/err" || { echo "FAIL: board entries"; exit 1; }
size=$(sed -n 's/^# .*: \([0-9]*\) entries .*/\1/p' "$work/entries")
late="" early=""
for e in $(awk -F'\t' '$2 ~ /^encrypted_ballots\// { print $1 ":" $2 }' "$work/entries"); do
    i=${e%%:*} f=${e#*:}
    grep -q '"state": "CAST"' "$work/rec/$f" || continue
    [ -z "$early" ] && early=$f
    [ "$i" -ge $((size / 2)) ] && late=$f
done
if [ -z "$late" ] || [ -z "$early" ] || [ "$late" = "$early" ]; then
    echo "FAIL: no cast ballot among the board's entries $((size / 2)) to $size (rank 1's)"
    exit 1
fi
r=$(grep -m1 -o '"response": "[A-Za-z0-9+/=]*"' "$work/rec/$late")
pre='"response": "'
case "$r" in
"$pre"A*) new="${pre}B${r#"$pre"?}" ;;
*) new="${pre}A${r#"$pre"?}" ;;
esac
sed -i "0,\\|$r|s||$new|" "$work/rec/$late"
rm "$work/rec/$early"
"$dt" verify --quiet "$work/rec" >"$work/single" 2>"$work/err"
check "single: tampered is invalid" 1 $?
mpi 2 verify --mpi --quiet "$work/rec" >"$work/mpi" 2>"$work/err"
check "mpi 2: tampered is invalid" 1 $?
same "mpi 2: the same failures and messages" "$work/single" "$work/mpi"
contains "step 5 fails" "$work/mpi" "  5  Well-formedness of selection encryptions .* FAIL (1 failures)"
contains "rank 1's failure named" "$work/mpi" "5.E $late: ballot "
contains "step 8 fails" "$work/mpi" "  8  Correctness of ballot aggregation .* FAIL"
contains "the removed file" "$work/mpi" "not in the record)"
mpi 3 verify --mpi --quiet "$work/rec" >"$work/mpi3" 2>"$work/err"
check "mpi 3: tampered is invalid" 1 $?
same "mpi 3: the same failures and messages" "$work/single" "$work/mpi3"

# tiles a rank cannot read: every rank shares the ballot files instead, and B.3 fails on both paths
rm -rf "$work/rec/board/tile/entries"
"$dt" verify --quiet "$work/rec" >"$work/single" 2>"$work/err"
check "single: tiles missing" 1 $?
mpi 2 verify --mpi --quiet "$work/rec" >"$work/mpi" 2>"$work/err"
check "mpi 2: tiles missing" 1 $?
same "mpi 2 tiles missing: the same report" "$work/single" "$work/mpi"
contains "says why" "$work/mpi" "^mpi: 2 ranks over the record's [0-9]* ballot files (board/: entry bundle 0 cannot be read"

# without a board: the ranks share the record's ballot files
rm -rf "$work/rec/board"
"$dt" verify --quiet "$work/rec" >"$work/single" 2>"$work/err"
check "single without board" 1 $?
mpi 2 verify --mpi --quiet "$work/rec" >"$work/mpi" 2>"$work/err"
check "mpi 2 without board" 1 $?
same "mpi 2 without board: the same report" "$work/single" "$work/mpi"
contains "sharded by files" "$work/mpi" "^mpi: 2 ranks over the record's [0-9]* ballot files (the record has no board)"

# an unreadable ballot in rank 1's shard: exit 2 on every rank, the file named
printf '{"ballot_id": ' >"$work/rec/$late"
"$dt" verify --quiet "$work/rec" >"$work/single" 2>"$work/err.single"
check "single: unreadable ballot" 2 $?
mpi 2 verify --mpi --quiet "$work/rec" >"$work/mpi" 2>"$work/err"
check "mpi 2: unreadable ballot" 2 $?
contains "unreadable named" "$work/err" "cannot read the record in .*$late: invalid JSON"

[ $fails = 0 ] && rm -rf "$work"
[ $fails = 0 ] || { echo "$fails failures"; exit 1; }
echo "all passed"
