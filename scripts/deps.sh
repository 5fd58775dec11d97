#!/usr/bin/env bash
# Installs and starts what the tests and a local run need, then writes $CONCLAVE_DATA/env.sh
# (source it: `. .data/env.sh`).
#   scripts/deps.sh                      the defaults: postgres podman chromium sandbox-image postgres-docs
#   scripts/deps.sh postgres podman ...  only these components
#   scripts/deps.sh all rootless-podman  the defaults and the optional rootless-podman (what test.sh asks for):
#                                        a rootless Podman API of its own user (scripts/podman-rootless.sh)
#   scripts/deps.sh prometheus           optional: Debian's prometheus and promtool, to check deploy/prometheus
# sandbox-image runs scripts/sandbox-image.sh when that file exists (it builds the offline sandbox
# image); `export NAME=...` lines it prints on stdout are kept in env.sh too.
set -euo pipefail
LOG_TAG=deps
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SCRIPTS="$CONCLAVE_ROOT/scripts"
SANDBOX_SCRIPT="$SCRIPTS/sandbox-image.sh"
SANDBOX_ENV="$CONCLAVE_DATA/sandbox-image.env"
ENV_FILE="$CONCLAVE_DATA/env.sh"
ALL=(postgres podman chromium sandbox-image postgres-docs)
OPTIONAL=(rootless-podman prometheus)

case "${1:-}" in
  -h | --help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac
components=()
for c in "$@"; do
  if [ "$c" = all ]; then components+=("${ALL[@]}"); else components+=("$c"); fi
done
[ "${#components[@]}" -gt 0 ] || components=("${ALL[@]}")
for c in "${components[@]}"; do
  case " ${ALL[*]} ${OPTIONAL[*]} " in *" $c "*) ;; *) die "unknown component '$c' (known: ${ALL[*]} ${OPTIONAL[*]}, all)" ;; esac
done
wants() { case " ${components[*]} " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

started=$SECONDS
log "components: ${components[*]} (data in $CONCLAVE_DATA)"

if wants postgres; then
  "$SCRIPTS/postgres.sh" install
  "$SCRIPTS/postgres.sh" start
fi

if wants podman; then
  "$SCRIPTS/podman.sh" install
  "$SCRIPTS/podman.sh" start
fi

if wants chromium; then
  "$SCRIPTS/chromium.sh" install >/dev/null
fi

# The PostgreSQL manual: the documents of the Knowledge module's retrieval-quality test.
if wants postgres-docs; then
  "$SCRIPTS/postgres-docs.sh" install
fi

if wants sandbox-image; then
  if [ -f "$SANDBOX_SCRIPT" ]; then
    # ENVIRONMENT.md's recipe: the image is a mmdebstrap rootfs imported into podman. Installing
    # mmdebstrap here runs `apt-get update` first on a machine that never had one.
    apt_install mmdebstrap
    # The image goes into the storage of the podman that serves the sandbox socket.
    eval "$("$SCRIPTS/podman.sh" env)"
    log "running scripts/sandbox-image.sh"
    tmp="$(mktemp "$CONCLAVE_DATA/.sandbox-image.env.XXXXXX")"
    # Its output is shown as it comes; its `export NAME=value` lines are also kept for env.sh.
    bash "$SANDBOX_SCRIPT" | while IFS= read -r line; do
      if [[ "$line" =~ ^export\ [A-Za-z_][A-Za-z0-9_]*= ]]; then printf '%s\n' "$line" >>"$tmp"; fi
      printf '%s\n' "$line" >&2
    done || { rm -f "$tmp"; die "scripts/sandbox-image.sh failed"; }
    mv "$tmp" "$SANDBOX_ENV"
  else
    log "scripts/sandbox-image.sh does not exist (yet): no sandbox image built"
    rm -f "$SANDBOX_ENV"
  fi
fi

# After sandbox-image: the image is copied from root's storage into the rootless user's.
if wants rootless-podman; then
  "$SCRIPTS/podman-rootless.sh" install
  "$SCRIPTS/podman-rootless.sh" start
  "$SCRIPTS/podman-rootless.sh" image
fi

if wants prometheus; then
  "$SCRIPTS/prometheus.sh" install >/dev/null
fi

# env.sh names whatever is usable now, also what this run did not touch.
log "writing $ENV_FILE"
tmp="$(mktemp "$CONCLAVE_DATA/.env.sh.XXXXXX")"
{
  echo "# Written by scripts/deps.sh; source it: . .data/env.sh"
  if wants postgres || "$SCRIPTS/postgres.sh" status 2>/dev/null || [ -n "${ConnectionStrings__Conclave:-}" ]; then
    "$SCRIPTS/postgres.sh" env
  fi
  if wants podman || "$SCRIPTS/podman.sh" status 2>/dev/null; then
    "$SCRIPTS/podman.sh" env
  fi
  if wants rootless-podman || "$SCRIPTS/podman-rootless.sh" status 2>/dev/null; then
    "$SCRIPTS/podman-rootless.sh" env
  fi
  if [ -x /usr/bin/promtool ]; then
    "$SCRIPTS/prometheus.sh" env
  fi
  if [ -x /usr/bin/chromium ]; then
    "$SCRIPTS/chromium.sh" env
  fi
  if "$SCRIPTS/postgres-docs.sh" status; then
    "$SCRIPTS/postgres-docs.sh" env
  fi
  if [ -f "$SANDBOX_SCRIPT" ] && [ -s "$SANDBOX_ENV" ]; then
    cat "$SANDBOX_ENV"
  fi
} >"$tmp"
chmod 644 "$tmp"
mv "$tmp" "$ENV_FILE"
log "env.sh exports: $(sed -n 's/^export \([^=]*\)=.*/\1/p' "$ENV_FILE" | paste -sd' ')"
log "done in $((SECONDS - started)) s"
