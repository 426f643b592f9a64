#!/usr/bin/env bash
# Scenario 3, many rooms: clients in rooms of 20 (20,000 clients in 1,000 rooms in the issue;
# here as many as fit under the file-descriptor limit: 18,000 in 900 rooms), 500 room messages
# per second overall; latency p50/p99/p999 and server CPU during the steady phase.
scenario=rooms
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

clients=${ILCHAT_BENCH_ROOMS_CLIENTS:-18000}; rate=500; duration=20
if [ "$quick" = 1 ]; then clients=600; rate=100; duration=4; fi
gens=$(( clients > 9000 ? (clients + 8999) / 9000 : 1 ))
per_gen=$(( clients / gens )); clients=$(( per_gen * gens ))

declare -A result
for kind in "${servers[@]}"; do
  dir=$work/$kind; db=bench_rooms_$kind
  fresh_db "$db"
  port=$(free_port)
  write_config "$dir" "$db" "$port"
  start_server "$kind" "$dir"
  start_sampler "$server_pid" "$dir/samples"
  say "$kind: $clients clients in $(( clients / 20 )) rooms, $rate msg/s for ${duration}s ($gens generator(s))"
  for ((g = 0; g < gens; g++)); do
    loadgen_bg "$dir/gen$g" --port "$port" --client-cfg "$dir/client.cfg" --clients "$per_gen" \
      --rooms $(( per_gen / 20 )) --room-id-base $(( 1000 + g * 10000 )) --user-id-base $(( 1000000 + g * 100000 )) \
      --rate $(( rate / gens )) --senders $(( per_gen / 20 )) --duration "$duration" --message-bytes 100 \
      --connect-rate 1000 --ready-timeout 60 --settle-timeout 60 --time-limit 900 --source-addresses "$(sources "$g")"
  done
  wait_loadgens
  stop_sampler
  read -r rss < <(tail -n 1 "$dir/samples" | awk '{print $3}')
  stop_server
  gen_json=()
  for ((g = 0; g < gens; g++)); do gen_json+=("$(loadgen_json "$dir/gen$g")"); done
  # Steady window of generator 0 (they start together) for the server's CPU.
  t0=$(cat "$dir/gen0.start")
  read -r from to < <(jq -r --argjson t0 "$t0" '[($t0 + ((.register_seconds + .connect_seconds + .settle_seconds) * 1e9)), ($t0 + ((.register_seconds + .connect_seconds + .settle_seconds + .steady_seconds) * 1e9))] | map(floor | tostring) | join(" ")' <<<"${gen_json[0]}" 2>/dev/null || echo "0 0")
  read -r cpu span < <(window_cpu "$dir/samples" "$from" "$to")
  # Percentiles of several generators cannot be merged exactly: the worst of them is reported.
  result[$kind]=$(printf '%s\n' "${gen_json[@]}" | jq -s -c --argjson clients "$clients" --argjson cpu "$cpu" --argjson span "$span" --argjson rss "${rss:-0}" \
    '{clients_requested: $clients, clients_connected: (map(.clients_connected // 0) | add), clients_lost: (map(.clients_lost // 0) | add),
      rooms: (map(.rooms // 0) | add), message_rate: (map(.message_rate // 0) | add | floor),
      messages_sent: (map(.messages_sent // 0) | add), deliveries: (map(.deliveries // 0) | add),
      deliveries_missing: (map(.deliveries_missing // 0) | add), error_count: (map(.error_count // 0) | add),
      errors: (map(.errors // {}) | reduce .[] as $e ({}; reduce ($e|to_entries[]) as $x (.; .[$x.key] += $x.value))),
      latency_p50_us: (map(.latency_us.p50 // null) | max), latency_p99_us: (map(.latency_us.p99 // null) | max),
      latency_p999_us: (map(.latency_us.p999 // null) | max), latency_max_us: (map(.latency_us.max // null) | max),
      loadgen_loop_lag_p99_us: (map(.loop_lag_us.p99 // null) | max), connect_seconds: (map(.connect_seconds // 0) | max),
      server_cpu_fraction: (if $span > 0 then ($cpu / $span * 1000 | round / 1000) else null end), server_rss_kb: $rss}')
  say "$kind: $(jq -r '"\(.clients_connected)/\(.clients_requested) connected, \(.message_rate) msg/s, \(.deliveries) deliveries (missing \(.deliveries_missing)), latency p50 \(.latency_p50_us) us, p99 \(.latency_p99_us) us, p999 \(.latency_p999_us) us, server CPU \(.server_cpu_fraction) core, errors \(.errors)"' <<<"${result[$kind]}")"
done

json=$(jq -n -c --argjson quick "$quick" --argjson i "${result[ilchatd]:-null}" --argjson n "${result[node]:-null}" \
  '{scenario: "rooms", quick: ($quick == 1), goal: "p99 <= 5 ms on loopback", ilchatd: $i, node: $n,
    ratio_p99_node_over_ilchatd: (if $i and $n and ($i.latency_p99_us // 0) > 0 and $n.latency_p99_us then (($n.latency_p99_us / $i.latency_p99_us) * 100 | round / 100) else null end)}')
emit "$json"
