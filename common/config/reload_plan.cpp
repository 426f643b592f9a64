#include "common/config/reload_plan.h"

#include <algorithm>
#include <span>
#include <variant>

namespace ilchat::config {

namespace {

// The keys of a settings table whose values differ and that only a restart applies; those keep
// their running values in `fresh`.
template <class Config>
void keep_restart_only(std::span<const Setting<Config>> table, const Config& running, Config& fresh,
                       const std::string& prefix, std::vector<std::string>& changed) {
    for (const auto& setting : table) {
        if (setting.reload != Reload::restart) continue;
        if (format_field(setting.field, running) == format_field(setting.field, fresh)) continue;
        changed.push_back(prefix + std::string(setting.key));
        std::visit([&](auto member) { fresh.*member = running.*member; }, setting.field);
    }
}

}  // namespace

ReloadPlan plan_reload(const ConfigSet& running, ConfigSet& fresh) {
    ReloadPlan plan;
    keep_restart_only(server_settings(), running.server, fresh.server, "", plan.restart_needed);
    for (auto& c : fresh.clients) {
        auto kept = std::ranges::find(running.clients, c.name, &ClientConfig::name);
        if (kept == running.clients.end()) plan.added.push_back(c.name);
        else keep_restart_only(client_settings(), *kept, c, c.name + ": ", plan.restart_needed);
    }
    for (const auto& r : running.clients)
        if (std::ranges::find(fresh.clients, r.name, &ClientConfig::name) == fresh.clients.end())
            plan.removed.push_back(r.name);
    return plan;
}

std::string join_names(const std::vector<std::string>& names) {
    std::string text;
    for (const auto& name : names) text += (text.empty() ? "" : ", ") + name;
    return text;
}

}  // namespace ilchat::config
