#!/usr/bin/env bash
# The seccomp part of systemd/ilchatd.service's sandbox against what ilchatd really does, without
# systemd. A workload (start-up, ILIAS backend calls, a socket.io client with polling, upgrade and
# a room message on both namespaces, every admin command, SIGHUP, /metrics, /healthz, /readyz,
# the deletion job, SIGTERM) runs twice:
#   1. under strace: every system call made after exec must be in the unit's SystemCallFilter=
#      (its lines expanded with `systemd-analyze syscall-filter`), naming any that is not;
#   2. under a seccomp filter built from the unit as systemd builds it: that allow list (others
#      fail with SystemCallErrorNumber=), RestrictAddressFamilies= on socket(2) (others fail with
#      EAFNOSUPPORT), MemoryDenyWriteExecute= and SystemCallArchitectures=native; the workload
#      must work and the daemon must log no error and exit 0.
# The other settings (namespaces, read-only file system, capabilities) need systemd and are
# checked by systemd-analyze in packaging:systemd only.
# shellcheck source=tests/packaging/lib.sh
. "$(dirname "$0")/lib.sh"
unit=$source_dir/systemd/ilchatd.service
[ -x "$ilchatd_bin" ] && [ -x "$ilchatctl_bin" ] || fail "build the binaries first ($build_dir)"
command -v systemd-analyze >/dev/null || skip "systemd-analyze is not installed (Debian package systemd); the system call filter was NOT checked"
command -v strace >/dev/null || fail "strace is not installed (Debian package strace, role test)"
command -v cc >/dev/null || fail "no C compiler (Debian package build-essential, role build)"

# --- The unit's filter: the first line is an allow list; later ~lines remove, other lines add.
expand() {
  systemd-analyze syscall-filter --no-pager "$1" | sed '1d; s/#.*//' | awk 'NF {print $1}' | while read -r item; do
    case "$item" in @*) expand "$item" ;; *) echo "$item" ;; esac
  done
}
allowed=$work/allowed
: >"$allowed"
first=yes
while IFS= read -r line; do
  value=${line#SystemCallFilter=}
  remove=no
  case "$value" in '~'*) remove=yes; value=${value#\~} ;; esac
  [ "$first" = yes ] && [ "$remove" = yes ] && fail "the unit's first SystemCallFilter= is a deny list; this test expects an allow list"
  first=no
  for item in $value; do
    case "$item" in @*) expand "$item" ;; *) echo "$item" ;; esac
  done | sort -u >"$work/items"
  if [ "$remove" = yes ]; then comm -23 "$allowed" "$work/items" >"$work/next"; else sort -u "$allowed" "$work/items" >"$work/next"; fi
  mv "$work/next" "$allowed"
done < <(grep '^SystemCallFilter=' "$unit")
[ -s "$allowed" ] || fail "no SystemCallFilter= in $unit"
families=$(sed -n 's/^RestrictAddressFamilies=//p' "$unit")
errno_name=$(sed -n 's/^SystemCallErrorNumber=//p' "$unit")
[ -n "$families" ] && [ -n "$errno_name" ] || fail "the unit lacks RestrictAddressFamilies= or SystemCallErrorNumber="
grep -qx 'MemoryDenyWriteExecute=yes' "$unit" || fail "the unit lacks MemoryDenyWriteExecute=yes"
grep -qx 'SystemCallArchitectures=native' "$unit" || fail "the unit lacks SystemCallArchitectures=native"

# --- The workload; $1 names the run, $2... the command prefix (strace or the seccomp launcher).
database=ilias_pkg_sandbox
create_database "$database"
workload() {
  local name=$1
  shift
  local dir=$work/$name port pid launcher metrics_port code
  mkdir -p "$dir"
  port=$(free_port)
  cat >"$dir/server.cfg" <<EOF
{"protocol": "http", "port": $port, "address": "127.0.0.1", "log": "$dir/log/chat.log", "error_log": "$dir/log/chat_errors.log",
 "admin_socket": "$dir/admin.sock", "metrics_address": "127.0.0.1:0", "admin_group": "$(id -gn)",
 "deletion_mode": 1, "deletion_unit": "years", "deletion_value": 1, "deletion_time": "03:00",
 "ping_interval": 300, "ping_timeout": 2000}
EOF
  cat >"$dir/client.cfg" <<EOF
{"name": "ilias", "auth": {"key": "k", "secret": "s"},
 "database": {"type": "mysql", "host": "$mariadb_dir/mysqld.sock", "port": 0, "name": "$database", "user": "ilchat", "pass": "$(mariadb_password)"}}
EOF
  "$@" "$ilchatd_bin" "$dir/server.cfg" "$dir/client.cfg" >"$dir/daemon.out" 2>&1 &
  launcher=$!
  track "$launcher"
  wait_for_text "$dir/log/chat.log" "The Server is Ready to use!" 30 ||
    fail "$name: ilchatd not ready:"$'\n'"$(cat "$dir/daemon.out" "$dir/log/chat.log" 2>/dev/null)"
  pid=$(pgrep -P "$launcher" -x ilchatd || true)
  [ -n "$pid" ] || pid=$launcher
  metrics_port=$(sed -n 's#.*Metrics: http://127.0.0.1:\([0-9]*\)/metrics#\1#p' "$dir/log/chat.log" | head -1)
  for route in Heartbeat/ilias Connect/ilias/1/6 EnterPrivateRoom/ilias/1/6 GetRooms/ilias; do
    curl -sf -u k:s "http://127.0.0.1:$port/backend/$route" >/dev/null || fail "$name: backend $route"
  done
  for path in /metrics /healthz /readyz; do curl -sf "http://127.0.0.1:$metrics_port$path" >/dev/null || fail "$name: $path"; done
  # A browser: polling, upgrade to websocket, login, enter the room, its message back; the IM
  # namespace on the same session.
  ILCHAT_URL="http://127.0.0.1:$port" node --input-type=module -e "
    import { Manager } from '$source_dir/tests/integration/node_modules/socket.io-client/build/esm-debug/index.js';
    const m = new Manager(process.env.ILCHAT_URL, { reconnection: false });
    const room = m.socket('/ilias'), im = m.socket('/ilias-im');
    setTimeout(() => { console.error('socket.io workload timed out'); process.exit(1); }, 15000);
    const upgraded = new Promise((r) => m.engine.once('upgrade', r));
    room.on('connect', () => room.emit('login', 'root', 6));
    room.on('loggedIn', () => room.emit('enterRoom', 1));
    room.on('private_room_entered', async () => { await upgraded; room.emit('message', { content: 'sandbox', format: {} }, 1); });
    room.on('message', (msg) => { if (msg.content === 'sandbox') { room.disconnect(); im.disconnect(); m.engine.close(); process.exit(0); } });
  " || fail "$name: socket.io workload"
  for command in status stats namespaces rooms connections log-reopen reload purge-now; do
    "$ilchatctl_bin" "$command" --socket "$dir/admin.sock" >/dev/null || fail "$name: ilchatctl $command"
  done
  "$ilchatctl_bin" log-level debug --socket "$dir/admin.sock" >/dev/null || fail "$name: ilchatctl log-level"
  kill -HUP "$pid"
  sleep 0.5
  curl -sf "http://127.0.0.1:$port/backend/Heartbeat/ilias" >/dev/null || fail "$name: not serving after SIGHUP"
  kill -TERM "$pid"
  set +e
  wait "$launcher"
  code=$?
  set -e
  [ "$code" -eq 0 ] || fail "$name: exit $code:"$'\n'"$(tail -20 "$dir/log/chat.log")"$'\n'"$(tail -5 "$dir/daemon.out")"
  if grep -q ' ERROR - ' "$dir/log/chat.log"; then fail "$name: errors logged:"$'\n'"$(grep ' ERROR - ' "$dir/log/chat.log")"; fi
  grep -q 'Server stopped' "$dir/log/chat.log" || fail "$name: no clean stop"
}

# --- 1. strace: which system calls ilchatd makes.
if strace -f -qq -o /dev/null true 2>/dev/null; then
  workload traced strace -f -qq -o "$work/trace"
  # From the daemon's execve on (systemd applies the filter from there).
  sed -E 's/^[0-9]+ +//' "$work/trace" | sed -n '/^execve(/,$p' | sed -E 's/^(<\.\.\. )?([a-z_0-9]+)\(.*/\2/' |
    grep -E '^[a-z_0-9]+$' | sort -u >"$work/used"
  denied=$(comm -23 "$work/used" "$allowed")
  [ -z "$denied" ] || fail "ilchatd makes system calls the unit's SystemCallFilter= denies: $(tr '\n' ' ' <<<"$denied")"
  ok "strace: $(wc -l <"$work/used") distinct system calls, all in the unit's SystemCallFilter= ($(wc -l <"$allowed") allowed)"
  used_families=$(grep -oE 'socket\((AF_[A-Z0-9]+)' "$work/trace" | sed 's/socket(//' | sort -u | tr '\n' ' ')
  note "socket families opened: $used_families(RestrictAddressFamilies=$families; others get EAFNOSUPPORT, see run 2)"
else
  note "strace cannot trace here (ptrace not permitted); only the seccomp run checks the filter"
fi

# --- 2. The same workload under the unit's seccomp rules.
{
  cat <<'EOF'
/* Runs a command under a seccomp filter built from ilchatd.service, as systemd would apply it. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#if defined(__x86_64__)
#define NATIVE AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE AUDIT_ARCH_AARCH64
#else
#error "add this architecture"
#endif
#define LOAD(field) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, field))
#define RET(value) BPF_STMT(BPF_RET | BPF_K, (value))
#define ALLOW_NR(nr) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), RET(SECCOMP_RET_ALLOW)
int main(int argc, char** argv) {
  struct sock_filter filter[] = {
    LOAD(arch),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE, 1, 0),
    RET(SECCOMP_RET_KILL_PROCESS),
    LOAD(nr),
    /* socket(2): only the families of RestrictAddressFamilies=. */
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 0, FAMILY_COUNT + 3),
    LOAD(args[0]),
FAMILIES
    RET(SECCOMP_RET_ERRNO | EAFNOSUPPORT),
    RET(SECCOMP_RET_ALLOW),
    /* MemoryDenyWriteExecute=: no writable+executable mapping, no mprotect to executable. */
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mmap, 0, 4),
    LOAD(args[2]),
    BPF_STMT(BPF_ALU | BPF_AND | BPF_K, PROT_WRITE | PROT_EXEC),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PROT_WRITE | PROT_EXEC, 0, 1),
    RET(SECCOMP_RET_ERRNO | EPERM),
    LOAD(nr),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mprotect, 0, 3),
    LOAD(args[2]),
    BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, PROT_EXEC, 0, 1),
    RET(SECCOMP_RET_ERRNO | EPERM),
    LOAD(nr),
    /* SystemCallFilter=: the allow list; everything else fails with SystemCallErrorNumber=. */
SYSCALLS
    RET(SECCOMP_RET_ERRNO | (DENY_ERRNO)),
  };
  struct sock_fprog program = {sizeof filter / sizeof filter[0], filter};
  if (argc < 2) { fprintf(stderr, "usage: sandbox COMMAND...\n"); return 2; }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) { perror("PR_SET_NO_NEW_PRIVS"); return 2; }
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0) { perror("PR_SET_SECCOMP"); return 2; }
  execv(argv[1], argv + 1);
  perror("execv");
  return 127;
}
EOF
} >"$work/sandbox.template.c"
count=0
family_lines=""
for family in $families; do
  count=$((count + 1))
  family_lines+="    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, $family, FAMILY_JUMP_$count, 0),"$'\n'
done
# Each family jump lands on the RET(ALLOW) after the EAFNOSUPPORT return.
for ((i = 1; i <= count; i++)); do family_lines=${family_lines/FAMILY_JUMP_$i/$((count - i + 1))}; done
syscall_lines=$(while read -r name; do printf '#ifdef __NR_%s\n    ALLOW_NR(__NR_%s),\n#endif\n' "$name" "$name"; done <"$allowed")
awk -v families="$family_lines" -v syscalls="$syscall_lines" \
  '$0 == "FAMILIES" {printf "%s", families; next} $0 == "SYSCALLS" {print syscalls; next} {print}' \
  "$work/sandbox.template.c" | sed "s/FAMILY_COUNT/$count/; s/DENY_ERRNO/$errno_name/" >"$work/sandbox.c"
cc -O1 -Wall -o "$work/sandbox" "$work/sandbox.c" || fail "cannot build the seccomp launcher"
# The launcher itself: a denied family fails with EAFNOSUPPORT, a denied call with the errno.
probe=$("$work/sandbox" /usr/bin/python3 -c '
import ctypes, errno, os, socket
out = []
try:
    socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0); out.append("netlink allowed")
except OSError as e:
    out.append("netlink " + errno.errorcode[e.errno])
libc = ctypes.CDLL(None, use_errno=True)
out.append("reboot " + errno.errorcode[ctypes.get_errno()] if libc.syscall(169, 0, 0, 0, 0) != 0 else "reboot allowed")
print(" ".join(out))' 2>&1) || true
[ "$probe" = "netlink EAFNOSUPPORT reboot $errno_name" ] || fail "the seccomp launcher does not behave like the unit: $probe"
workload seccomp "$work/sandbox"
ok "under the unit's seccomp rules (SystemCallFilter=, RestrictAddressFamilies=$families, MemoryDenyWriteExecute=, native only) the whole workload works, no error logged, exit 0"

echo "all $checks checks passed"
