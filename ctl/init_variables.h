#pragma once

#include <array>
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

// One ILIAS_CHAT_* variable of the uni-halle/ilias-chatserver-docker image and where it goes.
struct InitVariable {
    std::string_view name;
    std::string_view fallback;  // used when unset and not required ("" = key not written)
    bool required;
    std::string_view help;
    std::array<Placement, 2> places;  // second unused when its key is empty
};

std::span<const InitVariable> init_variables();

// `--help` text of `ilchatctl init`: every variable, its default and meaning.
std::string describe_init_variables();

struct GeneratedConfig {
    config::ServerConfig server;
    config::ClientConfig client;
};

// Builds both files from the variables; every missing or invalid variable is reported in
// `diag` (naming the variable). Only required variables whose names start with `needed` count as
// missing (`check-db` needs just ILIAS_CHAT_DB_*); the result is only meaningful when diag.ok(),
// and then only in the keys those variables fill.
GeneratedConfig generate_config(const config::Variables& vars, config::Diagnostics& diag,
                                std::string_view needed = "ILIAS_CHAT_");

// The variables of `env_file` (none when empty), overridden by those of the environment. An
// unreadable file or a malformed line is reported in `diag`.
config::Variables collect_variables(const std::string& env_file, config::Diagnostics& diag);

}  // namespace ilchat::ctl
