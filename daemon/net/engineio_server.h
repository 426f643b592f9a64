#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "daemon/net/engineio_packet.h"
#include "daemon/net/frame.h"
#include "daemon/net/http_message.h"
#include "daemon/net/http_router.h"
#include "daemon/net/loop_timer.h"

struct lws;

namespace ilchat::net {
class HttpExchange;
class WebSocketConnection;
}  // namespace ilchat::net

namespace ilchat::metrics {
class Metrics;
}

// Engine.IO server of both protocol generations on one endpoint (docs/protocol.md, "Engine.IO"):
// handshake, long-polling (and JSONP for Engine.IO 3), upgrade to websocket, heartbeat, bounded
// send queues. `EIO=4` opens an Engine.IO 4 session; anything else an Engine.IO 3 one, since
// engine.io 3 never looked at the parameter. Runs on the network loop.
namespace ilchat::net::eio {

struct Settings {
    std::chrono::milliseconds ping_interval{25000};
    std::chrono::milliseconds ping_timeout{20000};
    std::chrono::milliseconds legacy_ping_timeout{5000};  // told to Engine.IO 3 clients
    // Off: EIO=3 (and a missing EIO) is refused with engine.io 4's "Unsupported protocol version",
    // as socket.io 4 does without allowEIO3.
    bool allow_eio3 = true;
    std::chrono::milliseconds upgrade_timeout{10000};
    std::size_t max_payload = 1000000;
    // A client that does not read is disconnected before its queue grows past these.
    std::size_t max_queued_packets = 10000;
    std::size_t max_queued_bytes = 8 * 1024 * 1024;
    metrics::Metrics* metrics = nullptr;  // counts handshakes, failures and disconnects when given
    // Begins every session id: in a cluster "<node>.", so that a load balancer routes each
    // request of a session to the node that opened it (docs/cluster.md, "Stickiness").
    std::string sid_prefix;
};

enum class CloseReason { client_close, transport_close, ping_timeout, parse_error, slow_consumer, server_close };
std::string_view describe(CloseReason reason);

class Server;
class WebSocketTransport;

// How a polling request wants its answer: Engine.IO 3 clients may ask for base64 binary (b64=1)
// or JSONP (j=<index>).
struct PollFormat {
    bool base64 = false;
    std::string jsonp_index;  // empty: not JSONP
};

class Session {
public:
    Session(Server& server, std::string id, Protocol protocol);
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    const std::string& id() const { return id_; }
    Protocol protocol() const { return protocol_; }
    bool on_websocket() const { return websocket_ != nullptr; }
    bool upgrading() const { return probe_ != nullptr; }
    bool closed() const { return closed_; }

    // Queues an Engine.IO packet frame (see message_frame()); dropped after close.
    void send(const SharedFrame& frame);
    void close(CloseReason reason);
    // Closes so that the client sees a close, not a reset: what is queued goes out first, with a
    // close packet on the waiting poll or a close frame on the websocket. A polling session with
    // no poll waiting is closed by its next poll.
    void shut_down();

    // For the layer above: its per-session state lives here and dies with the session.
    struct Attachment {
        virtual ~Attachment() = default;
    };
    std::unique_ptr<Attachment> attachment;

    // Transport events (called by Server and WebSocketTransport).
    // The answer to the opening poll: the open packet and whatever the layer above queued when
    // it was told of the session (Socket.IO rev 4 connects "/" at once).
    HttpResponse handshake(const HttpRequest& request, const PollFormat& format);
    std::optional<HttpResponse> poll(const HttpRequest& request, HttpExchange& exchange);
    std::optional<HttpResponse> post_started(const HttpRequest& request, HttpExchange& exchange);
    HttpResponse post(const HttpRequest& request);
    void websocket_message(WebSocketTransport& transport, std::string_view data, bool binary);
    void websocket_closed(WebSocketTransport& transport);
    void attach_probe(WebSocketTransport* transport);
    void attach_websocket(WebSocketTransport* transport);

private:
    void handle_packet(const Packet& packet);
    void schedule_ping();
    void send_ping();
    void expect_heartbeat();
    void heartbeat_missed();
    void send_on_websocket(WebSocketTransport& transport, const SharedFrame& frame);
    void flush_poll();
    void finish_upgrade();
    void release_parked(std::span<const SharedFrame> frames);
    HttpResponse refuse(const HttpRequest& request, CloseReason reason, int status = 400);
    bool parked_alive();  // drops a parked poll whose client hung up
    bool over_limits(std::size_t packets, std::size_t bytes) const;

    Server& server_;
    std::string id_;
    const Protocol protocol_;
    // The heartbeat the client was told at the handshake: an Engine.IO 4 client closes when no
    // ping comes within them, an Engine.IO 3 client pings at that interval. A longer interval set
    // by a reload is therefore for new sessions only.
    const std::chrono::milliseconds told_ping_interval_;
    const std::chrono::milliseconds told_ping_timeout_;
    WebSocketTransport* websocket_ = nullptr;  // the transport once upgraded (or websocket-only)
    WebSocketTransport* probe_ = nullptr;      // a websocket being upgraded to
    bool probed_ = false;                      // "2probe" answered: polling is paused with noops
    bool closing_by_client_ = false;           // a close packet came with no poll waiting
    HttpExchange* parked_ = nullptr;           // the long-poll GET waiting for packets
    PollFormat parked_format_;
    bool receiving_post_ = false;              // a POST body is still arriving
    std::vector<std::pair<std::string, std::string>> parked_headers_;
    std::vector<SharedFrame> queue_;           // polling only
    std::size_t queued_bytes_ = 0;
    LoopTimer ping_timer_;       // Engine.IO 4: the next server ping
    LoopTimer heartbeat_timer_;  // closes the session when the client's heartbeat stops
    std::chrono::steady_clock::time_point last_heard_ = std::chrono::steady_clock::now();  // Engine.IO 3
    LoopTimer upgrade_timer_;
    bool closed_ = false;
};

class SessionHandler {
public:
    virtual ~SessionHandler() = default;
    virtual void on_open(Session& session) = 0;
    virtual void on_message(Session& session, std::string_view data, bool binary) = 0;
    // The session is closed: nothing can be sent any more; it is destroyed soon after.
    virtual void on_close(Session& session, CloseReason reason) = 0;
};

class Server {
public:
    Server(TimerQueue& timers, Settings settings, SessionHandler& handler);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    std::optional<HttpResponse> handle_http(const HttpRequest& request, HttpExchange& exchange);
    // A POST's headers arrived: a second POST while one is still arriving is refused.
    std::optional<HttpResponse> post_started(const HttpRequest& request, HttpExchange& exchange);
    WebSocketConnection* accept_websocket(const HttpRequest& request, lws* wsi);

    std::size_t session_count() const { return sessions_.size(); }
    std::size_t websocket_session_count() const;
    Session* find(const std::string& sid);
    const Settings& settings() const { return settings_; }
    // A reload: open sessions take a new ping interval and timeout at their next ping, new limits
    // apply from the next packet; nothing open is closed. A smaller max_payload applies to every
    // message; a larger one only to new websockets, since open ones and the HTTP body limit (set
    // by mount()) keep the buffer size they started with.
    void reconfigure(const Settings& settings) { settings_ = settings; }
    SessionHandler& handler() { return handler_; }
    TimerQueue& timers() const { return timers_; }

    // CORS headers of a response to `request` (the Origin reflected, with credentials; "*" for an
    // Engine.IO 3 request without Origin, as engine.io 3 answered).
    static std::vector<std::pair<std::string, std::string>> cors_headers(const HttpRequest& request, Protocol protocol);

    // Stopping: new sessions are refused and every open one is shut down (Session::shut_down).
    void shut_down();
    // Closes still under way: polling sessions waiting for their next poll, websockets in their
    // close handshake. The network loop must run on until they are done (or it gives up).
    bool closing() const { return !sessions_.empty() || *open_websockets_ > 0; }

private:
    friend class Session;
    friend class WebSocketTransport;
    void retire(Session& session);  // removes it now, destroys it after the current callback

    TimerQueue& timers_;
    Settings settings_;
    SessionHandler& handler_;
    std::unordered_map<std::string_view, std::unique_ptr<Session>> sessions_;  // keys view the sessions' ids
    std::vector<std::unique_ptr<Session>> retired_;
    LoopTimer reaper_;
    bool shutting_down_ = false;
    // Shared with the transports: libwebsockets may destroy the last of them after the server.
    std::shared_ptr<std::size_t> open_websockets_ = std::make_shared<std::size_t>(0);
};

// Serves `server` under a path prefix (e.g. "/socket.io/"): polling requests and websocket
// upgrades alike.
void mount(HttpRouter& router, const std::string& prefix, Server& server);

// An Engine.IO message packet carrying `data` ("4" + text, or raw bytes for binary).
SharedFrame message_frame(std::string_view data, bool binary = false, std::string supersedes = {});

}  // namespace ilchat::net::eio
