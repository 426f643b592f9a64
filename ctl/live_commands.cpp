// The commands that ask the running daemon over its admin socket.
#include <cctype>
#include <iostream>

#include "ctl/admin_client.h"
#include "ctl/commands.h"
#include "ctl/config_files.h"

namespace ilchat::ctl {

namespace {

struct LiveCommand {
    std::string_view name;  // the same on the command line and on the socket
    std::string_view help;
    std::string_view argument = {};  // the one argument's name on the socket, if any
    bool argument_required = false;
    std::string_view example = {};
    int timeout_seconds = 60;  // default of --timeout
};

constexpr LiveCommand live_commands[] = {
    {"status", "Uptime, connections, rooms and conversations of the running daemon", {}, false,
     "ilchatctl status --json"},
    {"stats", "The running daemon's metrics"},
    {"reload", "Re-read the configuration files, as SIGHUP does; a file with errors changes nothing"},
    {"log-reopen", "Reopen the log files (after logrotate moved them away)"},
    {"log-level", "Set the log level until the next reload: error, warning, info, debug, silly, ...", "level", true,
     "ilchatctl log-level debug"},
    {"namespaces", "The namespaces with their connection counts"},
    {"rooms", "The chat rooms with their users, of all namespaces or of NAMESPACE", "namespace", false,
     "ilchatctl rooms ilias --json"},
    {"connections", "The connected sockets, of all namespaces or of NAMESPACE", "namespace", false,
     "ilchatctl connections /ilias-im"},
    // A large database takes a while; the daemon answers when its purge is done.
    {"purge-now", "Run the deletion job in the running daemon now (the period of its server.cfg)", {}, false, {}, 0},
    {"db-status", "Each database of the running daemon: up or away, writes queued and spooled, errors, reconnects",
     {}, false, "ilchatctl db-status --json"},
    {"shutdown", "Stop the daemon gracefully (as SIGTERM)"},
};

struct LiveOptions {
    std::string socket;
    std::string server_cfg;
    std::string argument;
    bool json = false;
    int timeout_seconds = 0;
};

// --socket, else admin_socket of --server-cfg, else the default; empty when server.cfg has errors
// or turns the socket off (both already explained on stderr).
std::string socket_path(const LiveOptions& options) {
    if (!options.socket.empty()) return options.socket;
    if (options.server_cfg.empty()) return default_admin_socket;
    auto server = read_server_cfg(options.server_cfg);
    if (!server) return {};
    if (server->admin_socket.empty())
        std::cerr << "ilchatctl: " << options.server_cfg << " turns the admin socket off (admin_socket is \"\")\n";
    return server->admin_socket;
}

int run_live(const LiveCommand& command, const LiveOptions& options) {
    const std::string path = socket_path(options);
    if (path.empty()) return exit_problem;
    AdminArguments arguments;
    if (!command.argument.empty() && !options.argument.empty())
        arguments.emplace_back(command.argument, options.argument);
    AdminAnswer answer;
    try {
        answer = ask_admin(path, command.name, arguments, std::chrono::seconds(options.timeout_seconds));
    } catch (const AdminError& e) {
        std::cerr << "ilchatctl " << command.name << ": " << e.what() << '\n';
        return exit_problem;
    }
    if (answer.text.empty() || answer.text.back() != '\n') answer.text += '\n';
    if (options.json) std::cout << answer.arguments_json << '\n';
    if (answer.result == 0) {
        if (!options.json) std::cout << answer.text;
        return exit_ok;
    }
    std::cerr << "ilchatctl " << command.name << ": " << answer.text;
    return answer.result == 1 ? exit_problem : exit_usage;
}

}  // namespace

void add_live_commands(CLI::App& app, int& result) {
    for (const LiveCommand& command : live_commands) {
        auto options = std::make_shared<LiveOptions>();
        options->timeout_seconds = command.timeout_seconds;
        auto* cmd = app.add_subcommand(std::string(command.name), std::string(command.help));
        if (!command.argument.empty()) {
            std::string name(command.argument);
            for (auto& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            auto* argument = cmd->add_option(name, options->argument, std::string(command.argument));
            if (command.argument_required) argument->required();
        }
        cmd->add_option("--socket", options->socket, "the admin socket (default: admin_socket of --server-cfg, else " +
                                                          std::string(default_admin_socket) + ")");
        cmd->add_option("--server-cfg", options->server_cfg, "server.cfg whose admin_socket to use")
            ->check(CLI::ExistingFile);
        cmd->add_flag("--json", options->json, "print the reply's arguments as JSON instead of its text");
        cmd->add_option("--timeout", options->timeout_seconds, "seconds to wait for the answer (0: no limit)")
            ->capture_default_str()
            ->check(CLI::NonNegativeNumber);
        const std::string example =
            command.example.empty() ? "ilchatctl " + std::string(command.name) : std::string(command.example);
        const std::string examples =
            "Examples:\n  " + example + "\n  " + example + " --server-cfg /etc/ilchatd/server.cfg\n";
        cmd->footer(examples +
                    "Exit codes: 0 done, 1 the daemon is not running, refused this user or reports a failure, "
                    "2 usage error or a command the daemon does not know.");
        cmd->callback([&command, options, &result] { result = run_live(command, *options); });
    }
}

}  // namespace ilchat::ctl
