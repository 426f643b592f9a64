// Shared helpers of the integration tests: the real ilchatd and ilchatctl binaries, the private
// MariaDB started by tests/env/mariadb.sh, free ports, raw HTTP.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const buildDir = process.env.ILCHAT_BUILD_DIR;
export const sourceDir = process.env.ILCHAT_SOURCE_DIR;
export const mariadbDir = process.env.ILCHAT_MARIADB_DIR;
if (!buildDir || !sourceDir || !mariadbDir) throw new Error('run through ctest (ILCHAT_* variables missing)');

export const ilchatd = path.join(buildDir, 'daemon', 'ilchatd');
export const ilchatctl = path.join(buildDir, 'ctl', 'ilchatctl');
export const mariadbSocket = path.join(mariadbDir, 'mysqld.sock');
export const mariadbPassword = () => readFileSync(path.join(mariadbDir, 'ilchat.password'), 'utf8').trim();

export function tempDir(prefix = 'ilchat-it-') {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

// (Re)creates a database with the ILIAS schema; `schema` 'ilias9' (default), 'ilias8' or 'ilias53'.
// The 5.3 layout is the 8 one in the character set of that era.
const schemaFiles = { ilias9: ['ilias-schema.sql'], ilias8: ['ilias8-schema.sql'], ilias53: ['ilias8-schema.sql', 'ilias53-schema.sql'] };
export function createDatabase(name, { schema = 'ilias9', demo = true } = {}) {
  const sql = path.join(sourceDir, 'tests', 'sql');
  const files = schemaFiles[schema].map((file) => path.join(sql, file));
  if (demo) files.push(path.join(sql, 'demo-data.sql'));
  execFileSync(path.join(sourceDir, 'tests', 'env', 'mariadb.sh'), ['create-db', mariadbDir, name, ...files]);
}

export function sql(database, statement) {
  return execFileSync(path.join(sourceDir, 'tests', 'env', 'mariadb.sh'),
    ['sql', mariadbDir, '--batch', '--skip-column-names', database, '-e', statement], { encoding: 'utf8' });
}

export async function freePort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// Writes server.cfg and client.cfg(s) the way ILIAS does and returns their paths.
export function writeConfig(dir, { port, address = '127.0.0.1', server = {}, clients = [{}] }) {
  const serverPath = path.join(dir, 'server.cfg');
  writeFileSync(serverPath, JSON.stringify({
    protocol: 'http', port, address, sub_directory: '', log: 0, error_log: '', log_level: 'info',
    deletion_mode: 0, deletion_unit: 'years', deletion_value: 1, deletion_time: '06:30',
    admin_socket: path.join(dir, 'admin.sock'), metrics_address: '127.0.0.1:0', spool_dir: path.join(dir, 'spool'),
    ...server,
  }, null, 4));
  const clientPaths = clients.map((c, i) => {
    const clientPath = path.join(dir, `client${i}.cfg`);
    const { database, ...rest } = c;
    writeFileSync(clientPath, JSON.stringify({
      name: `client${i}`, enable_osc: true,
      auth: { key: `key-${i}`, secret: `secret-${i}` },
      ...rest,
      database: {
        type: 'mysql', host: mariadbSocket, port: 0, name: 'ilias_it', user: 'ilchat', pass: mariadbPassword(),
        ...database,
      },
    }, null, 4));
    return clientPath;
  });
  return { serverPath, clientPaths };
}

// Runs a command to completion: { code, signal, stdout, stderr }.
export function run(command, args, { env = {}, cwd, timeoutMs = 30000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${command} timed out`)); }, timeoutMs);
    child.on('close', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout, stderr }); });
  });
}

// Starts ilchatd and resolves once it logs that it is ready (or rejects with its output). With a
// `logFile` configured the ready line is looked for there instead of on stderr.
export async function startDaemon(serverPath, clientPaths, { readyTimeoutMs = 15000, logFile } = {}) {
  const child = spawn(ilchatd, [serverPath, ...clientPaths]);
  const daemon = { child, output: '', exited: null };
  child.stdout.on('data', (d) => { daemon.output += d; });
  child.stderr.on('data', (d) => { daemon.output += d; });
  daemon.exitPromise = new Promise((resolve) => child.on('close', (code, signal) => {
    daemon.exited = { code, signal };
    resolve(daemon.exited);
  }));
  daemon.stop = async (signal = 'SIGTERM') => {
    if (!daemon.exited) child.kill(signal);
    return daemon.exitPromise;
  };
  const deadline = Date.now() + readyTimeoutMs;
  const ready = () => (logFile ? (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '') : daemon.output)
    .includes('The Server is Ready to use!');
  while (!ready()) {
    if (daemon.exited) throw new Error(`ilchatd exited ${JSON.stringify(daemon.exited)}:\n${daemon.output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`ilchatd not ready in time:\n${daemon.output}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return daemon;
}

// Sends raw bytes and returns everything the server sends until it closes (or timeoutMs).
export function rawRequest(port, text, { host = '127.0.0.1', timeoutMs = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, host);
    let received = Buffer.alloc(0);
    const timer = setTimeout(() => { socket.destroy(); resolve({ text: received.toString(), closed: false }); }, timeoutMs);
    socket.on('connect', () => socket.write(text));
    socket.on('data', (d) => { received = Buffer.concat([received, d]); });
    // A reset after garbage is an acceptable answer; the caller looks at what arrived.
    socket.on('error', (e) => {
      clearTimeout(timer);
      if (e.code === 'ECONNRESET' || e.code === 'EPIPE') resolve({ text: received.toString(), closed: true, reset: true });
      else reject(e);
    });
    socket.on('close', () => { clearTimeout(timer); resolve({ text: received.toString(), closed: true }); });
  });
}

export function parseHttpResponse(text) {
  const [head, ...rest] = text.split('\r\n\r\n');
  const [statusLine, ...headerLines] = head.split('\r\n');
  const headers = {};
  for (const line of headerLines) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { statusLine, status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n') };
}

// GET /backend/<route> the way ILIAS PHP calls it (Connection: close, JSON content type, Basic
// auth from `key`/`secret`, or a raw `authorization` header value); `route` must already be
// URL-encoded. Resolves with { status, headers, body } (body as text).
export function backendGet(port, route, { key, secret, authorization, host = '127.0.0.1', timeoutMs = 5000 } = {}) {
  const headers = { Connection: 'close', 'Content-Type': 'application/json; charset=utf-8' };
  if (authorization !== undefined) headers.Authorization = authorization;
  else if (key !== undefined) headers.Authorization = `Basic ${Buffer.from(`${key}:${secret}`).toString('base64')}`;
  return new Promise((resolve, reject) => {
    const request = http.request({ host, port, path: `/backend/${route}`, method: 'GET', headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    request.on('error', reject);
    request.setTimeout(timeoutMs, () => request.destroy(new Error(`GET /backend/${route} timed out`)));
    request.end();
  });
}

// Runs SQL (utf8mb4) and returns the rows as arrays of strings (SQL NULL as null). Rows whose only
// column is the empty string are not returned.
export function sqlRows(database, statement) {
  const out = execFileSync(path.join(sourceDir, 'tests', 'env', 'mariadb.sh'),
    ['sql', mariadbDir, '--batch', '--skip-column-names', '--default-character-set=utf8mb4', database, '-e', statement],
    { encoding: 'utf8' });
  const unescape = (v) => v.replace(/\\(.)/g, (_, c) => ({ n: '\n', t: '\t', 0: '\0', '\\': '\\' })[c] ?? c);
  return out.split('\n').filter((line) => line !== '')
    .map((line) => line.split('\t').map((v) => (v === 'NULL' ? null : unescape(v))));
}

// Records every event a socket.io-client socket receives (call right after io()). next() takes
// the first not yet taken matching event (waiting for it), none() checks that none arrives.
export function recordEvents(socket) {
  const entries = [];
  const record = (event, ...args) => entries.push({ event, args, taken: false });
  if (socket.onAny) {
    socket.onAny(record);
  } else {
    // socket.io-client 2.x has no onAny: every incoming event passes through onevent.
    const onevent = socket.onevent;
    socket.onevent = function (packet) {
      record(...(packet.data || []));
      onevent.call(this, packet);
    };
  }
  const find = (event, match) => entries.find((e) => !e.taken && e.event === event && match(...e.args));
  const seen = () => JSON.stringify(entries.map((e) => [e.event, ...e.args]));
  return {
    entries,
    async next(event, { match = () => true, timeoutMs = 3000, what = '' } = {}) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const entry = find(event, match);
        if (entry) {
          entry.taken = true;
          return entry.args;
        }
        if (Date.now() > deadline) throw new Error(`no '${event}' ${what}within ${timeoutMs} ms; received: ${seen()}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    async none(event, { match = () => true, withinMs = 300, what = '' } = {}) {
      await new Promise((r) => setTimeout(r, withinMs));
      const entry = find(event, match);
      if (entry) throw new Error(`unexpected '${event}' ${what}: ${JSON.stringify(entry.args)}`);
    },
    clear() { entries.length = 0; },
  };
}

// Runs `check` (sync or async; it throws, e.g. with assert, while its condition does not hold)
// until it passes, and returns its result; after timeoutMs the last failure is thrown. For
// effects that happen a little later, such as rows a database worker writes.
export async function eventually(check, { timeoutMs = 3000, intervalMs = 25 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (e) {
      if (Date.now() > deadline) throw e;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

// One admin socket request (an object, or a raw line for malformed input), one reply line.
export function admin(socketPath, request) {
  return new Promise((resolve, reject) => {
    const client = net.connect(socketPath);
    let buffer = '';
    client.on('connect', () => client.write(typeof request === 'string' ? request : `${JSON.stringify(request)}\n`));
    client.on('data', (d) => {
      buffer += d;
      if (buffer.endsWith('\n')) {
        client.end();
        resolve(JSON.parse(buffer));
      }
    });
    client.on('error', reject);
  });
}

// The value of one series (`name{labels}`) in a /metrics page's text, or undefined.
export function seriesValue(text, series) {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

// The same, scraped now.
export async function scrape(metricsPort, series) {
  return seriesValue(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text(), series);
}

// The port of /metrics that a daemon started with metrics_address 127.0.0.1:0 logged.
export function metricsPortOf(daemon) {
  return Number(daemon.output.match(/Metrics: http:\/\/127\.0\.0\.1:(\d+)\/metrics/)[1]);
}

// A private redis-server for the cluster tests, on a Unix socket in `dir`, persisting every write
// (so that a restart loses nothing). `redis.stop()` and `redis.start(...args)` stop it and start it
// again on the same files, with extra arguments such as `--requirepass`.
export async function startRedis(dir) {
  const socket = path.join(dir, 'redis.sock');
  const redis = { socket };
  redis.start = async (...extra) => {
    const child = spawn('redis-server', ['--port', '0', '--unixsocket', socket, '--dir', dir, '--save', '',
      '--appendonly', 'yes', '--appendfsync', 'always', ...extra]);
    let output = '';
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    const exited = new Promise((resolve) => child.on('close', resolve));
    await eventually(() => { if (!existsSync(socket)) throw new Error(`redis-server did not start:\n${output}`); },
      { timeoutMs: 5000 });
    redis.stop = async (signal = 'SIGTERM') => { child.kill(signal); await exited; };
  };
  await redis.start();
  return redis;
}
