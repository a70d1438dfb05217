#!/usr/bin/env bash
# The one test command (README, CI). Needs only the .NET SDK; installs anything else the tests use.
set -euo pipefail
cd "$(dirname "$0")/.."

# libgomp spin-waits by default; on a shared 2-core machine that makes torch calls swing 10x in time.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

# Browser tests drive Debian's Chromium (Playwright's own browser download cannot work offline). Without root or the
# Debian mirror they are reported as skipped, with the reason, and every other test still runs.
if ! command -v chromium >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser tests..."
  if [ "$(id -u)" -ne 0 ]; then
    export DRWEB_BROWSER_UNAVAILABLE="Chromium is not installed and scripts/test.sh is not running as root, so it could not install it (sudo apt-get install chromium)."
  elif ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }; then
    export DRWEB_BROWSER_UNAVAILABLE="Chromium is not installed and apt-get could not install it (is the Debian mirror reachable?)."
  fi
  if [ -n "${DRWEB_BROWSER_UNAVAILABLE:-}" ]; then echo "WARNING: browser tests will be skipped: $DRWEB_BROWSER_UNAVAILABLE"; fi
fi

# The PostgreSQL and multi-node tests get a throwaway cluster; without one they are reported as skipped, with the reason.
# shellcheck source=scripts/test-postgres.sh
source scripts/test-postgres.sh
DRWEB_PG_STOP=()
if [ -z "${DRWEB_TEST_POSTGRES:-}" ]; then
  drweb_pg_start
  trap drweb_pg_stop EXIT
fi
if [ -n "${DRWEB_POSTGRES_UNAVAILABLE:-}" ]; then echo "WARNING: PostgreSQL tests will be skipped: $DRWEB_POSTGRES_UNAVAILABLE"; fi

# --fast: the inner loop, without the browser, real-data training, deployment and other slow tests (the full run is CI's).
if [ "${1:-}" = "--fast" ]; then
  shift
  set -- --filter "Category!=Browser&Category!=RealDataTraining&Category!=Deployment&Category!=Slow" "$@"
  echo "Fast lane: browser, real-data training, deployment and slow tests are left out; run without --fast for everything."
fi

results="TestResults/run-$(date +%Y%m%d-%H%M%S)"
status=0
dotnet test DrWeb.sln --logger "console;verbosity=normal" --logger "trx;LogFileName=drweb.trx" \
  --results-directory "$results" "$@" || status=$?

# The console log is long and servers write into it; repeat the failures where a reader of the tail sees them.
if [ "$status" -ne 0 ]; then
  bash scripts/failed-tests.sh "$results"/*.trx || true
fi
exit "$status"
