#!/usr/bin/env bash
# The repository contract's operations per provider, side by side in one run (bench/data/Calc.Bench.Data): the
# hand-written JSONB provider, Marten, Redis (StackExchange.Redis), SQLite, and raw Npgsql as the floor, against one
# throwaway PostgreSQL (with pg_stat_statements, to count statements per operation) and one throwaway redis-server,
# both on free loopback ports, both stopped on exit.
# Needs: dotnet SDK, Debian packages postgresql (15) and redis-server. Run as root (postgres runs as the postgres user).
# Usage: bench/data/run.sh [documents-per-round] [rounds] [clients]     Output: table on stdout, also bench/out/data-results.md
#   (or $RESULTS)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=$ROOT/bench/out
DOCS=${1:-2000}
ROUNDS=${2:-3}
CLIENTS=${3:-1}
PG_BIN=/usr/lib/postgresql/15/bin
mkdir -p "$OUT"

source "$(dirname "$0")/../lib.sh"
missing=()
[ -x "$PG_BIN/postgres" ] || missing+=(postgresql)
command -v redis-server >/dev/null || missing+=(redis-server)
install_missing "${missing[@]}"

WORK=$(mktemp -d /tmp/calc-bench-data.XXXXXX)
PGDATA_DIR=$WORK/pgdata
stop_all() {
  [ -f "$PGDATA_DIR/postmaster.pid" ] && su postgres -c "$PG_BIN/pg_ctl -D $PGDATA_DIR -m fast stop" >/dev/null 2>&1 || true
  stop_pids
  [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}
trap stop_all EXIT

# BENCH_DATA_BIN: a folder with a build made earlier (e.g. of the code before a change), used instead of building now.
BIN=${BENCH_DATA_BIN:-$OUT/bench-data}
if [ -z "${BENCH_DATA_BIN:-}" ]; then
  echo "== building Calc.Bench.Data (Release)"
  dotnet build bench/data/Calc.Bench.Data -c Release -o "$BIN" -v q -nologo >/dev/null
fi

P_PG=$(free_port); P_REDIS=$(free_port)
chmod 755 "$WORK"
install -d -o postgres "$PGDATA_DIR" "$WORK/socket"
install -o postgres -m 644 /dev/null "$WORK/pg.log"
su postgres -c "$PG_BIN/initdb -D $PGDATA_DIR -A trust -U postgres -N -E UTF8 --locale=C.UTF-8" >/dev/null
# -F: no fsync (a throwaway server; every provider pays the same); pg_stat_statements counts statements per operation.
su postgres -c "$PG_BIN/pg_ctl -D $PGDATA_DIR -l $WORK/pg.log -w start -o \"-p $P_PG -k $WORK/socket -c listen_addresses=127.0.0.1 -F -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track_utility=on\"" >/dev/null
PG_PID=$(head -1 "$PGDATA_DIR/postmaster.pid")
redis-server --port "$P_REDIS" --bind 127.0.0.1 --save '' --appendonly no --daemonize no --loglevel warning >"$WORK/redis.log" 2>&1 & PID_REDIS=$!; PIDS+=("$PID_REDIS")
wait_for_resp "$P_REDIS"

echo "== running: $DOCS documents per round, $ROUNDS rounds, $CLIENTS client(s); PostgreSQL on $P_PG, redis on $P_REDIS"
timeout 1800 dotnet "$BIN/Calc.Bench.Data.dll" \
  --pg "Host=127.0.0.1;Port=$P_PG;Username=postgres;Database=postgres" \
  --redis "127.0.0.1:$P_REDIS" --sqlite "$WORK/bench.db" \
  --docs "$DOCS" --rounds "$ROUNDS" --clients "$CLIENTS" --pg-pid "$PG_PID" --redis-pid "$PID_REDIS" | tee "${RESULTS:-$OUT/data-results.md}"
echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(date -u '+%Y-%m-%d %H:%M UTC')" | tee -a "${RESULTS:-$OUT/data-results.md}"
