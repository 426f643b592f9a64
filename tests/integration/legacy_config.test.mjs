// Migrating an ILIAS 5.3 installation from the unihalle/ilias-chatserver image: its .env (the
// ILIAS_CHAT_* variables only, nothing ilchatd-specific) goes through the real `ilchatctl init`;
// the files it writes pass `ilchatd --check-config` and `ilchatctl check-db` on an ILIAS 5.3
// database, and a socket.io-client 2.4 browser logs in to both namespaces of the ilchatd started
// on them. The files ILIAS 5.3's chat administration itself writes are read too.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  backendGet, createDatabase, freePort, ilchatctl, ilchatd, mariadbPassword, mariadbSocket, run, startDaemon, tempDir,
} from './harness.mjs';

const io = createRequire(import.meta.url)('socket.io-client-2.4');
const database = 'ilias_it_legacy_config';
let daemon;

before(() => createDatabase(database, { schema: 'ilias53' }));
after(async () => { if (daemon) assert.deepEqual(await daemon.stop(), { code: 0, signal: null }); });

test('the image\'s .env of a 5.3 installation: init, check-config, check-db, and a 2.x browser on both namespaces', async () => {
  const dir = tempDir('ilchat-legacy-config-');
  const port = await freePort();
  const envFile = path.join(dir, '.env');
  writeFileSync(envFile, [
    'ILIAS_CHAT_ADDRESS=127.0.0.1', `ILIAS_CHAT_PORT=${port}`, 'ILIAS_CHAT_CLIENT_NAME=onscreen',
    'ILIAS_CHAT_AUTH_KEY=0cdc8989-d5f0-1111-4444-244320d9dabc', 'ILIAS_CHAT_AUTH_SECRET=f7471a0e-c454-2222-3333-bb0f1b5d4123',
    `ILIAS_CHAT_DB_HOST=${mariadbSocket}`, 'ILIAS_CHAT_DB_PORT=3306', `ILIAS_CHAT_DB_NAME=${database}`,
    'ILIAS_CHAT_DB_USER=ilchat', `ILIAS_CHAT_DB_PASS=${mariadbPassword()}`, 'ILIAS_CHAT_LOG_DIR=',
    'ILIAS_CHAT_DELETION_MODE=0', 'ILIAS_AUTO_CONFIGURE=1', '',
  ].join('\n'));
  const init = await run(ilchatctl, ['init', '--env-file', envFile, '--output-dir', dir]);
  assert.equal(init.code, 0, init.stderr);
  const serverPath = path.join(dir, 'server.cfg');
  const clientPath = path.join(dir, 'client.cfg');
  const checked = await run(ilchatd, ['--check-config', serverPath, clientPath]);
  assert.equal(checked.code, 0, checked.stderr);
  const db = await run(ilchatctl, ['check-db', '--client-cfg', clientPath]);
  assert.equal(db.code, 0, db.stdout + db.stderr);
  // Only for running beside other tests on this machine: the local listeners on free places.
  const server = JSON.parse(readFileSync(serverPath, 'utf8'));
  writeFileSync(serverPath, JSON.stringify({
    ...server, metrics_address: '127.0.0.1:0', admin_socket: path.join(dir, 'admin.sock'), spool_dir: path.join(dir, 'spool'),
  }));
  assert.equal(server.html_escape ?? true, true, 'ILIAS 5.3 browsers expect escaped messages');

  daemon = await startDaemon(serverPath, [clientPath]);
  const auth = { key: '0cdc8989-d5f0-1111-4444-244320d9dabc', secret: 'f7471a0e-c454-2222-3333-bb0f1b5d4123' };
  assert.equal((await backendGet(port, 'Heartbeat/onscreen', auth)).body, '{"status":200}');
  assert.equal((await backendGet(port, 'Connect/onscreen/1/6', auth)).body, '{"status":200}');
  assert.match((await backendGet(port, 'EnterPrivateRoom/onscreen/1/0/6', auth)).body, /"success":true/);

  const manager = new io.Manager(`http://127.0.0.1:${port}`, { reconnection: false });
  const room = manager.socket('/onscreen');
  const im = manager.socket('/onscreen-im');
  try {
    await Promise.all([room, im].map((s) => new Promise((resolve, reject) => {
      s.once('connect', resolve);
      s.once('error', reject);
    })));
    const loggedIn = new Promise((resolve) => room.once('loggedIn', resolve));
    room.emit('login', 'root', 6);
    await loggedIn;
    const imLogin = new Promise((resolve) => im.once('login', resolve));
    im.emit('login', 6, 'root');
    assert.deepEqual(await imLogin, { id: 6, name: 'root' });
  } finally {
    manager.close();
  }
});

test('server.cfg and client.cfg as ILIAS 5.3\'s chat administration writes them pass --check-config', async () => {
  const dir = tempDir('ilchat-legacy-files-');
  // Pretty-printed by PHP, "\/" escapes, the port as a string, "log" as 0, 5.3-era client keys.
  const serverPath = path.join(dir, 'server.cfg');
  writeFileSync(serverPath, `{
    "protocol": "http",
    "port": "8585",
    "address": "127.0.0.1",
    "cert": "",
    "key": "",
    "dhparam": "",
    "log": 0,
    "error_log": "",
    "sub_directory": "",
    "deletion_mode": "0",
    "deletion_unit": "days",
    "deletion_value": "",
    "deletion_time": ""
}`);
  const clientPath = path.join(dir, 'client.cfg');
  writeFileSync(clientPath, `{
    "name": "onscreen",
    "auth": {
        "key": "0cdc8989-d5f0-1111-4444-244320d9dabc",
        "secret": "f7471a0e-c454-2222-3333-bb0f1b5d4123"
    },
    "enable_osd": false,
    "osd_intervall": 60,
    "play_invitation_sound": false,
    "enable_smilies": true,
    "chat_enabled": true,
    "enable_osc": true,
    "client": "default",
    "database": {
        "type": "mysql",
        "host": "${mariadbSocket.replaceAll('/', '\\/')}",
        "port": 3306,
        "name": "${database}",
        "user": "ilchat",
        "pass": "${mariadbPassword()}"
    }
}`);
  const checked = await run(ilchatd, ['--check-config', serverPath, clientPath]);
  assert.equal(checked.code, 0, checked.stderr);
  assert.match(checked.stdout, /configuration OK/);
});
