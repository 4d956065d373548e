#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for the tests: `start DIR` creates a cluster in DIR (a new,
# empty folder), starts it on a free loopback port and prints its URL on stdout; `stop DIR`
# stops it (the caller removes DIR). The superuser `postgres` gets a random password and the
# server accepts only password (SCRAM) connections on 127.0.0.1, like a real shared node.
#
# Uses the Debian binaries (/usr/lib/postgresql/<version>/bin, newest first) or initdb/pg_ctl
# from PATH. initdb and pg_ctl refuse to run as root: as root they run as the `postgres` user.
# Exits 3 when no PostgreSQL binaries are found (the tests then skip, saying so).
set -euo pipefail

usage() { echo "usage: $0 start|stop DIR" >&2; exit 64; }
[ $# -eq 2 ] || usage
action=$1
dir=$2

bindir=""
for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$candidate/initdb" ] && [ -x "$candidate/pg_ctl" ]; then bindir=$candidate; break; fi
done
if [ -z "$bindir" ] && command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    bindir=$(dirname "$(command -v initdb)")
fi
if [ -z "$bindir" ]; then
    echo "pg-test-server: no PostgreSQL binaries (initdb, pg_ctl) on this machine" >&2
    exit 3
fi

as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

case $action in
start)
    [ -d "$dir" ] || { echo "pg-test-server: $dir is not a folder" >&2; exit 64; }
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir"; fi
    chmod 700 "$dir"
    password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
    printf '%s\n' "$password" >"$dir/pwfile"
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir/pwfile"; fi
    chmod 600 "$dir/pwfile"
    as_owner "$bindir/initdb" -D "$dir/data" -U postgres --pwfile="$dir/pwfile" \
        --auth-local=scram-sha-256 --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 \
        --no-sync >"$dir/initdb.log" 2>&1 ||
        { cat "$dir/initdb.log" >&2; exit 1; }
    rm -f "$dir/pwfile"
    # A free port: bind port 0 and read back what the kernel gave (a race with another
    # process is possible but harmless: pg_ctl then fails and the caller retries).
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    # Throw-away data: no fsync, small memory, sockets in the data folder (no system paths).
    opts="-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir"
    opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    opts="$opts -c shared_buffers=32MB -c max_connections=100"
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -o "$opts" -w -t 30 start \
        >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    echo "postgresql://postgres:$password@127.0.0.1:$port/postgres"
    ;;
stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
        as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null
    fi
    ;;
*)
    usage
    ;;
esac
