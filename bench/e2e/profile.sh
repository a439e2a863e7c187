#!/usr/bin/env bash
# A profile of one bench/e2e step: runs bench/e2e/run.sh with one variant and one long step (RESULTS untouched) and,
# while it runs, samples each process in turn with perf (call graphs; DOTNET_PerfMapEnabled=1 so JIT-compiled .NET
# frames have names): the first instance, the gateway, PostgreSQL's backends; then dotnet-counters on the first
# instance (GC, thread pool, exceptions, lock contention, request rate). pg_stat_statements tracks planning time too.
# Reports go to bench/out/e2e/profile/: perf-<process>.txt (symbols by self time, and by shared object),
# counters-instance-1.csv, and the step's statements (statements-*.tsv of run.sh).
# Needs perf (Debian linux-perf) and the local dotnet tools (dotnet tool restore). Run as root.
# Usage: bench/e2e/profile.sh   (env: VARIANT=2-on CLIENTS=16 SAMPLE_SECONDS=15 FREQUENCY=499 BUILD=1)
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$root/bench/out/e2e"
profile="$out/profile"
variant="${VARIANT:-2-on}"
clients="${CLIENTS:-16}"
sample="${SAMPLE_SECONDS:-15}"
frequency="${FREQUENCY:-499}"
command -v perf >/dev/null || { echo "perf is missing (apt-get install -y linux-perf)" >&2; exit 1; }
(cd "$root" && timeout 300 dotnet tool restore >/dev/null)
rm -rf "$profile" && mkdir -p "$profile"

# One step long enough for the four samples below, after the warm-up.
step=$((4 * sample + 60))
DOTNET_PerfMapEnabled=1 VARIANTS="$variant" CLIENTS="$clients" DURATION="$step" ROUNDS=1 WARMUP=5 RESULTS=/dev/null \
  PG_SETTINGS="-c pg_stat_statements.track_planning=on" timeout $((step + 900)) "$root/bench/e2e/run.sh" >"$profile/run.log" 2>&1 &
runner=$!
trap 'kill "$runner" 2>/dev/null || true; wait "$runner" 2>/dev/null || true' EXIT

# The measured step starts after the warm-up line and the generator's own start.
for _ in $(seq 1 600); do grep -q '^== warm-up' "$profile/run.log" 2>/dev/null && break; sleep 1; done
grep -q '^== warm-up' "$profile/run.log" || { cat "$profile/run.log" >&2; exit 1; }
sleep 40
pg_pid=$(sed -nE 's/^postgres=([0-9]+).*/\1/p' "$out/run/pids.txt")
line=$(grep "^$variant " "$out/run/pids.txt")
gateway=$(sed -nE 's/.* gateway=([0-9]+).*/\1/p' <<<"$line")
instance=$(sed -nE 's/.* instance-1=([0-9]+).*/\1/p' <<<"$line")

record() { # name pids...  (the reports are cut with head: pipefail off in here)
  set +o pipefail
  local name=$1; shift
  local list; list=$(tr ' ' ',' <<<"$*")
  echo "== perf: $name ($list), ${sample} s, load $(cut -d' ' -f1 /proc/loadavg)"
  timeout $((sample + 30)) perf record -F "$frequency" -g -o "$profile/perf-$name.data" -p "$list" -- sleep "$sample" >/dev/null 2>&1 || true
  {
    echo "# $name: perf record -F $frequency -g, ${sample} s; load $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "## by shared object (self)"
    timeout 300 perf report -i "$profile/perf-$name.data" --no-children --sort dso --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' | head -25
    echo "## by symbol (self)"
    timeout 300 perf report -i "$profile/perf-$name.data" --no-children --sort dso,sym --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -80
    echo "## by symbol (with callees)"
    timeout 300 perf report -i "$profile/perf-$name.data" --children --sort sym --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -80
  } >"$profile/perf-$name.txt"
  set -o pipefail
}
record instance-1 "$instance"
record gateway "$gateway"
# shellcheck disable=SC2046 # a list of PIDs
record postgres "$pg_pid" $(ps -o pid= --ppid "$pg_pid")
echo "== dotnet-counters: instance-1, ${sample} s"
(cd "$root" && timeout $((sample + 30)) dotnet dotnet-counters collect -p "$instance" --format csv -o "$profile/counters-instance-1.csv" \
  --counters System.Runtime,Microsoft.AspNetCore.Hosting,Microsoft.AspNetCore.Server.Kestrel,System.Net.Http,Npgsql \
  --duration "00:00:$(printf '%02d' "$sample")" >/dev/null 2>&1) || true
wait "$runner"
trap - EXIT
cp "$out"/run/statements-*.tsv "$profile/" 2>/dev/null || true
grep -E '^round|^\|' "$profile/run.log" | head -5
echo "profile in $profile"
