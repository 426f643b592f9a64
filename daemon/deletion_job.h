#pragma once

#include <chrono>
#include <functional>
#include <optional>

#include "common/admin/admin_protocol.h"
#include "common/config/server_config.h"
#include "daemon/chat/client_set.h"
#include "daemon/metrics/metrics.h"
#include "daemon/net/network_loop.h"
#include "daemon/ops/control_loop.h"

namespace ilchat {

// The daily message-deletion job (docs/protocol.md "SQL", docs/decisions.md D9): each database
// once per run however many clients share it, on a worker of one of them; every client forgets
// the deleted conversations. Its schedule and results are in the metrics. Control loop.
class DeletionJob {
public:
    DeletionJob(net::NetworkLoop& network, ops::ControlLoop& control, chat::ClientSet& clients,
                metrics::Metrics& metrics);

    // The period and the time of day from server.cfg (at start and on each reload).
    void configure(const config::ServerConfig& server);
    // Runs the job when its time has come (called every few seconds), and in a cluster only on
    // the node where `holds_lease` says so; an admin purge-now runs wherever it is asked.
    void run_if_due();
    void run_only_if(std::function<bool()> holds_lease) { holds_lease_ = std::move(holds_lease); }
    // Runs it now; `done` gets one line per database, failed if any database failed.
    void run(std::function<void(admin::Reply)> done);

private:
    void start_runs(std::chrono::system_clock::time_point bound, std::size_t batch,
                    std::function<void(admin::Reply)> done);  // network loop

    net::NetworkLoop& network_;
    ops::ControlLoop& control_;
    chat::ClientSet& clients_;
    metrics::Metrics& metrics_;
    config::ServerConfig server_;
    std::optional<std::chrono::system_clock::time_point> next_;
    std::function<bool()> holds_lease_;
};

}  // namespace ilchat
