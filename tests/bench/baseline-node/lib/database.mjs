// One `mysql` pool per client.cfg, shared by its room and IM namespaces, as in the Node server
// (mysql 2.18, default pool of 10 connections, 3-byte utf8 connection charset). The statements
// are the ones the Node server sends; see the spec, "Statement catalog".
import mysql from 'mysql';

export class Database {
  constructor(settings, log) {
    const options = {
      user: settings.user,
      password: settings.pass,
      database: settings.name,
      charset: 'UTF8_UNICODE_CI',
    };
    // The ilchatd convention: a host starting with / is the path of a Unix socket. (The Node
    // server hands the host to the driver unchanged; `mysql` needs socketPath for a socket.)
    if (settings.host.startsWith('/')) options.socketPath = settings.host;
    else {
      options.host = settings.host;
      options.port = settings.port || 3306;
    }
    this.pool = mysql.createPool(options);
    this.log = log;
  }

  query(sql, values = []) {
    return new Promise((resolve, reject) => {
      this.pool.query(sql, values, (error, result) => (error ? reject(error) : resolve(result)));
    });
  }

  // Takes one connection and gives it back, as SetupDatabase does before anything else.
  check() {
    return new Promise((resolve, reject) => {
      this.pool.getConnection((error, connection) => {
        if (error) return reject(error);
        connection.release();
        resolve();
      });
    });
  }

  end() {
    return new Promise((resolve) => this.pool.end(() => resolve()));
  }

  // ilDB::nextId emulation: a row in <table>_seq hands out the id, older rows are removed.
  async nextId(table) {
    const inserted = await this.query(`INSERT INTO ${table}_seq (sequence) VALUES (NULL)`);
    const id = inserted.insertId;
    await this.query(`DELETE FROM ${table}_seq WHERE sequence < ?`, [id]);
    return id;
  }

  // Three statements per chat message. As in the Node server the timestamp of the object
  // itself becomes seconds before it is serialised into the row.
  async persistMessage(message) {
    const id = await this.nextId('chatroom_history');
    message.timestamp = Math.trunc(message.timestamp / 1000);
    await this.query('INSERT INTO chatroom_history (hist_id, room_id, message, timestamp) VALUES (?, ?, ?, ?)', [
      id,
      message.roomId,
      JSON.stringify(message),
      message.timestamp,
    ]);
  }

  async moveUsersToSessions(rows, userId, now) {
    for (const row of rows) {
      const id = await this.nextId('chatroom_sessions');
      await this.query(
        'INSERT INTO chatroom_sessions (sess_id, room_id, user_id, userdata, connected, disconnected) VALUES (?, ?, ?, ?, ?, ?)',
        [id, row.room_id, userId ?? row.user_id, row.userdata, row.connected, now],
      );
    }
  }

  // Start-up and shutdown: everyone left in chatroom_users gets a session row.
  async disconnectAllUsers() {
    const now = Math.trunc(Date.now() / 1000);
    const rows = await this.query('SELECT * FROM chatroom_users');
    await this.moveUsersToSessions(rows, undefined, now);
    await this.query('DELETE FROM chatroom_users');
  }

  // After the disconnect grace of a user.
  async disconnectUser(userId, roomIds) {
    if (roomIds.length === 0) return;
    const now = Math.trunc(Date.now() / 1000);
    const rows = await this.query('SELECT * FROM chatroom_users WHERE user_id = ? AND room_id IN (?)', [userId, roomIds]);
    await this.moveUsersToSessions(rows, userId, now);
    await this.query('DELETE FROM chatroom_users WHERE user_id = ? AND room_id IN (?)', [userId, roomIds]);
  }

  loadRoomIds() {
    return this.query('SELECT room_id FROM chatroom_settings');
  }

  loadConversations() {
    return this.query('SELECT * FROM osc_conversation');
  }

  conversationState(conversationId, userId) {
    return this.query('SELECT * FROM osc_activity WHERE conversation_id = ? AND user_id = ?', [conversationId, userId]);
  }

  latestMessage(conversationId) {
    return this.query('SELECT * FROM osc_messages WHERE conversation_id = ? ORDER BY timestamp DESC LIMIT 1', [conversationId]);
  }

  countUnread(conversationId, userId) {
    return this.query(
      'SELECT COUNT(m.id) AS numMessages FROM osc_messages m LEFT JOIN osc_activity a ON a.conversation_id = m.conversation_id ' +
        'WHERE m.conversation_id = ? AND a.user_id = ? AND m.timestamp > a.timestamp',
      [conversationId, userId],
    );
  }
}
