// Engine.IO 3 / Socket.IO rev 4 on the wire, byte by byte, with raw HTTP and raw websockets.
// Against the echo server (ilchatd's own network, Engine.IO and Socket.IO layers; /socket.io/ serves
// "/" and "/custom", `message` comes back as `message-back`; pingInterval 300, pingTimeout 200):
// the handshake, length framing in UTF-16 units, client pings and the silence limit, the upgrade,
// base64 and binary payloads, websocket binary frames, JSONP, and every kind of malformed input,
// each of which closes only its own session. Against the real ilchatd (ILIAS 8 schema): the
// handshake with server.cfg's ping settings and without, the client namespaces, a raw Engine.IO 3
// user chatting with a socket.io-client 4.8 user in one room with the ILIAS <= 8 arguments, and
// malformed input from a third session that neither of them notices.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { io } from 'socket.io-client';
import WebSocket from 'ws';
import { backendGet, createDatabase, freePort, recordEvents, startDaemon, tempDir, writeConfig } from './harness.mjs';

const echoServer = process.env.ILCHAT_ECHO_SERVER;
const ORIGIN = 'https://ilias.example.org';
// Where a Session talks to: the echo server unless a test says otherwise.
const echo = { port: 0, path: '/socket.io/' };
let child;

before(async () => {
  echo.port = await freePort();
  child = spawn(echoServer, ['--address', '127.0.0.1', '--port', String(echo.port)]);
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('echo server not ready')), 10000);
    child.stdout.on('data', (d) => { if (String(d).includes('listening')) { clearTimeout(timer); resolve(); } });
  });
});
after(() => child?.kill('SIGTERM'));

// One request on its own connection; body as a Buffer.
function request(method, path, { body, headers = {}, timeoutMs = 3000, port = echo.port } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

function assertError(res, code, message) {
  assert.equal(res.status, 400, res.body.toString());
  assert.equal(res.headers['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(res.body.toString()), { code, message });
}

// Length-framed records as engine.io-parser 2 writes them: the length counts UTF-16 code units.
const frame = (...records) => records.map((r) => `${r.length}:${r}`).join('');
function unframe(text) {
  const records = [];
  while (text.length) {
    const colon = text.indexOf(':');
    const n = Number(text.slice(0, colon));
    records.push(text.slice(colon + 1, colon + 1 + n));
    text = text.slice(colon + 1 + n);
  }
  return records;
}

class Session {
  static async open(query = 'EIO=3&transport=polling', server = echo) {
    const res = await request('GET', `${server.path}?${query}`, { port: server.port });
    assert.equal(res.status, 200, res.body.toString());
    const [open, ...rest] = unframe(res.body.toString());
    const session = new Session(JSON.parse(open.slice(1)).sid, server);
    session.first = { open, rest, res };
    return session;
  }
  constructor(sid, server = echo) {
    this.sid = sid;
    this.server = server;
  }
  path(extra = '') { return `${this.server.path}?EIO=3&transport=polling&sid=${this.sid}${extra}`; }
  post(body, headers = { 'content-type': 'text/plain;charset=UTF-8' }, extra = '') {
    return request('POST', this.path(extra), { body, headers, port: this.server.port });
  }
  // engine.io 3 answers every accepted POST with the two bytes "ok" as text/html.
  async postOk(body, headers, extra) {
    const res = await this.post(body, headers, extra);
    assert.equal(res.status, 200, res.body.toString());
    assert.equal(res.body.toString(), 'ok');
    assert.equal(res.headers['content-type'], 'text/html');
  }
  get(extra = '', timeoutMs = 3000) { return request('GET', this.path(extra), { port: this.server.port, timeoutMs }); }
  async records(extra = '', timeoutMs = 3000) {
    const res = await this.get(extra, timeoutMs);
    assert.equal(res.status, 200, res.body.toString());
    return unframe(res.body.toString());
  }
  // GETs until a record satisfies `match`; every record read on the way, in order.
  async until(match, { timeoutMs = 5000, what = '' } = {}) {
    const deadline = Date.now() + timeoutMs;
    const seen = [];
    while (!seen.some(match)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no record ${what} within ${timeoutMs} ms; read ${JSON.stringify(seen)}`);
      seen.push(...await this.records('', left));
    }
    return seen;
  }
  async assertGone() { assertError(await this.get(), 1, 'Session ID unknown'); }
}

// Resolves once `condition()` holds; fails after timeoutMs (a bound for a stuck test, not a speed check).
async function waitUntil(condition, what, timeoutMs = 3000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} not within ${timeoutMs} ms`);
    await sleep(5);
  }
}

// Another session, opened before the misbehaving one misbehaved, still works (it must ping within
// the echo server's 500 ms, so each check opens its own).
async function assertHealthy(other) {
  await other.postOk(frame('2'));
  const records = await other.records();
  assert.ok(records.includes('3'), JSON.stringify(records));
}

describe('Engine.IO 3 handshake', () => {
  test('EIO=3, a missing EIO and an unknown EIO open a v3 session: one framed payload with 40', async () => {
    for (const query of ['EIO=3&transport=polling', 'transport=polling', 'EIO=abc&transport=polling']) {
      const { first } = await Session.open(query);
      const open = JSON.parse(first.open.slice(1));
      assert.deepEqual(Object.keys(open), ['sid', 'upgrades', 'pingInterval', 'pingTimeout']);
      assert.deepEqual(open.upgrades, ['websocket']);
      assert.equal(open.pingInterval, 300);
      assert.match(open.sid, /^[\w-]{20}$/);
      assert.equal(first.rest[0], '40', 'the auto-connect of "/" right after the open packet');
      assert.equal(first.res.headers['content-type'], 'text/plain; charset=UTF-8');
      assert.equal(first.res.headers['set-cookie'][0], `io=${open.sid}; Path=/; HttpOnly`);
      const openPacket = `0{"sid":"${open.sid}","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200}`;
      assert.ok(first.res.body.toString().startsWith(`${openPacket.length}:${openPacket}2:40`), first.res.body.toString());
    }
  });

  test('CORS: the Origin reflected with credentials, * without an Origin, also on errors', async () => {
    const withOrigin = await request('GET', '/socket.io/?EIO=3&transport=polling', { headers: { origin: ORIGIN } });
    assert.equal(withOrigin.headers['access-control-allow-origin'], ORIGIN);
    assert.equal(withOrigin.headers['access-control-allow-credentials'], 'true');
    const without = await request('GET', '/socket.io/?EIO=3&transport=polling');
    assert.equal(without.headers['access-control-allow-origin'], '*');
    const error = await request('GET', '/socket.io/?EIO=3&transport=polling&sid=nope', { headers: { origin: ORIGIN } });
    assertError(error, 1, 'Session ID unknown');
    assert.equal(error.headers['access-control-allow-origin'], ORIGIN);
    assert.equal(error.headers['access-control-allow-credentials'], 'true');
    const errorWithout = await request('GET', '/socket.io/?EIO=3&transport=flashsocket');
    assertError(errorWithout, 0, 'Transport unknown');
    assert.equal(errorWithout.headers['access-control-allow-origin'], '*');
    assert.equal(errorWithout.headers['access-control-allow-credentials'], undefined);
    for (const headers of [{ origin: ORIGIN }, {}]) {
      const s = await Session.open();
      const malformed = await s.post('x:2', { 'content-type': 'text/plain;charset=UTF-8', ...headers });
      assertError(malformed, 3, 'Bad request');
      assert.equal(malformed.headers['access-control-allow-origin'], headers.origin ?? '*');
      assert.equal(malformed.headers['access-control-allow-credentials'], headers.origin ? 'true' : undefined);
    }
  });

  test('the errors of engine.io 3: unknown transport, bad handshake method', async () => {
    assertError(await request('GET', '/socket.io/?EIO=3&transport=flashsocket'), 0, 'Transport unknown');
    assertError(await request('POST', '/socket.io/?EIO=3&transport=polling', { body: '1:2' }), 2, 'Bad handshake method');
  });
});

describe('Engine.IO 3 polling', () => {
  test('two CONNECTs in one POST are both answered; an unknown namespace gets the rev 4 error', async () => {
    const s = await Session.open();
    await s.postOk(frame('40/custom,', '40/nope,'));
    const records = await s.records();
    assert.ok(records.includes('40/custom,'), JSON.stringify(records));
    assert.ok(records.includes('44/nope,"Invalid namespace"'), JSON.stringify(records));
  });

  test('a ?query after the namespace is ignored; 41 leaves one namespace and "/" goes on', async () => {
    const s = await Session.open();
    await s.postOk(frame('40/custom?token=abc&x=1,'));
    assert.ok((await s.records()).includes('40/custom,'));
    await s.postOk(frame('41/custom,', '42/custom,["message","left"]', '42["message","still here"]'));
    assert.deepEqual(await s.records(), ['42["message-back","still here"]']);
  });

  test('no connect timeout for v3: a session that only pings CONNECTs after the echo server\'s 1 s', async () => {
    const s = await Session.open();
    for (let i = 0; i < 9; i++) {
      await sleep(150);
      await s.postOk(frame('2'));
      assert.deepEqual(await s.records(), ['3']);
    }
    await s.postOk(frame('40/custom,'));
    assert.ok((await s.records()).includes('40/custom,'));
  });

  test('an event with an ack id is acknowledged as 43 with the same id', async () => {
    const s = await Session.open();
    await s.postOk(frame('40/custom,'));
    await s.records();
    await s.postOk(frame('42/custom,17["message-with-ack",1,{"a":"b"}]'));
    assert.deepEqual(await s.records(), ['43/custom,17[1,{"a":"b"}]']);
  });

  test('lengths count UTF-16 units both ways (an emoji counts 2)', async () => {
    const s = await Session.open();
    await s.postOk(frame('40/custom,'));
    await s.records();
    const event = '42/custom,["message","Hi 😀 ä"]';
    const body = frame(event);
    assert.ok(body.startsWith(`${event.length}:`) && event.length !== Buffer.byteLength(event));
    await s.postOk(body);
    const res = await s.get();
    assert.equal(res.body.toString(), frame('42/custom,["message-back","Hi 😀 ä"]'));
  });

  test('the client pings: 2 is answered 3; a silent session is closed after pingInterval + pingTimeout', async () => {
    const s = await Session.open();
    await s.postOk(frame('2'));
    assert.deepEqual(await s.records(), ['3']);
    // Pinging keeps it alive well past pingInterval + pingTimeout (500 ms).
    for (let i = 0; i < 6; i++) {
      await sleep(150);
      await s.postOk(frame('2'));
      assert.deepEqual(await s.records(), ['3']);
    }
    // Silent from here: the parked poll gets no ping from the server (Engine.IO 3 clients ping),
    // only the end of the session.
    const parked = await s.get('', 5000);
    assert.equal(parked.status, 200, parked.body.toString());
    assert.ok(!unframe(parked.body.toString()).includes('2'), parked.body.toString());
    await sleep(800);
    await s.assertGone();
  });

  test('b64=1: a binary attachment comes back as a b4 record', async () => {
    const s = await Session.open('EIO=3&transport=polling&b64=1');
    await s.postOk(frame('40/custom,'));
    await s.records('&b64=1');
    await s.postOk(frame('451-/custom,["message",{"_placeholder":true,"num":0}]', 'b4AQID'));
    const records = await s.records('&b64=1');
    assert.deepEqual(records, ['451-/custom,["message-back",{"_placeholder":true,"num":0}]', 'b4AQID']);
  });

  test('binary payloads (application/octet-stream) both ways for XHR2 clients; string records count UTF-8 bytes', async () => {
    const s = await Session.open();
    await s.postOk(frame('40/custom,'));
    await s.records();
    const text = '452-/custom,["message",{"_placeholder":true,"num":0},"😀 ä",{"_placeholder":true,"num":1}]';
    const digits = (n) => [...String(n)].map(Number);
    const body = Buffer.concat([
      Buffer.from([0, ...digits(Buffer.byteLength(text)), 0xff]), Buffer.from(text),
      Buffer.from([1, ...digits(4), 0xff, 4, 1, 2, 3]),
      Buffer.from([1, ...digits(1), 0xff, 4]),
    ]);
    await s.postOk(body, { 'content-type': 'application/octet-stream' });
    const res = await s.get();
    assert.equal(res.headers['content-type'], 'application/octet-stream');
    const back = '452-/custom,["message-back",{"_placeholder":true,"num":0},"😀 ä",{"_placeholder":true,"num":1}]';
    assert.deepEqual(res.body, Buffer.concat([
      Buffer.from([0, ...digits(Buffer.byteLength(back)), 0xff]), Buffer.from(back),
      Buffer.from([1, ...digits(4), 0xff, 4, 1, 2, 3]),
      Buffer.from([1, ...digits(1), 0xff, 4]),
    ]));
  });

  test('JSONP: the GET answers a ___eio[j] script, the POST takes a d= form with escaped newlines', async () => {
    const open = await request('GET', '/socket.io/?EIO=3&transport=polling&j=4');
    assert.equal(open.headers['content-type'], 'text/javascript; charset=UTF-8');
    const script = open.body.toString();
    const match = /^___eio\[4\]\((".*")\);$/s.exec(script);
    assert.ok(match, script);
    const s = new Session(JSON.parse(unframe(JSON.parse(match[1]))[0].slice(1)).sid);
    const payload = frame('40/custom,', '42/custom,["message","a\\nb"]');
    // engine.io-client 3 escapes a backslash-n as backslash-newline, then every newline as \n.
    const form = `d=${encodeURIComponent(payload.replace(/\\n/g, '\\\n').replace(/\n/g, '\\n'))}`;
    const res = await s.post(form, { 'content-type': 'application/x-www-form-urlencoded' }, '&j=4');
    assert.equal(res.body.toString(), 'ok');
    const answer = (await s.get('&j=4')).body.toString();
    const inner = JSON.parse(/^___eio\[4\]\((".*")\);$/s.exec(answer)[1]);
    assert.ok(unframe(inner).includes('42/custom,["message-back","a\\nb"]'), inner);
  });

  test('JSONP: U+2028 and U+2029 are escaped in the script; binary comes back as b4', async () => {
    const open = await request('GET', '/socket.io/?EIO=3&transport=polling&j=0');
    const s = new Session(JSON.parse(unframe(JSON.parse(/^___eio\[0\]\((".*")\);$/s.exec(open.body.toString())[1]))[0].slice(1)).sid);
    const form = (payload) => `d=${encodeURIComponent(payload)}`;
    const formType = { 'content-type': 'application/x-www-form-urlencoded' };
    await s.postOk(form(frame('40/custom,')), formType, '&j=0');
    assert.match((await s.get('&j=0')).body.toString(), /40\/custom,/);
    await s.postOk(form(frame('42/custom,["message","a\u2028b\u2029c"]')), formType, '&j=0');
    const script = (await s.get('&j=0')).body.toString();
    assert.ok(!script.includes('\u2028') && !script.includes('\u2029'), 'no raw line separators in a script');
    assert.ok(script.includes('\\u2028') && script.includes('\\u2029'), script);
    const [, literal] = /^___eio\[0\]\((".*")\);$/s.exec(script);
    assert.deepEqual(unframe(JSON.parse(literal)), ['42/custom,["message-back","a\u2028b\u2029c"]']);
    await s.postOk(form(frame('451-/custom,["message",{"_placeholder":true,"num":0}]', 'b4AQID')), formType, '&j=0');
    const binary = (await s.get('&j=0')).body.toString();
    assert.deepEqual(unframe(JSON.parse(/^___eio\[0\]\((".*")\);$/s.exec(binary)[1])),
      ['451-/custom,["message-back",{"_placeholder":true,"num":0}]', 'b4AQID']);
  });
});

describe('Engine.IO 3 websocket', () => {
  test('upgrade: 2probe -> 3probe, the parked poll gets 1:6, then 5; binary frames carry the type byte', async () => {
    const s = await Session.open();
    await s.postOk(frame('40/custom,'));
    await s.records();
    const parked = s.get();
    await sleep(100);                                  // the poll is parked before the probe
    const ws = new WebSocket(`ws://127.0.0.1:${echo.port}/socket.io/?EIO=3&transport=websocket&sid=${s.sid}`);
    const frames = [];
    ws.on('message', (data, isBinary) => frames.push(isBinary ? Buffer.from(data) : data.toString()));
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    ws.send('2probe');
    await waitUntil(() => frames.length >= 1, `3probe (frames ${JSON.stringify(frames)})`);
    assert.deepEqual(frames, ['3probe']);
    assert.equal((await parked).body.toString(), '1:6');
    ws.send('5');
    ws.send('451-/custom,["message",{"_placeholder":true,"num":0}]');
    ws.send(Buffer.from([4, 9, 8, 7]));
    ws.send('2');
    await waitUntil(() => frames.length >= 4, `three more frames (frames ${JSON.stringify(frames)})`);
    assert.deepEqual(frames.slice(1), ['451-/custom,["message-back",{"_placeholder":true,"num":0}]',
      Buffer.from([4, 9, 8, 7]), '3']);
    ws.close();
  });

  test('a websocket-only session: the open packet with no upgrades, then 40', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${echo.port}/socket.io/?EIO=3&transport=websocket`);
    const frames = [];
    ws.on('message', (data) => frames.push(data.toString()));
    await waitUntil(() => frames.length >= 2, `two frames (frames ${JSON.stringify(frames)})`);
    assert.match(frames[0], /^0\{"sid":"[\w-]{20}","upgrades":\[\],"pingInterval":300,"pingTimeout":200\}$/);
    assert.equal(frames[1], '40');
    ws.close();
  });

  test('a websocket-only session: 2 is answered 3, and silence ends it without a server ping', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${echo.port}/socket.io/?EIO=3&transport=websocket`);
    const frames = [];
    ws.on('message', (data) => frames.push(data.toString()));
    const closed = new Promise((resolve) => ws.once('close', (code) => resolve(code)));
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    for (let i = 0; i < 4; i++) {
      ws.send('2');
      await sleep(150);
    }
    assert.equal(frames.filter((f) => f === '3').length, 4, JSON.stringify(frames));
    let gaveUp = false;
    const timer = setTimeout(() => { gaveUp = true; ws.terminate(); }, 5000);
    await closed;
    clearTimeout(timer);
    assert.equal(gaveUp, false, `the silent websocket was still open after 5 s: ${JSON.stringify(frames)}`);
    assert.ok(!frames.includes('2'), JSON.stringify(frames));
  });
});

describe('malformed Engine.IO 3 input: 400 code 3, that session closed, nobody else notices', () => {
  const bodies = {
    'a length that is not digits': 'x:2',
    'an empty length': ':2',
    'digits without a colon': '12',
    'a length past the body': '9:2',
    'a length that cuts a surrogate pair': `2:4${'😀'}`,
    'an unknown packet type': '1:9',
    'an empty body': '',
  };
  for (const [what, body] of Object.entries(bodies)) {
    test(what, async () => {
      const other = await Session.open();
      const s = await Session.open();
      const parked = s.get();
      await sleep(50);                                 // the poll is parked before the bad POST
      assertError(await s.post(body), 3, 'Bad request');
      assert.equal((await parked).body.toString(), '1:1', 'the parked poll learns of the close');
      await s.assertGone();
      await assertHealthy(other);
    });
  }

  test('invalid UTF-8', async () => {
    const other = await Session.open();
    const s = await Session.open();
    assertError(await s.post(Buffer.from([0x33, 0x3a, 0x34, 0xff, 0xfe])), 3, 'Bad request');
    await s.assertGone();
    await assertHealthy(other);
  });

  const badBinary = {
    'a binary length past the body': [0, 9, 9, 0xff, 0x34],
    'a record kind other than 0 and 1': [2, 1, 0xff, 0x34],
    'a length byte that is no digit': [0, 1, 0x31, 0xff, 0x34],
    'a length without its 0xFF end': [0, 1, 1],
    'a binary record without its type byte': [1, 0, 0xff],
  };
  for (const [what, bytes] of Object.entries(badBinary)) {
    test(`bad binary framing: ${what}`, async () => {
      const other = await Session.open();
      const s = await Session.open();
      assertError(await s.post(Buffer.from(bytes), { 'content-type': 'application/octet-stream' }), 3, 'Bad request');
      await s.assertGone();
      await assertHealthy(other);
    });
  }

  test('JSONP with a j that is not a number', async () => {
    const other = await Session.open();
    assertError(await request('GET', '/socket.io/?EIO=3&transport=polling&j=1);alert(1)//'), 3, 'Bad request');
    const s = await Session.open();
    assertError(await s.get('&j=abc'), 3, 'Bad request');
    await s.assertGone();
    await assertHealthy(other);
  });

  test('a v4 session on the same server is not affected', async () => {
    const res = await request('GET', '/socket.io/?EIO=4&transport=polling');
    assert.match(res.body.toString(), /^0\{.*"maxPayload":\d+\}$/);
  });
});

// ---------------------------------------------------------------------------------------------
// The real ilchatd

const database = 'ilias_it_raw_eio3';
const CREDENTIALS = { key: 'key-0', secret: 'secret-0' };

before(() => createDatabase(database, { schema: 'ilias8' }));

async function launch(server) {
  const port = await freePort();
  const { serverPath, clientPaths } = writeConfig(tempDir('ilchat-it-raw3-'), {
    port, server, clients: [{ database: { name: database } }],
  });
  const daemon = await startDaemon(serverPath, clientPaths);
  return { port, daemon, path: `${server.sub_directory ?? ''}/socket.io/` };
}

async function stop(target) {
  if (!target) return;
  assert.deepEqual(await target.daemon.stop(), { code: 0, signal: null }, target.daemon.output);
  assert.doesNotMatch(target.daemon.output, / ERROR - /);
}

describe('ilchatd: handshake with and without server.cfg ping settings', () => {
  let plain;
  let fast;
  before(async () => {
    plain = await launch({});
    fast = await launch({ ping_interval: 300, ping_timeout: 200, sub_directory: '/chat' });
  });
  after(async () => {
    await stop(plain);
    await stop(fast);
  });

  test('unset: pingInterval 25000 and pingTimeout 5000 for v3 (20000 for v4), byte by byte', async () => {
    const res = await request('GET', '/socket.io/?EIO=3&transport=polling', { port: plain.port, headers: { origin: ORIGIN } });
    assert.equal(res.status, 200);
    const sid = /"sid":"([\w-]{20})"/.exec(res.body.toString())?.[1];
    assert.ok(sid, res.body.toString());
    const open = `0{"sid":"${sid}","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000}`;
    assert.equal(res.body.toString(), `${open.length}:${open}2:40`);
    assert.equal(res.headers['content-type'], 'text/plain; charset=UTF-8');
    assert.deepEqual(res.headers['set-cookie'], [`io=${sid}; Path=/; HttpOnly`]);
    assert.equal(res.headers['access-control-allow-origin'], ORIGIN);
    assert.equal(res.headers['access-control-allow-credentials'], 'true');

    const v4 = (await request('GET', '/socket.io/?EIO=4&transport=polling', { port: plain.port })).body.toString();
    assert.match(v4, /^0\{"sid":"[\w-]{20}","upgrades":\["websocket"\],"pingInterval":25000,"pingTimeout":20000,"maxPayload":\d+\}$/);

    const ws = new WebSocket(`ws://127.0.0.1:${plain.port}/socket.io/?EIO=3&transport=websocket`);
    const frames = [];
    ws.on('message', (data) => frames.push(data.toString()));
    try {
      await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
      await waitUntil(() => frames.length >= 2, `two frames (frames ${JSON.stringify(frames)})`);
      assert.match(frames[0], /^0\{"sid":"[\w-]{20}","upgrades":\[\],"pingInterval":25000,"pingTimeout":5000\}$/);
      assert.equal(frames[1], '40');
    } finally {
      ws.close();
    }
  });

  test('set: both generations use ping_interval and ping_timeout, at <sub_directory>/socket.io/ and <sub_directory>/', async () => {
    for (const path of ['/chat/socket.io/', '/chat/']) {
      const v3 = (await request('GET', `${path}?EIO=3&transport=polling`, { port: fast.port })).body.toString();
      assert.match(v3, /^\d+:0\{"sid":"[\w-]{20}","upgrades":\["websocket"\],"pingInterval":300,"pingTimeout":200\}2:40$/, path);
      const v4 = (await request('GET', `${path}?EIO=4&transport=polling`, { port: fast.port })).body.toString();
      assert.match(v4, /"pingInterval":300,"pingTimeout":200,"maxPayload":\d+\}$/, path);
    }
  });

  test('set: a pinging v3 session lives on, a silent one is closed after pingInterval + pingTimeout', async () => {
    const server = { port: fast.port, path: '/chat/socket.io/' };
    const s = await Session.open('EIO=3&transport=polling', server);
    for (let i = 0; i < 6; i++) {
      await sleep(150);
      await s.postOk(frame('2'));
      assert.deepEqual(await s.records(), ['3']);
    }
    const parked = await s.get('', 5000);
    assert.equal(parked.status, 200, parked.body.toString());
    assert.ok(!unframe(parked.body.toString()).includes('2'), `no ping from the server: ${parked.body}`);
    await sleep(800);
    await s.assertGone();
  });
});

describe('ilchatd: a raw Engine.IO 3 user and a socket.io-client 4.8 user in one room (ILIAS 8)', () => {
  const v4User = { id: 6, name: 'root' };
  const v3User = { id: 7, name: 'Rita Raw' };
  let chat;
  let server;
  let v4;
  let v4Log;
  let raw;
  const disconnects = [];

  before(async () => {
    chat = await launch({});
    server = { port: chat.port, path: '/socket.io/' };
    for (const user of [v4User, v3User]) {
      assert.equal((await backendGet(chat.port, `Connect/client0/1/${user.id}`, CREDENTIALS)).status, 200);
      assert.equal((await backendGet(chat.port, `EnterPrivateRoom/client0/1/0/${user.id}`, CREDENTIALS)).status, 200);
    }
  });
  after(async () => {
    v4?.disconnect();
    await stop(chat);
  });

  test('CONNECTs to the client namespaces and an unknown one in one POST: each answered', async () => {
    const s = await Session.open('EIO=3&transport=polling', server);
    assert.deepEqual(s.first.rest, ['40']);
    await s.postOk(frame('40/client0,', '40/client0-im,', '40/nope,'));
    const records = await s.until((r) => r.startsWith('44'), { what: '44' });
    assert.deepEqual(records.filter((r) => r.startsWith('4')), ['40/client0,', '40/client0-im,', '44/nope,"Invalid namespace"']);
  });

  test('login and enterRoom(1, 0) over raw polling; messages both ways with the 4.8 user', async () => {
    v4 = io(`http://127.0.0.1:${chat.port}/client0`, { forceNew: true, reconnection: false });
    v4Log = recordEvents(v4);
    v4.on('disconnect', (reason) => disconnects.push(reason));
    await new Promise((resolve, reject) => { v4.once('connect', resolve); v4.once('connect_error', reject); });
    v4.emit('login', v4User.name, v4User.id);
    await v4Log.next('loggedIn');
    v4.emit('enterRoom', 1, 0);
    await v4Log.next('private_room_entered');

    raw = await Session.open('EIO=3&transport=polling', server);
    await raw.postOk(frame('40/client0,'));
    await raw.until((r) => r === '40/client0,');
    await raw.postOk(frame(`42/client0,${JSON.stringify(['login', v3User.name, v3User.id])}`));
    assert.ok((await raw.until((r) => r.startsWith('42/client0,["loggedIn"'))).includes('42/client0,["loggedIn"]'));
    await raw.postOk(frame('42/client0,["enterRoom",1,0]'));
    const entered = (await raw.until((r) => r.startsWith('42/client0,["private_room_entered"')))
      .find((r) => r.startsWith('42/client0,["private_room_entered"'));
    const [, payload] = JSON.parse(entered.slice('42/client0,'.length));
    assert.equal(payload.roomId, 1);
    assert.deepEqual(payload.subscriber, { id: v3User.id, username: v3User.name });
    await v4Log.next('userlist', { match: (l) => l?.users?.[v3User.id] !== undefined, what: 'listing the raw user ' });

    // No 4-byte characters here: with html_escape on (the default) they arrive as ? (D13).
    await exchange('Grüße aus Engine.IO 3 ✓', 'Antwort aus Engine.IO 4 – ça va');
  });

  // The raw user says `fromRaw`, the 4.8 user `fromV4`; each arrives at the other.
  async function exchange(fromRaw, fromV4) {
    const event = `42/client0,${JSON.stringify(['message', { content: fromRaw, format: {} }, 1, 0])}`;
    await raw.postOk(frame(event));
    const [got] = await v4Log.next('message', { match: (m) => m?.content === fromRaw, what: 'from the raw user ' });
    assert.deepEqual(got.from, { id: v3User.id, username: v3User.name });
    assert.equal(got.roomId, 1);
    v4.emit('message', { content: fromV4, format: {} }, 1, 0);
    const seen = await raw.until((r) => r.startsWith('42/client0,["message"') && r.includes(fromV4), { what: fromV4 });
    const [name, message] = JSON.parse(seen.find((r) => r.includes(fromV4)).slice('42/client0,'.length));
    assert.equal(name, 'message');
    assert.deepEqual(message.from, { id: v4User.id, username: v4User.name });
  }

  const malformed = {
    'a length that is not digits': ['x:2', {}],
    'a length past the body': ['99:42/client0,[]', {}],
    'invalid UTF-8': [Buffer.from([0x33, 0x3a, 0x34, 0xff, 0xfe]), {}],
    'an unknown packet type': ['1:9', {}],
    'bad binary framing': [Buffer.from([0, 9, 9, 0xff, 0x34]), { 'content-type': 'application/octet-stream' }],
  };
  for (const [what, [body, headers]] of Object.entries(malformed)) {
    test(`${what} from a third session: 400 code 3, that session gone, the room chats on`, async () => {
      assert.ok(raw && v4, 'the room test ran');
      const bad = await Session.open('EIO=3&transport=polling', server);
      await bad.postOk(frame('40/client0,'));
      await bad.until((r) => r === '40/client0,');
      const answer = await bad.post(body, { 'content-type': 'text/plain;charset=UTF-8', ...headers });
      assertError(answer, 3, 'Bad request');
      assert.equal(answer.headers['access-control-allow-origin'], '*');
      await bad.assertGone();
      await exchange(`noch da nach ${what}`, `auch noch da nach ${what}`);
      assert.deepEqual(disconnects, [], 'the 4.8 user was never disconnected');
      assert.equal(v4.connected, true);
    });
  }

  test('JSONP with a bad j on a session: that session gone, the room chats on', async () => {
    const bad = await Session.open('EIO=3&transport=polling', server);
    assertError(await bad.get('&j=x1'), 3, 'Bad request');
    await bad.assertGone();
    await exchange('nach dem falschen j', 'auch nach dem falschen j');
    assert.deepEqual(disconnects, []);
  });
});
