#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "daemon/net/http_message.h"

struct lws;

namespace ilchat::net {

class HttpExchange;
class WebSocketConnection;

// Chooses the endpoint of a request by path prefix (backend API, Engine.IO, ...); the longest
// matching prefix wins, anything else is a JSON 404 (and a refused websocket).
class HttpRouter {
public:
    // Answers now, or returns nullopt after taking the exchange to answer later (long-polling).
    using HttpHandler = std::function<std::optional<HttpResponse>(const HttpRequest&, HttpExchange&)>;
    // Accepts a websocket upgrade by returning a new connection (owned by the network loop from
    // then on), or refuses it with nullptr.
    using WebSocketAcceptor = std::function<WebSocketConnection*(const HttpRequest&, lws*)>;

    // Called when the headers of a request with a body have arrived, before the body: a response
    // refuses the request at once (e.g. a second POST to a session that is still receiving one).
    using BodyStart = std::function<std::optional<HttpResponse>(const HttpRequest&, HttpExchange&)>;

    static constexpr std::size_t default_body_limit = 64 * 1024;

    // `body_limit`: larger request bodies reach the handler empty, flagged body_too_large.
    void add(std::string prefix, HttpHandler http, WebSocketAcceptor websocket = {},
             std::size_t body_limit = default_body_limit, BodyStart body_start = {});

    std::optional<HttpResponse> dispatch(const HttpRequest& request, HttpExchange& exchange) const;
    WebSocketConnection* accept_websocket(const HttpRequest& request, lws* wsi) const;
    std::size_t body_limit(const std::string& path) const;
    std::optional<HttpResponse> body_start(const HttpRequest& request, HttpExchange& exchange) const;

private:
    struct Entry {
        std::string prefix;
        HttpHandler http;
        WebSocketAcceptor websocket;
        std::size_t body_limit;
        BodyStart body_start;
    };
    const Entry* find(const std::string& path) const;

    std::vector<Entry> entries_;
};

}  // namespace ilchat::net
