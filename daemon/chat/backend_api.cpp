#include "daemon/chat/backend_api.h"

#include <array>
#include <strings.h>

namespace ilchat::chat {

namespace {

net::HttpResponse json_ok(std::string body) {
    net::HttpResponse response;
    response.body = std::move(body);
    return response;
}

net::HttpResponse heartbeat(const BackendApi&, const BackendApi::Call&) { return json_ok(R"({"status":200})"); }

const std::array<BackendApi::Route, 1> route_table{{
    {"Heartbeat", 0, heartbeat, "GET /backend/Heartbeat/<name>: liveness check used by ILIAS"},
}};

std::vector<std::string> split_segments(std::string_view path) {
    std::vector<std::string> segments;
    while (!path.empty()) {
        auto slash = path.find('/');
        segments.emplace_back(path.substr(0, slash));
        if (slash == std::string_view::npos) break;
        path.remove_prefix(slash + 1);
    }
    // Express accepts one optional trailing slash.
    if (!segments.empty() && segments.back().empty()) segments.pop_back();
    return segments;
}

bool same_action(std::string_view a, std::string_view b) {
    return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

BackendApi::BackendApi(std::vector<config::ClientConfig> clients) : clients_(std::move(clients)) {}

std::span<const BackendApi::Route> BackendApi::routes() { return route_table; }

const config::ClientConfig* BackendApi::find_client(std::string_view name) const {
    for (const auto& client : clients_)
        if (client.name == name) return &client;
    return nullptr;
}

net::HttpResponse BackendApi::handle(const net::HttpRequest& request) const {
    constexpr std::string_view prefix = "/backend/";
    if (request.method != net::HttpMethod::get && request.method != net::HttpMethod::head)
        return net::HttpResponse::json_error(405, "Method Not Allowed: the backend API takes GET only");

    auto segments = split_segments(std::string_view(request.path).substr(prefix.size()));
    if (segments.size() < 2) return net::HttpResponse::json_error(404, "Not Found");
    const std::string& action = segments[0];
    const size_t params = segments.size() - 2;

    for (const auto& route : route_table) {
        if (!same_action(route.action, action) || route.params != params) continue;
        const auto* client = find_client(segments[1]);
        if (!client) return net::HttpResponse::json_error(404, "Unknown namespace \"" + segments[1] + "\"");
        Call call{*client, {segments.begin() + 2, segments.end()}, request};
        return route.handler(*this, call);
    }
    return net::HttpResponse::json_error(404, "Not Found");
}

}  // namespace ilchat::chat
