// ilchatd: drop-in replacement for the ILIAS chat server.
//   ilchatd server.cfg client.cfg [client.cfg ...]
#include <iostream>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "common/config/config_set.h"
#include "common/log/logging.h"
#include "common/version.h"
#include "daemon/daemon.h"
#include "daemon/net/resolve_address.h"
#include "daemon/ops/control_loop.h"
#include "daemon/metrics/metrics.h"
#include "daemon/store/client_preload.h"

namespace {

constexpr int exit_ok = 0;
constexpr int exit_failure = 1;
constexpr int exit_usage = 2;

struct Arguments {
    std::string server_cfg;
    std::vector<std::string> client_cfgs;
    bool check_only = false;
};

int serve(const ilchat::config::ConfigSet& set) {
    const auto& server = set.server;
    auto resolved = ilchat::net::resolve_listen_address(server.address);
    spdlog::info("DNS Resolve for: {} => IP: {} , Family: IPv{}", server.address, resolved.ip, resolved.family);

    auto preloaded = ilchat::store::preload_clients(set);
    if (!preloaded) return exit_failure;

    ilchat::net::ListenSpec listen;
    listen.address = resolved.ip;
    listen.port = server.port;
    if (server.protocol == "https") {
        listen.tls_cert = server.cert;
        listen.tls_key = server.key;
    }
    ilchat::Daemon daemon(set, std::move(*preloaded), listen);
    daemon.run();
    return exit_ok;
}

}  // namespace

int main(int argc, char** argv) {
    ilchat::ops::ControlLoop::block_signals_in_this_thread();

    Arguments args;
    CLI::App app{"ilchatd - ILIAS chat server (drop-in replacement for the Node.js server)", "ilchatd"};
    app.add_option("server_cfg", args.server_cfg, "server.cfg as written by ILIAS")->required();
    app.add_option("client_cfg", args.client_cfgs, "one client.cfg per ILIAS installation")->required()->expected(1, -1);
    app.add_flag("--check-config", args.check_only, "validate the files, print every problem, and exit");
    app.add_flag_callback(
        "--metrics-reference",
        [] {
            std::cout << ilchat::metrics::Metrics::reference_markdown();
            std::exit(exit_ok);
        },
        "print the reference of the Prometheus metrics (Markdown) and exit");
    app.set_version_flag("--version", std::string("ilchatd ") + ilchat::version);
    app.footer("Exit codes: 0 ok, 1 bad configuration or start-up failure, 2 usage error.");
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::cerr << "ilchatd: " << e.what() << "\nUsage: ilchatd server.cfg client.cfg [client.cfg ...]\n"
                  << "Run 'ilchatd --help' for more.\n";
        return exit_usage;
    }

    ilchat::config::Diagnostics diag;
    auto set = ilchat::config::load_config_set(args.server_cfg, args.client_cfgs, diag);
    if (!diag.ok()) {
        std::cerr << diag.report();
        return exit_failure;
    }
    if (args.check_only) {
        std::cout << diag.report() << "configuration OK: " << args.server_cfg << " and " << set.clients.size()
                  << " client.cfg\n";
        return exit_ok;
    }

    try {
        ilchat::log::configure({set.server.log, set.server.error_log, ilchat::log::level_from_ilias(set.server.log_level)});
    } catch (const std::exception& e) {
        std::cerr << "ilchatd: " << e.what() << '\n';
        return exit_failure;
    }
    spdlog::info("Starting Server!");
    spdlog::info("Log Level: {}", set.server.log_level);
    for (const auto& warning : diag.warnings()) spdlog::warn("{}", warning);

    try {
        return serve(set);
    } catch (const std::exception& e) {
        spdlog::error("{}", e.what());
        return exit_failure;
    }
}
