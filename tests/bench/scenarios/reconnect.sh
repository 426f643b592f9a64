#!/usr/bin/env bash
# Scenario 6, reconnect storm: N clients (20,000 in the issue; here as many as fit under the
# file-descriptor limit: 18,000) connected and logged in on both namespaces; the server is
# restarted (SIGTERM, start again on the same database); then all of them come back at once
# (--connect-rate 10000 per generator, 4,000 unfinished handshakes each) and the time until
# the last one is logged in again is measured, with the error count.
scenario=reconnect
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

clients=${ILCHAT_BENCH_RECONNECT_CLIENTS:-18000}
[ "$quick" = 1 ] && clients=600
gens=$(( clients > 9000 ? (clients + 8999) / 9000 : 1 ))
per_gen=$(( clients / gens )); clients=$(( per_gen * gens ))

gen_args() {  # gen_args G: the options of generator G (same users and rooms before and after)
  echo --port "$port" --client-cfg "$dir/client.cfg" --clients "$per_gen" --rooms $(( per_gen / 20 )) \
    --room-id-base $(( 1000 + $1 * 10000 )) --user-id-base $(( 1000000 + $1 * 100000 )) --im --rate 0 \
    --ready-timeout 60 --settle-timeout 60 --source-addresses "$(sources "$1")"
}

declare -A result
for kind in "${servers[@]}"; do
  dir=$work/$kind; db=bench_reconnect_$kind
  fresh_db "$db"
  port=$(free_port)
  write_config "$dir" "$db" "$port"
  start_server "$kind" "$dir"
  read -r _ _ fds0 < <(proc_sample "$server_pid")
  say "$kind: connecting $clients clients ($gens generator(s))"
  for ((g = 0; g < gens; g++)); do
    # shellcheck disable=SC2046
    loadgen_bg "$dir/before$g" $(gen_args "$g") --connect-rate 1000 --hold 600 --time-limit 900
  done
  n=$(wait_for_connections "$server_pid" "$clients" 600 "$fds0")
  sleep 3
  say "$kind: $n connected; restarting the server"
  t_stop=$(now_ns)
  stop_server
  # The first generators' clients are gone with the server; end them (they report the closes).
  for p in "${bg_pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done
  wait_loadgens
  start_server "$kind" "$dir"
  restart_seconds=$(awk -v a="$t_stop" -v b="$(now_ns)" 'BEGIN{printf "%.3f", (b-a)/1e9}')
  for ((g = 0; g < gens; g++)); do
    # shellcheck disable=SC2046
    loadgen_bg "$dir/after$g" $(gen_args "$g") --connect-rate 10000 --connect-concurrency 4000 --time-limit 600
  done
  wait_loadgens
  stop_server
  gen_json=()
  for ((g = 0; g < gens; g++)); do gen_json+=("$(loadgen_json "$dir/after$g")"); done
  result[$kind]=$(printf '%s\n' "${gen_json[@]}" | jq -s -c --argjson clients "$clients" --argjson before "$n" --argjson restart "$restart_seconds" \
    '{clients_requested: $clients, connected_before_restart: $before, restart_seconds: $restart,
      register_seconds: (map(.register_seconds // 0) | max),
      reconnect_seconds: (map(.connect_seconds // 0) | max), clients_connected: (map(.clients_connected // 0) | add),
      clients_lost: (map(.clients_lost // 0) | add), error_count: (map(.error_count // 0) | add),
      errors: (map(.errors // {}) | reduce .[] as $e ({}; reduce ($e|to_entries[]) as $x (.; .[$x.key] += $x.value))),
      connect_time_p50_us: (map(.connect_time_us.p50 // null) | max), connect_time_p99_us: (map(.connect_time_us.p99 // null) | max),
      connect_time_max_us: (map(.connect_time_us.max // null) | max)}')
  say "$kind: $(jq -r '"restart \(.restart_seconds)s; \(.clients_connected)/\(.clients_requested) logged in again within \(.reconnect_seconds)s (re-registration before that: \(.register_seconds)s), per-client p50 \(.connect_time_p50_us) us, p99 \(.connect_time_p99_us) us, errors \(.errors)"' <<<"${result[$kind]}")"
done

json=$(jq -n -c --argjson quick "$quick" --argjson i "${result[ilchatd]:-null}" --argjson n "${result[node]:-null}" \
  '{scenario: "reconnect", quick: ($quick == 1), goal: "all clients logged in again after a restart, no error", ilchatd: $i, node: $n,
    ratio_reconnect_node_over_ilchatd: (if $i and $n and ($i.reconnect_seconds // 0) > 0 then (($n.reconnect_seconds / $i.reconnect_seconds) * 100 | round / 100) else null end)}')
emit "$json"
