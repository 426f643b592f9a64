#!/usr/bin/env bash
# Scenario 5, start-up: time from process start to the ready line ("The Server is Ready to use!")
# with 100,000 On-Screen-Chat conversations (osc_conversation) and 1,000 rooms
# (chatroom_settings) in the database; three starts per server, median and each one, plus
# the RSS once ready.
scenario=startup
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

conversations=100000; rooms=1000; runs=3
if [ "$quick" = 1 ]; then conversations=10000; rooms=100; runs=1; fi

fill=$work/fill.sql
cat >"$fill" <<SQL
DELETE FROM chatroom_settings;
INSERT INTO chatroom_settings (room_id, object_id, room_type, allow_anonymous, allow_custom_usernames,
    enable_history, autogen_usernames, display_past_msgs, online_status)
  SELECT seq, 10000 + seq, 'repository', 0, 0, 1, 'Anonymous #', 20, 1 FROM seq_1_to_$rooms;
INSERT INTO osc_conversation (id, is_group, participants)
  SELECT CONCAT('00000000-0000-4000-8000-', LPAD(seq, 12, '0')), seq % 10 = 0,
         CONCAT('[{"id":', 1000 + seq % 20000, ',"name":"user', 1000 + seq % 20000,
                '"},{"id":', 1000 + (seq * 7 + 1) % 20000, ',"name":"user', 1000 + (seq * 7 + 1) % 20000, '"}]')
  FROM seq_1_to_$conversations;
SQL

declare -A result
for kind in "${servers[@]}"; do
  dir=$work/$kind; db=bench_startup_$kind
  fresh_db "$db" "$fill"
  say "$kind: $(mariadb_sql -N -s "$db" -e 'SELECT COUNT(*) FROM osc_conversation') conversations, $(mariadb_sql -N -s "$db" -e 'SELECT COUNT(*) FROM chatroom_settings') rooms"
  port=$(free_port)
  write_config "$dir" "$db" "$port"
  times=(); rss=0
  for ((r = 0; r < runs; r++)); do
    start_server "$kind" "$dir"
    times+=("$startup_seconds")
    read -r _ rss _ < <(proc_sample "$server_pid")
    stop_server
    say "$kind: start $((r + 1)): ready after ${startup_seconds}s, RSS ${rss} KB"
  done
  result[$kind]=$(printf '%s\n' "${times[@]}" | jq -s -c --argjson rss "$rss" --argjson c "$conversations" --argjson r "$rooms" \
    '{conversations: $c, rooms: $r, startup_seconds: ., startup_seconds_median: (sort | .[length / 2 | floor]), rss_ready_kb: $rss}')
done

json=$(jq -n -c --argjson quick "$quick" --argjson i "${result[ilchatd]:-null}" --argjson n "${result[node]:-null}" \
  '{scenario: "startup", quick: ($quick == 1), goal: "(no number in the issue) time to ready with 100,000 conversations and 1,000 rooms",
    ilchatd: $i, node: $n,
    ratio_startup_node_over_ilchatd: (if $i and $n and ($i.startup_seconds_median // 0) > 0 then (($n.startup_seconds_median / $i.startup_seconds_median) * 100 | round / 100) else null end)}')
emit "$json"
