#include "daemon/net/resolve_address.h"

#include <memory>
#include <netdb.h>
#include <stdexcept>
#include <sys/socket.h>

namespace ilchat::net {

ResolvedAddress resolve_listen_address(const std::string& address) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (int rc = ::getaddrinfo(address.c_str(), nullptr, &hints, &found); rc != 0)
        throw std::runtime_error("cannot resolve address \"" + address + "\": " + gai_strerror(rc));
    std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(found, ::freeaddrinfo);

    char host[NI_MAXHOST];
    if (int rc = ::getnameinfo(found->ai_addr, found->ai_addrlen, host, sizeof host, nullptr, 0, NI_NUMERICHOST); rc != 0)
        throw std::runtime_error("cannot resolve address \"" + address + "\": " + gai_strerror(rc));
    return {host, found->ai_family == AF_INET6 ? 6 : 4};
}

}  // namespace ilchat::net
