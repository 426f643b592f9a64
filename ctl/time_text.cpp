#include "ctl/time_text.h"

#include <array>
#include <cstdio>
#include <ctime>
#include <utility>

namespace ilchat::ctl {

namespace {

// A count and a one-letter unit: "90d". The count is at least 1.
std::optional<std::pair<long long, char>> count_and_unit(std::string_view text) {
    if (text.size() < 2 || text.size() > 9) return std::nullopt;
    long long count = 0;
    for (char c : text.substr(0, text.size() - 1)) {
        if (c < '0' || c > '9') return std::nullopt;
        count = count * 10 + (c - '0');
    }
    if (count < 1) return std::nullopt;
    return std::pair{count, text.back()};
}

// Reads exactly `n` digits from the front of `text`.
bool take_digits(std::string_view& text, std::size_t n, int& out) {
    if (text.size() < n) return false;
    out = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (text[i] < '0' || text[i] > '9') return false;
        out = out * 10 + (text[i] - '0');
    }
    text.remove_prefix(n);
    return true;
}

bool take_char(std::string_view& text, char c) {
    if (text.empty() || text.front() != c) return false;
    text.remove_prefix(1);
    return true;
}

// Seconds east of UTC from "Z", "+01:00" or "+0100"; the whole rest of the text must be it.
std::optional<int> parse_offset(std::string_view text) {
    if (text == "Z" || text == "z") return 0;
    if (text.empty() || (text.front() != '+' && text.front() != '-')) return std::nullopt;
    const int sign = text.front() == '-' ? -1 : 1;
    text.remove_prefix(1);
    int hours = 0, minutes = 0;
    if (!take_digits(text, 2, hours)) return std::nullopt;
    take_char(text, ':');
    if (!take_digits(text, 2, minutes) || !text.empty() || hours > 23 || minutes > 59) return std::nullopt;
    return sign * (hours * 3600 + minutes * 60);
}

}  // namespace

std::optional<RetentionPeriod> parse_retention_period(std::string_view text) {
    constexpr std::array<std::pair<char, std::string_view>, 4> units{
        {{'d', "days"}, {'w', "weeks"}, {'m', "months"}, {'y', "years"}}};
    auto parsed = count_and_unit(text);
    // The same limit as server.cfg's deletion_value.
    if (!parsed || parsed->first > 100000) return std::nullopt;
    for (auto [letter, unit] : units)
        if (letter == parsed->second) return RetentionPeriod{unit, static_cast<int>(parsed->first)};
    return std::nullopt;
}

std::optional<Clock::time_point> parse_iso_time(std::string_view text) {
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, millis = 0;
    if (!take_digits(text, 4, year) || !take_char(text, '-') || !take_digits(text, 2, month) || !take_char(text, '-') ||
        !take_digits(text, 2, day))
        return std::nullopt;
    if (take_char(text, 'T') || take_char(text, ' ')) {
        if (!take_digits(text, 2, hour) || !take_char(text, ':') || !take_digits(text, 2, minute)) return std::nullopt;
        if (take_char(text, ':')) {
            if (!take_digits(text, 2, second)) return std::nullopt;
            if (take_char(text, '.')) {
                // Milliseconds from the first three digits; finer ones do not matter here.
                int scale = 100;
                for (; !text.empty() && text.front() >= '0' && text.front() <= '9'; text.remove_prefix(1), scale /= 10)
                    millis += (text.front() - '0') * scale;
            }
        }
    }
    const std::chrono::year_month_day date{std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month)),
                                           std::chrono::day(static_cast<unsigned>(day))};
    if (!date.ok() || hour > 23 || minute > 59 || second > 60) return std::nullopt;
    const auto time_of_day = std::chrono::hours(hour) + std::chrono::minutes(minute) + std::chrono::seconds(second) +
                             std::chrono::milliseconds(millis);
    if (text.empty()) {
        std::tm fields{};
        fields.tm_year = year - 1900;
        fields.tm_mon = month - 1;
        fields.tm_mday = day;
        fields.tm_hour = hour;
        fields.tm_min = minute;
        fields.tm_sec = second;
        fields.tm_isdst = -1;  // whichever of standard and summer time is in force then
        const std::time_t local = std::mktime(&fields);
        if (local == -1) return std::nullopt;
        return Clock::from_time_t(local) + std::chrono::milliseconds(millis);
    }
    auto offset = parse_offset(text);
    if (!offset) return std::nullopt;
    return Clock::time_point(std::chrono::sys_days(date).time_since_epoch() + time_of_day -
                             std::chrono::seconds(*offset));
}

std::optional<Clock::time_point> parse_since(std::string_view text, Clock::time_point now) {
    if (auto parsed = count_and_unit(text)) {
        const auto [count, unit] = *parsed;
        switch (unit) {
            case 's': return now - std::chrono::seconds(count);
            case 'm': return now - std::chrono::minutes(count);
            case 'h': return now - std::chrono::hours(count);
            case 'd': return now - std::chrono::days(count);
            case 'w': return now - std::chrono::weeks(count);
            default: return std::nullopt;
        }
    }
    return parse_iso_time(text);
}

std::string format_local_time(Clock::time_point t) {
    const std::time_t seconds = Clock::to_time_t(t);
    std::tm fields{};
    localtime_r(&seconds, &fields);
    char text[64];
    const std::size_t length = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &fields);
    // The offset as the log lines write it, +01:00 (strftime's %z has no colon).
    const long offset = fields.tm_gmtoff;
    const long minutes = (offset < 0 ? -offset : offset) / 60;
    std::snprintf(text + length, sizeof text - length, "%c%02ld:%02ld", offset < 0 ? '-' : '+', minutes / 60, minutes % 60);
    return text;
}

}  // namespace ilchat::ctl
