// The shipped reverse-proxy configurations (etc/nginx/ilchatd.conf, etc/apache/ilchatd.conf) in
// front of a real ilchatd: a real nginx and a real Apache httpd run as foreground processes with
// their own prefix, configuration, pid and log files in a temporary folder, on free loopback
// ports, with TLS (a throw-away certificate for 127.0.0.1). Only the listen ports, the upstream
// port and the certificate paths of the shipped files are replaced; every other line is used as
// shipped. Through them: the ILIAS backend calls (Heartbeat, Connect with Basic auth), `ilchatctl
// health`, and socket.io-client 4.8 as ILIAS's browsers use it (polling, upgrade to websocket,
// both namespaces on one session, server pings, a room message round trip).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { Manager } from 'socket.io-client';
import {
  createDatabase, freePort, ilchatctl, recordEvents, run, sourceDir, startDaemon, tempDir, writeConfig,
} from './harness.mjs';

const nginxConf = path.join(sourceDir, 'etc', 'nginx', 'ilchatd.conf');
const apacheConf = path.join(sourceDir, 'etc', 'apache', 'ilchatd.conf');
const apacheModules = '/usr/lib/apache2/modules';
const credentials = { key: 'key-0', secret: 'secret-0' };
// Fast heartbeats, so that server pings arrive within the test; the shipped timeouts are checked
// against the defaults separately.
const timers = { ping_interval: 400, ping_timeout: 2000 };
const defaultPingSeconds = (25000 + 20000) / 1000;

const which = (command) => spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).stdout.trim();
const delay = (ms) => new Promise((r) => setTimeout(r, ms));
// nginx and apache2 live in sbin, which a normal user's PATH may lack.
process.env.PATH = `${process.env.PATH}:/usr/local/sbin:/usr/sbin:/sbin`;

// Replaces each [from, to] (string or RegExp) and insists that each matched, so that a changed
// shipped file fails here instead of being tested half.
function substitute(text, replacements, file) {
  for (const [from, to] of replacements) {
    const matched = typeof from === 'string' ? text.includes(from) : from.test(text);
    assert.ok(matched, `${file} no longer contains ${from}; update this test`);
    text = typeof from === 'string' ? text.split(from).join(to) : text.replace(from, to);
  }
  return text;
}

// A self-signed certificate for 127.0.0.1 (subjectAltName IP), trusted by the test's clients.
function makeCertificate(dir) {
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  return { cert, key, ca: readFileSync(cert) };
}

function waitForPort(port, child, output, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (child.exitCode !== null || child.signalCode !== null) {
        reject(new Error(`proxy exited (${child.exitCode ?? child.signalCode}):\n${output()}`));
        return;
      }
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => { socket.destroy(); resolve(); });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`proxy not listening on ${port}:\n${output()}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

// Runs a proxy as a foreground child process; resolves once both of its ports accept.
async function startProxy(command, args, dir, ports, logFiles) {
  const child = spawn(command, args, { cwd: dir });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  const exited = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  const logs = () => output + logFiles.map((f) => { try { return `\n--- ${f}\n${readFileSync(f, 'utf8')}`; } catch { return ''; } }).join('');
  for (const port of ports) await waitForPort(port, child, logs);
  return {
    logs,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const exit = await Promise.race([exited, delay(5000).then(() => null)]);
      if (!exit) child.kill('SIGKILL');
      return exited;
    },
  };
}

const runningAsRoot = process.getuid?.() === 0;

// nginx with the shipped file included in its http context, as /etc/nginx/conf.d/ would.
async function startNginx(dir, { httpsPort, httpPort, upstreamPort, tls }) {
  const site = substitute(readFileSync(nginxConf, 'utf8'), [
    ['listen 443 ssl;', `listen 127.0.0.1:${httpsPort} ssl;`],
    ['listen [::]:443 ssl;', ''],
    ['listen 80;', `listen 127.0.0.1:${httpPort};`],
    ['listen [::]:80;', ''],
    ['server 127.0.0.1:27019;', `server 127.0.0.1:${upstreamPort};`],
    ['/etc/ssl/certs/chat.example.org.pem', tls.cert],
    ['/etc/ssl/private/chat.example.org.key', tls.key],
  ], nginxConf);
  writeFileSync(path.join(dir, 'ilchatd.conf'), site);
  mkdirSync(path.join(dir, 'temp'));
  const main = path.join(dir, 'nginx.conf');
  writeFileSync(main, `daemon off;
worker_processes 1;
${runningAsRoot ? 'user root root;' : ''}
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 256; }
http {
    access_log ${dir}/access.log;
    client_body_temp_path ${dir}/temp/body;
    proxy_temp_path ${dir}/temp/proxy;
    fastcgi_temp_path ${dir}/temp/fastcgi;
    uwsgi_temp_path ${dir}/temp/uwsgi;
    scgi_temp_path ${dir}/temp/scgi;
    include ${dir}/ilchatd.conf;
}
`);
  const args = ['-p', `${dir}/`, '-c', main, '-e', `${dir}/error.log`];
  const check = await run('nginx', [...args, '-t']);
  assert.equal(check.code, 0, `nginx -t:\n${check.stdout}${check.stderr}`);
  return startProxy('nginx', args, dir, [httpsPort, httpPort], [`${dir}/error.log`]);
}

// Apache httpd with the modules the file names (a2enmod ssl proxy proxy_http headers) and the
// shipped file included, as a2ensite would.
async function startApache(dir, { httpsPort, httpPort, upstreamPort, tls }) {
  const site = substitute(readFileSync(apacheConf, 'utf8'), [
    ['<VirtualHost *:443>', `<VirtualHost 127.0.0.1:${httpsPort}>`],
    ['<VirtualHost *:80>', `<VirtualHost 127.0.0.1:${httpPort}>`],
    [/127\.0\.0\.1:27019\//g, `127.0.0.1:${upstreamPort}/`],
    ['/etc/ssl/certs/chat.example.org.pem', tls.cert],
    ['/etc/ssl/private/chat.example.org.key', tls.key],
  ], apacheConf);
  writeFileSync(path.join(dir, 'ilchatd.conf'), site);
  chmodSync(dir, 0o755);  // the children run as www-data when started by root
  const modules = ['mpm_event', 'authz_core', 'alias', 'headers', 'ssl', 'socache_shmcb', 'proxy', 'proxy_http'];
  const main = path.join(dir, 'httpd.conf');
  writeFileSync(main, `ServerRoot ${dir}
ServerName 127.0.0.1
Listen 127.0.0.1:${httpsPort}
Listen 127.0.0.1:${httpPort}
PidFile ${dir}/httpd.pid
ErrorLog ${dir}/error.log
LogLevel warn
DefaultRuntimeDir ${dir}
${runningAsRoot ? 'User www-data\nGroup www-data' : ''}
${modules.map((m) => `LoadModule ${m}_module ${apacheModules}/mod_${m}.so`).join('\n')}
LogFormat "%h %r %>s" short
CustomLog ${dir}/access.log short
Include ${dir}/ilchatd.conf
`);
  const check = await run('apache2', ['-t', '-f', main]);
  assert.equal(check.code, 0, `apache2 -t:\n${check.stdout}${check.stderr}`);
  return startProxy('apache2', ['-DFOREGROUND', '-f', main], dir, [httpsPort, httpPort], [`${dir}/error.log`]);
}

// GET /backend/<route> through the proxy, as ILIAS PHP sends it (Connection: close, Basic auth).
function backendGet(port, route, { ca, auth, agent = false } = {}) {
  const headers = { Connection: agent ? 'keep-alive' : 'close', 'Content-Type': 'application/json; charset=utf-8' };
  if (auth) headers.Authorization = `Basic ${Buffer.from(`${auth.key}:${auth.secret}`).toString('base64')}`;
  return new Promise((resolve, reject) => {
    const request = https.request({ host: '127.0.0.1', port, path: `/backend/${route}`, method: 'GET', headers, ca, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    request.on('error', reject);
    request.setTimeout(5000, () => request.destroy(new Error(`GET /backend/${route} timed out`)));
    request.end();
  });
}

function plainGet(port, pathname) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: pathname, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers }));
    }).on('error', reject);
  });
}

function waitFor(emitter, event, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const handler = (...args) => { clearTimeout(timer); resolve(args); };
    const timer = setTimeout(() => { emitter.off(event, handler); reject(new Error(`no '${event}' within ${timeoutMs} ms`)); }, timeoutMs);
    emitter.once(event, handler);
  });
}

function connected(socket, timeoutMs = 5000) {
  if (socket.connected) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${socket.nsp} not connected within ${timeoutMs} ms`)), timeoutMs);
    socket.once('connect', () => { clearTimeout(timer); resolve(); });
    socket.once('connect_error', (e) => { clearTimeout(timer); reject(new Error(`connect_error on ${socket.nsp}: ${e.message}`)); });
  });
}

function upgraded(engine, timeoutMs = 5000) {
  if (engine.transport.name === 'websocket') return Promise.resolve();
  return waitFor(engine, 'upgrade', timeoutMs);
}

const proxies = {
  nginx: { binary: 'nginx', package: 'nginx', start: startNginx },
  apache: { binary: 'apache2', package: 'apache2', start: startApache },
};

for (const [kind, proxy] of Object.entries(proxies)) {
  const missing = !which(proxy.binary) && `${proxy.binary} is not installed (Debian package ${proxy.package}, role test in etc/debian-packages.txt)`;
  if (missing && kind === 'nginx') throw new Error(missing);  // nginx is required
  describe(`${kind} in front of ilchatd`, { skip: missing }, () => {
    const database = `ilias_it_proxy_${kind}`;
    let daemon;
    let front;
    let ports;
    let tls;
    const managers = new Set();
    const url = () => `https://127.0.0.1:${ports.https}`;

    // A browser: one Manager (one Engine.IO session) as ILIAS's page has; default transports.
    const browser = (opts = {}) => {
      const m = new Manager(url(), { reconnection: false, ca: tls.ca, ...opts });
      managers.add(m);
      return m;
    };

    before(async () => {
      createDatabase(database);
      const dir = tempDir(`ilchat-proxy-${kind}-`);
      tls = makeCertificate(dir);
      ports = { daemon: await freePort(), https: await freePort(), http: await freePort() };
      const { serverPath, clientPaths } = writeConfig(dir, {
        port: ports.daemon, server: timers, clients: [{ database: { name: database } }],
      });
      daemon = await startDaemon(serverPath, clientPaths);
      const proxyDir = path.join(dir, kind);
      mkdirSync(proxyDir);
      front = await proxy.start(proxyDir, { httpsPort: ports.https, httpPort: ports.http, upstreamPort: ports.daemon, tls });
    });

    after(async () => {
      for (const m of managers) {
        for (const socket of Object.values(m.nsps)) socket.disconnect();
        m.disconnect();
      }
      await front?.stop();
      if (daemon) {
        const exit = await daemon.stop();
        assert.deepEqual(exit, { code: 0, signal: null }, daemon.output);
        assert.doesNotMatch(daemon.output, / ERROR - /);
      }
    });

    test('the shipped timeouts exceed ping_interval + ping_timeout (45 s by default)', () => {
      const text = readFileSync(kind === 'nginx' ? nginxConf : apacheConf, 'utf8');
      const pattern = kind === 'nginx' ? /^\s*proxy_(?:read|send)_timeout\s+(\d+)s;/gm : /^\s*ProxyPass\s.*\btimeout=(\d+)/gm;
      const values = [...text.matchAll(pattern)].map((m) => Number(m[1]));
      assert.ok(values.length >= 2, `no timeouts found in the ${kind} file`);
      for (const v of values) assert.ok(v > defaultPingSeconds, `timeout ${v} s <= ${defaultPingSeconds} s`);
    });

    test('plain http redirects to https', async () => {
      const res = await plainGet(ports.http, '/backend/Heartbeat/client0');
      assert.equal(res.status, 301);
      assert.match(res.headers.location, /^https:\/\//);
    });

    test('backend: Heartbeat is open, Connect needs the Basic credentials', async () => {
      const heartbeat = await backendGet(ports.https, 'Heartbeat/client0', { ca: tls.ca });
      assert.equal(heartbeat.status, 200);
      assert.equal(heartbeat.body, '{"status":200}');
      assert.equal(heartbeat.headers['content-type'], 'application/json; charset=utf-8');
      const connect = await backendGet(ports.https, 'Connect/client0/1/6', { ca: tls.ca, auth: credentials });
      assert.equal(connect.body, '{"status":200}');
      const denied = await backendGet(ports.https, 'Connect/client0/1/6', { ca: tls.ca, auth: { key: 'key-0', secret: 'wrong' } });
      assert.equal(denied.body, '{"status":403,"message":"Access denied"}');
    });

    test('backend: many calls in a row, with and without keep-alive towards the proxy', async () => {
      const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: tls.ca });
      try {
        for (let i = 0; i < 20; i++) {
          const res = await backendGet(ports.https, `Connect/client0/1/${100 + i}`, { ca: tls.ca, auth: credentials, agent: i % 2 ? agent : false });
          assert.equal(res.body, '{"status":200}', `call ${i}`);
        }
      } finally {
        agent.destroy();
      }
    });

    test('ilchatctl health through the proxy', async () => {
      const res = await run(ilchatctl, ['health', '--url', url(), '--name', 'client0', '--insecure', '--timeout', '5']);
      assert.equal(res.code, 0, res.stdout + res.stderr);
    });

    test('socket.io-client: /client0 and /client0-im on one session, polling first, then websocket, server pings', async () => {
      const m = browser();
      const room = m.socket('/client0');
      const im = m.socket('/client0-im');
      const engine = m.engine;
      assert.equal(engine.transport.name, 'polling', 'the session opens with long-polling');
      await Promise.all([connected(room), connected(im)]);
      await upgraded(engine);
      assert.equal(engine.transport.name, 'websocket');
      await waitFor(engine, 'ping', 3000);
      await waitFor(engine, 'ping', 3000);
      assert.ok(room.connected && im.connected);
      assert.equal(room.io, im.io, 'one Manager, one Engine.IO session');
    });

    test('the first request of a session is polling (as ILIAS browsers start)', async () => {
      const m = browser({ transports: ['polling', 'websocket'], upgrade: false });
      const socket = m.socket('/client0');
      await connected(socket);
      assert.equal(m.engine.transport.name, 'polling');
      await waitFor(m.engine, 'ping', 3000);
    });

    test('a room message round trip: websocket sender, websocket and polling-only receivers', async () => {
      const enter = async (id) => {
        assert.equal((await backendGet(ports.https, `Connect/client0/1/${id}`, { ca: tls.ca, auth: credentials })).body, '{"status":200}');
        assert.equal((await backendGet(ports.https, `EnterPrivateRoom/client0/1/${id}`, { ca: tls.ca, auth: credentials })).body, '{"success":true}');
      };
      const login = async (name, id, opts) => {
        await enter(id);
        const m = browser(opts);
        const socket = m.socket('/client0');
        const log = recordEvents(socket);
        await connected(socket);
        socket.emit('login', name, id);
        await log.next('loggedIn', { timeoutMs: 5000 });
        socket.emit('enterRoom', 1);
        await log.next('private_room_entered', { timeoutMs: 5000 });
        return { m, socket, log };
      };
      const root = await login('root', 6, {});
      await upgraded(root.m.engine);
      const jdoe = await login('jdoe', 7, {});
      await upgraded(jdoe.m.engine);
      const guest = await login('guest', 8, { transports: ['polling'] });
      assert.equal(guest.m.engine.transport.name, 'polling');

      const content = `through ${kind} ${Date.now()}`;
      root.socket.emit('message', { content, format: {} }, 1);
      const isContent = (msg) => msg?.content === content;
      for (const who of [root, jdoe, guest]) {
        const [message] = await who.log.next('message', { match: isContent, timeoutMs: 5000 });
        assert.equal(message.from.username, 'root');
        assert.equal(message.roomId, 1);
      }
    });
  });
}
