#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <ev.h>
#include <libwebsockets.h>

#include "tests/bench/loadgen/error_log.h"
#include "tests/bench/loadgen/figures.h"
#include "tests/bench/loadgen/options.h"
#include "tests/bench/loadgen/websocket.h"

namespace ilchat::loadgen {

// The simulated browsers: one Engine.IO 4 websocket per user, with the room namespace and
// optionally the On-Screen Chat namespace multiplexed on it as socket.io-client does, all on
// one libwebsockets client context served by the calling thread (raw sockets, websocket
// framing in websocket.h). Runs the phases connect, settle, steady (room messages at --rate),
// drain and hold, driven by a 1 ms timer.
//
// The loop is libev's (epoll), run as libwebsockets' foreign loop: with its default poll()
// loop every turn costs time in proportion to all open connections, which at 20,000 of them
// and a turn per millisecond left no time for anything else.
class Fleet {
public:
    // `registered`: per client, whether the backend knows the user (others are not connected).
    // `deadline`: steady-clock nanoseconds of the hard time limit.
    Fleet(const Options& options, const std::vector<std::uint8_t>& registered, ErrorLog& errors,
          std::int64_t deadline);
    ~Fleet();
    Fleet(const Fleet&) = delete;
    Fleet& operator=(const Fleet&) = delete;

    // Runs every phase; returns when the run is over (done, time limit or `stop` set).
    void run(const std::atomic<bool>& stop);
    const Figures& figures() const { return figures_; }

private:
    enum class State : std::uint8_t { idle, connecting, ready, failed, skipped };
    enum class Phase : std::uint8_t { connecting, settle, steady, drain, hold, done };

    struct Client {
        lws* wsi = nullptr;
        int index = 0;
        int room = 0;
        State state = State::idle;
        bool upgraded = false;     // the server answered 101
        bool opened = false;       // Engine.IO open packet seen
        bool room_entered = false;
        bool im_logged_in = false;
        bool in_message = false;   // a fragmented websocket message goes on
        bool skipping = false;     // the rest of that message is of no interest
        std::int64_t started_ns = 0;
        ws::FrameReader reader;
        std::string incoming;      // the HTTP answer, then pieces of one websocket message
        std::string control;       // payload of the control frame being read
    };
    struct Message {
        std::uint32_t expected;
        std::uint32_t received;
    };
    struct ContextDeleter {
        void operator()(lws_context* context) const { lws_context_destroy(context); }
    };
    struct LoopDeleter {
        void operator()(struct ev_loop* loop) const { ev_loop_destroy(loop); }
    };

    static int callback(lws* wsi, lws_callback_reasons reason, void* user, void* in, std::size_t len);
    static void on_tick(struct ev_loop* loop, ev_timer* timer, int events);

    void on_connected(Client& c);
    void on_bytes(Client& c, std::string_view data);
    void on_handshake_bytes(Client& c, std::string_view& data);
    void on_piece(Client& c, const ws::FrameReader::Piece& piece);
    void on_packet(Client& c, std::string_view packet);
    void on_socketio(Client& c, std::string_view packet);
    void on_room_event(Client& c, std::string_view name, std::string_view rest);
    void on_delivery(std::string_view marked);
    bool worth_collecting(std::string_view first_piece) const;

    void tick();
    void start_connections(std::int64_t now);
    void check_ready_timeouts(std::int64_t now);
    void send_messages(std::int64_t now);
    void enter(Phase phase, std::int64_t now);
    void progress(std::int64_t now) const;
    void finish(std::int64_t now);

    void connect(Client& c, std::int64_t now);
    void send(Client& c, ws::Opcode opcode, std::string_view payload);
    void send_text(Client& c, std::string_view payload) { send(c, ws::Opcode::text, payload); }
    void close_later(Client& c);
    unsigned char* write_buffer(std::size_t size);  // reused; raw writes need no LWS_PRE headroom
    void maybe_ready(Client& c);
    void fail(Client& c, std::string_view kind, std::string_view detail);
    std::uint32_t random32();

    const Options& options_;
    const std::vector<std::uint8_t>& registered_;
    ErrorLog& errors_;
    const std::int64_t deadline_;
    const std::atomic<bool>* stop_ = nullptr;

    // Pre-built protocol text.
    std::string room_ns_;       // "/<name>"
    std::string im_ns_;         // "/<name>-im"
    std::string upgrade_head_;  // the upgrade request up to the Sec-WebSocket-Key value
    std::string message_head_;  // "42/<name>,[\"message\",{\"content\":\""
    std::vector<std::string> message_tails_;  // per room: "\",\"format\":{}},<roomId>]"
    std::uint32_t tag_;         // tells this process's messages from those of parallel ones
    std::uint64_t random_state_;
    std::string payload_;       // reused for each outgoing message
    std::vector<unsigned char> frame_;  // see write_buffer()

    std::vector<Client> clients_;
    std::vector<int> senders_;
    std::vector<std::uint32_t> room_ready_;
    std::vector<Message> messages_;

    Phase phase_ = Phase::connecting;
    std::int64_t run_started_ns_ = 0;
    std::int64_t phase_started_ns_ = 0;
    std::int64_t steady_started_ns_ = 0;
    std::int64_t last_ready_ns_ = 0;
    std::int64_t last_traffic_ns_ = 0;
    std::int64_t next_timeout_check_ns_ = 0;
    std::int64_t next_progress_ns_ = 0;
    std::int64_t last_tick_ns_ = 0;
    std::uint64_t traffic_ = 0;  // websocket messages other than heartbeats, for the settle phase
    std::uint64_t traffic_seen_ = 0;
    int next_client_ = 0;
    int in_flight_ = 0;
    std::size_t next_sender_ = 0;
    std::uint64_t scheduled_ = 0;
    bool stopping_ = false;

    Figures figures_;

    std::unique_ptr<struct ev_loop, LoopDeleter> loop_;
    ev_timer tick_{};
    // Last: destroyed first, so that the callbacks it makes while closing still find the
    // clients, and its watchers still find the loop.
    std::unique_ptr<lws_context, ContextDeleter> context_;
};

}  // namespace ilchat::loadgen
