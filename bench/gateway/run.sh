#!/usr/bin/env bash
# Gateway benchmark, side by side in one run: wrk against GET /calculations/{id} of one Calculations instance
#   direct    straight to the instance
#   nginx     through nginx (Debian) as a reverse proxy to the same instance: upstream keep-alive connections,
#             worker_processes = the number of cores
#   gateway   through Calc.Gateway (registry in Calc.Cache) to the same instance, telemetry on (the default: every
#             request traced at the parent's decision, i.e. all of wrk's, and /metrics served)
#   gateway-off  a second Calc.Gateway beside it, same registry and instance, with OTEL_SDK_DISABLED=true
#   gateway-otlp a third, telemetry on and exporting traces, metrics and logs over OTLP/HTTP (protobuf) to
#             bench/e2e/otlp-sink.py, which accepts and discards them: every request's spans are recorded, batched
#             and sent, as with a collector or the Aspire dashboard attached (the sink's CPU is not the gateway's)
# Same wrk settings for all five (-t THREADS -c CONNECTIONS -d DURATION), a warm-up of every target first, then
# ROUNDS rounds, each round running every target once in a rotated order, so that the load other processes put on
# the machine falls on all targets alike. Per target it prints the medians over the rounds of requests/s and p99, the
# p99 each proxy adds over direct in the same round, and the CPU time each proxy process (nginx: its workers) and the
# instance used per request (from /proc, less sensitive to the machine's load than requests/s); and the median of the
# per-round gateway/nginx, gateway-off/nginx, gateway-otlp/nginx, gateway/gateway-off and gateway-otlp/gateway-off
# throughput ratios (the last two are telemetry's cost, without and with export).
# The run goes first in the "Gateway" section of bench/RESULTS.md, above the earlier runs (the section is made when
# there is none; RESULTS=/dev/null or another file to leave it as it is).
# Everything binds 127.0.0.1, every step has a timeout, and every process started here is stopped by its PID.
# Usage: bench/gateway/run.sh   (env: CONNECTIONS=64 THREADS=2 DURATION=5 ROUNDS=5 PORT_BASE=18600 RESULTS=bench/RESULTS.md)
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$root/bench/out/gateway"
connections="${CONNECTIONS:-64}"
threads="${THREADS:-2}"
duration="${DURATION:-5}"
rounds="${ROUNDS:-5}"
base="${PORT_BASE:-18600}"
results="${RESULTS:-$root/bench/RESULTS.md}"
cache_port=$base instance_port=$((base + 1)) gateway_port=$((base + 2)) nginx_port=$((base + 3)) gateway_off_port=$((base + 4))
gateway_otlp_port=$((base + 5)) otlp_port=$((base + 6))
mkdir -p "$out"
rm -rf "${out:?}"/run && mkdir -p "$out/run"

# --- prerequisites --------------------------------------------------------------------------------------------------
source "$(dirname "$0")/../lib.sh"
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
command -v curl >/dev/null || missing+=(curl)
command -v python3 >/dev/null || missing+=(python3)
install_missing "${missing[@]}"
nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"
for port in $cache_port $instance_port $gateway_port $nginx_port $gateway_off_port $gateway_otlp_port $otlp_port; do
  if ss -ltn "sport = :$port" | grep -q LISTEN; then echo "port $port is in use: set PORT_BASE" >&2; exit 1; fi
done

# --- build (Release) ------------------------------------------------------------------------------------------------
[ -f "$root/artifacts/internal-packages.props" ] || (cd "$root" && timeout 600 ./build.sh pack >"$out/pack.log" 2>&1)
bin() { echo "$root/$1/bin/Release/net10.0/$(basename "$1").dll"; }
for project in cache/Calc.Cache services/Calc.Calculations gateway/Calc.Gateway; do
  if ! timeout 600 dotnet build "$root/$project" -c Release --nologo -v q >"$out/build.log" 2>&1; then
    # The cache only holds the registry here (it is not measured): a previous build of it will do while others
    # are changing it. The measured apps must build.
    if [ "$project" = cache/Calc.Cache ] && [ -f "$(bin "$project")" ]; then
      echo "warning: $project does not build now; using its previous build output" >&2
    else
      cat "$out/build.log" >&2; exit 1
    fi
  fi
done
# Each app runs from its output folder, its content root, so that its appsettings.json applies.
# Called with &, so it runs in a subshell that exec replaces: $! is then the app's own PID.
run() { local project=$1; shift; cd "$(dirname "$(bin "$project")")" && exec dotnet "$(bin "$project")" "$@"; }

# --- start everything; stop it by PID on exit -----------------------------------------------------------------------
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -f "$out/run/nginx.pid" ] && kill "$(cat "$out/run/nginx.pid")" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT

wait_http() { # url
  for _ in $(seq 1 150); do curl -fs -o /dev/null "$1" && return 0; sleep 0.2; done
  echo "not ready: $1" >&2; return 1
}

export Logging__Console__FormatterName=simple Logging__LogLevel__Default=Warning Internal__Key=bench-key
run cache/Calc.Cache --port "$cache_port" --bind 127.0.0.1 >"$out/run/cache.log" 2>&1 &
pids+=($!)
# Rate limiting off: one client address sends everything here.
RateLimiting__PermitLimit=0 Cache__Endpoint="127.0.0.1:$cache_port" \
  run gateway/Calc.Gateway --urls "http://127.0.0.1:$gateway_port" >"$out/run/gateway.log" 2>&1 &
pids+=($!)
gateway_pid=$!
RateLimiting__PermitLimit=0 Cache__Endpoint="127.0.0.1:$cache_port" OTEL_SDK_DISABLED=true \
  run gateway/Calc.Gateway --urls "http://127.0.0.1:$gateway_off_port" >"$out/run/gateway-off.log" 2>&1 &
pids+=($!)
gateway_off_pid=$!
python3 "$root/bench/e2e/otlp-sink.py" --port "$otlp_port" --stats "$out/run/otlp-received.tsv" --max-seconds 3600 >"$out/run/otlp-sink.log" 2>&1 &
pids+=($!)
otlp_pid=$!
wait_http "http://127.0.0.1:$otlp_port/"
RateLimiting__PermitLimit=0 Cache__Endpoint="127.0.0.1:$cache_port" OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$otlp_port" OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf \
  run gateway/Calc.Gateway --urls "http://127.0.0.1:$gateway_otlp_port" >"$out/run/gateway-otlp.log" 2>&1 &
pids+=($!)
gateway_otlp_pid=$!
wait_http "http://127.0.0.1:$gateway_port/health/ready"
wait_http "http://127.0.0.1:$gateway_off_port/health/ready"
wait_http "http://127.0.0.1:$gateway_otlp_port/health/ready"
Gateway__Url="http://127.0.0.1:$gateway_port" Service__InstanceId=bench-1 \
  Database__Provider=sqlite Database__ConnectionString="Data Source=$out/run/calculations.db" \
  run services/Calc.Calculations --urls "http://127.0.0.1:$instance_port" >"$out/run/instance.log" 2>&1 &
pids+=($!)
instance_pid=$!
wait_http "http://127.0.0.1:$instance_port/health/ready"

cat >"$out/run/nginx.conf" <<NGINX
worker_processes $(nproc);
daemon on;
pid $out/run/nginx.pid;
error_log $out/run/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $out/run/tmp-body; proxy_temp_path $out/run/tmp-proxy;
  fastcgi_temp_path $out/run/tmp-fcgi; uwsgi_temp_path $out/run/tmp-uwsgi; scgi_temp_path $out/run/tmp-scgi;
  upstream calculations { server 127.0.0.1:$instance_port; keepalive 128; }
  server {
    listen 127.0.0.1:$nginx_port;
    location / {
      proxy_pass http://calculations;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto \$scheme;
    }
  }
}
NGINX
timeout 30 "$nginx_bin" -c "$out/run/nginx.conf" -p "$out/run"
sleep 0.5
nginx_workers="$(ps -o pid= --ppid "$(cat "$out/run/nginx.pid")" | tr '\n' ' ')"

# Seed 000's calculation, then wait until the gateway routes to the instance.
id=$(curl -fs -X POST "http://127.0.0.1:$instance_port/calculations" -H 'Content-Type: application/json' -d '{"type":"addition","init":39}' | sed -E 's/.*"id":"([^"]+)".*/\1/')
curl -fs -o /dev/null -X PUT "http://127.0.0.1:$instance_port/calculations/$id" -H 'Content-Type: application/json' -d '{"term":12}'
curl -fs -o /dev/null -X PUT "http://127.0.0.1:$instance_port/calculations/$id/finalize"
path="/calculations/$id"
wait_http "http://127.0.0.1:$gateway_port$path"
wait_http "http://127.0.0.1:$nginx_port$path"
wait_http "http://127.0.0.1:$gateway_off_port$path"
wait_http "http://127.0.0.1:$gateway_otlp_port$path"
# Telemetry really is on in the one and off in the other (else the comparison is void).
# (Read whole first: grep -q stops reading at its match, and curl, cut off, would fail the pipeline under pipefail.)
metrics=$(curl -fs "http://127.0.0.1:$gateway_port/metrics" || true)
grep -q '^calc_gateway_forwards' <<<"$metrics" || { echo "gateway: no /metrics, telemetry is off" >&2; exit 1; }
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$gateway_off_port/metrics")" = 404 ] || { echo "gateway-off: /metrics answers, telemetry is on" >&2; exit 1; }

# --- measure --------------------------------------------------------------------------------------------------------
targets=(direct nginx gateway gateway-off gateway-otlp)
declare -A url=([direct]="http://127.0.0.1:$instance_port$path" [nginx]="http://127.0.0.1:$nginx_port$path" [gateway]="http://127.0.0.1:$gateway_port$path"
  [gateway-off]="http://127.0.0.1:$gateway_off_port$path" [gateway-otlp]="http://127.0.0.1:$gateway_otlp_port$path")
declare -A proxy_pids=([direct]="" [nginx]="$nginx_workers" [gateway]="$gateway_pid" [gateway-off]="$gateway_off_pid" [gateway-otlp]="$gateway_otlp_pid")
to_ms() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000; printf "%.3f", n }'; }
ticks() { local t=0 p; for p in "$@"; do t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat"))); done; echo "$t"; } # user+system
hz=$(getconf CLK_TCK)
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "n/a"; else if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
for _ in 1 2; do # warm-up (JIT tiers, connection pools), not measured
  for target in "${targets[@]}"; do timeout 30 wrk -t"$threads" -c"$connections" -d3s "${url[$target]}" >/dev/null; done
done
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
samples="$out/run/samples.txt"
: >"$samples"
for round in $(seq 1 "$rounds"); do
  order=("${targets[@]:$(((round - 1) % ${#targets[@]}))}" "${targets[@]:0:$(((round - 1) % ${#targets[@]}))}")
  for target in "${order[@]}"; do
    file="$out/run/wrk-$target-$round.txt"
    # shellcheck disable=SC2086 # a list of PIDs
    p0=$(ticks ${proxy_pids[$target]}) i0=$(ticks "$instance_pid")
    timeout $((duration + 30)) wrk -t"$threads" -c"$connections" -d"${duration}s" --latency "${url[$target]}" >"$file"
    # shellcheck disable=SC2086
    p1=$(ticks ${proxy_pids[$target]}) i1=$(ticks "$instance_pid")
    rps=$(awk '/^Requests\/sec:/ { print $2 }' "$file")
    requests=$(awk '/requests in/ { print $1 }' "$file")
    p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$file")")
    proxy_us=$(awk -v t=$((p1 - p0)) -v n="$requests" -v hz="$hz" 'BEGIN { printf "%.1f", t * 1e6 / hz / n }')
    instance_us=$(awk -v t=$((i1 - i0)) -v n="$requests" -v hz="$hz" 'BEGIN { printf "%.1f", t * 1e6 / hz / n }')
    errors=$(grep -E "Non-2xx|Socket errors" "$file" || true)
    [ -z "$errors" ] || echo "round $round $target: $errors"
    [ "$target" != direct ] || proxy_us=-
    echo "round $round  $target  ${rps} req/s  p99 ${p99} ms  cpu/request: proxy ${proxy_us} us, instance ${instance_us} us  (load $(cut -d' ' -f1 /proc/loadavg))"
    echo "$round $target $rps $p99 $proxy_us $instance_us" >>"$samples"
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
sink_seconds=$(awk -v t="$(ticks "$otlp_pid")" -v hz="$hz" 'BEGIN { printf "%.1f", t / hz }')
kill "$otlp_pid" 2>/dev/null || true; wait "$otlp_pid" 2>/dev/null || true
received=$(awk -F'\t' '{ printf "%s%s %s requests, %.1f MB", sep, $1, $2, $3 / 1e6; sep = "; " }' "$out/run/otlp-received.tsv" 2>/dev/null || true)
grep -q '^/v1/traces' "$out/run/otlp-received.tsv" 2>/dev/null || received="NO SPANS REACHED THE SINK: gateway-otlp measured no export"

fmt() { awk -v v="$1" -v f="$2" 'BEGIN { printf f, v }'; }
col() { awk -v t="$1" -v c="$2" '$2 == t { print $c }' "$samples" | median; } # target, column -> median
paired() { # median over rounds of f(gateway-or-nginx value, other value) for one column
  awk -v a="$1" -v b="$2" -v c="$3" -v op="$4" '$2 == a { x[$1] = $c } $2 == b { y[$1] = $c }
    END { for (r in x) if (r in y) printf "%.4f\n", op == "ratio" ? x[r] / y[r] : x[r] - y[r] }' "$samples" | median
}
declare -A med_rps med_p99 med_added med_proxy med_instance
for target in "${targets[@]}"; do
  med_rps[$target]=$(col "$target" 3) med_p99[$target]=$(col "$target" 4) med_instance[$target]=$(col "$target" 6)
  med_proxy[$target]=$(col "$target" 5) med_added[$target]=$(paired "$target" direct 4 diff)
done
ratio=$(fmt "$(paired gateway nginx 3 ratio)" %.2f)
ratio_off=$(fmt "$(paired gateway-off nginx 3 ratio)" %.2f)
ratio_otlp=$(fmt "$(paired gateway-otlp nginx 3 ratio)" %.2f)
ratio_on_off=$(fmt "$(paired gateway gateway-off 3 ratio)" %.3f)
cpu_on_off=$(fmt "$(paired gateway gateway-off 5 ratio)" %.3f)
ratio_otlp_off=$(fmt "$(paired gateway-otlp gateway-off 3 ratio)" %.3f)
cpu_otlp_off=$(fmt "$(paired gateway-otlp gateway-off 5 ratio)" %.3f)
table=$(
  printf '| target | requests/s | p99 (ms) | p99 added over direct (ms) | proxy CPU per request (µs) | instance CPU per request (µs) |\n'
  printf '|---|---:|---:|---:|---:|---:|\n'
  printf '| direct | %s | %s | - | - | %s |\n' "$(fmt "${med_rps[direct]}" %.0f)" "$(fmt "${med_p99[direct]}" %.2f)" "${med_instance[direct]}"
  for target in nginx gateway gateway-off gateway-otlp; do
    printf '| %s | %s | %s | %s | %s | %s |\n' "$target" "$(fmt "${med_rps[$target]}" %.0f)" "$(fmt "${med_p99[$target]}" %.2f)" \
      "$(fmt "${med_added[$target]}" %.2f)" "${med_proxy[$target]}" "${med_instance[$target]}"
  done
)
echo
echo "$table"
echo
echo "gateway/nginx throughput (median of per-round ratios): ${ratio}x (telemetry off: ${ratio_off}x)   p99 added: gateway $(fmt "${med_added[gateway]}" %.2f) ms, nginx $(fmt "${med_added[nginx]}" %.2f) ms"
echo "telemetry on/off: throughput ${ratio_on_off}x, gateway CPU per request ${cpu_on_off}x (medians of per-round ratios)"
echo "exporting (gateway-otlp)/off: throughput ${ratio_otlp_off}x, gateway CPU per request ${cpu_otlp_off}x; gateway-otlp/nginx ${ratio_otlp}x"
echo "OTLP sink: ${received}; its CPU over the whole run ${sink_seconds} s"
echo "load average before/after the measured rounds: $load_before / $load_after"

model=$(lscpu | awk -F': *' '/^Model name/ { print $2; exit }')
memory=$(free -g | awk '/^Mem:/ { print $2 " GB total, " $7 " GB available" }')
section="$out/section.md"
{
  echo "### $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(cd "$root" && git rev-parse --short HEAD)"
  echo
  echo "$(nproc) cores ($model), $memory; load average $load_before before and"
  echo "$load_after after the measured rounds. \`bench/gateway/run.sh\`: wrk -t$threads -c$connections -d${duration}s --latency against a GET of a"
  echo "finished calculation on one Calculations instance (SQLite), direct, through nginx $("$nginx_bin" -v 2>&1 | sed 's/.*nginx\///')"
  echo "(worker_processes $(nproc), upstream keepalive) and through the gateway, once with telemetry on (its defaults: spans recorded only with an OTLP endpoint, none set here,"
  echo "/metrics served), beside it with \`OTEL_SDK_DISABLED=true\` (gateway-off), and exporting over OTLP/HTTP to a discarding sink (gateway-otlp: every"
  echo "request's spans recorded and sent, with the exporters' default batching); 2 warm-up passes, then $rounds rounds, every target once per"
  echo "round in rotated order; medians over the rounds. wrk, both proxies, the instance and other engineers' builds and"
  echo "benchmarks share the same cores, so only the ratios within a run mean something; CPU per request is each process's"
  echo "user+system time over the requests it served."
  echo
  echo "$table"
  echo
  echo "gateway/nginx throughput (median of the per-round ratios): **${ratio}x** with telemetry on, ${ratio_off}x off; p99 added over"
  echo "direct: gateway $(fmt "${med_added[gateway]}" %.2f) ms, nginx $(fmt "${med_added[nginx]}" %.2f) ms. Telemetry on/off: throughput **${ratio_on_off}x**,"
  echo "gateway CPU per request ${cpu_on_off}x. Exporting (gateway-otlp) against off: throughput **${ratio_otlp_off}x**, gateway CPU per request"
  echo "${cpu_otlp_off}x; gateway-otlp/nginx **${ratio_otlp}x**. The sink received: ${received} (its CPU: ${sink_seconds} s over the run)."
} >"$section"
if [ "$results" != /dev/null ]; then
  touch "$results"
  # First in the "## Gateway" section, above the earlier runs (the section is appended when there is none).
  awk -v section="$section" '
    function emit() { while ((getline line < section) > 0) print line; close(section); print ""; done = 1 }
    skip_blank && $0 == "" { skip_blank = 0; next }
    { skip_blank = 0; print }
    $0 == "## Gateway" && !done { print ""; emit(); skip_blank = 1 }
    END { if (!done) { print ""; print "## Gateway"; print ""; emit() } }' "$results" >"$results.tmp" && mv "$results.tmp" "$results"
  echo "run written first in the \"Gateway\" section of $results"
fi
