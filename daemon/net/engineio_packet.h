#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

// Engine.IO packet codecs of both protocol generations (docs/protocol.md, "Engine.IO"). Pure string
// work: the transports (polling, websocket) decide which of these forms goes on the wire.
namespace ilchat::net::eio {

// Engine.IO 4 (socket.io 3/4, ILIAS >= 8) and Engine.IO 3 (socket.io 1/2, ILIAS 5.3 to 7).
enum class Protocol { v3 = 3, v4 = 4 };

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

// Engine.IO 3: polling payloads are length-framed ("<length>:<record>", the length in UTF-16 code
// units as JavaScript counts it), a binary record is 'b' + type digit + base64, websocket binary
// frames start with the packet type as a byte, and browsers without CORS fall back to JSONP.
namespace v3 {

std::string encode_text(const Packet& packet);
std::optional<Packet> decode_text(std::string_view record);

// Appends one record to a text payload.
void append_record(std::string& payload, std::string_view record);
// A text payload; empty records are skipped and every record must decode. nullopt for anything
// engine.io 3 calls a parser error: a length that is not digits, runs past the body or ends inside
// a surrogate pair, digits without a record, an empty body.
std::optional<std::vector<Packet>> decode_payload(std::string_view body);

// The application/octet-stream payload of XHR2 clients: per record a 0 (text) or 1 (binary) byte,
// the decimal digits of its length as byte values, 0xFF, then the record (text in UTF-8 bytes;
// binary as the type byte and the data).
void append_binary_record(std::string& payload, std::string_view text_record);
void append_binary_record(std::string& payload, const Packet& binary_packet);
std::optional<std::vector<Packet>> decode_binary_payload(std::string_view body);

// A websocket binary frame: the type byte (4 for a message) followed by the data.
std::string binary_frame(std::string_view data);
std::optional<Packet> decode_binary_frame(std::string_view frame);

// JSONP polling: the GET answer is a script calling ___eio[index] with the payload as a string;
// POSTs are forms whose field d holds the payload with its newlines escaped.
std::string jsonp_script(std::string_view index, std::string_view payload);
std::optional<std::string> jsonp_form_payload(std::string_view form_body);
bool valid_jsonp_index(std::string_view index);

}  // namespace v3

}  // namespace ilchat::net::eio
