#!/usr/bin/env bash
# etc/logrotate.d/ilchatd: `logrotate -d` accepts it, and a real rotation (logrotate -f) of a
# running ilchatd's chat.log and chat_errors.log makes the daemon write to the new files through
# the postrotate `ilchatctl log-reopen` (no copytruncate: nothing is lost or cut). The paths,
# the user and the ilchatctl binary of the shipped file are pointed at a scratch folder, the test
# user and the build tree; every other line is used as shipped.
# shellcheck source=tests/packaging/lib.sh
. "$(dirname "$0")/lib.sh"
conf=$source_dir/etc/logrotate.d/ilchatd
command -v logrotate >/dev/null || fail "logrotate is not installed (Debian package logrotate, role test)"
[ -x "$ilchatd_bin" ] && [ -x "$ilchatctl_bin" ] || fail "build the binaries first ($build_dir)"

grep -qE '^[^#]*copytruncate' "$conf" && fail "$conf uses copytruncate"
grep -qE '^[[:space:]]+/usr/local/bin/ilchatctl log-reopen' "$conf" || fail "$conf: postrotate does not run ilchatctl log-reopen"

log=$work/log
mkdir -p "$log"
user=$(id -un)
group=$(id -gn)
substitute() {
  local from=$1 to=$2
  grep -qF -- "$from" "$work/ilchatd.logrotate" || fail "$conf no longer contains '$from'; update this test"
  sed -i "s#$from#$to#g" "$work/ilchatd.logrotate"
}
cp "$conf" "$work/ilchatd.logrotate"
substitute /var/log/ilchatd/ "$log/"
substitute /run/ilchatd/admin.sock "$work/admin.sock"
substitute /usr/local/bin/ilchatctl "$ilchatctl_bin"
substitute "create 0640 ilchatd ilchatd" "create 0640 $user $group"
substitute "su ilchatd ilchatd" "su $user $group"

# The daemon, logging to the two files, with its admin socket where the postrotate looks.
database=ilias_pkg_logrotate
create_database "$database"
port=$(free_port)
cat >"$work/server.cfg" <<EOF
{"protocol": "http", "port": $port, "address": "127.0.0.1", "log": "$log/chat.log", "error_log": "$log/chat_errors.log",
 "admin_socket": "$work/admin.sock", "metrics_address": ""}
EOF
cat >"$work/client.cfg" <<EOF
{"name": "ilias", "auth": {"key": "k", "secret": "s"},
 "database": {"type": "mysql", "host": "$mariadb_dir/mysqld.sock", "port": 0, "name": "$database", "user": "ilchat", "pass": "$(mariadb_password)"}}
EOF

# Dry run: no error, both files considered, nothing changed (the daemon is not running yet, so
# the files are missing: missingok).
out=$(logrotate -d -s "$work/state" "$work/ilchatd.logrotate" 2>&1) || fail "logrotate -d:"$'\n'"$out"
grep -q '^error' <<<"$out" && fail "logrotate -d reports errors:"$'\n'"$out"
grep -qF "$log/chat.log" <<<"$out" && grep -qF "$log/chat_errors.log" <<<"$out" || fail "logrotate -d does not consider both files:"$'\n'"$out"
ok "logrotate -d: the configuration is accepted"

"$ilchatd_bin" "$work/server.cfg" "$work/client.cfg" >"$work/daemon.out" 2>&1 &
pid=$!
track "$pid"
wait_for_text "$log/chat.log" "The Server is Ready to use!" 15 || fail "ilchatd not ready:"$'\n'"$(cat "$work/daemon.out" "$log/chat.log")"
[ -f "$log/chat_errors.log" ] || fail "no chat_errors.log"

# What the daemon writes to: the paths of its open log files.
open_logs() { for fd in /proc/"$pid"/fd/*; do readlink "$fd" || true; done | { grep -F "$log/" || true; } | sort; }
before=$(open_logs)
[ "$before" = "$log/chat.log"$'\n'"$log/chat_errors.log" ] || fail "ilchatd has these log files open: $before"
dry=$(logrotate -d -s "$work/state" "$work/ilchatd.logrotate" 2>&1) || fail "logrotate -d with the files present:"$'\n'"$dry"
[ "$(open_logs)" = "$before" ] && [ ! -e "$log/chat.log-$(date +%Y%m%d)" ] || fail "logrotate -d changed something"

# A real rotation (forced, the files are young and small).
out=$(logrotate -f -v -s "$work/state" "$work/ilchatd.logrotate" 2>&1) || fail "logrotate -f:"$'\n'"$out"
rotated=$log/chat.log-$(date +%Y%m%d)
[ -f "$rotated" ] || fail "no $rotated after rotation:"$'\n'"$out"
grep -q "The Server is Ready to use!" "$rotated" || fail "the rotated file does not hold the old lines"
[ -f "$log/chat.log" ] && [ -f "$log/chat_errors.log" ] || fail "the new files were not created"
[ "$(stat -c %a "$log/chat.log")" = 640 ] || fail "new chat.log has mode $(stat -c %a "$log/chat.log"), not 0640"
after=$(open_logs)
[ "$after" = "$before" ] || fail "after log-reopen ilchatd writes to: $after"
for f in chat.log chat_errors.log; do
  inode_open=""
  for fd in /proc/"$pid"/fd/*; do
    if [ "$(readlink "$fd")" = "$log/$f" ]; then inode_open=$(stat -L -c %i "$fd"); fi
  done
  [ "$inode_open" = "$(stat -c %i "$log/$f")" ] || fail "ilchatd does not hold the new $f open"
done
ok "logrotate -f: files renamed, new ones created 0640, postrotate ilchatctl log-reopen moved the daemon to them"

# The next lines go to the new file only.
kill -TERM "$pid"
set +e
wait "$pid"
code=$?
set -e
[ "$code" -eq 0 ] || fail "ilchatd exit $code"
grep -q "Server stopped" "$log/chat.log" || fail "the last lines did not reach the new chat.log"
grep -q "Server stopped" "$rotated" && fail "lines went to the rotated file after the rotation"
ok "after the rotation the daemon's lines go to the new chat.log"

# Without a running daemon the postrotate skips quietly (no admin socket).
mkdir "$work/first-rotation"
mv "$log"/*-"$(date +%Y%m%d)" "$work/first-rotation/"  # dateext: one rotation per day and name
echo "line" >>"$log/chat.log"
out=$(logrotate -f -s "$work/state2" "$work/ilchatd.logrotate" 2>&1) || fail "logrotate -f without a daemon:"$'\n'"$out"
ok "without a running daemon the rotation succeeds (postrotate skipped)"

echo "all $checks checks passed"
