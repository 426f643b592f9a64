#!/usr/bin/env bash
# systemd/ilchatd.service, ilchatd.sysusers and ilchatd.tmpfiles: `systemd-analyze verify` and
# `systemd-analyze security --offline=yes` (overall exposure 2.0 or better), the directives the
# daemon relies on, and sysusers/tmpfiles applied to a scratch root. The unit's binary paths
# (/usr/local/sbin/ilchatd, /usr/local/bin/ilchatctl, where `cmake --install` puts them) point
# at the build tree for the check. Skips, saying why, where systemd-analyze cannot run.
# shellcheck source=tests/packaging/lib.sh
. "$(dirname "$0")/lib.sh"
unit=$source_dir/systemd/ilchatd.service
sysusers=$source_dir/systemd/ilchatd.sysusers
tmpfiles=$source_dir/systemd/ilchatd.tmpfiles
max_exposure=2.0

# Static checks first: they need no systemd.
# shellcheck disable=SC2016 # $MAINPID is literal text of the unit
for directive in 'Type=notify' 'NotifyAccess=main' 'WatchdogSec=' 'ExecReload=/bin/kill -HUP $MAINPID' 'Restart=on-failure' \
  'User=ilchatd' 'RuntimeDirectory=ilchatd' 'LimitNOFILE=' 'NoNewPrivileges=yes' 'ProtectSystem=strict' 'ProtectHome=yes' \
  'PrivateTmp=yes' 'PrivateDevices=yes' 'ProtectKernelTunables=yes' 'ProtectKernelModules=yes' 'ProtectKernelLogs=yes' \
  'ProtectControlGroups=yes' 'ProtectClock=yes' 'ProtectHostname=yes' 'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6' \
  'RestrictNamespaces=yes' 'RestrictRealtime=yes' 'RestrictSUIDSGID=yes' 'LockPersonality=yes' 'MemoryDenyWriteExecute=yes' \
  'SystemCallFilter=@system-service' 'SystemCallArchitectures=native' 'CapabilityBoundingSet=' 'UMask=' \
  'ReadWritePaths=/var/log/ilchatd /var/lib/ilchatd'; do
  grep -qxF -- "$directive" "$unit" || grep -q "^${directive//\$/\\\$}" "$unit" || fail "$unit: $directive missing"
done
grep -qx 'CapabilityBoundingSet=' "$unit" || fail "$unit: CapabilityBoundingSet must be empty"
# The admin socket default of the daemon lives in the RuntimeDirectory.
keys=$("$ilchatctl_bin" config keys)
grep -q '/run/ilchatd/admin.sock' <<<"$keys" || fail "the default admin_socket is no longer /run/ilchatd/admin.sock"
# The unit's default arguments are the folder the tmpfiles entry creates.
grep -q 'ILCHATD_ARGS=/etc/ilchatd/server.cfg /etc/ilchatd/client.cfg' "$unit" && grep -q '^d /etc/ilchatd 0750 root ilchatd' "$tmpfiles" ||
  fail "unit and tmpfiles disagree on /etc/ilchatd"
ok "the unit has the notify/watchdog/reload/restart settings and the full hardening set"

command -v systemd-analyze >/dev/null || skip "systemd-analyze is not installed (Debian package systemd, role test, if-missing:systemd-analyze); the unit was NOT verified"

# The unit with the binaries of the build tree (verify checks that ExecStart= exists).
bin=$work/bin
mkdir -p "$bin" "$work/units"
ln -s "$ilchatd_bin" "$bin/ilchatd"
ln -s "$ilchatctl_bin" "$bin/ilchatctl"
sed -e "s#/usr/local/sbin/ilchatd#$bin/ilchatd#g" -e "s#/usr/local/bin/ilchatctl#$bin/ilchatctl#g" "$unit" >"$work/units/ilchatd.service"
grep -q "$bin/ilchatd" "$work/units/ilchatd.service" || fail "ExecStart no longer /usr/local/sbin/ilchatd"

if ! out=$(systemd-analyze verify --man=no "$work/units/ilchatd.service" 2>&1); then
  if grep -qiE 'Failed to (initialize|set up|allocate) manager|Operation not permitted|Read-only file system' <<<"$out"; then
    skip "systemd-analyze verify cannot run in this container: $out"
  fi
  fail "systemd-analyze verify:"$'\n'"$out"
fi
[ -z "$out" ] || fail "systemd-analyze verify warns:"$'\n'"$out"
ok "systemd-analyze verify: no findings"

if ! out=$(systemd-analyze security --offline=yes --no-pager "$work/units/ilchatd.service" 2>&1); then
  if ! grep -q 'Overall exposure level' <<<"$out"; then
    skip "systemd-analyze security --offline=yes cannot run here: $(tail -3 <<<"$out")"
  fi
fi
exposure=$(sed -n 's/.*Overall exposure level for ilchatd.service: \([0-9.]*\).*/\1/p' <<<"$out")
[ -n "$exposure" ] || fail "no exposure level in:"$'\n'"$out"
awk -v e="$exposure" -v m="$max_exposure" 'BEGIN { exit !(e <= m) }' ||
  fail "exposure $exposure is worse than $max_exposure:"$'\n'"$(grep '✗' <<<"$out")"
ok "systemd-analyze security --offline=yes: exposure $exposure (at most $max_exposure)"

# sysusers and tmpfiles applied to a scratch root: the user exists, /etc/ilchatd is root:ilchatd 0750.
root=$work/root
mkdir -p "$root/etc"
for f in passwd group shadow gshadow; do [ -f /etc/$f ] && cp /etc/$f "$root/etc/"; done
systemd-sysusers --root="$root" "$sysusers" >/dev/null 2>&1 || fail "systemd-sysusers $sysusers"
uid=$(awk -F: '$1 == "ilchatd" {print $3}' "$root/etc/passwd")
gid=$(awk -F: '$1 == "ilchatd" {print $3}' "$root/etc/group")
[ -n "$uid" ] && [ -n "$gid" ] || fail "sysusers did not create user and group ilchatd"
awk -F: '$1 == "ilchatd" {exit !($7 ~ /nologin$/)}' "$root/etc/passwd" || fail "user ilchatd has a login shell"
systemd-tmpfiles --root="$root" --create "$tmpfiles" >/dev/null 2>&1 || fail "systemd-tmpfiles $tmpfiles"
[ "$(stat -c '%u %g %a' "$root/etc/ilchatd")" = "0 $gid 750" ] || fail "/etc/ilchatd is $(stat -c '%u %g %a' "$root/etc/ilchatd")"
ok "sysusers creates ilchatd (uid $uid, no login); tmpfiles creates /etc/ilchatd root:ilchatd 0750"

echo "all $checks checks passed"
