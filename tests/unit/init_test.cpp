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

}  // namespace

TEST_CASE("init: defaults of the docker image", "[init]") {
    config::Diagnostics diag;
    auto g = ctl::generate_config(required_variables(), diag);
    REQUIRE(diag.ok());
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
    auto vars = required_variables();
    vars["ILIAS_CHAT_PORT"] = "8888";
    vars["ILIAS_CHAT_LOG_DIR"] = "/var/log/ilchat";
    vars["ILIAS_CHAT_DELETION_MODE"] = "1";
    vars["ILIAS_CHAT_DELETION_UNIT"] = "months";
    vars["ILIAS_CHAT_DELETION_VALUE"] = "3";
    vars["ILIAS_CHAT_DELETION_TIME"] = "03:15";
    vars["ILIAS_CHAT_DB_PORT"] = "3307";
    config::Diagnostics diag;
    auto g = ctl::generate_config(vars, diag);
    REQUIRE(diag.ok());
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

TEST_CASE("init: the help lists every variable", "[init]") {
    auto help = ctl::describe_init_variables();
    for (const auto& v : ctl::init_variables()) CHECK(help.find(std::string(v.name)) != std::string::npos);
    CHECK(help.find("ILIAS_CHAT_PORT             port to listen on (default 27019)") != std::string::npos);
}
