#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/cluster/redis_address.h"
#include "daemon/cluster/redis_link.h"
#include "daemon/store/spool_file.h"

struct event_base;

namespace ilchat::metrics {
class Metrics;
}

namespace ilchat::cluster {

struct ClusterSettings {
    RedisAddress address;
    RedisLink::Password password;
    std::string prefix = "ilchatd";
    std::string node;  // this node's name
    std::chrono::milliseconds node_timeout{5000};
    std::chrono::milliseconds snapshot_interval{60000};
    // Changes waiting in memory for Redis before the rest go to the spool file; "" keeps them
    // all in memory.
    std::size_t queue_limit = 10000;
    std::string spool_path;
};

// The once-per-cluster jobs, each run by the node holding its lease.
enum class Lease { deletion, preferences, snapshot };
inline constexpr std::array<std::string_view, 3> lease_names{"deletion", "preferences", "snapshot"};

// What a node reads from the cluster, in stream order: a change, or a snapshot that replaces a
// client's state. `replay`: read again to rebuild this node's state after Redis was away
// (docs/cluster.md): applied without delivering anything or writing the database.
struct Delivery {
    std::string client;
    std::string position;  // stream entry id (of the snapshot: the last entry it covers)
    std::string text;
    bool snapshot = false;
    bool replay = false;
};

struct Snapshot {
    std::string client;
    std::string position;
    std::string json;
};

// This node's part in the cluster (docs/cluster.md), on the control loop. It appends the changes
// of this node's clients to their Redis streams (<prefix>:<client>:changes), reads every
// client's stream in order and hands what it reads to `deliver`; it reports itself alive, tells
// the others when a node went silent (a "node_gone" change, by whichever node saw it first), and
// takes the leases of the once-per-cluster jobs.
class ClusterNode {
public:
    using Deliver = std::function<void(std::vector<Delivery>)>;
    // Takes the snapshots of every client (on the network loop) and hands them to the callback
    // (on the control loop).
    using TakeSnapshots = std::function<void(std::function<void(std::vector<Snapshot>)>)>;
    // Tells the network loop whether changes must be applied provisionally (Redis away).
    using Provisional = std::function<void(bool)>;

    ClusterNode(event_base* base, ClusterSettings settings, metrics::Metrics& metrics, Deliver deliver,
                TakeSnapshots take_snapshots, Provisional provisional);
    ~ClusterNode();
    ClusterNode(const ClusterNode&) = delete;
    ClusterNode& operator=(const ClusterNode&) = delete;

    // "<name>/<run>": a restarted node is a new one, so it never takes an earlier run's changes
    // for its own.
    const std::string& id() const { return id_; }
    const ClusterSettings& settings() const { return settings_; }

    void start();
    // Reports this node alive, drops silent ones, renews leases, writes snapshots when due: to
    // be called every third of node_timeout (ControlLoop::every).
    void tick();
    // The clients whose streams are read; a new one is read from its beginning.
    void set_clients(const std::vector<std::string>& names);
    void publish(const std::string& client, std::string encoded);
    // A clean stop: the others drop this node's sockets at once instead of after node_timeout;
    // `done` when Redis has it (or could not be told).
    void leave(std::function<void()> done);

    // Any thread.
    bool holds(Lease lease) const { return leases_[static_cast<std::size_t>(lease)].load(); }
    bool in_sync() const { return in_sync_.load(); }

    struct Status {
        bool in_sync = false;
        std::string problem;  // why not, "" when in sync
        std::vector<std::string> nodes;  // alive, this one included
        std::vector<std::string> leases;  // held by this node
        std::uint64_t published = 0;
        std::uint64_t applied = 0;
        std::size_t queued = 0;
    };
    Status status() const;

private:
    std::string stream_of(const std::string& client) const { return settings_.prefix + ":" + client + ":changes"; }
    std::string key(std::string_view what) const { return settings_.prefix + ":" + std::string(what); }
    void flush();
    void writer_lost();
    void refill_from_spool();
    void open_spool();
    std::size_t queued() const;  // waiting to be sent, spool included
    // Loads the snapshots of clients not read yet, then reads on.
    void load_snapshots();
    void read_next();
    void took(const struct redisReply* reply);
    void write_snapshots(std::vector<Snapshot> snapshots);
    void rebuild();
    void node_gone(const std::string& node, bool left);
    void renew(Lease lease);
    void update_sync();

    ClusterSettings settings_;
    std::string id_;
    metrics::Metrics& metrics_;
    Deliver deliver_;
    TakeSnapshots take_snapshots_;
    Provisional provisional_;
    RedisLink writer_;
    RedisLink reader_;
    std::vector<std::string> clients_;
    std::map<std::string, std::string> last_ids_;  // per client stream: the last entry read
    // This node's changes in order: waiting to be appended, and appended but not yet confirmed
    // (sent again after a lost connection; readers drop a number they have seen).
    // Changes keep the node run and number they got first, also through the spool and a restart.
    struct Outgoing {
        std::string client;
        std::string encoded;
        std::string node;
        std::uint64_t number = 0;
    };
    std::deque<Outgoing> queue_;
    std::deque<Outgoing> unconfirmed_;
    std::uint64_t next_number_ = 1;
    // Beyond queue_limit, and while it holds any, changes wait here (fsync'd, replayed at start).
    std::unique_ptr<store::SpoolFile> spool_;
    std::size_t spooled_in_queue_ = 0;  // lines of the spool now in queue_ or unconfirmed_
    // Per client stream and node: the last change number applied.
    std::map<std::pair<std::string, std::string>, std::uint64_t> seen_;
    bool reading_ = false;
    bool caught_up_ = false;
    std::size_t loading_ = 0;  // snapshot reads in flight: the stream is read after them
    // After Redis was away: read again up to here, per client, to rebuild this node's state.
    std::map<std::string, std::string> replay_until_;
    bool rebuild_ = false;  // Redis was away since the last rebuild
    bool provisional_on_ = false;
    std::chrono::steady_clock::time_point last_snapshot_{};
    std::vector<std::string> nodes_;
    std::atomic<bool> in_sync_{false};
    std::array<std::atomic<bool>, lease_names.size()> leases_{};
    std::uint64_t published_ = 0;
    std::uint64_t applied_ = 0;
};

}  // namespace ilchat::cluster
