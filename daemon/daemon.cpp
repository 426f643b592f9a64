#include "daemon/daemon.h"

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstring>
#include <ctime>
#include <grp.h>
#include <thread>
#include <unistd.h>

#include <libwebsockets.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include "common/log/logging.h"
#include "common/retention/retention_bound.h"
#include "common/retention/purge.h"
#include "daemon/chat/logged_in.h"
#include "daemon/chat/room_messages.h"
#include "daemon/net/http_exchange.h"
#include "daemon/ops/service_notifier.h"

namespace ilchat {

namespace {

net::eio::Settings engineio_settings(const config::ServerConfig& server, metrics::Metrics& metrics) {
    net::eio::Settings settings;
    settings.metrics = &metrics;
    settings.ping_interval = std::chrono::milliseconds(server.ping_interval);
    settings.ping_timeout = std::chrono::milliseconds(config::ping_timeout(server));
    settings.legacy_ping_timeout = std::chrono::milliseconds(config::legacy_ping_timeout(server));
    settings.upgrade_timeout = std::chrono::milliseconds(server.upgrade_timeout);
    settings.max_payload = static_cast<std::size_t>(server.max_payload);
    settings.max_queued_packets = static_cast<std::size_t>(server.send_queue_max_packets);
    settings.max_queued_bytes = static_cast<std::size_t>(server.send_queue_max_bytes);
    return settings;
}

// A worker job: whoever is still in chatroom_users moves to chatroom_sessions now (spec 1.3).
void leave_all_users(db::Connection& db) {
    store::disconnect_all_users(db, store::detect_room_schema(db), static_cast<std::int64_t>(std::time(nullptr)));
}

// The keys of a settings table whose values differ and that only a restart applies; those keep
// their running values in `fresh`.
template <class Config>
std::vector<std::string> keep_restart_only(std::span<const config::Setting<Config>> table, const Config& running,
                                           Config& fresh, const std::string& prefix) {
    std::vector<std::string> changed;
    for (const auto& setting : table) {
        if (setting.reload != config::Reload::restart) continue;
        if (config::format_field(setting.field, running) == config::format_field(setting.field, fresh)) continue;
        changed.push_back(prefix + std::string(setting.key));
        std::visit([&](auto member) { fresh.*member = running.*member; }, setting.field);
    }
    return changed;
}

std::string join(const std::vector<std::string>& items) {
    std::string text;
    for (const auto& item : items) text += (text.empty() ? "" : ", ") + item;
    return text;
}

bool known_level(const std::string& name) {
    static constexpr const char* names[] = {"emerg", "alert", "crit",  "error", "warning",
                                            "notice", "info",  "debug", "silly"};
    for (const char* n : names)
        if (name == n) return true;
    return false;
}

}  // namespace

Daemon::Daemon(config::ConfigSet config, std::vector<store::PreloadedClient> preloaded, const net::ListenSpec& listen)
    : config_(std::move(config)),
      network_(listen),
      socketio_(network_.timers(), std::chrono::milliseconds(config_.server.connect_timeout), &metrics_),
      engineio_(network_.timers(), engineio_settings(config_.server, metrics_), socketio_),
      control_({.graceful_stop = [this] { stop(); },
                .reload = [this] {
                    reload([](ops::AdminReply reply) {
                        if (reply.result == 0) spdlog::info("{}", reply.text);
                    });
                }}) {
    const auto& server = config_.server;
    room_options_ = {server.html_escape, std::chrono::milliseconds(server.disconnect_grace), &metrics_};
    im_options_ = {server.html_escape, &metrics_};
    spool_dir_ = server.spool_dir;
    worker_options_.metrics = &metrics_;
    worker_options_.memory_queue_limit = static_cast<std::size_t>(server.write_queue_limit);
    backend_ = std::make_shared<chat::BackendApi>(std::vector<chat::BackendApi::Client>{}, &metrics_);
    for (size_t i = 0; i < config_.clients.size(); ++i) add_client(config_.clients[i], std::move(preloaded[i]));

    auto& router = network_.router();
    // ILIAS calls /backend/...; behind a proxy with sub_directory it may arrive prefixed (D12).
    auto serve_backend = [backend = backend_](std::size_t prefix_length) {
        return [backend, prefix_length](const net::HttpRequest& request, net::HttpExchange&) {
            auto inner = request;
            inner.path.erase(0, prefix_length);
            return std::optional(backend->handle(inner));
        };
    };
    router.add("/backend/", serve_backend(0));
    if (!server.sub_directory.empty()) router.add(server.sub_directory + "/backend/", serve_backend(server.sub_directory.size()));
    net::eio::mount(router, config::socket_io_path(server) + "/", engineio_);
    // The room client of ILIAS asks for <sub_directory>/ itself (D12).
    if (!server.sub_directory.empty()) net::eio::mount(router, server.sub_directory + "/", engineio_);

    open_admin_socket();
    open_health_http();
    // Series that alerts compare with increase() exist from the start, at 0.
    for (const char* result : {"success", "failure"}) metrics_.config_reloads(result);
    for (const char* result : {"success", "failure"}) metrics_.admin_commands(result);
    metrics_.deletion_last_success_timestamp_seconds();  // 0 = not yet: the stale-job alert needs the series
}

Daemon::~Daemon() = default;

// Network loop (or the constructor, before it runs). A client whose database did not answer
// at start-up, or one a reload added, serves live chat at once and learns its rooms and
// conversations when the database answers.
void Daemon::add_client(const config::ClientConfig& config, store::PreloadedClient preload) {
    const auto& name = config.name;
    Client c;
    c.config = config;
    store::WorkerOptions options = worker_options_;
    if (!spool_dir_.empty()) {
        std::string file = name;
        std::replace(file.begin(), file.end(), '/', '_');
        options.spool_path = spool_dir_ + "/" + file + ".spool";
    }
    options.connected_at_start = preload.connected;
    c.worker = std::make_unique<store::DatabaseWorker>(name, store::endpoint_of(config), std::move(options));
    c.rooms = std::make_unique<chat::RoomChat>(name, socketio_.add_namespace("/" + name), *c.worker, preload.schema,
                                               room_options_, network_.timers());
    c.im = std::make_unique<chat::ImChat>(name, socketio_.add_namespace("/" + name + "-im"), *c.worker,
                                          network_.mailbox(), im_options_, network_.timers());
    backend_->add_client({config, c.rooms.get(), c.im.get()});
    // Series that alerts compare with increase() exist from the start, at 0.
    metrics_.db_errors(name);
    metrics_.db_reconnects(name);
    clients_.push_back(std::move(c));
    if (preload.connected) {
        take_preload(clients_.back(), std::move(preload));
        return;
    }
    degraded_.insert(name);
    clients_.back().worker->when_connected([this, name](db::Connection& db) {
        auto fresh = std::make_shared<store::PreloadedClient>(store::preload_client(db, name));
        network_.mailbox().post([this, name, fresh] {
            // A reload may have removed the client meanwhile.
            if (Client* client = find_client(name)) take_preload(*client, std::move(*fresh));
            degraded_.erase(name);
        });
    });
}

void Daemon::take_preload(Client& c, store::PreloadedClient preload) {
    const auto& name = c.config.name;
    c.rooms->set_schema(preload.schema);
    for (auto id : preload.room_ids) c.rooms->add_main_room(id);
    for (const auto& room : preload.private_rooms) c.rooms->add_private_room(room);
    for (const auto& row : preload.conversations)
        if (!c.im->add_stored_conversation(row))
            spdlog::warn("PreloadConversations for {}: skipped conversation {} with malformed participants", name, row.id);
    spdlog::info("SetupNamespace IM: {}-im! {} conversations", name, c.im->conversation_count());
    c.im->start_preference_refresh();
}

Daemon::Client* Daemon::find_client(const std::string& name) {
    auto found = std::find_if(clients_.begin(), clients_.end(), [&](const Client& c) { return c.config.name == name; });
    return found == clients_.end() ? nullptr : &*found;
}

// Network loop: a reload dropped the client.cfg. Its sockets are told (the Engine.IO sessions
// stay for their other namespaces), its users leave chatroom_users, and its worker stores what
// it holds on a thread of its own, so the loop does not wait for a slow database.
void Daemon::remove_client(const std::string& name) {
    auto found = std::find_if(clients_.begin(), clients_.end(), [&](const Client& c) { return c.config.name == name; });
    if (found == clients_.end()) return;
    backend_->remove_client(name);
    found->rooms.reset();
    found->im.reset();
    socketio_.remove_namespace("/" + name);
    socketio_.remove_namespace("/" + name + "-im");
    found->worker->when_connected(leave_all_users);
    retiring_.emplace_back([worker = std::move(found->worker)]() mutable { worker.reset(); });
    clients_.erase(found);
    degraded_.erase(name);
    spdlog::info("Namespace {} and {}-im removed", name, name);
}

void Daemon::open_admin_socket() {
    const auto& server = config_.server;
    if (server.admin_socket.empty()) return;
    gid_t admin_gid = static_cast<gid_t>(-1);
    if (!server.admin_group.empty()) {
        if (const struct group* g = ::getgrnam(server.admin_group.c_str())) admin_gid = g->gr_gid;
        else spdlog::warn("admin_group \"{}\" does not exist; only root and the daemon's user may use the admin socket",
                          server.admin_group);
    }
    try {
        admin_socket_ = std::make_unique<ops::AdminSocket>(
            control_.base(), server.admin_socket, admin_gid,
            [this](const std::string& request, std::function<void(std::string)> reply) {
                ops::handle_admin_request(*this, request, [this, reply](std::string line) {
                    metrics_.admin_commands(line.starts_with(R"({"result":0)") ? "success" : "failure").Increment();
                    reply(std::move(line));
                });
            });
        spdlog::info("Admin socket: {}", server.admin_socket);
    } catch (const std::exception& e) {
        // The chat matters more than the admin socket: serve without it.
        spdlog::warn("{}; running without an admin socket", e.what());
    }
}

void Daemon::open_health_http() {
    const auto& address = config_.server.metrics_address;
    if (address.empty()) return;
    // A taken port is a start-up failure, as for the chat port: a daemon silently running
    // without /metrics would also silence every alert about it.
    health_http_ = std::make_unique<ops::HealthHttp>(
        control_.base(), address,
        ops::HealthHttp::Handlers{[this] { return metrics_.render(); },
                                  [this]() -> std::optional<std::string> {
                                      for (const auto& c : config_.clients)
                                          if (metrics_.db_up(c.name).Value() == 0) return "database of " + c.name + " down";
                                      return std::nullopt;
                                  }});
    // With port 0 (tests) the kernel picks one: say which.
    spdlog::info("Metrics: http://{}:{}/metrics", address.substr(0, address.rfind(':')), health_http_->port());
}

void Daemon::update_gauges() {
    std::size_t websocket_sessions = engineio_.websocket_session_count();
    metrics_.engineio_sessions("websocket").Set(static_cast<double>(websocket_sessions));
    metrics_.engineio_sessions("polling").Set(static_cast<double>(engineio_.session_count() - websocket_sessions));
    socketio_.for_each_namespace([&](const net::sio::Namespace& nsp) {
        std::size_t websocket = 0, polling = 0;
        nsp.for_each_socket([&](net::sio::Socket& socket) { ++(socket.session().on_websocket() ? websocket : polling); });
        metrics_.connections(nsp.name(), "websocket").Set(static_cast<double>(websocket));
        metrics_.connections(nsp.name(), "polling").Set(static_cast<double>(polling));
    });
    for (const auto& c : clients_) {
        metrics_.rooms("/" + c.config.name).Set(static_cast<double>(c.rooms->room_count()));
        metrics_.conversations("/" + c.config.name + "-im").Set(static_cast<double>(c.im->conversation_count()));
    }
}

void Daemon::run() {
    // The watchdog is fed only while the network loop answers too.
    auto network_seen = std::make_shared<std::atomic<std::int64_t>>(0);
    if (auto interval = ops::service::watchdog_interval()) {
        control_.every(*interval, [this, network_seen, interval] {
            const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
            const auto limit = std::chrono::duration_cast<std::chrono::steady_clock::duration>(*interval * 3).count();
            if (now - network_seen->load() < limit) ops::service::watchdog();
            network_.mailbox().post([network_seen] {
                network_seen->store(std::chrono::steady_clock::now().time_since_epoch().count());
            });
        });
        network_seen->store(std::chrono::steady_clock::now().time_since_epoch().count());
    }
    network_.mailbox().post([this] { update_gauges(); });
    control_.every(std::chrono::seconds(5), [this] { network_.mailbox().post([this] { update_gauges(); }); });
    control_.every(std::chrono::seconds(10), [this] {
        network_.mailbox().post([this] {
            ops::service::status(service_status());
        });
    });
    schedule_deletion_job();
    control_.every(std::chrono::seconds(15), [this] {
        if (!next_deletion_ || std::chrono::system_clock::now() < *next_deletion_) return;
        run_deletion_job([](const ops::AdminReply&) {});
        schedule_deletion_job();
    });
    control_.start();

    const auto& server = config_.server;
    spdlog::info("The Server is Ready to use! Listening on: {}://{}:{}", server.protocol, server.address, server.port);
    ops::service::ready(service_status());
    network_.run();

    ops::service::stopping();
    const auto stop_requested = std::chrono::steady_clock::now();
    // What lives on the control loop goes after the loop, not under it.
    control_.stop();
    admin_socket_.reset();
    health_http_.reset();
    const auto deadline = stop_requested + std::chrono::milliseconds(config_.server.shutdown_timeout);
    // The control loop took its signal handling with it: until the end of the shutdown, a second
    // stop signal or the deadline passing ends the process from here.
    std::jthread last_resort([deadline](std::stop_token stop) {
        sigset_t stop_signals;
        sigemptyset(&stop_signals);
        sigaddset(&stop_signals, SIGTERM);
        sigaddset(&stop_signals, SIGINT);
        while (!stop.stop_requested()) {
            const auto left = deadline - std::chrono::steady_clock::now();
            if (left <= std::chrono::steady_clock::duration::zero()) {
                spdlog::error("shutdown_timeout passed: exiting before the shutdown finished");
                spdlog::default_logger()->flush();
                ::_exit(1);
            }
            const auto wait = std::chrono::duration_cast<std::chrono::nanoseconds>(
                std::min<std::chrono::steady_clock::duration>(left, std::chrono::milliseconds(20)));
            const timespec tick{0, static_cast<long>(wait.count())};
            if (const int signal = ::sigtimedwait(&stop_signals, nullptr, &tick); signal > 0) {
                spdlog::warn("{} again: exiting at once", strsignal(signal));
                spdlog::default_logger()->flush();
                ::_exit(1);
            }
        }
    });

    // Browsers see a clean close rather than a reset, and reconnect once ilchatd is back: every
    // session is told, new ones are refused, and the loop runs a little longer (bounded) so that
    // the close packets and close frames go out. The listener stays open meanwhile: a polling
    // client's next poll comes on a new connection and must hear the close.
    spdlog::info("Closing {} connections", engineio_.session_count());
    engineio_.shut_down();
    constexpr std::chrono::milliseconds close_flush{1000};
    bool flush_over = false;
    net::LoopTimer flush_bound(network_.timers(), [&flush_over] { flush_over = true; });
    flush_bound.start(std::min(close_flush, std::chrono::duration_cast<std::chrono::milliseconds>(
                                                deadline - std::chrono::steady_clock::now())));
    while (engineio_.closing() && !flush_over) network_.run_once(true);
    network_.run_once(false);  // without waiting: the body of a poll answered last goes out

    for (auto& c : clients_) {
        c.rooms.reset();
        c.im.reset();
        // After what is queued, users still in chatroom_users move to chatroom_sessions (spec
        // 1.3); for a database that stays away, the next start-up does it.
        c.worker->when_connected(leave_all_users);
    }
    // Every worker gets the same deadline at once rather than one grace after another; what a
    // database that is away does not take stays in the spool. The margin leaves time to log.
    const auto margin = std::min<std::chrono::steady_clock::duration>(
        std::chrono::milliseconds(500), std::chrono::milliseconds(config_.server.shutdown_timeout) / 5);
    for (auto& c : clients_) c.worker->finish_by(deadline - margin);
    clients_.clear();
    retiring_.clear();
    spdlog::info("Server stopped");
}

std::string Daemon::service_status() const {
    std::string text = std::to_string(engineio_.session_count()) + " connections, " + std::to_string(clients_.size()) +
                       " clients, port " + std::to_string(config_.server.port);
    if (!degraded_.empty()) {
        std::vector<std::string> names(degraded_.begin(), degraded_.end());
        text = "degraded: database of " + join(names) + " not reached yet; " + text;
    }
    return text;
}

void Daemon::stop() { network_.mailbox().post([this] { network_.stop(); }); }

void Daemon::on_network(std::function<ops::AdminReply()> work, ops::AdminDone done) {
    network_.mailbox().post([this, work = std::move(work), done = std::move(done)] {
        auto reply = std::make_shared<ops::AdminReply>(work());
        control_.mailbox().post([done, reply] { done(*reply); });
    });
}

void Daemon::configure_logging(const config::ServerConfig& server, std::optional<std::string> level) {
    log::configure({server.log, server.error_log, log::level_from_ilias(level.value_or(server.log_level))});
}

// ---------------------------------------------------------------------------------------------
// Admin commands

void Daemon::status(ops::AdminDone done) {
    const auto uptime =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_).count();
    on_network(
        [this, uptime] {
            std::size_t sockets = 0, rooms = 0, conversations = 0;
            std::string namespaces = "{";
            socketio_.for_each_namespace([&](const net::sio::Namespace& nsp) {
                namespaces += (namespaces.size() > 1 ? "," : "") + chat::json_string(nsp.name()) + ":" +
                              std::to_string(nsp.socket_count());
                sockets += nsp.socket_count();
            });
            namespaces += "}";
            for (const auto& c : clients_) {
                rooms += c.rooms->room_count();
                conversations += c.im->conversation_count();
            }
            const auto sessions = engineio_.session_count();
            const auto websockets = engineio_.websocket_session_count();
            const auto databases = database_report();
            std::string text = "uptime " + std::to_string(uptime) + " s, " + std::to_string(sessions) +
                               " connections (" + std::to_string(websockets) + " websocket, " +
                               std::to_string(sessions - websockets) + " polling), " + std::to_string(sockets) +
                               " sockets, " + std::to_string(rooms) + " rooms, " + std::to_string(conversations) +
                               " conversations";
            std::string json = chat::json_object({{"uptime_seconds", std::to_string(uptime)},
                                                  {"connections", std::to_string(sessions)},
                                                  {"websocket", std::to_string(websockets)},
                                                  {"polling", std::to_string(sessions - websockets)},
                                                  {"sockets_by_namespace", namespaces},
                                                  {"rooms", std::to_string(rooms)},
                                                  {"conversations", std::to_string(conversations)},
                                                  {"databases", databases.json}});
            return ops::AdminReply{0, text + "\n" + databases.text, json};
        },
        std::move(done));
}

void Daemon::stats(ops::AdminDone done) { done({0, metrics_.render(), "{}"}); }

void Daemon::config_show(ops::AdminDone done) { done({0, config::render_config(config_), "{}"}); }

void Daemon::reload(ops::AdminDone done) {
    ops::service::reloading();
    config::Diagnostics diag;
    auto fresh = config::load_config_set(config_.server_path, config_.client_paths, diag);
    if (!diag.ok()) {
        for (const auto& error : diag.errors()) spdlog::error("reload: {}", error);
        spdlog::error("reload failed: the previous configuration stays in effect");
        ops::service::ready("reload failed");
        metrics_.config_reloads("failure").Increment();
        return done({1, "reload failed, the previous configuration stays in effect:\n" + diag.report(), "{}"});
    }
    auto restart = keep_restart_only(config::server_settings(), config_.server, fresh.server, "");
    // Clients come and go with their files; of one that stays, the credentials change live.
    std::vector<config::ClientConfig> clients, added;
    std::vector<std::string> removed;
    for (auto& c : fresh.clients) {
        auto running = std::find_if(config_.clients.begin(), config_.clients.end(),
                                    [&](const auto& r) { return r.name == c.name; });
        if (running == config_.clients.end()) {
            added.push_back(c);
        } else {
            auto changed = keep_restart_only(config::client_settings(), *running, c, c.name + ": ");
            restart.insert(restart.end(), changed.begin(), changed.end());
        }
        clients.push_back(c);
    }
    for (const auto& r : config_.clients)
        if (std::none_of(clients.begin(), clients.end(), [&](const auto& c) { return c.name == r.name; }))
            removed.push_back(r.name);

    try {
        configure_logging(fresh.server);
    } catch (const std::exception& e) {
        spdlog::error("reload: {}; logging unchanged", e.what());
    }
    for (const auto& warning : diag.warnings()) spdlog::warn("reload: {}", warning);
    // Nothing open is closed: sessions and chats take the new values for what comes next.
    const auto& server = fresh.server;
    network_.mailbox().post([this, backend = backend_, clients, removed, engine = engineio_settings(server, metrics_),
                             connect_timeout = std::chrono::milliseconds(server.connect_timeout),
                             room = chat::RoomChatOptions{server.html_escape,
                                                          std::chrono::milliseconds(server.disconnect_grace), &metrics_},
                             im = chat::ImChatOptions{server.html_escape, &metrics_}] {
        for (const auto& name : removed) remove_client(name);
        room_options_ = room;
        im_options_ = im;
        for (const auto& c : clients) {
            if (Client* running = find_client(c.name)) {
                running->config = c;
                backend->update_credentials(c);
            } else {
                spdlog::info("Namespace {} and {}-im added", c.name, c.name);
                add_client(c, {});
            }
        }
        engineio_.reconfigure(engine);
        socketio_.set_connect_timeout(connect_timeout);
        for (auto& c : clients_) {
            c.rooms->set_options(room);
            c.im->set_options(im);
        }
    });
    config_.server = fresh.server;
    config_.clients = clients;
    schedule_deletion_job();
    std::string text = "configuration reloaded";
    if (!added.empty() || !removed.empty()) {
        std::vector<std::string> names;
        for (const auto& c : added) names.push_back(c.name);
        text += "; clients added: " + (names.empty() ? "none" : join(names)) +
                ", removed: " + (removed.empty() ? "none" : join(removed));
    }
    if (!restart.empty()) {
        text += "; these changes need a restart: " + join(restart);
        spdlog::warn("reload: these changes need a restart: {}", join(restart));
    }
    ops::service::ready("reloaded");
    metrics_.config_reloads("success").Increment();
    done({0, text, "{}"});
}

void Daemon::log_reopen(ops::AdminDone done) {
    try {
        configure_logging(config_.server);
        done({0, "log files reopened", "{}"});
    } catch (const std::exception& e) {
        done({1, e.what(), "{}"});
    }
}

void Daemon::log_level(const std::string& level, ops::AdminDone done) {
    if (!known_level(level))
        return done({1, "unknown level \"" + level + "\" (emerg, alert, crit, error, warning, notice, info, debug, silly)",
                     "{}"});
    try {
        configure_logging(config_.server, level);
        done({0, "log level " + level, "{}"});
    } catch (const std::exception& e) {
        done({1, e.what(), "{}"});
    }
}

void Daemon::namespaces(ops::AdminDone done) {
    on_network(
        [this] {
            std::string text, json = "[";
            socketio_.for_each_namespace([&](const net::sio::Namespace& nsp) {
                text += nsp.name() + "  " + std::to_string(nsp.socket_count()) + " sockets\n";
                json += (json.size() > 1 ? "," : "") +
                        chat::json_object({{"name", chat::json_string(nsp.name())},
                                           {"sockets", std::to_string(nsp.socket_count())}});
            });
            return ops::AdminReply{0, text, "{\"namespaces\":" + json + "]}"};
        },
        std::move(done));
}

void Daemon::rooms(const std::string& nsp, ops::AdminDone done) {
    on_network(
        [this, nsp] {
            std::string json = "{";
            for (const auto& c : clients_) {
                const auto& name = c.config.name;
                if (!nsp.empty() && nsp != name && nsp != "/" + name) continue;
                json += (json.size() > 1 ? "," : "") + chat::json_string("/" + name) + ":" + c.rooms->rooms_json();
            }
            json += "}";
            if (json == "{}" && !nsp.empty()) return ops::AdminReply{1, "unknown namespace \"" + nsp + "\"", "{}"};
            return ops::AdminReply{0, json, "{\"rooms\":" + json + "}"};
        },
        std::move(done));
}

void Daemon::connections(const std::string& nsp, ops::AdminDone done) {
    on_network(
        [this, nsp] {
            std::string text, json = "[";
            socketio_.for_each_namespace([&](const net::sio::Namespace& n) {
                if (!nsp.empty() && nsp != n.name() && "/" + nsp != n.name()) return;
                n.for_each_socket([&](const net::sio::Socket& socket) {
                    const auto* user = chat::logged_in(socket);
                    const std::string user_json = user ? std::to_string(user->user_id) : "null";
                    text += n.name() + "  " + socket.id() + "  user " + user_json + "\n";
                    json += (json.size() > 1 ? "," : "") +
                            chat::json_object({{"namespace", chat::json_string(n.name())},
                                               {"socket", chat::json_string(socket.id())},
                                               {"user", user_json}});
                });
            });
            return ops::AdminReply{0, text, "{\"connections\":" + json + "]}"};
        },
        std::move(done));
}

void Daemon::schedule_deletion_job() {
    const auto& server = config_.server;
    metrics_.deletion_enabled().Set(server.deletion_enabled ? 1 : 0);
    if (!server.deletion_enabled) {
        next_deletion_.reset();
        metrics_.deletion_next_run_timestamp_seconds().Set(0);
        return;
    }
    next_deletion_ = retention::next_run(std::chrono::system_clock::now(), server.deletion_time.hour,
                                         server.deletion_time.minute);
    metrics_.deletion_next_run_timestamp_seconds().Set(
        static_cast<double>(std::chrono::system_clock::to_time_t(*next_deletion_)));
    spdlog::info("Clear messages process initialized for {} once a day", config::format_time_of_day(server.deletion_time));
}

void Daemon::purge_now(ops::AdminDone done) { run_deletion_job(std::move(done)); }

// Network loop. Read from the metrics the workers keep up to date: no worker is asked, so the
// answer comes even while one of them waits on a database that does not answer.
Daemon::DatabaseReport Daemon::database_report() {
    DatabaseReport report;
    for (const auto& client : clients_) {
        const auto& c = client.config;
        const bool up = metrics_.db_up(c.name).Value() != 0;
        report.all_up = report.all_up && up;
        const auto count = [](double v) { return std::to_string(static_cast<std::int64_t>(v)); };
        const auto queued = count(metrics_.db_write_queue_depth(c.name).Value());
        const auto spooled = count(metrics_.spooled_messages(c.name).Value());
        const auto errors = count(metrics_.db_errors(c.name).Value());
        const auto reconnects = count(metrics_.db_reconnects(c.name).Value());
        const auto where = db::describe(store::endpoint_of(c)) + "/" + c.db_name;
        report.text += c.name + "  " + (up ? "up" : "AWAY") + "  " + where + "  queued " + queued + ", spooled " +
                       spooled + ", errors " + errors + ", reconnects " + reconnects + "\n";
        report.json += (report.json.size() > 1 ? "," : "") +
                       chat::json_object({{"namespace", chat::json_string(c.name)},
                                          {"database", chat::json_string(where)},
                                          {"up", up ? "true" : "false"},
                                          {"queued_writes", queued},
                                          {"spooled_writes", spooled},
                                          {"errors", errors},
                                          {"reconnects", reconnects}});
    }
    report.json += "]";
    return report;
}

void Daemon::db_status(ops::AdminDone done) {
    on_network(
        [this] {
            auto report = database_report();
            return ops::AdminReply{0, report.text,
                                   std::string("{\"all_up\":") + (report.all_up ? "true" : "false") +
                                       ",\"databases\":" + report.json + "}"};
        },
        std::move(done));
}

void Daemon::run_deletion_job(ops::AdminDone done) {
    const auto& server = config_.server;
    const auto bound = retention::deletion_bound(std::chrono::system_clock::now(), server.deletion_unit, server.deletion_value);
    const auto batch = static_cast<std::size_t>(server.deletion_batch);
    network_.mailbox().post([this, bound, batch, done = std::move(done)] { start_deletion_runs(bound, batch, done); });
}

// Network loop, where the clients live. Clients sharing a database share its purge; every one of
// them forgets the conversations.
void Daemon::start_deletion_runs(std::chrono::system_clock::time_point bound, std::size_t batch, ops::AdminDone done) {
    struct Run {
        std::string database;
        store::DatabaseWorker* worker;
        std::vector<std::string> clients;
        std::string names;
    };
    std::vector<Run> runs;
    for (const auto& client : clients_) {
        const auto& c = client.config;
        const std::string database = c.db_host + ":" + std::to_string(c.db_port) + "/" + c.db_name;
        auto run = std::find_if(runs.begin(), runs.end(), [&](const Run& r) { return r.database == database; });
        if (run == runs.end()) run = runs.insert(runs.end(), Run{database, client.worker.get(), {}, {}});
        run->clients.push_back(c.name);
        run->names += (run->names.empty() ? "" : ", ") + c.name;
    }
    auto remaining = std::make_shared<std::size_t>(runs.size());
    auto summary = std::make_shared<std::string>();
    auto failed = std::make_shared<bool>(false);
    for (auto& run : runs) {
        const std::time_t bound_t = std::chrono::system_clock::to_time_t(bound);
        char when[64];
        std::strftime(when, sizeof when, "%a, %d %b %Y %H:%M:%S GMT", std::gmtime(&bound_t));
        spdlog::info("Start clear process for namespace {} older then {} [{}]", run.names, when,
                     std::chrono::duration_cast<std::chrono::milliseconds>(bound.time_since_epoch()).count());
        // Control loop: one run's line in the summary; the last run answers, failed if any did.
        auto finish = [remaining, summary, failed, done](const std::string& line, bool ok) {
            *summary += line + "\n";
            *failed = *failed || !ok;
            if (--*remaining == 0) done({*failed ? 1 : 0, *summary, "{}"});
        };
        auto fail = [this, names = run.names, finish](const std::string& error) {
            control_.mailbox().post([names, error, finish] {
                spdlog::error("Clear process for namespace {} failed: {}", names, error);
                finish(names + ": failed: " + error, false);
            });
        };
        auto purge = [this, run, bound, batch, fail, finish](db::Connection& db) {
            std::shared_ptr<retention::PurgeCounts> counts;
            try {
                counts = std::make_shared<retention::PurgeCounts>(retention::purge(db, bound, batch));
            } catch (const std::exception& e) {
                return fail(e.what());
            }
            network_.mailbox().post([this, run, counts] {
                for (const auto& name : run.clients)
                    if (Client* client = find_client(name)) client->im->forget_conversations(counts->deleted_conversation_ids);
            });
            control_.mailbox().post([this, run, counts, finish] {
                metrics_.deletion_rows_deleted("chatroom_history").Increment(static_cast<double>(counts->history));
                metrics_.deletion_rows_deleted("osc_messages").Increment(static_cast<double>(counts->osc_messages));
                metrics_.deletion_rows_deleted("osc_conversation").Increment(static_cast<double>(counts->osc_conversations));
                metrics_.deletion_rows_deleted("osc_activity").Increment(static_cast<double>(counts->osc_activity));
                metrics_.deletion_last_success_timestamp_seconds().Set(static_cast<double>(std::time(nullptr)));
                spdlog::info("Clear Messages for namespace {} affected {} rows", run.names, counts->history);
                spdlog::info("Clear OSC-Messages for namespace {} affected {} rows", run.names, counts->osc_messages);
                spdlog::info("Clear OSC-Conversations for namespace {} affected {} rows", run.names, counts->osc_conversations);
                spdlog::info("Clear OSC-Activity for namespace {} affected {} rows", run.names, counts->osc_activity);
                spdlog::info("Clear process for namespace {} finished", run.names);
                finish(run.names + ": " + std::to_string(counts->history) + " messages, " +
                           std::to_string(counts->osc_messages) + " OSC messages, " +
                           std::to_string(counts->osc_conversations) + " conversations, " +
                           std::to_string(counts->osc_activity) + " activity rows deleted",
                       true);
            });
        };
        run.worker->read(purge, [fail] { fail("the database is away; the job runs again at its next time"); });
    }
    if (runs.empty()) control_.mailbox().post([done] { done({0, "no database", "{}"}); });
}

void Daemon::shutdown(ops::AdminDone done) {
    done({0, "shutting down", "{}"});
    stop();
}

}  // namespace ilchat
