#include "daemon/net/http_router.h"

#include <algorithm>
#include <strings.h>

namespace ilchat::net {

void HttpRouter::add(std::string prefix, Handler handler) {
    entries_.push_back({std::move(prefix), std::move(handler)});
    std::stable_sort(entries_.begin(), entries_.end(),
                     [](const Entry& a, const Entry& b) { return a.prefix.size() > b.prefix.size(); });
}

HttpResponse HttpRouter::dispatch(const HttpRequest& request) const {
    for (const auto& entry : entries_) {
        // Express, which ILIAS's Node server uses, matches paths case-insensitively.
        if (request.path.size() >= entry.prefix.size() &&
            strncasecmp(request.path.c_str(), entry.prefix.c_str(), entry.prefix.size()) == 0)
            return entry.handler(request);
    }
    return HttpResponse::json_error(404, "Not Found");
}

}  // namespace ilchat::net
