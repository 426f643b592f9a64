// The On-Screen Chat (namespace /<name>-im; docs/protocol.md, "The chat namespaces" and "SQL"; docs/decisions.md D5-D7,
// D16, D17) of the real ilchatd, driven by the real socket.io-client 4.8 the way ILIAS's il.Chat
// drives it, with the rows in a private MariaDB database checked after every step: one-to-one
// conversations, messages, history pages, activity and closing; groups made by addUser,
// removeUser and typing; users who do not accept messages and UserConfigChange; spoofed user ids
// and malformed arguments; a restart on the same database.
//
// ilchatd's own decisions tested here (besides docs/decisions.md): numNewMessages is the unread count only
// in the `conversation` events sent after login/`conversations` (0 elsewhere); `conversation`
// needs the requesting socket's user among the requested participants. As in the Node server, a
// message is stored when the conversation is a group or a participant accepts messages, the
// sender included; a participant the last usr_pref read did not cover has its own read at once (D20).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { io } from 'socket.io-client';
import {
  backendGet, createDatabase, eventually, freePort, recordEvents, sql, sqlRows, startDaemon, tempDir, writeConfig,
} from './harness.mjs';

const uuidV4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const delay = (ms) => new Promise((r) => setTimeout(r, ms));

// Users of tests/sql/demo-data.sql: 6 and 7 accept messages (usr_pref chat_osc_accept_msg 'y').
const root = { id: 6, name: 'root' };
describe('OSC: the preference of a user the last usr_pref read did not cover (D20)', () => {
  const database = 'ilias_it_im_new_users';
  const fresh = { id: 21, name: 'fresh' };      // switched on after ilchatd read usr_pref
  const silent = { id: 22, name: 'silent' };    // no row at all: does not accept
  let server;
  before(async () => { server = await startServer(database); });
  after(() => stopServer(server));

  test('a user who accepts since the last read gets messages at once; one without a row does not', async () => {
    sql(database, "REPLACE INTO usr_pref (usr_id, keyword, value) VALUES (21, 'chat_osc_accept_msg', 'y')");
    const s6 = await loggedIn(server, root);
    const s21 = await loggedIn(server, fresh);
    const s22 = await loggedIn(server, silent);
    s6.emit('conversation', [root, fresh]);
    const C = conversation((await s6.events.next('conversation-init'))[0].id, [root, fresh]);
    await sendMessage(s6, C, 'Welcome, fresh', [s6, s21]);
    s6.emit('conversation', [root, silent]);
    const D = conversation((await s6.events.next('conversation-init'))[0].id, [root, silent]);
    const m = await sendMessage(s6, D, 'Hello silent', [s6]);
    assert.deepEqual((await s6.events.next('participantsSuppressedMessages'))[0], { ...m, ignoredParticipants: { 22: 22 } });
    await quiet([s6, s21, s22]);
  });
});

const jdoe = { id: 7, name: 'jdoe' };

// ---------------------------------------------------------------------------------------------
// Server, clients, expectations

// A fresh database (schema + demo rows, plus 'y' preferences for `accepting`; `setup` SQL run
// before the start) and ilchatd serving it as client0.
async function startServer(database, { accepting = [], setup = '' } = {}) {
  createDatabase(database);
  if (accepting.length) {
    sql(database, `REPLACE INTO usr_pref (usr_id, keyword, value) VALUES ${
      accepting.map((id) => `(${id}, 'chat_osc_accept_msg', 'y')`).join(', ')}`);
  }
  if (setup) sql(database, setup);
  const server = { database, sockets: new Set() };
  await launch(server);
  return server;
}

// (Re)starts ilchatd for `server` on a new port.
async function launch(server) {
  server.port = await freePort();
  server.url = `http://127.0.0.1:${server.port}`;
  const { serverPath, clientPaths } = writeConfig(tempDir(), {
    port: server.port, clients: [{ database: { name: server.database } }],
  });
  server.daemon = await startDaemon(serverPath, clientPaths);
}

// Closes every client of `server` and stops ilchatd with SIGTERM: exit 0, no ERROR logged.
async function stopServer(server) {
  if (!server?.daemon) return;
  for (const socket of server.sockets) socket.disconnect();
  server.sockets.clear();
  const { daemon } = server;
  server.daemon = null;
  const timer = setTimeout(() => daemon.stop('SIGKILL'), 5000);
  const exit = await daemon.stop();
  clearTimeout(timer);
  assert.deepEqual(exit, { code: 0, signal: null }, daemon.output);
  assert.doesNotMatch(daemon.output, / ERROR - /);
}

// A socket.io-client socket on /client0-im (websocket only) recording what it receives.
async function connectIm(server) {
  const socket = io(`${server.url}/client0-im`, { forceNew: true, reconnection: false, transports: ['websocket'] });
  const events = recordEvents(socket);
  server.sockets.add(socket);
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('/client0-im not connected within 5000 ms')), 5000);
    socket.once('connect', () => { clearTimeout(timer); resolve(); });
    socket.once('connect_error', (e) => { clearTimeout(timer); reject(new Error(`connect_error: ${e.message}`)); });
  });
  return { socket, events, emit: (...args) => socket.emit(...args), user: null };
}

// A client logged in as `user` ({id, name}); `login` must answer exactly {id, name}.
async function loggedIn(server, user) {
  const client = await connectIm(server);
  client.emit('login', user.id, user.name);
  const [payload] = await client.events.next('login');
  assert.deepEqual(payload, user);
  client.user = user;
  return client;
}

// Waits `withinMs`, then checks that every event each client received has been taken by next().
async function quiet(clients, withinMs = 250) {
  await delay(withinMs);
  for (const client of clients) {
    const left = client.events.entries.filter((e) => !e.taken).map((e) => [e.event, ...e.args]);
    assert.deepEqual(left, [], `user ${client.user?.id ?? '(not logged in)'} received unexpected events`);
  }
}

const conversation = (id, participants, { isGroup = false, latestMessage = null, numNewMessages = 0 } = {}) =>
  ({ id, participants, latestMessage, numNewMessages, isGroup });

// A message object as a latestMessage / history row: the columns plus camel-case aliases.
const row = (m) => ({
  id: m.id, conversation_id: m.conversationId, user_id: m.userId, message: m.message, timestamp: m.timestamp,
  userId: m.userId, conversationId: m.conversationId,
});

// A message object as an osc_messages row (see messagesOf).
const dbMessage = (m) => ({
  id: m.id, conversation_id: m.conversationId, user_id: m.userId, message: m.message, timestamp: m.timestamp,
});

// `from` sends `text` to `conv` (the expected conversation JSON, whose latestMessage is updated);
// every client in `to` (the sender among them when it accepts messages) must receive `message`
// (the message object) and `conversation` (the conversation JSON with the new latestMessage).
// Returns the message object.
async function sendMessage(from, conv, text, to) {
  const before = Date.now();
  from.emit('message', conv.id, from.user.id, text);
  const [message] = await from.events.next(to.includes(from) ? 'message' : 'senderSuppressesMessages',
    { match: (m) => m.message === text, what: `for "${text}" ` });
  const after = Date.now();
  assert.match(message.id, uuidV4);
  assert.ok(message.timestamp >= before && message.timestamp <= after, `timestamp ${message.timestamp} is now, in ms`);
  assert.deepEqual(message, {
    conversationId: conv.id, userId: from.user.id, message: text, timestamp: message.timestamp, id: message.id,
  });
  if (to.includes(from)) conv.latestMessage = row(message);   // a suppressed sender changes nothing
  for (const client of to) {
    if (client !== from) {
      const [received] = await client.events.next('message', { match: (m) => m.id === message.id, what: `for "${text}" ` });
      assert.deepEqual(received, message);
    }
    const [json] = await client.events.next('conversation', {
      match: (c) => c.latestMessage?.id === message.id, what: `for "${text}" `,
    });
    assert.deepEqual(json, conv);
  }
  return message;
}

// Emits history(conversation, oldest, reverse) and returns the `history` answer.
async function history(client, conversationId, oldest = null, reverse = false) {
  client.emit('history', conversationId, oldest, reverse);
  const [answer] = await client.events.next('history', { match: (h) => h.id === conversationId });
  return answer;
}

// A round trip through the database worker: when the `history` answer arrives, everything this
// socket sent before has been handled and every write it caused is in the database.
async function barrier(client, conversationId) {
  await history(client, conversationId);
}

// ---------------------------------------------------------------------------------------------
// Database rows

function conversationRows(database, where = '') {
  return sqlRows(database, `SELECT id, is_group, participants FROM osc_conversation ${where} ORDER BY id`)
    .map(([id, isGroup, participants]) => ({ id, is_group: Number(isGroup), participants: JSON.parse(participants) }));
}

const conversationRow = (database, id) => conversationRows(database, `WHERE id = '${id}'`)[0];

function messagesOf(database, conversationId) {
  return sqlRows(database, `SELECT id, conversation_id, user_id, message, timestamp FROM osc_messages
                            WHERE conversation_id = '${conversationId}' ORDER BY timestamp, id`)
    .map(([id, conv, user, message, timestamp]) => ({
      id, conversation_id: conv, user_id: Number(user), message, timestamp: Number(timestamp),
    }));
}

function activityOf(database, conversationId) {
  return sqlRows(database, `SELECT conversation_id, user_id, timestamp, is_closed FROM osc_activity
                            WHERE conversation_id = '${conversationId}' ORDER BY user_id`)
    .map(([conv, user, timestamp, closed]) => ({
      conversation_id: conv, user_id: Number(user), timestamp: Number(timestamp), is_closed: Number(closed),
    }));
}

// Every OSC row, for "nothing changed" checks.
function snapshot(database) {
  return {
    conversations: sqlRows(database, 'SELECT id, is_group, participants FROM osc_conversation ORDER BY id'),
    messages: sqlRows(database, 'SELECT id, conversation_id, user_id, message, timestamp FROM osc_messages ORDER BY id'),
    activity: sqlRows(database,
      'SELECT conversation_id, user_id, timestamp, is_closed FROM osc_activity ORDER BY conversation_id, user_id'),
  };
}

const count = (database, table) => Number(sqlRows(database, `SELECT COUNT(*) FROM ${table}`)[0][0]);

// GET /backend/UserConfigChange/client0?message=<settings as JSON>, with client0's credentials
// unless `auth` says otherwise ({} sends none).
async function userConfigChange(server, settings, auth = { key: 'key-0', secret: 'secret-0' }) {
  const route = `UserConfigChange/client0?message=${encodeURIComponent(JSON.stringify(settings))}`;
  const response = await backendGet(server.port, route, auth);
  return { status: response.status, body: JSON.parse(response.body) };
}

// ---------------------------------------------------------------------------------------------

describe('OSC: two users', () => {
  const database = 'ilias_it_im_pair';
  const carol = { id: 10, name: 'carol' };
  const third = { id: 20, name: 'third' };
  let server;
  let a; let b; let c;       // root, jdoe, carol
  let A; let G; let H;       // {root, jdoe}, {root, jdoe, third}, {root, carol}
  before(async () => { server = await startServer(database, { accepting: [carol.id] }); });
  after(() => stopServer(server));

  test('login answers {id, name}; a user without conversations gets nothing else', async () => {
    a = await loggedIn(server, root);
    b = await loggedIn(server, jdoe);
    c = await loggedIn(server, carol);
    await quiet([a, b, c]);
    assert.equal(count(database, 'osc_conversation'), 0);
  });

  test('conversation → conversation-init; the same participants in any order → the same id (D6)', async () => {
    a.emit('conversation', [root, jdoe]);
    const [init] = await a.events.next('conversation-init');
    assert.match(init.id, uuidV4);
    A = conversation(init.id, [root, jdoe]);
    assert.deepEqual(init, A);
    await eventually(() => assert.deepEqual(conversationRows(database), [{ id: A.id, is_group: 0, participants: [root, jdoe] }]));

    // The other participant asks with the participants the other way round; root asks again.
    b.emit('conversation', [jdoe, root]);
    assert.deepEqual((await b.events.next('conversation-init'))[0], A);
    a.emit('conversation', [{ id: 7, name: 'jdoe' }, { id: 6, name: 'root' }]);
    assert.deepEqual((await a.events.next('conversation-init'))[0], A);

    // A third participant makes another conversation (ilchatd: more than two participants is a group).
    a.emit('conversation', [root, jdoe, third]);
    const [init3] = await a.events.next('conversation-init');
    assert.match(init3.id, uuidV4);
    assert.notEqual(init3.id, A.id);
    G = conversation(init3.id, [root, jdoe, third], { isGroup: true });
    assert.deepEqual(init3, G);
    await eventually(() => assert.deepEqual(conversationRows(database), [
      { id: A.id, is_group: 0, participants: [root, jdoe] },
      { id: G.id, is_group: 1, participants: [root, jdoe, third] },
    ].sort((x, y) => x.id.localeCompare(y.id))));
    await barrier(a, A.id);
    assert.equal(count(database, 'osc_conversation'), 2);
    assert.equal(count(database, 'osc_activity'), 0);
    assert.equal(count(database, 'osc_messages'), 0);
    await quiet([a, b, c]);   // conversation-init goes to the requester only
  });

  test('messages both ways: `message` and `conversation` (latestMessage current, D7) to both; rows stored', async () => {
    const m1 = await sendMessage(a, A, 'Hello jdoe', [a, b]);
    await eventually(() => assert.deepEqual(messagesOf(database, A.id), [dbMessage(m1)]));
    const m2 = await sendMessage(b, A, 'Hi root, how are you?', [a, b]);
    await eventually(() => assert.deepEqual(messagesOf(database, A.id), [dbMessage(m1), dbMessage(m2)]));
    assert.notEqual(m1.id, m2.id);
    await quiet([a, b, c]);
  });

  test('history: pages of 6, newest first; oldestMessageTimestamp pages on; reverseSorting', async () => {
    a.emit('conversation', [root, carol]);
    const [init] = await a.events.next('conversation-init');
    H = conversation(init.id, [root, carol]);
    assert.deepEqual(init, H);

    const sent = [];
    for (let i = 1; i <= 8; i++) {
      sent.push(await sendMessage(i % 2 ? a : c, H, `page message ${i}`, [a, c]));
      await delay(3);   // distinct millisecond timestamps
    }
    assert.equal(new Set(sent.map((m) => m.timestamp)).size, 8);
    await eventually(() => assert.deepEqual(messagesOf(database, H.id), sent.map(dbMessage)));
    const newestFirst = sent.map(row).reverse();

    const page1 = await history(a, H.id, null, false);
    assert.deepEqual(page1, {
      ...H, messages: newestFirst.slice(0, 6), reverseSorting: false, oldestMessageTimestamp: sent[2].timestamp,
    });
    const page2 = await history(a, H.id, page1.oldestMessageTimestamp, false);
    assert.deepEqual(page2, {
      ...H, messages: newestFirst.slice(6), reverseSorting: false, oldestMessageTimestamp: sent[0].timestamp,
    });
    const page3 = await history(a, H.id, page2.oldestMessageTimestamp, false);
    assert.deepEqual(page3, { ...H, messages: [], reverseSorting: false, oldestMessageTimestamp: sent[0].timestamp });
    const reversed = await history(a, H.id, null, true);
    assert.deepEqual(reversed, {
      ...H, messages: newestFirst.slice(0, 6).reverse(), reverseSorting: true, oldestMessageTimestamp: sent[2].timestamp,
    });
    // The other participant reads the same; a non-participant gets nothing.
    assert.deepEqual(await history(c, H.id, null, false), page1);
    b.emit('history', H.id, null, false);
    await quiet([a, b, c]);
  });

  test('activity writes osc_activity; closeConversation sets is_closed = 1; activity reopens', async () => {
    const t1 = Date.now() - 5000;
    b.emit('activity', A.id, jdoe.id, t1);
    await eventually(() => assert.deepEqual(activityOf(database, A.id),
      [{ conversation_id: A.id, user_id: 7, timestamp: t1, is_closed: 0 }]));
    b.emit('activity', A.id, jdoe.id, t1 + 1000);
    await eventually(() => assert.deepEqual(activityOf(database, A.id),
      [{ conversation_id: A.id, user_id: 7, timestamp: t1 + 1000, is_closed: 0 }]));

    const beforeClose = Date.now();
    b.emit('closeConversation', A.id, jdoe.id);
    const [closed] = await eventually(() => {
      const rows = activityOf(database, A.id);
      assert.equal(rows[0]?.is_closed, 1);
      return rows;
    });
    assert.equal(closed.user_id, 7);
    assert.ok(closed.timestamp >= beforeClose && closed.timestamp <= Date.now(), 'closing stamps the time (ms)');

    const t2 = Date.now();
    b.emit('activity', A.id, jdoe.id, t2);
    await eventually(() => assert.deepEqual(activityOf(database, A.id),
      [{ conversation_id: A.id, user_id: 7, timestamp: t2, is_closed: 0 }]));

    // Closing without an activity row writes nothing.
    b.emit('closeConversation', G.id, jdoe.id);
    await barrier(b, G.id);
    assert.deepEqual(activityOf(database, G.id), []);
    await quiet([a, b, c]);
  });

  test('after re-login a closed 1:1 with unread messages is listed again; a closed one without is not', async () => {
    // root closes A (with jdoe) and H (with carol; all its messages are older than the close).
    a.emit('activity', A.id, root.id, Date.now());
    a.emit('closeConversation', A.id, root.id);
    a.emit('activity', H.id, root.id, Date.now());
    a.emit('closeConversation', H.id, root.id);
    await eventually(() => {
      assert.deepEqual(activityOf(database, A.id).map((r) => [r.user_id, r.is_closed]), [[6, 1], [7, 0]]);
      assert.deepEqual(activityOf(database, H.id).map((r) => [r.user_id, r.is_closed]), [[6, 1]]);
    });
    await quiet([a, b, c]);
    a.socket.disconnect();
    server.sockets.delete(a.socket);
    await delay(50);

    // jdoe writes while root is away: stored (root accepts), one unread message for root.
    const unread = await sendMessage(b, A, 'Are you still there?', [b]);
    await eventually(() => assert.equal(messagesOf(database, A.id).length, 3));

    const a2 = await loggedIn(server, root);
    const listed = { ...A, latestMessage: row(unread), numNewMessages: 1 };
    assert.deepEqual((await a2.events.next('conversation', { match: (x) => x.id === A.id }))[0], listed);
    // G: never opened, so not closed (no activity row: numNewMessages 0, no messages: latestMessage null).
    assert.deepEqual((await a2.events.next('conversation', { match: (x) => x.id === G.id }))[0], G);
    await quiet([a2, b, c]);   // H (closed, nothing unread) is not listed

    // `conversations` asks again: the same list.
    a2.emit('conversations');
    assert.deepEqual((await a2.events.next('conversation', { match: (x) => x.id === A.id }))[0], listed);
    assert.deepEqual((await a2.events.next('conversation', { match: (x) => x.id === G.id }))[0], G);
    await quiet([a2, b, c]);
    a = a2;
  });
});

// ---------------------------------------------------------------------------------------------

describe('OSC: three users — addUser, removeUser, typing', () => {
  const database = 'ilias_it_im_group';
  const anna = { id: 11, name: 'anna' };
  const ben = { id: 12, name: 'ben' };
  const cleo = { id: 13, name: 'cleo' };
  const dora = { id: 14, name: 'dora' };
  const eve = { id: 15, name: 'eve' };
  let server;
  let s11; let s12; let s13;
  let C; let G;
  before(async () => { server = await startServer(database, { accepting: [anna.id, ben.id, cleo.id] }); });
  after(() => stopServer(server));

  test('addUser on a 1:1 creates a NEW group conversation, INSERTed once with all three (D16)', async () => {
    s11 = await loggedIn(server, anna);
    s12 = await loggedIn(server, ben);
    s13 = await loggedIn(server, cleo);
    s11.emit('conversation', [anna, ben]);
    const [init] = await s11.events.next('conversation-init');
    C = conversation(init.id, [anna, ben]);
    assert.deepEqual(init, C);
    const hello = await sendMessage(s11, C, 'Hi ben', [s11, s12]);

    s11.emit('addUser', C.id, cleo.id, cleo.name);
    const [json] = await s11.events.next('conversation');
    assert.match(json.id, uuidV4);
    assert.notEqual(json.id, C.id);
    G = conversation(json.id, [anna, ben, cleo], { isGroup: true });
    assert.deepEqual(json, G);
    assert.deepEqual((await s11.events.next('addUser'))[0], G);

    // The first time the row is seen it already holds all three participants.
    const first = await eventually(() => {
      const r = conversationRow(database, G.id);
      assert.ok(r, 'group row written');
      return r;
    }, { intervalMs: 1 });
    assert.deepEqual(first, { id: G.id, is_group: 1, participants: [anna, ben, cleo] });
    await eventually(() => assert.deepEqual(activityOf(database, G.id), [anna, ben, cleo].map((u) => (
      { conversation_id: G.id, user_id: u.id, timestamp: 0, is_closed: 0 }))));
    // The 1:1 conversation stays as it was.
    assert.deepEqual(conversationRow(database, C.id), { id: C.id, is_group: 0, participants: [anna, ben] });
    assert.deepEqual(messagesOf(database, C.id), [dbMessage(hello)]);
    assert.equal(count(database, 'osc_conversation'), 2);
    await quiet([s11, s12, s13]);   // only the requester is told
  });

  test('addUser of a participant changes nothing; addUser on a group adds to that group', async () => {
    const before = snapshot(database);
    s11.emit('addUser', G.id, ben.id, ben.name);
    await barrier(s11, G.id);
    assert.deepEqual(snapshot(database), before);
    await quiet([s11, s12, s13]);

    s11.emit('addUser', G.id, dora.id, dora.name);
    const withDora = conversation(G.id, [anna, ben, cleo, dora], { isGroup: true });
    assert.deepEqual((await s11.events.next('conversation'))[0], withDora);
    assert.deepEqual((await s11.events.next('addUser'))[0], withDora);
    await eventually(() => {
      assert.deepEqual(conversationRow(database, G.id), { id: G.id, is_group: 1, participants: [anna, ben, cleo, dora] });
      assert.deepEqual(activityOf(database, G.id), [anna, ben, cleo, dora].map((u) => (
        { conversation_id: G.id, user_id: u.id, timestamp: 0, is_closed: 0 })));
    });
    assert.equal(count(database, 'osc_conversation'), 2);
    await quiet([s11, s12, s13]);
  });

  test('removeUser by a participant: `removeUser` to the requester, `conversation` to the rest; row updated', async () => {
    s11.emit('removeUser', G.id, dora.id, dora.name);
    assert.deepEqual((await s11.events.next('removeUser'))[0], G);
    for (const client of [s11, s12, s13]) assert.deepEqual((await client.events.next('conversation'))[0], G);
    await eventually(() => assert.deepEqual(conversationRow(database, G.id),
      { id: G.id, is_group: 1, participants: [anna, ben, cleo] }));
    await quiet([s11, s12, s13]);
  });

  test('removeUser by a non-participant (D17) or of a non-participant changes nothing', async () => {
    const s14 = await loggedIn(server, dora);   // removed before: no longer a participant
    const s15 = await loggedIn(server, eve);    // never was one
    const before = snapshot(database);
    s14.emit('removeUser', G.id, ben.id, ben.name);
    s15.emit('removeUser', G.id, cleo.id, cleo.name);
    s15.emit('removeUser', C.id, anna.id, anna.name);
    await delay(100);
    s11.emit('removeUser', G.id, eve.id, eve.name);
    await barrier(s11, G.id);
    assert.deepEqual(snapshot(database), before);
    await quiet([s11, s12, s13, s14, s15]);

    // Everybody is still there: a group message reaches all three, not the outsiders.
    const m = await sendMessage(s12, G, 'ben is still here', [s11, s12, s13]);
    await eventually(() => assert.deepEqual(messagesOf(database, G.id), [dbMessage(m)]));
    await quiet([s11, s12, s13, s14, s15]);
  });

  test('typing: userStartedTyping / userStoppedTyping reach the other participants only', async () => {
    for (const event of ['userStartedTyping', 'userStoppedTyping']) {
      s12.emit(event, G.id, ben.id);
      for (const client of [s11, s13]) {
        assert.deepEqual((await client.events.next(event))[0], { conversation: G, participant: ben });
      }
      await quiet([s11, s12, s13]);
    }
    s11.emit('userStartedTyping', C.id, anna.id);
    assert.deepEqual((await s12.events.next('userStartedTyping'))[0], { conversation: C, participant: anna });
    await quiet([s11, s12, s13]);
  });
});

// ---------------------------------------------------------------------------------------------

describe('OSC: users who do not accept messages; UserConfigChange', () => {
  const database = 'ilias_it_im_suppress';
  const max = { id: 8, name: 'max' };     // no usr_pref 'y': does not accept messages
  const nina = { id: 9, name: 'nina' };   // neither
  let server;
  let s6; let s8;
  let C;
  before(async () => { server = await startServer(database); });
  after(() => stopServer(server));

  test('a message to a user who does not accept: only participantsSuppressedMessages; still stored (the sender accepts)', async () => {
    s6 = await loggedIn(server, root);
    s8 = await loggedIn(server, max);
    s6.emit('conversation', [root, max]);
    const [init] = await s6.events.next('conversation-init');
    C = conversation(init.id, [root, max]);
    assert.deepEqual(init, C);

    const m = await sendMessage(s6, C, 'Hello max', [s6]);
    assert.deepEqual((await s6.events.next('participantsSuppressedMessages'))[0], { ...m, ignoredParticipants: { 8: 8 } });
    await eventually(() => assert.deepEqual(messagesOf(database, C.id), [dbMessage(m)]));
    await quiet([s6, s8]);
  });

  test('UserConfigChange needs Basic auth ({"status":403,...} without)', async () => {
    for (const auth of [{}, { key: 'key-0', secret: 'wrong' }, { authorization: 'Basic ' }]) {
      const denied = await userConfigChange(server, { 8: { acceptsMessages: true } }, auth);
      assert.equal(denied.status, 200, 'HTTP 200 as the Node server (Q2)');
      assert.equal(denied.body.status, 403);
      assert.equal(typeof denied.body.message, 'string');
    }
    // Still suppressed.
    const m = await sendMessage(s6, C, 'Hello again', [s6]);
    assert.deepEqual((await s6.events.next('participantsSuppressedMessages'))[0], { ...m, ignoredParticipants: { 8: 8 } });
    await eventually(() => assert.equal(count(database, 'osc_messages'), 2));
    await quiet([s6, s8]);

    const invalid = await backendGet(server.port, 'UserConfigChange/client0?message=%7Bnot%20json',
      { key: 'key-0', secret: 'secret-0' });
    assert.ok(invalid.status >= 400, `invalid JSON: HTTP ${invalid.status}`);
    assert.equal(JSON.parse(invalid.body).status, invalid.status);
  });

  test('UserConfigChange {"8":{"acceptsMessages":true}} makes 8 accept at once', async () => {
    assert.deepEqual(await userConfigChange(server, { 8: { acceptsMessages: true } }), { status: 200, body: { status: 200 } });
    const m1 = await sendMessage(s6, C, 'Can you read this?', [s6, s8]);
    const m2 = await sendMessage(s8, C, 'Yes, now I can', [s6, s8]);
    await eventually(() => assert.deepEqual(messagesOf(database, C.id).slice(-2), [dbMessage(m1), dbMessage(m2)]));
    await quiet([s6, s8]);
  });

  test('a sender who does not accept gets senderSuppressesMessages, nobody else anything, nothing stored', async () => {
    assert.deepEqual(await userConfigChange(server, { 8: { acceptsMessages: false } }), { status: 200, body: { status: 200 } });
    const before = snapshot(database);
    const m = await sendMessage(s8, C, 'Nobody hears me', []);
    assert.equal(m.userId, 8);
    await barrier(s6, C.id);
    assert.deepEqual(snapshot(database), before);
    await quiet([s6, s8]);

    // And messages to 8 are suppressed again, but stored: root accepts.
    const m2 = await sendMessage(s6, C, 'Gone again?', [s6]);
    assert.deepEqual((await s6.events.next('participantsSuppressedMessages'))[0], { ...m2, ignoredParticipants: { 8: 8 } });
    await eventually(() => assert.deepEqual(messagesOf(database, C.id).at(-1), dbMessage(m2)));
    await quiet([s6, s8]);
  });

  test('a group is stored even when nobody else accepts', async () => {
    s6.emit('addUser', C.id, nina.id, nina.name);
    const [json] = await s6.events.next('conversation');
    const group = conversation(json.id, [root, max, nina], { isGroup: true });
    assert.deepEqual(json, group);
    assert.deepEqual((await s6.events.next('addUser'))[0], group);
    const m = await sendMessage(s6, group, 'Group hello', [s6]);
    assert.deepEqual((await s6.events.next('participantsSuppressedMessages'))[0],
      { ...m, ignoredParticipants: { 8: 8, 9: 9 } });
    await eventually(() => assert.deepEqual(messagesOf(database, group.id), [dbMessage(m)]));
    await quiet([s6, s8]);
  });
});

// ---------------------------------------------------------------------------------------------

describe('OSC: spoofed user ids (D5) and malformed arguments change nothing', () => {
  const database = 'ilias_it_im_spoof';
  const nina = { id: 9, name: 'nina' };
  const unknownId = randomUUID();
  let server;
  let s6; let s7;
  let C; let base;
  let expectedHistory;
  before(async () => { server = await startServer(database); });
  after(() => stopServer(server));

  // Everything that must still hold: the rows, root's view of C (names, latestMessage, history),
  // no event to anyone.
  async function unchanged(before, clients) {
    await barrier(s6, C.id);
    assert.deepEqual(snapshot(database), before);
    assert.deepEqual(await history(s6, C.id), expectedHistory);
    await quiet(clients);
  }

  test('set-up: root and jdoe, one conversation, one message, activity rows', async () => {
    s6 = await loggedIn(server, root);
    s7 = await loggedIn(server, jdoe);
    s6.emit('conversation', [root, jdoe]);
    C = conversation((await s6.events.next('conversation-init'))[0].id, [root, jdoe]);
    base = await sendMessage(s6, C, 'The only message', [s6, s7]);
    s6.emit('activity', C.id, root.id, base.timestamp + 1);
    s7.emit('activity', C.id, jdoe.id, base.timestamp - 1);
    await eventually(() => {
      assert.deepEqual(messagesOf(database, C.id), [dbMessage(base)]);
      assert.deepEqual(activityOf(database, C.id).map((r) => [r.user_id, r.timestamp, r.is_closed]),
        [[6, base.timestamp + 1, 0], [7, base.timestamp - 1, 0]]);
    });
    expectedHistory = { ...C, messages: [row(base)], reverseSorting: false, oldestMessageTimestamp: base.timestamp };
    assert.deepEqual(await history(s6, C.id), expectedHistory);
    await quiet([s6, s7]);
  });

  test('message / activity / closeConversation / typing naming another user are ignored', async () => {
    const before = snapshot(database);
    for (const other of [jdoe.id, String(jdoe.id), 999]) {
      s6.emit('message', C.id, other, 'spoofed');
      s6.emit('activity', C.id, other, 1);
      s6.emit('closeConversation', C.id, other);
      s6.emit('userStartedTyping', C.id, other);
      s6.emit('userStoppedTyping', C.id, other);
    }
    await unchanged(before, [s6, s7]);
  });

  test('events before login are ignored; the socket can log in afterwards', async () => {
    const before = snapshot(database);
    const sx = await connectIm(server);
    sx.emit('message', C.id, root.id, 'not logged in');
    sx.emit('activity', C.id, root.id, 1);
    sx.emit('closeConversation', C.id, root.id);
    sx.emit('userStartedTyping', C.id, root.id);
    sx.emit('userStoppedTyping', C.id, root.id);
    sx.emit('history', C.id, null, false);
    sx.emit('conversations');
    sx.emit('conversation', [root, jdoe]);
    sx.emit('conversation', [root, nina]);
    sx.emit('addUser', C.id, nina.id, nina.name);
    sx.emit('removeUser', C.id, jdoe.id, jdoe.name);
    const guest = { id: 30, name: 'guest' };
    sx.emit('login', guest.id, guest.name);   // handled after all of the above
    assert.deepEqual((await sx.events.next('login'))[0], guest);
    sx.user = guest;
    await unchanged(before, [s6, s7, sx]);
    assert.ok(sx.socket.connected);
  });

  test('null and missing arguments are ignored', async () => {
    const before = snapshot(database);
    const calls = [
      ['message', C.id, root.id, null], ['message', C.id, root.id], ['message', null, root.id, 'x'],
      ['message', C.id, null, 'x'], ['message'],
      ['activity', C.id, root.id], ['activity', C.id, root.id, null], ['activity', null, root.id, 5],
      ['activity', C.id, null, 5], ['activity'],
      ['closeConversation', null, root.id], ['closeConversation', C.id], ['closeConversation', C.id, null],
      ['closeConversation'],
      ['userStartedTyping', C.id], ['userStartedTyping', null, root.id], ['userStoppedTyping', C.id, null],
      ['userStoppedTyping'],
      ['addUser', C.id, null, nina.name], ['addUser', C.id, nina.id, null], ['addUser', C.id, nina.id],
      ['addUser', null, nina.id, nina.name], ['addUser'],
      ['removeUser', C.id, null, jdoe.name], ['removeUser', null, jdoe.id, jdoe.name], ['removeUser', C.id],
      ['removeUser'],
      ['history', null, null, false], ['history'],
      ['conversation', null], ['conversation'], ['conversation', 'x'], ['conversation', { id: 6, name: 'root' }],
      ['conversation', []],
      ['login'], ['login', null, 'nobody'], ['login', 0, 'zero'], ['login', -6, 'minus'],
    ];
    for (const [event, ...args] of calls) s6.emit(event, ...args);
    await unchanged(before, [s6, s7]);
  });

  test('unknown or non-string conversation ids are ignored', async () => {
    const before = snapshot(database);
    for (const id of [unknownId, '', 12345, { id: C.id }, [C.id]]) {
      s6.emit('message', id, root.id, 'to nowhere');
      s6.emit('history', id, null, false);
      s6.emit('activity', id, root.id, 5);
      s6.emit('closeConversation', id, root.id);
      s6.emit('addUser', id, nina.id, nina.name);
      s6.emit('removeUser', id, jdoe.id, jdoe.name);
      s6.emit('userStartedTyping', id, root.id);
      s6.emit('userStoppedTyping', id, root.id);
    }
    await unchanged(before, [s6, s7]);
  });

  test('afterwards the connections work: a message gets through and is stored', async () => {
    assert.ok(s6.socket.connected && s7.socket.connected);
    const m = await sendMessage(s6, C, 'Still working', [s6, s7]);
    await eventually(() => assert.deepEqual(messagesOf(database, C.id), [dbMessage(base), dbMessage(m)]));
    expectedHistory = {
      ...C, messages: [row(m), row(base)], reverseSorting: false, oldestMessageTimestamp: base.timestamp,
    };
    s6.emit('activity', C.id, root.id, m.timestamp);
    await eventually(() => assert.equal(activityOf(database, C.id)[0].timestamp, m.timestamp));
    await quiet([s6, s7]);
  });

  // A login sets the participant's name again (for the tests after one that renamed somebody).
  async function restoreNames() {
    for (const user of [root, jdoe]) {
      const temporary = await loggedIn(server, user);
      temporary.socket.disconnect();
      server.sockets.delete(temporary.socket);
    }
    await s6.events.next('conversation');   // the logins list C to every socket of the user
    await s7.events.next('conversation');
  }

  test('conversation with a non-object participant is ignored entirely (nobody renamed)', async () => {
    const before = snapshot(database);
    try {
      for (const participants of [[root, 7], [root, 'jdoe'], [root, null], [6, 7], [root, [7]]]) {
        s6.emit('conversation', participants);
      }
      // The valid-looking entries before the bad one must not be applied either.
      s6.emit('conversation', [{ id: 6, name: 'EVIL' }, { id: 7, name: 'EVIL' }, 7]);
      await unchanged(before, [s6, s7]);
    } finally {
      await restoreNames();
    }
  });

  test('conversation without the requester among the participants is ignored entirely (nobody renamed)', async () => {
    const before = snapshot(database);
    try {
      s6.emit('conversation', [{ id: 7, name: 'MALLORY' }, nina]);
      s6.emit('conversation', [{ id: 7, name: 'MALLORY' }]);
      await unchanged(before, [s6, s7]);
      assert.equal(count(database, 'osc_conversation'), 1);
    } finally {
      await restoreNames();
    }
  });

  test('a new login lists the one conversation; nina, named in ignored requests, has none', async () => {
    const again = await loggedIn(server, root);
    assert.deepEqual((await again.events.next('conversation'))[0], C);
    assert.deepEqual((await s6.events.next('conversation'))[0], C);   // all sockets of root
    const sn = await loggedIn(server, nina);
    await quiet([s6, s7, again, sn]);
    assert.equal(count(database, 'osc_conversation'), 1);
  });
});

// ---------------------------------------------------------------------------------------------

describe('OSC: restart on the same database', () => {
  const database = 'ilias_it_im_restart';
  const carol = { id: 10, name: 'carol' };
  const broken = '11111111-1111-4111-8111-111111111111';
  const empty = '22222222-2222-4222-8222-222222222222';
  let server;
  let C; let G;
  const sentC = [];
  const sentG = [];
  before(async () => {
    server = await startServer(database, {
      accepting: [carol.id],
      setup: `INSERT INTO osc_conversation (id, is_group, participants) VALUES
                ('${broken}', 0, 'not json'), ('${empty}', 0, '[]')`,
    });
  });
  after(() => stopServer(server));

  test('a malformed osc_conversation row is skipped with a warning; the start goes on', () => {
    assert.match(server.daemon.output, new RegExp(` WARN - .*${broken}`));
    assert.doesNotMatch(server.daemon.output, new RegExp(`WARN - .*${empty}`));
  });

  test('conversations and messages, then SIGTERM right after the last message', async () => {
    const s6 = await loggedIn(server, root);
    const s7 = await loggedIn(server, jdoe);
    const s10 = await loggedIn(server, carol);
    s6.emit('conversation', [root, jdoe]);
    const [init] = await s6.events.next('conversation-init');
    assert.notEqual(init.id, empty, 'a stored [] row never matches (D16)');
    C = conversation(init.id, [root, jdoe]);
    assert.deepEqual(init, C);
    for (let i = 1; i <= 5; i++) {
      sentC.push(await sendMessage(i % 2 ? s6 : s7, C, `before restart ${i}`, [s6, s7]));
      await delay(3);
    }
    s6.emit('addUser', C.id, carol.id, carol.name);
    const [json] = await s6.events.next('conversation');
    G = conversation(json.id, [root, jdoe, carol], { isGroup: true });
    assert.deepEqual(json, G);
    assert.deepEqual((await s6.events.next('addUser'))[0], G);
    sentG.push(await sendMessage(s10, G, 'carol in the group', [s6, s7, s10]));
    await delay(3);
    sentG.push(await sendMessage(s6, G, 'root in the group', [s6, s7, s10]));

    // Stop at once: what is queued for the database is written before the exit.
    const { daemon } = server;
    server.daemon = null;
    server.sockets.clear();
    const exit = await daemon.stop('SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null }, daemon.output);
    assert.doesNotMatch(daemon.output, / ERROR - /);
    for (const s of [s6, s7, s10]) s.socket.disconnect();

    assert.deepEqual(messagesOf(database, C.id), sentC.map(dbMessage));
    assert.deepEqual(messagesOf(database, G.id), sentG.map(dbMessage));
    assert.deepEqual(conversationRows(database, `WHERE id NOT IN ('${broken}', '${empty}')`), [
      { id: C.id, is_group: 0, participants: [root, jdoe] },
      { id: G.id, is_group: 1, participants: [root, jdoe, carol] },
    ].sort((x, y) => x.id.localeCompare(y.id)));
  });

  test('after the restart: conversations listed again, history holds every message exactly once', async () => {
    await launch(server);
    assert.match(server.daemon.output, new RegExp(` WARN - .*${broken}`));

    const s6 = await loggedIn(server, root);
    const listedC = { ...C, latestMessage: row(sentC.at(-1)) };
    // root's activity row in G is the 0 addUser wrote: both group messages are unread.
    const listedG = { ...G, latestMessage: row(sentG.at(-1)), numNewMessages: 2 };
    assert.deepEqual((await s6.events.next('conversation', { match: (x) => x.id === C.id }))[0], listedC);
    assert.deepEqual((await s6.events.next('conversation', { match: (x) => x.id === G.id }))[0], listedG);
    await quiet([s6]);

    const newestFirstC = sentC.map(row).reverse();
    assert.deepEqual(await history(s6, C.id), {
      ...listedC, messages: newestFirstC, reverseSorting: false, oldestMessageTimestamp: sentC[0].timestamp,
    });
    assert.deepEqual(await history(s6, G.id), {
      ...G, latestMessage: row(sentG.at(-1)), messages: sentG.map(row).reverse(), reverseSorting: false,
      oldestMessageTimestamp: sentG[0].timestamp,
    });

    // The preloaded conversation is found again by its participants, and goes on.
    const s7 = await loggedIn(server, jdoe);
    assert.deepEqual((await s7.events.next('conversation', { match: (x) => x.id === C.id }))[0], listedC);
    assert.deepEqual((await s7.events.next('conversation', { match: (x) => x.id === G.id }))[0], listedG);
    s7.emit('conversation', [jdoe, root]);
    assert.deepEqual((await s7.events.next('conversation-init'))[0], listedC);
    const after = await sendMessage(s7, C, 'after restart', [s6, s7]);
    await eventually(() => assert.deepEqual(messagesOf(database, C.id), [...sentC, after].map(dbMessage)));
    const page = await history(s6, C.id);
    assert.deepEqual(page.messages.map((m) => m.id), [after, ...sentC.slice().reverse()].map((m) => m.id));
    assert.equal(new Set(page.messages.map((m) => m.id)).size, 6);
    await quiet([s6, s7]);

    // The skipped row is left as it was.
    assert.deepEqual(sqlRows(database, `SELECT is_group, participants FROM osc_conversation WHERE id = '${broken}'`),
      [['0', 'not json']]);
  });
});
