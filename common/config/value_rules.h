#pragma once

#include <compare>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include <rapidjson/document.h>

namespace ilchat::config {

struct TimeOfDay {
    int hour = 0;
    int minute = 0;
    auto operator<=>(const TimeOfDay&) const = default;
};

using Value = std::variant<std::string, long long, bool, TimeOfDay>;

// How one JSON value of an ILIAS-written file becomes a setting. ILIAS writes numbers sometimes
// as numbers and sometimes as numeric strings (admin GUI vs. setup CLI), so every numeric rule
// accepts both.
struct Rule {
    enum class Kind {
        text,            // any string
        nonempty_text,   // a string with at least one non-blank character
        optional_path,   // a string; a number, null or "" means "not set" (ILIAS 7/8 write "log": 0)
        integer,         // number or numeric string within [min, max]
        boolean,         // true/false, 0/1, "0"/"1", "true"/"false"
        choice,          // one of `choices`
        choice_or_default,  // one of `choices`; anything else keeps the default with a warning
        switch_on_one,   // on exactly when the value parses to the integer 1 (deletion_mode)
        time_of_day,     // "HH:MM" (missing parts are 0)
    };
    Kind kind = Kind::text;
    long long min = 0;
    long long max = 0;
    std::span<const std::string_view> choices = {};
};

struct Parsed {
    std::optional<Value> value;  // empty with an empty problem: "keep the default"
    std::string problem;         // completes "<file>: <key>: ..."
    std::string warning;         // value not used, default kept; completes the same way

    static Parsed of(Value v) { return {std::move(v), {}, {}}; }
    static Parsed keep() { return {std::nullopt, {}, {}}; }
    static Parsed bad(std::string problem) { return {std::nullopt, std::move(problem), {}}; }
};

// `secret` keeps the offending value itself out of the problem text.
Parsed apply_rule(const Rule& rule, const rapidjson::Value& json, bool secret);

// What the rule accepts, for generated documentation ("integer 1-65535").
std::string describe_rule(const Rule& rule);

std::string format_time_of_day(TimeOfDay t);

}  // namespace ilchat::config
