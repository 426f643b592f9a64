#!/usr/bin/env node
// Node.js baseline of the ILIAS chat server for side-by-side benchmarks with ilchatd:
//   node server.mjs server.cfg client.cfg [client.cfg ...]
// Same files and command line as ilchatd; prints "The Server is Ready to use! ..." on stdout
// once every database answered and the port is open. See README.md for what it covers.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { Server } from 'socket.io';

import { backendHandler } from './lib/backend.mjs';
import { ConfigError, readConfiguration } from './lib/config.mjs';
import { Database } from './lib/database.mjs';
import { ImChat } from './lib/im-chat.mjs';
import { RoomChat } from './lib/room-chat.mjs';

const log = {
  info: (text) => process.stderr.write(`[${new Date().toISOString()}] INFO - ${text}\n`),
  warn: (text) => process.stderr.write(`[${new Date().toISOString()}] WARN - ${text}\n`),
  error: (text) => process.stderr.write(`[${new Date().toISOString()}] ERROR - ${text}\n`),
};

function fail(text, code = 1) {
  process.stderr.write(`${text}\n`);
  process.exit(code);
}

const args = process.argv.slice(2);
if (args.length < 2) fail('usage: node server.mjs server.cfg client.cfg [client.cfg ...]', 2);

let config;
try {
  config = readConfiguration(args[0], args.slice(1));
} catch (error) {
  if (error instanceof ConfigError) fail(error.message);
  throw error;
}
const { server: serverConfig } = config;

// The Node server keeps running after an uncaught exception (it only logs it); so does this one.
process.on('uncaughtException', (error) => log.error(`uncaught exception: ${error.stack || error}`));

async function prepareClient(clientConfig) {
  const database = new Database(clientConfig.database, log);
  try {
    await database.check();
  } catch (error) {
    fail(`client ${clientConfig.name}: database: cannot connect (${error.code || error.message})`);
  }
  log.info(`Database for ${clientConfig.name} connected!`);
  await database.disconnectAllUsers();
  const roomIds = await database.loadRoomIds();
  const conversations = await database.loadConversations();
  return { config: clientConfig, database, roomIds, conversations };
}

const clients = [];
try {
  for (const clientConfig of config.clients) clients.push(await prepareClient(clientConfig));
} catch (error) {
  fail(`start-up failed: ${error.message}`);
}

const prefixes = ['/backend/'];
if (serverConfig.subDirectory) prefixes.push(`${serverConfig.subDirectory}/backend/`);
const handleBackend = backendHandler(clients, prefixes, log);

const httpServer =
  serverConfig.protocol === 'https'
    ? https.createServer(
        {
          cert: readFileSync(serverConfig.cert),
          key: readFileSync(serverConfig.key),
          ...(serverConfig.dhparam ? { dhparam: readFileSync(serverConfig.dhparam) } : {}),
        },
        handleBackend,
      )
    : http.createServer(handleBackend);

// The Node server's socket.io options: its path and CORS; the rest are socket.io 4 defaults
// (which the optional ilchatd keys of server.cfg may change for both servers alike).
const io = new Server(httpServer, {
  path: serverConfig.socketIoPath,
  cors: { origin: '*', methods: ['GET', 'POST', 'OPTIONS'], credentials: true },
  pingInterval: serverConfig.pingInterval,
  pingTimeout: serverConfig.pingTimeout,
  maxHttpBufferSize: serverConfig.maxPayload,
  connectTimeout: serverConfig.connectTimeout,
  upgradeTimeout: serverConfig.upgradeTimeout,
});

for (const client of clients) {
  const name = client.config.name;
  client.rooms = new RoomChat({
    name,
    nsp: io.of(`/${name}`),
    database: client.database,
    htmlEscape: serverConfig.htmlEscape,
    disconnectGrace: serverConfig.disconnectGrace,
    log,
  });
  for (const row of client.roomIds) client.rooms.addRoom(row.room_id, 'Main', null);
  client.im = new ImChat({ name, nsp: io.of(`/${name}-im`), database: client.database, log });
  for (const row of client.conversations) client.im.preload(row);
  delete client.roomIds;
  delete client.conversations;
}

httpServer.on('error', (error) => fail(`cannot listen on ${serverConfig.address}:${serverConfig.port}: ${error.message}`));
httpServer.listen(serverConfig.port, serverConfig.address, () => {
  process.stdout.write(
    `The Server is Ready to use! Listening on: ${serverConfig.protocol}://${serverConfig.address}:${serverConfig.port}\n`,
  );
});

// SIGINT/SIGTERM: close the listener and the sockets, move chatroom_users to chatroom_sessions as
// the Node server's clean-up does, exit 0 (the Node server exits 99). A second signal exits at once.
let stopping = false;
async function stop(signal) {
  if (stopping) process.exit(1);
  stopping = true;
  log.info(`${signal}: stopping`);
  io.close();
  for (const client of clients) {
    try {
      await client.database.disconnectAllUsers();
    } catch (error) {
      log.error(`client ${client.config.name}: clean-up failed: ${error.message}`);
    }
    await client.database.end();
  }
  process.exit(0);
}
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
