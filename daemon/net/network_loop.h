#pragma once

#include <memory>
#include <string>

#include "common/thread/mailbox.h"
#include "daemon/net/http_router.h"
#include "daemon/net/timer_queue.h"

struct lws_context;
struct lws;
struct ev_loop;

namespace ilchat::net {

struct ListenSpec {
    std::string address;  // a numeric IPv4 or IPv6 address (resolve host names before)
    int port = 0;
    std::string tls_cert;  // both set: serve https
    std::string tls_key;
};

// The network thread (docs/architecture.md): one libwebsockets context with the single listener, all HTTP
// dispatch and all chat state. Other threads reach it only through mailbox().
// libwebsockets runs on a libev loop (epoll): its own poll() loop walked every descriptor on every
// wake-up, so an idle server with many connections spent a core doing nothing.
class NetworkLoop {
public:
    // Binds the listener; throws std::runtime_error when it cannot. Routes are added to router()
    // before run().
    explicit NetworkLoop(const ListenSpec& listen);
    ~NetworkLoop();
    NetworkLoop(const NetworkLoop&) = delete;
    NetworkLoop& operator=(const NetworkLoop&) = delete;

    // Serves until stop() is called on this thread (usually from a mailbox job).
    void run();
    void stop();
    // One more turn of the loop after run() returned (closing down): waits for an event, or
    // handles only what is ready.
    void run_once(bool wait);

    Mailbox& mailbox() { return mailbox_; }
    lws_context* context() const { return context_.get(); }
    HttpRouter& router() { return router_; }
    TimerQueue& timers() { return *timers_; }

    // Entry of libwebsockets' protocol callback.
    int on_http_event(lws* wsi, int reason, void* user, void* in, size_t len);

private:
    struct ContextDeleter {
        void operator()(lws_context* context) const;
    };
    struct LoopDeleter {
        void operator()(struct ev_loop* loop) const;
    };

    HttpRouter router_;
    Mailbox mailbox_;
    std::unique_ptr<struct ev_loop, LoopDeleter> loop_;     // before context_: outlives it
    std::unique_ptr<lws_context, ContextDeleter> context_;
    std::unique_ptr<TimerQueue> timers_;  // after context_: gone before it
};

}  // namespace ilchat::net
