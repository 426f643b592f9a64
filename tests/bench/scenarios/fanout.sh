#!/usr/bin/env bash
# Scenario 2, fan-out: one room with 300 members (1,000 in the issue: filling such a room sends
# about 8 GB of user lists, which took this 2-core machine minutes per step and ended with the
# members closed as slow consumers; ILCHAT_BENCH_FANOUT_MEMBERS=1000 tries it); 10 members send
# at stepped rates (ILCHAT_BENCH_FANOUT_RATES="10 25 ..." overrides them). For each
# step: deliveries per second, latency, and server CPU during the steady phase. The knee is the
# last step that still delivered >= 90 % of the offered deliveries per second with nothing
# missing and p99 below 100 ms; the figure is deliveries per second per server CPU-second there.
# The steps go far past 400 msg/s because the knee is what is measured: below it a server that is not
# busy writes each frame on its own (one write per delivery), and only a loaded loop finds several
# frames queued per socket when it becomes writeable.
scenario=fanout
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

members=${ILCHAT_BENCH_FANOUT_MEMBERS:-300}; rates=(10 25 50 100 200 400 800 1600 3200 4800 6400); duration=8
if [ "$quick" = 1 ]; then members=200; rates=(20 100); duration=3; fi

declare -A result
for kind in "${servers[@]}"; do
  dir=$work/$kind; db=bench_fanout_$kind
  fresh_db "$db"
  port=$(free_port)
  write_config "$dir" "$db" "$port"
  start_server "$kind" "$dir"
  start_sampler "$server_pid" "$dir/samples"
  steps=(); knee=null; broken=0
  [ -n "${ILCHAT_BENCH_FANOUT_RATES:-}" ] && read -r -a rates <<<"$ILCHAT_BENCH_FANOUT_RATES"
  for i in "${!rates[@]}"; do
    rate=${rates[$i]}
    out=$dir/step$i
    # A new room and new users per step: the previous step's users leave their own room later.
    loadgen_bg "$out" --port "$port" --client-cfg "$dir/client.cfg" --clients "$members" --rooms 1 \
      --room-id-base $(( 100 + i )) --user-id-base $(( 1000000 + i * 10000 )) --rate "$rate" --senders 10 \
      --duration "$duration" --drain-timeout 10 --settle-timeout 120 --connect-rate 2000 \
      --time-limit 400 --source-addresses "$(sources 0)"
    wait_loadgens
    j=$(loadgen_json "$out")
    t0=$(cat "$out.start")
    read -r from to < <(jq -r --argjson t0 "$t0" '[($t0 + ((.register_seconds + .connect_seconds + .settle_seconds) * 1e9)), ($t0 + ((.register_seconds + .connect_seconds + .settle_seconds + .steady_seconds) * 1e9))] | map(floor | tostring) | join(" ")' <<<"$j" 2>/dev/null || echo "0 0")
    read -r cpu span < <(window_cpu "$dir/samples" "$from" "$to")
    step=$(jq -c --argjson rate "$rate" --argjson members "$members" --argjson cpu "$cpu" --argjson span "$span" \
      '{rate: $rate, offered_deliveries_per_second: ($rate * $members), messages_sent, deliveries, deliveries_missing,
        deliveries_per_second: (.deliveries_per_second | floor), error_count, errors,
        latency_p50_us: .latency_us.p50, latency_p99_us: .latency_us.p99, latency_max_us: .latency_us.max,
        loadgen_loop_lag_p99_us: .loop_lag_us.p99, settle_seconds,
        server_cpu_fraction: (if $span > 0 then ($cpu / $span * 1000 | round / 1000) else null end),
        deliveries_per_server_cpu_second: (if $cpu > 0 then (.deliveries_per_second * $span / $cpu | floor) else null end)}
       | .keeps_up = (.deliveries_missing == 0 and .error_count == 0 and .deliveries_per_second >= 0.9 * .offered_deliveries_per_second and .latency_p99_us < 100000)' <<<"$j")
    steps+=("$step")
    say "$kind: $rate msg/s x $members = $(jq -r '.offered_deliveries_per_second' <<<"$step") offered:" \
        "$(jq -r '"\(.deliveries_per_second)/s delivered, p50 \(.latency_p50_us) us, p99 \(.latency_p99_us) us, missing \(.deliveries_missing), server CPU \(.server_cpu_fraction) core, \(.deliveries_per_server_cpu_second) deliveries per server CPU-second, keeps up: \(.keeps_up)"' <<<"$step")"
    if [ "$(jq -r .keeps_up <<<"$step")" = true ] && [ "$broken" = 0 ]; then knee=$step; else broken=1; fi
    [ "$broken" = 1 ] && break
    sleep 2
  done
  stop_sampler
  stop_server
  result[$kind]=$(printf '%s\n' "${steps[@]}" | jq -s -c --argjson knee "$knee" --argjson broken "$broken" \
    '{steps: ., knee_found: ($broken == 1), knee: $knee}')
done

json=$(jq -n -c --argjson quick "$quick" --argjson i "${result[ilchatd]:-null}" --argjson n "${result[node]:-null}" \
  '{scenario: "fanout", quick: ($quick == 1), goal: ">= 400,000 deliveries per server CPU-second at the knee",
    ilchatd: $i, node: $n,
    ratio_deliveries_per_cpu_second_ilchatd_over_node: (if $i.knee and $n.knee and ($n.knee.deliveries_per_server_cpu_second // 0) > 0 then (($i.knee.deliveries_per_server_cpu_second / $n.knee.deliveries_per_server_cpu_second) * 100 | round / 100) else null end)}')
emit "$json"
