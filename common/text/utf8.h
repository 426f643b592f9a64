#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace ilchat::text {

// Replaces every 4-byte UTF-8 sequence (code points >= U+10000: emoji and the like) with
// `replacement`. The ILIAS escaping did this because the utf8mb3 database columns reject them.
std::string replace_supplementary(std::string_view utf8, char replacement = '?');

bool has_supplementary(std::string_view utf8);

// Well-formed UTF-8 (no overlong forms, surrogates or code points above U+10FFFF).
bool valid_utf8(std::string_view text);

// JavaScript's String.length of valid UTF-8 text: UTF-16 code units, two for a code point >= U+10000.
std::size_t utf16_length(std::string_view utf8);

// How many bytes of `utf8` hold its first `units` UTF-16 code units; nullopt when the text is
// shorter or the count ends inside a surrogate pair (the middle of a 4-byte sequence).
std::optional<std::size_t> utf16_prefix_bytes(std::string_view utf8, std::size_t units);

}  // namespace ilchat::text
