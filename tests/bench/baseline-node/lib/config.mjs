// Reads server.cfg and client.cfg, the JSON files ILIAS writes, as leniently as the Node server
// does (numbers may be numeric strings, unknown keys are ignored). Every problem is collected
// and reported at once; the values of secrets are never part of a message.
import { existsSync, readFileSync } from 'node:fs';

export class ConfigError extends Error {
  constructor(problems) {
    super(problems.join('\n'));
    this.problems = problems;
  }
}

function readJson(path, problems) {
  if (!existsSync(path)) {
    problems.push(`${path}: file does not exist`);
    return null;
  }
  let text = readFileSync(path, 'utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    const value = JSON.parse(text);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      problems.push(`${path}: expected a JSON object`);
      return null;
    }
    return value;
  } catch (error) {
    problems.push(`${path}: not valid JSON (${error.message})`);
    return null;
  }
}

function integer(value) {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && /^\s*-?\d+\s*$/.test(value)) return Number.parseInt(value, 10);
  return undefined;
}

function text(value) {
  return typeof value === 'string' ? value : undefined;
}

// An optional integer key in [min, max]; absent means the default.
function optionalInteger(object, key, min, max, fallback, file, problems) {
  if (object[key] === undefined) return fallback;
  const value = integer(object[key]);
  if (value === undefined || value < min || value > max) {
    problems.push(`${file}: ${key}: expected ${min}-${max}`);
    return fallback;
  }
  return value;
}

function optionalBoolean(object, key, fallback, file, problems) {
  const value = object[key];
  if (value === undefined) return fallback;
  if (value === true || value === 1 || value === '1' || value === 'true') return true;
  if (value === false || value === 0 || value === '0' || value === 'false') return false;
  problems.push(`${file}: ${key}: expected true or false`);
  return fallback;
}

export function readServerConfig(file, problems) {
  const json = readJson(file, problems);
  if (!json) return null;
  const config = {};

  config.protocol = text(json.protocol);
  if (config.protocol !== 'http' && config.protocol !== 'https') problems.push(`${file}: protocol: expected http or https`);

  config.port = integer(json.port);
  if (config.port === undefined || config.port < 1 || config.port > 65535) problems.push(`${file}: port: expected 1-65535`);

  config.address = text(json.address);
  if (!config.address) problems.push(`${file}: address: expected a non-empty string`);

  // As in the Node server: the key being present (even "") selects <sub_directory>/socket.io.
  config.subDirectory = text(json.sub_directory) ?? '';
  config.socketIoPath = `${config.subDirectory}/socket.io`;

  if (config.protocol === 'https') {
    for (const key of ['cert', 'key']) {
      if (!text(json[key]) || !existsSync(json[key])) problems.push(`${file}: ${key}: expected a readable file (https)`);
    }
    config.cert = json.cert;
    config.key = json.key;
    config.dhparam = text(json.dhparam) || undefined;
  }

  // Not read by the Node server; honoured so that one server.cfg tunes ilchatd and this baseline
  // alike. The defaults are the Node server's (socket.io 4 defaults, 15 s disconnect grace).
  config.pingInterval = optionalInteger(json, 'ping_interval', 100, 3600000, 25000, file, problems);
  config.pingTimeout = optionalInteger(json, 'ping_timeout', 100, 3600000, 20000, file, problems);
  config.maxPayload = optionalInteger(json, 'max_payload', 1024, 100000000, 1000000, file, problems);
  config.connectTimeout = optionalInteger(json, 'connect_timeout', 100, 3600000, 45000, file, problems);
  config.upgradeTimeout = optionalInteger(json, 'upgrade_timeout', 100, 3600000, 10000, file, problems);
  config.disconnectGrace = optionalInteger(json, 'disconnect_grace', 0, 3600000, 15000, file, problems);
  config.htmlEscape = optionalBoolean(json, 'html_escape', true, file, problems);
  return config;
}

export function readClientConfig(file, problems) {
  const json = readJson(file, problems);
  if (!json) return null;
  const config = {};

  config.name = text(json.name);
  if (!config.name) problems.push(`${file}: name: expected a non-empty string`);
  else if (/[/?#%\s]/.test(config.name)) problems.push(`${file}: name: must not contain '/', '?', '#', '%' or blanks`);

  const auth = json.auth && typeof json.auth === 'object' ? json.auth : {};
  config.authKey = text(auth.key);
  config.authSecret = text(auth.secret);
  if (!config.authKey) problems.push(`${file}: auth.key: expected a non-empty string`);
  if (!config.authSecret) problems.push(`${file}: auth.secret: expected a non-empty string`);

  const db = json.database && typeof json.database === 'object' ? json.database : {};
  const type = text(db.type) ?? 'mysql';
  if (!['', 'mysql', 'innodb', 'mariadb', 'galera'].includes(type)) {
    problems.push(`${file}: database.type: expected mysql, innodb, mariadb, galera or ""`);
  }
  config.database = {
    host: text(db.host),
    port: db.port === undefined ? 0 : integer(db.port),
    name: text(db.name),
    user: text(db.user),
    pass: db.pass === undefined || db.pass === null ? '' : String(db.pass),
  };
  if (!config.database.host) problems.push(`${file}: database.host: expected a non-empty string`);
  if (config.database.port === undefined || config.database.port < 0 || config.database.port > 65535) {
    problems.push(`${file}: database.port: expected 0-65535`);
  }
  if (!config.database.name) problems.push(`${file}: database.name: expected a non-empty string`);
  if (!config.database.user) problems.push(`${file}: database.user: expected a non-empty string`);
  return config;
}

// server.cfg and client.cfg paths from the command line, as ilchatd takes them.
export function readConfiguration(serverFile, clientFiles) {
  const problems = [];
  const server = readServerConfig(serverFile, problems);
  const clients = clientFiles.map((file) => readClientConfig(file, problems));
  const names = new Set();
  for (const client of clients) {
    if (!client?.name) continue;
    if (names.has(client.name)) problems.push(`client name "${client.name}" appears twice`);
    names.add(client.name);
  }
  if (problems.length) throw new ConfigError(problems);
  return { server, clients };
}
