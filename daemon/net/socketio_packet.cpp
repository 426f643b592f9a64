#include "daemon/net/socketio_packet.h"

#include <algorithm>
#include <array>
#include <limits>
#include <stdexcept>

#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

namespace ilchat::net::sio {

namespace {

enum class JsonKind { null, boolean, number, string, array, object };

// What validation needs from a payload: the kind of the top-level value and, for an array, the kind
// and string value of its first element. Collected by SAX so that no DOM is built for payloads that
// are only forwarded.
class PayloadShape {
public:
    JsonKind top = JsonKind::null;
    std::optional<JsonKind> first_element;
    std::string first_element_text;  // set when first_element is a string

    bool Null() { return value(JsonKind::null); }
    bool Bool(bool) { return value(JsonKind::boolean); }
    bool Int(int) { return value(JsonKind::number); }
    bool Uint(unsigned) { return value(JsonKind::number); }
    bool Int64(std::int64_t) { return value(JsonKind::number); }
    bool Uint64(std::uint64_t) { return value(JsonKind::number); }
    bool Double(double) { return value(JsonKind::number); }
    bool String(const char* text, rapidjson::SizeType length, bool) {
        return value(JsonKind::string, std::string_view(text, length));
    }
    bool StartObject() { return open(JsonKind::object); }
    bool Key(const char*, rapidjson::SizeType, bool) { return true; }
    bool EndObject(rapidjson::SizeType) { return close(); }
    bool StartArray() { return open(JsonKind::array); }
    bool EndArray(rapidjson::SizeType) { return close(); }

    // Part of the Reader's handler interface; called only under kParseNumbersAsStringsFlag.
    bool RawNumber(const char*, rapidjson::SizeType, bool) { return value(JsonKind::number); }

private:
    bool value(JsonKind kind, std::string_view text = {}) {
        if (depth_ == 0) {
            top = kind;
        } else if (depth_ == 1 && top == JsonKind::array && !first_element) {
            first_element = kind;
            if (kind == JsonKind::string) first_element_text = text;
        }
        return true;
    }
    bool open(JsonKind kind) {
        value(kind);
        ++depth_;
        return true;
    }
    bool close() {
        --depth_;
        return true;
    }

    std::size_t depth_ = 0;
};

// Iterative: a hostile payload of deeply nested arrays must not exhaust the stack. Encoding
// validation: the payload is relayed to browsers and must be UTF-8.
constexpr unsigned json_parse_flags = rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;

// Parses the payload; on failure returns the error text.
std::optional<std::string> scan_json(std::string_view json, PayloadShape& shape) {
    rapidjson::MemoryStream stream(json.data(), json.size());
    rapidjson::Reader reader;
    const rapidjson::ParseResult result = reader.Parse<json_parse_flags>(stream, shape);
    if (result) return std::nullopt;
    return std::string("invalid JSON payload: ") + rapidjson::GetParseError_En(result.Code()) + " (offset " +
           std::to_string(result.Offset()) + ")";
}

constexpr std::array<std::string_view, 6> reserved_event_names = {
    "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener",
};

bool is_binary(PacketType type) {
    return type == PacketType::binary_event || type == PacketType::binary_ack;
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// Reads the decimal number at the front of text (as many digits as there are) into value.
// Returns the number of digits, or nullopt if the value does not fit 64 bits.
std::optional<std::size_t> read_decimal(std::string_view text, std::uint64_t& value) {
    value = 0;
    std::size_t digits = 0;
    for (; digits < text.size() && is_digit(text[digits]); ++digits) {
        const auto digit = static_cast<std::uint64_t>(text[digits] - '0');
        if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) return std::nullopt;
        value = value * 10 + digit;
    }
    return digits;
}

// Empty when the payload suits the packet type, else why not.
std::string payload_error(PacketType type, std::string_view payload, Revision revision) {
    if (payload.empty()) {
        const bool needs_payload = type == PacketType::event || type == PacketType::binary_event;
        return needs_payload ? "EVENT without payload" : "";
    }
    if (type == PacketType::disconnect && revision == Revision::v5) return "DISCONNECT must not have a payload";

    PayloadShape shape;
    if (auto json_error = scan_json(payload, shape)) return *json_error;

    if (revision == Revision::v4) {
        // socket.io-parser 3: every payload is an array, except an ERROR's.
        if (type == PacketType::connect_error) return "";
        if (shape.top != JsonKind::array) return "payload must be an array";
        if (type != PacketType::event && type != PacketType::binary_event) return "";
        const bool named = shape.first_element == JsonKind::string || shape.first_element == JsonKind::number;
        return named ? "" : "EVENT payload must start with the event name";
    }

    switch (type) {
    case PacketType::connect:
        return shape.top == JsonKind::object ? "" : "CONNECT payload must be an object";
    case PacketType::connect_error:
        return shape.top == JsonKind::object || shape.top == JsonKind::string
                   ? ""
                   : "CONNECT_ERROR payload must be a string or an object";
    case PacketType::ack:
    case PacketType::binary_ack:
        return shape.top == JsonKind::array ? "" : "ACK payload must be an array";
    case PacketType::event:
    case PacketType::binary_event:
        if (shape.top != JsonKind::array) return "EVENT payload must be an array";
        if (shape.first_element == JsonKind::number) return "";
        if (shape.first_element != JsonKind::string) return "EVENT payload must start with the event name";
        if (std::ranges::find(reserved_event_names, shape.first_element_text) != reserved_event_names.end()) {
            return "reserved event name \"" + shape.first_element_text + "\"";
        }
        return "";
    case PacketType::disconnect:
        break;  // handled above
    }
    return "";
}

Decoded failure(std::string error) {
    return Decoded{std::nullopt, std::move(error)};
}

}  // namespace

std::string encode(const Packet& packet) {
    std::string text;
    text.reserve(24 + packet.nsp.size() + packet.payload.size());
    text += static_cast<char>('0' + static_cast<int>(packet.type));
    if (is_binary(packet.type)) {
        text += std::to_string(packet.attachments.size());
        text += '-';
    }
    if (!packet.nsp.empty() && packet.nsp != "/") {
        text += packet.nsp;
        text += ',';
    }
    if (packet.ack_id) text += std::to_string(*packet.ack_id);
    text += packet.payload;
    return text;
}

Decoded decode(std::string_view text, Revision revision) {
    if (text.empty()) return failure("empty packet");
    const char type_char = text.front();
    if (type_char < '0' || type_char > '6') return failure(std::string("unknown packet type '") + type_char + "'");
    Packet packet;
    packet.type = static_cast<PacketType>(type_char - '0');
    text.remove_prefix(1);

    if (is_binary(packet.type)) {
        std::uint64_t count = 0;
        const auto digits = read_decimal(text, count);
        if (!digits || *digits == 0 || *digits == text.size() || text[*digits] != '-' || count == 0) {
            return failure("illegal attachment count");
        }
        if (count > max_attachments) return failure("too many attachments");
        packet.attachment_count = static_cast<std::size_t>(count);
        text.remove_prefix(*digits + 1);
    }

    // The namespace runs to the next ',' or, as in socket.io-parser, to the end of the text.
    if (!text.empty() && text.front() == '/') {
        const std::size_t comma = text.find(',');
        packet.nsp = std::string(text.substr(0, comma));
        text.remove_prefix(comma == std::string_view::npos ? text.size() : comma + 1);
    }

    std::uint64_t ack_id = 0;
    const auto id_digits = read_decimal(text, ack_id);
    if (!id_digits) return failure("ack id out of range");
    if (*id_digits > 0) {
        packet.ack_id = ack_id;
        text.remove_prefix(*id_digits);
    }

    if (auto error = payload_error(packet.type, text, revision); !error.empty()) return failure(std::move(error));
    packet.payload = std::string(text);
    return Decoded{std::move(packet), {}};
}

std::optional<Packet> Reassembler::start(Packet header) {
    if (pending_) throw std::logic_error("sio::Reassembler::start while attachments are pending");
    if (header.attachment_count == 0) return header;
    pending_ = std::make_unique<Packet>(std::move(header));
    return std::nullopt;
}

Decoded Reassembler::add_attachment(std::string bytes) {
    if (!pending_) return failure("binary attachment without a pending binary packet");
    pending_->attachments.push_back(std::move(bytes));
    if (pending_->attachments.size() < pending_->attachment_count) return {};
    Decoded completed{std::move(*pending_), {}};
    pending_.reset();
    return completed;
}

}  // namespace ilchat::net::sio
