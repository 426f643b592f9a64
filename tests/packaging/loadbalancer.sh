#!/usr/bin/env bash
# The load balancer files for several ilchatd (README, "Running several ilchatd"):
# etc/haproxy/ilchatd.cfg passes `haproxy -c` and, run for real on loopback in front of two
# stand-in nodes, keeps a client with its cookie on one node and gives one without a cookie;
# etc/nginx/ilchatd-cluster.conf passes `nginx -t`; etc/docker/compose-cluster.yml has Redis,
# HAProxy and two ilchatd of one cluster, and its substitutions still match the shipped file.
# The cluster itself behind HAProxy: tests/integration/cluster_balancer.test.mjs.
# shellcheck source=tests/packaging/lib.sh
. "$(dirname "$0")/lib.sh"
haproxy_conf=$source_dir/etc/haproxy/ilchatd.cfg
nginx_conf=$source_dir/etc/nginx/ilchatd-cluster.conf
compose=$source_dir/etc/docker/compose-cluster.yml
command -v haproxy >/dev/null || fail "haproxy is not installed (Debian package haproxy, role test)"
command -v nginx >/dev/null || fail "nginx is not installed (Debian package nginx, role test)"

# --- HAProxy: the file as shipped is valid.
haproxy -c -q -f "$haproxy_conf" || fail "haproxy -c $haproxy_conf"
grep -qE '^\s*cookie ILCHATD insert' "$haproxy_conf" || fail "$haproxy_conf: no cookie stickiness"
grep -qE '^\s*option httpchk GET /readyz' "$haproxy_conf" || fail "$haproxy_conf: no /readyz health check"
ok "etc/haproxy/ilchatd.cfg: haproxy -c, cookie stickiness, /readyz check"

# --- HAProxy for real: two stand-in nodes that say who they are and answer /readyz.
node_server() {  # NAME PORT
  python3 - "$1" "$2" <<'PY' &
import http.server, sys
name, port = sys.argv[1], int(sys.argv[2])
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"ready" if self.path == "/readyz" else name.encode()
        self.send_response(200)
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
}
front=$(free_port)
p1=$(free_port)
p2=$(free_port)
node_server node1 "$p1"
node_server node2 "$p2"
# The shipped file with the stand-ins as servers (each answers /readyz on its own port) and
# without what needs root (chroot, user, the stats socket, syslog).
sed -e "s/^\(\s*bind\s\).*/\1127.0.0.1:$front/" \
    -e "s/127.0.0.1:8081 cookie node1 port 9464/127.0.0.1:$p1 cookie node1 port $p1/" \
    -e "s/127.0.0.1:8082 cookie node2 port 9465/127.0.0.1:$p2 cookie node2 port $p2/" \
    -e '/^\s*chroot/d' -e '/^\s*user /d' -e '/^\s*group /d' -e '/^\s*daemon/d' -e '/^\s*stats socket/d' \
    -e '/^\s*log /d' -e 's/inter 2s fall 2 rise 2/inter 200ms fall 2 rise 1/' \
    "$haproxy_conf" >"$work/haproxy.cfg"
grep -q "cookie node1 port $p1" "$work/haproxy.cfg" || fail "$haproxy_conf: the server lines changed; update this test"
haproxy -db -f "$work/haproxy.cfg" >"$work/haproxy.log" 2>&1 &
track $!
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$front/x" >/dev/null 2>&1 && break; sleep 0.1; done
headers=$(curl -fsS -D - -o /dev/null "http://127.0.0.1:$front/socket.io/?EIO=4&transport=polling") ||
  fail "no answer through HAProxy: $(cat "$work/haproxy.log")"
cookie=$(printf '%s' "$headers" | tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: \(ILCHATD=[^;]*\).*/\1/p')
[ -n "$cookie" ] || fail "a first request gets no ILCHATD cookie: $headers"
ok "a client without a cookie gets one ($cookie)"
first=$(curl -fsS -H "Cookie: $cookie" "http://127.0.0.1:$front/socket.io/")
for _ in $(seq 20); do
  [ "$(curl -fsS -H "Cookie: $cookie" "http://127.0.0.1:$front/socket.io/")" = "$first" ] ||
    fail "a request with $cookie left $first"
done
seen=$(for _ in $(seq 20); do curl -fsS "http://127.0.0.1:$front/backend/Heartbeat/x"; echo; done | sort -u | wc -l)
[ "$seen" -eq 2 ] || fail "requests without a cookie (PHP's backend calls) reach $seen node(s), expected both"
ok "a client with the cookie sticks to one node; requests without one are spread over both"

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
sed -i -e "s#/etc/ssl/certs/chat.example.org.pem#$work/nginx/cert.pem#" \
  -e "s#/etc/ssl/private/chat.example.org.key#$work/nginx/key.pem#" "$work/nginx/conf.d/ilchatd-cluster.conf"
nginx -t -q -p "$work/nginx" -c "$work/nginx/nginx.conf" 2>"$work/nginx/t.log" || fail "nginx -t: $(cat "$work/nginx/t.log")"
grep -qE '^\s*hash \$remote_addr consistent;' "$nginx_conf" || fail "$nginx_conf: no client-address stickiness"
ok "etc/nginx/ilchatd-cluster.conf: nginx -t, client-address stickiness"

# --- The compose file: the services, one Redis for both nodes, substitutions that match.
/usr/bin/python3 - "$compose" "$haproxy_conf" <<'PY' || fail "$compose"
import re, sys, yaml
compose = yaml.safe_load(open(sys.argv[1]))
services = compose["services"]
missing = {"redis", "haproxy", "ilchatd-1", "ilchatd-2"} - services.keys()
assert not missing, f"services missing: {missing}"
nodes = [services[n]["environment"] for n in ("ilchatd-1", "ilchatd-2")]
assert nodes[0]["ILCHATD_CLUSTER_NODE"] != nodes[1]["ILCHATD_CLUSTER_NODE"], "two nodes with one name"
assert {n["ILCHATD_CLUSTER_REDIS"] for n in nodes} == {"redis://redis:6379"}, "both nodes on the redis service"
assert all(n["ILCHATD_METRICS_ADDRESS"].startswith("0.0.0.0:") for n in nodes), "/readyz reachable for HAProxy"
text = " ".join(services["haproxy"]["command"])
shipped = open(sys.argv[2]).read()
for pattern in re.findall(r"-e 's/([^/]+)/", text):
    assert pattern in shipped, f"haproxy: '{pattern}' no longer occurs in the shipped file"
print("compose ok:", ", ".join(sorted(services)))
PY
ok "etc/docker/compose-cluster.yml: redis, haproxy, two ilchatd of one cluster; substitutions match"

echo "all $checks checks passed"
