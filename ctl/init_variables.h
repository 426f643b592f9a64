#pragma once

#include <array>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>

#include "common/config/config_set.h"
#include "common/config/env_file.h"

namespace ilchat::ctl {

enum class ConfigFile { server, client };

struct Placement {
    ConfigFile file;
    std::string_view key;
    std::string_view suffix = {};  // appended to the value ("/chat.log" after a folder)
};

// One variable of `ilchatctl init` and where it goes: the ILIAS_CHAT_* variables of the
// uni-halle/ilias-chatserver-docker image, then ILCHATD_<KEY> for each key only ilchatd reads.
struct InitVariable {
    std::string name;
    std::string_view fallback;  // used when unset and not required ("" = key not written)
    bool required;
    std::string help;
    std::array<Placement, 2> places;  // second unused when its key is empty; neither: init reads it itself
};

std::span<const InitVariable> init_variables();

// `--help` text of `ilchatctl init`: every variable, its default and meaning.
std::string describe_init_variables();

// Where variables were read, for messages: the --env-file's path for each one taken from it; a
// variable not listed came from the environment.
using Origins = std::map<std::string, std::string, std::less<>>;

struct GeneratedConfig {
    config::ServerConfig server;
    config::ClientConfig client;
};

// Builds both files from the variables; every missing or invalid variable is reported in
// `diag` (naming the variable). Only required variables whose names start with `needed` count as
// missing (`check-db` needs just ILIAS_CHAT_DB_*); the result is only meaningful when diag.ok(),
// and then only in the keys those variables fill. A message about a variable names where it was
// read (`origins`); an unknown ILIAS_CHAT_* variable, a typo most likely, gets a warning naming
// the closest known one.
GeneratedConfig generate_config(const config::Variables& vars, config::Diagnostics& diag,
                                std::string_view needed = "ILIAS_CHAT_", const Origins& origins = {});

// The variables of `env_file` (none when empty), overridden by those of the environment; when
// given, `origins` learns which ones came from the file. An unreadable file or a malformed line
// is reported in `diag`.
config::Variables collect_variables(const std::string& env_file, config::Diagnostics& diag, Origins* origins = nullptr);

}  // namespace ilchat::ctl
