#include <catch2/catch.hpp>

#include <fstream>
#include <regex>
#include <sstream>
#include <unistd.h>

#include "common/log/logging.h"

using namespace ilchat;

TEST_CASE("ILIAS level names map to the levels the Node server really logs at", "[log]") {
    using L = spdlog::level::level_enum;
    for (auto [name, level] : {std::pair{"emerg", L::err}, {"alert", L::err}, {"crit", L::err}, {"error", L::err},
                               {"warning", L::warn}, {"notice", L::info}, {"info", L::info}, {"debug", L::debug},
                               {"silly", L::trace}, {"bogus", L::info}, {"", L::info}}) {
        INFO(name);
        CHECK(log::level_from_ilias(name) == level);
    }
    CHECK(log::node_level_name(L::warn) == "WARN");
    CHECK(log::node_level_name(L::trace) == "SILLY");
    CHECK(log::node_level_name(L::critical) == "ERROR");
}

TEST_CASE("log files get Node-format lines; errors also go to the error log", "[log]") {
    char dir_template[] = "/tmp/ilchat-log-XXXXXX";
    REQUIRE(mkdtemp(dir_template));
    const std::string dir = dir_template;
    log::configure({dir + "/chat.log", dir + "/chat_errors.log", spdlog::level::info});
    spdlog::debug("hidden");
    spdlog::info("Starting Server!");
    spdlog::error("Database for {} failed", "ilias");
    spdlog::default_logger()->flush();

    auto read = [](const std::string& path) {
        std::ifstream in(path);
        std::stringstream s;
        s << in.rdbuf();
        return s.str();
    };
    const std::string main = read(dir + "/chat.log");
    const std::string errors = read(dir + "/chat_errors.log");
    const std::regex line(R"(\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d\] (INFO|ERROR) - .*)");
    std::istringstream lines(main);
    int count = 0;
    for (std::string l; std::getline(lines, l); ++count) CHECK(std::regex_match(l, line));
    CHECK(count == 2);
    CHECK(main.find("hidden") == std::string::npos);
    CHECK(main.find("] INFO - Starting Server!\n") != std::string::npos);
    CHECK(errors.find("] ERROR - Database for ilias failed\n") != std::string::npos);
    CHECK(errors.find("Starting") == std::string::npos);

    log::configure({"", "", spdlog::level::info});  // release the files
    std::remove((dir + "/chat.log").c_str());
    std::remove((dir + "/chat_errors.log").c_str());
    rmdir(dir.c_str());
}

TEST_CASE("an unwritable log file is a clear error", "[log]") {
    CHECK_THROWS_WITH(log::configure({"/dev/null/chat.log", "", spdlog::level::info}),
                      Catch::Contains("cannot open log file /dev/null/chat.log"));
}
