#!/usr/bin/env bash
# Debian's Chromium for Playwright (its own browser download cannot work here).
#   scripts/chromium.sh install   apt-get install chromium + a font when /usr/bin/chromium is missing, and the
#                                 system user Chromium runs as when the Host is root (docs/adr/0018-browser-sandbox.md)
#   scripts/chromium.sh env       print `export Conclave__Browser__ExecutablePath=...`
# `install` prints the export too.
set -euo pipefail
LOG_TAG=chromium
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CHROMIUM=/usr/bin/chromium
# The agents' browser keeps Chromium's own sandbox on: a Host running as root starts it as this user.
BROWSER_USER="${Conclave__Browser__SandboxUser:-conclave-browser}"

cmd_env() { echo "export Conclave__Browser__ExecutablePath=$CHROMIUM"; }

cmd_install() {
  if [ -x "$CHROMIUM" ] && pkg_installed fonts-dejavu-core; then
    log "$CHROMIUM already installed (chromium $(dpkg-query -W -f='${Version}' chromium 2>/dev/null || echo '?'))"
  else
    apt_install chromium fonts-dejavu-core
    [ -x "$CHROMIUM" ] || die "$CHROMIUM is still missing after apt-get install chromium"
    log "installed chromium $(dpkg-query -W -f='${Version}' chromium 2>/dev/null || echo '?')"
  fi
  if ! is_root; then
    log "not root: Chromium runs as this user with its sandbox on; no $BROWSER_USER user needed"
  elif id -u "$BROWSER_USER" >/dev/null 2>&1; then
    log "user $BROWSER_USER exists (uid $(id -u "$BROWSER_USER"))"
  else
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$BROWSER_USER"
    log "created the system user $BROWSER_USER (uid $(id -u "$BROWSER_USER")) for the agents' browser"
  fi
  # Chromium's sandbox (namespaces, no setuid helper in Debian's package) needs unprivileged user namespaces.
  if [ -r /proc/sys/kernel/unprivileged_userns_clone ] && [ "$(cat /proc/sys/kernel/unprivileged_userns_clone)" = 0 ]; then
    log "WARNING: kernel.unprivileged_userns_clone is 0: Chromium cannot sandbox itself as $BROWSER_USER; set it to 1 (sysctl)"
  fi
  cmd_env
}

case "${1:-}" in
  install) cmd_install ;;
  env) cmd_env ;;
  *) echo "usage: $0 install|env" >&2; exit 2 ;;
esac
