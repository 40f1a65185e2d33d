#!/bin/sh
# valgrind memcheck over the CLI end to end: a small election with its board
# (demo), its verification, and the auditor's and voter's views. Any invalid
# read or write, use of uninitialised memory, or definite leak fails.
# Skipped (exit 77) in the sanitizer build, where valgrind cannot run.
# usage: memcheck.sh DETENTE DATA_DIR WORK_DIR
set -u
dt=$1
work=$3
if [ -n "${DT_SANITIZED:-}" ]; then echo "SKIPPED: sanitizer build"; exit 77; fi
command -v valgrind >/dev/null 2>&1 || { echo "SKIPPED: valgrind not installed (Debian package valgrind)"; exit 77; }
rm -rf "$work"
mkdir -p "$work"
fails=0
vg() { # NAME ARGS...: the command under memcheck
    name=$1
    shift
    if valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
        --log-file="$work/$name.vg" "$dt" "$@" >"$work/$name.out" 2>&1; then
        echo "ok: $name under memcheck"
    else
        echo "FAIL: $name under memcheck (exit $?)"; cat "$work/$name.vg" "$work/$name.out" | tail -40
        fails=$((fails + 1))
    fi
}
vg demo demo --quiet --ballots 3 --guardians 3 --quorum 2 --absent 1 --out "$work/e"
vg verify verify --quiet --threads 2 --require-board "$work/e"
vg entries board entries "$work/e/board"
code=$(sed -n 's/.*"confirmation_code": *"\([^"]*\)".*/\1/p' "$(ls "$work"/e/encrypted_ballots/*/*.json | head -1)")
vg receipt board receipt "$work/e" "$code" --out "$work/r"
vg receipt_verify receipt verify "$work/r" --log-key "$work/e/board/log.vkey" --witnesses "$work/e/board/witnesses.vkey" --code "$code"
[ $fails = 0 ] || exit 1
echo "memcheck: clean"
