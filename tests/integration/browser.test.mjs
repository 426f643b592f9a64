// A real browser in the room chat: headless Chromium loads browser/room.html, which uses the
// browser build of socket.io-client (4.8, which ILIAS 8-12 ship, and 2.4, which ILIAS 5.3-7 ship,
// with the ILIAS <= 8 event arguments) to log in to ilchatd, enter room 1 and talk to a second
// user driven by the Node socket.io-client 4.8: with 2.4 an Engine.IO 3 and an Engine.IO 4 client
// share the room. The page is served from another origin than ilchatd, so CORS is exercised. The page POSTs what it
// received back to a small static server in this process; no DevTools protocol is needed.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { io } from 'socket.io-client';
import { createDatabase, freePort, startDaemon, tempDir, writeConfig } from './harness.mjs';

const chromium = '/usr/bin/chromium';
const here = path.dirname(fileURLToPath(import.meta.url));
const packageDir = (name) => path.dirname(createRequire(import.meta.url).resolve(`${name}/package.json`));
const variants = [
  { label: 'socket.io-client 4.8 (ILIAS 8-12)', database: 'ilias_it_browser', schema: 'ilias9',
    build: path.join(packageDir('socket.io-client'), 'dist', 'socket.io.min.js') },
  { label: 'socket.io-client 2.4, Engine.IO 3 (ILIAS 5.3-7)', database: 'ilias_it_browser_eio3', schema: 'ilias8', sub: 0,
    build: path.join(packageDir('socket.io-client-2.4'), 'dist', 'socket.io.js') },
];

const roomId = 1;                                    // a repository chat of tests/sql/demo-data.sql
const browserUser = { id: 7, name: 'Bea Browser' };
const nodeUser = { id: 6, name: 'root' };
const nodeText = 'Hallo aus Node – Grüße ✓';
const browserText = 'Antwort aus Chromium – ça va ✓';

before(() => {
  if (existsSync(chromium)) for (const v of variants) createDatabase(v.database, { schema: v.schema });
});

// Answers GET /room.html and /socket.io.min.js (the given browser build); a POST to /report
// resolves `report`.
async function startStaticServer(socketIoBrowserBuild) {
  let resolveReport;
  const report = new Promise((resolve) => { resolveReport = resolve; });
  const files = {
    '/room.html': { file: path.join(here, 'browser', 'room.html'), type: 'text/html; charset=utf-8' },
    '/socket.io.min.js': { file: socketIoBrowserBuild, type: 'text/javascript; charset=utf-8' },
  };
  const requests = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    requests.push(`${req.method} ${url.pathname}`);
    if (req.method === 'POST' && url.pathname === '/report') {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (d) => { body += d; });
      req.on('end', () => {
        res.writeHead(204).end();
        try { resolveReport(JSON.parse(body)); } catch (e) { resolveReport({ errors: [`unparsable report: ${e.message}`], body }); }
      });
      return;
    }
    const entry = req.method === 'GET' && files[url.pathname];
    if (!entry) { res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found'); return; }
    res.writeHead(200, { 'Content-Type': entry.type, 'Cache-Control': 'no-store' }).end(readFileSync(entry.file));
  });
  const port = await freePort();
  await new Promise((resolve, reject) => { server.once('error', reject); server.listen(port, '127.0.0.1', resolve); });
  return {
    url: `http://127.0.0.1:${port}`,
    report,
    requests,
    stop: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

// Starts headless Chromium on `url` in its own process group with a throw-away profile.
function startChromium(url) {
  const profile = tempDir('ilchat-chromium-');
  const child = spawn(chromium, [
    '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
    `--user-data-dir=${profile}`, '--no-first-run', '--no-default-browser-check', '--no-proxy-server',
    '--disable-extensions', '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--disable-breakpad', '--disable-crash-reporter', '--metrics-recording-only', '--mute-audio',
    url,
  ], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const browser = { child, output: '', exited: null };
  child.stdout.on('data', (d) => { browser.output += d; });
  child.stderr.on('data', (d) => { browser.output += d; });
  browser.exitPromise = new Promise((resolve) => child.on('close', (code, signal) => {
    browser.exited = { code, signal };
    resolve(browser.exited);
  }));
  browser.stop = async () => {
    const group = (signal) => { try { process.kill(-child.pid, signal); } catch { /* already gone */ } };
    if (!browser.exited) {
      group('SIGTERM');
      const timer = setTimeout(() => group('SIGKILL'), 3000);
      await browser.exitPromise;
      clearTimeout(timer);
    }
    group('SIGKILL');                                // helpers (zygote, renderers) left in the group
    rmSync(profile, { recursive: true, force: true });
  };
  return browser;
}

async function backend(chatUrl, action, userId, room = `${roomId}`) {
  const res = await fetch(`${chatUrl}/backend/${action}/client0/${room}/${userId}`, {
    headers: { Authorization: `Basic ${Buffer.from('key-0:secret-0').toString('base64')}` },
  });
  assert.equal(res.status, 200, `${action} for ${userId}`);
  return res.json();
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([promise, new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
    timer.unref();                                   // never keeps a failed run alive
  })]).finally(() => clearTimeout(timer));
}

// Resolves with the first `event` whose payload satisfies `predicate`.
function waitForEvent(socket, event, predicate, timeoutMs, what) {
  return withTimeout(new Promise((resolve) => {
    const handler = (payload) => { if (predicate(payload)) { socket.off(event, handler); resolve(payload); } };
    socket.on(event, handler);
  }), timeoutMs, what);
}

for (const variant of variants) {
  test(`Chromium with the browser build of ${variant.label} chats with a Node client through ilchatd`, async (t) => {
    if (!existsSync(chromium)) {
      t.skip(`${chromium} is not installed (Debian package "chromium", role test in etc/debian-packages.txt)`);
      return;
    }
    // Everything started is stopped in reverse order, also when an assertion fails; a failing
    // clean-up (ilchatd not exiting 0) fails the test unless it already failed.
    const resources = [];
    let failure = null;
    try {
      await chat(resources, variant);
    } catch (e) {
      failure = e;
    }
    for (const cleanup of resources.reverse()) {
      try { await cleanup(); } catch (e) { failure ??= e; }
    }
    if (failure) throw failure;
  });
}

async function chat(resources, variant) {
  // ILIAS <= 8 clients send the subRoomId after the room id, and the routes carry it too.
  const roomArgs = variant.sub === undefined ? [roomId] : [roomId, variant.sub];
  const port = await freePort();
  const { serverPath, clientPaths } = writeConfig(tempDir(), { port, clients: [{ database: { name: variant.database } }] });
  const daemon = await startDaemon(serverPath, clientPaths);
  resources.push(async () => {
    const exit = await daemon.stop();
    assert.deepEqual(exit, { code: 0, signal: null }, daemon.output);
    assert.doesNotMatch(daemon.output, / ERROR - /);
  });
  const chatUrl = `http://127.0.0.1:${port}`;

  // The PHP side: ILIAS calls Connect and EnterPrivateRoom when a user opens the chat room.
  for (const user of [nodeUser, browserUser]) {
    assert.deepEqual(await backend(chatUrl, 'Connect', user.id), { status: 200 });
    assert.equal((await backend(chatUrl, 'EnterPrivateRoom', user.id, roomArgs.join('/'))).success, true);
  }

  // The Node user is in the room first.
  const node = io(`${chatUrl}/client0`, { forceNew: true, reconnection: false });
  resources.push(() => node.disconnect());
  const nodeEvents = [];
  node.onAny((event, ...args) => nodeEvents.push({ event, args }));
  const loggedIn = waitForEvent(node, 'loggedIn', () => true, 5000, 'Node login');
  node.emit('login', nodeUser.name, nodeUser.id);
  await loggedIn;
  const entered = waitForEvent(node, 'private_room_entered', () => true, 5000, 'Node enterRoom');
  node.emit('enterRoom', ...roomArgs);
  await entered;

  // When the browser user shows up in the room, the Node user says hello.
  const browserArrived = waitForEvent(node, 'userlist', (m) => m?.users?.[browserUser.id] !== undefined, 20000,
    'the browser user appearing in the Node user\'s userlist');
  const browserMessage = waitForEvent(node, 'message', (m) => m?.from?.id === browserUser.id, 25000,
    'the browser\'s message reaching the Node user');
  browserArrived.then(() => node.emit('message', { content: nodeText, format: {} }, ...roomArgs), () => {});
  browserMessage.catch(() => {});

  const web = await startStaticServer(variant.build);
  resources.push(() => web.stop());
  const query = new URLSearchParams({
    chat: chatUrl, client: 'client0', id: browserUser.id, name: browserUser.name, room: roomId, peer: nodeUser.id,
    text: browserText, report: `${web.url}/report`, timeout: 20000,
    ...(variant.sub === undefined ? {} : { sub: variant.sub }),
  });
  const browser = startChromium(`${web.url}/room.html?${query}`);
  resources.push(() => browser.stop());

  const exitedEarly = browser.exitPromise.then((e) => {
    throw new Error(`chromium exited ${JSON.stringify(e)} before reporting:\n${browser.output}`);
  });
  exitedEarly.catch(() => {});                       // it also settles when chromium is stopped at the end
  let report;
  try {
    report = await withTimeout(Promise.race([web.report, exitedEarly]), 25000, 'the page\'s report');
  } catch (e) {
    e.message += `\nstatic server saw: ${web.requests.join(', ')}\nilchatd:\n${daemon.output}\nchromium:\n${browser.output}`;
    throw e;
  }
  const context = `page log:\n${(report.log ?? []).join('\n')}\nerrors: ${JSON.stringify(report.errors)}`
    + `\nNode client received: ${JSON.stringify(nodeEvents)}`;
  assert.deepEqual(report.errors, [], context);
  assert.equal(report.done, true, context);

  // The browser's Engine.IO session moved from polling to the websocket.
  assert.equal(report.upgraded, true, context);
  assert.equal(report.transport, 'websocket', context);

  const received = (event) => report.events.filter((e) => e.event === event);
  assert.deepEqual(received('loggedIn'), [{ event: 'loggedIn', args: [] }], context);

  const [enter] = received('private_room_entered');
  assert.ok(enter, context);
  assert.equal(enter.args[0].type, 'private_room_entered');
  assert.equal(enter.args[0].roomId, roomId);
  assert.deepEqual(enter.args[0].subscriber, { id: browserUser.id, username: browserUser.name });

  const userlists = received('userlist').map((e) => e.args[0]);
  assert.ok(userlists.length > 0, context);
  const both = userlists.find((m) => m.users[nodeUser.id] && m.users[browserUser.id]);
  assert.ok(both, `a userlist listing both users; got ${JSON.stringify(userlists)}`);
  assert.equal(both.users[nodeUser.id].username, nodeUser.name);
  assert.equal(both.users[browserUser.id].username, browserUser.name);

  const welcome = received('notice').map((e) => e.args[0]).find((m) => m.content === 'welcome_to_chat');
  assert.ok(welcome, context);
  assert.equal(welcome.data.username, browserUser.name);

  const messages = received('message').map((e) => e.args[0]);
  const fromNode = messages.find((m) => m.from.id === nodeUser.id);
  assert.ok(fromNode, context);
  assert.equal(fromNode.type, 'message');
  assert.equal(fromNode.content, nodeText);
  assert.equal(fromNode.roomId, roomId);
  assert.equal(fromNode.from.username, nodeUser.name);
  const own = messages.find((m) => m.from.id === browserUser.id);
  assert.ok(own, 'the room echoes the browser\'s own message to it');
  assert.equal(own.content, browserText);

  // The Node user got the browser's message, sent by the browser user.
  const got = await browserMessage;
  assert.equal(got.type, 'message');
  assert.equal(got.content, browserText);
  assert.equal(got.roomId, roomId);
  assert.equal(got.from.id, browserUser.id);
  assert.equal(got.from.username, browserUser.name);
  assert.deepEqual(got.format, {});
  const noticed = nodeEvents.find((e) => e.event === 'notice' && e.args[0].content === 'connect');
  assert.equal(noticed?.args[0].data.username, browserUser.name, 'the Node user is told that the browser user entered');
}
