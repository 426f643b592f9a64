#include "common/text/utf8.h"

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

bool has_supplementary(std::string_view utf8) {
    for (char c : utf8)
        if (starts_supplementary(static_cast<unsigned char>(c))) return true;
    return false;
}

}  // namespace ilchat::text
