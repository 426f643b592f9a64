#pragma once

#include <array>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

namespace ilchat::log {

// The syslog level names ILIAS offers for log_level, most severe first: the one list that
// server.cfg's check, the admin command log-level and the docs use.
inline constexpr std::array<std::string_view, 9> ilias_level_names{"emerg",  "alert", "crit",  "error", "warning",
                                                                  "notice", "info",  "debug", "silly"};
bool is_ilias_level(std::string_view name);
std::string ilias_level_list();  // "emerg, alert, ..."

// server.cfg offers syslog level names, the Node server logs with winston's npm levels; this is
// the mapping (docs/protocol.md "Logging"; unknown names mean info, as in the Node server).
spdlog::level::level_enum level_from_ilias(std::string_view name);

// The level word in a log line, as the Node server writes it (INFO, WARN, ERROR, DEBUG, SILLY).
std::string_view node_level_name(spdlog::level::level_enum level);

struct Targets {
    std::string main_file;   // "" = stderr
    std::string error_file;  // "" = errors stay in the main log only
    spdlog::level::level_enum level = spdlog::level::info;
};

// Installs the process-wide logger writing lines
//   [2024-05-20T10:15:00.123+02:00] INFO - message
// Throws std::runtime_error naming the file when a log file cannot be opened.
void configure(const Targets& targets);

}  // namespace ilchat::log
