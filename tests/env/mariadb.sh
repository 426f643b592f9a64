#!/usr/bin/env bash
# A private MariaDB server for the demo and the tests: its data directory and socket live in
# DIR (under the build folder); no TCP port, never the system instance.
#   tests/env/mariadb.sh start DIR              start it, or reuse it when already running
#   tests/env/mariadb.sh stop DIR
#   tests/env/mariadb.sh create-db DIR NAME SCHEMA.sql [MORE.sql ...]
#                                               (re)create database NAME from the files, usable
#                                               by user ilchat (password in DIR/ilchat.password)
#   tests/env/mariadb.sh sql DIR [ARGS...]      the mariadb client as root on that socket
set -euo pipefail

cmd=${1:?usage: mariadb.sh start|stop|create-db|sql DIR ...}
dir=${2:?mariadb.sh: DIR missing}
shift 2
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
socket="$dir/mysqld.sock"
pidfile="$dir/mysqld.pid"

if [ ${#socket} -ge 100 ]; then
  echo "mariadb.sh: socket path $socket is too long for a Unix socket; use a shorter build folder" >&2
  exit 2
fi

client() { mariadb --no-defaults --socket="$socket" -uroot "$@"; }
alive() { mariadb-admin --no-defaults --socket="$socket" -uroot --connect-timeout=2 ping >/dev/null 2>&1; }

start() {
  if alive; then return 0; fi
  if [ ! -d "$dir/data/mysql" ]; then
    mariadb-install-db --no-defaults --datadir="$dir/data" --user="$(id -un)" \
      --auth-root-authentication-method=normal --skip-test-db >"$dir/install.log" 2>&1 ||
      { cat "$dir/install.log" >&2; exit 1; }
  fi
  # setsid: the server outlives this script and ignores the terminal's Ctrl-C.
  setsid mariadbd --no-defaults --datadir="$dir/data" --socket="$socket" --pid-file="$pidfile" \
    --skip-networking --user="$(id -un)" --log-error="$dir/mariadb.err" \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
    --innodb-buffer-pool-size=128M --innodb-flush-log-at-trx-commit=2 </dev/null >/dev/null 2>&1 &
  for _ in $(seq 1 120); do
    if alive; then
      [ -f "$dir/ilchat.password" ] || head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/ilchat.password"
      client -e "CREATE USER IF NOT EXISTS 'ilchat'@'localhost' IDENTIFIED BY '$(cat "$dir/ilchat.password")'"
      return 0
    fi
    sleep 0.5
  done
  echo "mariadb.sh: MariaDB did not start; its log:" >&2
  tail -n 30 "$dir/mariadb.err" >&2 || true
  exit 1
}

stop() {
  alive || return 0
  mariadb-admin --no-defaults --socket="$socket" -uroot shutdown
}

create_db() {
  local name=${1:?mariadb.sh create-db: NAME missing}
  shift
  client -e "DROP DATABASE IF EXISTS \`$name\`; CREATE DATABASE \`$name\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci; GRANT ALL ON \`$name\`.* TO 'ilchat'@'localhost'"
  for file in "$@"; do client "$name" <"$file"; done
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  create-db) create_db "$@" ;;
  sql) client "$@" ;;
  *) echo "mariadb.sh: unknown command '$cmd'" >&2; exit 2 ;;
esac
