#include "common/retention/retention_bound.h"

#include <algorithm>
#include <cstdint>
#include <ctime>
#include <optional>

namespace ilchat::retention {

namespace {

using Clock = std::chrono::system_clock;

constexpr std::int64_t seconds_per_day = 86400;

std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

// Days since 1970-01-01 of `day` of the 0-based `month` of `year` (proleptic Gregorian, like JS).
// Months and days outside their range carry into the next or previous ones, as in JS's MakeDay;
// this is what makes 31 March - 1 month land on 3 March.
std::int64_t day_number(std::int64_t year, std::int64_t month, std::int64_t day) {
    year += floor_div(month, 12);
    month -= floor_div(month, 12) * 12;
    // Howard Hinnant's days_from_civil: years start in March so that the leap day comes last.
    const std::int64_t y = year - (month < 2);
    const std::int64_t era = floor_div(y, 400);
    const std::int64_t year_of_era = y - era * 400;
    const std::int64_t first_of_month = (153 * ((month + 10) % 12) + 2) / 5;
    const std::int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + first_of_month;
    return era * 146097 + day_of_era - 719468 + day - 1;
}

std::tm local_fields(std::int64_t instant) {
    const std::time_t t = static_cast<std::time_t>(instant);
    std::tm fields{};
    localtime_r(&t, &fields);
    return fields;
}

// Seconds east of UTC of the local zone at `instant`.
std::int64_t utc_offset(std::int64_t instant) { return local_fields(instant).tm_gmtoff; }

// What the local clock reads at `instant`, counted like Unix time.
std::int64_t reading(std::int64_t instant) { return instant + utc_offset(instant); }

// A local calendar date and time of day counted like Unix time, so that it can be resolved to
// instants without mktime: glibc's mktime answers a repeated hour with whichever offset it used
// last, which would make the result depend on earlier calls.
std::int64_t wall(std::int64_t year, std::int64_t month, std::int64_t day, std::int64_t second_of_day) {
    return day_number(year, month, day) * seconds_per_day + second_of_day;
}

struct Instants {
    std::optional<std::int64_t> first;  // empty when a DST change skips the wall-clock time
    std::int64_t offset_before;
    std::int64_t offset_after;
};

// The instants at which the local clock reads `wall_time`. Zone changes are more than a day
// apart, so only the offsets a day before and a day after can apply.
Instants instants_of(std::int64_t wall_time) {
    Instants out{std::nullopt, utc_offset(wall_time - seconds_per_day), utc_offset(wall_time + seconds_per_day)};
    // The larger offset gives the earlier instant, i.e. the first of a repeated reading.
    for (std::int64_t offset : {std::max(out.offset_before, out.offset_after), std::min(out.offset_before, out.offset_after)})
        if (!out.first && utc_offset(wall_time - offset) == offset) out.first = wall_time - offset;
    return out;
}

// The instant at which a DST change skips over `wall_time`: the first whose reading is not earlier.
std::int64_t end_of_gap(std::int64_t wall_time, const Instants& around) {
    std::int64_t too_early = wall_time - std::max(around.offset_before, around.offset_after);
    std::int64_t late_enough = wall_time - std::min(around.offset_before, around.offset_after);
    while (late_enough - too_early > 1) {
        const std::int64_t middle = too_early + (late_enough - too_early) / 2;
        if (reading(middle) >= wall_time) late_enough = middle;
        else too_early = middle;
    }
    return late_enough;
}

// libstdc++'s system_clock counts nanoseconds and so spans only 1677 to 2262, which a
// deletion_value of up to 100000 years overshoots. A bound clamped to either end deletes the same
// rows as the exact one would: none, or all.
Clock::time_point clamped(std::int64_t instant, Clock::duration fraction) {
    constexpr std::int64_t first = std::chrono::ceil<std::chrono::seconds>(Clock::duration::min()).count();
    constexpr std::int64_t last = std::chrono::floor<std::chrono::seconds>(Clock::duration::max()).count() - 1;
    if (instant < first) return Clock::time_point::min();
    if (instant > last) return Clock::time_point::max();
    return Clock::time_point(std::chrono::seconds(instant)) + fraction;
}

}  // namespace

Clock::time_point deletion_bound(Clock::time_point now, std::string_view unit, int value) {
    const bool known = unit == "years" || unit == "months" || unit == "month" || unit == "weeks" || unit == "days";
    if (!known) return now;

    // localtime_r, unlike mktime, need not notice a changed TZ (POSIX).
    tzset();
    const auto whole = std::chrono::floor<std::chrono::seconds>(now);
    const std::tm local = local_fields(whole.time_since_epoch().count());
    std::int64_t year = local.tm_year + 1900;
    std::int64_t month = local.tm_mon;
    std::int64_t day = local.tm_mday;
    if (unit == "years") year -= value;
    else if (unit == "weeks") day -= 7 * std::int64_t{value};
    else if (unit == "days") day -= value;
    else month -= value;

    const std::int64_t target =
        wall(year, month, day, local.tm_hour * 3600 + local.tm_min * 60 + local.tm_sec);
    const Instants at = instants_of(target);
    // ECMA-262 reads a skipped wall-clock time with the offset in force before the change.
    return clamped(at.first.value_or(target - at.offset_before), now - whole);
}

Clock::time_point next_run(Clock::time_point now, int hour, int minute) {
    tzset();
    const std::tm today = local_fields(std::chrono::floor<std::chrono::seconds>(now).time_since_epoch().count());
    for (std::int64_t day = today.tm_mday;; ++day) {
        const std::int64_t target = wall(today.tm_year + 1900, today.tm_mon, day, hour * 3600 + minute * 60);
        const Instants at = instants_of(target);
        const Clock::time_point run(std::chrono::seconds(at.first ? *at.first : end_of_gap(target, at)));
        if (run > now) return run;
    }
}

}  // namespace ilchat::retention
