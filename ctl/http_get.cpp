#include "ctl/http_get.h"

#include <algorithm>
#include <arpa/inet.h>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "common/fs/unique_fd.h"
#include "common/text/json.h"
#include "common/version.h"

namespace ilchat::ctl {

namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr std::size_t max_answer_bytes = 1024 * 1024;

struct SslCtxFree {
    void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
struct SslFree {
    void operator()(SSL* ssl) const { SSL_free(ssl); }
};
struct AddrinfoFree {
    void operator()(addrinfo* list) const { freeaddrinfo(list); }
};

// One connection with the deadline of the whole exchange; TLS on top when `ssl` is set.
class HttpConnection {
public:
    HttpConnection(std::string where, SteadyClock::time_point deadline, std::chrono::milliseconds timeout)
        : where_(std::move(where)), deadline_(deadline), timeout_(timeout) {}
    HttpConnection(const HttpConnection&) = delete;
    HttpConnection& operator=(const HttpConnection&) = delete;

    void connect(const addrinfo& address) {
        fd_.reset(::socket(address.ai_family, address.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, address.ai_protocol));
        if (!fd_) throw HttpError(std::string("cannot create a socket: ") + std::strerror(errno));
        if (::connect(fd_.get(), address.ai_addr, address.ai_addrlen) != 0) {
            if (errno != EINPROGRESS) fail_connect(errno);
            wait(POLLOUT);
            int error = 0;
            socklen_t length = sizeof error;
            ::getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &error, &length);
            if (error != 0) fail_connect(error);
        }
    }

    void start_tls(const Url& url, bool insecure) {
        ctx_.reset(SSL_CTX_new(TLS_client_method()));
        if (!ctx_) throw HttpError("cannot set up TLS: " + openssl_error());
        ssl_.reset(SSL_new(ctx_.get()));
        if (!ssl_ || SSL_set_fd(ssl_.get(), fd_.get()) != 1) throw HttpError("cannot set up TLS: " + openssl_error());
        in6_addr ip{};
        const bool is_ip =
            ::inet_pton(AF_INET, url.host.c_str(), &ip) == 1 || ::inet_pton(AF_INET6, url.host.c_str(), &ip) == 1;
        if (!is_ip) SSL_set_tlsext_host_name(ssl_.get(), url.host.c_str());
        if (!insecure) {
            SSL_CTX_set_default_verify_paths(ctx_.get());
            SSL_set_verify(ssl_.get(), SSL_VERIFY_PEER, nullptr);
            X509_VERIFY_PARAM* param = SSL_get0_param(ssl_.get());
            if (is_ip) X509_VERIFY_PARAM_set1_ip_asc(param, url.host.c_str());
            else X509_VERIFY_PARAM_set1_host(param, url.host.c_str(), 0);
        }
        while (true) {
            const int done = SSL_connect(ssl_.get());
            if (done == 1) return;
            if (!retry(done)) {
                const long verify = SSL_get_verify_result(ssl_.get());
                if (verify != X509_V_OK)
                    throw HttpError("the certificate of " + where_ + " is not trusted: " +
                                    X509_verify_cert_error_string(verify) + " (--insecure skips this check)");
                throw HttpError("TLS handshake with " + where_ + " failed: " + openssl_error());
            }
        }
    }

    void send_all(std::string_view data) {
        while (!data.empty()) {
            long n;
            if (ssl_) {
                n = SSL_write(ssl_.get(), data.data(), static_cast<int>(data.size()));
                if (n <= 0 && retry(static_cast<int>(n))) continue;
            } else {
                n = ::send(fd_.get(), data.data(), data.size(), MSG_NOSIGNAL);
                if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
                    wait(POLLOUT);
                    continue;
                }
            }
            if (n <= 0) throw HttpError("sending the request to " + where_ + " failed");
            data.remove_prefix(static_cast<std::size_t>(n));
        }
    }

    // Up to `size` bytes; 0 when the server closed the connection.
    std::size_t receive(char* into, std::size_t size) {
        while (true) {
            long n;
            if (ssl_) {
                n = SSL_read(ssl_.get(), into, static_cast<int>(size));
                if (n > 0) return static_cast<std::size_t>(n);
                const int error = SSL_get_error(ssl_.get(), static_cast<int>(n));
                if (error == SSL_ERROR_ZERO_RETURN) return 0;
                // A server that closes without close_notify has still sent all it had.
                if (error == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) return 0;
                if (retry(static_cast<int>(n))) continue;
            } else {
                n = ::recv(fd_.get(), into, size, 0);
                if (n >= 0) return static_cast<std::size_t>(n);
                if (errno == EAGAIN || errno == EINTR) {
                    wait(POLLIN);
                    continue;
                }
            }
            throw HttpError("reading the answer of " + where_ + " failed" +
                            (ssl_ ? ": " + openssl_error() : ": " + std::string(std::strerror(errno))));
        }
    }

private:
    [[noreturn]] void fail_connect(int error) const {
        if (error == ECONNREFUSED)
            throw HttpError("connection refused by " + where_ + " (is ilchatd running and listening there?)");
        if (error == ETIMEDOUT) timed_out();
        throw HttpError("cannot connect to " + where_ + ": " + std::strerror(error));
    }

    [[noreturn]] void timed_out() const {
        char seconds[32];
        std::snprintf(seconds, sizeof seconds, "%g", static_cast<double>(timeout_.count()) / 1000);
        throw HttpError("no answer from " + where_ + " within " + seconds + " s");
    }

    // Waits until the socket is ready for `events`, or throws when the deadline has passed.
    void wait(short events) const {
        while (true) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - SteadyClock::now());
            if (left.count() <= 0) timed_out();
            pollfd p{fd_.get(), events, 0};
            const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
            if (ready > 0) return;
            if (ready < 0 && errno != EINTR) throw HttpError(std::string("poll failed: ") + std::strerror(errno));
        }
    }

    // After a TLS call returned `result` <= 0: waits and says true when it only needs the socket
    // to be readable or writable first.
    bool retry(int result) const {
        switch (SSL_get_error(ssl_.get(), result)) {
            case SSL_ERROR_WANT_READ: wait(POLLIN); return true;
            case SSL_ERROR_WANT_WRITE: wait(POLLOUT); return true;
            default: return false;
        }
    }

    static std::string openssl_error() {
        const unsigned long code = ERR_get_error();
        if (code == 0) return "the connection closed";
        char text[256];
        ERR_error_string_n(code, text, sizeof text);
        return text;
    }

    std::string where_;
    SteadyClock::time_point deadline_;
    std::chrono::milliseconds timeout_;
    fs::UniqueFd fd_;
    std::unique_ptr<SSL_CTX, SslCtxFree> ctx_;
    std::unique_ptr<SSL, SslFree> ssl_;
};

std::string lower(std::string text) {
    for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

// The body of a chunked answer: hex size lines, each followed by that many bytes.
std::optional<std::string> unchunk(std::string_view data) {
    std::string body;
    while (true) {
        const auto line_end = data.find("\r\n");
        if (line_end == std::string_view::npos) return std::nullopt;
        std::size_t size = 0;
        for (char c : data.substr(0, line_end)) {
            const char lower_c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            const int digit = lower_c >= '0' && lower_c <= '9'   ? lower_c - '0'
                              : lower_c >= 'a' && lower_c <= 'f' ? lower_c - 'a' + 10
                                                                 : -1;
            if (digit < 0) break;  // chunk extensions
            size = size * 16 + static_cast<std::size_t>(digit);
        }
        data.remove_prefix(line_end + 2);
        if (size == 0) return body;
        if (data.size() < size) return std::nullopt;
        body.append(data.substr(0, size));
        data.remove_prefix(std::min(data.size(), size + 2));
    }
}

// Status and body once the answer is complete; empty while more is to come.
std::optional<HttpAnswer> complete_answer(const std::string& raw, bool closed, const std::string& where) {
    const auto head_end = raw.find("\r\n\r\n");
    if (head_end == std::string::npos) {
        if (closed) throw HttpError(where + " closed the connection without an HTTP answer");
        return std::nullopt;
    }
    const std::string head = lower(raw.substr(0, head_end));
    if (!head.starts_with("http/1.") || head.size() < 12)
        throw HttpError(where + " did not answer with HTTP: " + raw.substr(0, std::min<std::size_t>(head_end, 80)));
    HttpAnswer answer;
    answer.status = std::atoi(head.c_str() + 9);
    const std::string_view body = std::string_view(raw).substr(head_end + 4);
    auto header = [&head](std::string_view name) -> std::optional<std::string> {
        const auto at = head.find("\r\n" + std::string(name) + ":");
        if (at == std::string::npos) return std::nullopt;
        const auto start = head.find_first_not_of(' ', at + name.size() + 3);
        return head.substr(start, head.find("\r\n", start) - start);
    };
    if (auto encoding = header("transfer-encoding"); encoding && encoding->find("chunked") != std::string::npos) {
        auto decoded = unchunk(body);
        if (!decoded) {
            if (closed) throw HttpError(where + " closed the connection in the middle of its answer");
            return std::nullopt;
        }
        answer.body = std::move(*decoded);
        return answer;
    }
    if (auto length = header("content-length")) {
        const auto expected = text::integer_of(*length);
        if (!expected || *expected < 0) throw HttpError(where + " sent a bad Content-Length");
        if (body.size() < static_cast<std::size_t>(*expected)) {
            if (closed) throw HttpError(where + " closed the connection in the middle of its answer");
            return std::nullopt;
        }
        answer.body = body.substr(0, static_cast<std::size_t>(*expected));
        return answer;
    }
    if (!closed) return std::nullopt;  // the body ends with the connection
    answer.body = body;
    return answer;
}

}  // namespace

std::optional<Url> parse_url(std::string_view text) {
    Url url;
    const auto scheme_end = text.find("://");
    if (scheme_end == std::string_view::npos) return std::nullopt;
    url.scheme = lower(std::string(text.substr(0, scheme_end)));
    text.remove_prefix(scheme_end + 3);
    const auto path_start = text.find('/');
    std::string_view authority = text.substr(0, path_start);
    url.path = path_start == std::string_view::npos ? "" : std::string(text.substr(path_start));
    while (url.path.ends_with('/')) url.path.pop_back();
    std::string_view port;
    if (authority.starts_with('[')) {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        url.host = authority.substr(1, close - 1);
        authority.remove_prefix(close + 1);
        if (!authority.empty() && !authority.starts_with(':')) return std::nullopt;
        if (!authority.empty()) port = authority.substr(1);
    } else {
        const auto colon = authority.rfind(':');
        url.host = authority.substr(0, colon);
        if (colon != std::string_view::npos) port = authority.substr(colon + 1);
    }
    if (url.host.empty()) return std::nullopt;
    if (port.empty()) port = url.scheme == "https" ? "443" : "80";
    const auto number = text::integer_of(port);
    if (!number || *number < 1 || *number > 65535 || port.find_first_not_of("0123456789") != std::string_view::npos)
        return std::nullopt;
    url.port = std::string(port);
    return url;
}

HttpAnswer http_get(const Url& url, const std::string& target, const HttpOptions& options) {
    const auto deadline = SteadyClock::now() + options.timeout;
    const bool ipv6 = url.host.find(':') != std::string::npos;
    const std::string where = (ipv6 ? "[" + url.host + "]" : url.host) + ":" + url.port;

    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (const int error = ::getaddrinfo(url.host.c_str(), url.port.c_str(), &hints, &found); error != 0)
        throw HttpError(error == EAI_NONAME || error == EAI_NODATA
                            ? "unknown host '" + url.host + "'"
                            : "cannot resolve '" + url.host + "': " + gai_strerror(error));
    std::unique_ptr<addrinfo, AddrinfoFree> addresses(found);

    // Each address in turn (localhost may be ::1 and 127.0.0.1); the last failure is reported.
    std::unique_ptr<HttpConnection> connection;
    for (const addrinfo* a = addresses.get(); a; a = a->ai_next) {
        auto attempt = std::make_unique<HttpConnection>(where, deadline, options.timeout);
        try {
            attempt->connect(*a);
            connection = std::move(attempt);
            break;
        } catch (const HttpError&) {
            if (!a->ai_next) throw;
        }
    }
    if (url.scheme == "https") connection->start_tls(url, options.insecure);

    const bool default_port = url.port == (url.scheme == "https" ? "443" : "80");
    connection->send_all("GET " + url.path + target + " HTTP/1.1\r\nHost: " + (ipv6 ? "[" + url.host + "]" : url.host) +
                         (default_port ? "" : ":" + url.port) + "\r\nUser-Agent: ilchatctl/" + ilchat::version +
                         "\r\nAccept: application/json\r\nConnection: close\r\n\r\n");
    std::string raw;
    char buffer[16 * 1024];
    while (true) {
        const std::size_t n = connection->receive(buffer, sizeof buffer);
        raw.append(buffer, n);
        if (auto answer = complete_answer(raw, n == 0, where)) return *answer;
        if (raw.size() > max_answer_bytes)
            throw HttpError(where + " sent more than " + std::to_string(max_answer_bytes) + " bytes");
    }
}

}  // namespace ilchat::ctl
