#!/usr/bin/env bash
# A project-local PostgreSQL 15 + pgvector cluster for tests and local runs.
#   scripts/postgres.sh install   apt packages + pgvector (built from Debian trixie's source package)
#   scripts/postgres.sh start     init (once) and start the cluster in $CONCLAVE_DATA/pg
#   scripts/postgres.sh stop      stop it (fast shutdown)
#   scripts/postgres.sh status    exit 0 when it runs
#   scripts/postgres.sh env       print `export ConnectionStrings__Conclave=...`
# If ConnectionStrings__Conclave is already set, start/stop touch nothing and env prints that value.
set -euo pipefail
LOG_TAG=postgres
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PG_MAJOR=15
PG_BIN="/usr/lib/postgresql/$PG_MAJOR/bin"
PG_STATE="$CONCLAVE_DATA/pg"          # always here: port file, lock, pointer to the cluster home
PG_FIRST_PORT="${CONCLAVE_PG_PORT:-55432}"
VECTOR_CONTROL="/usr/share/postgresql/$PG_MAJOR/extension/vector.control"
VECTOR_LIB="/usr/lib/postgresql/$PG_MAJOR/lib/vector.so"
CACHE="$CONCLAVE_DATA/cache/pgvector"

# ---------------------------------------------------------------------------------------------
# install

install_pgvector() {
  if [ -f "$VECTOR_CONTROL" ] && [ -f "$VECTOR_LIB" ]; then
    log "pgvector $(sed -n "s/^default_version *= *'\(.*\)'/\1/p" "$VECTOR_CONTROL") already installed"
    return 0
  fi
  is_root || die "pgvector is not installed and installing it needs root"
  mkdir -p "$CACHE"
  local orig
  orig="$(find "$CACHE" -maxdepth 1 -name 'pgvector_*.orig.tar.*' | sort -V | tail -n1)"
  if [ -z "$orig" ]; then
    # pgvector is not in bookworm; trixie's SOURCE package builds against PG 15. A private sources
    # file, lists dir and cache keep the system's apt state untouched (never install trixie binaries).
    local aptdir="$CACHE/apt"
    mkdir -p "$aptdir/lists/partial" "$aptdir/cache/archives/partial"
    echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" \
      >"$aptdir/sources.list"
    local private=(-o "Dir::Etc::sourcelist=$aptdir/sources.list" -o "Dir::Etc::sourceparts=-"
      -o "Dir::State::Lists=$aptdir/lists" -o "Dir::Cache=$aptdir/cache" -o "APT::Get::List-Cleanup=0"
      -o "APT::Sandbox::User=root")
    log "apt-get update of a private trixie deb-src list ($aptdir)"
    apt-get "${APT_OPTS[@]}" "${private[@]}" -qq update >&2
    log "apt-get source --download-only pgvector into $CACHE"
    (cd "$CACHE" && apt-get "${APT_OPTS[@]}" "${private[@]}" -qq source --download-only pgvector >&2)
    orig="$(find "$CACHE" -maxdepth 1 -name 'pgvector_*.orig.tar.*' | sort -V | tail -n1)"
    [ -n "$orig" ] || die "apt-get source pgvector gave no .orig.tar.* in $CACHE"
    rm -rf "$aptdir"
  else
    log "pgvector source already cached: $(basename "$orig")"
  fi
  local build="$CACHE/build"
  rm -rf "$build" && mkdir -p "$build"
  log "unpacking $(basename "$orig")"
  tar -xf "$orig" -C "$build"
  local src
  src="$(find "$build" -mindepth 1 -maxdepth 1 -type d | head -n1)"
  # OPTFLAGS="" drops -march=native so the library survives a move to another CPU.
  log "building pgvector in $src"
  make -C "$src" -s -j"$(nproc)" PG_CONFIG="$PG_BIN/pg_config" OPTFLAGS="" >"$build/build.log" 2>&1 \
    || { tail -n 40 "$build/build.log" >&2; die "pgvector build failed (log: $build/build.log)"; }
  log "installing pgvector"
  make -C "$src" -s PG_CONFIG="$PG_BIN/pg_config" OPTFLAGS="" install >>"$build/build.log" 2>&1 \
    || { tail -n 40 "$build/build.log" >&2; die "pgvector install failed (log: $build/build.log)"; }
  rm -rf "$build"
  log "pgvector $(sed -n "s/^default_version *= *'\(.*\)'/\1/p" "$VECTOR_CONTROL") installed"
}

cmd_install() {
  apt_install "postgresql-$PG_MAJOR" "postgresql-server-dev-$PG_MAJOR" build-essential
  install_pgvector
}

# ---------------------------------------------------------------------------------------------
# the cluster

# Where data, log and socket live. Root cannot run postgres, so as root the cluster belongs to
# the `postgres` user; its home must be reachable by that user (else a /var/tmp fallback).
pg_home() {
  if ! is_root; then
    echo "$PG_STATE"
    return
  fi
  if [ -s "$PG_STATE/home" ]; then
    cat "$PG_STATE/home"
    return
  fi
  id postgres >/dev/null 2>&1 || die "no 'postgres' user: run scripts/postgres.sh install first"
  local home="$PG_STATE"
  chown postgres:postgres "$PG_STATE"
  chmod 700 "$PG_STATE"
  if ! runuser -u postgres -- test -w "$PG_STATE" 2>/dev/null; then
    home="/var/tmp/conclave-pg-$(short_hash "$PG_STATE")"
    log "$PG_STATE is not reachable by the postgres user; using $home"
    mkdir -p "$home"
    chown postgres:postgres "$home"
    chmod 700 "$home"
  fi
  echo "$home" >"$PG_STATE/home"
  echo "$home"
}

# as_pg CMD...: runs CMD as the cluster's owner (postgres when root), from a directory it can read.
as_pg() {
  if is_root; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

is_running() {
  local data="$1"
  [ -f "$data/PG_VERSION" ] && as_pg "$PG_BIN/pg_ctl" status -D "$data" >/dev/null 2>&1
}

read_port() { [ -s "$PG_STATE/port" ] && tr -dc '0-9' <"$PG_STATE/port"; }

choose_port() {
  local port="$PG_FIRST_PORT" last=$((PG_FIRST_PORT + 100))
  while [ "$port" -le "$last" ]; do
    port_in_use "$port" || { echo "$port"; return 0; }
    port=$((port + 1))
  done
  die "no free port in $PG_FIRST_PORT..$last"
}

# Serialises start/stop of this cluster between concurrent callers.
lock_state() {
  mkdir -p "$PG_STATE"
  exec 9>"$PG_STATE/.lock"
  flock -w 300 9 || die "another scripts/postgres.sh holds $PG_STATE/.lock"
}

shared_buffers_mb() {
  if [ -n "${CONCLAVE_PG_SHARED_BUFFERS_MB:-}" ]; then
    echo "$CONCLAVE_PG_SHARED_BUFFERS_MB"
    return
  fi
  local kb
  kb="$(awk '/^MemTotal:/ {print $2}' /proc/meminfo 2>/dev/null || echo 0)"
  local mb=$(( kb / 1024 / 4 ))
  (( mb < 128 )) && mb=128
  (( mb > 1024 )) && mb=1024
  echo "$mb"
}

write_settings() {
  local data="$1" port="$2" sockdir="$3"
  local conf="$data/conclave.conf" tmp buffers
  buffers="$(shared_buffers_mb)"
  log "shared_buffers ${buffers} MB (a quarter of the memory, 128 MB to 1 GB; CONCLAVE_PG_SHARED_BUFFERS_MB overrides)"
  tmp="$(mktemp)"
  cat >"$tmp" <<EOF
# Written by scripts/postgres.sh on every start; edit the script, not this file.
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$sockdir'
max_connections = 300
# A quarter of the memory, 128 MB to 1 GB (CONCLAVE_PG_SHARED_BUFFERS_MB overrides): Knowledge's
# 100,000-chunk bench touches ~0.5 GB of heap and indexes, and misses in shared buffers show in its search figures.
shared_buffers = ${buffers}MB
# Commits stay synchronous: the session log is the product's record, and benchmarks measure real commits.
EOF
  if ! cmp -s "$tmp" "$conf" 2>/dev/null; then
    install -m 600 "$tmp" "$conf"
    is_root && chown postgres:postgres "$conf"
  fi
  rm -f "$tmp"
  grep -q "^include_if_exists 'conclave.conf'" "$data/postgresql.conf" \
    || echo "include_if_exists 'conclave.conf'" >>"$data/postgresql.conf"
}

psql_super() {
  PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$1" -U postgres "${@:2}"
}

own_cs() {
  local port
  port="$(read_port || true)"
  [ -n "$port" ] && echo "Host=127.0.0.1;Port=$port;Database=conclave;Username=conclave;Password=conclave"
}

# True when ConnectionStrings__Conclave points somewhere else than this cluster (a value exported
# from .data/env.sh names this cluster and does not count).
external_db() {
  [ -n "${ConnectionStrings__Conclave:-}" ] && [ "$ConnectionStrings__Conclave" != "$(own_cs || true)" ]
}

cmd_start() {
  if external_db; then
    log "ConnectionStrings__Conclave is set: using that database, starting nothing"
    return 0
  fi
  [ -x "$PG_BIN/initdb" ] || die "PostgreSQL $PG_MAJOR is not installed: run scripts/postgres.sh install"
  [ -f "$VECTOR_CONTROL" ] || die "pgvector is not installed: run scripts/postgres.sh install"
  lock_state
  local home data log port
  home="$(pg_home)"
  data="$home/data"
  log="$home/postgres.log"

  if is_running "$data"; then
    log "cluster in $data already running on port $(read_port)"
    return 0
  fi

  if [ ! -f "$data/PG_VERSION" ]; then
    rm -rf "$data"
    log "initdb $data (trust auth on local socket and 127.0.0.1)"
    as_pg "$PG_BIN/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$home/initdb.log" 2>&1 \
      || { cat "$home/initdb.log" >&2; die "initdb failed"; }
  else
    log "cluster already initialised in $data"
  fi

  port="$(read_port || true)"
  if [ -z "$port" ]; then
    port="$(choose_port)"
    log "chose free port $port"
  elif port_in_use "$port"; then
    local old="$port"
    port="$(choose_port)"
    log "remembered port $old is taken by another process; moving to $port"
  else
    log "using remembered port $port"
  fi
  echo "$port" >"$PG_STATE/port"

  # Unix socket paths are limited to 107 bytes.
  local sockdir="$home"
  [ "${#sockdir}" -le 80 ] || sockdir="/tmp"
  write_settings "$data" "$port" "$sockdir"

  log "pg_ctl start (port $port, log $log)"
  # The postmaster must inherit no descriptor but stdio (not this script's lock, not a CI pipe).
  local pg_ctl=("$PG_BIN/pg_ctl" start -w -t 60 -D "$data" -l "$log")
  is_root && pg_ctl=(runuser -u postgres -- "${pg_ctl[@]}")
  if ! (cd / && exec_detached "${pg_ctl[@]}" >/dev/null); then
    tail -n 30 "$log" >&2 || true
    die "PostgreSQL did not start (log: $log)"
  fi

  log "ensuring role conclave (CREATEDB), database conclave, extension vector"
  psql_super "$port" -d postgres <<'SQL'
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'conclave') THEN
    CREATE ROLE conclave LOGIN CREATEDB PASSWORD 'conclave';
  ELSE
    ALTER ROLE conclave LOGIN CREATEDB PASSWORD 'conclave';
  END IF;
END
$$;
SELECT 'CREATE DATABASE conclave OWNER conclave'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'conclave') \gexec
SQL
  psql_super "$port" -d conclave -c "CREATE EXTENSION IF NOT EXISTS vector"
  # Tests create a database per test class as `conclave`, which cannot create an untrusted
  # extension itself: having it in template1 gives every new database pgvector from the start.
  psql_super "$port" -d template1 -c "CREATE EXTENSION IF NOT EXISTS vector"
  log "PostgreSQL ready on 127.0.0.1:$port (database conclave, user conclave)"
}

cmd_stop() {
  if external_db; then
    log "ConnectionStrings__Conclave names another database: nothing of ours to stop"
    return 0
  fi
  lock_state
  local data
  data="$(pg_home)/data"
  if ! is_running "$data"; then
    log "cluster in $data is not running"
    return 0
  fi
  log "pg_ctl stop -m fast ($data)"
  as_pg "$PG_BIN/pg_ctl" stop -w -t 60 -m fast -D "$data" >/dev/null
  log "stopped"
}

cmd_status() {
  local data
  [ -d "$PG_STATE" ] || { log "no cluster in $PG_STATE"; return 1; }
  data="$(pg_home)/data"
  if is_running "$data"; then
    log "cluster in $data running on port $(read_port)"
    return 0
  fi
  log "cluster in $data not running"
  return 1
}

shell_quote() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }

cmd_env() {
  local cs
  if external_db; then
    cs="$ConnectionStrings__Conclave"
  else
    cs="$(own_cs || true)"
    [ -n "$cs" ] || die "no port chosen yet: run scripts/postgres.sh start"
  fi
  echo "export ConnectionStrings__Conclave=$(shell_quote "$cs")"
}

case "${1:-}" in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) cmd_env ;;
  *) echo "usage: $0 install|start|stop|status|env" >&2; exit 2 ;;
esac
