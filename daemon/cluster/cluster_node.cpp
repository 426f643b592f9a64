#include "daemon/cluster/cluster_node.h"

#include <algorithm>
#include <cstdlib>

#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include "common/text/json.h"
#include "daemon/chat/change.h"
#include "daemon/chat/clock.h"
#include "daemon/metrics/metrics.h"
#include "daemon/net/random_id.h"

namespace ilchat::cluster {

namespace {

// Entries per read: enough to catch up fast, few enough that one batch does not hold the
// network loop long.
constexpr int read_count = 500;

// A lease is renewed only by its holder: compare and extend in one step.
constexpr std::string_view renew_script =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end";

// Whether stream entry id `a` ("<ms>-<seq>") comes after `b`.
bool later(std::string_view a, std::string_view b) {
    auto parts = [](std::string_view id) {
        const auto dash = id.find('-');
        return std::pair(std::strtoull(std::string(id.substr(0, dash)).c_str(), nullptr, 10),
                         dash == std::string_view::npos ? 0ULL
                                                       : std::strtoull(std::string(id.substr(dash + 1)).c_str(), nullptr, 10));
    };
    return parts(a) > parts(b);
}

constexpr std::string_view release_script =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

std::string text_of(const redisReply* reply) {
    return reply && (reply->type == REDIS_REPLY_STRING || reply->type == REDIS_REPLY_STATUS ||
                     reply->type == REDIS_REPLY_ERROR)
               ? std::string(reply->str, reply->len)
               : std::string();
}

bool failed(const redisReply* reply, std::string_view what) {
    if (reply && reply->type != REDIS_REPLY_ERROR) return false;
    if (reply) spdlog::error("Cluster: {} refused by Redis: {}", what, text_of(reply));
    return true;
}

}  // namespace

ClusterNode::ClusterNode(event_base* base, ClusterSettings settings, metrics::Metrics& metrics, Deliver deliver,
                         TakeSnapshots take_snapshots, Provisional provisional)
    : settings_(std::move(settings)),
      id_(settings_.node + "/" + net::random_id().substr(0, 8)),
      metrics_(metrics),
      deliver_(std::move(deliver)),
      take_snapshots_(std::move(take_snapshots)),
      provisional_(std::move(provisional)),
      writer_(base, settings_.address, settings_.password, "writer",
              [this](bool up) {
                  // docs/cluster.md, "Redis away": meanwhile local users are served from this
                  // node's own view; once Redis is back, the state is rebuilt from the streams.
                  if (up) {
                      flush();
                      if (provisional_on_) provisional_(provisional_on_ = false);
                  } else {
                      writer_lost();
                      if (!provisional_on_) provisional_(provisional_on_ = true);
                      rebuild_ = true;
                      // Its leases run out in Redis and another node takes them: cut off, this
                      // one must not run the once-per-cluster jobs any more.
                      for (std::size_t i = 0; i < lease_names.size(); ++i) {
                          leases_[i] = false;
                          metrics_.cluster_lease_held(lease_names[i]).Set(0);
                      }
                  }
                  update_sync();
              }),
      reader_(base, settings_.address, settings_.password, "reader",
              [this](bool up) {
                  reading_ = false;
                  loading_ = 0;
                  if (up && rebuild_) rebuild();
                  else if (up) read_next();
                  else caught_up_ = false;
                  update_sync();
              }) {
    metrics_.cluster_up().Set(0);
    metrics_.cluster_records("published");
    metrics_.cluster_records("applied");
    metrics_.cluster_publish_queue().Set(0);
    for (auto name : lease_names) metrics_.cluster_lease_held(name).Set(0);
}

ClusterNode::~ClusterNode() = default;

void ClusterNode::open_spool() {
    if (settings_.spool_path.empty()) return;
    try {
        spool_ = std::make_unique<store::SpoolFile>(settings_.spool_path);
        if (spool_->pending() > 0)
            spdlog::warn("Cluster: {} changes of an earlier run wait in {}; they are published first",
                         spool_->pending(), settings_.spool_path);
    } catch (const std::system_error& e) {
        spdlog::warn("Cluster: no spool ({}: {}); changes wait in memory only while Redis is away",
                     settings_.spool_path, e.what());
    }
}

void ClusterNode::start() {
    spdlog::info("Cluster: node {} joins the cluster \"{}\" at {}", id_, settings_.prefix, describe(settings_.address));
    open_spool();
    writer_.start();
    reader_.start();
}

void ClusterNode::set_clients(const std::vector<std::string>& names) {
    clients_ = names;
    std::map<std::string, std::string> ids;
    for (const auto& name : names) {
        auto known = last_ids_.find(name);
        ids[name] = known == last_ids_.end() ? "" : known->second;  // "": its snapshot first
    }
    last_ids_ = std::move(ids);
    // A new stream is caught up with like the others; the read in flight ends within a second.
    caught_up_ = false;
    update_sync();
}

void ClusterNode::publish(const std::string& client, std::string encoded) {
    Outgoing change{client, std::move(encoded), id_, next_number_++};
    const bool spooling = spool_ && (spool_->pending() > 0 || queue_.size() + unconfirmed_.size() >= settings_.queue_limit);
    if (spooling) {
        try {
            // client, node, number, change: one line (a change's JSON holds no raw newline or tab).
            spool_->append({change.client + "\t" + change.node + "\t" + std::to_string(change.number) + "\t" + change.encoded});
            metrics_.cluster_publish_queue().Set(static_cast<double>(queued()));
            return;
        } catch (const std::system_error& e) {
            // A full disk: memory is the last place left.
            spdlog::error("Cluster: cannot spool to {}: {}; keeping the change in memory", spool_->path(), e.what());
        }
    }
    queue_.push_back(std::move(change));
    flush();
}

std::size_t ClusterNode::queued() const {
    // Changes sent and waiting for Redis's reply are not counted: under load there are always some.
    return queue_.size() + (spool_ ? spool_->pending() - spooled_in_queue_ : 0);
}

void ClusterNode::refill_from_spool() {
    // One batch at a time: its lines are consumed once Redis confirmed all of them, so a crash
    // meanwhile sends them again (with their numbers, which readers drop when seen).
    if (!spool_ || spooled_in_queue_ > 0 || !queue_.empty() || !unconfirmed_.empty()) return;
    if (spool_->pending() == 0) return;
    for (auto& line : spool_->peek(settings_.queue_limit)) {
        const auto a = line.find('\t'), b = line.find('\t', a + 1), c = line.find('\t', b + 1);
        if (c == std::string::npos) continue;
        queue_.push_back({line.substr(0, a), line.substr(c + 1), line.substr(a + 1, b - a - 1),
                          std::strtoull(line.substr(b + 1, c - b - 1).c_str(), nullptr, 10)});
        ++spooled_in_queue_;
    }
    if (spooled_in_queue_ == 0) spool_->consumed();  // only unreadable lines
}

void ClusterNode::flush() {
    refill_from_spool();
    while (!queue_.empty() && writer_.up()) {
        const Outgoing& next = queue_.front();
        if (!writer_.command({"XADD", stream_of(next.client), "*", "c", next.encoded, "n", next.node, "s",
                              std::to_string(next.number)},
                             [this](const redisReply* reply) {
                                 if (!reply) return;  // lost: writer_lost() sends it again
                                 // Replies come in order: this one confirms the oldest.
                                 if (!unconfirmed_.empty()) unconfirmed_.pop_front();
                                 if (!failed(reply, "XADD")) {
                                     metrics_.cluster_records("published").Increment();
                                     ++published_;
                                 }
                                 if (queue_.empty() && unconfirmed_.empty()) {
                                     if (spooled_in_queue_ > 0) {
                                         spool_->consumed();
                                         spooled_in_queue_ = 0;
                                         if (spool_->pending() == 0) spool_->clear();
                                     }
                                     if (spool_ && spool_->pending() > 0) flush();  // the next batch
                                 }
                                 metrics_.cluster_publish_queue().Set(static_cast<double>(queued()));
                             }))
            break;
        unconfirmed_.push_back(std::move(queue_.front()));
        queue_.pop_front();
    }
    metrics_.cluster_publish_queue().Set(static_cast<double>(queued()));
}

void ClusterNode::writer_lost() {
    // Redis may or may not have appended them before the connection went: append them again, in
    // order, before anything newer; a reader that has seen a number drops it (took()).
    queue_.insert(queue_.begin(), std::make_move_iterator(unconfirmed_.begin()),
                  std::make_move_iterator(unconfirmed_.end()));
    unconfirmed_.clear();
}

void ClusterNode::load_snapshots() {
    for (auto& [client, id] : last_ids_) {
        if (!id.empty()) continue;
        id = "0";  // without a snapshot: the stream from its start
        ++loading_;
        reader_.command({"HMGET", key(client + ":snapshot"), "position", "state"}, [this, client](const redisReply* reply) {
            if (!reply) return;  // connection lost: reader_ starts over
            --loading_;
            if (!failed(reply, "HMGET") && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
                reply->element[0]->type == REDIS_REPLY_STRING && reply->element[1]->type == REDIS_REPLY_STRING) {
                const std::string position = text_of(reply->element[0]);
                last_ids_[client] = position;
                deliver_({Delivery{client, position, text_of(reply->element[1]), true, false}});
            }
            read_next();
        });
    }
}

void ClusterNode::read_next() {
    if (reading_ || !reader_.up() || last_ids_.empty()) return;
    load_snapshots();
    if (loading_ > 0) return;
    std::vector<std::string> argv{"XREAD", "COUNT", std::to_string(read_count), "BLOCK", "1000", "STREAMS"};
    for (const auto& [client, id] : last_ids_) argv.push_back(stream_of(client));
    for (const auto& [client, id] : last_ids_) argv.push_back(id);
    reading_ = reader_.command(argv, [this](const redisReply* reply) {
        reading_ = false;
        if (!reply) return;  // connection lost: read again once it is back
        took(reply);
        read_next();
    });
}

void ClusterNode::took(const redisReply* reply) {
    if (failed(reply, "XREAD")) return;
    std::vector<Delivery> batch;
    // [[stream, [[id, [field, value, ...]], ...]], ...]; nil when nothing came within the block.
    if (reply->type == REDIS_REPLY_ARRAY) {
        const std::string suffix = ":changes";
        for (std::size_t s = 0; s < reply->elements; ++s) {
            const redisReply* stream = reply->element[s];
            if (stream->type != REDIS_REPLY_ARRAY || stream->elements != 2) continue;
            std::string key = text_of(stream->element[0]);
            const std::string client = key.substr(settings_.prefix.size() + 1, key.size() - settings_.prefix.size() - 1 - suffix.size());
            const redisReply* entries = stream->element[1];
            for (std::size_t e = 0; e < entries->elements; ++e) {
                const redisReply* entry = entries->element[e];
                if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2) continue;
                last_ids_[client] = text_of(entry->element[0]);
                // c: the change; n: the node and its number for the change, so that one appended
                // twice (sent again after a lost connection) is applied once.
                const redisReply* fields = entry->element[1];
                std::string change, node;
                std::uint64_t number = 0;
                for (std::size_t f = 0; f + 1 < fields->elements; f += 2) {
                    const std::string name = text_of(fields->element[f]);
                    if (name == "c") change = text_of(fields->element[f + 1]);
                    else if (name == "n") node = text_of(fields->element[f + 1]);
                    else if (name == "s") number = std::strtoull(text_of(fields->element[f + 1]).c_str(), nullptr, 10);
                }
                auto& last = seen_[{client, node}];
                if (number != 0 && number <= last) continue;
                last = number;
                const std::string& position = last_ids_[client];
                auto until = replay_until_.find(client);
                const bool replay = until != replay_until_.end() && !later(position, until->second);
                batch.push_back({client, position, std::move(change), false, replay});
            }
        }
    }
    const bool was_caught_up = caught_up_;
    caught_up_ = batch.size() < static_cast<std::size_t>(read_count);
    if (caught_up_) replay_until_.clear();
    if (!batch.empty()) {
        applied_ += batch.size();
        metrics_.cluster_records("applied").Increment(static_cast<double>(batch.size()));
        deliver_(std::move(batch));
    }
    if (caught_up_ != was_caught_up) update_sync();
}

void ClusterNode::tick() {
    if (!writer_.up()) return;
    const auto now = chat::now_ms();
    // Where this node has read to: the snapshot writer trims no stream past the slowest node.
    for (const auto& [client, id] : last_ids_)
        if (!id.empty()) writer_.command({"HSET", key(client + ":positions"), id_, id}, [](const redisReply* reply) {
            failed(reply, "HSET");
        });
    // The first soon after the lease is taken, so that a rebuild always finds one.
    const auto since = std::chrono::steady_clock::now() - last_snapshot_;
    if (holds(Lease::snapshot) && in_sync_ && !rebuild_ && since >= settings_.snapshot_interval) {
        last_snapshot_ = std::chrono::steady_clock::now();
        take_snapshots_([this](std::vector<Snapshot> snapshots) { write_snapshots(std::move(snapshots)); });
    }
    writer_.command({"ZADD", key("nodes"), std::to_string(now + settings_.node_timeout.count()), id_},
                    [](const redisReply* reply) { failed(reply, "ZADD"); });
    // Nodes whose last report ran out: whoever removes one tells every client's stream.
    // A score of 0 is a node that left cleanly (leave()), anything else one that went silent.
    writer_.command({"ZRANGEBYSCORE", key("nodes"), "-inf", "(" + std::to_string(now), "WITHSCORES"},
                    [this](const redisReply* reply) {
        if (failed(reply, "ZRANGEBYSCORE") || reply->type != REDIS_REPLY_ARRAY) return;
        for (std::size_t i = 0; i + 1 < reply->elements; i += 2) {
            std::string node = text_of(reply->element[i]);
            const bool left = text_of(reply->element[i + 1]) == "0";
            writer_.command({"ZREM", key("nodes"), node}, [this, node, left](const redisReply* removed) {
                if (!failed(removed, "ZREM") && removed->type == REDIS_REPLY_INTEGER && removed->integer == 1)
                    node_gone(node, left);
            });
        }
    });
    writer_.command({"ZRANGEBYSCORE", key("nodes"), std::to_string(now), "+inf"}, [this](const redisReply* reply) {
        if (failed(reply, "ZRANGEBYSCORE") || reply->type != REDIS_REPLY_ARRAY) return;
        nodes_.clear();
        for (std::size_t i = 0; i < reply->elements; ++i) nodes_.push_back(text_of(reply->element[i]));
        metrics_.cluster_nodes().Set(static_cast<double>(nodes_.size()));
    });
    for (std::size_t i = 0; i < lease_names.size(); ++i) renew(static_cast<Lease>(i));
}

void ClusterNode::node_gone(const std::string& node, bool left) {
    if (left) spdlog::info("Cluster: node {} left; its sockets are dropped on every node", node);
    else spdlog::warn("Cluster: node {} stopped reporting; its sockets are dropped on every node", node);
    for (const auto& client : clients_)
        writer_.command({"HDEL", key(client + ":positions"), node}, [](const redisReply* reply) { failed(reply, "HDEL"); });
    for (const auto& client : clients_)
        for (auto chat : {chat::Change::Chat::rooms, chat::Change::Chat::im}) {
            chat::Change change(chat, "node_gone", chat::now_ms());
            change.node = id_;
            change.payload = "[\"node_gone\"," + text::json_string(node) + "]";
            publish(client, chat::encode(change));
        }
}

void ClusterNode::renew(Lease lease) {
    const auto index = static_cast<std::size_t>(lease);
    const std::string name(lease_names[index]);
    const std::string lease_key = key("lease:" + name);
    const std::string millis = std::to_string(settings_.node_timeout.count());
    auto held = [this, index, name](bool now_held) {
        if (leases_[index].exchange(now_held) != now_held)
            spdlog::info("Cluster: node {} {} the {} lease", id_, now_held ? "took" : "lost", name);
        metrics_.cluster_lease_held(name).Set(now_held ? 1 : 0);
    };
    if (leases_[index]) {
        writer_.command({"EVAL", std::string(renew_script), "1", lease_key, id_, millis},
                        [held](const redisReply* reply) {
                            held(!failed(reply, "EVAL") && reply->type == REDIS_REPLY_INTEGER && reply->integer == 1);
                        });
        return;
    }
    writer_.command({"SET", lease_key, id_, "NX", "PX", millis}, [held](const redisReply* reply) {
        held(!failed(reply, "SET") && text_of(reply) == "OK");
    });
}

void ClusterNode::write_snapshots(std::vector<Snapshot> snapshots) {
    for (auto& s : snapshots) {
        if (s.position == "0") continue;  // nothing read yet
        writer_.command({"HSET", key(s.client + ":snapshot"), "position", s.position, "state", s.json},
                        [](const redisReply* reply) { failed(reply, "HSET"); });
        // Entries before the snapshot go, unless a node alive has not read them yet.
        writer_.command({"HGETALL", key(s.client + ":positions")}, [this, client = s.client,
                                                                   position = s.position](const redisReply* reply) {
            if (failed(reply, "HGETALL") || reply->type != REDIS_REPLY_ARRAY) return;
            std::string trim_to = position;
            for (std::size_t i = 0; i + 1 < reply->elements; i += 2)
                if (std::ranges::find(nodes_, text_of(reply->element[i])) != nodes_.end() &&
                    later(trim_to, text_of(reply->element[i + 1])))
                    trim_to = text_of(reply->element[i + 1]);
            writer_.command({"XTRIM", stream_of(client), "MINID", trim_to}, [](const redisReply* trimmed) {
                failed(trimmed, "XTRIM");
            });
        });
    }
}

void ClusterNode::rebuild() {
    // The state is read again from the last snapshots: silently up to where this node had read
    // (its users have seen that), and this node's provisional changes wherever they come (the
    // ChangeLog knows them); what comes after is news. docs/cluster.md, "Redis away".
    rebuild_ = false;
    replay_until_.clear();
    seen_.clear();  // read again from the snapshots: numbers seen before come again
    for (auto& [client, id] : last_ids_) {
        if (!id.empty() && id != "0") replay_until_[client] = id;
        id.clear();  // its snapshot first (read_next())
    }
    caught_up_ = false;
    update_sync();
    spdlog::info("Cluster: node {} rebuilds its state from the snapshots and the streams", id_);
    read_next();
}

void ClusterNode::leave(std::function<void()> done) {
    for (std::size_t i = 0; i < lease_names.size(); ++i)
        if (leases_[i].exchange(false))
            writer_.command({"EVAL", std::string(release_script), "1", key("lease:" + std::string(lease_names[i])), id_},
                            [](const redisReply* reply) { failed(reply, "EVAL"); });
    // Replies come in order: this one is the last.
    if (!writer_.command({"ZADD", key("nodes"), "0", id_}, [done](const redisReply* reply) {
            failed(reply, "ZADD");
            done();
        }))
        done();
}

void ClusterNode::update_sync() {
    const bool now = writer_.up() && reader_.up() && caught_up_;
    if (in_sync_.exchange(now) != now)
        spdlog::info("Cluster: node {} {}", id_, now ? "is in sync" : "is out of sync");
    metrics_.cluster_up().Set(now ? 1 : 0);
}

ClusterNode::Status ClusterNode::status() const {
    Status s;
    s.in_sync = in_sync_;
    s.problem = !writer_.up() ? writer_.problem() : !reader_.up() ? reader_.problem() : !caught_up_ ? "catching up" : "";
    s.nodes = nodes_;
    for (std::size_t i = 0; i < lease_names.size(); ++i)
        if (leases_[i]) s.leases.emplace_back(lease_names[i]);
    s.published = published_;
    s.applied = applied_;
    s.queued = queued();
    return s;
}

}  // namespace ilchat::cluster
