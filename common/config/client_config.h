#pragma once

#include <span>
#include <string>

#include <rapidjson/document.h>

#include "common/config/setting.h"

namespace ilchat::config {

// client.cfg as ILIAS writes it (README, "Configuration"; `ilchatctl config keys`): one ILIAS installation, served as the
// namespaces /<name> and /<name>-im. PHP-side keys (enable_osc, ...) are ignored.
struct ClientConfig {
    std::string name;
    std::string auth_key;
    std::string auth_secret;
    std::string db_type = "mysql";
    std::string db_host = "localhost";
    int db_port = 3306;  // ILIAS writes 0 for "not set"
    std::string db_name;
    std::string db_user;
    std::string db_pass;

    bool operator==(const ClientConfig&) const = default;
};

std::span<const Setting<ClientConfig>> client_settings();

ClientConfig load_client_config(const rapidjson::Value& root, const std::string& file, Diagnostics& diag);

}  // namespace ilchat::config
