#include "daemon/deletion_job.h"

#include <algorithm>
#include <ctime>
#include <memory>

#include <spdlog/spdlog.h>

#include "common/retention/purge.h"
#include "common/retention/retention_bound.h"
#include "common/text/json.h"

namespace ilchat {

DeletionJob::DeletionJob(net::NetworkLoop& network, ops::ControlLoop& control, chat::ClientSet& clients,
                         metrics::Metrics& metrics)
    : network_(network), control_(control), clients_(clients), metrics_(metrics) {
    metrics_.deletion_last_success_timestamp_seconds();  // 0 = not yet: the stale-job alert needs the series
}

void DeletionJob::configure(const config::ServerConfig& server) {
    server_ = server;
    metrics_.deletion_enabled().Set(server.deletion_enabled ? 1 : 0);
    if (!server.deletion_enabled) {
        next_.reset();
        metrics_.deletion_next_run_timestamp_seconds().Set(0);
        return;
    }
    next_ = retention::next_run(std::chrono::system_clock::now(), server.deletion_time.hour, server.deletion_time.minute);
    metrics_.deletion_next_run_timestamp_seconds().Set(static_cast<double>(std::chrono::system_clock::to_time_t(*next_)));
    spdlog::info("Clear messages process initialized for {} once a day", config::format_time_of_day(server.deletion_time));
}

void DeletionJob::run_if_due() {
    if (!next_ || std::chrono::system_clock::now() < *next_) return;
    if (holds_lease_ && !holds_lease_()) spdlog::info("Message deletion: another node of the cluster runs it");
    else run([](const admin::Reply&) {});
    configure(server_);
}

void DeletionJob::run(std::function<void(admin::Reply)> done) {
    const auto bound =
        retention::deletion_bound(std::chrono::system_clock::now(), server_.deletion_unit, server_.deletion_value);
    const auto batch = static_cast<std::size_t>(server_.deletion_batch);
    network_.mailbox().post([this, bound, batch, done = std::move(done)] { start_runs(bound, batch, done); });
}

void DeletionJob::start_runs(std::chrono::system_clock::time_point bound, std::size_t batch,
                             std::function<void(admin::Reply)> done) {
    struct Run {
        std::string database;
        store::DatabaseWorker* worker;
        std::vector<std::string> clients;
        std::string names;
    };
    std::vector<Run> runs;
    for (const auto& client : clients_.clients()) {
        const auto& c = client.config;
        const std::string database = c.db_host + ":" + std::to_string(c.db_port) + "/" + c.db_name;
        auto run = std::ranges::find(runs, database, &Run::database);
        if (run == runs.end()) run = runs.insert(runs.end(), Run{database, client.worker.get(), {}, {}});
        run->clients.push_back(c.name);
        run->names += (run->names.empty() ? "" : ", ") + c.name;
    }
    if (runs.empty()) {
        control_.mailbox().post([done] { done({admin::ok, "no database", R"({"databases":[]})"}); });
        return;
    }
    // Control loop: each run adds its line and its JSON object; the last one answers.
    struct Summary {
        std::size_t remaining;
        std::string text;
        std::string json;
        bool failed = false;
    };
    auto summary = std::make_shared<Summary>(Summary{runs.size(), {}, {}});
    auto finish = [summary, done](const std::string& line, const std::string& json, bool ok) {
        summary->text += line + "\n";
        summary->json += (summary->json.empty() ? "" : ",") + json;
        summary->failed = summary->failed || !ok;
        if (--summary->remaining == 0)
            done({summary->failed ? admin::failed : admin::ok, summary->text,
                  "{\"databases\":[" + summary->json + "]}"});
    };
    const std::time_t bound_t = std::chrono::system_clock::to_time_t(bound);
    char when[64];
    std::strftime(when, sizeof when, "%a, %d %b %Y %H:%M:%S GMT", std::gmtime(&bound_t));
    const auto bound_ms = std::chrono::duration_cast<std::chrono::milliseconds>(bound.time_since_epoch()).count();
    for (auto& run : runs) {
        spdlog::info("Start clear process for namespace {} older then {} [{}]", run.names, when, bound_ms);
        const std::string namespaces = text::json_string(run.names);
        auto fail = [this, names = run.names, namespaces, finish](const std::string& error) {
            control_.mailbox().post([names, namespaces, error, finish] {
                spdlog::error("Clear process for namespace {} failed: {}", names, error);
                finish(names + ": failed: " + error,
                       "{\"namespaces\":" + namespaces + ",\"ok\":false,\"error\":" + text::json_string(error) + "}",
                       false);
            });
        };
        auto purge = [this, run, namespaces, bound, batch, fail, finish](db::Connection& db) {
            std::shared_ptr<retention::PurgeCounts> counts;
            try {
                counts = std::make_shared<retention::PurgeCounts>(retention::purge(db, bound, batch));
            } catch (const std::exception& e) {
                return fail(e.what());
            }
            network_.mailbox().post([this, run, counts] {
                for (const auto& name : run.clients)
                    if (auto* client = clients_.find(name)) client->im->forget_conversations(counts->deleted_conversation_ids);
            });
            control_.mailbox().post([this, run, namespaces, counts, finish] {
                metrics_.deletion_rows_deleted("chatroom_history").Increment(static_cast<double>(counts->history));
                metrics_.deletion_rows_deleted("osc_messages").Increment(static_cast<double>(counts->osc_messages));
                metrics_.deletion_rows_deleted("osc_conversation").Increment(static_cast<double>(counts->osc_conversations));
                metrics_.deletion_rows_deleted("osc_activity").Increment(static_cast<double>(counts->osc_activity));
                metrics_.deletion_last_success_timestamp_seconds().Set(static_cast<double>(std::time(nullptr)));
                spdlog::info("Clear Messages for namespace {} affected {} rows", run.names, counts->history);
                spdlog::info("Clear OSC-Messages for namespace {} affected {} rows", run.names, counts->osc_messages);
                spdlog::info("Clear OSC-Conversations for namespace {} affected {} rows", run.names, counts->osc_conversations);
                spdlog::info("Clear OSC-Activity for namespace {} affected {} rows", run.names, counts->osc_activity);
                spdlog::info("Clear process for namespace {} finished", run.names);
                const auto n = [](std::uint64_t v) { return std::to_string(v); };
                finish(run.names + ": " + n(counts->history) + " messages, " + n(counts->osc_messages) +
                           " OSC messages, " + n(counts->osc_conversations) + " conversations, " +
                           n(counts->osc_activity) + " activity rows deleted",
                       "{\"namespaces\":" + namespaces + ",\"ok\":true,\"chatroom_history\":" + n(counts->history) +
                           ",\"osc_messages\":" + n(counts->osc_messages) + ",\"osc_conversation\":" +
                           n(counts->osc_conversations) + ",\"osc_activity\":" + n(counts->osc_activity) + "}",
                       true);
            });
        };
        run.worker->read(purge, [fail] { fail("the database is away; the job runs again at its next time"); });
    }
}

}  // namespace ilchat
