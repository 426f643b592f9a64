#include "daemon/admin_handlers.h"

#include <algorithm>
#include <array>

#include "common/cluster/redis_address.h"
#include "common/config/config_set.h"
#include "common/config/reload_plan.h"
#include "common/log/logging.h"
#include "common/text/table.h"
#include "common/version.h"
#include "daemon/chat/logged_in.h"
#include "daemon/chat/room_messages.h"
#include "daemon/daemon.h"
#include "daemon/store/database_worker.h"

namespace ilchat {

namespace {

using admin::Reply;
using Done = std::function<void(Reply)>;
using chat::json_object;
using chat::json_string;

std::string count(double value) { return std::to_string(static_cast<std::int64_t>(value)); }

struct DatabaseReport {
    std::string text;
    std::string json = "[";  // an array, one object per client
    bool all_up = true;
};

// Network loop. Read from the metrics the workers keep up to date: no worker is asked, so the
// answer comes even while one of them waits on a database that does not answer.
DatabaseReport database_report(Daemon& daemon) {
    auto& metrics = daemon.metrics();
    DatabaseReport report;
    for (const auto& client : daemon.clients().clients()) {
        const auto& c = client.config;
        const bool up = metrics.db_up(c.name).Value() != 0;
        report.all_up = report.all_up && up;
        const auto queued = count(metrics.db_write_queue_depth(c.name).Value());
        const auto spooled = count(metrics.spooled_messages(c.name).Value());
        const auto errors = count(metrics.db_errors(c.name).Value());
        const auto reconnects = count(metrics.db_reconnects(c.name).Value());
        const auto where = db::describe(store::endpoint_of(c)) + "/" + c.db_name;
        report.text += c.name + "  " + (up ? "up" : "AWAY") + "  " + where + "  queued " + queued + ", spooled " +
                       spooled + ", errors " + errors + ", reconnects " + reconnects + "\n";
        report.json += (report.json.size() > 1 ? "," : "") +
                       json_object({{"namespace", json_string(c.name)},
                                    {"database", json_string(where)},
                                    {"up", up ? "true" : "false"},
                                    {"queued_writes", queued},
                                    {"spooled_writes", spooled},
                                    {"errors", errors},
                                    {"reconnects", reconnects}});
    }
    report.json += "]";
    return report;
}

void help(Daemon&, const admin::Request&, Done done) {
    std::string json = "[";
    for (const auto& c : admin::commands())
        json += (json.size() > 1 ? "," : "") + json_object({{"name", json_string(c.name)},
                                                            {"argument", json_string(c.argument)},
                                                            {"help", json_string(c.help)},
                                                            {"mutating", c.mutating ? "true" : "false"}});
    done({admin::ok, admin::commands_text(), "{\"commands\":" + json + "]}"});
}

void version(Daemon&, const admin::Request&, Done done) {
    done({admin::ok, std::string("ilchatd ") + ilchat::version, "{\"version\":" + json_string(ilchat::version) + "}"});
}

void status(Daemon& daemon, const admin::Request&, Done done) {
    const auto uptime = std::to_string(std::chrono::duration_cast<std::chrono::seconds>(daemon.uptime()).count());
    daemon.on_network(
        [&daemon, uptime] {
            std::size_t sockets = 0, rooms = 0, conversations = 0;
            std::string namespaces = "{";
            daemon.socketio().for_each_namespace([&](const net::sio::Namespace& nsp) {
                namespaces += (namespaces.size() > 1 ? "," : "") + json_string(nsp.name()) + ":" +
                              std::to_string(nsp.socket_count());
                sockets += nsp.socket_count();
            });
            namespaces += "}";
            for (const auto& c : daemon.clients().clients()) {
                rooms += c.rooms->room_count();
                conversations += c.im->conversation_count();
            }
            const auto sessions = daemon.engineio().session_count();
            const auto websockets = daemon.engineio().websocket_session_count();
            const auto databases = database_report(daemon);
            std::string text = "uptime " + uptime + " s, " + std::to_string(sessions) + " connections (" +
                               std::to_string(websockets) + " websocket, " + std::to_string(sessions - websockets) +
                               " polling), " + std::to_string(sockets) + " sockets, " + std::to_string(rooms) +
                               " rooms, " + std::to_string(conversations) + " conversations";
            std::string json = json_object({{"uptime_seconds", uptime},
                                            {"connections", std::to_string(sessions)},
                                            {"websocket", std::to_string(websockets)},
                                            {"polling", std::to_string(sessions - websockets)},
                                            {"sockets_by_namespace", namespaces},
                                            {"rooms", std::to_string(rooms)},
                                            {"conversations", std::to_string(conversations)},
                                            {"databases", databases.json}});
            // In a cluster: whether this node is in sync (an atomic; `cluster-status` tells more).
            if (const auto* node = daemon.cluster()) {
                text += std::string("\ncluster: node ") + node->id() + (node->in_sync() ? " in sync" : " OUT OF SYNC");
                json.pop_back();
                json += std::string(",\"cluster_in_sync\":") + (node->in_sync() ? "true" : "false") + "}";
            }
            return Reply{admin::ok, text + "\n" + databases.text, json};
        },
        std::move(done));
}

void stats(Daemon& daemon, const admin::Request&, Done done) {
    done({admin::ok, daemon.metrics().render(), daemon.metrics().render_json()});
}

void config_show(Daemon& daemon, const admin::Request&, Done done) {
    done({admin::ok, config::render_config(daemon.config()), "{}"});
}

void reload(Daemon& daemon, const admin::Request&, Done done) { daemon.reload(std::move(done)); }

void log_reopen(Daemon& daemon, const admin::Request&, Done done) {
    try {
        daemon.configure_logging(daemon.config().server);
        done({admin::ok, "log files reopened", "{}"});
    } catch (const std::exception& e) {
        done({admin::failed, e.what(), "{}"});
    }
}

void log_level(Daemon& daemon, const admin::Request& request, Done done) {
    const std::string level = request.string_argument("level");
    if (!log::is_ilias_level(level))
        return done({admin::failed, "unknown level \"" + level + "\" (" + log::ilias_level_list() + ")", "{}"});
    try {
        daemon.configure_logging(daemon.config().server, level);
        done({admin::ok, "log level " + level, "{\"level\":" + json_string(level) + "}"});
    } catch (const std::exception& e) {
        done({admin::failed, e.what(), "{}"});
    }
}

void namespaces(Daemon& daemon, const admin::Request&, Done done) {
    daemon.on_network(
        [&daemon] {
            std::string text, json = "[";
            daemon.socketio().for_each_namespace([&](const net::sio::Namespace& nsp) {
                text += nsp.name() + "  " + std::to_string(nsp.socket_count()) + " sockets\n";
                json += (json.size() > 1 ? "," : "") + json_object({{"name", json_string(nsp.name())},
                                                                    {"sockets", std::to_string(nsp.socket_count())}});
            });
            return Reply{admin::ok, text, "{\"namespaces\":" + json + "]}"};
        },
        std::move(done));
}

void rooms(Daemon& daemon, const admin::Request& request, Done done) {
    daemon.on_network(
        [&daemon, nsp = request.string_argument("namespace")] {
            std::string json = "{";
            std::vector<text::TableRow> rows;
            for (const auto& c : daemon.clients().clients()) {
                const auto& name = c.config.name;
                if (!nsp.empty() && nsp != name && nsp != "/" + name) continue;
                json += (json.size() > 1 ? "," : "") + json_string("/" + name) + ":" + c.rooms->rooms_json();
                c.rooms->for_each_room([&](const std::string& room, const std::string& title, std::size_t allowed,
                                           std::size_t joined) {
                    rows.push_back({"/" + name, room, std::to_string(allowed), std::to_string(joined), title});
                });
            }
            json += "}";
            if (json == "{}" && !nsp.empty()) return Reply{admin::failed, "unknown namespace \"" + nsp + "\"", "{}"};
            return Reply{admin::ok, text::aligned_table({"NAMESPACE", "ROOM", "ALLOWED", "JOINED", "TITLE"}, rows, "no rooms"),
                         "{\"rooms\":" + json + "}"};
        },
        std::move(done));
}

void connections(Daemon& daemon, const admin::Request& request, Done done) {
    daemon.on_network(
        [&daemon, nsp = request.string_argument("namespace")] {
            std::string json = "[";
            std::vector<text::TableRow> rows;
            daemon.socketio().for_each_namespace([&](const net::sio::Namespace& n) {
                if (!nsp.empty() && nsp != n.name() && "/" + nsp != n.name()) return;
                n.for_each_socket([&](const net::sio::Socket& socket) {
                    const auto* user = chat::logged_in(socket);
                    const std::string user_json = user ? std::to_string(user->user_id) : "null";
                    rows.push_back({n.name(), socket.id(), user ? user_json : "-"});
                    json += (json.size() > 1 ? "," : "") + json_object({{"namespace", json_string(n.name())},
                                                                        {"socket", json_string(socket.id())},
                                                                        {"user", user_json}});
                });
            });
            return Reply{admin::ok, text::aligned_table({"NAMESPACE", "SOCKET", "USER"}, rows, "no connections"),
                         "{\"connections\":" + json + "]}"};
        },
        std::move(done));
}

void purge_now(Daemon& daemon, const admin::Request&, Done done) { daemon.deletion_job().run(std::move(done)); }

void db_status(Daemon& daemon, const admin::Request&, Done done) {
    daemon.on_network(
        [&daemon] {
            auto report = database_report(daemon);
            return Reply{admin::ok, report.text,
                         std::string("{\"all_up\":") + (report.all_up ? "true" : "false") +
                             ",\"databases\":" + report.json + "}"};
        },
        std::move(done));
}

// The cluster's view from this node (control loop, where it lives).
void cluster_status(Daemon& daemon, const admin::Request&, Done done) {
    const cluster::ClusterNode* node = daemon.cluster();
    if (!node) return done({admin::ok, "single node: cluster.redis is not set", R"({"clustered":false,"in_sync":true})"});
    const auto s = node->status();
    auto list = [](const std::vector<std::string>& names) {
        std::string json = "[";
        for (const auto& name : names) json += (json.size() > 1 ? "," : "") + json_string(name);
        return json + "]";
    };
    std::string text = "node " + node->id() + " of cluster \"" + node->settings().prefix + "\" at " +
                       cluster::describe(node->settings().address) + ": " +
                       (s.in_sync ? "in sync" : "OUT OF SYNC (" + s.problem + ")") + "\nnodes alive: " +
                       (s.nodes.empty() ? "none seen yet" : config::join_names(s.nodes)) + "\nleases held: " +
                       (s.leases.empty() ? "none" : config::join_names(s.leases)) + "\nchanges published " +
                       std::to_string(s.published) + ", applied " + std::to_string(s.applied) + ", queued " +
                       std::to_string(s.queued);
    done({admin::ok, text,
          json_object({{"clustered", "true"},
                       {"node", json_string(node->id())},
                       {"prefix", json_string(node->settings().prefix)},
                       {"redis", json_string(cluster::describe(node->settings().address))},
                       {"in_sync", s.in_sync ? "true" : "false"},
                       {"problem", json_string(s.problem)},
                       {"nodes", list(s.nodes)},
                       {"leases", list(s.leases)},
                       {"published", std::to_string(s.published)},
                       {"applied", std::to_string(s.applied)},
                       {"queued", std::to_string(s.queued)}})});
}

void shutdown(Daemon& daemon, const admin::Request&, Done done) {
    done({admin::ok, "shutting down", "{}"});
    daemon.stop();
}

constexpr auto handlers = std::to_array<AdminHandler>({
    {"help", help},
    {"version", version},
    {"status", status},
    {"stats", stats},
    {"config-show", config_show},
    {"reload", reload},
    {"log-reopen", log_reopen},
    {"log-level", log_level},
    {"namespaces", namespaces},
    {"rooms", rooms},
    {"connections", connections},
    {"purge-now", purge_now},
    {"db-status", db_status},
    {"cluster-status", cluster_status},
    {"shutdown", shutdown},
});

}  // namespace

std::span<const AdminHandler> admin_handlers() { return handlers; }

void handle_admin_request(Daemon& daemon, std::string_view line, std::function<void(admin::Reply)> done) {
    auto parsed = admin::parse_request(line);
    if (!parsed.request) return done(parsed.error);
    const auto& name = parsed.request->command;
    auto handler = std::ranges::find(handlers, name, &AdminHandler::command);
    if (handler == handlers.end() || !admin::find_command(name))
        return done({admin::unknown_command, "unknown command \"" + name + "\"; try \"help\"", "{}"});
    handler->run(daemon, *parsed.request, std::move(done));
}

}  // namespace ilchat
