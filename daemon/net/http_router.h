#pragma once

#include <functional>
#include <string>
#include <vector>

#include "daemon/net/http_message.h"

namespace ilchat::net {

// Chooses the handler of a request by path prefix (backend API, Engine.IO, ...); the longest
// matching prefix wins, anything else is a JSON 404.
class HttpRouter {
public:
    using Handler = std::function<HttpResponse(const HttpRequest&)>;

    void add(std::string prefix, Handler handler);
    HttpResponse dispatch(const HttpRequest& request) const;

private:
    struct Entry {
        std::string prefix;
        Handler handler;
    };
    std::vector<Entry> entries_;
};

}  // namespace ilchat::net
