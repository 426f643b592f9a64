#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <unistd.h>

#include "common/config/config_set.h"
#include "common/config/json_file.h"

using namespace ilchat::config;

namespace {

ServerConfig server_from(const std::string& json, Diagnostics& diag) {
    auto doc = parse_json_object(json, "server.cfg", diag);
    REQUIRE(doc);
    return load_server_config(*doc, "server.cfg", diag);
}

ClientConfig client_from(const std::string& json, Diagnostics& diag) {
    auto doc = parse_json_object(json, "client.cfg", diag);
    REQUIRE(doc);
    return load_client_config(*doc, "client.cfg", diag);
}

bool has_line(const std::vector<std::string>& lines, const std::string& text) {
    for (const auto& l : lines)
        if (l == text) return true;
    return false;
}

const char* ilias10_server = R"({
    "protocol": "http",
    "port": 8888,
    "address": "chat.example.org",
    "cert": "",
    "key": "",
    "dhparam": "",
    "log": "\/var\/www\/ilias\/data\/chat.log",
    "log_level": "info",
    "error_log": "\/var\/www\/ilias\/data\/chat_errors.log",
    "sub_directory": "",
    "deletion_mode": 1,
    "deletion_unit": "months",
    "deletion_value": 3,
    "deletion_time": "03:00",
    "ilias_proxy": 0
})";

const char* ilias_client = R"({
    "name": "onscreen",
    "enable_osc": true,
    "auth": {"key": "0cdc8989-d5f0", "secret": "f7471a0e-c454"},
    "database": {"type": "mysql", "host": "localhost", "port": 3306, "name": "ilias_db", "user": "dbuser", "pass": "secret"}
})";

}  // namespace

TEST_CASE("server.cfg as ILIAS 10 writes it", "[config]") {
    Diagnostics diag;
    auto c = server_from(ilias10_server, diag);
    CHECK(diag.ok());
    CHECK(diag.warnings().empty());
    CHECK(c.protocol == "http");
    CHECK(c.port == 8888);
    CHECK(c.address == "chat.example.org");
    CHECK(c.log == "/var/www/ilias/data/chat.log");
    CHECK(c.error_log == "/var/www/ilias/data/chat_errors.log");
    CHECK(c.deletion_enabled);
    CHECK(c.deletion_unit == "months");
    CHECK(c.deletion_value == 3);
    CHECK(c.deletion_time == TimeOfDay{3, 0});
    CHECK(socket_io_path(c) == "/socket.io");
}

TEST_CASE("server.cfg quirks of older ILIAS versions", "[config]") {
    Diagnostics diag;
    auto c = server_from(R"({"protocol":"http","port":"27019","address":"127.0.0.1","log":0,"error_log":"",
        "deletion_mode":"0","deletion_unit":"month","deletion_value":"2","deletion_time":"7",
        "sub_directory":"servers/chat/","unknown_key":{"x":1}})",
                         diag);
    CHECK(diag.ok());
    CHECK(c.port == 27019);         // numeric string
    CHECK(c.log.empty());           // "log": 0 means the default
    CHECK(c.error_log.empty());
    CHECK_FALSE(c.deletion_enabled);
    CHECK(c.deletion_unit == "month");
    CHECK(c.deletion_value == 2);
    CHECK(c.deletion_time == TimeOfDay{7, 0});  // missing minutes are 0
    CHECK(socket_io_path(c) == "/servers/chat/socket.io");
}

TEST_CASE("deletion_mode is on only for the integer 1", "[config]") {
    for (auto [value, on] : {std::pair{"1", true}, {"\"1\"", true}, {"0", false}, {"\"yes\"", false},
                             {"true", false}, {"2", false}, {"null", false}}) {
        Diagnostics diag;
        auto c = server_from(std::string(R"({"protocol":"http","port":1,"address":"a","deletion_unit":"days",
            "deletion_value":1,"deletion_time":"01:00","deletion_mode":)") + value + "}",
                             diag);
        INFO(value);
        CHECK(c.deletion_enabled == on);
    }
}

TEST_CASE("an unknown log level falls back to info with a warning", "[config]") {
    Diagnostics diag;
    auto c = server_from(R"({"protocol":"http","port":1,"address":"a","log_level":"verbose"})", diag);
    CHECK(diag.ok());
    CHECK(c.log_level == "info");
    REQUIRE(diag.warnings().size() == 1);
    CHECK(diag.warnings()[0] == "server.cfg: log_level: expected emerg, alert, crit, error, warning, notice, info, "
                                "debug or silly, got \"verbose\"; using the default");
}

TEST_CASE("every problem of server.cfg is reported, naming file and key", "[config]") {
    Diagnostics diag;
    server_from(R"({"protocol":"ftp","port":"abc","deletion_mode":1,"deletion_unit":"decades",
        "deletion_value":-1,"deletion_time":"25:00"})",
                diag);
    const auto& e = diag.errors();
    CHECK(has_line(e, "server.cfg: protocol: expected http or https, got \"ftp\""));
    CHECK(has_line(e, "server.cfg: port: expected 1-65535, got \"abc\""));
    CHECK(has_line(e, "server.cfg: address: missing (required)"));
    CHECK(has_line(e, "server.cfg: deletion_unit: expected days, weeks, months, month or years, got \"decades\""));
    CHECK(has_line(e, "server.cfg: deletion_value: expected 1-100000, got -1"));
    CHECK(has_line(e, "server.cfg: deletion_time: expected a time HH:MM, got \"25:00\""));
    CHECK(e.size() == 6);
}

TEST_CASE("bad deletion settings are only warnings while the job is off", "[config]") {
    Diagnostics diag;
    server_from(R"({"protocol":"http","port":1,"address":"a","deletion_mode":0,"deletion_unit":"x","deletion_time":"x"})",
                diag);
    CHECK(diag.ok());
    CHECK(diag.warnings().size() == 2);
}

TEST_CASE("the deletion job needs its settings and a period of at least 1", "[config]") {
    Diagnostics diag;
    server_from(R"({"protocol":"http","port":1,"address":"a","deletion_mode":1,"deletion_value":0})", diag);
    CHECK(has_line(diag.errors(), "server.cfg: deletion_unit: required when deletion_mode is 1"));
    CHECK(has_line(diag.errors(), "server.cfg: deletion_time: required when deletion_mode is 1"));
    // 0 would delete every message at each run.
    CHECK(has_line(diag.errors(), "server.cfg: deletion_value: expected 1-100000, got 0"));
}

TEST_CASE("https needs readable certificate and key", "[config]") {
    Diagnostics diag;
    server_from(R"({"protocol":"https","port":1,"address":"a","cert":"/nonexistent/cert.pem"})", diag);
    CHECK(has_line(diag.errors(), "server.cfg: cert: cannot read \"/nonexistent/cert.pem\""));
    CHECK(has_line(diag.errors(), "server.cfg: key: required when protocol is https"));
}

TEST_CASE("client.cfg as ILIAS writes it", "[config]") {
    Diagnostics diag;
    auto c = client_from(ilias_client, diag);
    CHECK(diag.ok());
    CHECK(c.name == "onscreen");
    CHECK(c.auth_key == "0cdc8989-d5f0");
    CHECK(c.auth_secret == "f7471a0e-c454");
    CHECK(c.db_host == "localhost");
    CHECK(c.db_port == 3306);
    CHECK(c.db_name == "ilias_db");
    CHECK(c.db_user == "dbuser");
    CHECK(c.db_pass == "secret");
}

TEST_CASE("client.cfg: port 0 means 3306 and MySQL flavours are accepted", "[config]") {
    Diagnostics diag;
    auto c = client_from(R"({"name":"x","auth":{"key":"k","secret":"s"},
        "database":{"type":"innodb","host":"db","port":"0","name":"n","user":"u","pass":""}})",
                         diag);
    CHECK(diag.ok());
    CHECK(c.db_port == 3306);
    CHECK(c.db_type == "mysql");
    CHECK(c.db_pass.empty());
}

TEST_CASE("client.cfg errors never echo secrets", "[config]") {
    Diagnostics diag;
    client_from(R"({"name":"a/b","auth":{"key":"k","secret":12345},"database":{"type":"postgres","host":"h",
        "name":"n","user":"u","pass":["hunter2"]}})",
                diag);
    const auto& e = diag.errors();
    CHECK(has_line(e, "client.cfg: auth.secret: expected a non-empty string, got a number"));
    CHECK(has_line(e, "client.cfg: database.pass: expected a string, got an array"));
    CHECK(has_line(e, "client.cfg: database.type: expected mysql, innodb, mariadb, galera or \"\", got \"postgres\""));
    CHECK(has_line(e, "client.cfg: name: must not contain '/', '?', '#', '%' or blanks, got \"a/b\""));
    for (const auto& line : e) CHECK(line.find("hunter2") == std::string::npos);
    for (const auto& line : e) CHECK(line.find("12345") == std::string::npos);
}

TEST_CASE("a nested key under a non-object is reported", "[config]") {
    Diagnostics diag;
    client_from(R"({"name":"x","auth":"k:s","database":{"host":"h","name":"n","user":"u"}})", diag);
    CHECK(has_line(diag.errors(), "client.cfg: auth.key: expected an object at \"auth\""));
}

TEST_CASE("JSON syntax errors give line and column", "[config]") {
    Diagnostics diag;
    CHECK_FALSE(parse_json_object("{\n  \"port\": 1,\n  \"address\" \"x\"\n}", "server.cfg", diag));
    REQUIRE(diag.errors().size() == 1);
    CHECK(diag.errors()[0].starts_with("server.cfg: invalid JSON at line 3, column 13: "));

    Diagnostics not_object;
    CHECK_FALSE(parse_json_object("[1]", "client.cfg", not_object));
    CHECK(not_object.errors()[0] == "client.cfg: expected a JSON object, got [1]");
}

TEST_CASE("a UTF-8 byte order mark is tolerated", "[config]") {
    Diagnostics diag;
    CHECK(parse_json_object("\xEF\xBB\xBF{\"a\":1}", "x", diag));
    CHECK(diag.ok());
}

TEST_CASE("the config set reports missing files and duplicate names together", "[config]") {
    char dir_template[] = "/tmp/ilchat-config-XXXXXX";
    REQUIRE(mkdtemp(dir_template));
    const std::string dir = dir_template;
    std::ofstream(dir + "/a.cfg") << ilias_client;
    std::ofstream(dir + "/b.cfg") << ilias_client;

    Diagnostics diag;
    load_config_set(dir + "/missing-server.cfg", {dir + "/a.cfg", dir + "/b.cfg"}, diag);
    CHECK(has_line(diag.errors(), dir + "/missing-server.cfg: cannot read: No such file or directory"));
    CHECK(has_line(diag.errors(), dir + "/b.cfg: name: \"onscreen\" is already used by another client.cfg"));
    std::remove((dir + "/a.cfg").c_str());
    std::remove((dir + "/b.cfg").c_str());
    rmdir(dir.c_str());
}

TEST_CASE("config show redacts secrets and marks restart-only keys", "[config]") {
    Diagnostics diag;
    ConfigSet set;
    set.server_path = "server.cfg";
    set.server = server_from(ilias10_server, diag);
    set.client_paths = {"client.cfg"};
    set.clients = {client_from(ilias_client, diag)};
    std::string shown;
    for (char c : render_config(set))  // the column width does not matter here
        if (c != ' ' || shown.empty() || shown.back() != ' ') shown += c;
    CHECK(shown.find("f7471a0e") == std::string::npos);
    CHECK(shown.find("\"secret\"") == std::string::npos);
    CHECK(shown.find("auth.secret = ********\n") != std::string::npos);
    CHECK(shown.find("port = 8888 (restart to change)\n") != std::string::npos);
    CHECK(shown.find("deletion_mode = 1\n") != std::string::npos);
}

TEST_CASE("the key reference lists every key of both tables", "[config]") {
    std::string reference = render_key_reference();
    for (const auto& s : server_settings()) CHECK(reference.find("| server.cfg | `" + std::string(s.key) + "` |") != std::string::npos);
    for (const auto& s : client_settings()) CHECK(reference.find("| client.cfg | `" + std::string(s.key) + "` |") != std::string::npos);
}
