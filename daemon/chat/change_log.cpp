#include "daemon/chat/change_log.h"

#include <spdlog/spdlog.h>

#include "daemon/net/socketio_server.h"

namespace ilchat::chat {

void ChangeLog::publish_to(std::string node, Publish publish, std::function<bool()> runs_jobs) {
    node_ = std::move(node);
    publish_ = std::move(publish);
    runs_jobs_ = std::move(runs_jobs);
}

void ChangeLog::append(Change change, const rapidjson::Value* payload, Reply reply) {
    change.node = node_;
    // Provisional only in a cluster: a single node has nothing to publish later.
    const bool provisional = provisional_ && publish_;
    change.provisional = provisional;
    if (publish_ && !provisional) {
        if (reply) {
            change.reply = next_reply_++;
            replies_.emplace(change.reply, std::move(reply));
        }
        publish_(encode(change, payload));
        return;
    }
    rapidjson::Document parsed;
    if (!payload) {
        const std::string text = change.payload.empty() ? net::sio::event_payload(change.kind, {}) : change.payload;
        parsed.Parse(text.data(), text.size());
        payload = &parsed;
    }
    auto answer = apply_(change, *payload, true, false);
    if (reply && answer) reply(std::move(*answer));
    if (provisional) publish_(encode(change, payload));
}

void ChangeLog::receive(std::string_view position, std::string_view encoded, bool replay) {
    position_ = position;
    rapidjson::Document doc;
    auto change = decode(encoded, doc);
    if (!change) {
        spdlog::error("Cluster: skipped a record that is no change: {:.200}", encoded);
        return;
    }
    // This node applied its provisional changes when it made them; they are read back only when
    // its state is rebuilt, which replaces what they did, so they apply again, silently.
    const bool own = change->node == node_ && !replay && !change->provisional;
    const bool silent = replay || (change->node == node_ && change->provisional);
    auto answer = apply_(*change, decoded_payload(doc), own, silent);
    if (!own || !change->reply) return;
    auto waiting = replies_.extract(change->reply);
    if (!waiting.empty() && answer) waiting.mapped()(std::move(*answer));
}

}  // namespace ilchat::chat
