#include "daemon/net/random_id.h"

#include <array>
#include <stdexcept>
#include <sys/random.h>

#include "daemon/net/engineio_packet.h"

namespace ilchat::net {

namespace {

template <size_t N>
std::array<char, N> random_bytes() {
    std::array<char, N> bytes{};
    size_t filled = 0;
    while (filled < N) {
        ssize_t n = getrandom(bytes.data() + filled, N - filled, 0);
        if (n < 0) throw std::runtime_error("getrandom failed");
        filled += static_cast<size_t>(n);
    }
    return bytes;
}

}  // namespace

std::string uuid_v4() {
    auto bytes = random_bytes<16>();
    bytes[6] = static_cast<char>((bytes[6] & 0x0F) | 0x40);  // version 4
    bytes[8] = static_cast<char>((bytes[8] & 0x3F) | 0x80);  // RFC 4122 variant
    static constexpr char hex[] = "0123456789abcdef";
    std::string text;
    for (size_t i = 0; i < bytes.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) text += '-';
        const auto b = static_cast<unsigned char>(bytes[i]);
        text += hex[b >> 4];
        text += hex[b & 0x0F];
    }
    return text;
}

std::string random_id() {
    auto bytes = random_bytes<15>();
    std::string id = eio::base64_encode({bytes.data(), bytes.size()});
    for (char& c : id) {
        if (c == '+') c = '-';
        else if (c == '/') c = '_';
    }
    return id;
}

}  // namespace ilchat::net
