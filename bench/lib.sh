# Shared by the benchmark scripts: `source "$(dirname "$0")/../lib.sh"` (or bench/lib.sh from bench/).

# install_missing PACKAGE...: installs the Debian packages named (those found missing by the caller) when run as
# root, else stops naming them.
install_missing() {
  [ $# -gt 0 ] || return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing: $*"
    timeout 300 apt-get install -y -qq "$@" >/dev/null
  else
    echo "missing packages: $* (apt-get install -y $*)" >&2
    exit 1
  fi
}

# free_port: a free TCP port on 127.0.0.1 (the kernel picks it).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# stop_pids: kills the processes whose PIDs the caller collected in the array PIDS, then waits for them.
# Scripts start servers with `cmd & PIDS+=($!)` and install `trap stop_pids EXIT`.
PIDS=()
stop_pids() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done; }

# wait_for_resp PORT: waits up to 15 s for a RESP server on 127.0.0.1:PORT to answer PING.
wait_for_resp() {
  for _ in $(seq 1 150); do
    [ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" = "PONG" ] && return 0
    sleep 0.1
  done
  echo "server on port $1 did not answer PING" >&2; return 1
}
