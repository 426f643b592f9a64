#include <iostream>

#include "common/config/ilias_json_writer.h"
#include "common/fs/atomic_file.h"
#include "ctl/commands.h"
#include "ctl/init_variables.h"

namespace ilchat::ctl {

namespace {

struct InitOptions {
    std::string env_file;
    std::string output_dir;
    bool force = false;
    bool to_stdout = false;
};

bool truthy(const config::Variables& vars, const std::string& name) {
    auto found = vars.find(name);
    if (found == vars.end()) return false;
    const std::string& v = found->second;
    return !v.empty() && v != "0" && v != "false" && v != "no";
}

int run_init(const InitOptions& options) {
    config::Diagnostics diag;
    config::Variables vars = collect_variables(options.env_file, diag);
    auto generated = generate_config(vars, diag);
    if (!diag.ok()) {
        std::cerr << diag.report() << "Nothing was written.\n";
        return exit_problem;
    }
    if (!diag.warnings().empty()) std::cerr << diag.report();

    const std::string server_json = config::to_ilias_json(generated.server) + "\n";
    const std::string client_json = config::to_ilias_json(generated.client) + "\n";
    if (options.to_stdout) {
        std::cout << "==> server.cfg <==\n" << server_json << "\n==> client.cfg <==\n" << client_json;
        return exit_ok;
    }

    std::string dir = options.output_dir;
    if (dir.empty()) dir = vars.count("ILIAS_CHAT_CONFIG_DIR") ? vars["ILIAS_CHAT_CONFIG_DIR"] : ".";
    const std::string server_path = dir + "/server.cfg";
    const std::string client_path = dir + "/client.cfg";
    const bool overwrite = options.force || truthy(vars, "ILIAS_AUTO_CONFIGURE");
    if (!overwrite) {
        bool exists = false;
        for (const auto& path : {server_path, client_path})
            if (fs::file_exists(path)) {
                std::cerr << "ilchatctl init: " << path << " exists (use --force to overwrite)\n";
                exists = true;
            }
        if (exists) return exit_problem;
    }
    // 0640: client.cfg holds the database password and the backend secret.
    for (const auto& [path, content] : {std::pair{server_path, server_json}, std::pair{client_path, client_json}}) {
        if (auto error = fs::write_file_atomically(path, content, 0640); !error.empty()) {
            std::cerr << "ilchatctl init: " << error << '\n';
            return exit_problem;
        }
        std::cout << "wrote " << path << '\n';
    }
    return exit_ok;
}

}  // namespace

void add_init_command(CLI::App& app, int& result) {
    auto options = std::make_shared<InitOptions>();
    auto* cmd = app.add_subcommand("init", "Write server.cfg and client.cfg from ILIAS_CHAT_* variables");
    cmd->add_option("--env-file", options->env_file, "read variables from this .env file first")->check(CLI::ExistingFile);
    cmd->add_option("-o,--output-dir", options->output_dir, "folder for the files (default: $ILIAS_CHAT_CONFIG_DIR or .)");
    cmd->add_flag("-f,--force", options->force, "overwrite existing files (also when ILIAS_AUTO_CONFIGURE is set)");
    cmd->add_flag("--stdout", options->to_stdout, "print the files instead of writing them");
    cmd->footer(describe_init_variables() +
                "\nExamples:\n  ilchatctl init --env-file .env -o /etc/ilchatd\n"
                "  ILIAS_CHAT_CLIENT_NAME=ilias ... ilchatctl init --stdout\n");
    cmd->callback([options, &result] { result = run_init(*options); });
}

}  // namespace ilchat::ctl
