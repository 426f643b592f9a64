#pragma once

// Drives RoomChat and ImChat the way browsers and ILIAS PHP do, without a libwebsockets context
// and without a database server:
//   - Loop:     the network thread: a libev loop with the TimerQueue every chat timer sits in,
//               and the Mailbox database answers come back through;
//   - Server:   the real Engine.IO + Socket.IO servers on that loop;
//   - Client:   a browser on the polling transport, made of synthetic HttpRequests (handshake GET,
//               POSTed packets, GETs that collect what the server queued);
//   - Database: a DatabaseWorker whose database never answers, so reads are refused at once and
//               writes land in its spool file, where a test reads what the chat asked to store.
// The chat objects are the daemon's own; only the transport under them is simulated, so a test
// asserts on the frames a browser would receive.

#include <catch2/catch.hpp>

#include <ev.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <rapidjson/document.h>
#include <spdlog/spdlog.h>

#include "common/text/json.h"
#include "common/thread/mailbox.h"
#include "daemon/chat/change_log.h"
#include "daemon/metrics/metrics.h"
#include "daemon/net/engineio_packet.h"
#include "daemon/net/engineio_server.h"
#include "daemon/net/http_exchange.h"
#include "daemon/net/socketio_packet.h"
#include "daemon/net/socketio_server.h"
#include "daemon/net/timer_queue.h"
#include "daemon/store/database_worker.h"
#include "daemon/store/write_record.h"

namespace ilchat::test {

using namespace std::chrono_literals;

// How long a test waits for something that must happen (a timer, a database answer) before it
// fails; generous, because it only matters when the test is failing anyway.
inline constexpr std::chrono::milliseconds patience{5000};

// The chat logs every login and the worker every failed connect: noise around Catch's report.
// Silenced while a fixture lives, which holds one of these before anything that logs;
// ILCHAT_TEST_LOG=1 keeps the log, for debugging a failure.
class QuietLog {
public:
    QuietLog() : saved_(spdlog::get_level()) {
        if (!std::getenv("ILCHAT_TEST_LOG")) spdlog::set_level(spdlog::level::off);
    }
    ~QuietLog() { spdlog::set_level(saved_); }
    QuietLog(const QuietLog&) = delete;
    QuietLog& operator=(const QuietLog&) = delete;

private:
    spdlog::level::level_enum saved_;
};

class Loop {
public:
    Loop() : loop_(ev_loop_new(EVFLAG_AUTO)), timers_(std::make_unique<net::TimerQueue>(loop_.get())) {}

    net::TimerQueue& timers() { return *timers_; }
    // Workers post from their own thread; the test's loop looks at the mailbox on every turn, so
    // the wake-up has nothing to do.
    Mailbox& mailbox() { return mailbox_; }

    // One turn of the network loop: due timers fire, database answers are handled.
    void turn() {
        ev_run(loop_.get(), EVRUN_NOWAIT);
        mailbox_.drain();
    }
    // Turns until `done` holds; false if it did not within `limit`.
    bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit = patience) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (true) {
            turn();
            if (done()) return true;
            if (std::chrono::steady_clock::now() > deadline) return false;
            std::this_thread::sleep_for(1ms);
        }
    }
    void run_for(std::chrono::milliseconds duration) {
        run_until([] { return false; }, duration);
    }

private:
    struct LoopDeleter {
        void operator()(struct ev_loop* loop) const { ev_loop_destroy(loop); }
    };
    std::unique_ptr<struct ev_loop, LoopDeleter> loop_;  // first: the timers stop before it goes
    std::unique_ptr<net::TimerQueue> timers_;
    Mailbox mailbox_{[] {}};
};

// The Engine.IO and Socket.IO servers of the daemon, with heartbeats and the namespace connect
// timeout too slow to matter in a test.
class Server {
public:
    explicit Server(Loop& loop)
        : loop_(loop), socketio_(loop.timers(), 10min), engineio_(loop.timers(), settings(), socketio_) {}

    Loop& loop() { return loop_; }
    net::eio::Server& engine() { return engineio_; }
    net::sio::Namespace& add_namespace(const std::string& name) { return socketio_.add_namespace(name); }

private:
    static net::eio::Settings settings() {
        net::eio::Settings s;
        s.ping_interval = 10min;
        s.ping_timeout = 10min;
        s.legacy_ping_timeout = 10min;
        return s;
    }

    Loop& loop_;
    net::sio::Server socketio_;   // before engineio_: sessions report to it until they are gone
    net::eio::Server engineio_;
};

// A temporary folder, removed with everything in it.
class TempDir {
public:
    TempDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "ilchat-chat-XXXXXX").string();
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

// The client's database worker, pointed at a database that is not there (see the top).
class Database {
public:
    Database() : worker_("test", unreachable(dir_), options(dir_)) {}

    store::DatabaseWorker& worker() { return worker_; }

    // Every write the chat made so far that the worker has spooled, in order.
    std::vector<store::WriteRecord> writes() const {
        std::ifstream in(dir_.path() / "spool" / "test.spool", std::ios::binary);
        std::stringstream content;
        content << in.rdbuf();
        std::vector<store::WriteRecord> records;
        const std::string text = content.str();
        // Only complete lines: the worker may be appending while the test reads.
        for (std::size_t start = 0, end; (end = text.find('\n', start)) != std::string::npos; start = end + 1) {
            std::string_view l(text.data() + start, end - start);
            if (l.starts_with('?')) l.remove_prefix(1);  // a write whose fate was uncertain
            if (auto record = store::decode(l)) records.push_back(std::move(*record));
        }
        return records;
    }
    template <class Record>
    std::vector<Record> writes_of() const {
        std::vector<Record> found;
        for (auto& record : writes())
            if (auto* r = std::get_if<Record>(&record)) found.push_back(std::move(*r));
        return found;
    }
    // Waits until `count` writes of this kind are spooled (they reach the spool on the worker
    // thread, a moment after the chat made them) and returns them.
    template <class Record>
    std::vector<Record> wait_for(std::size_t count) const {
        const auto deadline = std::chrono::steady_clock::now() + patience;
        while (writes_of<Record>().size() < count && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(1ms);
        return writes_of<Record>();
    }

private:
    // A Unix socket that does not exist: every connect fails at once, as for a database that is
    // down, and the worker never stores (and so never removes) what it spooled.
    static db::Endpoint unreachable(const TempDir& dir) {
        db::Endpoint endpoint;
        endpoint.host = (dir.path() / "no-database.sock").string();
        endpoint.name = "ilias";
        endpoint.user = "ilias";
        return endpoint;
    }
    static store::WorkerOptions options(const TempDir& dir) {
        store::WorkerOptions o;
        o.spool_path = (dir.path() / "spool" / "test.spool").string();
        o.connected_at_start = false;  // refuse reads from the start instead of trying first
        o.shutdown_grace = 0ms;        // nothing to wait for when the test ends
        return o;
    }

    TempDir dir_;  // first: the worker stops before its spool's folder goes
    store::DatabaseWorker worker_;
};

// A long-poll GET's connection, for the one thing Session does with it: answer it. The answer is
// kept for the test instead of being written to a socket (the seam in http_exchange.h).
class PollExchange final : public net::HttpExchange {
public:
    PollExchange() : HttpExchange(nullptr) {}
    void respond(const net::HttpResponse& response, bool) override {
        on_abandon(nullptr);
        answer = response;
    }
    bool peer_still_there() override { return true; }

    std::optional<net::HttpResponse> answer;
};

// One Socket.IO event a client received: payload is [name, args...].
struct Received {
    std::string event;
    std::shared_ptr<const rapidjson::Document> payload;

    std::size_t arg_count() const { return payload->Size() - 1; }
    const rapidjson::Value& arg(std::size_t i) const { return (*payload)[static_cast<rapidjson::SizeType>(i + 1)]; }
};

// `key` of an object as compact JSON ("<absent>" when missing): compares strings, numbers and
// objects alike, and says what was there when a check fails.
inline std::string json_of(const rapidjson::Value& object, const char* key) {
    if (!object.IsObject()) return "<not an object>";
    auto member = object.FindMember(key);
    return member == object.MemberEnd() ? "<absent>" : text::to_json(member->value);
}

// The same for the first argument of an event, where the chat puts its message object.
inline std::string json_of(const Received& event, const char* key) { return json_of(event.arg(0), key); }

// A browser tab: one Engine.IO session on the polling transport with one socket in `nsp`.
// Engine.IO 4 (socket.io-client 4, ILIAS >= 8) unless told Engine.IO 3 (ILIAS 5.3 to 7).
class Client {
public:
    Client(Server& server, std::string nsp, net::eio::Protocol protocol = net::eio::Protocol::v4)
        : server_(server), nsp_(std::move(nsp)), protocol_(protocol) {
        net::HttpRequest handshake = request(net::HttpMethod::get);
        PollExchange exchange;
        auto answer = server_.engine().handle_http(handshake, exchange);
        REQUIRE(answer);
        REQUIRE(answer->status == 200);
        for (const auto& packet : decode(answer->body)) {
            if (packet.type != net::eio::PacketType::open) continue;
            rapidjson::Document open;
            open.Parse(packet.data.c_str());
            REQUIRE(open.IsObject());
            sid_ = open["sid"].GetString();
        }
        REQUIRE(!sid_.empty());
        net::sio::Packet connect;
        connect.type = net::sio::PacketType::connect;
        connect.nsp = nsp_;
        post(net::sio::encode(connect));
        poll();
        REQUIRE(connected_);
    }

    const std::string& sid() const { return sid_; }
    bool open() const { return server_.engine().find(sid_) != nullptr; }

    // Sends `event(args...)`; `args_json` is the comma-separated JSON arguments.
    void emit(std::string_view event, std::string_view args_json = {}) {
        net::sio::Packet packet;
        packet.nsp = nsp_;
        packet.payload = net::sio::event_payload(event, args_json);
        post(net::sio::encode(packet));
    }

    // Collects what the server queued for this session since the last poll, after a turn of the
    // loop (what the server does at the end of a turn, such as folded user lists, comes too).
    void poll() {
        server_.loop().turn();
        if (!open()) return;
        PollExchange exchange;
        auto immediate = server_.engine().handle_http(request(net::HttpMethod::get), exchange);
        // Nothing queued: the GET stays parked until `exchange` goes, which unparks it.
        const std::optional<net::HttpResponse>& answer = immediate ? immediate : exchange.answer;
        if (!answer) return;
        REQUIRE(answer->status == 200);
        for (const auto& packet : decode(answer->body)) {
            if (packet.type != net::eio::PacketType::message) continue;
            auto decoded = net::sio::decode(packet.data, revision());
            REQUIRE(decoded.packet);
            const auto& p = *decoded.packet;
            if (p.nsp != nsp_) continue;
            if (p.type == net::sio::PacketType::connect) connected_ = true;
            if (p.type != net::sio::PacketType::event) continue;
            auto document = std::make_shared<rapidjson::Document>();
            document->Parse(p.payload.c_str());
            REQUIRE((document->IsArray() && !document->Empty() && (*document)[0].IsString()));
            inbox_.push_back({(*document)[0].GetString(), std::move(document)});
        }
    }

    // Every `event` received so far (polling first), oldest first.
    std::vector<Received> received(std::string_view event) {
        poll();
        std::vector<Received> found;
        for (const auto& r : inbox_)
            if (r.event == event) found.push_back(r);
        return found;
    }
    // The names of everything received so far, in order: for checking that nothing else came.
    std::vector<std::string> events() {
        poll();
        std::vector<std::string> names;
        for (const auto& r : inbox_) names.push_back(r.event);
        return names;
    }
    // The newest `event`; the test fails if there is none.
    Received last(std::string_view event) {
        auto found = received(event);
        std::string got;
        for (const auto& name : events()) got += (got.empty() ? "" : ", ") + name;
        INFO("no " << event << " among what arrived: " << got);
        REQUIRE(!found.empty());
        return found.back();
    }
    // Turns the loop until `count` of `event` have arrived (timers, database answers).
    bool wait_for(std::string_view event, std::size_t count = 1) {
        return server_.loop().run_until([&] { return received(event).size() >= count; });
    }
    // Forgets what was received, so that the next checks see only what comes after.
    void forget() {
        poll();
        inbox_.clear();
    }

    // The tab is closed: the session ends as on a lost transport, and its sockets leave.
    void close() {
        if (auto* session = server_.engine().find(sid_)) session->close(net::eio::CloseReason::transport_close);
    }

private:
    net::sio::Revision revision() const {
        return protocol_ == net::eio::Protocol::v4 ? net::sio::Revision::v5 : net::sio::Revision::v4;
    }

    net::HttpRequest request(net::HttpMethod method) const {
        net::HttpRequest r;
        r.method = method;
        r.path = "/socket.io/";
        r.query = std::string("EIO=") + (protocol_ == net::eio::Protocol::v4 ? "4" : "3") + "&transport=polling";
        if (!sid_.empty()) r.query += "&sid=" + sid_;
        r.content_type = "text/plain;charset=UTF-8";
        return r;
    }

    std::vector<net::eio::Packet> decode(const std::string& body) const {
        auto packets = protocol_ == net::eio::Protocol::v4 ? net::eio::decode_payload(body)
                                                           : net::eio::v3::decode_payload(body);
        REQUIRE(packets);
        return *packets;
    }

    void post(const std::string& socketio_packet) {
        net::eio::Packet message{net::eio::PacketType::message, socketio_packet, false};
        net::HttpRequest r = request(net::HttpMethod::post);
        if (protocol_ == net::eio::Protocol::v4) r.body = net::eio::encode_text(message);
        else net::eio::v3::append_record(r.body, net::eio::v3::encode_text(message));
        PollExchange exchange;
        auto answer = server_.engine().handle_http(r, exchange);
        REQUIRE(answer);
        REQUIRE(answer->status == 200);
        REQUIRE(answer->body == "ok");
    }

    Server& server_;
    std::string nsp_;
    net::eio::Protocol protocol_;
    std::string sid_;
    bool connected_ = false;
    std::vector<Received> inbox_;
};

// What every chat test stands on, in the order it must be built and torn down; a fixture derives
// from it and adds its chat object, which then goes first.
// On-Screen Chat: a browser on /ilias-im that logged in as `id`.
inline Client im_user(Server& server, std::int64_t id, const std::string& name) {
    Client c(server, "/ilias-im");
    c.emit("login", std::to_string(id) + "," + text::json_string(name));
    REQUIRE(json_of(c.last("login").arg(0), "id") == std::to_string(id));
    return c;
}

// On-Screen Chat: `conversation` with these participants; the id of the conversation-init that
// answers it (after the worker's answer about the latest message came back through the mailbox).
inline std::string open_conversation(Client& requester, const std::string& participants) {
    const std::size_t before = requester.received("conversation-init").size();
    requester.emit("conversation", participants);
    REQUIRE(requester.wait_for("conversation-init", before + 1));
    auto init = requester.received("conversation-init");
    REQUIRE(init.size() == before + 1);
    return init.back().arg(0)["id"].GetString();
}

struct ChatFixture {
    QuietLog quiet;            // first: the worker logs until it is gone
    metrics::Metrics metrics;  // the chat's counters of ignored events and messages
    Loop loop;
    Server server{loop};
    Database database;

    // A single node's log: every change applied to `chat` at once (declared after the log).
    template <class Chat>
    static chat::ChangeLog::Apply applying_to(Chat& chat) {
        return [&chat](const chat::Change& change, const rapidjson::Value& payload, bool own, bool) {
            chat.apply(change, payload, own);
            return std::optional<net::HttpResponse>();
        };
    }
};

}  // namespace ilchat::test
