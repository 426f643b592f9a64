#include "tests/bench/loadgen/source_addresses.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "common/fs/unique_fd.h"

namespace ilchat::loadgen {

namespace {

constexpr std::uint32_t max_range = 65536;

std::string_view trim(std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    return s;
}

bool parse_ipv4(std::string_view text, std::uint32_t& host_order) {
    in_addr address{};
    if (inet_pton(AF_INET, std::string(text).c_str(), &address) != 1) return false;
    host_order = ntohl(address.s_addr);
    return true;
}

std::string format_ipv4(std::uint32_t host_order) {
    in_addr address{};
    address.s_addr = htonl(host_order);
    char text[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &address, text, sizeof text);
    return text;
}

}  // namespace

std::vector<std::string> expand_source_addresses(std::string_view text, std::string& problem) {
    std::vector<std::string> addresses;
    while (!text.empty()) {
        const auto comma = text.find(',');
        const std::string_view item = trim(text.substr(0, comma));
        text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
        const auto dash = item.find('-');
        if (dash == std::string_view::npos) {
            in6_addr ignored{};
            const std::string one(item);
            if (inet_pton(AF_INET, one.c_str(), &ignored) != 1 && inet_pton(AF_INET6, one.c_str(), &ignored) != 1) {
                problem = "--source-addresses: \"" + one + "\" is not an IPv4 or IPv6 address";
                return {};
            }
            addresses.push_back(one);
            continue;
        }
        std::uint32_t first = 0, last = 0;
        if (!parse_ipv4(trim(item.substr(0, dash)), first) || !parse_ipv4(trim(item.substr(dash + 1)), last) ||
            last < first || last - first >= max_range) {
            problem = "--source-addresses: \"" + std::string(item) +
                      "\" is not a range of IPv4 addresses FIRST-LAST (at most 65536)";
            return {};
        }
        for (std::uint32_t a = first;; ++a) {
            addresses.push_back(format_ipv4(a));
            if (a == last) break;
        }
    }
    if (addresses.empty()) problem = "--source-addresses: no address given";
    return addresses;
}

socklen_t to_sockaddr(const std::string& address, int port, sockaddr_storage& storage) {
    storage = {};
    auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
    if (inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(static_cast<std::uint16_t>(port));
        return sizeof *v4;
    }
    if (inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(static_cast<std::uint16_t>(port));
        return sizeof *v6;
    }
    return 0;
}

std::string check_bindable(const std::string& address) {
    sockaddr_storage storage;
    const socklen_t length = to_sockaddr(address, 0, storage);
    if (length == 0) return "not an address";
    const fs::UniqueFd fd(::socket(storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) return std::strerror(errno);
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&storage), length) != 0) return std::strerror(errno);
    return {};
}

int ephemeral_port_count() {
    std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
    int low = 0, high = 0;
    if (range >> low >> high && high >= low) return high - low + 1;
    return 28232;  // the Linux default 32768-60999
}

}  // namespace ilchat::loadgen
