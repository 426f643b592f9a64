// The shipped monitoring (monitoring/prometheus/scrape.yml, alerts.yml, alerts_test.yml and
// monitoring/grafana/ilchatd.json) against a live ilchatd: every ilchatd_* and process_* name they
// use must be one the daemon exports (histograms with their _bucket/_sum/_count series), with
// labels it really has; promtool checks the configuration, the rules and the live /metrics and
// runs the alert unit tests; a real Prometheus (Debian package prometheus) scrapes the daemon
// with the shipped scrape.yml and alerts.yml, evaluates every rule without error, fires nothing
// for a healthy daemon and answers every dashboard query.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { io } from 'socket.io-client';
import {
  backendGet, createDatabase, eventually, freePort, ilchatd, metricsPortOf, run, sourceDir, startDaemon, tempDir,
  writeConfig,
} from './harness.mjs';

const database = 'ilias_it_monitoring';
const prometheusDir = path.join(sourceDir, 'monitoring', 'prometheus');
const scrapeFile = path.join(prometheusDir, 'scrape.yml');
const alertsFile = path.join(prometheusDir, 'alerts.yml');
const alertsTestFile = path.join(prometheusDir, 'alerts_test.yml');
const dashboardFile = path.join(sourceDir, 'monitoring', 'grafana', 'ilchatd.json');
const credentials = { key: 'key-0', secret: 'secret-0' };
// Labels Prometheus adds to every series, and the bucket label of histograms.
const targetLabels = new Set(['job', 'instance', 'service']);

const delay = (ms) => new Promise((r) => setTimeout(r, ms));

// The metric families of `ilchatd --metrics-reference`: name -> { type, labels }.
async function metricsReference() {
  const res = await run(ilchatd, ['--metrics-reference']);
  assert.equal(res.code, 0, res.stderr);
  const families = new Map();
  for (const line of res.stdout.split('\n')) {
    const m = line.match(/^\| `([a-z_]+)` \| (\w+) \| ([^|]*) \|/);
    if (!m) continue;
    const labels = [...m[3].matchAll(/`([a-z_]+)`/g)].map((l) => l[1]);
    families.set(m[1], { type: m[2], labels });
  }
  assert.ok(families.size > 10, `unexpected --metrics-reference output:\n${res.stdout}`);
  return families;
}

// The families of a /metrics text (from its # TYPE lines, present even before a first sample).
function scrapedFamilies(text) {
  const families = new Map();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) families.set(m[1], m[2]);
  return families;
}

// Every series name a family exports.
function seriesNames(families) {
  const names = new Map();
  for (const [name, type] of families) {
    names.set(name, name);
    if (type === 'histogram' || type === 'summary') {
      for (const suffix of ['_bucket', '_sum', '_count']) names.set(name + suffix, name);
    }
  }
  return names;
}

// ilchatd_* / process_* names in a PromQL text, with the label names of their selectors.
function usedMetrics(expr) {
  const uses = [];
  for (const m of expr.matchAll(/\b((?:ilchatd|process)_[a-zA-Z0-9_]+)\b(\{([^}]*)\})?/g)) {
    const labels = m[3] ? [...m[3].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)].map((l) => l[1]) : [];
    uses.push({ name: m[1], labels });
  }
  return uses;
}

// The PromQL of alerts.yml: each `expr:` value, folded block or single line.
function alertExpressions(text) {
  const exprs = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = lines[i].match(/^(\s*)expr:\s*(.*)$/);
    if (!m) continue;
    if (m[2] === '|' || m[2] === '>') {
      const body = [];
      while (i + 1 < lines.length && (lines[i + 1].trim() === '' || lines[i + 1].search(/\S/) > m[1].length)) body.push(lines[++i]);
      exprs.push(body.join('\n'));
    } else exprs.push(m[2]);
  }
  return exprs;
}

// Every PromQL query of the dashboard (panel targets, annotations, template variables) with
// where it comes from.
function dashboardQueries(dashboard) {
  const queries = [];
  for (const panel of dashboard.panels) {
    for (const t of panel.targets ?? []) queries.push({ where: `panel "${panel.title}"`, expr: t.expr, kind: 'query' });
  }
  for (const a of dashboard.annotations.list) if (a.expr) queries.push({ where: `annotation "${a.name}"`, expr: a.expr, kind: 'query' });
  for (const v of dashboard.templating.list) {
    if (v.type === 'query') queries.push({ where: `variable $${v.name}`, expr: v.query.query ?? v.query, kind: 'variable' });
  }
  return queries;
}

// Grafana's variables, as a Prometheus query with everything selected would see them.
function expandGrafana(expr) {
  return expr.replace(/\$__rate_interval/g, '15s').replace(/\$__range/g, '5m')
    .replace(/\$job/g, '.*').replace(/\$instance/g, '.*');
}

// process_* metrics have no labels of their own.
const processLabels = [];

function checkNames(where, expr, names, reference) {
  const problems = [];
  for (const { name, labels } of usedMetrics(expr)) {
    const family = names.get(name);
    if (!family) {
      problems.push(`${where}: ${name} is not exported by ilchatd`);
      continue;
    }
    const known = new Set([...(reference.get(family)?.labels ?? processLabels), ...targetLabels]);
    if (name.endsWith('_bucket')) known.add('le');
    for (const label of labels) if (!known.has(label)) problems.push(`${where}: ${name} has no label "${label}"`);
  }
  return problems;
}
function httpGetText(port, pathname) {
  return fetch(`http://127.0.0.1:${port}${pathname}`).then(async (res) => ({ status: res.status, text: await res.text() }));
}

function waitForPort(port, child, output, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (child.exitCode !== null || child.signalCode !== null) return reject(new Error(`exited:\n${output()}`));
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => { socket.destroy(); resolve(); });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`not listening on ${port}:\n${output()}`));
        else setTimeout(attempt, 100);
      });
      return undefined;
    };
    attempt();
  });
}

describe('monitoring against a live ilchatd', () => {
  let daemon;
  let port;
  let metricsPort;
  let dir;
  let reference;
  let scrape;
  let names;
  const sockets = [];

  before(async () => {
    createDatabase(database);
    dir = tempDir('ilchat-monitoring-');
    port = await freePort();
    const { serverPath, clientPaths } = writeConfig(dir, { port, clients: [{ database: { name: database } }] });
    daemon = await startDaemon(serverPath, clientPaths);
    metricsPort = metricsPortOf(daemon);
    // Some traffic, so that labelled series exist: backend calls, one socket per namespace, a
    // reload.
    assert.equal((await backendGet(port, 'Heartbeat/client0')).body, '{"status":200}');
    assert.equal((await backendGet(port, 'Connect/client0/1/6', credentials)).body, '{"status":200}');
    for (const nsp of ['client0', 'client0-im']) {
      const socket = io(`http://127.0.0.1:${port}/${nsp}`, { forceNew: true, reconnection: false });
      sockets.push(socket);
      await new Promise((resolve, reject) => { socket.once('connect', resolve); socket.once('connect_error', reject); });
    }
    daemon.child.kill('SIGHUP');
    reference = await metricsReference();
    await eventually(async () => {
      scrape = (await httpGetText(metricsPort, '/metrics')).text;
      assert.match(scrape, /ilchatd_config_reloads_total\{result="success"\} 1/);
    });
    names = seriesNames(scrapedFamilies(scrape));
  });

  after(async () => {
    for (const socket of sockets) socket.disconnect();
    if (daemon) {
      const exit = await daemon.stop();
      assert.deepEqual(exit, { code: 0, signal: null }, daemon.output);
    }
  });

  test('/metrics exports exactly the families of --metrics-reference, plus process_*', () => {
    const scraped = scrapedFamilies(scrape);
    for (const [name, { type }] of reference) assert.equal(scraped.get(name), type, `${name} in /metrics`);
    for (const name of scraped.keys()) {
      assert.ok(reference.has(name) || name.startsWith('process_'), `${name} is exported but not in --metrics-reference`);
    }
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_open_fds', 'process_max_fds', 'process_start_time_seconds']) {
      assert.ok(scraped.has(name), `${name} missing`);
    }
  });

  test('promtool check metrics accepts the live /metrics', async () => {
    const child = spawn('promtool', ['check', 'metrics']);
    let output = '';
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    child.stdin.end(scrape);
    const code = await new Promise((resolve) => child.on('close', resolve));
    assert.equal(code, 0, output);
    assert.equal(output.trim(), '', `lint findings:\n${output}`);
  });

  test('alerts.yml uses only metrics and labels the daemon exports', () => {
    const text = readFileSync(alertsFile, 'utf8');
    const exprs = alertExpressions(text);
    assert.ok(exprs.length >= 10, `found ${exprs.length} expressions`);
    const problems = exprs.flatMap((e, i) => checkNames(`alerts.yml expr ${i + 1}`, e, names, reference));
    assert.deepEqual(problems, []);
    // Also names mentioned anywhere else in the file (annotations, comments).
    const stray = usedMetrics(text).filter(({ name }) => !names.has(name)).map(({ name }) => name);
    assert.deepEqual([...new Set(stray)], []);
  });

  test('the Grafana dashboard uses only metrics and labels the daemon exports', () => {
    const dashboard = JSON.parse(readFileSync(dashboardFile, 'utf8'));
    const queries = dashboardQueries(dashboard);
    assert.ok(queries.length >= 30, `found ${queries.length} queries`);
    const problems = queries.flatMap((q) => checkNames(q.where, q.expr, names, reference));
    assert.deepEqual(problems, []);
    // Every family of the daemon has a place on the dashboard.
    const used = new Set(queries.flatMap((q) => usedMetrics(q.expr).map((u) => names.get(u.name))));
    const missing = [...reference.keys()].filter((n) => !used.has(n));
    assert.deepEqual(missing, [], 'metrics without a panel');
    // Panels: unique ids, the data source variable, no two panels on the same spot.
    const ids = dashboard.panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
    const cells = new Set();
    for (const p of dashboard.panels) {
      if (p.type !== 'row') assert.equal(p.datasource?.uid, '${datasource}', `panel "${p.title}" uses the data source variable`);
      for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) {
        for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
          assert.ok(!cells.has(`${x},${y}`), `panel "${p.title}" overlaps another at ${x},${y}`);
          cells.add(`${x},${y}`);
        }
      }
      assert.ok(p.gridPos.x + p.gridPos.w <= 24, `panel "${p.title}" is wider than the dashboard`);
    }
  });

  test('promtool: scrape.yml and alerts.yml are valid, the alert unit tests pass', async () => {
    for (const args of [['check', 'config', scrapeFile], ['check', 'rules', alertsFile], ['test', 'rules', alertsTestFile]]) {
      // The alert unit tests evaluate hours of series (the cluster rules look back an hour): on a
      // busy machine they take half a minute.
      const res = await run('promtool', args, { cwd: prometheusDir, timeoutMs: 180000 });
      assert.equal(res.code, 0, `promtool ${args.join(' ')}:\n${res.stdout}${res.stderr}`);
    }
  });

  test('promtool: every dashboard query is valid PromQL', async () => {
    const dashboard = JSON.parse(readFileSync(dashboardFile, 'utf8'));
    const queries = dashboardQueries(dashboard).filter((q) => q.kind === 'query');
    const rules = ['groups:', '  - name: dashboard', '    rules:'];
    queries.forEach((q, i) => {
      rules.push(`      - record: dashboard_query_${i}`, `        expr: ${JSON.stringify(expandGrafana(q.expr))}`);
    });
    const file = path.join(dir, 'dashboard-rules.yml');
    writeFileSync(file, `${rules.join('\n')}\n`);
    const res = await run('promtool', ['check', 'rules', file]);
    assert.equal(res.code, 0, `${res.stdout}${res.stderr}`);
  });

  test('a real Prometheus scrapes ilchatd with the shipped files: rules healthy, nothing fires, every panel answers', async () => {
    const promDir = path.join(dir, 'prometheus');
    mkdirSync(promDir);
    // The shipped files, with the target moved to this daemon's metrics port and faster intervals.
    let config = readFileSync(scrapeFile, 'utf8');
    for (const [from, to] of [["'127.0.0.1:9464'", `'127.0.0.1:${metricsPort}'`], [/scrape_interval: 15s/g, 'scrape_interval: 1s'],
      ['evaluation_interval: 15s', 'evaluation_interval: 1s'], ['scrape_timeout: 5s', 'scrape_timeout: 1s']]) {
      assert.ok(typeof from === 'string' ? config.includes(from) : from.test(config), `scrape.yml no longer contains ${from}`);
      config = config.replace(from, to);
    }
    writeFileSync(path.join(promDir, 'scrape.yml'), config);
    writeFileSync(path.join(promDir, 'alerts.yml'), readFileSync(alertsFile));
    const promPort = await freePort();
    const child = spawn('prometheus', [`--config.file=${promDir}/scrape.yml`, `--storage.tsdb.path=${promDir}/data`,
      `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn']);
    let output = '';
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    const exited = new Promise((resolve) => child.on('close', resolve));
    const api = async (pathname) => {
      const res = await httpGetText(promPort, pathname);
      assert.equal(res.status, 200, `${pathname}: ${res.text}`);
      return JSON.parse(res.text).data;
    };
    const query = (expr) => api(`/api/v1/query?query=${encodeURIComponent(expr)}`);
    try {
      await waitForPort(promPort, child, () => output);
      // Enough samples for rate() over 15 s windows.
      await eventually(async () => {
        const up = await query('up{job="ilchatd"}');
        assert.equal(up.result[0]?.value[1], '1', `target not up yet: ${JSON.stringify(up)}`);
      }, { timeoutMs: 15000, intervalMs: 250 });
      // Traffic between scrapes, so that rates are not zero.
      for (let i = 0; i < 5; i++) {
        await backendGet(port, `Connect/client0/1/${10 + i}`, credentials);
        await delay(400);
      }
      await delay(1500);

      const rules = await api('/api/v1/rules');
      const all = rules.groups.flatMap((g) => g.rules);
      assert.ok(all.length >= 10, `rules loaded: ${all.length}`);
      for (const rule of all) {
        assert.equal(rule.health, 'ok', `rule ${rule.name}: ${rule.lastError}`);
        assert.equal(rule.state, 'inactive', `rule ${rule.name} is ${rule.state} for a healthy daemon: ${JSON.stringify(rule.alerts)}`);
      }

      const dashboard = JSON.parse(readFileSync(dashboardFile, 'utf8'));
      const empty = [];
      for (const q of dashboardQueries(dashboard).filter((d) => d.kind === 'query')) {
        const data = await query(expandGrafana(q.expr));
        if (data.result.length === 0) empty.push(q.where);
      }
      // Series that exist only after their event (deletion job, reload failure, database errors,
      // refused handshakes, ignored events, the spool) may be empty here; the core panels may not.
      for (const core of ['panel "ilchatd"', 'panel "Databases"', 'panel "Sockets"', 'panel "Uptime"', 'panel "Version"',
        'panel "Sockets by namespace and transport"', 'panel "Backend requests /s by route and result"',
        'panel "Backend latency (p50, p95, p99)"', 'panel "Database connected"', 'panel "CPU"', 'panel "Memory"',
        'panel "File descriptors"', 'panel "Statements /s by operation"']) {
        assert.ok(!empty.includes(core), `${core} has no data: ${JSON.stringify(empty)}`);
      }
    } finally {
      child.kill('SIGTERM');
      await Promise.race([exited, delay(5000)]);
    }
  });
});
