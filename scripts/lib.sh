# shellcheck shell=bash
# Shared helpers for the scripts in this folder. Source it; do not run it.
# Every helper logs one line per step to stderr, so that a script's stdout carries only what a
# caller may eval (the `env` subcommands print `export ...` lines there).

CONCLAVE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CONCLAVE_DATA="${CONCLAVE_DATA:-$CONCLAVE_ROOT/.data}"
mkdir -p "$CONCLAVE_DATA"
CONCLAVE_DATA="$(cd "$CONCLAVE_DATA" && pwd)"
export CONCLAVE_ROOT CONCLAVE_DATA
export DEBIAN_FRONTEND=noninteractive

# The tag printed in front of every line; each script sets its own.
LOG_TAG="${LOG_TAG:-conclave}"

log() { printf '[%s] %s\n' "$LOG_TAG" "$*" >&2; }
die() { printf '[%s] ERROR: %s\n' "$LOG_TAG" "$*" >&2; exit 1; }

is_root() { [ "$(id -u)" -eq 0 ]; }

# Another install may hold the dpkg lock for minutes: wait for it instead of failing.
APT_OPTS=(-o DPkg::Lock::Timeout=600 -o APT::Get::Assume-Yes=true)

# `apt-get update` takes the lists lock, which DPkg::Lock::Timeout does not cover: retry.
apt_update() {
  local deadline=$((SECONDS + 600)) out
  while true; do
    if out="$(apt-get "${APT_OPTS[@]}" -qq update 2>&1)"; then
      return 0
    fi
    if grep -qi 'could not get lock\|unable to lock' <<<"$out" && [ "$SECONDS" -lt "$deadline" ]; then
      log "apt lists are locked by another apt process; waiting"
      sleep 5
      continue
    fi
    printf '%s\n' "$out" >&2
    return 1
  done
}

pkg_installed() {
  [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

# apt_install PKG...: installs what is missing; runs `apt-get update` first only then.
apt_install() {
  local missing=() p
  for p in "$@"; do
    pkg_installed "$p" || missing+=("$p")
  done
  if [ "${#missing[@]}" -eq 0 ]; then
    log "packages already installed: $*"
    return 0
  fi
  is_root || die "packages missing (${missing[*]}) and not root: install them with sudo apt-get install ${missing[*]}"
  log "apt-get update (missing: ${missing[*]})"
  apt_update
  log "apt-get install ${missing[*]}"
  apt-get "${APT_OPTS[@]}" -q install "${missing[@]}" >&2
}

# short_hash STRING: a short stable name for a path (used where the path is too long or unreachable).
short_hash() { printf '%s' "$1" | sha256sum | cut -c1-10; }

# port_in_use PORT: true when something listens on 127.0.0.1:PORT (or on all addresses).
port_in_use() {
  if command -v ss >/dev/null 2>&1; then
    ss -Hltn "sport = :$1" 2>/dev/null | grep -q .
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
  fi
}

# exec_detached CMD...: exec CMD with only stdin/stdout/stderr open. For processes that outlive
# the script (postgres, podman): an inherited pipe (a CI runner's, this script's lock) would
# otherwise stay open as long as they run. Call it in a subshell: ( exec_detached cmd ... )
exec_detached() {
  local fd
  for fd in "/proc/$BASHPID/fd/"*; do
    fd="${fd##*/}"
    if [ "$fd" -gt 2 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
  done
  exec "$@"
}
