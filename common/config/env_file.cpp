#include "common/config/env_file.h"

#include <cctype>

namespace ilchat::config {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

bool valid_name(std::string_view name) {
    if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
    for (char c : name)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
    return true;
}

// Returns false when the quote is not closed; `rest` is what follows the closing quote.
bool unquote(std::string_view value, std::string& out, std::string_view& rest) {
    const char quote = value[0];
    for (size_t i = 1; i < value.size(); ++i) {
        char c = value[i];
        if (c == quote) {
            rest = value.substr(i + 1);
            return true;
        }
        if (quote == '"' && c == '\\' && i + 1 < value.size()) {
            char next = value[++i];
            switch (next) {
                case 'n': out += '\n'; break;
                case 't': out += '\t'; break;
                case 'r': out += '\r'; break;
                default: out += next; break;  // \" \\ \$ and anything else: the character itself
            }
            continue;
        }
        out += c;
    }
    return false;
}

}  // namespace

Variables parse_env_file(std::string_view text, std::string_view label, Diagnostics& diag) {
    Variables vars;
    size_t line_no = 0;
    while (!text.empty()) {
        auto end = text.find('\n');
        std::string_view line = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
        ++line_no;
        const std::string where = "line " + std::to_string(line_no);

        line = trim(line);
        if (line.empty() || line[0] == '#') continue;
        if (line.starts_with("export ") || line.starts_with("export\t")) line = trim(line.substr(7));

        auto eq = line.find('=');
        if (eq == std::string_view::npos) {
            diag.error(label, where, "expected NAME=value");
            continue;
        }
        std::string name(trim(line.substr(0, eq)));
        if (!valid_name(name)) {
            diag.error(label, where, "\"" + name + "\" is not a valid variable name");
            continue;
        }
        std::string_view raw = trim(line.substr(eq + 1));
        std::string value;
        if (!raw.empty() && (raw[0] == '"' || raw[0] == '\'')) {
            std::string_view rest;
            if (!unquote(raw, value, rest)) {
                diag.error(label, where, "unterminated quote in the value of " + name);
                continue;
            }
            rest = trim(rest);
            if (!rest.empty() && rest[0] != '#') {
                diag.error(label, where, "unexpected text after the quoted value of " + name);
                continue;
            }
        } else {
            auto comment = raw.find(" #");
            if (comment == std::string_view::npos) comment = raw.find("\t#");
            value = std::string(trim(raw.substr(0, comment)));
        }
        vars[name] = std::move(value);
    }
    return vars;
}

}  // namespace ilchat::config
