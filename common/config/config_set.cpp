#include "common/config/config_set.h"

#include <algorithm>
#include <set>

#include "common/config/json_file.h"

namespace ilchat::config {

ConfigSet load_config_set(const std::string& server_path, const std::vector<std::string>& client_paths,
                          Diagnostics& diag) {
    ConfigSet set;
    set.server_path = server_path;
    set.client_paths = client_paths;
    if (auto doc = read_json_object(server_path, diag)) set.server = load_server_config(*doc, server_path, diag);

    std::set<std::string> names;
    for (const auto& path : client_paths) {
        auto doc = read_json_object(path, diag);
        if (!doc) continue;
        ClientConfig client = load_client_config(*doc, path, diag);
        if (!client.name.empty() && !names.insert(client.name).second)
            diag.error(path, "name", "\"" + client.name + "\" is already used by another client.cfg");
        set.clients.push_back(std::move(client));
    }
    return set;
}

namespace {

template <class Config>
void render_file(std::string& out, const std::string& path, std::span<const Setting<Config>> table,
                 const Config& config) {
    size_t width = 0;
    for (const auto& s : table) width = std::max(width, s.key.size());
    out += "# " + path + '\n';
    for (const auto& s : table) {
        out += std::string(s.key);
        out.append(width + 1 - s.key.size(), ' ');
        out += "= " + shown_value(s, config);
        if (s.reload == Reload::restart) out += "   (restart to change)";
        out += '\n';
    }
}

template <class Config>
void render_reference(std::string& out, std::string_view file, std::span<const Setting<Config>> table) {
    const Config defaults{};
    for (const auto& s : table) {
        std::string fallback = s.required ? "required" : shown_value(s, defaults);
        out += "| " + std::string(file) + " | `" + std::string(s.key) + "` | " + describe_rule(s.rule) + " | " +
               fallback + " | " + (s.reload == Reload::live ? "reload" : "restart") + " | " + std::string(s.help) +
               " |\n";
    }
}

}  // namespace

std::string render_config(const ConfigSet& set) {
    std::string out;
    render_file(out, set.server_path, server_settings(), set.server);
    for (size_t i = 0; i < set.clients.size(); ++i) {
        out += '\n';
        render_file(out, set.client_paths[i], client_settings(), set.clients[i]);
    }
    return out;
}

std::string render_key_reference() {
    std::string out = "| file | key | accepts | default | change by | meaning |\n|---|---|---|---|---|---|\n";
    render_reference(out, "server.cfg", server_settings());
    render_reference(out, "client.cfg", client_settings());
    return out;
}

}  // namespace ilchat::config
