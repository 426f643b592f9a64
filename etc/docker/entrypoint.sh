#!/bin/sh
# Entrypoint of the ilchatd container image, compatible with the uni-halle/ilias-chatserver-docker
# image: the same ILIAS_CHAT_* variables, the same ILIAS_AUTO_CONFIGURE rule, the same folders
# when a compose file written for that image mounts them, and it starts as root like that one.
#
#   (no arguments), app:serve   write server.cfg / client.cfg when missing, give the service
#                               user what ilchatd writes, then exec ilchatd as that user
#   -FLAG ...                   the same, with the flags passed to ilchatd (e.g. --check-config)
#   app:health                  the HEALTHCHECK: `ilchatctl health` on the files ilchatd uses
#   anything else               executed as given, as the container's user (e.g. `sh`)
#
# Folders: the configuration is in ILIAS_CHAT_CONFIG_DIR and the logs go to ILIAS_CHAT_LOG_DIR
# (empty: stderr, i.e. `docker logs`). Unset, they are the old image's /etc/chat and /var/log/chat
# when those exist, i.e. are mounted (this image has neither), else /etc/ilchatd and
# /var/log/ilchatd.
#
# Files: each of server.cfg and client.cfg is written with `ilchatctl init` when it does not
# exist, and both are rewritten on every start when ILIAS_AUTO_CONFIGURE is set (to any value,
# even empty or 0, as in the uni-halle image). Existing files are used as they are otherwise, e.g.
# files mounted from ILIAS's data directory. `ilchatctl init --help` lists the variables, the
# ILCHATD_* ones for ilchatd's own server.cfg keys (ILCHATD_METRICS_ADDRESS, ...) included.
#
# Users: started as root (the image's default), the entrypoint gives the service user the folders
# ilchatd writes (those of log, error_log, spool_dir and admin_socket in the server.cfg in use,
# created when missing) and the files it writes there, e.g. a bind mount the Docker engine created
# as root, then drops to that user with setpriv. Started as another user (`docker run --user`), it
# checks those folders and names what to chown when one is not writable.
#
# Variables of this script only:
#   ILCHATD_RUN_AS      uid:gid of the service user (default 800:800, the image's ilchatd user,
#                       which the uni-halle image used too)
#   ILCHATD_IMAGE_ROOT  prefix of the fixed folders above (/etc/chat, /var/log/ilchatd, ...); for
#                       tests, empty in the image
# ilchatd, ilchatctl and setpriv are looked up on PATH.
set -eu

root=${ILCHATD_IMAGE_ROOT:-}
run_as=${ILCHATD_RUN_AS:-800:800}
uid=${run_as%%:*}
gid=${run_as#*:}

say() { echo "entrypoint: $*" >&2; }

# The old image's folder when it exists (mounted), else this image's.
pick() { if [ -d "$root$1" ]; then echo "$root$1"; else echo "$root$2"; fi; }

config_dir=${ILIAS_CHAT_CONFIG_DIR:-$(pick /etc/chat /etc/ilchatd)}
server_cfg=$config_dir/server.cfg
client_cfg=$config_dir/client.cfg

configure() {
  # Set but empty keeps its meaning for `ilchatctl init`: log to stderr.
  if [ -z "${ILIAS_CHAT_LOG_DIR+set}" ]; then
    ILIAS_CHAT_LOG_DIR=$(pick /var/log/chat /var/log/ilchatd)
    export ILIAS_CHAT_LOG_DIR
  fi
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
  why="it did not exist"
  [ "$auto" = yes ] && why="ILIAS_AUTO_CONFIGURE is set"
  for name in server client; do
    wanted=$write_server
    [ "$name" = client ] && wanted=$write_client
    if [ "$wanted" = yes ]; then
      # (Within `configure || exit 1` set -e does not apply: every failure returns by hand.)
      mv -f "$work/$name.cfg" "$config_dir/$name.cfg" || { say "cannot write $config_dir/$name.cfg"; rm -rf "$work"; return 1; }
      # Written by root with mode 0640: the service user has to own it to read it.
      if [ "$(id -u)" = 0 ]; then chown "$run_as" "$config_dir/$name.cfg" || { rm -rf "$work"; return 1; }; fi
      say "wrote $config_dir/$name.cfg ($why)"
    else
      say "kept the existing $config_dir/$name.cfg"
    fi
  done
  rm -rf "$work"
}

# Whether the user ilchatd runs as can write PATH.
service_can_write() {
  if [ "$(id -u)" = 0 ]; then
    setpriv --reuid="$uid" --regid="$gid" --clear-groups test -w "$1"
  else
    test -w "$1"
  fi
}

# Not root: names PATH as one to chown, once (the first time with what this is about); `prepare`
# then fails.
report_unwritable() {
  case "$unwritable" in *"
$1
"*) return 0 ;; esac
  if [ "$unwritable" = "$nl" ]; then
    say "uid $(id -u) (gid $(id -g)) cannot write what ilchatd writes. Give it to that user (on the host,"
    say "for a bind mount), or start the container as root, the image's default, which does so itself:"
  fi
  say "  chown $(id -u):$(id -g) $1"
  unwritable="$unwritable$1$nl"
}

# own FOLDER [FILE...]: lets the service user write FOLDER (created when missing) and those of
# the FILEs that exist; as root by changing their owner.
own() {
  folder=$1
  shift
  # shellcheck disable=SC2174 # the parents are not ilchatd's: they keep the usual mode
  if [ ! -d "$folder" ] && ! mkdir -p -m 0750 "$folder" 2>/dev/null; then
    # Not root: the nearest existing parent is what needs another owner.
    parent=$folder
    while [ ! -e "$parent" ]; do parent=$(dirname "$parent"); done
    report_unwritable "$parent"
    return 0
  fi
  for path in "$folder" "$@"; do
    [ -e "$path" ] || continue
    service_can_write "$path" && continue
    if [ "$(id -u)" = 0 ]; then
      was=$(stat -c %u:%g "$path")
      chown "$run_as" "$path" || return 1
      say "$path: owner $was -> $run_as, so that ilchatd can write it"
    else
      report_unwritable "$path"
    fi
  done
}

# The folders and files ilchatd writes, as the server.cfg in use names them. A configuration that
# cannot be read is left to ilchatd, which reports every problem in it.
prepare() {
  shown=$(ilchatctl config show "$server_cfg" "$client_cfg" 2>/dev/null) || return 0
  value() { printf '%s\n' "$shown" | sed -n "s/^$1  *= \"\\(.*\\)\".*/\\1/p" | head -1; }
  nl='
'
  unwritable=$nl  # the paths named so far, one a line
  for key in log error_log; do
    file=$(value $key)
    if [ -n "$file" ]; then own "$(dirname "$file")" "$file" || return 1; fi
  done
  spool=$(value spool_dir)
  if [ -n "$spool" ]; then own "$spool" "$spool"/*.spool || return 1; fi
  socket=$(value admin_socket)
  if [ -n "$socket" ]; then own "$(dirname "$socket")" || return 1; fi
  [ "$unwritable" = "$nl" ]
}

serve() {
  configure || exit 1
  prepare || exit 1
  say "starting ilchatd${*:+ $*} $server_cfg $client_cfg"
  if [ "$(id -u)" = 0 ]; then
    exec setpriv --reuid="$uid" --regid="$gid" --clear-groups ilchatd "$@" "$server_cfg" "$client_cfg"
  fi
  exec ilchatd "$@" "$server_cfg" "$client_cfg"
}

if [ $# -eq 0 ]; then
  serve
fi
# app:health asks 127.0.0.1 when ilchatd listens on every address; --insecure, since an https
# certificate names the public host, not 127.0.0.1.
case "$1" in
  app:serve) shift; serve "$@" ;;
  app:health) exec ilchatctl health --server-cfg "$server_cfg" --client-cfg "$client_cfg" --timeout 4 --insecure ;;
  -*) serve "$@" ;;
  *) exec "$@" ;;
esac
