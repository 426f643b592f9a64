#include "daemon/chat/html_escape.h"

#include <cctype>

#include "common/text/utf8.h"

namespace ilchat::chat {

namespace {

// JavaScript's \w: ASCII letters, digits and '_'.
bool word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

bool starts_entity(std::string_view text, size_t amp) {
    size_t i = amp + 1;
    while (i < text.size() && word_char(text[i])) ++i;
    return i > amp + 1 && i < text.size() && text[i] == ';';
}

}  // namespace

std::string html_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 16);
    for (size_t i = 0; i < text.size(); ++i) {
        switch (char c = text[i]) {
            case '&': out += starts_entity(text, i) ? "&" : "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            default: out += c; break;
        }
    }
    return text::replace_supplementary(out);
}

}  // namespace ilchat::chat
