#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <ctime>
#include <netdb.h>
#include <netinet/in.h>
#include <regex>
#include <set>
#include <sstream>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "common/version.h"
#include "daemon/ops/health_http.h"
#include "daemon/metrics/metrics.h"

using ilchat::ops::HealthHttp;
using ilchat::metrics::Metrics;

namespace {

// the fixed set of docs/architecture.md, plus `table` (deletion job) and `kind` (room, whisper or osc chat messages).
const std::set<std::string> allowed_labels = {"namespace", "transport", "reason", "route", "op", "result", "table", "kind",
                                           "direction", "lease"};

struct Documented {
    std::string name;
    std::string type;
    std::vector<std::string> labels;
};

// The reference table is the list the scrape is checked against, so docs and scrape agree.
std::vector<Documented> documented_families() {
    static const std::regex row(R"(^\| `([^`]+)` \| (\w+) \| ([^|]*) \| [^|]+ \|$)");
    static const std::regex label("`([^`]+)`");
    std::vector<Documented> families;
    std::istringstream in(Metrics::reference_markdown());
    for (std::string line; std::getline(in, line);) {
        std::smatch match;
        if (!std::regex_match(line, match, row)) continue;
        Documented family{match[1], match[2], {}};
        const std::string labels = match[3];
        for (std::sregex_iterator it(labels.begin(), labels.end(), label), end; it != end; ++it)
            family.labels.push_back((*it)[1]);
        families.push_back(family);
    }
    return families;
}

void touch_every_family(Metrics& metrics) {
    metrics.connections("/ilias", "websocket");
    metrics.engineio_sessions("polling");
    metrics.handshakes("polling");
    metrics.handshake_failures("bad_request");
    metrics.disconnects("ping_timeout");
    metrics.packets_received("/ilias");
    metrics.packets_sent("/ilias");
    metrics.chat_messages("room");
    metrics.bytes_sent();
    metrics.slow_consumer_disconnects();
    metrics.ignored_events("/ilias-im", "not_participant");
    metrics.backend_requests("Post", "success");
    metrics.backend_request_duration_seconds("Post");
    metrics.db_query_duration_seconds("insert_history");
    metrics.db_errors("ilias");
    metrics.db_reconnects("ilias");
    metrics.db_up("ilias");
    metrics.db_write_queue_depth("ilias");
    metrics.spooled_messages("ilias");
    metrics.deletion_rows_deleted("chatroom_history");
    metrics.deletion_last_success_timestamp_seconds();
    metrics.config_reloads("success");
    metrics.admin_commands("success");
    metrics.rooms("ilias");
    metrics.conversations("ilias");
}

// The value of the sample line "<series> <value>", or nullopt when there is none.
std::optional<double> sample(const std::string& text, const std::string& series) {
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (line.starts_with(series + " ")) return std::stod(line.substr(series.size() + 1));
    return std::nullopt;
}

// An event_base on its own thread, as the control loop runs it. A user event stops it because
// event_base_loopbreak from another thread is lost when it comes before the loop has started.
class LoopThread {
public:
    LoopThread() {
        evthread_use_pthreads();
        base_ = event_base_new();
        auto stop = [](evutil_socket_t, short, void* base) { event_base_loopbreak(static_cast<event_base*>(base)); };
        stop_ = event_new(base_, -1, 0, stop, base_);
    }
    ~LoopThread() {
        stop();
        event_free(stop_);
        event_base_free(base_);
    }
    LoopThread(const LoopThread&) = delete;
    LoopThread& operator=(const LoopThread&) = delete;

    event_base* base() const { return base_; }
    void start() {
        thread_ = std::thread([this] { event_base_loop(base_, EVLOOP_NO_EXIT_ON_EMPTY); });
    }
    void stop() {
        if (!thread_.joinable()) return;
        event_active(stop_, EV_READ, 0);
        thread_.join();
    }

private:
    event_base* base_ = nullptr;
    event* stop_ = nullptr;
    std::thread thread_;
};

// The endpoint must go before its loop's thread stops running it, and its loop after it.
struct ServedHttp {
    LoopThread loop;
    HealthHttp http;
    ServedHttp(const std::string& address, HealthHttp::Handlers handlers)
        : http(loop.base(), address, std::move(handlers)) {
        loop.start();
    }
    ~ServedHttp() { loop.stop(); }
};

struct HttpAnswer {
    int status = 0;
    std::string head;  // status line and headers
    std::string body;

    std::optional<std::string> header(const std::string& name) const {
        auto at = head.find("\r\n" + name + ": ");
        if (at == std::string::npos) return std::nullopt;
        at += name.size() + 4;
        return head.substr(at, head.find("\r\n", at) - at);
    }
};

// A plain socket, so that the test sees the bytes a scraper or a probe would see.
HttpAnswer http_request(const std::string& host, std::uint16_t port, const std::string& method,
                        const std::string& path) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    REQUIRE(::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) == 0);
    std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(found, ::freeaddrinfo);
    int fd = ::socket(found->ai_family, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    std::unique_ptr<int, void (*)(int*)> closer(&fd, [](int* f) { ::close(*f); });
    timeval timeout{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    REQUIRE(::connect(fd, found->ai_addr, found->ai_addrlen) == 0);

    const std::string request = method + " " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    REQUIRE(::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size()));
    std::string raw;
    char buffer[4096];
    for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) raw.append(buffer, n);

    HttpAnswer answer;
    auto head_end = raw.find("\r\n\r\n");
    REQUIRE(head_end != std::string::npos);
    answer.head = raw.substr(0, head_end + 2);
    answer.body = raw.substr(head_end + 4);
    answer.status = std::stoi(raw.substr(raw.find(' ') + 1, 3));
    return answer;
}

bool ipv6_loopback_available() {
    int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
    if (fd < 0) return false;
    sockaddr_in6 address{};
    address.sin6_family = AF_INET6;
    address.sin6_addr = in6addr_loopback;
    bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    ::close(fd);
    return ok;
}

}  // namespace

TEST_CASE("Every documented family is scraped with HELP and TYPE and named by the conventions", "[metrics]") {
    Metrics metrics;
    const std::string text = "\n" + metrics.render();  // every line, the first too, follows a newline
    const auto families = documented_families();
    REQUIRE(families.size() == 33);

    static const std::regex name_rule("^ilchatd_[a-z_]+$");
    std::set<std::string> names;
    for (const auto& family : families) {
        INFO(family.name);
        names.insert(family.name);
        CHECK(std::regex_match(family.name, name_rule));
        CHECK(family.name.ends_with("_total") == (family.type == "counter"));
        for (const auto& label : family.labels)
            CHECK((allowed_labels.contains(label) || (family.name == "ilchatd_build_info" && label == "version")));
        CHECK(text.find("\n# HELP " + family.name + " ") != std::string::npos);
        CHECK(text.find("\n# TYPE " + family.name + " " + family.type + "\n") != std::string::npos);
    }
    CHECK(names.size() == families.size());

    static const std::regex type_line("^# TYPE (ilchatd_\\w+) ");
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        std::smatch match;
        if (std::regex_search(line, match, type_line)) CHECK(names.contains(match[1]));
    }
}

TEST_CASE("Scraped series carry only the labels of the fixed set", "[metrics]") {
    Metrics metrics;
    touch_every_family(metrics);
    const std::string text = metrics.render();

    static const std::regex series("^(ilchatd_\\w+)\\{([^}]*)\\} ");
    static const std::regex label("(\\w+)=\"");
    std::set<std::string> seen;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        std::smatch match;
        if (!std::regex_search(line, match, series)) continue;
        const std::string name = match[1], labels = match[2];
        seen.insert(name);
        for (std::sregex_iterator it(labels.begin(), labels.end(), label), end; it != end; ++it) {
            const std::string label_name = (*it)[1];
            INFO(line);
            CHECK((allowed_labels.contains(label_name) || (name.ends_with("_bucket") && label_name == "le") ||
                   (name == "ilchatd_build_info" && label_name == "version")));
        }
    }
    CHECK(seen.contains("ilchatd_connections"));
    CHECK(seen.contains("ilchatd_db_query_duration_seconds_bucket"));
    CHECK(sample(text, "ilchatd_connections{namespace=\"ilias\",transport=\"websocket\"}") == 0);
    CHECK(sample(text, "ilchatd_bytes_sent_total") == 0);
    CHECK(sample(text, std::string("ilchatd_build_info{version=\"") + ilchat::version + "\"}") == 1);
}

TEST_CASE("Counters, gauges and histograms move when the daemon records", "[metrics]") {
    Metrics metrics;
    CHECK(sample(metrics.render(), "ilchatd_bytes_sent_total") == 0);  // label-less counters start at 0
    metrics.handshake_failures("bad_request").Increment();
    metrics.handshake_failures("bad_request").Increment(2);
    metrics.handshake_failures("unknown_transport").Increment();
    metrics.bytes_sent().Increment(1500);
    metrics.backend_requests("Heartbeat", "success").Increment();
    metrics.connections("/ilias", "polling").Increment();
    metrics.connections("/ilias", "polling").Increment();
    metrics.connections("/ilias", "polling").Decrement();
    metrics.db_up("ilias").Set(1);
    metrics.backend_request_duration_seconds("Post").Observe(0.003);

    const std::string text = metrics.render();
    CHECK(sample(text, "ilchatd_handshake_failures_total{reason=\"bad_request\"}") == 3);
    CHECK(sample(text, "ilchatd_handshake_failures_total{reason=\"unknown_transport\"}") == 1);
    CHECK(sample(text, "ilchatd_bytes_sent_total") == 1500);
    CHECK(sample(text, "ilchatd_backend_requests_total{result=\"success\",route=\"Heartbeat\"}") == 1);
    // One name per namespace: the socket.io name "/ilias" and the client name "ilias" are one label value.
    CHECK(sample(text, "ilchatd_connections{namespace=\"ilias\",transport=\"polling\"}") == 1);
    CHECK(sample(text, "ilchatd_db_up{namespace=\"ilias\"}") == 1);
    CHECK(sample(text, "ilchatd_backend_request_duration_seconds_count{route=\"Post\"}") == 1);
    CHECK(sample(text, "ilchatd_backend_request_duration_seconds_bucket{route=\"Post\",le=\"0.0025\"}") == 0);
    CHECK(sample(text, "ilchatd_backend_request_duration_seconds_bucket{route=\"Post\",le=\"0.005\"}") == 1);
}

TEST_CASE("Process metrics are scraped with plausible values", "[metrics]") {
    const std::string text = Metrics().render();
    for (const char* type_line :
         {"# TYPE process_cpu_seconds_total counter", "# TYPE process_resident_memory_bytes gauge",
          "# TYPE process_virtual_memory_bytes gauge", "# TYPE process_start_time_seconds gauge",
          "# TYPE process_open_fds gauge", "# TYPE process_max_fds gauge", "# TYPE process_threads gauge"}) {
        INFO(type_line);
        CHECK(text.find(type_line) != std::string::npos);
    }
    const double now = static_cast<double>(std::time(nullptr));
    CHECK(sample(text, "process_resident_memory_bytes").value_or(0) > 0);
    CHECK(sample(text, "process_virtual_memory_bytes").value_or(0) >= sample(text, "process_resident_memory_bytes"));
    CHECK(sample(text, "process_cpu_seconds_total").value_or(-1) >= 0);
    const double started = sample(text, "process_start_time_seconds").value_or(0);
    CHECK(started > now - 3600);
    CHECK(started <= now + 1);
    const double open_fds = sample(text, "process_open_fds").value_or(0);
    CHECK(open_fds > 0);
    CHECK(sample(text, "process_max_fds").value_or(0) >= open_fds);
    CHECK(sample(text, "process_threads").value_or(0) >= 1);
}

TEST_CASE("The health endpoint answers /metrics, /healthz and /readyz on its own loop thread", "[metrics]") {
    Metrics metrics;
    std::atomic<bool> ready = false;
    ServedHttp served("127.0.0.1:0", {[&metrics] { return metrics.render(); },
                                      [&ready]() -> std::optional<std::string> {
                                          if (ready) return std::nullopt;
                                          return "database of ilias unreachable";
                                      }});
    const auto port = served.http.port();
    REQUIRE(port != 0);

    SECTION("metrics") {
        metrics.handshakes("websocket").Increment();
        auto answer = http_request("127.0.0.1", port, "GET", "/metrics");
        CHECK(answer.status == 200);
        CHECK(answer.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8");
        CHECK(sample(answer.body, "ilchatd_handshakes_total{transport=\"websocket\"}") == 1);
        CHECK(answer.body.find("# TYPE process_open_fds gauge") != std::string::npos);
    }
    SECTION("liveness, with HEAD and a query string") {
        auto answer = http_request("127.0.0.1", port, "GET", "/healthz?probe=1");
        CHECK(answer.status == 200);
        CHECK(answer.body == "ok");
        auto head = http_request("127.0.0.1", port, "HEAD", "/healthz");
        CHECK(head.status == 200);
        CHECK(head.header("Content-Length") == "2");
        CHECK(head.body.empty());
    }
    SECTION("readiness, both ways") {
        auto not_ready = http_request("127.0.0.1", port, "GET", "/readyz");
        CHECK(not_ready.status == 503);
        CHECK(not_ready.body == "database of ilias unreachable");
        ready = true;
        auto answer = http_request("127.0.0.1", port, "GET", "/readyz");
        CHECK(answer.status == 200);
        CHECK(answer.body == "ready");
    }
    SECTION("unknown paths and other methods") {
        CHECK(http_request("127.0.0.1", port, "GET", "/").status == 404);
        CHECK(http_request("127.0.0.1", port, "GET", "/metrics/extra").status == 404);
        for (const char* method : {"POST", "PUT", "DELETE", "OPTIONS"}) {
            INFO(method);
            auto answer = http_request("127.0.0.1", port, method, "/metrics");
            CHECK(answer.status == 405);
            CHECK(answer.header("Allow") == "GET, HEAD");
        }
    }
}

TEST_CASE("A failing render answers 500 and the endpoint keeps serving", "[metrics]") {
    ServedHttp served("127.0.0.1:0", {[]() -> std::string { throw std::runtime_error("registry gone"); },
                                      [] { return std::optional<std::string>(); }});
    CHECK(http_request("127.0.0.1", served.http.port(), "GET", "/metrics").status == 500);
    CHECK(http_request("127.0.0.1", served.http.port(), "GET", "/healthz").status == 200);
}

TEST_CASE("The health endpoint listens on a bracketed IPv6 address", "[metrics]") {
    if (!ipv6_loopback_available()) {
        WARN("no IPv6 loopback here; skipped");
        return;
    }
    ServedHttp served("[::1]:0", {[] { return std::string(); }, [] { return std::optional<std::string>(); }});
    auto answer = http_request("::1", served.http.port(), "GET", "/healthz");
    CHECK(answer.status == 200);
    CHECK(answer.body == "ok");
}

TEST_CASE("The health endpoint refuses an address in use or malformed, saying which", "[metrics]") {
    LoopThread loop;
    HealthHttp::Handlers handlers{[] { return std::string(); }, [] { return std::optional<std::string>(); }};
    HealthHttp first(loop.base(), "127.0.0.1:0", handlers);
    const std::string taken = "127.0.0.1:" + std::to_string(first.port());
    CHECK_THROWS_WITH(HealthHttp(loop.base(), taken, handlers),
                      Catch::Contains("cannot listen on " + taken) && Catch::Contains("Address already in use"));

    for (const char* address : {"9464", "::1:9464", "[::1]9464", "127.0.0.1:", "127.0.0.1:65536", ":9464"}) {
        INFO(address);
        CHECK_THROWS_WITH(HealthHttp(loop.base(), address, handlers), Catch::Contains("expected host:port"));
    }
}
