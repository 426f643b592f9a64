#include "ctl/log_lines.h"

#include <array>
#include <cctype>

#include "common/log/logging.h"

namespace ilchat::ctl {

namespace {

// Every level a line can carry, named by the word the daemon writes for it.
constexpr std::array<spdlog::level::level_enum, 5> line_levels{spdlog::level::err, spdlog::level::warn,
                                                               spdlog::level::info, spdlog::level::debug,
                                                               spdlog::level::trace};

bool same_word(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::toupper(static_cast<unsigned char>(a[i])) != std::toupper(static_cast<unsigned char>(b[i]))) return false;
    return true;
}

}  // namespace

std::optional<LogHeader> parse_log_header(std::string_view line) {
    if (!line.starts_with('[')) return std::nullopt;
    const auto close = line.find("] ");
    if (close == std::string_view::npos) return std::nullopt;
    auto time = parse_iso_time(line.substr(1, close - 1));
    if (!time) return std::nullopt;
    std::string_view rest = line.substr(close + 2);
    const auto dash = rest.find(" - ");
    const std::string_view word = rest.substr(0, dash == std::string_view::npos ? rest.size() : dash);
    for (auto level : line_levels)
        if (word == log::node_level_name(level)) return LogHeader{*time, level};
    return std::nullopt;
}

std::optional<spdlog::level::level_enum> parse_level_name(std::string_view name) {
    if (same_word(name, "warning")) return spdlog::level::warn;
    for (auto level : line_levels)
        if (same_word(name, log::node_level_name(level))) return level;
    return std::nullopt;
}

bool LogSelection::accepts(const LogHeader& header) const {
    return (!at_least || header.level >= *at_least) && (!since || header.time >= *since);
}

}  // namespace ilchat::ctl
