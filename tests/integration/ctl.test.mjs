// ilchatctl's operator commands against the private MariaDB and a real ilchatd: check-db (both
// ILIAS layouts, missing pieces, each kind of connection failure), purge (dry run equals what is
// deleted, confirmation, Ctrl-C), logs (tail, filters, following across rotation and truncation),
// the live commands over the admin socket (daemon down, permission denied) and health; what the
// live commands and version print (--json never just {}, the rooms and connections tables,
// db-status failing while a database is away), and server.cfg found by --server-cfg,
// $ILCHATD_SERVER_CFG or /etc/ilchatd/server.cfg.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { io } from 'socket.io-client';
import {
  admin, createDatabase, eventually, freePort, ilchatctl, mariadbPassword, mariadbSocket, run, sql, startDaemon, tempDir,
  writeConfig,
} from './harness.mjs';

const database = 'ilias_it_ctl';
const ctl = (args, options) => run(ilchatctl, args, options);

// A TCP server that accepts connections and never says a word: a host that does not answer.
async function silentServer() {
  const sockets = [];
  const server = net.createServer((s) => sockets.push(s));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    close: () => { for (const s of sockets) s.destroy(); server.close(); },
  };
}

// Runs a command and lets `interact(child, output)` act while it runs; resolves at its exit.
function runWhile(args, interact) {
  const child = spawn(ilchatctl, args);
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (d) => { output.stdout += d; });
  child.stderr.on('data', (d) => { output.stderr += d; });
  const exited = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, ...output })));
  return Promise.all([exited, interact(child, output)]).then(([result]) => result);
}

// Runs ilchatctl as nobody:nogroup, a user with no right to the admin socket.
function nobodyRun(args) {
  return new Promise((resolve) => {
    const child = spawn('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', ilchatctl, ...args]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

// Every folder the suite makes, removed at its end with its database.
const dirs = [];
const scratchDir = () => {
  dirs.push(tempDir('ilchat-ctl-'));
  return dirs.at(-1);
};

// A daemon on its own folder; `clients` as writeConfig takes them.
async function start(clients, server = {}) {
  const dir = scratchDir();
  const logFile = path.join(dir, 'chat.log');
  const { serverPath, clientPaths } = writeConfig(dir, {
    port: await freePort(), server: { log: logFile, ...server }, clients,
  });
  const daemon = await startDaemon(serverPath, clientPaths, { logFile });
  return { daemon, serverPath, socketPath: path.join(dir, 'admin.sock') };
}

// The column starts of a table's header; every row must have a cell starting at each of them.
function assertAligned(text) {
  const [header, ...rows] = text.trimEnd().split('\n');
  const starts = [...header.matchAll(/(?:^|(?<= {2}))\S/g)].map((m) => m.index);
  for (const row of rows)
    for (const start of starts.slice(1)) {
      assert.equal(row.slice(start - 2, start), '  ', `${JSON.stringify(row)} at ${start} (header ${JSON.stringify(header)})`);
      assert.notEqual(row[start], ' ', `${JSON.stringify(row)} at ${start}`);
    }
}

before(() => createDatabase(database));
after(() => {
  sql(database, `DROP DATABASE ${database}`);
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('check-db', () => {
  let dir;
  before(() => { dir = scratchDir(); });

  const clientCfg = (name, db, pass = mariadbPassword()) => writeConfig(dir, {
    port: 1, clients: [{ name, database: { name: db, pass } }],
  }).clientPaths[0];

  test('an ILIAS >= 9 database: server, character sets, every table there; --json says the same', async () => {
    const cfg = clientCfg('ilias', database);
    const r = await ctl(['check-db', '--client-cfg', cfg]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /server:\s+\S*MariaDB/);
    assert.match(r.stdout, /character set: server utf8mb4, database utf8mb4 \(utf8mb4_unicode_ci\), connection utf8mb4/);
    assert.match(r.stdout, /schema:\s+ILIAS >= 9/);
    assert.match(r.stdout, /every table and column ilchatd needs is there/);
    const json = JSON.parse((await ctl(['check-db', '--client-cfg', cfg, '--json'])).stdout);
    assert.equal(json.ok, true);
    assert.equal(json.databases[0].schema, 'ILIAS >= 9');
    assert.deepEqual(json.databases[0].missing, []);
  });

  test('an ILIAS 8 database is told apart by its private rooms; a missing sub_room is named', async () => {
    const db8 = `${database}_8`;
    createDatabase(db8, { schema: 'ilias8', demo: false });
    const cfg = clientCfg('ilias8', db8);
    const r = await ctl(['check-db', '--client-cfg', cfg]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /schema:\s+ILIAS <= 8 \(with private rooms\)/);
    sql(db8, 'ALTER TABLE chatroom_history DROP COLUMN sub_room; DROP TABLE chatroom_psessions');
    const broken = await ctl(['check-db', '--client-cfg', cfg]);
    assert.equal(broken.code, 1);
    assert.match(broken.stdout, /schema:\s+ILIAS <= 8/);
    assert.match(broken.stdout, /missing:\s+column chatroom_history\.sub_room/);
    assert.match(broken.stdout, /missing:\s+table chatroom_psessions/);
    sql(db8, `DROP DATABASE ${db8}`);
  });

  test('a missing table and column are listed by name, exit 1', async () => {
    const scratch = `${database}_scratch`;
    createDatabase(scratch, { demo: false });
    sql(scratch, 'DROP TABLE osc_activity; ALTER TABLE chatroom_users DROP COLUMN userdata');
    const r = await ctl(['check-db', '--client-cfg', clientCfg('scratch', scratch)]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /missing:\s+table osc_activity$/m);
    assert.match(r.stdout, /missing:\s+column chatroom_users\.userdata$/m);
    assert.doesNotMatch(r.stdout, /every table/);
    sql(scratch, `DROP DATABASE ${scratch}`);
  });

  test('a wrong password is named as such and never shown', async () => {
    const r = await ctl(['check-db', '--client-cfg', clientCfg('bad', database, 'not-the-password-42')]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /connection failed: access denied for user 'ilchat' \(wrong user name or password\)/);
    assert.doesNotMatch(r.stdout + r.stderr, /not-the-password-42/);
  });

  test('ILIAS_CHAT_DB_* from the environment or an --env-file', async () => {
    const env = { ILIAS_CHAT_DB_HOST: mariadbSocket, ILIAS_CHAT_DB_NAME: database, ILIAS_CHAT_DB_USER: 'ilchat' };
    const good = await ctl(['check-db'], { env: { ...env, ILIAS_CHAT_DB_PASS: mariadbPassword() } });
    assert.equal(good.code, 0, good.stdout + good.stderr);
    assert.match(good.stdout, /^ILIAS_CHAT_DB_\* variables: ilchat@/);
    assert.doesNotMatch(good.stdout, new RegExp(mariadbPassword()));
    const envFile = path.join(dir, 'db.env');
    writeFileSync(envFile, Object.entries({ ...env, ILIAS_CHAT_DB_PASS: mariadbPassword() })
      .map(([k, v]) => `${k}=${v}\n`).join(''));
    assert.equal((await ctl(['check-db', '--env-file', envFile])).code, 0);
    // A bad value is reported as coming from the file it was read from, not from the environment.
    const badFile = path.join(dir, 'bad-port.env');
    writeFileSync(badFile, Object.entries({ ...env, ILIAS_CHAT_DB_PASS: 'x', ILIAS_CHAT_DB_PORT: 'not-a-port' })
      .map(([k, v]) => `${k}=${v}\n`).join(''));
    const bad = await ctl(['check-db', '--env-file', badFile]);
    assert.equal(bad.code, 2, bad.stdout + bad.stderr);
    assert.match(bad.stderr, new RegExp(`${badFile.replaceAll('.', '\\.')}.*ILIAS_CHAT_DB_PORT`));
    const missing = await ctl(['check-db'], { env: { ILIAS_CHAT_DB_HOST: '127.0.0.1' } });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /missing required variables: ILIAS_CHAT_DB_NAME, ILIAS_CHAT_DB_USER, ILIAS_CHAT_DB_PASS/);
  });

  test('refused, unknown host and timeout each get their own message, exit 1', async () => {
    const env = { ILIAS_CHAT_DB_NAME: 'x', ILIAS_CHAT_DB_USER: 'u', ILIAS_CHAT_DB_PASS: 'pw-secret-7' };
    const closed = await freePort();
    const refused = await ctl(['check-db'], { env: { ...env, ILIAS_CHAT_DB_HOST: '127.0.0.1', ILIAS_CHAT_DB_PORT: `${closed}` } });
    assert.equal(refused.code, 1);
    assert.match(refused.stdout, new RegExp(`cannot connect to 127\\.0\\.0\\.1:${closed}: connection refused`));
    const unknown = await ctl(['check-db', '--json'], { env: { ...env, ILIAS_CHAT_DB_HOST: 'no-such-host.invalid' } });
    assert.equal(unknown.code, 1);
    const report = JSON.parse(unknown.stdout);
    assert.equal(report.ok, false);
    assert.match(report.databases[0].error, /^unknown host 'no-such-host\.invalid'/);
    const silent = await silentServer();
    try {
      const started = Date.now();
      const timeout = await ctl(['check-db', '--timeout', '1'],
        { env: { ...env, ILIAS_CHAT_DB_HOST: '127.0.0.1', ILIAS_CHAT_DB_PORT: `${silent.port}` } });
      assert.equal(timeout.code, 1);
      assert.match(timeout.stdout, /: timed out \(no answer/);
      assert.ok(Date.now() - started < 5000);
    } finally {
      silent.close();
    }
    for (const r of [refused, unknown]) assert.doesNotMatch(r.stdout + r.stderr, /pw-secret-7/);
  });

  test('no database given, or a bad flag: exit 2', async () => {
    const r = await ctl(['check-db']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /give --client-cfg FILE, or set the ILIAS_CHAT_DB_\* variables/);
    assert.equal((await ctl(['check-db', '--bogus'])).code, 2);
    assert.match((await ctl(['check-db', '--help'])).stdout, /Examples:/);
  });
});

describe('purge', () => {
  const db = `${database}_purge`;
  let dir;
  let serverPath;
  let clientPath;
  const day = 24 * 3600;
  const now = Math.floor(Date.now() / 1000);
  const counts = (d) => sql(d, `SELECT (SELECT COUNT(*) FROM chatroom_history), (SELECT COUNT(*) FROM osc_messages),
    (SELECT COUNT(*) FROM osc_conversation), (SELECT COUNT(*) FROM osc_activity)`).trim().split('\t').map(Number);

  before(() => {
    createDatabase(db, { demo: false });
    sql(db, `INSERT INTO chatroom_history (hist_id, room_id, message, timestamp)
      SELECT seq, 1, '{}', ${now - 10 * day} FROM seq_1_to_40;
      INSERT INTO chatroom_history (hist_id, room_id, message, timestamp) VALUES (100, 1, '{}', ${now - 3600});
      INSERT INTO osc_conversation (id, is_group, participants) VALUES ('old', 0, '[]'), ('new', 0, '[]'), ('mixed', 1, '[]');
      INSERT INTO osc_messages (id, conversation_id, user_id, message, timestamp) VALUES
        ('m1', 'old', 6, 'a', ${(now - 10 * day) * 1000}), ('m2', 'new', 6, 'b', ${(now - 60) * 1000}),
        ('m3', 'mixed', 6, 'c', ${(now - 9 * day) * 1000}), ('m4', 'mixed', 7, 'd', ${(now - 60) * 1000});
      INSERT INTO osc_activity (conversation_id, user_id, timestamp) VALUES ('old', 6, 0), ('mixed', 6, 0), ('gone', 7, 0)`);
    dir = scratchDir();
    ({ serverPath, clientPaths: [clientPath] } = writeConfig(dir, {
      port: 1, server: { deletion_unit: 'days', deletion_value: 2 }, clients: [{ name: 'ilias', database: { name: db } }],
    }));
  });
  after(() => sql(db, `DROP DATABASE ${db}`));

  test('without --yes off a terminal it refuses with exit 2 and deletes nothing', async () => {
    const initial = counts(db);
    const r = await ctl(['purge', '--server-cfg', serverPath, '--client-cfg', clientPath]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /refusing to delete without confirmation, as standard input is not a terminal; add --yes/);
    assert.deepEqual(counts(db), initial);
  });

  test('usage errors: a bad --older-than, no period at all, no --client-cfg', async () => {
    const bad = await ctl(['purge', '--dry-run', '--older-than', '90x', '--client-cfg', clientPath]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--older-than: expected a count and d, w, m or y/);
    const none = await ctl(['purge', '--dry-run', '--client-cfg', clientPath]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /how old\? give --older-than/);
    assert.equal((await ctl(['purge', '--dry-run', '--older-than', '1d'])).code, 2);
    // While deletion_mode is 0 the daemon keeps a default for a bad unit; purge must not use it.
    const { serverPath: badUnit } = writeConfig(scratchDir(), { port: 1, server: { deletion_unit: 'fortnights' } });
    const unit = await ctl(['purge', '--dry-run', '--server-cfg', badUnit, '--client-cfg', clientPath]);
    assert.equal(unit.code, 1);
    assert.match(unit.stderr, /server\.cfg: deletion_unit: expected days, weeks, months, month or years, got "fortnights"; give --older-than/);
  });

  test('--dry-run counts per table (period of server.cfg) equal what purge --yes deletes', async () => {
    const initial = counts(db);
    const text = await ctl(['purge', '--dry-run', '--server-cfg', serverPath, '--client-cfg', clientPath]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /would delete \(older than \S+, 2 days\):\n {2}chatroom_history {2}40\n {2}osc_messages {6}2\n {2}osc_conversation {2}1\n {2}osc_activity {6}2\n/);
    assert.match(text.stdout, /dry run: nothing deleted/);
    assert.deepEqual(counts(db), initial);

    const dry = JSON.parse((await ctl(['purge', '--dry-run', '--json', '--server-cfg', serverPath, '--client-cfg', clientPath])).stdout);
    assert.deepEqual(dry.databases[0].purgeable, { chatroom_history: 40, osc_messages: 2, osc_conversation: 1, osc_activity: 2 });
    const done = await ctl(['purge', '--yes', '--json', '--batch', '7', '--server-cfg', serverPath, '--client-cfg', clientPath]);
    assert.equal(done.code, 0, done.stderr);
    const deleted = JSON.parse(done.stdout);
    assert.equal(deleted.interrupted, false);
    assert.deepEqual(deleted.databases[0].deleted, dry.databases[0].purgeable);
    assert.deepEqual(deleted.databases[0].clients, ['ilias']);
    const remaining = counts(db);
    assert.deepEqual(initial.map((n, i) => n - remaining[i]), [40, 2, 1, 2]);
    assert.deepEqual(sql(db, 'SELECT id FROM osc_conversation ORDER BY id').trim().split('\n'), ['mixed', 'new']);
    // Progress went to stderr as plain lines, not a bar: this is no terminal.
    assert.match(done.stderr, /rows deleted \(chatroom_history\)/);
    assert.doesNotMatch(done.stderr, /\r/);
  });

  test('Ctrl-C stops between batches and leaves a consistent database', async () => {
    sql(db, `INSERT INTO chatroom_history (hist_id, room_id, message, timestamp)
      SELECT 1000 + seq, 1, '{}', ${now - 10 * day} FROM seq_1_to_4000`);
    const initial = counts(db)[0];
    const r = await runWhile(['purge', '--yes', '--json', '--batch', '1', '--older-than', '2d', '--client-cfg', clientPath],
      async (child, output) => {
        await eventually(() => assert.match(output.stderr, /rows deleted/), { timeoutMs: 10000 });
        child.kill('SIGINT');
      });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /interrupted; every batch was deleted whole, so the database is consistent/);
    const report = JSON.parse(r.stdout);
    assert.equal(report.interrupted, true);
    const deleted = report.databases[0].deleted.chatroom_history;
    assert.ok(deleted > 0 && deleted < 4000, `${deleted}`);
    assert.equal(counts(db)[0], initial - deleted);
    const rest = await ctl(['purge', '--yes', '--json', '--older-than', '2d', '--client-cfg', clientPath]);
    assert.equal(JSON.parse(rest.stdout).databases[0].deleted.chatroom_history, 4000 - deleted);
  });
});

describe('logs', () => {
  let dir;
  let serverPath;
  let logPath;
  const line = (time, level, message) => `[2026-11-26T${time}.000+01:00] ${level} - ${message}\n`;
  const lines = [
    line('10:00:00', 'INFO', 'Starting Server!'),
    line('10:00:01', 'DEBUG', 'detail'),
    line('10:00:02', 'WARN', 'slow client'),
    line('10:00:03', 'ERROR', 'Database for ilias failed:'),
    '  the second line of that error\n',
    line('10:00:04', 'INFO', 'The Server is Ready to use!'),
    line('10:00:05', 'SILLY', 'chatter'),
  ];

  before(() => {
    dir = scratchDir();
    logPath = path.join(dir, 'chat.log');
    writeFileSync(logPath, lines.join(''));
    ({ serverPath } = writeConfig(dir, { port: 1, server: { log: logPath } }));
  });

  test('the last N lines (default 20)', async () => {
    const all = await ctl(['logs', '--server-cfg', serverPath]);
    assert.equal(all.code, 0, all.stderr);
    assert.equal(all.stdout, lines.join(''));
    assert.equal((await ctl(['logs', '--server-cfg', serverPath, '-n', '2'])).stdout, lines.slice(5).join(''));
  });

  test('--level shows that level and more severe, with the continuation lines of a shown message', async () => {
    const warn = await ctl(['logs', '--server-cfg', serverPath, '--level', 'warn']);
    assert.equal(warn.stdout, lines[2] + lines[3] + lines[4]);
    const error = await ctl(['logs', '--server-cfg', serverPath, '--level', 'ERROR', '-n', '1']);
    assert.equal(error.stdout, lines[3] + lines[4]);
    const bad = await ctl(['logs', '--server-cfg', serverPath, '--level', 'loud']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /expected error, warn, info, debug or silly/);
  });

  test('--since takes an ISO time (by the line timestamps) or a span back from now', async () => {
    const since = await ctl(['logs', '--server-cfg', serverPath, '--since', '2026-11-26T09:00:04Z']);
    assert.equal(since.stdout, lines.slice(5).join(''));
    assert.equal((await ctl(['logs', '--server-cfg', serverPath, '--since', '10m'])).stdout, '');
    assert.equal((await ctl(['logs', '--server-cfg', serverPath, '--since', 'yesterday'])).code, 2);
  });

  test('--errors reads error_log, or the ERROR lines of the log when there is none', async () => {
    const fallback = await ctl(['logs', '--server-cfg', serverPath, '--errors']);
    assert.equal(fallback.stdout, lines[3] + lines[4]);
    assert.match(fallback.stderr, /has no error_log; showing the ERROR lines of/);
    const errorLog = path.join(dir, 'chat_errors.log');
    writeFileSync(errorLog, line('11:00:00', 'ERROR', 'only in the error log'));
    const { serverPath: withErrors } = writeConfig(scratchDir(), { port: 1, server: { log: logPath, error_log: errorLog } });
    assert.equal((await ctl(['logs', '--server-cfg', withErrors, '--errors'])).stdout, line('11:00:00', 'ERROR', 'only in the error log'));
  });

  test('no log file configured, or a missing one: exit 1 with the reason', async () => {
    const { serverPath: stderrOnly } = writeConfig(scratchDir(), { port: 1 });
    const none = await ctl(['logs', '--server-cfg', stderrOnly]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /names no log file, so ilchatd logs to standard error/);
    const { serverPath: missing } = writeConfig(scratchDir(), { port: 1, server: { log: '/nonexistent/chat.log' } });
    const gone = await ctl(['logs', '--server-cfg', missing]);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /cannot open \/nonexistent\/chat\.log: No such file or directory/);
    // As a user who cannot read /etc/ilchatd/server.cfg (0640), should this machine have one.
    assert.equal((await nobodyRun(['logs'])).code, 2);
  });

  test('-f follows the file across a rename (logrotate) and a truncation (copytruncate)', async () => {
    const followed = path.join(dir, 'follow.log');
    writeFileSync(followed, line('12:00:00', 'INFO', 'before'));
    const { serverPath: cfg } = writeConfig(scratchDir(), { port: 1, server: { log: followed } });
    const r = await runWhile(['logs', '--server-cfg', cfg, '-f', '-n', '1', '--level', 'info'], async (child, output) => {
      await eventually(() => assert.match(output.stdout, /before/));
      appendFileSync(followed, line('12:00:01', 'INFO', 'appended') + line('12:00:02', 'DEBUG', 'hidden'));
      await eventually(() => assert.match(output.stdout, /appended/));
      renameSync(followed, `${followed}.1`);
      appendFileSync(`${followed}.1`, line('12:00:03', 'INFO', 'late in the old file'));
      await new Promise((resolve) => setTimeout(resolve, 300));
      writeFileSync(followed, line('12:00:04', 'INFO', 'in the new file'));
      await eventually(() => assert.match(output.stdout, /in the new file/));
      writeFileSync(followed, line('12:00:05', 'INFO', 'truncated'));
      await eventually(() => assert.match(output.stdout, /truncated/));
      child.kill('SIGTERM');
    });
    assert.deepEqual(r.stdout.trim().split('\n').map((l) => l.replace(/^.* - /, '')),
      ['before', 'appended', 'late in the old file', 'in the new file', 'truncated']);
    assert.match(r.stderr, /was replaced \(log rotation\); following the new file/);
    assert.match(r.stderr, /was truncated; reading it from the start/);
  });
});

describe('live commands and health against a running daemon', () => {
  let dir;
  let port;
  let daemon;
  let serverPath;
  let clientPaths;
  let socketPath;
  before(async () => {
    dir = scratchDir();
    port = await freePort();
    ({ serverPath, clientPaths } = writeConfig(dir, {
      port, server: { log: path.join(dir, 'chat.log') }, clients: [{ name: 'ilias', database: { name: database } }],
    }));
    socketPath = path.join(dir, 'admin.sock');
    daemon = await startDaemon(serverPath, clientPaths, { logFile: path.join(dir, 'chat.log') });
  });
  after(async () => { await daemon?.stop(); });

  test('status, namespaces, rooms, connections: the reply text, or its arguments with --json', async () => {
    const status = await ctl(['status', '--socket', socketPath]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /^uptime \d+ s, 0 connections \(0 websocket, 0 polling\), 0 sockets, 3 rooms, 0 conversations\n/);
    assert.match(status.stdout, /\nilias {2}up {2}\S+\/ilias_it_ctl {2}queued 0, spooled 0, errors 0, reconnects 0\n$/);
    const json = JSON.parse((await ctl(['status', '--server-cfg', serverPath, '--json'])).stdout);
    assert.equal(json.rooms, 3);
    assert.deepEqual(json.sockets_by_namespace, { '/': 0, '/ilias': 0, '/ilias-im': 0 });
    assert.deepEqual(json.databases.map((d) => [d.namespace, d.up]), [['ilias', true]]);
    const databases = JSON.parse((await ctl(['db-status', '--socket', socketPath, '--json'])).stdout);
    assert.equal(databases.all_up, true);
    assert.deepEqual(Object.keys(databases.databases[0]).sort(),
      ['database', 'errors', 'namespace', 'queued_writes', 'reconnects', 'spooled_writes', 'up']);
    const namespaces = JSON.parse((await ctl(['namespaces', '--socket', socketPath, '--json'])).stdout);
    assert.deepEqual(namespaces.namespaces.map((n) => n.name).sort(), ['/', '/ilias', '/ilias-im']);
    const rooms = JSON.parse((await ctl(['rooms', 'ilias', '--socket', socketPath, '--json'])).stdout);
    assert.deepEqual(Object.keys(rooms.rooms['/ilias']).sort(), ['1_0', '2_0', '3_0']);
    assert.deepEqual(JSON.parse((await ctl(['connections', '--socket', socketPath, '--json'])).stdout), { connections: [] });
    assert.equal((await ctl(['stats', '--socket', socketPath])).code, 0);
  });

  test('a failure the daemon reports is exit 1 with its text', async () => {
    const unknown = await ctl(['rooms', 'nope', '--socket', socketPath]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /ilchatctl rooms: unknown namespace "nope"/);
    const loud = await ctl(['log-level', 'loud', '--socket', socketPath]);
    assert.equal(loud.code, 1);
    assert.match(loud.stderr, /unknown level "loud"/);
    assert.equal((await ctl(['log-level', '--socket', socketPath])).code, 2);
    assert.equal((await ctl(['status', '--bogus'])).code, 2);
  });

  test('log-level, reload, log-reopen and purge-now change the running daemon', async () => {
    const level = await ctl(['log-level', 'debug', '--socket', socketPath]);
    assert.equal(level.stdout, 'log level debug\n');
    assert.match((await ctl(['reload', '--socket', socketPath])).stdout, /^configuration reloaded/);
    assert.equal((await ctl(['log-reopen', '--socket', socketPath])).stdout, 'log files reopened\n');
    const purge = await ctl(['purge-now', '--socket', socketPath]);
    assert.equal(purge.code, 0, purge.stderr);
    assert.match(purge.stdout, /ilias: 0 messages, 0 OSC messages, 0 conversations, 0 activity rows deleted/);
    // logs reads the daemon's own file.
    const logs = await ctl(['logs', '--server-cfg', serverPath, '--since', '1h']);
    assert.match(logs.stdout, /\] INFO - The Server is Ready to use! Listening on: http:\/\/127\.0\.0\.1:/);
    assert.match(logs.stdout, /\] INFO - Clear process for namespace ilias finished/);
  });

  test('a user the socket file refuses, and one the daemon refuses, are told so (exit 1)', async () => {
    chmodSync(dir, 0o755);
    const byMode = await nobodyRun(['status', '--socket', socketPath]);
    assert.equal(byMode.code, 1);
    assert.match(byMode.stderr, /permission denied on .*admin\.sock: only root, the daemon's user and members of its admin_group/);
    chmodSync(socketPath, 0o666);
    const byDaemon = await nobodyRun(['status', '--socket', socketPath]);
    assert.equal(byDaemon.code, 1);
    assert.match(byDaemon.stderr, /permission denied on .*\(ilchatd refused this user\)/);
    chmodSync(socketPath, 0o660);
  });

  test('health: {"status":200} from the heartbeat is exit 0 (for any name, D21); a silent server is exit 1', async () => {
    const up = await ctl(['health', '--server-cfg', serverPath, '--client-cfg', clientPaths[0]]);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, new RegExp(`^ok: http://127\\.0\\.0\\.1:${port}/backend/Heartbeat/ilias answered \\{"status":200\\} in \\d+ ms`));
    const json = JSON.parse((await ctl(['health', '--url', `http://localhost:${port}/`, '--name', 'ilias', '--json'])).stdout);
    assert.equal(json.ok, true);
    // As the Node server, whose Heartbeat answered any name: the old image's checks use a fixed one.
    const fixedName = await ctl(['health', '--url', `http://127.0.0.1:${port}`, '--name', 'onscreen']);
    assert.equal(fixedName.code, 0, fixedName.stderr);
    const silent = await silentServer();
    try {
      const slow = await ctl(['health', '--url', `http://127.0.0.1:${silent.port}`, '--name', 'ilias', '--timeout', '0.5']);
      assert.equal(slow.code, 1);
      assert.match(slow.stderr, /no answer from 127\.0\.0\.1:\d+ within 0\.5 s/);
    } finally {
      silent.close();
    }
    // A server (or proxy) that answers chunked, under a path prefix.
    const chunked = http.createServer((req, res) => {
      res.writeHead(req.url === '/chat/backend/Heartbeat/ilias' ? 200 : 404, { 'Content-Type': 'application/json' });
      res.write('{"status":');
      res.end('200}');
    });
    await new Promise((resolve) => chunked.listen(0, '127.0.0.1', resolve));
    try {
      const viaProxy = await ctl(['health', '--url', `http://127.0.0.1:${chunked.address().port}/chat/`, '--name', 'ilias']);
      assert.equal(viaProxy.code, 0, viaProxy.stderr);
    } finally {
      chunked.close();
    }
    assert.equal((await ctl(['health', '--url', 'ftp://127.0.0.1', '--name', 'ilias'])).code, 2);
    assert.equal((await ctl(['health'])).code, 2);
  });

  test('shutdown stops the daemon; then the live commands and health say it is down', async () => {
    assert.equal((await ctl(['shutdown', '--socket', socketPath])).stdout, 'shutting down\n');
    assert.deepEqual(await daemon.exitPromise, { code: 0, signal: null });
    const down = await ctl(['status', '--socket', socketPath]);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /ilchatd is not running: there is no admin socket at/);
    const health = await ctl(['health', '--server-cfg', serverPath, '--client-cfg', clientPaths[0]]);
    assert.equal(health.code, 1);
    assert.match(health.stderr, /connection refused by 127\.0\.0\.1:\d+ \(is ilchatd running/);
  });

  test('a socket nobody listens on (left by a killed daemon) means the daemon is not running', async () => {
    const stale = path.join(dir, 'stale.sock');
    const holder = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(stale)})`]);
    await eventually(() => assert.ok(existsSync(stale)));
    holder.kill('SIGKILL');
    await new Promise((resolve) => holder.on('close', resolve));
    const r = await ctl(['status', '--socket', stale]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /ilchatd is not running: nothing listens on .*stale\.sock/);
  });
});

describe('health over https', () => {
  test('a self-signed certificate is refused unless --insecure', async () => {
    const dir = scratchDir();
    const cert = path.join(dir, 'cert.pem');
    const key = path.join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1',
      '-keyout', key, '-out', cert], { stdio: 'ignore' });
    const port = await freePort();
    const { serverPath, clientPaths } = writeConfig(dir, {
      port, server: { protocol: 'https', cert, key }, clients: [{ name: 'ilias', database: { name: database } }],
    });
    const daemon = await startDaemon(serverPath, clientPaths);
    try {
      const args = ['health', '--server-cfg', serverPath, '--client-cfg', clientPaths[0]];
      const untrusted = await ctl(args);
      assert.equal(untrusted.code, 1);
      assert.match(untrusted.stderr, /the certificate of 127\.0\.0\.1:\d+ is not trusted: self.signed certificate \(--insecure skips this check\)/);
      const insecure = await ctl([...args, '--insecure']);
      assert.equal(insecure.code, 0, insecure.stderr);
      assert.match(insecure.stdout, new RegExp(`^ok: https://127\\.0\\.0\\.1:${port}/backend/Heartbeat/ilias`));
    } finally {
      await daemon.stop();
    }
  });
});

describe('what the live commands, version and logs print and find', () => {
  let daemon;
  let serverPath;
  let socketPath;
  before(async () => {
    ({ daemon, serverPath, socketPath } = await start([{ name: 'ilias', database: { name: database } }]));
  });
  after(async () => { await daemon?.stop(); });

  test('--json of reload, purge-now and stats: the daemon\'s result with its counts, not {}', async () => {
    const reload = await ctl(['reload', '--json', '--socket', socketPath]);
    assert.equal(reload.code, 0, reload.stderr);
    const reloaded = JSON.parse(reload.stdout);
    assert.equal(reloaded.reloaded, true);
    assert.deepEqual(reloaded.restart_needed, []);

    // The period of server.cfg is one year: the row of two years ago goes.
    const old = Math.floor(Date.now() / 1000) - 2 * 366 * 24 * 3600;
    sql(database, `INSERT INTO chatroom_history (hist_id, room_id, message, timestamp) VALUES (900, 1, '{}', ${old})`);
    const purge = await ctl(['purge-now', '--json', '--socket', socketPath]);
    assert.equal(purge.code, 0, purge.stderr);
    assert.deepEqual(JSON.parse(purge.stdout).databases, [{
      namespaces: 'ilias', ok: true, chatroom_history: 1, osc_messages: 0, osc_conversation: 0, osc_activity: 0,
    }]);

    const stats = await ctl(['stats', '--json', '--socket', socketPath]);
    assert.equal(stats.code, 0, stats.stderr);
    const reloads = JSON.parse(stats.stdout).samples
      .find((sample) => sample.name === 'ilchatd_config_reloads_total' && sample.labels.result === 'success');
    assert.equal(reloads.value, 1);
  });

  test('--json of a reply without arguments: {"ok", "text"}, for a success and a failure', async () => {
    const reopen = await ctl(['log-reopen', '--json', '--socket', socketPath]);
    assert.equal(reopen.code, 0, reopen.stderr);
    assert.deepEqual(JSON.parse(reopen.stdout), { ok: true, text: 'log files reopened' });
    const unknown = await ctl(['rooms', 'nope', '--json', '--socket', socketPath]);
    assert.equal(unknown.code, 1);
    assert.deepEqual(JSON.parse(unknown.stdout), { ok: false, text: 'unknown namespace "nope"' });
    assert.match(unknown.stderr, /ilchatctl rooms: unknown namespace "nope"/);
  });

  test('commands with arguments still print just them', async () => {
    const status = JSON.parse((await ctl(['status', '--json', '--socket', socketPath])).stdout);
    assert.equal(status.rooms, 3);
    assert.equal(status.ok, undefined);
  });

  test('the live commands are the daemon\'s commands (help aside); config-show redacts the secrets', async () => {
    const daemonCommands = (await admin(socketPath, { command: 'help' })).arguments.commands.map((c) => c.name);
    const help = (await ctl(['--help'])).stdout;
    const subcommands = help.slice(help.indexOf('Subcommands:')).split('\n').slice(1)
      .map((line) => line.trim().split(' ')[0]).filter((name) => name);
    assert.deepEqual(daemonCommands.filter((name) => name !== 'help' && !subcommands.includes(name)), []);

    const shown = await ctl(['config-show', '--socket', socketPath]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /^auth\.secret += \*{8}$/m);
    assert.match(shown.stdout, /^database\.pass += \*{8} /m);
    assert.doesNotMatch(shown.stdout, new RegExp(`secret-0|${mariadbPassword()}`));
  });

  test('rooms: an aligned table, a header and one row per room', async () => {
    const r = await ctl(['rooms', '--socket', socketPath]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0], /^NAMESPACE {2}ROOM {2}ALLOWED {2}JOINED {2}TITLE$/);
    assert.deepEqual(lines.slice(1).map((l) => l.split(/ +/).slice(0, 4)),
      [['/ilias', '1_0', '0', '0'], ['/ilias', '2_0', '0', '0'], ['/ilias', '3_0', '0', '0']]);
    assertAligned(r.stdout);
  });

  test('connections: "no connections" when there are none, else an aligned table', async () => {
    const none = await ctl(['connections', '--socket', socketPath]);
    assert.equal(none.code, 0, none.stderr);
    assert.equal(none.stdout, 'no connections\n');

    const { port } = JSON.parse(readFileSync(serverPath, 'utf8'));
    const socket = io(`http://127.0.0.1:${port}/ilias`, { transports: ['websocket'], reconnection: false });
    try {
      await new Promise((resolve, reject) => { socket.once('connect', resolve); socket.once('connect_error', reject); });
      const one = await ctl(['connections', '--socket', socketPath]);
      const lines = one.stdout.trimEnd().split('\n');
      assert.match(lines[0], /^NAMESPACE {2}SOCKET\s+USER$/);
      assert.equal(lines.length, 2, one.stdout);
      assert.match(lines[1], new RegExp(`^/ilias {2,}${socket.id.replace(/[-]/g, '\\-')} {2,}-$`));
      assertAligned(one.stdout);
    } finally {
      socket.disconnect();
    }
  });

  test('db-status: exit 0 while every database answers', async () => {
    const r = await ctl(['db-status', '--socket', socketPath]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ilias {2}up {2}/);
  });

  test('version: ilchatctl\'s and the running daemon\'s; without a daemon it says so, exit 0', async () => {
    const r = await ctl(['version', '--socket', socketPath]);
    assert.equal(r.code, 0, r.stderr);
    const [own, daemonLine] = r.stdout.trimEnd().split('\n');
    const version = own.match(/^ilchatctl (\S+)$/)[1];
    assert.equal(daemonLine, `ilchatd ${version} (running, admin socket ${socketPath})`);

    const none = await ctl(['version', '--socket', path.join(scratchDir(), 'admin.sock')]);
    assert.equal(none.code, 0, none.stderr);
    assert.match(none.stdout, /^ilchatctl \S+\nilchatd: no answer: ilchatd is not running: there is no admin socket at /);

    const { serverPath: socketOff } = writeConfig(scratchDir(), { port: 1, server: { admin_socket: '' } });
    const off = await ctl(['version'], { env: { ILCHATD_SERVER_CFG: socketOff } });
    assert.equal(off.code, 0, off.stderr);
    assert.match(off.stdout, /\nilchatd: not asked: no admin socket \(see above\)\n$/);
    assert.match(off.stderr, /server\.cfg turns the admin socket off/);
  });

  test('the live commands and version find the socket through ILCHATD_SERVER_CFG', async () => {
    const status = await ctl(['status'], { env: { ILCHATD_SERVER_CFG: serverPath } });
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /^uptime \d+ s/);
    const version = await ctl(['version'], { env: { ILCHATD_SERVER_CFG: serverPath } });
    assert.match(version.stdout, new RegExp(`\\(running, admin socket ${socketPath.replace(/[.]/g, '\\.')}\\)`));
  });

  test('logs: --server-cfg, else ILCHATD_SERVER_CFG, else /etc/ilchatd/server.cfg', async () => {
    const byVariable = await ctl(['logs', '-n', '200'], { env: { ILCHATD_SERVER_CFG: serverPath } });
    assert.equal(byVariable.code, 0, byVariable.stderr);
    assert.match(byVariable.stdout, /INFO - The Server is Ready to use!/);

    // The option wins over the variable.
    const other = scratchDir();
    const { serverPath: otherCfg } = writeConfig(other, { port: 1 });
    const byOption = await ctl(['logs', '--server-cfg', otherCfg], { env: { ILCHATD_SERVER_CFG: serverPath } });
    assert.equal(byOption.code, 1);
    assert.match(byOption.stderr, new RegExp(`${otherCfg.replace(/[.]/g, '\\.')} names no log file`));

    const missing = await ctl(['logs'], { env: { ILCHATD_SERVER_CFG: path.join(other, 'nowhere.cfg') } });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /nowhere\.cfg: cannot read: No such file or directory/);

    // Neither: run as a user who cannot read /etc/ilchatd/server.cfg (0640), should this machine have one.
    const none = await nobodyRun(['logs']);
    assert.equal(none.code, 2);
    assert.match(none.stderr,
      /which server\.cfg\? Give --server-cfg FILE or set ILCHATD_SERVER_CFG \(\/etc\/ilchatd\/server\.cfg is not there/);
  });
});

test('db-status: a database that does not answer is exit 1, in text and --json', async () => {
  const closed = await freePort();
  const { daemon, socketPath } = await start([
    { name: 'ilias', database: { name: database } },
    { name: 'away', database: { host: '127.0.0.1', port: closed, name: 'x' } },
  ], { startup_db_wait: 0 });
  try {
    const text = await ctl(['db-status', '--socket', socketPath]);
    assert.equal(text.code, 1);
    assert.match(text.stdout, /^ilias {2}up {2}/m);
    assert.match(text.stdout, new RegExp(`^away {2}AWAY {2}127\\.0\\.0\\.1:${closed}/x `, 'm'));
    assert.match(text.stderr, /ilchatctl db-status: a database is away/);
    const json = await ctl(['db-status', '--json', '--socket', socketPath]);
    assert.equal(json.code, 1);
    assert.equal(JSON.parse(json.stdout).all_up, false);
  } finally {
    await daemon.stop();
  }
});
