#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

struct event_base;
struct evhttp;
struct evhttp_bound_socket;
struct evhttp_request;

namespace ilchat::ops {

// The operator's HTTP endpoint on the control loop (docs/architecture.md, "Threads and loops"), on its own
// address so that it never shares a port with the chat clients:
//   GET /metrics  Prometheus text format, from `render_metrics`
//   GET /healthz  200 "ok" as long as the control loop answers at all
//   GET /readyz   200 "ready", or 503 with the reason `not_ready` gives
// HEAD is answered like GET without the body; other methods get 405, other paths 404.
//
// Construct and destroy it on the loop's thread, or while the loop is not running: evhttp is
// not thread-safe. The callbacks run on that thread.
class HealthHttp {
public:
    struct Handlers {
        std::function<std::string()> render_metrics;
        std::function<std::optional<std::string>()> not_ready;  // the reason, or nullopt when ready
    };

    // `address` is "host:port" or "[IPv6]:port"; port 0 picks a free port (see port()).
    // Listens at once; throws std::runtime_error naming the address when it cannot.
    HealthHttp(event_base* base, const std::string& address, Handlers handlers);
    ~HealthHttp();
    HealthHttp(const HealthHttp&) = delete;
    HealthHttp& operator=(const HealthHttp&) = delete;

    std::uint16_t port() const { return port_; }

private:
    struct HttpDeleter {
        void operator()(evhttp* http) const;
    };
    // Stops listening and closes the socket; evhttp_free would too, but then the order of the
    // two releases would hide in libevent instead of showing in the member order below.
    struct BoundSocketDeleter {
        evhttp* http;
        void operator()(evhttp_bound_socket* bound) const;
    };

    void answer(evhttp_request* request);

    Handlers handlers_;
    std::unique_ptr<evhttp, HttpDeleter> http_;
    std::unique_ptr<evhttp_bound_socket, BoundSocketDeleter> bound_;
    std::uint16_t port_ = 0;
};

}  // namespace ilchat::ops
