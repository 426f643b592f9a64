#include "daemon/daemon.h"

#include <atomic>
#include <fstream>
#include <future>
#include <unistd.h>
#include <grp.h>

#include <spdlog/spdlog.h>

#include "common/config/reload_plan.h"
#include "common/log/logging.h"
#include "daemon/admin_handlers.h"
#include "daemon/ops/service_notifier.h"
#include "daemon/ops/shutdown_deadline.h"

namespace ilchat {

namespace {

// cluster.node, or this host's name up to its first dot: session ids and the balancer's
// routing carry it (docs/cluster.md, "Stickiness").
std::string cluster_node_name(const config::ServerConfig& server) {
    if (!server.cluster_node.empty()) return server.cluster_node;
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    std::string name(host);
    return name.substr(0, name.find('.'));
}

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
    if (!server.cluster_redis.empty()) settings.sid_prefix = cluster_node_name(server) + ".";
    return settings;
}

chat::ClientSet::Options chat_options(const config::ServerConfig& server, metrics::Metrics& metrics) {
    return {{server.html_escape, std::chrono::milliseconds(server.disconnect_grace), &metrics},
            {server.html_escape, &metrics}};
}

chat::ClientSet::WorkerSettings worker_settings(const config::ServerConfig& server, metrics::Metrics& metrics) {
    chat::ClientSet::WorkerSettings settings{server.spool_dir, {}, server.cluster_redis.empty()};
    settings.worker.metrics = &metrics;
    settings.worker.memory_queue_limit = static_cast<std::size_t>(server.write_queue_limit);
    return settings;
}

std::string json_names(const std::vector<std::string>& names) {
    std::string json = "[";
    for (const auto& name : names) json += (json.size() > 1 ? "," : "") + text::json_string(name);
    return json + "]";
}

}  // namespace

Daemon::Daemon(config::ConfigSet config, std::vector<store::PreloadedClient> preloaded, const net::ListenSpec& listen)
    : config_(std::move(config)),
      network_(listen),
      socketio_(network_.timers(), std::chrono::milliseconds(config_.server.connect_timeout), &metrics_),
      backend_({}, &metrics_),
      clients_(network_, socketio_, backend_, chat_options(config_.server, metrics_),
               worker_settings(config_.server, metrics_), metrics_),
      engineio_(network_.timers(), engineio_settings(config_.server, metrics_), socketio_),
      control_({.graceful_stop = [this] { stop(); },
                .reload = [this] {
                    reload([](const admin::Reply& reply) {
                        if (reply.result == admin::ok) spdlog::info("{}", reply.text);
                    });
                }}),
      deletion_(network_, control_, clients_, metrics_) {
    const auto& server = config_.server;
    for (std::size_t i = 0; i < config_.clients.size(); ++i) clients_.add(config_.clients[i], std::move(preloaded[i]));
    backend_.mount(network_.router(), server.sub_directory);
    net::eio::mount(network_.router(), config::socket_io_path(server) + "/", engineio_);
    // The room client of ILIAS asks for <sub_directory>/ itself (docs/decisions.md D12).
    if (!server.sub_directory.empty()) net::eio::mount(network_.router(), server.sub_directory + "/", engineio_);

    if (!server.cluster_redis.empty()) join_cluster();
    open_admin_socket();
    open_health_http();
    // Series that alerts compare with increase() exist from the start, at 0.
    for (const char* result : {"success", "failure"}) metrics_.config_reloads(result);
    for (const char* result : {"success", "failure"}) metrics_.admin_commands(result);
}

Daemon::~Daemon() = default;

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
                handle_admin_request(*this, request, [this, reply](const admin::Reply& answer) {
                    metrics_.admin_commands(answer.result == admin::ok ? "success" : "failure").Increment();
                    reply(admin::render_reply(answer));
                });
            });
        spdlog::info("Admin socket: {}", server.admin_socket);
    } catch (const std::exception& e) {
        // The chat matters more than the admin socket: serve without it.
        spdlog::warn("{}; running without an admin socket", e.what());
    }
}

void Daemon::join_cluster() {
    const auto& server = config_.server;
    cluster::ClusterSettings settings;
    std::string problem;
    settings.address = *cluster::parse_redis_address(server.cluster_redis, problem);  // checked when loaded
    if (!server.cluster_password_file.empty())
        settings.password = [file = server.cluster_password_file] {
            // Read at each connection: a new password reaches the next one without a restart.
            std::ifstream in(file);
            std::string password;
            if (!in || !std::getline(in, password)) spdlog::error("Cluster: cannot read cluster.password_file {}", file);
            return password;
        };
    settings.prefix = server.cluster_prefix;
    settings.node = cluster_node_name(server);
    settings.node_timeout = std::chrono::milliseconds(server.cluster_node_timeout);
    settings.snapshot_interval = std::chrono::milliseconds(server.cluster_snapshot_interval);
    settings.queue_limit = static_cast<std::size_t>(server.write_queue_limit);
    if (!server.spool_dir.empty()) settings.spool_path = server.spool_dir + "/cluster.spool";
    cluster_ = std::make_unique<cluster::ClusterNode>(
        control_.base(), std::move(settings), metrics_,
        [this](std::vector<cluster::Delivery> batch) {
            network_.mailbox().post([this, batch = std::move(batch)] {
                for (const auto& d : batch) {
                    auto* c = clients_.find(d.client);
                    if (!c) continue;
                    if (!d.snapshot) c->log->receive(d.position, d.text, d.replay);
                    else if (!clients_.restore(d.client, d.text))
                        spdlog::error("Cluster: the snapshot of {} could not be read; catching up from it skipped", d.client);
                }
            });
        },
        [this](std::function<void(std::vector<cluster::Snapshot>)> done) {
            network_.mailbox().post([this, done = std::move(done)] {
                std::vector<cluster::Snapshot> snapshots;
                for (const auto& c : clients_.clients())
                    if (auto s = clients_.snapshot(c.config.name))
                        snapshots.push_back({c.config.name, std::move(s->position), std::move(s->json)});
                control_.mailbox().post([done, snapshots = std::move(snapshots)]() mutable { done(std::move(snapshots)); });
            });
        },
        [this](bool provisional) {
            network_.mailbox().post([this, provisional] { clients_.set_provisional(provisional); });
        });
    clients_.join_cluster(
        cluster_->id(),
        [this](const std::string& client, std::string encoded) {
            control_.mailbox().post(
                [this, client, encoded = std::move(encoded)]() mutable { cluster_->publish(client, std::move(encoded)); });
        },
        [node = cluster_.get()] { return node->holds(cluster::Lease::preferences); });
    deletion_.run_only_if([node = cluster_.get()] { return node->holds(cluster::Lease::deletion); });
    std::vector<std::string> names;
    for (const auto& c : config_.clients) names.push_back(c.name);
    cluster_->set_clients(names);
    cluster_->start();
    control_.every(std::chrono::milliseconds(server.cluster_node_timeout / 3), [this] { cluster_->tick(); });
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
                                      // docs/cluster.md: a node out of sync must not get new users.
                                      if (cluster_ && !cluster_->in_sync())
                                          return "cluster: " + cluster_->status().problem;
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
    for (const auto& c : clients_.clients()) {
        metrics_.rooms("/" + c.config.name).Set(static_cast<double>(c.rooms->room_count()));
        metrics_.conversations("/" + c.config.name + "-im").Set(static_cast<double>(c.im->conversation_count()));
    }
}

std::string Daemon::service_status() const {
    std::string text = std::to_string(engineio_.session_count()) + " connections, " + std::to_string(clients_.size()) +
                       " clients, port " + std::to_string(config_.server.port);
    if (const auto& degraded = clients_.degraded(); !degraded.empty())
        text = "degraded: database of " + config::join_names({degraded.begin(), degraded.end()}) +
               " not reached yet; " + text;
    return text;
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
        network_.mailbox().post([this] { ops::service::status(service_status()); });
    });
    deletion_.configure(config_.server);
    control_.every(std::chrono::seconds(15), [this] { deletion_.run_if_due(); });
    control_.start();

    const auto& server = config_.server;
    spdlog::info("The Server is Ready to use! Listening on: {}://{}:{}", server.protocol, server.address, server.port);
    ops::service::ready(service_status());
    network_.run();
    shut_down();
}

void Daemon::shut_down() {
    ops::service::stopping();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(config_.server.shutdown_timeout);
    if (cluster_) {
        // The others drop this node's sockets at once and take over its graces and leases; the
        // sockets closing below are no news to them.
        clients_.leave_cluster();
        auto left = std::make_shared<std::promise<void>>();
        auto done = left->get_future();
        control_.mailbox().post([this, left] { cluster_->leave([left] { left->set_value(); }); });
        done.wait_for(std::chrono::seconds(1));
    }
    // What lives on the control loop goes after the loop, not under it.
    control_.stop();
    admin_socket_.reset();
    health_http_.reset();
    // The control loop took its signal handling with it: until the end of the shutdown, a second
    // stop signal or the deadline passing ends the process.
    ops::ShutdownDeadline last_resort(deadline);

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

    // The margin leaves time to log what a database that is away did not take.
    const auto margin = std::min<std::chrono::steady_clock::duration>(
        std::chrono::milliseconds(500), std::chrono::milliseconds(config_.server.shutdown_timeout) / 5);
    clients_.finish_by(deadline - margin);
    spdlog::info("Server stopped");
}

void Daemon::stop() { network_.mailbox().post([this] { network_.stop(); }); }

void Daemon::on_network(std::function<admin::Reply()> work, AdminDone done) {
    network_.mailbox().post([this, work = std::move(work), done = std::move(done)] {
        auto reply = std::make_shared<admin::Reply>(work());
        control_.mailbox().post([done, reply] { done(*reply); });
    });
}

void Daemon::configure_logging(const config::ServerConfig& server, std::optional<std::string> level) {
    log::configure({server.log, server.error_log, log::level_from_ilias(level.value_or(server.log_level))});
}

void Daemon::reload(AdminDone done) {
    ops::service::reloading();
    config::Diagnostics diag;
    auto fresh = config::load_config_set(config_.server_path, config_.client_paths, diag);
    if (!diag.ok()) {
        for (const auto& error : diag.errors()) spdlog::error("reload: {}", error);
        spdlog::error("reload failed: the previous configuration stays in effect");
        ops::service::ready("reload failed");
        metrics_.config_reloads("failure").Increment();
        return done({admin::failed, "reload failed, the previous configuration stays in effect:\n" + diag.report(),
                     "{\"reloaded\":false,\"errors\":" + json_names(diag.errors()) + "}"});
    }
    const auto plan = config::plan_reload(config_, fresh);
    try {
        configure_logging(fresh.server);
    } catch (const std::exception& e) {
        spdlog::error("reload: {}; logging unchanged", e.what());
    }
    for (const auto& warning : diag.warnings()) spdlog::warn("reload: {}", warning);
    // Nothing open is closed: sessions and chats take the new values for what comes next.
    const auto& server = fresh.server;
    network_.mailbox().post([this, clients = fresh.clients, engine = engineio_settings(server, metrics_),
                             connect_timeout = std::chrono::milliseconds(server.connect_timeout),
                             options = chat_options(server, metrics_)] {
        clients_.reconfigure(clients, options);
        engineio_.reconfigure(engine);
        socketio_.set_connect_timeout(connect_timeout);
    });
    config_.server = fresh.server;
    config_.clients = fresh.clients;
    deletion_.configure(config_.server);
    if (cluster_) {
        // After the network loop has the new clients (posted above): what is read for them finds them.
        std::vector<std::string> names;
        for (const auto& c : config_.clients) names.push_back(c.name);
        cluster_->set_clients(names);
    }
    std::string text = "configuration reloaded";
    if (!plan.added.empty() || !plan.removed.empty())
        text += "; clients added: " + (plan.added.empty() ? "none" : config::join_names(plan.added)) +
                ", removed: " + (plan.removed.empty() ? "none" : config::join_names(plan.removed));
    if (!plan.restart_needed.empty()) {
        text += "; these changes need a restart: " + config::join_names(plan.restart_needed);
        spdlog::warn("reload: these changes need a restart: {}", config::join_names(plan.restart_needed));
    }
    ops::service::ready("reloaded");
    metrics_.config_reloads("success").Increment();
    done({admin::ok, text,
          "{\"reloaded\":true,\"clients_added\":" + json_names(plan.added) + ",\"clients_removed\":" +
              json_names(plan.removed) + ",\"restart_needed\":" + json_names(plan.restart_needed) +
              ",\"warnings\":" + json_names(diag.warnings()) + "}"});
}

}  // namespace ilchat
