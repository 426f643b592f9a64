// The control plane against a running ilchatd: every admin command over the Unix socket (good,
// malformed, unknown, refused peer), SIGHUP reloads (a broken file keeps the old configuration
// and every socket; a good one applies log level and credentials live), and the stop signals.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, chmodSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { io } from 'socket.io-client';
import {
  admin, createDatabase, eventually, freePort, metricsPortOf, seriesValue, sql, startDaemon, tempDir, writeConfig,
} from './harness.mjs';

const database = 'ilias_it_control';

const basic = (key, secret) => `Basic ${Buffer.from(`${key}:${secret}`).toString('base64')}`;

async function connected(port, nsp) {
  const socket = io(`http://127.0.0.1:${port}/${nsp}`, { transports: ['websocket'], reconnection: false });
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  return socket;
}

before(() => createDatabase(database));

// A daemon serving client "ilias"; `server` adds server.cfg keys.
async function startIlias(server = {}, db = database) {
  const dir = tempDir();
  const port = await freePort();
  const { serverPath, clientPaths } = writeConfig(dir, { port, server, clients: [{ name: 'ilias', database: { name: db } }] });
  const daemon = await startDaemon(serverPath, clientPaths);
  return { daemon, dir, port, serverPath, clientPaths, socketPath: path.join(dir, 'admin.sock') };
}

describe('admin socket', () => {
  let daemon;
  let dir;
  let port;
  let socketPath;
  before(async () => {
    ({ daemon, dir, port, socketPath } = await startIlias());
  });
  after(async () => { await daemon?.stop(); });

  test('the socket has mode 0660', () => {
    const mode = Number(execFileSync('stat', ['-c', '%a', socketPath], { encoding: 'utf8' }).trim());
    assert.equal(mode, 660);
  });

  test('help lists every command', async () => {
    const reply = await admin(socketPath, { command: 'help' });
    assert.equal(reply.result, 0);
    const names = reply.arguments.commands.map((c) => c.name);
    assert.deepEqual(names, ['help', 'version', 'status', 'stats', 'config-show', 'reload', 'log-reopen', 'log-level',
      'namespaces', 'rooms', 'connections', 'purge-now', 'db-status', 'cluster-status', 'shutdown']);
    for (const name of names) assert.match(reply.text, new RegExp(`^${name}\\b`, 'm'));
  });

  test('cluster-status on a single node says so', async () => {
    const reply = await admin(socketPath, { command: 'cluster-status' });
    assert.equal(reply.result, 0);
    assert.deepEqual(reply.arguments, { clustered: false, in_sync: true });
    assert.match(reply.text, /single node/);
  });

  test('version, status, namespaces, rooms, connections describe the running daemon', async () => {
    assert.match((await admin(socketPath, { command: 'version' })).text, /^ilchatd \d+\.\d+\.\d+$/);
    const socket = await connected(port, 'ilias');
    try {
      const status = await admin(socketPath, { command: 'status' });
      assert.equal(status.result, 0);
      assert.equal(status.arguments.connections, 1);
      assert.equal(status.arguments.websocket, 1);
      assert.equal(status.arguments.rooms, 3);
      // "/" is socket.io's main namespace, where Engine.IO 3 sessions are put at once.
      assert.deepEqual(status.arguments.sockets_by_namespace, { '/': 0, '/ilias': 1, '/ilias-im': 0 });
      const namespaces = await admin(socketPath, { command: 'namespaces' });
      assert.deepEqual(namespaces.arguments.namespaces.sort((a, b) => a.name.localeCompare(b.name)),
        [{ name: '/', sockets: 0 }, { name: '/ilias', sockets: 1 }, { name: '/ilias-im', sockets: 0 }]);
      const rooms = await admin(socketPath, { command: 'rooms', arguments: { namespace: 'ilias' } });
      assert.deepEqual(Object.keys(rooms.arguments.rooms['/ilias']).sort(), ['1_0', '2_0', '3_0']);
      const unknown = await admin(socketPath, { command: 'rooms', arguments: { namespace: 'nope' } });
      assert.equal(unknown.result, 1);
      const connections = await admin(socketPath, { command: 'connections', arguments: { namespace: '/ilias' } });
      assert.equal(connections.arguments.connections.length, 1);
      assert.equal(connections.arguments.connections[0].socket, socket.id);
      assert.equal(connections.arguments.connections[0].user, null);
    } finally {
      socket.disconnect();
    }
  });

  test('config-show redacts secrets', async () => {
    const reply = await admin(socketPath, { command: 'config-show' });
    assert.equal(reply.result, 0);
    assert.match(reply.text, /auth\.secret\s+= \*{8}/);
    assert.doesNotMatch(reply.text, /secret-0/);
  });

  test('log-level changes the level; unknown levels are refused', async () => {
    assert.equal((await admin(socketPath, { command: 'log-level', arguments: { level: 'debug' } })).result, 0);
    const refused = await admin(socketPath, { command: 'log-level', arguments: { level: 'loud' } });
    assert.equal(refused.result, 1);
    assert.match(refused.text, /unknown level "loud"/);
    assert.equal((await admin(socketPath, { command: 'log-level', arguments: { level: 'info' } })).result, 0);
    assert.equal((await admin(socketPath, { command: 'log-reopen' })).result, 0);
  });

  test('malformed and unknown requests get result 1 and 2', async () => {
    assert.equal((await admin(socketPath, 'this is not json\n')).result, 1);
    assert.equal((await admin(socketPath, '{"no":"command"}\n')).result, 1);
    assert.equal((await admin(socketPath, { command: 'status', arguments: [1] })).result, 1);
    const unknown = await admin(socketPath, { command: 'frobnicate' });
    assert.equal(unknown.result, 2);
    assert.match(unknown.text, /unknown command "frobnicate"/);
  });

  test('an oversized request is refused and the daemon keeps serving', async () => {
    const reply = await admin(socketPath, `${'x'.repeat(70 * 1024)}`);
    assert.equal(reply.result, 1);
    assert.match(reply.text, /too long/);
    assert.equal((await admin(socketPath, { command: 'version' })).result, 0);
  });

  test('a peer that is neither root, the daemon user nor in admin_group is refused', async () => {
    chmodSync(dir, 0o755);
    // The refusal is written as soon as the peer is accepted; the client only listens.
    const script = `const s=require('net').connect(${JSON.stringify(socketPath)});let b='';`
      + 's.on("data",d=>b+=d);s.on("close",()=>{process.stdout.write(b)});s.on("error",e=>process.stdout.write("ERR "+e.code))';
    chmodSync(socketPath, 0o666);  // let the file mode pass so that the credential check decides
    const out = execFileSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, '-e', script],
      { encoding: 'utf8' });
    assert.match(out, /"permission denied"/);
    await eventually(() => assert.match(daemon.output, /admin socket: refused a peer without permission/));
    assert.equal((await admin(socketPath, { command: 'version' })).result, 0);
  });
});

describe('admin_group', () => {
  test('a peer whose group is admin_group may use the admin socket', async () => {
    const { daemon, dir, socketPath } = await startIlias({ admin_group: 'daemon' });
    try {
      chmodSync(dir, 0o755);
      chmodSync(socketPath, 0o666);
      const script = `const s=require('net').connect(${JSON.stringify(socketPath)});let b='';`
        + 's.on("connect",()=>s.write(JSON.stringify({command:"version"})+"\\n"));'
        + 's.on("data",d=>{b+=d;if(b.endsWith("\\n")){process.stdout.write(b);s.end();}});'
        + 's.on("error",e=>process.stdout.write("ERR "+e.code))';
      const out = execFileSync('setpriv', ['--reuid=nobody', '--regid=daemon', '--clear-groups', process.execPath, '-e', script],
        { encoding: 'utf8' });
      assert.equal(JSON.parse(out).result, 0);
    } finally {
      await daemon.stop();
    }
  });
});

describe('reload and signals', () => {
  test('SIGHUP with a broken file keeps the old configuration and every socket', async () => {
    const { daemon, dir, port, serverPath, clientPaths } = await startIlias();
    try {
      const socket = await connected(port, 'ilias');
      let disconnected = false;
      socket.on('disconnect', () => { disconnected = true; });
      const good = readFileSync(serverPath, 'utf8');
      writeFileSync(serverPath, '{"port": "no"');
      daemon.child.kill('SIGHUP');
      await new Promise((r) => setTimeout(r, 300));
      assert.match(daemon.output, /ERROR - reload: .*server\.cfg: invalid JSON/);
      assert.match(daemon.output, /reload failed: the previous configuration stays in effect/);
      const reply = await admin(path.join(dir, 'admin.sock'), { command: 'reload' });
      assert.equal(reply.result, 1);
      writeFileSync(serverPath, good);
      const res = await fetch(`http://127.0.0.1:${port}/backend/Heartbeat/ilias`);
      assert.equal(await res.text(), '{"status":200}');
      assert.ok(socket.connected && !disconnected);
      socket.disconnect();
    } finally {
      await daemon.stop();
    }
  });

  test('SIGHUP applies the log level and new credentials live, reports restart-only changes, drops no socket', async () => {
    const { daemon, dir, port, serverPath, clientPaths } = await startIlias();
    try {
      const socket = await connected(port, 'ilias');
      let disconnected = false;
      socket.on('disconnect', () => { disconnected = true; });
      const server = JSON.parse(readFileSync(serverPath, 'utf8'));
      writeFileSync(serverPath, JSON.stringify({ ...server, log_level: 'debug', sub_directory: 'chat' }));
      const client = JSON.parse(readFileSync(clientPaths[0], 'utf8'));
      writeFileSync(clientPaths[0], JSON.stringify({ ...client, auth: { key: 'new-key', secret: 'new-secret' } }));
      daemon.child.kill('SIGHUP');
      await new Promise((r) => setTimeout(r, 300));
      assert.match(daemon.output, /these changes need a restart: sub_directory/);
      const connect = (auth) => fetch(`http://127.0.0.1:${port}/backend/Connect/ilias/1/6`, { headers: { Authorization: auth } })
        .then((r) => r.text());
      assert.equal(await connect(basic('new-key', 'new-secret')), '{"status":200}');
      assert.equal(await connect(basic('key-0', 'secret-0')), '{"status":403,"message":"Access denied"}');
      assert.match(daemon.output, /DEBUG - Access granted for ilias/);
      assert.ok(socket.connected && !disconnected);
      socket.disconnect();
    } finally {
      await daemon.stop();
    }
  });

  test('SIGHUP adds and removes namespaces with their client.cfg names; other sockets stay', async () => {
    const dir = tempDir();
    const port = await freePort();
    const { serverPath, clientPaths } = writeConfig(dir, {
      port, clients: [{ name: 'ilias', database: { name: database } }, { name: 'other', database: { name: database } }],
    });
    const daemon = await startDaemon(serverPath, clientPaths);
    try {
      const staying = await connected(port, 'ilias');
      const leaving = await connected(port, 'other-im');
      let stayingGone = false;
      staying.on('disconnect', () => { stayingGone = true; });
      const leavingGone = new Promise((resolve) => leaving.on('disconnect', resolve));
      const second = JSON.parse(readFileSync(clientPaths[1], 'utf8'));
      writeFileSync(clientPaths[1], JSON.stringify({ ...second, name: 'third', auth: { key: 'k3', secret: 's3' } }));
      const reply = await admin(path.join(dir, 'admin.sock'), { command: 'reload' });
      assert.equal(reply.result, 0, reply.text);
      assert.match(reply.text, /clients added: third, removed: other/);
      assert.equal(await leavingGone, 'io server disconnect');
      const removed = await fetch(`http://127.0.0.1:${port}/backend/Connect/other/1/6`);
      assert.equal(removed.status, 404);
      await eventually(async () => {
        const rooms = (await admin(path.join(dir, 'admin.sock'), { command: 'rooms', arguments: { namespace: 'third' } }));
        assert.deepEqual(Object.keys(rooms.arguments.rooms['/third']).sort(), ['1_0', '2_0', '3_0']);
      });
      const connect = await fetch(`http://127.0.0.1:${port}/backend/Connect/third/1/6`,
        { headers: { Authorization: basic('k3', 's3') } });
      assert.equal(await connect.text(), '{"status":200}');
      const fresh = await connected(port, 'third-im');
      await assert.rejects(connected(port, 'other'));
      assert.ok(staying.connected && !stayingGone);
      const names = (await admin(path.join(dir, 'admin.sock'), { command: 'namespaces' })).arguments.namespaces
        .map((n) => n.name).sort();
      assert.deepEqual(names, ['/', '/ilias', '/ilias-im', '/third', '/third-im']);
      for (const s of [staying, fresh]) s.disconnect();
    } finally {
      assert.deepEqual(await daemon.stop(), { code: 0, signal: null });
    }
  });

  test('admin shutdown stops the daemon with exit 0', async () => {
    const { daemon, dir, port, serverPath, clientPaths } = await startIlias();
    const reply = await admin(path.join(dir, 'admin.sock'), { command: 'shutdown' });
    assert.equal(reply.result, 0);
    assert.deepEqual(await daemon.exitPromise, { code: 0, signal: null });
  });

  test('a second SIGTERM during shutdown exits at once', async () => {
    const { daemon, dir, port, serverPath, clientPaths } = await startIlias();
    daemon.child.kill('SIGTERM');
    daemon.child.kill('SIGTERM');
    const exit = await daemon.exitPromise;
    assert.ok(exit.code === 0 || exit.code === 1, JSON.stringify(exit));
    assert.match(daemon.output, /received: shutting down/);
  });
});

describe('deletion job', () => {
  test('purge-now deletes what is older than the retention period, in every table, and memory follows', async () => {
    const db = 'ilias_it_control_purge';
    createDatabase(db);
    const day = 24 * 3600;
    const now = Math.floor(Date.now() / 1000);
    sql(db, `INSERT INTO chatroom_history (hist_id, room_id, message, timestamp) VALUES
      (1, 1, '{}', ${now - 10 * day}), (2, 1, '{}', ${now - 3600})`);
    sql(db, `INSERT INTO osc_conversation (id, is_group, participants) VALUES
      ('00000000-0000-4000-8000-000000000001', 0, '[{"id":6,"name":"root"},{"id":7,"name":"jdoe"}]'),
      ('00000000-0000-4000-8000-000000000002', 0, '[{"id":6,"name":"root"},{"id":8,"name":"x"}]')`);
    sql(db, `INSERT INTO osc_messages (id, conversation_id, user_id, message, timestamp) VALUES
      ('m1', '00000000-0000-4000-8000-000000000001', 6, 'old', ${(now - 10 * day) * 1000}),
      ('m2', '00000000-0000-4000-8000-000000000002', 6, 'new', ${(now - 60) * 1000})`);
    sql(db, `INSERT INTO osc_activity (conversation_id, user_id, timestamp) VALUES
      ('00000000-0000-4000-8000-000000000001', 6, 0)`);
    const { daemon, dir } = await startIlias(
      { deletion_mode: 1, deletion_unit: 'days', deletion_value: 2, deletion_time: '03:00', deletion_batch: 1 }, db);
    try {
      assert.match(daemon.output, /Clear messages process initialized for 03:00 once a day/);
      const status = await admin(path.join(dir, 'admin.sock'), { command: 'status' });
      assert.equal(status.arguments.conversations, 2);
      const reply = await admin(path.join(dir, 'admin.sock'), { command: 'purge-now' });
      assert.equal(reply.result, 0);
      assert.match(reply.text, /ilias: 1 messages, 1 OSC messages, 1 conversations, 1 activity rows deleted/);
      assert.equal(sql(db, 'SELECT hist_id FROM chatroom_history').trim(), '2');
      assert.equal(sql(db, 'SELECT id FROM osc_messages').trim(), 'm2');
      assert.equal(sql(db, 'SELECT id FROM osc_conversation').trim(), '00000000-0000-4000-8000-000000000002');
      assert.equal(sql(db, 'SELECT COUNT(*) FROM osc_activity').trim(), '0');
      await eventually(async () => {
        const after = await admin(path.join(dir, 'admin.sock'), { command: 'status' });
        assert.equal(after.arguments.conversations, 1);
      });
      assert.match(daemon.output, /Clear Messages for namespace ilias affected 1 rows/);
      assert.match(daemon.output, /Clear process for namespace ilias finished/);
    } finally {
      await daemon.stop();
    }
  });
});

describe('metrics and health', () => {
  test('/metrics exposes every family and the counters move; /healthz and /readyz answer', async () => {
    const { daemon, dir, port, serverPath, clientPaths } = await startIlias();
    try {
      const metricsPort = metricsPortOf(daemon);
      const scrape = async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      const before = await scrape();
      for (const family of ['ilchatd_connections', 'ilchatd_handshakes_total', 'ilchatd_handshake_failures_total',
        'ilchatd_disconnects_total', 'ilchatd_socketio_packets_received_total', 'ilchatd_socketio_packets_sent_total', 'ilchatd_chat_messages_total',
        'ilchatd_bytes_sent_total', 'ilchatd_slow_consumer_disconnects_total', 'ilchatd_backend_requests_total',
        'ilchatd_backend_request_duration_seconds', 'ilchatd_db_query_duration_seconds', 'ilchatd_db_up',
        'ilchatd_db_write_queue_depth', 'ilchatd_deletion_rows_deleted_total', 'ilchatd_config_reloads_total',
        'ilchatd_admin_commands_total', 'ilchatd_build_info', 'ilchatd_rooms', 'ilchatd_conversations',
        'process_resident_memory_bytes', 'process_cpu_seconds_total', 'process_open_fds']) {
        assert.match(before, new RegExp(`^# TYPE ${family} `, 'm'), family);
      }
      assert.equal(seriesValue(before, 'ilchatd_db_up{namespace="ilias"}'), 1);

      const auth = `Basic ${Buffer.from('key-0:secret-0').toString('base64')}`;
      await fetch(`http://127.0.0.1:${port}/backend/Connect/ilias/1/6`, { headers: { Authorization: auth } });
      await fetch(`http://127.0.0.1:${port}/backend/EnterPrivateRoom/ilias/1/6`, { headers: { Authorization: auth } });
      await fetch(`http://127.0.0.1:${port}/socket.io/?EIO=4&transport=flashsocket`);
      const socket = await connected(port, 'ilias');
      socket.emit('login', 'root', 6);
      await new Promise((r) => socket.once('loggedIn', r));
      socket.emit('enterRoom', 1);
      await new Promise((r) => socket.once('userlist', r));
      socket.emit('message', { content: 'counted', format: {} }, 2);  // not entered: ignored (D15)
      socket.emit('message', { content: 'a chat message', format: {} }, 1);
      await admin(path.join(dir, 'admin.sock'), { command: 'version' });
      daemon.child.kill('SIGHUP');

      await eventually(async () => {
        const after = await scrape();
        assert.equal(seriesValue(after, 'ilchatd_handshakes_total{transport="websocket"}'), 1);
        assert.equal(seriesValue(after, 'ilchatd_handshake_failures_total{reason="unknown_transport"}'), 1);
        assert.equal(seriesValue(after, 'ilchatd_backend_requests_total{result="success",route="Connect"}'), 1);
        assert.equal(seriesValue(after, 'ilchatd_socketio_packets_received_total{namespace="ilias"}'), 4);
        assert.equal(seriesValue(after, 'ilchatd_chat_messages_total{kind="room"}'), 1);
        assert.ok(seriesValue(after, 'ilchatd_socketio_packets_sent_total{namespace="ilias"}') >= 4);  // loggedIn, entered, userlist, notice
        assert.ok(seriesValue(after, 'ilchatd_bytes_sent_total') > 100);
        assert.equal(seriesValue(after, 'ilchatd_ignored_events_total{namespace="ilias",reason="not_in_room"}'), 1);
        assert.equal(seriesValue(after, 'ilchatd_admin_commands_total{result="success"}'), 1);
        assert.equal(seriesValue(after, 'ilchatd_config_reloads_total{result="success"}'), 1);
        assert.equal(seriesValue(after, 'ilchatd_connections{namespace="ilias",transport="websocket"}'), 1);
        assert.equal(seriesValue(after, 'ilchatd_rooms{namespace="ilias"}'), 3);
      }, { timeoutMs: 8000, intervalMs: 200 });
      socket.disconnect();
      await eventually(async () => {
        const text = await scrape();
        const closed = (seriesValue(text, 'ilchatd_disconnects_total{reason="client_close"}') ?? 0)
          + (seriesValue(text, 'ilchatd_disconnects_total{reason="transport_close"}') ?? 0);
        assert.equal(closed, 1);
      });

      assert.equal(await (await fetch(`http://127.0.0.1:${metricsPort}/healthz`)).text(), 'ok');
      const ready = await fetch(`http://127.0.0.1:${metricsPort}/readyz`);
      assert.equal(ready.status, 200);
      assert.equal((await fetch(`http://127.0.0.1:${metricsPort}/nothing`)).status, 404);
      const stats = await admin(path.join(dir, 'admin.sock'), { command: 'stats' });
      assert.match(stats.text, /^ilchatd_build_info\{version="[\d.]+"\} 1$/m);
    } finally {
      await daemon.stop();
    }
  });
});
