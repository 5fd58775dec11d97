#!/usr/bin/env bash
# The Conclave image's entrypoint (docs/adr/0012-self-hosted-image.md), run by tini as root:
#   1. state: everything lives under /data (the database, the workspaces; Data Protection keys
#      are in the database); one container at a time per /data (a lock);
#   2. database: an embedded PostgreSQL 15 + pgvector in /data/postgres, on a Unix socket only,
#      unless ConnectionStrings__Conclave names another one;
#   3. workspaces: says whether the Host can give each session a file system of its own (SYS_ADMIN,
#      loop devices, a workspace folder the engine sees) and, if not, exactly what is missing;
#   4. engine: says whether the Docker/Podman socket answers and has the sandbox image;
#   5. runs Conclave: as root with only the capabilities mounting needs when it mounts workspaces,
#      else as the unprivileged user conclave; stops PostgreSQL after it.
# Every decision is one `[entrypoint]` line on stderr.
set -euo pipefail

log() { printf '[entrypoint] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

DATA="${CONCLAVE_DATA_ROOT:-/data}"
PG_BIN=/usr/lib/postgresql/15/bin
PGDATA="$DATA/postgres/15"
PG_SOCKET_DIR=/run/postgresql
APP_DIR=/opt/conclave/app
APP_UID=10001
VERSION="$(cat /opt/conclave/VERSION 2>/dev/null || echo unknown)"

log "Conclave $VERSION; state under $DATA"

# --- who we are -------------------------------------------------------------------------------
cap_eff=0x$(awk '/^CapEff:/ { print $2 }' /proc/self/status)
has_cap() { (((cap_eff >> $1) & 1)); }
CAP_CHOWN=0 CAP_SETGID=6 CAP_SETUID=7 CAP_SYS_ADMIN=21 CAP_MKNOD=27
is_root=0
[ "$(id -u)" = 0 ] && is_root=1
if [ "$is_root" = 1 ] && ! { has_cap $CAP_SETUID && has_cap $CAP_SETGID && has_cap $CAP_CHOWN; }; then
  die "root without CAP_SETUID, CAP_SETGID or CAP_CHOWN: the entrypoint runs PostgreSQL and Conclave as other users (do not --cap-drop ALL; drop nothing or add those back)"
fi

# Not root (--user): PostgreSQL cannot use the postgres user's socket folder.
[ "$is_root" = 1 ] || PG_SOCKET_DIR=/tmp/conclave-postgres

# as_user USER CMD...: CMD as USER (root only; when not root everything runs as we are).
as_user() {
  local user="$1"
  shift
  if [ "$is_root" = 1 ]; then setpriv --reuid="$user" --regid="$user" --init-groups -- "$@"; else "$@"; fi
}

mkdir -p "$DATA"
# Two containers on one /data would run two PostgreSQL servers on one cluster directory.
exec 8>"$DATA/.conclave.lock"
flock -n 8 || die "another container uses $DATA (it holds $DATA/.conclave.lock): stop it first"

# This node's name for its sandbox containers: stable across restarts and re-created containers
# (the container's hostname is not), so the janitor finds the containers of the last run.
if [ -z "${Conclave__Sandbox__NodeId:-}" ]; then
  [ -s "$DATA/node-id" ] || echo "conclave-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$DATA/node-id"
  Conclave__Sandbox__NodeId="$(cat "$DATA/node-id")"
  export Conclave__Sandbox__NodeId
fi

# --- database ---------------------------------------------------------------------------------
embedded_pg=0
redact() { sed -E 's/(Password|Pwd)=[^;]*/\1=***/Ig' <<<"$1"; }

start_embedded_postgres() {
  mkdir -p "$DATA/postgres" "$PG_SOCKET_DIR"
  if [ "$is_root" = 1 ]; then
    chown postgres:postgres "$PG_SOCKET_DIR"
    # The postgres user's uid may differ between image builds: the cluster follows it.
    if [ "$(stat -c %U "$DATA/postgres")" != postgres ]; then
      [ -z "$(ls -A "$DATA/postgres")" ] || log "database: giving $DATA/postgres to the postgres user (uid $(id -u postgres))"
      chown -R postgres:postgres "$DATA/postgres"
    fi
    chmod 700 "$DATA/postgres"
  fi
  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    log "database: first start: initdb $PGDATA"
    rm -rf "$PGDATA"
    as_user postgres mkdir -p "$PGDATA"
    # peer: a local connection is allowed as the database user its OS user maps to (below).
    as_user postgres "$PG_BIN/initdb" -D "$PGDATA" -U postgres -A peer -E UTF8 --locale=C.UTF-8 >/tmp/initdb.log 2>&1 ||
      { cat /tmp/initdb.log >&2; die "initdb failed"; }
  fi
  # A quarter of the container's memory (its cgroup limit, else the machine's), 128 MB to 1 GB.
  local mem_kb limit
  mem_kb="$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)"
  limit="$(cat /sys/fs/cgroup/memory.max 2>/dev/null || echo max)"
  case "$limit" in '' | max | *[!0-9]*) ;; *) [ $((limit / 1024)) -lt "$mem_kb" ] && mem_kb=$((limit / 1024)) ;; esac
  local buffers_mb=$((mem_kb / 1024 / 4))
  [ "$buffers_mb" -lt 128 ] && buffers_mb=128
  [ "$buffers_mb" -gt 1024 ] && buffers_mb=1024
  log "database: shared_buffers ${buffers_mb} MB"
  # Written on every start, so that an image update brings its settings.
  as_user postgres tee "$PGDATA/conclave.conf" >/dev/null <<EOF
# Written by the Conclave image's entrypoint on every start; set your own in postgresql.auto.conf (ALTER SYSTEM).
listen_addresses = ''
unix_socket_directories = '$PG_SOCKET_DIR'
max_connections = 200
shared_buffers = ${buffers_mb}MB
logging_collector = on
log_directory = 'log'
log_filename = 'postgresql-%a.log'
log_truncate_on_rotation = on
log_rotation_age = 1d
EOF
  grep -q "^include_if_exists 'conclave.conf'" "$PGDATA/postgresql.conf" ||
    as_user postgres sh -c "echo \"include_if_exists 'conclave.conf'\" >>'$PGDATA/postgresql.conf'"
  # The app connects as database user conclave from OS user root (when it mounts workspaces) or conclave.
  as_user postgres tee "$PGDATA/pg_hba.conf" >/dev/null <<'EOF'
# Written by the Conclave image's entrypoint: Unix socket only (listen_addresses is empty).
local all postgres peer
local all conclave peer map=conclave
EOF
  as_user postgres tee "$PGDATA/pg_ident.conf" >/dev/null <<'EOF'
conclave root     conclave
conclave conclave conclave
conclave postgres conclave
EOF
  # The container is new: a postmaster.pid in the cluster is a previous container's (the lock above
  # rules out a live one), and its pid may belong to another process here.
  rm -f "$PGDATA/postmaster.pid"
  log "database: starting the embedded PostgreSQL (socket $PG_SOCKET_DIR, logs $PGDATA/log)"
  if ! as_user postgres "$PG_BIN/pg_ctl" start -w -t 120 -D "$PGDATA" -l "$DATA/postgres/startup.log" -o "-c config_file=$PGDATA/postgresql.conf" >/dev/null; then
    tail -n 30 "$DATA/postgres/startup.log" >&2 || true
    find "$PGDATA/log" -name '*.log' -mmin -5 -exec tail -n 30 {} + >&2 2>/dev/null || true
    die "PostgreSQL did not start"
  fi
  embedded_pg=1
  as_user postgres "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCKET_DIR" -U postgres -d postgres >/dev/null <<'SQL'
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'conclave') THEN
    CREATE ROLE conclave LOGIN;
  END IF;
END
$$;
SELECT 'CREATE DATABASE conclave OWNER conclave' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'conclave') \gexec
\c conclave
CREATE EXTENSION IF NOT EXISTS vector;
SQL
  log "database: embedded PostgreSQL ready (database conclave, pgvector $(as_user postgres "$PG_BIN/psql" -X -At -h "$PG_SOCKET_DIR" -U postgres -d conclave -c "select extversion from pg_extension where extname = 'vector'"))"
}

stop_embedded_postgres() {
  [ "$embedded_pg" = 1 ] || return 0
  log "database: stopping the embedded PostgreSQL"
  as_user postgres "$PG_BIN/pg_ctl" stop -w -t 60 -m fast -D "$PGDATA" >/dev/null || true
  embedded_pg=0
}
trap stop_embedded_postgres EXIT

if [ -n "${ConnectionStrings__Conclave:-}" ]; then
  log "database: ConnectionStrings__Conclave is set: $(redact "$ConnectionStrings__Conclave") (no embedded PostgreSQL)"
else
  start_embedded_postgres
  export ConnectionStrings__Conclave="Host=$PG_SOCKET_DIR;Database=conclave;Username=conclave"
fi

# --- workspaces -------------------------------------------------------------------------------
export Conclave__Sandbox__WorkspaceRoot="${Conclave__Sandbox__WorkspaceRoot:-$DATA/workspaces}"
WS="$Conclave__Sandbox__WorkspaceRoot"
HOST_WS="${Conclave__Sandbox__WorkspaceHostRoot:-}"
mkdir -p "$WS"

# --- restore (once, into a new /data) ---------------------------------------------------------
# CONCLAVE_RESTORE_FROM names a backup of scripts/backup.sh mounted into the container: restored
# into the new database and workspace root before Conclave first starts, never over data.
if [ -n "${CONCLAVE_RESTORE_FROM:-}" ]; then
  if [ -s "$DATA/restored-from" ]; then
    log "restore: $DATA was restored from $(cat "$DATA/restored-from") before; starting on it (CONCLAVE_RESTORE_FROM is ignored)"
  else
    log "restore: from $CONCLAVE_RESTORE_FROM into the database and $WS"
    CONCLAVE_DATA=/tmp/conclave-restore /opt/conclave/scripts/restore.sh "$CONCLAVE_RESTORE_FROM" \
      --database "$ConnectionStrings__Conclave" --workspaces "$WS" 2>&1 | sed 's/^/[entrypoint] /' >&2 ||
      die "restore from $CONCLAVE_RESTORE_FROM failed (the database must have no tables and $WS must be empty: a new /data)"
    echo "$CONCLAVE_RESTORE_FROM $(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$DATA/restored-from"
    # The backed-up installation's nodes are not coming back: this first start releases their sessions.
    export Conclave__Sandbox__RestoredAt="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  fi
fi

# Loop device nodes: the container's /dev has only those it was given. With the device cgroup
# rule 'b 7:* rmw' and CAP_MKNOD the nodes are made here (the kernel numbers loop devices
# host-wide: more than the host has now, one per mounted session; CONCLAVE_LOOP_NODES more than
# the highest the host has, default 256).
make_loop_nodes() {
  local highest=-1 n dev
  for dev in /sys/class/block/loop*; do
    [ -e "$dev" ] || continue
    n="${dev##*/loop}"
    [[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -gt "$highest" ] && highest=$n
  done
  local want=$((highest + ${CONCLAVE_LOOP_NODES:-256})) made=0
  for ((n = 0; n <= want; n++)); do
    [ -e "/dev/loop$n" ] && continue
    mknod -m 0660 "/dev/loop$n" b 7 "$n" 2>/dev/null || break
    made=$((made + 1))
  done
  echo "$made"
}

missing=()
[ "$is_root" = 1 ] || missing+=("the container runs as uid $(id -u), not root (the Host mounts as root for now)")
has_cap $CAP_SYS_ADMIN || missing+=("CAP_SYS_ADMIN (--cap-add SYS_ADMIN)")
if [ ! -c /dev/loop-control ]; then
  missing+=("/dev/loop-control (--device /dev/loop-control)")
fi
loop_nodes=0
if [ "${#missing[@]}" -eq 0 ]; then
  if has_cap $CAP_MKNOD; then made="$(make_loop_nodes)"; else made=0; fi
  loop_nodes="$(find /dev -maxdepth 1 -name 'loop[0-9]*' -type b | wc -l)"
  if [ "$loop_nodes" -eq 0 ]; then
    missing+=("loop devices (--device-cgroup-rule 'b 7:* rmw' with --cap-add MKNOD, or --device /dev/loopN for enough N)")
  elif [ "$made" -gt 0 ]; then
    log "workspaces: made $made loop device nodes ($loop_nodes in /dev)"
  fi
fi
command -v mkfs.ext4 >/dev/null && command -v e2fsck >/dev/null || missing+=("mkfs.ext4 and e2fsck")

# The engine bind-mounts each workspace from the host: it sees the file systems mounted here only
# through a bind mount of a host folder with shared propagation.
propagation="$(findmnt -n -o PROPAGATION --mountpoint "$WS" 2>/dev/null || true)"
engine_sees=1
if [ -z "$propagation" ]; then
  engine_sees=0
  engine_problem="$WS is not a mount of a host folder (-v /srv/conclave/workspaces:$WS:rshared), so the engine cannot bind the workspaces into sandboxes"
elif [[ "$propagation" != shared* ]]; then
  engine_sees=0
  engine_problem="$WS is mounted with '$propagation' propagation: the file systems mounted here never reach the engine (mount it with :rshared, from a host folder on a shared mount)"
fi
if [ -z "$HOST_WS" ]; then
  log "workspaces: Conclave__Sandbox__WorkspaceHostRoot is not set: the engine must find the workspaces at $WS on its own machine"
fi

if [ "${#missing[@]}" -eq 0 ]; then
  isolation=FileSystemPerSession
  if [ -n "${Conclave__Sandbox__WorkspaceIsolation:-}" ] && [ "$Conclave__Sandbox__WorkspaceIsolation" != FileSystemPerSession ]; then
    isolation="$Conclave__Sandbox__WorkspaceIsolation"
  fi
else
  if [ "${Conclave__Sandbox__WorkspaceIsolation:-}" = FileSystemPerSession ]; then
    die "Conclave__Sandbox__WorkspaceIsolation=FileSystemPerSession, but this container cannot mount: missing ${missing[*]}"
  fi
  # Sessions whose files are in file system images cannot be served from plain folders.
  if compgen -G "$WS/volumes/*.img" >/dev/null; then
    die "$WS holds workspace file systems (volumes/*.img) but this container cannot mount them: missing ${missing[*]}. Start it with the same options as before (see the README, Self-hosting)"
  fi
  isolation=Folder
  export Conclave__Sandbox__WorkspaceIsolation=Folder
fi

if [ "$isolation" = FileSystemPerSession ]; then
  log "workspaces: a file system per session under $WS (CAP_SYS_ADMIN, /dev/loop-control, $loop_nodes loop devices)"
  if [ "$engine_sees" = 1 ]; then
    log "workspaces: $WS is a shared bind mount${HOST_WS:+ of the host folder $HOST_WS}: the engine sees what Conclave mounts"
  else
    log "WARNING: $engine_problem; every sandbox will be refused (its /workspace is not the session's file system)"
  fi
else
  log "WARNING: workspaces are PLAIN FOLDERS under $WS: no quota the kernel enforces. Missing:"
  for m in "${missing[@]}"; do log "  - $m"; done
  [ "$engine_sees" = 1 ] || log "  - and: $engine_problem"
  if [ "${Conclave__Sandbox__AllowUnlimitedSandboxes:-false}" = true ]; then
    log "WARNING: Conclave__Sandbox__AllowUnlimitedSandboxes=true: sandboxes run WITHOUT the workspace quota"
  else
    log "sandboxes are REFUSED until this is fixed (or Conclave__Sandbox__AllowUnlimitedSandboxes=true accepts it); /health/ready says so too"
  fi
fi

# The seccomp profile: Docker is sent its content, Podman reads it from a path on its own machine.
# A copy in the workspace folder is on both machines; the host's path to it is made to lead to
# the same file here too, so one path serves the Host and the engine.
if [ -z "${Conclave__Sandbox__SeccompProfile:-}" ]; then
  install -m 0644 "$APP_DIR/sandbox/seccomp.json" "$WS/.sandbox-seccomp.json"
  profile_root="$WS"
  if [ -n "$HOST_WS" ] && [ "$HOST_WS" != "$WS" ]; then
    if [ -L "$HOST_WS" ] || [ ! -e "$HOST_WS" ]; then
      mkdir -p "$(dirname "$HOST_WS")"
      ln -sfn "$WS" "$HOST_WS"
      profile_root="$HOST_WS"
    else
      log "WARNING: $HOST_WS exists in the container: the engine gets the seccomp profile as $WS/.sandbox-seccomp.json (Podman needs that path on its machine)"
    fi
  fi
  export Conclave__Sandbox__SeccompProfile="$profile_root/.sandbox-seccomp.json"
fi

# --- engine -----------------------------------------------------------------------------------
# Asked while Conclave starts (it only informs; the Host checks every sandbox itself).
endpoint="${Conclave__Sandbox__DockerEndpoint:-unix:///var/run/docker.sock}"
socket_gid=""
describe_engine() {
  local sock="$1" image="${Conclave__Sandbox__Image:-localhost/conclave-sandbox:1}" version name=Docker ver
  if ! version="$(curl -sf --max-time 10 --unix-socket "$sock" http://d/v1.41/version)"; then
    log "WARNING: engine: the socket $sock does not answer /v1.41/version: no sandboxes"
    return
  fi
  grep -Eq '"Name": ?"Podman Engine"' <<<"$version" && name=Podman
  ver="$(grep -Eo '"Version": ?"[^"]*"' <<<"$version" | head -n1 | cut -d'"' -f4)"
  if curl -sf --max-time 10 --unix-socket "$sock" -o /dev/null "http://d/v1.41/images/${image//\//%2F}/json"; then
    log "engine: $name $ver at $sock, sandbox image $image present"
  else
    log "WARNING: engine: $name $ver at $sock has no image $image (build it: scripts/sandbox-image.sh, or docker build deploy/sandbox)"
  fi
}
if [[ "$endpoint" == unix://* ]]; then
  sock="${endpoint#unix://}"
  if [ -S "$sock" ]; then
    socket_gid="$(stat -c %g "$sock")"
    describe_engine "$sock" &
  else
    log "WARNING: engine: no socket at $sock (mount Docker's or Podman's: -v /run/podman/podman.sock:$sock): no sandboxes"
  fi
else
  log "engine: $endpoint (not a Unix socket; not checked here)"
fi

# --- run Conclave -----------------------------------------------------------------------------
cd "$APP_DIR"
if [ "$is_root" = 1 ] && [ "$isolation" = FileSystemPerSession ]; then
  # The Sandbox module mounts workspaces with the kernel's own calls and asks for capabilities, not
  # uid 0: the Host runs as conclave with exactly the four it needs, ambient, and no way back to more
  # (no-new-privs). See docs/adr/0012-self-hosted-image.md.
  chown "$APP_UID:$APP_UID" "$WS"
  caps="+sys_admin,+chown,+dac_override,+fowner"
  groups="$APP_UID${socket_gid:+,$socket_gid}"
  log "running Conclave as user conclave (uid $APP_UID${socket_gid:+, engine socket group $socket_gid}) with capabilities sys_admin, chown, dac_override, fowner only"
  HOME=/tmp setpriv --reuid="$APP_UID" --regid="$APP_UID" --groups="$groups" --inh-caps="$caps" --ambient-caps="$caps" \
    --bounding-set="-all,$caps" --no-new-privs -- "$APP_DIR/Conclave.Host" &
elif [ "$is_root" = 1 ]; then
  chown "$APP_UID:$APP_UID" "$WS"
  groups="$APP_UID${socket_gid:+,$socket_gid}"
  log "running Conclave as user conclave (uid $APP_UID${socket_gid:+, engine socket group $socket_gid}) with no capabilities"
  HOME=/tmp setpriv --reuid="$APP_UID" --regid="$APP_UID" --groups="$groups" --bounding-set=-all --inh-caps=-all --no-new-privs \
    -- "$APP_DIR/Conclave.Host" &
else
  log "running Conclave as uid $(id -u)"
  "$APP_DIR/Conclave.Host" &
fi
app=$!
trap 'log "stopping Conclave (pid $app)"; kill -TERM "$app" 2>/dev/null || true' TERM INT
while true; do
  rc=0
  wait "$app" || rc=$?
  kill -0 "$app" 2>/dev/null || break
done
log "Conclave exited with $rc"
stop_embedded_postgres
exit "$rc"
