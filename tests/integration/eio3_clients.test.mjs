// The real socket.io-client 2.x (2.4.0 and 2.2.0, the libraries ILIAS 5.3 to 7 ship to browsers)
// against the real ilchatd and the conformance echo server: Engine.IO 3 / Socket.IO rev 4 with
// polling and the upgrade, websocket-only and polling-only sessions, both chat namespaces over one
// Manager, client pings across several intervals, reconnection after a restart, acks, binary, and
// a 2.x and a 4.8 client chatting in the same room of the same ilchatd.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { io as io4 } from 'socket.io-client';
import { backendGet, createDatabase, freePort, startDaemon, tempDir, writeConfig } from './harness.mjs';

const require = createRequire(import.meta.url);
const clients = { '2.4.0': require('socket.io-client-2.4'), '2.2.0': require('socket.io-client-2.2') };
const database = 'ilias_it_eio3';
const echoServer = process.env.ILCHAT_ECHO_SERVER;
const fastTimers = { ping_interval: 300, ping_timeout: 200 };
const auth = { key: 'key-0', secret: 'secret-0' };

before(() => createDatabase(database, { schema: 'ilias8' }));

async function startIlchatd(server = fastTimers, port) {
  port ??= await freePort();
  const { serverPath, clientPaths } = writeConfig(tempDir(), { port, server, clients: [{ database: { name: database } }] });
  const daemon = await startDaemon(serverPath, clientPaths);
  return { port, daemon, url: `http://127.0.0.1:${port}` };
}

async function startEcho() {
  const port = await freePort();
  const child = spawn(echoServer, ['--address', '127.0.0.1', '--port', String(port)]);
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('echo server not ready')), 10000);
    child.stdout.on('data', (d) => { if (String(d).includes('listening')) { clearTimeout(timer); resolve(); } });
  });
  return { url: `http://127.0.0.1:${port}`, stop: () => child.kill('SIGTERM') };
}

const live = new Set();
afterEach(() => {
  for (const socket of live) socket.io?.reconnection(false) && socket.close();
  live.clear();
});

function open(io, url, opts = {}) {
  const socket = io(url, { forceNew: true, reconnection: false, ...opts });
  live.add(socket);
  return socket;
}

function waitFor(emitter, event, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${event}' within ${timeoutMs} ms`)), timeoutMs);
    emitter.once(event, (...args) => { clearTimeout(timer); resolve(args); });
  });
}

// The first `event` whose first argument satisfies `match`.
function waitForMatching(emitter, event, match, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { emitter.off(event, handler); reject(new Error(`no matching '${event}'`)); }, timeoutMs);
    const handler = (arg) => {
      if (!match(arg)) return;
      clearTimeout(timer);
      emitter.off(event, handler);
      resolve(arg);
    };
    emitter.on(event, handler);
  });
}

const delay = (ms) => new Promise((r) => setTimeout(r, ms));

// PHP opens the chat for `user` in room 1 (ILIAS 8 route shape with subRoomId 0).
async function php(port, route) {
  const res = await backendGet(port, route, auth);
  assert.equal(res.status, 200, res.body);
  return res.body;
}
async function allowInRoom(port, user) {
  assert.equal(await php(port, `Connect/client0/1/${user}`), '{"status":200}');
  assert.match(await php(port, `EnterPrivateRoom/client0/1/0/${user}`), /"success":true/);
}

// Logs `socket` in as `user` and enters room 1 the way the ILIAS <= 8 room client does.
async function enterRoom(socket, user, name) {
  socket.emit('login', name, user);
  await waitFor(socket, 'loggedIn');
  const userlist = waitFor(socket, 'userlist');
  socket.emit('enterRoom', 1, 0);
  return (await userlist)[0];
}

for (const [version, io] of Object.entries(clients)) {
  describe(`socket.io-client ${version} against the echo server`, () => {
    let echo;
    before(async () => { echo = await startEcho(); });
    after(() => echo?.stop());

    for (const [label, opts] of [['polling, then upgraded to websocket', {}],
      ['websocket only', { transports: ['websocket'] }], ['polling only', { transports: ['polling'] }],
      ['polling only, binary as base64', { transports: ['polling'], forceBase64: true }]]) {
      test(`${label}: events, binary attachments and acks`, async () => {
        const socket = open(io, `${echo.url}/custom`, opts);
        await waitFor(socket, 'connect');
        if (!opts.transports && socket.io.engine.transport.name !== 'websocket') await waitFor(socket.io.engine, 'upgrade');
        const expected = opts.transports?.[0] ?? 'websocket';
        assert.equal(socket.io.engine.transport.name, expected);
        const back = waitFor(socket, 'message-back');
        socket.emit('message', 'grüße 😀', Buffer.from([0, 1, 2, 255]));
        const [text, bytes] = await back;
        assert.equal(text, 'grüße 😀');
        assert.deepEqual([...bytes], [0, 1, 2, 255]);
        const acked = await new Promise((resolve) => socket.emit('message-with-ack', 1, { a: 'b' }, (...args) => resolve(args)));
        assert.deepEqual(acked, [1, { a: 'b' }]);
      });
    }

    test('the session stays up across several client-ping intervals (ping 300 ms, timeout 200 ms)', async () => {
      const socket = open(io, `${echo.url}/custom`);
      await waitFor(socket, 'connect');
      let pongs = 0;
      socket.io.engine.on('pong', () => { pongs += 1; });
      let dropped = null;
      socket.on('disconnect', (reason) => { dropped = reason; });
      await delay(2000);
      assert.equal(dropped, null);
      assert.ok(pongs >= 4, `only ${pongs} pongs in 2 s`);
    });

    test('an unknown namespace is refused with the rev 4 error', async () => {
      const socket = open(io, `${echo.url}/nope`);
      const [error] = await waitFor(socket, 'error');
      assert.equal(error, 'Invalid namespace');
    });
  });

  describe(`socket.io-client ${version} against ilchatd`, () => {
    let server;
    before(async () => { server = await startIlchatd(); });
    after(async () => { assert.deepEqual(await server?.daemon.stop(), { code: 0, signal: null }); });

    test('room chat and On-Screen Chat over one Manager (one Engine.IO session)', async () => {
      const user = 700 + Number(version[2]);
      await allowInRoom(server.port, user);
      const room = open(io, `${server.url}/client0`, { forceNew: false });
      const im = open(io, `${server.url}/client0-im`, { forceNew: false });
      assert.equal(room.io, im.io);
      await Promise.all([waitFor(room, 'connect'), waitFor(im, 'connect')]);
      im.emit('login', user, `user${user}`);
      assert.deepEqual((await waitFor(im, 'login'))[0], { id: user, name: `user${user}` });
      const list = await enterRoom(room, user, `user${user}`);
      assert.ok(Object.values(list.users).some((u) => u.id === user), JSON.stringify(list));
      const echoed = waitFor(room, 'message');
      room.emit('message', { content: '<b>Hi</b> 😀', format: {} }, 1, 0);
      const [message] = await echoed;
      assert.equal(message.content, '&lt;b&gt;Hi&lt;/b&gt; ?');  // escaped on the server, as ILIAS <= 9 expects
      assert.equal(message.roomId, 1);
      assert.equal(message.subRoomId, 0);
      assert.equal(message.from.id, user);
      if (room.io.engine.transport.name !== 'websocket') await waitFor(room.io.engine, 'upgrade');
      assert.equal(room.io.engine.transport.name, 'websocket');
    });

    test('a client that stops pinging is dropped after pingInterval + pingTimeout', async () => {
      const socket = open(io, `${server.url}/client0`, { transports: ['websocket'] });
      await waitFor(socket, 'connect');
      socket.io.engine.setPing = () => {};  // the engine.io-client 3 timer that sends the pings
      clearTimeout(socket.io.engine.pingIntervalTimer);
      const [reason] = await waitFor(socket, 'disconnect', 3000);
      assert.match(reason, /transport close|ping timeout/);
    });
  });
}

describe('socket.io-client 2.x reconnects after ilchatd restarts', () => {
  test('the client comes back by itself and can log in again', async () => {
    let server = await startIlchatd();
    const user = 720;
    await allowInRoom(server.port, user);
    const socket = clients['2.4.0'](`${server.url}/client0`, { forceNew: true, reconnectionDelay: 100, reconnectionDelayMax: 200 });
    live.add(socket);
    try {
      await waitFor(socket, 'connect');
      await enterRoom(socket, user, 'returner');
      const disconnected = waitFor(socket, 'disconnect');
      assert.deepEqual(await server.daemon.stop(), { code: 0, signal: null });
      await disconnected;
      // Listening first: the client may be back before the harness has seen the ready line.
      const reconnected = waitFor(socket, 'reconnect', 15000);
      server = await startIlchatd(fastTimers, server.port);
      await reconnected;
      await allowInRoom(server.port, user);
      const list = await enterRoom(socket, user, 'returner');
      assert.ok(Object.values(list.users).some((u) => u.id === user));
    } finally {
      socket.io.reconnection(false);
      socket.close();
      await server.daemon.stop();
    }
  });
});

describe('ILIAS 7 and ILIAS 8 browsers in the same room', () => {
  let server;
  before(async () => { server = await startIlchatd(); });
  after(async () => { assert.deepEqual(await server?.daemon.stop(), { code: 0, signal: null }); });

  test('a 2.x and a 4.8 client exchange messages, user lists and typing events', async () => {
    const old = { id: 731, name: 'Ilias Seven' };
    const modern = { id: 732, name: 'Ilias Eight' };
    await allowInRoom(server.port, old.id);
    await allowInRoom(server.port, modern.id);
    const a = open(clients['2.4.0'], `${server.url}/client0`);
    const b = open(io4, `${server.url}/client0`);
    await Promise.all([waitFor(a, 'connect'), waitFor(b, 'connect')]);
    await enterRoom(a, old.id, old.name);
    const listSeenByOld = waitFor(a, 'userlist');
    const listOfNew = await enterRoom(b, modern.id, modern.name);
    for (const list of [listOfNew, (await listSeenByOld)[0]])
      assert.deepEqual(Object.values(list.users).map((u) => u.id).sort(), [old.id, modern.id]);

    const atB = waitForMatching(b, 'message', (m) => m.from.id === old.id);
    a.emit('message', { content: 'from seven', format: {} }, 1, 0);
    assert.equal((await atB).content, 'from seven');
    const atA = waitForMatching(a, 'message', (m) => m.from.id === modern.id);
    b.emit('message', { content: 'from eight', format: {} }, 1, 0);
    const fromEight = await atA;
    assert.equal(fromEight.content, 'from eight');
    assert.equal(fromEight.from.id, modern.id);

    const typing = waitFor(a, 'userStartedTyping');
    b.emit('userStartedTyping', 1, 0);
    assert.deepEqual(JSON.parse((await typing)[0].subscriber), { id: modern.id, username: modern.name });
    const stopped = waitFor(b, 'userStoppedTyping');
    a.emit('userStoppedTyping', 1, 0);
    assert.deepEqual(JSON.parse((await stopped)[0].subscriber), { id: old.id, username: old.name });
  });
});
