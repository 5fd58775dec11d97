#!/usr/bin/env bash
# Debian's Chromium for Playwright (its own browser download cannot work here).
#   scripts/chromium.sh install   apt-get install chromium + a font when /usr/bin/chromium is missing
#   scripts/chromium.sh env       print `export Conclave__Browser__ExecutablePath=...`
# `install` prints the export too.
set -euo pipefail
LOG_TAG=chromium
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CHROMIUM=/usr/bin/chromium

cmd_env() { echo "export Conclave__Browser__ExecutablePath=$CHROMIUM"; }

cmd_install() {
  if [ -x "$CHROMIUM" ] && pkg_installed fonts-dejavu-core; then
    log "$CHROMIUM already installed (chromium $(dpkg-query -W -f='${Version}' chromium 2>/dev/null || echo '?'))"
  else
    apt_install chromium fonts-dejavu-core
    [ -x "$CHROMIUM" ] || die "$CHROMIUM is still missing after apt-get install chromium"
    log "installed chromium $(dpkg-query -W -f='${Version}' chromium 2>/dev/null || echo '?')"
  fi
  cmd_env
}

case "${1:-}" in
  install) cmd_install ;;
  env) cmd_env ;;
  *) echo "usage: $0 install|env" >&2; exit 2 ;;
esac
