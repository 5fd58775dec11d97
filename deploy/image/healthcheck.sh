#!/bin/sh
# The container's health check: Conclave's readiness (/health/ready: PostgreSQL and the sandbox
# limits). Exit 0 when ready (Healthy or Degraded), 1 otherwise, as HEALTHCHECK wants.
#   CONCLAVE_HEALTH_URL overrides the address (default: the first of ASPNETCORE_HTTP_PORTS on 127.0.0.1).
ports="${ASPNETCORE_HTTP_PORTS:-8080}"
port="${ports%%[,;]*}"
url="${CONCLAVE_HEALTH_URL:-http://127.0.0.1:${port}/health/ready}"
exec curl --fail --silent --show-error --max-time 4 --output /dev/null "$url"
