#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "daemon/store/room_store.h"
#include "daemon/store/write_record.h"
#include "test_database.h"

using namespace ilchat;

namespace {

std::vector<store::WriteRecord> messages(int count) {
    std::vector<store::WriteRecord> records;
    for (int i = 0; i < count; ++i)
        records.push_back(store::RoomMessageWrite{1, 0, R"({"content":"m)" + std::to_string(i) + R"("})", 1700000000 + i});
    return records;
}

// What the batches of messages leave in chatroom_history: ids in the order the messages were given.
std::vector<std::string> stored_ids(db::Connection& db) {
    std::vector<std::string> ids;
    for (const auto& row : db.query("SELECT hist_id FROM chatroom_history ORDER BY timestamp")) ids.push_back(*row[0]);
    return ids;
}

}  // namespace

TEST_CASE("A batch of room messages takes its history ids as one block where the server allows", "[retention-db]") {
    auto db = test::fresh_database("ilias_ut_history_ids");
    if (!db) return;
    const store::RoomSchema schema = store::detect_room_schema(*db);
    // The private test server is MariaDB with InnoDB's default lock mode 1: blocks are safe.
    CHECK(schema.history_id_blocks);
    // ILIAS PHP took ids before us; the block continues after them.
    CHECK(store::next_id(*db, "chatroom_history") == 1);
    CHECK(store::next_id(*db, "chatroom_history") == 2);

    const auto records = messages(5);
    auto script = store::script_of(*db, schema, records);
    CHECK(script.records == 5);
    db->execute_script(script.sql);
    CHECK(stored_ids(*db) == std::vector<std::string>{"3", "4", "5", "6", "7"});
    // The sequence table keeps only its last id, as ilDB::nextId leaves it; PHP's next id follows ours.
    CHECK(db->query("SELECT COUNT(*), MAX(sequence) FROM chatroom_history_seq")[0] == db::Row{"1", "7"});
    CHECK(store::next_id(*db, "chatroom_history") == 8);
}

TEST_CASE("Without consecutive ids every message takes its own from the sequence", "[retention-db]") {
    auto db = test::fresh_database("ilias_ut_history_ids_single");
    if (!db) return;
    store::RoomSchema schema = store::detect_room_schema(*db);
    schema.history_id_blocks = false;  // as for InnoDB in lock mode 2 or Galera
    auto records = messages(3);
    records.push_back(store::UserLeftWrite{42, {1}, 1700000100});  // ends the run of messages
    auto script = store::script_of(*db, schema, records);
    CHECK(script.records == 3);
    db->execute_script(script.sql);
    CHECK(stored_ids(*db) == std::vector<std::string>{"1", "2", "3"});
    CHECK(store::script_of(*db, schema, std::span(records).subspan(3)).records == 0);
}
