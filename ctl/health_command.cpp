// health: is ilchatd serving? The heartbeat ILIAS itself asks, GET /backend/Heartbeat/<name>.
#include <iostream>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "ctl/commands.h"
#include "ctl/config_files.h"
#include "ctl/http_get.h"

namespace ilchat::ctl {

namespace {

struct HealthOptions {
    std::string url;
    std::string name;
    double timeout_seconds = 5;
    bool insecure = false;
    bool json = false;
    std::string server_cfg;
    std::string client_cfg;
};

// Where the daemon of server.cfg answers on this machine: its address, or the loopback address
// when it listens on every interface.
std::string url_of(const config::ServerConfig& server) {
    std::string host = server.address;
    if (host == "0.0.0.0" || host == "*") host = "127.0.0.1";
    else if (host == "::" || host == "[::]") host = "[::1]";
    else if (host.find(':') != std::string::npos && !host.starts_with('[')) host = "[" + host + "]";
    return server.protocol + "://" + host + ":" + std::to_string(server.port);
}

void print_json(bool ok, const std::string& url, long long milliseconds, const std::string& reason) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    w.StartObject();
    w.Key("ok");
    w.Bool(ok);
    w.Key("url");
    w.String(url.c_str());
    w.Key("milliseconds");
    w.Int64(milliseconds);
    if (!ok) {
        w.Key("reason");
        w.String(reason.c_str());
    }
    w.EndObject();
    std::cout << buffer.GetString() << '\n';
}

int run_health(HealthOptions options) {
    if (!options.server_cfg.empty() && options.url.empty()) {
        auto server = read_server_cfg(options.server_cfg);
        if (!server) return exit_problem;
        options.url = url_of(*server);
    }
    if (!options.client_cfg.empty() && options.name.empty()) {
        auto clients = read_client_cfgs({options.client_cfg});
        if (!clients) return exit_problem;
        options.name = clients->front().name;
    }
    if (options.url.empty() || options.name.empty()) {
        std::cerr << "ilchatctl health: give --url or --server-cfg, and --name or --client-cfg\n";
        return exit_usage;
    }
    auto url = parse_url(options.url);
    if (!url) {
        std::cerr << "ilchatctl health: not a URL: " << options.url << " (expected http://host:port)\n";
        return exit_usage;
    }
    if (url->scheme != "http" && url->scheme != "https") {
        std::cerr << "ilchatctl health: " << url->scheme << " is not supported (http or https)\n";
        return exit_usage;
    }

    const std::string shown = options.url + (options.url.ends_with('/') ? "" : "/") + "backend/Heartbeat/" + options.name;
    const auto started = std::chrono::steady_clock::now();
    std::string reason;
    try {
        const auto answer = http_get(*url, "/backend/Heartbeat/" + options.name,
                                     {std::chrono::milliseconds(static_cast<long long>(options.timeout_seconds * 1000)),
                                      options.insecure});
        rapidjson::Document body;
        body.Parse(answer.body.c_str());
        const bool heartbeat = !body.HasParseError() && body.IsObject() && body.HasMember("status") &&
                               body["status"].IsInt() && body["status"].GetInt() == 200;
        if (answer.status != 200) reason = "HTTP " + std::to_string(answer.status) + ": " + answer.body.substr(0, 200);
        else if (!heartbeat) reason = "unexpected answer: " + answer.body.substr(0, 200);
    } catch (const HttpError& e) {
        reason = e.what();
    }
    const auto milliseconds =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
    if (options.json) print_json(reason.empty(), shown, milliseconds, reason);
    if (!reason.empty()) {
        std::cerr << "ilchatctl health: " << shown << ": " << reason << '\n';
        return exit_problem;
    }
    if (!options.json) std::cout << "ok: " << shown << " answered {\"status\":200} in " << milliseconds << " ms\n";
    return exit_ok;
}

}  // namespace

void add_health_command(CLI::App& app, int& result) {
    auto options = std::make_shared<HealthOptions>();
    auto* cmd = app.add_subcommand("health", "Check that ilchatd answers the heartbeat ILIAS asks for");
    cmd->add_option("--url", options->url,
                    "where ilchatd listens (default: protocol, address and port of --server-cfg, 127.0.0.1 when "
                    "it listens on every address)");
    cmd->add_option("--name", options->name, "client name (default: name of --client-cfg)");
    cmd->add_option("--timeout", options->timeout_seconds, "seconds for the whole check")
        ->capture_default_str()
        ->check(CLI::Range(0.01, 3600.0));
    cmd->add_flag("-k,--insecure", options->insecure,
                  "https: accept a certificate that is not trusted or names another host");
    cmd->add_flag("--json", options->json, "print the result as JSON");
    cmd->add_option("--server-cfg", options->server_cfg, "server.cfg of the daemon")->check(CLI::ExistingFile);
    cmd->add_option("--client-cfg", options->client_cfg, "client.cfg whose name to ask for")->check(CLI::ExistingFile);
    cmd->footer("Exit 0 when GET <url>/backend/Heartbeat/<name> answers {\"status\":200} within the timeout, else 1 "
                "with the reason (refused, timed out, HTTP error, unexpected answer).\n"
                "Examples:\n"
                "  ilchatctl health --server-cfg /etc/ilchatd/server.cfg --client-cfg /etc/ilchatd/client.cfg\n"
                "  ilchatctl health --url http://127.0.0.1:27019 --name ilias --timeout 2\n"
                "  ilchatctl health --url https://chat.example.org:8443 --name ilias --json\n"
                "Exit codes: 0 healthy, 1 not healthy, 2 usage error.");
    cmd->callback([options, &result] { result = run_health(*options); });
}

}  // namespace ilchat::ctl
