#pragma once

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/config/client_config.h"
#include "daemon/net/http_message.h"

namespace ilchat::chat {

// The /backend/<Action>/<namespace>/... API that ILIAS PHP calls (spec section 4).
class BackendApi {
public:
    explicit BackendApi(std::vector<config::ClientConfig> clients);

    net::HttpResponse handle(const net::HttpRequest& request) const;

    struct Call {
        const config::ClientConfig& client;
        std::vector<std::string> params;  // path segments after the namespace
        const net::HttpRequest& request;
    };

    struct Route {
        std::string_view action;  // matched case-insensitively
        size_t params;            // segments after the namespace
        net::HttpResponse (*handler)(const BackendApi&, const Call&);
        std::string_view doc;
    };
    static std::span<const Route> routes();

private:
    const config::ClientConfig* find_client(std::string_view name) const;

    std::vector<config::ClientConfig> clients_;
};

}  // namespace ilchat::chat
