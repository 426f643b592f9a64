// The commands that ask the running daemon over its admin socket.
#include <algorithm>
#include <cctype>
#include <iostream>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/text/json.h"
#include "common/version.h"
#include "ctl/admin_client.h"
#include "ctl/commands.h"
#include "ctl/config_files.h"

namespace ilchat::ctl {

namespace {

// What ilchatctl adds to some of the daemon's commands (admin::commands() names, explains and
// times them all): a boolean of the reply's arguments that is false when the daemon reports a
// problem without failing the command, and what that problem is: exit 1, as check-db does.
struct Presentation {
    std::string_view name;
    const char* all_well = nullptr;
    std::string_view problem = {};
};

constexpr Presentation presentations[] = {
    {"db-status", "all_up", "a database is away (its writes wait in the queue and the spool until it answers)"},
    {"cluster-status", "in_sync",
     "this node is out of sync with the cluster (Redis away or catching up): its changes wait in the queue"},
};

const Presentation& presentation_of(std::string_view name) {
    static constexpr Presentation plain{};
    const auto found = std::ranges::find(presentations, name, &Presentation::name);
    return found == std::end(presentations) ? plain : *found;
}

// Daemon commands without a subcommand of their own: `ilchatctl --help` lists ilchatctl's
// commands, and `ilchatctl version` asks the daemon's beside printing its own.
constexpr std::string_view not_subcommands[] = {"help", "version"};

struct LiveOptions {
    std::string socket;
    std::string server_cfg;
    std::string argument;
    bool json = false;
    int timeout_seconds = 0;
};

// --socket, else admin_socket of the server.cfg find_server_cfg finds, else the default; empty
// when that server.cfg has errors or turns the socket off (both already explained on stderr).
std::string socket_path(const LiveOptions& options) {
    if (!options.socket.empty()) return options.socket;
    const std::string server_cfg = find_server_cfg(options.server_cfg);
    if (server_cfg.empty()) return default_admin_socket;
    auto server = read_server_cfg(server_cfg);
    if (!server) return {};
    if (server->admin_socket.empty())
        std::cerr << "ilchatctl: " << server_cfg << " turns the admin socket off (admin_socket is \"\")\n";
    return server->admin_socket;
}

// What --json prints: the reply's arguments, or, of a reply that has none (log-reopen, shutdown,
// a failure), the outcome and the daemon's text: a script must never see just {}.
std::string json_of(const AdminAnswer& answer) {
    if (answer.arguments.MemberCount() > 0) return text::to_json(answer.arguments);
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    w.StartObject();
    w.Key("ok");
    w.Bool(answer.result == 0);
    w.Key("text");
    w.String(answer.text.c_str(), static_cast<rapidjson::SizeType>(answer.text.size()));
    w.EndObject();
    return buffer.GetString();
}

int report(const admin::Command& command, const LiveOptions& options, const AdminAnswer& answer) {
    const Presentation& shown = presentation_of(command.name);
    if (options.json) std::cout << json_of(answer) << '\n';
    std::string text = answer.text;
    if (text.empty() || text.back() != '\n') text += '\n';
    if (answer.result != admin::ok) {
        std::cerr << "ilchatctl " << command.name << ": " << text;
        return answer.result == admin::failed ? exit_problem : exit_usage;
    }
    if (!options.json) std::cout << text;
    if (shown.all_well && !answer.arguments[shown.all_well].GetBool()) {
        std::cerr << "ilchatctl " << command.name << ": " << shown.problem << '\n';
        return exit_problem;
    }
    return exit_ok;
}

int run_live(const admin::Command& command, const LiveOptions& options) {
    const std::string path = socket_path(options);
    if (path.empty()) return exit_problem;
    admin::Arguments arguments;
    if (!command.argument.empty() && !options.argument.empty())
        arguments.emplace_back(command.argument, options.argument);
    try {
        const auto timeout = std::chrono::seconds(options.timeout_seconds);
        return report(command, options, ask_admin(path, command.name, arguments, timeout));
    } catch (const AdminError& e) {
        std::cerr << "ilchatctl " << command.name << ": " << e.what() << '\n';
        return exit_problem;
    }
}

// --socket, --server-cfg and --timeout: how a command finds and waits for the daemon.
void add_socket_options(CLI::App* cmd, LiveOptions& options) {
    cmd->add_option("--socket", options.socket,
                    "the admin socket (default: admin_socket of server.cfg, else " + default_admin_socket + ")");
    cmd->add_option("--server-cfg", options.server_cfg, server_cfg_help("server.cfg whose admin_socket to use"))
        ->check(CLI::ExistingFile);
    cmd->add_option("--timeout", options.timeout_seconds, "seconds to wait for the answer (0: no limit)")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
}

}  // namespace

void add_live_commands(CLI::App& app, int& result) {
    for (const admin::Command& command : admin::commands()) {
        if (std::ranges::find(not_subcommands, command.name) != std::end(not_subcommands)) continue;
        auto options = std::make_shared<LiveOptions>();
        options->timeout_seconds = command.timeout_seconds;
        auto* cmd = app.add_subcommand(std::string(command.name), std::string(command.help));
        if (!command.argument.empty()) {
            std::string name(command.argument);
            for (auto& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            auto* argument = cmd->add_option(name, options->argument, std::string(command.argument));
            if (command.argument_required) argument->required();
        }
        add_socket_options(cmd, *options);
        cmd->add_flag("--json", options->json,
                      "print the reply's arguments as JSON instead of its text ({\"ok\", \"text\"} when it has none)");
        const std::string example =
            command.example.empty() ? "ilchatctl " + std::string(command.name) : std::string(command.example);
        const std::string examples =
            "Examples:\n  " + example + "\n  " + example + " --server-cfg /etc/ilchatd/server.cfg\n";
        const std::string_view problem = presentation_of(command.name).problem;
        cmd->footer(examples + "Exit codes: 0 done, 1 the daemon is not running, refused this user or reports a failure" +
                    (problem.empty() ? "" : ", or " + std::string(problem)) +
                    ", 2 usage error or a command the daemon does not know.");
        cmd->callback([&command, options, &result] { result = run_live(command, *options); });
    }
}

void add_version_command(CLI::App& app, int& result) {
    auto options = std::make_shared<LiveOptions>();
    options->timeout_seconds = 5;  // a daemon that hangs must not hold up a version question for long
    auto* cmd = app.add_subcommand("version", "Print the version of ilchatctl and of the running ilchatd");
    add_socket_options(cmd, *options);
    cmd->footer("Asks the daemon over its admin socket; when none answers, says so and why.\n"
                "Examples:\n  ilchatctl version\n  ilchatctl version --server-cfg /etc/ilchatd/server.cfg\n"
                "Exit codes: 0 (also when no daemon answers), 2 usage error.");
    cmd->callback([options, &result] {
        std::cout << "ilchatctl " << ilchat::version << '\n';
        result = exit_ok;
        const std::string path = socket_path(*options);
        if (path.empty()) {
            std::cout << "ilchatd: not asked: no admin socket (see above)\n";
            return;
        }
        try {
            // The daemon's text is "ilchatd <version>".
            const auto answer = ask_admin(path, "version", {}, std::chrono::seconds(options->timeout_seconds));
            std::cout << answer.text << " (running, admin socket " << path << ")\n";
        } catch (const AdminError& e) {
            std::cout << "ilchatd: no answer: " << e.what() << '\n';
        }
    });
}

}  // namespace ilchat::ctl
