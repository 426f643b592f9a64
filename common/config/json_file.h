#pragma once

#include <optional>
#include <string>

#include <rapidjson/document.h>

#include "common/config/diagnostics.h"

namespace ilchat::config {

// Reads a JSON configuration file. The file must hold one JSON object; a UTF-8 byte order mark
// is tolerated (editors on Windows add one). Problems go to `diag` under the path as given.
std::optional<rapidjson::Document> read_json_object(const std::string& path, Diagnostics& diag);

// Same for text already in memory (`label` names it in messages).
std::optional<rapidjson::Document> parse_json_object(std::string_view text, const std::string& label,
                                                     Diagnostics& diag);

// A short, single-line rendering of a JSON value for error messages.
std::string describe_json(const rapidjson::Value& value);

}  // namespace ilchat::config
