// The repository chat (namespace /<name>) end to end, driven the way ILIAS drives it: PHP calls
// the /backend routes (GET, Basic auth, Connection: close), browsers run socket.io-client 4.8 and
// emit login/enterRoom/message/typing; the database rows are checked column by column.
// Contract: docs/protocol.md ("The chat namespaces", "Backend routes", "SQL"); docs/decisions.md D1-D18.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { io } from 'socket.io-client';
import {
  backendGet, createDatabase, eventually, freePort, recordEvents, sqlRows, startDaemon, tempDir, writeConfig,
} from './harness.mjs';

const CREDENTIALS = { key: 'key-0', secret: 'secret-0' };
const ACCESS_DENIED = '{"status":403,"message":"Access denied"}';
const delay = (ms) => new Promise((r) => setTimeout(r, ms));
const nowSeconds = () => Math.floor(Date.now() / 1000);

// ---------------------------------------------------------------------------------------------
// Daemon, backend, browsers

async function startChat(database, server = {}) {
  const port = await freePort();
  const { serverPath, clientPaths } = writeConfig(tempDir(), {
    port, server: { disconnect_grace: 300, ...server }, clients: [{ database: { name: database } }],
  });
  const daemon = await startDaemon(serverPath, clientPaths);
  const chat = { port, daemon, database, url: `http://127.0.0.1:${port}` };
  // With the right credentials unless told otherwise.
  chat.get = (route, auth = CREDENTIALS) => backendGet(port, route, auth);
  // The body of a successful (HTTP 200, JSON) answer.
  chat.api = async (route) => {
    const res = await chat.get(route);
    assert.equal(res.status, 200, `GET /backend/${route}: ${res.body}`);
    assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
    return res.body;
  };
  return chat;
}

// SIGTERM: exit 0, and no ERROR logged except the one the spec asks for on a message of a socket
// without subscriber.
async function stopChat(chat) {
  if (!chat) return;
  const exit = await Promise.race([chat.daemon.stop(), delay(5000).then(() => 'timeout')]);
  if (exit === 'timeout') {
    await chat.daemon.stop('SIGKILL');
    assert.fail(`ilchatd did not stop on SIGTERM:\n${chat.daemon.output}`);
  }
  assert.deepEqual(exit, { code: 0, signal: null }, chat.daemon.output);
  assert.doesNotMatch(chat.daemon.output, / ERROR - (?!Missing subscriber)/);
}

const live = new Set();

function closeAll() {
  for (const socket of live) socket.disconnect();
  live.clear();
}

// A browser tab: socket.io-client on /client0 (websocket, no reconnection), every event recorded.
function browser(chat) {
  const socket = io(`${chat.url}/client0`, { forceNew: true, reconnection: false, transports: ['websocket'] });
  socket.log = recordEvents(socket);
  live.add(socket);
  return socket;
}

function connected(socket, timeoutMs = 5000) {
  if (socket.connected) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${socket.nsp} not connected within ${timeoutMs} ms`)), timeoutMs);
    socket.once('connect', () => { clearTimeout(timer); resolve(); });
    socket.once('connect_error', (e) => { clearTimeout(timer); reject(e); });
  });
}

// PHP opening the chat: Connect, the chatroom_users row (optional), EnterPrivateRoom. `room` is
// the route part: "1" (ILIAS >= 9) or "1/0" (ILIAS <= 8).
async function phpEnters(chat, room, id, { userdata } = {}) {
  assert.equal(await chat.api(`Connect/client0/${room.split('/')[0]}/${id}`), '{"status":200}');
  if (userdata) insertChatroomUser(chat.database, Number(room.split('/')[0]), id, userdata.json, userdata.connected);
  const answer = await chat.api(`EnterPrivateRoom/client0/${room}/${id}`);
  assert.equal(JSON.parse(answer).success, true, answer);
}

// The page's JavaScript: connect, login(name, id[, profile_picture_visible]) → loggedIn.
async function login(chat, name, id, ...pictureFlag) {
  const socket = browser(chat);
  await connected(socket);
  socket.emit('login', name, id, ...pictureFlag);
  await socket.log.next('loggedIn', { what: `for ${name} ` });
  return socket;
}

// enterRoom(roomId[, subRoomId]) → private_room_entered; returns that payload.
async function enterRoom(socket, ...room) {
  socket.emit('enterRoom', ...room);
  const [entered] = await socket.log.next('private_room_entered');
  return entered;
}

async function joinRoom(chat, { id, name, picture = [], room = 1, sub, userdata }) {
  await phpEnters(chat, sub === undefined ? `${room}` : `${room}/${sub}`, id, { userdata });
  const socket = await login(chat, name, id, ...picture);
  await enterRoom(socket, ...(sub === undefined ? [room] : [room, sub]));
  return socket;
}

const isContent = (content) => (m) => m?.content === content;

// A server timestamp in milliseconds close to now; returns the object without it.
function withoutMs(message) {
  assert.equal(typeof message, 'object', `not a message object: ${JSON.stringify(message)}`);
  assert.ok(Number.isInteger(message.timestamp), `timestamp ${message.timestamp} is not an integer`);
  assert.ok(Math.abs(message.timestamp - Date.now()) < 10000, `timestamp ${message.timestamp} is not now in ms`);
  const { timestamp, ...rest } = message;
  return rest;
}

// ---------------------------------------------------------------------------------------------
// Database

function insertChatroomUser(database, roomId, userId, userdata, connected) {
  sqlRows(database, `INSERT INTO chatroom_users (room_id, user_id, userdata, connected) VALUES
    (${roomId}, ${userId}, '${userdata.replace(/'/g, "''")}', ${connected})`);
}

// ilDB::nextId() as ILIAS PHP runs it on MySQL.
function phpNextId(database, table) {
  const [[id]] = sqlRows(database, `INSERT INTO ${table}_seq (sequence) VALUES (NULL);
    SET @id = LAST_INSERT_ID(); DELETE FROM ${table}_seq WHERE sequence < @id; SELECT @id`);
  return Number(id);
}

async function waitForRows(database, statement, count = 1, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = sqlRows(database, statement);
    if (rows.length >= count) return rows;
    if (Date.now() > deadline) assert.fail(`expected ${count} row(s) of ${statement} within ${timeoutMs} ms, got ${JSON.stringify(rows)}`);
    await delay(20);
  }
}

const historyColumns9 = 'hist_id, room_id, message, timestamp';

// The chatroom_history row of a message received by a client: message = the JSON sent to the
// clients with the timestamp in seconds, timestamp column = the same seconds (docs/protocol.md, "chatroom_history").
async function assertStored(chat, received, { uniqueText, subRoom } = {}) {
  const legacy = subRoom !== undefined;
  const like = (uniqueText ?? received.content).replace(/\\/g, '\\\\').replace(/'/g, "''").replace(/[%_]/g, '\\$&');
  const rows = await waitForRows(chat.database,
    `SELECT ${historyColumns9}${legacy ? ', sub_room' : ''} FROM chatroom_history WHERE message LIKE '%${like}%'`);
  assert.equal(rows.length, 1, `exactly one row: ${JSON.stringify(rows)}`);
  const [histId, roomId, message, timestamp, subRoomColumn] = rows[0];
  const seconds = Math.floor(received.timestamp / 1000);
  assert.ok(Number(histId) > 0);
  assert.equal(Number(roomId), Number(received.roomId));
  assert.equal(message, JSON.stringify({ ...received, timestamp: seconds }), 'message column = the JSON sent, timestamp in s');
  assert.equal(Number(timestamp), seconds, 'timestamp column in seconds');
  if (legacy) assert.equal(Number(subRoomColumn), subRoom, 'sub_room column');
  return Number(histId);
}

function assertNotStored(chat, text) {
  assert.deepEqual(sqlRows(chat.database, `SELECT hist_id, message FROM chatroom_history WHERE message LIKE '%${text}%'`), []);
}

// ---------------------------------------------------------------------------------------------
// The backend API in both shapes

// One call per authenticated route (ILIAS >= 9 shape) and the same for ILIAS <= 8.
const authenticatedRoutes9 = [
  'Connect/client0/1/55', 'EnterPrivateRoom/client0/1/6', 'CreatePrivateRoom/client0/20/6/Denied',
  'LeavePrivateRoom/client0/1/6', 'InvitePrivateRoom/client0/1/6/7', 'ClearMessages/client0/1/6',
  'Kick/client0/1/6', 'Ban/client0/1/6', 'GetRooms/client0', 'Post/client0/1',
  'UserConfigChange/client0?message=%7B%226%22%3A%7B%22acceptsMessages%22%3Atrue%7D%7D',
];
const authenticatedRoutes8 = [
  'Connect/client0/1/55', 'EnterPrivateRoom/client0/1/0/6', 'CreatePrivateRoom/client0/1/20/6/Denied',
  'LeavePrivateRoom/client0/1/0/6', 'InvitePrivateRoom/client0/1/0/6/7', 'DeletePrivateRoom/client0/1/0/6',
  'ClearMessages/client0/1/0/6', 'Kick/client0/1/0/6', 'Ban/client0/1/0/6', 'GetRooms/client0', 'Post/client0/1',
  'UserConfigChange/client0?message=%7B%226%22%3A%7B%22acceptsMessages%22%3Atrue%7D%7D',
];
const wrongAuthorizations = {
  'no Authorization header': {},
  'wrong secret': { key: 'key-0', secret: 'secret-1' },
  'wrong key': { key: 'key-1', secret: 'secret-0' },
  'secret with a suffix': { key: 'key-0', secret: 'secret-0x' },
  'empty credentials': { key: '', secret: '' },
  'no blank in the header': { authorization: 'Basic' },
  'not base64': { authorization: 'Basic !!!' },
  'base64 without colon': { authorization: `Basic ${Buffer.from('key-0secret-0').toString('base64')}` },
};

async function assertAllDenied(chat, routes) {
  for (const route of routes) {
    for (const [what, auth] of Object.entries(wrongAuthorizations)) {
      const res = await chat.get(route, auth);
      assert.equal(res.status, 200, `${route} (${what}): HTTP 200 as the Node server`);
      assert.equal(res.body, ACCESS_DENIED, `${route} (${what})`);
      assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
    }
  }
}

async function assertJsonError(res, status, what) {
  assert.equal(res.status, status, `${what}: ${res.body}`);
  assert.equal(res.headers['content-type'], 'application/json; charset=utf-8', what);
  const body = JSON.parse(res.body);
  assert.equal(body.status, status, what);
  assert.equal(typeof body.message, 'string', what);
}

describe('backend API, ILIAS >= 9 shape (no subRoomId)', () => {
  const database = 'ilias_it_room';
  let chat;
  before(async () => {
    createDatabase(database);
    chat = await startChat(database);
  });
  after(async () => { closeAll(); await stopChat(chat); });

  test('Heartbeat is open (D1): no, wrong or right credentials all get {"status":200}', async () => {
    for (const auth of [{}, { key: 'key-0', secret: 'nope' }, CREDENTIALS]) {
      const res = await chat.get('Heartbeat/client0', auth);
      assert.equal(res.status, 200);
      assert.equal(res.body, '{"status":200}');
    }
  });

  test('every other route with missing or wrong credentials: HTTP 200 {"status":403,"message":"Access denied"}, no effect', async () => {
    await assertAllDenied(chat, authenticatedRoutes9);
    // The denied calls changed nothing: user 55 was not registered, room 20 not created.
    assert.equal(await chat.api('EnterPrivateRoom/client0/1/55'), '{"success":false}');
    assert.deepEqual(JSON.parse(await chat.api('GetRooms/client0')), { rooms: { '1_0': {}, '2_0': {}, '3_0': {} } });
  });

  test('the scheme word of the Authorization header is not checked', async () => {
    const token = Buffer.from('key-0:secret-0').toString('base64');
    const res = await chat.get('Connect/client0/1/56', { authorization: `Bearer ${token}` });
    assert.equal(res.body, '{"status":200}');
  });

  test('GetRooms lists the preloaded rooms, every value an empty object', async () => {
    const body = await chat.api('GetRooms/client0');
    assert.deepEqual(JSON.parse(body), { rooms: { '1_0': {}, '2_0': {}, '3_0': {} } });
    assert.match(body, /^\{"rooms":\{("\d+_0":\{\},?){3}\}\}$/);
  });

  test('Connect, EnterPrivateRoom (known / unknown room / unknown user), Post', async () => {
    assert.equal(await chat.api('Connect/client0/1/6'), '{"status":200}');
    assert.equal(await chat.api('EnterPrivateRoom/client0/1/6'), '{"success":true}');
    assert.equal(await chat.api('EnterPrivateRoom/client0/99/6'), '{"success":false}');
    assert.equal(await chat.api('EnterPrivateRoom/client0/1/77'), '{"success":false}');
    assert.equal(await chat.api('Post/client0/1'), '{"success":true}');
  });

  test('action names match case-insensitively; one trailing slash is accepted', async () => {
    assert.equal(await chat.api('heartbeat/client0'), '{"status":200}');
    assert.equal(await chat.api('CONNECT/client0/1/7'), '{"status":200}');
    assert.equal(await chat.api('enterprivateroom/client0/1/7'), '{"success":true}');
    assert.equal(await chat.api('Connect/client0/1/7/'), '{"status":200}');
    assert.equal(await chat.api('EnterPrivateRoom/client0/1/7/'), '{"success":true}');
    assert.equal(await chat.api('Heartbeat/client0/'), '{"status":200}');
    assert.deepEqual(JSON.parse(await chat.api('getrooms/client0/')).rooms['1_0'], {});
    assert.equal(await chat.api('post/client0/1/'), '{"success":true}');
  });

  test('unknown namespace, unknown action, wrong segment count: 404 with a JSON body (D2)', async () => {
    await assertJsonError(await chat.get('Connect/nope/1/6'), 404, 'Connect on an unknown namespace');
    await assertJsonError(await chat.get('GetRooms/nope'), 404, 'GetRooms on an unknown namespace');
    await assertJsonError(await chat.get('Kick/nope/1/6'), 404, 'Kick on an unknown namespace');
    await assertJsonError(await chat.get('Frobnicate/client0/1/6'), 404, 'unknown action');
    await assertJsonError(await chat.get('Kick/client0/1'), 404, 'Kick without user');
    await assertJsonError(await chat.get('Connect/client0/1/6/7/8/9'), 404, 'Connect with too many segments');
  });

  test('LeavePrivateRoom, InvitePrivateRoom, ClearMessages, Kick, Ban answer as docs/protocol.md "Backend routes" says', async () => {
    assert.equal(await chat.api('Connect/client0/1/8'), '{"status":200}');
    assert.equal(await chat.api('EnterPrivateRoom/client0/1/8'), '{"success":true}');
    assert.equal(await chat.api('LeavePrivateRoom/client0/1/8'), '{"success":true}');
    assert.equal(await chat.api('InvitePrivateRoom/client0/1/6/9'), '{"success":true}');
    assert.equal(await chat.api('ClearMessages/client0/1/6'), '{"success":true}');
    assert.equal(await chat.api('Kick/client0/1/8'), '{"success":true}');
    assert.equal(await chat.api('Kick/client0/1/88'), '{"success":true}', 'Kick of a user not in the room');
    assert.equal(await chat.api('Ban/client0/1/8'), '{"success":true}');
    assert.equal(await chat.api('Ban/client0/1/88'), '{"success":true}', 'Ban of an unknown user');
  });

  test('tasks on an unknown room or user: an HTTP error with a JSON body, never a crash (D2)', async () => {
    // ClearMessages of an unknown room answers success, as the Node server did (it threw nothing there).
    assert.equal(await chat.api('ClearMessages/client0/99/6'), '{"success":true}');
    for (const route of ['Kick/client0/99/6', 'InvitePrivateRoom/client0/99/6/7',
      'LeavePrivateRoom/client0/99/6', 'LeavePrivateRoom/client0/1/4242']) {
      const res = await chat.get(route);
      assert.ok(res.status >= 400 && res.status < 600, `${route}: HTTP ${res.status} ${res.body}`);
      assert.equal(JSON.parse(res.body).status, res.status, route);
    }
    assert.equal((await chat.get('Heartbeat/client0')).body, '{"status":200}', 'still serving');
  });

  test('CreatePrivateRoom with %2F and UTF-8 in the title: listed by GetRooms, title in the welcome notice', async () => {
    const title = 'Raum/Ä ü ß 😀 &<x>';
    assert.equal(await chat.api(`CreatePrivateRoom/client0/10/6/${encodeURIComponent(title)}`), '{"success":true}');
    assert.deepEqual(JSON.parse(await chat.api('GetRooms/client0')),
      { rooms: { '1_0': {}, '2_0': {}, '3_0': {}, '10_0': {} } });
    // Creating an existing room again keeps the first title.
    assert.equal(await chat.api('CreatePrivateRoom/client0/10/7/Other'), '{"success":true}');

    await phpEnters(chat, '10', 6);
    const socket = await login(chat, 'root', 6);
    socket.emit('enterRoom', 10);
    const [welcome] = await socket.log.next('notice', { match: isContent('welcome_to_chat') });
    assert.deepEqual(withoutMs(welcome), {
      type: 'notice', content: 'welcome_to_chat', roomId: 10, data: { id: 6, username: 'root', title },
    });
  });

  test('UserConfigChange?message=<json> answers {"status":200}; invalid JSON is a JSON error (D2)', async () => {
    const message = encodeURIComponent(JSON.stringify({ 6: { acceptsMessages: false }, 7: { acceptsMessages: true } }));
    assert.equal(await chat.api(`UserConfigChange/client0?message=${message}`), '{"status":200}');
    assert.equal(await chat.api(`userconfigchange/client0/?message=${message}`), '{"status":200}');
    const res = await chat.get('UserConfigChange/client0?message=%7Bnot%20json');
    assert.ok(res.status >= 400 && res.status < 600, `HTTP ${res.status} ${res.body}`);
    assert.equal(JSON.parse(res.body).status, res.status);
  });
});

describe('backend API and messages, ILIAS <= 8 shape (subRoomId) against an ILIAS 8 database', () => {
  const database = 'ilias_it_room8';
  let chat;
  before(async () => {
    createDatabase(database, { schema: 'ilias8' });
    chat = await startChat(database);
  });
  after(async () => { closeAll(); await stopChat(chat); });

  test('every route with missing or wrong credentials: HTTP 200 {"status":403,"message":"Access denied"}', async () => {
    await assertAllDenied(chat, authenticatedRoutes8);
    assert.deepEqual(JSON.parse(await chat.api('GetRooms/client0')), { rooms: { '1_0': {}, '2_0': {}, '3_0': {} } });
    assert.equal((await chat.get('Heartbeat/client0', {})).body, '{"status":200}');
  });

  test('every route with the right credentials answers as docs/protocol.md "Backend routes" says (<= 8 table)', async () => {
    assert.equal(await chat.api('Heartbeat/client0'), '{"status":200}');
    assert.equal(await chat.api('Connect/client0/1/6'), '{"status":200}');
    assert.equal(await chat.api('EnterPrivateRoom/client0/1/0/6'), '{"success":true,"subRoomId":0}');
    assert.equal(await chat.api('EnterPrivateRoom/client0/99/0/6'), '{"success":false}');
    assert.equal(await chat.api('EnterPrivateRoom/client0/1/0/77'), '{"success":false}');
    assert.equal(await chat.api('CreatePrivateRoom/client0/1/5/6/Privat%2FRaum%20%C3%A4'), '{"success":true,"subRoomId":5}');
    assert.deepEqual(JSON.parse(await chat.api('GetRooms/client0')),
      { rooms: { '1_0': {}, '1_5': {}, '2_0': {}, '3_0': {} } });
    assert.equal(await chat.api('EnterPrivateRoom/client0/1/5/6'), '{"success":true,"subRoomId":5}');
    assert.equal(await chat.api('InvitePrivateRoom/client0/1/5/6/7'), '{"success":true,"subRoomId":"5"}');
    assert.equal(await chat.api('LeavePrivateRoom/client0/1/5/6'), '{"success":true,"subRoomId":5}');
    assert.equal(await chat.api('ClearMessages/client0/1/0/6'), '{"success":true}');
    assert.equal(await chat.api('Kick/client0/1/0/6'), '{"success":true}');
    assert.equal(await chat.api('Ban/client0/1/0/6'), '{"success":true}');
    assert.equal(await chat.api('DeletePrivateRoom/client0/1/5/6'), '{"success":true,"subRoomId":"5"}');
    assert.deepEqual(JSON.parse(await chat.api('GetRooms/client0')), { rooms: { '1_0': {}, '2_0': {}, '3_0': {} } });
    assert.equal(await chat.api('Post/client0/1'), '{"success":true}');
    assert.equal(await chat.api('UserConfigChange/client0?message=%7B%227%22%3A%7B%22acceptsMessages%22%3Afalse%7D%7D'),
      '{"status":200}');
    assert.equal(await chat.api('kick/client0/1/0/6/'), '{"success":true}', 'case-insensitive, trailing slash');
  });

  test('main room: enterRoom(roomId, 0) and message(data, roomId, 0); chatroom_history.sub_room = 0', async () => {
    const root = await joinRoom(chat, { id: 6, name: 'root', room: 1, sub: 0, picture: [true] });
    await phpEnters(chat, '1/0', 7);
    const jdoe = await login(chat, 'jdoe', 7);
    jdoe.emit('enterRoom', 1, 0);
    const [welcome] = await jdoe.log.next('notice', { match: isContent('welcome_to_chat') });
    assert.deepEqual(withoutMs(welcome), {
      type: 'notice', content: 'welcome_to_chat', roomId: 1, subRoomId: 0, data: { id: 7, username: 'jdoe', title: 'Main' },
    });
    await root.log.next('notice', { match: isContent('connect') });

    root.emit('message', { content: 'hello eight', format: {} }, 1, 0);
    const [atRoot] = await root.log.next('message');
    const [atJdoe] = await jdoe.log.next('message');
    assert.deepEqual(atJdoe, atRoot);
    assert.deepEqual(withoutMs(atRoot), {
      type: 'message', content: 'hello eight', roomId: 1, subRoomId: 0,
      from: { id: 6, username: 'root', profile_picture_visible: true }, format: {},
    });
    await assertStored(chat, atRoot, { subRoom: 0 });
  });

  test('private room: private_room_created, private_room_entered(_user) notices, sub_room written', async () => {
    const root = await joinRoom(chat, { id: 16, name: 'owner', room: 2, sub: 0 });
    assert.equal(await chat.api('CreatePrivateRoom/client0/2/7/16/Hinterzimmer'), '{"success":true,"subRoomId":7}');
    const [created] = await root.log.next('private_room_created');
    assert.equal(created.type, 'private_room_created');
    assert.equal(created.title, 'Hinterzimmer');
    assert.equal(created.ownerId, '16');
    assert.equal(Number(created.roomId), 2);
    assert.equal(Number(created.subRoomId), 7);

    assert.equal(await chat.api('EnterPrivateRoom/client0/2/7/16'), '{"success":true,"subRoomId":7}');
    root.emit('enterRoom', 2, 7);
    const [entered] = await root.log.next('notice', { match: isContent('private_room_entered') });
    assert.deepEqual(withoutMs(entered), {
      type: 'notice', content: 'private_room_entered', roomId: 2, subRoomId: 7,
      data: { id: 16, username: 'owner', title: 'Hinterzimmer' },
    });
    const guest = await joinRoom(chat, { id: 17, name: 'guest', room: 2, sub: 0 });
    assert.equal(await chat.api('EnterPrivateRoom/client0/2/7/17'), '{"success":true,"subRoomId":7}');
    guest.emit('enterRoom', 2, 7);
    const [other] = await root.log.next('notice', { match: isContent('private_room_entered_user') });
    assert.deepEqual(withoutMs(other), {
      type: 'notice', content: 'private_room_entered_user', roomId: 2, subRoomId: 7,
      data: { id: 17, username: 'guest', title: 'Hinterzimmer' },
    });

    guest.emit('message', { content: 'in the back room', format: {} }, 2, 7);
    const [atRoot] = await root.log.next('message', { match: isContent('in the back room') });
    assert.equal(atRoot.subRoomId, 7);
    await assertStored(chat, atRoot, { subRoom: 7 });
  });

  test('hist_id from chatroom_history_seq, interleaved with ids PHP takes: increasing, no collision', async () => {
    await assertSequenceInterleaving(chat, { room: 1, sub: 0, firstId: 26, legacy: true });
  });
});

// Messages, PHP-style nextId calls and PHP rows with those ids, alternating.
async function assertSequenceInterleaving(chat, { room, sub, firstId, legacy }) {
  const roomArgs = sub === undefined ? [room] : [room, sub];
  const a = await joinRoom(chat, { id: firstId, name: 'seq-a', room, sub });
  const b = await joinRoom(chat, { id: firstId + 1, name: 'seq-b', room, sub });
  const ids = [];
  const kinds = [];
  for (let i = 0; i < 3; i++) {
    const content = `sequence message ${i}`;
    a.emit('message', { content, format: {} }, ...roomArgs);
    const [received] = await b.log.next('message', { match: isContent(content) });
    ids.push(await assertStored(chat, received, legacy ? { subRoom: sub } : {}));
    kinds.push('server');
    for (let j = 0; j < 2; j++) {
      const id = phpNextId(chat.database, 'chatroom_history');
      sqlRows(chat.database, `INSERT INTO chatroom_history (hist_id, room_id, message, timestamp)
        VALUES (${id}, ${room}, '{"php":${id}}', ${nowSeconds()})`);
      ids.push(id);
      kinds.push('php');
    }
  }
  for (let i = 1; i < ids.length; i++)
    assert.ok(ids[i] > ids[i - 1], `ids strictly increasing: ${JSON.stringify(ids.map((id, k) => `${kinds[k]}:${id}`))}`);
  // Everything arrived, nothing overwritten: 3 server rows + 6 PHP rows with exactly these ids.
  const stored = sqlRows(chat.database, `SELECT hist_id FROM chatroom_history WHERE hist_id IN (${ids.join(',')})`);
  assert.equal(stored.length, ids.length);
  // The sequence table keeps one row, the last id handed out.
  assert.deepEqual(sqlRows(chat.database, 'SELECT sequence FROM chatroom_history_seq'), [[String(ids.at(-1))]]);
}

// ---------------------------------------------------------------------------------------------
// The full flow in one room (ILIAS >= 9)

describe('room chat flow (ILIAS >= 9): enter, messages, whispers, typing, moderation', () => {
  const database = 'ilias_it_room_flow';
  let chat;
  let root; let jdoe; let guest;
  const all = () => [root, jdoe, guest];
  before(async () => {
    createDatabase(database);
    chat = await startChat(database);
  });
  after(async () => { closeAll(); await stopChat(chat); });

  test('Connect + EnterPrivateRoom, login, enterRoom: private_room_entered, userlist, welcome / connect notices', async () => {
    await phpEnters(chat, '1', 6);
    root = await login(chat, 'root', 6, true);
    const entered = await enterRoom(root, 1);
    assert.deepEqual(withoutMs(entered), {
      type: 'private_room_entered', content: 'private_room_entered', roomId: 1, subscriber: { id: 6, username: 'root' },
    });
    const [list] = await root.log.next('userlist');
    assert.deepEqual(withoutMs(list), {
      type: 'userlist', content: 'userlist', roomId: 1,
      users: { 6: { id: 6, username: 'root', profile_picture_visible: true } },
    });
    const [welcome] = await root.log.next('notice');
    assert.deepEqual(withoutMs(welcome), {
      type: 'notice', content: 'welcome_to_chat', roomId: 1, data: { id: 6, username: 'root', title: 'Main' },
    });

    // jdoe's client sends no profile_picture_visible: the key is absent.
    await phpEnters(chat, '1', 7);
    jdoe = await login(chat, 'jdoe', 7);
    assert.deepEqual(withoutMs(await enterRoom(jdoe, 1)), {
      type: 'private_room_entered', content: 'private_room_entered', roomId: 1, subscriber: { id: 7, username: 'jdoe' },
    });
    const users = {
      6: { id: 6, username: 'root', profile_picture_visible: true },
      7: { id: 7, username: 'jdoe' },
    };
    for (const socket of [root, jdoe]) {
      const [l] = await socket.log.next('userlist');
      assert.deepEqual(withoutMs(l), { type: 'userlist', content: 'userlist', roomId: 1, users });
    }
    const [jdoeWelcome] = await jdoe.log.next('notice');
    assert.deepEqual(withoutMs(jdoeWelcome), {
      type: 'notice', content: 'welcome_to_chat', roomId: 1, data: { id: 7, username: 'jdoe', title: 'Main' },
    });
    const [connect] = await root.log.next('notice');
    assert.deepEqual(withoutMs(connect), {
      type: 'notice', content: 'connect', roomId: 1, data: { id: 7, username: 'jdoe', title: 'Main' },
    });

    await phpEnters(chat, '1', 8);
    guest = await login(chat, 'guest', 8, false);
    await enterRoom(guest, 1);
    const [guestList] = await guest.log.next('userlist');
    assert.deepEqual(guestList.users[8], { id: 8, username: 'guest', profile_picture_visible: false });
    await jdoe.log.next('notice', { match: isContent('connect') });
    await root.log.next('notice', { match: isContent('connect') });
    // Nobody gets a second welcome, the newcomer no connect notice about itself.
    await root.log.none('notice', { match: isContent('welcome_to_chat'), withinMs: 100 });
    await guest.log.none('notice', { match: isContent('connect'), withinMs: 0 });
  });

  test('a public message reaches everybody (the sender too) and is stored', async () => {
    for (const s of all()) s.log.clear();
    root.emit('message', { content: 'Hello room', format: { color: '#ff0000', style: 'bold' } }, 1);
    const received = [];
    for (const s of all()) received.push((await s.log.next('message'))[0]);
    assert.deepEqual(received[1], received[0]);
    assert.deepEqual(received[2], received[0]);
    assert.deepEqual(withoutMs(received[0]), {
      type: 'message', content: 'Hello room', roomId: 1,
      from: { id: 6, username: 'root', profile_picture_visible: true }, format: { color: '#ff0000', style: 'bold' },
    });
    await assertStored(chat, received[0]);

    // From a client without the profile flag: no profile_picture_visible in from.
    jdoe.emit('message', { content: 'Hi from jdoe', format: {} }, 1);
    const [fromJdoe] = await root.log.next('message', { match: isContent('Hi from jdoe') });
    assert.deepEqual(fromJdoe.from, { id: 7, username: 'jdoe' });
    await assertStored(chat, fromJdoe);
  });

  test('a whisper (target.public false) reaches only the sender and the target, and is stored', async () => {
    for (const s of all()) s.log.clear();
    const target = { username: 'jdoe', id: 7, public: false };
    root.emit('message', { content: 'psst, jdoe', format: {}, target }, 1);
    const [atRoot] = await root.log.next('message');
    const [atJdoe] = await jdoe.log.next('message');
    assert.deepEqual(atJdoe, atRoot);
    assert.deepEqual(withoutMs(atRoot), {
      type: 'message', content: 'psst, jdoe', roomId: 1,
      from: { id: 6, username: 'root', profile_picture_visible: true }, format: {}, target,
    });
    await guest.log.none('message', { withinMs: 300, what: 'at the third user' });
    await assertStored(chat, atRoot);
  });

  test('target.public true: the whole room receives it', async () => {
    for (const s of all()) s.log.clear();
    const target = { username: 'guest', id: 8, public: true };
    jdoe.emit('message', { content: '@guest for all', format: {}, target }, 1);
    const received = [];
    for (const s of all()) received.push((await s.log.next('message'))[0]);
    assert.deepEqual(received[0], received[1]);
    assert.deepEqual(received[0], received[2]);
    assert.deepEqual(withoutMs(received[0]), {
      type: 'message', content: '@guest for all', roomId: 1, from: { id: 7, username: 'jdoe' }, format: {}, target,
    });
    await assertStored(chat, received[0]);
  });

  test('typing: userStartedTyping / userStoppedTyping reach only the others, subscriber as a JSON string', async () => {
    for (const s of all()) s.log.clear();
    root.emit('userStartedTyping', 1);
    for (const s of [jdoe, guest]) {
      const [typing] = await s.log.next('userStartedTyping');
      assert.deepEqual(withoutMs(typing), {
        type: 'user_started_typing', content: 'user_started_typing', roomId: 1,
        subscriber: '{"id":6,"username":"root"}',
      });
    }
    root.emit('userStoppedTyping', 1);
    for (const s of [jdoe, guest]) {
      const [typing] = await s.log.next('userStoppedTyping');
      assert.deepEqual(withoutMs(typing), {
        type: 'user_stopped_typing', content: 'user_stopped_typing', roomId: 1,
        subscriber: '{"id":6,"username":"root"}',
      });
    }
    await root.log.none('userStartedTyping', { withinMs: 200, what: 'at the typist' });
    await root.log.none('userStoppedTyping', { withinMs: 0, what: 'at the typist' });
  });

  test('D3: login of a user PHP never Connect-ed gets shutdown, not loggedIn', async () => {
    const ghost = browser(chat);
    await connected(ghost);
    ghost.emit('login', 'ghost', 4711);
    const args = await ghost.log.next('shutdown');
    assert.deepEqual(args, []);
    await ghost.log.none('loggedIn', { withinMs: 100 });
  });

  test('D15: a user only Connect-ed (no EnterPrivateRoom) can enter but not post or type', async () => {
    for (const s of all()) s.log.clear();
    assert.equal(await chat.api('Connect/client0/1/13'), '{"status":200}');
    const lurker = await login(chat, 'lurker', 13);
    await enterRoom(lurker, 1);
    const [list] = await lurker.log.next('userlist');
    assert.equal(list.users[13], undefined, 'not in the userlist');
    lurker.emit('message', { content: 'lurker speaks', format: {} }, 1);
    lurker.emit('userStartedTyping', 1);
    // A later message of root is stored after anything queued before it.
    root.emit('message', { content: 'after the lurker', format: {} }, 1);
    const [after] = await jdoe.log.next('message', { match: isContent('after the lurker') });
    await assertStored(chat, after);
    for (const s of all()) {
      await s.log.none('message', { match: isContent('lurker speaks'), withinMs: 100 });
      await s.log.none('userStartedTyping', { withinMs: 0 });
    }
    await lurker.log.none('message', { match: isContent('lurker speaks'), withinMs: 0, what: 'at the lurker itself' });
    assertNotStored(chat, 'lurker speaks');
  });

  test('InvitePrivateRoom: notice user_invited to the inviter; user_invited and user_invited_self {user, room} to the invitee (D14)', async () => {
    for (const s of all()) s.log.clear();
    assert.equal(await chat.api('Connect/client0/1/12'), '{"status":200}');
    const invitee = await login(chat, 'invitee', 12);
    assert.equal(await chat.api('InvitePrivateRoom/client0/1/6/12'), '{"success":true}');
    const [invited] = await invitee.log.next('user_invited');
    const [self] = await invitee.log.next('notice', { match: isContent('user_invited_self') });
    const [inviterNotice] = await root.log.next('notice', { match: isContent('user_invited') });
    assert.deepEqual(withoutMs(self), {
      type: 'notice', content: 'user_invited_self', roomId: '1', data: { user: 'root', room: 'Main' },
    });
    assert.deepEqual(withoutMs(inviterNotice), { type: 'notice', content: 'user_invited', roomId: '1' });
    // The invitation authorises the room: the invitee enters and posts.
    await enterRoom(invitee, 1);
    invitee.emit('message', { content: 'thanks for the invitation', format: {} }, 1);
    await root.log.next('message', { match: isContent('thanks for the invitation') });
    // InviteAction: title and owner of the room; a preloaded room has owner null.
    assert.deepEqual(withoutMs(invited), {
      type: 'user_invited', content: 'user_invited', roomId: '1', title: 'Main', owner: null,
    });
  });

  test('Kick: userjustkicked + kicked_from_private_room to the kicked; userlist + user_kicked to the room; no more posts (D15)', async () => {
    const kickme = await joinRoom(chat, { id: 10, name: 'kickme' });
    for (const s of [...all(), kickme]) s.log.clear();
    assert.equal(await chat.api('Kick/client0/1/10'), '{"success":true}');
    const [kicked] = await kickme.log.next('userjustkicked');
    const [kickedNotice] = await kickme.log.next('notice', { match: isContent('kicked_from_private_room') });
    const [list] = await root.log.next('userlist');
    const [userKicked] = await root.log.next('notice', { match: isContent('user_kicked') });
    await jdoe.log.next('notice', { match: isContent('user_kicked') });
    assert.equal(list.users[10], undefined, 'the kicked user left the userlist');
    assert.deepEqual(Object.keys(list.users).sort(), ['12', '6', '7', '8']);
    assert.deepEqual(userKicked.data, { user: 'kickme' });
    assert.deepEqual(kickedNotice.data, { title: 'Main' });
    await kickme.log.none('notice', { match: isContent('user_kicked'), withinMs: 100, what: '(the kicked user left the room first)' });

    // D15: the kicked user can no longer post or type to the room.
    kickme.emit('message', { content: 'kicked but talking', format: {} }, 1);
    kickme.emit('userStartedTyping', 1);
    root.emit('message', { content: 'after the kick', format: {} }, 1);
    await assertStored(chat, (await jdoe.log.next('message', { match: isContent('after the kick') }))[0]);
    for (const s of all()) {
      await s.log.none('message', { match: isContent('kicked but talking'), withinMs: 100 });
      await s.log.none('userStartedTyping', { withinMs: 0 });
    }
    assertNotStored(chat, 'kicked but talking');

    // Payloads, all in one comparison. Spec 12.1: userjustkicked carries the number roomId; the
    // Node Kick task parseInt()s the roomId for every message it builds.
    assert.deepEqual({
      userjustkicked: withoutMs(kicked), kickedNotice: withoutMs(kickedNotice), userKicked: withoutMs(userKicked),
      userlistRoomId: list.roomId,
    }, {
      userjustkicked: { type: 'userjustkicked', content: 'userjustkicked', roomId: 1 },
      kickedNotice: { type: 'notice', content: 'kicked_from_private_room', roomId: 1, data: { title: 'Main' } },
      userKicked: { type: 'notice', content: 'user_kicked', roomId: 1, data: { user: 'kickme' } },
      userlistRoomId: 1,
    });
  });

  test('Ban: userjustbanned (no payload); userlist + notice user_banned with roomId as a string; the user leaves the namespace', async () => {
    const banme = await joinRoom(chat, { id: 11, name: 'banme' });
    for (const s of [...all(), banme]) s.log.clear();
    assert.equal(await chat.api('Ban/client0/1/11'), '{"success":true}');
    const args = await banme.log.next('userjustbanned');
    assert.deepEqual(args, [], 'userjustbanned carries no payload');
    const [list] = await root.log.next('userlist');
    assert.equal(list.users[11], undefined);
    const [banned] = await root.log.next('notice', { match: isContent('user_banned') });
    assert.deepEqual(withoutMs(banned), { type: 'notice', content: 'user_banned', roomId: '1', data: { user: 'banme' } });
    await guest.log.next('notice', { match: isContent('user_banned') });
    await banme.log.none('notice', { match: isContent('user_banned'), withinMs: 100 });

    banme.emit('message', { content: 'banned but talking', format: {} }, 1);
    await root.log.none('message', { match: isContent('banned but talking'), withinMs: 200 });
    assertNotStored(chat, 'banned but talking');
    // Removed from the namespace: a new login without Connect is refused.
    const again = browser(chat);
    await connected(again);
    again.emit('login', 'banme', 11);
    await again.log.next('shutdown');
  });

  test('ClearMessages: clear + notice history_has_been_cleared to the room', async () => {
    for (const s of all()) s.log.clear();
    assert.equal(await chat.api('ClearMessages/client0/1/6'), '{"success":true}');
    const received = [];
    for (const s of all()) {
      const [clear] = await s.log.next('clear');
      const [notice] = await s.log.next('notice', { match: isContent('history_has_been_cleared') });
      received.push([clear, notice]);
    }
    // Spec 12.1: clear carries the number roomId (the Node task parseInt()s it for both).
    const [clear, notice] = received[0];
    assert.deepEqual(received[1], received[0]);
    assert.deepEqual({ clear: withoutMs(clear), notice: withoutMs(notice) }, {
      clear: { type: 'clear', content: 'history_has_been_cleared', roomId: 1 },
      notice: { type: 'notice', content: 'history_has_been_cleared', roomId: 1 },
    });
  });

  test('hist_id from chatroom_history_seq, interleaved with ids PHP takes: increasing, no collision', async () => {
    await assertSequenceInterleaving(chat, { room: 2, firstId: 26, legacy: false });
  });
});

// ---------------------------------------------------------------------------------------------
// HTML escaping (docs/decisions.md D10)

const hostile = `<b>&amp; "x" 'y' & 😀`;

describe('a burst of room entries', () => {
  const database = 'ilias_it_room_burst';
  let chat;
  before(async () => {
    createDatabase(database);
    chat = await startChat(database);
  });
  after(async () => { closeAll(); await stopChat(chat); });

  // Each entry changes the user list; the lists are coalesced per loop turn and a list a member
  // has not been written yet is replaced by the newer one. What every member ends with is the
  // same as if each list had been sent.
  test('40 members entering at once each end with the full user list, and no list is out of date at the end', async () => {
    const ids = Array.from({ length: 40 }, (_, i) => 2000 + i);
    const sockets = await Promise.all(ids.map((id) => joinRoom(chat, { id, name: `user${id}` })));
    await eventually(() => {
      for (const socket of sockets) {
        const lists = socket.log.entries.filter((e) => e.event === 'userlist').map((e) => e.args[0]);
        assert.ok(lists.length > 0, 'every member got a user list');
        const last = lists.at(-1);
        assert.deepEqual(Object.keys(last.users).map(Number).sort((a, b) => a - b), ids);
        assert.deepEqual(last.users[ids[0]], { id: ids[0], username: `user${ids[0]}` });
      }
    }, { timeoutMs: 5000 });
  });
});

describe('html_escape true (default)', () => {
  const database = 'ilias_it_room_esc';
  let chat;
  before(async () => {
    createDatabase(database);
    chat = await startChat(database, { html_escape: true });
  });
  after(async () => { closeAll(); await stopChat(chat); });

  test('content is escaped as docs/decisions.md D10 says before it is sent and stored', async () => {
    const a = await joinRoom(chat, { id: 6, name: 'root' });
    const b = await joinRoom(chat, { id: 7, name: 'jdoe' });
    a.emit('message', { content: hostile, format: {} }, 1);
    const [atA] = await a.log.next('message');
    const [atB] = await b.log.next('message');
    assert.equal(atA.content, `&lt;b&gt;&amp; &quot;x&quot; 'y' &amp; ?`);
    assert.deepEqual(atB, atA);
    await assertStored(chat, atA, { uniqueText: '&lt;b&gt;&amp; &quot;x&quot;' });

    a.emit('message', { content: '&#39; &nbsp; &x y; &_; 5 > 3 𝄞', format: {} }, 1);
    const [second] = await b.log.next('message');
    assert.equal(second.content, '&amp;#39; &nbsp; &amp;x y; &_; 5 &gt; 3 ?');
  });
});

describe('html_escape false', () => {
  const database = 'ilias_it_room_raw';
  let chat;
  before(async () => {
    createDatabase(database);
    chat = await startChat(database, { html_escape: false });
  });
  after(async () => { closeAll(); await stopChat(chat); });

  test('content is sent and stored unchanged, 4-byte UTF-8 included (utf8mb4, D13)', async () => {
    const a = await joinRoom(chat, { id: 6, name: 'root' });
    const b = await joinRoom(chat, { id: 7, name: 'jdoe' });
    a.emit('message', { content: hostile, format: {} }, 1);
    const [atA] = await a.log.next('message');
    const [atB] = await b.log.next('message');
    assert.equal(atA.content, hostile);
    assert.deepEqual(atB, atA);
    await assertStored(chat, atA, { uniqueText: '😀' });
    const [[hex]] = sqlRows(database, "SELECT HEX(message) FROM chatroom_history WHERE message LIKE '%<b>%'");
    assert.match(hex, /F09F9880/, 'the emoji is stored as its 4 UTF-8 bytes');
  });
});

// ---------------------------------------------------------------------------------------------
// Disconnect grace, tabs, chatroom_users → chatroom_sessions

describe('disconnect grace (disconnect_grace 300 ms)', () => {
  const database = 'ilias_it_room_grace';
  let chat;
  before(async () => {
    createDatabase(database);
    chat = await startChat(database, { disconnect_grace: 300 });
  });
  after(async () => { closeAll(); await stopChat(chat); });

  const userdata = (id, name) => ({ json: JSON.stringify({ login: name, id, profile_picture_visible: true }), connected: nowSeconds() - 60 });

  test('page reload within the grace: no disconnected notice, no connect notice, the presence row stays', async () => {
    const stayer = await joinRoom(chat, { id: 6, name: 'root', userdata: userdata(6, 'root') });
    let reloader = await joinRoom(chat, { id: 7, name: 'jdoe', userdata: userdata(7, 'jdoe') });
    await stayer.log.next('notice', { match: isContent('connect') });
    stayer.log.clear();

    reloader.disconnect();
    await delay(50);
    reloader = await login(chat, 'jdoe', 7);
    await enterRoom(reloader, 1);
    await stayer.log.none('notice', { match: isContent('disconnected'), withinMs: 800, what: 'after a reload' });
    await stayer.log.none('notice', { match: isContent('connect'), withinMs: 0, what: '(still joined)' });
    await reloader.log.none('notice', { match: isContent('welcome_to_chat'), withinMs: 0, what: '(still joined)' });
    assert.deepEqual(sqlRows(database, 'SELECT room_id, user_id FROM chatroom_users WHERE user_id = 7'), [['1', '7']]);
    assert.deepEqual(sqlRows(database, 'SELECT sess_id FROM chatroom_sessions WHERE user_id = 7'), []);
    // Still in the room: messages flow both ways.
    reloader.emit('message', { content: 'back after reload', format: {} }, 1);
    await stayer.log.next('message', { match: isContent('back after reload') });
  });

  test('two tabs (D4): closing one keeps the user in the room; closing the last one leaves after the grace', async () => {
    // Room 2: the users of the other tests stay in room 1 and 3.
    const watcher = await joinRoom(chat, { id: 20, name: 'watcher', room: 2 });
    const tab1 = await joinRoom(chat, { id: 21, name: 'twotabs', room: 2 });
    const tab2 = await login(chat, 'twotabs', 21);
    await enterRoom(tab2, 2);
    await delay(100);
    watcher.log.clear();

    tab1.disconnect();
    await watcher.log.none('notice', { match: isContent('disconnected'), withinMs: 800, what: 'while a tab is open' });
    await watcher.log.none('userlist', { withinMs: 0 });
    tab2.emit('message', { content: 'still here in tab 2', format: {} }, 2);
    await watcher.log.next('message', { match: isContent('still here in tab 2') });

    tab2.disconnect();
    const [notice] = await watcher.log.next('notice', { match: isContent('disconnected'), timeoutMs: 3000 });
    assert.deepEqual(notice.data, { username: 'twotabs' });
  });

  test('leaving for good: after the grace userlist + disconnected notice; chatroom_users rows moved to chatroom_sessions', async () => {
    // Room 3: the users of the other tests stay in rooms 1 and 2.
    const seqBefore = sqlRows(database, 'SELECT MAX(sequence) FROM chatroom_sessions_seq')[0]?.[0];
    const stayer = await joinRoom(chat, { id: 30, name: 'stayer', room: 3, picture: [true], userdata: userdata(30, 'stayer') });
    const leaverData = { json: JSON.stringify({ login: 'leavér 😀', id: 31, profile_picture_visible: false }), connected: nowSeconds() - 120 };
    const leaver = await joinRoom(chat, { id: 31, name: 'leavér 😀', room: 3, userdata: leaverData });
    // A presence row for a room the user never entered on this server: not touched.
    insertChatroomUser(database, 1, 31, leaverData.json, leaverData.connected);
    await stayer.log.next('notice', { match: isContent('connect') });
    stayer.log.clear();

    const left = Date.now();
    leaver.disconnect();
    await stayer.log.none('notice', { match: isContent('disconnected'), withinMs: 150, what: 'before the grace ran out' });
    const [list] = await stayer.log.next('userlist', { timeoutMs: 3000 });
    const [notice] = await stayer.log.next('notice', { match: isContent('disconnected'), timeoutMs: 3000 });
    assert.ok(Date.now() - left >= 250, `the grace was kept (${Date.now() - left} ms)`);
    assert.deepEqual(Object.keys(list.users), ['30']);
    assert.deepEqual(withoutMs(notice), { type: 'notice', content: 'disconnected', roomId: '3', data: { username: 'leavér 😀' } });
    assert.equal(list.roomId, '3', 'the disconnect userlist carries roomId as a string');

    const [session] = await waitForRows(database,
      'SELECT sess_id, room_id, user_id, userdata, connected, disconnected FROM chatroom_sessions WHERE user_id = 31');
    const [sessId, roomId, userId, data, connectedAt, disconnectedAt] = session;
    assert.equal(sqlRows(database, 'SELECT sess_id FROM chatroom_sessions WHERE user_id = 31').length, 1);
    const [[sequence]] = sqlRows(database, 'SELECT MAX(sequence) FROM chatroom_sessions_seq');
    assert.equal(sessId, sequence, 'sess_id comes from chatroom_sessions_seq');
    if (seqBefore) assert.ok(Number(sessId) > Number(seqBefore));
    assert.equal(roomId, '3');
    assert.equal(userId, '31');
    assert.equal(data, leaverData.json);
    assert.equal(Number(connectedAt), leaverData.connected);
    assert.ok(Math.abs(Number(disconnectedAt) - nowSeconds()) <= 5, `disconnected ${disconnectedAt} ≈ now`);
    assert.deepEqual(sqlRows(database, 'SELECT room_id FROM chatroom_users WHERE user_id = 31'), [['1']]);
    assert.deepEqual(sqlRows(database, 'SELECT room_id FROM chatroom_users WHERE user_id = 30'), [['3']]);

    // The user left the namespace too: a login without a new Connect is refused.
    const again = browser(chat);
    await connected(again);
    again.emit('login', 'leavér 😀', 31);
    await again.log.next('shutdown');
  });
});

// ---------------------------------------------------------------------------------------------
// Start-up and shutdown

describe('start-up and shutdown: presence rows, preloaded rooms', () => {
  const database = 'ilias_it_room_boot';
  let chat;
  const rows = [
    [1, 6, JSON.stringify({ login: 'root', id: 6, profile_picture_visible: true }), 1700000000],
    [2, 7, JSON.stringify({ login: 'jdöe', id: 7 }), 1700000100],
  ];
  before(() => {
    createDatabase(database);
    for (const [room, user, data, connected] of rows) insertChatroomUser(database, room, user, data, connected);
    sqlRows(database, "INSERT INTO chatroom_settings (room_id, object_id, room_type) VALUES (42, 300, 'repository')");
    phpNextId(database, 'chatroom_sessions');
    phpNextId(database, 'chatroom_sessions');  // PHP's sessions sequence stands at 2
  });
  after(async () => { closeAll(); if (chat && !chat.daemon.exited) await stopChat(chat); });

  const sessions = (where = '') => sqlRows(database,
    `SELECT sess_id, room_id, user_id, userdata, connected, disconnected FROM chatroom_sessions ${where} ORDER BY sess_id`);

  test('rows left in chatroom_users are moved to chatroom_sessions at start-up; rooms are preloaded', async () => {
    const started = nowSeconds();
    chat = await startChat(database);
    assert.deepEqual(sqlRows(database, 'SELECT * FROM chatroom_users'), []);
    const moved = sessions();
    assert.equal(moved.length, 2, JSON.stringify(moved));
    assert.deepEqual(moved.map((r) => r[0]).sort(), ['3', '4'], 'sess_id continues the sequence');
    for (const [room, user, data, connected] of rows) {
      const row = moved.find((r) => r[2] === String(user));
      assert.ok(row, `session of user ${user}`);
      assert.deepEqual(row.slice(1, 5), [String(room), String(user), data, String(connected)]);
      assert.ok(Number(row[5]) >= started - 1 && Number(row[5]) <= nowSeconds() + 1, `disconnected ${row[5]} ≈ start-up`);
    }
    assert.deepEqual(JSON.parse(await chat.api('GetRooms/client0')),
      { rooms: { '1_0': {}, '2_0': {}, '3_0': {}, '42_0': {} } });
  });

  test('rows inserted while running are moved at SIGTERM shutdown (exit 0)', async () => {
    // The preloaded room 42 works: a user enters it.
    const user = await joinRoom(chat, { id: 8, name: 'late', room: 42 });
    insertChatroomUser(database, 3, 9, '{"login":"x","id":9}', 1700000200);
    insertChatroomUser(database, 42, 8, '{"login":"late","id":8}', 1700000300);
    user.disconnect();
    const stopping = nowSeconds();
    await stopChat(chat);
    assert.deepEqual(sqlRows(database, 'SELECT * FROM chatroom_users'), []);
    const moved = sessions('WHERE sess_id > 4');
    assert.equal(moved.length, 2, JSON.stringify(moved));
    assert.deepEqual(moved.map((r) => r[0]).sort(), ['5', '6']);
    for (const [room, userId, data, connected] of [[3, 9, '{"login":"x","id":9}', 1700000200], [42, 8, '{"login":"late","id":8}', 1700000300]]) {
      const row = moved.find((r) => r[2] === String(userId));
      assert.ok(row, `session of user ${userId}`);
      assert.deepEqual(row.slice(1, 5), [String(room), String(userId), data, String(connected)]);
      assert.ok(Math.abs(Number(row[5]) - stopping) <= 2, `disconnected ${row[5]} ≈ shutdown`);
    }
  });
});
