#include <catch2/catch.hpp>

#include <set>

#include "daemon/chat/backend_api.h"
#include "daemon/net/engineio_packet.h"

using namespace ilchat;

namespace {

chat::BackendApi api() {
    config::ClientConfig client;
    client.name = "ilias";
    client.auth_key = "key";
    client.auth_secret = "s3:cret";
    return chat::BackendApi({{client, nullptr}});
}

std::string basic(const std::string& credentials) { return "Basic " + net::eio::base64_encode(credentials); }

net::HttpResponse answer_of(const net::HttpRequest& request) {
    auto answer = api().handle(request, [](net::HttpResponse) { FAIL("a single node answers at once"); });
    REQUIRE(answer);
    return *answer;
}

net::HttpResponse get(const std::string& path, net::HttpMethod method = net::HttpMethod::get) {
    net::HttpRequest request;
    request.method = method;
    request.path = path;
    return answer_of(request);
}

}  // namespace

TEST_CASE("Heartbeat answers for a configured client, as Express would match it", "[backend]") {
    for (const char* path : {"/backend/Heartbeat/ilias", "/backend/heartbeat/ilias/", "/backend/HEARTBEAT/ilias"}) {
        INFO(path);
        auto r = get(path);
        CHECK(r.status == 200);
        CHECK(r.content_type == "application/json; charset=utf-8");
        CHECK(r.body == R"({"status":200})");
    }
    CHECK(get("/backend/Heartbeat/ilias", net::HttpMethod::head).status == 200);
}

TEST_CASE("unknown routes and namespaces get JSON errors", "[backend]") {
    auto unknown_ns = get("/backend/Connect/other/1/6");
    CHECK(unknown_ns.status == 404);
    CHECK(unknown_ns.body == R"({"status":404,"message":"Unknown namespace \"other\""})");
    // D21: Heartbeat answers for any name, as the Node server did.
    CHECK(get("/backend/Heartbeat/other").status == 200);
    CHECK(get("/backend/Heartbeat/onscreen").body == R"({"status":200})");
    CHECK(get("/backend/Nothing/ilias").status == 404);
    CHECK(get("/backend/Heartbeat/ilias/extra").status == 404);
    CHECK(get("/backend/").status == 404);
    CHECK(get("/backend/Heartbeat/ilias", net::HttpMethod::post).status == 405);
}

TEST_CASE("Basic credentials are read the way the Node server reads them", "[backend]") {
    config::ClientConfig client;
    client.auth_key = "key";
    client.auth_secret = "secret";
    using chat::BackendApi;
    CHECK(BackendApi::authorized(client, basic("key:secret")));
    CHECK(BackendApi::authorized(client, "Anything " + net::eio::base64_encode("key:secret")));  // scheme not checked
    CHECK_FALSE(BackendApi::authorized(client, basic("key:secretx")));
    CHECK_FALSE(BackendApi::authorized(client, basic("key:secre")));
    CHECK_FALSE(BackendApi::authorized(client, basic("kex:secret")));
    CHECK_FALSE(BackendApi::authorized(client, basic("keysecret")));
    CHECK_FALSE(BackendApi::authorized(client, "Basic"));
    CHECK_FALSE(BackendApi::authorized(client, "Basic !!!not-base64"));
    CHECK_FALSE(BackendApi::authorized(client, ""));
}

TEST_CASE("authenticated routes answer 200 {status:403} without the right credentials", "[backend]") {
    net::HttpRequest request;
    request.method = net::HttpMethod::get;
    request.path = "/backend/Connect/ilias/1/6";
    CHECK(answer_of(request).body == R"({"status":403,"message":"Access denied"})");
    request.authorization = basic("key:wrong");
    auto denied = answer_of(request);
    CHECK(denied.status == 200);
    CHECK(denied.body == R"({"status":403,"message":"Access denied"})");
}

TEST_CASE("every backend route of both ILIAS shapes is in the table", "[backend]") {
    std::set<std::pair<std::string, size_t>> shapes;
    for (const auto& r : chat::BackendApi::routes()) CHECK(shapes.insert({std::string(r.action), r.params}).second);
    for (auto [action, params] : std::initializer_list<std::pair<const char*, size_t>>{
             {"Heartbeat", 0}, {"Connect", 2}, {"EnterPrivateRoom", 2}, {"EnterPrivateRoom", 3},
             {"CreatePrivateRoom", 3}, {"CreatePrivateRoom", 4}, {"LeavePrivateRoom", 2}, {"LeavePrivateRoom", 3},
             {"InvitePrivateRoom", 3}, {"InvitePrivateRoom", 4}, {"DeletePrivateRoom", 3}, {"ClearMessages", 2},
             {"ClearMessages", 3}, {"Kick", 2}, {"Kick", 3}, {"Ban", 2}, {"Ban", 3}, {"GetRooms", 0}, {"Post", 1}})
        CHECK(shapes.count({action, params}) == 1);
}
