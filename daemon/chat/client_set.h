#pragma once

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/config/client_config.h"
#include "daemon/chat/backend_api.h"
#include "daemon/chat/change_log.h"
#include "daemon/chat/im_chat.h"
#include "daemon/chat/room_chat.h"
#include "daemon/net/network_loop.h"
#include "daemon/net/socketio_server.h"
#include "daemon/store/client_preload.h"
#include "daemon/store/database_worker.h"

namespace ilchat::chat {

// The ILIAS clients being served (one per client.cfg): each with its database worker, its room
// namespace `/<name>` and On-Screen Chat namespace `/<name>-im`, and its backend credentials.
// Network loop, except the constructor.
class ClientSet {
public:
    struct Client {
        config::ClientConfig config;  // as in effect
        std::unique_ptr<store::DatabaseWorker> worker;
        std::unique_ptr<ChangeLog> log;  // before the chats, which append to it
        std::unique_ptr<RoomChat> rooms;
        std::unique_ptr<ImChat> im;
    };
    struct Options {
        RoomChatOptions rooms;
        ImChatOptions im;
    };
    // Restart-only settings of the workers: the same for clients a reload adds.
    struct WorkerSettings {
        std::string spool_dir;
        store::WorkerOptions worker;
        // No other ilchatd serves these clients: users still in chatroom_users at start-up and
        // stop are this server's to move out. Not so in a cluster (docs/cluster.md).
        bool sole_server = true;
    };
    // Appends an encoded change of `client` to the cluster (called on the network loop).
    using Publish = std::function<void(const std::string& client, std::string encoded)>;

    ClientSet(net::NetworkLoop& network, net::sio::Server& socketio, BackendApi& backend, Options options,
              WorkerSettings workers, metrics::Metrics& metrics);
    ~ClientSet();
    ClientSet(const ClientSet&) = delete;
    ClientSet& operator=(const ClientSet&) = delete;

    // A client whose database did not answer at start-up (`preload.connected` false), or one a
    // reload added, serves live chat at once and learns its rooms and conversations when its
    // database answers.
    void add(const config::ClientConfig& config, store::PreloadedClient preload);
    // Its sockets are told (Engine.IO sessions stay for their other namespaces), its users leave
    // chatroom_users, and its worker stores what it holds on a thread of its own, so that the
    // loop does not wait for a slow database.
    void remove(const std::string& name);
    // A reload: clients not in `configs` go, new ones come, the others take new credentials;
    // every chat takes the new options for what comes next.
    void reconfigure(const std::vector<config::ClientConfig>& configs, Options options);
    // Stopping: the chats end, users still in chatroom_users move to chatroom_sessions after what
    // is queued, and every worker stores what it holds until `deadline`.
    void finish_by(std::chrono::steady_clock::time_point deadline);
    // Cluster mode, for every client now and to come: changes go to the cluster as node `node`;
    // `runs_jobs` says whether this node reads the preferences for all.
    void join_cluster(std::string node, Publish publish, std::function<bool()> runs_jobs);
    // Stopping in a cluster: the changes of closing sockets are not published any more; the
    // other nodes learn that this node is gone instead.
    void leave_cluster();
    // Cluster: a client's whole chat state with the stream position it is at (docs/cluster.md,
    // "Snapshots and catch-up"), and the state replaced by such a snapshot. Empty / false for a
    // client not served here.
    struct Snapshot {
        std::string position;
        std::string json;
    };
    std::optional<Snapshot> snapshot(const std::string& client) const;
    bool restore(const std::string& client, std::string_view json);
    // Cluster, Redis away or back: every client applies its changes at once, or through Redis.
    void set_provisional(bool provisional);

    Client* find(const std::string& name);
    const std::vector<Client>& clients() const { return clients_; }
    std::size_t size() const { return clients_.size(); }
    // Clients whose database has not answered since start-up.
    const std::set<std::string>& degraded() const { return degraded_; }

private:
    void take_preload(Client& client, store::PreloadedClient preload);
    std::optional<net::HttpResponse> apply(const std::string& client, const Change& change,
                                           const rapidjson::Value& payload, bool own, bool silent);

    net::NetworkLoop& network_;
    net::sio::Server& socketio_;
    BackendApi& backend_;
    Options options_;
    WorkerSettings workers_;
    metrics::Metrics& metrics_;
    std::vector<Client> clients_;
    std::vector<std::jthread> retiring_;  // workers of removed clients storing what they hold
    std::set<std::string> degraded_;
    struct Cluster {
        std::string node;
        Publish publish;
        std::function<bool()> runs_jobs;
    };
    std::optional<Cluster> cluster_;
    bool provisional_ = false;
    void cluster_log(Client& client);
};

}  // namespace ilchat::chat
