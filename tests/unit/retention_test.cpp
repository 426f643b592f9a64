#include <catch2/catch.hpp>

#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>

#include "common/retention/retention_bound.h"

using namespace ilchat;
using namespace std::chrono;
using Clock = system_clock;

namespace {

// Switches the process's local zone for one test and puts the previous one back.
class LocalZone {
public:
    explicit LocalZone(const char* zone) {
        if (const char* previous = std::getenv("TZ")) previous_ = previous;
        setenv("TZ", zone, 1);
        tzset();
    }
    ~LocalZone() {
        if (previous_) setenv("TZ", previous_->c_str(), 1);
        else unsetenv("TZ");
        tzset();
    }
    LocalZone(const LocalZone&) = delete;
    LocalZone& operator=(const LocalZone&) = delete;

private:
    std::optional<std::string> previous_;
};

Clock::time_point utc(int y, unsigned mo, unsigned d, int h, int mi, int s = 0) {
    return sys_days(year{y} / month{mo} / day{d}) + hours{h} + minutes{mi} + seconds{s};
}

std::tm fields(Clock::time_point t) {
    const std::time_t whole = Clock::to_time_t(floor<seconds>(t));
    std::tm out{};
    localtime_r(&whole, &out);
    return out;
}

// The local wall clock at `t` with its zone abbreviation, e.g. "2024-03-03 12:00:00 CET".
std::string local(Clock::time_point t) {
    const std::tm f = fields(t);
    char text[64];
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S %Z", &f);
    return text;
}

sys_days local_date(Clock::time_point t) {
    const std::tm f = fields(t);
    return sys_days(year{f.tm_year + 1900} / month{static_cast<unsigned>(f.tm_mon + 1)} / day{static_cast<unsigned>(f.tm_mday)});
}

std::string bound(Clock::time_point now, const char* unit, int value) {
    return local(retention::deletion_bound(now, unit, value));
}

}  // namespace

TEST_CASE("deletion bound: months roll a missing day forward like JS setMonth", "[retention]") {
    LocalZone zone("Europe/Berlin");
    // 2023-03-31 12:00 CEST; "31 February" is 3 March, and the wall-clock time survives the DST change.
    CHECK(bound(utc(2023, 3, 31, 10, 0), "months", 1) == "2023-03-03 12:00:00 CET");
    CHECK(bound(utc(2024, 3, 31, 10, 0), "months", 1) == "2024-03-02 12:00:00 CET");  // leap year
    CHECK(bound(utc(2024, 3, 31, 10, 0), "month", 1) == "2024-03-02 12:00:00 CET");
    CHECK(bound(utc(2024, 5, 31, 10, 0), "months", 1) == "2024-05-01 12:00:00 CEST");
    CHECK(bound(utc(2024, 1, 15, 11, 0), "months", 3) == "2023-10-15 12:00:00 CEST");
    CHECK(bound(utc(2024, 12, 31, 11, 0), "months", 13) == "2023-12-01 12:00:00 CET");
    CHECK(bound(utc(2024, 7, 15, 10, 0), "months", 1200) == "1924-07-15 12:00:00 CET");
    CHECK(bound(utc(2024, 8, 20, 10, 0), "months", 3) == "2024-05-20 12:00:00 CEST");
}

TEST_CASE("deletion bound: years from 29 February", "[retention]") {
    LocalZone zone("Europe/Berlin");
    const auto leap_day = utc(2024, 2, 29, 9, 0);  // 10:00 CET
    CHECK(bound(leap_day, "years", 1) == "2023-03-01 10:00:00 CET");
    CHECK(bound(leap_day, "years", 3) == "2021-03-01 10:00:00 CET");
    CHECK(bound(leap_day, "years", 4) == "2020-02-29 10:00:00 CET");
    CHECK(bound(leap_day, "years", 100) == "1924-02-29 10:00:00 CET");  // 1924 is a leap year
    CHECK(bound(utc(2100, 3, 1, 9, 0), "years", 4) == "2096-03-01 10:00:00 CET");
    CHECK(bound(utc(2024, 6, 1, 10, 0), "years", 1) == "2023-06-01 12:00:00 CEST");
}

TEST_CASE("deletion bound: weeks and days keep the wall clock across DST in Europe/Berlin", "[retention]") {
    LocalZone zone("Europe/Berlin");
    // 2024: summer time from 31 March 02:00 (to 03:00) to 27 October 03:00 (back to 02:00).
    const auto spring = utc(2024, 4, 3, 10, 0);  // 12:00 CEST
    CHECK(bound(spring, "weeks", 1) == "2024-03-27 12:00:00 CET");
    CHECK(spring - retention::deletion_bound(spring, "weeks", 1) == hours(7 * 24 - 1));
    const auto autumn = utc(2024, 10, 30, 11, 0);  // 12:00 CET
    CHECK(bound(autumn, "weeks", 1) == "2024-10-23 12:00:00 CEST");
    CHECK(autumn - retention::deletion_bound(autumn, "weeks", 1) == hours(7 * 24 + 1));
    CHECK(bound(utc(2024, 3, 25, 11, 0), "weeks", 52) == "2023-03-27 12:00:00 CEST");

    CHECK(bound(utc(2024, 3, 31, 23, 30), "days", 1) == "2024-03-31 01:30:00 CET");  // 1 April 01:30 CEST
    CHECK(bound(utc(2024, 3, 1, 11, 0), "days", 1) == "2024-02-29 12:00:00 CET");
    CHECK(bound(utc(2024, 1, 1, 11, 0), "days", 366) == "2022-12-31 12:00:00 CET");
}

TEST_CASE("deletion bound: a skipped time reads with the old offset, a repeated one is the first", "[retention]") {
    LocalZone zone("Europe/Berlin");
    // 1 April 02:30 CEST minus a day is 31 March 02:30, which does not exist; JS makes it 03:30 CEST.
    CHECK(bound(utc(2024, 4, 1, 0, 30), "days", 1) == "2024-03-31 03:30:00 CEST");
    CHECK(retention::deletion_bound(utc(2024, 4, 1, 0, 30), "days", 1) == utc(2024, 3, 31, 1, 30));
    // 28 October 02:30 CET minus a day is 27 October 02:30, which happens twice; JS takes the first.
    CHECK(retention::deletion_bound(utc(2024, 10, 28, 1, 30), "days", 1) == utc(2024, 10, 27, 0, 30));
    CHECK(retention::deletion_bound(utc(2024, 11, 3, 1, 30), "weeks", 1) == utc(2024, 10, 27, 0, 30));
    // From inside the repeated hour (the second 02:30, CET) back to an ordinary day.
    CHECK(bound(utc(2024, 10, 27, 1, 30), "days", 1) == "2024-10-26 02:30:00 CEST");
    CHECK(bound(utc(2024, 10, 27, 0, 30), "days", 1) == "2024-10-26 02:30:00 CEST");
}

TEST_CASE("deletion bound: America/New_York", "[retention]") {
    LocalZone zone("America/New_York");
    // 2024: EDT from 10 March 02:00 (to 03:00) to 3 November 02:00 (back to 01:00).
    CHECK(bound(utc(2024, 3, 11, 6, 30), "days", 1) == "2024-03-10 03:30:00 EDT");
    CHECK(retention::deletion_bound(utc(2024, 11, 4, 6, 30), "days", 1) == utc(2024, 11, 3, 5, 30));
    CHECK(bound(utc(2024, 11, 4, 6, 30), "days", 1) == "2024-11-03 01:30:00 EDT");
    CHECK(bound(utc(2024, 3, 14, 16, 0), "weeks", 1) == "2024-03-07 12:00:00 EST");
    CHECK(bound(utc(2024, 3, 31, 16, 0), "months", 1) == "2024-03-02 12:00:00 EST");
    CHECK(bound(utc(2023, 3, 31, 16, 0), "months", 1) == "2023-03-03 12:00:00 EST");
    CHECK(bound(utc(2024, 2, 29, 17, 0), "years", 1) == "2023-03-01 12:00:00 EST");
}

TEST_CASE("deletion bound: unknown units give now; fractions of a second are kept", "[retention]") {
    LocalZone zone("Europe/Berlin");
    const auto now = utc(2024, 5, 17, 8, 9, 10) + milliseconds(123);
    for (const char* unit : {"day", "week", "year", "hours", "", "Days"}) {
        INFO(unit);
        CHECK(retention::deletion_bound(now, unit, 5) == now);
    }
    CHECK(retention::deletion_bound(now, "days", 2) == now - hours(48));
    CHECK(retention::deletion_bound(now, "days", 0) == now);
}

TEST_CASE("deletion bound: in UTC days and weeks are exact multiples of 24 hours; far back clamps", "[retention]") {
    LocalZone zone("UTC");
    const auto now = utc(2024, 3, 31, 2, 30);
    CHECK(retention::deletion_bound(now, "days", 10) == now - hours(240));
    CHECK(retention::deletion_bound(now, "weeks", 3) == now - hours(21 * 24));
    CHECK(retention::deletion_bound(now, "years", 1) == utc(2023, 3, 31, 2, 30));
    // Before the first instant system_clock can hold, as deletion_value allows; deletes nothing.
    CHECK(retention::deletion_bound(now, "years", 100000) == Clock::time_point::min());
    CHECK(retention::deletion_bound(now, "months", 100000 * 12) == Clock::time_point::min());
}

TEST_CASE("next run: 02:30 on the days Europe/Berlin changes to and from summer time", "[retention]") {
    LocalZone zone("Europe/Berlin");
    // On 31 March 2024 02:30 does not exist: the job runs when the clock jumps to 03:00.
    const auto spring = retention::next_run(utc(2024, 3, 30, 11, 0), 2, 30);
    CHECK(local(spring) == "2024-03-31 03:00:00 CEST");
    CHECK(local(retention::next_run(spring, 2, 30)) == "2024-04-01 02:30:00 CEST");
    CHECK(local(retention::next_run(utc(2024, 3, 31, 0, 59, 59), 2, 30)) == "2024-03-31 03:00:00 CEST");

    // On 27 October 2024 02:30 happens twice: the job runs at the first and not again.
    const auto autumn = retention::next_run(utc(2024, 10, 26, 10, 0), 2, 30);
    CHECK(autumn == utc(2024, 10, 27, 0, 30));
    CHECK(local(autumn) == "2024-10-27 02:30:00 CEST");
    CHECK(local(retention::next_run(autumn, 2, 30)) == "2024-10-28 02:30:00 CET");
    CHECK(local(retention::next_run(utc(2024, 10, 27, 1, 10), 2, 30)) == "2024-10-28 02:30:00 CET");  // 02:10 CET
    CHECK(retention::next_run(utc(2024, 10, 27, 0, 10), 2, 30) == autumn);  // 02:10 CEST
}

TEST_CASE("next run: midnight and 23:59 around the DST changes", "[retention]") {
    LocalZone zone("Europe/Berlin");
    CHECK(local(retention::next_run(utc(2024, 3, 30, 22, 59, 59) + milliseconds(500), 0, 0)) ==
          "2024-03-31 00:00:00 CET");
    const auto midnight = retention::next_run(utc(2024, 3, 30, 12, 0), 0, 0);
    CHECK(local(midnight) == "2024-03-31 00:00:00 CET");
    const auto after = retention::next_run(midnight, 0, 0);
    CHECK(local(after) == "2024-04-01 00:00:00 CEST");
    CHECK(after - midnight == hours(23));

    const auto before = retention::next_run(utc(2024, 10, 26, 10, 0), 23, 59);
    CHECK(local(before) == "2024-10-26 23:59:00 CEST");
    const auto long_day = retention::next_run(before, 23, 59);
    CHECK(local(long_day) == "2024-10-27 23:59:00 CET");
    CHECK(long_day - before == hours(25));
}

TEST_CASE("next run: strictly after now", "[retention]") {
    LocalZone zone("Europe/Berlin");
    const auto at = utc(2024, 6, 10, 1, 15);  // 03:15 CEST
    CHECK(retention::next_run(at, 3, 15) == at + hours(24));
    CHECK(retention::next_run(at - milliseconds(1), 3, 15) == at);
    CHECK(retention::next_run(at + milliseconds(1), 3, 15) == at + hours(24));
    CHECK(local(retention::next_run(at, 3, 14)) == "2024-06-11 03:14:00 CEST");
    CHECK(local(retention::next_run(at, 3, 16)) == "2024-06-10 03:16:00 CEST");
}

TEST_CASE("next run: consecutive runs are one calendar day apart at the same wall-clock time", "[retention]") {
    for (const char* zone_name : {"Europe/Berlin", "America/New_York"}) {
        LocalZone zone(zone_name);
        for (auto [hour, minute] : {std::pair{0, 0}, {1, 30}, {2, 0}, {2, 30}, {2, 59}, {3, 0}, {12, 0}, {23, 59}}) {
            INFO(zone_name << " " << hour << ":" << minute);
            auto run = retention::next_run(utc(2023, 12, 31, 12, 0), hour, minute);
            int skipped_days = 0;
            int not_24_hours = 0;
            for (int i = 0; i < 2 * 366; ++i) {
                const auto next = retention::next_run(run, hour, minute);
                INFO(local(run) << " -> " << local(next));
                CHECK(local_date(next) == local_date(run) + days(1));
                CHECK(next - run >= hours(23));
                CHECK(next - run <= hours(25));
                if (next - run != hours(24)) ++not_24_hours;
                const std::tm f = fields(next);
                if (f.tm_hour != hour || f.tm_min != minute) {
                    // Only where the clock jumps from 02:00 to 03:00, and then right at the jump.
                    ++skipped_days;
                    CHECK(local(next).substr(11, 8) == "03:00:00");
                    CHECK(local(next - seconds(1)).substr(11, 8) == "01:59:59");
                }
                CHECK(f.tm_sec == 0);
                run = next;
            }
            // Both zones skip 02:00-03:00 once in 2024 and once in 2025; each of the four changes
            // makes at least one interval 23 or 25 hours long, which a 24-hour timer would miss.
            CHECK(skipped_days == (hour == 2 ? 2 : 0));
            CHECK(not_24_hours >= 4);
        }
    }
}
