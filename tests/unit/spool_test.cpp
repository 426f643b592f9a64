#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "daemon/store/spool_file.h"
#include "daemon/store/write_record.h"
#include "test_database.h"

using namespace ilchat;
using Lines = std::vector<std::string>;

namespace {

std::filesystem::path temp_folder(const std::string& name) {
    auto dir = std::filesystem::temp_directory_path() / ("ilchat-spool-test-" + name + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    return dir;
}

std::string file_text(const std::filesystem::path& path) {
    std::ifstream in(path);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// One record of each kind, with text that needs escaping.
std::vector<store::WriteRecord> one_of_each() {
    return {
        store::RoomMessageWrite{7, 2, R"({"content":"a \"quoted\"\nline 😀","timestamp":1700000000123})", 1700000000},
        store::UserLeftWrite{42, {1, 7, 9}, 1700000001},
        store::ConversationWrite{true, {"c-1", false, R"([{"id":6,"name":"alice"},{"id":7,"name":"bob"}])"}},
        store::ConversationWrite{false, {"c-1", true, R"([{"id":6},{"id":7},{"id":8}])"}},
        store::ImMessageWrite{{"m-1", "c-1", 6, "hi <b>there</b> 😀", 1700000000456}},
        store::ActivityWrite{"c-1", {6, 7, 8}, 0},
        store::CloseWrite{"c-1", 7, 1700000000789},
    };
}

}  // namespace

TEST_CASE("Every write record survives a trip through its line", "[spool]") {
    auto records = one_of_each();
    records.push_back(store::PrivateRoomsLeftWrite{42, {5, 7}, {7}, 1700000002});  // ILIAS <= 8 databases only
    for (const auto& record : records) {
        const std::string line = store::encode(record);
        CHECK(line.find('\n') == std::string::npos);
        auto back = store::decode(line);
        REQUIRE(back);
        CHECK(back->index() == record.index());
        CHECK(store::encode(*back) == line);
    }
}

TEST_CASE("Lines that are not records are refused, not guessed at", "[spool]") {
    for (const char* line : {"", "{", "[]", R"({"kind":"nope"})", R"({"kind":"close","conversation_id":"c"})",
                             R"({"kind":"user_left","user_id":1,"room_ids":[1,"x"],"at":3})",
                             R"({"kind":"room_message","room_id":"7","sub_room":0,"message":"m","timestamp":1})"})
        CHECK_FALSE(store::decode(line));
}

TEST_CASE("The spool gives back what was appended, in order, across a reopen", "[spool]") {
    const auto dir = temp_folder("order");
    const auto path = (dir / "client.spool").string();
    {
        store::SpoolFile spool(path);  // creates the folder too
        CHECK(spool.pending() == 0);
        spool.append({"one", "two"});
        spool.append({"three"});
        CHECK(spool.pending() == 3);
        CHECK(spool.peek(2) == Lines{"one", "two"});
        CHECK(spool.peek(2) == Lines{"one", "two"});  // nothing consumed yet
        spool.consumed();
        CHECK(spool.pending() == 1);
        spool.append({"four"});
        CHECK(spool.peek(10) == Lines{"three", "four"});
    }
    // A crash before `consumed`: the next run replays from the start of the file.
    store::SpoolFile again(path);
    CHECK(again.pending() == 4);
    CHECK(again.peek(10) == Lines{"one", "two", "three", "four"});
    again.consumed();
    CHECK(again.pending() == 0);
    again.clear();
    CHECK(file_text(path).empty());
    again.append({"five"});
    CHECK(again.peek(10) == Lines{"five"});
    std::filesystem::remove_all(dir);
}

TEST_CASE("A line cut short by a crash is dropped when the spool is opened", "[spool]") {
    const auto dir = temp_folder("torn");
    std::filesystem::create_directories(dir);
    const auto path = (dir / "client.spool").string();
    std::ofstream(path) << "whole\nalso whole\ncut sh";
    store::SpoolFile spool(path);
    CHECK(spool.pending() == 2);
    CHECK(spool.peek(10) == Lines{"whole", "also whole"});
    CHECK(file_text(path) == "whole\nalso whole\n");
    std::filesystem::remove_all(dir);
}

TEST_CASE("Large spools are read back in pieces", "[spool]") {
    const auto dir = temp_folder("large");
    const auto path = (dir / "client.spool").string();
    store::SpoolFile spool(path);
    Lines lines;
    for (int i = 0; i < 3000; ++i) lines.push_back(std::string(1000, static_cast<char>('a' + i % 26)) + std::to_string(i));
    spool.append(lines);  // 3 MB: more than one read chunk
    Lines back;
    while (spool.pending() > 0) {
        auto some = spool.peek(700);
        back.insert(back.end(), some.begin(), some.end());
        spool.consumed();
    }
    CHECK(back == lines);
    std::filesystem::remove_all(dir);
}

TEST_CASE("A spool that cannot be created says where and why", "[spool]") {
    CHECK_THROWS_WITH(store::SpoolFile("/proc/ilchat-no-such/spool/x.spool"), Catch::Contains("/proc/ilchat-no-such"));
}

TEST_CASE("Replayed records land exactly once", "[spool][retention-db]") {
    auto db = test::fresh_database("ilias_ut_spool_replay");
    if (!db) return;
    const store::RoomSchema schema = store::detect_room_schema(*db);
    db->execute("INSERT INTO chatroom_users (room_id, user_id, userdata, connected) VALUES (1, 42, '{}', 1700000000)");
    const auto records = one_of_each();
    // The first run stored them; a crash came before the spool was emptied; the replay runs them again.
    for (const auto& record : records) store::apply(*db, schema, record, false);
    for (const auto& record : records) store::apply(*db, schema, record, true);
    auto count = [&](const std::string& table) { return db->query("SELECT COUNT(*) FROM " + table)[0][0].value(); };
    CHECK(count("chatroom_history") == "1");
    CHECK(count("chatroom_sessions") == "1");
    CHECK(count("chatroom_users") == "0");
    CHECK(count("osc_conversation") == "1");
    CHECK(count("osc_messages") == "1");
    CHECK(count("osc_activity") == "3");
    CHECK(db->query("SELECT is_group, participants FROM osc_conversation")[0] ==
          db::Row{"1", R"([{"id":6},{"id":7},{"id":8}])"});
    CHECK(db->query("SELECT is_closed, timestamp FROM osc_activity WHERE user_id = 7")[0] ==
          db::Row{"1", "1700000000789"});
    // Without replay a duplicate id is an error, as it should be in normal operation.
    CHECK_THROWS_AS(store::apply(*db, schema, records[4], false), db::Error);
}
