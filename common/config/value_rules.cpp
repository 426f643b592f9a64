#include "common/config/value_rules.h"

#include <charconv>
#include <cstdio>

#include "common/config/json_file.h"

namespace ilchat::config {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

std::optional<long long> parse_integer(std::string_view text) {
    text = trim(text);
    long long n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) return std::nullopt;
    return n;
}

std::optional<long long> integer_of(const rapidjson::Value& json) {
    if (json.IsInt64()) return json.GetInt64();
    if (json.IsDouble()) {
        double d = json.GetDouble();
        if (d == static_cast<double>(static_cast<long long>(d))) return static_cast<long long>(d);
        return std::nullopt;
    }
    if (json.IsString()) return parse_integer({json.GetString(), json.GetStringLength()});
    return std::nullopt;
}

std::string got(const rapidjson::Value& json, bool secret) {
    if (!secret) return ", got " + describe_json(json);
    if (json.IsString()) return ", got a string";
    if (json.IsNumber()) return ", got a number";
    if (json.IsBool()) return ", got a boolean";
    if (json.IsNull()) return ", got null";
    return json.IsArray() ? ", got an array" : ", got an object";
}

std::string choices_text(std::span<const std::string_view> choices) {
    std::string text;
    for (size_t i = 0; i < choices.size(); ++i) {
        if (i) text += i + 1 == choices.size() ? " or " : ", ";
        text += choices[i].empty() ? std::string_view("\"\"") : choices[i];
    }
    return text;
}

Parsed fail(const Rule& rule, const rapidjson::Value& json, bool secret) {
    return Parsed::bad("expected " + describe_rule(rule) + got(json, secret));
}

}  // namespace

std::string describe_rule(const Rule& rule) {
    using K = Rule::Kind;
    switch (rule.kind) {
        case K::text: return "a string";
        case K::nonempty_text: return "a non-empty string";
        case K::optional_path: return "a file path";
        case K::integer: return std::to_string(rule.min) + "-" + std::to_string(rule.max);
        case K::boolean: return "true or false";
        case K::choice:
        case K::choice_or_default: return choices_text(rule.choices);
        case K::switch_on_one: return "0 or 1";
        case K::time_of_day: return "a time HH:MM";
    }
    return {};
}

std::string format_time_of_day(TimeOfDay t) {
    char text[8];
    std::snprintf(text, sizeof text, "%02d:%02d", t.hour % 100, t.minute % 100);
    return text;
}

Parsed apply_rule(const Rule& rule, const rapidjson::Value& json, bool secret) {
    using K = Rule::Kind;
    const std::string_view text = json.IsString() ? std::string_view{json.GetString(), json.GetStringLength()}
                                                  : std::string_view{};
    switch (rule.kind) {
        case K::text:
            if (!json.IsString()) return fail(rule, json, secret);
            return Parsed::of(std::string(text));
        case K::nonempty_text:
            if (!json.IsString() || trim(text).empty()) return fail(rule, json, secret);
            return Parsed::of(std::string(text));
        case K::optional_path:
            if (json.IsString()) return Parsed::of(std::string(text));
            if (json.IsNumber() || json.IsNull() || json.IsBool()) return Parsed::keep();
            return fail(rule, json, secret);
        case K::integer: {
            auto n = integer_of(json);
            if (!n || *n < rule.min || *n > rule.max) return fail(rule, json, secret);
            return Parsed::of(*n);
        }
        case K::boolean: {
            if (json.IsBool()) return Parsed::of(json.GetBool());
            if (auto n = integer_of(json); n && (*n == 0 || *n == 1)) return Parsed::of(*n == 1);
            if (text == "true" || text == "false") return Parsed::of(text == "true");
            return fail(rule, json, secret);
        }
        case K::choice:
            if (json.IsString())
                for (auto c : rule.choices)
                    if (c == text) return Parsed::of(std::string(text));
            return fail(rule, json, secret);
        case K::choice_or_default: {
            Parsed parsed = apply_rule({K::choice, 0, 0, rule.choices}, json, secret);
            if (!parsed.problem.empty()) return {std::nullopt, {}, parsed.problem + "; using the default"};
            return parsed;
        }
        case K::switch_on_one: {
            // Node: parseInt(value, 10) === 1. Anything else, true and garbage included, is off:
            // a file that never purged under Node must not start purging here.
            auto n = integer_of(json);
            return Parsed::of(n && *n == 1);
        }
        case K::time_of_day: {
            if (!json.IsString()) return fail(rule, json, secret);
            auto colon = text.find(':');
            auto hour = parse_integer(text.substr(0, colon));
            auto minute = colon == std::string_view::npos ? std::optional<long long>{0}
                                                          : parse_integer(text.substr(colon + 1));
            if (!hour || !minute || *hour < 0 || *hour > 23 || *minute < 0 || *minute > 59)
                return fail(rule, json, secret);
            return Parsed::of(TimeOfDay{static_cast<int>(*hour), static_cast<int>(*minute)});
        }
    }
    return fail(rule, json, secret);
}

}  // namespace ilchat::config
