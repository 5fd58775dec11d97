#!/usr/bin/env bash
# Restores a backup of scripts/backup.sh into a NEW database and a NEW workspace root; start
# Conclave on both afterwards (ConnectionStrings__Conclave, Conclave__Sandbox__WorkspaceRoot).
#   scripts/restore.sh DIR --database CS --workspaces ROOT
#     --database     the target: created when it does not exist (its user needs CREATEDB), else it
#                    must hold no table yet; it needs the vector extension or a user that may create it
#     --workspaces   the target root: must not exist or be empty
# Sessions, their files, accounts, OpenID Connect clients and the Data Protection keys come back
# as they were, so stored provider keys still decrypt.
set -euo pipefail
LOG_TAG=restore
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; }
from="" database="" workspaces=""
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --database) database="$2"; shift 2 ;;
    --workspaces) workspaces="$2"; shift 2 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) [ -z "$from" ] || die "one backup folder, please"; from="$1"; shift ;;
  esac
done
if [ -z "$from" ] || [ -z "$database" ] || [ -z "$workspaces" ]; then usage >&2; exit 2; fi
[ -s "$from/database.dump" ] || die "$from/database.dump is missing: not a backup of scripts/backup.sh"
[ -d "$from/workspaces" ] || die "$from/workspaces is missing: not a backup of scripts/backup.sh"
if [ -e "$workspaces" ] && [ -n "$(ls -A "$workspaces")" ]; then die "$workspaces exists and is not empty: restore into a new root"; fi
command -v pg_restore >/dev/null || apt_install postgresql-client
started=$SECONDS

# --- the database -----------------------------------------------------------------------------
eval "$(pg_env "$database")"
target="${PGDATABASE:-}"
[ -n "$target" ] || die "the connection string names no database"
redacted="$(sed -E 's/(Password|Pwd)=[^;]*/\1=***/Ig' <<<"$database")"
sql() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
if [[ "$target" == postgres*://* ]]; then
  sql -d "$target" -c 'select 1' >/dev/null || die "cannot connect to $redacted (create the database first)"
elif ! sql -d "$target" -c 'select 1' >/dev/null 2>&1; then
  log "creating database $target"
  sql -d postgres -c "CREATE DATABASE \"$target\"" || die "cannot create database $target: create it, empty, and run again"
fi
existing="$(sql -d "$target" -c "select count(*) from information_schema.tables where table_schema not in ('pg_catalog', 'information_schema')")"
[ "$existing" = 0 ] || die "$redacted already holds $existing tables: restore into a new, empty database"
log "pg_restore into $redacted"
# Objects belong to the restoring user; comments are skipped (COMMENT ON EXTENSION needs its owner).
pg_restore --no-owner --no-privileges --no-comments --exit-on-error -d "$target" "$from/database.dump" ||
  die "pg_restore failed (a user that may not create the vector extension needs it created in $target by a superuser first)"
tables="$(sql -d "$target" -c "select count(*) from information_schema.tables where table_schema not in ('pg_catalog', 'information_schema') and table_type = 'BASE TABLE'")"
log "database: $tables tables restored"

# --- the workspaces ---------------------------------------------------------------------------
mkdir -p "$workspaces"
chmod 700 "$workspaces"
cp -a --sparse=always "$from/workspaces/." "$workspaces/"
mkdir -p "$workspaces/mounts" "$workspaces/volumes" "$workspaces/sessions"
records="$(find "$workspaces/sessions" -maxdepth 1 -type f | wc -l)"
images="$(find "$workspaces/volumes" -maxdepth 1 -name '*.img' | wc -l)"
log "workspaces: $records session records, $images file system images in $workspaces ($(du -sh "$workspaces" | cut -f1) on disk)"
log "done in $((SECONDS - started)) s: start Conclave with ConnectionStrings__Conclave='$redacted' Conclave__Sandbox__WorkspaceRoot='$workspaces'"
