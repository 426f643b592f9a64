// GET /backend/<Action>/<name>/... (ILIAS 9 to 12 shapes, without subRoomId). Matching as
// Express 4 does it in the Node server: action names case-insensitive, one optional trailing
// slash, each parameter one URL-decoded segment. Authentication as in ilchatd: Heartbeat is
// open, every other route needs the client's Basic credentials; a failure is HTTP 200
// {"status":403,"message":"Access denied"}, as in the Node server.

const routes = {
  heartbeat: { params: 0, open: true, run: () => ({ status: 200 }) },
  connect: { params: 2, run: (client, [, userId]) => client.rooms.connect(userId) },
  enterprivateroom: { params: 2, run: (client, [roomId, userId]) => client.rooms.enterPrivateRoom(roomId, userId) },
  createprivateroom: {
    params: 3,
    run: (client, [roomId, ownerId, title]) => client.rooms.createPrivateRoom(roomId, ownerId, title),
  },
  getrooms: { params: 0, run: (client) => client.rooms.getRooms() },
  post: { params: 1, run: () => ({ success: true }) },
};

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

function decode(segment) {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function authorized(client, header) {
  if (typeof header !== 'string') return false;
  const token = header.split(' ')[1];
  if (!token) return false;
  const decoded = Buffer.from(token, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return false;
  return decoded.slice(0, colon) === client.config.authKey && decoded.slice(colon + 1) === client.config.authSecret;
}

// Returns a request handler; `prefixes` are the paths the API answers under ("/backend/" and,
// as ilchatd does, "<sub_directory>/backend/").
export function backendHandler(clients, prefixes, log) {
  const byName = new Map(clients.map((client) => [client.config.name, client]));
  return function handle(req, res) {
    const path = req.url.split('?', 1)[0];
    const prefix = prefixes.find((p) => path.toLowerCase().startsWith(p.toLowerCase()));
    if (!prefix || (req.method !== 'GET' && req.method !== 'HEAD')) {
      return send(res, 404, { status: 404, message: 'Not Found' });
    }
    const segments = path.slice(prefix.length).split('/');
    if (segments.length > 1 && segments[segments.length - 1] === '') segments.pop();
    const route = routes[segments[0].toLowerCase()];
    if (!route || segments.length !== route.params + 2) return send(res, 404, { status: 404, message: 'Not Found' });

    const name = decode(segments[1]);
    const client = byName.get(name);
    if (!client) return send(res, 404, { status: 404, message: `Unknown namespace "${name}"` });
    if (!route.open && !authorized(client, req.headers.authorization)) {
      log.warn(`Access denied for ${name}`);
      return send(res, 200, { status: 403, message: 'Access denied' });
    }
    try {
      send(res, 200, route.run(client, segments.slice(2).map(decode)));
    } catch (error) {
      log.error(`backend ${segments[0]} failed: ${error.message}`);
      send(res, 500, { status: 500, message: 'Internal Server Error' });
    }
  };
}
