#!/usr/bin/env bash
# Bootstraps the build (restores the Cake tool from .config/dotnet-tools.json) and runs a Cake target.
#   ./build.sh            -> Test (pack, build, format check, every test)
#   ./build.sh run        -> calc up: the whole system on its embedded defaults (--profile=full: PostgreSQL, Redis, RabbitMQ)
#   ./build.sh coverage   -> the tests with an HTML coverage report in artifacts/coverage/ (same as: test --coverage)
#   ./build.sh --target=Bench
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
mkdir -p artifacts/packages

args=()
for arg in "$@"; do
  case "$arg" in
    clean|pack|build|format|test|coverage|run|bench) args+=("--target=${arg^}") ;;
    *) args+=("$arg") ;;
  esac
done

dotnet tool restore >/dev/null
exec dotnet cake build.cake "${args[@]}"
