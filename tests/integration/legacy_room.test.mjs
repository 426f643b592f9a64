// The whole ILIAS 5.3 flow against the real ilchatd on an ILIAS 5.3 database (tests/sql/
// ilias8-schema.sql + ilias53-schema.sql, 3-byte utf8 tables): PHP-style backend calls in the ILIAS <= 8 route shapes
// (HTTP/1.0-like GETs, Connection: close, Basic auth) and browsers running socket.io-client 2.4
// (Engine.IO 3 / Socket.IO rev 4) with the <= 8 event arguments. Main room and a private room,
// messages, a whisper, invite, kick, ban, leave, delete, clear, On-Screen Chat over the same
// Manager, and the rows in chatroom_history, chatroom_users, chatroom_sessions, chatroom_prooms
// and chatroom_psessions.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import {
  backendGet, createDatabase, eventually, freePort, recordEvents, sql, sqlRows, startDaemon, tempDir, writeConfig,
} from './harness.mjs';

const io = createRequire(import.meta.url)('socket.io-client-2.4');
const database = 'ilias_it_legacy53';
const CREDENTIALS = { key: 'key-0', secret: 'secret-0' };
const nowSeconds = () => Math.floor(Date.now() / 1000);

let port;
let daemon;
const sockets = [];

before(async () => {
  createDatabase(database, { schema: 'ilias53' });
  port = await freePort();
  const { serverPath, clientPaths } = writeConfig(tempDir(), {
    port, server: { disconnect_grace: 300 }, clients: [{ database: { name: database } }],
  });
  daemon = await startDaemon(serverPath, clientPaths);
});

after(async () => {
  for (const socket of sockets) socket.close();
  assert.deepEqual(await daemon?.stop(), { code: 0, signal: null }, daemon?.output);
});

async function php(route) {
  const res = await backendGet(port, route, CREDENTIALS);
  assert.equal(res.status, 200, `${route}: ${res.body}`);
  return JSON.parse(res.body);
}

// An ILIAS 5.3 page: room socket and OSC socket on one socket.io-client 2.4 Manager.
async function page(user) {
  const manager = new io.Manager(`http://127.0.0.1:${port}`, { reconnection: false });
  const room = manager.socket('/client0');
  const im = manager.socket('/client0-im');
  for (const s of [room, im]) {
    s.log = recordEvents(s);
    sockets.push(s);
  }
  await Promise.all([room, im].map((s) => new Promise((resolve, reject) => {
    s.once('connect', resolve);
    s.once('error', reject);
  })));
  room.emit('login', user.name, user.id);
  await room.log.next('loggedIn');
  im.emit('login', user.id, user.name);
  await im.log.next('login');
  return { room, im, manager };
}

const withContent = (content) => ({ match: (m) => m?.content === content });

describe('ILIAS 5.3: repository chat with private rooms, socket.io-client 2.4, 5.3 schema', () => {
  const root = { id: 6, name: 'root' };
  const jdoe = { id: 7, name: 'jdoe' };
  const max = { id: 8, name: 'max' };
  let r; let j; let m;

  test('Connect and EnterPrivateRoom into the main room; login and enterRoom(1, 0)', async () => {
    for (const u of [root, jdoe, max]) {
      assert.deepEqual(await php(`Connect/client0/1/${u.id}`), { status: 200 });
      assert.deepEqual(await php(`EnterPrivateRoom/client0/1/0/${u.id}`), { success: true, subRoomId: 0 });
      sql(database, `INSERT INTO chatroom_users (room_id, user_id, userdata, connected)
        VALUES (1, ${u.id}, '{"id":${u.id},"login":"${u.name}"}', ${nowSeconds()})`);
    }
    [r, j, m] = [(await page(root)).room, (await page(jdoe)).room, (await page(max)).room];
    for (const s of [r, j, m]) {
      s.emit('enterRoom', 1, 0);
      const [entered] = await s.log.next('private_room_entered');
      assert.equal(entered.roomId, 1);
      assert.equal(entered.subRoomId, 0);
    }
    await eventually(async () => {
      const [list] = await r.log.next('userlist', { match: (l) => Object.keys(l.users).length === 3, timeoutMs: 500 });
      assert.equal(list.subRoomId, 0);
    });
  });

  test('a message is escaped on the server, reaches the room and is stored with sub_room 0', async () => {
    j.emit('message', { content: 'Hallo <i>alle</i> & 😀', format: {} }, 1, 0);
    const expected = 'Hallo &lt;i&gt;alle&lt;/i&gt; &amp; ?';
    const [atRoot] = await r.log.next('message', withContent(expected));
    assert.equal(atRoot.subRoomId, 0);
    assert.deepEqual(atRoot.from, { id: 7, username: 'jdoe' });
    await m.log.next('message', withContent(expected));
    await eventually(() => assert.deepEqual(
      sqlRows(database, "SELECT room_id, sub_room FROM chatroom_history WHERE message LIKE '%Hallo &lt;i&gt;%'"), [['1', '0']]));
  });

  test('a whisper reaches only the sender and the target', async () => {
    r.emit('message', { content: 'psst', format: {}, target: { username: 'jdoe', id: 7, public: false } }, 1, 0);
    await r.log.next('message', withContent('psst'));
    await j.log.next('message', withContent('psst'));
    await m.log.none('message', { ...withContent('psst'), withinMs: 300 });
  });

  test('a private room: CreatePrivateRoom, EnterPrivateRoom, enterRoom(1, 5), messages with sub_room 5', async () => {
    sql(database, `INSERT INTO chatroom_prooms (proom_id, parent_id, title, owner, created, closed, is_public)
      VALUES (5, 1, 'Hinterzimmer', 6, ${nowSeconds()}, 0, 0)`);
    assert.deepEqual(await php('CreatePrivateRoom/client0/1/5/6/Hinterzimmer'), { success: true, subRoomId: 5 });
    const [created] = await r.log.next('private_room_created');
    assert.equal(created.title, 'Hinterzimmer');
    assert.deepEqual(await php('EnterPrivateRoom/client0/1/5/6'), { success: true, subRoomId: 5 });
    sql(database, `INSERT INTO chatroom_psessions (psess_id, proom_id, user_id, connected, disconnected)
      VALUES (1, 5, 6, ${nowSeconds()}, 0)`);
    r.emit('enterRoom', 1, 5);
    const [entered] = await r.log.next('notice', { match: (n) => n.content === 'private_room_entered' });
    assert.equal(entered.subRoomId, 5);
    r.emit('message', { content: 'only in the back', format: {} }, 1, 5);
    const [back] = await r.log.next('message', withContent('only in the back'));
    assert.equal(back.subRoomId, 5);
    await j.log.none('message', { ...withContent('only in the back'), withinMs: 200 });
    await eventually(() => assert.deepEqual(
      sqlRows(database, "SELECT room_id, sub_room FROM chatroom_history WHERE message LIKE '%only in the back%'"), [['1', '5']]));
  });

  test('InvitePrivateRoom: the invitee is told and may enter', async () => {
    assert.deepEqual(await php('InvitePrivateRoom/client0/1/5/6/7'), { success: true, subRoomId: '5' });
    const [invited] = await j.log.next('user_invited');
    assert.equal(invited.title, 'Hinterzimmer');
    await r.log.next('notice', { match: (n) => n.content === 'user_invited' });
    j.emit('enterRoom', 1, 5);
    await r.log.next('notice', { match: (n) => n.content === 'private_room_entered_user' });
  });

  test('Kick from the private room: userjustkicked to jdoe, user_kicked to the room; jdoe can no longer post there', async () => {
    assert.deepEqual(await php('Kick/client0/1/5/7'), { success: true });
    await j.log.next('userjustkicked');
    await r.log.next('notice', { match: (n) => n.content === 'user_kicked' });
    j.emit('message', { content: 'after the kick', format: {} }, 1, 5);
    await r.log.none('message', { ...withContent('after the kick'), withinMs: 300 });
  });

  test('LeavePrivateRoom and DeletePrivateRoom', async () => {
    assert.deepEqual(await php('LeavePrivateRoom/client0/1/5/6'), { success: true, subRoomId: 5 });
    await r.log.next('notice', { match: (n) => n.content === 'left' });
    assert.deepEqual(await php('DeletePrivateRoom/client0/1/5/6'), { success: true, subRoomId: '5' });
    await m.log.next('notice', { match: (n) => n.content === 'private_room_closed' });
    assert.deepEqual(Object.keys((await php('GetRooms/client0')).rooms).includes('1_5'), false);
  });

  test('ClearMessages of the main room: clear and the notice to everybody in it', async () => {
    assert.deepEqual(await php('ClearMessages/client0/1/0/6'), { success: true });
    for (const s of [r, j, m]) await s.log.next('clear');
  });

  test('Ban: userjustbanned to max, user_banned to the room', async () => {
    assert.deepEqual(await php('Ban/client0/1/0/8'), { success: true });
    await m.log.next('userjustbanned');
    await r.log.next('notice', { match: (n) => n.content === 'user_banned' });
  });

  test('On-Screen Chat over the same Manager: a conversation and a message, stored in osc_*', async () => {
    const a = await page({ id: 6, name: 'root' });
    const b = await page({ id: 7, name: 'jdoe' });
    sql(database, "REPLACE INTO usr_pref (usr_id, keyword, value) VALUES (6, 'chat_osc_accept_msg', 'y'), (7, 'chat_osc_accept_msg', 'y')");
    a.im.emit('conversation', [{ id: 6, name: 'root' }, { id: 7, name: 'jdoe' }]);
    const [conversation] = await a.im.log.next('conversation-init');
    a.im.emit('message', conversation.id, 6, 'Hallo jdoe');
    const [message] = await a.im.log.next('message', { match: (x) => x.message === 'Hallo jdoe' });
    assert.equal(message.conversationId, conversation.id);
    await eventually(() => assert.deepEqual(
      sqlRows(database, `SELECT user_id, message FROM osc_messages WHERE conversation_id = '${conversation.id}'`),
      [['6', 'Hallo jdoe']]));
    assert.equal(sqlRows(database, `SELECT COUNT(*) FROM osc_conversation WHERE id = '${conversation.id}'`)[0][0], '1');
    b.manager.close();
    a.manager.close();
  });

  test('leaving for good: after the grace chatroom_users -> chatroom_sessions, psessions and the private room closed', async () => {
    // A second private room that root alone is in, then root's page closes.
    sql(database, `INSERT INTO chatroom_prooms (proom_id, parent_id, title, owner, created, closed, is_public)
      VALUES (9, 1, 'Allein', 6, ${nowSeconds()}, 0, 0)`);
    await php('CreatePrivateRoom/client0/1/9/6/Allein');
    await php('EnterPrivateRoom/client0/1/9/6');
    sql(database, `INSERT INTO chatroom_psessions (psess_id, proom_id, user_id, connected, disconnected)
      VALUES (2, 9, 6, ${nowSeconds()}, 0)`);
    for (const s of sockets) s.close();
    await eventually(() => {
      assert.deepEqual(sqlRows(database, 'SELECT COUNT(*) FROM chatroom_users WHERE user_id = 6'), [['0']]);
      assert.ok(Number(sqlRows(database, 'SELECT COUNT(*) FROM chatroom_sessions WHERE user_id = 6 AND room_id = 1')[0][0]) >= 1);
      assert.notEqual(sqlRows(database, 'SELECT disconnected FROM chatroom_psessions WHERE psess_id = 2')[0][0], '0');
      assert.notEqual(sqlRows(database, 'SELECT closed FROM chatroom_prooms WHERE proom_id = 9')[0][0], '0');
    }, { timeoutMs: 5000 });
  });
});
