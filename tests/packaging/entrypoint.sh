#!/usr/bin/env bash
# etc/docker/entrypoint.sh run against the built tree, as the container would run it (PATH holds
# ilchatd and ilchatctl, the environment holds the ILIAS_CHAT_* variables), for a matrix of
# environments. The image's fixed folders (/etc/chat, /var/log/ilchatd, ...) are below a folder of
# each case (ILCHATD_IMAGE_ROOT), and so are ilchatd's spool and admin socket. A stand-in ilchatd
# records how it was exec'd and as whom; case 9 execs the real ilchatd as PID 1 of a new PID
# namespace (as in a container) against the private MariaDB, with the old image's folders mounted
# and dropped to another user, runs the Dockerfile's HEALTHCHECK command and stops it with
# SIGTERM. What changes owners and users needs root; as another user it is skipped, saying so.
# shellcheck source=tests/packaging/lib.sh
. "$(dirname "$0")/lib.sh"
entrypoint=$source_dir/etc/docker/entrypoint.sh
[ -x "$ilchatctl_bin" ] && [ -x "$ilchatd_bin" ] || fail "build the binaries first ($build_dir)"

# Everything the cases make is below $work: this machine's own folders of the image stay as they are.
host_folders=(/etc/chat /etc/ilchatd /var/log/chat /var/log/ilchatd /var/lib/ilchatd /run/ilchatd)
host_before=$(ls -d "${host_folders[@]}" 2>/dev/null || true)

# The service user of the cases that drop to one: bare ids, which need no account (setpriv and
# chown take numbers).
as_root=no
[ "$(id -u)" = 0 ] && as_root=yes
service=4242:4343
# Those cases run programs below $work as that user.
[ "$as_root" = yes ] && chmod 755 "$work"

# PATH of the container: ilchatctl, the entrypoint under its name in the image, and an ilchatd
# that records its PID and arguments, and its user, group and groups (in a folder anyone may write).
fake_bin=$work/fake-bin
real_bin=$work/real-bin
records=$work/records
mkdir -p "$fake_bin" "$real_bin" "$records"
chmod 1777 "$records"
ln -s "$ilchatctl_bin" "$fake_bin/ilchatctl"
cat >"$fake_bin/ilchatd" <<'EOF'
#!/bin/sh
echo "$(id -u):$(id -g):$(id -G)" >"$ILCHAT_TEST_RECORD.ids"
echo "$$ $*" >"$ILCHAT_TEST_RECORD"
EOF
chmod 755 "$fake_bin/ilchatd"
ln -s "$ilchatctl_bin" "$real_bin/ilchatctl"
ln -s "$ilchatd_bin" "$real_bin/ilchatd"
ln -s "$entrypoint" "$real_bin/docker-entrypoint.sh"

required=(ILIAS_CHAT_CLIENT_NAME=ilias ILIAS_CHAT_AUTH_KEY=key-1 ILIAS_CHAT_AUTH_SECRET=secret-1
  ILIAS_CHAT_DB_HOST=db.example.org ILIAS_CHAT_DB_NAME=ilias ILIAS_CHAT_DB_USER=ilias ILIAS_CHAT_DB_PASS=pw-1)

# run_entrypoint [--image-folders] [--as UID:GID] CASE [VAR=value ...] -- [ARGS...]: runs the
# entrypoint in a clean environment (only the given variables) with the image's fixed folders
# below $work/CASE.root (ILCHATD_IMAGE_ROOT), ilchatd's spool and admin socket there too, and the
# configuration in $work/CASE unless --image-folders leaves the choice to the entrypoint. It drops
# to the test's own user unless ILCHATD_RUN_AS is given; --as starts it as that user instead.
# Sets status, output, exec_pid, exec_args and exec_ids (uid:gid:groups) from the stand-in
# ilchatd, empty when it did not run.
run_entrypoint() {
  local config=yes start=()
  while :; do
    case "$1" in
      --image-folders) config=no; shift ;;
      --as) start=(setpriv --reuid="${2%%:*}" --regid="${2#*:}" --clear-groups); shift 2 ;;
      *) break ;;
    esac
  done
  local name=$1
  shift
  local vars=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do vars+=("$1"); shift; done
  [ "${1:-}" = -- ] && shift
  local root=$work/$name.root
  [ $config = yes ] && vars=("ILIAS_CHAT_CONFIG_DIR=$work/$name" "${vars[@]}")
  record=$records/$name
  rm -f "$record" "$record.ids"
  set +e
  env -i PATH="$fake_bin:/usr/bin:/bin" HOME="$work" ILCHAT_TEST_RECORD="$record" ILCHATD_IMAGE_ROOT="$root" \
    ILCHATD_RUN_AS="$(id -u):$(id -g)" ILCHATD_SPOOL_DIR="$root/var/lib/ilchatd/spool" \
    ILCHATD_ADMIN_SOCKET="$root/run/ilchatd/admin.sock" "${vars[@]}" \
    "${start[@]}" sh "$entrypoint" "$@" >"$work/$name.out" 2>&1 &
  started_pid=$!
  wait $started_pid
  status=$?
  set -e
  output=$(cat "$work/$name.out")
  exec_pid="" exec_args="" exec_ids=""
  if [ -f "$record" ]; then read -r exec_pid exec_args <"$record"; fi
  if [ -f "$record.ids" ]; then exec_ids=$(cat "$record.ids"); fi
}
expect() { "$@" || fail "$case_name: expected $*; output:"$'\n'"$output"; }
json_value() { /usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
owner() { stat -c %u:%g "$1"; }

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

# 8. ilchatd's own server.cfg keys from ILCHATD_* variables, through `ilchatctl init`: written as
#    given (a value cannot break the JSON); a bad one names its variable and nothing is written.
case_name="ILCHATD_* variables"
run_entrypoint metrics "${required[@]}" ILCHATD_METRICS_ADDRESS='[::]:9464' ILCHATD_ADMIN_SOCKET= \
  ILCHATD_HTML_ESCAPE=false ILCHATD_STARTUP_DB_WAIT=5000
expect [ "$status" -eq 0 ]
expect [ "$(json_value "$work/metrics/server.cfg" metrics_address)" = '[::]:9464' ]
expect [ "$(json_value "$work/metrics/server.cfg" admin_socket)" = "" ]
expect [ "$(json_value "$work/metrics/server.cfg" html_escape)" = False ]
expect [ "$(json_value "$work/metrics/server.cfg" startup_db_wait)" = 5000 ]
"$ilchatctl_bin" config check "$work/metrics/server.cfg" "$work/metrics/client.cfg" >/dev/null || fail "$case_name: server.cfg not valid"
run_entrypoint metrics-quote "${required[@]}" ILCHATD_METRICS_ADDRESS='0.0.0.0:9464", "x": "y'
expect [ "$status" -eq 0 ]
expect [ "$(json_value "$work/metrics-quote/server.cfg" metrics_address)" = '0.0.0.0:9464", "x": "y' ]
/usr/bin/python3 -c 'import json, sys; assert "x" not in json.load(open(sys.argv[1]))' "$work/metrics-quote/server.cfg" ||
  fail "$case_name: a value added a key"
run_entrypoint metrics-bad "${required[@]}" ILCHATD_WRITE_QUEUE_LIMIT=many
expect [ "$status" -ne 0 ]
expect [ -z "$exec_pid" ]
expect grep -q 'environment: ILCHATD_WRITE_QUEUE_LIMIT: expected 100-10000000, got "many"' <<<"$output"
[ ! -e "$work/metrics-bad/server.cfg" ] || fail "$case_name: a server.cfg was written for a bad value"
ok "$case_name: set in the generated server.cfg by ilchatctl init, JSON intact, a bad value named and refused"

# 9. The real thing: ilchatd as PID 1 of a new PID namespace, configured by the entrypoint in the
#    old image's /etc/chat and /var/log/chat (mounted: the log folder as the Docker engine makes a
#    bind mount's, root's), running as the service user, healthy by the Dockerfile's HEALTHCHECK
#    command, drained and exit 0 on SIGTERM.
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
root=$work/container.root
config_dir=$root/etc/chat
log_dir=$root/var/log/chat
mkdir -p "$config_dir" "$log_dir"
# As root, ilchatd runs as the service user; otherwise as the test's user.
run_as=$(id -u):$(id -g)
[ "$as_root" = yes ] && run_as=$service
healthcheck=$(sed -n '/^HEALTHCHECK/,/[^\\]$/p' "$source_dir/Dockerfile" | tr -d '\\\n' | sed 's/.*CMD //')
[ -n "$healthcheck" ] || fail "no HEALTHCHECK CMD in the Dockerfile"
set +e
env -i PATH="$real_bin:/usr/bin:/bin" HOME="$work" ILCHATD_IMAGE_ROOT="$root" ILCHATD_RUN_AS="$run_as" \
  ILIAS_CHAT_ADDRESS=127.0.0.1 ILIAS_CHAT_PORT="$port" ILIAS_CHAT_CLIENT_NAME=ilias ILIAS_CHAT_AUTH_KEY=key-1 \
  ILIAS_CHAT_AUTH_SECRET=secret-1 ILIAS_CHAT_DB_HOST="$mariadb_dir/mysqld.sock" ILIAS_CHAT_DB_NAME="$database" \
  ILIAS_CHAT_DB_USER=ilchat ILIAS_CHAT_DB_PASS="$(mariadb_password)" ILCHATD_METRICS_ADDRESS=127.0.0.1:0 \
  ILCHATD_ADMIN_SOCKET="$root/run/ilchatd/admin.sock" ILCHATD_SPOOL_DIR="$root/var/lib/ilchatd/spool" \
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
ids=$(awk '/^Uid:/ {u=$2} /^Gid:/ {g=$2} END {print u ":" g}' "/proc/$daemon_pid/status")
[ "$ids" = "$run_as" ] || fail "$case_name: ilchatd runs as $ids, not $run_as"
[ "$(owner "$log_dir/chat.log")" = "$run_as" ] || fail "$case_name: chat.log belongs to $(owner "$log_dir/chat.log")"
# The Dockerfile's health check, with the container's environment: it finds the files in /etc/chat.
env -i PATH="$real_bin:/usr/bin:/bin" ILCHATD_IMAGE_ROOT="$root" sh -c "$healthcheck" >"$work/health.out" 2>&1 ||
  fail "$case_name: HEALTHCHECK failed: $healthcheck"$'\n'"$(cat "$work/health.out")"
[ "$(curl -sf "http://127.0.0.1:$port/backend/Heartbeat/ilias")" = '{"status":200}' ] || fail "$case_name: no heartbeat"
"$ilchatctl_bin" status --socket "$root/run/ilchatd/admin.sock" >/dev/null || fail "$case_name: admin socket"
kill -TERM "$daemon_pid"
set +e
wait "$outer"
exit_code=$?
set -e
[ "$exit_code" -eq 0 ] || fail "$case_name: exit $exit_code after SIGTERM:"$'\n'"$(tail -20 "$log_dir/chat.log")"
grep -q "Server stopped" "$log_dir/chat.log" || fail "$case_name: no clean stop in the log"
grep -q ' ERROR - ' "$log_dir/chat.log" && fail "$case_name: errors logged:"$'\n'"$(grep ' ERROR - ' "$log_dir/chat.log")"
ok "$case_name${pid1:+ (PID namespace)}: configured in the old image's folders, running as $run_as, HEALTHCHECK passes, SIGTERM drains, exit 0"

# 10. The folders of a compose file written for the old image: /etc/chat and /var/log/chat, when
#     mounted (they exist), hold the configuration and the logs; otherwise this image's
#     /etc/ilchatd and /var/log/ilchatd. (Case 9 runs the real ilchatd on the old ones.)
case_name="old image's folders mounted"
mkdir -p "$work/old.root/etc/chat" "$work/old.root/var/log/chat"
run_entrypoint --image-folders old "${required[@]}"
expect [ "$status" -eq 0 ]
expect [ "$exec_args" = "$work/old.root/etc/chat/server.cfg $work/old.root/etc/chat/client.cfg" ]
expect [ "$(json_value "$work/old.root/etc/chat/server.cfg" log)" = "$work/old.root/var/log/chat/chat.log" ]
expect [ "$(json_value "$work/old.root/etc/chat/server.cfg" error_log)" = "$work/old.root/var/log/chat/chat_errors.log" ]
expect [ ! -e "$work/old.root/etc/ilchatd" ]
case_name="this image's folders"
run_entrypoint --image-folders new "${required[@]}"
expect [ "$status" -eq 0 ]
expect [ "$exec_args" = "$work/new.root/etc/ilchatd/server.cfg $work/new.root/etc/ilchatd/client.cfg" ]
expect [ "$(json_value "$work/new.root/etc/ilchatd/server.cfg" log)" = "$work/new.root/var/log/ilchatd/chat.log" ]
# Set, the variables win; ILIAS_CHAT_LOG_DIR set but empty logs to stderr.
case_name="folders from the variables"
mkdir -p "$work/vars.root/etc/chat" "$work/vars.root/var/log/chat"
run_entrypoint --image-folders vars "${required[@]}" ILIAS_CHAT_CONFIG_DIR="$work/vars" ILIAS_CHAT_LOG_DIR=
expect [ "$status" -eq 0 ]
expect [ "$exec_args" = "$work/vars/server.cfg $work/vars/client.cfg" ]
expect [ "$(json_value "$work/vars/server.cfg" log)" = "" ]
expect [ -z "$(ls -A "$work/vars.root/etc/chat")" ]
# A volume of the old image at /etc/chat with the files it wrote (its server.cfg as its
# ilias_auto_config_server.js printed it, plus the test's places for the socket and the spool),
# nothing at /var/log/chat: kept, the log folder is made.
case_name="old image's files"
mkdir -p "$work/oldfiles.root/etc/chat"
cat >"$work/oldfiles.root/etc/chat/server.cfg" <<EOF
{
    "protocol": "http",
    "port": "27019",
    "address": "0.0.0.0",
    "log": "$work/oldfiles.root/var/log/chat/chat.log",
    "error_log": "$work/oldfiles.root/var/log/chat/chat_errors.log",
    "deletion_mode": "0",
    "deletion_unit": "years",
    "deletion_value": "1",
    "deletion_time": "06:30",
    "admin_socket": "$work/oldfiles.root/run/ilchatd/admin.sock",
    "spool_dir": "$work/oldfiles.root/var/lib/ilchatd/spool"
}
EOF
cp "$work/old.root/etc/chat/client.cfg" "$work/oldfiles.root/etc/chat/"
run_entrypoint --image-folders oldfiles
expect [ "$status" -eq 0 ]
expect grep -q "using the existing $work/oldfiles.root/etc/chat/server.cfg" <<<"$output"
expect [ -d "$work/oldfiles.root/var/log/chat" ]
ok "the old image's folders: /etc/chat and /var/log/chat when mounted, else /etc/ilchatd and /var/log/ilchatd; the variables win"

# 11. Started as root, the entrypoint gives the service user what ilchatd writes, then drops to it:
#     a log folder the Docker engine made as root for a bind mount, a root-owned log file and
#     spool file, missing socket and configuration folders. Nothing else changes owner.
case_name="root: owners fixed, then dropped to $service"
if [ "$as_root" = yes ]; then
  root=$work/drop.root
  mkdir -p "$root/var/log/chat" "$root/var/lib/ilchatd/spool"
  echo old >"$root/var/log/chat/chat.log"
  echo notes >"$root/var/log/chat/other.txt"
  echo '{}' >"$root/var/lib/ilchatd/spool/ilias.spool"
  chmod 755 "$root/var/log/chat"
  run_entrypoint --image-folders drop "${required[@]}" ILCHATD_RUN_AS=$service
  expect [ "$status" -eq 0 ]
  expect [ "$exec_pid" = "$started_pid" ]
  expect [ "$exec_ids" = "$service:${service#*:}" ]
  for path in var/log/chat var/log/chat/chat.log var/lib/ilchatd/spool var/lib/ilchatd/spool/ilias.spool run/ilchatd \
    etc/ilchatd/server.cfg etc/ilchatd/client.cfg; do
    expect [ "$(owner "$root/$path")" = $service ]
  done
  expect [ "$(owner "$root/var/log/chat/other.txt")" = 0:0 ]
  expect [ "$(owner "$root/var/lib/ilchatd")" = 0:0 ]
  expect [ "$(stat -c %a "$root/run/ilchatd")" = 750 ]
  expect [ "$(stat -c %a "$root/etc/ilchatd/client.cfg")" = 640 ]
  expect grep -q "$root/var/log/chat: owner 0:0 -> $service" <<<"$output"
  # Once the owners are right nothing changes any more.
  run_entrypoint --image-folders drop "${required[@]}" ILCHATD_RUN_AS=$service
  expect [ "$status" -eq 0 ]
  expect [ "$exec_ids" = "$service:${service#*:}" ]
  grep -q ' -> ' <<<"$output" && fail "$case_name: owners changed again:"$'\n'"$output"
  ok "$case_name: what ilchatd writes given to it (made when missing), the rest untouched, ilchatd exec'd as $service"
else
  note "$case_name: not root, skipped"
fi

# 12. Started as another user (`docker run --user`): what it cannot write stops it, naming exactly
#     what to chown; it changes no owner.
case_name="not root: what to chown named"
if [ "$as_root" = yes ]; then
  root=$work/user.root
  mkdir -p "$root/etc/ilchatd" "$root/var/log/chat" "$root/var/lib/ilchatd"
  chown $service "$root/etc/ilchatd"
  run_entrypoint --as $service --image-folders user "${required[@]}"
  expect [ "$status" -eq 1 ]
  expect [ -z "$exec_pid" ]
  expect grep -qx "entrypoint:   chown $service $root/var/log/chat" <<<"$output"
  expect grep -qx "entrypoint:   chown $service $root/var/lib/ilchatd" <<<"$output"
  expect grep -qx "entrypoint:   chown $service $root" <<<"$output"
  expect [ "$(grep -c 'entrypoint:   chown' <<<"$output")" -eq 3 ]
  expect [ "$(owner "$root/var/log/chat")" = 0:0 ]
  # Given those, it starts as that user.
  chown $service "$root/var/log/chat" "$root/var/lib/ilchatd" "$root"
  run_entrypoint --as $service --image-folders user "${required[@]}"
  expect [ "$status" -eq 0 ]
  expect [ "$exec_ids" = "$service:${service#*:}" ]
  ok "$case_name: exit 1, one chown line for each, ilchatd not started; started once they are writable"
else
  note "$case_name: not root, skipped"
fi

host_after=$(ls -d "${host_folders[@]}" 2>/dev/null || true)
[ "$host_after" = "$host_before" ] || fail "folders made outside $work: $(comm -13 <(echo "$host_before") <(echo "$host_after"))"
ok "nothing made outside the test's folder"

echo "all $checks checks passed"
