// A chat's whole state as a snapshot and back (docs/cluster.md, "Snapshots and catch-up"): a
// node that starts, or rebuilds after Redis was away, restores RoomChat and ImChat from the
// snapshot another node wrote. The restored state must be the same state, and the sockets of
// the node that wrote it must be known as remote sockets, so that the changes they make still
// act for their users.
//
// Each "node" is a chat fixture of its own (chat_harness.h) whose ChangeLog is clustered through
// a loopback stream: what it publishes comes straight back through receive(), as from Redis.

#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

#include "chat_harness.h"
#include "daemon/chat/change.h"
#include "daemon/chat/clock.h"
#include "daemon/chat/im_chat.h"
#include "daemon/chat/room_chat.h"

using namespace ilchat;
using test::Client;
using test::json_of;

namespace {

// Long: the grace of the user who closed their tab must still be running when the snapshot is
// taken and compared.
constexpr auto grace = std::chrono::minutes(10);

// A clustered log whose stream is this process: every published change is received at once,
// at the next stream position.
struct Loopback {
    chat::ChangeLog& log;
    int entries = 0;

    void join(const std::string& node) {
        log.publish_to(node, [this](std::string encoded) { log.receive(next_position(), encoded); });
    }
    std::string next_position() { return std::to_string(1700000000000 + ++entries) + "-0"; }
    // A change made on another node, arriving through the stream.
    void from(const std::string& node, chat::Change change) {
        change.node = node;
        log.receive(next_position(), chat::encode(change));
    }
};

struct RoomNode : test::ChatFixture {
    chat::ChangeLog log{applying_to(chat)};
    chat::RoomChat chat{"ilias", server.add_namespace("/ilias"), database.worker(), store::RoomSchema{},
                        chat::RoomChatOptions{true, grace, &metrics}, loop.timers(), log};
    Loopback stream{log};

    explicit RoomNode(const std::string& node) {
        stream.join(node);
        chat.add_main_room(1);
        chat.add_main_room(2);
    }

    // PHP's Connect, then a browser's login (with the picture flag as JSON, or none) and its
    // enterRoom of each room; the subscriber was let into them first.
    Client member(std::int64_t id, const std::string& name, const std::string& picture,
                  const std::vector<std::pair<std::string, std::optional<std::string>>>& rooms) {
        chat.subscribe(id);
        for (const auto& [room, sub] : rooms) REQUIRE(chat.enter_room(room, sub, id).body.find("true") != std::string::npos);
        Client c(server, "/ilias");
        c.emit("login", text::json_string(name) + "," + std::to_string(id) + (picture.empty() ? "" : "," + picture));
        REQUIRE(c.received("loggedIn").size() == 1);
        for (const auto& [room, sub] : rooms) c.emit("enterRoom", room + (sub ? "," + *sub : ""));
        return c;
    }

    double ignored(std::string_view reason) { return metrics.ignored_events("/ilias", reason).Value(); }
};

struct ImNode : test::ChatFixture {
    chat::ChangeLog log{applying_to(chat)};
    chat::ImChat chat{"ilias", server.add_namespace("/ilias-im"), database.worker(), loop.mailbox(),
                      chat::ImChatOptions{true, &metrics}, loop.timers(), log};
    Loopback stream{log};

    explicit ImNode(const std::string& node) { stream.join(node); }

    Client user(std::int64_t id, const std::string& name) { return test::im_user(server, id, name); }
    std::string open(Client& requester, const std::string& participants) {
        return test::open_conversation(requester, participants);
    }
};

rapidjson::Document parsed(const std::string& json) {
    rapidjson::Document doc;
    doc.Parse(json.c_str());
    REQUIRE(doc.IsObject());
    return doc;
}

// The entry of `array` (a member of the snapshot) whose `key` is `value`, as compact JSON.
const rapidjson::Value* entry(const rapidjson::Value& snapshot, const char* array, const char* key,
                             const std::string& value_json) {
    for (const auto& e : snapshot[array].GetArray())
        if (json_of(e, key) == value_json) return &e;
    return nullptr;
}

// The [socket id, node] pairs of a user in a snapshot (`array`: "subscribers" or "participants").
std::vector<std::pair<std::string, std::string>> sockets_of(const std::string& snapshot, const char* array,
                                                            std::int64_t user) {
    auto doc = parsed(snapshot);
    const rapidjson::Value* found = entry(doc, array, "id", std::to_string(user));
    REQUIRE(found);
    std::vector<std::pair<std::string, std::string>> pairs;
    for (const auto& pair : (*found)["sockets"].GetArray()) pairs.emplace_back(pair[0].GetString(), pair[1].GetString());
    return pairs;
}

// A snapshot with its sets in one order: the users, conversations and graces sorted, everything
// else (rooms, sockets, joined, participants of a conversation: lists whose order is state) as
// it is. Two snapshots of the same state are equal in this form.
std::string canonical(const std::string& snapshot) {
    auto doc = parsed(snapshot);
    const std::set<std::string> sets{"subscribers", "graces", "participants", "conversations", "accepting"};
    std::string out = "{";
    for (const auto& member : doc.GetObject()) {
        const std::string name(member.name.GetString(), member.name.GetStringLength());
        if (out.size() > 1) out += ',';
        out += text::json_string(name) + ":";
        if (!sets.count(name) || !member.value.IsArray()) {
            out += text::to_json(member.value);
            continue;
        }
        std::vector<std::string> elements;
        for (const auto& e : member.value.GetArray()) elements.push_back(text::to_json(e));
        std::sort(elements.begin(), elements.end());
        std::string list = "[";
        for (const auto& e : elements) list += (list.size() > 1 ? "," : "") + e;
        out += list + "]";
    }
    return out + "}";
}

std::string say(const std::string& content, const std::string& room_args) {
    return R"({"content":)" + text::json_string(content) + R"(,"format":{"color":"#000000"}},)" + room_args;
}

std::vector<std::string> contents(Client& client) {
    std::vector<std::string> found;
    for (auto& m : client.received("message")) found.push_back(m.arg(0)["content"].GetString());
    return found;
}

// A room state with something of every kind in it, on node-a:
//   - main rooms 1 and 2, private room 1_5 "Side" owned by 7;
//   - alice (7, picture shown, two tabs) in 1_0 and 1_5; bob (8, picture hidden) in 1_0 and 1_5;
//   - carol (9, no picture flag) allowed in 1_0 and 2_0, entered 2_0 only;
//   - dave (10) in 1_0, his only tab closed: his grace runs, kept by node-a;
//   - erin (11) Connect-ed by PHP, never logged in.
struct RoomScene {
    RoomNode a{"node-a"};
    Client alice = a.member(7, "alice", "true", {{"1", std::nullopt}});
    Client alice_tab2 = a.member(7, "alice", "true", {});
    Client bob = a.member(8, "bob", "false", {{"1", std::nullopt}});
    Client carol = a.member(9, "carol", "", {{"2", std::nullopt}});
    Client dave = a.member(10, "dave", "", {{"1", std::nullopt}});

    RoomScene() {
        REQUIRE(a.chat.create_room(chat::now_ms(), "1", std::string("5"), "7", "Side").body ==
                R"({"success":true,"subRoomId":5})");
        for (std::int64_t id : {7, 8}) a.chat.enter_room("1", std::string("5"), id);
        alice.emit("enterRoom", "1,5");
        bob.emit("enterRoom", "1,5");
        a.chat.enter_room("1", std::nullopt, 9);  // allowed in, never entered
        a.chat.subscribe(11);
        dave.close();
        a.loop.turn();
    }
};

}  // namespace

TEST_CASE("snapshot: the room state restored on another node gives the same snapshot", "[snapshot]") {
    RoomScene scene;
    const std::string snapshot = scene.a.chat.snapshot();

    // The snapshot holds what was built (so that an empty one cannot pass).
    auto doc = parsed(snapshot);
    const rapidjson::Value* side = entry(doc, "rooms", "key", R"("1_5")");
    REQUIRE(side);
    CHECK(json_of(*side, "title") == R"("Side")");
    CHECK(json_of(*side, "owner") == R"("7")");
    CHECK(json_of(*side, "joined") == "[7,8]");
    const rapidjson::Value* main = entry(doc, "rooms", "key", R"("1_0")");
    REQUIRE(main);
    CHECK(json_of(*main, "owner") == "null");
    CHECK(json_of(*main, "title") == R"("Main")");
    CHECK(json_of(*main, "subscribers") == "[7,8,9,10]");
    CHECK(json_of(*main, "joined") == "[7,8,10]");
    const rapidjson::Value* alice = entry(doc, "subscribers", "id", "7");
    REQUIRE(alice);
    CHECK(json_of(*alice, "name") == R"("alice")");
    CHECK(json_of(*alice, "picture") == "true");
    CHECK(json_of(*entry(doc, "subscribers", "id", "8"), "picture") == "false");
    CHECK(json_of(*entry(doc, "subscribers", "id", "9"), "picture") == "null");
    CHECK(json_of(*entry(doc, "subscribers", "id", "10"), "sockets") == "[]");
    CHECK(json_of(*entry(doc, "subscribers", "id", "11"), "name") == R"("")");
    const auto alice_sockets = sockets_of(snapshot, "subscribers", 7);
    REQUIRE(alice_sockets.size() == 2);
    for (const auto& [id, node] : alice_sockets) CHECK(node == "node-a");
    CHECK(test::json_of(doc, "graces") == R"([[10,"node-a"]])");

    RoomNode b{"node-b"};
    b.chat.restore(parsed(snapshot));
    CHECK(canonical(b.chat.snapshot()) == canonical(snapshot));
    CHECK(b.chat.room_count() == 3);
    // Alice's tabs are still node-a's, not node-b's.
    CHECK(sockets_of(b.chat.snapshot(), "subscribers", 7) == alice_sockets);
}

TEST_CASE("snapshot: a socket of the node that wrote the room snapshot still acts for its user", "[snapshot]") {
    RoomScene scene;
    const std::string snapshot = scene.a.chat.snapshot();
    const std::string alice_socket = sockets_of(snapshot, "subscribers", 7).at(0).first;
    const std::string bob_socket = sockets_of(snapshot, "subscribers", 8).at(0).first;

    RoomNode b{"node-b"};
    b.chat.restore(parsed(snapshot));
    // Frank, on node-b, in the main room and in the private one.
    Client frank = b.member(12, "frank", "", {{"1", std::nullopt}});
    b.chat.enter_room("1", std::string("5"), 12);
    frank.emit("enterRoom", "1,5");
    frank.forget();

    auto message = [](const std::string& socket, const std::string& args) {
        return chat::Change(chat::Change::Chat::rooms, "message", chat::now_ms())
            .acting(socket)
            .carrying(net::sio::event_payload("message", args));
    };
    // Alice's message from node-a reaches frank here, as hers.
    b.stream.from("node-a", message(alice_socket, say("hello from a", "1")));
    auto received = frank.received("message");
    REQUIRE(received.size() == 1);
    CHECK(json_of(received[0], "content") == R"("hello from a")");
    CHECK(json_of(received[0].arg(0)["from"], "username") == R"("alice")");
    CHECK(json_of(received[0].arg(0)["from"], "id") == "7");
    CHECK(json_of(received[0].arg(0)["from"], "profile_picture_visible") == "true");
    // Bob's, in the private room, too: the room ids came with the snapshot.
    b.stream.from("node-a", message(bob_socket, say("side talk", "1,5")));
    CHECK(contents(frank) == std::vector<std::string>{"hello from a", "side talk"});
    // The same change from a socket the snapshot did not know is nobody's.
    const double before = b.ignored("not_logged_in");
    b.stream.from("node-a", message("unknown-socket", say("who am I", "1")));
    CHECK(contents(frank).size() == 2);
    // Counted where the event came in (node-a), once for the cluster, not here.
    CHECK(b.ignored("not_logged_in") == before);
}

TEST_CASE("snapshot: a node restoring its own room snapshot keeps its sockets local and in their rooms",
          "[snapshot]") {
    RoomScene scene;
    const std::string snapshot = scene.a.chat.snapshot();
    scene.a.chat.restore(parsed(snapshot));
    CHECK(canonical(scene.a.chat.snapshot()) == canonical(snapshot));

    scene.bob.forget();
    scene.carol.forget();
    scene.alice.emit("message", say("after the rebuild", "1,5"));
    CHECK(contents(scene.bob) == std::vector<std::string>{"after the rebuild"});
    CHECK(contents(scene.alice_tab2).back() == "after the rebuild");
    CHECK(scene.carol.received("message").empty());  // not in 1_5
    scene.carol.emit("message", say("carol in 2", "2"));
    CHECK(contents(scene.carol) == std::vector<std::string>{"carol in 2"});
    CHECK(contents(scene.bob) == std::vector<std::string>{"after the rebuild"});
}

// An On-Screen Chat state on node-a: alice (1) and bob (2) online, carol (3) logged out; a 1:1
// of alice and bob with a latest message, a group of the three without one; usr_pref says 1 and
// 2 accept messages, so carol does not.
struct ImScene {
    ImNode a{"node-a"};
    Client alice = a.user(1, "alice");
    Client bob = a.user(2, "bob");
    std::string one_to_one, group;

    ImScene() {
        {
            Client carol = a.user(3, "carol");
            one_to_one = a.open(alice, R"([{"id":1,"name":"alice"},{"id":2,"name":"bob"}])");
            group = a.open(alice, R"([{"id":1,"name":"alice"},{"id":2,"name":"bob"},{"id":3,"name":"carol"}])");
            carol.close();
            a.loop.turn();
        }
        alice.emit("message", text::json_string(one_to_one) + R"(,1,"hi bob")");
        REQUIRE(bob.received("message").size() == 1);
        a.log.append(chat::Change(chat::Change::Chat::im, "preferences", chat::now_ms())
                         .carrying(net::sio::event_payload("preferences", "[1,2]")));
    }
};

TEST_CASE("snapshot: the On-Screen Chat state restored on another node gives the same snapshot", "[snapshot]") {
    ImScene scene;
    const std::string snapshot = scene.a.chat.snapshot();

    auto doc = parsed(snapshot);
    const rapidjson::Value* one_to_one = entry(doc, "conversations", "id", text::json_string(scene.one_to_one));
    REQUIRE(one_to_one);
    CHECK(json_of(*one_to_one, "group") == "false");
    CHECK(json_of(*one_to_one, "participants") == "[1,2]");
    REQUIRE((*one_to_one).HasMember("latest"));
    CHECK(json_of((*one_to_one)["latest"], "message") == R"("hi bob")");
    CHECK(json_of((*one_to_one)["latest"], "user") == "1");
    const rapidjson::Value* group = entry(doc, "conversations", "id", text::json_string(scene.group));
    REQUIRE(group);
    CHECK(json_of(*group, "group") == "true");
    CHECK_FALSE((*group).HasMember("latest"));
    const rapidjson::Value* carol = entry(doc, "participants", "id", "3");
    REQUIRE(carol);
    CHECK(json_of(*carol, "online") == "false");
    CHECK(json_of(*carol, "accepts") == "false");
    CHECK(json_of(*carol, "sockets") == "[]");
    CHECK(json_of(*entry(doc, "participants", "id", "1"), "accepts") == "true");
    CHECK(json_of(*entry(doc, "participants", "id", "2"), "online") == "true");
    REQUIRE(doc.HasMember("accepting"));
    CHECK(std::set<std::int64_t>{doc["accepting"][0].GetInt64(), doc["accepting"][1].GetInt64()} ==
          std::set<std::int64_t>{1, 2});
    const auto alice_sockets = sockets_of(snapshot, "participants", 1);
    REQUIRE(alice_sockets.size() == 1);
    CHECK(alice_sockets[0].second == "node-a");

    ImNode b{"node-b"};
    b.chat.restore(parsed(snapshot));
    CHECK(canonical(b.chat.snapshot()) == canonical(snapshot));
    CHECK(b.chat.conversation_count() == 2);
    CHECK(sockets_of(b.chat.snapshot(), "participants", 1) == alice_sockets);
}

TEST_CASE("snapshot: a socket of the node that wrote the On-Screen Chat snapshot still acts for its user",
          "[snapshot]") {
    ImScene scene;
    const std::string snapshot = scene.a.chat.snapshot();
    const std::string alice_socket = sockets_of(snapshot, "participants", 1).at(0).first;

    ImNode b{"node-b"};
    b.chat.restore(parsed(snapshot));
    Client bob = b.user(2, "bob");  // bob's second tab, on node-b
    bob.forget();

    auto message = [&](const std::string& socket, std::int64_t user, const std::string& text) {
        return chat::Change(chat::Change::Chat::im, "message", 1700000001234)
            .acting(socket)
            .carrying(net::sio::event_payload(
                          "message", text::json_string(scene.one_to_one) + "," + std::to_string(user) + "," +
                                         text::json_string(text)),
                      "5d1f0c7e-0000-4000-8000-000000000001");
    };
    b.stream.from("node-a", message(alice_socket, 1, "hello from a"));
    auto received = bob.received("message");
    REQUIRE(received.size() == 1);
    CHECK(json_of(received[0], "message") == R"("hello from a")");
    CHECK(json_of(received[0], "userId") == "1");
    CHECK(json_of(received[0], "conversationId") == text::json_string(scene.one_to_one));
    CHECK(json_of(received[0], "id") == R"("5d1f0c7e-0000-4000-8000-000000000001")");
    CHECK(json_of(received[0], "timestamp") == "1700000001234");
    // The latest message is the new one now, on node-b too.
    CHECK(json_of(bob.last("conversation").arg(0)["latestMessage"], "message") == R"("hello from a")");
    // The node that did not make the change writes nothing.
    b.loop.run_for(std::chrono::milliseconds(50));
    CHECK(b.database.writes_of<store::ImMessageWrite>().empty());

    // Alice's socket cannot act as bob (D5), and a socket the snapshot did not know as anyone.
    b.stream.from("node-a", message(alice_socket, 2, "spoofed"));
    b.stream.from("node-a", message("unknown-socket", 1, "stranger"));
    CHECK(bob.received("message").size() == 1);
}

// The same state gives the same snapshot text, on every node and after a restore, so that
// snapshots compare as text: hash containers are written in key order.
TEST_CASE("snapshot: a restored chat writes the very same snapshot text", "[snapshot]") {
    RoomScene rooms;
    const std::string room_snapshot = rooms.a.chat.snapshot();
    RoomNode b{"node-b"};
    b.chat.restore(parsed(room_snapshot));
    CHECK(b.chat.snapshot() == room_snapshot);

    ImScene im;
    const std::string im_snapshot = im.a.chat.snapshot();
    ImNode c{"node-b"};
    c.chat.restore(parsed(im_snapshot));
    CHECK(c.chat.snapshot() == im_snapshot);
}
