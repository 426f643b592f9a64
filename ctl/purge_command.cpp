// purge: the daemon's deletion job (common/retention) run by hand, with a dry run, progress and
// a clean stop on Ctrl-C.
#include <algorithm>
#include <csignal>
#include <iostream>
#include <unistd.h>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/config/json_file.h"
#include "common/retention/purge.h"
#include "common/retention/retention_bound.h"
#include "ctl/commands.h"
#include "ctl/config_files.h"
#include "ctl/time_text.h"

namespace ilchat::ctl {

namespace {

struct PurgeOptions {
    bool dry_run = false;
    std::string older_than;
    std::size_t batch = 0;  // 0: deletion_batch of server.cfg
    bool yes = false;
    bool json = false;
    std::string server_cfg;
    std::vector<std::string> client_cfgs;
};

// One database, however many client.cfg files name it (the daemon purges it once too).
struct Database {
    db::Endpoint endpoint;
    std::vector<std::string> clients;  // their names
    std::optional<db::Connection> connection;
    retention::PurgeCounts counts;  // purgeable, then deleted
};

constexpr std::string_view table_names[] = {"chatroom_history", "osc_messages", "osc_conversation", "osc_activity"};

std::uint64_t count_of(const retention::PurgeCounts& c, std::size_t table) {
    const std::uint64_t values[] = {c.history, c.osc_messages, c.osc_conversations, c.osc_activity};
    return values[table];
}

std::uint64_t total(const retention::PurgeCounts& c) {
    return c.history + c.osc_messages + c.osc_conversations + c.osc_activity;
}

// Progress on stderr, so that stdout keeps only the result: a bar redrawn in place on a terminal,
// otherwise a line whenever the table changes and at most one a second.
class Progress {
public:
    Progress(std::string label, std::uint64_t expected) : label_(std::move(label)), expected_(expected) {}

    void update(const retention::PurgeProgress& p) {
        const std::uint64_t done = total(p.counts);
        if (terminal_) {
            constexpr std::uint64_t width = 30;
            const std::uint64_t filled = expected_ ? std::min(width, done * width / expected_) : width;
            const std::uint64_t percent = expected_ ? std::min<std::uint64_t>(100, done * 100 / expected_) : 100;
            std::cerr << "\r[" << std::string(filled, '#') << std::string(width - filled, '-') << "] " << percent << "%  "
                      << done << "/" << expected_ << " rows  " << p.table << "\x1b[K" << std::flush;
            return;
        }
        const auto now = std::chrono::steady_clock::now();
        if (p.table == table_ && now - last_line_ < std::chrono::seconds(1)) return;
        table_ = p.table;
        last_line_ = now;
        std::cerr << label_ << ": " << done << " of " << expected_ << " rows deleted (" << p.table << ")" << std::endl;
    }

    void finish() const {
        if (terminal_) std::cerr << "\r\x1b[K" << std::flush;
    }

private:
    std::string label_;
    std::uint64_t expected_;
    bool terminal_ = ::isatty(STDERR_FILENO) == 1;
    std::string table_;
    std::chrono::steady_clock::time_point last_line_;
};

// Ctrl-C stops the purge between two batches. SIGINT stays blocked meanwhile, so that it never
// interrupts a statement inside the database library; each batch asks whether one is pending.
class StopOnInterrupt {
public:
    StopOnInterrupt() {
        sigset_t interrupt;
        sigemptyset(&interrupt);
        sigaddset(&interrupt, SIGINT);
        sigprocmask(SIG_BLOCK, &interrupt, &previous_);
    }
    ~StopOnInterrupt() {
        // A pending SIGINT would end the process as soon as it is unblocked: consume it first.
        if (requested()) {
            sigset_t interrupt;
            sigemptyset(&interrupt);
            sigaddset(&interrupt, SIGINT);
            int signal = 0;
            sigwait(&interrupt, &signal);
        }
        sigprocmask(SIG_SETMASK, &previous_, nullptr);
    }
    StopOnInterrupt(const StopOnInterrupt&) = delete;
    StopOnInterrupt& operator=(const StopOnInterrupt&) = delete;

    static bool requested() {
        sigset_t pending;
        sigpending(&pending);
        return sigismember(&pending, SIGINT) == 1;
    }

private:
    sigset_t previous_;
};

void write_counts(rapidjson::Writer<rapidjson::StringBuffer>& w, const retention::PurgeCounts& counts) {
    w.StartObject();
    for (std::size_t i = 0; i < std::size(table_names); ++i) {
        w.Key(table_names[i].data(), static_cast<rapidjson::SizeType>(table_names[i].size()));
        w.Uint64(count_of(counts, i));
    }
    w.EndObject();
}

void print_json(const std::vector<Database>& databases, const std::string& bound, bool dry_run, bool interrupted) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    w.StartObject();
    w.Key("dry_run");
    w.Bool(dry_run);
    w.Key("older_than");
    w.String(bound.c_str());
    w.Key("interrupted");
    w.Bool(interrupted);
    w.Key("databases");
    w.StartArray();
    for (const auto& d : databases) {
        w.StartObject();
        w.Key("database");
        w.String(describe_database(d.endpoint).c_str());
        w.Key("clients");
        w.StartArray();
        for (const auto& name : d.clients) w.String(name.c_str());
        w.EndArray();
        w.Key(dry_run ? "purgeable" : "deleted");
        write_counts(w, d.counts);
        w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    std::cout << buffer.GetString() << '\n';
}

void print_counts(const Database& d, std::string_view what) {
    std::string clients;
    for (const auto& name : d.clients) clients += (clients.empty() ? "" : ", ") + name;
    std::cout << describe_database(d.endpoint) << " (" << clients << "), " << what << ":\n";
    for (std::size_t i = 0; i < std::size(table_names); ++i) {
        std::string name(table_names[i]);
        name.resize(18, ' ');
        std::cout << "  " << name << count_of(d.counts, i) << '\n';
    }
}

// Whether server.cfg really sets the retention period. ilchatd tolerates a missing or bad
// deletion_unit/deletion_value while deletion_mode is 0 and keeps its defaults (1 day); purge must
// not delete with those.
bool period_is_set(const std::string& server_cfg) {
    config::Diagnostics diag;
    auto doc = config::read_json_object(server_cfg, diag);
    if (!doc) return false;
    for (const auto& setting : config::server_settings()) {
        if (setting.key != "deletion_unit" && setting.key != "deletion_value") continue;
        auto found = doc->FindMember(rapidjson::StringRef(setting.key.data(), setting.key.size()));
        if (found == doc->MemberEnd()) {
            std::cerr << server_cfg << ": " << setting.key << ": missing; give --older-than\n";
            return false;
        }
        const auto parsed = config::apply_rule(setting.rule, found->value, false);
        if (!parsed.problem.empty() || !parsed.warning.empty()) {
            std::cerr << server_cfg << ": " << setting.key << ": " << parsed.problem << parsed.warning
                      << "; give --older-than\n";
            return false;
        }
    }
    return true;
}

// "1 week", "6 months" (server.cfg may say "month" as well as "months").
std::string describe(const RetentionPeriod& period) {
    std::string unit(period.unit);
    if (unit.ends_with('s')) unit.pop_back();
    return std::to_string(period.value) + " " + unit + (period.value == 1 ? "" : "s");
}

bool confirmed(const std::vector<Database>& databases) {
    std::uint64_t rows = 0;
    for (const auto& d : databases) rows += total(d.counts);
    // On stderr, like the progress: stdout is the result (perhaps --json).
    std::cerr << "Delete these " << rows << " rows? [y/N] " << std::flush;
    std::string answer;
    std::getline(std::cin, answer);
    return answer == "y" || answer == "Y" || answer == "yes";
}

std::vector<Database> databases_of(const std::vector<config::ClientConfig>& clients) {
    std::vector<Database> databases;
    for (const auto& client : clients) {
        const db::Endpoint endpoint = endpoint_of(client);
        auto same = std::find_if(databases.begin(), databases.end(), [&](const Database& d) {
            return db::describe(d.endpoint) == db::describe(endpoint) && d.endpoint.name == endpoint.name;
        });
        if (same == databases.end()) databases.push_back({endpoint, {client.name}, std::nullopt, {}});
        else same->clients.push_back(client.name);
    }
    return databases;
}

int run_purge(const PurgeOptions& options) {
    // Refuse before any work: a cron job without --yes must not hang on a question nobody sees.
    if (!options.dry_run && !options.yes && ::isatty(STDIN_FILENO) != 1) {
        std::cerr << "ilchatctl purge: refusing to delete without confirmation, as standard input is not a "
                     "terminal; add --yes (or look first with --dry-run)\n";
        return exit_usage;
    }
    std::optional<config::ServerConfig> server;
    if (!options.server_cfg.empty() && !(server = read_server_cfg(options.server_cfg))) return exit_problem;
    std::optional<RetentionPeriod> period;
    if (!options.older_than.empty()) period = parse_retention_period(options.older_than);
    else if (server) {
        if (!period_is_set(options.server_cfg)) return exit_problem;
        period = RetentionPeriod{server->deletion_unit, server->deletion_value};
    }
    if (!period) {
        std::cerr << "ilchatctl purge: how old? give --older-than (90d, 12w, 6m, 1y) or --server-cfg (its "
                     "deletion_unit and deletion_value)\n";
        return exit_usage;
    }
    const std::size_t batch =
        options.batch ? options.batch : static_cast<std::size_t>(server.value_or(config::ServerConfig{}).deletion_batch);
    auto clients = read_client_cfgs(options.client_cfgs);
    if (!clients) return exit_problem;

    const auto bound = retention::deletion_bound(std::chrono::system_clock::now(), period->unit, period->value);
    const std::string bound_text = format_local_time(bound);
    std::vector<Database> databases = databases_of(*clients);
    try {
        for (auto& d : databases) {
            d.connection = db::Connection::open(d.endpoint);
            d.counts = retention::count_purgeable(*d.connection, bound);
            if (!options.json)
                print_counts(d, (options.dry_run ? "would delete (older than " : "to delete (older than ") + bound_text +
                                    ", " + describe(*period) + ")");
        }
    } catch (const db::Error& e) {
        std::cerr << "ilchatctl purge: " << e.what() << '\n';
        return exit_problem;
    }
    if (options.dry_run) {
        if (options.json) print_json(databases, bound_text, true, false);
        else std::cout << "dry run: nothing deleted\n";
        return exit_ok;
    }
    if (!options.yes && !confirmed(databases)) {
        std::cerr << "nothing deleted\n";
        return exit_problem;
    }

    bool interrupted = false;
    try {
        StopOnInterrupt stop;
        for (auto& d : databases) {
            Progress progress(describe_database(d.endpoint), total(d.counts));
            d.counts = retention::purge(*d.connection, bound, batch, [&](const retention::PurgeProgress& p) {
                progress.update(p);
                interrupted = StopOnInterrupt::requested();
                return !interrupted;
            });
            progress.finish();
            if (!options.json) print_counts(d, interrupted ? "deleted before the interruption" : "deleted");
            if (interrupted) break;
        }
    } catch (const db::Error& e) {
        std::cerr << "ilchatctl purge: " << e.what() << '\n';
        return exit_problem;
    }
    if (options.json) print_json(databases, bound_text, false, interrupted);
    if (!interrupted) return exit_ok;
    std::cerr << "ilchatctl purge: interrupted; every batch was deleted whole, so the database is consistent. Run "
                 "purge again to delete the rest.\n";
    return exit_problem;
}

}  // namespace

void add_purge_command(CLI::App& app, int& result) {
    auto options = std::make_shared<PurgeOptions>();
    auto* cmd = app.add_subcommand("purge", "Delete old chat messages now, as the daily deletion job does");
    cmd->add_flag("--dry-run", options->dry_run, "only count what would be deleted, per table");
    cmd->add_option("--older-than", options->older_than,
                    "retention period: a count and d (days), w (weeks), m (months) or y (years) "
                    "(default: deletion_unit and deletion_value of --server-cfg)")
        ->check(readable_by(parse_retention_period, "a count and d, w, m or y, such as 90d, 12w, 6m or 1y", "PERIOD"));
    cmd->add_option("--batch", options->batch, "rows per DELETE statement (default: deletion_batch of server.cfg, 10000)")
        ->check(CLI::Range(std::size_t{1}, std::size_t{100000000}));
    cmd->add_flag("-y,--yes", options->yes, "do not ask for confirmation (needed when not on a terminal)");
    cmd->add_flag("--json", options->json, "print the counts as JSON");
    cmd->add_option("--server-cfg", options->server_cfg, "server.cfg with the retention period")->check(CLI::ExistingFile);
    cmd->add_option("--client-cfg", options->client_cfgs, "client.cfg whose database to purge (repeatable)")
        ->required()
        ->check(CLI::ExistingFile);
    cmd->footer("Deletes chat history and On-Screen Chat messages older than the period, then conversations "
                "left without messages and their activity rows, in batches, with the daemon's own code. On a "
                "terminal it shows the counts and asks first, unless --yes. Ctrl-C stops after the batch "
                "in progress; the database stays consistent and a later run deletes the rest.\n"
                "Examples:\n"
                "  ilchatctl purge --dry-run --server-cfg server.cfg --client-cfg client.cfg\n"
                "  ilchatctl purge --older-than 1y --yes --client-cfg client.cfg\n"
                "  ilchatctl purge --older-than 6m --batch 1000 --json --yes --client-cfg a.cfg --client-cfg b.cfg\n"
                "Exit codes: 0 done, 1 database problem, interrupted or not confirmed, 2 usage error (also "
                "without --yes when standard input is not a terminal).");
    cmd->callback([options, &result] { result = run_purge(*options); });
}

}  // namespace ilchat::ctl
