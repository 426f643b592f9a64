#!/usr/bin/env bash
# Scenario: cluster mode (docs/cluster.md). The fan-out of fanout.sh (one room of 300 members,
# 10 senders, stepped rates, a new room and new users per step) run twice on this machine:
#   single:  one ilchatd, cluster off, the generator connected to it directly;
#   cluster: three ilchatd with one redis-server and one database, behind HAProxy
#            (`balance roundrobin`, websockets need no stickiness), so the members and the
#            /backend calls are spread over the nodes; every chat change goes through the Redis
#            stream and each node delivers to its own members.
# Optional third run, `proxied`: one ilchatd, cluster off, behind the same HAProxy (the proxy's
# share of the cluster's cost). For each step: deliveries per second, p50/p99 latency, and CPU
# during the steady phase from /proc/<pid>/stat (utime + stime): all ilchatd together
# (deliveries per ilchatd CPU-second), redis-server and haproxy apart and with them, and the
# whole machine's (the generator shares the cores). A step keeps up as in fanout.sh (>= 90 % of
# the offered deliveries per second, nothing missing, no error, p99 < 100 ms); a run stops at
# the first step that does not. ilchatd only: `--server node` measures nothing.
# Environment: ILCHAT_BENCH_CLUSTER_MEMBERS (300), ILCHAT_BENCH_CLUSTER_RATES
# ("50 100 200 400 800 1600 3200 4800 6400"), ILCHAT_BENCH_CLUSTER_NODES (3),
# ILCHAT_BENCH_CLUSTER_DURATION (8 s per step), ILCHAT_BENCH_CLUSTER_RUNS ("single cluster";
# any of single, proxied, cluster, in the order given).
scenario=cluster
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

die() { say "FAILED: $*"; exit 1; }

if [[ " ${servers[*]} " != *" ilchatd "* ]]; then
  say "cluster mode is ilchatd's; nothing to measure for --server ${servers[*]}"
  exit 0
fi
for tool in redis-server redis-cli haproxy curl; do
  command -v "$tool" >/dev/null || { echo "$0: $tool is needed (Debian: redis-server, haproxy, curl)" >&2; exit 2; }
done

members=${ILCHAT_BENCH_CLUSTER_MEMBERS:-300}
read -r -a rates <<<"${ILCHAT_BENCH_CLUSTER_RATES:-50 100 200 400 800 1600 3200 4800 6400}"
node_count=${ILCHAT_BENCH_CLUSTER_NODES:-3}
duration=${ILCHAT_BENCH_CLUSTER_DURATION:-8}
if [ "$quick" = 1 ]; then members=150; rates=(100); duration=3; fi

# ---------------------------------------------------------------------------------------------
# Processes of this scenario (lib.sh's cleanup stops the generators and removes $work after).

node_pids=(); node_logs=(); node_ports=(); node_metrics=(); node_admin=()
redis_pid=; haproxy_pid=; csampler_pid=; readyz_pid=

stop_pid() {  # stop_pid PID: TERM, up to 10 s, then KILL
  local p=$1 i
  [ -n "$p" ] || return 0
  kill -TERM "$p" 2>/dev/null || return 0
  for ((i = 0; i < 100; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
}
stop_cluster_sampler() {
  local p
  for p in $csampler_pid $readyz_pid $gsampler_pid; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  csampler_pid=; readyz_pid=; gsampler_pid=
}
stop_run() {
  stop_cluster_sampler
  local p
  for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -n "$haproxy_pid" ] && stop_pid "$haproxy_pid"; haproxy_pid=
  for p in "${node_pids[@]}"; do stop_pid "$p"; done
  node_pids=()
  [ -n "$redis_pid" ] && stop_pid "$redis_pid"; redis_pid=
}
cluster_cleanup() { stop_run; cleanup; }
trap cluster_cleanup EXIT

# Errors and warnings in ilchatd log lines on stdin (" ERROR - " / " WARN - "), counted by kind:
# "<count>x <line without its time, numbers as N>", most frequent first.
log_problems() {
  { grep -E ' (ERROR|WARN) - ' || true; } | sed -E 's/^\[[^]]*\] //; s/\b[0-9]+\b/N/g' | sort | uniq -c | sort -rn |
    sed -E 's/^ *([0-9]+) /\1x /'
}

# ---------------------------------------------------------------------------------------------
# Starting things

start_redis() {
  local dir=$1 i
  mkdir -p "$dir"
  redis-server --port 0 --unixsocket "$dir/redis.sock" --unixsocketperm 700 --dir "$dir" \
    --save '' --appendonly no --daemonize no --logfile "$dir/redis.log" &
  redis_pid=$!
  for ((i = 0; i < 100; i++)); do
    [ "$(redis-cli -s "$dir/redis.sock" ping 2>/dev/null)" = PONG ] && return 0
    kill -0 "$redis_pid" 2>/dev/null || break
    sleep 0.1
  done
  tail -n 20 "$dir/redis.log" >&2 2>/dev/null || true
  die "redis-server did not answer on $dir/redis.sock"
}

# start_node DIR [cluster=JSON]: one ilchatd on DIR's configuration (write_config), ready.
start_node() {
  local dir=$1
  start_server ilchatd "$dir" || die "ilchatd ($dir) did not start"
  grep -q "The Server is Ready to use!" "$server_log" || { tail -n 20 "$server_log" >&2; die "ilchatd ($dir) never became ready"; }
  [ -n "$metrics_port" ] || die "no metrics port in $server_log"
  node_pids+=("$server_pid"); node_logs+=("$server_log"); node_metrics+=("$metrics_port")
  node_admin+=("$dir/admin.sock")
  server_pid=  # ours now, not lib.sh's
}

# wait_in_sync I: node I says in_sync on its admin socket and "ready" on /readyz (15 s).
wait_in_sync() {
  local i=$1 k status ready
  for ((k = 0; k < 150; k++)); do
    status=$("$ilchatctl_bin" cluster-status --socket "${node_admin[$i]}" --json 2>/dev/null || true)
    ready=$(curl -s --max-time 1 "http://127.0.0.1:${node_metrics[$i]}/readyz" || true)
    if [ "$(jq -r '.in_sync // false' <<<"$status" 2>/dev/null)" = true ] && [ "$ready" = ready ]; then return 0; fi
    kill -0 "${node_pids[$i]}" 2>/dev/null || break
    sleep 0.1
  done
  tail -n 20 "${node_logs[$i]}" >&2
  die "node $((i + 1)) not in sync after 15 s: cluster-status ${status:-(no answer)}, /readyz ${ready:-(no answer)}"
}

start_haproxy() {
  local dir=$1 port=$2 i k
  {
    cat <<EOF
# Written by tests/bench/scenarios/cluster.sh: websockets only, so no stickiness.
global
    pidfile $dir/haproxy.pid

defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout tunnel 1h

frontend chat
    bind 127.0.0.1:$port
    default_backend nodes

backend nodes
    balance roundrobin
    option httpchk GET /readyz
EOF
    for i in "${!node_ports[@]}"; do
      echo "    server n$((i + 1)) 127.0.0.1:${node_ports[$i]} check port ${node_metrics[$i]} inter 2s"
    done
  } >"$dir/haproxy.cfg"
  haproxy -c -q -f "$dir/haproxy.cfg" >"$dir/haproxy.check" 2>&1 || { cat "$dir/haproxy.check" >&2; die "haproxy rejects $dir/haproxy.cfg"; }
  haproxy -db -f "$dir/haproxy.cfg" >"$dir/haproxy.log" 2>&1 &
  haproxy_pid=$!
  # Through the frontend: an Engine.IO polling handshake from every node (round robin).
  for ((k = 0; k < 100; k++)); do
    local ok=0
    for ((i = 0; i < ${#node_ports[@]}; i++)); do
      curl -s --max-time 1 "http://127.0.0.1:$port/socket.io/?EIO=4&transport=polling" | grep -q '"sid"' && ok=$((ok + 1))
    done
    [ "$ok" = "${#node_ports[@]}" ] && return 0
    kill -0 "$haproxy_pid" 2>/dev/null || break
    sleep 0.1
  done
  cat "$dir/haproxy.log" >&2
  die "haproxy on 127.0.0.1:$port does not pass requests to the nodes"
}

# ---------------------------------------------------------------------------------------------
# Samplers. They fork nothing per sample (no date, sleep or curl: on this machine a few forks
# every 0.1 s cost a visible share of a core): the time is $EPOCHREALTIME, the pause a read with
# a timeout on a FIFO nobody writes to, /readyz a request over bash's /dev/tcp.

pause() { read -r -t "$1" -u "$pause_fd" _ || true; }
mkfifo "$work/pause.fifo"
exec {pause_fd}<>"$work/pause.fifo"

# start_cluster_sampler FILE PID...: one line every 0.1 s, "<ns> <ticks of pid 1> ... <ticks of
# pid n> <machine busy ticks>" (utime + stime of each pid; the machine's
# user+nice+system+irq+softirq+steal of /proc/stat). Ends when a pid is gone.
start_cluster_sampler() {
  local file=$1; shift
  (
    while :; do
      t=${EPOCHREALTIME/[.,]/}; line="${t}000"
      for p in "$@"; do
        read -r stat <"/proc/$p/stat" || exit 0
        rest=${stat##*) }; read -r -a f <<<"$rest"
        line+=" $((f[11] + f[12]))"
      done
      read -r _ u n s _ _ irq sirq steal _ </proc/stat
      echo "$line $((u + n + s + irq + sirq + steal))"
      pause 0.1
    done
  ) >"$file" 2>/dev/null &
  csampler_pid=$!
}

# start_pid_sampler FILE PID: "<ns> <ticks of PID>" every 0.1 s while PID lives.
gsampler_pid=
start_pid_sampler() {
  local file=$1 pid=$2
  (
    while read -r stat <"/proc/$pid/stat"; do
      rest=${stat##*) }; read -r -a f <<<"$rest"
      t=${EPOCHREALTIME/[.,]/}
      echo "${t}000 $((f[11] + f[12]))"
      pause 0.1
    done
  ) >"$file" 2>/dev/null &
  gsampler_pid=$!
}

# start_readyz_poller FILE: every 0.5 s a line "<ns> <node index> <answer>" per node, the answer
# being the body of /readyz ("ready", or why not, spaces as _) or "no_answer": what the
# balancer's health check sees (anything but "ready" takes a node out).
start_readyz_poller() {
  local file=$1
  (
    while :; do
      for k in "${!node_metrics[@]}"; do
        answer=no_answer
        if exec {h}<>"/dev/tcp/127.0.0.1/${node_metrics[$k]}" 2>/dev/null; then
          printf 'GET /readyz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&"$h"
          body=; in_body=0
          while IFS= read -r -t 1 -u "$h" l || [ -n "$l" ]; do
            l=${l%$'\r'}
            if [ "$in_body" = 1 ]; then body+=$l; elif [ -z "$l" ]; then in_body=1; fi
          done
          exec {h}<&-
          [ -n "$body" ] && answer=${body// /_}
        fi
        t=${EPOCHREALTIME/[.,]/}
        echo "${t}000 $k ${answer:0:60}"
      done
      pause 0.5
    done
  ) >"$file" 2>/dev/null &
  readyz_pid=$!
}

# window_columns FILE FROM_NS TO_NS: "<span seconds> <cpu seconds of column 2> ... <last>"
# between the samples nearest to the window (as lib.sh's window_cpu).
window_columns() {
  awk -v a="$2" -v b="$3" -v hz="$clk_tck" '
    { t[NR] = $1; for (k = 2; k <= NF; k++) c[NR, k] = $k; nf = NF }
    END {
      if (NR == 0) { print 0; exit }
      ia = 1; ib = NR
      for (i = 1; i <= NR; i++) if (t[i] <= a) ia = i
      for (i = NR; i >= 1; i--) if (t[i] >= b) ib = i
      printf "%.3f", (t[ib] - t[ia]) / 1e9
      for (k = 2; k <= nf; k++) printf " %.3f", (c[ib, k] - c[ia, k]) / hz
      printf "\n"
    }' "$1"
}

# metric_sum PORT NAME: the sum of a counter over its labels from a node's /metrics.
metric_sum() {
  curl -s --max-time 2 "http://127.0.0.1:$1/metrics" | awk -v m="$2" 'index($0, m " ") == 1 || index($0, m "{") == 1 {s += $NF} END {printf "%d\n", s}'
}

# ---------------------------------------------------------------------------------------------
# One run: MODE single|cluster.

run() {
  local mode=$1
  local dir=$work/$mode db=bench_cluster_$mode n=1 i chat_port entry_port pids steps=() knee=null broken=0
  [ "$mode" = cluster ] && n=$node_count
  node_pids=(); node_logs=(); node_ports=(); node_metrics=(); node_admin=()
  fresh_db "$db"
  if [ "$mode" = cluster ]; then start_redis "$dir/redis"; fi
  for ((i = 0; i < n; i++)); do
    chat_port=$(free_port)
    if [ "$mode" = cluster ]; then
      write_config "$dir/n$((i + 1))" "$db" "$chat_port" \
        "cluster={\"redis\":\"unix:$dir/redis/redis.sock\",\"node\":\"n$((i + 1))\",\"node_timeout\":3000,\"prefix\":\"ilchatd\"}"
      # One ILIAS client for all nodes: PHP (the generator) may call any of them.
      [ "$i" -gt 0 ] && cp "$dir/n1/client.cfg" "$dir/n$((i + 1))/client.cfg"
    else
      write_config "$dir/n1" "$db" "$chat_port"
    fi
    node_ports+=("$chat_port")
    start_node "$dir/n$((i + 1))"
  done
  if [ "$mode" = cluster ]; then
    for ((i = 0; i < n; i++)); do wait_in_sync "$i"; done
    entry_port=$(free_port)
    start_haproxy "$dir" "$entry_port"
    say "$mode: $n nodes in sync behind haproxy on 127.0.0.1:$entry_port"
  elif [ "$mode" = proxied ]; then
    entry_port=$(free_port)
    start_haproxy "$dir" "$entry_port"
    say "$mode: one ilchatd, cluster off, behind haproxy on 127.0.0.1:$entry_port"
  else
    entry_port=${node_ports[0]}
    say "$mode: one ilchatd on 127.0.0.1:$entry_port, cluster off"
  fi
  pids=("${node_pids[@]}")
  [ -n "$redis_pid" ] && pids+=("$redis_pid")
  [ -n "$haproxy_pid" ] && pids+=("$haproxy_pid")
  # MariaDB (lib.sh's private one; shared with anything else that uses it at the same time).
  local mariadb_pid
  mariadb_pid=$(cat "$mariadb_dir/mysqld.pid" 2>/dev/null || true)
  [ -r "/proc/${mariadb_pid:-x}/stat" ] || die "no MariaDB process (pid file $mariadb_dir/mysqld.pid)"
  pids+=("$mariadb_pid")
  start_cluster_sampler "$dir/samples" "${pids[@]}"
  start_readyz_poller "$dir/readyz"

  for i in "${!rates[@]}"; do
    local rate=${rates[$i]}
    local out=$dir/step$i j t0 from to cols share_before=() share_after=() hs_before=() hs_after=() k polls not_ready
    for ((k = 0; k < n; k++)); do
      share_before+=("$(metric_sum "${node_metrics[$k]}" ilchatd_socketio_packets_sent_total)")
      hs_before+=("$(metric_sum "${node_metrics[$k]}" ilchatd_handshakes_total)")
    done
    loadgen_bg "$out" --port "$entry_port" --client-cfg "$dir/n1/client.cfg" --clients "$members" --rooms 1 \
      --room-id-base $(( 100 + i )) --user-id-base $(( 1000000 + i * 10000 )) --rate "$rate" --senders 10 \
      --duration "$duration" --drain-timeout 10 --settle-timeout 120 --connect-rate 2000 \
      --time-limit 300 --source-addresses "$(sources 0)"
    # The generator's own CPU (it shares the cores), sampled like the servers'.
    start_pid_sampler "$out.cpu" "${bg_pids[-1]}"
    wait_loadgens
    wait "$gsampler_pid" 2>/dev/null || true
    for ((k = 0; k < n; k++)); do
      kill -0 "${node_pids[$k]}" 2>/dev/null || { tail -n 30 "${node_logs[$k]}" >&2; die "$mode: node $((k + 1)) exited during the $rate msg/s step"; }
      share_after+=("$(metric_sum "${node_metrics[$k]}" ilchatd_socketio_packets_sent_total)")
      hs_after+=("$(metric_sum "${node_metrics[$k]}" ilchatd_handshakes_total)")
    done
    j=$(loadgen_json "$out")
    t0=$(cat "$out.start")
    read -r from to < <(jq -r --argjson t0 "$t0" '[($t0 + ((.register_seconds + .connect_seconds + .settle_seconds) * 1e9)), ($t0 + ((.register_seconds + .connect_seconds + .settle_seconds + .steady_seconds) * 1e9))] | map(floor | tostring) | join(" ")' <<<"$j" 2>/dev/null || echo "0 0")
    read -r -a cols < <(window_columns "$dir/samples" "$from" "$to")
    local gen_cpu
    read -r _ gen_cpu < <(window_columns "$out.cpu" "$from" "$to")
    # cols: span, one per node, [redis], [haproxy], machine
    local node_cpu=("${cols[@]:1:$n}")
    local rest=("${cols[@]:$((1 + n))}") redis_cpu=null haproxy_cpu=null mariadb_cpu machine_cpu
    if [ "$mode" = cluster ]; then redis_cpu=${rest[0]}; haproxy_cpu=${rest[1]}; fi
    if [ "$mode" = proxied ]; then haproxy_cpu=${rest[0]}; fi
    mariadb_cpu=${rest[-2]}; machine_cpu=${rest[-1]}
    local per_node
    per_node=$(for ((k = 0; k < n; k++)); do
      read -r polls not_ready < <(awk -v a="$from" -v b="$to" -v k="$k" '$1 >= a && $1 <= b && $2 == k { n++; if ($3 != "ready") bad++ } END { print n + 0, bad + 0 }' "$dir/readyz")
      echo "{\"cpu\": ${node_cpu[$k]:-0}, \"connections\": $(( ${hs_after[$k]} - ${hs_before[$k]} )), \"packets_sent\": $(( ${share_after[$k]} - ${share_before[$k]} )), \"readyz_polls\": $polls, \"readyz_not_ready\": $not_ready}"
    done | jq -s -c .)
    local step
    step=$(jq -c --argjson rate "$rate" --argjson members "$members" --argjson span "${cols[0]:-0}" \
      --argjson nodes "$per_node" --argjson redis "$redis_cpu" --argjson haproxy "$haproxy_cpu" --argjson machine "${machine_cpu:-0}" --argjson gen "${gen_cpu:-0}" --argjson mariadb "${mariadb_cpu:-0}" '
      def frac($c): if $c != null and $span > 0 then ($c / $span * 1000 | round / 1000) else null end;
      def per_cpu($c): if $c > 0 then (.deliveries_per_second * $span / $c | floor) else null end;
      ($nodes | map(.cpu) | add) as $ilchatd
      | {rate: $rate, offered_deliveries_per_second: ($rate * $members), messages_sent, deliveries, deliveries_missing,
        deliveries_per_second: (.deliveries_per_second | floor), error_count, errors,
        latency_p50_us: .latency_us.p50, latency_p99_us: .latency_us.p99, latency_max_us: .latency_us.max,
        loadgen_loop_lag_p99_us: .loop_lag_us.p99, settle_seconds, steady_seconds: $span,
        ilchatd_cpu_fraction: frac($ilchatd), redis_cpu_fraction: frac($redis), haproxy_cpu_fraction: frac($haproxy),
        mariadb_cpu_fraction: frac($mariadb), loadgen_cpu_fraction: frac($gen), machine_cpu_fraction: frac($machine),
        other_cpu_fraction: frac($machine - ($nodes | map(.cpu) | add) - ($redis // 0) - ($haproxy // 0) - $mariadb - $gen),
        nodes: ($nodes | map({cpu_fraction: frac(.cpu), connections, packets_sent, readyz_polls, readyz_not_ready})),
        readyz_not_ready: ($nodes | map(.readyz_not_ready) | add),
        deliveries_per_ilchatd_cpu_second: per_cpu($ilchatd),
        deliveries_per_server_side_cpu_second: per_cpu($ilchatd + ($redis // 0) + ($haproxy // 0))}
      | .keeps_up = (.deliveries_missing == 0 and .error_count == 0 and .deliveries_per_second >= 0.9 * .offered_deliveries_per_second and .latency_p99_us < 100000)' <<<"$j")
    steps+=("$step")
    say "$mode: $rate msg/s x $members = $(jq -r '.offered_deliveries_per_second' <<<"$step") offered:" \
      "$(jq -r '"\(.deliveries_per_second)/s delivered, p50 \(.latency_p50_us) us, p99 \(.latency_p99_us) us, missing \(.deliveries_missing), errors \(.errors); CPU ilchatd \(.ilchatd_cpu_fraction)\(if (.nodes | length) > 1 then " (nodes \(.nodes | map(.cpu_fraction) | join("/")))" else "" end)\(if .redis_cpu_fraction then ", redis \(.redis_cpu_fraction)" else "" end)\(if .haproxy_cpu_fraction then ", haproxy \(.haproxy_cpu_fraction)" else "" end), mariadb \(.mariadb_cpu_fraction), generator \(.loadgen_cpu_fraction), machine \(.machine_cpu_fraction) core (other work \(.other_cpu_fraction)); \(.deliveries_per_ilchatd_cpu_second) deliveries per ilchatd CPU-second\(if .haproxy_cpu_fraction then ", \(.deliveries_per_server_side_cpu_second) counting redis and haproxy" else "" end)\(if (.nodes | length) > 1 then "; connections per node \(.nodes | map(.connections) | join("/"))" else "" end); /readyz not ready in \(.readyz_not_ready) of \(.nodes | map(.readyz_polls) | add) polls; keeps up: \(.keeps_up)"' <<<"$step")"
    if [ "$(jq -r .keeps_up <<<"$step")" = true ] && [ "$broken" = 0 ]; then knee=$step; else broken=1; fi
    [ "$broken" = 1 ] && break
    sleep 2
  done

  # Problems logged while measuring, and those of the shutdown (a node that leaves is reported
  # by the others) apart.
  local problems shutdown_problems logs_at_end=()
  for k in "${!node_logs[@]}"; do logs_at_end+=("$(wc -l <"${node_logs[$k]}")"); done
  problems=$(cat "${node_logs[@]}" | log_problems)
  stop_run
  shutdown_problems=$(for k in "${!node_logs[@]}"; do tail -n "+$(( ${logs_at_end[$k]} + 1 ))" "${node_logs[$k]}"; done | log_problems)
  if [ -n "$problems" ]; then say "$mode: errors/warnings in the ilchatd logs while measuring (count x kind):"; echo "$problems" >&2; fi
  if [ -n "$shutdown_problems" ]; then say "$mode: errors/warnings in the ilchatd logs during the shutdown (count x kind):"; echo "$shutdown_problems" >&2; fi
  result[$mode]=$(printf '%s\n' "${steps[@]}" | jq -s -c --argjson knee "$knee" --argjson broken "$broken" \
    --argjson nodes "$n" --arg problems "$problems" --arg shutdown "$shutdown_problems" \
    '{nodes: $nodes, steps: ., knee_found: ($broken == 1), knee: $knee,
      log_problems: ($problems | split("\n") | map(select(length > 0))),
      log_problems_at_shutdown: ($shutdown | split("\n") | map(select(length > 0)))}')
}

declare -A result
read -r -a runs <<<"${ILCHAT_BENCH_CLUSTER_RUNS:-single cluster}"
for r in "${runs[@]}"; do
  case "$r" in single|proxied|cluster) ;; *) echo "$0: ILCHAT_BENCH_CLUSTER_RUNS: single, proxied, cluster" >&2; exit 2 ;; esac
done
for r in "${runs[@]}"; do
  run "$r"
  sleep 2
done

json=$(jq -n -c --argjson quick "$quick" --argjson members "$members" --argjson s "${result[single]:-null}" --argjson c "${result[cluster]:-null}" --argjson p "${result[proxied]:-null}" \
  '{scenario: "cluster", quick: ($quick == 1), members: $members, single: $s, cluster: $c}
  + (if $p then {proxied: $p} else {} end) + {
    ratio_knee_deliveries_per_second_cluster_over_single: (if $s.knee and $c.knee then (($c.knee.deliveries_per_second / $s.knee.deliveries_per_second) * 100 | round / 100) else null end),
    ratio_knee_deliveries_per_ilchatd_cpu_second_cluster_over_single: (if $s.knee and $c.knee and ($s.knee.deliveries_per_ilchatd_cpu_second // 0) > 0 then (($c.knee.deliveries_per_ilchatd_cpu_second / $s.knee.deliveries_per_ilchatd_cpu_second) * 100 | round / 100) else null end)}')
for r in "${runs[@]}"; do
  say "$r, knee (last step that kept up): $(jq -r --arg r "$r" '.[$r] | .knee as $k | if $k then "\($k.rate) msg/s, \($k.deliveries_per_second) deliveries/s, p50 \($k.latency_p50_us) us, p99 \($k.latency_p99_us) us, \($k.deliveries_per_ilchatd_cpu_second) per ilchatd CPU-second\(if $k.haproxy_cpu_fraction then ", \($k.deliveries_per_server_side_cpu_second) counting redis and haproxy" else "" end)\(if .knee_found then "" else " (every step kept up)" end)" else "none (the first step did not keep up)" end' <<<"$json")"
done
emit "$json"
