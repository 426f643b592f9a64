#!/usr/bin/env bash
# Scenario 1, idle capacity: logged-in websocket clients (each in a room of 20 and on the -im
# namespace), as many as one server process holds under this machine's file-descriptor limit;
# server RSS per connection above the idle baseline and CPU at rest (Engine.IO pings only).
scenario=idle
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

clients=${ILCHAT_BENCH_IDLE_CLIENTS:-18000}; rest_seconds=30
if [ "$quick" = 1 ]; then clients=600; rest_seconds=3; fi
gens=$(( clients > 9000 ? (clients + 8999) / 9000 : 1 ))
per_gen=$(( clients / gens )); clients=$(( per_gen * gens ))

declare -A result
for kind in "${servers[@]}"; do
  dir=$work/$kind; db=bench_idle_$kind
  fresh_db "$db"
  port=$(free_port)
  write_config "$dir" "$db" "$port"
  start_server "$kind" "$dir"
  sleep 2
  read -r cpu0 rss0 fds0 < <(proc_sample "$server_pid")
  say "$kind ready in ${startup_seconds}s, idle RSS ${rss0} KB; ramping $clients clients ($gens generator(s))"
  t0=$(now_ns)
  for ((g = 0; g < gens; g++)); do
    loadgen_bg "$dir/gen$g" --port "$port" --client-cfg "$dir/client.cfg" --clients "$per_gen" \
      --rooms $(( per_gen / 20 )) --room-id-base $(( 1000 + g * 10000 )) --user-id-base $(( 1000000 + g * 100000 )) \
      --im --rate 0 --hold $(( rest_seconds + (quick ? 8 : 20) )) --connect-rate 1000 --ready-timeout 60 \
      --settle-timeout 60 --time-limit 900 --source-addresses "$(sources "$g")"
  done
  n=$(wait_for_connections "$server_pid" "$clients" 600 "$fds0")
  ramp=$(awk -v a="$t0" -v b="$(now_ns)" 'BEGIN{printf "%.1f", (b-a)/1e9}')
  sleep 5   # user lists of the last room entries
  read -r cpu1 rss1 fds1 < <(proc_sample "$server_pid")
  sleep "$rest_seconds"
  read -r cpu2 rss2 fds2 < <(proc_sample "$server_pid")
  say "$kind: $n connections after ${ramp}s; RSS ${rss1} KB -> ${rss2} KB over ${rest_seconds}s at rest"
  wait_loadgens
  sleep 3
  read -r cpu3 rss3 fds3 < <(proc_sample "$server_pid")
  connected=0; errors=0; lost=0; connect_s=0; gen_json=()
  for ((g = 0; g < gens; g++)); do
    j=$(loadgen_json "$dir/gen$g")
    gen_json+=("$j")
    connected=$(( connected + $(jq '.clients_connected // 0' <<<"$j") ))
    lost=$(( lost + $(jq '.clients_lost // 0' <<<"$j") ))
    errors=$(( errors + $(jq '.error_count // 0' <<<"$j") ))
    connect_s=$(jq -r --argjson m "$connect_s" '[.connect_seconds // 0, $m] | max' <<<"$j")
  done
  errs=$(printf '%s\n' "${gen_json[@]}" | jq -s -c 'map(.errors // {}) | reduce .[] as $e ({}; reduce ($e|to_entries[]) as $x (.; .[$x.key] += $x.value))')
  conns=$(( fds2 - fds0 ))
  per_conn=$(awk -v a="$rss0" -v b="$rss2" -v n="$conns" 'BEGIN{ if (n > 0) printf "%.2f", (b-a)/n; else print "null"}')
  rest_cpu=$(awk -v a="$cpu1" -v b="$cpu2" -v s="$rest_seconds" 'BEGIN{printf "%.2f", 100*(b-a)/s}')
  stop_server
  result[$kind]=$(jq -n -c --arg kind "$kind" --argjson clients "$clients" --argjson connected "$connected" \
    --argjson conns "$conns" --argjson lost "$lost" --argjson errors "$errors" --argjson errs "$errs" \
    --argjson connect_s "$connect_s" --argjson rss0 "$rss0" --argjson rss2 "$rss2" --argjson rss3 "$rss3" \
    --argjson per_conn "$per_conn" --argjson rest_cpu "$rest_cpu" --argjson rest_s "$rest_seconds" \
    --argjson startup "$startup_seconds" \
    '{clients_requested: $clients, clients_connected: $connected, server_connections: $conns,
      clients_lost: $lost, error_count: $errors, errors: $errs, connect_seconds: $connect_s,
      rss_idle_kb: $rss0, rss_loaded_kb: $rss2, rss_after_kb: $rss3, rss_per_connection_kb: $per_conn,
      rest_cpu_percent: $rest_cpu, rest_seconds: $rest_s}')
  say "$kind: $connected of $clients clients connected (server holds $conns sockets), lost $lost, errors $errs;" \
      "RSS per connection $per_conn KB (goal <= 4), CPU at rest $rest_cpu % of a core"
done

json=$(jq -n -c --argjson quick "$quick" --argjson i "${result[ilchatd]:-null}" --argjson n "${result[node]:-null}" \
  '{scenario: "idle", quick: ($quick == 1), goal: "RSS per connection <= 4 KB above the idle baseline",
    ilchatd: $i, node: $n,
    ratio_rss_per_connection_node_over_ilchatd: (if $i and $n and ($i.rss_per_connection_kb // 0) > 0 then (($n.rss_per_connection_kb / $i.rss_per_connection_kb) * 100 | round / 100) else null end),
    ratio_rest_cpu_node_over_ilchatd: (if $i and $n and ($i.rest_cpu_percent // 0) > 0 then (($n.rest_cpu_percent / $i.rest_cpu_percent) * 100 | round / 100) else null end)}')
emit "$json"
