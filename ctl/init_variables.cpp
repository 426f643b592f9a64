#include "ctl/init_variables.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <rapidjson/document.h>

extern char** environ;

namespace ilchat::ctl {

namespace {

using F = ConfigFile;

const std::array<InitVariable, 20> table{{
    {"ILIAS_CHAT_ADDRESS", "0.0.0.0", false, "address to listen on", {{{F::server, "address"}}}},
    {"ILIAS_CHAT_PORT", "27019", false, "port to listen on", {{{F::server, "port"}}}},
    {"ILIAS_CHAT_PROTOCOL", "http", false, "http or https", {{{F::server, "protocol"}}}},
    {"ILIAS_CHAT_CERT", "", false, "PEM certificate (https)", {{{F::server, "cert"}}}},
    {"ILIAS_CHAT_KEY", "", false, "PEM private key (https)", {{{F::server, "key"}}}},
    {"ILIAS_CHAT_SUB_DIRECTORY", "", false, "path prefix of socket.io", {{{F::server, "sub_directory"}}}},
    {"ILIAS_CHAT_LOG_DIR", "", false, "folder for chat.log and chat_errors.log (unset: stderr)",
     {{{F::server, "log", "/chat.log"}, {F::server, "error_log", "/chat_errors.log"}}}},
    {"ILIAS_CHAT_LOG_LEVEL", "info", false, "log level (error, warning, info, debug, silly, ...)",
     {{{F::server, "log_level"}}}},
    {"ILIAS_CHAT_DELETION_MODE", "0", false, "1 enables the daily message deletion job",
     {{{F::server, "deletion_mode"}}}},
    {"ILIAS_CHAT_DELETION_UNIT", "years", false, "days, weeks, months or years",
     {{{F::server, "deletion_unit"}}}},
    {"ILIAS_CHAT_DELETION_VALUE", "1", false, "messages older than this many units are deleted",
     {{{F::server, "deletion_value"}}}},
    {"ILIAS_CHAT_DELETION_TIME", "06:30", false, "local time of the deletion job, HH:MM",
     {{{F::server, "deletion_time"}}}},
    {"ILIAS_CHAT_CLIENT_NAME", "", true, "ILIAS chat client name (Administration > Chat)",
     {{{F::client, "name"}}}},
    {"ILIAS_CHAT_AUTH_KEY", "", true, "backend auth key shown in the ILIAS chat settings",
     {{{F::client, "auth.key"}}}},
    {"ILIAS_CHAT_AUTH_SECRET", "", true, "backend auth secret shown in the ILIAS chat settings",
     {{{F::client, "auth.secret"}}}},
    {"ILIAS_CHAT_DB_HOST", "", true, "ILIAS database host (or Unix socket path)",
     {{{F::client, "database.host"}}}},
    {"ILIAS_CHAT_DB_PORT", "3306", false, "ILIAS database port", {{{F::client, "database.port"}}}},
    {"ILIAS_CHAT_DB_NAME", "", true, "ILIAS database name", {{{F::client, "database.name"}}}},
    {"ILIAS_CHAT_DB_USER", "", true, "ILIAS database user", {{{F::client, "database.user"}}}},
    {"ILIAS_CHAT_DB_PASS", "", true, "ILIAS database password", {{{F::client, "database.pass"}}}},
}};

void put(rapidjson::Document& doc, std::string_view key, const std::string& value) {
    auto& a = doc.GetAllocator();
    rapidjson::Value* node = &doc;
    for (auto dot = key.find('.'); dot != std::string_view::npos; dot = key.find('.')) {
        rapidjson::Value name(key.data(), static_cast<rapidjson::SizeType>(dot), a);
        auto member = node->FindMember(name);
        if (member == node->MemberEnd()) {
            node->AddMember(name, rapidjson::Value(rapidjson::kObjectType), a);
            member = node->FindMember(rapidjson::Value(key.data(), static_cast<rapidjson::SizeType>(dot), a));
        }
        node = &member->value;
        key.remove_prefix(dot + 1);
    }
    node->AddMember(rapidjson::Value(key.data(), static_cast<rapidjson::SizeType>(key.size()), a),
                    rapidjson::Value(value.c_str(), static_cast<rapidjson::SizeType>(value.size()), a), a);
}

std::string_view variable_of(std::string_view file_label, std::string_view error, std::span<const InitVariable> vars) {
    for (const auto& v : vars)
        for (const auto& place : v.places) {
            if (place.key.empty()) continue;
            std::string prefix = std::string(file_label) + ": " + std::string(place.key) + ":";
            if (error.starts_with(prefix)) return v.name;
        }
    return {};
}

}  // namespace

std::span<const InitVariable> init_variables() { return table; }

std::string describe_init_variables() {
    std::string text = "Variables (the environment overrides --env-file):\n";
    for (const auto& v : init_variables()) {
        text += "  " + std::string(v.name);
        text.append(v.name.size() < 28 ? 28 - v.name.size() : 1, ' ');
        text += std::string(v.help);
        if (v.required) text += " (required)";
        else if (!v.fallback.empty()) text += " (default " + std::string(v.fallback) + ")";
        text += '\n';
    }
    return text;
}

GeneratedConfig generate_config(const config::Variables& vars, config::Diagnostics& diag, std::string_view needed) {
    rapidjson::Document server(rapidjson::kObjectType), client(rapidjson::kObjectType);
    std::string missing;
    for (const auto& v : init_variables()) {
        auto found = vars.find(std::string(v.name));
        std::string value = found != vars.end() ? found->second : std::string(v.fallback);
        if (found == vars.end() && v.required) {
            if (!v.name.starts_with(needed)) continue;
            missing += (missing.empty() ? "" : ", ") + std::string(v.name);
            continue;
        }
        if (found == vars.end() && v.fallback.empty()) continue;
        for (const auto& place : v.places) {
            if (place.key.empty() || (value.empty() && !place.suffix.empty())) continue;
            put(place.file == F::server ? server : client, place.key, value + std::string(place.suffix));
        }
    }
    if (!missing.empty()) diag.error("environment", "", "missing required variables: " + missing);

    // The generated files go through the same validation as files ILIAS wrote; messages name
    // the variable a bad value came from.
    config::Diagnostics checks;
    GeneratedConfig generated{config::load_server_config(server, "server.cfg", checks),
                              config::load_client_config(client, "client.cfg", checks)};
    for (const auto& error : checks.errors()) {
        if (error.find("missing (required)") != std::string::npos) continue;  // already listed above
        auto variable = variable_of("server.cfg", error, init_variables());
        if (variable.empty()) variable = variable_of("client.cfg", error, init_variables());
        std::string what = error.substr(error.find(": ") + 2);
        diag.error("environment", variable, what.substr(what.find(": ") + 2));
    }
    for (const auto& warning : checks.warnings()) diag.warning("environment", "", warning);
    return generated;
}

config::Variables collect_variables(const std::string& env_file, config::Diagnostics& diag) {
    config::Variables vars;
    if (!env_file.empty()) {
        std::ifstream in(env_file);
        if (!in) diag.error(env_file, "", std::string("cannot read: ") + std::strerror(errno));
        std::stringstream text;
        text << in.rdbuf();
        vars = config::parse_env_file(text.str(), env_file, diag);
    }
    for (char** e = environ; *e; ++e) {
        std::string_view entry(*e);
        if (auto eq = entry.find('='); eq != std::string_view::npos)
            vars[std::string(entry.substr(0, eq))] = std::string(entry.substr(eq + 1));
    }
    return vars;
}

}  // namespace ilchat::ctl
