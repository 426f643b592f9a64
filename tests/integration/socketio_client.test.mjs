// The real socket.io-client 4.8 (the library ILIAS 8-12 ships to browsers) against the real
// ilchatd and against the conformance echo server: polling with upgrade to websocket,
// websocket-only and polling-only, /<name> and /<name>-im sharing one Engine.IO session,
// heartbeats, reconnection after a restart, acks and binary attachments, an unknown namespace,
// a non-empty sub_directory and CORS.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { io, Manager } from 'socket.io-client';
import { createDatabase, freePort, startDaemon, tempDir, writeConfig } from './harness.mjs';

const database = 'ilias_it_socketio';
const echoServer = process.env.ILCHAT_ECHO_SERVER;
if (!echoServer) throw new Error('run through ctest (ILCHAT_ECHO_SERVER missing)');

// Fast heartbeats, so that several ping rounds fit into a short test.
const fastTimers = { ping_interval: 300, ping_timeout: 200 };

before(() => createDatabase(database));

function config(port, server = {}) {
  return writeConfig(tempDir(), { port, server, clients: [{ database: { name: database } }] });
}

async function startIlchatd(server = fastTimers) {
  const port = await freePort();
  const { serverPath, clientPaths } = config(port, server);
  const daemon = await startDaemon(serverPath, clientPaths);
  return { port, daemon, serverPath, clientPaths, url: `http://127.0.0.1:${port}` };
}

// Stops a daemon (SIGTERM): it must exit 0 and must have logged no error meanwhile.
async function stopIlchatd(daemon) {
  if (!daemon) return;
  let exit;
  try {
    exit = await withTimeout(daemon.stop(), 5000, 'stopping ilchatd');
  } catch (e) {
    await daemon.stop('SIGKILL');
    throw e;
  }
  assert.deepEqual(exit, { code: 0, signal: null }, daemon.output);
  assert.doesNotMatch(daemon.output, / ERROR - /);
}

// The conformance echo server (namespaces "/" and "/custom"; pingInterval 300, pingTimeout 200).
async function startEcho() {
  const port = await freePort();
  const child = spawn(echoServer, ['--address', '127.0.0.1', '--port', String(port)]);
  let output = '';
  const exited = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`echo server not ready:\n${output}`)); }, 10000);
    const onData = (d) => {
      output += d;
      if (output.includes('echo server listening on')) { clearTimeout(timer); resolve(); }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    exited.then((e) => { clearTimeout(timer); reject(new Error(`echo server exited ${JSON.stringify(e)}:\n${output}`)); });
  });
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    stop: async () => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM'); return exited; },
  };
}

// Every socket and manager a test opens is closed after it, even when an assertion fails.
const live = new Set();

function connect(url, opts = {}) {
  const socket = io(url, { forceNew: true, reconnection: false, ...opts });
  live.add(socket.io);
  return socket;
}

function manager(url, opts = {}) {
  const m = new Manager(url, { reconnection: false, ...opts });
  live.add(m);
  return m;
}

function closeAll() {
  for (const m of live) {
    m.reconnection(false);
    for (const socket of Object.values(m.nsps)) socket.disconnect();
    m.disconnect();
  }
  live.clear();
}

// Resolves with the event's arguments; rejects after timeoutMs naming the event.
function waitFor(emitter, event, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, handler);
      reject(new Error(`no '${event}' within ${timeoutMs} ms`));
    }, timeoutMs);
    const handler = (...args) => { clearTimeout(timer); resolve(args); };
    emitter.once(event, handler);
  });
}

// Resolves on 'connect'; rejects with the connect_error message or after timeoutMs.
function connected(socket, timeoutMs = 5000) {
  if (socket.connected) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (fn) => { clearTimeout(timer); socket.off('connect', onConnect); socket.off('connect_error', onError); fn(); };
    const onConnect = () => done(resolve);
    const onError = (err) => done(() => reject(new Error(`connect_error on ${socket.nsp}: ${err.message}`)));
    const timer = setTimeout(() => done(() => reject(new Error(`${socket.nsp} not connected within ${timeoutMs} ms`))), timeoutMs);
    socket.on('connect', onConnect);
    socket.on('connect_error', onError);
  });
}

// Resolves once the engine has switched to the websocket (or at once if it already has).
function upgraded(socket, timeoutMs = 5000) {
  const engine = socket.io.engine;
  if (engine.transport.name === 'websocket') return Promise.resolve(engine.transport);
  return waitFor(engine, 'upgrade', timeoutMs).then(([transport]) => transport);
}

const delay = (ms) => new Promise((r) => setTimeout(r, ms));

async function withTimeout(promise, ms, what) {
  let timer;
  try {
    return await Promise.race([promise, new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
    })]);
  } finally {
    clearTimeout(timer);
  }
}

// Engine.IO and Socket.IO ids are 20 characters of base64url.
const idPattern = /^[A-Za-z0-9_-]{20}$/;

// An argument list holding binary data, and a check that what came back is the same.
const binaryArgs = () => [1, '2', Buffer.from([0, 1, 2, 253, 254, 255]), { nested: Buffer.from('héllo'), list: [true, null] }];
function assertBinaryEcho(received) {
  assert.equal(received.length, 4);
  assert.equal(received[0], 1);
  assert.equal(received[1], '2');
  assert.deepEqual([...Buffer.from(received[2])], [0, 1, 2, 253, 254, 255]);
  assert.equal(Buffer.from(received[3].nested).toString(), 'héllo');
  assert.deepEqual(received[3].list, [true, null]);
}

describe('ilchatd: transports', () => {
  let server;
  before(async () => { server = await startIlchatd(); });
  after(async () => { closeAll(); await stopIlchatd(server?.daemon); });
  afterEach(closeAll);

  for (const nsp of ['/client0', '/client0-im']) {
    test(`default transports: ${nsp} connects over polling and upgrades to websocket`, async () => {
      const socket = connect(server.url + nsp);
      const engine = socket.io.engine;
      const upgrade = waitFor(engine, 'upgrade');
      await connected(socket);
      assert.match(engine.id, idPattern);
      assert.match(socket.id, idPattern);
      assert.notEqual(socket.id, engine.id, 'the Socket.IO id is not the Engine.IO sid');
      const [transport] = await upgrade;
      assert.equal(transport.name, 'websocket');
      assert.equal(engine.transport.name, 'websocket');
      // The session survives on the websocket: a server ping arrives and is answered there.
      await waitFor(engine, 'ping', 2000);
      assert.ok(socket.connected);
      assert.equal(engine.readyState, 'open');
    });
  }

  test('websocket-only: the handshake itself happens on the websocket', async () => {
    const socket = connect(server.url + '/client0', { transports: ['websocket'] });
    const engine = socket.io.engine;
    assert.equal(engine.transport.name, 'websocket');
    let upgrades = 0;
    engine.on('upgrade', () => { upgrades++; });
    await connected(socket);
    assert.equal(engine.transport.name, 'websocket');
    assert.match(engine.id, idPattern);
    await waitFor(engine, 'ping', 2000);
    assert.ok(socket.connected);
    assert.equal(upgrades, 0);
  });

  test('polling-only: connects, never upgrades, heartbeats over polling', async () => {
    const socket = connect(server.url + '/client0-im', { transports: ['polling'] });
    const engine = socket.io.engine;
    let upgrading = 0;
    engine.on('upgrading', () => { upgrading++; });
    engine.on('upgrade', () => { upgrading++; });
    await connected(socket);
    // Two server pings over the parked GET, each answered with a POSTed pong.
    await waitFor(engine, 'ping', 2000);
    await waitFor(engine, 'ping', 2000);
    assert.equal(engine.transport.name, 'polling');
    assert.equal(upgrading, 0);
    assert.ok(socket.connected);
  });

  test('/client0 and /client0-im over one Manager share ONE Engine.IO session', async () => {
    // As on an ILIAS repository-chat page: both CONNECTs are queued before the engine opens, so
    // they travel in the same polling POST (`40/client0,<RS>40/client0-im,`).
    const m = manager(server.url);
    const room = m.socket('/client0');
    const osc = m.socket('/client0-im');
    await Promise.all([connected(room), connected(osc)]);
    const engineId = m.engine.id;
    assert.match(engineId, idPattern);
    assert.equal(room.io.engine.id, engineId);
    assert.equal(osc.io.engine.id, engineId);
    assert.notEqual(room.id, osc.id);
    assert.notEqual(room.id, engineId);
    assert.notEqual(osc.id, engineId);

    await upgraded(room);
    assert.equal(m.engine.id, engineId, 'still the same session after the upgrade');
    assert.ok(room.connected && osc.connected);

    // Leaving one namespace leaves the other and the session alone.
    osc.disconnect();
    await waitFor(m.engine, 'ping', 2000);
    await waitFor(m.engine, 'ping', 2000);
    assert.ok(room.connected);
    assert.equal(m.engine.id, engineId);
    assert.equal(m.engine.readyState, 'open');

    // ... and the namespace can be joined again on the same session.
    osc.connect();
    await connected(osc);
    assert.equal(osc.io.engine.id, engineId);
  });

  test('kept alive across several ping intervals (ping_interval 300, ping_timeout 200)', async () => {
    // Default transports (ends on websocket) and polling-only side by side, ~2 s each.
    const observe = async (opts) => {
      const socket = connect(server.url + '/client0', opts);
      const engine = socket.io.engine;
      const pings = [];
      const disconnects = [];
      engine.on('ping', () => pings.push(Date.now()));
      socket.on('disconnect', (reason) => disconnects.push(reason));
      await connected(socket);
      const sid = engine.id;
      await delay(2000);
      return { socket, engine, pings, disconnects, sid };
    };
    const results = await Promise.all([observe({}), observe({ transports: ['polling'] })]);
    for (const [i, r] of results.entries()) {
      const label = i === 0 ? 'default transports' : 'polling-only';
      assert.deepEqual(r.disconnects, [], `${label}: no disconnect`);
      assert.ok(r.socket.connected, `${label}: still connected`);
      assert.equal(r.engine.id, r.sid, `${label}: same session`);
      assert.ok(r.pings.length >= 4, `${label}: at least 4 pings in 2 s, got ${r.pings.length}`);
      assert.ok(r.pings.length <= 10, `${label}: not more than ~1 ping per interval, got ${r.pings.length}`);
      const gaps = r.pings.slice(1).map((t, k) => t - r.pings[k]);
      assert.ok(Math.min(...gaps) >= 150, `${label}: pings spaced by ping_interval, gaps ${gaps}`);
    }
    assert.equal(results[0].engine.transport.name, 'websocket');
    assert.equal(results[1].engine.transport.name, 'polling');
  });

  test('unknown namespace: connect_error "Invalid namespace"; the other namespaces keep working', async () => {
    const m = manager(server.url);
    const room = m.socket('/client0');
    await connected(room);
    const engineId = m.engine.id;

    const nope = m.socket('/nope');
    let nopeConnected = false;
    nope.on('connect', () => { nopeConnected = true; });
    const [err] = await waitFor(nope, 'connect_error');
    assert.equal(err.message, 'Invalid namespace');
    assert.equal(nopeConnected, false);
    assert.equal(nope.connected, false);

    assert.ok(room.connected);
    assert.equal(m.engine.id, engineId);
    await waitFor(m.engine, 'ping', 2000);
    assert.ok(room.connected);
    const osc = m.socket('/client0-im');
    await connected(osc);
    assert.equal(osc.io.engine.id, engineId, 'a further namespace joins the same session');
  });
});

describe('ilchatd: reconnection after a restart', () => {
  let server;
  let second;
  after(async () => {
    closeAll();
    try { await stopIlchatd(server?.daemon); } finally { await stopIlchatd(second); }
  });

  test('the client reconnects to a new ilchatd on the same port and emits connect again', async () => {
    server = await startIlchatd();
    const m = manager(server.url, { reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 500 });
    const room = m.socket('/client0');
    const osc = m.socket('/client0-im');
    await Promise.all([connected(room), connected(osc)]);
    await upgraded(room);
    const firstIds = { engine: m.engine.id, room: room.id, osc: osc.id };

    const disconnected = Promise.all([waitFor(room, 'disconnect'), waitFor(osc, 'disconnect')]);
    const attempt = waitFor(m, 'reconnect_attempt', 5000);
    const exit = await withTimeout(server.daemon.stop('SIGTERM'), 5000, 'stopping ilchatd with clients connected');
    assert.deepEqual(exit, { code: 0, signal: null });
    const [[roomReason], [oscReason]] = await disconnected;
    for (const reason of [roomReason, oscReason]) {
      assert.ok(['transport close', 'transport error'].includes(reason), `disconnect reason ${reason}`);
    }
    assert.ok(room.active && osc.active, 'the client will reconnect on its own');

    // The client retries (and fails) while nothing listens; then the new daemon takes over.
    await attempt;
    const reconnected = Promise.all([waitFor(room, 'connect', 10000), waitFor(osc, 'connect', 10000), waitFor(m, 'reconnect', 10000)]);
    second = await startDaemon(server.serverPath, server.clientPaths);
    await reconnected;
    assert.ok(room.connected && osc.connected);
    assert.notEqual(m.engine.id, firstIds.engine, 'a new Engine.IO session');
    assert.equal(room.io.engine.id, osc.io.engine.id, 'both namespaces again on one session');
    assert.notEqual(room.id, firstIds.room);
    assert.notEqual(osc.id, firstIds.osc);
    await upgraded(room);
    await waitFor(m.engine, 'ping', 2000);
    assert.ok(room.connected && osc.connected);
  });
});

describe('echo server: transports, events and acks', () => {
  let echo;
  before(async () => { echo = await startEcho(); });
  after(async () => { closeAll(); await echo?.stop(); });
  afterEach(closeAll);

  test('websocket-only: events and acks', async () => {
    const socket = connect(echo.url, { transports: ['websocket'] });
    await connected(socket);
    assert.equal(socket.io.engine.transport.name, 'websocket');
    const back = waitFor(socket, 'message-back');
    socket.emit('message', 'over', 'websocket', 42);
    assert.deepEqual(await back, ['over', 'websocket', 42]);
    assert.equal(await socket.emitWithAck('message-with-ack', 'ws'), 'ws');
  });

  test('polling-only: events and acks, no upgrade', async () => {
    const socket = connect(echo.url, { transports: ['polling'] });
    let upgrades = 0;
    socket.io.engine.on('upgrading', () => { upgrades++; });
    socket.io.engine.on('upgrade', () => { upgrades++; });
    await connected(socket);
    const back = waitFor(socket, 'message-back');
    socket.emit('message', 'over', 'polling', 42);
    assert.deepEqual(await back, ['over', 'polling', 42]);
    assert.equal(await socket.emitWithAck('message-with-ack', 'poll'), 'poll');
    // Several messages sent at once (batched into one POST) all come back in order.
    const received = [];
    const all = new Promise((resolve) => socket.on('message-back', (n) => { received.push(n); if (received.length === 20) resolve(); }));
    for (let n = 0; n < 20; n++) socket.emit('message', n);
    await withTimeout(all, 5000, 'echo of 20 messages');
    assert.deepEqual(received, [...Array(20).keys()]);
    await delay(300);
    assert.equal(socket.io.engine.transport.name, 'polling');
    assert.equal(upgrades, 0);
  });

  for (const [label, opts] of [['default transports (after the upgrade)', {}], ['polling-only', { transports: ['polling'] }]]) {
    test(`acks with ${label}: emitWithAck and callbacks get the same arguments back`, async () => {
      const socket = connect(echo.url, opts);
      await connected(socket);
      if (!opts.transports) await upgraded(socket);

      // emitWithAck resolves with the first argument of the ack (socket.io-client 4.8).
      assert.equal(await socket.emitWithAck('message-with-ack', 1, '2', { 3: [true] }), 1);
      const args = await withTimeout(new Promise((resolve) => {
        socket.emit('message-with-ack', 1, '2', { 3: [true] }, (...a) => resolve(a));
      }), 3000, 'ack of message-with-ack');
      assert.deepEqual(args, [1, '2', { 3: [true] }]);

      // Acks are matched by id: several outstanding at once each get their own answer.
      const many = await Promise.all([...Array(10).keys()].map((n) => socket.timeout(3000).emitWithAck('message-with-ack', n)));
      assert.deepEqual(many, [...Array(10).keys()]);

      // An ack carrying binary attachments.
      const binary = await withTimeout(new Promise((resolve) => {
        socket.emit('message-with-ack', ...binaryArgs(), (...a) => resolve(a));
      }), 3000, 'binary ack');
      assertBinaryEcho(binary);
    });

    test(`events with ${label}: message comes back as message-back, binary attachments included`, async () => {
      const socket = connect(echo.url + '/custom', opts);
      await connected(socket);
      if (!opts.transports) await upgraded(socket);
      let back = waitFor(socket, 'message-back');
      socket.emit('message', 1, '2', { 3: [true] });
      assert.deepEqual(await back, [1, '2', { 3: [true] }]);

      back = waitFor(socket, 'message-back');
      socket.emit('message', ...binaryArgs());
      assertBinaryEcho(await back);

      // A larger binary payload (64 KiB) survives the trip byte for byte.
      const big = Buffer.alloc(65536);
      for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
      back = waitFor(socket, 'message-back');
      socket.emit('message', big);
      const [echoed] = await back;
      assert.ok(Buffer.from(echoed).equals(big));
    });
  }

  test('the CONNECT auth payload reaches the server ("auth" event), {} without one', async () => {
    const withAuth = connect(echo.url + '/custom', { auth: { token: 'abc', n: 1 } });
    const withAuthEvent = waitFor(withAuth, 'auth');
    const without = connect(echo.url);
    const withoutEvent = waitFor(without, 'auth');
    assert.deepEqual(await withAuthEvent, [{ token: 'abc', n: 1 }]);
    assert.deepEqual(await withoutEvent, [{}]);
  });

  test('echo server: unknown namespace gets "Invalid namespace"', async () => {
    const m = manager(echo.url);
    const root = m.socket('/');
    await connected(root);
    const nope = m.socket('/nope');
    const [err] = await waitFor(nope, 'connect_error');
    assert.equal(err.message, 'Invalid namespace');
    const back = waitFor(root, 'message-back');
    root.emit('message', 'still here');
    assert.deepEqual(await back, ['still here']);
  });
});

describe('ilchatd: non-empty sub_directory "/chat"', () => {
  let server;
  before(async () => { server = await startIlchatd({ ...fastTimers, sub_directory: '/chat' }); });
  after(async () => { closeAll(); await stopIlchatd(server?.daemon); });
  afterEach(closeAll);

  test('OSC client (path "/chat/socket.io") and room client (path "/chat", D12) both connect and upgrade', async () => {
    const osc = connect(server.url + '/client0-im', { path: '/chat/socket.io' });
    const room = connect(server.url + '/client0', { path: '/chat' });
    await Promise.all([connected(osc), connected(room)]);
    assert.notEqual(osc.io.engine.id, room.io.engine.id, 'different paths, different Managers and sessions');
    const [oscTransport, roomTransport] = await Promise.all([upgraded(osc), upgraded(room)]);
    assert.equal(oscTransport.name, 'websocket');
    assert.equal(roomTransport.name, 'websocket');
    await waitFor(room.io.engine, 'ping', 2000);
    assert.ok(osc.connected && room.connected);
  });

  test('both paths also work polling-only and websocket-only', async () => {
    const sockets = [
      connect(server.url + '/client0-im', { path: '/chat/socket.io', transports: ['polling'] }),
      connect(server.url + '/client0', { path: '/chat', transports: ['polling'] }),
      connect(server.url + '/client0-im', { path: '/chat/socket.io', transports: ['websocket'] }),
      connect(server.url + '/client0', { path: '/chat', transports: ['websocket'] }),
    ];
    await Promise.all(sockets.map((s) => connected(s)));
    assert.deepEqual(sockets.map((s) => s.io.engine.transport.name), ['polling', 'polling', 'websocket', 'websocket']);
  });

  test('the backend heartbeat answers at /chat/backend/... and /backend/...', async () => {
    for (const p of ['/chat/backend/Heartbeat/client0', '/backend/Heartbeat/client0']) {
      const res = await fetch(server.url + p);
      assert.equal(res.status, 200, p);
      assert.equal(await res.text(), '{"status":200}', p);
    }
  });
});

describe('ilchatd: CORS', () => {
  const origin = 'https://ilias.example.org';
  let server;
  before(async () => { server = await startIlchatd(); });
  after(async () => { await stopIlchatd(server?.daemon); });

  test('a polling handshake with an Origin reflects it, with credentials', async () => {
    const res = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling&t=abc`, { headers: { Origin: origin } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), origin);
    assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
    assert.match(res.headers.get('vary') ?? '', /(^|,\s*)Origin(\s*,|$)/i);
    const body = await res.text();
    assert.equal(body[0], '0', `open packet, got ${body}`);
    const open = JSON.parse(body.slice(1));
    assert.match(open.sid, idPattern);
    assert.deepEqual(open.upgrades, ['websocket']);
    assert.equal(open.pingInterval, 300);
    assert.equal(open.pingTimeout, 200);
    assert.equal(typeof open.maxPayload, 'number');

    // The POST of the session carries the same headers; it also closes the session again.
    const post = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling&sid=${open.sid}`, {
      method: 'POST', headers: { Origin: origin, 'Content-Type': 'text/plain;charset=UTF-8' }, body: '1',
    });
    assert.equal(post.status, 200);
    assert.equal(await post.text(), 'ok');
    assert.equal(post.headers.get('access-control-allow-origin'), origin);
    assert.equal(post.headers.get('access-control-allow-credentials'), 'true');
  });

  test('an OPTIONS preflight gets 204 with the allowed methods', async () => {
    const res = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling&t=abc`, {
      method: 'OPTIONS',
      headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), origin);
    assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
    const methods = (res.headers.get('access-control-allow-methods') ?? '').split(',').map((m) => m.trim().toUpperCase());
    for (const m of ['GET', 'POST', 'OPTIONS']) assert.ok(methods.includes(m), `${m} in ${methods}`);
    assert.match(res.headers.get('access-control-allow-headers') ?? '', /content-type/i);
    assert.equal(await res.text(), '');
  });
});
