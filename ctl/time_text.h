#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

// Times and periods as operators type them on the command line, and times as ilchatd writes them
// in its log lines ("2026-11-26T12:17:13.315+01:00").
namespace ilchat::ctl {

using Clock = std::chrono::system_clock;

// A retention period for `purge --older-than`: 90d, 12w, 6m (months) or 1y, as the daemon's
// deletion_unit/deletion_value pair ("days", 90) that retention::deletion_bound takes.
struct RetentionPeriod {
    std::string_view unit;
    int value = 0;
};
std::optional<RetentionPeriod> parse_retention_period(std::string_view text);

// An ISO 8601 date or date and time: 2026-11-26, 2026-11-26T12:17[:13[.315]], a space instead
// of the T, and an offset (Z, +01:00 or +0100); without an offset it is local time.
std::optional<Clock::time_point> parse_iso_time(std::string_view text);

// `logs --since`: an ISO time as above, or a span back from `now`: 30s, 10m (minutes), 2h, 1d, 1w.
std::optional<Clock::time_point> parse_since(std::string_view text, Clock::time_point now);

// Local time with its offset, to the second: 2026-11-26T12:17:13+01:00.
std::string format_local_time(Clock::time_point t);

}  // namespace ilchat::ctl
