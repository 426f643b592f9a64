#!/usr/bin/env bash
# The load balancer files for several ilchatd (README, "Running several ilchatd"):
# etc/haproxy/ilchatd.cfg passes `haproxy -c` and, run for real on loopback in front of two
# stand-in nodes, gives a client without a cookie one naming the node that answered, keeps a
# client with its cookie on that node, spreads requests without a cookie (PHP's backend calls)
# over both, stops sending anything to a node whose /readyz answers 503 (its clients get the
# other node's cookie) and takes it back when it is ready again, and sends a request whose sid
# names a node ("<cluster.node>.…") there without any cookie. etc/nginx/ilchatd-cluster.conf
# passes `nginx -t` and routes by the sid's node. etc/docker/compose-cluster.yml has Redis, HAProxy and two ilchatd of one cluster,
# its start-up substitutions still match the shipped file and their result passes `haproxy -c`.
# The cluster itself behind HAProxy: tests/integration/cluster_balancer.test.mjs.
# shellcheck source=tests/packaging/lib.sh
. "$(dirname "$0")/lib.sh"
haproxy_conf=$source_dir/etc/haproxy/ilchatd.cfg
nginx_conf=$source_dir/etc/nginx/ilchatd-cluster.conf
compose=$source_dir/etc/docker/compose-cluster.yml
command -v haproxy >/dev/null || fail "haproxy is not installed (Debian package haproxy, role test)"
command -v nginx >/dev/null || fail "nginx is not installed (Debian package nginx, role test)"
command -v curl >/dev/null || fail "curl is not installed (Debian package curl, role test)"
command -v openssl >/dev/null || fail "openssl is not installed (Debian package openssl, role test)"
command -v python3 >/dev/null || fail "python3 is not installed"
/usr/bin/python3 -c 'import yaml' 2>/dev/null || fail "python3-yaml is not installed (Debian package python3-yaml, role test)"

# --- HAProxy: the file as shipped is valid and has what the cluster needs.
haproxy -c -q -f "$haproxy_conf" || fail "haproxy -c $haproxy_conf"
grep -qE '^\s*cookie ILCHATD insert indirect nocache' "$haproxy_conf" || fail "$haproxy_conf: no cookie stickiness"
grep -qE '^\s*option httpchk GET /readyz' "$haproxy_conf" || fail "$haproxy_conf: no /readyz health check"
grep -qE '^\s*server node1 127\.0\.0\.1:8081 .*port 9464' "$haproxy_conf" || fail "$haproxy_conf: node1's server line changed; update this test"
# An idle websocket or a parked poll is silent for up to ping_interval + ping_timeout (45 s).
for kind in client server tunnel; do
  value=$(sed -n "s/^\s*timeout $kind \([0-9]*\)\([smh]\)\s*$/\1 \2/p" "$haproxy_conf")
  [ -n "$value" ] || fail "$haproxy_conf: no 'timeout $kind' in seconds, minutes or hours"
  read -r number unit <<<"$value"
  case $unit in s) seconds=$number ;; m) seconds=$((number * 60)) ;; h) seconds=$((number * 3600)) ;; esac
  [ "$seconds" -gt 45 ] || fail "$haproxy_conf: timeout $kind ${number}$unit is not above ping_interval + ping_timeout (45 s)"
done
ok "etc/haproxy/ilchatd.cfg: haproxy -c, cookie stickiness, /readyz check, timeouts above 45 s"

# --- HAProxy for real: two stand-in nodes that say who they are and answer /readyz, with 503
# while the file NAME.down exists in the test's folder.
node_server() {  # NAME PORT
  python3 - "$1" "$2" "$work" <<'PY' &
import http.server, os, sys
name, port, work = sys.argv[1], int(sys.argv[2]), sys.argv[3]
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        status, body = 200, name.encode()
        if self.path == "/readyz":
            down = os.path.exists(os.path.join(work, name + ".down"))
            status, body = (503, b"not ready") if down else (200, b"ready")
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
class Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, address):
        pass  # HAProxy's health checks hang up without waiting for the rest
Server(("127.0.0.1", port), Handler).serve_forever()
PY
  track $!
  disown $!  # killed at exit by lib.sh, without a "Killed" line from bash
}
p1=$(free_port)
p2=$(free_port)
node_server node1 "$p1"
node_server node2 "$p2"

# The shipped file with the stand-ins as servers (each answers /readyz on its own port), faster
# checks, and without what needs root (chroot, user, the stats socket, syslog).
balancer_config() {  # FRONT-PORT OUTPUT
  sed -e "s/^\(\s*bind\s\).*/\1127.0.0.1:$1/" \
      -e "s/127.0.0.1:8081 cookie node1 port 9464/127.0.0.1:$p1 cookie node1 port $p1/" \
      -e "s/127.0.0.1:8082 cookie node2 port 9465/127.0.0.1:$p2 cookie node2 port $p2/" \
      -e '/^\s*chroot/d' -e '/^\s*user /d' -e '/^\s*group /d' -e '/^\s*daemon/d' -e '/^\s*stats socket/d' \
      -e '/^\s*log /d' -e 's/inter 2s fall 2 rise 2/inter 200ms fall 2 rise 1/' \
      "$haproxy_conf" >"$2"
  if ! { grep -q "cookie node1 port $p1" "$2" && grep -q "cookie node2 port $p2" "$2" && grep -q 'inter 200ms' "$2"; }; then
    fail "$haproxy_conf: the server or default-server lines changed; update this test"
  fi
}
start_balancer() {  # CONFIG LOG FRONT-PORT
  haproxy -db -f "$1" >"$2" 2>&1 &
  track $!
  disown $!
  for _ in $(seq 50); do
    curl -fs "http://127.0.0.1:$3/x" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  fail "HAProxy does not answer on 127.0.0.1:$3: $(cat "$2")"
}
front=$(free_port)
url=http://127.0.0.1:$front
balancer_config "$front" "$work/haproxy.cfg"
start_balancer "$work/haproxy.cfg" "$work/haproxy.log" "$front"

# ask [CURL-ARGS...]: the answering node's name in $answer, the cookie HAProxy set (if any) in
# $set_cookie.
ask() {
  local headers
  headers=$(curl -fsS -D - -o "$work/body" "$@" "$url/socket.io/?EIO=4&transport=polling") ||
    fail "no answer through HAProxy: $(cat "$work"/haproxy*.log)"
  set_cookie=$(printf '%s' "$headers" | tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: \(ILCHATD=[^;]*\).*/\1/p')
  answer=$(cat "$work/body")
}

# A first request gets a cookie naming the node that answered it.
ask
node=$answer
[ -n "$set_cookie" ] || fail "a first request gets no ILCHATD cookie"
[ "$set_cookie" = "ILCHATD=$node" ] || fail "$node answered, but the cookie is $set_cookie"
ok "a client without a cookie gets one ($set_cookie, from $node)"

# Every node's cookie keeps its client there; requests without one reach both nodes.
declare -A cookie_of
for _ in $(seq 20); do
  ask
  cookie_of[$answer]=$set_cookie
done
[ "${#cookie_of[@]}" -eq 2 ] || fail "requests without a cookie (PHP's backend calls) reach only ${!cookie_of[*]}, expected both"
for node in node1 node2; do
  for _ in $(seq 10); do
    ask -H "Cookie: ${cookie_of[$node]}"
    [ "$answer" = "$node" ] || fail "a request with ${cookie_of[$node]} went to $answer"
    [ -z "$set_cookie" ] || fail "a request with ${cookie_of[$node]} got another cookie: $set_cookie"
  done
done
ok "a client with the cookie sticks to one node (node1 and node2 alike); requests without one are spread over both"

# A node whose /readyz answers 503 (Redis away, catching up) gets nothing new, and its clients
# are sent to the other node with that node's cookie; ready again, it is used again.
touch "$work/node2.down"
moved=
for _ in $(seq 100); do
  ask -H "Cookie: ${cookie_of[node2]}"
  if [ "$answer" = node1 ]; then moved=$set_cookie; break; fi
  sleep 0.1
done
[ "$moved" = ILCHATD=node1 ] || fail "node2's /readyz answers 503, yet its client stays there (cookie: '$moved')"
for _ in $(seq 10); do
  ask
  [ "$answer" = node1 ] || fail "a node whose /readyz answers 503 still gets new clients"
done
rm "$work/node2.down"
back=
for _ in $(seq 100); do
  ask -H "Cookie: ${cookie_of[node2]}"
  if [ "$answer" = node2 ]; then back=yes; break; fi
  sleep 0.1
done
[ -n "$back" ] || fail "node2 ready again, but its cookie does not bring clients there"
ok "a node whose /readyz answers 503 gets no requests, its clients get the other node's cookie; ready again, it is used again"

# A chat on another origin than ILIAS's pages: no cookie reaches HAProxy, the sid names the node
# ("<cluster.node>.<random>"): every request naming a session reaches its node.
for node in node1 node2; do
  for _ in $(seq 10); do
    answer=$(curl -fsS "$url/socket.io/?EIO=4&transport=polling&sid=$node.AbC-dEf_123") || fail "no answer through HAProxy"
    [ "$answer" = "$node" ] || fail "a request with sid $node.… and no cookie went to $answer"
  done
done
ok "a request naming a session by its sid, without a cookie, reaches the session's node (node1 and node2 alike)"

# --- nginx: the cluster file in nginx's http context, as /etc/nginx/conf.d/ would include it.
mkdir -p "$work/nginx/logs" "$work/nginx/conf.d"
cp "$nginx_conf" "$work/nginx/conf.d/ilchatd-cluster.conf"
cat >"$work/nginx/nginx.conf" <<CONF
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log;
events {}
http {
    access_log off;
    client_body_temp_path $work/nginx/body;
    proxy_temp_path $work/nginx/proxy;
    fastcgi_temp_path $work/nginx/fastcgi;
    uwsgi_temp_path $work/nginx/uwsgi;
    scgi_temp_path $work/nginx/scgi;
    include $work/nginx/conf.d/*.conf;
}
CONF
# The certificate paths of the file, made for the check.
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=chat.example.org \
  -keyout "$work/nginx/key.pem" -out "$work/nginx/cert.pem" >/dev/null 2>&1 || fail "openssl req"
for path in /etc/ssl/certs/chat.example.org.pem /etc/ssl/private/chat.example.org.key; do
  grep -qF "$path" "$nginx_conf" || fail "$nginx_conf no longer names $path; update this test"
done
sed -i -e "s#/etc/ssl/certs/chat.example.org.pem#$work/nginx/cert.pem#" \
  -e "s#/etc/ssl/private/chat.example.org.key#$work/nginx/key.pem#" "$work/nginx/conf.d/ilchatd-cluster.conf"
nginx -t -q -p "$work/nginx" -c "$work/nginx/nginx.conf" 2>"$work/nginx/t.log" || fail "nginx -t: $(cat "$work/nginx/t.log")"
# shellcheck disable=SC2016 # nginx variables, not shell ones
{
  grep -qE '^\s*map \$arg_sid \$ilchatd_node' "$nginx_conf" || fail "$nginx_conf: no routing by the sid's node"
  grep -qE '^\s*~\^node1\\\.\s+127\.0\.0\.1:8081;' "$nginx_conf" || fail "$nginx_conf: node1's sid line changed; update this test"
  grep -qE '^\s*proxy_pass http://\$ilchatd_node;' "$nginx_conf" || fail "$nginx_conf: proxy_pass does not use the sid's node"
  grep -qE '^\s*proxy_set_header Upgrade \$http_upgrade;' "$nginx_conf" || fail "$nginx_conf: no websocket Upgrade header"
  grep -qE '^\s*proxy_set_header Connection \$connection_upgrade;' "$nginx_conf" || fail "$nginx_conf: no websocket Connection header"
}
ok "etc/nginx/ilchatd-cluster.conf: nginx -t, routing by the sid's node, websocket upgrade"

# --- The compose file: the services, one Redis for both nodes, substitutions that match, and
# the HAProxy configuration they make passes `haproxy -c` (the service names do not resolve
# here; init-addr none lets HAProxy start without them, as it would before Docker's DNS has them).
/usr/bin/python3 - "$compose" "$haproxy_conf" "$work" <<'PY' || fail "$compose"
import re, sys, yaml
compose_file, shipped_file, work = sys.argv[1:4]
compose = yaml.safe_load(open(compose_file))
services = compose["services"]
missing = {"redis", "haproxy", "ilchatd-1", "ilchatd-2"} - services.keys()
assert not missing, f"services missing: {missing}"
assert services["redis"]["image"].startswith("redis:7"), "redis: the redis:7 image"
assert "healthcheck" in services["redis"], "redis: a healthcheck"
assert services["haproxy"]["image"] == "haproxy:2.6", "haproxy: the haproxy:2.6 image"
assert any(v.startswith("./etc/haproxy/ilchatd.cfg:") for v in services["haproxy"]["volumes"]), \
    "haproxy: mounts the shipped etc/haproxy/ilchatd.cfg"
nodes = [services[n] for n in ("ilchatd-1", "ilchatd-2")]
for node in nodes:
    assert node.get("build") == ".", "the nodes are built from the repository's Dockerfile"
    assert node["depends_on"]["redis"]["condition"] == "service_healthy", "the nodes wait for Redis"
env = [node["environment"] for node in nodes]
assert env[0]["ILCHATD_CLUSTER_NODE"] != env[1]["ILCHATD_CLUSTER_NODE"], "two nodes with one name"
assert {e["ILCHATD_CLUSTER_REDIS"] for e in env} == {"redis://redis:6379"}, "both nodes on the redis service"
assert all(e["ILCHATD_METRICS_ADDRESS"] == "0.0.0.0:9464" for e in env), "/readyz reachable for HAProxy on 9464"
assert all(str(e["ILIAS_CHAT_PORT"]) == "27019" and e["ILIAS_CHAT_ADDRESS"] == "0.0.0.0" for e in env), \
    "the nodes listen on 0.0.0.0:27019"
script = services["haproxy"]["command"][-1]
shipped = open(shipped_file).read()
# Every s<d>pattern<d>... of the sed is a fixed string that must still be in the shipped file.
for delimiter, pattern in re.findall(r"-e 's(.)(.+?)\1", script):
    literal = pattern.replace("\\" + delimiter, delimiter)
    assert literal in shipped, f"haproxy: '{literal}' no longer occurs in the shipped file"
for name in ("ilchatd-1:27019 cookie node1", "ilchatd-2:27019 cookie node2"):
    assert name in script, f"haproxy: no server {name}"
# The command as the container runs it, with this machine's paths and `haproxy -c`.
script = script.replace("/etc/ilchatd-balancer/ilchatd.cfg", shipped_file)
script = script.replace("/tmp/haproxy.cfg", work + "/haproxy-compose.cfg")
assert "exec haproxy -W -db -f" in script, "haproxy: the command no longer ends in exec haproxy -W -db -f"
script = script.replace("exec haproxy -W -db -f", "exec haproxy -c -f")
open(work + "/haproxy-compose.sh", "w").write(script)
print("compose ok:", ", ".join(sorted(services)))
PY
sh "$work/haproxy-compose.sh" >"$work/haproxy-compose.log" 2>&1 ||
  fail "haproxy -c on the compose file's HAProxy configuration: $(cat "$work/haproxy-compose.log")"
for line in 'server node1 ilchatd-1:27019 cookie node1 port 9464' 'server node2 ilchatd-2:27019 cookie node2 port 9464'; do
  grep -qF "$line" "$work/haproxy-compose.cfg" ||
    fail "the compose file's substitutions did not make '$line': $(grep server "$work/haproxy-compose.cfg")"
done
ok "etc/docker/compose-cluster.yml: redis, haproxy, two ilchatd of one cluster; substitutions match; haproxy -c on the result"

echo "all $checks checks passed"
