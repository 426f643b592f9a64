#include "daemon/net/network_loop.h"

#include <stdexcept>

#include <ev.h>
#include <libwebsockets.h>
#include <spdlog/spdlog.h>

#include "daemon/net/http_exchange.h"
#include "daemon/net/websocket_connection.h"

namespace ilchat::net {

namespace {

// What libwebsockets keeps per connection for us: an HTTP transaction, or an accepted websocket.
struct ConnectionSlot {
    HttpExchange* http;
    WebSocketConnection* ws;
};

// Large enough for the Cookie and Authorization headers browsers and PHP send.
constexpr unsigned short max_header_bytes = 8192;

int http_callback(lws* wsi, lws_callback_reasons reason, void* user, void* in, size_t len) {
    auto* loop = static_cast<NetworkLoop*>(lws_context_user(lws_get_context(wsi)));
    return loop ? loop->on_http_event(wsi, reason, user, in, len) : 0;
}

// Every connection has a receive buffer of rx_buffer_size: browsers send small packets, and a
// larger message arrives in pieces that WebSocketConnection joins, so 256 bytes is enough (1 KB
// cost an idle client 0.8 KB more). tx_packet_size must then be set on its own: left at 0,
// libwebsockets takes rx_buffer_size for it and keeps what a write holds beyond that in a
// buffer of its own per connection, which made a small receive buffer cost more than it saved.
constexpr std::size_t receive_buffer_bytes = 256;
constexpr std::size_t largest_write_bytes = 128 * 1024;  // above WebSocketConnection's 64 KB batches

const lws_protocols protocols[] = {
    {"http", http_callback, sizeof(ConnectionSlot), receive_buffer_bytes, 0, nullptr, largest_write_bytes},
    {nullptr, nullptr, 0, 0, 0, nullptr, 0},
};

void log_from_lws(int level, const char* line) {
    std::string_view text(line);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
    if (level & LLL_ERR) spdlog::warn("libwebsockets: {}", text);
    else spdlog::debug("libwebsockets: {}", text);
}

}  // namespace

void NetworkLoop::ContextDeleter::operator()(lws_context* context) const { lws_context_destroy(context); }

void NetworkLoop::LoopDeleter::operator()(struct ev_loop* loop) const { ev_loop_destroy(loop); }

NetworkLoop::NetworkLoop(const ListenSpec& listen)
    : mailbox_([this] {
          if (context_) lws_cancel_service(context_.get());
      }),
      loop_(ev_loop_new(EVFLAG_AUTO)) {
    lws_set_log_level(LLL_ERR | LLL_WARN, log_from_lws);
    if (!loop_) throw std::runtime_error("cannot create the network event loop (libev)");

    lws_context_creation_info info{};
    info.port = listen.port;
    info.iface = listen.address.c_str();
    info.protocols = protocols;
    info.user = this;
    info.max_http_header_data = max_header_bytes;
    info.options = LWS_SERVER_OPTION_VALIDATE_UTF8 | LWS_SERVER_OPTION_LIBEV;
    void* foreign_loops[] = {loop_.get()};
    info.foreign_loops = foreign_loops;
    // With IPv6 enabled libwebsockets binds an IPv4 `iface` as the IPv6 wildcard, i.e. on every
    // interface; an IPv4 address therefore gets an IPv4-only context. An IPv6 address binds
    // only itself (v6only), so "::1" does not also take 127.0.0.1.
    if (listen.address.find(':') == std::string::npos) info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    else info.options |= LWS_SERVER_OPTION_IPV6_V6ONLY_MODIFY | LWS_SERVER_OPTION_IPV6_V6ONLY_VALUE;
    if (!listen.tls_cert.empty()) {
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        info.ssl_cert_filepath = listen.tls_cert.c_str();
        info.ssl_private_key_filepath = listen.tls_key.c_str();
    }
    info.timeout_secs = 30;
    // Engine.IO pings the clients itself. libwebsockets' own validity timer (a default of 300 s
    // per connection) would be moved in its sorted timer list on every frame received: a walk
    // of the list, that is of every connection, per frame.
    static const lws_retry_bo_t no_validity_timer{};
    info.retry_and_idle_policy = &no_validity_timer;
    context_.reset(lws_create_context(&info));
    if (!context_)
        throw std::runtime_error("cannot listen on " + listen.address + " port " + std::to_string(listen.port) +
                                 " (address in use, not local, or not permitted; or libwebsockets' libev "
                                 "plugin, package libwebsockets-evlib-ev, is missing)");
    timers_ = std::make_unique<TimerQueue>(loop_.get());
}

NetworkLoop::~NetworkLoop() = default;

void NetworkLoop::run() { ev_run(loop_.get(), 0); }

void NetworkLoop::stop() { ev_break(loop_.get(), EVBREAK_ALL); }

void NetworkLoop::run_once(bool wait) { ev_run(loop_.get(), wait ? EVRUN_ONCE : EVRUN_NOWAIT); }

int NetworkLoop::on_http_event(lws* wsi, int reason, void* user, void* in, size_t len) {
    // libwebsockets calls without per-connection storage too, e.g. when a request's headers
    // overflow before the connection was bound to this protocol.
    auto* slot = static_cast<ConnectionSlot*>(user);
    if (!slot && reason != LWS_CALLBACK_EVENT_WAIT_CANCELLED)
        return lws_callback_http_dummy(wsi, static_cast<lws_callback_reasons>(reason), user, in, len);
    switch (reason) {
        case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
            mailbox_.drain();
            return 0;
        case LWS_CALLBACK_HTTP:
            if (!slot->http) slot->http = new HttpExchange(wsi);
            return slot->http->begin(static_cast<const char*>(in), router_);
        case LWS_CALLBACK_HTTP_BODY:
            return slot->http ? slot->http->body(static_cast<const char*>(in), len, router_) : -1;
        case LWS_CALLBACK_HTTP_BODY_COMPLETION:
            return slot->http ? slot->http->body_complete(router_) : -1;
        case LWS_CALLBACK_HTTP_WRITEABLE:
            return slot->http ? slot->http->writeable() : -1;
        case LWS_CALLBACK_CLOSED_HTTP:
        case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
            delete slot->http;
            slot->http = nullptr;
            return 0;

        case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
            // A keep-alive HTTP connection may upgrade; its exchange is finished.
            delete slot->http;
            slot->http = nullptr;
            auto request = read_upgrade_request(wsi);
            slot->ws = router_.accept_websocket(request, wsi);
            return slot->ws ? 0 : -1;  // refused before the 101
        }
        case LWS_CALLBACK_ESTABLISHED:
            return slot->ws ? slot->ws->on_established() : -1;
        case LWS_CALLBACK_RECEIVE:
            if (!slot->ws) return -1;
            return slot->ws->on_receive(in, len, lws_is_first_fragment(wsi), lws_is_final_fragment(wsi),
                                        lws_frame_is_binary(wsi));
        case LWS_CALLBACK_SERVER_WRITEABLE:
            return slot->ws ? slot->ws->on_writeable() : -1;
        case LWS_CALLBACK_CLOSED:
            if (slot->ws) {
                slot->ws->on_closed();
                delete slot->ws;
                slot->ws = nullptr;
            }
            return 0;
        default:
            return lws_callback_http_dummy(wsi, static_cast<lws_callback_reasons>(reason), user, in, len);
    }
}

}  // namespace ilchat::net
