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

# as_root CMD...: CMD as root; through sudo when not root (the README promises that).
as_root() {
  if is_root; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo env DEBIAN_FRONTEND=noninteractive "$@"
  else
    die "not root and no sudo: run as root: $*"
  fi
}

# `apt-get update` takes the lists lock, which DPkg::Lock::Timeout does not cover: retry.
apt_update() {
  local deadline=$((SECONDS + 600)) out
  while true; do
    if out="$(as_root apt-get "${APT_OPTS[@]}" -qq update 2>&1)"; then
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
  if ! is_root && ! command -v sudo >/dev/null 2>&1; then
    die "packages missing (${missing[*]}), not root and no sudo: install them as root: apt-get install ${missing[*]}"
  fi
  log "apt-get update (missing: ${missing[*]})$(is_root || echo ' through sudo')"
  apt_update
  log "apt-get install ${missing[*]}"
  as_root apt-get "${APT_OPTS[@]}" -q install "${missing[@]}" >&2
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

# cgroup_layout: how this machine mounts cgroups: v2 (unified), hybrid (v1 controllers plus an
# empty v2 tree, what this kind of machine has), v1, or unknown.
cgroup_layout() {
  case "$(stat -fc %T /sys/fs/cgroup 2>/dev/null)" in
    cgroup2fs) echo v2 ;;
    tmpfs) if [ -d /sys/fs/cgroup/unified ]; then echo hybrid; else echo v1; fi ;;
    *) echo unknown ;;
  esac
}

# cgroup_v1_has CONTROLLER: true when the controller is mounted as a v1 hierarchy.
cgroup_v1_has() {
  awk -v c="$1" '$1 == c && $2 != 0 && $4 == 1 { found = 1 } END { exit !found }' /proc/cgroups 2>/dev/null
}

# cgroup_v2_controllers UID: the v2 controllers a rootless engine of UID can use (delegated to
# systemd's user@UID.service), or of the root cgroup for UID 0.
cgroup_v2_controllers() {
  local file=/sys/fs/cgroup/cgroup.controllers
  [ "$1" -eq 0 ] || file="/sys/fs/cgroup/user.slice/user-$1.slice/user@$1.service/cgroup.controllers"
  cat "$file" 2>/dev/null || true
}

# describe_engine SOCKET API UID: asks the Docker API on SOCKET what it is, then report_enforcement.
# Sets ENGINE_ROOTLESS (1 or 0) for the caller.
describe_engine() {
  local sock="$1" api="$2" uid="$3" version info name
  version="$(curl -sf --max-time 5 --unix-socket "$sock" "http://d/$api/version")" \
    || die "the socket $sock answers _ping but not /$api/version"
  info="$(curl -sf --max-time 10 --unix-socket "$sock" "http://d/$api/info")" \
    || die "the socket $sock answers _ping but not /$api/info"
  # Podman says it in a field of its own, "Rootless": true (4.3 leaves it out of Docker's SecurityOptions).
  ENGINE_ROOTLESS=0
  if grep -Eq '"Rootless": ?true|name=rootless' <<<"$info"; then ENGINE_ROOTLESS=1; fi
  name="$(python3 -c 'import json,sys; v=json.load(sys.stdin); print(("Podman " if any("Podman" in (c.get("Name") or "") for c in v.get("Components") or []) else "Docker ") + str(v.get("Version")))' <<<"$version" 2>/dev/null || echo "the engine")"
  report_enforcement "$name" "$ENGINE_ROOTLESS" "$uid"
}

# report_enforcement ENGINE ROOTLESS UID: logs which sandbox limits an engine ("Podman 4.3.1")
# running rootless (1) or rootful (0) as UID can enforce on this machine, and what Conclave will do.
# Conclave checks every container from inside anyway (SandboxLimits); this says it up front.
report_enforcement() {
  local engine="$1" rootless="$2" uid="$3" layout enforced=() missing=() why=() c delegated
  layout="$(cgroup_layout)"
  [ "$layout" = hybrid ] && layout="hybrid (v1 controllers)"
  log "$engine runs $([ "$rootless" = 1 ] && echo "ROOTLESS (uid $uid)" || echo "rootful"); cgroups: $layout"
  if [ "$layout" = v2 ]; then
    delegated=" $(cgroup_v2_controllers "$uid") "
    for c in memory pids cpu; do
      if [[ "$delegated" == *" $c "* ]]; then enforced+=("$c"); else missing+=("$c"); fi
    done
    if [ "$rootless" = 1 ] && [ "${#missing[@]}" -gt 0 ]; then
      why+=("cgroup v2 controllers delegated to uid $uid:${delegated% } (systemd user@$uid.service with Delegate=yes gives memory pids cpu)")
    fi
  elif [ "$rootless" = 1 ]; then
    missing+=(memory pids cpu)
    why+=("a rootless engine on cgroup $layout cannot apply cgroup limits (cgroup v2 with delegation can)")
  else
    for c in memory pids cpu; do
      if cgroup_v1_has "$c"; then enforced+=("$c"); else missing+=("$c"); why+=("no v1 $c controller"); fi
    done
    if cgroup_v1_has memory && [ "$(wc -l </proc/swaps)" -gt 1 ] && ! [ -e /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes ]; then
      missing+=("memory+swap")
      why+=("swap is on but the kernel has no swap accounting (boot with swapaccount=1)")
    fi
  fi
  if [ "$rootless" = 1 ] && [[ "$engine" == Podman* ]]; then
    missing+=("file-size")
    why+=("rootless Podman's Docker API drops the ulimits it is given (fsize)")
  else
    enforced+=("file-size")
  fi
  # The workspace quota is a loop-mounted ext4 file system per session, made by the Host.
  if ! is_root || ! [ -e /dev/loop-control ] || ! command -v mkfs.ext4 >/dev/null 2>&1; then
    missing+=("workspace-quota")
    why+=("a file system per workspace needs the Host to run as root with /dev/loop-control and mkfs.ext4")
  elif [ "$rootless" = 1 ] && [[ "$(findmnt -no PROPAGATION / 2>/dev/null)" != shared* ]]; then
    missing+=("workspace-quota")
    why+=("/ is not a shared mount: the workspaces the Host mounts do not reach a rootless engine")
  else
    enforced+=("workspace-quota (if the Host runs as $(id -un))")
  fi
  log "  enforced: ${enforced[*]:-nothing}"
  if [ "${#missing[@]}" -eq 0 ]; then
    log "  not enforced: nothing; Conclave will start sandboxes"
    return 0
  fi
  log "  NOT enforced: ${missing[*]}"
  for c in "${why[@]}"; do log "    - $c"; done
  log "  Conclave refuses every sandbox on this engine (health check 'sandbox' Unhealthy) unless"
  log "  Conclave:Sandbox:AllowUnlimitedSandboxes=true; then they run without these limits, with a warning"
}

# --- a `podman system service` this project started (scripts/podman.sh, scripts/podman-rootless.sh) ---
# Both set SOCK, API and PID_FILE before calling these.

# shellcheck disable=SC2153  # SOCK, API and PID_FILE are the calling script's.
podman_ping_ok() {
  [ -S "$SOCK" ] && [ "$(curl -s --max-time 2 --unix-socket "$SOCK" "http://d/$API/_ping" 2>/dev/null)" = "OK" ]
}

# The pid of the service the calling script started, if it still runs.
podman_service_pid() {
  local pid
  [ -s "$PID_FILE" ] || return 1
  pid="$(cat "$PID_FILE")"
  [ -d "/proc/$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "podman system service" \
    && echo "$pid"
}

# Stops that service: SIGTERM, then SIGKILL after 10 s.
podman_service_stop() {
  local pid
  pid="$(podman_service_pid || true)"
  if [ -z "$pid" ]; then
    log "no service started by this script is running"
    rm -f "$PID_FILE"
    return 0
  fi
  log "stopping podman system service (pid $pid)"
  kill "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 10))
  while [ -d "/proc/$pid" ] && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
  if [ -d "/proc/$pid" ]; then
    log "pid $pid ignored SIGTERM for 10 s; killing it"
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$PID_FILE" "$SOCK"
  log "stopped"
}

# pg_env CONNECTION_STRING: prints `export PGHOST=...` lines for libpq tools (pg_dump, psql) from
# an Npgsql connection string (`Host=...;Port=...;Database=...;Username=...;Password=...`, as in
# ConnectionStrings__Conclave) or a postgresql:// URI (PGDATABASE carries it whole). Eval it.
pg_env() {
  local cs="$1" pair key value
  if [[ "$cs" == postgres://* || "$cs" == postgresql://* ]]; then
    printf 'export PGDATABASE=%q\n' "$cs"
    return 0
  fi
  IFS=';' read -ra pairs <<<"$cs"
  for pair in "${pairs[@]}"; do
    [[ "$pair" == *=* ]] || continue
    key="$(tr -d '[:space:]' <<<"${pair%%=*}" | tr '[:upper:]' '[:lower:]')"
    value="${pair#*=}"
    case "$key" in
      host | server) printf 'export PGHOST=%q\n' "$value" ;;
      port) printf 'export PGPORT=%q\n' "$value" ;;
      database | db) printf 'export PGDATABASE=%q\n' "$value" ;;
      username | userid | user | uid) printf 'export PGUSER=%q\n' "$value" ;;
      password | pwd) printf 'export PGPASSWORD=%q\n' "$value" ;;
    esac
  done
}
