#!/usr/bin/env bash
# Prints or installs the Debian packages of etc/debian-packages.txt for the given roles.
#   tests/env/packages.sh list build test     names, one per line
#   tests/env/packages.sh install build test  apt-get installs the missing ones (root or sudo)
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
list_file="$here/etc/debian-packages.txt"

mode=${1:?usage: packages.sh list|install ROLE...}
shift
[ $# -gt 0 ] || { echo "packages.sh: name at least one role (build, test, run)" >&2; exit 2; }

wanted() {
  local roles=" $* "
  while read -r name rest; do
    case "$name" in ''|'#'*) continue ;; esac
    local skip_if="" match=no
    for word in $rest; do
      case "$word" in
        if-missing:*) skip_if=${word#if-missing:} ;;
        *) [[ "$roles" == *" $word "* ]] && match=yes ;;
      esac
    done
    [ "$match" = yes ] || continue
    if [ -n "$skip_if" ] && command -v "$skip_if" >/dev/null 2>&1; then continue; fi
    echo "$name"
  done < "$list_file"
}

case "$mode" in
  list) wanted "$@" ;;
  install)
    missing=()
    for pkg in $(wanted "$@"); do
      dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && exit 0
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    echo "Installing: ${missing[*]}" >&2
    # These are tools for the build and the tests, which run private instances: the system
    # services some packages bring (mariadb, nginx, apache2, prometheus) are not started now
    # (policy-rc.d 101, as Debian's container images have it), so that they neither take ports
    # such as 80 from each other nor run unasked. An existing policy is left alone.
    policy=/usr/sbin/policy-rc.d
    if [ ! -e "$policy" ]; then
      $sudo sh -c "printf '#!/bin/sh\\nexit 101\\n' >$policy && chmod 755 $policy"
      trap '$sudo rm -f "$policy"' EXIT
    fi
    $sudo apt-get update
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
    ;;
  *) echo "packages.sh: unknown mode '$mode' (list or install)" >&2; exit 2 ;;
esac
