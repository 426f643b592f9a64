#include "common/retention/purge.h"

#include <stdexcept>

namespace ilchat::retention {

namespace {

using Clock = std::chrono::system_clock;

// Truncated like Node's parseInt(bound) and parseInt(bound / 1000), so that the same rows go.
std::int64_t unix_seconds(Clock::time_point t) {
    return std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
}
std::int64_t unix_milliseconds(Clock::time_point t) {
    return std::chrono::floor<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::string placeholder_list(std::size_t n) {
    std::string list = "(";
    for (std::size_t i = 0; i < n; ++i) list += i ? ", ?" : "?";
    return list + ")";
}

// One batch of conversations without messages; true when it was full, so more may remain.
// The ids are read first to be reported. A message written between the SELECT and the DELETE
// keeps its conversation alive, and that conversation must then not be reported as deleted.
bool delete_conversation_batch(db::Connection& db, std::size_t batch, PurgeCounts& counts) {
    std::vector<std::string> ids;
    for (const db::Row& row : db.query("SELECT c.id FROM osc_conversation c WHERE NOT EXISTS "
                                       "(SELECT 1 FROM osc_messages m WHERE m.conversation_id = c.id) LIMIT ?",
                                       {static_cast<std::int64_t>(batch)}))
        ids.push_back(row.at(0).value_or(""));
    if (ids.empty()) return false;
    const bool full = ids.size() == batch;

    const std::vector<db::Param> params(ids.begin(), ids.end());
    const std::string in = placeholder_list(ids.size());
    const auto removed = db.execute("DELETE FROM osc_conversation WHERE id IN " + in +
                                        " AND NOT EXISTS (SELECT 1 FROM osc_messages m"
                                        " WHERE m.conversation_id = osc_conversation.id)",
                                    params);
    if (removed < ids.size())
        for (const db::Row& kept : db.query("SELECT id FROM osc_conversation WHERE id IN " + in, params))
            std::erase(ids, kept.at(0).value_or(""));

    counts.osc_conversations += removed;
    counts.deleted_conversation_ids.insert(counts.deleted_conversation_ids.end(), ids.begin(), ids.end());
    return full;
}

struct Step {
    std::string_view table;
    std::function<bool()> run_batch;  // true when the batch was full
};

}  // namespace

PurgeCounts purge(db::Connection& db, Clock::time_point bound, std::size_t batch,
                  const std::function<bool(const PurgeProgress&)>& progress) {
    // LIMIT 0 would delete nothing and never come up short.
    if (batch == 0) throw std::invalid_argument("purge: the batch size must be at least 1");
    const auto limit = static_cast<std::int64_t>(batch);
    PurgeCounts counts;

    auto deleting = [&db, batch](std::string sql, std::vector<db::Param> params, std::uint64_t& total) {
        return [&db, batch, sql = std::move(sql), params = std::move(params), &total] {
            const auto removed = db.execute(sql, params);
            total += removed;
            return removed == batch;
        };
    };
    const Step steps[] = {
        {"chatroom_history",
         deleting("DELETE FROM chatroom_history WHERE timestamp < ? LIMIT ?", {unix_seconds(bound), limit},
                  counts.history)},
        {"osc_messages",
         deleting("DELETE FROM osc_messages WHERE timestamp < ? LIMIT ?", {unix_milliseconds(bound), limit},
                  counts.osc_messages)},
        {"osc_conversation", [&] { return delete_conversation_batch(db, batch, counts); }},
        {"osc_activity",
         deleting("DELETE FROM osc_activity WHERE NOT EXISTS "
                  "(SELECT 1 FROM osc_conversation c WHERE c.id = osc_activity.conversation_id) LIMIT ?",
                  {limit}, counts.osc_activity)},
    };

    for (const Step& step : steps) {
        for (bool full = true; full;) {
            full = step.run_batch();
            if (progress && !progress(PurgeProgress{step.table, counts})) return counts;
        }
    }
    return counts;
}

PurgeCounts count_purgeable(db::Connection& db, Clock::time_point bound) {
    const std::int64_t ms = unix_milliseconds(bound);
    // A conversation survives exactly when it keeps a message, its activity rows when it survives.
    const auto rows = db.query(
        "SELECT (SELECT COUNT(*) FROM chatroom_history WHERE timestamp < ?),"
        " (SELECT COUNT(*) FROM osc_messages WHERE timestamp < ?),"
        " (SELECT COUNT(*) FROM osc_conversation c WHERE NOT EXISTS"
        "   (SELECT 1 FROM osc_messages m WHERE m.conversation_id = c.id AND m.timestamp >= ?)),"
        " (SELECT COUNT(*) FROM osc_activity a WHERE NOT EXISTS"
        "   (SELECT 1 FROM osc_conversation c JOIN osc_messages m ON m.conversation_id = c.id"
        "    WHERE c.id = a.conversation_id AND m.timestamp >= ?))",
        {unix_seconds(bound), ms, ms, ms});
    auto count = [&](std::size_t column) { return std::stoull(rows.at(0).at(column).value_or("0")); };
    return {count(0), count(1), count(2), count(3), {}};
}

}  // namespace ilchat::retention
