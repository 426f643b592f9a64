#pragma once

#include <chrono>
#include <memory>
#include <set>
#include <thread>
#include <string>
#include <vector>

#include "common/config/config_set.h"
#include "daemon/chat/backend_api.h"
#include "daemon/chat/im_chat.h"
#include "daemon/chat/room_chat.h"
#include "daemon/net/engineio_server.h"
#include "daemon/net/network_loop.h"
#include "daemon/net/socketio_server.h"
#include "daemon/ops/admin_commands.h"
#include "daemon/ops/admin_socket.h"
#include "daemon/ops/control_loop.h"
#include "daemon/ops/health_http.h"
#include "daemon/metrics/metrics.h"
#include "daemon/store/client_preload.h"
#include "daemon/store/database_worker.h"

namespace ilchat {

// The running server: the network loop with the chat namespaces and the backend API, a database
// worker per client, and the control loop with signals, reload and the admin socket. Built on the
// main thread, which then becomes the network thread in run().
class Daemon final : public ops::AdminTarget {
public:
    Daemon(config::ConfigSet config, std::vector<store::PreloadedClient> preloaded, const net::ListenSpec& listen);
    ~Daemon() override;

    // Serves until a stop (signal or admin `shutdown`); then writes what is queued.
    void run();

    // Admin commands (control loop).
    void status(ops::AdminDone done) override;
    void stats(ops::AdminDone done) override;
    void config_show(ops::AdminDone done) override;
    void reload(ops::AdminDone done) override;
    void log_reopen(ops::AdminDone done) override;
    void log_level(const std::string& level, ops::AdminDone done) override;
    void namespaces(ops::AdminDone done) override;
    void rooms(const std::string& nsp, ops::AdminDone done) override;
    void connections(const std::string& nsp, ops::AdminDone done) override;
    void shutdown(ops::AdminDone done) override;
    void purge_now(ops::AdminDone done) override;
    void db_status(ops::AdminDone done) override;

private:
    struct Client {
        config::ClientConfig config;  // as in effect (the network loop's copy)
        std::unique_ptr<store::DatabaseWorker> worker;
        std::unique_ptr<chat::RoomChat> rooms;
        std::unique_ptr<chat::ImChat> im;
    };
    // Runs `work` on the network loop and hands its reply to `done` on the control loop.
    void on_network(std::function<ops::AdminReply()> work, ops::AdminDone done);
    void stop();
    void open_admin_socket();
    void open_health_http();
    void update_gauges();  // network loop
    // Network loop (and the constructor): the clients and their namespaces.
    void add_client(const config::ClientConfig& config, store::PreloadedClient preload);
    void remove_client(const std::string& name);
    void take_preload(Client& client, store::PreloadedClient preload);
    Client* find_client(const std::string& name);
    std::string service_status() const;  // network loop: sd_notify STATUS=
    struct DatabaseReport {
        std::string text;
        std::string json = "[";  // an array, one object per client
        bool all_up = true;
    };
    DatabaseReport database_report();
    // The deletion job (spec 6.7, D9): each database once per run, on its worker.
    void run_deletion_job(ops::AdminDone done);
    void start_deletion_runs(std::chrono::system_clock::time_point bound, std::size_t batch, ops::AdminDone done);
    void schedule_deletion_job();
    void configure_logging(const config::ServerConfig& server, std::optional<std::string> level = std::nullopt);

    config::ConfigSet config_;  // the control loop's after start (reload replaces it)
    metrics::Metrics metrics_;
    const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
    net::NetworkLoop network_;
    net::sio::Server socketio_;
    std::vector<Client> clients_;  // network loop
    chat::RoomChatOptions room_options_;  // network loop: for clients a reload adds
    chat::ImChatOptions im_options_;
    std::string spool_dir_;  // restart-only settings of the workers, for clients a reload adds
    store::WorkerOptions worker_options_;
    std::vector<std::jthread> retiring_;  // workers of removed clients storing what they hold
    std::shared_ptr<chat::BackendApi> backend_;
    net::eio::Server engineio_;
    ops::ControlLoop control_;
    std::unique_ptr<ops::AdminSocket> admin_socket_;
    std::unique_ptr<ops::HealthHttp> health_http_;
    std::optional<std::chrono::system_clock::time_point> next_deletion_;  // control loop
    std::set<std::string> degraded_;  // network loop: clients whose database was away at start-up
};

}  // namespace ilchat
