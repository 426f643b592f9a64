#include "daemon/chat/client_set.h"

#include <algorithm>
#include <array>
#include <ctime>

#include <spdlog/spdlog.h>

#include "common/text/json.h"

#include "daemon/metrics/metrics.h"

namespace ilchat::chat {

namespace {

// Looked up for every change applied: no copy of the name.
const std::string& name_of(const ClientSet::Client& c) { return c.config.name; }

// A worker job: whoever is still in chatroom_users moves to chatroom_sessions now (as the Node
// server does when it starts and stops; docs/protocol.md, "SQL").
void leave_all_users(db::Connection& db) {
    store::disconnect_all_users(db, store::detect_room_schema(db), static_cast<std::int64_t>(std::time(nullptr)));
}

}  // namespace

ClientSet::ClientSet(net::NetworkLoop& network, net::sio::Server& socketio, BackendApi& backend, Options options,
                     WorkerSettings workers, metrics::Metrics& metrics)
    : network_(network),
      socketio_(socketio),
      backend_(backend),
      options_(options),
      workers_(std::move(workers)),
      metrics_(metrics) {}

ClientSet::~ClientSet() = default;

void ClientSet::add(const config::ClientConfig& config, store::PreloadedClient preload) {
    const auto& name = config.name;
    Client c;
    c.config = config;
    store::WorkerOptions options = workers_.worker;
    if (!workers_.spool_dir.empty()) {
        std::string file = name;
        std::replace(file.begin(), file.end(), '/', '_');
        options.spool_path = workers_.spool_dir + "/" + file + ".spool";
    }
    options.connected_at_start = preload.connected;
    c.worker = std::make_unique<store::DatabaseWorker>(name, store::endpoint_of(config), std::move(options));
    c.log = std::make_unique<ChangeLog>(
        [this, name](const Change& change, const rapidjson::Value& payload, bool own, bool silent) {
            return apply(name, change, payload, own, silent);
        });
    c.rooms = std::make_unique<RoomChat>(name, socketio_.add_namespace("/" + name), *c.worker, preload.schema,
                                         options_.rooms, network_.timers(), *c.log);
    c.im = std::make_unique<ImChat>(name, socketio_.add_namespace("/" + name + "-im"), *c.worker, network_.mailbox(),
                                    options_.im, network_.timers(), *c.log);
    backend_.add_client({config, c.rooms.get(), c.im.get(), c.log.get()});
    if (cluster_) cluster_log(c);
    // Series that alerts compare with increase() exist from the start, at 0.
    metrics_.db_errors(name);
    metrics_.db_reconnects(name);
    clients_.push_back(std::move(c));
    if (preload.connected) {
        take_preload(clients_.back(), std::move(preload));
        return;
    }
    degraded_.insert(name);
    clients_.back().worker->when_connected([this, name](db::Connection& db) {
        auto fresh =
            std::make_shared<store::PreloadedClient>(store::preload_client(db, name, workers_.sole_server));
        network_.mailbox().post([this, name, fresh] {
            // A reload may have removed the client meanwhile.
            if (Client* client = find(name)) take_preload(*client, std::move(*fresh));
            degraded_.erase(name);
        });
    });
}

void ClientSet::take_preload(Client& c, store::PreloadedClient preload) {
    const auto& name = c.config.name;
    c.rooms->set_schema(preload.schema);
    for (auto id : preload.room_ids) c.rooms->add_main_room(id);
    for (const auto& room : preload.private_rooms) c.rooms->add_private_room(room);
    for (const auto& row : preload.conversations)
        if (!c.im->add_stored_conversation(row))
            spdlog::warn("PreloadConversations for {}: skipped conversation {} with malformed participants", name, row.id);
    spdlog::info("SetupNamespace IM: {}-im! {} conversations", name, c.im->conversation_count());
    c.im->start_preference_refresh();
}

std::optional<net::HttpResponse> ClientSet::apply(const std::string& name, const Change& change,
                                                  const rapidjson::Value& payload, bool own, bool silent) {
    // A change may still arrive for a client a reload or the stop has just removed.
    Client* client = find(name);
    if (!client || !client->rooms || !client->im) return net::HttpResponse::json_error(503, "Namespace not ready");
    // Silent changes are rare (a rebuild): the namespaces are looked up only for them.
    std::array<net::sio::Namespace*, 2> muted{};
    if (silent) muted = {socketio_.find_namespace("/" + name), socketio_.find_namespace("/" + name + "-im")};
    for (auto* nsp : muted)
        if (nsp) nsp->mute(true);
    std::optional<net::HttpResponse> answer;
    switch (change.chat) {
        case Change::Chat::rooms:
            client->rooms->apply(change, payload, own);
            break;
        case Change::Chat::im:
            client->im->apply(change, payload, own);
            break;
        case Change::Chat::backend:
            answer = backend_.apply(name, change, payload);
            break;
    }
    for (auto* nsp : muted)
        if (nsp) nsp->mute(false);
    return answer;
}

void ClientSet::set_provisional(bool provisional) {
    provisional_ = provisional;
    for (auto& c : clients_) c.log->set_provisional(provisional);
}

void ClientSet::join_cluster(std::string node, Publish publish, std::function<bool()> runs_jobs) {
    cluster_ = Cluster{std::move(node), std::move(publish), std::move(runs_jobs)};
    for (auto& c : clients_) cluster_log(c);
}

void ClientSet::cluster_log(Client& client) {
    client.log->set_provisional(provisional_);
    client.log->publish_to(
        cluster_->node,
        [publish = cluster_->publish, name = client.config.name](std::string encoded) { publish(name, std::move(encoded)); },
        cluster_->runs_jobs);
}

void ClientSet::leave_cluster() {
    if (!cluster_) return;
    for (auto& c : clients_) c.log->publish_to(cluster_->node, [](std::string) {});
    cluster_.reset();
}

std::optional<ClientSet::Snapshot> ClientSet::snapshot(const std::string& name) const {
    auto found = std::ranges::find(clients_, name, name_of);
    if (found == clients_.end() || !found->rooms || !found->im) return std::nullopt;
    const std::string& position = found->log->position();
    return Snapshot{position, "{\"position\":" + text::json_string(position) + ",\"rooms\":" + found->rooms->snapshot() +
                                  ",\"im\":" + found->im->snapshot() + "}"};
}

bool ClientSet::restore(const std::string& name, std::string_view json) {
    Client* client = find(name);
    rapidjson::Document state;
    state.Parse(json.data(), json.size());
    if (!client || !client->rooms || state.HasParseError() || !state.IsObject() || !state.HasMember("position") ||
        !state["position"].IsString() || !state.HasMember("rooms") || !state.HasMember("im"))
        return false;
    client->rooms->restore(state["rooms"]);
    client->im->restore(state["im"]);
    client->log->restored(state["position"].GetString());
    return true;
}

ClientSet::Client* ClientSet::find(const std::string& name) {
    auto found = std::ranges::find(clients_, name, name_of);
    return found == clients_.end() ? nullptr : &*found;
}

void ClientSet::remove(const std::string& name) {
    auto found = std::ranges::find(clients_, name, name_of);
    if (found == clients_.end()) return;
    backend_.remove_client(name);
    found->rooms.reset();
    found->im.reset();
    socketio_.remove_namespace("/" + name);
    socketio_.remove_namespace("/" + name + "-im");
    if (workers_.sole_server) found->worker->when_connected(leave_all_users);
    retiring_.emplace_back([worker = std::move(found->worker)]() mutable { worker.reset(); });
    clients_.erase(found);
    degraded_.erase(name);
    spdlog::info("Namespace {} and {}-im removed", name, name);
}

void ClientSet::reconfigure(const std::vector<config::ClientConfig>& configs, Options options) {
    std::vector<std::string> removed;
    for (const auto& running : clients_)
        if (std::ranges::none_of(configs, [&](const auto& c) { return c.name == running.config.name; }))
            removed.push_back(running.config.name);
    for (const auto& name : removed) remove(name);
    options_ = options;
    for (const auto& c : configs) {
        if (Client* running = find(c.name)) {
            running->config = c;
            backend_.update_credentials(c);
        } else {
            spdlog::info("Namespace {} and {}-im added", c.name, c.name);
            add(c, {});
        }
    }
    for (auto& c : clients_) {
        c.rooms->set_options(options.rooms);
        c.im->set_options(options.im);
    }
}

void ClientSet::finish_by(std::chrono::steady_clock::time_point deadline) {
    for (auto& c : clients_) {
        c.rooms.reset();
        c.im.reset();
        // For a database that stays away, the next start-up does it.
        if (workers_.sole_server) c.worker->when_connected(leave_all_users);
    }
    // Every worker gets the same deadline at once rather than one grace after another; what a
    // database that is away does not take stays in the spool.
    for (auto& c : clients_) c.worker->finish_by(deadline);
    clients_.clear();
    retiring_.clear();
}

}  // namespace ilchat::chat
