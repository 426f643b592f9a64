#!/usr/bin/env bash
# etc/docker/entrypoint.sh run against the built tree, as the container would run it (PATH holds
# ilchatd and ilchatctl, the environment holds the ILIAS_CHAT_* variables), for a matrix of
# environments. A stand-in ilchatd records how it was exec'd; the last case execs the real
# ilchatd as PID 1 of a new PID namespace (as in a container) against the private MariaDB, runs
# the Dockerfile's HEALTHCHECK command and stops it with SIGTERM.
# shellcheck source=tests/packaging/lib.sh
. "$(dirname "$0")/lib.sh"
entrypoint=$source_dir/etc/docker/entrypoint.sh
[ -x "$ilchatctl_bin" ] && [ -x "$ilchatd_bin" ] || fail "build the binaries first ($build_dir)"

# PATH of the container: ilchatctl, and an ilchatd that records its PID and arguments.
fake_bin=$work/fake-bin
real_bin=$work/real-bin
mkdir -p "$fake_bin" "$real_bin"
ln -s "$ilchatctl_bin" "$fake_bin/ilchatctl"
cat >"$fake_bin/ilchatd" <<'EOF'
#!/bin/sh
echo "$$ $*" >"$ILCHAT_TEST_RECORD"
EOF
chmod +x "$fake_bin/ilchatd"
ln -s "$ilchatctl_bin" "$real_bin/ilchatctl"
ln -s "$ilchatd_bin" "$real_bin/ilchatd"

required=(ILIAS_CHAT_CLIENT_NAME=ilias ILIAS_CHAT_AUTH_KEY=key-1 ILIAS_CHAT_AUTH_SECRET=secret-1
  ILIAS_CHAT_DB_HOST=db.example.org ILIAS_CHAT_DB_NAME=ilias ILIAS_CHAT_DB_USER=ilias ILIAS_CHAT_DB_PASS=pw-1)

# run_entrypoint CASE [VAR=value ...] -- [ARGS...]: runs the entrypoint in a clean environment
# (only the given variables) with the config folder of CASE; sets status, output, exec_pid and
# exec_args (from the stand-in ilchatd; empty when it did not run).
run_entrypoint() {
  local name=$1
  shift
  local vars=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do vars+=("$1"); shift; done
  [ "${1:-}" = -- ] && shift
  record=$work/$name.record
  rm -f "$record"
  set +e
  env -i PATH="$fake_bin:/usr/bin:/bin" HOME="$work" ILCHAT_TEST_RECORD="$record" \
    ILIAS_CHAT_CONFIG_DIR="$work/$name" "${vars[@]}" sh "$entrypoint" "$@" >"$work/$name.out" 2>&1 &
  started_pid=$!
  wait $started_pid
  status=$?
  set -e
  output=$(cat "$work/$name.out")
  exec_pid="" exec_args=""
  if [ -f "$record" ]; then read -r exec_pid exec_args <"$record"; fi
}
expect() { "$@" || fail "$case_name: expected $*; output:"$'\n'"$output"; }
json_value() { sed -n "s/^ *\"$2\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}$/\1/p" "$1" | head -1; }

# 1. No configuration: both files are written from the variables, then ilchatd is exec'd (same
#    PID as the entrypoint) with them.
case_name="missing configuration"
run_entrypoint fresh "${required[@]}" ILIAS_CHAT_PORT=27100
expect [ "$status" -eq 0 ]
expect [ -f "$work/fresh/server.cfg" ]
expect [ -f "$work/fresh/client.cfg" ]
expect [ "$(stat -c %a "$work/fresh/client.cfg")" = 640 ]
expect [ "$exec_pid" = "$started_pid" ]
expect [ "$exec_args" = "$work/fresh/server.cfg $work/fresh/client.cfg" ]
expect [ "$(json_value "$work/fresh/server.cfg" port)" = 27100 ]
expect [ "$(json_value "$work/fresh/client.cfg" name)" = ilias ]
"$ilchatctl_bin" config check "$work/fresh/server.cfg" "$work/fresh/client.cfg" >/dev/null || fail "$case_name: the written files do not pass ilchatctl config check"
expect grep -q "wrote $work/fresh/server.cfg (it did not exist)" <<<"$output"
grep -q pw-1 <<<"$output" && fail "$case_name: the database password was printed"
[ -z "$(find "$work/fresh" -name '.init*')" ] || fail "$case_name: a temporary folder was left behind"
ok "$case_name: server.cfg and client.cfg written (0640), ilchatd exec'd with them"

# 2. Existing files are kept as they are, even when the variables say otherwise.
case_name="existing configuration"
mkdir -p "$work/kept"
cp "$work/fresh/server.cfg" "$work/fresh/client.cfg" "$work/kept/"
sed -i 's/"name": "ilias"/"name": "from-ilias"/' "$work/kept/client.cfg"
cp "$work/kept/client.cfg" "$work/kept-client.before"
cp "$work/kept/server.cfg" "$work/kept-server.before"
run_entrypoint kept "${required[@]}" ILIAS_CHAT_PORT=27200
expect [ "$status" -eq 0 ]
cmp -s "$work/kept/client.cfg" "$work/kept-client.before" || fail "$case_name: client.cfg was changed"
cmp -s "$work/kept/server.cfg" "$work/kept-server.before" || fail "$case_name: server.cfg was changed"
expect [ "$exec_pid" = "$started_pid" ]
expect grep -q "using the existing" <<<"$output"
# ... and then without any variable at all (files mounted from ILIAS).
run_entrypoint kept
expect [ "$status" -eq 0 ]
expect [ "$exec_args" = "$work/kept/server.cfg $work/kept/client.cfg" ]
ok "$case_name: kept unchanged, with or without variables"

# 3. ILIAS_AUTO_CONFIGURE set (to any value, even empty or 0, as in the uni-halle image): both
#    files are rewritten from the variables.
for value in 1 "" 0; do
  case_name="ILIAS_AUTO_CONFIGURE='$value'"
  cp "$work/kept-client.before" "$work/kept/client.cfg"
  cp "$work/kept-server.before" "$work/kept/server.cfg"
  run_entrypoint kept "${required[@]}" ILIAS_CHAT_PORT=27300 "ILIAS_AUTO_CONFIGURE=$value"
  expect [ "$status" -eq 0 ]
  expect [ "$(json_value "$work/kept/server.cfg" port)" = 27300 ]
  expect [ "$(json_value "$work/kept/client.cfg" name)" = ilias ]
  expect grep -q "ILIAS_AUTO_CONFIGURE is set" <<<"$output"
  expect [ "$exec_pid" = "$started_pid" ]
done
ok "ILIAS_AUTO_CONFIGURE (1, empty, 0): both files rewritten"

# 4. Only one file present: the other is written; with client.cfg kept the client variables are
#    not needed.
case_name="only client.cfg present"
mkdir -p "$work/half1"
cp "$work/kept-client.before" "$work/half1/client.cfg"
run_entrypoint half1 ILIAS_CHAT_PORT=27400
expect [ "$status" -eq 0 ]
expect [ "$(json_value "$work/half1/server.cfg" port)" = 27400 ]
cmp -s "$work/half1/client.cfg" "$work/kept-client.before" || fail "$case_name: client.cfg was changed"
case_name="only server.cfg present"
mkdir -p "$work/half2"
cp "$work/kept-server.before" "$work/half2/server.cfg"
run_entrypoint half2 "${required[@]}" ILIAS_CHAT_PORT=27500
expect [ "$status" -eq 0 ]
expect [ "$(json_value "$work/half2/client.cfg" name)" = ilias ]
cmp -s "$work/half2/server.cfg" "$work/kept-server.before" || fail "$case_name: server.cfg was changed"
ok "one file present: only the missing one is written"

# 5. Required variables missing: non-zero exit, every missing variable named, nothing written,
#    ilchatd not started.
case_name="missing required variables"
run_entrypoint missing ILIAS_CHAT_CLIENT_NAME=ilias ILIAS_CHAT_DB_HOST=db
expect [ "$status" -ne 0 ]
expect [ -z "$exec_pid" ]
for variable in ILIAS_CHAT_AUTH_KEY ILIAS_CHAT_AUTH_SECRET ILIAS_CHAT_DB_NAME ILIAS_CHAT_DB_USER ILIAS_CHAT_DB_PASS; do
  expect grep -q "$variable" <<<"$output"
done
expect grep -q "missing required variables" <<<"$output"
expect grep -q "mount your own server.cfg and client.cfg" <<<"$output"
[ -z "$(ls -A "$work/missing" 2>/dev/null)" ] || fail "$case_name: files were written: $(ls -A "$work/missing")"
# An invalid value is named with its variable too.
run_entrypoint badport "${required[@]}" ILIAS_CHAT_PORT=http
expect [ "$status" -ne 0 ]
expect grep -q ILIAS_CHAT_PORT <<<"$output"
ok "$case_name: exit $status, the variables named, nothing written, ilchatd not started"

# 6. Any other command is executed as given (exec, same PID), without writing configuration.
case_name="other command"
run_entrypoint other -- sh -c 'echo "pid=$$ args=$*"' cmd 'a b' c
expect [ "$status" -eq 0 ]
expect [ "$output" = "pid=$started_pid args=a b c" ]
expect [ ! -e "$work/other" ]
run_entrypoint other2 -- ilchatctl config keys
expect [ "$status" -eq 0 ]
expect grep -q 'metrics_address' <<<"$output"
run_entrypoint other3 -- false
expect [ "$status" -eq 1 ]
ok "$case_name: executed as given (same PID, exit status passed on, no configuration written)"

# 7. app:serve (the image's CMD) and flags for ilchatd.
case_name="app:serve and flags"
run_entrypoint serve "${required[@]}" -- app:serve
expect [ "$status" -eq 0 ]
expect [ "$exec_args" = "$work/serve/server.cfg $work/serve/client.cfg" ]
run_entrypoint serve -- --check-config
expect [ "$exec_args" = "--check-config $work/serve/server.cfg $work/serve/client.cfg" ]
ok "$case_name: app:serve serves; -flags go to ilchatd before the files"

# 8. ILCHATD_METRICS_ADDRESS / ILCHATD_ADMIN_SOCKET land in a generated server.cfg, which stays
#    valid; a value that could break the JSON is refused.
case_name="ILCHATD_METRICS_ADDRESS"
run_entrypoint metrics "${required[@]}" ILCHATD_METRICS_ADDRESS='[::]:9464' ILCHATD_ADMIN_SOCKET=/run/x/admin.sock
expect [ "$status" -eq 0 ]
expect [ "$(json_value "$work/metrics/server.cfg" metrics_address)" = '[::]:9464' ]
expect [ "$(json_value "$work/metrics/server.cfg" admin_socket)" = /run/x/admin.sock ]
[ "$(grep -c '"metrics_address"' "$work/metrics/server.cfg")" -eq 1 ] || fail "$case_name: key written twice"
"$ilchatctl_bin" config check "$work/metrics/server.cfg" "$work/metrics/client.cfg" >/dev/null || fail "$case_name: server.cfg no longer valid"
run_entrypoint metrics-bad "${required[@]}" ILCHATD_METRICS_ADDRESS='0.0.0.0:9464", "x": "y'
expect [ "$status" -ne 0 ]
expect [ -z "$exec_pid" ]
[ ! -e "$work/metrics-bad/server.cfg" ] || fail "$case_name: a server.cfg was written for a bad value"
ok "$case_name and ILCHATD_ADMIN_SOCKET: set in the generated server.cfg, bad values refused"

# 9. The real thing: ilchatd as PID 1 of a new PID namespace, configured by the entrypoint,
#    healthy by the Dockerfile's HEALTHCHECK command, drained and exit 0 on SIGTERM.
case_name="real ilchatd as PID 1"
if ! unshare --pid --fork --kill-child true 2>/dev/null; then
  note "$case_name: cannot create a PID namespace here (unshare --pid needs CAP_SYS_ADMIN); running it as a plain child instead"
  pid1=()
else
  pid1=(unshare --pid --fork --kill-child --mount-proc)
fi
database=ilias_pkg_entrypoint
create_database "$database"
port=$(free_port)
config_dir=$work/container/etc
log_dir=$work/container/log
healthcheck=$(sed -n '/^HEALTHCHECK/,/[^\\]$/p' "$source_dir/Dockerfile" | tr -d '\\\n' | sed 's/.*CMD //')
[ -n "$healthcheck" ] || fail "no HEALTHCHECK CMD in the Dockerfile"
set +e
env -i PATH="$real_bin:/usr/bin:/bin" HOME="$work" ILIAS_CHAT_CONFIG_DIR="$config_dir" ILIAS_CHAT_LOG_DIR="$log_dir" \
  ILIAS_CHAT_ADDRESS=127.0.0.1 ILIAS_CHAT_PORT="$port" ILIAS_CHAT_CLIENT_NAME=ilias ILIAS_CHAT_AUTH_KEY=key-1 \
  ILIAS_CHAT_AUTH_SECRET=secret-1 ILIAS_CHAT_DB_HOST="$mariadb_dir/mysqld.sock" ILIAS_CHAT_DB_NAME="$database" \
  ILIAS_CHAT_DB_USER=ilchat ILIAS_CHAT_DB_PASS="$(mariadb_password)" ILCHATD_METRICS_ADDRESS=127.0.0.1:0 \
  ILCHATD_ADMIN_SOCKET="$work/container/admin.sock" \
  "${pid1[@]}" sh "$entrypoint" >"$work/container.out" 2>&1 &
outer=$!
set -e
track "$outer"
wait_for_text "$log_dir/chat.log" "The Server is Ready to use!" 20 ||
  fail "$case_name: not ready:"$'\n'"$(cat "$work/container.out" "$log_dir/chat.log" 2>/dev/null)"
# The daemon process: the entrypoint itself (exec'd), PID 1 in its namespace.
if [ ${#pid1[@]} -gt 0 ]; then
  daemon_pid=$(pgrep -P "$outer" || true)
  [ -n "$daemon_pid" ] || fail "$case_name: no process under unshare"
  ns_pid=$(awk '/^NSpid:/ {print $NF}' "/proc/$daemon_pid/status")
  [ "$ns_pid" = 1 ] || fail "$case_name: ilchatd is PID $ns_pid in its namespace, not 1"
else
  daemon_pid=$outer
fi
[ "$(readlink -f "/proc/$daemon_pid/exe")" = "$(readlink -f "$ilchatd_bin")" ] ||
  fail "$case_name: PID 1 is $(readlink -f "/proc/$daemon_pid/exe"), not ilchatd (the entrypoint must exec it)"
# The Dockerfile's health check, with the container's environment.
env -i PATH="$real_bin:/usr/bin:/bin" ILIAS_CHAT_CONFIG_DIR="$config_dir" sh -c "$healthcheck" >"$work/health.out" 2>&1 ||
  fail "$case_name: HEALTHCHECK failed: $healthcheck"$'\n'"$(cat "$work/health.out")"
[ "$(curl -sf "http://127.0.0.1:$port/backend/Heartbeat/ilias")" = '{"status":200}' ] || fail "$case_name: no heartbeat"
"$ilchatctl_bin" status --socket "$work/container/admin.sock" >/dev/null || fail "$case_name: admin socket"
kill -TERM "$daemon_pid"
set +e
wait "$outer"
exit_code=$?
set -e
[ "$exit_code" -eq 0 ] || fail "$case_name: exit $exit_code after SIGTERM:"$'\n'"$(tail -20 "$log_dir/chat.log")"
grep -q "Server stopped" "$log_dir/chat.log" || fail "$case_name: no clean stop in the log"
grep -q ' ERROR - ' "$log_dir/chat.log" && fail "$case_name: errors logged:"$'\n'"$(grep ' ERROR - ' "$log_dir/chat.log")"
ok "$case_name${pid1:+ (PID namespace)}: configured, HEALTHCHECK passes, SIGTERM drains, exit 0"

echo "all $checks checks passed"
