// The rules of the On-Screen Chat (ImChat, namespace /<name>-im;
// docs/protocol.md, "The chat namespaces"), driven through the real Engine.IO and Socket.IO
// servers by polling clients (chat_harness.h). The database never answers, so reads come back
// empty at once (as during an outage) and writes are read back from the worker's spool.
// Decision numbers are those of docs/decisions.md.

#include <catch2/catch.hpp>

#include <set>

#include "chat_harness.h"
#include "daemon/chat/im_chat.h"

using namespace ilchat;
using test::Client;
using test::json_of;

namespace {

struct Im : test::ChatFixture {
    chat::ChangeLog log{applying_to(chat)};
    chat::ImChat chat{"ilias", server.add_namespace("/ilias-im"), database.worker(), loop.mailbox(),
                      chat::ImChatOptions{true, &metrics}, loop.timers(), log};

    Client user(std::int64_t id, const std::string& name) { return test::im_user(server, id, name); }
    std::string open(Client& requester, const std::string& participants) {
        return test::open_conversation(requester, participants);
    }

    double ignored(std::string_view reason) { return metrics.ignored_events("/ilias-im", reason).Value(); }
};

constexpr const char* alice_bob = R"([{"id":1,"name":"alice"},{"id":2,"name":"bob"}])";
constexpr const char* alice_bob_carol = R"([{"id":1,"name":"alice"},{"id":2,"name":"bob"},{"id":3,"name":"carol"}])";

// The `message` argument list: conversationId, userId, text.
std::string message(const std::string& conversation, std::int64_t user, const std::string& text) {
    return text::json_string(conversation) + "," + std::to_string(user) + "," + text::json_string(text);
}

std::vector<std::string> texts(Client& client) {
    std::vector<std::string> found;
    for (auto& m : client.received("message")) found.push_back(m.arg(0)["message"].GetString());
    return found;
}

std::set<std::int64_t> participants_of(const rapidjson::Value& conversation) {
    std::set<std::int64_t> ids;
    for (const auto& p : conversation["participants"].GetArray()) ids.insert(p["id"].GetInt64());
    return ids;
}

std::vector<std::string> stored_texts(const std::vector<store::ImMessageWrite>& writes) {
    std::vector<std::string> found;
    for (const auto& w : writes) found.push_back(w.message.message);
    return found;
}

}  // namespace

TEST_CASE("im: D6: the same participants in any order find the same conversation, others a new one", "[im-chat]") {
    Im im;
    Client alice = im.user(1, "alice");
    Client bob = im.user(2, "bob");

    const std::string one_to_one = im.open(alice, alice_bob);
    auto init = alice.last("conversation-init");
    CHECK(json_of(init, "isGroup") == "false");
    CHECK(json_of(init, "participants") == R"([{"id":1,"name":"alice"},{"id":2,"name":"bob"}])");
    CHECK(json_of(init, "latestMessage") == "null");  // the database had nothing to say

    CHECK(im.open(bob, R"([{"id":2,"name":"bob"},{"id":1,"name":"alice"}])") == one_to_one);
    CHECK(im.open(alice, alice_bob) == one_to_one);

    // A superset is not a match (Node's rule was): three people make a group of their own.
    const std::string group = im.open(alice, alice_bob_carol);
    CHECK(group != one_to_one);
    CHECK(json_of(alice.last("conversation-init").arg(0), "isGroup") == "true");

    // A request without the requester is refused: the next answer is for the request after it.
    alice.emit("conversation", R"([{"id":2,"name":"bob"},{"id":3,"name":"carol"}])");
    CHECK(im.open(alice, alice_bob) == one_to_one);

    // D16: each new conversation is INSERTed once, with all of its participants.
    auto written = im.database.wait_for<store::ConversationWrite>(2);
    REQUIRE(written.size() == 2);
    CHECK(written[0].insert);
    CHECK(written[0].conversation.id == one_to_one);
    CHECK(written[0].conversation.participants_json == R"([{"id":1,"name":"alice"},{"id":2,"name":"bob"}])");
    CHECK(written[1].insert);
    CHECK(written[1].conversation.id == group);
    CHECK(written[1].conversation.is_group);
}

TEST_CASE("im: a message reaches the participants who accept messages and tells the sender who does not",
          "[im-chat]") {
    Im im;
    Client alice = im.user(1, "alice");
    Client bob = im.user(2, "bob");
    const std::string id = im.open(alice, alice_bob);

    alice.emit("message", message(id, 1, "hello"));
    for (Client* participant : {&alice, &bob}) {
        auto m = participant->last("message");
        CHECK(json_of(m, "conversationId") == text::json_string(id));
        CHECK(json_of(m, "userId") == "1");
        CHECK(json_of(m, "message") == R"("hello")");
        // D7: the conversation that comes with it carries this message as its latest.
        auto c = participant->last("conversation");
        CHECK(json_of(c.arg(0)["latestMessage"], "message") == R"("hello")");
    }

    // Backend UserConfigChange (D20): bob stops accepting messages, at once.
    auto answer = im.chat.user_config_change(R"({"2":{"acceptsMessages":false}})");
    CHECK(answer.status == 200);
    CHECK(answer.body == R"({"status":200})");
    bob.forget();

    alice.emit("message", message(id, 1, "anyone?"));
    CHECK(texts(alice) == std::vector<std::string>{"hello", "anyone?"});
    auto suppressed = alice.last("participantsSuppressedMessages");
    CHECK(json_of(suppressed, "message") == R"("anyone?")");
    CHECK(json_of(suppressed, "ignoredParticipants") == R"({"2":2})");
    CHECK(bob.events().empty());

    // A sender who does not accept messages is told so, and nothing goes out or is stored.
    bob.emit("message", message(id, 2, "but I can write?"));
    CHECK(json_of(bob.last("senderSuppressesMessages").arg(0), "message") == R"("but I can write?")");
    CHECK(bob.received("message").empty());
    CHECK(texts(alice).size() == 2);

    im.chat.user_config_change(R"({"2":{"acceptsMessages":true}})");
    alice.emit("message", message(id, 1, "welcome back"));
    CHECK(texts(bob) == std::vector<std::string>{"welcome back"});

    // Stored whenever the sender accepts, in order; bob's refused message is not among them.
    auto stored = im.database.wait_for<store::ImMessageWrite>(3);
    CHECK(stored_texts(stored) == std::vector<std::string>{"hello", "anyone?", "welcome back"});
    CHECK(im.metrics.chat_messages("osc").Value() == 3);
}

TEST_CASE("im: addUser turns a 1:1 into a new group, and adds to a group in place", "[im-chat]") {
    Im im;
    Client alice = im.user(1, "alice");
    Client bob = im.user(2, "bob");
    Client carol = im.user(3, "carol");
    Client dave = im.user(4, "dave");
    const std::string one_to_one = im.open(alice, alice_bob);

    alice.emit("addUser", text::json_string(one_to_one) + R"(,3,"carol")");
    auto added = alice.last("addUser");
    const std::string group = added.arg(0)["id"].GetString();
    CHECK(group != one_to_one);
    CHECK(json_of(added, "isGroup") == "true");
    CHECK(participants_of(added.arg(0)) == std::set<std::int64_t>{1, 2, 3});
    CHECK(json_of(alice.last("conversation").arg(0), "id") == text::json_string(group));

    // The 1:1 stays private: carol hears nothing of it. The group reaches all three.
    alice.emit("message", message(one_to_one, 1, "just us"));
    alice.emit("message", message(group, 1, "all of us"));
    CHECK(texts(bob) == std::vector<std::string>{"just us", "all of us"});
    CHECK(texts(carol) == std::vector<std::string>{"all of us"});

    // On a group, the user joins the same conversation.
    alice.emit("addUser", text::json_string(group) + R"(,4,"dave")");
    auto grown = alice.last("addUser");
    CHECK(json_of(grown, "id") == text::json_string(group));
    CHECK(participants_of(grown.arg(0)) == std::set<std::int64_t>{1, 2, 3, 4});
    carol.emit("message", message(group, 3, "hi dave"));
    CHECK(texts(dave) == std::vector<std::string>{"hi dave"});

    // The 1:1 and the group INSERTed once each (D16); dave's arrival UPDATEs the group.
    auto written = im.database.wait_for<store::ConversationWrite>(3);
    REQUIRE(written.size() == 3);
    CHECK((written[0].insert && written[0].conversation.id == one_to_one));
    CHECK((written[1].insert && written[1].conversation.id == group));
    CHECK((!written[2].insert && written[2].conversation.id == group));
    CHECK(written[2].conversation.participants_json ==
          R"([{"id":1,"name":"alice"},{"id":2,"name":"bob"},{"id":3,"name":"carol"},{"id":4,"name":"dave"}])");
}

TEST_CASE("im: D5: events naming another user than the socket's are ignored", "[im-chat]") {
    Im im;
    Client alice = im.user(1, "alice");
    Client bob = im.user(2, "bob");
    const std::string id = im.open(alice, alice_bob);

    alice.emit("message", message(id, 2, "I am bob"));
    alice.emit("userStartedTyping", text::json_string(id) + ",2");
    CHECK(bob.received("message").empty());
    CHECK(alice.received("message").empty());
    CHECK(bob.received("userStartedTyping").empty());
    CHECK(im.ignored("spoofed_user") == 2);

    // Under her own id it goes through, and typing reaches the others only.
    alice.emit("userStartedTyping", text::json_string(id) + ",1");
    CHECK(json_of(bob.last("userStartedTyping").arg(0), "participant") == R"({"id":1,"name":"alice"})");
    CHECK(alice.received("userStartedTyping").empty());
}

TEST_CASE("im: D17: only a participant may remove someone", "[im-chat]") {
    Im im;
    Client alice = im.user(1, "alice");
    Client bob = im.user(2, "bob");
    Client mallory = im.user(9, "mallory");
    const std::string group = im.open(alice, alice_bob_carol);

    mallory.emit("removeUser", text::json_string(group) + ",2");
    CHECK(mallory.received("removeUser").empty());
    CHECK(bob.received("conversation").empty());

    alice.emit("removeUser", text::json_string(group) + ",3");
    CHECK(participants_of(alice.last("removeUser").arg(0)) == std::set<std::int64_t>{1, 2});
    CHECK(participants_of(bob.last("conversation").arg(0)) == std::set<std::int64_t>{1, 2});

    // Only alice's removal was written: the INSERT, then one UPDATE without carol.
    auto written = im.database.wait_for<store::ConversationWrite>(2);
    REQUIRE(written.size() == 2);
    CHECK(!written[1].insert);
    CHECK(written[1].conversation.participants_json == R"([{"id":1,"name":"alice"},{"id":2,"name":"bob"}])");
}
