#include "daemon/store/database_worker.h"

#include <errmsg.h>
#include <spdlog/spdlog.h>

namespace ilchat::store {

namespace {

bool connection_lost(unsigned code) {
    return code == CR_SERVER_GONE_ERROR || code == CR_SERVER_LOST || code == CR_CONNECTION_ERROR ||
           code == CR_CONN_HOST_ERROR;
}

}  // namespace

DatabaseWorker::DatabaseWorker(std::string name, db::Endpoint endpoint)
    : name_(std::move(name)), endpoint_(std::move(endpoint)), thread_([this] { run(); }) {}

DatabaseWorker::~DatabaseWorker() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
}

void DatabaseWorker::write(Job job) { post(std::move(job), true); }
void DatabaseWorker::read(Job job) { post(std::move(job), false); }

void DatabaseWorker::post(Job job, bool write) {
    {
        std::lock_guard lock(mutex_);
        jobs_.push_back({std::move(job), write});
    }
    wake_.notify_one();
}

db::Connection& DatabaseWorker::connection() {
    if (!connection_) connection_.emplace(db::Connection::open(endpoint_));
    return *connection_;
}

void DatabaseWorker::run() {
    while (true) {
        std::vector<Job> writes;
        std::optional<Job> read;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
            if (jobs_.empty()) return;  // stopping, and everything queued has run
            if (!jobs_.front().write) {
                read = std::move(jobs_.front().job);
                jobs_.pop_front();
            } else {
                // Consecutive writes only: a read after them must see them committed.
                while (!jobs_.empty() && jobs_.front().write && writes.size() < max_batch) {
                    writes.push_back(std::move(jobs_.front().job));
                    jobs_.pop_front();
                }
            }
        }
        if (read) run_read(*read);
        else run_writes(writes);
    }
}

void DatabaseWorker::run_read(Job& job) {
    // One retry on a fresh connection covers a connection the server dropped while idle.
    for (int attempt = 0; attempt < 2; ++attempt) {
        try {
            job(connection());
            return;
        } catch (const db::Error& e) {
            if (connection_lost(e.code())) connection_.reset();
            if (attempt == 0 && connection_lost(e.code())) continue;
            spdlog::error("Database for {}: {}", name_, e.what());
            return;
        } catch (const std::exception& e) {
            spdlog::error("Database for {}: {}", name_, e.what());
            return;
        }
    }
}

void DatabaseWorker::run_writes(std::vector<Job>& jobs) {
    // Nothing is committed until the end, so after a lost connection the whole batch runs again.
    for (int attempt = 0; attempt < 2; ++attempt) {
        try {
            db::Connection& db = connection();
            db.execute("START TRANSACTION");
            for (auto& job : jobs) {
                db.execute("SAVEPOINT job");
                try {
                    job(db);
                } catch (const db::Error& e) {
                    if (connection_lost(e.code())) throw;
                    db.execute("ROLLBACK TO SAVEPOINT job");
                    spdlog::error("Database for {}: {}", name_, e.what());
                } catch (const std::exception& e) {
                    db.execute("ROLLBACK TO SAVEPOINT job");
                    spdlog::error("Database for {}: {}", name_, e.what());
                }
            }
            db.execute("COMMIT");
            return;
        } catch (const db::Error& e) {
            const bool lost = connection_lost(e.code());
            if (lost) connection_.reset();
            if (attempt == 0 && lost) continue;
            spdlog::error("Database for {}: {} ({} writes not stored)", name_, e.what(), jobs.size());
            return;
        }
    }
}

}  // namespace ilchat::store
