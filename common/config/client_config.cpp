#include "common/config/client_config.h"

#include <array>

namespace ilchat::config {

namespace {

using K = Rule::Kind;

// ILIAS maps its MySQL flavours to "mysql"; galera and mariadb speak the same protocol.
constexpr std::array<std::string_view, 5> database_types{"mysql", "innodb", "mariadb", "galera", ""};

const std::array<Setting<ClientConfig>, 9> table{{
    {"name", &ClientConfig::name, {K::nonempty_text}, Reload::live,
     "client name: namespaces /<name> and /<name>-im, backend URL segment", true},
    {"auth.key", &ClientConfig::auth_key, {K::nonempty_text}, Reload::live, "Basic-auth user of the /backend API",
     true},
    {"auth.secret", &ClientConfig::auth_secret, {K::nonempty_text}, Reload::live,
     "Basic-auth password of the /backend API", true, true},
    {"database.type", &ClientConfig::db_type, {K::choice, 0, 0, database_types}, Reload::restart,
     "database type; only MySQL/MariaDB flavours are supported"},
    {"database.host", &ClientConfig::db_host, {K::nonempty_text}, Reload::restart,
     "database host name or address; a path starting with / is a Unix socket", true},
    {"database.port", &ClientConfig::db_port, {K::integer, 0, 65535}, Reload::restart,
     "database port; 0 means 3306"},
    {"database.name", &ClientConfig::db_name, {K::nonempty_text}, Reload::restart, "ILIAS database name", true},
    {"database.user", &ClientConfig::db_user, {K::nonempty_text}, Reload::restart, "database user", true},
    {"database.pass", &ClientConfig::db_pass, {K::text}, Reload::restart, "database password", false, true},
}};

}  // namespace

std::span<const Setting<ClientConfig>> client_settings() { return table; }

ClientConfig load_client_config(const rapidjson::Value& root, const std::string& file, Diagnostics& diag) {
    ClientConfig config;
    load_settings<ClientConfig>(root, table, config, file, diag);
    if (config.db_port == 0) config.db_port = 3306;
    if (config.db_type != "mysql") config.db_type = "mysql";
    if (config.name.find_first_of("/?#% \t") != std::string::npos)
        diag.error(file, "name", "must not contain '/', '?', '#', '%' or blanks, got \"" + config.name + "\"");
    return config;
}

}  // namespace ilchat::config
