#include "daemon/chat/backend_api.h"

#include <array>
#include <strings.h>

#include <chrono>

#include <spdlog/spdlog.h>

#include "common/text/json.h"
#include "daemon/chat/change_log.h"
#include "daemon/chat/clock.h"
#include "daemon/chat/im_chat.h"
#include "daemon/chat/room_chat.h"
#include "daemon/net/engineio_packet.h"
#include "daemon/net/http_exchange.h"
#include "daemon/net/socketio_server.h"
#include "daemon/metrics/metrics.h"

namespace ilchat::chat {

namespace {

using net::HttpResponse;
using Call = BackendApi::Call;

HttpResponse json_ok(std::string body) {
    HttpResponse response;
    response.body = std::move(body);
    return response;
}

std::int64_t user(const std::string& segment) { return text::integer_of(segment).value_or(0); }

constexpr std::string_view alive = R"({"status":200})";

HttpResponse heartbeat(const Call&) { return json_ok(std::string(alive)); }
HttpResponse connect(const Call& c) { return c.client.rooms->subscribe(user(c.params[1])); }
HttpResponse enter(const Call& c) { return c.client.rooms->enter_room(c.params[0], std::nullopt, user(c.params[1])); }
HttpResponse enter8(const Call& c) { return c.client.rooms->enter_room(c.params[0], c.params[1], user(c.params[2])); }
HttpResponse create(const Call& c) {
    return c.client.rooms->create_room(c.ts, c.params[0], std::nullopt, c.params[1], c.params[2]);
}
HttpResponse create8(const Call& c) {
    return c.client.rooms->create_room(c.ts, c.params[0], c.params[1], c.params[2], c.params[3]);
}
HttpResponse leave(const Call& c) { return c.client.rooms->leave_room(c.ts, c.params[0], std::nullopt, user(c.params[1])); }
HttpResponse leave8(const Call& c) { return c.client.rooms->leave_room(c.ts, c.params[0], c.params[1], user(c.params[2])); }
HttpResponse invite(const Call& c) {
    return c.client.rooms->invite(c.ts, c.params[0], std::nullopt, user(c.params[1]), user(c.params[2]));
}
HttpResponse invite8(const Call& c) {
    return c.client.rooms->invite(c.ts, c.params[0], c.params[1], user(c.params[2]), user(c.params[3]));
}
HttpResponse remove8(const Call& c) { return c.client.rooms->delete_room(c.ts, c.params[0], c.params[1]); }
HttpResponse clear(const Call& c) { return c.client.rooms->clear_messages(c.ts, c.params[0], std::nullopt); }
HttpResponse clear8(const Call& c) { return c.client.rooms->clear_messages(c.ts, c.params[0], c.params[1]); }
HttpResponse kick(const Call& c) { return c.client.rooms->kick(c.ts, c.params[0], std::nullopt, user(c.params[1])); }
HttpResponse kick8(const Call& c) { return c.client.rooms->kick(c.ts, c.params[0], c.params[1], user(c.params[2])); }
HttpResponse ban(const Call& c) { return c.client.rooms->ban(c.ts, c.params[0], user(c.params[1])); }
HttpResponse ban8(const Call& c) { return c.client.rooms->ban(c.ts, c.params[0], user(c.params[2])); }
HttpResponse get_rooms(const Call& c) { return c.client.rooms->get_rooms(); }
HttpResponse user_config_change(const Call& c) {
    if (!c.client.im) return HttpResponse::json_error(503, "Namespace not ready");
    return c.client.im->user_config_change(c.message);
}
HttpResponse post(const Call&) {
    spdlog::trace("Not Supported Action Post");
    return json_ok(R"({"success":true})");
}

using S = BackendApi::Shape;

// ILIAS >= 9 shapes first; the ILIAS <= 8 shape of a room route has the subRoomId after the roomId.
const std::array<BackendApi::Route, 20> route_table{{
    {"Heartbeat", 0, S::any, false, true, false, heartbeat, "Heartbeat/<name>: liveness check"},
    {"Connect", 2, S::any, false, false, true, connect, "Connect/<name>/<roomId>/<userId>: register a user"},
    {"EnterPrivateRoom", 2, S::ilias9, false, false, true, enter, "EnterPrivateRoom/<name>/<roomId>/<userId>: allow the user into the room"},
    {"EnterPrivateRoom", 3, S::ilias8, false, false, true, enter8, "EnterPrivateRoom/<name>/<roomId>/<subRoomId>/<userId>"},
    {"CreatePrivateRoom", 3, S::ilias9, true, false, true, create, "CreatePrivateRoom/<name>/<roomId>/<ownerId>/<title>: register a room"},
    {"CreatePrivateRoom", 4, S::ilias8, true, false, true, create8, "CreatePrivateRoom/<name>/<roomId>/<subRoomId>/<ownerId>/<title>"},
    {"LeavePrivateRoom", 2, S::ilias9, false, false, true, leave, "LeavePrivateRoom/<name>/<roomId>/<userId>"},
    {"LeavePrivateRoom", 3, S::ilias8, false, false, true, leave8, "LeavePrivateRoom/<name>/<roomId>/<subRoomId>/<userId>"},
    {"InvitePrivateRoom", 3, S::ilias9, false, false, true, invite, "InvitePrivateRoom/<name>/<roomId>/<userId>/<invitedId>"},
    {"InvitePrivateRoom", 4, S::ilias8, false, false, true, invite8, "InvitePrivateRoom/<name>/<roomId>/<subRoomId>/<userId>/<invitedId>"},
    {"DeletePrivateRoom", 3, S::ilias8, false, false, true, remove8, "DeletePrivateRoom/<name>/<roomId>/<subRoomId>/<userId>"},
    {"ClearMessages", 2, S::ilias9, false, false, true, clear, "ClearMessages/<name>/<roomId>/<userId>: clear the room"},
    {"ClearMessages", 3, S::ilias8, false, false, true, clear8, "ClearMessages/<name>/<roomId>/<subRoomId>/<userId>"},
    {"Kick", 2, S::ilias9, false, false, true, kick, "Kick/<name>/<roomId>/<userId>: remove a user from the room"},
    {"Kick", 3, S::ilias8, false, false, true, kick8, "Kick/<name>/<roomId>/<subRoomId>/<userId>"},
    {"Ban", 2, S::ilias9, false, false, true, ban, "Ban/<name>/<roomId>/<userId>: remove a user from the room and the namespace"},
    {"Ban", 3, S::ilias8, false, false, true, ban8, "Ban/<name>/<roomId>/<subRoomId>/<userId>"},
    {"GetRooms", 0, S::any, false, false, false, get_rooms, "GetRooms/<name>: the room ids"},
    {"UserConfigChange", 0, S::any, false, false, true, user_config_change,
     "UserConfigChange/<name>?message={\"<userId>\":{\"acceptsMessages\":bool}}: On-Screen Chat preference changed"},
    {"Post", 1, S::any, false, false, false, post, "Post/<name>/<roomId>: accepted, does nothing (as in the Node server)"},
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

bool constant_time_equal(std::string_view a, std::string_view b) {
    unsigned char diff = a.size() == b.size() ? 0 : 1;
    const std::string_view& longer = a.size() >= b.size() ? a : b;
    for (size_t i = 0; i < longer.size(); ++i) {
        unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
        unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
        diff |= static_cast<unsigned char>(x ^ y);
    }
    return diff == 0;
}

HttpResponse access_denied() { return json_ok(R"({"status":403,"message":"Access denied"})"); }

}  // namespace

BackendApi::BackendApi(std::vector<Client> clients, metrics::Metrics* metrics)
    : clients_(std::move(clients)), metrics_(metrics) {}

std::span<const BackendApi::Route> BackendApi::routes() { return route_table; }

void BackendApi::mount(net::HttpRouter& router, const std::string& sub_directory) {
    auto serve = [this](std::size_t prefix_length) {
        return [this, prefix_length](const net::HttpRequest& request, net::HttpExchange& exchange) {
            auto inner = request;
            inner.path.erase(0, prefix_length);
            // In a cluster the answer comes when the change is back from Redis; ILIAS may have
            // hung up by then.
            auto kept = std::make_shared<net::HttpExchange*>(&exchange);
            auto now = handle(inner, [kept](HttpResponse response) {
                if (*kept) (*kept)->respond(response);
            });
            if (!now) exchange.on_abandon([kept] { *kept = nullptr; });
            return now;
        };
    };
    router.add("/backend/", serve(0));
    if (!sub_directory.empty()) router.add(sub_directory + "/backend/", serve(sub_directory.size()));
}

bool BackendApi::authorized(const config::ClientConfig& client, std::string_view authorization) {
    // As the Node server reads it: the second blank-separated word, base64 "key:secret".
    auto space = authorization.find(' ');
    if (space == std::string_view::npos) return false;
    std::string_view token = authorization.substr(space + 1);
    token = token.substr(0, token.find(' '));
    auto decoded = net::eio::base64_decode(token);
    if (!decoded) return false;
    auto colon = decoded->find(':');
    if (colon == std::string::npos) return false;
    const bool key_ok = constant_time_equal(std::string_view(*decoded).substr(0, colon), client.auth_key);
    const bool secret_ok = constant_time_equal(std::string_view(*decoded).substr(colon + 1), client.auth_secret);
    return key_ok && secret_ok;
}

void BackendApi::update_credentials(const config::ClientConfig& client) {
    for (auto& c : clients_)
        if (c.config.name == client.name) {
            c.config.auth_key = client.auth_key;
            c.config.auth_secret = client.auth_secret;
        }
}

void BackendApi::add_client(Client client) { clients_.push_back(std::move(client)); }

void BackendApi::remove_client(const std::string& name) {
    std::erase_if(clients_, [&](const Client& c) { return c.config.name == name; });
}

const BackendApi::Client* BackendApi::find_client(std::string_view name) const {
    for (const auto& client : clients_)
        if (client.config.name == name) return &client;
    return nullptr;
}

std::optional<HttpResponse> BackendApi::handle(const net::HttpRequest& request, Answer later) const {
    const auto started = std::chrono::steady_clock::now();
    auto count = [metrics = metrics_, started](std::string_view route_name, const HttpResponse& response) {
        if (!metrics) return;
        // "denied" apart from other failures: wrong credentials are an alert of their own.
        const std::string_view result = response.status != 200 ? "failure"
                                        : response.body.starts_with(R"({"status":403)") ? "denied"
                                                                                           : "success";
        metrics->backend_requests(route_name, result).Increment();
        metrics->backend_request_duration_seconds(route_name)
            .Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    };
    // Route names view the route table, which outlives any answer.
    auto route_name = std::make_shared<std::string_view>("unknown");
    Answer counted = [route_name, count, later = std::move(later)](HttpResponse response) {
        count(*route_name, response);
        later(std::move(response));
    };
    auto response = route(request, *route_name, counted);
    if (response) count(*route_name, *response);
    return response;
}

HttpResponse BackendApi::apply(const std::string& client_name, const Change& change, const rapidjson::Value& payload) const {
    const Client* client = find_client(client_name);
    // [action, message, params...]
    if (!client || !client->rooms || payload.Size() < 2 || !payload[1].IsString())
        return HttpResponse::json_error(503, "Namespace not ready");
    Call call{*client, {}, std::string(payload[1].GetString(), payload[1].GetStringLength()), change.ts};
    for (rapidjson::SizeType i = 2; i < payload.Size(); ++i)
        if (payload[i].IsString()) call.params.emplace_back(payload[i].GetString(), payload[i].GetStringLength());
    for (const auto& route : route_table)
        if (route.action == change.kind && route.params == call.params.size()) return route.handler(call);
    spdlog::warn("Cluster: backend change \"{}\" unknown to this version, skipped", change.kind);
    return HttpResponse::json_error(404, "Not Found");
}

std::optional<HttpResponse> BackendApi::route(const net::HttpRequest& request, std::string_view& route_name,
                                              Answer& later) const {
    constexpr std::string_view prefix = "/backend/";
    if (request.method != net::HttpMethod::get && request.method != net::HttpMethod::head)
        return HttpResponse::json_error(405, "Method Not Allowed: the backend API takes GET only");

    auto segments = split_segments(std::string_view(request.path).substr(prefix.size()));
    if (segments.size() < 2) return HttpResponse::json_error(404, "Not Found");
    const std::string& action = segments[0];
    const size_t params = segments.size() - 2;

    const Client* client = find_client(segments[1]);
    const Shape database_shape = client && client->rooms && client->rooms->legacy_schema() ? Shape::ilias8 : Shape::ilias9;
    for (const auto& route : route_table) {
        if (!same_action(route.action, action)) continue;
        const bool fits = route.title_last ? params >= route.params && route.shape == database_shape
                                           : params == route.params;
        if (!fits) continue;
        route_name = route.action;
        if (!client) {
            // docs/decisions.md D21: the Node server answered Heartbeat whatever the name, and the old image's
            // health checks use a fixed one; which clients are up is for /readyz and the admin socket.
            if (route.open) return json_ok(std::string(alive));
            return HttpResponse::json_error(404, "Unknown namespace \"" + segments[1] + "\"");
        }
        if (!route.open) {
            if (request.authorization.empty()) {
                spdlog::warn("Access denied cause of missing authorization header for {}", client->config.name);
                return access_denied();
            }
            if (!authorized(client->config, request.authorization)) {
                spdlog::warn("Access denied cause of no permission for {}", client->config.name);
                return access_denied();
            }
            spdlog::debug("Access granted for {}", client->config.name);
            if (!client->rooms) return HttpResponse::json_error(503, "Namespace not ready");
        }
        const auto first = segments.begin() + 2;
        Call call{*client, {first, first + static_cast<std::ptrdiff_t>(route.params)},
                  std::string(request.query_value("message")), now_ms()};
        for (size_t i = 2 + route.params; i < segments.size(); ++i) call.params.back() += "/" + segments[i];
        if (!route.changes || !client->log) return route.handler(call);
        std::string args = text::json_string(call.message);
        for (const auto& param : call.params) args += "," + text::json_string(param);
        // Answered inside append() on a single node, later in a cluster.
        struct Pending {
            std::optional<HttpResponse> now;
            bool returned = false;
        };
        auto pending = std::make_shared<Pending>();
        client->log->append(Change(Change::Chat::backend, std::string(route.action), call.ts)
                                .carrying(net::sio::event_payload(route.action, args)),
                            nullptr, [pending, later](HttpResponse response) {
                                if (pending->returned) later(std::move(response));
                                else pending->now = std::move(response);
                            });
        pending->returned = true;
        return std::move(pending->now);
    }
    return HttpResponse::json_error(404, "Not Found");
}

}  // namespace ilchat::chat
