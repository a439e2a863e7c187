#!/usr/bin/env bash
# Checks deploy/ and the Dockerfiles without a Docker engine (CI runs it after the tests; it works on a clean clone):
#   1. compose builds every deployable (a web app under gateway/, cache/, services/) from the one Dockerfile, with
#      PROJECT naming its folder (the root Dockerfile serves them all: build args and a target per image);
#   2. docker-compose 1.29 validates deploy/compose.yaml (`config -q`; installed with apt-get when missing);
#   3. the Kubernetes manifests parse and hang together, and compose and Kubernetes set only configuration keys the
#      apps read (deploy/config-check.py);
#   4. for every build compose asks for (Dockerfile, target, args), the COPY sources are in the build context
#      (.dockerignore applied), then the build stages are replayed: the internal packages are packed to the local
#      feed, the app is restored from it and published with `dotnet publish -c Release` into a temporary folder, by
#      the Dockerfile's own RUN lines, and the image's user, health check and entry point are checked against the
#      published files (deploy/dockerfile-check.py --compose).
# Images are not built here (no engine); step 4 is the same work on the same files. Exit 1 when any step fails.
set -uo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
started=$SECONDS
failed=()

step() { printf '\n== deploy check: %s\n' "$1"; }
fail() { echo "  FAIL $1"; failed+=("$1"); }

install_packages() {
  if [[ $(id -u) != 0 ]]; then
    echo "  missing: $*; install it (sudo apt-get install -y --no-install-recommends $*) and run again"
    return 1
  fi
  echo "  installing $* (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends "$@" >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1; apt-get install -y -q --no-install-recommends "$@" >/dev/null; }
}

step "every deployable built from the Dockerfile"
[[ -f Dockerfile ]] || fail "the Dockerfile at the repository root is missing"
deployables=0
for project in gateway/*/*.csproj cache/*/*.csproj services/*/*.csproj; do
  [[ -f $project ]] || continue
  grep -q 'Sdk="Microsoft.NET.Sdk.Web"' "$project" || continue   # libraries and tools are not deployed
  dir=$(dirname "$project")
  deployables=$((deployables + 1))
  if grep -qE "^ *PROJECT: $dir\$" deploy/compose.yaml && grep -qE "^ *APP: $(basename "$project" .csproj)\$" deploy/compose.yaml; then
    echo "  ok   $dir"
  else
    fail "deploy/compose.yaml builds no image of $dir (build args PROJECT: $dir, APP: $(basename "$project" .csproj))"
  fi
done

step "docker-compose config"
if ! command -v docker-compose >/dev/null; then
  install_packages docker-compose || fail "docker-compose is not installed"
fi
if command -v docker-compose >/dev/null; then
  if docker-compose -f deploy/compose.yaml config -q; then
    echo "  ok   deploy/compose.yaml ($(docker-compose version --short 2>/dev/null || echo '?'))"
  else
    fail "docker-compose rejects deploy/compose.yaml"
  fi
fi

step "Kubernetes manifests and configuration keys"
python=""
for candidate in python3 /usr/bin/python3; do
  if command -v "$candidate" >/dev/null && "$candidate" -c 'import yaml' 2>/dev/null; then python=$candidate; break; fi
done
if [[ -z $python ]] && install_packages python3-yaml; then python=/usr/bin/python3; fi
if [[ -z $python ]]; then
  fail "no python3 with PyYAML (Debian: python3-yaml) to check the YAML"
elif ! "$python" deploy/config-check.py; then
  fail "deploy/config-check.py"
fi

step "Dockerfile: COPY sources, then the build stages of every compose build replayed (pack, restore from the local feed, publish)"
if [[ -z $python ]]; then
  fail "Dockerfile not checked (no python3)"
elif ! "$python" deploy/dockerfile-check.py --compose deploy/compose.yaml; then
  fail "a build copies what the build context does not have (replay skipped)"
else
  work=$(mktemp -d "${TMPDIR:-/tmp}/calc-deploy-check.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  "$python" deploy/dockerfile-check.py --run --work "$work" --compose deploy/compose.yaml || fail "a build's stages fail"
fi

echo
if ((${#failed[@]})); then
  echo "deploy check: FAILED ($((SECONDS - started)) s): ${failed[*]}"
  exit 1
fi
echo "deploy check: ok ($((SECONDS - started)) s): the builds of $deployables deployables replayed, compose and Kubernetes files valid"
