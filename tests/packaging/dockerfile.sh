#!/usr/bin/env bash
# The container files without a Docker engine: the Dockerfile takes its packages from the one
# list (etc/debian-packages.txt through tests/env/packages.sh) and lists none itself; the run
# packages provide every shared library of the two binaries, and CA certificates; the runtime
# stage starts as root for the entrypoint, which drops to the service user, leaves the old
# image's folders to mounts, and has port, volumes, health check and an exec-form entrypoint;
# docker-compose.yml refers to files that exist and its start-up substitutions match the shipped
# files.
# shellcheck source=tests/packaging/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$source_dir"
dockerfile=Dockerfile
list=etc/debian-packages.txt
[ -f "$dockerfile" ] || fail "no top-level Dockerfile"

# --- The package list itself: "name role... [if-missing:cmd]", roles build, test, run.
while read -r name rest; do
  case "$name" in '' | '#'*) continue ;; esac
  [ -n "$rest" ] || fail "$list: $name has no role"
  for word in $rest; do
    case "$word" in build | test | run | if-missing:?*) ;; *) fail "$list: $name: unknown role '$word'" ;; esac
  done
done <"$list"
dupes=$(grep -v '^#' "$list" | awk 'NF {print $1}' | sort | uniq -d)
[ -z "$dupes" ] || fail "$list lists twice: $dupes"
ok "$list: one package per line, roles build/test/run"

# Packages the operations tests run (role test).
test_packages=$(tests/env/packages.sh list test)
for pkg in nginx apache2 prometheus logrotate openssl shellcheck strace python3-yaml; do
  grep -qx "$pkg" <<<"$test_packages" || fail "$list: $pkg (used by the packaging tests) is not listed with role test"
done
ok "the packages of the operations tests are listed with role test"

# --- The Dockerfile installs through packages.sh only.
if grep -nE '(apt-get|apt|aptitude)[[:space:]]+(-[^[:space:]]+[[:space:]]+)*install|dpkg[[:space:]]+-i' "$dockerfile"; then
  fail "$dockerfile installs packages itself; use tests/env/packages.sh install ROLE"
fi
stages=$(grep -cE '^FROM[[:space:]]+debian:bookworm([[:space:]]|$)' "$dockerfile")
[ "$(grep -cE '^FROM' "$dockerfile")" -eq 2 ] && [ "$stages" -eq 2 ] || fail "$dockerfile: expected two stages FROM debian:bookworm"
# Stage bodies: the build stage ends where the second FROM begins.
runtime_from=$(grep -nE '^FROM' "$dockerfile" | sed -n 2p | cut -d: -f1)
build_stage=$(head -n $((runtime_from - 1)) "$dockerfile")
runtime_stage=$(tail -n +"$runtime_from" "$dockerfile")
check_stage() {
  local what=$1 body=$2 role=$3 copy_list copy_script run_line
  copy_list=$(grep -nE '^COPY[[:space:]]+etc/debian-packages\.txt[[:space:]]' <<<"$body" | head -1 | cut -d: -f1)
  copy_script=$(grep -nE '^COPY[[:space:]]+tests/env/packages\.sh[[:space:]]' <<<"$body" | head -1 | cut -d: -f1)
  run_line=$(grep -nE "^RUN[[:space:]].*tests/env/packages\.sh install $role( |$|&)" <<<"$body" | head -1 | cut -d: -f1)
  [ -n "$copy_list" ] && [ -n "$copy_script" ] || fail "$what stage: COPY etc/debian-packages.txt and tests/env/packages.sh first"
  [ -n "$run_line" ] || fail "$what stage: no RUN .../tests/env/packages.sh install $role"
  [ "$copy_list" -lt "$run_line" ] && [ "$copy_script" -lt "$run_line" ] || fail "$what stage: the list must be copied before it is used"
  if grep -qE 'packages\.sh install .*\b(build|test|run)\b.*\b(build|test|run)\b' <<<"$body"; then
    fail "$what stage installs more than its role $role"
  fi
}
check_stage build "$build_stage" build
check_stage runtime "$runtime_stage" run
grep -q 'packages.sh install test' "$dockerfile" && fail "$dockerfile installs test packages"
ok "$dockerfile: both stages install from $list through tests/env/packages.sh (build, run), nothing else"

# Every COPY source of the build context exists and is not excluded by .dockerignore.
while read -r src; do
  [ -e "$src" ] || fail "$dockerfile: COPY source $src does not exist"
  while read -r pattern; do
    case "$pattern" in '' | '#'*) continue ;; esac
    p=${pattern%/}
    p=${p#\*\*/}
    case "$src" in "$p" | "$p"/* | */"$p" | */"$p"/*) [ "$src" = . ] || fail "$src is excluded by .dockerignore ($pattern)" ;; esac
  done <.dockerignore
done < <(grep -E '^COPY[[:space:]]' "$dockerfile" | grep -v -- '--from=' | awk '{print $2}')
ok "COPY sources exist in the build context"

# The runtime stage. It starts as root (no USER), as the uni-halle image did: the entrypoint gives
# the service user its folders and drops to it with setpriv, from util-linux, which every Debian
# image has (Essential).
grep -qE '^USER[[:space:]]' <<<"$runtime_stage" && fail "runtime stage sets USER: the entrypoint has to start as root to fix a mounted folder's owner"
grep -qE '^[[:space:]]*exec setpriv --reuid="\$uid" --regid="\$gid" --clear-groups ilchatd ' etc/docker/entrypoint.sh ||
  fail "etc/docker/entrypoint.sh does not drop to the service user with setpriv"
setpriv_package=$(dpkg -S "$(command -v setpriv)" | cut -d: -f1)
[ "$(dpkg-query -W -f='${Essential}' "$setpriv_package")" = yes ] ||
  fail "setpriv comes from $setpriv_package, which is not Essential: the runtime stage would have to install it"
grep -qE '^EXPOSE[[:space:]]+27019([[:space:]]|$)' <<<"$runtime_stage" || fail "runtime stage: EXPOSE 27019 missing"
grep -qE '^VOLUME.*"/etc/ilchatd"' <<<"$runtime_stage" && grep -qE '^VOLUME.*"/var/log/ilchatd"' <<<"$runtime_stage" &&
  grep -qE '^VOLUME.*"/var/lib/ilchatd"' <<<"$runtime_stage" ||
  fail "runtime stage: volumes /etc/ilchatd, /var/log/ilchatd and /var/lib/ilchatd (the spool)"
# The old image's /etc/chat and /var/log/chat win when mounted: only when the image neither sets
# the two variables nor has those folders (comments aside).
runtime_code=$(grep -v '^[[:space:]]*#' <<<"$runtime_stage")
grep -qE 'ILIAS_CHAT_(CONFIG|LOG)_DIR=' <<<"$runtime_code" && fail "runtime stage sets ILIAS_CHAT_CONFIG_DIR or ILIAS_CHAT_LOG_DIR: mounts at /etc/chat, /var/log/chat would be ignored"
grep -qE '(/etc/chat|/var/log/chat)([^[:alnum:]_.-]|$)' <<<"$runtime_code" &&
  fail "runtime stage creates /etc/chat or /var/log/chat"
healthcheck=$(sed -n '/^HEALTHCHECK/,/[^\\]$/p' <<<"$runtime_stage" | tr -d '\\\n')
grep -q 'CMD docker-entrypoint.sh app:health' <<<"$healthcheck" || fail "HEALTHCHECK does not use the entrypoint's app:health (ilchatctl health on the files in use)"
grep -qE '^ENTRYPOINT \["/usr/local/bin/docker-entrypoint.sh"\]' <<<"$runtime_stage" || fail "ENTRYPOINT is not the exec-form entrypoint"
grep -qE '^COPY etc/docker/entrypoint.sh /usr/local/bin/docker-entrypoint.sh' <<<"$runtime_stage" || fail "entrypoint not copied"
grep -qE '^COPY --from=build .*/ilchatd /usr/local/sbin/ilchatd$' <<<"$runtime_stage" || fail "ilchatd not copied from the build stage"
grep -qE '^COPY --from=build .*/ilchatctl /usr/local/bin/ilchatctl$' <<<"$runtime_stage" || fail "ilchatctl not copied from the build stage"
grep -qE '^STOPSIGNAL SIGTERM' <<<"$runtime_stage" || fail "STOPSIGNAL SIGTERM missing"
ok "runtime stage: starts as root and the entrypoint drops with setpriv ($setpriv_package), EXPOSE 27019, volumes, old folders left to mounts, HEALTHCHECK through the entrypoint, exec-form entrypoint"

# ilchatctl health verifies an https server's certificate against the system's CAs.
grep -qx ca-certificates <<<"$(tests/env/packages.sh list run)" || fail "$list: ca-certificates is not a run package (the runtime stage has no CA certificates)"
ok "runtime stage: ca-certificates among the run packages"

# --- The run packages provide every shared library the binaries load (their Depends count).
[ -x "$ilchatd_bin" ] && [ -x "$ilchatctl_bin" ] || fail "build the binaries first ($build_dir)"
run_packages=$(tests/env/packages.sh list run)
# shellcheck disable=SC2086 # one word per package
closure=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces \
  --no-enhances $run_packages 2>/dev/null | grep -vE '^[[:space:]]|<' | sed 's/:.*//' | sort -u)
for pkg in $run_packages; do
  grep -qx "$pkg" <<<"$closure" || fail "$list: run package $pkg is unknown to apt (Debian 12)"
done
libraries=""
for binary in "$ilchatd_bin" "$ilchatctl_bin"; do
  out=$(ldd "$binary")
  grep -q 'not found' <<<"$out" && fail "$binary: a library is not found: $(grep 'not found' <<<"$out")"
  libraries+=$(awk '/=> \// {print $3}' <<<"$out")$'\n'
done
while read -r lib; do
  [ -n "$lib" ] || continue
  real=$(readlink -f "$lib")
  owner=$(dpkg -S "$real" 2>/dev/null || dpkg -S "$lib" 2>/dev/null || dpkg -S "/usr$real" 2>/dev/null || true)
  [ -n "$owner" ] || fail "$lib (loaded by ilchatd or ilchatctl) belongs to no Debian package"
  pkg=${owner%%:*}
  grep -qx "$pkg" <<<"$closure" || fail "ilchatd or ilchatctl needs $lib from $pkg, which the run packages do not bring"
done < <(sort -u <<<"$libraries")
ok "the run packages ($(wc -w <<<"$run_packages") listed, $(wc -l <<<"$closure") with dependencies) provide every library of ilchatd and ilchatctl"

# --- The entrypoint script is POSIX sh (Debian's dash) and passes shellcheck.
sh -n etc/docker/entrypoint.sh || fail "etc/docker/entrypoint.sh: syntax error"
command -v shellcheck >/dev/null || fail "shellcheck is not installed (Debian package shellcheck, role test)"
shellcheck -s sh etc/docker/entrypoint.sh || fail "shellcheck etc/docker/entrypoint.sh"
ok "etc/docker/entrypoint.sh: sh -n and shellcheck"

# --- docker-compose.yml: the four services, files that exist, substitutions that still match.
/usr/bin/python3 - docker-compose.yml <<'PY' || fail "docker-compose.yml"
import os, re, sys, yaml
compose = yaml.safe_load(open(sys.argv[1]))
services = compose["services"]
missing = {"ilchatd", "mariadb", "nginx", "prometheus"} - services.keys()
assert not missing, f"services missing: {missing}"
assert services["ilchatd"]["build"] == ".", "ilchatd is built from this Dockerfile"
for name, service in services.items():
    for volume in service.get("volumes", []):
        source = volume.split(":")[0]
        if source.startswith("./") and not source.startswith("./certs/"):
            assert os.path.exists(source), f"{name}: {source} does not exist"
        elif not source.startswith("./"):
            assert source in (compose.get("volumes") or {}), f"{name}: named volume {source} not declared"
# Each sed 's/FROM/TO/' of a start-up command must match the shipped file it edits.
shipped = {"nginx": "etc/nginx/ilchatd.conf", "prometheus": "monitoring/prometheus/scrape.yml"}
for name, path in shipped.items():
    service = services[name]
    text = " ".join(service.get("command") or []) + " " + " ".join(service.get("entrypoint") or [])
    seds = re.findall(r"""sed ["']s/([^/]+)/""", text)
    assert seds, f"{name}: no substitution found"
    for pattern in seds:
        assert pattern.replace("\\", "") in open(path).read(), f"{name}: '{pattern}' no longer occurs in {path}"
print("compose ok:", ", ".join(sorted(services)))
PY
ok "docker-compose.yml: ilchatd, mariadb, nginx, prometheus; mounted files exist; substitutions match the shipped files"

echo "all $checks checks passed"
