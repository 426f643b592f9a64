#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "common/retention/purge.h"
#include "test_database.h"

using namespace ilchat;
using Clock = std::chrono::system_clock;
using Strings = std::vector<std::string>;

namespace {

constexpr std::int64_t bound_s = 1717200000;  // 2024-06-01 00:00:00 UTC
constexpr std::int64_t bound_ms = bound_s * 1000;
const Clock::time_point bound{std::chrono::milliseconds(bound_ms)};

std::optional<db::Connection> fresh_database(const std::string& name) {
    return test::fresh_database("ilias_ut_retention_" + name);
}

// On both sides of the bound, including exactly on it (kept: only older rows go).
//   c-old, c-old-2..4  only messages older than the bound        -> deleted with their activity
//   c-mixed            one old and one new message               -> kept, loses the old message
//   c-edge             one message at bound_ms, one a ms before  -> kept
//   c-new              only new messages                         -> kept
//   c-empty            no messages at all (as in Node)           -> deleted with its activity
//   activity of "gone", a conversation that no longer exists     -> deleted
void insert_rows(db::Connection& db) {
    std::int64_t hist_id = 0;
    for (std::int64_t ts : {bound_s - 86400 * 400, bound_s - 86400, bound_s - 100, bound_s - 3, bound_s - 2,
                            bound_s - 1, bound_s - 1, bound_s, bound_s + 1, bound_s + 86400})
        db.execute("INSERT INTO chatroom_history (hist_id, room_id, message, timestamp) VALUES (?, 1, '{}', ?)",
                   {++hist_id, ts});
    const std::pair<const char*, std::int64_t> messages[] = {
        {"c-old", bound_ms - 86400000},  {"c-old", bound_ms - 5000},    {"c-old-2", bound_ms - 1},
        {"c-old-3", bound_ms - 2},       {"c-old-4", bound_ms - 3},     {"c-mixed", bound_ms - 60000},
        {"c-mixed", bound_ms + 60000},   {"c-edge", bound_ms},          {"c-edge", bound_ms - 1},
        {"c-new", bound_ms + 1},         {"c-new", bound_ms + 86400000},
    };
    int n = 0;
    for (auto [conversation, ts] : messages)
        db.execute("INSERT INTO osc_messages (id, conversation_id, user_id, message, timestamp) VALUES (?, ?, 7, 'hi', ?)",
                   {"m" + std::to_string(++n), std::string(conversation), ts});
    for (const char* id : {"c-old", "c-old-2", "c-old-3", "c-old-4", "c-mixed", "c-edge", "c-new", "c-empty"})
        db.execute("INSERT INTO osc_conversation (id, is_group, participants) VALUES (?, 0, '[]')", {std::string(id)});
    for (auto [conversation, user] : {std::pair{"c-old", 7}, {"c-old", 8}, {"c-old-3", 7}, {"c-mixed", 7},
                                      {"c-mixed", 8}, {"c-edge", 7}, {"c-new", 8}, {"c-empty", 7}, {"gone", 7}, {"gone", 9}})
        db.execute("INSERT INTO osc_activity (conversation_id, user_id, timestamp) VALUES (?, ?, 0)",
                   {std::string(conversation), std::int64_t{user}});
}

Strings column(db::Connection& db, const std::string& sql) {
    Strings values;
    for (const auto& row : db.query(sql)) values.push_back(row.at(0).value_or("NULL"));
    return values;
}

Strings history(db::Connection& db) {
    return column(db, "SELECT CAST(timestamp - " + std::to_string(bound_s) + " AS SIGNED) FROM chatroom_history ORDER BY hist_id");
}
Strings messages(db::Connection& db) { return column(db, "SELECT id FROM osc_messages ORDER BY CAST(SUBSTR(id, 2) AS UNSIGNED)"); }
Strings conversations(db::Connection& db) { return column(db, "SELECT id FROM osc_conversation ORDER BY id"); }
Strings activity(db::Connection& db) {
    return column(db, "SELECT CONCAT(conversation_id, '/', user_id) FROM osc_activity ORDER BY conversation_id, user_id");
}

Strings sorted(Strings values) {
    std::sort(values.begin(), values.end());
    return values;
}

void check_fully_purged(db::Connection& db) {
    CHECK(history(db) == Strings{"0", "1", "86400"});
    CHECK(messages(db) == Strings{"m7", "m8", "m10", "m11"});
    CHECK(conversations(db) == Strings{"c-edge", "c-mixed", "c-new"});
    CHECK(activity(db) == Strings{"c-edge/7", "c-mixed/7", "c-mixed/8", "c-new/8"});
}

const Strings purged_conversations{"c-empty", "c-old", "c-old-2", "c-old-3", "c-old-4"};

}  // namespace

TEST_CASE("purge deletes what the dry run counts, batch by batch, in the order of the SQL in docs/protocol.md", "[retention-db]") {
    auto db = fresh_database("counts");
    if (!db) return;
    insert_rows(*db);
    const std::size_t batch = GENERATE(as<std::size_t>(), 1, 3, 1000);
    INFO("batch " << batch);

    const auto dry = retention::count_purgeable(*db, bound);
    CHECK(dry.history == 7);
    CHECK(dry.osc_messages == 7);
    CHECK(dry.osc_conversations == 5);
    CHECK(dry.osc_activity == 6);  // c-old twice, c-old-3, c-empty, and the long orphaned "gone" twice
    CHECK(dry.deleted_conversation_ids.empty());
    CHECK(history(*db).size() == 10);  // a dry run deletes nothing

    Strings tables;
    std::uint64_t previous_total = 0;
    const auto done = retention::purge(*db, bound, batch, [&](const retention::PurgeProgress& p) {
        tables.emplace_back(p.table);
        const auto total = p.counts.history + p.counts.osc_messages + p.counts.osc_conversations + p.counts.osc_activity;
        CHECK(total >= previous_total);
        CHECK(total - previous_total <= batch);
        previous_total = total;
        return true;
    });
    CHECK(done.history == dry.history);
    CHECK(done.osc_messages == dry.osc_messages);
    CHECK(done.osc_conversations == dry.osc_conversations);
    CHECK(done.osc_activity == dry.osc_activity);
    CHECK(sorted(done.deleted_conversation_ids) == purged_conversations);
    check_fully_purged(*db);

    // One call per batch; the last batch of each step is the first that comes up short.
    Strings expected;
    for (auto [table, rows] : {std::pair{"chatroom_history", 7}, {"osc_messages", 7}, {"osc_conversation", 5}, {"osc_activity", 6}})
        expected.insert(expected.end(), rows / batch + 1, table);
    CHECK(tables == expected);

    const auto again = retention::count_purgeable(*db, bound);
    CHECK(again.history + again.osc_messages + again.osc_conversations + again.osc_activity == 0);
    const auto nothing = retention::purge(*db, bound, batch);
    CHECK(nothing.history + nothing.osc_messages + nothing.osc_conversations + nothing.osc_activity == 0);
    CHECK(nothing.deleted_conversation_ids.empty());
}

TEST_CASE("purge stopped between batches leaves a consistent database and can be resumed", "[retention-db]") {
    auto db = fresh_database("stop");
    if (!db) return;
    insert_rows(*db);
    const Strings all_conversations = conversations(*db);
    const Strings all_activity = activity(*db);

    auto stop_after_first_batch_of = [&](std::string_view table) {
        return retention::purge(*db, bound, 1, [table](const retention::PurgeProgress& p) { return p.table != table; });
    };

    SECTION("stopped in the chat history") {
        const auto counts = stop_after_first_batch_of("chatroom_history");
        CHECK(counts.history == 1);
        CHECK(counts.osc_messages + counts.osc_conversations + counts.osc_activity == 0);
        CHECK(history(*db).size() == 9);
        CHECK(messages(*db).size() == 11);
        CHECK(conversations(*db) == all_conversations);
    }
    SECTION("stopped in the messages: no conversation goes before its messages") {
        const auto counts = stop_after_first_batch_of("osc_messages");
        CHECK(counts.history == 7);
        CHECK(counts.osc_messages == 1);
        CHECK(counts.osc_conversations == 0);
        CHECK(counts.deleted_conversation_ids.empty());
        CHECK(messages(*db).size() == 10);
        CHECK(conversations(*db) == all_conversations);
        CHECK(activity(*db) == all_activity);
    }
    SECTION("stopped in the conversations: the deleted one is reported, activity waits") {
        const auto counts = stop_after_first_batch_of("osc_conversation");
        CHECK(counts.osc_messages == 7);
        CHECK(counts.osc_conversations == 1);
        REQUIRE(counts.deleted_conversation_ids.size() == 1);
        const std::string deleted = counts.deleted_conversation_ids.front();
        CHECK(std::count(purged_conversations.begin(), purged_conversations.end(), deleted) == 1);
        const Strings left = conversations(*db);
        CHECK(left.size() == all_conversations.size() - 1);
        CHECK(std::count(left.begin(), left.end(), deleted) == 0);
        CHECK(activity(*db) == all_activity);
        // The dry run still sees the remaining conversations and all six activity rows.
        const auto dry = retention::count_purgeable(*db, bound);
        CHECK(dry.osc_conversations == 4);
        CHECK(dry.osc_activity == 6);
    }
    SECTION("stopped in the activity") {
        const auto counts = stop_after_first_batch_of("osc_activity");
        CHECK(counts.osc_conversations == 5);
        CHECK(counts.osc_activity == 1);
        CHECK(activity(*db).size() == all_activity.size() - 1);
    }

    // Whatever was left is finished by the next run.
    const auto rest = retention::purge(*db, bound, 1000);
    CHECK(rest.deleted_conversation_ids.size() == rest.osc_conversations);
    check_fully_purged(*db);
}

TEST_CASE("purge refuses a zero batch size", "[retention-db]") {
    auto db = fresh_database("zero");
    if (!db) return;
    CHECK_THROWS_AS(retention::purge(*db, bound, 0), std::invalid_argument);
}
