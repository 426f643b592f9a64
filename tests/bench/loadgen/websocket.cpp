#include "tests/bench/loadgen/websocket.h"

#include <algorithm>

namespace ilchat::loadgen::ws {

std::size_t write_frame(unsigned char* out, Opcode opcode, std::string_view payload, std::uint32_t mask) {
    const std::uint64_t n = payload.size();
    std::size_t at = 0;
    out[at++] = static_cast<unsigned char>(0x80 | static_cast<unsigned>(opcode));
    if (n < 126) {
        out[at++] = static_cast<unsigned char>(0x80 | n);
    } else if (n < 65536) {
        out[at++] = 0x80 | 126;
        out[at++] = static_cast<unsigned char>(n >> 8);
        out[at++] = static_cast<unsigned char>(n);
    } else {
        out[at++] = 0x80 | 127;
        for (int shift = 56; shift >= 0; shift -= 8) out[at++] = static_cast<unsigned char>(n >> shift);
    }
    const unsigned char key[4] = {static_cast<unsigned char>(mask >> 24), static_cast<unsigned char>(mask >> 16),
                                  static_cast<unsigned char>(mask >> 8), static_cast<unsigned char>(mask)};
    out = std::copy(key, key + 4, out + at);
    for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<unsigned char>(payload[i]) ^ key[i & 3];
    return at + 4 + n;
}

std::optional<FrameReader::Piece> FrameReader::next(std::string_view& data) {
    if (error_) return std::nullopt;
    if (!in_payload_) {
        auto fill_to = [&](std::size_t wanted) {
            while (header_bytes_ < wanted && !data.empty()) {
                header_[header_bytes_++] = static_cast<unsigned char>(data.front());
                data.remove_prefix(1);
            }
            return header_bytes_ >= wanted;
        };
        if (!fill_to(2)) return std::nullopt;
        const unsigned first = header_[0], second = header_[1];
        const unsigned short_length = second & 0x7f;
        if (!fill_to(2 + (short_length == 126 ? 2 : short_length == 127 ? 8 : 0))) return std::nullopt;
        if (second & 0x80) error_ = "the server masked a frame";
        if (first & 0x70) error_ = "a frame with reserved bits set (no extension was negotiated)";
        const unsigned op = first & 0x0f;
        if (op > 2 && op != 8 && op != 9 && op != 10) error_ = "a frame with an unknown opcode";
        std::uint64_t length = short_length;
        if (short_length >= 126) {
            length = 0;
            for (std::size_t i = 2; i < header_bytes_; ++i) length = length << 8 | header_[i];
        }
        if (op >= 8 && (!(first & 0x80) || length > 125)) error_ = "a fragmented or oversized control frame";
        if (error_) return std::nullopt;
        opcode_ = static_cast<Opcode>(op);
        fin_ = (first & 0x80) != 0;
        header_bytes_ = 0;
        left_ = length;
        in_payload_ = true;
        at_start_ = true;
    }
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left_, data.size()));
    if (n == 0 && left_ > 0) return std::nullopt;
    const Piece piece{opcode_, at_start_, n == left_, fin_, data.substr(0, n)};
    data.remove_prefix(n);
    left_ -= n;
    at_start_ = false;
    in_payload_ = left_ > 0;
    return piece;
}

}  // namespace ilchat::loadgen::ws
