// ilchatd: drop-in replacement for the ILIAS chat server.
//   ilchatd server.cfg client.cfg [client.cfg ...]
#include <cstdio>
#include <ctime>
#include <iostream>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "common/config/config_set.h"
#include "common/db/connection.h"
#include "common/log/logging.h"
#include "common/version.h"
#include "daemon/chat/backend_api.h"
#include "daemon/chat/im_chat.h"
#include "daemon/chat/room_chat.h"
#include "daemon/store/im_store.h"
#include "daemon/store/database_worker.h"
#include "daemon/store/room_store.h"
#include "daemon/net/http_exchange.h"
#include "daemon/net/network_loop.h"
#include "daemon/net/socketio_server.h"
#include "daemon/net/resolve_address.h"
#include "daemon/ops/control_loop.h"

namespace {

constexpr int exit_ok = 0;
constexpr int exit_failure = 1;
constexpr int exit_usage = 2;

struct Arguments {
    std::string server_cfg;
    std::vector<std::string> client_cfgs;
    bool check_only = false;
};

// What start-up learns from each client's database before the port opens (spec 1.2, 6.5).
struct PreparedClient {
    ilchat::store::RoomSchema schema;
    std::vector<std::int64_t> room_ids;
    std::vector<ilchat::store::PrivateRoom> private_rooms;
    std::vector<ilchat::store::StoredConversation> conversations;
};

ilchat::db::Endpoint endpoint_of(const ilchat::config::ClientConfig& client) {
    return {client.db_host, client.db_port, client.db_name, client.db_user, client.db_pass};
}

std::int64_t now_seconds() { return static_cast<std::int64_t>(std::time(nullptr)); }

// Every namespace's database must answer before the port opens; the users left in
// chatroom_users by a previous run are moved to chatroom_sessions, and the rooms preloaded.
std::optional<std::vector<PreparedClient>> prepare_databases(const ilchat::config::ConfigSet& set) {
    std::vector<PreparedClient> prepared;
    for (const auto& client : set.clients) {
        spdlog::info("SetupNamespace {}!", client.name);
        try {
            auto db = ilchat::db::Connection::open(endpoint_of(client));
            spdlog::info("Database for {} connected!", client.name);
            PreparedClient p;
            p.schema = ilchat::store::detect_room_schema(db);
            ilchat::store::disconnect_all_users(db, p.schema, now_seconds());
            spdlog::info("Successfully disconnected all users from server");
            p.room_ids = ilchat::store::load_room_ids(db);
            if (p.schema.private_rooms) p.private_rooms = ilchat::store::load_private_rooms(db);
            spdlog::info("Preload Data for {} finished!", client.name);
            spdlog::info("PreloadConversations for {}", client.name);
            ilchat::store::load_conversations(db, [&p](ilchat::store::StoredConversation c) {
                p.conversations.push_back(std::move(c));
            });
            prepared.push_back(std::move(p));
        } catch (const ilchat::db::Error& e) {
            spdlog::error("Database for {}: {}", client.name, e.what());
            return std::nullopt;
        }
    }
    spdlog::info("SetupNamespace finished!");
    return prepared;
}

// The clean-up of spec 1.3 on the way out: nobody is connected any more.
void disconnect_all_users(const ilchat::config::ConfigSet& set) {
    for (const auto& client : set.clients) {
        try {
            auto db = ilchat::db::Connection::open(endpoint_of(client));
            ilchat::store::disconnect_all_users(db, ilchat::store::detect_room_schema(db), now_seconds());
        } catch (const ilchat::db::Error& e) {
            spdlog::error("Database for {}: {}", client.name, e.what());
        }
    }
}

ilchat::net::eio::Settings engineio_settings(const ilchat::config::ServerConfig& server) {
    ilchat::net::eio::Settings settings;
    settings.ping_interval = std::chrono::milliseconds(server.ping_interval);
    settings.ping_timeout = std::chrono::milliseconds(server.ping_timeout);
    settings.upgrade_timeout = std::chrono::milliseconds(server.upgrade_timeout);
    settings.max_payload = static_cast<std::size_t>(server.max_payload);
    settings.max_queued_packets = static_cast<std::size_t>(server.send_queue_max_packets);
    settings.max_queued_bytes = static_cast<std::size_t>(server.send_queue_max_bytes);
    return settings;
}

int serve(const ilchat::config::ConfigSet& set) {
    const auto& server = set.server;
    auto resolved = ilchat::net::resolve_listen_address(server.address);
    spdlog::info("DNS Resolve for: {} => IP: {} , Family: IPv{}", server.address, resolved.ip, resolved.family);

    auto prepared = prepare_databases(set);
    if (!prepared) return exit_failure;

    ilchat::net::ListenSpec listen;
    listen.address = resolved.ip;
    listen.port = server.port;
    if (server.protocol == "https") {
        listen.tls_cert = server.cert;
        listen.tls_key = server.key;
    }
    ilchat::net::NetworkLoop network(listen);
    auto& router = network.router();

    ilchat::net::sio::Server socketio(network.context(), std::chrono::milliseconds(server.connect_timeout));
    const ilchat::chat::RoomChatOptions room_options{server.html_escape,
                                                     std::chrono::milliseconds(server.disconnect_grace)};
    std::vector<std::unique_ptr<ilchat::store::DatabaseWorker>> workers;
    std::vector<std::unique_ptr<ilchat::chat::RoomChat>> room_chats;
    std::vector<std::unique_ptr<ilchat::chat::ImChat>> im_chats;
    std::vector<ilchat::chat::BackendApi::Client> backend_clients;
    for (size_t i = 0; i < set.clients.size(); ++i) {
        const auto& client = set.clients[i];
        workers.push_back(std::make_unique<ilchat::store::DatabaseWorker>(client.name, endpoint_of(client)));
        auto& rooms = room_chats.emplace_back(std::make_unique<ilchat::chat::RoomChat>(
            client.name, socketio.add_namespace("/" + client.name), *workers.back(), (*prepared)[i].schema,
            room_options, network.context()));
        for (auto id : (*prepared)[i].room_ids) rooms->add_main_room(id);
        for (const auto& room : (*prepared)[i].private_rooms) rooms->add_private_room(room);
        auto& im = im_chats.emplace_back(std::make_unique<ilchat::chat::ImChat>(
            client.name, socketio.add_namespace("/" + client.name + "-im"), *workers.back(), network.mailbox(),
            ilchat::chat::ImChatOptions{server.html_escape}, network.context()));
        for (const auto& row : (*prepared)[i].conversations)
            if (!im->add_stored_conversation(row))
                spdlog::warn("PreloadConversations for {}: skipped conversation {} with malformed participants",
                             client.name, row.id);
        spdlog::info("SetupNamespace IM: {}-im! {} conversations", client.name, im->conversation_count());
        im->start_preference_refresh();
        backend_clients.push_back({client, rooms.get(), im.get()});
    }

    auto backend = std::make_shared<ilchat::chat::BackendApi>(std::move(backend_clients));
    // ILIAS calls /backend/...; behind a proxy with sub_directory it may arrive prefixed (D12).
    auto serve_backend = [backend](std::size_t prefix_length) {
        return [backend, prefix_length](const ilchat::net::HttpRequest& request, ilchat::net::HttpExchange&) {
            auto inner = request;
            inner.path.erase(0, prefix_length);
            return std::optional(backend->handle(inner));
        };
    };
    router.add("/backend/", serve_backend(0));
    if (!server.sub_directory.empty())
        router.add(server.sub_directory + "/backend/", serve_backend(server.sub_directory.size()));

    ilchat::net::eio::Server engineio(network.context(), engineio_settings(server), socketio);
    ilchat::net::eio::mount(router, ilchat::config::socket_io_path(server) + "/", engineio);
    // The room client of ILIAS asks for <sub_directory>/ itself (DESIGN.md D12).
    if (!server.sub_directory.empty()) ilchat::net::eio::mount(router, server.sub_directory + "/", engineio);

    ilchat::ops::ControlLoop control({.graceful_stop = [&network] {
        network.mailbox().post([&network] { network.stop(); });
    }});
    control.start();

    spdlog::info("The Server is Ready to use! Listening on: {}://{}:{}", server.protocol, resolved.ip, server.port);
    network.run();
    room_chats.clear();
    im_chats.clear();
    workers.clear();  // writes what is queued
    disconnect_all_users(set);
    spdlog::info("Server stopped");
    return exit_ok;
}

}  // namespace

int main(int argc, char** argv) {
    ilchat::ops::ControlLoop::block_signals_in_this_thread();

    Arguments args;
    CLI::App app{"ilchatd - ILIAS chat server (drop-in replacement for the Node.js server)", "ilchatd"};
    app.add_option("server_cfg", args.server_cfg, "server.cfg as written by ILIAS")->required();
    app.add_option("client_cfg", args.client_cfgs, "one client.cfg per ILIAS installation")->required()->expected(1, -1);
    app.add_flag("--check-config", args.check_only, "validate the files, print every problem, and exit");
    app.set_version_flag("--version", std::string("ilchatd ") + ilchat::version);
    app.footer("Exit codes: 0 ok, 1 bad configuration or start-up failure, 2 usage error.");
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::cerr << "ilchatd: " << e.what() << "\nUsage: ilchatd server.cfg client.cfg [client.cfg ...]\n"
                  << "Run 'ilchatd --help' for more.\n";
        return exit_usage;
    }

    ilchat::config::Diagnostics diag;
    auto set = ilchat::config::load_config_set(args.server_cfg, args.client_cfgs, diag);
    if (!diag.ok()) {
        std::cerr << diag.report();
        return exit_failure;
    }
    if (args.check_only) {
        std::cout << diag.report() << "configuration OK: " << args.server_cfg << " and " << set.clients.size()
                  << " client.cfg\n";
        return exit_ok;
    }

    try {
        ilchat::log::configure({set.server.log, set.server.error_log, ilchat::log::level_from_ilias(set.server.log_level)});
    } catch (const std::exception& e) {
        std::cerr << "ilchatd: " << e.what() << '\n';
        return exit_failure;
    }
    spdlog::info("Starting Server!");
    spdlog::info("Log Level: {}", set.server.log_level);
    for (const auto& warning : diag.warnings()) spdlog::warn("{}", warning);

    try {
        return serve(set);
    } catch (const std::exception& e) {
        spdlog::error("{}", e.what());
        return exit_failure;
    }
}
