#include "common/config/server_config.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <unistd.h>

#include "common/cluster/redis_address.h"
#include "common/log/logging.h"

namespace ilchat::config {

namespace {

using K = Rule::Kind;

constexpr std::array<std::string_view, 2> protocols{"http", "https"};
constexpr std::array<std::string_view, 5> deletion_units{"days", "weeks", "months", "month", "years"};

bool deletion_matters(const ServerConfig& c) { return c.deletion_enabled; }

const auto table = std::to_array<Setting<ServerConfig>>({
    {"protocol", &ServerConfig::protocol, {K::choice, 0, 0, protocols}, Reload::restart,
     "\"http\" or \"https\"; https needs cert and key", true},
    {"port", &ServerConfig::port, {K::integer, 1, 65535}, Reload::restart, "TCP port of the one listener", true},
    {"address", &ServerConfig::address, {K::nonempty_text}, Reload::restart,
     "address to listen on: IPv4, IPv6 or a host name (resolved once at start-up)", true},
    {"sub_directory", &ServerConfig::sub_directory, {K::text}, Reload::restart,
     "path prefix: socket.io is served at <sub_directory>/socket.io and <sub_directory>/"},
    {"cert", &ServerConfig::cert, {K::optional_path}, Reload::restart, "PEM certificate (https)"},
    {"key", &ServerConfig::key, {K::optional_path}, Reload::restart, "PEM private key (https)"},
    {"dhparam", &ServerConfig::dhparam, {K::optional_path}, Reload::restart, "DH parameters file (https); checked for readability only: libwebsockets takes none, OpenSSL's built-in groups choose the key exchange"},
    {"log", &ServerConfig::log, {K::optional_path}, Reload::live, "main log file; unset, 0 or \"\" logs to stderr"},
    {"error_log", &ServerConfig::error_log, {K::optional_path}, Reload::live,
     "error log file (errors only); unset keeps errors in the main log"},
    {"log_level", &ServerConfig::log_level, {K::choice_or_default, 0, 0, log::ilias_level_names}, Reload::live,
     "level of the main log; an unknown name means info (as in the Node server)"},
    {"deletion_mode", &ServerConfig::deletion_enabled, {K::switch_on_one}, Reload::live,
     "1 runs the daily message deletion job"},
    {"deletion_unit", &ServerConfig::deletion_unit, {K::choice, 0, 0, deletion_units}, Reload::live,
     "unit of the retention period", false, false, deletion_matters},
    {"deletion_value", &ServerConfig::deletion_value, {K::integer, 1, 100000}, Reload::live,
     "retention period in deletion_unit", false, false, deletion_matters},
    {"deletion_time", &ServerConfig::deletion_time, {K::time_of_day}, Reload::live,
     "local time of day of the deletion job, HH:MM", false, false, deletion_matters},
    // ilchatd's own keys from here on (ilchatd_server_settings()); ILIAS's above.
    {"ping_interval", &ServerConfig::ping_interval, {K::integer, 100, 3600000}, Reload::live,
     "Engine.IO: milliseconds between the server's pings (Engine.IO 4) or the client's pings (Engine.IO 3)"},
    {"ping_timeout", &ServerConfig::ping_timeout, {K::integer, 100, 3600000}, Reload::live,
     "Engine.IO: milliseconds to wait for the pong before closing the session; Engine.IO 3 sessions are closed "
     "after ping_interval + ping_timeout without a packet",
     false, false, nullptr, "20000 (Engine.IO 4), 5000 (Engine.IO 3)"},
    {"max_payload", &ServerConfig::max_payload, {K::integer, 1024, 100000000}, Reload::live,
     "Engine.IO: largest polling body or websocket message a client may send, in bytes; raised by a reload, "
     "it reaches new websockets only (polling bodies after a restart)"},
    {"connect_timeout", &ServerConfig::connect_timeout, {K::integer, 100, 3600000}, Reload::live,
     "Socket.IO: milliseconds a new session has to join a namespace"},
    {"upgrade_timeout", &ServerConfig::upgrade_timeout, {K::integer, 100, 3600000}, Reload::live,
     "Engine.IO: milliseconds a websocket upgrade may take"},
    {"send_queue_max_packets", &ServerConfig::send_queue_max_packets, {K::integer, 16, 10000000}, Reload::live,
     "packets queued for one client before it is disconnected as too slow"},
    {"send_queue_max_bytes", &ServerConfig::send_queue_max_bytes, {K::integer, 65536, 1000000000}, Reload::live,
     "bytes queued for one client before it is disconnected as too slow"},
    {"html_escape", &ServerConfig::html_escape, {K::boolean}, Reload::live,
     "escape chat message HTML on the server (ILIAS <= 9 and early 10); false for builds whose browser code escapes"},
    {"disconnect_grace", &ServerConfig::disconnect_grace, {K::integer, 0, 3600000}, Reload::live,
     "milliseconds a user whose last socket closed stays in the rooms (a page reload keeps them)"},
    {"shutdown_timeout", &ServerConfig::shutdown_timeout, {K::integer, 100, 3600000}, Reload::live,
     "milliseconds a stop (SIGTERM, SIGINT, admin shutdown) may take to close the sockets and store what is "
     "queued; past it ilchatd exits with 1"},
    {"deletion_batch", &ServerConfig::deletion_batch, {K::integer, 1, 1000000}, Reload::live,
     "rows per DELETE statement of the deletion job, so that the tables stay usable while it runs"},
    {"admin_socket", &ServerConfig::admin_socket, {K::text}, Reload::restart,
     "path of the Unix admin socket used by ilchatctl; \"\" turns it off"},
    {"metrics_address", &ServerConfig::metrics_address, {K::text}, Reload::restart,
     "host:port (or [IPv6]:port) of /metrics, /healthz and /readyz; \"\" turns them off"},
    {"admin_group", &ServerConfig::admin_group, {K::text}, Reload::restart,
     "group (besides root and the daemon's user) allowed on the admin socket"},
    {"spool_dir", &ServerConfig::spool_dir, {K::text}, Reload::restart,
     "folder of the spool files that keep writes while a database is away (fsync'd, replayed in order, "
     "also after a restart); \"\" keeps them in memory only"},
    {"write_queue_limit", &ServerConfig::write_queue_limit, {K::integer, 100, 10000000}, Reload::restart,
     "writes waiting in memory for a database before the rest go to the spool"},
    {"startup_db_wait", &ServerConfig::startup_db_wait, {K::integer, 0, 3600000}, Reload::restart,
     "milliseconds start-up waits for a database that does not answer before serving without it (degraded)"},
    {"cluster.redis", &ServerConfig::cluster_redis, {K::text}, Reload::restart,
     "Redis shared by several ilchatd behind one address: redis://host[:port][/db], unix:/path or /path of a "
     "socket; \"\" runs a single node (README, \"Running several ilchatd\")"},
    {"cluster.password_file", &ServerConfig::cluster_password_file, {K::optional_path}, Reload::restart,
     "file whose first line is the Redis password (AUTH), read at each connection to Redis; unset for none"},
    {"cluster.prefix", &ServerConfig::cluster_prefix, {K::nonempty_text}, Reload::restart,
     "prefix of the cluster's Redis keys; nodes with the same prefix form one cluster"},
    {"cluster.node", &ServerConfig::cluster_node, {K::text}, Reload::restart,
     "this node's name in the cluster, logs and status: letters, digits, - and _; it begins the node's session "
     "ids (\"<node>.\"), by which a load balancer routes each request of a session to its node",
     false, false, nullptr, "the host name up to its first dot"},
    {"cluster.node_timeout", &ServerConfig::cluster_node_timeout, {K::integer, 1000, 600000}, Reload::restart,
     "milliseconds after which a node that stopped reporting counts as gone: its users' sockets are dropped and, "
     "unless they reconnect to another node within disconnect_grace, they leave"},
    {"cluster.snapshot_interval", &ServerConfig::cluster_snapshot_interval, {K::integer, 1000, 86400000},
     Reload::restart,
     "milliseconds between snapshots of the chat state in Redis; a node that starts or comes back reads the last "
     "one and the changes after it, and older changes are trimmed from the streams"},
});

bool readable(const std::string& path) { return ::access(path.c_str(), R_OK) == 0; }

}  // namespace

std::span<const Setting<ServerConfig>> server_settings() { return table; }

std::span<const Setting<ServerConfig>> ilchatd_server_settings() {
    // The table lists ILIAS's keys first; ilchatd's own start with ping_interval.
    return {std::ranges::find(table, std::string_view("ping_interval"), &Setting<ServerConfig>::key), table.end()};
}

ServerConfig load_server_config(const rapidjson::Value& root, const std::string& file, Diagnostics& diag) {
    ServerConfig config;

    load_settings<ServerConfig>(root, table, config, file, diag);

    // "servers/chat/", "/servers/chat" and "/servers/chat/" all mean the prefix "/servers/chat".
    std::string_view sub = config.sub_directory;
    while (sub.starts_with('/')) sub.remove_prefix(1);
    while (sub.ends_with('/')) sub.remove_suffix(1);
    config.sub_directory = sub.empty() ? std::string() : "/" + std::string(sub);

    if (config.protocol == "https") {
        for (auto [name, path] : {std::pair{"cert", &config.cert}, std::pair{"key", &config.key}}) {
            if (path->empty()) diag.error(file, name, "required when protocol is https");
            else if (!readable(*path)) diag.error(file, name, "cannot read \"" + *path + "\"");
        }
        if (!config.dhparam.empty() && !readable(config.dhparam))
            diag.error(file, "dhparam", "cannot read \"" + config.dhparam + "\"");
    }
    if (!config.cluster_redis.empty()) {
        std::string problem;
        if (!cluster::parse_redis_address(config.cluster_redis, problem)) diag.error(file, "cluster.redis", problem);
        const bool plain = std::ranges::all_of(config.cluster_node, [](unsigned char c) {
            return std::isalnum(c) || c == '-' || c == '_';
        });
        if (!plain || config.cluster_node.size() > 64)
            diag.error(file, "cluster.node", "only letters, digits, - and _ (at most 64): it begins session ids");
        if (!config.cluster_password_file.empty() && !readable(config.cluster_password_file))
            diag.error(file, "cluster.password_file", "cannot read \"" + config.cluster_password_file + "\"");
    }
    if (config.deletion_enabled) {
        for (auto name : {"deletion_unit", "deletion_value", "deletion_time"})
            if (!root.HasMember(name)) diag.error(file, name, "required when deletion_mode is 1");
    }
    return config;
}

int ping_timeout(const ServerConfig& config) { return config.ping_timeout ? config.ping_timeout : 20000; }

int legacy_ping_timeout(const ServerConfig& config) { return config.ping_timeout ? config.ping_timeout : 5000; }

std::string socket_io_path(const ServerConfig& config) { return config.sub_directory + "/socket.io"; }

}  // namespace ilchat::config
