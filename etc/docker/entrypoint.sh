#!/bin/sh
# Entrypoint of the ilchatd container image, compatible with the uni-halle/ilias-chatserver-docker
# image: the same ILIAS_CHAT_* variables and the same ILIAS_AUTO_CONFIGURE rule.
#
#   (no arguments), app:serve   write server.cfg / client.cfg when missing, then exec ilchatd
#   -FLAG ...                   the same, with the flags passed to ilchatd (e.g. --check-config)
#   anything else               executed as given (e.g. `ilchatctl config keys`, `sh`)
#
# Files (in ILIAS_CHAT_CONFIG_DIR, default /etc/ilchatd): each of server.cfg and client.cfg is
# written with `ilchatctl init` when it does not exist, and both are rewritten on every start when
# ILIAS_AUTO_CONFIGURE is set (to any value, even empty or 0, as in the uni-halle image). Existing
# files are used as they are otherwise, e.g. files mounted from ILIAS's data directory.
#
# Variables of this script only:
#   ILCHATD_METRICS_ADDRESS  metrics_address written into a generated server.cfg (default: the
#                            daemon's 127.0.0.1:9464; 0.0.0.0:9464 lets Prometheus scrape it)
#   ILCHATD_ADMIN_SOCKET     admin_socket written into a generated server.cfg
# ilchatd and ilchatctl are looked up on PATH.
set -eu

config_dir=${ILIAS_CHAT_CONFIG_DIR:-/etc/ilchatd}
server_cfg=$config_dir/server.cfg
client_cfg=$config_dir/client.cfg

say() { echo "entrypoint: $*" >&2; }

# Sets one string key of a server.cfg written by `ilchatctl init` (pretty-printed JSON, one key per
# line): replaces the key's line, or adds it after the opening "{" when it is not there.
set_server_key() {
  file=$1 key=$2 value=$3
  if ! printf '%s' "$value" | grep -q '^[][A-Za-z0-9_.:/@%+=-]*$'; then
    say "$key: only letters, digits and _.:/@%+=-[] are allowed here: $value"
    return 1
  fi
  if grep -q "^    \"$key\": " "$file"; then
    sed -i "s|^    \"$key\": \"[^\"]*\"|    \"$key\": \"$value\"|" "$file"
  else
    sed -i "1s|^{\$|{\\n    \"$key\": \"$value\",|" "$file"
  fi
  grep -qF -- "    \"$key\": \"$value\"" "$file" || { say "could not set $key in $file"; return 1; }
}

configure() {
  auto=no
  [ -n "${ILIAS_AUTO_CONFIGURE+set}" ] && auto=yes
  write_server=no write_client=no
  if [ "$auto" = yes ] || [ ! -e "$server_cfg" ]; then write_server=yes; fi
  if [ "$auto" = yes ] || [ ! -e "$client_cfg" ]; then write_client=yes; fi
  if [ "$write_server" = no ] && [ "$write_client" = no ]; then
    say "using the existing $server_cfg and $client_cfg"
    return 0
  fi
  if [ ! -d "$config_dir" ]; then
    mkdir -p "$config_dir" || { say "cannot create $config_dir"; return 1; }
  fi
  # Generated beside the final files, then renamed over them: a failure leaves nothing half written.
  work=$(mktemp -d "$config_dir/.init.XXXXXX") || { say "cannot write into $config_dir (owner, mode, read-only volume?)"; return 1; }
  # With client.cfg kept, only server.cfg is wanted: the client variables are not needed then.
  set +e
  if [ "$write_client" = yes ]; then
    ilchatctl init -o "$work" >/dev/null
  else
    ILIAS_CHAT_CLIENT_NAME=${ILIAS_CHAT_CLIENT_NAME:-unused} ILIAS_CHAT_AUTH_KEY=${ILIAS_CHAT_AUTH_KEY:-unused} \
      ILIAS_CHAT_AUTH_SECRET=${ILIAS_CHAT_AUTH_SECRET:-unused} ILIAS_CHAT_DB_HOST=${ILIAS_CHAT_DB_HOST:-unused} \
      ILIAS_CHAT_DB_NAME=${ILIAS_CHAT_DB_NAME:-unused} ILIAS_CHAT_DB_USER=${ILIAS_CHAT_DB_USER:-unused} \
      ILIAS_CHAT_DB_PASS=${ILIAS_CHAT_DB_PASS:-unused} ilchatctl init -o "$work" >/dev/null
  fi
  status=$?
  set -e
  if [ $status -ne 0 ]; then
    rm -rf "$work"
    say "cannot write the configuration into $config_dir (ilchatctl init failed, see above)."
    say "Set the ILIAS_CHAT_* variables (see \`ilchatctl init --help\`) or mount your own server.cfg and client.cfg into $config_dir."
    return 1
  fi
  if [ "$write_server" = yes ]; then
    if [ -n "${ILCHATD_METRICS_ADDRESS:-}" ]; then set_server_key "$work/server.cfg" metrics_address "$ILCHATD_METRICS_ADDRESS" || { rm -rf "$work"; return 1; }; fi
    if [ -n "${ILCHATD_ADMIN_SOCKET:-}" ]; then set_server_key "$work/server.cfg" admin_socket "$ILCHATD_ADMIN_SOCKET" || { rm -rf "$work"; return 1; }; fi
  fi
  why="it did not exist"
  [ "$auto" = yes ] && why="ILIAS_AUTO_CONFIGURE is set"
  for name in server client; do
    wanted=$write_server
    [ "$name" = client ] && wanted=$write_client
    if [ "$wanted" = yes ]; then
      # (Within `configure || exit 1` set -e does not apply: every failure returns by hand.)
      mv -f "$work/$name.cfg" "$config_dir/$name.cfg" || { say "cannot write $config_dir/$name.cfg"; rm -rf "$work"; return 1; }
      say "wrote $config_dir/$name.cfg ($why)"
    else
      say "kept the existing $config_dir/$name.cfg"
    fi
  done
  rm -rf "$work"
}

serve() {
  configure || exit 1
  # ilchatd creates missing log folders itself; its own checks report every problem at once.
  say "starting ilchatd${*:+ $*} $server_cfg $client_cfg"
  exec ilchatd "$@" "$server_cfg" "$client_cfg"
}

if [ $# -eq 0 ]; then
  serve
fi
case "$1" in
  app:serve) shift; serve "$@" ;;
  -*) serve "$@" ;;
  *) exec "$@" ;;
esac
