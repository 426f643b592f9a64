#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/db/connection.h"

namespace ilchat::ops {
class Metrics;
}

namespace ilchat::store {

// A database worker thread (DESIGN.md): one per ILIAS database, running statements in the order
// they were posted, on its own blocking connection. The network loop only posts jobs and never
// waits; results come back through the network loop's mailbox.
//
// Writes that queue up while the worker is busy run together in one transaction (one commit
// instead of one per message), each behind a savepoint so that one failing statement does not
// undo the others. When the database is away (refused, lost, unreachable), the batch is kept and
// retried with exponential backoff and jitter while new writes queue up behind it; chat goes on.
// On shutdown the worker keeps trying for `shutdown_grace`, then reports what it could not write.
class DatabaseWorker {
public:
    using Job = std::function<void(db::Connection&)>;

    // `metrics` (optional): database up, errors, reconnects, queue depth and durations, labelled
    // with `name`.
    DatabaseWorker(std::string name, db::Endpoint endpoint, ops::Metrics* metrics = nullptr);
    ~DatabaseWorker();  // runs what is queued, then stops
    DatabaseWorker(const DatabaseWorker&) = delete;
    DatabaseWorker& operator=(const DatabaseWorker&) = delete;

    // A write: may share a transaction with other writes; must only touch the database.
    void write(Job job);
    // A read whose job reports its result (it runs alone, exactly once). When it cannot run (the
    // database is away, or the statement fails) `unavailable` is called instead, on this thread.
    void read(Job job, std::function<void()> unavailable = {});
    const std::string& name() const { return name_; }

private:
    struct Queued {
        Job job;
        bool write;
        std::function<void()> unavailable;
    };
    void post(Queued queued);
    void run();
    void run_read(Queued& read);
    void run_writes(std::vector<Job>& jobs);
    db::Connection& connection();

    // While the database is away: reads cannot wait behind the kept writes, they answer at once.
    void refuse_queued_reads();
    // Waits before the next attempt; false once stopping and past the shutdown grace.
    bool wait_before_retry(std::chrono::milliseconds delay);

    static constexpr std::size_t max_batch = 500;
    static constexpr std::chrono::milliseconds first_backoff{100};
    static constexpr std::chrono::milliseconds max_backoff{10000};
    static constexpr std::chrono::seconds shutdown_grace{5};

    void observe(std::string_view op, std::chrono::steady_clock::time_point started);
    void failed();

    std::string name_;
    db::Endpoint endpoint_;
    ops::Metrics* metrics_;
    bool ever_connected_ = false;
    std::optional<db::Connection> connection_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Queued> jobs_;
    bool stopping_ = false;
    std::chrono::steady_clock::time_point give_up_at_;  // set when stopping
    std::thread thread_;
};

}  // namespace ilchat::store
