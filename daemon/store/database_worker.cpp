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

void DatabaseWorker::post(Job job) {
    {
        std::lock_guard lock(mutex_);
        jobs_.push_back(std::move(job));
    }
    wake_.notify_one();
}

void DatabaseWorker::run() {
    while (true) {
        Job job;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
            if (jobs_.empty()) return;  // stopping, and everything queued has run
            job = std::move(jobs_.front());
            jobs_.pop_front();
        }
        execute(job);
    }
}

void DatabaseWorker::execute(Job& job) {
    // One retry on a fresh connection covers a connection the server dropped while idle.
    for (int attempt = 0; attempt < 2; ++attempt) {
        try {
            if (!connection_) connection_.emplace(db::Connection::open(endpoint_));
            job(*connection_);
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

}  // namespace ilchat::store
