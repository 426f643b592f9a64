# shellcheck shell=bash disable=SC2034
# Shared helpers of the packaging tests (sourced). Each test prints what it checks; `fail` stops
# with exit 1, `skip` with exit 77 (ctest's SKIP_RETURN_CODE), naming the reason.
set -euo pipefail

# nginx, apache2, logrotate live in sbin, which a normal user's PATH may lack.
PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin
source_dir=${ILCHAT_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
build_dir=${ILCHAT_BUILD_DIR:-$source_dir/build}
mariadb_dir=${ILCHAT_MARIADB_DIR:-$build_dir/mariadb}
ilchatd_bin=$build_dir/daemon/ilchatd
ilchatctl_bin=$build_dir/ctl/ilchatctl

checks=0
ok() { checks=$((checks + 1)); echo "ok: $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
note() { echo "note: $*"; }

# A temporary folder removed on exit; stops the processes registered with `track`.
work=$(mktemp -d "${TMPDIR:-/tmp}/ilchat-pkg-XXXXXX")
tracked=()
track() { tracked+=("$1"); }
cleanup() {
  local pid
  for pid in "${tracked[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

# Waits until FILE contains TEXT (fixed string), at most SECONDS.
wait_for_text() {
  local file=$1 text=$2 seconds=${3:-15} i
  for ((i = 0; i < seconds * 10; i++)); do
    if [ -f "$file" ] && grep -qF -- "$text" "$file"; then return 0; fi
    sleep 0.1
  done
  return 1
}

# (Re)creates database NAME with the ILIAS schema and demo rows in the private MariaDB.
create_database() {
  "$source_dir/tests/env/mariadb.sh" create-db "$mariadb_dir" "$1" \
    "$source_dir/tests/sql/ilias-schema.sql" "$source_dir/tests/sql/demo-data.sql" >/dev/null
}
mariadb_password() { cat "$mariadb_dir/ilchat.password"; }
