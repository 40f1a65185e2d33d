#!/bin/sh
# A private PostgreSQL server for the tests and benchmarks (Debian's
# postgresql package): its own data folder and Unix socket under DIR, a free
# port on 127.0.0.1, nothing of the machine's own clusters touched.
#
#   scripts/pg.sh start DIR          initdb (first time) and start; prints the URI
#   scripts/pg.sh stop DIR           stop (fast shutdown)
#   scripts/pg.sh crash DIR          kill it (immediate shutdown: every server
#                                    process stopped at once, no checkpoint) and
#                                    start it again: the start replays the WAL
#   scripts/pg.sh run DIR CMD [ARG...]
#                                    start, run CMD with DT_TEST_PG_URI (the URI)
#                                    and DT_TEST_PG_CRASH (a command that runs
#                                    `crash DIR`) in its environment, stop and
#                                    remove DIR/data at the end, whatever happens;
#                                    exits with CMD's status
#
# Without PostgreSQL's programs (/usr/lib/postgresql/*/bin) it says so and
# exits 77, which CTest reports as skipped. initdb refuses to run as root: as
# root the server runs as the user postgres (the package's), or nobody, and
# its folders are theirs. The URI connects over TCP to 127.0.0.1 with a
# password (the URI is kept in DIR/uri, mode 0600); the Unix socket, in DIR/sock (0700),
# is for the server's owner only (DIR/data, DIR/sock and DIR/logs move to a
# folder of /tmp, named in DIR/home, when that user cannot reach DIR). The
# server runs with fsync and
# synchronous_commit on: what the tests check as durable is durable.
set -eu

usage() {
    echo "usage: scripts/pg.sh start|stop|crash DIR, or scripts/pg.sh run DIR CMD [ARG...]" >&2
    exit 2
}
[ $# -ge 2 ] || usage
what=$1
dir=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)

bindir=
for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && bindir=$d
done
if [ -z "$bindir" ]; then
    echo "pg.sh: SKIPPED: PostgreSQL is not installed (Debian package postgresql; scripts/deps.sh check installs it)" >&2
    exit 77
fi

# as root, the server runs as another user
pguser=
if [ "$(id -u)" = 0 ]; then
    if id postgres >/dev/null 2>&1; then pguser=postgres; else pguser=nobody; fi
    if ! command -v runuser >/dev/null 2>&1; then
        echo "pg.sh: SKIPPED: running as root without runuser (util-linux) to start PostgreSQL as $pguser" >&2
        exit 77
    fi
fi
as_pg() {
    if [ -n "$pguser" ]; then runuser -u "$pguser" -- "$@"; else "$@"; fi
}

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
# The server's own folders (data, socket, logs) are under DIR, unless the
# server's user cannot reach DIR (a private home folder): then under a
# folder of /tmp, named in DIR/home
home=$dir
if [ -f "$dir/home" ]; then
    home=$(cat "$dir/home")
elif [ -n "$pguser" ] && ! runuser -u "$pguser" -- test -x "$dir" 2>/dev/null; then
    home=$(mktemp -d /tmp/dt-pg-XXXXXX)
    chmod 755 "$home"
    echo "$home" >"$dir/home"
fi
data=$home/data
sock=$home/sock
logs=$home/logs

pgctl() {
    as_pg "$bindir/pg_ctl" -D "$data" -l "$logs/server.log" "$@"
}

# Starts the server on the port of DIR/port, or on a free one: a port taken
# by someone else makes the server fail to start, and the next is tried.
start() {
    if [ ! -f "$data/PG_VERSION" ]; then
        rm -rf "$data" "$sock" "$logs"
        mkdir -p "$data" "$sock" "$logs"
        chmod 700 "$data" "$sock"
        od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$home/password"
        chmod 600 "$home/password"
        [ -z "$pguser" ] || chown "$pguser" "$data" "$sock" "$logs" "$home/password"
        # --no-sync: initdb's own files need not survive a power cut, this
        # server's commits do (fsync stays on)
        if ! as_pg "$bindir/initdb" -D "$data" -U detente --pwfile="$home/password" --auth-local=scram-sha-256 \
            --auth-host=scram-sha-256 -E UTF8 --locale=C --no-sync --no-instructions >"$dir/initdb.log" 2>&1; then
            cat "$dir/initdb.log" >&2
            echo "pg.sh: initdb failed" >&2
            exit 1
        fi
        cat >>"$data/postgresql.conf" <<EOF
# scripts/pg.sh: a small private server for tests
listen_addresses = '127.0.0.1'
unix_socket_directories = '$sock'
unix_socket_permissions = 0700
fsync = on
synchronous_commit = on
shared_buffers = 32MB
max_connections = 100
dynamic_shared_memory_type = mmap
logging_collector = off
# after a crash, one syncfs of the file system instead of an fsync a file
recovery_init_sync_method = syncfs
log_min_messages = warning
EOF
    fi
    if [ -f "$dir/uri" ] && pgctl status >/dev/null 2>&1; then
        cat "$dir/uri" # already running
        return 0
    fi
    port=$(cat "$dir/port" 2>/dev/null || echo $((30000 + $$ % 20000)))
    tries=0
    while :; do
        if pgctl -w -t 30 -o "-p $port" start >/dev/null 2>&1; then
            break
        fi
        tries=$((tries + 1))
        if [ $tries -ge 20 ]; then
            tail -20 "$logs/server.log" >&2 || true
            echo "pg.sh: the server does not start" >&2
            exit 1
        fi
        port=$((port + 1))
    done
    echo "$port" >"$dir/port"
    uri="postgresql://detente:$(cat "$home/password")@127.0.0.1:$port/postgres"
    (umask 077 && echo "$uri" >"$dir/uri")
    echo "$uri"
}

stop() {
    [ -f "$data/postmaster.pid" ] || return 0
    pgctl -w -t 30 -m fast stop >/dev/null 2>&1 || pgctl -m immediate stop >/dev/null 2>&1 || true
}

case "$what" in
    start)
        start
        ;;
    stop)
        stop
        ;;
    crash)
        pgctl -m immediate stop >/dev/null
        start >/dev/null
        ;;
    run)
        [ $# -ge 1 ] || usage
        trap 'stop; rm -rf "$data"; [ "$home" = "$dir" ] || rm -rf "$home" "$dir/home"' EXIT
        trap 'exit 130' INT TERM
        uri=$(start)
        st=0
        DT_TEST_PG_URI=$uri DT_TEST_PG_CRASH="sh '$here/pg.sh' crash '$dir'" "$@" || st=$?
        exit $st
        ;;
    *)
        usage
        ;;
esac
