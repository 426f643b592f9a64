#pragma once

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

// A small HTTP/1.1 GET client on plain sockets, with TLS from OpenSSL for https: enough for
// `health` to ask ilchatd's heartbeat, with one deadline for the whole exchange.
namespace ilchat::ctl {

struct Url {
    std::string scheme;  // http or https
    std::string host;    // without the brackets of an IPv6 address
    std::string port;
    std::string path;    // the prefix, without a trailing slash
};

// http://host[:port][/path] or https://...; a bracketed IPv6 address is fine. Empty otherwise.
std::optional<Url> parse_url(std::string_view text);

struct HttpAnswer {
    int status = 0;
    std::string body;
};

// Why there is no answer, in words for the operator.
class HttpError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct HttpOptions {
    std::chrono::milliseconds timeout{5000};
    bool insecure = false;  // https: accept any certificate
};

// GET `target` (a path starting with '/', appended to the URL's path). Throws HttpError.
HttpAnswer http_get(const Url& url, const std::string& target, const HttpOptions& options);

}  // namespace ilchat::ctl
