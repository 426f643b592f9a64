#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Socket.IO packet codec of protocol revisions 4 and 5 (docs/protocol.md, "Socket.IO"), string form as
// carried in Engine.IO message packets; both share the encoding and differ in what they accept. Payloads stay JSON text: the codec validates their shape but leaves
// interpreting them to the namespace handlers.
namespace ilchat::net::sio {

// Revision 5 (socket.io 3/4) rides on Engine.IO 4, revision 4 (socket.io 1/2) on Engine.IO 3.
enum class Revision { v4 = 4, v5 = 5 };

// Type 4 is ERROR in revision 4 and CONNECT_ERROR in revision 5.
enum class PacketType : int { connect = 0, disconnect = 1, event = 2, ack = 3, connect_error = 4, binary_event = 5, binary_ack = 6 };

struct Packet {
    PacketType type = PacketType::event;
    std::string nsp = "/";
    std::optional<std::uint64_t> ack_id;
    std::string payload;                   // the JSON text exactly as it follows the header; "" when absent
    std::size_t attachment_count = 0;      // binary_event / binary_ack: number of placeholders announced
    std::vector<std::string> attachments;  // filled by the Reassembler, or by the caller when encoding
    bool operator==(const Packet&) const = default;
};

// socket.io-parser's default limit; a header may announce 1 to this many attachments. It bounds what
// a Reassembler buffers for one packet.
inline constexpr std::size_t max_attachments = 10;

// "<type>[<n>-][<nsp>,][<ackId>][<payload>]". The namespace is written only when it is neither "/"
// nor empty, so it must start with '/' and contain no ',' to survive decoding. For binary types the
// count written is attachments.size(), which must be 1..max_attachments; the attachments themselves
// travel as separate binary Engine.IO messages after this text.
std::string encode(const Packet& packet);

struct Decoded {
    std::optional<Packet> packet;
    std::string error;  // says what is wrong when there is no packet
};

// Decodes and validates like socket.io-parser 4 (what socket.io 4 servers accept):
//   CONNECT        payload absent or an object
//   DISCONNECT     no payload
//   EVENT          an array whose first element is a number or a non-reserved event name
//   ACK            payload absent or an array
//   CONNECT_ERROR  payload absent, a string or an object
// Binary types follow their text types and announce 1..max_attachments attachments; the returned
// header has attachment_count set and no attachments yet. The namespace runs from a leading '/' to
// the next ',' or the end; the ack id is the digits after it. Like JSON.parse, whitespace may
// surround the JSON value but nothing else may follow it. Stricter than socket.io-parser: an EVENT
// needs a payload (an event without a name cannot be dispatched); type, count and ack id must be
// plain decimal digits (JavaScript's Number() also takes blanks); an ack id must fit 64 bits; the
// payload must be valid UTF-8.
// Revision 4 (socket.io-parser 3) accepts any payload that is a JSON array, except for ERROR whose
// payload may be any JSON value; an EVENT still needs its name first.
Decoded decode(std::string_view text, Revision revision = Revision::v5);

// Collects the binary attachments (binary Engine.IO messages) that follow a BINARY_EVENT /
// BINARY_ACK header. One per Socket.IO connection, as a client sends a packet's attachments
// consecutively.
class Reassembler {
public:
    // Header decoded: if it announces attachments, keeps it and returns nullopt; otherwise returns it.
    // Requires !pending() (throws std::logic_error): a text packet while pending() is a protocol error
    // the caller must catch before decoding it, and close the connection.
    std::optional<Packet> start(Packet header);

    // One binary Engine.IO message arrived. Returns the completed packet once all attachments are in,
    // an empty Decoded while more are expected, and an error when no binary packet is pending.
    Decoded add_attachment(std::string bytes);

    bool pending() const { return pending_ != nullptr; }

private:
    std::unique_ptr<Packet> pending_;  // on the heap: every session has a Reassembler, few use it
};

}  // namespace ilchat::net::sio
