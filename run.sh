#!/usr/bin/env bash
# shellcheck disable=SC2317  # cleanup and on_signal run from traps
# Runs Conclave locally on http://localhost:5000 against a project-local PostgreSQL (and the
# Podman sandbox socket + sandbox image when scripts/sandbox-image.sh exists).
#   ./run.sh [extra arguments for the app]
# Ctrl-C stops the app, then the PostgreSQL cluster and the podman service this script started
# (ones it found already running are left running).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
LOG_TAG=run
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

URL=http://localhost:5000
components=(postgres)
[ -f scripts/sandbox-image.sh ] && components+=(podman sandbox-image)

pg_was_running=0 podman_was_running=0
scripts/postgres.sh status >/dev/null 2>&1 && pg_was_running=1
scripts/podman.sh status >/dev/null 2>&1 && podman_was_running=1

app_pid=""
cleaned=0
cleanup() {
  [ "$cleaned" = 0 ] || return 0
  cleaned=1
  if [ -n "$app_pid" ] && kill -0 "$app_pid" 2>/dev/null; then
    log "stopping the app (pid $app_pid)"
    kill -TERM -- "-$app_pid" 2>/dev/null || kill -TERM "$app_pid" 2>/dev/null || true
    wait "$app_pid" 2>/dev/null || true
  fi
  if [ "$pg_was_running" = 0 ]; then scripts/postgres.sh stop || true; else log "PostgreSQL was already running: left running"; fi
  if [[ " ${components[*]} " == *" podman "* ]]; then
    if [ "$podman_was_running" = 0 ]; then scripts/podman.sh stop || true; else log "podman service was already running: left running"; fi
  fi
}
interrupted=0
on_signal() {
  interrupted=$((interrupted + 1))
  if [ -n "$app_pid" ] && kill -0 "$app_pid" 2>/dev/null; then
    if [ "$interrupted" -eq 1 ]; then
      log "stopping Conclave (Ctrl-C again to kill it)"
      kill -TERM -- "-$app_pid" 2>/dev/null || kill -TERM "$app_pid" 2>/dev/null || true
    else
      log "killing Conclave"
      kill -KILL -- "-$app_pid" 2>/dev/null || kill -KILL "$app_pid" 2>/dev/null || true
    fi
  else
    exit 130
  fi
}
trap cleanup EXIT
trap on_signal INT TERM

log "preparing: ${components[*]}"
scripts/deps.sh postgres
# Without a sandbox engine Conclave still starts: sessions, teams and files work, and running code
# fails with a message saying why (an engine that cannot limit sandboxes turns the health check
# "sandbox" in /health/ready Unhealthy).
if [ "${#components[@]}" -gt 1 ] && ! scripts/deps.sh "${components[@]:1}"; then
  log "WARNING: the sandbox engine or its image is not ready (see above): Conclave starts without sandboxes"
fi
# shellcheck disable=SC1091
source "$CONCLAVE_DATA/env.sh"
export ASPNETCORE_ENVIRONMENT="${ASPNETCORE_ENVIRONMENT:-Development}"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

echo "Conclave is starting on $URL — open it in your browser"
# The app runs in its own session so that a signal reaches it exactly once, from on_signal
# (SIGTERM: a graceful host shutdown), and never leaves it orphaned when this script is stopped.
# --no-launch-profile: launchSettings.json must not override the URL or the environment.
setsid dotnet run --project src/Host -c Release --no-launch-profile -- --urls "$URL" "$@" &
app_pid=$!
rc=0
while kill -0 "$app_pid" 2>/dev/null; do
  wait "$app_pid" && rc=0 || rc=$?
done
app_pid=""
# A signal that stopped the app is a normal end.
[ "$interrupted" -gt 0 ] && rc=0
log "Conclave exited (status $rc)"
exit "$rc"
