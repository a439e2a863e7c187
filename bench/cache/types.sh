#!/usr/bin/env bash
# Lists, sets and sorted sets side by side: Calc.Cache (Release) vs redis-server vs garnet-server (when installed by
# run.sh), in one run. redis-benchmark -t lpush,rpop,sadd,spop,zadd,lrange_100 -c 50 at -P 1 and -P 16, servers
# interleaved in each round, median of the rounds per server; then memory per element of a 100k-element list, set
# and sorted set from INFO used_memory deltas (ours vs redis), and LRANGE/ZRANGE of 100 elements of those keys.
# Usage: bench/cache/types.sh [requests-for-P1] [rounds]     Output: tables on stdout, also bench/out/cache-types.md
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=$ROOT/bench/out
N1=${1:-100000}
N16=$((N1 * 4))
ROUNDS=${2:-3}
TESTS=lpush,rpop,sadd,spop,zadd,lrange_100
mkdir -p "$OUT"

source "$(dirname "$0")/../lib.sh"
missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
{ command -v redis-benchmark >/dev/null && command -v redis-cli >/dev/null; } || missing+=(redis-tools)
install_missing "${missing[@]}"
trap stop_pids EXIT

echo "== building Calc.Cache (Release)"
dotnet build cache/Calc.Cache -c Release -o "$OUT/cache" -v q -nologo >/dev/null
GARNET=$OUT/tools/garnet-server

P_OURS=$(free_port); P_REDIS=$(free_port); P_GARNET=$(free_port)
dotnet "$OUT/cache/Calc.Cache.dll" --port "$P_OURS" --bind 127.0.0.1 >"$OUT/types-ours.log" 2>&1 & PIDS+=($!)
redis-server --port "$P_REDIS" --bind 127.0.0.1 --save '' --appendonly no --daemonize no --loglevel warning >"$OUT/types-redis.log" 2>&1 & PIDS+=($!)
SERVERS="ours redis"
if [ -x "$GARNET" ]; then
  "$GARNET" --port "$P_GARNET" --bind 127.0.0.1 >"$OUT/types-garnet.log" 2>&1 & PIDS+=($!)
  SERVERS="ours redis garnet"
else
  echo "garnet-server not installed (bench/cache/run.sh installs it): skipping garnet" >&2
fi
port_of() { case $1 in ours) echo "$P_OURS";; redis) echo "$P_REDIS";; garnet) echo "$P_GARNET";; esac; }
for s in $SERVERS; do wait_for_resp "$(port_of "$s")"; done

echo "== warm-up (not measured)"
for s in $SERVERS; do
  timeout 120 redis-benchmark -h 127.0.0.1 -p "$(port_of "$s")" -t $TESTS -c 50 -P 16 -n 100000 -q >/dev/null 2>&1 || true
done

declare -A RUNS
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
for round in $(seq 1 "$ROUNDS"); do
  for pipe in 1 16; do
    n=$N1; [ "$pipe" = 16 ] && n=$N16
    order=$SERVERS; [ $((round % 2)) = 0 ] && order=$(echo "$SERVERS" | tr ' ' '\n' | tac | tr '\n' ' ')
    for s in $order; do
      redis-cli -h 127.0.0.1 -p "$(port_of "$s")" flushall >/dev/null
      while IFS=, read -r test rps _; do
        test=${test//\"/}; rps=${rps//\"/}; test=${test%% *}
        RUNS[$s/$test/P$pipe]="${RUNS[$s/$test/P$pipe]:-} $rps"
      done < <(timeout 300 redis-benchmark -h 127.0.0.1 -p "$(port_of "$s")" -t $TESTS -c 50 -P "$pipe" -n "$n" --csv 2>/dev/null | tail -n +2)
    done
  done
  echo "   round $round done (load $(cut -d' ' -f1-3 /proc/loadavg))"
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

median() { python3 -c "import statistics,sys; v=[float(x) for x in sys.argv[1:]]; print(int(statistics.median(v)) if v else 0)" $1; }
ratio() { python3 -c "a=$1; b=$2; print(f'{a/b:.2f}x' if b else 'n/a')"; }
{
  echo "| test | Calc.Cache rps | redis rps | garnet rps | ours/redis | ours/garnet |"
  echo "|---|---:|---:|---:|---:|---:|"
  for pipe in 1 16; do
    for test in LPUSH RPOP SADD SPOP ZADD LRANGE_100; do
      o=$(median "${RUNS[ours/$test/P$pipe]:-}"); r=$(median "${RUNS[redis/$test/P$pipe]:-}"); g=$(median "${RUNS[garnet/$test/P$pipe]:-}")
      echo "| $test -P $pipe | $o | $r | $g | $(ratio "$o" "$r") | $(ratio "$o" "$g") |"
    done
  done
  echo
  echo "medians of $ROUNDS rounds; load average (1/5/15 min) at start: $LOAD_START; at end: $LOAD_END"
} | tee "$OUT/cache-types.md"

echo "== memory per element: 100k elements (element:NNNNNN, 14 bytes) in one list, set and sorted set"
python3 - >"$OUT/types-fill.txt" <<'PY'
for cmd, key in (("RPUSH", "biglist"), ("SADD", "bigset"), ("ZADD", "bigzset")):
    for batch in range(100):
        items = []
        for i in range(batch * 1000, batch * 1000 + 1000):
            if cmd == "ZADD":
                items.append(str(i))
            items.append("element:%06d" % i)
        print(cmd, key, " ".join(items))
PY
used() { redis-cli -h 127.0.0.1 -p "$1" info memory | awk -F: '/^used_memory:/ {gsub("\r",""); print $2}'; }
{
  echo
  echo "| 100k elements | Calc.Cache B/element | redis B/element | ours/redis | LRANGE/ZRANGE 0 99 rps ours | redis |"
  echo "|---|---:|---:|---:|---:|---:|"
  for kind in list:RPUSH:biglist set:SADD:bigset zset:ZADD:bigzset; do
    IFS=: read -r name cmd key <<<"$kind"
    declare -A PER=()
    for s in ours redis; do
      p=$(port_of "$s"); redis-cli -h 127.0.0.1 -p "$p" flushall >/dev/null; sleep 0.5
      before=$(used "$p")
      grep "^$cmd " "$OUT/types-fill.txt" | redis-cli -h 127.0.0.1 -p "$p" >/dev/null
      after=$(used "$p")
      PER[$s]=$(( (after - before) / 100000 ))
      case $name in
        list) q="LRANGE $key 0 99";; zset) q="ZRANGE $key 0 99";; *) q="SRANDMEMBER $key";;
      esac
      # shellcheck disable=SC2086
      PER[$s-rps]=$(timeout 120 redis-benchmark -h 127.0.0.1 -p "$p" -c 50 -n 50000 --csv $q 2>/dev/null | tail -n 1 | awk -F, '{gsub("\"",""); printf "%d", $2}')
    done
    echo "| $name | ${PER[ours]} | ${PER[redis]} | $(ratio "${PER[ours]}" "${PER[redis]}") | ${PER[ours-rps]} | ${PER[redis-rps]} |"
  done
  echo
  echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee -a "$OUT/cache-types.md"
