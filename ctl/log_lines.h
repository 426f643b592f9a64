#pragma once

#include <optional>
#include <string_view>

#include <spdlog/common.h>

#include "ctl/time_text.h"

// The lines ilchatd writes (common/log): "[2026-11-26T12:17:13.315+01:00] INFO - message".
namespace ilchat::ctl {

struct LogHeader {
    Clock::time_point time;
    spdlog::level::level_enum level;
};

// The time and level of a log line; empty for a line of another shape (the continuation of a
// message that spans lines, or text that is not ilchatd's).
std::optional<LogHeader> parse_log_header(std::string_view line);

// A level as operators name it: error, warn (or warning), info, debug, silly; any case.
std::optional<spdlog::level::level_enum> parse_level_name(std::string_view name);

// Which lines `logs` shows: those at `at_least` or more severe (error < warn < info < debug <
// silly), written at `since` or later. A line without a header belongs to the line before it.
struct LogSelection {
    std::optional<spdlog::level::level_enum> at_least;
    std::optional<Clock::time_point> since;

    bool filters() const { return at_least || since; }
    bool accepts(const LogHeader& header) const;
};

}  // namespace ilchat::ctl
