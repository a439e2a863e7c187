#!/usr/bin/env bash
# A profile of one bench/e2e step: runs bench/e2e/run.sh with one variant and one long step (RESULTS untouched) and,
# while it runs, samples the whole machine with perf (call graphs; DOTNET_PerfMapEnabled=1 so JIT-compiled .NET
# frames have names; W^X off, else perf sees only "memfd:doublemapper") and reports the first instance, the gateway and
# PostgreSQL by process (perf-by-process.py); then dotnet-counters on the first instance (GC, thread pool, exceptions,
# lock contention, request rate, Npgsql), after the recording: its EventPipe session costs the instance CPU of its own.
# pg_stat_statements tracks planning time too. (DOTNET_ReadyToRun=0 would name framework code as well, but then the
# JIT is still the instance's biggest cost minutes in.)
# Reports go to bench/out/e2e/profile/: perf-by-process.txt (per process: by shared object, by symbol self and
# inclusive), counters-instance-1.csv, and the step's statements (statements-*.tsv of run.sh).
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

# One step long enough for the recording below and the reports after it.
step=$((2 * sample + 200))
DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 VARIANTS="$variant" CLIENTS="$clients" DURATION="$step" ROUNDS=1 WARMUP=5 RESULTS=/dev/null \
  PG_SETTINGS="-c pg_stat_statements.track_planning=on" timeout $((step + 900)) "$root/bench/e2e/run.sh" >"$profile/run.log" 2>&1 &
runner=$!
trap 'kill "$runner" 2>/dev/null || true; wait "$runner" 2>/dev/null || true' EXIT

# The measured step starts after the warm-up line and the generator's own start.
for _ in $(seq 1 600); do grep -q '^== warm-up' "$profile/run.log" 2>/dev/null && break; sleep 1; done
grep -q '^== warm-up' "$profile/run.log" || { cat "$profile/run.log" >&2; exit 1; }
sleep 60
line=$(grep "^$variant " "$out/run/pids.txt")
gateway=$(sed -nE 's/.* gateway=([0-9]+).*/\1/p' <<<"$line")
instance=$(sed -nE 's/.* instance-1=([0-9]+).*/\1/p' <<<"$line")

echo "== perf record -a -g, ${sample} s, load $(cut -d' ' -f1 /proc/loadavg)"
# One system-wide recording, so that every process is seen over the same seconds (a list of PIDs fails when a backend
# ends meanwhile); then one report per process.
timeout $((sample + 30)) perf record -a -F "$frequency" -g -o "$profile/perf.data" -- sleep "$sample" >"$profile/perf-record.log" 2>&1 || true
perf_load=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== dotnet-counters: instance-1, ${sample} s"
(cd "$root" && timeout $((sample + 30)) dotnet dotnet-counters collect -p "$instance" --format csv -o "$profile/counters-instance-1.csv" \
  --counters System.Runtime,Microsoft.AspNetCore.Hosting,Microsoft.AspNetCore.Server.Kestrel,System.Net.Http,Npgsql \
  --duration "00:00:$(printf '%02d' "$sample")" >"$profile/counters.log" 2>&1) || true
echo "== perf script, by process"
timeout 900 perf script -i "$profile/perf.data" -F comm,pid,tid,ip,sym,dso 2>/dev/null |
  python3 "$root/bench/e2e/perf-by-process.py" instance-1="$instance" gateway="$gateway" postgres=comm:postgres >"$profile/perf-by-process.txt" || true
sed -i "1i # perf record -a -F $frequency -g, ${sample} s, $clients clients on $variant; load $perf_load at its end" "$profile/perf-by-process.txt"
wait "$runner"
trap - EXIT
cp "$out"/run/statements-*.tsv "$profile/" 2>/dev/null || true
grep -E '^round|^\|' "$profile/run.log" | head -5
echo "profile in $profile"
