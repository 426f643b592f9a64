// The list of ILIAS tables and columns ilchatd uses (common/db/ilias_schema) against the
// statements that use them and against the ILIAS schemas the tests install.
#include <catch2/catch.hpp>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "common/db/ilias_schema.h"

namespace {

std::string read_source(const std::string& relative) {
    std::ifstream in(std::string(ILCHAT_SOURCE_DIR) + "/" + relative);
    REQUIRE(in);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::set<std::string> listed_tables() {
    std::set<std::string> names;
    for (const auto& t : ilchat::db::ilias::tables()) names.emplace(t.table);
    for (const auto& t : ilchat::db::ilias::private_room_tables()) names.emplace(t.table);
    return names;
}

// The columns of `table` in a CREATE TABLE of `schema` (backquoted names at line starts).
std::set<std::string> schema_columns(const std::string& schema, std::string_view table) {
    const auto start = schema.find("CREATE TABLE IF NOT EXISTS `" + std::string(table) + "`");
    REQUIRE(start != std::string::npos);
    const auto end = schema.find(";", start);
    const std::string body = schema.substr(start, end - start);
    std::set<std::string> columns;
    static const std::regex column(R"(\n\s*`(\w+)`)");
    for (auto it = std::sregex_iterator(body.begin(), body.end(), column); it != std::sregex_iterator(); ++it)
        columns.insert((*it)[1]);
    return columns;
}

void check_listed_columns_exist(std::span<const ilchat::db::ilias::TableColumns> tables, const std::string& schema) {
    for (const auto& t : tables) {
        const auto columns = schema_columns(schema, t.table);
        std::istringstream words{std::string(t.columns)};
        for (std::string column; words >> column;) {
            INFO(std::string(t.table) + "." + column);
            CHECK(columns.contains(column));
        }
    }
}

}  // namespace

TEST_CASE("ILIAS schema list: every table a statement names is listed", "[ilias-schema]") {
    const auto listed = listed_tables();
    static const std::regex table_name(R"(\b((?:chatroom|osc)_[a-z_]+|usr_pref)\b)");
    for (const char* file : {"daemon/store/room_store.cpp", "daemon/store/im_store.cpp", "common/retention/purge.cpp"}) {
        // Table names in the string literals, where the SQL is (not the C++ names beside it).
        std::string text;
        static const std::regex literal(R"re("((?:[^"\\\n]|\\.)*)")re");
        const std::string source = read_source(file);
        for (auto it = std::sregex_iterator(source.begin(), source.end(), literal); it != std::sregex_iterator(); ++it)
            text += (*it)[1].str() + "\n";
        std::size_t found = 0;
        for (auto it = std::sregex_iterator(text.begin(), text.end(), table_name); it != std::sregex_iterator(); ++it) {
            const std::string name = (*it)[1];
            INFO(file << ": " << name);
            CHECK(listed.contains(name));
            ++found;
        }
        CHECK(found > 0);
    }
}

TEST_CASE("ILIAS schema list: every listed column exists in the ILIAS schemas", "[ilias-schema]") {
    check_listed_columns_exist(ilchat::db::ilias::tables(), read_source("tests/sql/ilias-schema.sql"));
    check_listed_columns_exist(ilchat::db::ilias::tables(), read_source("tests/sql/ilias8-schema.sql"));
    check_listed_columns_exist(ilchat::db::ilias::private_room_tables(), read_source("tests/sql/ilias8-schema.sql"));
}
