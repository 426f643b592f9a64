#pragma once

#include <CLI/CLI.hpp>

namespace ilchat::ctl {

// Exit codes shared by every command.
constexpr int exit_ok = 0;
constexpr int exit_problem = 1;
constexpr int exit_usage = 2;

// A CLI11 check for an option whose text `parses` must read (returning something that tests
// true); otherwise the option is refused with "expected ..." as a usage error.
template <class Parses>
CLI::Validator readable_by(Parses parses, std::string expected, std::string what) {
    return CLI::Validator(
        [parses, expected](std::string& text) { return parses(text) ? std::string{} : "expected " + expected; },
        std::move(what));
}

// Each command family registers its subcommands; the chosen one stores its exit code in `result`.
void add_init_command(CLI::App& app, int& result);
void add_config_commands(CLI::App& app, int& result);
void add_db_command(CLI::App& app, int& result);
void add_purge_command(CLI::App& app, int& result);
void add_logs_command(CLI::App& app, int& result);
void add_live_commands(CLI::App& app, int& result);
void add_health_command(CLI::App& app, int& result);
// ilchatctl's own version and, over the admin socket, the running daemon's.
void add_version_command(CLI::App& app, int& result);

}  // namespace ilchat::ctl
