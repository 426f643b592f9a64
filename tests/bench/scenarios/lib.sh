#!/usr/bin/env bash
# Shared helpers of the benchmark scenarios (tests/bench/scenarios/<scenario>.sh); sourced by
# them, not run. Every scenario takes:
#   --server ilchatd|node|both   which servers to measure (default both, one after the other)
#   --quick                      a few-second sanity run with small counts
#   --out FILE                   also append the scenario's JSON line to FILE
# and prints a human summary on stderr and one JSON line on stdout.
# Everything runs on loopback against a private MariaDB (tests/env/mariadb.sh, build/mariadb);
# each server gets a fresh database and a temporary folder with its server.cfg/client.cfg.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
build=${ILCHAT_BUILD_DIR:-$root/build}
loadgen=$build/tests/bench/ilchat-loadgen
ilchatd_bin=$build/daemon/ilchatd
ilchatctl_bin=$build/ctl/ilchatctl
node_server=$root/tests/bench/baseline-node/server.mjs
mariadb_dir=$build/mariadb
clk_tck=$(getconf CLK_TCK)
page_kb=$(($(getconf PAGESIZE) / 1024))

servers=(ilchatd node)
quick=0
out_file=
while [ $# -gt 0 ]; do
  case "$1" in
    --server) case "${2:-}" in
        ilchatd|node) servers=("$2") ;;
        both) servers=(ilchatd node) ;;
        *) echo "$0: --server ilchatd|node|both" >&2; exit 2 ;;
      esac; shift 2 ;;
    --quick) quick=1; shift ;;
    --out) out_file=${2:?--out FILE}; shift 2 ;;
    *) echo "usage: $0 [--server ilchatd|node|both] [--quick] [--out FILE]" >&2; exit 2 ;;
  esac
done

for f in "$loadgen" "$ilchatd_bin" "$ilchatctl_bin"; do
  [ -x "$f" ] || { echo "$0: $f missing; build first: cmake --build build -j2 --target ilchat-loadgen ilchatd ilchatctl" >&2; exit 2; }
done
if [[ " ${servers[*]} " == *" node "* ]] && [ ! -d "$root/tests/bench/baseline-node/node_modules" ]; then
  (cd "$root/tests/bench/baseline-node" && npm ci --no-audit --no-fund >&2)
fi

# One connection is one file descriptor: the servers (ilchatd, node) inherit the hard limit.
ulimit -n "$(ulimit -Hn)"

work=$(mktemp -d "${TMPDIR:-/tmp}/ilchat-bench.XXXXXX")
server_pid=
sampler_pid=
bg_pids=()
cleanup() {
  local p
  for p in "${bg_pids[@]}" $sampler_pid; do kill "$p" 2>/dev/null || true; done
  if [ -n "$server_pid" ]; then kill -TERM "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  if [ -n "${ILCHAT_BENCH_KEEP:-}" ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { echo "[$scenario] $*" >&2; }
now_ns() { date +%s%N; }

mariadb_sql() { "$root/tests/env/mariadb.sh" sql "$mariadb_dir" "$@"; }

# fresh_db NAME [MORE.sql ...]: a new database with the ILIAS chat tables and the demo rows.
fresh_db() {
  local name=$1; shift
  "$root/tests/env/mariadb.sh" start "$mariadb_dir"
  "$root/tests/env/mariadb.sh" create-db "$mariadb_dir" "$name" \
    "$root/tests/sql/ilias-schema.sql" "$root/tests/sql/demo-data.sql" "$@"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# write_config DIR DB PORT [key=json ...]: server.cfg and client.cfg by `ilchatctl init` (as
# tests/env/demo.sh does), plus a temporary spool_dir, admin_socket and metrics_address
# 127.0.0.1:0 for ilchatd (the Node baseline ignores those keys) and any extra server.cfg keys.
write_config() {
  local dir=$1 db=$2 port=$3; shift 3
  mkdir -p "$dir"
  env ILIAS_CHAT_ADDRESS=127.0.0.1 ILIAS_CHAT_PORT="$port" ILIAS_CHAT_LOG_DIR= ILIAS_CHAT_LOG_LEVEL=info \
    ILIAS_CHAT_CLIENT_NAME=bench ILIAS_CHAT_AUTH_KEY=bench-key \
    ILIAS_CHAT_AUTH_SECRET="$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
    ILIAS_CHAT_DB_HOST="$mariadb_dir/mysqld.sock" ILIAS_CHAT_DB_PORT=3306 ILIAS_CHAT_DB_NAME="$db" \
    ILIAS_CHAT_DB_USER=ilchat ILIAS_CHAT_DB_PASS="$(cat "$mariadb_dir/ilchat.password")" \
    "$ilchatctl_bin" init --output-dir "$dir" --force >/dev/null
  python3 - "$dir" "$@" <<'PY'
import json, sys
d = sys.argv[1]
p = d + "/server.cfg"
cfg = json.load(open(p, encoding="utf-8-sig"))
cfg.update(spool_dir=d + "/spool", admin_socket=d + "/admin.sock", metrics_address="127.0.0.1:0")
for kv in sys.argv[2:]:
    k, v = kv.split("=", 1)
    cfg[k] = json.loads(v)
json.dump(cfg, open(p, "w"), indent=4)
PY
}

# start_server KIND DIR: starts ilchatd or the Node baseline on DIR/server.cfg DIR/client.cfg
# and waits for its ready line. Sets server_pid, server_log, startup_seconds (process start to
# the ready line, polled every 5 ms) and, for ilchatd, metrics_port.
start_server() {
  local kind=$1 dir=$2 start end i
  server_log=$dir/$kind.$(now_ns).log
  start=$(now_ns)
  if [ "$kind" = ilchatd ]; then
    "$ilchatd_bin" "$dir/server.cfg" "$dir/client.cfg" >"$server_log" 2>&1 &
  else
    node "$node_server" "$dir/server.cfg" "$dir/client.cfg" >"$server_log" 2>&1 &
  fi
  server_pid=$!
  for ((i = 0; i < 36000; i++)); do
    if grep -q "The Server is Ready to use!" "$server_log" 2>/dev/null; then break; fi
    if ! kill -0 "$server_pid" 2>/dev/null; then
      say "$kind exited before it was ready:"; tail -n 20 "$server_log" >&2; server_pid=; return 1
    fi
    sleep 0.005
  done
  end=$(now_ns)
  startup_seconds=$(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.3f", (b-a)/1e9}')
  metrics_port=
  if [ "$kind" = ilchatd ]; then
    metrics_port=$(grep -o 'Metrics: http://[^ ]*' "$server_log" | head -n1 | sed -E 's,.*:([0-9]+)/metrics.*,\1,')
  fi
}

stop_server() {
  [ -n "$server_pid" ] || return 0
  kill -TERM "$server_pid" 2>/dev/null || true
  local i
  for ((i = 0; i < 300; i++)); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=
}

# proc_sample PID: "<cpu seconds (user+system)> <RSS in KB> <open fds>" from /proc.
proc_sample() {
  local pid=$1 stat rest ticks rss fds
  stat=$(cat "/proc/$pid/stat")
  rest=${stat##*) }
  read -r -a f <<<"$rest"
  ticks=$((f[11] + f[12]))   # utime, stime: fields 14 and 15 of stat
  rss=$(awk '/^VmRSS:/{print $2}' "/proc/$pid/status")
  fds=$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
  awk -v t="$ticks" -v hz="$clk_tck" -v r="$rss" -v n="$fds" 'BEGIN{printf "%.2f %d %d\n", t/hz, r, n}'
}

# start_sampler PID FILE: every 0.1 s a line "<ns> <cpu ticks> <rss KB>" for PID; stop_sampler.
start_sampler() {
  local pid=$1 file=$2
  (
    while [ -r "/proc/$pid/stat" ]; do
      stat=$(cat "/proc/$pid/stat" 2>/dev/null) || break
      rest=${stat##*) }; read -r -a f <<<"$rest"
      echo "$(date +%s%N) $((f[11] + f[12])) $((f[21] * page_kb))"
      sleep 0.1
    done
  ) >"$file" &
  sampler_pid=$!
}
stop_sampler() { [ -n "$sampler_pid" ] && { kill "$sampler_pid" 2>/dev/null || true; wait "$sampler_pid" 2>/dev/null || true; }; sampler_pid=; }

# window_cpu FILE FROM_NS TO_NS: server CPU seconds between the samples nearest to the window.
window_cpu() {
  awk -v a="$2" -v b="$3" -v hz="$clk_tck" '
    { t[NR] = $1; c[NR] = $2 }
    END {
      ia = 1; ib = NR
      for (i = 1; i <= NR; i++) if (t[i] <= a) ia = i
      for (i = NR; i >= 1; i--) if (t[i] >= b) ib = i
      if (NR == 0) { print "0 0"; exit }
      printf "%.3f %.3f\n", (c[ib] - c[ia]) / hz, (t[ib] - t[ia]) / 1e9
    }' "$1"
}

# loadgen_bg OUT ARGS...: runs ilchat-loadgen in the background; its JSON line goes to OUT.json,
# its summary to OUT.log, its start time (ns) to OUT.start. Appends its pid to bg_pids.
loadgen_bg() {
  local out=$1; shift
  now_ns >"$out.start"
  "$loadgen" "$@" >"$out.stdout" 2>"$out.log" &
  bg_pids+=($!)
}
# wait_loadgens: waits for every background generator; writes OUT.json from their stdout.
wait_loadgens() {
  local p
  for p in "${bg_pids[@]}"; do wait "$p" 2>/dev/null || true; done
  bg_pids=()
}
loadgen_json() { tail -n 1 "$1.stdout" 2>/dev/null | grep '^{' || echo '{"ok":false,"errors":{"no_report":1}}'; }

# sources G: the loopback source addresses of generator G (10 addresses each).
sources() { echo "127.0.0.$((2 + 10 * $1))-127.0.0.$((11 + 10 * $1))"; }

# wait_for_fds PID COUNT TIMEOUT: until PID holds COUNT more open fds than now (connections).
# Returns early when no generator is left running.
wait_for_connections() {
  local pid=$1 want=$2 timeout=$3 base=$4 i n=0 alive p
  for ((i = 0; i < timeout * 5; i++)); do
    n=$(( $(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 | wc -l) - base ))
    [ "$n" -ge "$want" ] && break
    alive=0; for p in "${bg_pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ "$alive" = 1 ] || break
    sleep 0.2
  done
  echo "$n"
}

# ratio A B: A/B with 2 decimals ("null" when either is missing or B is 0).
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a == "" || b == "" || a == "null" || b == "null" || b + 0 == 0) print "null"; else printf "%.2f\n", a / b }'; }

# emit JSON: prints the scenario's JSON line (stdout and --out).
emit() {
  local line
  line=$(jq -c . <<<"$1")
  echo "$line"
  if [ -n "$out_file" ]; then echo "$line" >>"$out_file"; fi
}
