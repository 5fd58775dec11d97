#!/usr/bin/env bash
# Runs every test project of the solution against real dependencies and prints, as its last line,
# `N passed, N failed, N skipped` (summed over all projects' trx files, plus one test per bench's smoke run).
#   ./test.sh                               all projects under tests/ (each *.Tests.csproj)
#   ./test.sh 'FullyQualifiedName~Sessions' passed to `dotnet test --filter`
#   CONCLAVE_TEST_PROJECTS="Conclave.Sessions.Tests Conclave.Host.Tests" ./test.sh
#   CONCLAVE_TEST_HANG_TIMEOUT=10m          a single test running longer fails its project ('' = off)
#   CONCLAVE_BENCH_SMOKE=0                  skip the benches' smoke runs (bench/smoke.sh, one test per bench);
#                                           they run by default, and not when a filter or the variable above narrows the run
# Exits non-zero when a test failed, a project failed to build or run, or no test ran at all.
# Dependencies come from scripts/deps.sh; under CI the services it started are stopped at the end.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
LOG_TAG="test"
# shellcheck source=scripts/lib.sh
source scripts/lib.sh
say() { printf '[test] %s\n' "$*"; }

case "${1:-}" in
  -h | --help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac
FILTER="${1:-}"
RESULTS="$CONCLAVE_DATA/test-results"
HANG_TIMEOUT="${CONCLAVE_TEST_HANG_TIMEOUT-10m}"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# No MSBuild node outlives the run (a lingering node keeps a CI runner's output pipe open).
export MSBUILDDISABLENODEREUSE=1
WALL_START=$SECONDS

passed=0 failed=0 skipped=0
failures=()  # what went wrong besides failed tests

stop_what_we_started() {
  [ -n "${CI:-}" ] || return 0
  if [ "${pg_was_running:-1}" = 0 ]; then scripts/postgres.sh stop || true; fi
  if [ "${podman_was_running:-1}" = 0 ]; then scripts/podman.sh stop || true; fi
  if [ "${rootless_was_running:-1}" = 0 ]; then scripts/podman-rootless.sh stop || true; fi
  dotnet build-server shutdown >/dev/null 2>&1 || true
}

# Prints the closing lines; the very last one is the summary the CI reads.
finish() {
  stop_what_we_started
  local total=$((passed + failed + skipped)) rc=0
  [ "$failed" -eq 0 ] || rc=1
  if [ "${#failures[@]}" -gt 0 ]; then
    rc=1
    say "problems:"
    printf '[test]   - %s\n' "${failures[@]}"
  fi
  if [ "$((passed + failed))" -eq 0 ]; then
    rc=1
    say "no test ran"
  fi
  say "total wall time $((SECONDS - WALL_START)) s; $total tests; exit $rc"
  echo "$passed passed, $failed failed, $skipped skipped"
  exit "$rc"
}

# --- dependencies -----------------------------------------------------------------------------
pg_was_running=0 podman_was_running=0 rootless_was_running=0
scripts/postgres.sh status >/dev/null 2>&1 && pg_was_running=1
scripts/podman.sh status >/dev/null 2>&1 && podman_was_running=1
scripts/podman-rootless.sh status >/dev/null 2>&1 && rootless_was_running=1
# rootless-podman: a second, rootless engine for tests/Conclave.Sandbox.Tests/Rootless; prometheus: promtool for the deploy/prometheus checks.
say "scripts/deps.sh all rootless-podman prometheus"
if ! scripts/deps.sh all rootless-podman prometheus; then
  failures+=("scripts/deps.sh failed: dependencies are not ready")
  finish
fi
# shellcheck disable=SC1091
source "$CONCLAVE_DATA/env.sh"
if [ -z "${CONCLAVE_ROOTLESS_DOCKER_ENDPOINT:-}" ]; then
  failures+=("CONCLAVE_ROOTLESS_DOCKER_ENDPOINT is not in .data/env.sh: the rootless engine tests would be skipped")
fi
say "environment from .data/env.sh: $(sed -n 's/^export \([^=]*\)=.*/\1/p' "$CONCLAVE_DATA/env.sh" | paste -sd' ')"

# --- which projects ---------------------------------------------------------------------------
mapfile -t all_projects < <(find tests -name '*.Tests.csproj' -not -path '*/bin/*' -not -path '*/obj/*' | sort)
projects=()
if [ -n "${CONCLAVE_TEST_PROJECTS:-}" ]; then
  for want in $CONCLAVE_TEST_PROJECTS; do
    match=()
    for p in "${all_projects[@]}"; do
      base="$(basename "$p" .csproj)"
      if [ "$want" = "$base" ] || [ "$want" = "$base.csproj" ] || [ "$want" = "$p" ] || [ "$want" = "./$p" ]; then
        match=("$p")
        break
      fi
      if [[ "${base,,}" == *"${want,,}"* ]]; then match+=("$p"); fi
    done
    if [ "${#match[@]}" -eq 1 ]; then
      projects+=("${match[0]}")
    elif [ "${#match[@]}" -eq 0 ]; then
      failures+=("CONCLAVE_TEST_PROJECTS names '$want', which matches no tests/**/*.Tests.csproj")
    else
      failures+=("CONCLAVE_TEST_PROJECTS names '$want', which matches several projects: ${match[*]}")
    fi
  done
  say "projects selected by CONCLAVE_TEST_PROJECTS: ${#projects[@]}"
else
  projects=("${all_projects[@]}")
  say "test projects found under tests/: ${#projects[@]}"
fi
if [ "${#projects[@]}" -eq 0 ]; then
  failures+=("no test project to run")
  finish
fi

# --- build once -------------------------------------------------------------------------------
# The whole solution; with CONCLAVE_TEST_PROJECTS only the chosen projects (and what they reference),
# so a broken project elsewhere does not stop a focused run.
build() {
  local what="$1" t0=$SECONDS
  say "dotnet build $what -c Release"
  if dotnet build "$what" -c Release -nologo -v minimal -nodeReuse:false; then
    say "build of $what took $((SECONDS - t0)) s"
  else
    say "build of $what FAILED after $((SECONDS - t0)) s"
    return 1
  fi
}
unbuilt=" "  # projects whose build failed: not run
if [ -n "${CONCLAVE_TEST_PROJECTS:-}" ]; then
  for p in "${projects[@]}"; do
    build "$p" || { failures+=("dotnet build $p failed"); unbuilt+="$p "; }
  done
else
  if ! build Monolith.sln; then
    failures+=("dotnet build Monolith.sln failed")
    finish
  fi
  # A test project missing from the solution would not have been built: build it on its own.
  in_sln="$(dotnet sln Monolith.sln list 2>/dev/null | sed 's|\\|/|g' || true)"
  for p in "${projects[@]}"; do
    if [ -n "$in_sln" ] && ! grep -qxF "$p" <<<"$in_sln"; then
      say "$p is not in Monolith.sln"
      build "$p" || { failures+=("dotnet build $p failed"); unbuilt+="$p "; }
    fi
  done
fi

# --- run each project -------------------------------------------------------------------------
rm -rf "$RESULTS"
mkdir -p "$RESULTS"
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3

# count_trx FILE...: prints "passed failed skipped", and each failed test's name on stderr.
count_trx() {
  "$PY" - "$@" <<'PY'
import sys, xml.etree.ElementTree as ET
ns = "{http://microsoft.com/schemas/VisualStudio/TeamTest/2010}"
PASSED = {"Passed", "PassedButRunAborted", "Warning"}
FAILED = {"Failed", "Error", "Timeout", "Aborted", "Disconnected"}
p = f = s = 0
failed_names = []
for path in sys.argv[1:]:
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        print(f"[test] cannot read {path}: {e}", file=sys.stderr)
        f += 1
        continue
    results = root.find(f"{ns}Results")
    rows = [] if results is None else [r for r in results if r.tag == f"{ns}UnitTestResult"]
    if rows:
        for r in rows:
            outcome = r.get("outcome", "")
            if outcome in PASSED:
                p += 1
            elif outcome in FAILED:
                f += 1
                message = r.find(f"{ns}Output/{ns}ErrorInfo/{ns}Message")
                text = " ".join((message.text or "").split()) if message is not None else ""
                failed_names.append((r.get("testName", "?"), text[:400]))
            else:  # NotExecuted (skipped), Inconclusive, Pending, ...
                s += 1
    else:
        c = root.find(f"{ns}ResultSummary/{ns}Counters")
        if c is not None:
            g = lambda k: int(c.get(k, "0"))
            p += g("passed")
            f += g("failed") + g("error") + g("timeout") + g("aborted")
            s += g("notExecuted") + g("inconclusive")
for name, message in failed_names[:100]:
    print(f"[test]   FAILED {name}", file=sys.stderr)
    if message:
        print(f"[test]     {message}", file=sys.stderr)
if len(failed_names) > 100:
    print(f"[test]   ... and {len(failed_names) - 100} more", file=sys.stderr)
print(p, f, s)
PY
}

trx_files=()
timings=()
for p in "${projects[@]}"; do
  name="$(basename "$p" .csproj)"
  if [[ "$unbuilt" == *" $p "* ]]; then
    timings+=("$name: not run (build failed)")
    say "$name: not run (build failed)"
    continue
  fi
  args=(test "$p" -c Release --no-build --nologo
    --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=minimal"
    --results-directory "$RESULTS")
  [ -n "$FILTER" ] && args+=(--filter "$FILTER")
  [ -n "$HANG_TIMEOUT" ] && args+=(--blame-hang --blame-hang-timeout "$HANG_TIMEOUT" --blame-hang-dump-type none)
  say "dotnet test $name${FILTER:+ --filter $FILTER}"
  t0=$SECONDS
  set +e
  dotnet "${args[@]}"
  rc=$?
  set -e
  took=$((SECONDS - t0))
  trx="$RESULTS/$name.trx"
  if [ -f "$trx" ]; then
    trx_files+=("$trx")
    pp='?' ff='?' ss='?'
    read -r pp ff ss < <(count_trx "$trx" 2>/dev/null) || true
    line="$name: $pp passed, $ff failed, $ss skipped in $took s (exit $rc)"
  else
    line="$name: no trx written in $took s (exit $rc)"
    failures+=("$name wrote no test results")
  fi
  [ "$rc" -eq 0 ] || failures+=("$name: dotnet test exited $rc")
  timings+=("$line")
  say "$line"
done

# --- the benches, in their smoke mode ---------------------------------------------------------
# Each bench counts as one test: one that no longer builds or runs fails the suite (figures are not judged).
bench_passed=0 bench_failed=0
bench_smoke_default=1
if [ -n "$FILTER" ] || [ -n "${CONCLAVE_TEST_PROJECTS:-}" ]; then bench_smoke_default=0; fi
if [ "${CONCLAVE_BENCH_SMOKE:-$bench_smoke_default}" = 1 ]; then
  smoke_args=()
  # The solution build above included bench/; a narrowed build did not.
  [ -n "${CONCLAVE_TEST_PROJECTS:-}" ] || smoke_args+=(--no-build)
  smoke_log="$RESULTS/bench-smoke.log"
  say "bench/smoke.sh ${smoke_args[*]}"
  t0=$SECONDS
  set +e
  bench/smoke.sh "${smoke_args[@]}" 2>&1 | tee "$smoke_log"
  set -e
  summary="$(sed -n 's/^bench smoke: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$smoke_log" | tail -n 1)"
  if [ -n "$summary" ]; then
    read -r bench_passed bench_failed <<<"$summary"
  else
    failures+=("bench/smoke.sh ended without its summary line (see $smoke_log)")
  fi
  while IFS= read -r line; do
    failures+=("bench smoke: ${line#\[bench\] FAILED }")
  done < <(grep '^\[bench\] FAILED ' "$smoke_log" || true)
  timings+=("bench smoke: $bench_passed passed, $bench_failed failed in $((SECONDS - t0)) s")
else
  say "benches' smoke runs skipped (CONCLAVE_BENCH_SMOKE=${CONCLAVE_BENCH_SMOKE:-0 for a narrowed run})"
fi

# --- summary ----------------------------------------------------------------------------------
say "per project:"
printf '[test]   %s\n' "${timings[@]}"
if [ "${#trx_files[@]}" -gt 0 ]; then
  if ! read -r passed failed skipped < <(count_trx "${trx_files[@]}"); then
    passed=0 failed=0 skipped=0
    failures+=("could not read the trx files in $RESULTS")
  fi
fi
passed=$((passed + bench_passed))
failed=$((failed + bench_failed))
finish
