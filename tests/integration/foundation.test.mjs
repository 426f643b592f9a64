// The foundation: ilchatd's command line, configuration errors, the heartbeat over HTTP/1.0 and
// 1.1, clean stops, logging to files, and ilchatctl init/config against the real binaries.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  createDatabase, freePort, ilchatctl, ilchatd, mariadbPassword, mariadbSocket, parseHttpResponse, rawRequest, run,
  sourceDir, startDaemon, tempDir, writeConfig,
} from './harness.mjs';

const database = 'ilias_it_foundation';

before(() => createDatabase(database));

function config(dir, port, extra = {}) {
  const clients = (extra.clients ?? [{}]).map((c) => ({ ...c, database: { name: database, ...c.database } }));
  return writeConfig(dir, { port, ...extra, clients });
}

describe('heartbeat', () => {
  let daemon;
  let port;
  before(async () => {
    port = await freePort();
    const dir = tempDir();
    const { serverPath, clientPaths } = config(dir, port, { clients: [{ name: 'ilias' }, { name: 'second' }] });
    daemon = await startDaemon(serverPath, clientPaths);
  });
  after(async () => { await daemon?.stop(); });

  test('HTTP/1.1 GET answers {"status":200} for every client name', async () => {
    for (const name of ['ilias', 'second']) {
      const res = await fetch(`http://127.0.0.1:${port}/backend/Heartbeat/${name}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
      assert.equal(await res.text(), '{"status":200}');
    }
  });

  test('HTTP/1.0 with Connection: close, as PHP sends it', async () => {
    const { text, closed } = await rawRequest(port,
      'GET /backend/Heartbeat/ilias HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n'
      + 'Content-Type: application/json; charset=utf-8\r\nAuthorization: Basic a2V5LTA6c2VjcmV0LTA=\r\n\r\n');
    assert.ok(closed, 'server closes the connection');
    const res = parseHttpResponse(text);
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-length'], '14');
    assert.equal(res.body, '{"status":200}');
  });

  test('HTTP/1.1 keep-alive serves several requests on one connection', async () => {
    const request = 'GET /backend/Heartbeat/ilias HTTP/1.1\r\nHost: x\r\n\r\n';
    const { text } = await rawRequest(port, request + request + 'GET /backend/Heartbeat/ilias HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.equal(text.split('{"status":200}').length - 1, 3);
  });

  test('unknown paths and namespaces get JSON errors', async () => {
    let res = await fetch(`http://127.0.0.1:${port}/nothing/here`);
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), { status: 404, message: 'Not Found' });
    res = await fetch(`http://127.0.0.1:${port}/backend/Connect/unknown/1/6`);
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), { status: 404, message: 'Unknown namespace "unknown"' });
    // D21: Heartbeat of any name answers as the Node server did (the old image checks a fixed name).
    res = await fetch(`http://127.0.0.1:${port}/backend/Heartbeat/onscreen`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 200 });
  });

  test('garbage on the socket does not hurt the server', async () => {
    await rawRequest(port, 'NOT HTTP AT ALL\r\n\r\n\x00\x01\x02', { timeoutMs: 1000 });
    await rawRequest(port, `GET /${'a'.repeat(20000)} HTTP/1.1\r\nHost: x\r\n\r\n`, { timeoutMs: 1000 });
    const res = await fetch(`http://127.0.0.1:${port}/backend/Heartbeat/ilias`);
    assert.equal(res.status, 200);
  });
});

describe('listening', () => {
  test('on IPv6 loopback', async () => {
    const port = await freePort('::1');
    const { serverPath, clientPaths } = config(tempDir(), port, { address: '::1' });
    const daemon = await startDaemon(serverPath, clientPaths);
    try {
      const res = await fetch(`http://[::1]:${port}/backend/Heartbeat/client0`);
      assert.equal(await res.text(), '{"status":200}');
    } finally {
      await daemon.stop();
    }
  });

  test('on a host name, resolved once at start-up', async () => {
    const port = await freePort();
    const { serverPath, clientPaths } = config(tempDir(), port, { address: 'localhost' });
    const daemon = await startDaemon(serverPath, clientPaths);
    try {
      assert.match(daemon.output, /DNS Resolve for: localhost => IP: (127\.0\.0\.1|::1)/);
    } finally {
      await daemon.stop();
    }
  });

  test('a port in use is a clear start-up error, exit 1', async () => {
    const port = await freePort();
    const { serverPath, clientPaths } = config(tempDir(), port);
    const first = await startDaemon(serverPath, clientPaths);
    try {
      const second = await run(ilchatd, [serverPath, ...clientPaths]);
      assert.equal(second.code, 1);
      assert.match(second.stderr, /cannot listen on 127\.0\.0\.1 port \d+/);
    } finally {
      await first.stop();
    }
  });

  test('a metrics port in use is a start-up error too, exit 1; metrics_address "" turns it off', async () => {
    const taken = net.createServer();
    await new Promise((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const metrics = `127.0.0.1:${taken.address().port}`;
      const dir = tempDir();
      const refused = config(dir, await freePort(), { server: { metrics_address: metrics } });
      const second = await run(ilchatd, [refused.serverPath, ...refused.clientPaths]);
      assert.equal(second.code, 1);
      assert.match(second.stderr, new RegExp(`cannot listen on ${metrics} for /metrics`));
      const off = config(tempDir(), await freePort(), { server: { metrics_address: '' } });
      const daemon = await startDaemon(off.serverPath, off.clientPaths);
      try {
        assert.doesNotMatch(daemon.output, /Metrics: http/);
      } finally {
        assert.deepEqual(await daemon.stop(), { code: 0, signal: null });
      }
    } finally {
      taken.close();
    }
  });
});

describe('stopping', () => {
  for (const signal of ['SIGTERM', 'SIGINT']) {
    test(`${signal} stops ilchatd cleanly with exit 0`, async () => {
      const port = await freePort();
      const { serverPath, clientPaths } = config(tempDir(), port);
      const daemon = await startDaemon(serverPath, clientPaths);
      const exit = await daemon.stop(signal);
      assert.deepEqual(exit, { code: 0, signal: null });
      assert.match(daemon.output, /received: shutting down/);
      assert.match(daemon.output, /INFO - Server stopped/);
    });
  }
});

describe('command line and configuration errors', () => {
  test('no arguments: usage and exit 2, no stack trace', async () => {
    for (const args of [[], ['server.cfg']]) {
      const r = await run(ilchatd, args);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /Usage: ilchatd server\.cfg client\.cfg \[client\.cfg \.\.\.\]/);
      assert.doesNotMatch(r.stderr, /at .*\(.*:\d+:\d+\)/);
    }
  });

  test('missing files: exit 1 naming each file', async () => {
    const r = await run(ilchatd, ['/nonexistent/server.cfg', '/nonexistent/client.cfg']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /\/nonexistent\/server\.cfg: cannot read: No such file or directory/);
    assert.match(r.stderr, /\/nonexistent\/client\.cfg: cannot read: No such file or directory/);
  });

  test('invalid files: exit 1 listing every problem; secrets never shown', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'server.cfg'), '{"protocol":"http","port":"abc","address":""}');
    writeFileSync(path.join(dir, 'client.cfg'), '{"name":"x","auth":{"key":"k","secret":4711},"database":{"host":"h"}}');
    writeFileSync(path.join(dir, 'broken.cfg'), '{"name": "y",\n "auth": }');
    const r = await run(ilchatd, [path.join(dir, 'server.cfg'), path.join(dir, 'client.cfg'), path.join(dir, 'broken.cfg')]);
    assert.equal(r.code, 1);
    const lines = r.stderr.trim().split('\n');
    assert.deepEqual(lines.map((l) => l.replace(dir + '/', '')), [
      'server.cfg: port: expected 1-65535, got "abc"',
      'server.cfg: address: expected a non-empty string, got ""',
      'client.cfg: auth.secret: expected a non-empty string, got a number',
      'client.cfg: database.name: missing (required)',
      'client.cfg: database.user: missing (required)',
      'broken.cfg: invalid JSON at line 2, column 10: Invalid value.',
    ]);
    assert.doesNotMatch(r.stderr, /4711/);
  });

  test('--check-config: exit 0 on good files without starting', async () => {
    const port = await freePort();
    const { serverPath, clientPaths } = config(tempDir(), port);
    const r = await run(ilchatd, ['--check-config', serverPath, ...clientPaths]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /configuration OK/);
  });

  test('wrong credentials: exit 1; an unreachable database: degraded start; clear messages, password never shown', async () => {
    const port = await freePort();
    const dir = tempDir();
    const { serverPath, clientPaths } = writeConfig(dir, {
      port, clients: [{ database: { name: database, pass: 'wrong-password-42' } }],
    });
    let r = await run(ilchatd, [serverPath, ...clientPaths]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /ERROR - Database for client0: access denied for user 'ilchat' \(wrong user name or password\)/);
    assert.doesNotMatch(r.stderr + r.stdout, /wrong-password-42/);

    // Away rather than wrong: after startup_db_wait the daemon serves and waits for it.
    const other = writeConfig(tempDir(), {
      port, server: { startup_db_wait: 300 }, clients: [{ database: { host: '/nonexistent/mysqld.sock', name: database } }],
    });
    const daemon = await startDaemon(other.serverPath, other.clientPaths);
    assert.deepEqual(await daemon.stop(), { code: 0, signal: null });
    assert.match(daemon.output, /ERROR - Database for client0: cannot connect to \/nonexistent\/mysqld\.sock/);
    assert.match(daemon.output, /Database for client0 does not answer: serving without it until it does/);
    assert.doesNotMatch(daemon.output, new RegExp(mariadbPassword()));
  });
});

describe('logging', () => {
  test('log and error_log files in the Node line format', async () => {
    const port = await freePort();
    const dir = tempDir();
    const logDir = path.join(dir, 'logs');
    const { serverPath, clientPaths } = config(dir, port, {
      server: { log: path.join(logDir, 'chat.log'), error_log: path.join(logDir, 'chat_errors.log'), log_level: 'debug' },
    });
    const logFile = path.join(logDir, 'chat.log');
    const daemon = await startDaemon(serverPath, clientPaths, { logFile });
    await daemon.stop();
    assert.equal(daemon.output, '', 'nothing on stderr when a log file is configured');
    const log = readFileSync(path.join(logDir, 'chat.log'), 'utf8');
    assert.match(log, /^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d\] INFO - Starting Server!$/m);
    assert.match(log, /\] INFO - Log Level: debug$/m);
    assert.match(log, /\] INFO - Database for client0 connected!$/m);
    assert.match(log, /\] INFO - Server stopped$/m);
    assert.doesNotMatch(log, new RegExp(mariadbPassword()));
    assert.equal(readFileSync(path.join(logDir, 'chat_errors.log'), 'utf8'), '');
  });

  test('errors reach the error log too', async () => {
    const port = await freePort();
    const dir = tempDir();
    const { serverPath, clientPaths } = writeConfig(dir, {
      port,
      server: { log: path.join(dir, 'chat.log'), error_log: path.join(dir, 'chat_errors.log') },
      clients: [{ database: { name: database, pass: 'nope' } }],
    });
    const r = await run(ilchatd, [serverPath, ...clientPaths]);
    assert.equal(r.code, 1);
    assert.match(readFileSync(path.join(dir, 'chat_errors.log'), 'utf8'), /\] ERROR - Database for client0: access denied/);
    assert.match(readFileSync(path.join(dir, 'chat.log'), 'utf8'), /\] ERROR - Database for client0: access denied/);
  });
});

describe('ilchatctl init and config', () => {
  const envFile = path.join(sourceDir, 'etc', 'ilchat.env.example');

  test('init from the example .env, environment overriding it; files 0640; ilchatd accepts them', async () => {
    const dir = tempDir();
    const port = await freePort();
    const env = {
      ILIAS_CHAT_DB_HOST: mariadbSocket, ILIAS_CHAT_DB_NAME: database, ILIAS_CHAT_DB_USER: 'ilchat',
      ILIAS_CHAT_DB_PASS: mariadbPassword(), ILIAS_CHAT_PORT: String(port), ILIAS_CHAT_CONFIG_DIR: dir,
    };
    const r = await run(ilchatctl, ['init', '--env-file', envFile], { env });
    assert.equal(r.code, 0, r.stderr);
    for (const file of ['server.cfg', 'client.cfg']) {
      assert.equal(statSync(path.join(dir, file)).mode & 0o777, 0o640);
    }
    const server = JSON.parse(readFileSync(path.join(dir, 'server.cfg'), 'utf8'));
    const client = JSON.parse(readFileSync(path.join(dir, 'client.cfg'), 'utf8'));
    assert.equal(server.port, port);
    assert.equal(server.address, '127.0.0.1');
    assert.equal(client.name, 'demo');
    assert.equal(client.database.host, mariadbSocket);
    assert.match(readFileSync(path.join(dir, 'client.cfg'), 'utf8'), /"host": "\\\/.*mysqld\.sock"/);
    assert.doesNotMatch(r.stdout + r.stderr, new RegExp(mariadbPassword()));

    const check = await run(ilchatctl, ['config', 'check', path.join(dir, 'server.cfg'), path.join(dir, 'client.cfg')]);
    assert.equal(check.code, 0);
    const daemon = await startDaemon(path.join(dir, 'server.cfg'), [path.join(dir, 'client.cfg')]);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/backend/Heartbeat/demo`);
      assert.equal(await res.text(), '{"status":200}');
    } finally {
      await daemon.stop();
    }
  });

  test('init does not overwrite without --force or ILIAS_AUTO_CONFIGURE', async () => {
    const dir = tempDir();
    const env = { ILIAS_CHAT_DB_HOST: 'db', ILIAS_CHAT_CONFIG_DIR: dir };
    assert.equal((await run(ilchatctl, ['init', '--env-file', envFile], { env })).code, 0);
    writeFileSync(path.join(dir, 'server.cfg'), 'keep me');
    const refused = await run(ilchatctl, ['init', '--env-file', envFile], { env });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /server\.cfg exists \(use --force to overwrite\)/);
    assert.equal(readFileSync(path.join(dir, 'server.cfg'), 'utf8'), 'keep me');
    assert.equal((await run(ilchatctl, ['init', '--env-file', envFile, '--force'], { env })).code, 0);
    writeFileSync(path.join(dir, 'server.cfg'), 'keep me');
    assert.equal((await run(ilchatctl, ['init', '--env-file', envFile], { env: { ...env, ILIAS_AUTO_CONFIGURE: '1' } })).code, 0);
    assert.notEqual(readFileSync(path.join(dir, 'server.cfg'), 'utf8'), 'keep me');
  });

  test('init with missing variables writes nothing and lists them all', async () => {
    const dir = tempDir();
    const r = await run(ilchatctl, ['init', '-o', dir], { env: { ILIAS_CHAT_CLIENT_NAME: 'x' } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /missing required variables: ILIAS_CHAT_AUTH_KEY, ILIAS_CHAT_AUTH_SECRET, ILIAS_CHAT_DB_HOST, ILIAS_CHAT_DB_NAME, ILIAS_CHAT_DB_USER, ILIAS_CHAT_DB_PASS/);
    assert.ok(!existsSync(path.join(dir, 'server.cfg')));
  });

  test('init --stdout prints both files', async () => {
    const r = await run(ilchatctl, ['init', '--env-file', envFile, '--stdout']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /==> server\.cfg <==\n\{\n {4}"protocol": "http",/);
    assert.match(r.stdout, /==> client\.cfg <==\n\{\n {4}"name": "demo",/);
  });

  test('config check lists problems with exit 1; config show redacts secrets', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'server.cfg'), '{"protocol":"gopher","port":80,"address":"x"}');
    writeFileSync(path.join(dir, 'client.cfg'), JSON.stringify({
      name: 'n', auth: { key: 'k', secret: 'top-secret-value' }, database: { host: 'h', name: 'd', user: 'u', pass: 'db-secret' },
    }));
    const check = await run(ilchatctl, ['config', 'check', path.join(dir, 'server.cfg'), path.join(dir, 'client.cfg')]);
    assert.equal(check.code, 1);
    assert.match(check.stdout, /server\.cfg: protocol: expected http or https, got "gopher"/);
    const show = await run(ilchatctl, ['config', 'show', path.join(dir, 'server.cfg'), path.join(dir, 'client.cfg')]);
    assert.match(show.stdout, /auth\.secret {3}= \*{8}/);
    assert.doesNotMatch(show.stdout, /top-secret-value|db-secret/);
  });

  test('bad usage exits 2', async () => {
    assert.equal((await run(ilchatctl, [])).code, 2);
    assert.equal((await run(ilchatctl, ['no-such-command'])).code, 2);
    assert.equal((await run(ilchatctl, ['init', '--no-such-flag'])).code, 2);
  });
});
