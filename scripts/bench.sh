#!/usr/bin/env bash
# Inference benchmark: DenseNet121 eval forward (ms/image, batch 8) and Grad-CAM (ms/image, batch 1) at 1 and 2
# threads, under OpenMP's PASSIVE and ACTIVE wait policies, on an idle CPU and with one core kept busy by another
# process (as a web server's other work would). Numbers are only comparable within one run of this script.
set -euo pipefail
cd "$(dirname "$0")/.."
iterations="${ITERATIONS:-10}"

dotnet build DrWeb.Server -c Release -v q -nologo >/dev/null
bin=DrWeb.Server/bin/Release/net10.0/linux-x64/DrWeb.Server

run() { # policy load
  echo "== OMP_WAIT_POLICY=$1, $2"
  "$bin" bench --iterations "$iterations" --omp-wait-policy "$1" | tail -n +2
}

for policy in PASSIVE ACTIVE; do
  run "$policy" "idle CPU"
done
for policy in PASSIVE ACTIVE; do
  ( while :; do :; done ) &
  hog=$!
  run "$policy" "one core busy with another process"
  kill "$hog"; wait "$hog" 2>/dev/null || true
done
