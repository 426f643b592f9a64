#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/admin/admin_protocol.h"
#include "common/config/config_set.h"
#include "daemon/chat/backend_api.h"
#include "daemon/chat/client_set.h"
#include "daemon/cluster/cluster_node.h"
#include "daemon/deletion_job.h"
#include "daemon/metrics/metrics.h"
#include "daemon/net/engineio_server.h"
#include "daemon/net/network_loop.h"
#include "daemon/net/socketio_server.h"
#include "daemon/ops/admin_socket.h"
#include "daemon/ops/control_loop.h"
#include "daemon/ops/health_http.h"
#include "daemon/store/client_preload.h"

namespace ilchat {

using AdminDone = std::function<void(admin::Reply)>;

// The running server, wired together (docs/architecture.md): the network loop with the
// Engine.IO/Socket.IO endpoint, the chat namespaces of every client and the backend API; a
// database worker per client; the control loop with signals, reload, the deletion job, the admin
// socket and /metrics. Built on the main thread, which then becomes the network thread in run().
class Daemon final {
public:
    Daemon(config::ConfigSet config, std::vector<store::PreloadedClient> preloaded, const net::ListenSpec& listen);
    ~Daemon();

    // Serves until a stop (signal or admin `shutdown`); then writes what is queued.
    void run();

    // What the admin commands (daemon/admin_handlers.cpp) act on. Control loop unless said.
    void reload(AdminDone done);
    void stop();
    // Throws std::runtime_error when a log file cannot be opened.
    void configure_logging(const config::ServerConfig& server, std::optional<std::string> level = std::nullopt);
    // Runs `work` on the network loop and hands its reply to `done` on the control loop.
    void on_network(std::function<admin::Reply()> work, AdminDone done);
    const config::ConfigSet& config() const { return config_; }
    std::chrono::steady_clock::duration uptime() const { return std::chrono::steady_clock::now() - started_; }
    metrics::Metrics& metrics() { return metrics_; }
    DeletionJob& deletion_job() { return deletion_; }
    // Network loop.
    net::eio::Server& engineio() { return engineio_; }
    net::sio::Server& socketio() { return socketio_; }
    chat::ClientSet& clients() { return clients_; }
    // Control loop; nullptr for a single node.
    cluster::ClusterNode* cluster() { return cluster_.get(); }

private:
    void open_admin_socket();
    void open_health_http();
    void join_cluster();
    void update_gauges();                 // network loop
    std::string service_status() const;  // network loop: sd_notify STATUS=
    void shut_down();                     // after the network loop ended

    config::ConfigSet config_;  // the control loop's after start (reload replaces it)
    metrics::Metrics metrics_;
    const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
    net::NetworkLoop network_;
    net::sio::Server socketio_;
    chat::BackendApi backend_;
    chat::ClientSet clients_;
    net::eio::Server engineio_;
    ops::ControlLoop control_;
    DeletionJob deletion_;
    std::unique_ptr<cluster::ClusterNode> cluster_;
    std::unique_ptr<ops::AdminSocket> admin_socket_;
    std::unique_ptr<ops::HealthHttp> health_http_;
};

}  // namespace ilchat
