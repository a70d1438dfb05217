#!/usr/bin/env bash
# Memory under upload bursts: starts the Release server on a loopback port with a fresh data folder, then sends
# N concurrent uploads of a synthetic 7000x7000 PNG (the "pixel bomb" pattern) and N concurrent camera photographs,
# reporting the server's peak RSS and its RSS a minute later. Not a test: numbers depend on the machine.
#   BURST=16 PHOTO=../shared/data/fundus-raw-dev/images/59_left.jpeg scripts/bench-memory.sh
set -euo pipefail
cd "$(dirname "$0")/.."
port="${PORT:-5298}"
burst="${BURST:-16}"
photo="${PHOTO:-$(ls ../shared/data/fundus-raw-dev/images/*.jp*g 2>/dev/null | head -1)}"
export OMP_WAIT_POLICY=PASSIVE

dotnet build DrWeb.Server -c Release -v q -nologo >/dev/null
bin=DrWeb.Server/bin/Release/net10.0/linux-x64/DrWeb.Server
data=$(mktemp -d)
export DrWeb__DataFolder="$data" DrWeb__Admin__Email=bench@drweb.local DrWeb__Admin__Password=benchmark-password-long DrWeb__RateLimits__ApiPerMinute=1000000
"$bin" --urls "http://127.0.0.1:$port" >"$data/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$port/account/login" >/dev/null && break; sleep 0.5; done

token=$("$bin" issue-token --email bench@drweb.local --name benchmark)
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GB", $2/1048576}' /proc/meminfo); load $(cut -d' ' -f1-3 /proc/loadavg)"
# One grading first: the model's first use (weights unpacked, kernels chosen) is a one-time cost, not the burst's.
if [ -n "$photo" ]; then
  curl -sf -o /dev/null -H "Authorization: Bearer $token" -F "images=@$photo" "http://127.0.0.1:$port/api/screenings"
  echo "server RSS after one grading: $(awk '/VmRSS/ {printf "%.0f MB", $2/1024}' /proc/$server/status)"
fi
"$bin" bench-burst --url "http://127.0.0.1:$port" --token "$token" --server-pid "$server" --concurrent "$burst" --synthetic-side 7000 "$@"
if [ -n "$photo" ]; then
  "$bin" bench-burst --url "http://127.0.0.1:$port" --token "$token" --server-pid "$server" --concurrent "${PHOTOS:-100}" --image "$photo" "$@"
fi
