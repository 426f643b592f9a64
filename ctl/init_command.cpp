#include <filesystem>
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

// ILIAS_AUTO_CONFIGURE rewrites the files whatever its value, as in the uni-halle image: a value
// that reads as "off" is told so, since it does not turn rewriting off.
bool auto_configure(const config::Variables& vars) {
    auto found = vars.find("ILIAS_AUTO_CONFIGURE");
    if (found == vars.end()) return false;
    for (std::string_view off : {"0", "false", "no", "off"})
        if (found->second == off)
            std::cerr << "ilchatctl init: ILIAS_AUTO_CONFIGURE=" << off
                      << " rewrites the files too (any value does, as in the uni-halle image); unset it to keep them\n";
    return true;
}

// Creates the output folder when missing: 0750, as it holds client.cfg with the database password.
std::string make_folder(const std::string& dir) {
    std::error_code error;
    if (std::filesystem::create_directories(dir, error))
        std::filesystem::permissions(dir, std::filesystem::perms(0750), error);
    return error ? "cannot create " + dir + ": " + error.message() : std::string();
}

int run_init(const InitOptions& options) {
    config::Diagnostics diag;
    Origins origins;
    config::Variables vars = collect_variables(options.env_file, diag, &origins);
    auto generated = generate_config(vars, diag, "ILIAS_CHAT_", origins);
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
    const bool overwrite = options.force || auto_configure(vars);
    if (!overwrite) {
        bool exists = false;
        for (const auto& path : {server_path, client_path})
            if (fs::file_exists(path)) {
                std::cerr << "ilchatctl init: " << path << " exists (use --force to overwrite)\n";
                exists = true;
            }
        if (exists) return exit_problem;
    }
    if (auto error = make_folder(dir); !error.empty()) {
        std::cerr << "ilchatctl init: " << error << '\n';
        return exit_problem;
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
    cmd->add_option("-o,--output-dir", options->output_dir,
                    "folder for the files, created (0750) when missing (default: $ILIAS_CHAT_CONFIG_DIR or .)");
    cmd->add_flag("-f,--force", options->force,
                  "overwrite existing files; ILIAS_AUTO_CONFIGURE set to any value (even 0) does the same");
    cmd->add_flag("--stdout", options->to_stdout, "print the files instead of writing them");
    cmd->footer(describe_init_variables() +
                "\nExamples:\n  ilchatctl init --env-file .env -o /etc/ilchatd\n"
                "  ILIAS_CHAT_CLIENT_NAME=ilias ... ilchatctl init --stdout\n");
    cmd->callback([options, &result] { result = run_init(*options); });
}

}  // namespace ilchat::ctl
