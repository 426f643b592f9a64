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
    if (publish_) {
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
    auto answer = apply_(change, *payload, true);
    if (reply && answer) reply(std::move(*answer));
}

void ChangeLog::receive(std::string_view encoded) {
    rapidjson::Document doc;
    auto change = decode(encoded, doc);
    if (!change) {
        spdlog::error("Cluster: skipped a record that is no change: {:.200}", encoded);
        return;
    }
    const bool own = change->node == node_;
    auto answer = apply_(*change, decoded_payload(doc), own);
    if (!own || !change->reply) return;
    auto waiting = replies_.extract(change->reply);
    if (!waiting.empty() && answer) waiting.mapped()(std::move(*answer));
}

}  // namespace ilchat::chat
