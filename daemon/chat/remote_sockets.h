#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "daemon/chat/change_log.h"

namespace ilchat::chat {

// The logged-in sockets a chat knows by id only (docs/cluster.md): those of other nodes, and
// those of this node that closed before their login was applied. A socket of this node carries
// its user itself (LoggedIn); on a single node this stays empty.
class RemoteSockets {
public:
    void logged_in(const Change& change, std::int64_t user) { logged_in(change.socket, user, change.node); }
    void logged_in(const std::string& socket, std::int64_t user, const std::string& node) {
        sockets_.insert_or_assign(socket, Entry{user, node});
    }
    // The node of a socket known here; nullopt for one of this node.
    std::optional<std::string> node_of(const std::string& socket) const {
        auto found = sockets_.find(socket);
        return found == sockets_.end() ? std::nullopt : std::optional(found->second.node);
    }
    void clear() { sockets_.clear(); }
    // The user of the acting socket; `local` is what a socket of this node says.
    std::optional<std::int64_t> user_of(const Change& change, std::optional<std::int64_t> local) const {
        if (local) return local;
        auto found = sockets_.find(change.socket);
        return found == sockets_.end() ? std::nullopt : std::optional(found->second.user);
    }
    // A socket that closed: its user, as the change says or as its login was applied.
    std::optional<std::int64_t> closed(const Change& change) {
        auto user = take(change.socket);
        return user ? user : change.user ? std::optional(change.user) : std::nullopt;
    }
    // A socket of a node that is gone: its user, and it is forgotten.
    std::optional<std::int64_t> take(const std::string& socket) {
        auto entry = sockets_.extract(socket);
        return entry.empty() ? std::nullopt : std::optional(entry.mapped().user);
    }
    void forget(const std::string& socket) { sockets_.erase(socket); }
    // The sockets of a node that is gone.
    std::vector<std::string> of_node(const std::string& node) const {
        std::vector<std::string> ids;
        for (const auto& [id, entry] : sockets_)
            if (entry.node == node) ids.push_back(id);
        return ids;
    }

private:
    struct Entry {
        std::int64_t user = 0;
        std::string node;
    };
    std::unordered_map<std::string, Entry> sockets_;
};

}  // namespace ilchat::chat
