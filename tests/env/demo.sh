#!/usr/bin/env bash
# The README's first command: builds ilchatd and runs it in the foreground on 127.0.0.1:27019
# against a private MariaDB holding the ILIAS chat tables and a few demo rooms. Ctrl-C stops
# it. Safe to run again.
source "$(dirname "${BASH_SOURCE[0]}")/prepare.sh"

mariadb_dir="$build/mariadb"
"$root/tests/env/mariadb.sh" create-db "$mariadb_dir" ilias_demo \
  "$root/tests/sql/ilias-schema.sql" "$root/tests/sql/demo-data.sql"

demo_dir="$build/demo"
mkdir -p "$demo_dir"
ILIAS_CHAT_DB_HOST="$mariadb_dir/mysqld.sock" ILIAS_CHAT_DB_NAME=ilias_demo ILIAS_CHAT_DB_USER=ilchat \
ILIAS_CHAT_DB_PASS="$(cat "$mariadb_dir/ilchat.password")" \
  "$build/ctl/ilchatctl" init --env-file "$root/etc/ilchat.env.example" --output-dir "$demo_dir" --force
# The admin socket and the spool live beside the demo's files, so that every live command works
# without root (the defaults are /run/ilchatd and /var/lib/ilchatd, the systemd unit's folders).
python3 - "$demo_dir" <<'PY'
import json, sys
path = sys.argv[1] + "/server.cfg"
with open(path, encoding="utf-8-sig") as f:
    cfg = json.load(f)
cfg.update(admin_socket=sys.argv[1] + "/admin.sock", spool_dir=sys.argv[1] + "/spool")
with open(path, "w") as f:
    json.dump(cfg, f, indent=4)
PY

echo "ilchatd on http://127.0.0.1:27019 - try: curl http://127.0.0.1:27019/backend/Heartbeat/demo"
echo "and, in another shell: $build/ctl/ilchatctl status --socket $demo_dir/admin.sock"
exec "$build/daemon/ilchatd" "$demo_dir/server.cfg" "$demo_dir/client.cfg"
