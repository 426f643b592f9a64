// The pure parts of ilchatctl: what operators type (--older-than, --since, --level, --url) and
// how the log lines are read.
#include <catch2/catch.hpp>

#include "ctl/http_get.h"
#include "ctl/log_lines.h"
#include "ctl/time_text.h"

using namespace ilchat::ctl;
using namespace std::chrono_literals;

namespace {

// 2026-11-26T12:17:13.315Z
const Clock::time_point instant{std::chrono::milliseconds(1795695433315)};

}  // namespace

TEST_CASE("purge periods: a count and d w m or y as deletion_unit and deletion_value", "[ctl]") {
    for (auto [text, unit, value] : {std::tuple{"90d", "days", 90}, {"12w", "weeks", 12}, {"6m", "months", 6},
                                     {"1y", "years", 1}, {"100000d", "days", 100000}}) {
        INFO(text);
        auto period = parse_retention_period(text);
        REQUIRE(period);
        CHECK(period->unit == unit);
        CHECK(period->value == value);
    }
    for (auto bad : {"", "d", "0d", "-1d", "90", "90x", "1.5y", "100001d", "90 d", "9999999999d"}) {
        INFO(bad);
        CHECK_FALSE(parse_retention_period(bad));
    }
}

TEST_CASE("ISO times with and without offsets as the log lines write them", "[ctl]") {
    CHECK(parse_iso_time("2026-11-26T12:17:13.315Z") == instant);
    CHECK(parse_iso_time("2026-11-26T13:17:13.315+01:00") == instant);
    CHECK(parse_iso_time("2026-11-26T07:47:13.315-0430") == instant);
    CHECK(parse_iso_time("2026-11-26 12:17:13.315999Z") == instant);
    CHECK(parse_iso_time("2026-11-26T12:17Z") == instant - 13315ms);
    CHECK(parse_iso_time("2026-11-26Z") == instant - 12h - 17min - 13315ms);
    for (auto bad : {"", "2026-11-26T", "2026-13-01", "2026-02-30", "2026-11-26T24:00", "2026-11-26T12:17:13+1",
                     "26.11.2026", "2026-11-26T12:17:13.315+01:00 trailing"}) {
        INFO(bad);
        CHECK_FALSE(parse_iso_time(bad));
    }
    // Without an offset: local time, which format_local_time writes back with its offset.
    const auto local = parse_iso_time("2026-07-01T08:30:00");
    REQUIRE(local);
    CHECK(format_local_time(*local).starts_with("2026-07-01T08:30:00"));
    CHECK(parse_iso_time(format_local_time(instant)) == std::chrono::floor<std::chrono::seconds>(instant));
}

TEST_CASE("logs since: an ISO time or a span back from now where m means minutes", "[ctl]") {
    CHECK(parse_since("30s", instant) == instant - 30s);
    CHECK(parse_since("10m", instant) == instant - 10min);
    CHECK(parse_since("2h", instant) == instant - 2h);
    CHECK(parse_since("1d", instant) == instant - 24h);
    CHECK(parse_since("1w", instant) == instant - 7 * 24h);
    CHECK(parse_since("2026-11-26T12:17:13.315Z", Clock::now()) == instant);
    for (auto bad : {"", "10", "10y", "m", "yesterday"}) {
        INFO(bad);
        CHECK_FALSE(parse_since(bad, instant));
    }
}

TEST_CASE("log lines: the time and level of a header line and none for other lines", "[ctl]") {
    auto header = parse_log_header("[2026-11-26T13:17:13.315+01:00] WARN - admin socket: refused a peer");
    REQUIRE(header);
    CHECK(header->time == instant);
    CHECK(header->level == spdlog::level::warn);
    CHECK(parse_log_header("[2026-11-26T13:17:13.315+01:00] SILLY - x")->level == spdlog::level::trace);
    CHECK(parse_log_header("[2026-11-26T13:17:13.315+01:00] ERROR - ")->level == spdlog::level::err);
    for (auto other : {"", "  at line 2 of a message", "[not a time] INFO - x", "[2026-11-26T13:17:13.315+01:00] LOUD - x",
                       "[2026-11-26T13:17:13.315+01:00]INFO - x"}) {
        INFO(other);
        CHECK_FALSE(parse_log_header(other));
    }
}

TEST_CASE("log levels: the Node names in any case and at or above means as severe or more", "[ctl]") {
    CHECK(parse_level_name("error") == spdlog::level::err);
    CHECK(parse_level_name("WARN") == spdlog::level::warn);
    CHECK(parse_level_name("warning") == spdlog::level::warn);
    CHECK(parse_level_name("Info") == spdlog::level::info);
    CHECK(parse_level_name("debug") == spdlog::level::debug);
    CHECK(parse_level_name("silly") == spdlog::level::trace);
    CHECK_FALSE(parse_level_name("loud"));
    CHECK_FALSE(parse_level_name("critical"));

    const LogSelection warn{spdlog::level::warn, std::nullopt};
    CHECK(warn.accepts({instant, spdlog::level::err}));
    CHECK(warn.accepts({instant, spdlog::level::warn}));
    CHECK_FALSE(warn.accepts({instant, spdlog::level::info}));
    CHECK_FALSE(warn.accepts({instant, spdlog::level::trace}));
    const LogSelection since{std::nullopt, instant};
    CHECK(since.accepts({instant, spdlog::level::trace}));
    CHECK_FALSE(since.accepts({instant - 1ms, spdlog::level::err}));
    CHECK_FALSE(LogSelection{}.filters());
}

TEST_CASE("health URLs: scheme and host and port and path prefix", "[ctl]") {
    auto url = parse_url("http://127.0.0.1:27019");
    REQUIRE(url);
    CHECK((url->scheme == "http" && url->host == "127.0.0.1" && url->port == "27019" && url->path.empty()));
    url = parse_url("HTTPS://chat.example.org/servers/chat/");
    REQUIRE(url);
    CHECK((url->scheme == "https" && url->host == "chat.example.org" && url->port == "443" &&
           url->path == "/servers/chat"));
    url = parse_url("http://[::1]:8080/x");
    REQUIRE(url);
    CHECK((url->host == "::1" && url->port == "8080" && url->path == "/x"));
    CHECK(parse_url("http://localhost")->port == "80");
    for (auto bad : {"", "127.0.0.1:27019", "http://", "http://:80", "http://host:0", "http://host:65536",
                     "http://host:8o", "http://[::1", "http://[::1]x"}) {
        INFO(bad);
        CHECK_FALSE(parse_url(bad));
    }
}
