#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/config/client_config.h"
#include "daemon/chat/change.h"
#include "daemon/net/http_message.h"
#include "daemon/net/http_router.h"

namespace ilchat::metrics {
class Metrics;
}

namespace ilchat::chat {

class RoomChat;
class ImChat;
class ChangeLog;

// The /backend/<Action>/<namespace>/... API that ILIAS PHP calls (docs/protocol.md, "Backend routes"). Routes of
// both ILIAS shapes live in one table, told apart by their number of path segments. A call that
// changes the chat is a change of the client's ChangeLog: answered once it has been applied (at
// once on a single node; when it comes back from the cluster otherwise).
class BackendApi {
public:
    struct Client {
        config::ClientConfig config;
        RoomChat* rooms = nullptr;
        ImChat* im = nullptr;
        ChangeLog* log = nullptr;
    };
    // `metrics` (optional) counts requests by route and result, with their duration.
    explicit BackendApi(std::vector<Client> clients, metrics::Metrics* metrics = nullptr);

    // The answer now, or nullopt when `later` will get it.
    using Answer = std::function<void(net::HttpResponse)>;
    std::optional<net::HttpResponse> handle(const net::HttpRequest& request, Answer later) const;
    // Applies a backend change of client `client` (Change::Chat::backend); its answer.
    net::HttpResponse apply(const std::string& client, const Change& change, const rapidjson::Value& payload) const;
    // Serves /backend/... on `router`, and <sub_directory>/backend/... too when ILIAS sits behind
    // a proxy with a sub_directory (docs/decisions.md D12). This object must outlive the router's
    // use of it.
    void mount(net::HttpRouter& router, const std::string& sub_directory);
    // Reload: new Basic credentials for a client (network loop).
    void update_credentials(const config::ClientConfig& client);
    // Reload: a client.cfg added or removed (network loop). Requests for a removed client get 404.
    void add_client(Client client);
    void remove_client(const std::string& name);

    struct Call {
        const Client& client;
        std::vector<std::string> params;  // path segments after the namespace (decoded by lws)
        std::string message;              // the `message` query parameter
        std::int64_t ts = 0;              // when the call was made (on the node it reached)
    };

    // Which ILIAS generation a route shape belongs to; `any` for routes both share.
    enum class Shape { any, ilias9, ilias8 };

    struct Route {
        std::string_view action;  // matched case-insensitively, as Express does
        std::size_t params;       // segments after the namespace
        Shape shape;
        // The last parameter is a room title. libwebsockets hands us the path URL-decoded, so a
        // title with "%2F" arrives as several segments: they are joined again, and the client's
        // database (private-room tables or not) picks the shape, since the count cannot.
        bool title_last;
        bool open;                // docs/decisions.md D1: only Heartbeat needs no credentials
        bool changes;             // changes the chat: goes through the client's ChangeLog
        net::HttpResponse (*handler)(const Call&);
        std::string_view doc;
    };
    static std::span<const Route> routes();

    // Whether the Authorization header carries this client's key and secret (compared in
    // constant time).
    static bool authorized(const config::ClientConfig& client, std::string_view authorization);

private:
    const Client* find_client(std::string_view name) const;
    std::optional<net::HttpResponse> route(const net::HttpRequest& request, std::string_view& route_name,
                                           Answer& later) const;

    std::vector<Client> clients_;
    metrics::Metrics* metrics_;
};

}  // namespace ilchat::chat
