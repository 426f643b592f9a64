#include "daemon/store/database_worker.h"

#include <algorithm>
#include <random>
#include <utility>

#include <spdlog/spdlog.h>

#include "daemon/metrics/metrics.h"

namespace ilchat::store {

DatabaseWorker::DatabaseWorker(std::string name, db::Endpoint endpoint, WorkerOptions options)
    : name_(std::move(name)), endpoint_(std::move(endpoint)), options_(std::move(options)) {
    if (!options_.spool_path.empty()) {
        try {
            spool_.emplace(options_.spool_path);
            earlier_run_lines_ = spool_->pending();
            if (earlier_run_lines_ > 0)
                spdlog::info("Spool {}: {} writes of an earlier run are stored first", spool_->path(),
                             earlier_run_lines_);
        } catch (const std::exception& e) {
            // Chat works without a spool; only a long outage then costs memory (and a crash, data).
            spdlog::warn("{}; writes for {} wait in memory while the database is away", e.what(), name_);
        }
    }
    down_ = !options_.connected_at_start;
    set_up(options_.connected_at_start);
    {
        std::lock_guard lock(mutex_);
        update_queue_gauge();
    }
    update_spool_gauge();
    thread_ = std::thread([this] { run(); });
}

DatabaseWorker::~DatabaseWorker() {
    bool already_stopping = false;
    {
        std::lock_guard lock(mutex_);
        already_stopping = stopping_;
    }
    if (!already_stopping) finish_by(std::chrono::steady_clock::now() + options_.shutdown_grace);
    thread_.join();
}

void DatabaseWorker::finish_by(std::chrono::steady_clock::time_point give_up_at) {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        give_up_at_ = give_up_at;
    }
    wake_.notify_one();
}

void DatabaseWorker::observe(std::string_view op, std::chrono::steady_clock::time_point started) {
    if (!options_.metrics) return;
    options_.metrics->db_query_duration_seconds(op).Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
}

void DatabaseWorker::failed() {
    if (options_.metrics) options_.metrics->db_errors(name_).Increment();
}

void DatabaseWorker::set_up(bool up) {
    if (options_.metrics) options_.metrics->db_up(name_).Set(up ? 1 : 0);
}

void DatabaseWorker::update_queue_gauge() {
    if (options_.metrics) options_.metrics->db_write_queue_depth(name_).Set(static_cast<double>(queued_writes_));
}

void DatabaseWorker::update_spool_gauge() {
    if (options_.metrics) options_.metrics->spooled_messages(name_).Set(static_cast<double>(spooled()));
}

void DatabaseWorker::write(WriteRecord record) { post({Kind::write, std::move(record), {}, {}, false}); }
void DatabaseWorker::read(Job job, std::function<void()> unavailable) {
    post({Kind::read, std::nullopt, std::move(job), std::move(unavailable), false});
}
void DatabaseWorker::when_connected(Job job) { post({Kind::patient, std::nullopt, std::move(job), {}, false}); }

void DatabaseWorker::post(Queued queued) {
    {
        std::lock_guard lock(mutex_);
        if (queued.kind == Kind::write) ++queued_writes_;
        if (queued.kind == Kind::read) ++queued_reads_;
        jobs_.push_back(std::move(queued));
        update_queue_gauge();
    }
    wake_.notify_one();
}

db::Connection& DatabaseWorker::connection() {
    if (!connection_) {
        auto fresh = db::Connection::open(endpoint_);
        schema_ = detect_room_schema(fresh);
        connection_.emplace(std::move(fresh));
        if (ever_connected_ && options_.metrics) options_.metrics->db_reconnects(name_).Increment();
        ever_connected_ = true;
        set_up(true);
    }
    return *connection_;
}

void DatabaseWorker::lost(const db::Error& e, std::size_t kept) {
    connection_.reset();
    failed();
    set_up(false);
    down_ = true;
    if (outage_reported_) return;
    outage_reported_ = true;
    spdlog::error("Database for {}: {}; keeping {} writes{} and retrying", name_, e.what(), kept,
                  spool_ ? " in the spool" : " in memory");
}

void DatabaseWorker::run() {
    while (true) {
        if (down_ && !wait_for_database()) break;
        // What the spool holds is older than anything in memory.
        if (spool_ && spool_->pending() > 0) {
            drain_spool();
            continue;
        }
        Taken taken = take();
        if (taken.stop) break;
        if (taken.job) {
            if (taken.job->kind == Kind::read) run_read(*taken.job);
            else run_patient(*taken.job);
            continue;
        }
        if (taken.spool_them && spool(taken.writes, taken.replay)) continue;
        if (store(taken.writes, taken.replay)) continue;
        // Whether the COMMIT got through is not known: from now on these replay.
        if (!spool_ || !spool(taken.writes, true)) requeue_front(std::move(taken.writes));
    }

    std::lock_guard lock(mutex_);
    if (spooled() > 0)
        spdlog::warn("Database for {} away at shutdown: {} writes stay in the spool {} for the next start", name_,
                     spooled(), spool_->path());
    if (queued_writes_ > 0)
        spdlog::error("Database for {} away at shutdown: {} writes not stored", name_, queued_writes_);
    for (auto& job : jobs_)
        if (job.unavailable) job.unavailable();
}

DatabaseWorker::Taken DatabaseWorker::take() {
    std::unique_lock lock(mutex_);
    wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
    Taken taken;
    if (jobs_.empty()) {
        taken.stop = true;
        return taken;
    }
    if (jobs_.front().kind != Kind::write) {
        if (jobs_.front().kind == Kind::read) --queued_reads_;
        taken.job = std::move(jobs_.front());
        jobs_.pop_front();
        return taken;
    }
    // Past the memory limit the whole backlog goes to disk in one append.
    taken.spool_them = spool_ && !spool_failing_ && queued_writes_ > options_.memory_queue_limit;
    const std::size_t limit = taken.spool_them ? jobs_.size() : max_batch;
    // Consecutive writes only: a read after them must see them committed.
    while (!jobs_.empty() && jobs_.front().kind == Kind::write && taken.writes.size() < limit) {
        taken.replay = taken.replay || jobs_.front().replay;
        taken.writes.push_back(std::move(*jobs_.front().record));
        jobs_.pop_front();
        --queued_writes_;
    }
    update_queue_gauge();
    return taken;
}

void DatabaseWorker::requeue_front(std::vector<WriteRecord> records) {
    std::lock_guard lock(mutex_);
    for (auto it = records.rbegin(); it != records.rend(); ++it)
        jobs_.push_front({Kind::write, std::move(*it), {}, {}, true});
    queued_writes_ += records.size();
    update_queue_gauge();
}

bool DatabaseWorker::store_fast(db::Connection& db, const std::vector<WriteRecord>& records) {
    db.execute("START TRANSACTION");
    try {
        std::string script;
        for (std::size_t i = 0; i < records.size();) {
            auto hot = script_of(db, schema_, std::span(records).subspan(i));
            if (hot.records > 0) {
                script += hot.sql;
                i += hot.records;
                continue;
            }
            if (!script.empty()) db.execute_script(std::exchange(script, {}));
            apply(db, schema_, records[i++], false);
        }
        if (!script.empty()) db.execute_script(script);
        db.execute("COMMIT");
        return true;
    } catch (const db::Error& e) {
        if (e.server_away() || e.conflict()) throw;
        db.execute("ROLLBACK");
        return false;
    }
}

bool DatabaseWorker::store(const std::vector<WriteRecord>& records, bool replay) {
    // A conflict with another writer (another ilchatd of a cluster) rolled everything back: the
    // whole batch runs again, a few times, before the database counts as away.
    constexpr int attempts = 5;
    for (int attempt = 1;; ++attempt) {
        try {
            return store_once(records, replay);
        } catch (const db::Error& e) {
            if (!e.conflict() || attempt == attempts) {
                // Connecting failed, or the connection went away: the database is away, not the
                // data wrong.
                lost(e, records.size());
                return false;
            }
            try {
                connection().execute("ROLLBACK");
            } catch (const db::Error&) {
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(5 * attempt));
        }
    }
}

bool DatabaseWorker::store_once(const std::vector<WriteRecord>& records, bool replay) {
    const auto started = std::chrono::steady_clock::now();
    db::Connection& db = connection();
    // Chat messages go in scripts, several to a round trip. When a statement fails, the batch
    // runs again one record at a time, each behind a savepoint, so only the one at fault is lost.
    if (!replay && store_fast(db, records)) {
        observe("write_batch", started);
        return true;
    }
    db.execute("START TRANSACTION");
    for (const auto& record : records) {
        db.execute("SAVEPOINT job");
        try {
            apply(db, schema_, record, replay);
        } catch (const db::Error& e) {
            if (e.server_away() || e.conflict()) throw;
            db.execute("ROLLBACK TO SAVEPOINT job");
            failed();
            spdlog::error("Database for {}: {}", name_, e.what());
        }
    }
    db.execute("COMMIT");
    observe("write_batch", started);
    return true;
}

bool DatabaseWorker::spool(const std::vector<WriteRecord>& records, bool uncertain) {
    std::vector<std::string> lines;
    lines.reserve(records.size());
    for (const auto& record : records) lines.push_back((uncertain ? std::string(1, uncertain_mark) : "") + encode(record));
    try {
        spool_->append(lines);
    } catch (const std::exception& e) {
        if (!spool_failing_) spdlog::error("{}; {} writes for {} wait in memory", e.what(), records.size(), name_);
        std::lock_guard lock(mutex_);
        spool_failing_ = true;
        return false;
    }
    {
        std::lock_guard lock(mutex_);
        spool_failing_ = false;
    }
    update_spool_gauge();
    return true;
}

void DatabaseWorker::drain_spool() {
    std::vector<WriteRecord> records;
    const auto lines = spool_->peek(max_batch);
    // Lines of an earlier run may have been stored before it ended; so may those marked.
    bool replay = earlier_run_lines_ > 0;
    for (std::string_view line : lines) {
        if (line.starts_with(uncertain_mark)) {
            replay = true;
            line.remove_prefix(1);
        }
        if (auto record = decode(line)) records.push_back(std::move(*record));
        else spdlog::error("Spool {}: skipping a line that is not a write: {:.80}", spool_->path(), line);
    }
    if (!store(records, replay)) return;
    earlier_run_lines_ -= std::min(earlier_run_lines_, lines.size());
    spool_->consumed();
    try {
        if (spool_->pending() == 0) spool_->clear();
    } catch (const std::exception& e) {
        // Everything in it is stored; replaying it again later only finds the rows there.
        spdlog::error("{}", e.what());
    }
    update_spool_gauge();
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
            if (e.server_away() && attempt == 0) {
                connection_.reset();
                continue;
            }
            if (e.server_away()) lost(e, 0);
            else failed();
            spdlog::error("Database for {}: {}", name_, e.what());
        } catch (const std::exception& e) {
            failed();
            spdlog::error("Database for {}: {}", name_, e.what());
        }
        break;
    }
    if (read.unavailable) read.unavailable();
}

void DatabaseWorker::run_patient(Queued& job) {
    try {
        job.job(connection());
    } catch (const db::Error& e) {
        if (!e.server_away()) {
            failed();
            spdlog::error("Database for {}: {}", name_, e.what());
            return;
        }
        lost(e, 0);
        std::lock_guard lock(mutex_);
        jobs_.push_front(std::move(job));
    }
}

void DatabaseWorker::refuse_queued_reads() {
    std::vector<Queued> reads;
    {
        std::lock_guard lock(mutex_);
        if (queued_reads_ == 0) return;
        auto reads_begin =
            std::stable_partition(jobs_.begin(), jobs_.end(), [](const Queued& q) { return q.kind != Kind::read; });
        std::move(reads_begin, jobs_.end(), std::back_inserter(reads));
        jobs_.erase(reads_begin, jobs_.end());
        queued_reads_ = 0;
    }
    for (auto& read : reads)
        if (read.unavailable) read.unavailable();
}

std::vector<WriteRecord> DatabaseWorker::take_queued_writes(bool& replay) {
    std::lock_guard lock(mutex_);
    std::vector<WriteRecord> writes;
    auto others_end =
        std::stable_partition(jobs_.begin(), jobs_.end(), [](const Queued& q) { return q.kind != Kind::write; });
    for (auto it = others_end; it != jobs_.end(); ++it) {
        replay = replay || it->replay;
        writes.push_back(std::move(*it->record));
    }
    jobs_.erase(others_end, jobs_.end());
    queued_writes_ = 0;
    update_queue_gauge();
    return writes;
}

bool DatabaseWorker::wait_for_database() {
    using Clock = std::chrono::steady_clock;
    constexpr std::chrono::milliseconds stopping_backoff{500};
    auto backoff = first_backoff;
    std::minstd_rand jitter(static_cast<unsigned>(Clock::now().time_since_epoch().count()));
    auto next_attempt = Clock::now();  // a connection dropped while idle is back at once
    bool stop_seen = false;
    while (true) {
        refuse_queued_reads();
        if (spool_) {
            // New writes reach the disk now, not when the database is back: a crash loses none.
            bool replay = false;
            auto writes = take_queued_writes(replay);
            if (!writes.empty() && !spool(writes, replay)) requeue_front(std::move(writes));
        }
        const auto now = Clock::now();
        if (now >= next_attempt) {
            try {
                connection();
                down_ = false;
                if (outage_reported_) {
                    std::lock_guard lock(mutex_);
                    spdlog::info("Database for {} is back; {} writes waiting are stored now", name_,
                                 spooled() + queued_writes_);
                }
                outage_reported_ = false;
                return true;
            } catch (const db::Error& e) {
                lost(e, 0);
            }
            const auto spread = std::chrono::milliseconds(jitter() % (backoff.count() / 2 + 1));
            next_attempt = now + backoff;
            backoff = std::min(backoff * 2, max_backoff) + spread;
        }
        std::unique_lock lock(mutex_);
        if (stopping_) {
            if (Clock::now() >= give_up_at_) return false;
            if (!stop_seen) {
                stop_seen = true;
                // An operator stopping during an outage needs to know why the stop takes time and
                // where what is not stored goes.
                const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(give_up_at_ - Clock::now());
                const std::size_t waiting = spooled() + queued_writes_;
                if (spool_)
                    spdlog::warn("Stopping while the database of {} is away: trying it for up to {} ms more; {} writes "
                                 "not stored by then stay in {} for the next start",
                                 name_, left.count(), waiting, spool_->path());
                else
                    spdlog::warn("Stopping while the database of {} is away: trying it for up to {} ms more; {} writes "
                                 "not stored by then are lost (no spool_dir)",
                                 name_, left.count(), waiting);
                backoff = std::min(backoff, stopping_backoff);
                next_attempt = std::min(next_attempt, Clock::now() + stopping_backoff);
            }
        }
        const auto until = stopping_ ? std::min(next_attempt, give_up_at_) : next_attempt;
        wake_.wait_until(lock, until, [&] {
            return (stopping_ && !stop_seen) || queued_reads_ > 0 || (spool_ && !spool_failing_ && queued_writes_ > 0);
        });
    }
}

}  // namespace ilchat::store
