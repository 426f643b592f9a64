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

// Where the daemon's server.cfg is when a command is not told: $ILCHATD_SERVER_CFG, else the path
// of the systemd unit and the container image.
constexpr const char* server_cfg_variable = "ILCHATD_SERVER_CFG";
constexpr const char* default_server_cfg = "/etc/ilchatd/server.cfg";

// The server.cfg to read: `option` (--server-cfg) when given, else $ILCHATD_SERVER_CFG, else
// default_server_cfg when this user can read it. Empty when there is none.
std::string find_server_cfg(const std::string& option);

// The help of a --server-cfg option that goes through find_server_cfg: `what`, and where else it looks.
std::string server_cfg_help(const std::string& what);

// Reads one server.cfg; its problems are printed to stderr. Empty when it has errors, unless
// `lenient`: `logs` must still find the log file of a server.cfg that a bad edit broke elsewhere.
std::optional<config::ServerConfig> read_server_cfg(const std::string& path, bool lenient = false);

// Reads client.cfg files; their problems are printed to stderr. Empty when any has errors.
std::optional<std::vector<config::ClientConfig>> read_client_cfgs(const std::vector<std::string>& paths);

db::Endpoint endpoint_of(const config::ClientConfig& client);

// user@host:port/name (or user@/socket/name), for reports; never the password.
std::string describe_database(const db::Endpoint& endpoint);

}  // namespace ilchat::ctl
