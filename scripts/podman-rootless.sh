#!/usr/bin/env bash
# A second Podman Docker API, run ROOTLESS by an unprivileged user, for the tests that check what
# Conclave does on such an engine (tests/Conclave.Sandbox.Tests/Rootless). Needs root to set up.
#   scripts/podman-rootless.sh install   apt packages, the user (with /etc/subuid + /etc/subgid ranges), containers.conf
#   scripts/podman-rootless.sh start     `podman system service` as that user on $CONCLAVE_DATA/podman-rootless/run/podman.sock
#                                        (also makes / a shared mount, as systemd does, when it is not)
#   scripts/podman-rootless.sh image     copy the sandbox image from root's storage into the user's (skipped when the ids match)
#   scripts/podman-rootless.sh stop      stop the service this script started
#   scripts/podman-rootless.sh status    exit 0 when the socket answers
#   scripts/podman-rootless.sh env       print `export CONCLAVE_ROOTLESS_DOCKER_ENDPOINT=...`
# Run as a non-root user, every podman is rootless already: the commands then use scripts/podman.sh's.
# Environment: CONCLAVE_ROOTLESS_USER (default conclave-rootless), Conclave__Sandbox__Image.
set -euo pipefail
LOG_TAG=podman-rootless
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

USER_NAME="${CONCLAVE_ROOTLESS_USER:-conclave-rootless}"
USER_HOME="/var/lib/$USER_NAME"
IMAGE="${Conclave__Sandbox__Image:-localhost/conclave-sandbox:1}"
API=v1.41
START_DEADLINE=60
# Subordinate ids: 65536 of them, never inside Conclave's own sandbox uid range (SandboxUidBase
# 1000000, SandboxUidCount 1000000), where they would collide with workspace owners.
SUBID_COUNT=65536
RESERVED_FIRST=1000000
RESERVED_END=2000000

user_exists() { id -u "$USER_NAME" >/dev/null 2>&1; }

user_uid() { id -u "$USER_NAME"; }

# user_can_reach PATH: true when the user may pass through every folder down to PATH.
user_can_reach() {
  user_exists && setpriv --reuid="$(id -u "$USER_NAME")" --regid="$(id -g "$USER_NAME")" --init-groups test -x "$1" 2>/dev/null
}

# The user reads its containers.conf and makes its socket here. A checkout it cannot pass through
# (one under /root, say), or one so deep that the socket path would pass 107 bytes, keeps them in /tmp.
STATE="$CONCLAVE_DATA/podman-rootless"
if [ "${#STATE}" -gt 80 ] || { user_exists && ! user_can_reach "$CONCLAVE_DATA"; }; then
  STATE="/tmp/conclave-rootless-$(short_hash "$CONCLAVE_DATA")"
fi
CONF="$STATE/containers.conf"
PID_FILE="$STATE/podman.pid"
LOG_FILE="$STATE/podman.log"
SOCK="$STATE/run/podman.sock"

# as_user CMD...: CMD as the user, with only the environment rootless podman needs.
as_user() { "${AS_USER[@]}" "$@"; }
AS_USER=()
if user_exists; then
  AS_USER=(setpriv --reuid="$(id -u "$USER_NAME")" --regid="$(id -g "$USER_NAME")" --init-groups
    env -i HOME="$USER_HOME" USER="$USER_NAME" LOGNAME="$USER_NAME" PATH=/usr/sbin:/usr/bin:/sbin:/bin
    XDG_RUNTIME_DIR="/run/user/$(id -u "$USER_NAME")" CONTAINERS_CONF="$CONF" LC_ALL=C)
fi

# --- not root: the ordinary service is rootless already --------------------------------------

if ! is_root; then
  case "${1:-}" in
    install | start | stop | status)
      log "running as $(id -un), not root: scripts/podman.sh's service is rootless already; using it"
      exec "$CONCLAVE_ROOT/scripts/podman.sh" "$1" ;;
    image)
      log "running as $(id -un), not root: the sandbox image is in scripts/podman.sh's storage already"
      exit 0 ;;
    env)
      "$CONCLAVE_ROOT/scripts/podman.sh" env | sed -n "s/^export Conclave__Sandbox__DockerEndpoint=/export CONCLAVE_ROOTLESS_DOCKER_ENDPOINT=/p"
      exit 0 ;;
  esac
fi

# --- install ---------------------------------------------------------------------------------

# first_free_subids FILE: the first block of SUBID_COUNT ids from 100000 that FILE's ranges and
# Conclave's reserved range leave free.
first_free_subids() {
  local start=100000 s c moved=1
  while [ "$moved" = 1 ]; do
    moved=0
    if [ "$start" -lt "$RESERVED_END" ] && [ $((start + SUBID_COUNT)) -gt "$RESERVED_FIRST" ]; then
      start=$RESERVED_END
      moved=1
    fi
    while IFS=: read -r _ s c; do
      [[ "$s" =~ ^[0-9]+$ && "$c" =~ ^[0-9]+$ ]] || continue
      if [ "$start" -lt $((s + c)) ] && [ $((start + SUBID_COUNT)) -gt "$s" ]; then
        start=$((s + c))
        moved=1
      fi
    done <"$1"
  done
  echo "$start"
}

ensure_user() {
  if user_exists; then
    log "user $USER_NAME exists (uid $(user_uid))"
  else
    log "creating the system user $USER_NAME (home $USER_HOME, no login shell)"
    useradd --system --user-group --create-home --home-dir "$USER_HOME" --shell /usr/sbin/nologin \
      --comment "Conclave tests, rootless Podman engine" "$USER_NAME"
  fi
  mkdir -p "$USER_HOME"
  chown "$USER_NAME:$USER_NAME" "$USER_HOME"
  chmod 700 "$USER_HOME"
  local file kind start
  for kind in uid gid; do
    file="/etc/sub$kind"
    touch "$file"
    if grep -q "^$USER_NAME:" "$file"; then
      log "$file already has $(grep "^$USER_NAME:" "$file" | head -n1)"
      continue
    fi
    start="$(first_free_subids "$file")"
    log "adding $USER_NAME:$start:$SUBID_COUNT to $file"
    usermod "--add-sub${kind}s" "$start-$((start + SUBID_COUNT - 1))" "$USER_NAME"
  done
}

# write_if_changed FILE MODE: stdin becomes FILE when it differs.
write_if_changed() {
  local tmp
  tmp="$(mktemp)"
  cat >"$tmp"
  if cmp -s "$tmp" "$1" 2>/dev/null; then
    log "$1 already up to date"
    rm -f "$tmp"
  else
    mkdir -p "$(dirname "$1")"
    mv "$tmp" "$1"
    log "wrote $1"
  fi
  chmod "$2" "$1"
}

write_conf() {
  mkdir -p "$STATE"
  chmod 755 "$STATE"
  # Like scripts/podman.sh: runc (crun fails on this hybrid cgroup layout), cgroupfs (no systemd
  # user session here), file events; ulimits no higher than an unprivileged engine may set.
  write_if_changed "$CONF" 644 <<'EOF'
# Written by scripts/podman-rootless.sh; edit the script, not this file.
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=512:512"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
  # The kernel's own overlayfs works in a user namespace since Linux 5.13: no fuse-overlayfs, and
  # never the vfs driver (a full copy of the image per container).
  write_if_changed "$USER_HOME/.config/containers/storage.conf" 644 <<'EOF'
# Written by scripts/podman-rootless.sh; edit the script, not this file.
[storage]
driver = "overlay"
EOF
  chown -R "$USER_NAME:$USER_NAME" "$USER_HOME/.config"
}

cmd_install() {
  apt_install podman runc uidmap catatonit curl
  ensure_user
  write_conf
}

# --- start / stop ----------------------------------------------------------------------------



# Says what the service is and enforces; it must say it is rootless.
describe_rootless_engine() {
  describe_engine "$SOCK" "$API" "$(user_uid)"
  [ "$ENGINE_ROOTLESS" = 1 ] || die "the service on $SOCK says it is not rootless"
}

# The Host mounts each workspace's file system after the engine made its mount namespace: only a
# shared / (systemd makes it so at boot) passes those mounts on to it. Without, /workspace would be
# the empty folder under the mount (Conclave sees that from inside and names it).
# Returns 0 when it had to change /.
ensure_shared_root() {
  local propagation
  propagation="$(findmnt -no PROPAGATION / 2>/dev/null || echo unknown)"
  if [[ "$propagation" == shared* ]]; then
    log "/ is a shared mount: the Host's workspace mounts reach the engine"
    return 1
  fi
  log "/ is a $propagation mount (no systemd here): making it shared, as systemd does at boot, so that"
  log "  the workspace file systems the Host mounts later reach the rootless engine's mount namespace"
  mount --make-rshared /
  return 0
}

cmd_start() {
  if ! command -v podman >/dev/null 2>&1 || ! user_exists; then
    die "not installed: run scripts/podman-rootless.sh install"
  fi
  [ -f "$CONF" ] || write_conf
  exec 9>"$STATE/.lock"
  flock -w 120 9 || die "another scripts/podman-rootless.sh holds $STATE/.lock"

  local pid uid
  uid="$(user_uid)"
  pid="$(podman_service_pid || true)"
  if podman_ping_ok; then
    log "service already running (pid ${pid:-not ours}) on $SOCK"
    describe_rootless_engine
    return 0
  fi
  if [ -n "$pid" ]; then
    log "service pid $pid does not answer; restarting it"
    kill "$pid" 2>/dev/null || true
    sleep 1
    kill -9 "$pid" 2>/dev/null || true
  fi
  # What logind would make: the user's runtime folder (podman keeps its pause process and locks there).
  [ -d /run/user ] || install -d -m 755 /run/user
  install -d -m 700 -o "$USER_NAME" -g "$USER_NAME" "/run/user/$uid"
  if ensure_shared_root; then
    # A pause process from before holds a namespace that copied the private /: start afresh.
    log "podman system migrate: a new pause process (user namespace) for $USER_NAME"
    as_user podman system migrate >>"$LOG_FILE" 2>&1 || true
  fi
  # Root reads the socket; the user creates it. Nobody else may connect: the engine runs whatever it is told.
  install -d -m 700 -o "$USER_NAME" -g "$USER_NAME" "$(dirname "$SOCK")"
  rm -f "$SOCK" "$PID_FILE"
  touch "$LOG_FILE"
  chown "$USER_NAME" "$LOG_FILE"

  log "starting podman system service as $USER_NAME (uid $uid) on unix://$SOCK (log $LOG_FILE)"
  (exec_detached setsid nohup "${AS_USER[@]}" podman system service --time=0 "unix://$SOCK" </dev/null >>"$LOG_FILE" 2>&1) &
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
  describe_rootless_engine
}

cmd_stop() { podman_service_stop; }

cmd_status() {
  if podman_ping_ok; then
    log "socket $SOCK answers (pid $(podman_service_pid || echo 'not ours'))"
    describe_rootless_engine
    return 0
  fi
  log "socket $SOCK does not answer"
  return 1
}

# --- the sandbox image -----------------------------------------------------------------------

# The user's storage gets root's image through `podman save | podman load` (same image id); the
# copy is skipped when the ids already match.
# Root's storage is the same whatever containers.conf says (saving and inspecting run nothing).
root_podman() { env -u CONTAINERS_CONF podman "$@"; }

cmd_image() {
  user_exists || die "not installed: run scripts/podman-rootless.sh install"
  local want have t0=$SECONDS
  want="$(root_podman image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null)" \
    || die "$IMAGE is not in root's storage: run scripts/sandbox-image.sh first"
  have="$(as_user podman image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)"
  if [ "$have" = "$want" ]; then
    log "$IMAGE is in $USER_NAME's storage already (${want:0:12}); nothing to do"
    return 0
  fi
  log "copying $IMAGE (${want:0:12}) from root's storage to $USER_NAME's (had ${have:+${have:0:12}}${have:-none})"
  root_podman save --format docker-archive "$IMAGE" | as_user podman load --quiet >&2
  have="$(as_user podman image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)"
  [ "$have" = "$want" ] || die "after the copy $USER_NAME's $IMAGE is '${have:0:12}', not ${want:0:12}"
  # The replaced image's layers are nobody's now.
  as_user podman image prune --force >/dev/null 2>&1 || true
  log "copied $IMAGE in $((SECONDS - t0)) s"
}

cmd_env() {
  echo "export CONCLAVE_ROOTLESS_DOCKER_ENDPOINT='unix://$SOCK'"
}

case "${1:-}" in
  install) cmd_install ;;
  start) cmd_start ;;
  image) cmd_image ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) cmd_env ;;
  *) echo "usage: $0 install|start|image|stop|status|env" >&2; exit 2 ;;
esac
