#pragma once

#include <string>
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
    std::string body;
};

struct HttpResponse {
    int status = 200;
    std::string content_type = "application/json; charset=utf-8";
    std::vector<std::pair<std::string, std::string>> headers;  // names in lower case
    std::string body;

    // {"status":N,"message":"..."} with HTTP status N: the JSON error shape of DESIGN.md D2.
    static HttpResponse json_error(int status, std::string_view message);
};

}  // namespace ilchat::net
