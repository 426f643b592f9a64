#pragma once

#include <optional>
#include <span>
#include <string>

#include <rapidjson/document.h>

#include "common/config/setting.h"

namespace ilchat::config {

// server.cfg as ILIAS writes it (README, "Configuration"; `ilchatctl config keys`). Member initialisers are the defaults.
struct ServerConfig {
    std::string protocol = "http";
    int port = 0;
    std::string address;
    std::string sub_directory;  // absent and "" both serve "/socket.io"
    std::string cert;
    std::string key;
    std::string dhparam;
    std::string log;        // "" logs to stderr
    std::string error_log;  // "" sends errors to the main log only
    std::string log_level = "info";
    bool deletion_enabled = false;
    std::string deletion_unit = "days";
    int deletion_value = 1;
    TimeOfDay deletion_time;
    // ilchatd's own keys (absent from ILIAS-written files; the defaults are engine.io's).
    int ping_interval = 25000;
    int ping_timeout = 0;  // unset: each generation's engine.io default (legacy_ping_timeout below)
    int max_payload = 1000000;
    int connect_timeout = 45000;
    int upgrade_timeout = 10000;
    int send_queue_max_packets = 10000;
    int send_queue_max_bytes = 8 * 1024 * 1024;
    bool html_escape = true;
    int disconnect_grace = 15000;
    int shutdown_timeout = 10000;
    int deletion_batch = 10000;
    std::string admin_socket = "/run/ilchatd/admin.sock";
    std::string metrics_address = "127.0.0.1:9464";
    std::string admin_group;
    std::string spool_dir = "/var/lib/ilchatd/spool";
    int write_queue_limit = 10000;
    int startup_db_wait = 30000;
    // Several ilchatd behind one address (docs/cluster.md); cluster.redis "" is a single node.
    std::string cluster_redis;
    std::string cluster_password_file;
    std::string cluster_prefix = "ilchatd";
    std::string cluster_node;  // "": the host name
    int cluster_node_timeout = 5000;
    int cluster_snapshot_interval = 60000;

    bool operator==(const ServerConfig&) const = default;
};

std::span<const Setting<ServerConfig>> server_settings();

// The keys only ilchatd reads (ILIAS neither writes nor knows them), a tail of server_settings();
// `ilchatctl init` offers one ILCHATD_* variable for each.
std::span<const Setting<ServerConfig>> ilchatd_server_settings();

// ping_timeout as each Engine.IO generation uses it: the configured value, or engine.io's default of
// that generation (20000 in engine.io 4+, 5000 in engine.io 3.2+, which ILIAS 6 and 7 ship).
int ping_timeout(const ServerConfig& config);
int legacy_ping_timeout(const ServerConfig& config);

// Loads and validates one parsed server.cfg; `file` names it in messages.
ServerConfig load_server_config(const rapidjson::Value& root, const std::string& file, Diagnostics& diag);

// The socket.io path prefix, e.g. "/socket.io" or "/servers/chat/socket.io".
std::string socket_io_path(const ServerConfig& config);

}  // namespace ilchat::config
