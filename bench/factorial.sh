#!/usr/bin/env bash
# Factorial benchmark, side by side in one run: n! as decimal text for n = 100000 and 1000000 with
#   GMP C     mpz_fac_ui + mpz_get_str (bench/factorial/fac_gmp.c)
#   ours(gmp)     BigMath.FactorialToDecimalString with GMP     (bench/Calc.Bench.Factorial)
#   ours(managed) the same with CALC_NUMERICS_NO_GMP=1
#   Python    math.factorial + str (bench/factorial/fac_py.py), stopped after PY_TIMEOUT seconds
# and prints a table with the ratios ours(gmp)/GMP and ours(managed)/Python. Every step has a timeout; the whole
# stays under 10 minutes. Usage: bench/factorial.sh [n ...]   (env: RUNS=3 PY_TIMEOUT=150)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/bench/out/factorial"
runs="${RUNS:-3}"
py_timeout="${PY_TIMEOUT:-150}"
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100000 1000000)
mkdir -p "$out"

# --- prerequisites: install what is missing when root, else say which package is missing -------------------------
source "$(dirname "$0")/lib.sh"
missing=()
command -v gcc >/dev/null || missing+=(gcc)
{ [ -f /usr/include/gmp.h ] || [ -f "/usr/include/$(uname -m)-linux-gnu/gmp.h" ]; } || missing+=(libgmp-dev)
command -v python3 >/dev/null || missing+=(python3)
command -v timeout >/dev/null || missing+=(coreutils)
install_missing "${missing[@]}"
command -v dotnet >/dev/null || { echo "missing: the .NET 10 SDK (dotnet)" >&2; exit 1; }

# --- build --------------------------------------------------------------------------------------------------------
gcc -O2 -Wall -o "$out/fac_gmp" "$root/bench/factorial/fac_gmp.c" -lgmp
timeout 300 dotnet build "$root/bench/Calc.Bench.Factorial/Calc.Bench.Factorial.csproj" -c Release --nologo -v q \
  -o "$out/dotnet" >"$out/build.log" 2>&1 || { cat "$out/build.log" >&2; exit 1; }
bench_dll="$out/dotnet/Calc.Bench.Factorial.dll"

# --- run ----------------------------------------------------------------------------------------------------------
# Each runner prints "<seconds> <digits>" or "> <timeout> <note>" on a timeout.
run_c() { # n
  local line
  line=$(timeout 120 "$out/fac_gmp" "$1" "$runs") || { echo "> 120 timed-out"; return; }
  set -- $line; echo "$3 $2"
}
run_ours() { # n engine(gmp|managed) budgetSeconds stepTimeout
  local line env=()
  [ "$2" = managed ] && env=(CALC_NUMERICS_NO_GMP=1)
  line=$(env "${env[@]}" timeout "$4" dotnet "$bench_dll" "$1" "$runs" "$3") || { echo "> $4 timed-out"; return; }
  # tab-separated: engine ("gmp 6.2.1" / "managed"), n, digits, median seconds, runs -> "seconds digits engine"
  echo "$line" | awk -F'\t' '{ print $4, $3, $1 }'
}
run_py() { # n
  local log="$out/py-$1.log" status=0
  timeout "$py_timeout" python3 "$root/bench/factorial/fac_py.py" "$1" >"$log" 2>&1 || status=$?
  if [ $status -eq 124 ]; then
    local fac; fac=$(awk '/^factorial/ {print $2}' "$log")
    echo "> $py_timeout timed-out${fac:+ (math.factorial alone ${fac}s; str() unfinished)}"
  elif [ $status -ne 0 ]; then
    echo "> 0 failed"; cat "$log" >&2
  else
    set -- $(tail -n 1 "$log"); echo "$3 $2"
  fi
}

ratio() { # a b -> a/b, or a bound when one side timed out
  awk -v a="$1" -v b="$2" 'BEGIN {
    ta = (a ~ /^>/); tb = (b ~ /^>/); sub(/^> */, "", a); sub(/^> */, "", b)
    if (ta && tb) print "?"; else if (ta) printf("> %.2f\n", a / b); else if (tb) printf("< %.3f\n", a / b); else printf("%.2f\n", a / b) }'
}
fmt() { # "<seconds> ..." or "> T note" -> "1.234" or "> 150 (timed out)"
  case "$1" in
    ">"*) awk -v s="$1" 'BEGIN { split(s, f, " "); printf("> %s (timed out)", f[2]) }' ;;
    *) awk -v s="$1" 'BEGIN { split(s, f, " "); printf("%.3f", f[1]) }' ;;
  esac
}
secs() { case "$1" in ">"*) echo "$1" | awk '{print "> " $2}' ;; *) echo "$1" | awk '{print $1}' ;; esac; }

started=$(date +%s)
echo "factorial benchmark: $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), runs=$runs (median)"
rows=()
notes=()
for n in "${sizes[@]}"; do
  c=$(run_c "$n")
  g=$(run_ours "$n" gmp 30 120)
  m=$(run_ours "$n" managed 60 200)
  p=$(run_py "$n")
  digits=$(echo "$c" | awk '$1 !~ />/ {print $2}')
  engine=$(echo "$g" | cut -d' ' -f3-)
  rows+=("$(printf '| %9s | %9s | %12s | %12s | %14s | %22s | %14s | %18s |' \
    "$n" "${digits:-?}" "$(fmt "$c")" "$(fmt "$g")" "$(fmt "$m")" "$(fmt "$p")" \
    "$(ratio "$(secs "$g")" "$(secs "$c")")" "$(ratio "$(secs "$m")" "$(secs "$p")")")")
  case "$p" in ">"*) notes+=("n=$n: Python stopped after ${py_timeout} s$(echo "$p" | sed -n 's/.*timed-out//p')") ;; esac
  echo "  n=$n done ($(( $(date +%s) - started )) s; ours(gmp) engine: ${engine})" >&2
done

printf '| %9s | %9s | %12s | %12s | %14s | %22s | %14s | %18s |\n' n digits "GMP C [s]" "ours(gmp) [s]" "ours(managed) [s]" "Python [s]" "ours(gmp)/GMP" "ours(managed)/Python"
printf '|%s|%s|%s|%s|%s|%s|%s|%s|\n' ----------: ----------: -------------: -------------: ---------------: -----------------------: ---------------: -------------------:
printf '%s\n' "${rows[@]}"
for note in "${notes[@]:-}"; do [ -n "$note" ] && echo "note: $note"; done
echo "total $(( $(date +%s) - started )) s"
