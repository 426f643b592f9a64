#include "ctl/init_variables.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <numeric>
#include <sstream>
#include <vector>

#include <rapidjson/document.h>

extern char** environ;

namespace ilchat::ctl {

namespace {

using F = ConfigFile;

// The image's variables (ILIAS_CHAT_CONFIG_DIR is read by `init` itself: where the files go).
const std::array<InitVariable, 21> image_variables{{
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
    {"ILIAS_CHAT_CONFIG_DIR", "", false, "folder for server.cfg and client.cfg when -o is not given (default .)", {}},
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

std::string_view variable_of(std::string_view file_label, std::string_view error) {
    for (const auto& v : init_variables())
        for (const auto& place : v.places) {
            if (place.key.empty()) continue;
            std::string prefix = std::string(file_label) + ": " + std::string(place.key) + ":";
            if (error.starts_with(prefix)) return v.name;
        }
    return {};
}

std::string_view origin_of(const Origins& origins, std::string_view variable) {
    auto found = origins.find(variable);
    return found == origins.end() ? std::string_view("environment") : std::string_view(found->second);
}

// Levenshtein distance: how many letters to insert, delete or replace to turn `a` into `b`.
std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    std::iota(row.begin(), row.end(), std::size_t{0});
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t above = row[j];
            row[j] = std::min({above + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

const InitVariable* find_variable(std::string_view name) {
    auto all = init_variables();
    auto found = std::ranges::find(all, name, &InitVariable::name);
    return found == all.end() ? nullptr : &*found;
}

std::string_view closest_variable(std::string_view name) {
    return std::ranges::min_element(init_variables(), {}, [&](const InitVariable& v) { return edit_distance(name, v.name); })
        ->name;
}

std::string variable_name(std::string_view key) {
    std::string name = "ILCHATD_";
    // cluster.redis -> ILCHATD_CLUSTER_REDIS
    for (char c : key) name += c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return name;
}

}  // namespace

std::span<const InitVariable> init_variables() {
    // Generated from the key table, so that a new ilchatd key gets its variable by itself.
    static const std::vector<InitVariable> all = [] {
        std::vector<InitVariable> list(image_variables.begin(), image_variables.end());
        for (const auto& setting : config::ilchatd_server_settings())
            list.push_back({variable_name(setting.key), "", false,
                            "server.cfg " + std::string(setting.key) + ": " + std::string(setting.help) + " (default " +
                                config::shown_value(setting, config::ServerConfig{}) + ")",
                            {{{F::server, setting.key}}}});
        return list;
    }();
    return all;
}

std::string describe_init_variables() {
    std::string text = "Variables (the environment overrides --env-file):\n";
    const std::size_t width =
        std::ranges::max_element(init_variables(), {}, [](const auto& v) { return v.name.size(); })->name.size() + 2;
    for (const auto& v : init_variables()) {
        text += "  " + v.name;
        text.append(width - v.name.size(), ' ');
        text += v.help;
        if (v.required) text += " (required)";
        else if (!v.fallback.empty()) text += " (default " + std::string(v.fallback) + ")";
        text += '\n';
    }
    return text;
}

GeneratedConfig generate_config(const config::Variables& vars, config::Diagnostics& diag, std::string_view needed,
                                const Origins& origins) {
    for (const auto& [name, value] : vars)
        if (name.starts_with("ILIAS_CHAT_") && !find_variable(name))
            diag.warning(origin_of(origins, name), name,
                         "unknown variable, ignored (did you mean " + std::string(closest_variable(name)) + "?)");

    rapidjson::Document server(rapidjson::kObjectType), client(rapidjson::kObjectType);
    std::string missing;
    for (const auto& v : init_variables()) {
        auto found = vars.find(v.name);
        std::string value = found != vars.end() ? found->second : std::string(v.fallback);
        if (found == vars.end() && v.required) {
            if (!v.name.starts_with(needed)) continue;
            missing += (missing.empty() ? "" : ", ") + v.name;
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
    // the variable a value came from, and where that was set, instead of the file and key.
    config::Diagnostics checks;
    GeneratedConfig generated{config::load_server_config(server, "server.cfg", checks),
                              config::load_client_config(client, "client.cfg", checks)};
    auto retell = [&](const std::string& message, decltype(&config::Diagnostics::error) add) {
        auto variable = variable_of("server.cfg", message);
        if (variable.empty()) variable = variable_of("client.cfg", message);
        std::string what = message.substr(message.find(": ") + 2);
        (diag.*add)(origin_of(origins, variable), variable, what.substr(what.find(": ") + 2));
    };
    for (const auto& error : checks.errors())
        if (error.find("missing (required)") == std::string::npos)  // already listed above
            retell(error, &config::Diagnostics::error);
    for (const auto& warning : checks.warnings()) retell(warning, &config::Diagnostics::warning);
    return generated;
}

config::Variables collect_variables(const std::string& env_file, config::Diagnostics& diag, Origins* origins) {
    config::Variables vars;
    if (!env_file.empty()) {
        std::ifstream in(env_file);
        if (!in) diag.error(env_file, "", std::string("cannot read: ") + std::strerror(errno));
        std::stringstream text;
        text << in.rdbuf();
        vars = config::parse_env_file(text.str(), env_file, diag);
        if (origins)
            for (const auto& [name, value] : vars) (*origins)[name] = env_file;
    }
    for (char** e = environ; *e; ++e) {
        std::string_view entry(*e);
        if (auto eq = entry.find('='); eq != std::string_view::npos) {
            std::string name(entry.substr(0, eq));
            vars[name] = std::string(entry.substr(eq + 1));
            if (origins) origins->erase(name);
        }
    }
    return vars;
}

}  // namespace ilchat::ctl
