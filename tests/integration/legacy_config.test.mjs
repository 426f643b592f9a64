// Migrating an ILIAS 5.3 installation from the unihalle/ilias-chatserver image (its documented
// example is ILIAS 5.3.12). The .env of that image's "Basic usage" (nine ILIAS_CHAT_* variables,
// nothing ilchatd-specific) goes through the real `ilchatctl init` and through the container
// entrypoint (with the old image's folders mounted); the files they write pass `ilchatd
// --check-config` and `ilchatctl check-db` on an ILIAS 5.3 database, and a socket.io-client 2.4
// page connecting as ILIAS 5.3's JavaScript does logs in to both namespaces of the ilchatd started
// on them. What trips an operator up is told plainly: a missing output folder is made, any value
// of ILIAS_AUTO_CONFIGURE rewrites, a misspelt variable gets the name meant, and a bad value is
// blamed on the .env file it came from. The files ILIAS 5.3's chat administration, the ILIAS 7
// setup and the old image's own entrypoint write are read too.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  backendGet, createDatabase, freePort, ilchatctl, ilchatd, mariadbPassword, mariadbSocket, recordEvents, run,
  sourceDir, sql, startDaemon, tempDir,
} from './harness.mjs';

const io = createRequire(import.meta.url)('socket.io-client-2.4');
const database = 'ilias_it_legacy_config';
const auth = { key: 'authkey', secret: 'authsecret' };
let daemon;

before(() => createDatabase(database, { schema: 'ilias53' }));
after(async () => { if (daemon) assert.deepEqual(await daemon.stop(), { code: 0, signal: null }, daemon.output); });

// The image's .env: its nine variables with its example values, except where a value has to
// point at this machine (listen address, database).
function imageEnv({ address, dbHost, dbName, dbUser, dbPass }) {
  return {
    ILIAS_CHAT_ADDRESS: address,
    ILIAS_CHAT_CLIENT_NAME: 'ilias-main-client',
    ILIAS_CHAT_AUTH_KEY: auth.key,
    ILIAS_CHAT_AUTH_SECRET: auth.secret,
    ILIAS_CHAT_DB_HOST: dbHost,
    ILIAS_CHAT_DB_PORT: '3306',
    ILIAS_CHAT_DB_NAME: dbName,
    ILIAS_CHAT_DB_USER: dbUser,
    ILIAS_CHAT_DB_PASS: dbPass,
  };
}
const envFileText = (vars) => ['# the unihalle/ilias-chatserver .env, as operators have it', '',
  ...Object.entries(vars).map(([k, v]) => `${k}=${v}`), ''].join('\n');

// Nothing from the environment of whoever runs the tests may leak into `init`: only the .env counts.
const withoutIliasVariables = Object.fromEntries(
  Object.keys(process.env).filter((k) => k.startsWith('ILIAS_') || k.startsWith('ILCHATD_')).map((k) => [k, undefined]));

test('the image\'s .env of a 5.3 installation through ilchatctl init: check-config, check-db, a 5.3 page on both namespaces', async () => {
  const dir = tempDir('ilchat-legacy-config-');
  const envFile = path.join(dir, '.env');
  writeFileSync(envFile, envFileText(imageEnv({
    address: '127.0.0.1', dbHost: mariadbSocket, dbName: database, dbUser: 'ilchat', dbPass: mariadbPassword(),
  })));
  const init = await run(ilchatctl, ['init', '--env-file', envFile, '--output-dir', dir], { env: withoutIliasVariables });
  assert.equal(init.code, 0, init.stderr);
  const serverPath = path.join(dir, 'server.cfg');
  const clientPath = path.join(dir, 'client.cfg');
  const server = JSON.parse(readFileSync(serverPath, 'utf8'));
  const client = JSON.parse(readFileSync(clientPath, 'utf8'));
  // Where the image listened, and where ILIAS 5.3's browsers look: /socket.io/ (no sub_directory).
  assert.equal(server.protocol, 'http');
  assert.equal(Number(server.port), 27019);
  assert.equal(server.address, '127.0.0.1');
  assert.equal(server.sub_directory ?? '', '');
  assert.equal(server.html_escape ?? true, true, 'ILIAS 5.3 browsers show message content as HTML: the server escapes');
  assert.equal(client.name, 'ilias-main-client');
  assert.deepEqual(client.auth, auth);
  assert.equal(client.database.type, 'mysql');

  const checked = await run(ilchatd, ['--check-config', serverPath, clientPath]);
  assert.equal(checked.code, 0, checked.stderr);
  const db = await run(ilchatctl, ['check-db', '--client-cfg', clientPath]);
  assert.equal(db.code, 0, db.stdout + db.stderr);
  assert.match(db.stdout, /ILIAS <= 8 \(with private rooms\)/);

  // Only for running beside other tests on this machine: the port and the local listeners on
  // free places. Everything else is as init wrote it.
  const port = await freePort();
  writeFileSync(serverPath, JSON.stringify({
    ...server, port, metrics_address: '127.0.0.1:0', admin_socket: path.join(dir, 'admin.sock'), spool_dir: path.join(dir, 'spool'),
  }));
  daemon = await startDaemon(serverPath, [clientPath]);
  // The image's HEALTHCHECK asks for a fixed client name.
  assert.equal((await backendGet(port, 'Heartbeat/onscreen')).body, '{"status":200}');
  assert.equal((await backendGet(port, 'Connect/ilias-main-client/1/6', auth)).body, '{"status":200}');
  assert.match((await backendGet(port, 'EnterPrivateRoom/ilias-main-client/1/0/6', auth)).body, /"success":true/);
  sql(database, `INSERT INTO chatroom_users (room_id, user_id, userdata, connected)
    VALUES (1, 6, '{"id":6,"login":"root"}', UNIX_TIMESTAMP())`);

  // As ILIAS 5.3's iliaschat.jquery.js and OnScreenChat chat.js connect: the room with the raw
  // sub_directory as path, the On-Screen Chat with sub_directory + "/socket.io".
  const base = `http://127.0.0.1:${port}`;
  const room = io.connect(`${base}/ilias-main-client`, { path: server.sub_directory ?? '' });
  const im = io.connect(`${base}/ilias-main-client-im`, { path: `${server.sub_directory ?? ''}/socket.io` });
  try {
    const roomEvents = recordEvents(room);
    const imEvents = recordEvents(im);
    await Promise.all([room, im].map((s) => new Promise((resolve, reject) => {
      s.once('connect', resolve);
      s.once('connect_error', reject);
      s.once('error', reject);
    })));
    assert.equal(room.io, im.io, 'both namespaces on one Engine.IO session, as on an ILIAS 5.3 page');
    const engine = room.io.engine;
    assert.deepEqual({ pingInterval: engine.pingInterval, pingTimeout: engine.pingTimeout },
      { pingInterval: 25000, pingTimeout: 5000 }, 'the socket.io 2 server defaults ILIAS 5.3 browsers had');

    room.emit('login', 'root', 6);
    await roomEvents.next('loggedIn');
    im.emit('login', 6, 'root');
    assert.deepEqual(await imEvents.next('login'), [{ id: 6, name: 'root' }]);
    room.emit('enterRoom', 1, 0);
    const [entered] = await roomEvents.next('private_room_entered');
    assert.deepEqual([entered.roomId, entered.subRoomId], [1, 0]);
    room.emit('message', { content: '<b>Hallo</b> & "du"', format: {} }, 1, 0);
    const [message] = await roomEvents.next('message');
    assert.equal(message.content, '&lt;b&gt;Hallo&lt;/b&gt; &amp; &quot;du&quot;');
    assert.equal(message.subRoomId, 0);
  } finally {
    room.close();
    im.close();
    room.io.close();
  }
});

test('the image\'s .env and volumes through the container entrypoint: the files it writes pass --check-config', async () => {
  const dir = tempDir('ilchat-legacy-entrypoint-');
  const bin = path.join(dir, 'bin');
  mkdirSync(bin);
  symlinkSync(ilchatd, path.join(bin, 'ilchatd'));
  symlinkSync(ilchatctl, path.join(bin, 'ilchatctl'));
  // The old image's compose file mounts /etc/chat and /var/log/chat (here below the test's folder,
  // ILCHATD_IMAGE_ROOT); the entrypoint uses them.
  const configDir = path.join(dir, 'etc', 'chat');
  const logDir = path.join(dir, 'var', 'log', 'chat');
  mkdirSync(configDir, { recursive: true });
  mkdirSync(logDir, { recursive: true });
  // The container's environment: the .env word for word (--check-config connects to nothing).
  // Only for running on this machine: ilchatd stays this user, its spool and socket in the folder.
  const vars = imageEnv({ address: 'chat', dbHost: 'mysql.example.com', dbName: 'ilias', dbUser: 'ilias', dbPass: 'very_secret' });
  const result = await run('sh', [path.join(sourceDir, 'etc', 'docker', 'entrypoint.sh'), '--check-config'], {
    env: {
      ...withoutIliasVariables, ...vars, PATH: `${bin}:/usr/bin:/bin`, ILCHATD_IMAGE_ROOT: dir,
      ILCHATD_RUN_AS: `${process.getuid()}:${process.getgid()}`, ILCHATD_SPOOL_DIR: path.join(dir, 'spool'),
      ILCHATD_ADMIN_SOCKET: path.join(dir, 'admin.sock'),
    },
  });
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.match(result.stdout, /configuration OK/);
  assert.doesNotMatch(result.stdout + result.stderr, /very_secret|authsecret/);
  const server = JSON.parse(readFileSync(path.join(configDir, 'server.cfg'), 'utf8'));
  const client = JSON.parse(readFileSync(path.join(configDir, 'client.cfg'), 'utf8'));
  assert.deepEqual([server.address, Number(server.port), server.log], ['chat', 27019, path.join(logDir, 'chat.log')]);
  assert.equal(server.html_escape ?? true, true);
  assert.deepEqual([client.name, client.database.host, Number(client.database.port)], ['ilias-main-client', 'mysql.example.com', 3306]);
});

test('ilchatctl init as operators of the image use it: folder made, ILIAS_AUTO_CONFIGURE=0, a misspelt variable, a bad value in .env', async () => {
  const dir = tempDir('ilchat-legacy-init-');
  const envFile = path.join(dir, '.env');
  const vars = imageEnv({ address: 'chat', dbHost: 'mysql.example.com', dbName: 'ilias', dbUser: 'ilias', dbPass: 'very_secret' });
  const init = (env, ...args) => run(ilchatctl, ['init', '--env-file', envFile, ...args], { env: { ...withoutIliasVariables, ...env } });

  // -o names a folder that does not exist yet: made, 0750 (client.cfg holds the password).
  writeFileSync(envFile, envFileText({ ...vars, ILCHATD_METRICS_ADDRESS: '0.0.0.0:9464' }));
  const out = path.join(dir, 'etc', 'chat');
  let result = await init({}, '-o', out);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(statSync(out).mode & 0o777, 0o750);
  assert.equal(JSON.parse(readFileSync(path.join(out, 'server.cfg'), 'utf8')).metrics_address, '0.0.0.0:9464');

  // Existing files: kept without --force, rewritten with ILIAS_AUTO_CONFIGURE set to anything,
  // 0 included, as in the old image; that 0 does not mean "off" is said.
  result = await init({}, '-o', out);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /server\.cfg exists \(use --force to overwrite\)/);
  result = await init({ ILIAS_AUTO_CONFIGURE: '0', ILIAS_CHAT_PORT: '27100' }, '-o', out);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(Number(JSON.parse(readFileSync(path.join(out, 'server.cfg'), 'utf8')).port), 27100);
  assert.match(result.stderr, /ILIAS_AUTO_CONFIGURE=0 rewrites the files too/);

  // A misspelt variable in the .env: the one meant is named, and where the misspelt one was read.
  const { ILIAS_CHAT_DB_PASS: pass, ...rest } = vars;
  writeFileSync(envFile, envFileText({ ...rest, ILIAS_CHAT_DB_PASSWORD: pass }));
  const fresh = path.join(dir, 'fresh');
  result = await init({}, '-o', fresh);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /missing required variables: ILIAS_CHAT_DB_PASS\n/);
  assert.ok(result.stderr.includes(`warning: ${envFile}: ILIAS_CHAT_DB_PASSWORD: unknown variable, ignored (did you mean ILIAS_CHAT_DB_PASS?)`),
    result.stderr);
  assert.equal(existsSync(fresh), false, 'nothing is made when nothing is written');
  assert.doesNotMatch(result.stdout + result.stderr, /very_secret/);

  // A bad value: blamed on the .env file it is in; one from the environment on the environment.
  writeFileSync(envFile, envFileText({ ...vars, ILIAS_CHAT_PORT: 'http' }));
  result = await init({ ILIAS_CHAT_DB_PORT: '99999' }, '-o', fresh);
  assert.equal(result.code, 1);
  assert.ok(result.stderr.includes(`${envFile}: ILIAS_CHAT_PORT: expected 1-65535, got "http"`), result.stderr);
  assert.ok(result.stderr.includes('environment: ILIAS_CHAT_DB_PORT: expected 0-65535, got "99999"'), result.stderr);
});

// PHP's json_encode: "/" written as "\/".
const phpPath = (p) => p.replaceAll('/', '\\/');

test('server.cfg and client.cfg as ILIAS 5.3, the ILIAS 7 setup and the old image write them pass --check-config', async (t) => {
  const dir = tempDir('ilchat-legacy-files-');
  const logs = path.join(dir, 'logs');
  const pass = mariadbPassword();
  const variants = {
    // ilChatroomAdminViewGUI::saveSettings / saveClientSettings of ILIAS 5.3: the form values as
    // strings, pretty-printed by PHP; the database port as ilDBPdo has it, 0 for an empty ini port.
    'ILIAS 5.3 chat administration': [`{
    "protocol": "http",
    "port": "8585",
    "address": "127.0.0.1",
    "cert": "",
    "key": "",
    "dhparam": "",
    "log": "${phpPath(path.join(logs, 'chat.log'))}",
    "error_log": "${phpPath(path.join(logs, 'chat_errors.log'))}",
    "sub_directory": "",
    "deletion_mode": "1",
    "deletion_unit": "months",
    "deletion_value": "3",
    "deletion_time": "03:00"
}`, `{
    "name": "onscreen",
    "enable_osd": true,
    "enable_osc": true,
    "osd_intervall": 60,
    "chat_enabled": true,
    "enable_smilies": true,
    "play_invitation_sound": false,
    "auth": {
        "key": "0cdc8989-d5f0-1111-4444-244320d9dabc",
        "secret": "f7471a0e-c454-2222-3333-bb0f1b5d4123"
    },
    "database": {
        "type": "mysql",
        "host": "${phpPath(mariadbSocket)}",
        "port": 0,
        "name": "${database}",
        "user": "ilchat",
        "pass": "${pass}"
    }
}`],
    // Deletion switched off: the unused fields as the form leaves them.
    'ILIAS 5.3 chat administration, deletion off': [`{
    "protocol": "http",
    "port": "8585",
    "address": "127.0.0.1",
    "cert": "",
    "key": "",
    "dhparam": "",
    "log": "",
    "error_log": "",
    "sub_directory": "",
    "deletion_mode": "0",
    "deletion_unit": "days",
    "deletion_value": "",
    "deletion_time": ""
}`, null],
    // The ILIAS 7 setup: "log" as the int cast of the path, log_level, numbers as numbers.
    'ILIAS 7 setup': [`{
    "protocol": "http",
    "port": 8585,
    "address": "127.0.0.1",
    "cert": "",
    "key": "",
    "dhparam": "",
    "log": 0,
    "log_level": "info",
    "error_log": "",
    "sub_directory": "",
    "deletion_mode": 0,
    "deletion_unit": "years",
    "deletion_value": 1,
    "deletion_time": "06:30"
}`, `{
    "name": "onscreen",
    "enable_osc": true,
    "enable_browser_notifications": true,
    "conversation_idle_state_in_minutes": 1,
    "chat_enabled": true,
    "enable_smilies": true,
    "client": "default",
    "auth": {
        "key": "0cdc8989-d5f0-1111-4444-244320d9dabc",
        "secret": "f7471a0e-c454-2222-3333-bb0f1b5d4123"
    },
    "database": {
        "type": "mysql",
        "host": "${phpPath(mariadbSocket)}",
        "port": 3306,
        "name": "${database}",
        "user": "ilchat",
        "pass": "${pass}"
    }
}`],
    // What the old image's own entrypoint generated (kept by operators who mounted /etc/chat):
    // every value a string from the environment, no sub_directory, no cert/key/dhparam.
    'the old image\'s generated files': [JSON.stringify({
      protocol: 'http', port: '27019', address: 'chat', log: `${logs}/chat.log`, error_log: `${logs}/chat_errors.log`,
      deletion_mode: '0', deletion_unit: 'years', deletion_value: '1', deletion_time: '06:30',
    }, null, 4), JSON.stringify({
      name: 'ilias-main-client', auth,
      database: { type: 'mysql', host: mariadbSocket, port: '3306', name: database, user: 'ilchat', pass },
    }, null, 4)],
  };
  let lastClient;
  for (const [what, [serverText, clientText]] of Object.entries(variants)) {
    await t.test(what, async () => {
      const sub = tempDir('ilchat-legacy-variant-');
      const serverPath = path.join(sub, 'server.cfg');
      const clientPath = path.join(sub, 'client.cfg');
      writeFileSync(serverPath, serverText);
      writeFileSync(clientPath, clientText ?? lastClient);
      lastClient = clientText ?? lastClient;
      const checked = await run(ilchatd, ['--check-config', serverPath, clientPath]);
      assert.equal(checked.code, 0, checked.stderr);
      assert.match(checked.stdout, /configuration OK/);
      const db = await run(ilchatctl, ['check-db', '--client-cfg', clientPath]);
      assert.equal(db.code, 0, db.stdout + db.stderr);
    });
  }
});
