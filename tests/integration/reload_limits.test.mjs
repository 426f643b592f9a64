// Limits that a reload applies to a running ilchatd (Engine.IO pings and max_payload, html_escape)
// without dropping a socket, the reload's list of what still needs a restart, and the stop: every
// client sees a clean close (close frame, close packet) instead of a reset, within
// shutdown_timeout. control.test.mjs covers the reload and stop basics.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { io } from 'socket.io-client';
import {
  backendGet, createDatabase, eventually, freePort, ilchatctl, recordEvents, run, sqlRows, startDaemon, tempDir,
  writeConfig,
} from './harness.mjs';

const database = 'ilias_it_reload_limits';
const credentials = { key: 'key-0', secret: 'secret-0' };
const delay = (ms) => new Promise((r) => setTimeout(r, ms));

before(() => createDatabase(database));

// A daemon serving client "ilias"; `server` adds server.cfg keys.
async function startIlias(server = {}) {
  const dir = tempDir();
  const port = await freePort();
  const { serverPath, clientPaths } = writeConfig(dir, { port, server, clients: [{ name: 'ilias', database: { name: database } }] });
  const daemon = await startDaemon(serverPath, clientPaths);
  return { daemon, port, serverPath, socketPath: path.join(dir, 'admin.sock') };
}

function changeServerConfig(serverPath, changes) {
  writeFileSync(serverPath, JSON.stringify({ ...JSON.parse(readFileSync(serverPath, 'utf8')), ...changes }));
}

// Reloads through the admin socket and returns the answer.
async function reload(ilias, changes) {
  changeServerConfig(ilias.serverPath, changes);
  const { code, stdout } = await run(ilchatctl, ['reload', '--socket', ilias.socketPath]);
  assert.equal(code, 0, stdout);
  return stdout.trim();
}

// A socket.io-client on /ilias that records how it ends.
async function connect(port, transport) {
  const socket = io(`http://127.0.0.1:${port}/ilias`, { forceNew: true, reconnection: false, transports: [transport] });
  socket.ended = new Promise((resolve) => socket.on('disconnect', (reason, details) => resolve({ reason, details })));
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  return socket;
}

async function assertStaysConnected(sockets, ms = 400) {
  await delay(ms);
  for (const socket of sockets) assert.ok(socket.connected, `${socket.io.engine?.transport?.name} socket dropped`);
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const gaps = (times) => times.slice(1).map((t, i) => t - times[i]);

describe('reload applies limits live', () => {
  test('ping_interval: a SIGHUP shortens the cadence of an open session at its next ping; a longer one is for new sessions', async () => {
    const ilias = await startIlias({ ping_interval: 1000, ping_timeout: 4000 });
    try {
      const socket = await connect(ilias.port, 'websocket');
      const pings = [];
      socket.io.engine.on('ping', () => pings.push(Date.now()));

      changeServerConfig(ilias.serverPath, { ping_interval: 200, ping_timeout: 1000 });
      const reloaded = Date.now();
      ilias.daemon.child.kill('SIGHUP');
      await eventually(() => assert.match(ilias.daemon.output, /INFO - configuration reloaded$/m));
      assert.doesNotMatch(ilias.daemon.output, /need a restart/);
      // The ping scheduled before the reload comes within 1 s; from then on every 200 ms.
      const fast = await eventually(() => {
        const recent = pings.filter((t) => t > reloaded + 1300);
        assert.ok(recent.length >= 6, `${recent.length} pings`);
        return recent;
      }, { timeoutMs: 5000 });
      const fastGap = median(gaps(fast));
      assert.ok(fastGap >= 150 && fastGap < 500, `pings every ${fastGap} ms after the reload`);

      // Its client closes the session when no ping comes within the 1000 + 4000 ms it was told:
      // the open session goes on at most every 1000 ms, a new one is told 5000.
      const raised = Date.now();
      changeServerConfig(ilias.serverPath, { ping_interval: 5000 });
      ilias.daemon.child.kill('SIGHUP');
      await eventually(() => assert.equal(ilias.daemon.output.match(/INFO - configuration reloaded$/gm).length, 2));
      const slow = await eventually(() => {
        const recent = pings.filter((t) => t > raised + 500);
        assert.ok(recent.length >= 3, `${recent.length} pings`);
        return recent;
      }, { timeoutMs: 6000 });
      const slowGap = median(gaps(slow));
      assert.ok(slowGap >= 800 && slowGap < 1500, `pings every ${slowGap} ms after the longer interval`);
      const handshake = await (await fetch(`http://127.0.0.1:${ilias.port}/socket.io/?EIO=4&transport=polling`)).text();
      const open = JSON.parse(handshake.slice(1));
      assert.equal(open.pingInterval, 5000);
      assert.equal(open.pingTimeout, 1000);
      assert.ok(socket.connected, 'the socket stayed connected through both reloads');
      socket.disconnect();
    } finally {
      await ilias.daemon.stop();
    }
  });

  test('max_payload: after a reload lowers it, a larger message is refused on either transport, other sockets stay', async () => {
    const ilias = await startIlias();
    try {
      const [websocket, polling, bystander] = await Promise.all([
        connect(ilias.port, 'websocket'), connect(ilias.port, 'polling'), connect(ilias.port, 'websocket')]);
      const large = 'x'.repeat(4000);
      websocket.emit('noop', large);
      polling.emit('noop', large);
      await assertStaysConnected([websocket, polling, bystander]);

      assert.equal(await reload(ilias, { max_payload: 2048 }), 'configuration reloaded');
      websocket.emit('noop', large);
      polling.emit('noop', large);
      assert.equal((await websocket.ended).reason, 'transport close');
      // Its POST gets 413 and its waiting poll a close packet, whichever the client reads first.
      assert.match((await polling.ended).reason, /^transport (error|close)$/);
      bystander.emit('noop', 'x'.repeat(1500));
      await assertStaysConnected([bystander]);
      const newcomer = await connect(ilias.port, 'polling');
      assert.ok(newcomer.connected);
      bystander.disconnect();
      newcomer.disconnect();
    } finally {
      await ilias.daemon.stop();
    }
  });

  test('html_escape: flipped by a reload, it changes how the next message is escaped', async () => {
    const ilias = await startIlias({ html_escape: true });
    try {
      for (const route of ['Connect/ilias/1/6', 'EnterPrivateRoom/ilias/1/6'])
        assert.equal((await backendGet(ilias.port, route, credentials)).status, 200);
      const socket = await connect(ilias.port, 'websocket');
      const log = recordEvents(socket);
      socket.emit('login', 'root', 6);
      await log.next('loggedIn');
      socket.emit('enterRoom', 1);
      await log.next('private_room_entered');

      socket.emit('message', { content: '<b>before</b>', format: {} }, 1);
      assert.equal((await log.next('message'))[0].content, '&lt;b&gt;before&lt;/b&gt;');
      assert.equal(await reload(ilias, { html_escape: false }), 'configuration reloaded');
      socket.emit('message', { content: '<b>after</b>', format: {} }, 1);
      assert.equal((await log.next('message'))[0].content, '<b>after</b>');
      assert.equal(await reload(ilias, { html_escape: true }), 'configuration reloaded');
      socket.emit('message', { content: '<b>again</b>', format: {} }, 1);
      assert.equal((await log.next('message'))[0].content, '&lt;b&gt;again&lt;/b&gt;');
      socket.disconnect();
    } finally {
      await ilias.daemon.stop();
    }
  });

  test('the reload answer lists only the keys that need a restart', async () => {
    const ilias = await startIlias();
    try {
      const socket = await connect(ilias.port, 'websocket');
      const answer = await reload(ilias, {
        ping_interval: 20000, ping_timeout: 15000, max_payload: 500000, connect_timeout: 30000, upgrade_timeout: 5000,
        send_queue_max_packets: 5000, send_queue_max_bytes: 4194304, html_escape: false, disconnect_grace: 5000,
        shutdown_timeout: 5000, port: ilias.port + 1, sub_directory: '/chat', admin_group: 'daemon',
      });
      assert.equal(answer, 'configuration reloaded; these changes need a restart: port, sub_directory, admin_group');
      // Restart-only keys keep their running values: still served on the old port and path.
      assert.equal(await (await fetch(`http://127.0.0.1:${ilias.port}/backend/Heartbeat/ilias`)).text(), '{"status":200}');
      await assertStaysConnected([socket]);
      socket.disconnect();
    } finally {
      await ilias.daemon.stop();
    }
  });
});

describe('stop', () => {
  test('SIGTERM closes websocket and polling clients cleanly, moves chatroom_users, exits 0 within shutdown_timeout', async () => {
    const ilias = await startIlias({ shutdown_timeout: 4000 });
    try {
      sqlRows(database, 'DELETE FROM chatroom_sessions');
      sqlRows(database, `INSERT INTO chatroom_users (room_id, user_id, userdata, connected) VALUES
        (1, 6, '{"id":6,"login":"root"}', ${Math.floor(Date.now() / 1000)})`);
      const websocket = await connect(ilias.port, 'websocket');
      const polling = await connect(ilias.port, 'polling');
      const started = Date.now();
      ilias.daemon.child.kill('SIGTERM');
      const [exit, atWebsocket, atPolling] = await Promise.all([ilias.daemon.exitPromise, websocket.ended, polling.ended]);
      const took = Date.now() - started;

      assert.deepEqual(exit, { code: 0, signal: null }, ilias.daemon.output);
      assert.ok(took < 4000, `stopped after ${took} ms`);
      // A reset would be 'transport error' (code 1006 on a websocket).
      assert.equal(atWebsocket.reason, 'transport close');
      assert.equal(atWebsocket.details.context.code, 1000);
      assert.equal(atPolling.reason, 'transport close');
      assert.equal(atPolling.details.description, 'transport closed by the server');
      assert.match(ilias.daemon.output, /INFO - Closing 2 connections/);
      assert.match(ilias.daemon.output, /INFO - Server stopped/);
      assert.deepEqual(sqlRows(database, 'SELECT user_id FROM chatroom_users'), []);
      assert.deepEqual(sqlRows(database, 'SELECT room_id, user_id FROM chatroom_sessions'), [['1', '6']]);
    } finally {
      await ilias.daemon.stop('SIGKILL');
    }
  });

  test('while stopping, a polling session between two polls is closed by its next poll; new sessions are refused', async () => {
    const ilias = await startIlias();
    try {
      const url = `http://127.0.0.1:${ilias.port}/socket.io/?EIO=4&transport=polling`;
      const { sid } = JSON.parse((await (await fetch(url)).text()).slice(1));
      ilias.daemon.child.kill('SIGTERM');
      await eventually(() => assert.match(ilias.daemon.output, /INFO - Closing 1 connections/));
      assert.equal((await fetch(url)).status, 503);
      assert.equal(await (await fetch(`${url}&sid=${sid}`)).text(), '1');
      assert.deepEqual(await ilias.daemon.exitPromise, { code: 0, signal: null }, ilias.daemon.output);
    } finally {
      await ilias.daemon.stop('SIGKILL');
    }
  });
});
