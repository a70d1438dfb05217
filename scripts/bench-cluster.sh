#!/usr/bin/env bash
# Screening API on one node against two web nodes sharing one throwaway PostgreSQL (images in the database), with a
# client sending requests to the nodes in turn. On one machine the nodes share its cores: the figures show what the
# second process costs and what it buys, not what a second machine would. Needs ../shared/data/fundus-dev.
set -euo pipefail
cd "$(dirname "$0")/.."
images="${IMAGES:-../shared/data/fundus-dev/images}"
export OMP_WAIT_POLICY=PASSIVE
export DRWEB_PG_DURABLE=1
source scripts/test-postgres.sh
DRWEB_PG_STOP=()
drweb_pg_start
[ -n "${DRWEB_TEST_POSTGRES:-}" ] || { echo "No PostgreSQL: $DRWEB_POSTGRES_UNAVAILABLE"; exit 1; }
psql_port=$(echo "$DRWEB_TEST_POSTGRES" | sed 's/.*Port=\([0-9]*\).*/\1/')
"$(drweb_pg_bin)/psql" -h 127.0.0.1 -p "$psql_port" -U drweb -d postgres -qc "CREATE DATABASE drweb_bench" >/dev/null

dotnet build DrWeb.Server -c Release -v q -nologo >/dev/null
bin=DrWeb.Server/bin/Release/net10.0/linux-x64/DrWeb.Server
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$work"; drweb_pg_stop; }
trap cleanup EXIT
export ConnectionStrings__DrWeb="${DRWEB_TEST_POSTGRES/Database=postgres/Database=drweb_bench}" DrWeb__Database__Provider=postgres \
  DrWeb__Database__ImageStore=database DrWeb__Admin__Email=bench@drweb.local DrWeb__Admin__Password=benchmark-password \
  DrWeb__RateLimits__ApiPerMinute=1000000 DrWeb__Roles__0=web,screening DrWeb__Training__RunJobs=false
for n in 1 2; do
  DrWeb__NodeName="web-$n" DrWeb__DataFolder="$work/node-$n" "$bin" --urls "http://127.0.0.1:$((5300 + n))" >"$work/node-$n.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$((5300 + n))/healthz" >/dev/null && break; sleep 0.5; done
done
token=$(DrWeb__DataFolder="$work/node-1" "$bin" issue-token --email bench@drweb.local --name benchmark)
echo "== one node"
"$bin" bench-api --url "http://127.0.0.1:5301" --token "$token" --images "$images" --server-pid "${pids[0]}" --total 0 "$@"
echo "== two nodes, requests in turn"
"$bin" bench-api --url "http://127.0.0.1:5301" "http://127.0.0.1:5302" --token "$token" --images "$images" \
  --server-pid "${pids[0]}" "${pids[1]}" --total 0 "$@"
