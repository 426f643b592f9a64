#include "tests/bench/loadgen/fleet.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <random>
#include <stdexcept>

#include "tests/bench/loadgen/base64.h"
#include "tests/bench/loadgen/clock.h"

namespace ilchat::loadgen {

namespace {

constexpr std::string_view marker = "~lg~";
constexpr std::size_t read_buffer_bytes = 64 << 10;  // one recv() takes up to this much
constexpr std::size_t max_message_bytes = 16 << 20;
constexpr std::size_t max_handshake_bytes = 16 << 10;
constexpr std::size_t keep_collect_capacity = 64 << 10;
constexpr double tick_seconds = 0.001;
constexpr std::int64_t timeout_check_ns = 100'000'000;
constexpr std::int64_t progress_ns = 5'000'000'000;
// The server's answers to room entries (user lists to the whole room, notices) have died down
// when nothing but heartbeats arrived for this long.
constexpr std::int64_t quiet_ns = 250'000'000;
constexpr int max_lws_log_lines = 20;

double seconds(std::int64_t ns) { return static_cast<double>(ns) / 1e9; }

// libwebsockets' own errors, on stderr; a server that refuses thousands of connections would
// otherwise bury the summary.
void lws_log(int, const char* line) {
    static int lines = 0;
    if (++lines > max_lws_log_lines) {
        if (lines == max_lws_log_lines + 1) std::fputs("loadgen: further libwebsockets errors not shown\n", stderr);
        return;
    }
    std::fprintf(stderr, "loadgen: libwebsockets: %s", line);
}

// The events whose payload matters; every other event (user lists, notices) is only skipped.
bool handled_event(std::string_view name) {
    return name == "message" || name == "loggedIn" || name == "private_room_entered" || name == "login" ||
           name == "shutdown" || name == "userjustkicked" || name == "userjustbanned";
}

// "<digits>~": the number, and `text` advanced past the '~'.
bool take_number(std::string_view& text, std::uint64_t& value) {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end == text.data() + text.size() || *end != '~') return false;
    text.remove_prefix(static_cast<std::size_t>(end - text.data()) + 1);
    return true;
}

void append_number(std::string& out, std::uint64_t number) {
    char digits[24];
    out.append(digits, std::to_chars(digits, digits + sizeof digits, number).ptr);
}

}  // namespace

Fleet::Fleet(const Options& options, const std::vector<std::uint8_t>& registered, ErrorLog& errors,
             std::int64_t deadline)
    : options_(options), registered_(registered), errors_(errors), deadline_(deadline) {
    room_ns_ = "/" + options.name;
    im_ns_ = "/" + options.name + "-im";
    const bool v6 = options.host.find(':') != std::string::npos;
    const std::string host_header = (v6 ? "[" + options.host + "]" : options.host) + ":" + std::to_string(options.port);
    upgrade_head_ = "GET " + options.path + "?EIO=4&transport=websocket HTTP/1.1\r\nHost: " + host_header +
                    "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                    "Sec-WebSocket-Key: ";
    message_head_ = "42" + room_ns_ + R"(,["message",{"content":")";
    for (int r = 0; r < options.rooms; ++r)
        message_tails_.push_back(R"(","format":{}},)" + std::to_string(room_id_of(options, r)) + "]");
    tag_ = static_cast<std::uint32_t>(::getpid());
    random_state_ = (static_cast<std::uint64_t>(std::random_device{}()) << 32 | std::random_device{}()) | 1;
    payload_.reserve(message_head_.size() + 128 + static_cast<std::size_t>(options.message_bytes));

    clients_.resize(static_cast<std::size_t>(options.clients));
    for (int i = 0; i < options.clients; ++i) {
        clients_[static_cast<std::size_t>(i)].index = i;
        clients_[static_cast<std::size_t>(i)].room = room_index_of(options, i);
    }
    const int senders = options.senders == 0 ? options.clients : options.senders;
    for (int i = 0; i < senders; ++i) senders_.push_back(i);
    room_ready_.assign(static_cast<std::size_t>(options.rooms), 0);
    const double planned = options.rate * options.duration * 1.1 + 16;
    messages_.reserve(static_cast<std::size_t>(std::min(planned, 5e7)));

    static const lws_protocols protocols[] = {
        {"ilchat-loadgen", callback, 0, 0, 0, nullptr, 0},
        {nullptr, nullptr, 0, 0, 0, nullptr, 0},
    };
    loop_.reset(ev_loop_new(EVFLAG_AUTO));
    if (!loop_) throw std::runtime_error("cannot create the libev loop");
    void* foreign_loops[] = {loop_.get()};
    lws_set_log_level(LLL_ERR, lws_log);
    lws_context_creation_info info{};
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.user = this;
    info.pt_serv_buf_size = read_buffer_bytes;
    info.options = LWS_SERVER_OPTION_LIBEV;
    info.foreign_loops = foreign_loops;
    // With IPv6 enabled libwebsockets would bind IPv4 source addresses as v4-mapped IPv6 ones.
    if (!v6) info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    context_.reset(lws_create_context(&info));
    if (!context_) throw std::runtime_error("cannot create the libwebsockets client context (libev plugin missing?)");
    ev_timer_init(&tick_, on_tick, tick_seconds, tick_seconds);
    tick_.data = this;
}

Fleet::~Fleet() {
    stopping_ = true;
    ev_timer_stop(loop_.get(), &tick_);
}

void Fleet::run(const std::atomic<bool>& stop) {
    stop_ = &stop;
    const std::int64_t now = now_ns();
    run_started_ns_ = now;
    next_progress_ns_ = now + progress_ns;
    enter(Phase::connecting, now);
    ev_timer_start(loop_.get(), &tick_);
    ev_run(loop_.get(), 0);  // until finish() breaks it
}

std::uint32_t Fleet::random32() {
    // xorshift64*: websocket masks and keys need to vary, not to be secret.
    random_state_ ^= random_state_ >> 12;
    random_state_ ^= random_state_ << 25;
    random_state_ ^= random_state_ >> 27;
    return static_cast<std::uint32_t>((random_state_ * 2685821657736338717ull) >> 32);
}

// ---------------------------------------------------------------------------------------------
// Phases

void Fleet::on_tick(struct ev_loop*, ev_timer* timer, int) { static_cast<Fleet*>(timer->data)->tick(); }

void Fleet::tick() {
    const std::int64_t now = now_ns();
    if (stop_->load()) {
        errors_.add("interrupted", "stopped by a signal");
        return finish(now);
    }
    if (now >= deadline_) {
        errors_.add("time_limit", "--time-limit reached");
        return finish(now);
    }
    if (phase_ == Phase::steady || phase_ == Phase::drain) {
        const std::int64_t late = now - last_tick_ns_ - static_cast<std::int64_t>(tick_seconds * 1e9);
        figures_.loop_lag_us.record(late > 0 ? static_cast<std::uint64_t>(late / 1000) : 0);
    }
    last_tick_ns_ = now;
    if (traffic_ != traffic_seen_) {
        traffic_seen_ = traffic_;
        last_traffic_ns_ = now;
    }
    const double in_phase = seconds(now - phase_started_ns_);
    switch (phase_) {
        case Phase::connecting:
            start_connections(now);
            if (now >= next_timeout_check_ns_) {
                check_ready_timeouts(now);
                next_timeout_check_ns_ = now + timeout_check_ns;
            }
            if (next_client_ == options_.clients && in_flight_ == 0) {
                figures_.connect_seconds =
                    seconds((figures_.clients_connected ? last_ready_ns_ : now) - phase_started_ns_);
                if (figures_.clients_connected == 0) return finish(now);
                enter(Phase::settle, now);
            }
            break;
        case Phase::settle:
            if (now - last_traffic_ns_ >= quiet_ns || in_phase >= options_.settle_timeout) {
                figures_.settle_seconds = in_phase;
                enter(options_.rate > 0 && options_.duration > 0 ? Phase::steady : Phase::hold, now);
            }
            break;
        case Phase::steady:
            send_messages(now);
            if (in_phase >= options_.duration) {
                figures_.steady_seconds = in_phase;
                enter(Phase::drain, now);
            }
            break;
        case Phase::drain:
            if (figures_.deliveries >= figures_.deliveries_expected || in_phase >= options_.drain_timeout)
                enter(Phase::hold, now);
            break;
        case Phase::hold:
            if (in_phase >= options_.hold) return finish(now);
            break;
        case Phase::done:
            break;
    }
    if (now >= next_progress_ns_) {
        progress(now);
        next_progress_ns_ = now + progress_ns;
    }
}

void Fleet::enter(Phase phase, std::int64_t now) {
    phase_ = phase;
    phase_started_ns_ = now;
    if (phase == Phase::steady) steady_started_ns_ = now;
    static constexpr const char* names[] = {"connecting", "settle", "steady", "drain", "hold", "done"};
    std::fprintf(stderr, "loadgen: %7.1f s  %s\n", seconds(now - run_started_ns_), names[static_cast<int>(phase)]);
}

void Fleet::progress(std::int64_t now) const {
    const int failed = figures_.clients_started - figures_.clients_connected - in_flight_ + figures_.clients_lost;
    std::fprintf(stderr,
                 "loadgen: %7.1f s  %d ready, %d connecting, %d failed of %d; %llu sent, %llu deliveries, %llu errors\n",
                 seconds(now - run_started_ns_), figures_.clients_connected - figures_.clients_lost, in_flight_, failed,
                 options_.clients, static_cast<unsigned long long>(figures_.messages_sent),
                 static_cast<unsigned long long>(figures_.deliveries), static_cast<unsigned long long>(errors_.total()));
}

void Fleet::finish(std::int64_t now) {
    if (phase_ == Phase::done) return;
    const double in_phase = seconds(now - phase_started_ns_);
    if (phase_ == Phase::connecting) figures_.connect_seconds = in_phase;
    if (phase_ == Phase::settle) figures_.settle_seconds = in_phase;
    if (phase_ == Phase::steady) figures_.steady_seconds = in_phase;
    if (phase_ == Phase::hold) figures_.hold_seconds = in_phase;
    for (const Message& m : messages_)
        if (m.received < m.expected) figures_.deliveries_missing += m.expected - m.received;
    enter(Phase::done, now);
    stopping_ = true;
    ev_timer_stop(loop_.get(), &tick_);
    ev_break(loop_.get(), EVBREAK_ALL);
}

void Fleet::start_connections(std::int64_t now) {
    const double elapsed = seconds(now - phase_started_ns_);
    const double budget = options_.connect_rate > 0 ? elapsed * options_.connect_rate + 1 : options_.clients;
    const auto allowed = static_cast<int>(std::min(budget, static_cast<double>(options_.clients)));
    while (next_client_ < options_.clients && figures_.clients_started < allowed &&
           (options_.connect_concurrency == 0 || in_flight_ < options_.connect_concurrency)) {
        Client& c = clients_[static_cast<std::size_t>(next_client_++)];
        if (!registered_[static_cast<std::size_t>(c.index)]) {
            c.state = State::skipped;  // its backend error is already counted
            continue;
        }
        connect(c, now);
    }
}

void Fleet::check_ready_timeouts(std::int64_t now) {
    const auto limit = static_cast<std::int64_t>(options_.ready_timeout * 1e9);
    for (Client& c : clients_) {
        if (c.state != State::connecting || now - c.started_ns < limit) continue;
        fail(c, "ready_timeout",
             !c.upgraded ? "no websocket handshake in time"
             : !c.opened ? "no Engine.IO open packet in time"
                         : "the server did not confirm the namespace connect, login or room entry in time");
        close_later(c);
    }
}

void Fleet::send_messages(std::int64_t now) {
    const auto due = static_cast<std::uint64_t>(seconds(now - phase_started_ns_) * options_.rate);
    for (; scheduled_ < due; ++scheduled_) {
        Client* sender = nullptr;
        for (std::size_t tries = 0; tries < senders_.size() && !sender; ++tries) {
            Client& candidate = clients_[static_cast<std::size_t>(senders_[next_sender_])];
            next_sender_ = (next_sender_ + 1) % senders_.size();
            if (candidate.state == State::ready) sender = &candidate;
        }
        if (!sender) continue;  // every sender is gone; their failures are counted

        // The content carries what a receiver needs: whose message, which one, when sent.
        payload_ = message_head_;
        const std::size_t content_start = payload_.size();
        payload_ += marker;
        append_number(payload_, tag_);
        payload_ += '~';
        append_number(payload_, messages_.size());
        payload_ += '~';
        append_number(payload_, static_cast<std::uint64_t>(now));
        payload_ += '~';
        const std::size_t content = payload_.size() - content_start;
        if (content < static_cast<std::size_t>(options_.message_bytes))
            payload_.append(static_cast<std::size_t>(options_.message_bytes) - content, 'x');
        payload_ += message_tails_[static_cast<std::size_t>(sender->room)];

        const std::uint32_t expected = room_ready_[static_cast<std::size_t>(sender->room)];
        messages_.push_back({expected, 0});
        figures_.deliveries_expected += expected;
        send_text(*sender, payload_);
        if (sender->state == State::failed) {  // the message never left: nobody can receive it
            figures_.deliveries_expected -= expected;
            messages_.back().expected = 0;
            close_later(*sender);
            continue;
        }
        ++figures_.messages_sent;
    }
}

// ---------------------------------------------------------------------------------------------
// One simulated user

void Fleet::connect(Client& c, std::int64_t now) {
    lws_client_connect_info info{};
    info.context = context_.get();
    info.method = "RAW";
    info.address = options_.host.c_str();
    info.port = options_.port;
    info.host = options_.host.c_str();
    info.local_protocol_name = "ilchat-loadgen";
    info.pwsi = &c.wsi;
    info.opaque_user_data = &c;
    if (!options_.source_addresses.empty())
        info.iface = options_.source_addresses[static_cast<std::size_t>(c.index) % options_.source_addresses.size()]
                         .c_str();
    c.state = State::connecting;
    c.started_ns = now;
    ++in_flight_;
    ++figures_.clients_started;
    if (!lws_client_connect_via_info(&info)) fail(c, "connect_failed", "libwebsockets could not start the connection");
}

void Fleet::on_connected(Client& c) {
    unsigned char key[16];
    for (std::size_t i = 0; i < sizeof key; i += 4) {
        const std::uint32_t r = random32();
        std::memcpy(key + i, &r, 4);
    }
    const std::string request =
        upgrade_head_ + base64(std::string_view(reinterpret_cast<const char*>(key), sizeof key)) + "\r\n\r\n";
    unsigned char* out = write_buffer(request.size());
    std::copy(request.begin(), request.end(), out);
    if (lws_write(c.wsi, out, request.size(), LWS_WRITE_RAW) < 0)
        fail(c, "send_failed", "writing the websocket upgrade request failed");
}

unsigned char* Fleet::write_buffer(std::size_t size) {
    if (frame_.size() < size) frame_.resize(size);
    return frame_.data();
}

void Fleet::send(Client& c, ws::Opcode opcode, std::string_view payload) {
    if (c.state == State::failed || !c.wsi) return;
    unsigned char* out = write_buffer(ws::max_header_bytes + payload.size());
    // Writing outside a writeable callback is fine: libwebsockets keeps what the socket does
    // not take and sends it before anything newer.
    const std::size_t size = ws::write_frame(out, opcode, payload, random32());
    if (lws_write(c.wsi, out, size, LWS_WRITE_RAW) < 0)
        fail(c, "send_failed", "writing a websocket frame failed");
}

void Fleet::maybe_ready(Client& c) {
    if (c.state != State::connecting || !c.room_entered || (options_.im && !c.im_logged_in)) return;
    const std::int64_t now = now_ns();
    c.state = State::ready;
    --in_flight_;
    ++figures_.clients_connected;
    ++room_ready_[static_cast<std::size_t>(c.room)];
    figures_.connect_us.record(static_cast<std::uint64_t>((now - c.started_ns) / 1000));
    last_ready_ns_ = now;
}

void Fleet::fail(Client& c, std::string_view kind, std::string_view detail) {
    if (stopping_ || c.state == State::failed) return;
    if (c.state == State::connecting) --in_flight_;
    if (c.state == State::ready) {
        --room_ready_[static_cast<std::size_t>(c.room)];
        ++figures_.clients_lost;
    }
    c.state = State::failed;
    errors_.add(kind, detail);
}

// Outside its callbacks a connection is closed by asking for a writeable callback, which
// then refuses (libwebsockets' timers would only run once the next network event arrives).
void Fleet::close_later(Client& c) {
    if (c.wsi) lws_callback_on_writable(c.wsi);
}

int Fleet::callback(lws* wsi, lws_callback_reasons reason, void*, void* in, std::size_t len) {
    auto* c = static_cast<Client*>(lws_get_opaque_user_data(wsi));
    auto* fleet = static_cast<Fleet*>(lws_context_user(lws_get_context(wsi)));
    if (!c || !fleet) return 0;
    switch (reason) {
        case LWS_CALLBACK_RAW_CONNECTED:
            fleet->on_connected(*c);
            return c->state == State::failed ? -1 : 0;
        case LWS_CALLBACK_RAW_RX:
            fleet->on_bytes(*c, std::string_view(static_cast<const char*>(in), len));
            return c->state == State::failed ? -1 : 0;
        case LWS_CALLBACK_RAW_WRITEABLE:
            return c->state == State::failed ? -1 : 0;
        case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
            c->wsi = nullptr;
            fleet->fail(*c, "connect_failed", in ? static_cast<const char*>(in) : "connection error");
            return 0;
        case LWS_CALLBACK_RAW_CLOSE:
            c->wsi = nullptr;
            if (c->upgraded)
                fleet->fail(*c, "closed", "the server closed the connection");
            else
                fleet->fail(*c, "handshake", "the server closed the connection instead of answering the upgrade");
            return 0;
        case LWS_CALLBACK_WSI_DESTROY:
            if (c->wsi == wsi) c->wsi = nullptr;
            return 0;
        default:
            return 0;
    }
}

// ---------------------------------------------------------------------------------------------
// Bytes, websocket frames, Engine.IO and Socket.IO packets

void Fleet::on_bytes(Client& c, std::string_view data) {
    if (c.state == State::failed) return;
    if (!c.upgraded) {
        on_handshake_bytes(c, data);
        if (!c.upgraded) return;
    }
    while (c.state != State::failed) {
        const auto piece = c.reader.next(data);
        if (!piece) break;
        on_piece(c, *piece);
    }
    if (c.reader.error()) fail(c, "protocol", c.reader.error());
}

void Fleet::on_handshake_bytes(Client& c, std::string_view& data) {
    const std::size_t before = c.incoming.size();
    c.incoming.append(data);
    const auto end = c.incoming.find("\r\n\r\n");
    if (end == std::string::npos) {
        data = {};
        if (c.incoming.size() > max_handshake_bytes) fail(c, "handshake", "an endless answer to the websocket upgrade");
        return;
    }
    // "HTTP/1.1 101 Switching Protocols"; anything else (400, 404, ...) is a refusal.
    if (!c.incoming.starts_with("HTTP/1.1 101")) {
        return fail(c, "handshake", "the server refused the websocket upgrade: " +
                                        c.incoming.substr(0, std::min(c.incoming.find('\r'), std::size_t{80})));
    }
    data.remove_prefix(end + 4 - before);  // what follows the answer is websocket already
    c.incoming.clear();
    c.upgraded = true;
}

void Fleet::on_piece(Client& c, const ws::FrameReader::Piece& p) {
    switch (p.opcode) {
        case ws::Opcode::ping:
        case ws::Opcode::pong:
        case ws::Opcode::close:
            if (p.frame_start) c.control.clear();
            c.control.append(p.data);
            if (!p.frame_end) return;
            if (p.opcode == ws::Opcode::ping) return send(c, ws::Opcode::pong, c.control);
            if (p.opcode == ws::Opcode::close) return fail(c, "closed", "the server closed the websocket");
            return;
        case ws::Opcode::binary:
            return fail(c, "protocol", "a binary websocket message");
        case ws::Opcode::text:
        case ws::Opcode::continuation:
            break;
    }
    const bool starts_message = p.frame_start && p.opcode == ws::Opcode::text;
    const bool ends_message = p.frame_end && p.fin;
    if (starts_message == c.in_message) return fail(c, "protocol", "websocket fragments out of order");
    if (starts_message) {
        c.incoming.clear();
        if (ends_message) return on_packet(c, p.data);  // the common case: inspected in place
        c.in_message = true;
        c.skipping = !worth_collecting(p.data);
    }
    if (!c.skipping) {
        if (c.incoming.size() + p.data.size() > max_message_bytes)
            return fail(c, "protocol", "a websocket message larger than 16 MB");
        c.incoming.append(p.data);
    }
    if (!ends_message) return;
    c.in_message = false;
    if (c.skipping) ++traffic_;
    else on_packet(c, c.incoming);
    c.skipping = false;
    if (c.incoming.capacity() > keep_collect_capacity) std::string().swap(c.incoming);
    else c.incoming.clear();
}

bool Fleet::worth_collecting(std::string_view piece) const {
    // Only "42/<ns>,[\"<event>\"..." with a complete name that is not handled is skipped.
    if (!piece.starts_with("42/")) return true;
    const auto comma = piece.find(',');
    if (comma == std::string_view::npos) return true;
    std::string_view rest = piece.substr(comma + 1);
    while (!rest.empty() && rest.front() >= '0' && rest.front() <= '9') rest.remove_prefix(1);
    if (!rest.starts_with("[\"")) return true;
    const auto end = rest.find('"', 2);
    return end == std::string_view::npos || handled_event(rest.substr(2, end - 2));
}

void Fleet::on_packet(Client& c, std::string_view packet) {
    if (packet.empty()) return fail(c, "protocol", "an empty Engine.IO packet");
    if (packet != "2") ++traffic_;
    switch (packet.front()) {
        case '0':  // open: join the namespaces, as socket.io-client does on connect
            if (c.opened) return fail(c, "protocol", "a second Engine.IO open packet");
            c.opened = true;
            send_text(c, "40" + room_ns_ + ",");
            if (options_.im) send_text(c, "40" + im_ns_ + ",");
            return;
        case '1':
            return fail(c, "engine_close", "the server closed the Engine.IO session");
        case '2':  // the server's heartbeat
            return send_text(c, "3");
        case '3':
        case '6':
            return;
        case '4':
            return on_socketio(c, packet.substr(1));
        default:
            return fail(c, "protocol", "unknown Engine.IO packet: " + std::string(packet.substr(0, 60)));
    }
}

void Fleet::on_socketio(Client& c, std::string_view packet) {
    if (packet.empty()) return fail(c, "protocol", "an empty Socket.IO packet");
    const char type = packet.front();
    std::string_view rest = packet.substr(1);
    std::string_view ns = "/";
    if (rest.starts_with('/')) {
        const auto comma = rest.find(',');
        ns = rest.substr(0, comma);
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    }
    const bool room = ns == room_ns_;
    if (!room && !(options_.im && ns == im_ns_)) return;  // not a namespace this client joined
    switch (type) {
        case '0': {  // connected: log in as ILIAS 9+ browsers do
            const std::string user = std::to_string(user_id_of(options_, c.index));
            const std::string username = "\"lg" + user + "\"";
            if (room) return send_text(c, "42" + room_ns_ + ",[\"login\"," + username + "," + user + ",false]");
            return send_text(c, "42" + im_ns_ + ",[\"login\"," + user + "," + username + "]");
        }
        case '1':
            return fail(c, "ns_disconnect", "the server disconnected namespace " + std::string(ns));
        case '4':
            return fail(c, "connect_error", std::string(ns) + ": " + std::string(rest.substr(0, 200)));
        case '2': {
            while (!rest.empty() && rest.front() >= '0' && rest.front() <= '9') rest.remove_prefix(1);  // ack id
            const auto end = rest.starts_with("[\"") ? rest.find('"', 2) : std::string_view::npos;
            if (end == std::string_view::npos)
                return fail(c, "protocol", "an event without a name: " + std::string(packet.substr(0, 60)));
            const std::string_view name = rest.substr(2, end - 2);
            if (room) return on_room_event(c, name, rest);
            if (name == "login") {
                c.im_logged_in = true;
                maybe_ready(c);
            }
            return;
        }
        default:
            return;  // acks and binary packets mean nothing here
    }
}

void Fleet::on_room_event(Client& c, std::string_view name, std::string_view rest) {
    if (name == "message") {
        const auto at = rest.find(marker);
        if (at != std::string_view::npos) on_delivery(rest.substr(at + marker.size()));
    } else if (name == "loggedIn") {
        send_text(c, "42" + room_ns_ + ",[\"enterRoom\"," + std::to_string(room_id_of(options_, c.room)) + "]");
    } else if (name == "private_room_entered") {
        c.room_entered = true;
        maybe_ready(c);
    } else if (name == "shutdown") {
        fail(c, "login_refused", "the server answered login with shutdown (user not registered?)");
    } else if (name == "userjustkicked" || name == "userjustbanned") {
        fail(c, "kicked", name);
    }
}

void Fleet::on_delivery(std::string_view marked) {
    std::uint64_t tag = 0, seq = 0, sent_ns = 0;
    if (!take_number(marked, tag) || !take_number(marked, seq) || !take_number(marked, sent_ns)) {
        errors_.add("protocol", "a load message whose marker cannot be read");
        return;
    }
    const std::int64_t now = now_ns();
    const auto sent = static_cast<std::int64_t>(sent_ns);
    figures_.latency_us.record(now > sent ? static_cast<std::uint64_t>((now - sent) / 1000) : 0);
    if (phase_ == Phase::steady || phase_ == Phase::drain) {
        ++figures_.window_deliveries;
        figures_.delivery_seconds = seconds(now - steady_started_ns_);
    }
    if (tag != tag_) {
        ++figures_.deliveries_foreign;
        return;
    }
    if (seq >= messages_.size()) {
        errors_.add("unknown_message", "a delivery of a message this process did not send");
        return;
    }
    Message& m = messages_[seq];
    if (m.received >= m.expected) {
        errors_.add("duplicate_delivery", "more deliveries of one message than its room had members");
        return;
    }
    ++m.received;
    ++figures_.deliveries;
}

}  // namespace ilchat::loadgen
