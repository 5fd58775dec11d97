#!/usr/bin/env bash
# Debian's Prometheus (2.42 in bookworm) for checking deploy/prometheus: promtool and a server a test can start.
#   scripts/prometheus.sh install   apt-get install prometheus when promtool is missing (the packaged service is not started)
#   scripts/prometheus.sh env       print `export CONCLAVE_PROMETHEUS=...` and `export CONCLAVE_PROMTOOL=...`
#   scripts/prometheus.sh check     promtool check config and check rules on deploy/prometheus
set -euo pipefail
LOG_TAG=prometheus
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PROMETHEUS=/usr/bin/prometheus
PROMTOOL=/usr/bin/promtool

cmd_env() {
  echo "export CONCLAVE_PROMETHEUS=$PROMETHEUS"
  echo "export CONCLAVE_PROMTOOL=$PROMTOOL"
}

cmd_install() {
  if [ -x "$PROMTOOL" ] && [ -x "$PROMETHEUS" ]; then
    log "already installed ($("$PROMETHEUS" --version 2>&1 | head -1))"
  else
    # The package's service would scrape this machine on :9090; tests start their own server instead.
    local own_policy=false
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      as_root sh -c 'printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d'
      own_policy=true
    fi
    apt_install prometheus
    if $own_policy; then as_root rm -f /usr/sbin/policy-rc.d; fi
    [ -x "$PROMTOOL" ] || die "$PROMTOOL is still missing after apt-get install prometheus"
    log "installed $("$PROMETHEUS" --version 2>&1 | head -1)"
  fi
  cmd_env
}

cmd_check() {
  local deploy="$CONCLAVE_ROOT/deploy/prometheus" tmp
  # The token file the configuration names exists only in a deployment: check a copy pointing at a stand-in.
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' RETURN
  echo "stand-in-scrape-token-0123456789" >"$tmp/scrape-token"
  sed -e "s|/run/secrets/scrape_token|$tmp/scrape-token|" -e "s|/etc/prometheus/rules/|$deploy/rules/|" \
    "$deploy/prometheus.yml" >"$tmp/prometheus.yml"
  "$PROMTOOL" check config "$tmp/prometheus.yml"
  "$PROMTOOL" check rules "$deploy"/rules/*.yml
}

case "${1:-}" in
  install) cmd_install ;;
  env) cmd_env ;;
  check) cmd_check ;;
  *) echo "usage: $0 install|env|check" >&2; exit 2 ;;
esac
