// check-db: can ilchatd use this database? Connection, server, character sets, and every table
// and column the daemon reads or writes, for the ILIAS <= 8 and >= 9 layouts.
#include <algorithm>
#include <iostream>
#include <map>
#include <span>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/db/ilias_schema.h"
#include "ctl/commands.h"
#include "ctl/config_files.h"
#include "ctl/init_variables.h"

namespace ilchat::ctl {

namespace {

struct Target {
    std::string source;  // where the settings came from, for the report
    db::Endpoint endpoint;
};

struct Report {
    std::string source;
    std::string database;  // user@host:port/name, never the password
    std::string error;     // empty once connected
    std::string server_version;
    std::map<std::string, std::string> character_sets;
    std::string schema;
    std::vector<std::string> missing;
    std::vector<std::string> warnings;

    bool ok() const { return error.empty() && missing.empty(); }
};

struct CheckDbOptions {
    std::vector<std::string> client_cfgs;
    std::string env_file;
    int timeout_seconds = 10;
    bool json = false;
};

std::vector<std::string_view> words(std::string_view text) {
    std::vector<std::string_view> out;
    while (!text.empty()) {
        const auto space = text.find(' ');
        out.push_back(text.substr(0, space));
        text = space == std::string_view::npos ? std::string_view{} : text.substr(space + 1);
    }
    return out;
}

// Table -> column -> character set (empty for columns without one) of the current database.
using Columns = std::map<std::string, std::map<std::string, std::string>, std::less<>>;

Columns read_columns(db::Connection& db) {
    Columns columns;
    for (const auto& row : db.query("SELECT TABLE_NAME, COLUMN_NAME, CHARACTER_SET_NAME FROM information_schema.COLUMNS "
                                    "WHERE TABLE_SCHEMA = DATABASE()"))
        columns[row.at(0).value_or("")][row.at(1).value_or("")] = row.at(2).value_or("");
    return columns;
}

void check_needs(const Columns& columns, std::span<const db::ilias::TableColumns> needs, std::vector<std::string>& missing) {
    for (const auto& need : needs) {
        auto table = columns.find(need.table);
        if (table == columns.end()) {
            // chatroom_history is in both lists; name it once.
            const std::string what = "table " + std::string(need.table);
            if (std::find(missing.begin(), missing.end(), what) == missing.end()) missing.push_back(what);
            continue;
        }
        for (auto column : words(need.columns))
            if (!table->second.contains(std::string(column)))
                missing.push_back("column " + std::string(need.table) + "." + std::string(column));
    }
}

Report check(const Target& target, std::chrono::seconds timeout) {
    Report report;
    report.source = target.source;
    report.database = describe_database(target.endpoint);
    try {
        auto db = db::Connection::open(target.endpoint, timeout);
        report.server_version = db.server_version();
        const auto sets = db.query("SELECT @@character_set_server, @@character_set_database, @@collation_database");
        report.character_sets = {{"server", sets.at(0).at(0).value_or("")},
                                 {"database", sets.at(0).at(1).value_or("")},
                                 {"collation", sets.at(0).at(2).value_or("")},
                                 {"connection", mysql_character_set_name(db.handle())}};

        const Columns columns = read_columns(db);
        check_needs(columns, db::ilias::tables(), report.missing);
        const auto history = columns.find(db::ilias::history_sub_room.first);
        const bool private_rooms = columns.contains(db::ilias::private_rooms_table) ||
                                   (history != columns.end() && history->second.contains(std::string(db::ilias::history_sub_room.second)));
        report.schema = private_rooms ? "ILIAS <= 8 (with private rooms)" : "ILIAS >= 9";
        if (private_rooms) check_needs(columns, db::ilias::private_room_tables(), report.missing);

        for (auto [table, column] : db::ilias::message_columns()) {
            auto found = columns.find(table);
            if (found == columns.end()) continue;
            auto set = found->second.find(std::string(column));
            if (set != found->second.end() && !set->second.empty() && set->second != "utf8mb4")
                report.warnings.push_back(std::string(table) + "." + std::string(column) + " uses " + set->second +
                                          ": emoji in messages are stored as '?'");
        }
    } catch (const db::Error& e) {
        report.error = e.what();
    }
    return report;
}

void print_text(const Report& r) {
    std::cout << r.source << ": " << r.database << '\n';
    if (!r.error.empty()) {
        std::cout << "  connection failed: " << r.error << '\n';
        return;
    }
    const auto& sets = r.character_sets;
    std::cout << "  server:        " << r.server_version << '\n'
              << "  character set: server " << sets.at("server") << ", database " << sets.at("database") << " ("
              << sets.at("collation") << "), connection " << sets.at("connection") << '\n'
              << "  schema:        " << r.schema << '\n';
    if (r.missing.empty()) std::cout << "  tables:        every table and column ilchatd needs is there\n";
    for (const auto& m : r.missing) std::cout << "  missing:       " << m << '\n';
    for (const auto& w : r.warnings) std::cout << "  warning:       " << w << '\n';
}

void print_json(const std::vector<Report>& reports, bool ok) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    auto strings = [&w](const std::vector<std::string>& list) {
        w.StartArray();
        for (const auto& s : list) w.String(s.c_str());
        w.EndArray();
    };
    w.StartObject();
    w.Key("ok");
    w.Bool(ok);
    w.Key("databases");
    w.StartArray();
    for (const auto& r : reports) {
        w.StartObject();
        w.Key("source");
        w.String(r.source.c_str());
        w.Key("database");
        w.String(r.database.c_str());
        w.Key("connected");
        w.Bool(r.error.empty());
        if (!r.error.empty()) {
            w.Key("error");
            w.String(r.error.c_str());
        } else {
            w.Key("server_version");
            w.String(r.server_version.c_str());
            w.Key("character_set");
            w.StartObject();
            for (const auto& [name, value] : r.character_sets) {
                w.Key(name.c_str());
                w.String(value.c_str());
            }
            w.EndObject();
            w.Key("schema");
            w.String(r.schema.c_str());
            w.Key("missing");
            strings(r.missing);
            w.Key("warnings");
            strings(r.warnings);
        }
        w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    std::cout << buffer.GetString() << '\n';
}

// The databases to check: those of the client.cfg files, else the ILIAS_CHAT_DB_* variables.
// Empty after explaining on stderr what is wrong with them.
std::optional<std::vector<Target>> targets(const CheckDbOptions& options) {
    std::vector<Target> list;
    if (!options.client_cfgs.empty()) {
        auto clients = read_client_cfgs(options.client_cfgs);
        if (!clients) return std::nullopt;
        for (std::size_t i = 0; i < clients->size(); ++i)
            list.push_back({(*clients)[i].name + " (" + options.client_cfgs[i] + ")", endpoint_of((*clients)[i])});
        return list;
    }
    config::Diagnostics diag;
    Origins origins;
    auto vars = collect_variables(options.env_file, diag, &origins);
    auto generated = generate_config(vars, diag, "ILIAS_CHAT_DB_", origins);
    if (!diag.ok()) {
        std::cerr << diag.report() << "ilchatctl check-db: give --client-cfg FILE, or set the ILIAS_CHAT_DB_* variables "
                                      "(in the environment or an --env-file)\n";
        return std::nullopt;
    }
    list.push_back({"ILIAS_CHAT_DB_* variables", endpoint_of(generated.client)});
    return list;
}

int run_check_db(const CheckDbOptions& options) {
    auto list = targets(options);
    if (!list) return options.client_cfgs.empty() ? exit_usage : exit_problem;
    std::vector<Report> reports;
    bool ok = true;
    for (const auto& target : *list) {
        reports.push_back(check(target, std::chrono::seconds(options.timeout_seconds)));
        ok = ok && reports.back().ok();
        if (!options.json) print_text(reports.back());
    }
    if (options.json) print_json(reports, ok);
    return ok ? exit_ok : exit_problem;
}

}  // namespace

void add_db_command(CLI::App& app, int& result) {
    auto options = std::make_shared<CheckDbOptions>();
    auto* cmd = app.add_subcommand("check-db", "Check that the database of each client.cfg is usable by ilchatd");
    cmd->add_option("--client-cfg", options->client_cfgs, "client.cfg whose database to check (repeatable)")
        ->check(CLI::ExistingFile);
    cmd->add_option("--env-file", options->env_file, "read ILIAS_CHAT_DB_* from this .env file (without --client-cfg)")
        ->check(CLI::ExistingFile);
    cmd->add_option("--timeout", options->timeout_seconds, "seconds to wait for the database server")
        ->capture_default_str()
        ->check(CLI::Range(1, 3600));
    cmd->add_flag("--json", options->json, "print the findings as JSON");
    cmd->footer("Connects, reports the server version and character sets, tells the ILIAS <= 8 layout (private "
                "rooms) from ILIAS >= 9, and lists every missing table and column by name. Without --client-cfg "
                "the ILIAS_CHAT_DB_HOST, _PORT, _NAME, _USER and _PASS variables are used (the environment "
                "overrides --env-file). The password is never shown.\n"
                "Examples:\n"
                "  ilchatctl check-db --client-cfg /srv/ilias/data/default/chatroom/client.cfg\n"
                "  ilchatctl check-db --env-file .env --json\n"
                "Exit codes: 0 usable, 1 connection failed or something is missing, 2 usage error.");
    cmd->callback([options, &result] { result = run_check_db(*options); });
}

}  // namespace ilchat::ctl
