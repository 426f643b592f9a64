// A database outage is an event, not a crash (docs/decisions.md D8): with its own MariaDB, stopped while
// users chat and started again, every message reaches chatroom_history exactly once, nobody is
// disconnected, and the metrics tell the story. Writes wait in the spool on disk, so a daemon
// killed during the outage stores them at its next start; a daemon started while the database is
// away serves in degraded mode and loads its rooms once the database answers.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { io } from 'socket.io-client';
import {
  admin, eventually, freePort, metricsPortOf, scrape, sourceDir, startDaemon, tempDir, writeConfig,
} from './harness.mjs';

const mariadbSh = path.join(sourceDir, 'tests', 'env', 'mariadb.sh');
// Short: a Unix socket path must stay under 108 bytes.
const instance = tempDir('ilchat-db-');
const database = 'ilias_outage';
const sqlHere = (statement) => execFileSync(mariadbSh, ['sql', instance, '--batch', '--skip-column-names', database,
  '-e', statement], { encoding: 'utf8' });

before(() => {
  execFileSync(mariadbSh, ['start', instance], { stdio: 'ignore' });
  execFileSync(mariadbSh, ['create-db', instance, database, path.join(sourceDir, 'tests/sql/ilias-schema.sql'),
    path.join(sourceDir, 'tests/sql/demo-data.sql')]);
});
after(() => execFileSync(mariadbSh, ['stop', instance], { stdio: 'ignore' }));

async function user(port, id, name) {
  const auth = `Basic ${Buffer.from('key-0:secret-0').toString('base64')}`;
  for (const route of [`Connect/client0/1/${id}`, `EnterPrivateRoom/client0/1/${id}`])
    await fetch(`http://127.0.0.1:${port}/backend/${route}`, { headers: { Authorization: auth } });
  const socket = io(`http://127.0.0.1:${port}/client0`, { transports: ['websocket'], reconnection: false });
  const received = [];
  socket.on('message', (m) => received.push(m.content));
  await new Promise((r) => socket.once('connect', r));
  socket.emit('login', name, id);
  await new Promise((r) => socket.once('loggedIn', r));
  socket.emit('enterRoom', 1);
  await new Promise((r) => socket.once('userlist', r));
  return { socket, received };
}

// A config in a new folder against this file's MariaDB; `server` adds server.cfg keys.
async function configure(server = {}) {
  const dir = tempDir();
  const port = await freePort();
  const password = readFileSync(path.join(instance, 'ilchat.password'), 'utf8').trim();
  const { serverPath, clientPaths } = writeConfig(dir, {
    port,
    server,
    clients: [{ database: { host: path.join(instance, 'mysqld.sock'), name: database, pass: password } }],
  });
  return { dir, port, serverPath, clientPaths, socketPath: path.join(dir, 'admin.sock') };
}

const contents = () => sqlHere('SELECT message FROM chatroom_history ORDER BY hist_id').trim().split('\n')
  .filter((row) => row !== '').map((row) => JSON.parse(row).content);

test('messages sent while the database is down are stored once it is back; nobody is disconnected', async () => {
  sqlHere('DELETE FROM chatroom_history');
  const { port, serverPath, clientPaths, socketPath } = await configure();
  const daemon = await startDaemon(serverPath, clientPaths);
  try {
    const metricsPort = metricsPortOf(daemon);
    const metric = (series) => scrape(metricsPort, series);
    const alice = await user(port, 6, 'alice');
    const bob = await user(port, 7, 'bob');
    let disconnects = 0;
    for (const u of [alice, bob]) u.socket.on('disconnect', () => { disconnects += 1; });

    alice.socket.emit('message', { content: 'before', format: {} }, 1);
    await eventually(() => assert.equal(sqlHere('SELECT COUNT(*) FROM chatroom_history').trim(), '1'));
    const im = io(`http://127.0.0.1:${port}/client0-im`, { transports: ['websocket'], reconnection: false });
    await new Promise((r) => im.once('connect', r));
    im.emit('login', 6, 'alice');
    im.emit('conversation', [{ id: 6, name: 'alice' }, { id: 7, name: 'bob' }]);
    const conversation = await new Promise((r) => im.once('conversation-init', r));

    execFileSync(mariadbSh, ['stop', instance], { stdio: 'ignore' });
    // 30 s away: several rounds of the reconnect backoff (which tops out at 10 s).
    const outageEnds = Date.now() + 30000;
    const during = Array.from({ length: 20 }, (_, i) => `during ${i}`);
    for (const content of during) {
      alice.socket.emit('message', { content, format: {} }, 1);
      await new Promise((r) => setTimeout(r, 1000));
    }
    await eventually(() => assert.deepEqual(bob.received.slice(1), during), { timeoutMs: 5000 });
    await eventually(async () => assert.equal(await metric('ilchatd_db_up{namespace="client0"}'), 0), { timeoutMs: 5000 });
    assert.equal((await fetch(`http://127.0.0.1:${metricsPort}/readyz`)).status, 503);
    // The writes wait on disk, not in memory.
    await eventually(async () => assert.equal(await metric('ilchatd_spooled_messages{namespace="client0"}'), 20),
      { timeoutMs: 5000 });
    const status = await admin(socketPath, { command: 'db-status' });
    assert.equal(status.result, 0);
    assert.equal(status.arguments.all_up, false);
    assert.equal(status.arguments.databases[0].namespace, 'client0');
    assert.equal(status.arguments.databases[0].up, false);
    assert.equal(status.arguments.databases[0].spooled_writes, 20);
    assert.match(status.text, /client0 {2}AWAY/);
    // A read that cannot be served answers empty rather than not at all.
    im.emit('history', conversation.id, null, false);
    const history = await new Promise((r) => im.once('history', r));
    assert.deepEqual(history.messages, []);

    await new Promise((r) => setTimeout(r, Math.max(0, outageEnds - Date.now())));
    assert.equal(await metric('ilchatd_db_up{namespace="client0"}'), 0);
    execFileSync(mariadbSh, ['start', instance], { stdio: 'ignore' });
    alice.socket.emit('message', { content: 'after', format: {} }, 1);
    await eventually(() => assert.deepEqual(contents(), ['before', ...during, 'after']),
      { timeoutMs: 20000, intervalMs: 200 });
    assert.equal(await metric('ilchatd_db_up{namespace="client0"}'), 1);
    assert.ok(await metric('ilchatd_db_errors_total{namespace="client0"}') >= 1);
    assert.ok(await metric('ilchatd_db_reconnects_total{namespace="client0"}') >= 1);
    assert.equal(disconnects, 0);
    // The rows are committed a moment before the spool is marked consumed.
    await eventually(async () => assert.equal(await metric('ilchatd_spooled_messages{namespace="client0"}'), 0));
    assert.match(daemon.output, /Database for client0 is back; 2[01] writes waiting are stored now/);
    assert.equal((await admin(socketPath, { command: 'db-status' })).arguments.all_up, true);
    for (const u of [alice, bob]) u.socket.disconnect();
    im.disconnect();
  } finally {
    await daemon.stop();
  }
});

test('killed while the spool holds writes: the next start stores each of them once', async () => {
  sqlHere('DELETE FROM chatroom_history');
  const config = await configure();
  const first = await startDaemon(config.serverPath, config.clientPaths);
  const alice = await user(config.port, 6, 'alice');
  execFileSync(mariadbSh, ['stop', instance], { stdio: 'ignore' });
  const lost = Array.from({ length: 15 }, (_, i) => `kept ${i}`);
  for (const content of lost) alice.socket.emit('message', { content, format: {} }, 1);
  const metricsPort = metricsPortOf(first);
  await eventually(async () => assert.equal(await scrape(metricsPort, 'ilchatd_spooled_messages{namespace="client0"}'),
    15), { timeoutMs: 8000 });
  alice.socket.disconnect();
  await first.stop('SIGKILL');
  const spool = path.join(config.dir, 'spool');
  assert.deepEqual(readdirSync(spool), ['client0.spool']);
  assert.equal(readFileSync(path.join(spool, 'client0.spool'), 'utf8').trim().split('\n').length, 15);

  execFileSync(mariadbSh, ['start', instance], { stdio: 'ignore' });
  const second = await startDaemon(config.serverPath, config.clientPaths);
  try {
    await eventually(() => assert.deepEqual(contents(), lost), { timeoutMs: 10000, intervalMs: 100 });
    assert.match(second.output, /Spool .*client0\.spool: 15 writes of an earlier run are stored first/);
    await eventually(() => assert.equal(readFileSync(path.join(spool, 'client0.spool'), 'utf8'), ''));
  } finally {
    await second.stop();
  }
  // The spool emptied and nothing replays twice on the start after.
  const third = await startDaemon(config.serverPath, config.clientPaths);
  await third.stop();
  assert.deepEqual(contents(), lost);
});

test('started while the database is away: ready in degraded mode, complete once it answers', async () => {
  sqlHere('DELETE FROM chatroom_history');
  execFileSync(mariadbSh, ['stop', instance], { stdio: 'ignore' });
  const config = await configure({ startup_db_wait: 1000 });
  const daemon = await startDaemon(config.serverPath, config.clientPaths);
  try {
    assert.match(daemon.output, /Database for client0 does not answer: serving without it until it does/);
    const metricsPort = metricsPortOf(daemon);
    assert.equal((await fetch(`http://127.0.0.1:${metricsPort}/readyz`)).status, 503);
    assert.equal(await scrape(metricsPort, 'ilchatd_db_up{namespace="client0"}'), 0);
    const heartbeat = await fetch(`http://127.0.0.1:${config.port}/backend/Heartbeat/client0`);
    assert.equal(heartbeat.status, 200);
    const status = await admin(config.socketPath, { command: 'status' });
    assert.equal(status.arguments.databases[0].up, false);
    // No rooms are known until the database tells them.
    assert.deepEqual((await admin(config.socketPath, { command: 'rooms' })).arguments.rooms, { '/client0': {} });

    execFileSync(mariadbSh, ['start', instance], { stdio: 'ignore' });
    await eventually(async () => assert.equal(await scrape(metricsPort, 'ilchatd_db_up{namespace="client0"}'), 1),
      { timeoutMs: 15000, intervalMs: 200 });
    await eventually(async () => assert.equal((await fetch(`http://127.0.0.1:${metricsPort}/readyz`)).status, 200));
    await eventually(async () => assert.notDeepEqual(
      (await admin(config.socketPath, { command: 'rooms' })).arguments.rooms['/client0'], {}));
    const alice = await user(config.port, 6, 'alice');
    alice.socket.emit('message', { content: 'hello again', format: {} }, 1);
    await eventually(() => assert.deepEqual(contents(), ['hello again']), { timeoutMs: 5000 });
    alice.socket.disconnect();
  } finally {
    const exit = await daemon.stop();
    assert.deepEqual(exit, { code: 0, signal: null });
  }
});

test('a database refusing the credentials at start-up is a configuration error, not an outage', async () => {
  const config = await configure({ startup_db_wait: 60000 });
  const broken = JSON.parse(readFileSync(config.clientPaths[0], 'utf8'));
  broken.database.pass = 'wrong';
  writeFileSync(config.clientPaths[0], JSON.stringify(broken));
  const started = Date.now();
  await assert.rejects(startDaemon(config.serverPath, config.clientPaths), /exited \{"code":1/);
  assert.ok(Date.now() - started < 10000, 'no waiting for a database that answered no');
});

test('a stop during an outage says what it waits for, for how long, and where the rest stays', async () => {
  const config = await configure({ shutdown_timeout: 2000 });
  const daemon = await startDaemon(config.serverPath, config.clientPaths);
  const alice = await user(config.port, 6, 'alice');
  execFileSync(mariadbSh, ['stop', instance], { stdio: 'ignore' });
  try {
    alice.socket.emit('message', { content: 'said during the outage', format: {} }, 1);
    await eventually(() => assert.match(daemon.output, /Database for client0/), { timeoutMs: 5000 });
  } finally {
    alice.socket.disconnect();
    await daemon.stop();
    execFileSync(mariadbSh, ['start', instance], { stdio: 'ignore' });
  }
  assert.match(daemon.output,
    /Stopping while the database of client0 is away: trying it for up to \d+ ms more; \d+ writes not stored by then stay in \S+client0\.spool for the next start/);
});
