#!/usr/bin/env bash
# Gateway benchmark, side by side in one run: wrk against GET /calculations/{id} of one Calculations instance
#   direct    straight to the instance
#   nginx     through nginx (Debian) as a keep-alive reverse proxy to the same instance
#   gateway   through Calc.Gateway (registry in Calc.Cache) to the same instance
# in alternating rounds, best round per target; prints requests/s, p99, gateway/nginx throughput and the p99 each
# proxy adds over direct, and appends a "Gateway" section to bench/RESULTS.md.
# Everything binds 127.0.0.1, every step has a timeout, and every process started here is stopped by its PID.
# Usage: bench/gateway/run.sh   (env: CONNECTIONS=64 THREADS=2 DURATION=10 ROUNDS=2 PORT_BASE=18600 RESULTS=bench/RESULTS.md)
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$root/bench/out/gateway"
connections="${CONNECTIONS:-64}"
threads="${THREADS:-2}"
duration="${DURATION:-10}"
rounds="${ROUNDS:-2}"
base="${PORT_BASE:-18600}"
results="${RESULTS:-$root/bench/RESULTS.md}"
cache_port=$base instance_port=$((base + 1)) gateway_port=$((base + 2)) nginx_port=$((base + 3))
mkdir -p "$out"
rm -rf "${out:?}"/run && mkdir -p "$out/run"

# --- prerequisites --------------------------------------------------------------------------------------------------
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
command -v curl >/dev/null || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing: ${missing[*]}"
    timeout 300 apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "missing packages: ${missing[*]} (apt-get install -y ${missing[*]})" >&2
    exit 1
  fi
fi
nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"
for port in $cache_port $instance_port $gateway_port $nginx_port; do
  if ss -ltn "sport = :$port" | grep -q LISTEN; then echo "port $port is in use: set PORT_BASE" >&2; exit 1; fi
done

# --- build (Release) ------------------------------------------------------------------------------------------------
[ -f "$root/artifacts/internal-packages.props" ] || (cd "$root" && timeout 600 ./build.sh pack >"$out/pack.log" 2>&1)
for project in cache/Calc.Cache services/Calc.Calculations gateway/Calc.Gateway; do
  timeout 600 dotnet build "$root/$project" -c Release --nologo -v q >"$out/build.log" 2>&1 || { cat "$out/build.log" >&2; exit 1; }
done
bin() { echo "$root/$1/bin/Release/net10.0/$(basename "$1").dll"; }
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
RateLimiting__PermitLimit=0 Cache__Endpoint="127.0.0.1:$cache_port" \
  run gateway/Calc.Gateway --urls "http://127.0.0.1:$gateway_port" >"$out/run/gateway.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$gateway_port/health/ready"
Gateway__Url="http://127.0.0.1:$gateway_port" Service__InstanceId=bench-1 \
  Database__Provider=sqlite Database__ConnectionString="Data Source=$out/run/calculations.db" \
  run services/Calc.Calculations --urls "http://127.0.0.1:$instance_port" >"$out/run/instance.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$instance_port/health/ready"

cat >"$out/run/nginx.conf" <<NGINX
worker_processes auto;
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

# Seed 000's calculation, then wait until the gateway routes to the instance.
id=$(curl -fs -X POST "http://127.0.0.1:$instance_port/calculations" -H 'Content-Type: application/json' -d '{"type":"addition","init":39}' | sed -E 's/.*"id":"([^"]+)".*/\1/')
curl -fs -o /dev/null -X PUT "http://127.0.0.1:$instance_port/calculations/$id" -H 'Content-Type: application/json' -d '{"term":12}'
curl -fs -o /dev/null -X PUT "http://127.0.0.1:$instance_port/calculations/$id/finalize"
path="/calculations/$id"
wait_http "http://127.0.0.1:$gateway_port$path"
wait_http "http://127.0.0.1:$nginx_port$path"

# --- measure --------------------------------------------------------------------------------------------------------
declare -A url=([direct]="http://127.0.0.1:$instance_port$path" [nginx]="http://127.0.0.1:$nginx_port$path" [gateway]="http://127.0.0.1:$gateway_port$path")
declare -A best_rps=() best_p99=()
to_ms() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000; printf "%.3f", n }'; }
for target in direct nginx gateway; do
  timeout 30 wrk -t"$threads" -c"$connections" -d3s "${url[$target]}" >/dev/null # warm-up (JIT, pools)
done
for round in $(seq 1 "$rounds"); do
  for target in direct nginx gateway; do
    timeout $((duration + 30)) wrk -t"$threads" -c"$connections" -d"${duration}s" --latency "${url[$target]}" >"$out/run/wrk-$target-$round.txt"
    rps=$(awk '/^Requests\/sec:/ { print $2 }' "$out/run/wrk-$target-$round.txt")
    p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out/run/wrk-$target-$round.txt")")
    errors=$(grep -E "Non-2xx|Socket errors" "$out/run/wrk-$target-$round.txt" || true)
    [ -z "$errors" ] || echo "round $round $target: $errors"
    echo "round $round  $target  ${rps} req/s  p99 ${p99} ms"
    if [ -z "${best_rps[$target]:-}" ] || awk -v a="$rps" -v b="${best_rps[$target]}" 'BEGIN { exit !(a > b) }'; then
      best_rps[$target]=$rps best_p99[$target]=$p99
    fi
  done
done

ratio=$(awk -v g="${best_rps[gateway]}" -v n="${best_rps[nginx]}" 'BEGIN { printf "%.2f", g / n }')
gw_added=$(awk -v g="${best_p99[gateway]}" -v d="${best_p99[direct]}" 'BEGIN { printf "%.2f", g - d }')
nx_added=$(awk -v g="${best_p99[nginx]}" -v d="${best_p99[direct]}" 'BEGIN { printf "%.2f", g - d }')
table=$(printf '| target | requests/s | p99 (ms) | p99 added over direct (ms) |\n|---|---:|---:|---:|\n| direct | %s | %s | - |\n| nginx | %s | %s | %s |\n| gateway | %s | %s | %s |\n' \
  "${best_rps[direct]}" "${best_p99[direct]}" "${best_rps[nginx]}" "${best_p99[nginx]}" "$nx_added" "${best_rps[gateway]}" "${best_p99[gateway]}" "$gw_added")
echo
echo "$table"
echo
echo "gateway/nginx throughput: ${ratio}x   p99 added: gateway ${gw_added} ms, nginx ${nx_added} ms"

machine="$(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), load average $(cut -d' ' -f1-3 /proc/loadavg)"
{
  echo
  echo "## Gateway"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), ${machine}. \`bench/gateway/run.sh\`: wrk -t$threads -c$connections -d${duration}s --latency,"
  echo "GET of a finished calculation on one Calculations instance (SQLite), best of $rounds alternating rounds; nginx $("$nginx_bin" -v 2>&1 | sed 's/.*nginx\///') with"
  echo "upstream keepalive. wrk, both proxies and the instance share the same cores, so the ratios matter, not the absolute numbers."
  echo
  echo "$table"
  echo
  echo "gateway/nginx throughput: **${ratio}x**; p99 added over direct: gateway ${gw_added} ms, nginx ${nx_added} ms."
} >>"$results"
echo "appended to $results"
