// The On-Screen Chat namespace /<name>-im, reduced to what the benchmark measures: `login`, which
// in the Node server answers `login` and then lists the participant's conversations (three
// SELECTs per conversation). Conversations are preloaded from osc_conversation at start-up.
// Creating conversations, messages, history, activity and typing are not implemented.

class Participant {
  constructor(id, name) {
    this.id = id;
    this.name = name;
    this.online = false;
    this.acceptsMessages = true;
    this.sockets = [];
    this.conversations = [];
  }

  json() {
    return { id: this.id, name: this.name };
  }

  emit(event, payload) {
    for (const socket of this.sockets) socket.emit(event, payload);
  }
}

class Conversation {
  constructor(id, isGroup) {
    this.id = id;
    this.isGroup = isGroup;
    this.participants = [];
    this.latestMessage = null;
    this.numNewMessages = 0;
  }

  json() {
    return {
      id: this.id,
      participants: this.participants.map((p) => p.json()),
      latestMessage: this.latestMessage,
      numNewMessages: this.numNewMessages,
      isGroup: this.isGroup,
    };
  }
}

export class ImChat {
  constructor({ name, nsp, database, log }) {
    this.name = name;
    this.nsp = nsp;
    this.database = database;
    this.log = log;
    this.participants = Object.create(null);
    this.conversations = Object.create(null);
    nsp.on('connection', (socket) => this.onConnection(socket));
  }

  participant(id, name) {
    let participant = this.participants[id];
    if (participant === undefined) {
      participant = new Participant(id, name);
      this.participants[id] = participant;
    }
    return participant;
  }

  // One osc_conversation row; a row whose participants do not parse is skipped (the Node
  // server would stop its start-up there).
  preload(row) {
    let list;
    try {
      list = JSON.parse(row.participants);
    } catch {
      this.log.error(`conversation ${row.id}: participants are not JSON, skipped`);
      return;
    }
    if (!Array.isArray(list)) return;
    const conversation = new Conversation(row.id, row.is_group);
    for (const entry of list) {
      if (!entry || typeof entry !== 'object') continue;
      const participant = this.participant(entry.id, entry.name);
      conversation.participants.push(participant);
      participant.conversations.push(conversation);
    }
    this.conversations[conversation.id] = conversation;
  }

  onConnection(socket) {
    socket.on('login', (id, name) => this.login(socket, id, name));
    // The Node server registers no disconnect handler and keeps dead sockets forever; dropping
    // them here only spares this baseline work and memory.
    socket.on('disconnect', () => {
      const participant = socket.data.participant;
      if (!participant) return;
      const index = participant.sockets.indexOf(socket);
      if (index >= 0) participant.sockets.splice(index, 1);
    });
  }

  login(socket, id, name) {
    const participant = this.participant(id, name);
    participant.name = name;
    if (!participant.sockets.includes(socket)) participant.sockets.push(socket);
    participant.online = true;
    socket.data.participant = participant;
    socket.emit('login', participant.json());
    this.listConversations(participant).catch((error) =>
      this.log.error(`listing the conversations of ${participant.id} failed: ${error.message}`),
    );
  }

  // One conversation after the other, as the Node server does.
  async listConversations(participant) {
    for (const conversation of [...participant.conversations]) {
      let closed = false;
      for (const row of await this.database.conversationState(conversation.id, participant.id)) closed = row.is_closed;
      for (const row of await this.database.latestMessage(conversation.id)) {
        row.userId = row.user_id;
        row.conversationId = row.conversation_id;
        conversation.latestMessage = row;
      }
      for (const row of await this.database.countUnread(conversation.id, participant.id)) {
        conversation.numNewMessages = row.numMessages;
      }
      if (!closed || (conversation.numNewMessages > 0 && !conversation.isGroup)) {
        participant.emit('conversation', conversation.json());
      }
    }
  }
}
