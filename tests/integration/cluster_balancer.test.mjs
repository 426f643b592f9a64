// Three ilchatd in one cluster behind the HAProxy configuration the repository ships
// (etc/haproxy/ilchatd.cfg, with its server lines pointed at the test's nodes), the way an
// installation runs them (docs/cluster.md, README "Running several ilchatd"): browsers
// (socket.io-client 4.8, long-polling and websocket, reconnecting as the ILIAS page does) and
// ILIAS PHP know only the balancer's address.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { io } from 'socket.io-client';
import {
  admin, backendGet, createDatabase, eventually, freePort, metricsPortOf, recordEvents, sourceDir, startDaemon,
  startRedis, tempDir, writeConfig,
} from './harness.mjs';

const CREDENTIALS = { key: 'key-0', secret: 'secret-0' };
const DATABASE = 'ilias_balancer';
const delay = (ms) => new Promise((r) => setTimeout(r, ms));

function spawnLogged(command, args) {
  const child = spawn(command, args);
  const proc = { child, output: '' };
  child.stdout.on('data', (d) => { proc.output += d; });
  child.stderr.on('data', (d) => { proc.output += d; });
  proc.exited = new Promise((resolve) => child.on('close', resolve));
  proc.stop = async (signal = 'SIGTERM') => { child.kill(signal); await proc.exited; };
  return proc;
}

async function startNode(name, redis) {
  const port = await freePort();
  const { serverPath, clientPaths } = writeConfig(tempDir(`ilchat-balancer-${name}-`), {
    port,
    server: { disconnect_grace: 3000, cluster: { redis: `unix:${redis.socket}`, node: name, node_timeout: 1500 } },
    clients: [{ database: { name: DATABASE } }],
  });
  const daemon = await startDaemon(serverPath, clientPaths);
  const node = { name, port, daemon, adminSocket: path.join(path.dirname(serverPath), 'admin.sock'), metricsPort: metricsPortOf(daemon) };
  node.admin = (command, args) => admin(node.adminSocket, args ? { command, arguments: args } : { command });
  await eventually(async () => assert.equal((await node.admin('cluster-status')).arguments.in_sync, true), { timeoutMs: 5000 });
  return node;
}

// The shipped configuration with the test's port, nodes and health-check ports; what needs
// root or a system folder (chroot, user, the stats socket, syslog) is left out.
function balancerConfig(port, nodes) {
  const shipped = readFileSync(path.join(sourceDir, 'etc', 'haproxy', 'ilchatd.cfg'), 'utf8').split('\n');
  const lines = [];
  let serversAt = -1;
  for (const line of shipped) {
    const t = line.trim();
    if (/^(chroot|user|group|daemon|stats socket|log\s|log-send-hostname)/.test(t)) continue;
    if (/^bind\s/.test(t)) { lines.push(`    bind 127.0.0.1:${port}`); continue; }
    if (/^server\s/.test(t) || /^server-template\s/.test(t)) {
      if (serversAt < 0) serversAt = lines.length;
      continue;
    }
    lines.push(line);
  }
  assert.ok(serversAt >= 0, 'etc/haproxy/ilchatd.cfg has server lines');
  lines.splice(serversAt, 0, ...nodes.map((n) =>
    `    server ${n.name} 127.0.0.1:${n.port} cookie ${n.name} check port ${n.metricsPort} inter 300 fall 2 rise 1`));
  return lines.join('\n');
}

const sockets = new Set();

// A browser as the ILIAS page runs it: through the balancer, cookies kept, and on every
// (re)connect it logs in and enters its room again.
// Like ILIAS's, it sends no cookies (withCredentials off): a chat on another origin than
// ILIAS's pages gets none, so the session id alone must lead each request to its node.
function browser(url, { id, name, transports = ['polling', 'websocket'] }) {
  const socket = io(`${url}/client0`, {
    forceNew: true, withCredentials: false, transports, reconnectionDelay: 100, reconnectionDelayMax: 300,
  });
  socket.log = recordEvents(socket);
  socket.on('connect', () => socket.emit('login', name, id));
  socket.on('loggedIn', () => socket.emit('enterRoom', 1));
  sockets.add(socket);
  return socket;
}

async function nodeOf(nodes, socket) {
  for (const node of nodes) {
    if (node.killed) continue;
    const list = (await node.admin('connections', { namespace: '/client0' })).arguments.connections;
    if (list.some((c) => c.socket === socket.id)) return node;
  }
  return undefined;
}

describe('a cluster behind HAProxy', () => {
  let dir;
  let redis;
  let haproxy;
  let url;
  const nodes = [];

  before(async () => {
    createDatabase(DATABASE);
    dir = tempDir('ilchat-balancer-');
    redis = await startRedis(dir);
    for (const name of ['n1', 'n2', 'n3']) nodes.push(await startNode(name, redis));
    const port = await freePort();
    const config = path.join(dir, 'haproxy.cfg');
    writeFileSync(config, balancerConfig(port, nodes));
    haproxy = spawnLogged('haproxy', ['-db', '-f', config]);
    url = `http://127.0.0.1:${port}`;
    await eventually(async () => {
      const res = await backendGet(port, 'Heartbeat/client0', CREDENTIALS);
      assert.equal(res.status, 200, haproxy.output);
    }, { timeoutMs: 5000 });
    for (const id of [6, 7, 8, 9, 10, 11]) {
      const res = await backendGet(port, `Connect/client0/1/${id}`, CREDENTIALS);
      assert.equal(res.body, '{"status":200}');
      assert.equal(JSON.parse((await backendGet(port, `EnterPrivateRoom/client0/1/${id}`, CREDENTIALS)).body).success, true);
    }
  });

  after(async () => {
    for (const socket of sockets) socket.disconnect();
    await haproxy?.stop();
    for (const node of nodes) {
      if (node.killed) continue;
      const exit = await node.daemon.stop();
      assert.deepEqual(exit, { code: 0, signal: null }, node.daemon.output);
    }
    await redis?.stop();
  });

  test('long-polling browsers without cookies stay on their node by session id and chat across the nodes', async () => {
    const users = [6, 7, 8].map((id) => browser(url, { id, name: `u${id}`, transports: ['polling'] }));
    for (const u of users) await u.log.next('private_room_entered', { timeoutMs: 5000 });
    const where = await Promise.all(users.map((u) => nodeOf(nodes, u)));
    assert.ok(where.every(Boolean), 'every session is on a node');
    users.forEach((u, i) => assert.ok(u.io.engine.id.startsWith(`${where[i].name}.`), `the sid ${u.io.engine.id} names its node`));
    assert.ok(new Set(where.map((n) => n.name)).size > 1, 'the balancer spreads the sessions');
    // Many polls per session: each must reach the node that has the session.
    for (let round = 0; round < 5; round += 1) {
      const from = users[round % users.length];
      from.emit('message', { content: `poll ${round}`, format: {} }, 1);
      for (const u of users) await u.log.next('message', { match: (m) => m.content === `poll ${round}`, timeoutMs: 5000 });
    }
    for (const u of users) { sockets.delete(u); u.disconnect(); }
  });

  test('a killed node: its users are back in their rooms through the balancer, the others notice nothing', async () => {
    const users = [9, 10, 11].map((id) => browser(url, { id, name: `u${id}` }));
    for (const u of users) await u.log.next('private_room_entered', { timeoutMs: 5000 });
    await eventually(async () => assert.ok((await Promise.all(users.map((u) => nodeOf(nodes, u)))).every(Boolean)));
    const where = await Promise.all(users.map((u) => nodeOf(nodes, u)));
    const victim = where[0];
    const moved = users.filter((u, i) => where[i] === victim);
    const stayed = users.filter((u, i) => where[i] !== victim);
    assert.ok(stayed.length > 0 || nodes.length > 1);
    victim.killed = true;
    await victim.daemon.stop('SIGKILL');
    for (const u of moved) {
      await u.log.next('private_room_entered', { timeoutMs: 8000, what: 'after the reconnect ' });
      assert.notEqual((await nodeOf(nodes, u))?.name, victim.name);
    }
    // Beyond node_timeout and the grace: nobody left the room.
    await delay(5000);
    for (const u of stayed)
      await u.log.none('notice', {
        match: (n) => n.content === 'disconnected' && ['u9', 'u10', 'u11'].includes(n.data.username),
        withinMs: 0,
        what: 'about a user who came back',
      });
    const speaker = stayed[0] ?? moved[0];
    speaker.emit('message', { content: 'still here', format: {} }, 1);
    for (const u of users) await u.log.next('message', { match: (m) => m.content === 'still here', timeoutMs: 5000 });
  });
});
