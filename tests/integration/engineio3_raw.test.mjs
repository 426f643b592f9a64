// Engine.IO 3 / Socket.IO rev 4 on the wire, byte by byte, with raw HTTP and raw websockets against
// the echo server (ilchatd's own network, Engine.IO and Socket.IO layers; /socket.io/ serves "/"
// and "/custom", `message` comes back as `message-back`): the handshake, length framing in UTF-16
// units, client pings, the upgrade, base64 and binary payloads, websocket binary frames, JSONP,
// and every kind of malformed input, each of which closes only its own session.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import WebSocket from 'ws';
import { freePort } from './harness.mjs';

const echoServer = process.env.ILCHAT_ECHO_SERVER;
const ORIGIN = 'https://ilias.example.org';
let port;
let child;

before(async () => {
  port = await freePort();
  child = spawn(echoServer, ['--address', '127.0.0.1', '--port', String(port)]);
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('echo server not ready')), 10000);
    child.stdout.on('data', (d) => { if (String(d).includes('listening')) { clearTimeout(timer); resolve(); } });
  });
});
after(() => child?.kill('SIGTERM'));

// One request on its own connection; body as a Buffer.
function request(method, path, { body, headers = {}, timeoutMs = 3000 } = {}) {
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
  static async open(query = 'EIO=3&transport=polling') {
    const res = await request('GET', `/socket.io/?${query}`);
    assert.equal(res.status, 200, res.body.toString());
    const [open, ...rest] = unframe(res.body.toString());
    const session = new Session(JSON.parse(open.slice(1)).sid);
    session.first = { open, rest, res };
    return session;
  }
  constructor(sid) { this.sid = sid; }
  path(extra = '') { return `/socket.io/?EIO=3&transport=polling&sid=${this.sid}${extra}`; }
  post(body, headers = { 'content-type': 'text/plain;charset=UTF-8' }, extra = '') {
    return request('POST', this.path(extra), { body, headers });
  }
  async postOk(body, headers) {
    const res = await this.post(body, headers);
    assert.equal(res.status, 200, res.body.toString());
    assert.equal(res.body.toString(), 'ok');
  }
  get(extra = '') { return request('GET', this.path(extra)); }
  async records(extra = '') {
    const res = await this.get(extra);
    assert.equal(res.status, 200, res.body.toString());
    return unframe(res.body.toString());
  }
  async assertGone() { assertError(await this.get(), 1, 'Session ID unknown'); }
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
      assert.match(first.res.body.toString(), /^\d+:0\{.*\}2:40/);
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
    await new Promise((r) => setTimeout(r, 800));
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

  test('binary payloads (application/octet-stream) both ways for XHR2 clients', async () => {
    const s = await Session.open();
    await s.postOk(frame('40/custom,'));
    await s.records();
    const text = '451-/custom,["message",{"_placeholder":true,"num":0}]';
    const digits = (n) => [...String(n)].map(Number);
    const body = Buffer.concat([
      Buffer.from([0, ...digits(Buffer.byteLength(text)), 0xff]), Buffer.from(text),
      Buffer.from([1, ...digits(4), 0xff, 4, 1, 2, 3]),
    ]);
    await s.postOk(body, { 'content-type': 'application/octet-stream' });
    const res = await s.get();
    assert.equal(res.headers['content-type'], 'application/octet-stream');
    const back = '451-/custom,["message-back",{"_placeholder":true,"num":0}]';
    assert.deepEqual(res.body, Buffer.concat([
      Buffer.from([0, ...digits(Buffer.byteLength(back)), 0xff]), Buffer.from(back),
      Buffer.from([1, ...digits(4), 0xff, 4, 1, 2, 3]),
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
});

describe('Engine.IO 3 websocket', () => {
  test('upgrade: 2probe -> 3probe, the parked poll gets 1:6, then 5; binary frames carry the type byte', async () => {
    const s = await Session.open();
    await s.postOk(frame('40/custom,'));
    await s.records();
    const parked = s.get();
    await new Promise((r) => setTimeout(r, 100));
    const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=3&transport=websocket&sid=${s.sid}`);
    const frames = [];
    ws.on('message', (data, isBinary) => frames.push(isBinary ? Buffer.from(data) : data.toString()));
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    ws.send('2probe');
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(frames, ['3probe']);
    assert.equal((await parked).body.toString(), '1:6');
    ws.send('5');
    ws.send('451-/custom,["message",{"_placeholder":true,"num":0}]');
    ws.send(Buffer.from([4, 9, 8, 7]));
    ws.send('2');
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(frames.slice(1), ['451-/custom,["message-back",{"_placeholder":true,"num":0}]',
      Buffer.from([4, 9, 8, 7]), '3']);
    ws.close();
  });

  test('a websocket-only session: the open packet with no upgrades, then 40', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=3&transport=websocket`);
    const frames = [];
    ws.on('message', (data) => frames.push(data.toString()));
    await new Promise((r) => setTimeout(r, 300));
    assert.match(frames[0], /^0\{"sid":"[\w-]{20}","upgrades":\[\],"pingInterval":300,"pingTimeout":200\}$/);
    assert.equal(frames[1], '40');
    ws.close();
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
      await new Promise((r) => setTimeout(r, 50));
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

  test('bad binary framing', async () => {
    const other = await Session.open();
    const s = await Session.open();
    assertError(await s.post(Buffer.from([0, 9, 9, 0xff, 0x34]), { 'content-type': 'application/octet-stream' }), 3, 'Bad request');
    await s.assertGone();
    await assertHealthy(other);
  });

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
