#!/usr/bin/env bash
# The validators of what deploys Conclave, from the npm registry into $CONCLAVE_DATA/tools:
# @action-validator/cli (GitHub workflow files) and dclint (Compose files). Idempotent: nothing
# is fetched when the pinned versions are there. Used by tests/Conclave.Deployment.Tests.
#   scripts/deploy-tools.sh     install if needed, then print `export CONCLAVE_ACTION_VALIDATOR=...`
#                               and `export CONCLAVE_DCLINT=...` (eval them)
set -euo pipefail
LOG_TAG=deploy-tools
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TOOLS="$CONCLAVE_DATA/tools"
PACKAGES=("@action-validator/cli@0.6.0" "dclint@3.1.0")

installed() {
  local spec name version
  for spec in "${PACKAGES[@]}"; do
    name="${spec%@*}" version="${spec##*@}"
    [ "$(node -p "require('$TOOLS/node_modules/$name/package.json').version" 2>/dev/null)" = "$version" ] || return 1
  done
}

command -v npm >/dev/null 2>&1 || apt_install nodejs npm
mkdir -p "$TOOLS"
exec 9>"$TOOLS/.lock"
flock -w 300 9 || die "another scripts/deploy-tools.sh holds $TOOLS/.lock"
if installed; then
  log "already installed: ${PACKAGES[*]}"
else
  log "npm install ${PACKAGES[*]} into $TOOLS"
  [ -f "$TOOLS/package.json" ] || echo '{ "private": true }' >"$TOOLS/package.json"
  npm install --prefix "$TOOLS" --no-audit --no-fund --loglevel=error "${PACKAGES[@]}" >&2
  installed || die "npm installed something else than ${PACKAGES[*]}"
fi
echo "export CONCLAVE_ACTION_VALIDATOR='$TOOLS/node_modules/.bin/action-validator'"
echo "export CONCLAVE_DCLINT='$TOOLS/node_modules/.bin/dclint'"
