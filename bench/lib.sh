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
