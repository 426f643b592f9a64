#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "common/config/config_set.h"
#include "common/db/connection.h"
#include "daemon/store/im_store.h"
#include "daemon/store/room_store.h"

// What start-up reads from each client's database before the port opens (docs/architecture.md, "Start-up and stop"; docs/protocol.md, "SQL"); for
// a database that was away then, the same on its worker once it answers.
namespace ilchat::store {

struct PreloadedClient {
    bool connected = false;  // false: the database did not answer in time (degraded start)
    RoomSchema schema;
    std::vector<std::int64_t> room_ids;
    std::vector<PrivateRoom> private_rooms;
    std::vector<StoredConversation> conversations;
};

db::Endpoint endpoint_of(const config::ClientConfig& client);

// Reads what one client needs; when ilchatd is the `sole_server` of the client (no cluster),
// users a previous run left in chatroom_users are moved to chatroom_sessions. Throws db::Error.
PreloadedClient preload_client(db::Connection& db, const std::string& client_name, bool sole_server);

// Preloads every client, waiting up to `startup_db_wait` for databases that do not answer; a
// client whose database is still away comes back with `connected` false (logged). Empty when a
// database refuses the configured credentials or has not the database (logged).
std::optional<std::vector<PreloadedClient>> preload_clients(const config::ConfigSet& set);

}  // namespace ilchat::store
