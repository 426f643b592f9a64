#pragma once

#include <cstddef>
#include <string>

#include "daemon/net/http_message.h"
#include "daemon/net/http_router.h"

struct lws;

namespace ilchat::net {

// One HTTP connection's current transaction on the network loop: collects the request (and its
// body), asks the router for the response, and writes it the way libwebsockets wants (headers
// now, body when the socket is writeable). Keep-alive connections reuse it per transaction.
class HttpExchange {
public:
    explicit HttpExchange(lws* wsi) : wsi_(wsi) {}

    // Each returns what the libwebsockets callback must return (non-zero closes).
    int begin(const char* path, const HttpRouter& router);
    int body(const char* data, size_t len, const HttpRouter& router);
    int body_complete(const HttpRouter& router);
    int writeable();

    // Request bodies above this are refused with 413 (Engine.IO maxPayload is enforced later, by
    // the Engine.IO layer; this guards everything else).
    static constexpr size_t max_body_bytes = 16 * 1024 * 1024;

private:
    int respond(const HttpResponse& response);

    lws* wsi_;
    HttpRequest request_;
    std::string pending_body_;
    bool body_refused_ = false;
    bool responding_ = false;  // headers written, body or completion still to come
    bool completing_ = false;
};

}  // namespace ilchat::net
