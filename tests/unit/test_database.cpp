#include "test_database.h"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

namespace ilchat::test {

namespace {

// The statements of tests/sql/ilias-schema.sql; the connection runs one statement at a time.
std::vector<std::string> schema_statements() {
    std::ifstream file(ILCHAT_SOURCE_DIR "/tests/sql/ilias-schema.sql");
    REQUIRE(file);
    std::string text;
    for (std::string line; std::getline(file, line);)
        if (!line.starts_with("--")) text += line + "\n";
    std::vector<std::string> statements;
    std::istringstream parts(text);
    for (std::string statement; std::getline(parts, statement, ';');)
        if (statement.find_first_not_of(" \n\t") != std::string::npos) statements.push_back(statement);
    return statements;
}

}  // namespace

std::optional<db::Connection> fresh_database(const std::string& database) {
    const char* dir = std::getenv("ILCHAT_MARIADB_DIR");
    if (!dir) {
        WARN("ILCHAT_MARIADB_DIR is not set: skipped (ctest sets it and starts the server)");
        return std::nullopt;
    }
    auto db = db::Connection::open({std::string(dir) + "/mysqld.sock", 3306, "", "root", ""});
    db.execute("DROP DATABASE IF EXISTS " + database);
    db.execute("CREATE DATABASE " + database + " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci");
    db.execute("USE " + database);
    for (const auto& statement : schema_statements()) db.execute(statement);
    return db;
}

}  // namespace ilchat::test
