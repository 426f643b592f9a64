#!/usr/bin/env bash
# Runs every benchmark scenario (tests/bench/scenarios/) against ilchatd and the Node baseline,
# one after the other on this machine, and collects their JSON lines (plus one line describing
# the machine) in build/bench-results/results-<time>.jsonl. About 15-25 minutes; --quick is a
# sanity run of a minute or two.
#   tests/bench/run-all.sh [--quick] [--server ilchatd|node|both] [scenario ...]
# Scenarios: writecost idle fanout roomfill rooms persist startup reconnect (default: all, in that
# order; writecost measures this machine, not a server).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${ILCHAT_BUILD_DIR:-$root/build}

args=(); scenarios=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) args+=(--quick); shift ;;
    --server) args+=(--server "${2:?--server ilchatd|node|both}"); shift 2 ;;
    writecost|idle|fanout|roomfill|rooms|persist|startup|reconnect|cluster) scenarios+=("$1"); shift ;;
    *) echo "usage: $0 [--quick] [--server ilchatd|node|both] [writecost|idle|fanout|roomfill|rooms|persist|startup|reconnect ...]" >&2; exit 2 ;;
  esac
done
[ ${#scenarios[@]} -gt 0 ] || scenarios=(writecost idle fanout roomfill rooms persist startup reconnect)

cmake --build "$build" -j "$(nproc)" --target ilchat-loadgen ilchat-writecost ilchatd ilchatctl >&2

mkdir -p "$build/bench-results"
out=$build/bench-results/results-$(date +%Y%m%d-%H%M%S).jsonl
jq -n -c --arg cpu "$(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo)" --argjson cores "$(nproc)" \
  --arg mem "$(awk '/^MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo)" --arg kernel "$(uname -r)" \
  --arg debian "$(cat /etc/debian_version 2>/dev/null || echo unknown)" --arg node "$(node --version)" \
  --arg mariadb "$(mariadbd --version 2>/dev/null | awk '{print $3}')" --arg fd "$(ulimit -Hn)" \
  --arg commit "$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)" --arg date "$(date -u +%FT%TZ)" \
  '{machine: {cpu: $cpu, cores: $cores, memory: $mem, kernel: $kernel, debian: $debian, node: $node,
    mariadb: $mariadb, fd_hard_limit: $fd}, commit: $commit, date: $date}' >"$out"

status=0
for s in "${scenarios[@]}"; do
  echo "== $s" >&2
  start=$(date +%s)
  "$root/tests/bench/scenarios/$s.sh" "${args[@]}" --out "$out" >/dev/null || { echo "== $s failed" >&2; status=1; }
  echo "== $s: $(( $(date +%s) - start )) s" >&2
done
echo "results: $out" >&2
cat "$out"
exit "$status"
