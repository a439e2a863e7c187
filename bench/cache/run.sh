#!/usr/bin/env bash
# Side-by-side RESP benchmark: Calc.Cache (Release) vs redis-server vs garnet-server, same machine, same run.
# redis-benchmark SET/GET, 50 clients, pipeline 1 and 16; then memory for 1M keys (DEBUG POPULATE) vs redis.
# Needs: dotnet SDK, Debian packages redis-server + redis-tools. Garnet comes from `dotnet tool install` (optional).
# Usage: bench/cache/run.sh [requests-for-P1] [rounds]     Output: table + ratios on stdout, also bench/out/cache-results.md
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=$ROOT/bench/out
N1=${1:-200000}          # requests per test at -P 1
N16=$((N1 * 8))          # requests per test at -P 16 (bounded: a few seconds each)
ROUNDS=${2:-2}           # best of N rounds, servers interleaved, to damp noise on a shared 2-core box
CLIENTS=50
mkdir -p "$OUT"

source "$(dirname "$0")/../lib.sh"
missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
{ command -v redis-benchmark >/dev/null && command -v redis-cli >/dev/null; } || missing+=(redis-tools)
install_missing "${missing[@]}"

trap stop_pids EXIT

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }   # utime + stime of a server process
pid_of() { case $1 in ours) echo "$PID_OURS";; redis) echo "$PID_REDIS";; garnet) echo "$PID_GARNET";; esac; }

echo "== building Calc.Cache (Release)"
dotnet build cache/Calc.Cache -c Release -o "$OUT/cache" -v q -nologo >/dev/null

GARNET=$OUT/tools/garnet-server
if [ ! -x "$GARNET" ]; then
  timeout 300 dotnet tool install garnet-server --version 2.2.8 --tool-path "$OUT/tools" >/dev/null 2>&1 || echo "garnet-server 2.2.8 could not be installed: skipping garnet" >&2
fi

P_OURS=$(free_port); P_REDIS=$(free_port); P_GARNET=$(free_port)
dotnet "$OUT/cache/Calc.Cache.dll" --port "$P_OURS" --bind 127.0.0.1 --enable-debug-command local >"$OUT/cache-ours.log" 2>&1 & PID_OURS=$!; PIDS+=("$PID_OURS")
redis-server --port "$P_REDIS" --bind 127.0.0.1 --save '' --appendonly no --daemonize no --loglevel warning \
  --enable-debug-command local >"$OUT/cache-redis.log" 2>&1 & PID_REDIS=$!; PIDS+=("$PID_REDIS")
SERVERS="ours redis"
if [ -x "$GARNET" ]; then
  "$GARNET" --port "$P_GARNET" --bind 127.0.0.1 >"$OUT/cache-garnet.log" 2>&1 & PID_GARNET=$!; PIDS+=("$PID_GARNET")
  SERVERS="ours redis garnet"
fi
port_of() { case $1 in ours) echo "$P_OURS";; redis) echo "$P_REDIS";; garnet) echo "$P_GARNET";; esac; }
for s in $SERVERS; do wait_for_resp "$(port_of "$s")"; done

echo "== warm-up (JIT tiers, first-time allocations; not measured)"
for s in $SERVERS; do
  timeout 60 redis-benchmark -h 127.0.0.1 -p "$(port_of "$s")" -t set,get -c $CLIENTS -P 16 -n 400000 -r 100000 -q >/dev/null 2>&1 || true
  timeout 60 redis-benchmark -h 127.0.0.1 -p "$(port_of "$s")" -t set,get -c $CLIENTS -n 50000 -r 100000 -q >/dev/null 2>&1 || true
done

declare -A BEST CPU
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
TCK=$(getconf CLK_TCK)
for round in $(seq 1 "$ROUNDS"); do
  for pipe in 1 16; do
    n=$N1; [ "$pipe" = 16 ] && n=$N16
    for s in $SERVERS; do
      c0=$(cpu_ticks "$(pid_of "$s")")
      # --csv: "SET","123.45",... ; -r spreads keys over 100k names; timeout bounds a stuck run.
      while IFS=, read -r test rps _; do
        test=${test//\"/}; rps=${rps//\"/}
        key="$s/$test/P$pipe"
        prev=${BEST[$key]:-0}
        BEST[$key]=$(python3 -c "print(max($prev, $rps))")
      done < <(timeout 120 redis-benchmark -h 127.0.0.1 -p "$(port_of "$s")" -t set,get -c $CLIENTS -P "$pipe" -n "$n" -r 100000 --csv 2>/dev/null | tail -n +2)
      # Server CPU time per request (SET and GET together), lowest over the rounds: unlike rps, it hardly depends on
      # what else the shared machine runs.
      us=$(python3 -c "print(round(($(cpu_ticks "$(pid_of "$s")") - $c0) * 1e6 / $TCK / (2 * $n), 2))")
      key="$s/P$pipe"; prev=${CPU[$key]:-}
      if [ -z "$prev" ]; then CPU[$key]=$us; else CPU[$key]=$(python3 -c "print(min($prev, $us))"); fi
    done
  done
  echo "   round $round done"
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

ratio() { python3 -c "a=$1; b=$2; print(f'{a/b:.2f}x' if b else 'n/a')"; }
{
  echo "| test | Calc.Cache rps | redis rps | garnet rps | ours/redis | ours/garnet |"
  echo "|---|---:|---:|---:|---:|---:|"
  for pipe in 1 16; do
    for test in SET GET; do
      o=${BEST[ours/$test/P$pipe]:-0}; r=${BEST[redis/$test/P$pipe]:-0}; g=${BEST[garnet/$test/P$pipe]:-0}
      echo "| $test -P $pipe | ${o%.*} | ${r%.*} | ${g%.*} | $(ratio "$o" "$r") | $(ratio "$o" "$g") |"
    done
  done
  echo
  echo "| server CPU per request (us, SET+GET, lowest round) | Calc.Cache | redis | garnet |"
  echo "|---|---:|---:|---:|"
  for pipe in 1 16; do
    echo "| -P $pipe | ${CPU[ours/P$pipe]:-n/a} | ${CPU[redis/P$pipe]:-n/a} | ${CPU[garnet/P$pipe]:-n/a} |"
  done
  echo
  echo "load average (1/5/15 min) at start: $LOAD_START; at end: $LOAD_END"
} | tee "$OUT/cache-results.md"

echo "== memory for 1M keys (DEBUG POPULATE 1000000: key:N -> value:N)"
mem_line() { # name pid port
  redis-cli -h 127.0.0.1 -p "$3" flushall >/dev/null
  sleep 1
  local before; before=$(rss_kb "$2")
  timeout 120 redis-cli -h 127.0.0.1 -p "$3" debug populate 1000000 >/dev/null
  sleep 2
  local keys used rss
  keys=$(redis-cli -h 127.0.0.1 -p "$3" dbsize)
  used=$(redis-cli -h 127.0.0.1 -p "$3" info memory | awk -F: '/^used_memory:/ {gsub("\r",""); print $2}')
  rss=$(rss_kb "$2")
  echo "$1 $keys $used $before $rss"
}
read -r _ keys_o used_o before_o rss_o < <(mem_line ours "$PID_OURS" "$P_OURS")
read -r _ keys_r used_r before_r rss_r < <(mem_line redis "$PID_REDIS" "$P_REDIS")
{
  echo
  echo "| 1M keys | keys | INFO used_memory (MB) | RSS before (MB) | RSS after (MB) | RSS growth per key (B) |"
  echo "|---|---:|---:|---:|---:|---:|"
  echo "| Calc.Cache | $keys_o | $((used_o / 1048576)) | $((before_o / 1024)) | $((rss_o / 1024)) | $(( (rss_o - before_o) * 1024 / keys_o )) |"
  echo "| redis | $keys_r | $((used_r / 1048576)) | $((before_r / 1024)) | $((rss_r / 1024)) | $(( (rss_r - before_r) * 1024 / keys_r )) |"
  echo
  echo "RSS ours/redis after 1M keys: $(ratio "$rss_o" "$rss_r")"
} | tee -a "$OUT/cache-results.md"
echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(date -u '+%Y-%m-%d %H:%M UTC'); P1 n=$N1, P16 n=$N16, $CLIENTS clients, best of $ROUNDS" | tee -a "$OUT/cache-results.md"
