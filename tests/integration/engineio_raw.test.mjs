// Engine.IO 4 / Socket.IO 5 on the wire, byte by byte, against the real ilchatd: raw HTTP
// long-polling and raw websockets (the `ws` package), every malformed input a hostile or confused
// client can send, and the timers (upgrade, connect, ping) and limits (payload, send queue).
// Each test ends by checking that the server still serves everyone else: a long-lived Socket.IO
// session still gets its ping and an answer, and /backend/Heartbeat still answers.
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import nodeHttp from 'node:http';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { createDatabase, freePort, parseHttpResponse, rawRequest, startDaemon, tempDir, writeConfig } from './harness.mjs';

const database = 'ilias_it_raw';
const RS = '\x1e';
const EIO_PATH = '/socket.io/?EIO=4';
const INVALID_NAMESPACE = '{"message":"Invalid namespace"}';

before(() => createDatabase(database, { demo: false }));

// ---------------------------------------------------------------------------------------------
// Daemons

async function launch(server) {
  const port = await freePort();
  const { serverPath, clientPaths } = writeConfig(tempDir('ilchat-it-raw-'), {
    port, server, clients: [{ database: { name: database } }],
  });
  const daemon = await startDaemon(serverPath, clientPaths);
  return { port, daemon, settings: server, ws: `ws://127.0.0.1:${port}` };
}

// ---------------------------------------------------------------------------------------------
// Everything a test opens is closed after it, whatever happened.

const openSockets = new Set();
const openRequests = new Set();

afterEach(() => {
  for (const client of openSockets) client.ws.terminate();
  openSockets.clear();
  for (const req of openRequests) req.destroy();
  openRequests.clear();
});

// ---------------------------------------------------------------------------------------------
// Raw HTTP (node:http, one connection per request, nothing added behind our back)

function http(server, method, path, { headers = {}, body, timeoutMs = 3000 } = {}) {
  const answer = new Promise((resolve, reject) => {
    const allHeaders = { ...headers };
    if (body !== undefined) allHeaders['content-length'] = Buffer.byteLength(body);
    const req = nodeHttp.request({ host: '127.0.0.1', port: server.port, method, path, headers: allHeaders, agent: false });
    openRequests.add(req);
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`${method} ${path.slice(0, 120)}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('response', (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        openRequests.delete(req);
        resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('latin1') });
      });
    });
    req.on('error', (e) => { clearTimeout(timer); openRequests.delete(req); reject(e); });
    req.end(body);
  });
  answer.catch(() => {});  // a request a failed test never awaited is destroyed quietly afterwards
  return answer;
}

function assertEioError(res, status, code, message) {
  assert.equal(res.status, status, `status (body ${res.body})`);
  assert.equal(res.headers['content-type'], 'application/json');
  assert.equal(res.body, JSON.stringify({ code, message }));
}

let tick = 0;

// A long-polling Engine.IO session driven by hand.
class Polling {
  static async open(server) {
    const res = await http(server, 'GET', `${EIO_PATH}&transport=polling&t=h${tick++}`);
    assert.equal(res.status, 200, res.body);
    assert.equal(res.headers['content-type'], 'text/plain; charset=UTF-8');
    assert.match(res.body, /^0\{/);
    const open = JSON.parse(res.body.slice(1));
    assert.deepEqual(open.upgrades, ['websocket']);
    return new Polling(server, open.sid);
  }

  constructor(server, sid) {
    this.server = server;
    this.sid = sid;
  }

  path() { return `${EIO_PATH}&transport=polling&sid=${encodeURIComponent(this.sid)}&t=p${tick++}`; }
  get(options) { return http(this.server, 'GET', this.path(), options); }
  post(body, { headers = {}, ...options } = {}) {
    return http(this.server, 'POST', this.path(), {
      body, headers: { 'content-type': 'text/plain;charset=UTF-8', ...headers }, ...options,
    });
  }

  async postOk(body) {
    const res = await this.post(body);
    assert.equal(res.status, 200, `POST ${JSON.stringify(body).slice(0, 80)}: ${res.body}`);
    assert.equal(res.body, 'ok');
    assert.equal(res.headers['content-type'], 'text/html');
  }

  // GETs until a record satisfies `until`, answering pings; returns every record read.
  async read(until, timeoutMs = 3000) {
    const deadline = Date.now() + timeoutMs;
    const records = [];
    for (;;) {
      const res = await this.get({ timeoutMs: Math.max(1, deadline - Date.now()) });
      assert.equal(res.status, 200, `GET while reading (read so far: ${records.join(' | ')}): ${res.body}`);
      let done = false;
      for (const record of res.body.split(RS)) {
        records.push(record);
        if (record === '2') await this.postOk('3');
        if (until(record)) done = true;
      }
      if (done) return records;
    }
  }

  async join(nsp = '/client0') {
    await this.postOk(`40${nsp},`);
    const records = await this.read((r) => r.startsWith('40'));
    assert.match(records.find((r) => r.startsWith('40')), new RegExp(`^40${nsp},\\{"sid":"[\\w-]{20}"\\}$`));
  }

  // The session no longer exists: a GET is refused as unknown.
  async assertGone() {
    assertEioError(await this.get(), 400, 1, 'Session ID unknown');
  }
}

// ---------------------------------------------------------------------------------------------
// Raw websockets

class Ws {
  constructor(url, { autoPong = true } = {}) {
    this.ws = new WebSocket(url, { perMessageDeflate: false });
    this.autoPong = autoPong;
    this.messages = [];
    this.waiters = [];
    this.pings = 0;
    this.pingWaiters = [];
    this.closeInfo = null;
    openSockets.add(this);
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', resolve);
      this.ws.once('error', reject);
      this.ws.once('unexpected-response', (req, res) => {
        req.destroy();
        reject(Object.assign(new Error(`HTTP ${res.statusCode} instead of 101`), { status: res.statusCode }));
      });
    });
    this.opened.catch(() => {});
    this.ws.on('error', () => {});  // a refusal or reset shows as 'close'
    this.closed = new Promise((resolve) => this.ws.once('close', (code, reason) => {
      this.closeInfo = { code, reason: reason.toString() };
      openSockets.delete(this);
      for (const w of this.waiters.splice(0)) w.reject(new Error(`websocket closed (${code}) while waiting for a message`));
      for (const w of this.pingWaiters.splice(0)) w.reject(new Error(`websocket closed (${code}) while waiting for a ping`));
      resolve(this.closeInfo);
    }));
    this.ws.on('message', (data, isBinary) => {
      const message = isBinary ? data : data.toString();
      if (message === '2' && this.autoPong) {
        this.ws.send('3');
        this.pings += 1;
        for (const w of this.pingWaiters.splice(0)) w.resolve();
        return;
      }
      const waiter = this.waiters.shift();
      if (waiter) waiter.resolve(message);
      else this.messages.push(message);
    });
  }

  send(data, options) { this.ws.send(data, options); }

  next(timeoutMs = 2000) {
    if (this.messages.length) return Promise.resolve(this.messages.shift());
    if (this.closeInfo) return Promise.reject(new Error(`websocket closed (${this.closeInfo.code}), no message`));
    return new Promise((resolve, reject) => {
      const waiter = { resolve, reject };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`no websocket message within ${timeoutMs} ms`));
      }, timeoutMs);
      waiter.resolve = (m) => { clearTimeout(timer); resolve(m); };
      waiter.reject = (e) => { clearTimeout(timer); reject(e); };
      this.waiters.push(waiter);
    });
  }

  nextPing(timeoutMs) {
    if (this.closeInfo) return Promise.reject(new Error(`websocket closed (${this.closeInfo.code}), no ping`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ping within ${timeoutMs} ms`)), timeoutMs);
      this.pingWaiters.push({ resolve: () => { clearTimeout(timer); resolve(); }, reject: (e) => { clearTimeout(timer); reject(e); } });
    });
  }

  async expectClose(timeoutMs = 2000, what = 'the server closes the websocket') {
    let timer;
    const timeout = new Promise((resolve) => { timer = setTimeout(() => resolve(null), timeoutMs); });
    const info = await Promise.race([this.closed, timeout]);
    clearTimeout(timer);
    assert.ok(info, `${what} (not closed within ${timeoutMs} ms)`);
    return info;
  }

  async expectOpenFor(ms, what = 'the websocket stays open') {
    await sleep(ms);
    assert.equal(this.closeInfo, null, `${what}, but it was closed: ${JSON.stringify(this.closeInfo)}`);
  }
}

// A websocket-only Engine.IO session that joined `nsp`.
async function openSession(server, nsp = '/client0', options) {
  const client = new Ws(`${server.ws}${EIO_PATH}&transport=websocket`, options);
  await client.opened;
  const open = await client.next();
  assert.match(open, /^0\{/);
  const handshake = JSON.parse(open.slice(1));
  assert.deepEqual(handshake.upgrades, [], 'a websocket-only session offers no upgrades');
  assert.equal(handshake.maxPayload, server.settings.max_payload ?? 1000000);
  client.sid = handshake.sid;
  if (nsp) {
    client.send(`40${nsp},`);
    assert.match(await client.next(), new RegExp(`^40${nsp},\\{"sid":"[\\w-]{20}"\\}$`));
  }
  return client;
}

// A polling session upgraded to websocket by the probe dance (4.4); returns the websocket.
async function upgrade(polling) {
  const ws = new Ws(`${polling.server.ws}${EIO_PATH}&transport=websocket&sid=${polling.sid}`);
  await ws.opened;
  ws.send('2probe');
  assert.equal(await ws.next(), '3probe');
  ws.send('5');
  return ws;
}

// Long-lived healthy sessions that live through a whole describe block. They are opened a
// fraction of the ping interval apart, so waiting for "the next ping to any of them" costs a
// fraction of the interval, not a whole one, at the end of every test.
class HealthyPool {
  constructor(server, size) {
    this.server = server;
    this.size = size;
    this.sessions = [];
  }

  // Opens the sessions; a session a previous test killed is replaced (that test failed).
  async ensure() {
    const stagger = this.sessions.length === 0;
    for (let i = 0; i < this.size; i++) {
      if (this.sessions[i] && !this.sessions[i].closeInfo) continue;
      if (stagger && i > 0) await sleep(this.server.settings.ping_interval / this.size);
      this.sessions[i] = await openSession(this.server);
      openSockets.delete(this.sessions[i]);  // not closed after each test
    }
  }

  close() { for (const session of this.sessions) session.ws.terminate(); }
}

// The server still serves others: the healthy sessions still get pings and answers, and the
// backend heartbeat answers.
async function assertStillServing(server, healthy) {
  const interval = server.settings.ping_interval;
  await Promise.any(healthy.sessions.map((session) => session.nextPing(interval + 2000)))
    .catch(() => assert.fail(`no healthy session got a ping within ${interval + 2000} ms`));
  for (const session of healthy.sessions) {
    session.send('40/nope,');
    assert.equal(await session.next(), `44/nope,${INVALID_NAMESPACE}`);
  }
  const res = await http(server, 'GET', '/backend/Heartbeat/client0');
  assert.equal(res.status, 200);
  assert.equal(res.body, '{"status":200}');
}

// ---------------------------------------------------------------------------------------------
// One daemon for the protocol errors and limits: long connect timeout, ping every 500 ms (long
// enough that no ping lands inside a polling exchange under test), small payload, queue and
// upgrade limits.

describe('engine.io over raw HTTP and websockets', () => {
  let server;
  let healthy;
  const settings = {
    ping_interval: 500, ping_timeout: 10000, connect_timeout: 45000, upgrade_timeout: 300,
    max_payload: 2048, send_queue_max_packets: 16,
  };

  before(async () => {
    server = await launch(settings);
    healthy = new HealthyPool(server, 5);
  });
  after(async () => {
    healthy?.close();
    const exit = await server?.daemon.stop();
    if (server) assert.deepEqual(exit, { code: 0, signal: null }, server.daemon.output);
  });
  beforeEach(() => healthy.ensure());

  describe('request errors', () => {
    test('unknown sid on GET and POST: 400 code 1 "Session ID unknown"', async () => {
      for (const sid of ['AAAAAAAAAAAAAAAAAAAA', '', '../../etc', '%00']) {
        const ghost = new Polling(server, sid);
        assertEioError(await ghost.get(), 400, 1, 'Session ID unknown');
        assertEioError(await ghost.post('40/client0,'), 400, 1, 'Session ID unknown');
      }
      await assertStillServing(server, healthy);
    });

    test('errors carry the CORS headers of the request origin', async () => {
      const res = await http(server, 'GET', `${EIO_PATH}&transport=polling&sid=nope`, {
        headers: { origin: 'https://ilias.example.org' },
      });
      assertEioError(res, 400, 1, 'Session ID unknown');
      assert.equal(res.headers['access-control-allow-origin'], 'https://ilias.example.org');
      assert.equal(res.headers['access-control-allow-credentials'], 'true');
      await assertStillServing(server, healthy);
    });

    test('EIO other than 4 (or none) opens an Engine.IO 3 session, not an error', async () => {
      for (const query of ['transport=polling', 'EIO=3&transport=polling', 'EIO=5&transport=polling',
        'EIO=abc&transport=polling', 'EIO=&transport=polling', 'EIO=44&transport=polling']) {
        const res = await http(server, 'GET', `/socket.io/?${query}`);
        assert.equal(res.status, 200, query);
        assert.match(res.body, /^\d+:0\{"sid":"[^"]+","upgrades":\["websocket"\],"pingInterval":\d+,"pingTimeout":\d+\}2:40$/,
          query);
      }
      await assertStillServing(server, healthy);
    });

    test('unknown or missing transport: 400 code 0 "Transport unknown"', async () => {
      for (const query of ['EIO=4', 'EIO=4&transport=', 'EIO=4&transport=flashsocket', 'EIO=4&transport=POLLING',
        'EIO=4&transport=jsonp-polling']) {
        assertEioError(await http(server, 'GET', `/socket.io/?${query}`), 400, 0, 'Transport unknown');
        assertEioError(await http(server, 'POST', `/socket.io/?${query}`, { body: '6' }), 400, 0, 'Transport unknown');
      }
      await assertStillServing(server, healthy);
    });

    test('handshake with POST (or another method): 400 code 2 "Bad handshake method"', async () => {
      for (const method of ['POST', 'PUT', 'DELETE']) {
        const res = await http(server, method, `${EIO_PATH}&transport=polling`, { body: '40/client0,' });
        assertEioError(res, 400, 2, 'Bad handshake method');
      }
      await assertStillServing(server, healthy);
    });

    test('transport=websocket over plain HTTP (no Upgrade): 400 code 3 "Bad request"', async () => {
      assertEioError(await http(server, 'GET', `${EIO_PATH}&transport=websocket`), 400, 3, 'Bad request');
      const session = await Polling.open(server);
      assertEioError(await http(server, 'GET', `${EIO_PATH}&transport=websocket&sid=${session.sid}`), 400, 3, 'Bad request');
      await session.join();  // the polling session was not hurt
      await assertStillServing(server, healthy);
    });

    test('a polling request for a session on websocket: 400 code 3 (transport mismatch), session unhurt', async () => {
      const ws = await openSession(server);
      const mismatched = new Polling(server, ws.sid);
      assertEioError(await mismatched.get(), 400, 3, 'Bad request');
      assertEioError(await mismatched.post('6'), 400, 3, 'Bad request');
      ws.send('40/nope,');
      assert.equal(await ws.next(), `44/nope,${INVALID_NAMESPACE}`);
      await assertStillServing(server, healthy);
    });

    test('websocket upgrades with an unknown sid are refused before the 101', async () => {
      for (const query of [`${EIO_PATH}&transport=websocket&sid=AAAAAAAAAAAAAAAAAAAA`,
        '/socket.io/?EIO=3&transport=websocket&sid=AAAAAAAAAAAAAAAAAAAA']) {
        const refused = new Ws(`${server.ws}${query}`);
        await assert.rejects(refused.opened, `no 101 for ${query}`);
        await refused.expectClose(2000);
      }
      await assertStillServing(server, healthy);
    });
  });

  describe('chunked request bodies (Transfer-Encoding: chunked, as nginx without request buffering sends them)', () => {
    const chunkedPost = (session, chunks) => `POST ${session.path()} HTTP/1.1\r\nHost: x\r\n`
      + 'Content-Type: text/plain;charset=UTF-8\r\nTransfer-Encoding: chunked\r\n\r\n'
      + chunks.map((c) => `${Buffer.byteLength(c).toString(16)}\r\n${c}\r\n`).join('') + '0\r\n\r\n';

    test('a chunked POST is decoded and answered ok, with Connection: close', async () => {
      const session = await Polling.open(server);
      const res = parseHttpResponse((await rawRequest(server.port, chunkedPost(session, ['40/cli', 'ent0,']))).text);
      assert.equal(res.status, 200);
      assert.equal(res.body, 'ok');
      assert.equal(res.headers.connection, 'close');
      const records = await session.read((r) => r.startsWith('40'));
      assert.match(records.find((r) => r.startsWith('40')), /^40\/client0,\{"sid":"[\w-]{20}"\}$/);
      await assertStillServing(server, healthy);
    });

    test('chunks split across TCP writes, with extensions and trailers', async () => {
      const session = await Polling.open(server);
      const socket = net.connect(server.port, '127.0.0.1');
      let received = '';
      socket.on('data', (d) => { received += d; });
      const closed = new Promise((resolve) => socket.on('close', resolve));
      await new Promise((resolve) => socket.on('connect', resolve));
      const pieces = [`POST ${session.path()} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n`,
        'b;ext=1\r\n40/cl', 'ient0,\r\n', '0\r\nX-Trailer: yes\r\n', '\r\n'];
      for (const piece of pieces) { socket.write(piece); await sleep(30); }
      await closed;
      assert.equal(parseHttpResponse(received).body, 'ok');
      await session.read((r) => r.startsWith('40/client0,'));
      await assertStillServing(server, healthy);
    });

    test('a request pipelined behind a chunked body: the connection closes, the request works when resent', async () => {
      const session = await Polling.open(server);
      await session.join();
      const get = `GET ${session.path()} HTTP/1.1\r\nHost: x\r\n\r\n`;
      const { text, closed } = await rawRequest(server.port, chunkedPost(session, ['42/client0,["x"]']) + get);
      assert.ok(closed);
      assert.equal(text.match(/HTTP\/1\.1 /g).length, 1);
      assert.equal(parseHttpResponse(text).body, 'ok');
      const res = await session.get();
      assert.equal(res.status, 200);
      await assertStillServing(server, healthy);
    });

    test('a chunked body over max_payload: 413 and the session is gone, as with a length', async () => {
      const session = await Polling.open(server);
      const big = '4' + 'x'.repeat(settings.max_payload);
      const res = parseHttpResponse((await rawRequest(server.port, chunkedPost(session, [big.slice(0, 1000), big.slice(1000)]))).text);
      assert.equal(res.status, 413);
      await session.assertGone();
      await assertStillServing(server, healthy);
    });

    test('malformed chunk framing: 400, the session itself is untouched', async () => {
      const session = await Polling.open(server);
      const bad = `POST ${session.path()} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n40/client0,\r\n0\r\n\r\n`;
      const res = parseHttpResponse((await rawRequest(server.port, bad)).text);
      assert.equal(res.status, 400);
      assert.equal(res.headers.connection, 'close');
      await session.join();
      await assertStillServing(server, healthy);
    });

    test('/backend with a chunked (empty) body answers as usual', async () => {
      const res = parseHttpResponse((await rawRequest(server.port,
        'GET /backend/Heartbeat/client0 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n')).text);
      assert.equal(res.status, 200);
      assert.equal(res.body, '{"status":200}');
    });
  });

  describe('long-polling misuse', () => {
    test('two long-polls at once: the first gets "1", the second 400 code 3, the session is gone', async () => {
      const session = await Polling.open(server);
      const first = session.get();
      await sleep(100);  // the first is parked
      assertEioError(await session.get(), 400, 3, 'Bad request');
      const released = await first;
      assert.equal(released.status, 200);
      assert.equal(released.body, '1');
      await session.assertGone();
      assertEioError(await session.post('6'), 400, 1, 'Session ID unknown');
      await assertStillServing(server, healthy);
    });

    test('a client hanging up on its parked long-poll does not hurt the session', async () => {
      const session = await Polling.open(server);
      await assert.rejects(session.get({ timeoutMs: 100 }), /no answer within/);  // parked, then dropped
      await sleep(200);  // time for the server to see the connection go
      await session.postOk('40/client0,');
      const res = await session.get({ timeoutMs: 2000 });
      assert.equal(res.status, 200, `the next GET: ${res.body}`);
      assert.match(res.body, /^40\/client0,\{"sid":"[\w-]{20}"\}$/,
        'the reply to a CONNECT posted after the hang-up reaches the next GET at once');
      await session.postOk('40/nope,');
      assert.deepEqual((await session.read((r) => r.startsWith('44'))).filter((r) => r !== '2'), [`44/nope,${INVALID_NAMESPACE}`]);
      await assertStillServing(server, healthy);
    });

    test('POST body of max_payload bytes is fine; one byte more: 413 and the session is closed', async () => {
      const session = await Polling.open(server);
      await session.postOk(`6${'x'.repeat(settings.max_payload - 1)}`);  // a noop with data: ignored
      const parked = session.get();
      await sleep(100);  // the GET is parked
      assertEioError(await session.post(`6${'x'.repeat(settings.max_payload)}`), 413, 3, 'Bad request');
      assert.equal((await parked).body, '1', 'the parked GET learns of the close');
      await session.assertGone();

      const other = await Polling.open(server);
      assertEioError(await other.post('x'.repeat(3000)), 413, 3, 'Bad request');
      await other.assertGone();
      await assertStillServing(server, healthy);
    });

    test('a POST announcing a body over max_payload is refused with 413 before it is all sent', async () => {
      // engine.io answers 413 as soon as the received part exceeds maxHttpBufferSize; a server
      // that waits for the whole announced body holds (up to) megabytes per connection.
      const session = await Polling.open(server);
      const socket = net.connect(server.port, '127.0.0.1');
      openRequests.add(socket);
      let received = '';
      socket.on('data', (d) => { received += d; });
      socket.on('error', () => {});
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.write(`POST ${session.path()} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain;charset=UTF-8\r\n`
        + `Content-Length: 10000000\r\n\r\n${'6'.repeat(3000)}`);
      const deadline = Date.now() + 2000;
      while (!received.includes('\r\n\r\n') && Date.now() < deadline) await sleep(20);
      socket.destroy();
      assert.ok(received, 'an answer within 2 s while 9 997 000 announced bytes are still missing');
      const res = parseHttpResponse(received);
      assert.equal(res.status, 413);
      await session.assertGone();
      await assertStillServing(server, healthy);
    });

    for (const [name, body] of [
      ['not a packet ("abc")', 'abc'],
      ['an empty body', ''],
      ['an empty record between separators', `6${RS}${RS}6`],
      ['a trailing separator', `40/client0,${RS}`],
      ['an unknown packet type ("7")', '7'],
      ['a bad base64 binary record', 'b!!!!'],
    ]) {
      test(`garbage POST, ${name}: 400 code 3 and the session is closed`, async () => {
        const session = await Polling.open(server);
        const parked = session.get();
        await sleep(100);  // the GET is parked
        assertEioError(await session.post(body), 400, 3, 'Bad request');
        assert.equal((await parked).body, '1');
        await session.assertGone();
        await assertStillServing(server, healthy);
      });
    }

    test('POST labelled application/octet-stream (binary payloads are not EIO4): 400 code 3, closed', async () => {
      const session = await Polling.open(server);
      assertEioError(await session.post('40/client0,', { headers: { 'content-type': 'application/octet-stream' } }),
        400, 3, 'Bad request');
      await session.assertGone();
      await assertStillServing(server, healthy);
    });

    for (const [name, body] of [
      ['"4" followed by invalid UTF-8', Buffer.from([0x34, 0xff, 0xfe, 0x80])],
      ['an event with invalid UTF-8 in its JSON', Buffer.concat([Buffer.from('42/client0,["'), Buffer.from([0xc3, 0x28]), Buffer.from('"]')])],
    ]) {
      test(`POST of ${name}: 400 and the session is closed`, async () => {
        const session = await Polling.open(server);
        await session.join();
        const parked = session.get();
        await sleep(100);  // the GET is parked
        const res = await session.post(body);
        assert.equal((await parked).body, '1');
        await session.assertGone();
        assertEioError(res, 400, 3, 'Bad request');
        await assertStillServing(server, healthy);
      });
    }

    test('overlapping POSTs: the second is refused with 400 and the session closed ', async () => {
      const session = await Polling.open(server);
      const socket = net.connect(server.port, '127.0.0.1');
      openRequests.add(socket);
      socket.on('error', () => {});
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.write(`POST ${session.path()} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain;charset=UTF-8\r\n`
        + 'Content-Length: 20\r\n\r\n6xxxxx');  // 6 of 20 bytes: this POST is still outstanding
      await sleep(100);
      const second = await session.post('6');
      socket.destroy();
      assertEioError(second, 400, 3, 'Bad request');
      await session.assertGone();
      await assertStillServing(server, healthy);
    });
  });

  describe('socket.io over polling', () => {
    test('unknown namespace: exactly 44/nope,{"message":"Invalid namespace"}; the session stays usable', async () => {
      const session = await Polling.open(server);
      await session.postOk('40/nope,');
      const records = await session.read((r) => r.startsWith('44'));
      assert.deepEqual(records.filter((r) => r !== '2'), [`44/nope,${INVALID_NAMESPACE}`]);
      await session.postOk(`40/client0,${RS}40/client0-im,`);
      const joined = await session.read((r) => r.startsWith('40/client0-im,'));
      assert.ok(joined.some((r) => /^40\/client0,\{"sid":"[\w-]{20}"\}$/.test(r)), joined.join(' | '));
      await assertStillServing(server, healthy);
    });

    test('socket.io garbage inside a valid message packet closes the session', async () => {
      for (const garbage of ['4abc', '42/client0,abc', '42/client0,["connect"]', '42/client0-im,["x"]']) {
        const session = await Polling.open(server);
        await session.join();
        const parked = session.get();
        await sleep(100);  // the GET is parked
        // The Engine.IO payload itself is well-formed: "ok" (as engine.io), then socket.io closes.
        const res = await session.post(garbage);
        assert.equal((await parked).body, '1', `${garbage}: the parked GET gets the close packet`);
        assert.equal(res.status, 200);
        assert.equal(res.body, 'ok');
        await session.assertGone();
      }
      await assertStillServing(server, healthy);
    });
  });

  describe('slow consumer (send_queue_max_packets 16)', () => {
    test('16 queued packets are kept for the next poll', async () => {
      const session = await Polling.open(server);
      await session.postOk(Array(16).fill('40/nope,').join(RS));
      const res = await session.get();
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.split(RS), Array(16).fill(`44/nope,${INVALID_NAMESPACE}`));
      await session.join();
      await assertStillServing(server, healthy);
    });

    test('a 17th queued packet for a session that does not poll closes it', async () => {
      const session = await Polling.open(server);
      await session.postOk(Array(17).fill('40/nope,').join(RS));
      await session.assertGone();
      await assertStillServing(server, healthy);
    });
  });

  describe('invalid socket.io packets over websocket', () => {
    test('valid traffic, unknown events, unsolicited pongs and noops do not close the session', async () => {
      const ws = await openSession(server);
      for (const packet of ['42/client0,["no-such-event"]', '42/client0,7["no-such-event",1]', '43/client0,99[]',
        '3', '6', '40/client0,', '451-/client0,["bin",{"_placeholder":true,"num":0}]']) {
        ws.send(packet);
      }
      ws.send(Buffer.from([1, 2, 3]), { binary: true });  // the attachment the 451- announced
      await ws.expectOpenFor(300);
      ws.send('40/client0-im,');
      assert.match(await ws.next(), /^40\/client0-im,\{"sid":"[\w-]{20}"\}$/);
      await assertStillServing(server, healthy);
    });

    for (const [name, packet] of [
      ['not a socket.io packet (4abc)', 'abc'],
      ['an EVENT that is an object (42{})', '2/client0,{}'],
      ['an EVENT without namespace and with an object (42{})', '2{}'],
      ['a reserved event name (42["connect"])', '2/client0,["connect"]'],
      ['a reserved event name without namespace (42["connect"])', '2["connect"]'],
      ['invalid JSON (42/client0,abc)', '2/client0,abc'],
      ['a namespace never joined (42/client0-im,["x"])', '2/client0-im,["x"]'],
      ['a CONNECT_ERROR from the client', '4/client0,{"message":"x"}'],
      ['a DISCONNECT with payload', '1/client0,["x"]'],
      ['an empty message packet', ''],
    ]) {
      test(`4${packet}: ${name} closes the websocket`, async () => {
        const ws = await openSession(server);
        ws.send(`4${packet}`);
        await ws.expectClose();
        await new Polling(server, ws.sid).assertGone();
        await assertStillServing(server, healthy);
      });
    }

    test('talking in a namespace after leaving it closes the websocket', async () => {
      const ws = await openSession(server);
      ws.send('41/client0,');
      await ws.expectOpenFor(100, 'leaving is fine');
      ws.send('42/client0,["x"]');
      await ws.expectClose();
      await new Polling(server, ws.sid).assertGone();
      await assertStillServing(server, healthy);
    });

    test('a binary frame with no pending binary packet closes the websocket', async () => {
      const ws = await openSession(server);
      ws.send(Buffer.from([0x04, 0x01, 0x02]), { binary: true });
      await ws.expectClose();
      await new Polling(server, ws.sid).assertGone();
      await assertStillServing(server, healthy);
    });

    test('a text packet while binary attachments are expected closes the websocket', async () => {
      const ws = await openSession(server);
      ws.send('452-/client0,["bin",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]');
      ws.send(Buffer.from([1]), { binary: true });
      ws.send('42/client0,["x"]');
      await ws.expectClose();
      await new Polling(server, ws.sid).assertGone();
      await assertStillServing(server, healthy);
    });

    test('unknown namespace over websocket: exactly 44/nope,{...}; the session stays usable', async () => {
      const ws = await openSession(server, null);
      ws.send('40/nope,');
      assert.equal(await ws.next(), `44/nope,${INVALID_NAMESPACE}`);
      ws.send('40/nope,{"token":"x"}');
      assert.equal(await ws.next(), `44/nope,${INVALID_NAMESPACE}`);
      ws.send('40/client0,');
      assert.match(await ws.next(), /^40\/client0,\{"sid":"[\w-]{20}"\}$/);
      await assertStillServing(server, healthy);
    });
  });

  describe('garbage websocket frames', () => {
    for (const [name, frame] of [
      ['a client ping "2" (wrong heartbeat direction in EIO4)', '2'],
      ['a client "2probe" on an established session', '2probe'],
      ['a text frame that is no Engine.IO packet ("x")', 'x'],
      ['an empty text frame', ''],
      ['an open packet from the client', '0{}'],
      ['an upgrade packet on an upgraded session', '5'],
    ]) {
      test(`${name} closes the session`, async () => {
        const ws = await openSession(server);
        const sid = ws.sid;
        ws.send(frame);
        await ws.expectClose();
        await new Polling(server, sid).assertGone();
        await assertStillServing(server, healthy);
      });
    }

    test('a close packet "1" from the client ends the session', async () => {
      const ws = await openSession(server);
      ws.send('1');
      await ws.expectClose();
      await new Polling(server, ws.sid).assertGone();
      await assertStillServing(server, healthy);
    });

    test('a message of max_payload bytes is fine; one byte more closes with 1009', async () => {
      const ws = await openSession(server);
      const fill = (n) => `42/client0,["pad","${'x'.repeat(n - '42/client0,["pad",""]'.length)}"]`;
      ws.send(fill(settings.max_payload));
      await ws.expectOpenFor(200, 'a message of exactly max_payload bytes is accepted');
      ws.send(fill(settings.max_payload + 1));
      const { code } = await ws.expectClose();
      assert.equal(code, 1009);
      await new Polling(server, ws.sid).assertGone();
      await assertStillServing(server, healthy);
    });

    test('a message over max_payload in several fragments closes with 1009', async () => {
      const ws = await openSession(server);
      ws.send('42/client0,["pad","', { fin: false });
      ws.send('x'.repeat(1500), { fin: false });
      ws.send(`${'x'.repeat(1500)}"]`, { fin: true });
      const { code } = await ws.expectClose();
      assert.equal(code, 1009);
      await assertStillServing(server, healthy);
    });

    test('a fragmented message within max_payload is reassembled', async () => {
      const ws = await openSession(server);
      ws.send('40/client', { fin: false });
      ws.send('0-im', { fin: false });
      ws.send(',', { fin: true });
      assert.match(await ws.next(), /^40\/client0-im,\{"sid":"[\w-]{20}"\}$/);
      await assertStillServing(server, healthy);
    });

    test('a text frame with invalid UTF-8 closes with 1007', async () => {
      const ws = await openSession(server);
      ws.send(Buffer.concat([Buffer.from('42/client0,["'), Buffer.from([0xc3, 0x28]), Buffer.from('"]')]), { binary: false });
      const { code } = await ws.expectClose();
      assert.equal(code, 1007);
      await assertStillServing(server, healthy);
    });
  });

  describe('websocket upgrade', () => {
    test('polling upgraded to websocket: parked GET released with 6, polling refused afterwards', async () => {
      const session = await Polling.open(server);
      await session.join();
      const parked = session.get();
      await sleep(100);  // the GET is parked
      const ws = await upgrade(session);
      assert.equal((await parked).body, '6');
      ws.send('40/nope,');
      assert.equal(await ws.next(), `44/nope,${INVALID_NAMESPACE}`);
      assertEioError(await session.get(), 400, 3, 'Bad request');
      await assertStillServing(server, healthy);
    });

    test('a second websocket for an upgraded sid gets its 101 and is closed at once; the first keeps working', async () => {
      const first = await openSession(server);
      const second = new Ws(`${server.ws}${EIO_PATH}&transport=websocket&sid=${first.sid}`);
      await second.opened;
      await second.expectClose(1000, 'the second websocket is closed at once');
      assert.deepEqual(second.messages, [], 'the second websocket got nothing');
      first.send('40/nope,');
      assert.equal(await first.next(), `44/nope,${INVALID_NAMESPACE}`);
      await first.nextPing(settings.ping_interval + 2000);

      const polled = await Polling.open(server);  // also after a polling upgrade
      const upgraded = await upgrade(polled);
      const third = new Ws(`${server.ws}${EIO_PATH}&transport=websocket&sid=${polled.sid}`);
      await third.opened;
      await third.expectClose(1000);
      upgraded.send('40/client0,');
      assert.match(await upgraded.next(), /^40\/client0,\{"sid":"[\w-]{20}"\}$/);
      await assertStillServing(server, healthy);
    });

    test('a second websocket while a probe runs is closed; the probe still completes', async () => {
      const session = await Polling.open(server);
      const probe = new Ws(`${server.ws}${EIO_PATH}&transport=websocket&sid=${session.sid}`);
      await probe.opened;
      probe.send('2probe');
      assert.equal(await probe.next(), '3probe');
      const intruder = new Ws(`${server.ws}${EIO_PATH}&transport=websocket&sid=${session.sid}`);
      await intruder.opened;
      await intruder.expectClose(1000);
      probe.send('5');
      probe.send('40/client0,');
      assert.match(await probe.next(), /^40\/client0,\{"sid":"[\w-]{20}"\}$/);
      await assertStillServing(server, healthy);
    });

    test('upgrade timeout: a probe that never sends "5" is closed after upgrade_timeout; polling goes on', async () => {
      const session = await Polling.open(server);
      const parked = session.get();
      await sleep(100);  // the GET is parked
      const started = Date.now();
      const probe = new Ws(`${server.ws}${EIO_PATH}&transport=websocket&sid=${session.sid}`);
      await probe.opened;
      probe.send('2probe');
      assert.equal(await probe.next(), '3probe');
      assert.equal((await parked).body, '6', 'the parked GET is released with a noop during the probe');
      assert.equal((await session.get()).body, '6', 'polls during the probe are answered with a noop');
      await probe.expectClose(settings.upgrade_timeout + 1500);
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= settings.upgrade_timeout - 50, `probe closed after ${elapsed} ms`);
      // Polling goes on: pings arrive on the long-poll, packets are exchanged.
      await session.read((r) => r === '2', settings.ping_interval + 2000);
      await session.join();
      // And a later probe may still upgrade the session.
      const ws = await upgrade(session);
      ws.send('40/nope,');
      assert.equal(await ws.next(), `44/nope,${INVALID_NAMESPACE}`);
      await assertStillServing(server, healthy);
    });

    test('a probe that sends nothing is closed after upgrade_timeout too', async () => {
      const session = await Polling.open(server);
      const probe = new Ws(`${server.ws}${EIO_PATH}&transport=websocket&sid=${session.sid}`);
      await probe.opened;
      await probe.expectClose(settings.upgrade_timeout + 1500);
      await session.join();
      await assertStillServing(server, healthy);
    });

    test('a probe that sends something else than 2probe/5 is closed; the session stays on polling', async () => {
      for (const wrong of ['5', '2', '40/client0,', 'x']) {
        const session = await Polling.open(server);
        const probe = new Ws(`${server.ws}${EIO_PATH}&transport=websocket&sid=${session.sid}`);
        await probe.opened;
        probe.send(wrong);
        await probe.expectClose(1000, `probe sending ${wrong} is closed`);
        await session.join();
      }
      await assertStillServing(server, healthy);
    });
  });

  describe('request floods', () => {
    test('a 20000-byte request URI: closed or 4xx, server fine', async () => {
      const { text, closed } = await rawRequest(server.port,
        `GET ${EIO_PATH}&transport=polling&x=${'a'.repeat(20000)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`, { timeoutMs: 3000 });
      if (text) assert.ok(parseHttpResponse(text).status >= 400 && parseHttpResponse(text).status < 500, text.slice(0, 200));
      else assert.ok(closed, 'no answer and not closed');
      await assertStillServing(server, healthy);
    });

    test('100 KB of headers, on a poll and on a websocket upgrade: closed or 4xx, server fine', async () => {
      const filler = Array.from({ length: 100 }, (_, i) => `X-Filler-${i}: ${'y'.repeat(1000)}\r\n`).join('');
      for (const head of [
        `GET ${EIO_PATH}&transport=polling HTTP/1.1\r\nHost: 127.0.0.1\r\n`,
        `GET ${EIO_PATH}&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`
          + 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n',
      ]) {
        const { text, closed } = await rawRequest(server.port, `${head}${filler}\r\n`, { timeoutMs: 3000 });
        if (text) {
          const { status } = parseHttpResponse(text);
          assert.ok(status >= 400 && status < 500, text.slice(0, 200));
        } else {
          assert.ok(closed, 'no answer and not closed');
        }
      }
      await assertStillServing(server, healthy);
    });
  });

  test('the long-lived sessions survived everything', async () => {
    for (const session of healthy.sessions) assert.equal(session.closeInfo, null);
    await assertStillServing(server, healthy);
  });
});

// ---------------------------------------------------------------------------------------------
// A second daemon for the timers that would disturb the tests above: a connect timeout shorter
// than the ping interval (so a session that joins nothing sees no ping before it is closed), a
// short ping timeout, and a byte-limited send queue.

describe('engine.io timers and byte limits', () => {
  let server;
  let healthy;
  const settings = {
    ping_interval: 400, ping_timeout: 400, connect_timeout: 200, upgrade_timeout: 10000,
    send_queue_max_packets: 10000, send_queue_max_bytes: 65536,
  };

  before(async () => {
    server = await launch(settings);
    healthy = new HealthyPool(server, 4);
  });
  beforeEach(() => healthy.ensure());
  after(async () => {
    healthy?.close();
    const exit = await server?.daemon.stop();
    if (server) assert.deepEqual(exit, { code: 0, signal: null }, server.daemon.output);
  });

  test('connect timeout: a polling session that joins no namespace is closed', async () => {
    const session = await Polling.open(server);
    const started = Date.now();
    const res = await session.get();  // parked until the close; the first ping is due only later
    const elapsed = Date.now() - started;
    assert.equal(res.status, 200);
    assert.equal(res.body, '1');
    assert.ok(elapsed >= settings.connect_timeout - 50 && elapsed < settings.ping_interval, `closed after ${elapsed} ms`);
    await session.assertGone();
    await assertStillServing(server, healthy);
  });

  test('connect timeout: a websocket session that joins no namespace is closed', async () => {
    const ws = await openSession(server, null);
    await ws.expectClose(settings.connect_timeout + 2000);
    await assertStillServing(server, healthy);
  });

  test('connect timeout: a session that joins in time outlives it', async () => {
    const session = await Polling.open(server);
    await sleep(settings.connect_timeout / 3);
    await session.join();
    await sleep(settings.connect_timeout * 2);
    await session.postOk('40/nope,');
    const records = await session.read((r) => r.startsWith('44'));
    assert.deepEqual(records.filter((r) => r !== '2'), [`44/nope,${INVALID_NAMESPACE}`]);
    await assertStillServing(server, healthy);
  });

  test('ping timeout: a websocket session that never answers pings is closed', async () => {
    const ws = await openSession(server, '/client0', { autoPong: false });
    assert.equal(await ws.next(settings.ping_interval + 1000), '2');
    const pinged = Date.now();
    await ws.expectClose(settings.ping_timeout + 2000);
    assert.ok(Date.now() - pinged >= settings.ping_timeout - 100);
    await assertStillServing(server, healthy);
  });

  test('ping timeout: a polling session that stops polling is closed', async () => {
    const session = await Polling.open(server);
    await session.join();
    await sleep(settings.ping_interval + settings.ping_timeout + 300);
    await session.assertGone();
    await assertStillServing(server, healthy);
  });

  test('send_queue_max_bytes: a session that does not poll is closed when its queue passes the limit', async () => {
    const nsp = `/${'n'.repeat(2000)}`;
    const reply = `44${nsp},${INVALID_NAMESPACE}`;
    const fits = Math.floor(settings.send_queue_max_bytes / reply.length);  // 32 replies of 2035 bytes
    const kept = await Polling.open(server);
    await kept.join();
    await kept.postOk(Array(fits).fill(`40${nsp},`).join(RS));
    const records = await kept.read((r) => r.startsWith('44'));  // one GET takes the whole queue
    assert.deepEqual(records.filter((r) => r !== '2'), Array(fits).fill(reply));

    const dropped = await Polling.open(server);
    await dropped.join();
    await dropped.postOk(Array(fits + 2).fill(`40${nsp},`).join(RS));
    await dropped.assertGone();
    await assertStillServing(server, healthy);
  });

  test('the long-lived sessions survived everything', async () => {
    for (const session of healthy.sessions) assert.equal(session.closeInfo, null);
    await assertStillServing(server, healthy);
  });
});
