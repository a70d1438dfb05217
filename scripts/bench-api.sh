#!/usr/bin/env bash
# Screening API benchmark: starts the Release server on a loopback port with a fresh data folder, issues an API token,
# then measures latency (p50/p95 over 50 requests), throughput with 4 concurrent users, and the server's memory after
# 10 and 500 predictions. Needs ../shared/data/fundus-dev (or IMAGES=<folder of JPEGs>).
set -euo pipefail
cd "$(dirname "$0")/.."
images="${IMAGES:-../shared/data/fundus-dev/images}"
port="${PORT:-5299}"
export OMP_WAIT_POLICY=PASSIVE

dotnet build DrWeb.Server -c Release -v q -nologo >/dev/null
bin=DrWeb.Server/bin/Release/net10.0/linux-x64/DrWeb.Server
data=$(mktemp -d)
export DrWeb__DataFolder="$data" DrWeb__Admin__Email=bench@drweb.local DrWeb__Admin__Password=benchmark-password DrWeb__RateLimits__ApiPerMinute=1000000
"$bin" --urls "http://127.0.0.1:$port" >"$data/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$port/account/login" >/dev/null && break; sleep 0.5; done

token=$("$bin" issue-token --email bench@drweb.local --name benchmark)
"$bin" bench-api --url "http://127.0.0.1:$port" --token "$token" --images "$images" --server-pid "$server" "$@"
