#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>

#include "daemon/net/chunked_body.h"
#include "daemon/net/http_message.h"
#include "daemon/net/http_router.h"

struct lws;

namespace ilchat::net {

// Reads method, path, query and the headers ilchatd uses from a connection whose request
// headers have arrived (an HTTP request or a websocket upgrade).
HttpRequest read_request_head(lws* wsi, std::string path);
HttpRequest read_upgrade_request(lws* wsi);  // a websocket upgrade: the path from its GET line

// One HTTP connection's current transaction on the network loop: collects the request (and its
// body), asks the router for the response, and writes it the way libwebsockets wants (headers
// now, body when the socket is writeable). Keep-alive connections reuse it per transaction.
// A handler may keep the exchange and answer later with respond(); if the client goes away
// first, the abandon callback tells it.
//
// respond() and peer_still_there() are virtual only so that unit tests can stand in for the
// connection of a kept long-poll (tests/unit/chat_harness.h) and drive Engine.IO sessions without
// a libwebsockets context; nothing in the daemon derives from this class.
class HttpExchange {
public:
    explicit HttpExchange(lws* wsi) : wsi_(wsi) {}
    virtual ~HttpExchange();
    HttpExchange(const HttpExchange&) = delete;
    HttpExchange& operator=(const HttpExchange&) = delete;

    // Each returns what the libwebsockets callback must return (non-zero closes).
    int begin(const char* path, const HttpRouter& router);
    int body(const char* data, size_t len, const HttpRouter& router);
    int body_complete(const HttpRouter& router);
    int writeable();

    // For a handler that kept the exchange: answer now; `close` ends the connection afterwards.
    virtual void respond(const HttpResponse& response, bool close = false);
    void on_abandon(std::function<void()> callback) { abandon_ = std::move(callback); }
    // For a kept exchange: false when the client has hung up meanwhile (the exchange is then
    // closed and must not be used again).
    virtual bool peer_still_there();

private:
    int dispatch(const HttpRouter& router);
    int refuse_body(const HttpRouter& router);
    int write_head(const HttpResponse& response);

    lws* wsi_;
    HttpRequest request_;
    std::string pending_body_;
    std::size_t body_limit_ = 0;
    std::optional<ChunkedBody> chunked_;  // the body comes with Transfer-Encoding: chunked
    bool dispatched_ = false;
    std::function<void()> abandon_;
    bool close_after_ = false;
    bool responding_ = false;  // headers written, body or completion still to come
    bool completing_ = false;
};

}  // namespace ilchat::net
