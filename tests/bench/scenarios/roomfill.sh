#!/usr/bin/env bash
# Scenario, room fill: N members (1,000 in issue 14; ILCHAT_BENCH_ROOMFILL_MEMBERS) enter ONE room
# in one burst: every connection is started at once (no connect rate, no concurrency limit), each
# logs in and sends enterRoom. Every entry changes the room's user list, which the server sends to
# the members; sent naively that is N lists of up to N users to N members, about N^3 * 25 bytes.
# Measured: the time from the first connection until every member is ready and the room's traffic
# has settled, members dropped, bytes and frames the server sent, server CPU and peak RSS.
# Bounded: the generator stops at ILCHAT_BENCH_ROOMFILL_TIME_LIMIT seconds (default 120), and a
# server whose RSS passes ILCHAT_BENCH_ROOMFILL_MAX_RSS_MB (default 4096) ends the run early.
scenario=roomfill
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

members=${ILCHAT_BENCH_ROOMFILL_MEMBERS:-1000}; time_limit=${ILCHAT_BENCH_ROOMFILL_TIME_LIMIT:-120}
max_rss_kb=$(( ${ILCHAT_BENCH_ROOMFILL_MAX_RSS_MB:-4096} * 1024 ))
if [ "$quick" = 1 ]; then members=150; time_limit=60; fi
quiet_seconds=0.25   # the generator's settle phase ends after this long without traffic

rss_kb() { awk '/^VmRSS:/{print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
# tcp_sent PORT: "<established sockets on PORT> <bytes the server side of them sent>" (ss -i).
tcp_sent() { ss -Htin state established "( sport = :$1 )" 2>/dev/null | awk '/bytes_sent:/{n++; for (i = 1; i <= NF; i++) if ($i ~ /^bytes_sent:/) b += substr($i, 12)} END{printf "%d %d\n", n, b}'; }
# ilchatd_metrics: "<bytes sent> <Socket.IO packets sent> <slow-consumer disconnects>" from /metrics.
ilchatd_metrics() {
  curl -s --max-time 5 "http://127.0.0.1:$metrics_port/metrics" | awk '
    /^ilchatd_bytes_sent_total /{b = $2} /^ilchatd_socketio_packets_sent_total/{p += $2}
    /^ilchatd_slow_consumer_disconnects_total /{s = $2} END{printf "%d %d %d\n", b, p, s}'
}
# fine_sampler PID FILE: every 10 ms "<ns> <cpu ticks> <rss KB>" for PID (bash builtins only, so
# that sampling costs the shared cores little); stopped by stop_sampler.
fine_sampler() {
  (
    exec {nap}<> <(:)
    while read -r s <"/proc/$1/stat" 2>/dev/null; do
      s=${s##*) }; read -r -a f <<<"$s"
      echo "${EPOCHREALTIME//[!0-9]/}000 $(( f[11] + f[12] )) $(( f[21] * page_kb ))"
      read -r -t 0.01 -u "$nap" || true
    done
  ) >"$2" &
  sampler_pid=$!
}
phase_seen() { grep -qE "^loadgen: +[0-9.]+ s +$1\$" "$gen.log" 2>/dev/null; }

declare -A result
for kind in "${servers[@]}"; do
  dir=$work/$kind; db=bench_roomfill_$kind; gen=$dir/fill
  fresh_db "$db"
  port=$(free_port)
  write_config "$dir" "$db" "$port"
  start_server "$kind" "$dir"
  m_a="0 0 0"; m_b=
  [ "$kind" = ilchatd ] && m_a=$(ilchatd_metrics)   # registration sends nothing over the sockets
  fine_sampler "$server_pid" "$dir/samples"
  say "$kind: $members members enter room 100 in one burst (time limit ${time_limit}s)"
  loadgen_bg "$gen" --port "$port" --client-cfg "$dir/client.cfg" --clients "$members" --rooms 1 \
    --room-id-base 100 --user-id-base 1000000 --rate 0 --hold 1 --connect-rate 0 --connect-concurrency 0 \
    --ready-timeout "$time_limit" --settle-timeout "$time_limit" --time-limit "$time_limit" \
    --source-addresses "$(sources 0)"
  gen_pid=${bg_pids[-1]}
  # Watch the run: the server's RSS against the limit; once the room has settled (the generator's
  # hold phase) what the server side of the connections sent; until then, every second, what the
  # still open connections carried so far (a flooding server never settles).
  aborted=null; tcp="0 0"; tcp_at=null; next_ss=0; deadline=$(( $(date +%s) + time_limit + 30 ))
  while kill -0 "$gen_pid" 2>/dev/null; do
    if [ "$(date +%s)" -ge "$deadline" ]; then aborted='"generator did not stop"'; kill -KILL "$gen_pid" 2>/dev/null || true; break; fi
    if ! kill -0 "$server_pid" 2>/dev/null; then aborted='"server exited"'; kill -INT "$gen_pid" 2>/dev/null || true; break; fi
    r=$(rss_kb "$server_pid")
    if [ "${r:-0}" -gt "$max_rss_kb" ]; then
      aborted="\"server RSS above $(( max_rss_kb / 1024 )) MB\""; say "$kind: RSS $r KB, ending the run"
      kill -INT "$gen_pid" 2>/dev/null || true; break
    fi
    if phase_seen hold; then
      tcp=$(tcp_sent "$port"); tcp_at='"settled"'
      [ "$kind" = ilchatd ] && m_b=$(ilchatd_metrics)
      break
    elif phase_seen connecting && [ "$(date +%s)" -ge "$next_ss" ]; then
      tcp=$(tcp_sent "$port"); tcp_at='"before the end"'; next_ss=$(( $(date +%s) + 1 ))
    fi
    sleep 0.05
  done
  wait_loadgens
  hwm=0
  if kill -0 "$server_pid" 2>/dev/null; then
    [ "$kind" = ilchatd ] && [ -z "$m_b" ] && m_b=$(ilchatd_metrics)
    hwm=$(awk '/^VmHWM:/{print $2}' "/proc/$server_pid/status")
  fi
  stop_sampler
  stop_server
  j=$(loadgen_json "$gen")
  # Server CPU from the first connection (the generator's start plus its registration) to the
  # end of the settle phase, from the 10 ms samples.
  t0=$(cat "$gen.start")
  read -r from to < <(jq -r --argjson t0 "$t0" '[($t0 + (.register_seconds * 1e9)), ($t0 + ((.register_seconds + .connect_seconds + .settle_seconds) * 1e9))] | map(floor | tostring) | join(" ")' <<<"$j" 2>/dev/null || echo "0 0")
  read -r cpu _ < <(window_cpu "$dir/samples" "$from" "$to")
  peak_rss=$(awk 'BEGIN{m = 0} $3 > m {m = $3} END{print m}' "$dir/samples")
  [ "${hwm:-0}" -gt 0 ] || hwm=$peak_rss
  rss_a=$(awk -v a="$from" '$1 <= a {r = $3} END{print r + 0}' "$dir/samples")
  read -r bytes_a pk_a slow_a <<<"$m_a"; read -r bytes_b pk_b slow_b <<<"${m_b:-$m_a}"
  read -r tcp_sockets tcp_bytes <<<"$tcp"
  metrics=null
  if [ "$kind" = ilchatd ]; then
    metrics=$(jq -n -c --argjson b $(( bytes_b - bytes_a )) --argjson p $(( pk_b - pk_a )) --argjson s $(( slow_b - slow_a )) \
      '{bytes_sent: $b, socketio_packets_sent: $p, slow_consumer_disconnects: $s}')
  fi
  result[$kind]=$(jq -c --argjson members "$members" --argjson quiet "$quiet_seconds" --argjson aborted "$aborted" \
    --argjson cpu "${cpu:-null}" \
    --argjson rss_a "${rss_a:-0}" --argjson hwm "${hwm:-0}" --argjson metrics "$metrics" \
    --argjson tcp_sockets "${tcp_sockets:-0}" --argjson tcp_bytes "${tcp_bytes:-0}" --argjson tcp_at "$tcp_at" \
    '{members: $members, clients_registered, clients_connected, clients_lost,
      dropped: (($members - (.clients_connected // 0)) + (.clients_lost // 0)),
      error_count, errors, aborted: $aborted,
      settled: ($aborted == null and (.errors.time_limit // 0) == 0 and (.errors.interrupted // 0) == 0
                and (.clients_connected // 0) > 0),
      connect_seconds: (.connect_seconds * 1000 | round / 1000), settle_seconds: (.settle_seconds * 1000 | round / 1000),
      connect_time_p50_us: .connect_time_us.p50, connect_time_p99_us: .connect_time_us.p99, connect_time_max_us: .connect_time_us.max,
      register_seconds: (.register_seconds * 1000 | round / 1000), duration_seconds: (.duration_seconds * 1000 | round / 1000),
      server_cpu_seconds: $cpu, server_rss_before_kb: $rss_a, server_peak_rss_kb: $hwm,
      server_tcp_bytes_sent: (if $tcp_at == null then null else $tcp_bytes end), server_tcp_sockets: $tcp_sockets,
      server_tcp_bytes_counted: $tcp_at, server_metrics: $metrics}
     | .fill_seconds = (if .settled then ((.connect_seconds + ([.settle_seconds - $quiet, 0] | max)) * 1000 | round / 1000) else null end)
     | .goal_met = (.settled and .fill_seconds <= 2 and .dropped == 0 and .error_count == 0)' <<<"$j")
  say "$kind: $(jq -r '"\(.clients_connected)/\(.members) ready in \(.connect_seconds)s, settled: \(.settled), filled in \(.fill_seconds)s; dropped \(.dropped), errors \(.errors); server CPU \(.server_cpu_seconds)s, peak RSS \(.server_peak_rss_kb) KB, TCP bytes sent \(.server_tcp_bytes_sent) (\(.server_tcp_bytes_counted)), /metrics \(.server_metrics)\(if .aborted then "; ended early: \(.aborted)" else "" end)"' <<<"${result[$kind]}")"
done

json=$(jq -n -c --argjson quick "$quick" --argjson i "${result[ilchatd]:-null}" --argjson n "${result[node]:-null}" \
  '{scenario: "roomfill", quick: ($quick == 1), goal: "a room of 1,000 members filled in one burst in <= 2 s, nobody dropped",
    ilchatd: $i, node: $n,
    ratio_fill_node_over_ilchatd: (if $i.fill_seconds and $n.fill_seconds and $i.fill_seconds > 0 then (($n.fill_seconds / $i.fill_seconds) * 100 | round / 100) else null end)}')
emit "$json"
