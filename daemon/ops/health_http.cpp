#include "daemon/ops/health_http.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <netdb.h>
#include <netinet/in.h>
#include <stdexcept>
#include <string_view>
#include <sys/socket.h>
#include <system_error>
#include <unistd.h>
#include <utility>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <spdlog/spdlog.h>

#include "common/fs/unique_fd.h"

namespace ilchat::ops {

namespace {

struct Reply {
    int status;
    std::string body;
    const char* content_type = "text/plain; charset=utf-8";
};

struct Route {
    std::string_view path;
    Reply (*answer)(const HealthHttp::Handlers& handlers);
};

constexpr Route routes[] = {
    {"/metrics",
     [](const HealthHttp::Handlers& handlers) {
         return Reply{HTTP_OK, handlers.render_metrics(), "text/plain; version=0.0.4; charset=utf-8"};
     }},
    {"/healthz", [](const HealthHttp::Handlers&) { return Reply{HTTP_OK, "ok"}; }},
    {"/readyz",
     [](const HealthHttp::Handlers& handlers) {
         auto reason = handlers.not_ready();
         return reason ? Reply{HTTP_SERVUNAVAIL, std::move(*reason)} : Reply{HTTP_OK, "ready"};
     }},
};

constexpr const char* allowed_methods = "GET, HEAD";

// A client that connects and then says nothing must not hold a descriptor for long, and nothing
// here needs a request body or long headers.
constexpr int idle_timeout_seconds = 10;
constexpr ev_ssize_t max_headers_bytes = 8192;
constexpr ev_ssize_t max_body_bytes = 4096;

[[noreturn]] void cannot_listen(const std::string& address, const std::string& why) {
    throw std::runtime_error("cannot listen on " + address + " for /metrics, /healthz and /readyz: " + why);
}

[[noreturn]] void cannot_listen_errno(const std::string& address, const char* step) {
    cannot_listen(address, std::string(step) + ": " + std::generic_category().message(errno));
}

struct HostPort {
    std::string host;
    std::string port;
};

// The brackets of "[IPv6]:port" keep the address's colons apart from the port's; an IPv6
// address without them is refused rather than guessed at.
std::optional<HostPort> split_address(const std::string& address) {
    HostPort parts;
    if (address.starts_with('[')) {
        auto close = address.find("]:");
        if (close == std::string::npos) return std::nullopt;
        parts = {address.substr(1, close - 1), address.substr(close + 2)};
    } else {
        auto colon = address.find(':');
        if (colon == std::string::npos || address.find(':', colon + 1) != std::string::npos) return std::nullopt;
        parts = {address.substr(0, colon), address.substr(colon + 1)};
    }
    std::uint16_t port = 0;
    const char* end = parts.port.data() + parts.port.size();
    auto [parsed_end, error] = std::from_chars(parts.port.data(), end, port);
    if (parts.host.empty() || parts.port.empty() || error != std::errc() || parsed_end != end) return std::nullopt;
    return parts;
}

// Our own socket rather than evhttp_bind_socket: that one reports failures only to libevent's
// log, and the operator needs to read in the exception which step failed and why.
fs::UniqueFd listening_socket(const std::string& address) {
    auto parts = split_address(address);
    if (!parts) cannot_listen(address, "expected host:port or [IPv6]:port");

    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    if (int rc = ::getaddrinfo(parts->host.c_str(), parts->port.c_str(), &hints, &found); rc != 0)
        cannot_listen(address, gai_strerror(rc));
    std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(found, ::freeaddrinfo);

    fs::UniqueFd fd(::socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (fd.get() < 0) cannot_listen_errno(address, "socket");
    // A restart must not fail while connections of the previous process sit in TIME_WAIT.
    int on = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (::bind(fd.get(), found->ai_addr, found->ai_addrlen) != 0) cannot_listen_errno(address, "bind");
    if (::listen(fd.get(), SOMAXCONN) != 0) cannot_listen_errno(address, "listen");
    return fd;
}

std::uint16_t local_port(int fd) {
    sockaddr_storage local{};
    socklen_t length = sizeof local;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length);
    return ntohs(local.ss_family == AF_INET6 ? reinterpret_cast<const sockaddr_in6&>(local).sin6_port
                                              : reinterpret_cast<const sockaddr_in&>(local).sin_port);
}

struct ListenerDeleter {
    void operator()(evconnlistener* listener) const { evconnlistener_free(listener); }
};

}  // namespace

void HealthHttp::HttpDeleter::operator()(evhttp* http) const { evhttp_free(http); }

void HealthHttp::BoundSocketDeleter::operator()(evhttp_bound_socket* bound) const {
    evhttp_del_accept_socket(http, bound);
}

HealthHttp::HealthHttp(event_base* base, const std::string& address, Handlers handlers)
    : handlers_(std::move(handlers)), http_(evhttp_new(base)), bound_(nullptr, BoundSocketDeleter{http_.get()}) {
    if (!http_) throw std::runtime_error("libevent: cannot create the HTTP server for /metrics");

    fs::UniqueFd fd = listening_socket(address);
    // Backlog 0: the socket is listening already. The listener closes the socket when freed.
    std::unique_ptr<evconnlistener, ListenerDeleter> listener(
        evconnlistener_new(base, nullptr, nullptr, LEV_OPT_CLOSE_ON_FREE, 0, fd.get()));
    if (!listener) cannot_listen(address, "libevent cannot watch the socket");
    fd.release();
    bound_.reset(evhttp_bind_listener(http_.get(), listener.get()));
    if (!bound_) cannot_listen(address, "libevent cannot serve HTTP on the socket");
    listener.release();
    port_ = local_port(evhttp_bound_socket_get_fd(bound_.get()));

    // Every method reaches answer(), so that the refusal is ours: 405 with an Allow header.
    evhttp_set_allowed_methods(http_.get(), EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
                                                EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
                                                EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
    evhttp_set_timeout(http_.get(), idle_timeout_seconds);
    evhttp_set_max_headers_size(http_.get(), max_headers_bytes);
    evhttp_set_max_body_size(http_.get(), max_body_bytes);
    evhttp_set_gencb(
        http_.get(), [](evhttp_request* request, void* self) { static_cast<HealthHttp*>(self)->answer(request); },
        this);
}

HealthHttp::~HealthHttp() = default;

void HealthHttp::answer(evhttp_request* request) {
    const evhttp_cmd_type method = evhttp_request_get_command(request);
    const char* path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(request));
    const auto* route = std::ranges::find(routes, std::string_view(path ? path : ""), &Route::path);

    Reply reply{HTTP_NOTFOUND, "not found"};
    if (route != std::end(routes) && method != EVHTTP_REQ_GET && method != EVHTTP_REQ_HEAD) {
        reply = {HTTP_BADMETHOD, "method not allowed"};
    } else if (route != std::end(routes)) {
        // An exception must not unwind through libevent's C frames.
        try {
            reply = route->answer(handlers_);
        } catch (const std::exception& error) {
            spdlog::error("{}: {}", route->path, error.what());
            reply = {HTTP_INTERNAL, "internal error"};
        }
    }

    evkeyvalq* headers = evhttp_request_get_output_headers(request);
    evhttp_add_header(headers, "Content-Type", reply.content_type);
    if (reply.status == HTTP_BADMETHOD) evhttp_add_header(headers, "Allow", allowed_methods);
    // evhttp writes whatever is in the output buffer, HEAD or not; a HEAD answer carries the
    // length the GET body would have and no body.
    if (method == EVHTTP_REQ_HEAD)
        evhttp_add_header(headers, "Content-Length", std::to_string(reply.body.size()).c_str());
    else
        evbuffer_add(evhttp_request_get_output_buffer(request), reply.body.data(), reply.body.size());
    evhttp_send_reply(request, reply.status, nullptr, nullptr);
}

}  // namespace ilchat::ops
