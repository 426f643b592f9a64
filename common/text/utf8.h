#pragma once

#include <string>
#include <string_view>

namespace ilchat::text {

// Replaces every 4-byte UTF-8 sequence (code points >= U+10000: emoji and the like) with
// `replacement`. The ILIAS escaping did this because the utf8mb3 database columns reject them.
std::string replace_supplementary(std::string_view utf8, char replacement = '?');

bool has_supplementary(std::string_view utf8);

// Well-formed UTF-8 (no overlong forms, surrogates or code points above U+10FFFF).
bool valid_utf8(std::string_view text);

}  // namespace ilchat::text
