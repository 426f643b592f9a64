#pragma once

#include <map>
#include <string>
#include <string_view>

#include "common/config/diagnostics.h"

namespace ilchat::config {

using Variables = std::map<std::string, std::string>;

// Parses a .env file as docker compose and shells read it: `KEY=value`, optional `export `,
// blank lines and `#` comments, `'single'` quotes taken literally, `"double"` quotes with
// \n \t \" \\ escapes, and ` #` starting a comment after an unquoted value. Malformed lines
// are reported with their line number; the good ones are still returned.
Variables parse_env_file(std::string_view text, std::string_view label, Diagnostics& diag);

}  // namespace ilchat::config
