#include "daemon/net/random_id.h"

#include <array>
#include <stdexcept>
#include <sys/random.h>

#include "daemon/net/engineio_packet.h"

namespace ilchat::net {

std::string random_id() {
    std::array<char, 15> bytes{};
    size_t filled = 0;
    while (filled < bytes.size()) {
        ssize_t n = getrandom(bytes.data() + filled, bytes.size() - filled, 0);
        if (n < 0) throw std::runtime_error("getrandom failed");
        filled += static_cast<size_t>(n);
    }
    std::string id = eio::base64_encode({bytes.data(), bytes.size()});
    for (char& c : id) {
        if (c == '+') c = '-';
        else if (c == '/') c = '_';
    }
    return id;
}

}  // namespace ilchat::net
