// Several ilchatd behind one address (docs/cluster.md): three nodes share one database and one
// real redis-server; browsers (socket.io-client 4.8) sit on different nodes, ILIAS PHP calls
// whichever node it likes. Every node must show the same rooms and user lists, deliver every
// event to its own members, and the database must get each row once.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { io } from 'socket.io-client';
import {
  admin, backendGet, createDatabase, eventually, freePort, ilchatctl, metricsPortOf, recordEvents, run, scrape, sqlRows,
  startDaemon, startRedis, tempDir, writeConfig,
} from './harness.mjs';

const CREDENTIALS = { key: 'key-0', secret: 'secret-0' };
const DATABASE = 'ilias_cluster';
const delay = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// Redis and the nodes

async function startNode(name, redis, cluster = {}) {
  const port = await freePort();
  const { serverPath, clientPaths } = writeConfig(tempDir(`ilchat-cluster-${name}-`), {
    port,
    server: {
      disconnect_grace: 1500,
      write_queue_limit: 100,  // beyond it, changes waiting for Redis go to the spool
      metrics_address: '127.0.0.1:0',
      cluster: { redis: `unix:${redis.socket}`, node: name, node_timeout: 1500, snapshot_interval: 2000, ...cluster },
    },
    clients: [{ database: { name: DATABASE } }],
  });
  const daemon = await startDaemon(serverPath, clientPaths);
  const node = {
    name, port, daemon, url: `http://127.0.0.1:${port}`, adminSocket: path.join(path.dirname(serverPath), 'admin.sock'),
    spool: path.join(path.dirname(serverPath), 'spool', 'cluster.spool'),
    metricsPort: metricsPortOf(daemon),
  };
  node.api = async (route) => {
    const res = await backendGet(port, route, CREDENTIALS);
    assert.equal(res.status, 200, `GET /backend/${route} on ${name}: ${res.body}`);
    return res.body;
  };
  node.admin = (command, args) => admin(node.adminSocket, args ? { command, arguments: args } : { command });
  if (!cluster.password_file) {
    await eventually(async () => assert.equal((await node.admin('cluster-status')).arguments.in_sync, true),
      { timeoutMs: 5000 });
  }
  return node;
}

const sockets = new Set();

function connect(node, nsp) {
  const socket = io(`${node.url}/client0${nsp}`, { forceNew: true, reconnection: false, transports: ['websocket'] });
  socket.log = recordEvents(socket);
  sockets.add(socket);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not connected to ${node.name}`)), 5000);
    socket.once('connect', () => { clearTimeout(timer); resolve(socket); });
    socket.once('connect_error', (e) => { clearTimeout(timer); reject(e); });
  });
}

// PHP (on `php`) lets user `id` into room 1; the browser logs in on `node` and enters.
async function joinRoom(php, node, id, name) {
  assert.equal(await php.api(`Connect/client0/1/${id}`), '{"status":200}');
  assert.equal(JSON.parse(await php.api(`EnterPrivateRoom/client0/1/${id}`)).success, true);
  const socket = await connect(node, '');
  socket.emit('login', name, id);
  await socket.log.next('loggedIn');
  socket.emit('enterRoom', 1);
  await socket.log.next('private_room_entered');
  return socket;
}

const userIds = (list) => Object.values(list.users).map((u) => u.id).sort();
const userCount = (list) => Object.keys(list.users).length;

async function sameRooms(nodes) {
  await eventually(async () => {
    const views = await Promise.all(nodes.map(async (n) => (await n.admin('rooms', { namespace: 'client0' })).arguments));
    for (const view of views.slice(1)) assert.deepEqual(view, views[0]);
    return views[0];
  }, { timeoutMs: 5000 });
}

// ---------------------------------------------------------------------------------------------

describe('several ilchatd behind one address', () => {
  let dir;
  let redis;
  const nodes = {};

  before(async () => {
    createDatabase(DATABASE);
    dir = tempDir('ilchat-cluster-');
    redis = await startRedis(dir);
    for (const name of ['a', 'b', 'c']) nodes[name] = await startNode(name, redis);
  });

  after(async () => {
    for (const socket of sockets) socket.disconnect();
    for (const node of Object.values(nodes)) {
      if (node.killed) continue;
      const exit = await node.daemon.stop();
      assert.deepEqual(exit, { code: 0, signal: null }, node.daemon.output);
      assert.doesNotMatch(node.daemon.output, / ERROR - /);
    }
    await redis?.stop();
  });

  test('two browsers on different nodes share a room; PHP on a third node kicks', async () => {
    const { a, b, c } = nodes;
    const alice = await joinRoom(c, a, 6, 'alice');
    const bob = await joinRoom(c, b, 7, 'bob');
    // Both see both, in the same order, wherever they are.
    const [aliceList] = await alice.log.next('userlist', { match: (l) => userCount(l) === 2 });
    const [bobList] = await bob.log.next('userlist', { match: (l) => userCount(l) === 2 });
    assert.deepEqual(aliceList.users, bobList.users);
    await bob.log.next('notice', { match: (n) => n.content === 'welcome_to_chat' });
    await alice.log.next('notice', { match: (n) => n.content === 'connect' });

    alice.emit('message', { content: 'hello from a', format: {} }, 1);
    const [onB] = await bob.log.next('message', { match: (m) => m.content === 'hello from a' });
    const [onA] = await alice.log.next('message', { match: (m) => m.content === 'hello from a' });
    assert.deepEqual(onA, onB, 'the same message object, timestamp included, on both nodes');
    await eventually(() => assert.equal(
      sqlRows(DATABASE, "SELECT COUNT(*) FROM chatroom_history WHERE message LIKE '%hello from a%'")[0][0], '1'));

    bob.emit('message', { content: 'psst', format: {}, target: { id: 6, username: 'alice', public: 0 } }, 1);
    await alice.log.next('message', { match: (m) => m.content === 'psst' });
    await bob.log.next('message', { match: (m) => m.content === 'psst' });

    alice.emit('userStartedTyping', 1);
    const [typing] = await bob.log.next('userStartedTyping');
    assert.equal(JSON.parse(typing.subscriber).id, 6);

    await sameRooms([a, b, c]);
    assert.equal(await c.api('Kick/client0/1/7'), '{"success":true}');
    await bob.log.next('userjustkicked');
    await alice.log.next('notice', { match: (n) => n.content === 'user_kicked' });
    const [after] = await alice.log.next('userlist', { match: (l) => userCount(l) === 1 });
    assert.deepEqual(userIds(after), [6]);
    await sameRooms([a, b, c]);

    const ivan = await joinRoom(a, b, 14, 'ivan');
    await alice.log.next('userlist', { match: (l) => userIds(l).includes(14) });
    assert.equal(await c.api('Ban/client0/1/14'), '{"success":true}');
    await ivan.log.next('userjustbanned');
    await alice.log.next('notice', { match: (n) => n.content === 'user_banned' && n.data.user === 'ivan' });
    await sameRooms([a, b, c]);
  });

  test('On-Screen Chat across nodes, each row once', async () => {
    const { a, b } = nodes;
    const six = await connect(a, '-im');
    six.emit('login', 6, 'alice');
    await six.log.next('login');
    const seven = await connect(b, '-im');
    seven.emit('login', 7, 'bob');
    await seven.log.next('login');
    six.emit('conversation', [{ id: 6, name: 'alice' }, { id: 7, name: 'bob' }]);
    const [init] = await six.log.next('conversation-init');
    six.emit('message', init.id, 6, 'over there');
    const [got] = await seven.log.next('message', { match: (m) => m.message === 'over there' });
    assert.equal(got.conversationId, init.id);
    await seven.log.next('conversation', { match: (c) => c.id === init.id });
    await eventually(() => {
      assert.equal(sqlRows(DATABASE, `SELECT COUNT(*) FROM osc_conversation WHERE id = '${init.id}'`)[0][0], '1');
      assert.equal(sqlRows(DATABASE, "SELECT COUNT(*) FROM osc_messages WHERE message = 'over there'")[0][0], '1');
    });
    // Both nodes found the same conversation for the same participants (D6), whoever asks.
    seven.emit('conversation', [{ id: 7, name: 'bob' }, { id: 6, name: 'alice' }]);
    const [again] = await seven.log.next('conversation-init');
    assert.equal(again.id, init.id);
  });

  test('a node started late catches up from a snapshot and shows the same rooms', async () => {
    const cli = await run(ilchatctl, ['cluster-status', '--socket', nodes.a.adminSocket]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /in sync\nnodes alive: /);
    await delay(2500);  // a snapshot is written
    nodes.d = await startNode('d', redis);
    assert.match(nodes.d.daemon.output, /rooms and \d+ subscribers of namespace client0 restored/);
    await sameRooms(Object.values(nodes));
    await eventually(async () => {
      const status = await nodes.d.admin('cluster-status');
      assert.deepEqual(status.arguments.nodes.map((n) => n.split('/')[0]).sort(), ['a', 'b', 'c', 'd']);
    });
  });

  test('Redis restarted under chat load: local users served meanwhile, nothing lost, nothing twice', async () => {
    const { a, c } = nodes;
    const frank = await joinRoom(c, a, 11, 'frank');
    const grace = await joinRoom(a, c, 12, 'grace');
    const texts = Array.from({ length: 200 }, (_, i) => `load ${i}`);
    const send = async (from, to) => {
      for (const text of texts.slice(from, to)) {
        frank.emit('message', { content: text, format: {} }, 1);
        await delay(5);
      }
    };
    await send(0, 20);
    await redis.stop();
    await eventually(async () => assert.equal((await a.admin('cluster-status')).arguments.in_sync, false));
    const readyz = await fetch(`http://127.0.0.1:${a.metricsPort}/readyz`);
    assert.equal(readyz.status, 503, 'a node out of sync gets no new users');
    assert.equal(await scrape(a.metricsPort, 'ilchatd_cluster_up'), 0);
    const cli = await run(ilchatctl, ['cluster-status', '--socket', a.adminSocket]);
    assert.equal(cli.code, 1, 'ilchatctl cluster-status fails while the node is out of sync');
    assert.match(cli.stdout + cli.stderr, /OUT OF SYNC/);
    // Frank's node still serves him while Redis is away; past write_queue_limit its changes wait
    // in the spool file.
    await send(20, 180);
    await frank.log.next('message', { match: (m) => m.content === 'load 179' });
    assert.ok(readFileSync(a.spool, 'utf8').split('\n').length > 50, 'changes beyond the limit are spooled');
    await redis.start();
    await send(180, 200);
    await eventually(async () => {
      for (const node of [a, c]) assert.equal((await node.admin('cluster-status')).arguments.in_sync, true);
    }, { timeoutMs: 10000 });
    // Each message once, in the order sent, on both nodes.
    const loads = (socket) => socket.log.entries.filter((e) => e.event === 'message' && e.args[0].content.startsWith('load '))
      .map((e) => e.args[0].content);
    for (const socket of [frank, grace]) {
      await eventually(() => assert.equal(loads(socket).length, texts.length), { timeoutMs: 10000 });
      await delay(300);
      assert.deepEqual(loads(socket), texts);
    }
    await eventually(() => assert.equal(
      sqlRows(DATABASE, "SELECT COUNT(*) FROM chatroom_history WHERE message LIKE '%load %'")[0][0], String(texts.length)));
  });

  test('a node killed: its users come back through another node, the others notice nothing', async () => {
    const { a, b, c } = nodes;
    const erin = await joinRoom(a, c, 10, 'erin');
    const carol = await joinRoom(a, b, 8, 'carol');
    const dave = await joinRoom(a, b, 9, 'dave');
    const heidi = await joinRoom(c, a, 13, 'heidi');
    await erin.log.next('userlist', { match: (l) => userIds(l).includes(13) });
    for (const socket of [erin, heidi]) socket.log.clear();
    const texts = Array.from({ length: 40 }, (_, i) => `during ${i}`);
    const sending = (async () => {
      for (const text of texts) {
        heidi.emit('message', { content: text, format: {} }, 1);
        await delay(25);
      }
    })();
    await delay(100);
    b.killed = true;
    await b.daemon.stop('SIGKILL');
    carol.disconnect();
    dave.disconnect();
    // Carol's browser reconnects, through the balancer, to another node; Dave's does not.
    const back = await connect(c, '');
    back.emit('login', 'carol', 8);
    await back.log.next('loggedIn');
    back.emit('enterRoom', 1);
    await back.log.next('private_room_entered');
    await sending;
    for (const text of texts) await erin.log.next('message', { match: (m) => m.content === text });
    await erin.log.next('notice', { match: (n) => n.content === 'disconnected' && n.data.username === 'dave', timeoutMs: 8000 });
    const [list] = await erin.log.next('userlist', { match: (l) => !userIds(l).includes(9), timeoutMs: 3000 });
    assert.ok(userIds(list).includes(8), 'carol is still in the room');
    await erin.log.none('notice', { match: (n) => n.content === 'disconnected' && n.data.username === 'carol', withinMs: 2000 });
    delete nodes.b;
    await sameRooms(Object.values(nodes));
    await eventually(async () => assert.deepEqual(
      (await a.admin('cluster-status')).arguments.nodes.map((n) => n.split('/')[0]).sort(), ['a', 'c', 'd']), { timeoutMs: 5000 });
  });

  test('a Redis with a password: a wrong one is refused without showing it, a new one is read at the next connection', async () => {
    const redisDir = tempDir('ilchat-cluster-auth-');
    const secured = await startRedis(redisDir);
    await secured.stop();
    await secured.start('--requirepass', 'right-pass-83f2');
    const passwordFile = path.join(redisDir, 'redis.password');
    writeFileSync(passwordFile, 'wrong-pass-19ac\n');
    const x = await startNode('x', secured, { password_file: passwordFile, prefix: 'auth' });
    try {
      await eventually(async () => {
        const status = await x.admin('cluster-status');
        assert.equal(status.arguments.in_sync, false);
        assert.match(status.arguments.problem, /AUTH refused/);
      }, { timeoutMs: 5000 });
      assert.doesNotMatch(x.daemon.output, /wrong-pass-19ac/);
      writeFileSync(passwordFile, 'right-pass-83f2\n');
      await eventually(async () => assert.equal((await x.admin('cluster-status')).arguments.in_sync, true), { timeoutMs: 8000 });
      assert.doesNotMatch(x.daemon.output, /right-pass-83f2/);
    } finally {
      const exit = await x.daemon.stop();
      assert.deepEqual(exit, { code: 0, signal: null }, x.daemon.output);
      await secured.stop();
    }
  });

  test('a node that could not report for node_timeout closes its sessions when it is back', async () => {
    const { a } = nodes;
    const f = await startNode('f', redis);
    try {
      const judy = await joinRoom(a, f, 15, 'judy');
      const watcher = await joinRoom(a, a, 16, 'ken');
      await watcher.log.next('userlist', { match: (l) => userIds(l).includes(15) });
      const seesF = async () => (await a.admin('cluster-status')).arguments.nodes.some((n) => n.startsWith('f/'));
      await eventually(async () => assert.ok(await seesF()), { timeoutMs: 5000 });
      // Stopped, f reports nothing: the others take it for gone and drop its sockets.
      f.daemon.child.kill('SIGSTOP');
      await eventually(async () => assert.ok(!(await seesF())), { timeoutMs: 15000 });
      // Whichever node removed its report first says so.
      await eventually(() => assert.ok(Object.values(nodes).some((n) => /node f\/\S+ stopped reporting/.test(n.daemon.output))),
        { timeoutMs: 5000 });
      f.daemon.child.kill('SIGCONT');
      // Back, it learns that it was taken for gone and ends its sessions: its users do not stay in
      // a view of the rooms the others no longer share; their browsers connect again.
      await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`judy's session was not ended:\n${f.daemon.output}`)), 15000);
        judy.once('disconnect', () => { clearTimeout(timer); resolve(); });
      });
      await eventually(() => assert.match(f.daemon.output, /this node was taken for gone/), { timeoutMs: 5000 });
    } finally {
      // Also when a step above failed while f was stopped: a stopped process takes no SIGTERM.
      f.daemon.child.kill('SIGCONT');
      const exit = await f.daemon.stop();
      assert.deepEqual(exit, { code: 0, signal: null }, f.daemon.output);
    }
    // Stopped cleanly, it is reported as having left, not as silent.
    await eventually(() => assert.ok(Object.values(nodes).some((n) => / INFO - Cluster: node f\/\S+ left;/.test(n.daemon.output))),
      { timeoutMs: 5000 });
  });
});
