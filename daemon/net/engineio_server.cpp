#include "daemon/net/engineio_server.h"

#include <algorithm>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include "common/text/utf8.h"
#include "daemon/net/engineio_packet.h"
#include "daemon/net/http_exchange.h"
#include "daemon/net/random_id.h"
#include "daemon/net/websocket_connection.h"
#include "daemon/metrics/metrics.h"

namespace ilchat::net::eio {

namespace {

const SharedFrame ping_frame = make_frame("2");
const SharedFrame pong_frame = make_frame("3");
const SharedFrame noop_frame = make_frame("6");
const SharedFrame close_frame = make_frame("1");
const SharedFrame probe_reply = make_frame("3probe");

constexpr const char* text_content = "text/plain; charset=UTF-8";

// The error bodies engine.io answers with (code and message are what clients log).
enum class ErrorCode { unknown_transport = 0, unknown_sid = 1, bad_handshake_method = 2, bad_request = 3,
                       unsupported_protocol_version = 5 };

std::string_view failure_reason(ErrorCode code) {
    switch (code) {
        case ErrorCode::unknown_transport: return "unknown_transport";
        case ErrorCode::unknown_sid: return "unknown_sid";
        case ErrorCode::bad_handshake_method: return "bad_handshake_method";
        case ErrorCode::bad_request: return "bad_request";
        case ErrorCode::unsupported_protocol_version: return "unsupported_protocol_version";
    }
    return "other";
}

// engine.io 3 ignored EIO altogether, so only an explicit 4 is a v4 client.
Protocol protocol_of(const HttpRequest& request) {
    return request.query_value("EIO") == "4" ? Protocol::v4 : Protocol::v3;
}

HttpResponse error_response(const HttpRequest& request, Protocol protocol, ErrorCode code, int status = 400) {
    static constexpr const char* messages[] = {"Transport unknown", "Session ID unknown", "Bad handshake method",
                                               "Bad request", "Forbidden", "Unsupported protocol version"};
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    writer.StartObject();
    writer.Key("code");
    writer.Int(static_cast<int>(code));
    writer.Key("message");
    writer.String(messages[static_cast<int>(code)]);
    writer.EndObject();
    HttpResponse response;
    response.status = status;
    response.content_type = "application/json";
    response.body = buffer.GetString();
    response.headers = Server::cors_headers(request, protocol);
    return response;
}

HttpResponse text_response(const HttpRequest& request, Protocol protocol, std::string body, std::string content_type) {
    HttpResponse response;
    response.content_type = std::move(content_type);
    response.body = std::move(body);
    response.headers = Server::cors_headers(request, protocol);
    response.headers.emplace_back("cache-control", "no-store");
    return response;
}

std::string open_packet(const std::string& sid, bool websocket_only, Protocol protocol, const Settings& settings) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    writer.StartObject();
    writer.Key("sid");
    writer.String(sid.c_str());
    writer.Key("upgrades");
    writer.StartArray();
    if (!websocket_only) writer.String("websocket");
    writer.EndArray();
    writer.Key("pingInterval");
    writer.Int64(settings.ping_interval.count());
    writer.Key("pingTimeout");
    if (protocol == Protocol::v3) {
        writer.Int64(settings.legacy_ping_timeout.count());
    } else {
        writer.Int64(settings.ping_timeout.count());
        writer.Key("maxPayload");
        writer.Uint64(settings.max_payload);
    }
    writer.EndObject();
    return std::string("0") + buffer.GetString();
}

// A refused request, counted by reason.
HttpResponse failure(const Settings& settings, const HttpRequest& request, Protocol protocol, ErrorCode code) {
    if (settings.metrics) settings.metrics->handshake_failures(failure_reason(code)).Increment();
    return error_response(request, protocol, code);
}

// b64 and j only exist in Engine.IO 3; nullopt for a j that is no array index.
std::optional<PollFormat> poll_format(const HttpRequest& request, Protocol protocol) {
    PollFormat format;
    if (protocol != Protocol::v3) return format;
    format.base64 = !request.query_value("b64").empty();
    if (request.has_query("j")) {
        format.jsonp_index = request.query_value("j");
        if (!v3::valid_jsonp_index(format.jsonp_index)) return std::nullopt;
    }
    return format;
}

Packet binary_packet(const Frame& frame) { return binary_message(frame.payload()); }

// A polling answer holding `frames`, framed as the session's generation and the request want it.
HttpResponse poll_answer(Protocol protocol, const PollFormat& format, std::span<const SharedFrame> frames) {
    HttpResponse response;
    response.content_type = text_content;
    if (protocol == Protocol::v4) {
        for (std::size_t i = 0; i < frames.size(); ++i) {
            if (i) response.body += record_separator;
            response.body += frames[i]->binary ? encode_text(binary_packet(*frames[i])) : frames[i]->payload();
        }
        return response;
    }
    const bool binary = std::any_of(frames.begin(), frames.end(), [](const SharedFrame& f) { return f->binary; });
    if (binary && !format.base64 && format.jsonp_index.empty()) {
        // XHR2 clients read raw bytes; text content would make them parse it as text.
        for (const auto& frame : frames) {
            if (frame->binary) v3::append_binary_record(response.body, binary_packet(*frame));
            else v3::append_binary_record(response.body, frame->payload());
        }
        response.content_type = "application/octet-stream";
        return response;
    }
    for (const auto& frame : frames)
        v3::append_record(response.body, frame->binary ? v3::encode_text(binary_packet(*frame)) : frame->payload());
    if (!format.jsonp_index.empty()) {
        response.body = v3::jsonp_script(format.jsonp_index, response.body);
        response.content_type = "text/javascript; charset=UTF-8";
    }
    return response;
}

// The packets of a polling POST body; nullopt when anything in it is malformed.
std::optional<std::vector<Packet>> posted_packets(const HttpRequest& request, Protocol protocol, const PollFormat& format) {
    const bool octets = request.content_type.starts_with("application/octet-stream");
    if (protocol == Protocol::v4) {
        if (octets || !text::valid_utf8(request.body)) return std::nullopt;
        return decode_payload(request.body);
    }
    if (!format.jsonp_index.empty()) {
        auto payload = v3::jsonp_form_payload(request.body);
        if (!payload || !text::valid_utf8(*payload)) return std::nullopt;
        return v3::decode_payload(*payload);
    }
    if (octets) return v3::decode_binary_payload(request.body);
    if (!text::valid_utf8(request.body)) return std::nullopt;
    return v3::decode_payload(request.body);
}

}  // namespace

std::string_view describe(CloseReason reason) {
    switch (reason) {
        case CloseReason::client_close: return "client close";
        case CloseReason::transport_close: return "transport close";
        case CloseReason::ping_timeout: return "ping timeout";
        case CloseReason::parse_error: return "parse error";
        case CloseReason::slow_consumer: return "slow consumer";
        case CloseReason::server_close: return "server close";
    }
    return "unknown";
}

void mount(HttpRouter& router, const std::string& prefix, Server& server) {
    router.add(
        prefix, [&server](const HttpRequest& request, HttpExchange& exchange) { return server.handle_http(request, exchange); },
        [&server](const HttpRequest& request, lws* wsi) { return server.accept_websocket(request, wsi); },
        server.settings().max_payload,
        [&server](const HttpRequest& request, HttpExchange& exchange) { return server.post_started(request, exchange); });
}

SharedFrame message_frame(std::string_view data, bool binary, std::string supersedes) {
    if (binary) return make_frame(data, true, std::move(supersedes));
    std::string text;
    text.reserve(data.size() + 1);
    text += '4';
    text += data;
    return make_frame(text, false, std::move(supersedes));
}

// A websocket serving (or probing for) one session.
class WebSocketTransport final : public WebSocketConnection {
public:
    WebSocketTransport(lws* wsi, const Server& server, Session* session)
        : WebSocketConnection(wsi, server.settings().max_payload), session_(session), open_(server.open_websockets_) {
        ++*open_;
    }
    ~WebSocketTransport() override { --*open_; }
    WebSocketTransport(const WebSocketTransport&) = delete;
    WebSocketTransport& operator=(const WebSocketTransport&) = delete;

    void detach() { session_ = nullptr; }

protected:
    void message(std::string_view data, bool binary) override {
        if (session_) session_->websocket_message(*this, data, binary);
    }
    void closed() override {
        if (auto* session = std::exchange(session_, nullptr)) session->websocket_closed(*this);
    }

private:
    Session* session_;
    std::shared_ptr<std::size_t> open_;
};

// ---------------------------------------------------------------------------------------------
// Session

Session::Session(Server& server, std::string id, Protocol protocol)
    : server_(server),
      id_(std::move(id)),
      protocol_(protocol),
      told_ping_interval_(server.settings().ping_interval),
      told_ping_timeout_(protocol == Protocol::v3 ? server.settings().legacy_ping_timeout : server.settings().ping_timeout),
      ping_timer_(server.timers(), [this] { send_ping(); }),
      heartbeat_timer_(server.timers(), [this] { heartbeat_missed(); }),
      upgrade_timer_(server.timers(), [this] {
          // No "5" in time: the probe socket goes, the session stays on polling.
          if (probe_) {
              auto* probe = std::exchange(probe_, nullptr);
              probe->detach();
              probe->close();
          }
          probed_ = false;
      }) {
    if (protocol_ == Protocol::v4) schedule_ping();
    else expect_heartbeat();
}

Session::~Session() = default;

bool Session::over_limits(std::size_t packets, std::size_t bytes) const {
    const auto& s = server_.settings();
    return packets > s.max_queued_packets || bytes > s.max_queued_bytes;
}

void Session::send_on_websocket(WebSocketTransport& transport, const SharedFrame& frame) {
    // Engine.IO 3 puts the packet type in front of binary data; the shared frame has none.
    if (frame->binary && protocol_ == Protocol::v3) transport.send(make_frame(v3::binary_frame(frame->payload()), true));
    else transport.send(frame);
}

void Session::send(const SharedFrame& frame) {
    if (closed_ || closing_by_client_) return;
    if (websocket_) {
        send_on_websocket(*websocket_, frame);
        if (over_limits(websocket_->queued_frames(), websocket_->queued_bytes())) close(CloseReason::slow_consumer);
        return;
    }
    queued_bytes_ -= drop_superseded(queue_, 0, *frame);
    queue_.push_back(frame);
    queued_bytes_ += frame->payload().size();
    if (over_limits(queue_.size(), queued_bytes_)) {
        close(CloseReason::slow_consumer);
        return;
    }
    if (!probed_) flush_poll();
}

void Session::schedule_ping() { ping_timer_.start(std::min(server_.settings().ping_interval, told_ping_interval_)); }

void Session::send_ping() {
    // The client resets its own watchdog only when it receives a ping, so pings go out on
    // schedule however busy the session is.
    heartbeat_timer_.start(server_.settings().ping_timeout);
    send(ping_frame);
}

void Session::expect_heartbeat() {
    // An Engine.IO 3 client pings every interval and waits the timeout for the pong; engine.io 3
    // gave up on a session silent for both. Packets only note the time (heard()); the timer
    // catches up when it fires, so a busy session does not move it on every packet.
    const auto silent = std::chrono::steady_clock::now() - last_heard_;
    heartbeat_timer_.start(std::chrono::ceil<std::chrono::milliseconds>(told_ping_interval_ + told_ping_timeout_ - silent));
}

void Session::heartbeat_missed() {
    if (closing_by_client_) {
        close(CloseReason::client_close);
        return;
    }
    if (protocol_ == Protocol::v3 && std::chrono::steady_clock::now() - last_heard_ < told_ping_interval_ + told_ping_timeout_) {
        expect_heartbeat();
        return;
    }
    close(CloseReason::ping_timeout);
}

bool Session::parked_alive() {
    if (parked_ && !parked_->peer_still_there()) parked_ = nullptr;
    return parked_ != nullptr;
}

void Session::release_parked(std::span<const SharedFrame> frames) {
    if (!parked_alive()) return;
    HttpExchange* exchange = std::exchange(parked_, nullptr);
    HttpResponse response = poll_answer(protocol_, parked_format_, frames);
    response.headers = std::move(parked_headers_);
    response.headers.emplace_back("cache-control", "no-store");
    exchange->respond(response);
}

void Session::flush_poll() {
    if (queue_.empty() || !parked_alive()) return;
    std::vector<SharedFrame> frames;
    frames.swap(queue_);
    queued_bytes_ = 0;
    release_parked(frames);
}

HttpResponse Session::refuse(const HttpRequest& request, CloseReason reason, int status) {
    HttpResponse error = error_response(request, protocol_, ErrorCode::bad_request, status);
    close(reason);
    return error;
}

HttpResponse Session::handshake(const HttpRequest& request, const PollFormat& format) {
    std::vector<SharedFrame> frames{make_frame(open_packet(id_, false, protocol_, server_.settings()))};
    frames.insert(frames.end(), queue_.begin(), queue_.end());
    queue_.clear();
    queued_bytes_ = 0;
    HttpResponse answer = poll_answer(protocol_, format, frames);
    HttpResponse response = text_response(request, protocol_, std::move(answer.body), std::move(answer.content_type));
    // engine.io 3 set this cookie; load balancers that keep a session on one node may use it.
    if (protocol_ == Protocol::v3) response.headers.emplace_back("set-cookie", "io=" + id_ + "; Path=/; HttpOnly");
    return response;
}

std::optional<HttpResponse> Session::poll(const HttpRequest& request, HttpExchange& exchange) {
    auto format = poll_format(request, protocol_);
    // Two long-polls at once: the client is confused or hostile; engine.io drops the session.
    if (!format || parked_alive()) return refuse(request, CloseReason::transport_close);
    if (probed_ || closing_by_client_) {
        if (closing_by_client_) close(CloseReason::client_close);
        HttpResponse answer = poll_answer(protocol_, *format, {&noop_frame, 1});
        return text_response(request, protocol_, std::move(answer.body), std::move(answer.content_type));
    }
    parked_ = &exchange;
    parked_format_ = std::move(*format);
    parked_headers_ = Server::cors_headers(request, protocol_);
    exchange.on_abandon([this] { parked_ = nullptr; });
    if (server_.shutting_down_) shut_down();
    else flush_poll();
    return std::nullopt;
}

std::optional<HttpResponse> Session::post_started(const HttpRequest& request, HttpExchange& exchange) {
    if (receiving_post_) return refuse(request, CloseReason::transport_close);
    receiving_post_ = true;
    exchange.on_abandon([&server = server_, sid = id_] {
        if (Session* session = server.find(sid)) session->receiving_post_ = false;
    });
    return std::nullopt;
}

HttpResponse Session::post(const HttpRequest& request) {
    receiving_post_ = false;
    if (request.body_too_large || request.body.size() > server_.settings().max_payload)
        return refuse(request, CloseReason::parse_error, 413);
    const auto format = poll_format(request, protocol_);
    auto packets = format ? posted_packets(request, protocol_, *format) : std::nullopt;
    if (!packets) return refuse(request, CloseReason::parse_error);
    for (const auto& packet : *packets) {
        if (closed_ || closing_by_client_) break;
        handle_packet(packet);
    }
    return text_response(request, protocol_, "ok", "text/html");
}

void Session::handle_packet(const Packet& packet) {
    last_heard_ = std::chrono::steady_clock::now();  // engine.io 3 counted any packet as a sign of life
    switch (packet.type) {
        case PacketType::message:
            server_.handler().on_message(*this, packet.data, packet.binary);
            break;
        case PacketType::ping:
            // Engine.IO 3 clients ping; an Engine.IO 4 ping goes the wrong direction.
            if (protocol_ == Protocol::v3) send(pong_frame);
            else close(CloseReason::parse_error);
            break;
        case PacketType::pong:
            if (protocol_ == Protocol::v4 && heartbeat_timer_.running()) {
                heartbeat_timer_.cancel();
                schedule_ping();
            }
            break;
        case PacketType::close:
            if (websocket_ || parked_alive()) {
                close(CloseReason::client_close);
            } else {
                // A poll may be on its way (a client sends its close and polls at the same time):
                // as engine.io, the session ends when that poll has had its noop, or shortly after.
                closing_by_client_ = true;
                ping_timer_.cancel();
                heartbeat_timer_.start(server_.settings().upgrade_timeout);
            }
            break;
        case PacketType::noop:
            break;
        default:  // open or a stray upgrade
            close(CloseReason::parse_error);
            break;
    }
}

void Session::attach_probe(WebSocketTransport* transport) {
    probe_ = transport;
    upgrade_timer_.start(server_.settings().upgrade_timeout);
}

void Session::attach_websocket(WebSocketTransport* transport) {
    websocket_ = transport;
    websocket_->send(make_frame(open_packet(id_, true, protocol_, server_.settings())));
}

void Session::finish_upgrade() {
    upgrade_timer_.cancel();
    websocket_ = std::exchange(probe_, nullptr);
    probed_ = false;
    release_parked({&noop_frame, 1});
    for (const auto& frame : queue_) send_on_websocket(*websocket_, frame);
    queue_.clear();
    queued_bytes_ = 0;
}

void Session::websocket_message(WebSocketTransport& transport, std::string_view data, bool binary) {
    if (closed_) return;
    // The transport refuses what exceeds the limit it was opened with; a reload may have lowered it.
    if (data.size() > server_.settings().max_payload) {
        close(CloseReason::parse_error);
        return;
    }
    if (&transport == probe_) {
        if (!binary && data == "2probe" && !probed_) {
            probed_ = true;
            transport.send(probe_reply);
            release_parked({&noop_frame, 1});  // lets the client pause polling
        } else if (!binary && data == "5" && probed_) {
            finish_upgrade();
        } else {
            probe_ = nullptr;
            probed_ = false;
            upgrade_timer_.cancel();
            transport.detach();
            transport.close();
        }
        return;
    }
    if (&transport != websocket_) return;
    std::optional<Packet> packet;
    if (protocol_ == Protocol::v4) packet = binary ? binary_message(data) : decode_text(data);
    else packet = binary ? v3::decode_binary_frame(data) : v3::decode_text(data);
    if (!packet) {
        close(CloseReason::parse_error);
        return;
    }
    handle_packet(*packet);
}

void Session::websocket_closed(WebSocketTransport& transport) {
    if (&transport == probe_) {
        probe_ = nullptr;
        probed_ = false;
        upgrade_timer_.cancel();
    } else if (&transport == websocket_) {
        websocket_ = nullptr;
        close(CloseReason::transport_close);
    }
}

void Session::shut_down() {
    if (websocket_ || probe_) {
        close(CloseReason::server_close);  // the websocket writes what is queued before its close frame
        return;
    }
    if (!parked_alive()) return;
    queue_.push_back(close_frame);
    flush_poll();
    close(CloseReason::server_close);
}

void Session::close(CloseReason reason) {
    if (closed_) return;
    closed_ = true;
    ping_timer_.cancel();
    heartbeat_timer_.cancel();
    upgrade_timer_.cancel();
    // A client that closes gets its pending poll released with a noop; others learn of the
    // close from a close packet.
    release_parked({reason == CloseReason::client_close ? &noop_frame : &close_frame, 1});
    for (auto* transport : {std::exchange(websocket_, nullptr), std::exchange(probe_, nullptr)}) {
        if (!transport) continue;
        transport->detach();
        transport->close();
    }
    queue_.clear();
    if (auto* metrics = server_.settings().metrics) {
        std::string label(describe(reason));
        std::replace(label.begin(), label.end(), ' ', '_');
        metrics->disconnects(label).Increment();
        if (reason == CloseReason::slow_consumer) metrics->slow_consumer_disconnects().Increment();
    }
    if (reason == CloseReason::slow_consumer) spdlog::warn("session {} closed: the client does not read (slow consumer)", id_);
    server_.handler().on_close(*this, reason);
    server_.retire(*this);
}

// ---------------------------------------------------------------------------------------------
// Server

Server::Server(TimerQueue& timers, Settings settings, SessionHandler& handler)
    : timers_(timers), settings_(settings), handler_(handler), reaper_(timers, [this] { retired_.clear(); }) {}

Server::~Server() {
    // Sessions close before the handler they report to is gone.
    while (!sessions_.empty()) sessions_.begin()->second->close(CloseReason::server_close);
    retired_.clear();
}

void Server::shut_down() {
    shutting_down_ = true;
    std::vector<Session*> open;  // closing retires sessions from the map
    for (const auto& [sid, session] : sessions_) open.push_back(session.get());
    for (auto* session : open) session->shut_down();
}

void Server::retire(Session& session) {
    auto found = sessions_.find(session.id());
    if (found == sessions_.end()) return;
    retired_.push_back(std::move(found->second));
    sessions_.erase(found);
    reaper_.start(std::chrono::milliseconds(0));
}

std::size_t Server::websocket_session_count() const {
    std::size_t n = 0;
    for (const auto& [sid, session] : sessions_) n += session->on_websocket() ? 1 : 0;
    return n;
}

Session* Server::find(const std::string& sid) {
    auto found = sessions_.find(sid);
    return found == sessions_.end() ? nullptr : found->second.get();
}

std::optional<HttpResponse> Server::post_started(const HttpRequest& request, HttpExchange& exchange) {
    if (request.method != HttpMethod::post || !request.has_query("sid")) return std::nullopt;
    Session* session = find(request.query_value("sid"));
    if (!session || session->on_websocket()) return std::nullopt;  // answered with the usual errors
    return session->post_started(request, exchange);
}

std::vector<std::pair<std::string, std::string>> Server::cors_headers(const HttpRequest& request, Protocol protocol) {
    if (request.origin.empty()) {
        if (protocol == Protocol::v3) return {{"access-control-allow-origin", "*"}};
        return {};
    }
    return {{"access-control-allow-origin", request.origin},
            {"access-control-allow-credentials", "true"},
            {"vary", "Origin"}};
}

std::optional<HttpResponse> Server::handle_http(const HttpRequest& request, HttpExchange& exchange) {
    const Protocol protocol = protocol_of(request);
    if (request.method == HttpMethod::options) {
        HttpResponse preflight;
        preflight.status = 204;
        preflight.content_type = "text/plain";
        preflight.headers = cors_headers(request, protocol);
        preflight.headers.emplace_back("access-control-allow-methods", "GET,POST,OPTIONS");
        if (!request.cors_request_headers.empty())
            preflight.headers.emplace_back("access-control-allow-headers", request.cors_request_headers);
        return preflight;
    }
    const std::string transport = request.query_value("transport");
    if (transport != "polling" && transport != "websocket")
        return failure(settings_, request, protocol, ErrorCode::unknown_transport);
    if (protocol == Protocol::v3 && !settings_.allow_eio3)
        return failure(settings_, request, protocol, ErrorCode::unsupported_protocol_version);
    // A websocket request that arrives as plain HTTP (no Upgrade) cannot be served.
    if (transport != "polling") return failure(settings_, request, protocol, ErrorCode::bad_request);

    if (!request.has_query("sid")) {
        if (request.method != HttpMethod::get) return failure(settings_, request, protocol, ErrorCode::bad_handshake_method);
        const auto format = poll_format(request, protocol);
        if (!format) return failure(settings_, request, protocol, ErrorCode::bad_request);
        if (shutting_down_) return HttpResponse::json_error(503, "Shutting down");
        if (settings_.metrics) settings_.metrics->handshakes("polling").Increment();
        auto session = std::make_unique<Session>(*this, settings_.sid_prefix + random_id(), protocol);
        Session& opened = *session;
        sessions_.emplace(opened.id(), std::move(session));
        handler_.on_open(opened);
        return opened.handshake(request, *format);
    }

    auto found = sessions_.find(request.query_value("sid"));
    if (found == sessions_.end()) return failure(settings_, request, protocol, ErrorCode::unknown_sid);
    Session& session = *found->second;
    if (session.on_websocket())
        return failure(settings_, request, session.protocol(), ErrorCode::bad_request);  // transport mismatch
    if (request.method == HttpMethod::get) return session.poll(request, exchange);
    if (request.method == HttpMethod::post) return session.post(request);
    return failure(settings_, request, session.protocol(), ErrorCode::bad_request);
}

WebSocketConnection* Server::accept_websocket(const HttpRequest& request, lws* wsi) {
    if (shutting_down_) return nullptr;
    if (request.query_value("transport") != "websocket" || (protocol_of(request) == Protocol::v3 && !settings_.allow_eio3)) {
        if (settings_.metrics) settings_.metrics->handshake_failures("bad_websocket_request").Increment();
        return nullptr;
    }
    if (!request.has_query("sid")) {
        if (settings_.metrics) settings_.metrics->handshakes("websocket").Increment();
        auto session = std::make_unique<Session>(*this, settings_.sid_prefix + random_id(), protocol_of(request));
        auto* transport = new WebSocketTransport(wsi, *this, session.get());
        Session& opened = *session;
        sessions_.emplace(opened.id(), std::move(session));
        opened.attach_websocket(transport);
        handler_.on_open(opened);
        return transport;
    }
    auto found = sessions_.find(request.query_value("sid"));
    if (found == sessions_.end()) return nullptr;
    Session& session = *found->second;
    if (session.on_websocket() || session.upgrading() || session.closed()) {
        // Already upgraded, or a probe running: like engine.io, complete the handshake and close
        // the second websocket at once, leaving the session alone.
        auto* refused = new WebSocketTransport(wsi, *this, nullptr);
        refused->close();
        return refused;
    }
    auto* transport = new WebSocketTransport(wsi, *this, &session);
    session.attach_probe(transport);
    return transport;
}

}  // namespace ilchat::net::eio
