#include "tests/bench/loadgen/backend.h"

#include <netdb.h>
#include <sys/time.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "tests/bench/loadgen/base64.h"
#include "tests/bench/loadgen/clock.h"
#include "common/fs/unique_fd.h"
#include "tests/bench/loadgen/source_addresses.h"

namespace ilchat::loadgen {

namespace {

constexpr std::size_t max_answer_bytes = 1 << 20;
constexpr int io_timeout_seconds = 10;

struct AddrinfoFree {
    void operator()(addrinfo* list) const { freeaddrinfo(list); }
};

std::string errno_text(std::string_view what) { return std::string(what) + ": " + std::strerror(errno); }

}  // namespace

Backend::Backend(const Options& options) : options_(options) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const int rc = getaddrinfo(options.host.c_str(), std::to_string(options.port).c_str(), &hints, &found);
    if (rc != 0) throw std::runtime_error("cannot resolve " + options.host + ": " + gai_strerror(rc));
    const std::unique_ptr<addrinfo, AddrinfoFree> list(found);
    std::memcpy(&server_, list->ai_addr, list->ai_addrlen);
    server_length_ = list->ai_addrlen;
    for (const auto& source : options.source_addresses) {
        sockaddr_storage local;
        if (to_sockaddr(source, 0, local) && local.ss_family != server_.ss_family)
            throw std::runtime_error("source address " + source + " and " + options.host + " are not of one family");
    }
    const bool v6 = options.host.find(':') != std::string::npos;
    host_header_ = (v6 ? "[" + options.host + "]" : options.host) + ":" + std::to_string(options.port);
    authorization_ = "Basic " + base64(options.auth_key + ":" + options.auth_secret);
}

Backend::Answer Backend::get(const std::string& route, std::size_t source) const {
    Answer answer;
    const fs::UniqueFd fd(::socket(server_.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) {
        answer.problem = errno_text("socket");
        return answer;
    }
    const timeval timeout{io_timeout_seconds, 0};
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    if (!options_.source_addresses.empty()) {
        const std::string& local_address = options_.source_addresses[source % options_.source_addresses.size()];
        sockaddr_storage local;
        const socklen_t length = to_sockaddr(local_address, 0, local);
        if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&local), length) != 0) {
            answer.problem = errno_text("bind " + local_address);
            return answer;
        }
    }
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&server_), server_length_) != 0) {
        answer.problem = errno_text("connect");
        return answer;
    }

    const std::string request = "GET /backend/" + route + " HTTP/1.0\r\nHost: " + host_header_ +
                                "\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\n"
                                "Authorization: " + authorization_ + "\r\n\r\n";
    for (std::size_t sent = 0; sent < request.size();) {
        const auto n = ::send(fd.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            answer.problem = errno_text("send");
            return answer;
        }
        sent += static_cast<std::size_t>(n);
    }

    std::string response;
    char buffer[4096];
    for (;;) {
        const auto n = ::recv(fd.get(), buffer, sizeof buffer, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            answer.problem = errno_text("receive");
            return answer;
        }
        if (n == 0) break;
        response.append(buffer, static_cast<std::size_t>(n));
        if (response.size() > max_answer_bytes) {
            answer.problem = "answer larger than 1 MB";
            return answer;
        }
    }
    // "HTTP/1.1 200 OK\r\n...\r\n\r\n<body>"
    const auto space = response.find(' ');
    const auto head_end = response.find("\r\n\r\n");
    if (!response.starts_with("HTTP/") || space == std::string::npos || head_end == std::string::npos) {
        answer.problem = "not an HTTP answer: " + response.substr(0, 80);
        return answer;
    }
    answer.status = std::atoi(response.c_str() + space + 1);
    answer.body = response.substr(head_end + 4);
    return answer;
}

Registration register_users(const Options& options, ErrorLog& errors, std::int64_t deadline,
                            const std::atomic<bool>& stop) {
    const Backend backend(options);
    Registration result;
    result.registered.assign(static_cast<std::size_t>(options.clients), 0);
    const std::int64_t started = now_ns();
    std::atomic<bool> cut{false};
    auto go_on = [&] {
        if (!stop.load() && now_ns() < deadline) return true;
        cut = true;
        return false;
    };
    std::mutex lock;  // guards `errors` and result.requests across the workers
    const std::string ns = options.name;

    // One call; true when its answer contains `expected` (the routes answer tiny JSON objects).
    auto call = [&](const std::string& route, std::string_view expected, std::size_t source) {
        const Backend::Answer answer = backend.get(route, source);
        const std::string action = route.substr(0, route.find('/'));
        std::string kind, detail;
        if (!answer.problem.empty()) {
            kind = "backend_unreachable";
            detail = action + ": " + answer.problem;
        } else if (answer.status != 200) {
            kind = "backend_status";
            detail = action + ": HTTP " + std::to_string(answer.status) + " " + answer.body;
        } else if (answer.body.find(expected) == std::string::npos) {
            kind = "backend_refused";
            detail = action + ": " + answer.body;
        }
        const std::scoped_lock guard(lock);
        ++result.requests;
        if (!kind.empty()) errors.add(kind, detail);
        return kind.empty();
    };

    // Rooms first: EnterPrivateRoom needs the room. The title needs no URL-encoding.
    for (int r = 0; r < options.rooms && go_on(); ++r) {
        const auto room = std::to_string(room_id_of(options, r));
        call("CreatePrivateRoom/" + ns + "/" + room + "/" + std::to_string(options.user_id_base) + "/loadgen-room-" +
                 room,
             R"("success":true)", static_cast<std::size_t>(r));
    }

    std::atomic<int> next{0};
    auto worker = [&] {
        for (int i; go_on() && (i = next.fetch_add(1)) < options.clients;) {
            const auto user = std::to_string(user_id_of(options, i));
            const auto room = std::to_string(room_id_of(options, room_index_of(options, i)));
            const auto source = static_cast<std::size_t>(i);
            if (!call("Connect/" + ns + "/" + room + "/" + user, R"("status":200)", source)) continue;
            if (!call("EnterPrivateRoom/" + ns + "/" + room + "/" + user, R"("success":true)", source)) continue;
            result.registered[static_cast<std::size_t>(i)] = 1;
        }
    };
    {
        std::vector<std::jthread> workers;
        for (int w = 0; w < options.backend_concurrency; ++w) workers.emplace_back(worker);
    }
    result.seconds = static_cast<double>(now_ns() - started) / 1e9;
    result.cut_short = cut;
    if (cut) errors.add(stop.load() ? "interrupted" : "time_limit", "during the registration");
    return result;
}

}  // namespace ilchat::loadgen
