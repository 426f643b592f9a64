#include "daemon/store/client_preload.h"

#include <chrono>
#include <ctime>
#include <thread>

#include <spdlog/spdlog.h>

namespace ilchat::store {

namespace {

std::int64_t now_seconds() { return static_cast<std::int64_t>(std::time(nullptr)); }

}  // namespace

db::Endpoint endpoint_of(const config::ClientConfig& client) {
    return {client.db_host, client.db_port, client.db_name, client.db_user, client.db_pass};
}

PreloadedClient preload_client(db::Connection& db, const std::string& client_name, bool sole_server) {
    PreloadedClient p;
    p.connected = true;
    p.schema = detect_room_schema(db);
    if (sole_server) {
        store::disconnect_all_users(db, p.schema, now_seconds());
        spdlog::info("Successfully disconnected all users from server");
    }
    p.room_ids = load_room_ids(db);
    if (p.schema.private_rooms) p.private_rooms = load_private_rooms(db);
    spdlog::info("Preload Data for {} finished!", client_name);
    spdlog::info("PreloadConversations for {}", client_name);
    load_conversations(db, [&p](StoredConversation c) { p.conversations.push_back(std::move(c)); });
    return p;
}

std::optional<std::vector<PreloadedClient>> preload_clients(const config::ConfigSet& set) {
    using Clock = std::chrono::steady_clock;
    const auto give_up_at = Clock::now() + std::chrono::milliseconds(set.server.startup_db_wait);
    std::vector<PreloadedClient> preloaded;
    for (const auto& client : set.clients) {
        spdlog::info("SetupNamespace {}!", client.name);
        auto delay = std::chrono::milliseconds(250);
        for (bool first = true;; first = false) {
            try {
                auto db = db::Connection::open(endpoint_of(client));
                spdlog::info("Database for {} connected!", client.name);
                preloaded.push_back(preload_client(db, client.name, set.server.cluster_redis.empty()));
                break;
            } catch (const db::Error& e) {
                if (first) spdlog::error("Database for {}: {}", client.name, e.what());
                if (!e.server_away()) return std::nullopt;  // wrong credentials or database: a configuration error
                if (Clock::now() + delay >= give_up_at) {
                    spdlog::error("Database for {} does not answer: serving without it until it does", client.name);
                    preloaded.emplace_back();
                    break;
                }
                std::this_thread::sleep_for(delay);
                delay = std::min(delay * 2, std::chrono::milliseconds(5000));
            }
        }
    }
    spdlog::info("SetupNamespace finished!");
    return preloaded;
}

}  // namespace ilchat::store
