#!/usr/bin/env bash
# Alternating short runs of two RESP servers, for comparisons finer than this machine's run-to-run noise: each round
# runs redis-benchmark against A and B back to back (A B, then B A, ...), and the per-round ratios A/B are reduced to
# their median. Also prints the client's CPU per request and involuntary context switches (from /usr/bin/time), which
# show when a server takes turns on the client's core.
# Usage: bench/cache/alternate.sh [rounds] [tests] [pipeline] [requests]
#   A and B default to Calc.Cache (Release, default options) and redis-server; override with
#   SERVER_A="cmd ..." / SERVER_B="cmd ..." (the script appends --port N; bind them to 127.0.0.1).
# Example: SERVER_A="dotnet bench/out/cache/Calc.Cache.dll --bind 127.0.0.1 --busy-poll-us 0" bench/cache/alternate.sh 8 get
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${1:-8}
TESTS=${2:-set,get}
PIPE=${3:-1}
N=${4:-100000}
OUT=$PWD/bench/out
mkdir -p "$OUT"

source "$(dirname "$0")/../lib.sh"
missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v redis-benchmark >/dev/null || missing+=(redis-tools)
[ -x /usr/bin/time ] || missing+=(time)
install_missing "${missing[@]}"

if [ -z "${SERVER_A:-}" ]; then
  echo "== building Calc.Cache (Release)"
  dotnet build cache/Calc.Cache -c Release -o "$OUT/cache" -v q -nologo >/dev/null
fi
A=${SERVER_A:-"dotnet $OUT/cache/Calc.Cache.dll --bind 127.0.0.1"}
B=${SERVER_B:-"redis-server --bind 127.0.0.1 --save '' --appendonly no --daemonize no --loglevel warning"}

PORT_A=$(free_port); PORT_B=$(free_port)
trap stop_pids EXIT
bash -c "exec $A --port $PORT_A" >"$OUT/alternate-a.log" 2>&1 & PIDS+=($!)
bash -c "exec $B --port $PORT_B" >"$OUT/alternate-b.log" 2>&1 & PIDS+=($!)
for port in "$PORT_A" "$PORT_B"; do
  wait_for_resp "$port"
  # warm-up (JIT tiers, first allocations): not measured
  timeout 60 redis-benchmark -h 127.0.0.1 -p "$port" -t set,get -c 50 -P 16 -n 400000 -r 100000 -q >/dev/null
  timeout 60 redis-benchmark -h 127.0.0.1 -p "$port" -t set,get -c 50 -n 100000 -r 100000 -q >/dev/null
done

# One measured run: "rps rps ... | client-us-per-request involuntary-switches"
run() {
  local rps
  rps=$(/usr/bin/time -f "%U %S %c" -o "$OUT/alternate-time.txt" timeout 120 redis-benchmark -h 127.0.0.1 -p "$1" \
    -t "$TESTS" -c 50 -P "$PIPE" -n "$N" -r 100000 --csv | tail -n +2 | awk -F, '{gsub("\"",""); printf "%d ", $2}')
  read -r user sys invol <"$OUT/alternate-time.txt"
  local tests; tests=$(echo "$TESTS" | tr ',' '\n' | wc -l)
  echo "$rps| $(python3 -c "print(round(($user + $sys) * 1e6 / ($N * $tests), 2))") $invol"
}

echo "round | A rps | B rps | A/B | client us/req A, B | client involuntary switches A, B"
ratios=()
for round in $(seq 1 "$ROUNDS"); do
  if [ $((round % 2)) = 1 ]; then a=$(run "$PORT_A"); b=$(run "$PORT_B"); else b=$(run "$PORT_B"); a=$(run "$PORT_A"); fi
  line=$(python3 - "$a" "$b" <<'EOF'
import sys
(a_rps, a_client), (b_rps, b_client) = (x.split('|') for x in sys.argv[1:3])
a_rps, b_rps = a_rps.split(), b_rps.split()
ratios = ' '.join(f'{int(p) / int(q):.2f}' for p, q in zip(a_rps, b_rps))
(a_us, a_sw), (b_us, b_sw) = a_client.split(), b_client.split()
print(f"{' '.join(a_rps)} | {' '.join(b_rps)} | {ratios} | {a_us}, {b_us} | {a_sw}, {b_sw}")
EOF
)
  echo "$round | $line"
  ratios+=("$(echo "$line" | cut -d'|' -f3)")
done
python3 - "$TESTS" "${ratios[@]}" <<'EOF'
import statistics, sys
tests = sys.argv[1].upper().split(',')
rows = [list(map(float, r.split())) for r in sys.argv[2:]]
print('median A/B: ' + ', '.join(f'{t} {statistics.median(c):.2f}x' for t, c in zip(tests, zip(*rows))))
EOF
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u '+%Y-%m-%d %H:%M UTC'); -P $PIPE, $N requests per test, $ROUNDS rounds"
