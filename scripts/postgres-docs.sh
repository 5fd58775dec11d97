#!/usr/bin/env bash
# The PostgreSQL 15 manual as HTML (Debian's postgresql-doc-15): real documents for the Knowledge
# module's retrieval-quality test (tests/Conclave.Knowledge.Tests/Evaluation).
#   scripts/postgres-docs.sh install   installs the package when it is missing
#   scripts/postgres-docs.sh env       prints the export line naming the manual's folder
#   scripts/postgres-docs.sh status    exits 0 when the manual is there
set -euo pipefail
LOG_TAG=postgres-docs
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MANUAL=/usr/share/doc/postgresql-doc-15/html

case "${1:-}" in
  install)
    apt_install postgresql-doc-15
    [ -f "$MANUAL/index.html" ] || die "postgresql-doc-15 is installed but $MANUAL/index.html is missing"
    log "manual: $(find "$MANUAL" -name '*.html' | wc -l) pages in $MANUAL"
    ;;
  env) printf 'export CONCLAVE_POSTGRES_MANUAL=%s\n' "$MANUAL" ;;
  status) [ -f "$MANUAL/index.html" ] ;;
  *) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
