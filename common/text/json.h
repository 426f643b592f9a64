#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <rapidjson/document.h>

namespace ilchat::text {

// Compact JSON text of a value (as JSON.stringify writes it).
std::string to_json(const rapidjson::Value& value);

// `text` as a JSON string literal, quoted and escaped.
std::string json_string(std::string_view text);

// An integer given as a JSON number or a numeric string (ILIAS clients send both), as
// JavaScript's parseInt would read it for the cases that occur.
std::optional<std::int64_t> integer_of(const rapidjson::Value& value);
std::optional<std::int64_t> integer_of(std::string_view text);

}  // namespace ilchat::text
