#pragma once

#include <string>

namespace ilchat::net {

struct ResolvedAddress {
    std::string ip;      // numeric form
    int family = 0;      // 4 or 6
};

// Resolves server.cfg's `address` once at start-up, as the Node server does (first result).
// Throws std::runtime_error when the name does not resolve.
ResolvedAddress resolve_listen_address(const std::string& address);

}  // namespace ilchat::net
