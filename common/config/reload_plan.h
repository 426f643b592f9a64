#pragma once

#include <string>
#include <vector>

#include "common/config/config_set.h"

namespace ilchat::config {

// What a reload changes: the files read again (`fresh`) against the configuration in effect.
struct ReloadPlan {
    // Keys (a client's prefixed "name: ") whose new value only a restart applies; `fresh` keeps
    // the running value for them.
    std::vector<std::string> restart_needed;
    std::vector<std::string> added;    // client names
    std::vector<std::string> removed;
};

// Clients come and go with their files; of one that stays, only the live settings change.
ReloadPlan plan_reload(const ConfigSet& running, ConfigSet& fresh);

// "a, b, c"
std::string join_names(const std::vector<std::string>& names);

}  // namespace ilchat::config
