// The rules of the repository chat (RoomChat, namespace /<name>;
// docs/protocol.md, "The chat namespaces"), driven through the real Engine.IO and Socket.IO
// servers by polling clients (chat_harness.h). Decision numbers are those of docs/decisions.md.

#include <catch2/catch.hpp>

#include <set>

#include "chat_harness.h"
#include "daemon/chat/clock.h"
#include "daemon/chat/room_chat.h"

using namespace ilchat;
using test::Client;
using test::json_of;

namespace {

// Short, so that a test that waits for the grace to run out stays fast; long enough that a
// reload the test does at once is surely within it, even on a loaded machine.
constexpr auto grace = std::chrono::milliseconds(100);

// One client "ilias" with the main rooms 1 and 2, as the start-up preload leaves it.
struct Rooms : test::ChatFixture {
    chat::ChangeLog log{applying_to(chat)};
    chat::RoomChat chat{"ilias", server.add_namespace("/ilias"), database.worker(), store::RoomSchema{},
                        chat::RoomChatOptions{true, grace, &metrics}, loop.timers(), log};

    Rooms() {
        chat.add_main_room(1);
        chat.add_main_room(2);
    }

    // A browser that logged in as `id`; PHP Connect-ed the user first, or login is refused (D3).
    Client browser(std::int64_t id, const std::string& name) {
        Client c(server, "/ilias");
        c.emit("login", text::json_string(name) + "," + std::to_string(id));
        REQUIRE(c.received("loggedIn").size() == 1);
        return c;
    }
    // All a fresh browser gets for its login as `id`.
    std::vector<std::string> login_answer(std::int64_t id, const std::string& name) {
        Client c(server, "/ilias");
        c.emit("login", text::json_string(name) + "," + std::to_string(id));
        return c.events();
    }
    // What joining a room takes: PHP's Connect and EnterPrivateRoom, then the browser's login and
    // enterRoom.
    Client member(std::int64_t id, const std::string& name, int room = 1) {
        chat.subscribe(id);
        REQUIRE(chat.enter_room(std::to_string(room), std::nullopt, id).body == R"({"success":true})");
        Client c = browser(id, name);
        c.emit("enterRoom", std::to_string(room));
        return c;
    }

    double ignored(std::string_view reason) { return metrics.ignored_events("/ilias", reason).Value(); }

    // {"<room>": {"title", "subscribers", "joined"}} parsed: who is in a room, as the chat sees it.
    std::set<std::int64_t> joined(const std::string& room) {
        rapidjson::Document rooms;
        rooms.Parse(chat.rooms_json().c_str());
        std::set<std::int64_t> ids;
        for (const auto& id : rooms[room.c_str()]["joined"].GetArray()) ids.insert(id.GetInt64());
        return ids;
    }
};

// The `message` argument of a room message; `target` is JSON, empty for none.
std::string say(const std::string& content, const std::string& target = {}, const std::string& room = "1") {
    std::string data = R"({"content":)" + text::json_string(content) + R"(,"format":{"color":"#000000"})";
    if (!target.empty()) data += R"(,"target":)" + target;
    return data + "}," + room;
}

// The user ids of a `userlist` event.
std::set<std::int64_t> users_of(const test::Received& userlist) {
    std::set<std::int64_t> ids;
    for (const auto& user : userlist.arg(0)["users"].GetObject()) ids.insert(user.value["id"].GetInt64());
    return ids;
}

// The `notice` events with this content.
std::vector<test::Received> notices(Client& client, std::string_view content) {
    std::vector<test::Received> found;
    for (auto& n : client.received("notice"))
        if (json_of(n.arg(0), "content") == text::json_string(content)) found.push_back(n);
    return found;
}

std::vector<std::string> contents(Client& client) {
    std::vector<std::string> found;
    for (auto& m : client.received("message")) found.push_back(m.arg(0)["content"].GetString());
    return found;
}

}  // namespace

TEST_CASE("room: entering sends the newcomer the room and its user list, and tells the members", "[room-chat]") {
    Rooms rooms;
    Client alice = rooms.member(7, "alice");

    auto entered = alice.last("private_room_entered");
    CHECK(json_of(entered, "roomId") == "1");
    CHECK(json_of(entered, "subscriber") == R"({"id":7,"username":"alice"})");
    auto welcome = notices(alice, "welcome_to_chat");
    REQUIRE(welcome.size() == 1);
    CHECK(json_of(welcome[0].arg(0), "data") == R"({"id":7,"username":"alice","title":"Main"})");
    CHECK(users_of(alice.last("userlist")) == std::set<std::int64_t>{7});

    Client bob = rooms.member(8, "bob");
    // The members hear of the newcomer: the new list and a `connect` notice naming them.
    CHECK(users_of(alice.last("userlist")) == std::set<std::int64_t>{7, 8});
    auto connect = notices(alice, "connect");
    REQUIRE(connect.size() == 1);
    CHECK(json_of(connect[0].arg(0), "data") == R"({"id":8,"username":"bob","title":"Main"})");
    CHECK(notices(alice, "welcome_to_chat").size() == 1);  // bob's welcome is his alone
    // The newcomer gets the whole list, and no `connect` notice about himself.
    CHECK(users_of(bob.last("userlist")) == std::set<std::int64_t>{7, 8});
    CHECK(notices(bob, "welcome_to_chat").size() == 1);
    CHECK(notices(bob, "connect").empty());
    CHECK(rooms.joined("1_0") == std::set<std::int64_t>{7, 8});
}

TEST_CASE("room: LeavePrivateRoom takes the user out and the room's members get the new list", "[room-chat]") {
    Rooms rooms;
    rooms.chat.add_private_room({1, 5, "Side", "7"});
    Client alice = rooms.member(7, "alice");
    Client bob = rooms.member(8, "bob");
    for (std::int64_t id : {7, 8}) rooms.chat.enter_room("1", std::string("5"), id);
    alice.emit("enterRoom", "1,5");
    bob.emit("enterRoom", "1,5");
    REQUIRE(rooms.joined("1_5") == std::set<std::int64_t>{7, 8});
    alice.forget();
    bob.forget();

    CHECK(rooms.chat.leave_room(chat::now_ms(), "1", std::string("5"), 8).body == R"({"success":true,"subRoomId":5})");

    // The one who left: a `left` notice for the private room and the main room's list.
    auto left = notices(bob, "left");
    REQUIRE(left.size() == 1);
    CHECK(json_of(left[0].arg(0), "subRoomId") == "5");
    CHECK(json_of(bob.last("userlist").arg(0), "subRoomId") == "0");
    // Who stays: the private room's list without him and a notice saying who left what.
    auto list = alice.last("userlist");
    CHECK(json_of(list.arg(0), "subRoomId") == "5");
    CHECK(users_of(list) == std::set<std::int64_t>{7});
    auto notice = notices(alice, "private_room_left");
    REQUIRE(notice.size() == 1);
    CHECK(json_of(notice[0].arg(0), "data") == R"({"user":"bob","title":"Side"})");
    CHECK(rooms.joined("1_5") == std::set<std::int64_t>{7});

    // His socket left the room: he no longer hears it, and may not post to it (D15).
    alice.emit("message", say("still here?", {}, "1,5"));
    CHECK(contents(bob).empty());
    bob.emit("message", say("me?", {}, "1,5"));
    CHECK(contents(alice) == std::vector<std::string>{"still here?"});
    CHECK(rooms.ignored("not_in_room") == 1);
}

TEST_CASE("room: a message reaches the members of its room and no one else, and is stored", "[room-chat]") {
    Rooms rooms;
    Client alice = rooms.member(7, "alice");
    Client bob = rooms.member(8, "bob");
    Client carol = rooms.member(9, "carol", 2);
    rooms.chat.subscribe(10);
    Client dave = rooms.browser(10, "dave");  // logged in, in no room

    alice.emit("message", say("Hi"));

    for (Client* member : {&alice, &bob}) {
        auto message = member->last("message");
        CHECK(json_of(message, "type") == R"("message")");
        CHECK(json_of(message, "content") == R"("Hi")");
        CHECK(json_of(message, "roomId") == "1");
        CHECK(json_of(message, "from") == R"({"id":7,"username":"alice"})");
        CHECK(json_of(message, "format") == R"({"color":"#000000"})");
    }
    CHECK(carol.received("message").empty());
    CHECK(dave.received("message").empty());
    CHECK(rooms.metrics.chat_messages("room").Value() == 1);

    auto stored = rooms.database.wait_for<store::RoomMessageWrite>(1);
    REQUIRE(stored.size() == 1);
    CHECK(stored[0].room_id == 1);
    CHECK(stored[0].sub_room == 0);
    rapidjson::Document json;
    json.Parse(stored[0].json.c_str());
    CHECK(json_of(json, "content") == R"("Hi")");
    // Stored with the timestamp in seconds, as chatroom_history keeps it (docs/protocol.md).
    CHECK(json_of(json, "timestamp") == std::to_string(stored[0].timestamp_s));
    CHECK(stored[0].timestamp_s < 100000000000);
}

TEST_CASE("room: a whisper reaches only the sender and its target (D18 for an unknown target)", "[room-chat]") {
    Rooms rooms;
    Client alice = rooms.member(7, "alice");
    Client bob = rooms.member(8, "bob");
    Client carol = rooms.member(9, "carol");

    alice.emit("message", say("psst", R"({"id":8,"username":"bob","public":false})"));
    CHECK(contents(alice) == std::vector<std::string>{"psst"});
    CHECK(contents(bob) == std::vector<std::string>{"psst"});
    CHECK(json_of(bob.last("message").arg(0), "target") == R"({"id":8,"username":"bob","public":false})");
    CHECK(contents(carol).empty());

    // D18: a target nobody knows still reaches the sender, and the whisper is stored.
    alice.emit("message", say("anyone?", R"({"id":99,"public":false})"));
    CHECK(contents(alice) == std::vector<std::string>{"psst", "anyone?"});
    CHECK(contents(bob).size() == 1);
    CHECK(contents(carol).empty());

    // A target marked public is an ordinary message for the room.
    alice.emit("message", say("@bob hi", R"({"id":8,"public":true})"));
    CHECK(contents(carol) == std::vector<std::string>{"@bob hi"});

    CHECK(rooms.metrics.chat_messages("whisper").Value() == 2);
    CHECK(rooms.database.wait_for<store::RoomMessageWrite>(3).size() == 3);
}

TEST_CASE("room: D15: a user PHP only Connect-ed may enter but not post or type", "[room-chat]") {
    Rooms rooms;
    Client alice = rooms.member(7, "alice");
    rooms.chat.subscribe(11);  // Connect, but no EnterPrivateRoom
    Client eve = rooms.browser(11, "eve");
    eve.emit("enterRoom", "1");
    CHECK(eve.received("private_room_entered").size() == 1);
    CHECK(users_of(eve.last("userlist")) == std::set<std::int64_t>{7});

    eve.emit("message", say("hello?"));
    eve.emit("userStartedTyping", "1");
    CHECK(contents(alice).empty());
    CHECK(alice.received("userStartedTyping").empty());
    CHECK(rooms.ignored("not_in_room") == 2);
}

TEST_CASE("room: D3: login of a user PHP never Connect-ed gets shutdown", "[room-chat]") {
    Rooms rooms;
    CHECK(rooms.login_answer(66, "mallory") == std::vector<std::string>{"shutdown"});
}

TEST_CASE("room: D33: typing reaches the room's other members only", "[room-chat]") {
    Rooms rooms;
    Client alice = rooms.member(7, "alice");
    Client bob = rooms.member(8, "bob");
    Client carol = rooms.member(9, "carol", 2);

    alice.emit("userStartedTyping", "1");
    alice.emit("userStoppedTyping", "1");
    auto started = bob.last("userStartedTyping");
    CHECK(json_of(started, "type") == R"("user_started_typing")");
    // The subscriber goes as a JSON string, as the Node server sent it.
    CHECK(json_of(started, "subscriber") == R"("{\"id\":7,\"username\":\"alice\"}")");
    CHECK(bob.received("userStoppedTyping").size() == 1);
    CHECK(alice.received("userStartedTyping").empty());
    CHECK(carol.received("userStartedTyping").empty());
}

TEST_CASE("room: D4: a reload within the disconnect grace, or another open tab, keeps the user", "[room-chat]") {
    Rooms rooms;
    Client alice = rooms.member(7, "alice");
    Client bob = rooms.member(8, "bob");
    std::optional<Client> bob_again;

    SECTION("the page reloads: the last tab closes and a new one logs in at once") {
        bob.close();
        bob_again.emplace(rooms.browser(8, "bob"));
        bob_again->emit("enterRoom", "1");
        // No `connect` for a user who never left.
        CHECK(notices(alice, "connect").size() == 1);
    }
    SECTION("a second tab stays open while the first closes") {
        bob_again.emplace(rooms.browser(8, "bob"));
        bob_again->emit("enterRoom", "1");
        bob.close();
    }
    rooms.loop.run_for(grace * 3);  // well past it

    CHECK(notices(alice, "disconnected").empty());
    CHECK(rooms.joined("1_0") == std::set<std::int64_t>{7, 8});
    CHECK(users_of(alice.last("userlist")) == std::set<std::int64_t>{7, 8});
    alice.emit("message", say("still there?"));
    CHECK(contents(*bob_again) == std::vector<std::string>{"still there?"});
    // The message's write comes after any leave the grace would have written: none is there.
    REQUIRE(rooms.database.wait_for<store::RoomMessageWrite>(1).size() == 1);
    CHECK(rooms.database.writes_of<store::UserLeftWrite>().empty());
}

TEST_CASE("room: D4: when the grace runs out with no tab left, the user leaves every room", "[room-chat]") {
    Rooms rooms;
    Client alice = rooms.member(7, "alice");
    Client carol = rooms.member(9, "carol", 2);
    Client bob = rooms.member(8, "bob");
    rooms.chat.enter_room("2", std::nullopt, 8);
    bob.emit("enterRoom", "2");
    REQUIRE(rooms.joined("2_0") == std::set<std::int64_t>{9, 8});

    bob.close();
    REQUIRE(rooms.loop.run_until([&] { return !notices(alice, "disconnected").empty(); }));

    auto gone = notices(alice, "disconnected");
    REQUIRE(gone.size() == 1);
    CHECK(json_of(gone[0].arg(0), "data") == R"({"username":"bob"})");
    CHECK(json_of(gone[0].arg(0), "roomId") == R"("1")");  // a string, as the Node server sent it
    CHECK(users_of(alice.last("userlist")) == std::set<std::int64_t>{7});
    REQUIRE(notices(carol, "disconnected").size() == 1);
    CHECK(json_of(notices(carol, "disconnected")[0].arg(0), "roomId") == R"("2")");
    CHECK(users_of(carol.last("userlist")) == std::set<std::int64_t>{9});
    CHECK(rooms.joined("1_0") == std::set<std::int64_t>{7});
    CHECK(rooms.joined("2_0") == std::set<std::int64_t>{9});

    // chatroom_users -> chatroom_sessions for both rooms at once.
    auto left = rooms.database.wait_for<store::UserLeftWrite>(1);
    REQUIRE(left.size() == 1);
    CHECK(left[0].user_id == 8);
    CHECK(std::set<std::int64_t>(left[0].room_ids.begin(), left[0].room_ids.end()) == std::set<std::int64_t>{1, 2});

    // He is no subscriber any more: a login now needs PHP's Connect again (D3).
    CHECK(rooms.login_answer(8, "bob") == std::vector<std::string>{"shutdown"});
}

TEST_CASE("room: Kick takes the user out of the room and stops his posts (D15)", "[room-chat]") {
    Rooms rooms;
    Client alice = rooms.member(7, "alice");
    Client bob = rooms.member(8, "bob");
    alice.forget();

    CHECK(rooms.chat.kick(chat::now_ms(), "1", std::nullopt, 8).body == R"({"success":true})");

    auto kicked = bob.last("userjustkicked");
    CHECK(json_of(kicked, "type") == R"("userjustkicked")");
    CHECK(json_of(kicked, "roomId") == "1");
    auto told = notices(bob, "kicked_from_private_room");
    REQUIRE(told.size() == 1);
    CHECK(json_of(told[0].arg(0), "data") == R"({"title":"Main"})");
    CHECK(users_of(alice.last("userlist")) == std::set<std::int64_t>{7});
    auto user_kicked = notices(alice, "user_kicked");
    REQUIRE(user_kicked.size() == 1);
    CHECK(json_of(user_kicked[0].arg(0), "data") == R"({"user":"bob"})");
    CHECK(alice.received("userjustkicked").empty());

    bob.emit("message", say("let me back"));
    alice.emit("message", say("bye"));
    CHECK(contents(alice) == std::vector<std::string>{"bye"});
    CHECK(contents(bob).empty());
    CHECK(rooms.ignored("not_in_room") == 1);

    // Someone not in the room: success, and the room hears nothing. An unknown room: D2's 404.
    alice.forget();
    CHECK(rooms.chat.kick(chat::now_ms(), "1", std::nullopt, 99).body == R"({"success":true})");
    CHECK(alice.events().empty());
    auto unknown = rooms.chat.kick(chat::now_ms(), "42", std::nullopt, 8);
    CHECK(unknown.status == 404);
    CHECK(unknown.body == R"({"status":404,"message":"Unknown room"})");
}

TEST_CASE("room: Ban takes the user out of the room and the namespace", "[room-chat]") {
    Rooms rooms;
    Client alice = rooms.member(7, "alice");
    Client bob = rooms.member(8, "bob");
    alice.forget();

    CHECK(rooms.chat.ban(chat::now_ms(), "1", 8).body == R"({"success":true})");

    auto banned = bob.last("userjustbanned");
    CHECK(banned.arg_count() == 0);  // no payload, as the Node server sent it
    CHECK(users_of(alice.last("userlist")) == std::set<std::int64_t>{7});
    auto notice = notices(alice, "user_banned");
    REQUIRE(notice.size() == 1);
    CHECK(json_of(notice[0].arg(0), "data") == R"({"user":"bob"})");
    CHECK(json_of(notice[0].arg(0), "roomId") == R"("1")");  // a string, as the Node server sent it
    CHECK(rooms.joined("1_0") == std::set<std::int64_t>{7});

    // His socket is logged out and he is no subscriber: posts are ignored, a login is refused.
    bob.emit("message", say("unfair"));
    CHECK(contents(alice).empty());
    CHECK(rooms.ignored("not_logged_in") == 1);
    bob.emit("login", R"("bob",8)");
    CHECK(bob.received("shutdown").size() == 1);

    // Banning someone who is not there changes nothing.
    CHECK(rooms.chat.ban(chat::now_ms(), "1", 99).body == R"({"success":true})");
}

TEST_CASE("room: D10: content is HTML-escaped while html_escape is on, sent and stored alike", "[room-chat]") {
    Rooms rooms;
    Client alice = rooms.member(7, "alice");
    Client bob = rooms.member(8, "bob");

    alice.emit("message", say(R"(<b>bold</b> & "quoted" &amp;)"));
    const std::string escaped = "&lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot; &amp;";  // an entity stays one
    CHECK(contents(bob) == std::vector<std::string>{escaped});
    auto stored = rooms.database.wait_for<store::RoomMessageWrite>(1);
    REQUIRE(stored.size() == 1);
    rapidjson::Document json;
    json.Parse(stored[0].json.c_str());
    CHECK(json["content"].GetString() == escaped);

    // A reload that turns it off applies to the next message.
    rooms.chat.set_options({false, grace, &rooms.metrics});
    alice.emit("message", say("<i>as typed</i>"));
    CHECK(contents(bob) == std::vector<std::string>{escaped, "<i>as typed</i>"});
}

TEST_CASE("room: D19: Engine.IO 3 and Engine.IO 4 browsers meet in the same room", "[room-chat]") {
    Rooms rooms;
    Client alice = rooms.member(7, "alice");
    rooms.chat.subscribe(8);
    rooms.chat.enter_room("1", std::nullopt, 8);
    Client legacy(rooms.server, "/ilias", net::eio::Protocol::v3);  // ILIAS 5.3 to 7
    legacy.emit("login", R"("bob",8)");
    legacy.emit("enterRoom", "1");
    CHECK(users_of(alice.last("userlist")) == std::set<std::int64_t>{7, 8});

    legacy.emit("message", say("from 2017"));
    alice.emit("message", say("from now"));
    CHECK(contents(alice) == std::vector<std::string>{"from 2017", "from now"});
    CHECK(contents(legacy) == std::vector<std::string>{"from 2017", "from now"});
}
