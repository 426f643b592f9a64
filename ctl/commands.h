#pragma once

#include <CLI/CLI.hpp>

namespace ilchat::ctl {

// Exit codes shared by every command.
constexpr int exit_ok = 0;
constexpr int exit_problem = 1;
constexpr int exit_usage = 2;

// Each command family registers its subcommands; the chosen one stores its exit code in `result`.
void add_init_command(CLI::App& app, int& result);
void add_config_commands(CLI::App& app, int& result);
void add_db_command(CLI::App& app, int& result);
void add_purge_command(CLI::App& app, int& result);
void add_logs_command(CLI::App& app, int& result);
void add_live_commands(CLI::App& app, int& result);
void add_health_command(CLI::App& app, int& result);

}  // namespace ilchat::ctl
