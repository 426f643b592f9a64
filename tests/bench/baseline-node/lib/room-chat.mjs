// The repository chat of one client: the namespace /<name> and the backend tasks that feed it.
// Message objects are built key for key as the Node server (ILIAS 10) builds them; see the spec,
// "Message object catalog". State lives in plain objects keyed by user id, as there.

// The spec's server-side escaping (section 8): & not starting an entity, < > ", and every code
// point above the BMP becomes '?'.
export function escapeHtml(value) {
  return String(value)
    .replace(/&(?!\w+;)/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/[\u{10000}-\u{10FFFF}]/gu, '?');
}

function base(type, content, roomId) {
  return { type, timestamp: Date.now(), content, roomId };
}

function notice(content, roomId, data) {
  const message = base('notice', content, roomId);
  message.data = data;
  return message;
}

class Subscriber {
  constructor(id) {
    this.id = id;
    this.name = undefined;
    this.socketIds = [];
    this.profilePictureVisible = false;
  }

  addSocketId(id) {
    if (!this.socketIds.includes(id)) this.socketIds.push(id);
  }

  removeSocketId(id) {
    const index = this.socketIds.indexOf(id);
    if (index >= 0) this.socketIds.splice(index, 1);
  }

  toString() {
    return JSON.stringify({ id: this.id, username: this.name });
  }
}

class Room {
  constructor(key, title, ownerId) {
    this.key = key; // "<roomId>_0"
    this.title = title;
    this.ownerId = ownerId;
    this.subscribers = Object.create(null); // allowed in (EnterPrivateRoom)
    this.joined = []; // entered through the socket
  }

  hasJoined(id) {
    return this.joined.includes(Number.parseInt(id, 10));
  }

  join(id) {
    if (this.subscribers[id] !== undefined && !this.hasJoined(id)) this.joined.push(Number.parseInt(id, 10));
  }

  leave(id) {
    const index = this.joined.indexOf(Number.parseInt(id, 10));
    if (index >= 0) this.joined.splice(index, 1);
  }

  userlist() {
    const users = {};
    for (const id in this.subscribers) {
      if (!this.hasJoined(id)) continue;
      const s = this.subscribers[id];
      users[id] = { id: s.id, username: s.name, profile_picture_visible: s.profilePictureVisible };
    }
    return users;
  }
}

const serverRoomId = (roomId) => `${roomId}_0`;

export class RoomChat {
  constructor({ name, nsp, database, htmlEscape, disconnectGrace, log }) {
    this.name = name;
    this.nsp = nsp;
    this.database = database;
    this.htmlEscape = htmlEscape;
    this.disconnectGrace = disconnectGrace;
    this.log = log;
    this.subscribers = Object.create(null);
    this.rooms = Object.create(null);
    this.timers = new Map();
    nsp.on('connection', (socket) => this.onConnection(socket));
  }

  addRoom(roomId, title, ownerId) {
    const key = serverRoomId(roomId);
    if (!this.rooms[key]) this.rooms[key] = new Room(key, title, ownerId);
  }

  removeTimeout(userId) {
    const timer = this.timers.get(String(userId));
    if (timer) {
      clearTimeout(timer);
      this.timers.delete(String(userId));
    }
  }

  persist(message) {
    this.database.persistMessage(message).catch((error) => this.log.error(`persisting a message failed: ${error.message}`));
  }

  // ---- backend tasks ------------------------------------------------------------------------

  connect(userId) {
    const id = Number.parseInt(userId, 10);
    this.removeTimeout(id);
    if (this.subscribers[id] === undefined) this.subscribers[id] = new Subscriber(id);
    return { status: 200 };
  }

  enterPrivateRoom(roomId, userId) {
    const room = this.rooms[serverRoomId(roomId)];
    const subscriber = this.subscribers[Number.parseInt(userId, 10)];
    if (!room || !subscriber) return { success: false };
    if (room.subscribers[subscriber.id] === undefined) room.subscribers[subscriber.id] = subscriber;
    return { success: true };
  }

  createPrivateRoom(roomId, ownerId, title) {
    this.addRoom(roomId, title, ownerId);
    return { success: true };
  }

  getRooms() {
    const rooms = {};
    for (const key in this.rooms) rooms[key] = {};
    return { rooms };
  }

  // ---- socket events ------------------------------------------------------------------------

  onConnection(socket) {
    socket.on('login', (name, id, profilePictureVisible) => this.guard('login', () => this.login(socket, name, id, profilePictureVisible)));
    socket.on('enterRoom', (roomId) => this.guard('enterRoom', () => this.enterRoom(socket, roomId)));
    socket.on('message', (data, roomId) => this.guard('message', () => this.message(socket, data, roomId)));
    socket.on('userStartedTyping', (roomId) => this.guard('typing', () => this.typing(socket, roomId, true)));
    socket.on('userStoppedTyping', (roomId) => this.guard('typing', () => this.typing(socket, roomId, false)));
    socket.on('disconnect', () => this.guard('disconnect', () => this.disconnect(socket)));
  }

  // The Node server lets a handler throw (and logs it as uncaught); this one logs and goes on.
  guard(event, handler) {
    try {
      handler();
    } catch (error) {
      this.log.error(`${event} in namespace ${this.name} failed: ${error.message}`);
    }
  }

  login(socket, name, id, profilePictureVisible) {
    this.removeTimeout(id);
    const subscriber = this.subscribers[id];
    // The Node server means to send `shutdown` here, but with socket.io 4 its loop emits nothing:
    // an unknown user gets no answer at all.
    if (subscriber === undefined) return;
    subscriber.profilePictureVisible = profilePictureVisible;
    subscriber.name = name;
    subscriber.addSocketId(socket.id);
    socket.data.subscriber = subscriber;
    socket.emit('loggedIn');
  }

  enterRoom(socket, roomId) {
    const subscriber = socket.data.subscriber;
    if (!subscriber) throw new Error('enterRoom before login');
    this.removeTimeout(subscriber.id);
    const key = serverRoomId(roomId);
    const room = this.rooms[key];
    if (!room) throw new Error(`unknown room ${key}`);
    const alreadyJoined = room.hasJoined(subscriber.id);
    const who = { id: subscriber.id, username: subscriber.name };

    socket.join(key);
    room.join(subscriber.id);

    const entered = base('private_room_entered', 'private_room_entered', roomId);
    entered.subscriber = who;
    socket.emit('private_room_entered', entered);

    const list = base('userlist', 'userlist', roomId);
    list.users = room.userlist();
    this.nsp.in(key).emit('userlist', list);

    if (!alreadyJoined) {
      who.title = room.title;
      const toRoom = notice('connect', roomId, who);
      const toSelf = notice('welcome_to_chat', roomId, who);
      socket.emit('notice', toSelf);
      socket.broadcast.in(key).emit('notice', toRoom);
    }
  }

  message(socket, data, roomId) {
    const subscriber = socket.data.subscriber;
    if (!subscriber) {
      this.log.error("Missing subscriber, don't process message");
      return;
    }
    if (data === null || typeof data !== 'object') throw new Error('message without data');
    const key = serverRoomId(roomId);
    const content = this.htmlEscape ? escapeHtml(data.content) : data.content;

    const message = base('message', content, roomId);
    message.from = {
      id: subscriber.id,
      username: subscriber.name,
      profile_picture_visible: subscriber.profilePictureVisible,
    };
    message.format = data.format;

    if (data.target === undefined) {
      this.nsp.in(key).emit('message', message);
    } else {
      message.target = data.target;
      if (message.target?.public) {
        this.nsp.in(key).emit('message', message);
      } else {
        // A whisper reaches the sender's and the target's sockets only.
        for (const id of subscriber.socketIds) this.nsp.to(id).emit('message', message);
        const target = this.subscribers[message.target?.id];
        if (target === undefined) throw new Error('whisper to an unknown user'); // nothing stored, as there
        for (const id of target.socketIds) this.nsp.to(id).emit('message', message);
      }
    }
    this.persist(message);
  }

  typing(socket, roomId, started) {
    const subscriber = socket.data.subscriber;
    if (!subscriber) return;
    const room = this.rooms[serverRoomId(roomId)];
    if (!room) throw new Error(`unknown room ${serverRoomId(roomId)}`);
    if (room.subscribers[subscriber.id] === undefined) return;
    const content = started ? 'user_started_typing' : 'user_stopped_typing';
    const action = base(content, content, roomId);
    action.subscriber = subscriber.toString();
    const event = started ? 'userStartedTyping' : 'userStoppedTyping';
    for (const id in room.subscribers) {
      if (Number(id) === subscriber.id) continue;
      for (const socketId of room.subscribers[id].socketIds) this.nsp.to(socketId).emit(event, action);
    }
  }

  // After the grace period the user leaves every room (even with other tabs still open, as in
  // the Node server) and the chatroom_users rows become sessions.
  disconnect(socket) {
    const subscriber = socket.data.subscriber;
    if (!subscriber) return;
    subscriber.removeSocketId(socket.id);
    const userId = subscriber.id;
    this.removeTimeout(userId);
    const timer = setTimeout(() => {
      this.timers.delete(String(userId));
      this.guard('disconnect timeout', () => this.gracePassed(subscriber));
    }, this.disconnectGrace);
    this.timers.set(String(userId), timer);
  }

  gracePassed(subscriber) {
    if (this.subscribers[subscriber.id] === undefined) return;
    const roomIds = [];
    for (const key in this.rooms) {
      const room = this.rooms[key];
      if (room.subscribers[subscriber.id] === undefined) continue;
      room.leave(subscriber.id);
      delete room.subscribers[subscriber.id];
      const roomId = key.split('_')[0];
      if (!roomIds.includes(roomId)) roomIds.push(roomId);
      const list = base('userlist', 'userlist', roomId);
      list.users = room.userlist();
      this.nsp.in(key).emit('userlist', list);
      this.nsp.in(key).emit('notice', notice('disconnected', roomId, { username: subscriber.name }));
    }
    if (subscriber.socketIds.length === 0) delete this.subscribers[subscriber.id];
    this.database
      .disconnectUser(subscriber.id, roomIds)
      .catch((error) => this.log.error(`disconnecting user ${subscriber.id} failed: ${error.message}`));
  }
}
