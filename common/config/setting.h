#pragma once

#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include <rapidjson/document.h>

#include "common/config/diagnostics.h"
#include "common/config/value_rules.h"

namespace ilchat::config {

enum class Reload { live, restart };

template <class Config>
using Field = std::variant<std::string Config::*, int Config::*, bool Config::*, TimeOfDay Config::*>;

// One key of a configuration file: where it lives in the JSON, where its value goes, how it is
// read, and what operators need to know about it. Each file's keys form one table; loading,
// `config show` and the key reference are all generated from it.
template <class Config>
struct Setting {
    std::string_view key;  // JSON path, '.' between nested objects ("auth.secret")
    Field<Config> field;
    Rule rule;
    Reload reload;
    std::string_view help;
    bool required = false;
    bool secret = false;
    // When given and false for the loaded file, a bad value is only a warning: ILIAS writes
    // deletion settings even when the deletion job is off, and the Node server ignores them then.
    bool (*matters)(const Config&) = nullptr;
    // For a key whose absence means something other than one value (its default member then holds
    // a value no file can give): what the key reference and `config show` say instead.
    std::string_view when_unset = {};
};

namespace detail {

const rapidjson::Value* find_path(const rapidjson::Value& root, std::string_view path, std::string& problem);

}  // namespace detail

template <class Config>
std::string format_field(const Field<Config>& field, const Config& config) {
    return std::visit(
        [&](auto member) -> std::string {
            const auto& v = config.*member;
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::string>) return v;
            else if constexpr (std::is_same_v<T, bool>) return v ? "true" : "false";
            else if constexpr (std::is_same_v<T, int>) return std::to_string(v);
            else return format_time_of_day(v);
        },
        field);
}

template <class Config>
void assign_field(const Field<Config>& field, Config& config, const Value& value) {
    std::visit(
        [&](auto member) {
            auto& target = config.*member;
            using T = std::decay_t<decltype(target)>;
            if constexpr (std::is_same_v<T, int>) target = static_cast<int>(std::get<long long>(value));
            else target = std::get<T>(value);
        },
        field);
}

// Fills `config` (pre-set to defaults) from `root`; every problem goes to `diag`.
template <class Config>
void load_settings(const rapidjson::Value& root, std::span<const Setting<Config>> table, Config& config,
                   std::string_view file, Diagnostics& diag) {
    struct Problem {
        const Setting<Config>* setting;
        std::string what;
    };
    std::vector<Problem> problems;
    for (const auto& setting : table) {
        std::string path_problem;
        const rapidjson::Value* json = detail::find_path(root, setting.key, path_problem);
        if (!path_problem.empty()) {
            problems.push_back({&setting, path_problem});
            continue;
        }
        if (!json) {
            if (setting.required) problems.push_back({&setting, "missing (required)"});
            continue;
        }
        Parsed parsed = apply_rule(setting.rule, *json, setting.secret);
        if (!parsed.warning.empty()) diag.warning(file, setting.key, parsed.warning);
        if (!parsed.problem.empty()) problems.push_back({&setting, parsed.problem});
        else if (parsed.value) assign_field(setting.field, config, *parsed.value);
    }
    for (const auto& p : problems) {
        if (p.setting->matters && !p.setting->matters(config))
            diag.warning(file, p.setting->key, p.what + " (ignored while unused)");
        else
            diag.error(file, p.setting->key, p.what);
    }
}

// A key with a `when_unset` meaning that the loaded file did not set (nor should a written one).
template <class Config>
bool is_unset(const Setting<Config>& setting, const Config& config) {
    return !setting.when_unset.empty() && format_field(setting.field, config) == format_field(setting.field, Config{});
}

// The value as `config show` prints it: strings quoted, 0/1 switches as ILIAS writes them, and
// secrets that are set as "********".
template <class Config>
std::string shown_value(const Setting<Config>& setting, const Config& config) {
    if (is_unset(setting, config)) return std::string(setting.when_unset);
    std::string value = format_field(setting.field, config);
    if (setting.secret && !value.empty()) return "********";
    if (setting.rule.kind == Rule::Kind::switch_on_one) return value == "true" ? "1" : "0";
    if (std::holds_alternative<std::string Config::*>(setting.field)) return '"' + value + '"';
    return value;
}

}  // namespace ilchat::config
