// ilchat-loadgen: simulated ILIAS chat users against an ILIAS chat server (ilchatd or the Node
// original), the way ILIAS drives it: /backend registration as PHP does it, Engine.IO 4 /
// Socket.IO 5 websockets as browsers do; measures connect time, delivery latency and
// throughput. Usage and output: tests/bench/README.md.
#include <signal.h>
#include <sys/resource.h>

#include <atomic>
#include <cstdio>
#include <iostream>
#include <memory>
#include <sstream>
#include <stdexcept>

#include "tests/bench/loadgen/backend.h"
#include "tests/bench/loadgen/clock.h"
#include "tests/bench/loadgen/fleet.h"
#include "tests/bench/loadgen/options.h"
#include "tests/bench/loadgen/report.h"

namespace {

using namespace ilchat::loadgen;

constexpr int exit_ok = 0;
constexpr int exit_failed = 1;
constexpr int exit_usage = 2;

std::atomic<bool> stop_requested{false};
static_assert(std::atomic<bool>::is_always_lock_free, "set from a signal handler");

void on_signal(int) { stop_requested = true; }

// The first SIGINT/SIGTERM ends the run with a report; a second one kills the process.
void install_signal_handlers() {
    struct sigaction action {};
    action.sa_handler = on_signal;
    action.sa_flags = SA_RESETHAND;
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
    signal(SIGPIPE, SIG_IGN);
}

// One descriptor per connection plus the registration sockets and libwebsockets' own; more
// would only make libwebsockets allocate a bigger descriptor table.
std::string raise_descriptor_limit(const Options& options) {
    const rlim_t needed = static_cast<rlim_t>(options.clients) + static_cast<rlim_t>(options.backend_concurrency) + 64;
    rlimit limit{};
    getrlimit(RLIMIT_NOFILE, &limit);
    limit.rlim_cur = std::min(limit.rlim_max, needed + 1024);
    setrlimit(RLIMIT_NOFILE, &limit);
    if (needed <= limit.rlim_cur) return {};
    return "--clients: " + std::to_string(options.clients) + " connections need about " + std::to_string(needed) +
           " file descriptors, the hard limit is " + std::to_string(limit.rlim_max) +
           "; run several generators with disjoint --user-id-base ranges";
}

}  // namespace

int main(int argc, char** argv) {
    Options options;
    CLI::App app{"ilchat-loadgen - simulated ILIAS chat users: connect, send, measure", "ilchat-loadgen"};
    add_options(app, options);
    app.footer("Exit codes: 0 all clients connected and every delivery arrived without error, 1 otherwise,\n"
               "2 usage or set-up problem. The last line of stdout is one JSON object with every figure.");
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        app.exit(e);
        return exit_usage;
    }
    std::string problems = complete_options(options);
    if (problems.empty()) problems = raise_descriptor_limit(options);
    if (!problems.empty()) {
        std::istringstream lines(problems);
        for (std::string line; std::getline(lines, line);) std::cerr << "ilchat-loadgen: " << line << '\n';
        return exit_usage;
    }
    install_signal_handlers();

    const std::int64_t started = now_ns();
    const std::int64_t deadline = started + static_cast<std::int64_t>(options.time_limit * 1e9);
    ErrorLog errors;
    try {
        const Registration registration = register_users(options, errors, deadline, stop_requested);
        std::unique_ptr<Fleet> fleet;
        if (!registration.cut_short) {
            fleet = std::make_unique<Fleet>(options, registration.registered, errors, deadline);
            fleet->run(stop_requested);
        }
        const Figures no_figures;
        const Run run{options, registration, fleet ? fleet->figures() : no_figures, errors,
                      static_cast<double>(now_ns() - started) / 1e9};
        std::cerr << summary_text(run);
        std::cout << json_line(run) << std::endl;
        return run_ok(run) ? exit_ok : exit_failed;
    } catch (const std::exception& e) {
        std::cerr << "ilchat-loadgen: " << e.what() << '\n';
        return exit_usage;
    }
}
