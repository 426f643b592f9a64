#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <rapidjson/document.h>

#include "daemon/chat/change.h"
#include "daemon/net/http_message.h"

namespace ilchat::net::sio {
class Socket;
}

namespace ilchat::chat {

// A change as the chat applies it.
struct Applying {
    const Change& change;
    net::sio::Socket* socket;  // the acting socket, when it is connected to this node
    bool own;                  // this node made the change: it writes the database and answers
};

// The order in which one client's changes are applied (docs/cluster.md). On a single node a
// change is applied at once, inside append(); in a cluster it goes to the client's stream and is
// applied when it comes back, in stream order, on every node alike. Network loop.
class ChangeLog {
public:
    // Applies a change to this node's state; `payload` is the array `[kind, args...]`. Returns
    // the answer to the backend request that made the change, if any.
    // `silent`: the state changes, nobody is told (a change read again to rebuild the state).
    using Apply = std::function<std::optional<net::HttpResponse>(const Change&, const rapidjson::Value& payload,
                                                                 bool own, bool silent)>;
    using Reply = std::function<void(net::HttpResponse)>;
    // Takes an encoded change to the cluster, to come back through receive().
    using Publish = std::function<void(std::string encoded)>;

    explicit ChangeLog(Apply apply) : apply_(std::move(apply)) {}

    // Cluster mode: `node` names this node and this run of it (a restarted node is a new one, so
    // that it never takes an earlier run's changes for its own). `runs_jobs` says whether this
    // node holds the lease of the periodic jobs that read the database for everyone.
    void publish_to(std::string node, Publish publish, std::function<bool()> runs_jobs = {});
    bool clustered() const { return static_cast<bool>(publish_); }
    bool runs_periodic_jobs() const { return !runs_jobs_ || runs_jobs_(); }
    const std::string& node() const { return node_; }

    // `payload`: the event as parsed from a socket, when the change carries no payload text.
    // `reply` gets the answer when the change has been applied (at once on a single node).
    void append(Change change, const rapidjson::Value* payload = nullptr, Reply reply = {});
    // A change read from the client's stream, at `position` (its stream entry id); `replay`:
    // read again to rebuild the state after Redis was away.
    void receive(std::string_view position, std::string_view encoded, bool replay = false);
    // Redis away: changes are applied here at once and published when it is back.
    void set_provisional(bool provisional) { provisional_ = provisional; }
    // The stream entry applied last: the state now is the state at this position.
    const std::string& position() const { return position_; }
    // The state was replaced by a snapshot taken at `position`.
    void restored(std::string position) { position_ = std::move(position); }
    // Backend requests of this node waiting for their change to come back.
    std::size_t waiting() const { return replies_.size(); }

private:
    Apply apply_;
    std::string node_;
    Publish publish_;
    std::function<bool()> runs_jobs_;
    std::string position_ = "0";
    bool provisional_ = false;
    std::uint64_t next_reply_ = 1;
    std::unordered_map<std::uint64_t, Reply> replies_;
};

}  // namespace ilchat::chat
