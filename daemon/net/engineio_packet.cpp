#include "daemon/net/engineio_packet.h"

#include <array>
#include <charconv>
#include <cstdint>

#include "common/text/json.h"
#include "common/text/utf8.h"

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

bool all_digits(std::string_view text) {
    if (text.empty()) return false;
    for (char c : text)
        if (c < '0' || c > '9') return false;
    return true;
}

// Reads a decimal length; nullopt when it is not one (or absurdly large).
std::optional<std::size_t> parse_length(std::string_view digits) {
    std::size_t value = 0;
    if (!all_digits(digits) || digits.size() > 15) return std::nullopt;
    std::from_chars(digits.data(), digits.data() + digits.size(), value);
    return value;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// application/x-www-form-urlencoded: '+' is a blank, %XX a byte.
std::optional<std::string> form_decode(std::string_view encoded) {
    std::string decoded;
    decoded.reserve(encoded.size());
    for (std::size_t i = 0; i < encoded.size(); ++i) {
        if (encoded[i] == '+') {
            decoded += ' ';
        } else if (encoded[i] == '%') {
            if (i + 2 >= encoded.size()) return std::nullopt;
            const int high = hex_value(encoded[i + 1]);
            const int low = hex_value(encoded[i + 2]);
            if (high < 0 || low < 0) return std::nullopt;
            decoded += static_cast<char>(high << 4 | low);
            i += 2;
        } else {
            decoded += encoded[i];
        }
    }
    return decoded;
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

namespace v3 {

namespace {

constexpr char text_record_marker = 0;
constexpr char binary_record_marker = 1;
constexpr char length_end = '\xff';

void append_length_digits(std::string& payload, std::size_t length) {
    for (char digit : std::to_string(length)) payload += static_cast<char>(digit - '0');
}

}  // namespace

std::string encode_text(const Packet& packet) {
    if (!packet.binary) return eio::encode_text(packet);
    return std::string{binary_marker, static_cast<char>(PacketType::message)} + base64_encode(packet.data);
}

std::optional<Packet> decode_text(std::string_view record) {
    if (record.empty()) return std::nullopt;
    if (record.front() != binary_marker) return eio::decode_text(record);
    // Only message packets carry data worth sending as binary.
    if (record.size() < 2 || record[1] != static_cast<char>(PacketType::message)) return std::nullopt;
    auto bytes = base64_decode(record.substr(2));
    if (!bytes) return std::nullopt;
    return binary_message(*bytes);
}

void append_record(std::string& payload, std::string_view record) {
    payload += std::to_string(text::utf16_length(record));
    payload += ':';
    payload += record;
}

std::optional<std::vector<Packet>> decode_payload(std::string_view body) {
    if (body.empty()) return std::nullopt;
    std::vector<Packet> packets;
    while (!body.empty()) {
        const std::size_t colon = body.find(':');
        if (colon == std::string_view::npos) return std::nullopt;
        const auto units = parse_length(body.substr(0, colon));
        if (!units) return std::nullopt;
        body.remove_prefix(colon + 1);
        const auto bytes = text::utf16_prefix_bytes(body, *units);
        if (!bytes) return std::nullopt;
        if (*bytes > 0) {
            auto packet = decode_text(body.substr(0, *bytes));
            if (!packet) return std::nullopt;
            packets.push_back(std::move(*packet));
        }
        body.remove_prefix(*bytes);
    }
    return packets;
}

void append_binary_record(std::string& payload, std::string_view text_record) {
    payload += text_record_marker;
    append_length_digits(payload, text_record.size());
    payload += length_end;
    payload += text_record;
}

void append_binary_record(std::string& payload, const Packet& binary_packet) {
    payload += binary_record_marker;
    append_length_digits(payload, 1 + binary_packet.data.size());
    payload += length_end;
    payload += static_cast<char>(PacketType::message) - '0';
    payload += binary_packet.data;
}

std::optional<std::vector<Packet>> decode_binary_payload(std::string_view body) {
    if (body.empty()) return std::nullopt;
    std::vector<Packet> packets;
    while (!body.empty()) {
        const char marker = body.front();
        if (marker != text_record_marker && marker != binary_record_marker) return std::nullopt;
        const std::size_t end = body.find(length_end);
        if (end == std::string_view::npos || end == 1 || end > 16) return std::nullopt;
        std::string digits;
        for (char value : body.substr(1, end - 1)) {
            if (value < 0 || value > 9) return std::nullopt;
            digits += static_cast<char>('0' + value);
        }
        const auto length = parse_length(digits);
        body.remove_prefix(end + 1);
        if (!length || *length > body.size()) return std::nullopt;
        const std::string_view record = body.substr(0, *length);
        body.remove_prefix(*length);
        auto packet = marker == text_record_marker
                          ? (text::valid_utf8(record) ? decode_text(record) : std::nullopt)
                          : decode_binary_frame(record);
        if (!packet) return std::nullopt;
        packets.push_back(std::move(*packet));
    }
    return packets;
}

std::string binary_frame(std::string_view data) {
    std::string frame;
    frame.reserve(1 + data.size());
    frame += static_cast<char>(static_cast<char>(PacketType::message) - '0');
    frame += data;
    return frame;
}

std::optional<Packet> decode_binary_frame(std::string_view frame) {
    if (frame.empty() || frame.front() != static_cast<char>(PacketType::message) - '0') return std::nullopt;
    return binary_message(frame.substr(1));
}

bool valid_jsonp_index(std::string_view index) { return all_digits(index) && index.size() <= 9; }

std::string jsonp_script(std::string_view index, std::string_view payload) {
    // JSON is not quite JavaScript: U+2028 and U+2029 end a line inside a script's string literal.
    std::string literal;
    for (char c : text::json_string(payload)) {
        literal += c;
        if (literal.ends_with("\xE2\x80\xA8") || literal.ends_with("\xE2\x80\xA9")) {
            const char last = literal.back();
            literal.resize(literal.size() - 3);
            literal += last == '\xA8' ? "\\u2028" : "\\u2029";
        }
    }
    std::string script = "___eio[";
    script += index;
    script += "](";
    script += literal;
    script += ");";
    return script;
}

std::optional<std::string> jsonp_form_payload(std::string_view form_body) {
    std::optional<std::string> field;
    while (!form_body.empty()) {
        const std::size_t amp = form_body.find('&');
        const std::string_view pair = form_body.substr(0, amp);
        if (pair.starts_with("d=")) field = form_decode(pair.substr(2));
        if (amp == std::string_view::npos) break;
        form_body.remove_prefix(amp + 1);
    }
    if (!field) return std::nullopt;
    // The client escaped newlines as \n and a literal backslash-n as \\n (engine.io-client 3
    // JSONP); undo both in one pass.
    std::string payload;
    payload.reserve(field->size());
    const std::string& d = *field;
    for (std::size_t i = 0; i < d.size(); ++i) {
        if (d[i] == '\\' && i + 2 < d.size() && d[i + 1] == '\\' && d[i + 2] == 'n') {
            payload += "\\n";
            i += 2;
        } else if (d[i] == '\\' && i + 1 < d.size() && d[i + 1] == 'n') {
            payload += '\n';
            i += 1;
        } else {
            payload += d[i];
        }
    }
    return payload;
}

}  // namespace v3

}  // namespace ilchat::net::eio
