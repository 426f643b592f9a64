// The documentation stays true to the code: README's generated tables are what the binaries
// print, every citation of docs/ in code and tests resolves, and every test docs/decisions.md
// names as pinning a decision exists. No daemon or database is needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { sourceDir, ilchatd, ilchatctl, tempDir, freePort, writeConfig, createDatabase, startDaemon, admin } from './harness.mjs';

const read = (relative) => readFileSync(path.join(sourceDir, relative), 'utf8');
const readme = read('README.md');

// Every source and test file of the project (not node_modules, not fetched or built trees).
function projectFiles() {
  const out = [];
  const skip = new Set(['node_modules', 'build', '.git']);
  const walk = (dir) => {
    for (const name of readdirSync(path.join(sourceDir, dir))) {
      if (skip.has(name)) continue;
      const relative = path.join(dir, name);
      if (statSync(path.join(sourceDir, relative)).isDirectory()) walk(relative);
      else if (/\.(cpp|h|mjs|cjs|sh|txt|yml|yaml)$/.test(name) || name === 'Dockerfile') out.push(relative);
    }
  };
  for (const dir of ['common', 'ctl', 'daemon', 'tests', 'etc', 'monitoring', 'systemd']) if (existsSync(path.join(sourceDir, dir))) walk(dir);
  return out;
}

// The headings of a Markdown file, as plain text.
const headings = (text) => [...text.matchAll(/^#+ (.*)$/gm)].map((m) => m[1].trim());

test('README holds the metrics table ilchatd --metrics-reference prints', () => {
  const table = execFileSync(ilchatd, ['--metrics-reference'], { encoding: 'utf8' }).trim();
  assert.ok(table.split('\n').length > 10, 'the reference is a table');
  assert.ok(readme.includes(table), 'README\'s metrics table differs from `ilchatd --metrics-reference`: paste its output');
});

test('README holds the key table ilchatctl config keys prints', () => {
  const table = execFileSync(ilchatctl, ['config', 'keys'], { encoding: 'utf8' }).trim();
  assert.ok(table.split('\n').length > 10, 'the reference is a table');
  assert.ok(readme.includes(table), 'README\'s key table differs from `ilchatctl config keys`: paste its output');
});

test('README names every admin command the daemon knows, on the socket and as ilchatctl commands', async () => {
  createDatabase('docs_commands');
  const dir = tempDir();
  const { serverPath, clientPaths } = writeConfig(dir, { port: await freePort(), clients: [{ name: 'ilias', database: { name: 'docs_commands' } }] });
  const daemon = await startDaemon(serverPath, clientPaths);
  try {
    const reply = await admin(path.join(dir, 'admin.sock'), { command: 'help' });
    const names = reply.arguments.commands.map((c) => c.name);
    assert.ok(names.includes('status') && names.length > 10, `help lists the commands: ${names}`);
    const socketSection = readme.slice(readme.indexOf('The **admin socket**'), readme.indexOf('```sh', readme.indexOf('The **admin socket**')));
    const liveSection = readme.slice(readme.indexOf('#### Live commands'), readme.indexOf('#### health'));
    const help = execFileSync(ilchatctl, ['--help'], { encoding: 'utf8' });
    for (const name of names) {
      assert.ok(socketSection.includes(`\`${name}\``), `README's admin socket section does not name \`${name}\``);
      if (name === 'help') continue;  // ilchatctl --help is that list
      assert.ok(liveSection.includes(`ilchatctl ${name}`), `README's "Live commands" does not show ilchatctl ${name}`);
      assert.match(help, new RegExp(`^  ${name} `, 'm'), `ilchatctl has no subcommand ${name}`);
    }
  } finally {
    await daemon.stop();
  }
});

test('README keeps its order: what it is, two commands, status, architecture, operations, development', () => {
  const top = [...readme.matchAll(/^## (.*)$/gm)].map((m) => m[1].trim());
  const order = ['Two commands', 'Status', 'Architecture', 'Operations', 'Development'];
  const positions = order.map((name) => top.indexOf(name));
  for (const [i, name] of order.entries()) assert.notEqual(positions[i], -1, `README has no "## ${name}" (has: ${top.join(', ')})`);
  assert.deepEqual([...positions].sort((a, b) => a - b), positions, `README's top-level order: ${top.join(', ')}`);
  assert.equal(top[0], 'Two commands', 'the two commands come right after the introduction');
});

test('every docs/ file and decision the code and tests cite exists', () => {
  const decisions = read('docs/decisions.md');
  const known = new Set([...decisions.matchAll(/^### (D\d+) /gm)].map((m) => m[1]));
  const problems = [];
  for (const file of projectFiles()) {
    if (file === path.join('tests', 'integration', 'docs.test.mjs')) continue;  // names the stale files itself
    const text = read(file);
    for (const m of text.matchAll(/docs\/([\w-]+\.md)/g))
      if (!existsSync(path.join(sourceDir, 'docs', m[1]))) problems.push(`${file}: docs/${m[1]} does not exist`);
    for (const m of text.matchAll(/docs\/decisions\.md,? (D\d+)(?:[-–](D?\d+))?/g)) {
      if (!known.has(m[1])) problems.push(`${file}: ${m[1]} is not in docs/decisions.md`);
      if (m[2] && !known.has(m[2].startsWith('D') ? m[2] : `D${m[2]}`)) problems.push(`${file}: ${m[2]} is not in docs/decisions.md`);
    }
    for (const m of text.matchAll(/docs\/(architecture|protocol)\.md,? "([^"]+)"/g)) {
      const sections = headings(read(`docs/${m[1]}.md`));
      if (!sections.some((h) => h === m[2] || h.startsWith(`${m[2]} `) || h.includes(m[2])))
        problems.push(`${file}: docs/${m[1]}.md has no section "${m[2]}"`);
    }
    for (const stale of ['DESIGN.md', 'ilias-server-behaviour', 'clients-and-wire'])
      if (text.includes(stale)) problems.push(`${file}: cites ${stale}, which is not in the repository`);
  }
  assert.deepEqual(problems, []);
});

test('every test docs/decisions.md names as pinning a decision exists', () => {
  const decisions = read('docs/decisions.md');
  const problems = [];
  const named = [];  // [file, name]
  // A "Pinned by" entry runs until the next entry or heading; it names tests as `file` › "name"
  // (several separated by ";", possibly wrapped) or as `file`: followed by one "name" per line.
  for (const block of decisions.split(/\n(?=### |- \*\*|## )/)) {
    if (!block.startsWith('- **Pinned by:**')) continue;
    let listFile = null;
    for (const line of block.split('\n')) {
      const opener = line.match(/`([^`]+)`:\s*$/);
      const item = line.match(/^\s{4,}- "(.*)"\s*$/);
      if (item && listFile) named.push([listFile, item[1]]);
      else listFile = opener ? opener[1] : (item ? listFile : null);
    }
    // Each `file` › "…" runs to the next backquoted name; the test names end at its last quote
    // (a remark may follow), several joined by " and ".
    const flat = block.replace(/\s*\n\s*/g, ' ');
    for (const m of flat.matchAll(/`([^`]+)` › "(.*?)(?=\s*(?:[-;,]\s*)?(?:for the echo server, )?`[\w./-]+\.(?:mjs|cpp|sh)`|$)/g)) {
      const text = m[2].slice(0, m[2].lastIndexOf('"'));
      for (const name of text.split('" and "')) named.push([m[1], name]);
    }
  }
  for (const [file, name] of named) {
    const target = path.join(sourceDir, file);
    if (!existsSync(target)) { problems.push(`${file} does not exist`); continue; }
    const text = readFileSync(target, 'utf8').replaceAll('\\"', '"').replaceAll("\\'", "'").replace(/\s+/g, ' ');
    // "..." shortens a long name: its parts must appear in order.
    let at = 0;
    for (const part of name.split(/\s*(?:\.\.\.|…)\s*/).filter(Boolean)) {
      const found = text.indexOf(part, at);
      if (found < 0) { problems.push(`${file} has no test "${name}"`); break; }
      at = found + part.length;
    }
  }
  assert.deepEqual(problems, []);
  assert.ok(named.length > 40, `only ${named.length} pinning tests found: has the format of docs/decisions.md changed?`);
});
