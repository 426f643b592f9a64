#include "common/text/utf8.h"

#include <cstdint>

namespace ilchat::text {

namespace {

// A lead byte 11110xxx starts a 4-byte sequence.
bool starts_supplementary(unsigned char c) { return (c & 0xF8) == 0xF0; }

}  // namespace

std::string replace_supplementary(std::string_view utf8, char replacement) {
    std::string out;
    out.reserve(utf8.size());
    for (size_t i = 0; i < utf8.size();) {
        if (starts_supplementary(static_cast<unsigned char>(utf8[i])) && i + 4 <= utf8.size()) {
            out += replacement;
            i += 4;
            continue;
        }
        out += utf8[i++];
    }
    return out;
}

std::size_t utf16_length(std::string_view utf8) {
    std::size_t units = 0;
    for (char c : utf8) {
        const auto byte = static_cast<unsigned char>(c);
        if ((byte & 0xC0) != 0x80) units += starts_supplementary(byte) ? 2 : 1;  // continuation bytes add nothing
    }
    return units;
}

std::optional<std::size_t> utf16_prefix_bytes(std::string_view utf8, std::size_t units) {
    std::size_t i = 0;
    while (units > 0) {
        if (i >= utf8.size()) return std::nullopt;
        const auto lead = static_cast<unsigned char>(utf8[i]);
        const std::size_t width = lead < 0x80 ? 1 : (lead & 0xE0) == 0xC0 ? 2 : (lead & 0xF0) == 0xE0 ? 3 : 4;
        const std::size_t counts = width == 4 ? 2 : 1;
        if (counts > units) return std::nullopt;
        units -= counts;
        i += width;
    }
    if (i > utf8.size()) return std::nullopt;
    return i;
}

bool has_supplementary(std::string_view utf8) {
    for (char c : utf8)
        if (starts_supplementary(static_cast<unsigned char>(c))) return true;
    return false;
}

bool valid_utf8(std::string_view text) {
    size_t i = 0;
    while (i < text.size()) {
        const auto c = static_cast<unsigned char>(text[i]);
        size_t length;
        std::uint32_t code;
        if (c < 0x80) {
            ++i;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            length = 2;
            code = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            length = 3;
            code = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            length = 4;
            code = c & 0x07;
        } else {
            return false;
        }
        if (i + length > text.size()) return false;
        for (size_t k = 1; k < length; ++k) {
            const auto next = static_cast<unsigned char>(text[i + k]);
            if ((next & 0xC0) != 0x80) return false;
            code = (code << 6) | (next & 0x3F);
        }
        static constexpr std::uint32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
        if (code < smallest[length] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return false;
        i += length;
    }
    return true;
}

}  // namespace ilchat::text
