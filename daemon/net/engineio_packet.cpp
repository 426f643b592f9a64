#include "daemon/net/engineio_packet.h"

#include <array>
#include <cstdint>

namespace ilchat::net::eio {

namespace {

constexpr std::string_view base64_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr int not_base64 = -1;

constexpr std::array<int, 256> base64_values() {
    std::array<int, 256> values{};
    values.fill(not_base64);
    for (std::size_t i = 0; i < base64_alphabet.size(); ++i) {
        values[static_cast<unsigned char>(base64_alphabet[i])] = static_cast<int>(i);
    }
    return values;
}

constexpr auto base64_value = base64_values();

// A binary record in a polling payload starts with this instead of a type digit.
constexpr char binary_marker = 'b';

bool is_packet_type(char c) {
    return c >= static_cast<char>(PacketType::open) && c <= static_cast<char>(PacketType::noop);
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
    std::string text;
    text.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const std::uint32_t group = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16 |
                                    static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8 |
                                    static_cast<unsigned char>(bytes[i + 2]);
        text += base64_alphabet[group >> 18 & 0x3f];
        text += base64_alphabet[group >> 12 & 0x3f];
        text += base64_alphabet[group >> 6 & 0x3f];
        text += base64_alphabet[group & 0x3f];
    }
    const std::size_t rest = bytes.size() - i;
    if (rest > 0) {
        std::uint32_t group = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
        if (rest == 2) group |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
        text += base64_alphabet[group >> 18 & 0x3f];
        text += base64_alphabet[group >> 12 & 0x3f];
        text += rest == 2 ? base64_alphabet[group >> 6 & 0x3f] : '=';
        text += '=';
    }
    return text;
}

std::optional<std::string> base64_decode(std::string_view text) {
    if (text.size() % 4 != 0) return std::nullopt;
    std::size_t padding = 0;
    if (!text.empty() && text.back() == '=') padding = text[text.size() - 2] == '=' ? 2 : 1;
    const std::size_t digits = text.size() - padding;

    std::string bytes;
    bytes.reserve(text.size() / 4 * 3);
    std::uint32_t group = 0;
    int bits = 0;
    for (std::size_t i = 0; i < digits; ++i) {
        const int value = base64_value[static_cast<unsigned char>(text[i])];
        if (value == not_base64) return std::nullopt;  // also catches '=' before the end
        group = group << 6 | static_cast<std::uint32_t>(value);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            bytes += static_cast<char>(group >> bits & 0xff);
        }
    }
    return bytes;
}

std::string encode_text(const Packet& packet) {
    if (packet.binary) return binary_marker + base64_encode(packet.data);
    std::string text;
    text.reserve(1 + packet.data.size());
    text += static_cast<char>(packet.type);
    text += packet.data;
    return text;
}

std::string encode_payload(std::span<const Packet> packets) {
    std::string body;
    for (std::size_t i = 0; i < packets.size(); ++i) {
        if (i > 0) body += record_separator;
        body += encode_text(packets[i]);
    }
    return body;
}

std::optional<Packet> decode_text(std::string_view record) {
    if (record.empty()) return std::nullopt;
    if (record.front() == binary_marker) {
        auto bytes = base64_decode(record.substr(1));
        if (!bytes) return std::nullopt;
        return Packet{PacketType::message, std::move(*bytes), true};
    }
    if (!is_packet_type(record.front())) return std::nullopt;
    return Packet{static_cast<PacketType>(record.front()), std::string(record.substr(1)), false};
}

std::optional<std::vector<Packet>> decode_payload(std::string_view body) {
    std::vector<Packet> packets;
    for (;;) {
        const std::size_t end = body.find(record_separator);
        auto packet = decode_text(body.substr(0, end));
        if (!packet) return std::nullopt;
        packets.push_back(std::move(*packet));
        if (end == std::string_view::npos) return packets;
        body.remove_prefix(end + 1);
    }
}

Packet binary_message(std::string_view bytes) {
    return Packet{PacketType::message, std::string(bytes), true};
}

}  // namespace ilchat::net::eio
