#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ilchat::net {

enum class HttpMethod { get, post, options, head, put, patch, del, other };

struct HttpRequest {
    HttpMethod method = HttpMethod::other;
    std::string path;   // as lws decoded it, without the query
    std::string query;  // arguments joined with '&'
    std::string origin;
    std::string authorization;
    std::string content_type;
    std::string cors_request_headers;  // Access-Control-Request-Headers of a preflight
    bool wants_close = false;          // "Connection: close" (PHP and node-fetch send it)
    std::string body;
    bool body_too_large = false;  // over the endpoint's limit: `body` is empty, the rest unread

    // The value of `name` in the query ("" when absent), e.g. query_value("sid").
    std::string query_value(std::string_view name) const;
    bool has_query(std::string_view name) const;
};

struct HttpResponse {
    int status = 200;
    std::string content_type = "application/json; charset=utf-8";
    std::vector<std::pair<std::string, std::string>> headers;  // names in lower case
    std::string body;

    // {"status":N,"message":"..."} with HTTP status N: the JSON error shape of docs/decisions.md D2.
    static HttpResponse json_error(int status, std::string_view message);
};

}  // namespace ilchat::net
