#include "daemon/store/database_worker.h"

#include <algorithm>
#include <random>

#include <errmsg.h>
#include <spdlog/spdlog.h>

#include "daemon/ops/metrics.h"

namespace ilchat::store {

namespace {

bool connection_lost(unsigned code) {
    return code == CR_SERVER_GONE_ERROR || code == CR_SERVER_LOST || code == CR_CONNECTION_ERROR ||
           code == CR_CONN_HOST_ERROR;
}

}  // namespace

DatabaseWorker::DatabaseWorker(std::string name, db::Endpoint endpoint, ops::Metrics* metrics)
    : name_(std::move(name)), endpoint_(std::move(endpoint)), metrics_(metrics), thread_([this] { run(); }) {
    if (metrics_) metrics_->db_up(name_).Set(1);  // start-up has just connected
}

void DatabaseWorker::observe(std::string_view op, std::chrono::steady_clock::time_point started) {
    if (!metrics_) return;
    metrics_->db_query_duration_seconds(op).Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
}

void DatabaseWorker::failed() {
    if (metrics_) metrics_->db_errors(name_).Increment();
}

DatabaseWorker::~DatabaseWorker() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        give_up_at_ = std::chrono::steady_clock::now() + shutdown_grace;
    }
    wake_.notify_one();
    thread_.join();
}

void DatabaseWorker::write(Job job) { post({std::move(job), true, {}}); }
void DatabaseWorker::read(Job job, std::function<void()> unavailable) {
    post({std::move(job), false, std::move(unavailable)});
}

void DatabaseWorker::post(Queued queued) {
    {
        std::lock_guard lock(mutex_);
        jobs_.push_back(std::move(queued));
        if (metrics_) metrics_->db_write_queue_depth(name_).Set(static_cast<double>(jobs_.size()));
    }
    wake_.notify_one();
}

db::Connection& DatabaseWorker::connection() {
    if (!connection_) {
        try {
            connection_.emplace(db::Connection::open(endpoint_));
        } catch (const db::Error&) {
            if (metrics_) metrics_->db_up(name_).Set(0);
            throw;
        }
        if (metrics_) {
            metrics_->db_up(name_).Set(1);
            if (ever_connected_) metrics_->db_reconnects(name_).Increment();
        }
        ever_connected_ = true;
    }
    return *connection_;
}

void DatabaseWorker::run() {
    while (true) {
        std::vector<Job> writes;
        std::optional<Queued> read;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
            if (jobs_.empty()) return;  // stopping, and everything queued has run
            if (metrics_) metrics_->db_write_queue_depth(name_).Set(0);
            if (!jobs_.front().write) {
                read = std::move(jobs_.front());
                jobs_.pop_front();
            } else {
                // Consecutive writes only: a read after them must see them committed.
                while (!jobs_.empty() && jobs_.front().write && writes.size() < max_batch) {
                    writes.push_back(std::move(jobs_.front().job));
                    jobs_.pop_front();
                }
            }
            if (metrics_) metrics_->db_write_queue_depth(name_).Set(static_cast<double>(jobs_.size()));
        }
        if (read) run_read(*read);
        else run_writes(writes);
    }
}

void DatabaseWorker::run_read(Queued& read) {
    const auto started = std::chrono::steady_clock::now();
    // One retry on a fresh connection covers a connection the server dropped while idle.
    for (int attempt = 0; attempt < 2; ++attempt) {
        try {
            read.job(connection());
            observe("read", started);
            return;
        } catch (const db::Error& e) {
            if (connection_lost(e.code())) connection_.reset();
            if (attempt == 0 && connection_lost(e.code())) continue;
            failed();
            spdlog::error("Database for {}: {}", name_, e.what());
        } catch (const std::exception& e) {
            failed();
            spdlog::error("Database for {}: {}", name_, e.what());
        }
        break;
    }
    if (read.unavailable) read.unavailable();
}

void DatabaseWorker::refuse_queued_reads() {
    std::vector<Queued> reads;
    {
        std::lock_guard lock(mutex_);
        auto writes_end = std::stable_partition(jobs_.begin(), jobs_.end(), [](const Queued& q) { return q.write; });
        std::move(writes_end, jobs_.end(), std::back_inserter(reads));
        jobs_.erase(writes_end, jobs_.end());
    }
    for (auto& read : reads)
        if (read.unavailable) read.unavailable();
}

bool DatabaseWorker::wait_before_retry(std::chrono::milliseconds delay) {
    std::unique_lock lock(mutex_);
    if (!stopping_) wake_.wait_for(lock, delay, [this] { return stopping_; });
    if (!stopping_) return true;
    if (std::chrono::steady_clock::now() >= give_up_at_) return false;
    lock.unlock();
    std::this_thread::sleep_for(std::min(delay, first_backoff * 5));
    return true;
}

void DatabaseWorker::run_writes(std::vector<Job>& jobs) {
    const auto started = std::chrono::steady_clock::now();
    auto backoff = first_backoff;
    bool reported = false;
    std::minstd_rand jitter(static_cast<unsigned>(started.time_since_epoch().count()));
    // Nothing is committed until the end, so after a lost connection the whole batch runs again.
    while (true) {
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
                    failed();
                    spdlog::error("Database for {}: {}", name_, e.what());
                } catch (const std::exception& e) {
                    db.execute("ROLLBACK TO SAVEPOINT job");
                    failed();
                    spdlog::error("Database for {}: {}", name_, e.what());
                }
            }
            db.execute("COMMIT");
            observe("write_batch", started);
            if (reported) spdlog::info("Database for {} is back; {} queued writes stored", name_, jobs.size());
            return;
        } catch (const db::Error& e) {
            // Connecting failed, or the connection went away: the database is away, not the data wrong.
            connection_.reset();
            failed();
            if (metrics_) metrics_->db_up(name_).Set(0);
            if (!reported) {
                spdlog::error("Database for {}: {}; keeping {} writes and retrying", name_, e.what(), jobs.size());
                reported = true;
            }
            refuse_queued_reads();
            if (!wait_before_retry(backoff)) {
                spdlog::error("Database for {} still away at shutdown: {} writes not stored", name_, jobs.size());
                return;
            }
            const auto spread = std::chrono::milliseconds(jitter() % (backoff.count() / 2 + 1));
            backoff = std::min(backoff * 2, max_backoff) + spread;
        }
    }
}

}  // namespace ilchat::store
