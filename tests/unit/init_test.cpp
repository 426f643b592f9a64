#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "common/config/ilias_json_writer.h"
#include "common/config/json_file.h"
#include "ctl/init_variables.h"

using namespace ilchat;

namespace {

config::Variables required_variables() {
    return {{"ILIAS_CHAT_CLIENT_NAME", "ilias"},     {"ILIAS_CHAT_AUTH_KEY", "key-1"},
            {"ILIAS_CHAT_AUTH_SECRET", "secret/1ü"}, {"ILIAS_CHAT_DB_HOST", "db.example.org"},
            {"ILIAS_CHAT_DB_NAME", "ilias"},         {"ILIAS_CHAT_DB_USER", "ilias"},
            {"ILIAS_CHAT_DB_PASS", "pw"}};
}

// Both files from the required variables and `extra`, which have to be valid.
ctl::GeneratedConfig generate_valid(const config::Variables& extra) {
    auto vars = required_variables();
    vars.insert(extra.begin(), extra.end());
    config::Diagnostics diag;
    auto g = ctl::generate_config(vars, diag);
    REQUIRE(diag.ok());
    return g;
}

}  // namespace

TEST_CASE("init: defaults of the docker image", "[init]") {
    auto g = generate_valid({});
    CHECK(g.server.address == "0.0.0.0");
    CHECK(g.server.port == 27019);
    CHECK(g.server.protocol == "http");
    CHECK_FALSE(g.server.deletion_enabled);
    CHECK(g.server.deletion_unit == "years");
    CHECK(g.server.deletion_value == 1);
    CHECK(g.server.deletion_time == config::TimeOfDay{6, 30});
    CHECK(g.server.log.empty());
    CHECK(g.client.db_port == 3306);
}

TEST_CASE("init: round trip variables -> files -> parsed back equal", "[init]") {
    auto g = generate_valid({{"ILIAS_CHAT_PORT", "8888"},
                             {"ILIAS_CHAT_LOG_DIR", "/var/log/ilchat"},
                             {"ILIAS_CHAT_DELETION_MODE", "1"},
                             {"ILIAS_CHAT_DELETION_UNIT", "months"},
                             {"ILIAS_CHAT_DELETION_VALUE", "3"},
                             {"ILIAS_CHAT_DELETION_TIME", "03:15"},
                             {"ILIAS_CHAT_DB_PORT", "3307"}});
    CHECK(g.server.log == "/var/log/ilchat/chat.log");
    CHECK(g.server.error_log == "/var/log/ilchat/chat_errors.log");

    std::string server_json = config::to_ilias_json(g.server);
    std::string client_json = config::to_ilias_json(g.client);
    // PHP's json_encode escapes slashes and non-ASCII; ILIAS switches are integers.
    CHECK(server_json.find(R"("log": "\/var\/log\/ilchat\/chat.log")") != std::string::npos);
    CHECK(server_json.find(R"("deletion_mode": 1)") != std::string::npos);
    CHECK(server_json.find(R"("port": 8888)") != std::string::npos);
    CHECK(client_json.find(R"("secret": "secret\/1\u00FC")") != std::string::npos);
    CHECK(client_json.find("    \"auth\": {\n        \"key\": \"key-1\",") != std::string::npos);

    config::Diagnostics back;
    auto server_doc = config::parse_json_object(server_json, "server.cfg", back);
    auto client_doc = config::parse_json_object(client_json, "client.cfg", back);
    REQUIRE(server_doc);
    REQUIRE(client_doc);
    CHECK(config::load_server_config(*server_doc, "server.cfg", back) == g.server);
    CHECK(config::load_client_config(*client_doc, "client.cfg", back) == g.client);
    CHECK(back.ok());
    CHECK(back.warnings().empty());
}

TEST_CASE("init: all missing variables in one error", "[init]") {
    config::Diagnostics diag;
    ctl::generate_config({{"ILIAS_CHAT_CLIENT_NAME", "x"}}, diag);
    REQUIRE(diag.errors().size() == 1);
    CHECK(diag.errors()[0] ==
          "environment: missing required variables: ILIAS_CHAT_AUTH_KEY, ILIAS_CHAT_AUTH_SECRET, ILIAS_CHAT_DB_HOST, "
          "ILIAS_CHAT_DB_NAME, ILIAS_CHAT_DB_USER, ILIAS_CHAT_DB_PASS");
}

TEST_CASE("init: invalid values name the variable", "[init]") {
    auto vars = required_variables();
    vars["ILIAS_CHAT_PORT"] = "http";
    vars["ILIAS_CHAT_DB_PORT"] = "99999";
    vars["ILIAS_CHAT_DELETION_MODE"] = "1";
    vars["ILIAS_CHAT_DELETION_TIME"] = "noon";
    config::Diagnostics diag;
    ctl::generate_config(vars, diag);
    const auto& e = diag.errors();
    REQUIRE(e.size() == 3);
    CHECK(e[0] == "environment: ILIAS_CHAT_PORT: expected 1-65535, got \"http\"");
    CHECK(e[1] == "environment: ILIAS_CHAT_DELETION_TIME: expected a time HH:MM, got \"noon\"");
    CHECK(e[2] == "environment: ILIAS_CHAT_DB_PORT: expected 0-65535, got \"99999\"");
}

TEST_CASE("init: the help lists every variable, the texts in one column", "[init]") {
    auto help = ctl::describe_init_variables();
    std::size_t column = 0;
    for (const auto& v : ctl::init_variables()) {
        INFO(v.name);
        auto line = help.find("\n  " + v.name + " ");
        REQUIRE(line != std::string::npos);
        auto text = help.find_first_not_of(' ', line + 3 + v.name.size()) - line;
        if (!column) column = text;
        CHECK(text == column);
    }
    CHECK(help.find("ILIAS_CHAT_PORT ") < help.find("port to listen on (default 27019)"));
    CHECK(help.find("ILCHATD_METRICS_ADDRESS ") < help.find("\"\" turns them off (default \"127.0.0.1:9464\")"));
}

TEST_CASE("init: an ILCHATD_* variable for each key only ilchatd reads, none for ILIAS's keys", "[init]") {
    const auto own = config::ilchatd_server_settings();
    REQUIRE(own.size() > 10);
    for (const auto& setting : config::server_settings()) {
        INFO(setting.key);
        std::string name = "ILCHATD_" + std::string(setting.key);
        // cluster.redis -> ILCHATD_CLUSTER_REDIS
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return c == '.' ? '_' : std::toupper(c); });
        const bool ilchatd_only = std::ranges::any_of(own, [&](const auto& s) { return s.key == setting.key; });
        auto variables = ctl::init_variables();
        auto found = std::ranges::find(variables, name, &ctl::InitVariable::name);
        CHECK((found != variables.end()) == ilchatd_only);
        if (found != variables.end()) CHECK(found->places[0].key == setting.key);
    }
    // ILIAS's keys stay ILIAS's: protocol to deletion_time, the ones ILIAS's chat administration writes.
    CHECK(own.front().key == "ping_interval");
    CHECK(config::server_settings().size() - own.size() == 14);

    auto g = generate_valid({{"ILCHATD_METRICS_ADDRESS", "0.0.0.0:9464"},
                             {"ILCHATD_ADMIN_SOCKET", ""},
                             {"ILCHATD_SPOOL_DIR", "/srv/spool"},
                             {"ILCHATD_HTML_ESCAPE", "false"},
                             {"ILCHATD_PING_INTERVAL", "1000"}});
    CHECK(g.server.metrics_address == "0.0.0.0:9464");
    CHECK(g.server.admin_socket.empty());
    CHECK(g.server.spool_dir == "/srv/spool");
    CHECK_FALSE(g.server.html_escape);
    CHECK(g.server.ping_interval == 1000);
    CHECK(g.server.startup_db_wait == config::ServerConfig{}.startup_db_wait);

    auto vars = required_variables();
    vars["ILCHATD_WRITE_QUEUE_LIMIT"] = "many";
    config::Diagnostics bad;
    ctl::generate_config(vars, bad);
    REQUIRE(bad.errors().size() == 1);
    CHECK(bad.errors()[0] == "environment: ILCHATD_WRITE_QUEUE_LIMIT: expected 100-10000000, got \"many\"");
}

TEST_CASE("init: an unknown ILIAS_CHAT_* variable is named with the closest known one", "[init]") {
    auto vars = required_variables();
    vars.erase("ILIAS_CHAT_DB_PASS");
    vars["ILIAS_CHAT_DB_PASSWORD"] = "pw";
    vars["ILIAS_CHAT_METRICS_ADDRESS"] = "0.0.0.0:9464";
    vars["ILCHATD_RUN_AS"] = "800:800";  // the entrypoint's; only ILIAS_CHAT_* names are init's alone
    vars["HOME"] = "/root";
    config::Diagnostics diag;
    ctl::generate_config(vars, diag, "ILIAS_CHAT_", {{"ILIAS_CHAT_DB_PASSWORD", ".env"}});
    CHECK(diag.errors() == std::vector<std::string>{"environment: missing required variables: ILIAS_CHAT_DB_PASS"});
    CHECK(diag.warnings() ==
          std::vector<std::string>{
              ".env: ILIAS_CHAT_DB_PASSWORD: unknown variable, ignored (did you mean ILIAS_CHAT_DB_PASS?)",
              "environment: ILIAS_CHAT_METRICS_ADDRESS: unknown variable, ignored (did you mean ILCHATD_METRICS_ADDRESS?)"});
}

TEST_CASE("init: a value read from the .env file is reported as coming from that file", "[init]") {
    const std::string env_file = "/tmp/ilchat-init-test-" + std::to_string(::getpid()) + ".env";
    {
        std::ofstream out(env_file);
        out << "ILIAS_CHAT_PORT=http\nILIAS_CHAT_DB_PORT=99999\nILIAS_CHAT_LOG_LEVEL=verbose\n";
    }
    ::setenv("ILIAS_CHAT_DB_PORT", "70000", 1);  // the environment overrides the file, and is blamed
    config::Diagnostics diag;
    ctl::Origins origins;
    auto vars = ctl::collect_variables(env_file, diag, &origins);
    ::unsetenv("ILIAS_CHAT_DB_PORT");
    std::remove(env_file.c_str());
    CHECK(origins == ctl::Origins{{"ILIAS_CHAT_PORT", env_file}, {"ILIAS_CHAT_LOG_LEVEL", env_file}});

    for (const auto& [name, value] : required_variables()) vars[name] = value;
    ctl::generate_config(vars, diag, "ILIAS_CHAT_", origins);
    CHECK(diag.errors() == std::vector<std::string>{env_file + ": ILIAS_CHAT_PORT: expected 1-65535, got \"http\"",
                                                    "environment: ILIAS_CHAT_DB_PORT: expected 0-65535, got \"70000\""});
    REQUIRE(diag.warnings().size() == 1);
    CHECK(diag.warnings()[0].starts_with(env_file + ": ILIAS_CHAT_LOG_LEVEL: expected emerg,"));
}
