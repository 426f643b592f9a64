// ilchatctl: the operator's tool for ilchatd.
#include <iostream>

#include "ctl/commands.h"

int main(int argc, char** argv) {
    using namespace ilchat::ctl;
    CLI::App app{"ilchatctl - set up, check and operate ilchatd", "ilchatctl"};
    app.require_subcommand(1);
    app.footer("Exit codes: 0 ok, 1 problem found, 2 usage or internal error.");
    int result = exit_ok;
    add_init_command(app, result);
    add_config_commands(app, result);
    add_db_command(app, result);
    add_purge_command(app, result);
    add_logs_command(app, result);
    add_health_command(app, result);
    add_live_commands(app, result);
    add_version_command(app, result);

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        app.exit(e);
        return exit_usage;
    } catch (const std::exception& e) {
        std::cerr << "ilchatctl: " << e.what() << '\n';
        return exit_usage;
    }
    return result;
}
