#!/usr/bin/env bash
# Reference scenario, write cost: this machine's physical limit for delivering small frames over
# loopback TCP (ilchat-writecost, tests/bench/writecost/): 3,000 connections, 300,000 deliveries
# of 102 bytes (a room message as a websocket frame), one write() per delivery and then 10 per
# write(), a second thread draining the other ends. Deliveries per CPU-second of the whole process
# (receiver included) are what the fan-out scenario's deliveries per server CPU-second are to be
# read against: a server that writes once per delivery cannot beat the first figure. No server,
# no database; --server is accepted for run-all.sh and ignored. Overrides:
# ILCHAT_BENCH_WRITECOST_PAIRS, ILCHAT_BENCH_WRITECOST_DELIVERIES, ILCHAT_BENCH_WRITECOST_BATCH.
set -euo pipefail
scenario=writecost
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
build=${ILCHAT_BUILD_DIR:-$root/build}
writecost=$build/tests/bench/ilchat-writecost

quick=0
out_file=
while [ $# -gt 0 ]; do
  case "$1" in
    --server) case "${2:-}" in ilchatd|node|both) ;; *) echo "$0: --server ilchatd|node|both" >&2; exit 2 ;; esac; shift 2 ;;
    --quick) quick=1; shift ;;
    --out) out_file=${2:?--out FILE}; shift 2 ;;
    *) echo "usage: $0 [--server ilchatd|node|both] [--quick] [--out FILE]" >&2; exit 2 ;;
  esac
done
[ -x "$writecost" ] || { echo "$0: $writecost missing; build first: cmake --build build -j2 --target ilchat-writecost" >&2; exit 2; }

pairs=${ILCHAT_BENCH_WRITECOST_PAIRS:-3000}; deliveries=${ILCHAT_BENCH_WRITECOST_DELIVERIES:-300000}
batch=${ILCHAT_BENCH_WRITECOST_BATCH:-10}
if [ "$quick" = 1 ]; then pairs=300; deliveries=30000; fi

echo "[$scenario] $deliveries deliveries over $pairs loopback connections, 1 and $batch per write()" >&2
line=$(timeout 120 "$writecost" -k "$pairs" -d "$deliveries" -b "$batch" 2> >(sed "s/^/[$scenario] /" >&2))
json=$(jq -c --argjson quick "$quick" \
  '{scenario: "writecost", quick: ($quick == 1),
    goal: "none: the limit of this machine that the fan-out figures are read against"} + del(.tool)' <<<"$line")
echo "$json"
if [ -n "$out_file" ]; then echo "$json" >>"$out_file"; fi
