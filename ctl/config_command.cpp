#include <iostream>

#include "common/config/config_set.h"
#include "ctl/commands.h"

namespace ilchat::ctl {

namespace {

struct ConfigFiles {
    std::string server_cfg;
    std::vector<std::string> client_cfgs;
};

void add_file_arguments(CLI::App* cmd, ConfigFiles& files) {
    cmd->add_option("server_cfg", files.server_cfg, "server.cfg")->required();
    cmd->add_option("client_cfg", files.client_cfgs, "client.cfg files")->required()->expected(1, -1);
}

}  // namespace

void add_config_commands(CLI::App& app, int& result) {
    auto* config = app.add_subcommand("config", "Check or show configuration files");
    config->require_subcommand(1);

    auto check_files = std::make_shared<ConfigFiles>();
    auto* check = config->add_subcommand("check", "Validate server.cfg and client.cfg files, listing every problem");
    add_file_arguments(check, *check_files);
    check->footer("Example:\n  ilchatctl config check /srv/ilias/data/default/chatroom/server.cfg client.cfg\n"
                  "Exit code 0 when the files are good, 1 with the list of problems otherwise.");
    check->callback([check_files, &result] {
        config::Diagnostics diag;
        config::load_config_set(check_files->server_cfg, check_files->client_cfgs, diag);
        std::cout << diag.report();
        if (diag.ok()) std::cout << "configuration OK\n";
        result = diag.ok() ? exit_ok : exit_problem;
    });

    auto show_files = std::make_shared<ConfigFiles>();
    auto* show = config->add_subcommand("show", "Print every setting with its effective value (secrets redacted)");
    add_file_arguments(show, *show_files);
    show->callback([show_files, &result] {
        config::Diagnostics diag;
        auto set = config::load_config_set(show_files->server_cfg, show_files->client_cfgs, diag);
        std::cerr << diag.report();
        std::cout << config::render_config(set);
        result = diag.ok() ? exit_ok : exit_problem;
    });

    auto* keys = config->add_subcommand("keys", "Print the reference of every configuration key (Markdown)");
    keys->callback([&result] {
        std::cout << config::render_key_reference();
        result = exit_ok;
    });
}

}  // namespace ilchat::ctl
