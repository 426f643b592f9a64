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
// `diag` (naming the variable). The result is only meaningful when diag.ok().
GeneratedConfig generate_config(const config::Variables& vars, config::Diagnostics& diag);

}  // namespace ilchat::ctl
