#include "tests/bench/loadgen/options.h"

#include <vector>

#include "common/config/client_config.h"
#include "common/config/json_file.h"
#include "tests/bench/loadgen/source_addresses.h"

namespace ilchat::loadgen {

namespace {

// Bounds every duration (seconds) and rate (per second), far from the limits of the
// nanosecond arithmetic.
constexpr double max_value = 1e7;

// Only the keys the generator needs, read by the daemon's own rules, so that a client.cfg
// without a database section (or one that ilchatd would reject for other reasons) still serves.
void read_client_cfg(Options& options, config::Diagnostics& diag) {
    auto root = config::read_json_object(options.client_cfg, diag);
    if (!root) return;
    std::vector<config::Setting<config::ClientConfig>> wanted;
    for (const auto& setting : config::client_settings())
        if (setting.key == "name" || setting.key == "auth.key" || setting.key == "auth.secret")
            wanted.push_back(setting);
    config::ClientConfig client;
    config::load_settings<config::ClientConfig>(*root, wanted, client, options.client_cfg, diag);
    if (options.name.empty()) options.name = client.name;
    if (options.auth_key.empty()) options.auth_key = client.auth_key;
    if (options.auth_secret.empty()) options.auth_secret = client.auth_secret;
}

}  // namespace

void add_options(CLI::App& app, Options& o) {
    app.add_option("--host", o.host, "Address (or name) of the chat server")->capture_default_str();
    app.add_option("--port", o.port, "Port of the chat server")->required()->check(CLI::Range(1, 65535));
    app.add_option("--path", o.path, "Engine.IO path: <sub_directory>/socket.io/")->capture_default_str();

    app.add_option("--client-cfg", o.client_cfg, "client.cfg to take name, auth.key and auth.secret from")
        ->check(CLI::ExistingFile);
    app.add_option("--namespace", o.name, "Client name: namespaces /<name> and /<name>-im (overrides client.cfg)");
    app.add_option("--auth-key", o.auth_key, "Basic-auth user of /backend (overrides client.cfg)");
    app.add_option("--auth-secret", o.auth_secret, "Basic-auth password of /backend (overrides client.cfg)");

    app.add_option("--clients", o.clients, "Simulated users, one Engine.IO connection each")
        ->capture_default_str()
        ->check(CLI::Range(1, 1000000));
    app.add_option("--rooms", o.rooms, "Chat rooms; client i joins room i mod rooms")
        ->capture_default_str()
        ->check(CLI::Range(1, 1000000));
    app.add_option("--room-id-base", o.room_id_base, "Id of the first room")->capture_default_str()->check(
        CLI::Range(std::int64_t{1}, std::int64_t{1} << 40));
    app.add_option("--user-id-base", o.user_id_base,
                   "User id of client 0; give parallel generators disjoint ranges")
        ->capture_default_str()
        ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 40));
    app.add_flag("--im", o.im, "Also log every user in on the On-Screen Chat namespace /<name>-im");

    app.add_option("--connect-rate", o.connect_rate, "New connections per second while ramping up; 0: no limit")
        ->capture_default_str()
        ->check(CLI::Range(0.0, max_value));
    app.add_option("--connect-concurrency", o.connect_concurrency,
                   "Connections that may be on their way to ready at once; 0: no limit")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    app.add_option("--ready-timeout", o.ready_timeout, "Seconds one connection may take to be ready")
        ->capture_default_str()
        ->check(CLI::Range(0.001, max_value));

    app.add_option("--settle-timeout", o.settle_timeout,
                   "Longest wait, once every client is ready, for the server's answers to the room entries "
                   "(user lists, notices) to die down before messages are sent")
        ->capture_default_str()
        ->check(CLI::Range(0.0, max_value));

    app.add_option("--senders", o.senders, "Clients that send (clients 0..senders-1, spread over the rooms); 0: all")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    app.add_option("--rate", o.rate, "Room messages per second over all senders; 0: no steady phase")
        ->capture_default_str()
        ->check(CLI::Range(0.0, max_value));
    app.add_option("--duration", o.duration, "Seconds of the steady (sending) phase")
        ->capture_default_str()
        ->check(CLI::Range(0.0, max_value));
    app.add_option("--message-bytes", o.message_bytes, "Pad each message's content to at least this many bytes")
        ->capture_default_str()
        ->check(CLI::Range(0, 1000000));
    app.add_option("--drain-timeout", o.drain_timeout, "Seconds to wait after the steady phase for missing deliveries")
        ->capture_default_str()
        ->check(CLI::Range(0.0, max_value));
    app.add_option("--hold", o.hold, "Seconds to stay connected (answering pings) before stopping")
        ->capture_default_str()
        ->check(CLI::Range(0.0, max_value));
    app.add_option("--time-limit", o.time_limit, "Hard limit in seconds for the whole run, registration included")
        ->capture_default_str()
        ->check(CLI::Range(0.001, max_value));

    app.add_option("--source-addresses", o.source_address_text,
                   "Local addresses to connect from, round-robin: 127.0.0.2-127.0.0.40 or a comma list");
    app.add_option("--backend-concurrency", o.backend_concurrency, "Parallel /backend calls while registering")
        ->capture_default_str()
        ->check(CLI::Range(1, 256));
}

std::string complete_options(Options& o) {
    config::Diagnostics diag;
    if (!o.client_cfg.empty()) read_client_cfg(o, diag);
    std::string problems = diag.ok() ? "" : diag.report();
    auto problem = [&problems](const std::string& text) { problems += text + '\n'; };

    if (o.name.empty()) problem("no namespace: give --namespace or --client-cfg");
    if (o.auth_key.empty() || o.auth_secret.empty())
        problem("no backend credentials: give --auth-key and --auth-secret or --client-cfg");
    if (o.name.find_first_of("/?#% \t,\"\\") != std::string::npos)
        problem("--namespace: \"" + o.name + "\" cannot be a namespace name");
    if (o.path.empty() || o.path.front() != '/') problem("--path must start with '/'");
    if (o.rooms > o.clients) problem("--rooms: more rooms than clients leaves rooms empty");
    if (o.senders > o.clients) problem("--senders: more senders than clients");

    if (!o.source_address_text.empty()) {
        std::string bad;
        o.source_addresses = expand_source_addresses(o.source_address_text, bad);
        if (!bad.empty()) problem(bad);
        for (const auto& address : o.source_addresses) {
            const std::string why = check_bindable(address);
            if (!why.empty()) {
                problem("--source-addresses: cannot use " + address + ": " + why);
                break;
            }
        }
    }
    const std::size_t addresses = o.source_addresses.empty() ? 1 : o.source_addresses.size();
    const auto per_address = (static_cast<std::size_t>(o.clients) + addresses - 1) / addresses;
    // Registration leaves closed connections behind as well; keep a margin below the port range.
    if (per_address > static_cast<std::size_t>(ephemeral_port_count()) * 9 / 10)
        problem("--clients: " + std::to_string(per_address) + " connections from one local address exceed its " +
                std::to_string(ephemeral_port_count()) + " ephemeral ports; spread them with --source-addresses");
    return problems;
}

}  // namespace ilchat::loadgen
