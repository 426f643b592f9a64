#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/config/client_config.h"
#include "common/config/server_config.h"

namespace ilchat::config {

// Everything one `ilchatd server.cfg client.cfg [...]` command line configures.
struct ConfigSet {
    std::string server_path;
    ServerConfig server;
    std::vector<std::string> client_paths;
    std::vector<ClientConfig> clients;
};

// Reads and validates all files; every problem of every file lands in `diag`. The result is
// only meaningful when diag.ok().
ConfigSet load_config_set(const std::string& server_path, const std::vector<std::string>& client_paths,
                          Diagnostics& diag);

// `config show`: every key of every file with its effective value, secrets redacted.
std::string render_config(const ConfigSet& set);

// The key reference (file, key, accepted values, default, reload, meaning) as a Markdown table.
std::string render_key_reference();

}  // namespace ilchat::config
