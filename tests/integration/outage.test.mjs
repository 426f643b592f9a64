// A database outage is an event, not a crash (DESIGN.md D8): with its own MariaDB, stopped while
// users chat and started again, every message reaches chatroom_history exactly once, nobody is
// disconnected, and the metrics tell the story.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { io } from 'socket.io-client';
import { eventually, freePort, sourceDir, startDaemon, tempDir, writeConfig } from './harness.mjs';

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

test('messages sent while the database is down are stored once it is back; nobody is disconnected', async () => {
  const dir = tempDir();
  const port = await freePort();
  const password = readFileSync(path.join(instance, 'ilchat.password'), 'utf8').trim();
  const { serverPath, clientPaths } = writeConfig(dir, {
    port,
    clients: [{ database: { host: path.join(instance, 'mysqld.sock'), name: database, pass: password } }],
  });
  const daemon = await startDaemon(serverPath, clientPaths);
  try {
    const metricsPort = Number(daemon.output.match(/Metrics: http:\/\/127\.0\.0\.1:(\d+)\/metrics/)[1]);
    const metric = async (series) => {
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    };
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
    const during = Array.from({ length: 20 }, (_, i) => `during ${i}`);
    for (const content of during) alice.socket.emit('message', { content, format: {} }, 1);
    await eventually(() => assert.deepEqual(bob.received.slice(1), during), { timeoutMs: 5000 });
    await eventually(async () => assert.equal(await metric('ilchatd_db_up{namespace="client0"}'), 0), { timeoutMs: 5000 });
    assert.equal((await fetch(`http://127.0.0.1:${metricsPort}/readyz`)).status, 503);
    // A read that cannot be served answers empty rather than not at all.
    im.emit('history', conversation.id, null, false);
    const history = await new Promise((r) => im.once('history', r));
    assert.deepEqual(history.messages, []);

    execFileSync(mariadbSh, ['start', instance], { stdio: 'ignore' });
    alice.socket.emit('message', { content: 'after', format: {} }, 1);
    await eventually(() => {
      const rows = sqlHere('SELECT message FROM chatroom_history ORDER BY hist_id').trim().split('\n')
        .map((row) => JSON.parse(row).content);
      assert.deepEqual(rows, ['before', ...during, 'after']);
    }, { timeoutMs: 20000, intervalMs: 200 });
    assert.equal(await metric('ilchatd_db_up{namespace="client0"}'), 1);
    assert.ok(await metric('ilchatd_db_errors_total{namespace="client0"}') >= 1);
    assert.ok(await metric('ilchatd_db_reconnects_total{namespace="client0"}') >= 1);
    assert.equal(disconnects, 0);
    assert.match(daemon.output, /Database for client0 is back; \d+ queued writes stored/);
    for (const u of [alice, bob]) u.socket.disconnect();
    im.disconnect();
  } finally {
    await daemon.stop();
  }
});
