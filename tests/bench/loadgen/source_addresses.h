#pragma once

#include <sys/socket.h>

#include <string>
#include <string_view>
#include <vector>

namespace ilchat::loadgen {

// "127.0.0.2-127.0.0.40", "127.0.0.2,127.0.0.3", "::1" or a comma list mixing addresses and
// IPv4 ranges, in order. One local address offers only the ephemeral port range (about 28,000
// ports) towards one server address and port; several spread the connections further.
// Sets `problem` and returns nothing when the text is not such a list.
std::vector<std::string> expand_source_addresses(std::string_view text, std::string& problem);

// `address` (numeric IPv4 or IPv6) and `port` as a socket address; its length, 0 when `address`
// is not numeric.
socklen_t to_sockaddr(const std::string& address, int port, sockaddr_storage& storage);

// Whether a socket can be bound to `address` (with any port); the reason when not.
std::string check_bindable(const std::string& address);

// Ephemeral ports one local address offers (net.ipv4.ip_local_port_range).
int ephemeral_port_count();

}  // namespace ilchat::loadgen
