#!/usr/bin/env bash
# Backs up a Conclave installation while it runs: the whole database (every module's schema:
# sessions, agents, identity with the Data Protection keys, wolverine, knowledge, ...) and the
# workspaces (each session's file system image, and the records naming them).
#   scripts/backup.sh DIR [--database CS] [--workspaces ROOT] [--container NAME]
#     DIR            a new (or empty) folder for the backup
#     --database     connection string (Npgsql `Host=...;Database=...` or postgresql:// URI);
#                    default: ConnectionStrings__Conclave
#     --workspaces   the workspace root; default: Conclave__Sandbox__WorkspaceRoot, else
#                    /var/lib/conclave/workspaces. For the image, the host folder mounted at
#                    /data/workspaces (its WorkspaceHostRoot)
#     --container    dump the embedded database of this Conclave container (through `podman exec`;
#                    CONCLAVE_ENGINE_CLI=docker for Docker) instead of --database
# The database is one pg_dump (a consistent snapshot). Each workspace image is copied sparse while
# its file system is frozen (fsfreeze), so it is consistent in itself; a session created or removed
# between the dump and the copy may differ: for one instant across both, stop Conclave first.
# Restore with scripts/restore.sh into a new database and workspace root.
set -euo pipefail
LOG_TAG=backup
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; }
out="" database="${ConnectionStrings__Conclave:-}" workspaces="${Conclave__Sandbox__WorkspaceRoot:-/var/lib/conclave/workspaces}" container=""
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --database) database="$2"; shift 2 ;;
    --workspaces) workspaces="$2"; shift 2 ;;
    --container) container="$2"; shift 2 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) [ -z "$out" ] || die "one backup folder, please"; out="$1"; shift ;;
  esac
done
[ -n "$out" ] || { usage >&2; exit 2; }
if [ -e "$out" ] && [ -n "$(ls -A "$out")" ]; then die "$out exists and is not empty"; fi
[ -d "$workspaces" ] || die "no workspace root at $workspaces (--workspaces)"
command -v pg_dump >/dev/null || [ -n "$container" ] || apt_install postgresql-client
started=$SECONDS
mkdir -p "$out/workspaces/volumes" "$out/workspaces/sessions" "$out/workspaces/mounts"
chmod 700 "$out"

# --- the database -----------------------------------------------------------------------------
if [ -n "$container" ]; then
  cli="${CONCLAVE_ENGINE_CLI:-podman}"
  log "pg_dump of the embedded database of container $container ($cli exec)"
  "$cli" exec "$container" /usr/lib/postgresql/15/bin/pg_dump -h /run/postgresql -U conclave -d conclave -Fc >"$out/database.dump"
  source_db="container $container"
else
  [ -n "$database" ] || die "no database: set ConnectionStrings__Conclave or pass --database (or --container)"
  eval "$(pg_env "$database")"
  source_db="$(sed -E 's/(Password|Pwd)=[^;]*/\1=***/Ig' <<<"$database")"
  log "pg_dump of $source_db"
  pg_dump -Fc -f "$out/database.dump"
fi
tables="$(pg_restore -l "$out/database.dump" | grep -c ' TABLE DATA ' || true)"
schemas="$(pg_restore -l "$out/database.dump" | awk '$4 == "TABLE" && $5 == "DATA" { print $6 }' | sort -u | paste -sd' ')"
log "database: $tables tables in schemas: $schemas ($(du -h "$out/database.dump" | cut -f1))"

# --- the workspaces ---------------------------------------------------------------------------
frozen=""
thaw() {
  if [ -n "$frozen" ]; then
    fsfreeze -u "$frozen" || log "WARNING: could not unfreeze $frozen: run fsfreeze -u $frozen"
    frozen=""
  fi
}
trap thaw EXIT INT TERM
can_freeze=1
is_root || { can_freeze=0; log "WARNING: not root: workspace file systems are copied without freezing them (writes during the copy may be torn)"; }

# The records first: every volume a copied record names is copied after it.
records=0 volumes=0 folders=0
for record in "$workspaces"/sessions/*; do
  [ -f "$record" ] || continue
  name="$(basename "$record")"
  [[ "$name" =~ ^[0-9a-f]{32}$ ]] || continue
  cp -p "$record" "$out/workspaces/sessions/$name"
  records=$((records + 1))
done
for record in "$out"/workspaces/sessions/*; do
  [ -f "$record" ] || continue
  id="$(tr -d '[:space:]' <"$record")"
  [[ "$id" =~ ^[0-9a-f]{32}$ ]] || { log "WARNING: $(basename "$record") names no volume; skipped"; continue; }
  image="$workspaces/volumes/$id.img" mount="$workspaces/mounts/$id"
  if [ -f "$image" ]; then
    if [ "$can_freeze" = 1 ] && mountpoint -q "$mount"; then
      # Writers (code in the sandbox, uploads) wait while it is frozen: a fraction of a second.
      fsfreeze -f "$mount"
      frozen="$mount"
      cp -p --sparse=always "$image" "$out/workspaces/volumes/"
      thaw
    else
      cp -p --sparse=always "$image" "$out/workspaces/volumes/"
    fi
    [ -f "$image.used" ] && cp -p "$image.used" "$out/workspaces/volumes/"
    volumes=$((volumes + 1))
  elif [ -d "$mount" ] && ! mountpoint -q "$mount"; then
    # WorkspaceIsolation.Folder: the files are a plain folder.
    cp -a --sparse=always "$mount" "$out/workspaces/mounts/"
    [ -f "$image.used" ] && cp -p "$image.used" "$out/workspaces/volumes/"
    folders=$((folders + 1))
  else
    log "WARNING: session $(basename "$record") names volume $id, which has neither an image nor a folder; skipped"
  fi
done
log "workspaces: $records session records, $volumes file system images, $folders plain folders ($(du -sh "$out/workspaces" | cut -f1) on disk, $(du -sh --apparent-size "$out/workspaces" | cut -f1) apparent)"

cat >"$out/manifest.txt" <<EOF
# Conclave backup; restore with: scripts/restore.sh $out --database CS --workspaces NEW_ROOT
created: $(date -u +%Y-%m-%dT%H:%M:%SZ)
database: $source_db
tables: $tables
schemas: $schemas
workspaces: $workspaces
session_records: $records
volume_images: $volumes
plain_folders: $folders
EOF
log "done in $((SECONDS - started)) s: $out ($(du -sh "$out" | cut -f1))"
