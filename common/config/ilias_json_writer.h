#pragma once

#include <string>

#include "common/config/client_config.h"
#include "common/config/server_config.h"

namespace ilchat::config {

// The files exactly as ILIAS PHP writes them (json_encode with JSON_PRETTY_PRINT: four-space
// indent, "\/" for slashes, non-ASCII as \uXXXX), so the original Node server reads them too.
std::string to_ilias_json(const ServerConfig& config);
std::string to_ilias_json(const ClientConfig& config);

}  // namespace ilchat::config
