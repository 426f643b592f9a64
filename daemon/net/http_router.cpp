#include "daemon/net/http_router.h"

#include <algorithm>
#include <strings.h>

namespace ilchat::net {

void HttpRouter::add(std::string prefix, HttpHandler http, WebSocketAcceptor websocket, std::size_t body_limit,
                     BodyStart body_start) {
    entries_.push_back({std::move(prefix), std::move(http), std::move(websocket), body_limit, std::move(body_start)});
    std::stable_sort(entries_.begin(), entries_.end(),
                     [](const Entry& a, const Entry& b) { return a.prefix.size() > b.prefix.size(); });
}

const HttpRouter::Entry* HttpRouter::find(const std::string& path) const {
    for (const auto& entry : entries_) {
        // Express, which ILIAS's Node server uses, matches paths case-insensitively.
        if (path.size() >= entry.prefix.size() &&
            strncasecmp(path.c_str(), entry.prefix.c_str(), entry.prefix.size()) == 0)
            return &entry;
    }
    return nullptr;
}

std::optional<HttpResponse> HttpRouter::dispatch(const HttpRequest& request, HttpExchange& exchange) const {
    if (const Entry* entry = find(request.path)) return entry->http(request, exchange);
    return HttpResponse::json_error(404, "Not Found");
}

WebSocketConnection* HttpRouter::accept_websocket(const HttpRequest& request, lws* wsi) const {
    const Entry* entry = find(request.path);
    return entry && entry->websocket ? entry->websocket(request, wsi) : nullptr;
}

std::size_t HttpRouter::body_limit(const std::string& path) const {
    const Entry* entry = find(path);
    return entry ? entry->body_limit : default_body_limit;
}

std::optional<HttpResponse> HttpRouter::body_start(const HttpRequest& request, HttpExchange& exchange) const {
    const Entry* entry = find(request.path);
    if (!entry || !entry->body_start) return std::nullopt;
    return entry->body_start(request, exchange);
}

}  // namespace ilchat::net
