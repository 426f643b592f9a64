#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

// The client side of RFC 6455 framing, on raw libwebsockets sockets. libwebsockets 4.1's own
// websocket client runs every received byte through a state machine; at tens of thousands of
// deliveries per second (and the user lists every room entry brings) that made the generator
// the bottleneck. Frames here are read in bulk and room messages are inspected in place.
namespace ilchat::loadgen::ws {

enum class Opcode : std::uint8_t { continuation = 0, text = 1, binary = 2, close = 8, ping = 9, pong = 10 };

constexpr std::size_t max_header_bytes = 14;

// A masked client frame (FIN set) carrying `payload`, written to `out`, which must hold
// payload.size() + max_header_bytes bytes. Returns the frame's length.
std::size_t write_frame(unsigned char* out, Opcode opcode, std::string_view payload, std::uint32_t mask);

// Splits the byte stream from the server into frame payload pieces, without copying payload.
class FrameReader {
public:
    struct Piece {
        Opcode opcode;
        bool frame_start;  // first piece of this frame's payload
        bool frame_end;    // last piece of this frame's payload
        bool fin;          // the frame ends its message
        std::string_view data;
    };

    // The next piece from the front of `data` (consumed), or nothing when `data` is used up; a
    // partial header is kept for the next call. After a protocol error, error() says which.
    std::optional<Piece> next(std::string_view& data);
    const char* error() const { return error_; }

private:
    unsigned char header_[max_header_bytes]{};
    std::size_t header_bytes_ = 0;
    std::uint64_t left_ = 0;
    Opcode opcode_ = Opcode::continuation;
    bool fin_ = false;
    bool in_payload_ = false;
    bool at_start_ = false;
    const char* error_ = nullptr;
};

}  // namespace ilchat::loadgen::ws
