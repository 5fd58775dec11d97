#!/usr/bin/env bash
# Podman's Docker-compatible API on a project-local socket (no Docker engine runs here).
#   scripts/podman.sh install   apt packages + $CONCLAVE_DATA/podman/containers.conf
#   scripts/podman.sh start     `podman system service` on $CONCLAVE_DATA/podman/podman.sock
#   scripts/podman.sh stop      stop the service this script started
#   scripts/podman.sh status    exit 0 when the socket answers
#   scripts/podman.sh env       print the CONTAINERS_CONF and Conclave__Sandbox__DockerEndpoint exports
# start and status also say which sandbox limits the engine will and will not enforce here
# (rootless or rootful; cgroup v1, hybrid or v2, and on v2 the controllers delegated to the user).
set -euo pipefail
LOG_TAG=podman
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PODMAN_DIR="$CONCLAVE_DATA/podman"
CONF="$PODMAN_DIR/containers.conf"
PID_FILE="$PODMAN_DIR/podman.pid"
LOG_FILE="$PODMAN_DIR/podman.log"
API=v1.41
START_DEADLINE=30

# Unix socket paths are limited to 107 bytes: a deep checkout gets a short socket path in /tmp.
SOCK="$PODMAN_DIR/podman.sock"
if [ "${#SOCK}" -gt 100 ]; then
  SOCK="/tmp/conclave-podman-$(short_hash "$PODMAN_DIR")/podman.sock"
fi

export CONTAINERS_CONF="$CONF"

write_conf() {
  mkdir -p "$PODMAN_DIR"
  local tmp
  tmp="$(mktemp)"
  # runc, not crun: crun fails here (cgroups hybrid mode, no CAP_SYS_RESOURCE); raising the
  # ulimits above these is refused.
  cat >"$tmp" <<'EOF'
# Written by scripts/podman.sh; edit the script, not this file.
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=512:512"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
  if cmp -s "$tmp" "$CONF" 2>/dev/null; then
    log "containers.conf already up to date ($CONF)"
    rm -f "$tmp"
  else
    mv "$tmp" "$CONF"
    chmod 644 "$CONF"
    log "wrote $CONF"
  fi
}

cmd_install() {
  apt_install podman runc curl
  write_conf
}



verify_version() {
  local version
  version="$(curl -sf --max-time 5 --unix-socket "$SOCK" "http://d/$API/version")" \
    || die "the socket answers _ping but not /$API/version"
  log "Docker API answers: $(python3 -c 'import json,sys; v=json.load(sys.stdin); print("Podman", v.get("Version"), "API", v.get("ApiVersion"), "min", v.get("MinAPIVersion"))' <<<"$version" 2>/dev/null || echo "$version" | head -c 200)"
}

cmd_start() {
  command -v podman >/dev/null 2>&1 || die "podman is not installed: run scripts/podman.sh install"
  [ -f "$CONF" ] || write_conf
  mkdir -p "$(dirname "$SOCK")"
  exec 9>"$PODMAN_DIR/.lock"
  flock -w 120 9 || die "another scripts/podman.sh holds $PODMAN_DIR/.lock"

  local pid
  pid="$(podman_service_pid || true)"
  if podman_ping_ok; then
    if [ -n "$pid" ]; then
      log "service already running (pid $pid) on $SOCK"
    else
      log "socket $SOCK already answers (a service this script did not start)"
    fi
    describe_engine "$SOCK" "$API" "$(id -u)"
    return 0
  fi
  if [ -n "$pid" ]; then
    log "service pid $pid does not answer; restarting it"
    kill "$pid" 2>/dev/null || true
    sleep 1
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$SOCK" "$PID_FILE"

  log "starting podman system service on unix://$SOCK (log $LOG_FILE)"
  # setsid + nohup + no inherited descriptors: the service outlives this script and holds
  # neither its terminal, its output pipes nor its lock.
  (exec_detached setsid nohup podman system service --time=0 "unix://$SOCK" </dev/null >>"$LOG_FILE" 2>&1) &
  pid=$!
  echo "$pid" >"$PID_FILE"

  local deadline=$((SECONDS + START_DEADLINE))
  until podman_ping_ok; do
    if ! [ -d "/proc/$pid" ]; then
      tail -n 20 "$LOG_FILE" >&2 || true
      die "podman system service exited (log: $LOG_FILE)"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      tail -n 20 "$LOG_FILE" >&2 || true
      die "socket $SOCK did not answer _ping within ${START_DEADLINE}s (log: $LOG_FILE)"
    fi
    sleep 0.2
  done
  log "socket answers _ping (pid $pid)"
  verify_version
  describe_engine "$SOCK" "$API" "$(id -u)"
}

cmd_stop() { podman_service_stop; }

cmd_status() {
  if podman_ping_ok; then
    log "socket $SOCK answers (pid $(podman_service_pid || echo 'not ours'))"
    describe_engine "$SOCK" "$API" "$(id -u)"
    return 0
  fi
  log "socket $SOCK does not answer"
  return 1
}

cmd_env() {
  echo "export CONTAINERS_CONF='$CONF'"
  echo "export Conclave__Sandbox__DockerEndpoint='unix://$SOCK'"
}

case "${1:-}" in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) cmd_env ;;
  *) echo "usage: $0 install|start|stop|status|env" >&2; exit 2 ;;
esac
