#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "common/db/connection.h"

namespace ilchat::store {

// A database worker thread (DESIGN.md): one per ILIAS database, running statements in the order
// they were posted, on its own blocking connection. The network loop only posts jobs and never
// waits; results come back through the network loop's mailbox.
class DatabaseWorker {
public:
    using Job = std::function<void(db::Connection&)>;

    DatabaseWorker(std::string name, db::Endpoint endpoint);
    ~DatabaseWorker();  // runs what is queued, then stops
    DatabaseWorker(const DatabaseWorker&) = delete;
    DatabaseWorker& operator=(const DatabaseWorker&) = delete;

    void post(Job job);
    const std::string& name() const { return name_; }

private:
    void run();
    void execute(Job& job);

    std::string name_;
    db::Endpoint endpoint_;
    std::optional<db::Connection> connection_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Job> jobs_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace ilchat::store
