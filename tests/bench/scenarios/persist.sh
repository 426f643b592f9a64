#!/usr/bin/env bash
# Scenario 4, persistence: 200 single-member rooms, messages at a high rate (a burst); rows
# stored per second in chatroom_history (SELECT COUNT(*) polled every 0.5 s until it stops
# growing) and, for ilchatd, ilchatd_db_write_queue_depth from /metrics (polled every 0.25 s).
scenario=persist
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# ILCHAT_BENCH_PERSIST_RATE (messages/s) and ILCHAT_BENCH_PERSIST_SECONDS change the burst: the
# store's own ceiling shows only when the generator offers more than it takes.
clients=200; rate=${ILCHAT_BENCH_PERSIST_RATE:-10000}; duration=${ILCHAT_BENCH_PERSIST_SECONDS:-10}
if [ "$quick" = 1 ]; then clients=50; rate=1000; duration=3; fi

declare -A result
for kind in "${servers[@]}"; do
  dir=$work/$kind; db=bench_persist_$kind
  fresh_db "$db"
  port=$(free_port)
  write_config "$dir" "$db" "$port"
  start_server "$kind" "$dir"
  start_sampler "$server_pid" "$dir/samples"
  say "$kind: $clients clients in $clients rooms, $rate msg/s for ${duration}s"
  loadgen_bg "$dir/gen0" --port "$port" --client-cfg "$dir/client.cfg" --clients "$clients" --rooms "$clients" \
    --rate "$rate" --duration "$duration" --drain-timeout 10 --time-limit 300 --source-addresses "$(sources 0)"
  gen_pid=${bg_pids[0]}
  (
    while :; do
      echo "$(now_ns) $(mariadb_sql -N -s "$db" -e 'SELECT COUNT(*) FROM chatroom_history' 2>/dev/null || echo -1)"
      sleep 0.5
    done
  ) >"$dir/rows" &
  rows_pid=$!; bg_pids+=("$rows_pid")
  if [ -n "${metrics_port:-}" ]; then
    (
      while :; do
        echo "$(now_ns) $(curl -s --max-time 1 "http://127.0.0.1:$metrics_port/metrics" | awk '/^ilchatd_db_write_queue_depth/{s+=$NF} END{print s+0}')"
        sleep 0.25
      done
    ) >"$dir/queue" &
    bg_pids+=($!)
  fi
  wait "$gen_pid" || true
  # Until the row count has not changed for 3 s (at most 180 s).
  for ((i = 0; i < 360; i++)); do
    sleep 0.5
    n=$(wc -l <"$dir/rows")
    if [ "$n" -gt 8 ] && [ "$(tail -n 7 "$dir/rows" | awk '{print $2}' | sort -u | wc -l)" = 1 ]; then break; fi
  done
  for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait_loadgens
  stop_sampler
  stop_server
  j=$(loadgen_json "$dir/gen0")
  t0=$(cat "$dir/gen0.start")
  steady_start=$(jq -r --argjson t0 "$t0" '($t0 + ((.register_seconds + .connect_seconds + .settle_seconds) * 1e9)) | floor' <<<"$j" 2>/dev/null || echo "$t0")
  # Rows per second from the start of the steady phase to the last increase; peak over 1 s.
  read -r rows persist_rate peak < <(awk -v s="$steady_start" '
    $2 >= 0 { t[++n] = $1; c[n] = $2; if (c[n] > last) { last = c[n]; tl = $1 } }
    END {
      peak = 0
      for (i = 1; i <= n; i++) for (k = i + 1; k <= n; k++) if (t[k] - t[i] >= 1e9) {
        r = (c[k] - c[i]) / ((t[k] - t[i]) / 1e9); if (r > peak) peak = r; break }
      rate = (tl > s) ? last / ((tl - s) / 1e9) : 0
      printf "%d %.0f %.0f\n", last, rate, peak
    }' "$dir/rows")
  qmax=null
  [ -f "$dir/queue" ] && qmax=$(awk 'BEGIN{m=0} $2>m{m=$2} END{print m}' "$dir/queue")
  result[$kind]=$(jq -c --argjson rows "$rows" --argjson rate "$persist_rate" --argjson peak "$peak" --argjson qmax "$qmax" \
    '{messages_sent, message_rate: (.message_rate | floor), deliveries_missing, error_count, errors,
      rows_stored: $rows, persisted_per_second: $rate, persisted_peak_per_second: $peak,
      write_queue_depth_max: $qmax, latency_p99_us: .latency_us.p99}' <<<"$j")
  say "$kind: $(jq -r '"\(.messages_sent) messages at \(.message_rate)/s, \(.rows_stored) rows stored, \(.persisted_per_second) rows/s overall (peak \(.persisted_peak_per_second)/s over 1 s), write queue max \(.write_queue_depth_max), errors \(.errors)"' <<<"${result[$kind]}")"
done

json=$(jq -n -c --argjson quick "$quick" --argjson i "${result[ilchatd]:-null}" --argjson n "${result[node]:-null}" \
  '{scenario: "persist", quick: ($quick == 1), goal: ">= 5,000 messages persisted per second", ilchatd: $i, node: $n,
    ratio_persisted_ilchatd_over_node: (if $i and $n and ($n.persisted_per_second // 0) > 0 then (($i.persisted_per_second / $n.persisted_per_second) * 100 | round / 100) else null end)}')
emit "$json"
