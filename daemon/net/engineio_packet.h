#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

// Engine.IO v4 packet codec (spec clients-and-wire.md 4.1, 4.3). Pure string work: the transports
// (polling, websocket) decide which of these forms goes on the wire.
namespace ilchat::net::eio {

enum class PacketType : char { open = '0', close = '1', ping = '2', pong = '3', message = '4', upgrade = '5', noop = '6' };

struct Packet {
    PacketType type = PacketType::message;
    std::string data;     // text after the type digit, or the raw bytes of a binary message
    bool binary = false;  // only message packets can be binary
    bool operator==(const Packet&) const = default;
};

// Polling records are joined by this byte; it never occurs in JSON text (JSON escapes control
// characters), so Socket.IO packets need no escaping.
inline constexpr char record_separator = '\x1e';

// One packet as a websocket text frame / polling record: type digit + data. A binary packet becomes
// 'b' + base64(data) (no type digit) - the polling form; on a websocket the caller sends data raw in
// a binary frame instead. Text data must not contain record_separator if it goes into a payload.
std::string encode_text(const Packet& packet);

// Polling payload: records joined by record_separator.
std::string encode_payload(std::span<const Packet> packets);

// Decodes one text record / websocket text frame ("b..." = base64 binary message). nullopt on
// invalid input: empty, unknown type, bad base64.
std::optional<Packet> decode_text(std::string_view record);

// Decodes a polling POST body. nullopt if any record is invalid (engine.io closes the session on
// the first bad record, so a partial result would be of no use); an empty body is one empty record,
// hence invalid, too.
std::optional<std::vector<Packet>> decode_payload(std::string_view body);

// A binary websocket frame is a binary message packet.
Packet binary_message(std::string_view bytes);

// RFC 4648 base64, standard alphabet, padded. Decoding requires the padded length (a multiple of
// 4) and only alphabet characters; stray bits in the last character are ignored, as Node does.
std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace ilchat::net::eio
