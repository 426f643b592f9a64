#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "common/config/config_set.h"
#include "common/db/connection.h"
#include "daemon/store/im_store.h"
#include "daemon/store/room_store.h"

// What start-up reads from each client's database before the port opens (spec 1.2, 6.5), and
// the clean-up of chatroom_users on the way out (spec 1.3). Runs on the main thread while no
// loop is serving.
namespace ilchat::store {

struct PreloadedClient {
    RoomSchema schema;
    std::vector<std::int64_t> room_ids;
    std::vector<PrivateRoom> private_rooms;
    std::vector<StoredConversation> conversations;
};

db::Endpoint endpoint_of(const config::ClientConfig& client);

// Every database must answer; users a previous run left in chatroom_users are moved to
// chatroom_sessions. Empty on failure (logged).
std::optional<std::vector<PreloadedClient>> preload_clients(const config::ConfigSet& set);

void disconnect_all_users(const config::ConfigSet& set);

}  // namespace ilchat::store
