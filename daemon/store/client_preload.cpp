#include "daemon/store/client_preload.h"

#include <ctime>

#include <spdlog/spdlog.h>

namespace ilchat::store {

namespace {

std::int64_t now_seconds() { return static_cast<std::int64_t>(std::time(nullptr)); }

}  // namespace

db::Endpoint endpoint_of(const config::ClientConfig& client) {
    return {client.db_host, client.db_port, client.db_name, client.db_user, client.db_pass};
}

std::optional<std::vector<PreloadedClient>> preload_clients(const config::ConfigSet& set) {
    std::vector<PreloadedClient> preloaded;
    for (const auto& client : set.clients) {
        spdlog::info("SetupNamespace {}!", client.name);
        try {
            auto db = db::Connection::open(endpoint_of(client));
            spdlog::info("Database for {} connected!", client.name);
            PreloadedClient p;
            p.schema = detect_room_schema(db);
            store::disconnect_all_users(db, p.schema, now_seconds());
            spdlog::info("Successfully disconnected all users from server");
            p.room_ids = load_room_ids(db);
            if (p.schema.private_rooms) p.private_rooms = load_private_rooms(db);
            spdlog::info("Preload Data for {} finished!", client.name);
            spdlog::info("PreloadConversations for {}", client.name);
            load_conversations(db, [&p](StoredConversation c) { p.conversations.push_back(std::move(c)); });
            preloaded.push_back(std::move(p));
        } catch (const db::Error& e) {
            spdlog::error("Database for {}: {}", client.name, e.what());
            return std::nullopt;
        }
    }
    spdlog::info("SetupNamespace finished!");
    return preloaded;
}

void disconnect_all_users(const config::ConfigSet& set) {
    for (const auto& client : set.clients) {
        try {
            auto db = db::Connection::open(endpoint_of(client));
            store::disconnect_all_users(db, detect_room_schema(db), now_seconds());
        } catch (const db::Error& e) {
            spdlog::error("Database for {}: {}", client.name, e.what());
        }
    }
}

}  // namespace ilchat::store
