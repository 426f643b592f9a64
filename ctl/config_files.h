#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/config/client_config.h"
#include "common/config/server_config.h"
#include "common/db/connection.h"

// The configuration files an operator points a command at with --server-cfg and --client-cfg,
// read with the daemon's own parser so that ilchatctl and ilchatd never disagree about them.
namespace ilchat::ctl {

// Reads one server.cfg; its problems are printed to stderr. Empty when it has errors, unless
// `lenient`: `logs` must still find the log file of a server.cfg that a bad edit broke elsewhere.
std::optional<config::ServerConfig> read_server_cfg(const std::string& path, bool lenient = false);

// Reads client.cfg files; their problems are printed to stderr. Empty when any has errors.
std::optional<std::vector<config::ClientConfig>> read_client_cfgs(const std::vector<std::string>& paths);

db::Endpoint endpoint_of(const config::ClientConfig& client);

// user@host:port/name (or user@/socket/name), for reports; never the password.
std::string describe_database(const db::Endpoint& endpoint);

}  // namespace ilchat::ctl
