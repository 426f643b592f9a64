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
#include "daemon/store/room_store.h"
#include "daemon/store/spool_file.h"
#include "daemon/store/write_record.h"

namespace ilchat::metrics {
class Metrics;
}

namespace ilchat::store {

struct WorkerOptions {
    metrics::Metrics* metrics = nullptr;  // database up, errors, reconnects, queue depth, spool, durations
    // The spool file; empty keeps every write in memory (nothing then bounds the queue).
    std::string spool_path;
    // Writes waiting in memory beyond this go to the spool (when there is one).
    std::size_t memory_queue_limit = 10000;
    // At shutdown, how long a database that is away is waited for before giving up.
    std::chrono::milliseconds shutdown_grace{5000};
    // Whether the database answered when the daemon started (the worker reports it down until then).
    bool connected_at_start = true;
};

// A database worker thread (docs/architecture.md, "Threads and loops"): one per ILIAS client, running statements in the order
// they were posted, on its own blocking connection. The network loop only posts jobs and never
// waits; results come back through the network loop's mailbox.
//
// Writes are records (write_record.h). Those that queue up while the worker is busy run together
// in one transaction, each behind a savepoint so that one failing statement does not undo the
// others. When the database is away, or too many writes wait in memory, writes go to the spool
// file (fsync'd) instead, and everything after them too, so the order holds; once the database
// answers, the spool is replayed in order with replay semantics (each row exactly once) and then
// emptied. A spool left by a previous run is replayed first. Reconnects use exponential backoff
// with jitter; chat goes on meanwhile.
class DatabaseWorker {
public:
    using Job = std::function<void(db::Connection&)>;

    DatabaseWorker(std::string name, db::Endpoint endpoint, WorkerOptions options = {});
    ~DatabaseWorker();  // stores what is queued (or leaves it in the spool), then stops
    // Starts stopping without waiting: what is queued is stored, a database that is away is
    // waited for until `give_up_at` (the destructor then only joins).
    void finish_by(std::chrono::steady_clock::time_point give_up_at);
    DatabaseWorker(const DatabaseWorker&) = delete;
    DatabaseWorker& operator=(const DatabaseWorker&) = delete;

    void write(WriteRecord record);
    // A read whose job reports its result (it runs alone, exactly once). When it cannot run (the
    // database is away, or the statement fails) `unavailable` is called instead, on this thread.
    void read(Job job, std::function<void()> unavailable = {});
    // A job that waits for the database however long it is away (a start-up preload).
    void when_connected(Job job);

    const std::string& name() const { return name_; }

private:
    enum class Kind { write, read, patient };
    struct Queued {
        Kind kind;
        std::optional<WriteRecord> record;
        Job job;
        std::function<void()> unavailable;
        bool replay = false;  // a write that may have been stored already
    };
    // What the loop takes in one go: a read, a patient job, or consecutive writes.
    struct Taken {
        std::optional<Queued> job;
        std::vector<WriteRecord> writes;
        bool spool_them = false;
        bool replay = false;
        bool stop = false;
    };

    void post(Queued queued);
    void run();
    Taken take();
    void run_read(Queued& read);
    void run_patient(Queued& job);
    // Stores records in one transaction; false when the database went away (nothing committed,
    // or not known to be).
    bool store(const std::vector<WriteRecord>& records, bool replay);
    bool store_once(const std::vector<WriteRecord>& records, bool replay);  // throws db::Error
    // The same in one transaction without savepoints; false (rolled back) when a statement fails.
    bool store_fast(db::Connection& db, const std::vector<WriteRecord>& records);
    // `uncertain`: the records may be stored already (a batch whose COMMIT got no answer); they
    // replay with checks. The others were never tried and replay as fast as new writes.
    bool spool(const std::vector<WriteRecord>& records, bool uncertain);
    void drain_spool();
    std::vector<WriteRecord> take_queued_writes(bool& replay);
    // The connection failed or went away: count it, say it once per outage.
    void lost(const db::Error& e, std::size_t kept);
    // The database is away: waits with backoff, spooling new writes and refusing reads, until it
    // answers (true) or the shutdown grace is over (false).
    bool wait_for_database();
    void requeue_front(std::vector<WriteRecord> records);
    db::Connection& connection();
    void refuse_queued_reads();
    void update_queue_gauge();  // with mutex_ held
    void update_spool_gauge();  // worker thread, like everything that touches spool_
    std::size_t spooled() const { return spool_ ? spool_->pending() : 0; }

    static constexpr std::size_t max_batch = 500;
    static constexpr std::chrono::milliseconds first_backoff{100};
    static constexpr std::chrono::milliseconds max_backoff{10000};

    void observe(std::string_view op, std::chrono::steady_clock::time_point started);
    void failed();
    void set_up(bool up);

    std::string name_;
    db::Endpoint endpoint_;
    WorkerOptions options_;
    bool ever_connected_ = false;
    bool down_ = false;  // worker thread: the last attempt failed
    std::optional<db::Connection> connection_;
    RoomSchema schema_;  // of the connected database
    std::optional<SpoolFile> spool_;
    static constexpr char uncertain_mark = '?';  // first byte of a spool line that replays with checks
    std::size_t earlier_run_lines_ = 0;            // spool lines a previous run left, not yet stored
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Queued> jobs_;
    std::size_t queued_writes_ = 0;
    std::size_t queued_reads_ = 0;
    bool spool_failing_ = false;    // the last append failed (disk full): writes wait in memory
    bool outage_reported_ = false;  // worker thread
    bool stopping_ = false;
    std::chrono::steady_clock::time_point give_up_at_;  // set when stopping
    std::thread thread_;
};

}  // namespace ilchat::store
