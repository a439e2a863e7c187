#!/usr/bin/env bash
# End-to-end benchmark: seed 000's sequence (POST /calculations, PUT term, PUT finalize, GET until done) through the
# gateway, closed loop, by bench/e2e/Calc.Bench.E2e (HttpClient, one process), against stacks that run side by side
# in one run. A stack ("variant") is one gateway and N Calculations instances on the Marten provider, each variant on
# its own database of one throwaway PostgreSQL (pg_stat_statements loaded) and under its own registry prefix in one
# Calc.Cache; the client rate limit is off (RateLimiting:PermitLimit=0). Variants are named INSTANCES-TELEMETRY:
#   2-on    2 instances, telemetry at its defaults (/metrics served; spans are recorded only with an OTLP endpoint,
#           and this script sets none, so "on" measures metrics and trace-context passing, not span export)
#   1-off   1 instance, OTEL_SDK_DISABLED=true in the gateway and the instances
#   2-on-reset  as 2-on, with Npgsql's pool reset and no auto-preparation (the provider's defaults before issue 16:
#               "No Reset On Close=false;Max Auto Prepare=0" in the connection string, which wins over the defaults)
#   2-on-nocopies  as 2-on, with Calculations:RecentCopies=0 (every term and finalize loads first)
#   2-on-otlp   as 2-on, exporting traces, metrics and logs over OTLP/HTTP (protobuf) to bench/e2e/otlp-sink.py, a
#               sink that accepts and discards them: what "on" costs with a collector or the Aspire dashboard attached.
#               The exporters' defaults apply (batches every 5 s, metrics every 60 s); the sink's own CPU is shown apart
#               and is not in the server total. Telemetry on/off for it is taken against INSTANCES-off.
#   (-reset, -nocopies and -otlp may be combined, in that order: 2-on-reset-nocopies-otlp)
# After a warm-up of every variant, ROUNDS rounds; in each, every client count of CLIENTS runs against every variant
# in rotated order, DURATION seconds each (after WARMUP seconds at that count, not measured). Per step the load
# generator reads, at both ends of the measured window: /proc utime+stime of the gateway, each instance, PostgreSQL
# (postmaster and all backends) and itself; pg_stat_statements calls, pg_stat_database transactions and
# pg_stat_user_tables rows and scans of the variant's database. Printed per variant and client count: medians over
# the rounds of calculations/s, p50, p99 (POST to done), finalize 503s and GETs per calculation, CPU per calculation
# per process and statements per calculation; then the median per-round throughput ratios of each variant to the
# first, and telemetry on/off where both are run with the same instance count. The statements of every step,
# per calculation, are kept in bench/out/e2e/run/statements-*.tsv.
# The run is appended to the "End to end" section of bench/RESULTS.md (RESULTS=/dev/null to leave it alone).
# Everything binds 127.0.0.1, every step has a timeout, and every process started here is stopped by its PID.
# Needs: dotnet SDK, python3, curl, Debian packages postgresql (15, its contrib part ships pg_stat_statements).
# Run as root (PostgreSQL runs as the postgres user).
# Usage: bench/e2e/run.sh   (env: VARIANTS="2-on" CLIENTS="4 16 64" DURATION=15 WARMUP=2 ROUNDS=3 BUSY_RETRY_MS=1
#                            LOG_LEVEL= (the apps' defaults when empty) RESULTS=bench/RESULTS.md KEEP=0
#                            BUILD=1: 0 runs the existing Release builds as they are
#                            PG_SETTINGS="-c pg_stat_statements.track_planning=on": more server options)
# For a profile: the PIDs of every process are in bench/out/e2e/run/pids.txt while it runs; DOTNET_PerfMapEnabled=1 in
# the environment reaches every app (perf record -g -p PID then resolves JIT-compiled frames).
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$root/bench/out/e2e"
read -r -a variants <<<"${VARIANTS:-2-on}"
read -r -a client_counts <<<"${CLIENTS:-4 16 64}"
duration="${DURATION:-15}"
warmup="${WARMUP:-2}"
rounds="${ROUNDS:-3}"
busy_retry_ms="${BUSY_RETRY_MS:-1}"
log_level="${LOG_LEVEL:-}"
results="${RESULTS:-$root/bench/RESULTS.md}"
pg_bin=/usr/lib/postgresql/15/bin
for variant in "${variants[@]}"; do
  [[ "$variant" =~ ^[1-9]-(on|off)(-reset)?(-nocopies)?(-otlp)?$ ]] || { echo "variant '$variant': expected INSTANCES-on or INSTANCES-off, optionally -reset, -nocopies and -otlp, e.g. 2-on" >&2; exit 2; }
  [[ "$variant" != *-off*-otlp ]] || { echo "variant '$variant': -otlp needs telemetry on" >&2; exit 2; }
done
mkdir -p "$out"
rm -rf "${out:?}"/run && mkdir -p "$out/run"

# --- prerequisites --------------------------------------------------------------------------------------------------
source "$(dirname "$0")/../lib.sh"
missing=()
[ -x "$pg_bin/postgres" ] || missing+=(postgresql)
command -v curl >/dev/null || missing+=(curl)
command -v python3 >/dev/null || missing+=(python3)
command -v redis-cli >/dev/null || missing+=(redis-tools) # wait_for_resp: the cache answers PING
install_missing "${missing[@]}"

# --- build (Release) ------------------------------------------------------------------------------------------------
[ -f "$root/artifacts/internal-packages.props" ] || (cd "$root" && timeout 900 ./build.sh pack >"$out/pack.log" 2>&1)
bin() { echo "$root/$1/bin/Release/net10.0/$(basename "$1").dll"; }
for project in cache/Calc.Cache services/Calc.Calculations gateway/Calc.Gateway bench/e2e/Calc.Bench.E2e; do
  [ "${BUILD:-1}" = 1 ] || [ ! -f "$(bin "$project")" ] || continue
  if ! timeout 900 dotnet build "$root/$project" -c Release --nologo -v q >"$out/build.log" 2>&1; then
    # The cache only holds the registry here (it is not measured): a previous build of it will do.
    if [ "$project" = cache/Calc.Cache ] && [ -f "$(bin "$project")" ]; then
      echo "warning: $project does not build now; using its previous build output" >&2
    else
      cat "$out/build.log" >&2; exit 1
    fi
  fi
done
# Each app runs from its output folder, its content root, so that its appsettings.json applies.
# Called with &, so it runs in a subshell that exec replaces: $! is then the app's own PID. The array run_env holds
# more VAR=value settings for the app (env execs in place, so the PID stays the app's).
run_env=()
run() { local project=$1; shift; cd "$(dirname "$(bin "$project")")" && exec env "${run_env[@]}" dotnet "$(bin "$project")" "$@"; }

# --- start everything; stop it by PID on exit -----------------------------------------------------------------------
work=$(mktemp -d /tmp/calc-bench-e2e.XXXXXX)
pgdata="$work/pgdata"
cleanup() {
  stop_pids
  [ -f "$pgdata/postmaster.pid" ] && su postgres -c "$pg_bin/pg_ctl -D $pgdata -m fast -t 30 stop" >/dev/null 2>&1 || true
  [ "${KEEP:-0}" = 1 ] || rm -rf "$work"
}
trap cleanup EXIT

wait_http() { # url [tries of 0.2 s]
  for _ in $(seq 1 "${2:-150}"); do curl -fs -o /dev/null "$1" && return 0; sleep 0.2; done
  echo "not ready: $1" >&2; return 1
}

pg_port=$(free_port)
chmod 755 "$work"
install -d -o postgres "$pgdata" "$work/socket"
install -o postgres -m 644 /dev/null "$work/pg.log"
timeout 60 su postgres -c "$pg_bin/initdb -D $pgdata -A trust -U postgres -N -E UTF8 --locale=C.UTF-8" >/dev/null
# -F: no fsync (a throwaway server). Enough connections for every variant's pools.
timeout 60 su postgres -c "$pg_bin/pg_ctl -D $pgdata -l $work/pg.log -w -t 30 start -o \"-p $pg_port -k $work/socket -c listen_addresses=127.0.0.1 -F -c max_connections=400 -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track_utility=on -c pg_stat_statements.max=10000 ${PG_SETTINGS:-}\"" >/dev/null
pg_pid=$(head -1 "$pgdata/postmaster.pid")
echo "postgres=$pg_pid port=$pg_port" >"$out/run/pids.txt"
pg_admin="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=postgres"
psql_admin() { timeout 30 psql -X -q -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -v ON_ERROR_STOP=1 "$@"; }
psql_admin -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null

export Logging__Console__FormatterName=simple Logging__Console__FormatterOptions__SingleLine=true Internal__Key=bench-key DOTNET_NOLOGO=1
[ -z "$log_level" ] || export Logging__LogLevel__Default="$log_level"
cache_port=$(free_port)
run cache/Calc.Cache --port "$cache_port" --bind 127.0.0.1 >"$out/run/cache.log" 2>&1 &
PIDS+=($!)
wait_for_resp "$cache_port"

# One OTLP sink for every -otlp variant (only when one is run).
otlp_env=() otlp_pid=""
if [[ " ${variants[*]} " == *-otlp\ * ]]; then
  otlp_port=$(free_port)
  python3 "$root/bench/e2e/otlp-sink.py" --port "$otlp_port" --stats "$out/run/otlp-received.tsv" --max-seconds 7200 >"$out/run/otlp-sink.log" 2>&1 &
  PIDS+=($!)
  otlp_pid=$!
  wait_http "http://127.0.0.1:$otlp_port/" 50
  otlp_env=(OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$otlp_port" OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf)
fi

declare -A gateway_url gateway_pid instance_pids database
for variant in "${variants[@]}"; do
  instances=${variant%%-*} telemetry=${variant#*-} telemetry=${telemetry%%-*}
  connection_extra=""
  [[ "$variant" != *-reset* ]] || connection_extra=";No Reset On Close=false;Max Auto Prepare=0"
  recent_copies=1024
  [[ "$variant" != *-nocopies ]] || recent_copies=0
  db="calc_${variant//-/_}"
  database[$variant]=$db
  psql_admin -c "CREATE DATABASE $db" >/dev/null
  otel_disabled=false
  [ "$telemetry" = on ] || otel_disabled=true
  run_env=()
  [[ "$variant" != *-otlp ]] || run_env=("${otlp_env[@]}")
  port=$(free_port)
  gateway_url[$variant]="http://127.0.0.1:$port"
  OTEL_SDK_DISABLED=$otel_disabled RateLimiting__PermitLimit=0 Cache__Endpoint="127.0.0.1:$cache_port" Registry__KeyPrefix="calc-$variant" \
    run gateway/Calc.Gateway --urls "http://127.0.0.1:$port" >"$out/run/gateway-$variant.log" 2>&1 &
  PIDS+=($!)
  gateway_pid[$variant]=$!
  wait_http "${gateway_url[$variant]}/health/ready"
  pids=""
  for i in $(seq 1 "$instances"); do
    port=$(free_port)
    OTEL_SDK_DISABLED=$otel_disabled Gateway__Url="${gateway_url[$variant]}" Service__InstanceId="$variant-$i" Calculations__RecentCopies=$recent_copies \
      Database__Provider=marten Database__ConnectionString="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=$db$connection_extra" \
      run services/Calc.Calculations --urls "http://127.0.0.1:$port" >"$out/run/instance-$variant-$i.log" 2>&1 &
    PIDS+=($!)
    pids+="instance-$i=$! "
    # One at a time: the first applies the schema.
    wait_http "http://127.0.0.1:$port/health/ready"
  done
  instance_pids[$variant]=$pids
  echo "$variant gateway=${gateway_pid[$variant]} $pids" >>"$out/run/pids.txt"
  # Every instance registered with the gateway before it is measured.
  for _ in $(seq 1 150); do
    registered=$(curl -fs "${gateway_url[$variant]}/status" | python3 -c 'import json,sys
s=json.load(sys.stdin); print(sum(len(x.get("instances") or []) for x in s.get("services", []) if x.get("service") == "calculations"))' 2>/dev/null || echo 0)
    [ "$registered" -ge "$instances" ] && break
    sleep 0.2
  done
  [ "$registered" -ge "$instances" ] || { echo "$variant: $registered of $instances instances registered with its gateway" >&2; exit 1; }
  # Telemetry really is on in the one and off in the other (else the comparison is void).
  metrics=$(curl -s -o /dev/null -w '%{http_code}' "${gateway_url[$variant]}/metrics")
  if [ "$telemetry" = on ] && [ "$metrics" != 200 ]; then echo "$variant: the gateway serves no /metrics, telemetry is off" >&2; exit 1; fi
  if [ "$telemetry" = off ] && [ "$metrics" = 200 ]; then echo "$variant: the gateway serves /metrics, telemetry is on" >&2; exit 1; fi
done

loadgen() { # variant clients seconds warmup [extra args]
  local variant=$1 clients=$2 seconds=$3 warm=$4; shift 4
  local pids="gateway=${gateway_pid[$variant]},${instance_pids[$variant]// /,}"
  [[ "$variant" != *-otlp ]] || pids="${pids%,},otlp-sink=$otlp_pid"
  timeout $((seconds + warm + 60)) dotnet "$(bin bench/e2e/Calc.Bench.E2e)" --url "${gateway_url[$variant]}" --clients "$clients" \
    --seconds "$seconds" --warmup-seconds "$warm" --busy-retry-ms "$busy_retry_ms" --pids "${pids%,}" --pg-pid "$pg_pid" \
    --pg "$pg_admin" --pg-database "${database[$variant]}" "$@"
}

# --- measure --------------------------------------------------------------------------------------------------------
echo "== warm-up (JIT, pools; not measured): ${variants[*]}"
for variant in "${variants[@]}"; do loadgen "$variant" 16 5 1 >/dev/null & PIDS+=($!); wait $!; done
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date -u '+%Y-%m-%d %H:%M UTC')
samples="$out/run/samples.tsv"
: >"$samples"
for round in $(seq 1 "$rounds"); do
  for clients in "${client_counts[@]}"; do
    shift_by=$(((round - 1) % ${#variants[@]}))
    order=("${variants[@]:$shift_by}" "${variants[@]:0:$shift_by}")
    for variant in "${order[@]}"; do
      # In the background with its PID kept, so that an interrupted run stops it too.
      loadgen "$variant" "$clients" "$duration" "$warmup" --statements-out "$out/run/statements-$variant-c$clients-r$round.tsv" >"$out/run/step.txt" &
      PIDS+=($!)
      wait $!
      line=$(cat "$out/run/step.txt")
      load=$(cut -d' ' -f1 /proc/loadavg)
      printf '%s\t%s\t%s\t%s\t%s\n' "$round" "$variant" "$clients" "$load" "$line" >>"$samples"
      echo "round $round  $variant  $clients clients  $line  (load $load)"
    done
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# --- report ---------------------------------------------------------------------------------------------------------
table="$out/run/table.md"
python3 - "$samples" "$out/run" >"$table" <<'PY'
import statistics, sys, collections, glob, os
samples, run = sys.argv[1], sys.argv[2]
rows = []
for raw in open(samples):
    rnd, variant, clients, load, line = raw.rstrip("\n").split("\t", 4)
    fields = dict(kv.split("=", 1) for kv in line.split())
    rows.append((int(rnd), variant, int(clients), {k: float(v) for k, v in fields.items()}))
variants = list(dict.fromkeys(r[1] for r in rows))
clients = sorted(set(r[2] for r in rows))
med = lambda xs: statistics.median(xs) if xs else float("nan")
def cell(variant, c, key):
    return med([f[key] for _, v, n, f in rows if v == variant and n == c and key in f])
print("| variant | clients | calculations/s | p50 (ms) | p99 (ms) | finalize 503s per calc | GETs per calc | CPU µs per calc: gateway | instances | PostgreSQL | server total | load generator | statements per calc | transactions per calc |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for variant in variants:
    for c in clients:
        inst = sorted({k for _, v, n, f in rows if v == variant for k in f if k.startswith("cpu_instance-")})
        per = [cell(variant, c, k) for k in inst]
        server = cell(variant, c, "cpu_gateway_us") + sum(per) + cell(variant, c, "cpu_postgres_us")
        inst_text = f"{sum(per):.0f}" + (" (" + " / ".join(f"{p:.0f}" for p in per) + ")" if len(per) > 1 else "")
        print(f"| {variant} | {c} | {cell(variant, c, 'rate'):.0f} | {cell(variant, c, 'p50_ms'):.1f} | {cell(variant, c, 'p99_ms'):.1f} | "
              f"{cell(variant, c, 'busy503_per_calc'):.2f} | {cell(variant, c, 'gets_per_calc'):.2f} | {cell(variant, c, 'cpu_gateway_us'):.0f} | {inst_text} | "
              f"{cell(variant, c, 'cpu_postgres_us'):.0f} | {server:.0f} | {cell(variant, c, 'cpu_loadgen_us'):.0f} | "
              f"{cell(variant, c, 'statements_per_calc'):.1f} | {cell(variant, c, 'xacts_per_calc'):.1f} |")
errors = sum(f.get("errors", 0) for *_, f in rows)
print()
if errors:
    print(f"Errors (calculations that did not end done with 51, or a request that failed): {errors:.0f} in all steps.\n")
def ratio(a, b, c, key):
    per_round = collections.defaultdict(dict)
    for r, v, n, f in rows:
        if n == c and v in (a, b): per_round[r][v] = f[key]
    return med([x[a] / x[b] for x in per_round.values() if a in x and b in x and x[b]])
def server(f):
    return f["cpu_gateway_us"] + f["cpu_postgres_us"] + sum(x for k, x in f.items() if k.startswith("cpu_instance-"))
for r in rows: r[3]["server_us"] = server(r[3])
for a in variants[1:]:
    print(f"- {a} / {variants[0]} throughput (median of per-round ratios): " + ", ".join(f"{c} clients **{ratio(a, variants[0], c, 'rate'):.2f}x**" for c in clients)
          + "; server CPU per calculation " + ", ".join(f"{ratio(a, variants[0], c, 'server_us'):.2f}x" for c in clients))
for v in variants:
    n, t, *rest = v.split("-")
    off = "-".join([n, "off", *[x for x in rest if x != "otlp"]])  # an exporting variant is set against no telemetry
    if t == "on" and off in variants:
        print(f"- telemetry on/off, {v} against {off}: throughput " + ", ".join(f"{c} clients **{ratio(v, off, c, 'rate'):.3f}x**" for c in clients)
              + "; server CPU per calculation " + ", ".join(f"{ratio(v, off, c, 'server_us'):.3f}x" for c in clients))
for v in variants:
    if v.endswith("-otlp"):
        print(f"- {v}: the OTLP sink's own CPU per calculation (not in the server total): " + ", ".join(f"{c} clients {cell(v, c, 'cpu_otlp-sink_us'):.0f} µs" for c in clients))
# The statements of the first variant at the middle client count, last round: what one calculation asks of PostgreSQL.
c = clients[len(clients) // 2]
files = sorted(glob.glob(os.path.join(run, f"statements-{variants[0]}-c{c}-r*.tsv")))
if files:
    print(f"\nStatements per calculation, {variants[0]} at {c} clients ({os.path.basename(files[-1])}; pg_stat_statements, `track_utility` on; mean execution (+ planning, with track_planning) time in the server):\n")
    print("| per calc | mean ms in the server | statement |")
    print("|---:|---:|---|")
    for raw in open(files[-1]).read().splitlines()[:15]:
        per, calls, mean, query = raw.split("\t", 3)
        query = query.replace("|", "\\|")
        print(f"| {float(per):.3f} | {float(mean):.3f} | `{query[:160]}` |")
PY
echo
cat "$table"
echo
echo "load average before/after the measured rounds: $load_before / $load_after"
if [ -n "$otlp_pid" ]; then
  kill "$otlp_pid" 2>/dev/null || true; wait "$otlp_pid" 2>/dev/null || true
  { echo; echo "OTLP received by the sink over the whole run (path, requests, bytes):"; echo; echo '```'; cat "$out/run/otlp-received.tsv" 2>/dev/null; echo '```'; } >>"$table"
  grep -q '^/v1/traces' "$out/run/otlp-received.tsv" 2>/dev/null || echo "**No spans reached the sink: the -otlp variants measured no export.**" >>"$table"
  tail -n 6 "$table"
fi

model=$(lscpu | awk -F': *' '/^Model name/ { print $2; exit }')
memory=$(free -g | awk '/^Mem:/ { print $2 " GB total, " $7 " GB available" }')
section="$out/section.md"
{
  echo "### $started: \`VARIANTS=\"${variants[*]}\" CLIENTS=\"${client_counts[*]}\" DURATION=$duration ROUNDS=$rounds bench/e2e/run.sh\`"
  echo
  echo "$(nproc) cores ($model), $memory; commit $(cd "$root" && git rev-parse --short HEAD)$(cd "$root" && git diff --quiet HEAD -- . 2>/dev/null || echo '+changes');"
  echo "load average $load_before before and $load_after after the measured rounds (\`uptime\`: 1, 5, 15 min). Medians over $rounds"
  echo "round(s) of ${duration} s per step after ${warmup} s at that client count; the load generator shares the cores."
  echo
  cat "$table"
} >"$section"
if [ "$results" != /dev/null ]; then
  touch "$results"
  # Appended at the end of the "## End to end" section (made when there is none): every run is kept.
  awk -v section="$section" '
    function emit() { print ""; while ((getline line < section) > 0) print line; close(section); done = 1 }
    /^## / { if (inside && !done) { emit(); print "" } inside = ($0 == "## End to end") }
    { print }
    END { if (!done) { if (!inside) { print ""; print "## End to end" } emit() } }' "$results" >"$results.tmp" && mv "$results.tmp" "$results"
  echo "run appended to the \"End to end\" section of $results"
fi
