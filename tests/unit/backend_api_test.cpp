#include <catch2/catch.hpp>

#include "daemon/chat/backend_api.h"

using namespace ilchat;

namespace {

chat::BackendApi api() {
    config::ClientConfig client;
    client.name = "ilias";
    return chat::BackendApi({client});
}

net::HttpResponse get(const std::string& path, net::HttpMethod method = net::HttpMethod::get) {
    net::HttpRequest request;
    request.method = method;
    request.path = path;
    return api().handle(request);
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
    auto unknown_ns = get("/backend/Heartbeat/other");
    CHECK(unknown_ns.status == 404);
    CHECK(unknown_ns.body == R"({"status":404,"message":"Unknown namespace \"other\""})");
    CHECK(get("/backend/Nothing/ilias").status == 404);
    CHECK(get("/backend/Heartbeat/ilias/extra").status == 404);
    CHECK(get("/backend/").status == 404);
    CHECK(get("/backend/Heartbeat/ilias", net::HttpMethod::post).status == 405);
}
