#!/usr/bin/env bash
# Service benchmark, side by side in one run: the CPU a Calculations instance spends per request, for GET of a
# finished calculation and for POST /calculations (create), of
#   service    this tree's build (services/Calc.Calculations, Release)
#   baseline   another build of the service given by BASELINE_DLL (e.g. main's, built into another folder), if set
#   bare       Kestrel with two minimal API endpoints answering a similar JSON body (bench/service/bare.cs): the floor
# Each instance runs on SQLite with telemetry on (the default). wrk -t THREADS -c CONNECTIONS -d DURATION per target
# and operation, 1 warm-up pass, then ROUNDS rounds in rotated order; CPU per request is the process's user+system
# ticks (/proc/<pid>/stat) over the requests wrk completed; medians over the rounds, and the median of the per-round
# service/baseline and service/bare ratios. Prints a Markdown table; the load average before and after.
# Everything binds 127.0.0.1, every step has a timeout, and every process started here is stopped by its PID.
# Usage: bench/service/run.sh   (env: BASELINE_DLL=… CONNECTIONS=32 THREADS=2 DURATION=5 ROUNDS=5 PORT_BASE=18700)
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$root/bench/out/service"
connections="${CONNECTIONS:-32}"
threads="${THREADS:-2}"
duration="${DURATION:-5}"
rounds="${ROUNDS:-5}"
base="${PORT_BASE:-18700}"
baseline_dll="${BASELINE_DLL:-}"
mkdir -p "$out" && rm -rf "${out:?}"/run && mkdir -p "$out/run"
source "$(dirname "$0")/../lib.sh"
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v curl >/dev/null || missing+=(curl)
install_missing "${missing[@]}"

# --- build (Release) ------------------------------------------------------------------------------------------------
[ -f "$root/artifacts/internal-packages.props" ] || (cd "$root" && timeout 900 ./build.sh pack >"$out/pack.log" 2>&1)
timeout 900 dotnet build "$root/services/Calc.Calculations" -c Release --nologo -v q >"$out/build.log" 2>&1 || { cat "$out/build.log" >&2; exit 1; }
timeout 900 dotnet build "$root/bench/service/bare.cs" -c Release -o "$out/bare" --nologo -v q >"$out/build-bare.log" 2>&1 || { cat "$out/build-bare.log" >&2; exit 1; }
service_dll="$root/services/Calc.Calculations/bin/Release/net10.0/Calc.Calculations.dll"

# --- start; stop by PID on exit --------------------------------------------------------------------------------------
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
wait_http() { for _ in $(seq 1 300); do curl -fs -o /dev/null "$1" && return 0; sleep 0.2; done; echo "not ready: $1" >&2; return 1; }
# Each app runs from its output folder (its content root, so its appsettings.json applies); exec keeps $! its PID.
run() { local dll=$1; shift; cd "$(dirname "$dll")" && exec dotnet "$dll" "$@"; }
export Logging__Console__FormatterName=simple Logging__LogLevel__Default=Warning

declare -A port pid
targets=(service)
[ -z "$baseline_dll" ] || targets+=(baseline)
targets+=(bare)
declare -A dll=([service]="$service_dll" [baseline]="$baseline_dll" [bare]="$out/bare/bare.dll")
i=0
for target in "${targets[@]}"; do
  port[$target]=$((base + i)); i=$((i + 1))
  if ss -ltn "sport = :${port[$target]}" | grep -q LISTEN; then echo "port ${port[$target]} is in use: set PORT_BASE" >&2; exit 1; fi
  Database__Provider=sqlite Database__ConnectionString="Data Source=$out/run/$target.db" Service__InstanceId="bench-$target" \
    run "${dll[$target]}" --urls "http://127.0.0.1:${port[$target]}" >"$out/run/$target.log" 2>&1 &
  pids+=($!); pid[$target]=$!
done

declare -A get_url
for target in "${targets[@]}"; do
  if [ "$target" = bare ]; then
    wait_http "http://127.0.0.1:${port[$target]}/calculations/x"
    get_url[$target]="http://127.0.0.1:${port[$target]}/calculations/0197f0e2c4d27b3e9d3f6a1b2c3d4e5f"
    continue
  fi
  wait_http "http://127.0.0.1:${port[$target]}/health/ready"
  u="http://127.0.0.1:${port[$target]}"
  id=$(curl -fs -X POST "$u/calculations" -H 'Content-Type: application/json' -d '{"type":"addition","init":39}' | sed -E 's/.*"id":"([^"]+)".*/\1/')
  curl -fs -o /dev/null -X PUT "$u/calculations/$id" -H 'Content-Type: application/json' -d '{"term":12}'
  curl -fs -o /dev/null -X PUT "$u/calculations/$id/finalize"
  for _ in $(seq 1 100); do curl -fs "$u/calculations/$id" | grep -q '"status":"done"' && break; sleep 0.1; done
  get_url[$target]="$u/calculations/$id"
done
cat >"$out/run/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"type":"addition","init":39}'
wrk.headers["Content-Type"] = "application/json"
LUA

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "n/a"; else if (NR % 2) print a[(NR + 1) / 2]; else printf "%.2f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
measure() { # target op seconds -> "requests cpu_us_per_request"
  local target=$1 op=$2 secs=$3 file="$out/run/wrk-$1-$2.txt" t0 t1 n
  local url="${get_url[$target]}" script=()
  if [ "$op" = post ]; then url="http://127.0.0.1:${port[$target]}/calculations"; script=(-s "$out/run/post.lua"); fi
  t0=$(ticks "${pid[$target]}")
  timeout $((secs + 30)) wrk -t"$threads" -c"$connections" -d"${secs}s" "${script[@]}" "$url" >"$file"
  t1=$(ticks "${pid[$target]}")
  n=$(awk '/requests in/ { print $1 }' "$file")
  if grep -qE "Non-2xx|Socket errors" "$file"; then echo "  $target $op: $(grep -E "Non-2xx|Socket errors" "$file" | tr '\n' ' ')" >&2; fi
  awk -v t=$((t1 - t0)) -v n="$n" -v hz="$hz" 'BEGIN { printf "%d %.1f\n", n, t * 1e6 / hz / n }'
}
for target in "${targets[@]}"; do for op in get post; do measure "$target" "$op" 3 >/dev/null; done; done # warm-up
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
samples="$out/run/samples.txt"; : >"$samples"
for round in $(seq 1 "$rounds"); do
  shift_by=$(((round - 1) % ${#targets[@]}))
  order=("${targets[@]:$shift_by}" "${targets[@]:0:$shift_by}")
  for op in get post; do
    for target in "${order[@]}"; do
      read -r n us < <(measure "$target" "$op" "$duration")
      echo "round $round  $op  $target  $n requests  $us us CPU/request  (load $(cut -d' ' -f1 /proc/loadavg))"
      echo "$round $op $target $n $us" >>"$samples"
    done
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
col() { awk -v o="$1" -v t="$2" '$2 == o && $3 == t { print $5 }' "$samples" | median; }
ratio() { awk -v o="$1" -v a="$2" -v b="$3" '$2 == o && $3 == a { x[$1] = $5 } $2 == o && $3 == b { y[$1] = $5 }
  END { for (r in x) if (r in y && y[r] > 0) printf "%.3f\n", x[r] / y[r] }' "$samples" | median; }
echo
printf '| operation | %s |\n' "$(printf '%s CPU/request (µs) | ' "${targets[@]}" | sed 's/ | $//')"
printf '|---|%s\n' "$(printf -- '---:|%.0s' "${targets[@]}")"
for op in get post; do
  row="| $([ $op = get ] && echo 'GET /calculations/{id} (done)' || echo 'POST /calculations')"
  for target in "${targets[@]}"; do row="$row | $(col $op "$target")"; done
  echo "$row |"
done
echo
for op in get post; do
  [ -z "$baseline_dll" ] || echo "$op: service/baseline $(ratio $op service baseline)x (median of per-round ratios)"
  echo "$op: service/bare $(ratio $op service bare)x"
done
echo "load average before/after the measured rounds: $load_before / $load_after"
