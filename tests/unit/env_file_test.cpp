#include <catch2/catch.hpp>

#include "common/config/env_file.h"

using namespace ilchat::config;

TEST_CASE(".env files: comments, blanks, export and quotes", "[env]") {
    Diagnostics diag;
    auto vars = parse_env_file(R"(# a comment

export ILIAS_CHAT_PORT=27020
ILIAS_CHAT_ADDRESS = 127.0.0.1   # trailing comment
ILIAS_CHAT_DB_PASS='p#ss "literal" \n'
ILIAS_CHAT_AUTH_SECRET="two\nlines \"quoted\" \\ end" # comment
EMPTY=
HASH=a#b
)",
                               ".env", diag);
    CHECK(diag.ok());
    CHECK(vars.at("ILIAS_CHAT_PORT") == "27020");
    CHECK(vars.at("ILIAS_CHAT_ADDRESS") == "127.0.0.1");
    CHECK(vars.at("ILIAS_CHAT_DB_PASS") == "p#ss \"literal\" \\n");
    CHECK(vars.at("ILIAS_CHAT_AUTH_SECRET") == "two\nlines \"quoted\" \\ end");
    CHECK(vars.at("EMPTY").empty());
    CHECK(vars.at("HASH") == "a#b");
}

TEST_CASE(".env files: malformed lines are reported with their number, good lines kept", "[env]") {
    Diagnostics diag;
    auto vars = parse_env_file("GOOD=1\nno equals sign\n1BAD=x\nOPEN=\"unterminated\nAFTER='x' junk\nLAST=2",
                               ".env", diag);
    CHECK(vars.at("GOOD") == "1");
    CHECK(vars.at("LAST") == "2");
    CHECK(vars.size() == 2);
    REQUIRE(diag.errors().size() == 4);
    CHECK(diag.errors()[0] == ".env: line 2: expected NAME=value");
    CHECK(diag.errors()[1] == ".env: line 3: \"1BAD\" is not a valid variable name");
    CHECK(diag.errors()[2] == ".env: line 4: unterminated quote in the value of OPEN");
    CHECK(diag.errors()[3] == ".env: line 5: unexpected text after the quoted value of AFTER");
}

TEST_CASE(".env files: Windows line endings", "[env]") {
    Diagnostics diag;
    auto vars = parse_env_file("A=1\r\nB=\"2\"\r\n", ".env", diag);
    CHECK(diag.ok());
    CHECK(vars.at("A") == "1");
    CHECK(vars.at("B") == "2");
}
