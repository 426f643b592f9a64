// A short run of ilchat-loadgen against the real ilchatd: every client registers, connects on
// both namespaces and enters its room, every message reaches every member of its room exactly
// once, and the JSON line says so. No timing is asserted; this machine may be busy.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createDatabase, freePort, run, startDaemon, tempDir, writeConfig } from '../integration/harness.mjs';

const loadgen = process.env.ILCHAT_LOADGEN;
if (!loadgen) throw new Error('run through ctest (ILCHAT_LOADGEN missing)');

const CLIENTS = 300;
const ROOMS = 10;
let daemon;
let port;
let clientPath;

before(async () => {
  createDatabase('ilias_bench_smoke');
  port = await freePort();
  const { serverPath, clientPaths } = writeConfig(tempDir('ilchat-bench-'), {
    port, clients: [{ database: { name: 'ilias_bench_smoke' } }],
  });
  clientPath = clientPaths[0];
  daemon = await startDaemon(serverPath, clientPaths);
});

after(async () => {
  if (daemon) await daemon.stop();
});

function lastJsonLine(stdout) {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

test('300 clients in 10 rooms on both namespaces: every delivery arrives once, no error', async () => {
  const args = [
    '--port', String(port), '--client-cfg', clientPath, '--clients', String(CLIENTS), '--rooms', String(ROOMS),
    '--im', '--rate', '200', '--duration', '3', '--senders', '50', '--message-bytes', '100',
    '--source-addresses', '127.0.0.2-127.0.0.4', '--time-limit', '120',
  ];
  const result = await run(loadgen, args, { timeoutMs: 150000 });
  const context = `exit ${result.code}\n${result.stderr}\n--- ilchatd ---\n${daemon.output}`;
  assert.equal(result.code, 0, context);
  const figures = lastJsonLine(result.stdout);

  assert.equal(figures.ok, true, context);
  assert.equal(figures.clients_requested, CLIENTS);
  assert.equal(figures.clients_registered, CLIENTS);
  assert.equal(figures.clients_connected, CLIENTS);
  assert.equal(figures.clients_lost, 0);
  assert.equal(figures.backend_requests, ROOMS + 2 * CLIENTS);
  assert.deepEqual(figures.errors, {});
  assert.equal(figures.error_count, 0);
  assert.ok(figures.messages_sent > 0, context);
  // Every room has 30 members, the sender included.
  assert.equal(figures.deliveries_expected, figures.messages_sent * (CLIENTS / ROOMS));
  assert.equal(figures.deliveries, figures.deliveries_expected);
  assert.equal(figures.deliveries_missing, 0);
  assert.equal(figures.deliveries_foreign, 0);
  assert.equal(figures.latency_us.count, figures.deliveries);
  assert.equal(figures.connect_time_us.count, CLIENTS);
  for (const key of ['p50', 'p90', 'p99', 'p999', 'max']) {
    assert.ok(Number.isInteger(figures.latency_us[key]), key);
    assert.ok(figures.latency_us[key] <= figures.latency_us.max, key);
  }
  assert.ok(figures.latency_us.p50 <= figures.latency_us.p99);
});

test('unknown credentials: registration is refused, the run fails with exit 1 and says why', async () => {
  const args = [
    '--port', String(port), '--namespace', 'client0', '--auth-key', 'key-0', '--auth-secret', 'wrong',
    '--clients', '5', '--rate', '0', '--time-limit', '60',
  ];
  const result = await run(loadgen, args, { timeoutMs: 90000 });
  assert.equal(result.code, 1, result.stderr);
  const figures = lastJsonLine(result.stdout);
  assert.equal(figures.ok, false);
  assert.equal(figures.clients_connected, 0);
  assert.ok(figures.errors.backend_refused > 0, JSON.stringify(figures.errors));
  assert.doesNotMatch(result.stderr + result.stdout, /wrong/, 'the secret is never printed');
});
