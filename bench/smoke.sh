#!/usr/bin/env bash
# Runs every bench under bench/ in its smoke mode (tiny n, no thresholds: does it still run?), one
# after the other, and prints as its last line `bench smoke: N passed, N failed`. ./test.sh runs it.
#   bench/smoke.sh                      builds each bench (Release), then runs it with --smoke
#   bench/smoke.sh --no-build           runs the benches as built (./test.sh has built the solution)
#   CONCLAVE_BENCH_SMOKE_TIMEOUT=180s   a bench running longer fails
# Needs what the tests need (scripts/deps.sh); $CONCLAVE_DATA/env.sh is sourced when it exists.
# Exits non-zero when a bench failed to build, exited non-zero, or ran out of time.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
LOG_TAG="bench"
# shellcheck source=scripts/lib.sh
source scripts/lib.sh
say() { printf '[bench] %s\n' "$*"; }

build=1
case "${1:-}" in
  -h | --help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  --no-build) build=0 ;;
  "") ;;
  *) die "unknown argument '$1' (see --help)" ;;
esac
TIMEOUT="${CONCLAVE_BENCH_SMOKE_TIMEOUT:-180s}"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 MSBUILDDISABLENODEREUSE=1
export Logging__LogLevel__Default="${Logging__LogLevel__Default:-Warning}"
if [ -f "$CONCLAVE_DATA/env.sh" ]; then
  # shellcheck disable=SC1091
  source "$CONCLAVE_DATA/env.sh"
fi

# A bench is an executable project under bench/ (Conclave.Bench.Common is the library they share).
mapfile -t benches < <(grep -l '<OutputType>Exe</OutputType>' bench/*/*.csproj | sort)
passed=0 failed=0
for project in "${benches[@]}"; do
  name="$(basename "$project" .csproj)"
  if [ "$build" = 1 ]; then
    say "dotnet build $project -c Release"
    if ! dotnet build "$project" -c Release -nologo -v minimal -nodeReuse:false; then
      say "FAILED $name: the build failed"
      failed=$((failed + 1))
      continue
    fi
  fi
  # The built program itself, not `dotnet run`: a timeout then stops the bench, not a launcher.
  dll="$(find "$(dirname "$project")/bin/Release" -name "$name.dll" -path "*/net*/*" 2>/dev/null | sort | tail -n 1)"
  if [ -z "$dll" ]; then
    say "FAILED $name: no $name.dll under $(dirname "$project")/bin/Release (build it, or run without --no-build)"
    failed=$((failed + 1))
    continue
  fi
  say "dotnet $dll --smoke"
  t0=$SECONDS
  set +e
  timeout --kill-after=10s "$TIMEOUT" dotnet "$dll" --smoke
  rc=$?
  set -e
  took=$((SECONDS - t0))
  if [ "$rc" -eq 0 ]; then
    say "$name: passed in $took s"
    passed=$((passed + 1))
  elif [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    say "FAILED $name: still running after $TIMEOUT"
    failed=$((failed + 1))
  else
    say "FAILED $name: exit $rc after $took s"
    failed=$((failed + 1))
  fi
done

echo "bench smoke: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
