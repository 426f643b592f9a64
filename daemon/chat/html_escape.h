#pragma once

#include <string>
#include <string_view>

namespace ilchat::chat {

// The ILIAS chat server's HTMLEscape.escape (docs/decisions.md D10), byte for byte: '&' not starting an
// entity (&\w+;) becomes &amp;, < > " become &lt; &gt; &quot; (the single quote stays), and every
// code point >= U+10000 becomes '?'.
std::string html_escape(std::string_view text);

}  // namespace ilchat::chat
