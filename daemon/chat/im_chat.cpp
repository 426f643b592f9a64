#include "daemon/chat/im_chat.h"

#include <algorithm>
#include <ctime>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include "common/text/json.h"
#include "daemon/chat/clock.h"
#include "daemon/chat/html_escape.h"
#include "daemon/chat/logged_in.h"
#include "daemon/net/random_id.h"
#include "daemon/metrics/metrics.h"

namespace ilchat::chat {

namespace {

using net::HttpResponse;
using net::sio::Event;
using net::sio::Socket;
using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void put_string(Writer& w, std::string_view text) { w.String(text.data(), static_cast<rapidjson::SizeType>(text.size())); }

// {"id":6,"name":"root"}
std::string participant_json(std::int64_t id, std::string_view name) {
    rapidjson::StringBuffer buffer;
    Writer w(buffer);
    w.StartObject();
    w.Key("id");
    w.Int64(id);
    w.Key("name");
    put_string(w, name);
    w.EndObject();
    return buffer.GetString();
}

// Argument i as an integer (number or numeric string); absent or null: nothing.
std::optional<std::int64_t> int_arg(const Event& e, std::size_t i) {
    if (e.arg_count() <= i || e.arg(i).IsNull()) return std::nullopt;
    return text::integer_of(e.arg(i));
}

std::optional<std::string> string_arg(const Event& e, std::size_t i) {
    if (e.arg_count() <= i || !e.arg(i).IsString()) return std::nullopt;
    return std::string(e.arg(i).GetString(), e.arg(i).GetStringLength());
}

// A message row as the Node server hands it out: the columns plus camel-case aliases.
void write_row(Writer& w, const store::StoredMessage& m) {
    w.StartObject();
    w.Key("id");
    put_string(w, m.id);
    w.Key("conversation_id");
    put_string(w, m.conversation_id);
    w.Key("user_id");
    w.Int64(m.user_id);
    w.Key("message");
    put_string(w, m.message);
    w.Key("timestamp");
    w.Int64(m.timestamp);
    w.Key("userId");
    w.Int64(m.user_id);
    w.Key("conversationId");
    put_string(w, m.conversation_id);
    w.EndObject();
}

// {conversationId, userId, message, timestamp, id} (+ ignoredParticipants).
std::string message_object(const store::StoredMessage& m, const std::vector<std::int64_t>& ignored = {}) {
    rapidjson::StringBuffer buffer;
    Writer w(buffer);
    w.StartObject();
    w.Key("conversationId");
    put_string(w, m.conversation_id);
    w.Key("userId");
    w.Int64(m.user_id);
    w.Key("message");
    put_string(w, m.message);
    w.Key("timestamp");
    w.Int64(m.timestamp);
    w.Key("id");
    put_string(w, m.id);
    if (!ignored.empty()) {
        w.Key("ignoredParticipants");
        w.StartObject();
        for (auto id : ignored) {
            std::string key = std::to_string(id);
            put_string(w, key);
            w.Int64(id);
        }
        w.EndObject();
    }
    w.EndObject();
    return buffer.GetString();
}

// Milliseconds to the next :00, :20 or :40 of the local clock.
std::chrono::milliseconds until_next_twenty_minutes() {
    const auto now = std::chrono::system_clock::now();
    const std::time_t t = std::chrono::system_clock::to_time_t(now);
    std::tm local{};
    localtime_r(&t, &local);
    const auto ms_in_second =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    const long seconds_left = (20 - local.tm_min % 20) * 60L - local.tm_sec;
    return std::chrono::milliseconds(seconds_left * 1000 - ms_in_second);
}

}  // namespace

bool ImChat::Conversation::has(std::int64_t user) const {
    return std::find(participants.begin(), participants.end(), user) != participants.end();
}

ImChat::ImChat(std::string client_name, net::sio::Namespace& nsp, store::DatabaseWorker& database, Mailbox& network,
               ImChatOptions options, net::TimerQueue& timers, ChangeLog& log)
    : client_name_(std::move(client_name)),
      nsp_(nsp),
      database_(database),
      network_(network),
      options_(options),
      log_(log),
      preference_timer_(timers, [this] {
          // A failed read keeps the preferences as they are; everyone refused would be wrong. In a
          // cluster one node reads for all.
          if (log_.runs_periodic_jobs())
              query<std::unordered_set<std::int64_t>>(
                  store::accepting_users,
                  [this](auto accepting) { publish_preferences("preferences", {}, accepting); }, true);
          schedule_preference_refresh();
      }),
      preference_lookup_(timers, [this] { read_new_preferences(); }) {
    nsp_.on_connect([](Socket& socket) { spdlog::debug("New IM Connection with SocketId: {}", socket.id()); });
    for (const auto& [name, entry] : events()) nsp_.on(std::string(name), [this](Socket& s, const Event& e) { submit(s, e); });
    nsp_.on_disconnect([this](Socket& s, std::string_view) {
        log_.append(Change(Change::Chat::im, "disconnect", now_ms()).acting(s.id(), logged_in_user(&s).value_or(0)));
    });
}

const std::unordered_map<std::string_view, ImChat::EventEntry>& ImChat::events() {
    static const std::unordered_map<std::string_view, EventEntry> table{
        {"login", {[](ImChat& c, const Applying& a, const Event& e) { c.on_login(a, e); }, false}},
        {"conversations", {[](ImChat& c, const Applying& a, const Event&) { c.on_conversations(a); }, false}},
        {"conversation", {[](ImChat& c, const Applying& a, const Event& e) { c.on_conversation(a, e); }, true}},
        {"addUser", {[](ImChat& c, const Applying& a, const Event& e) { c.on_add_user(a, e); }, true}},
        {"removeUser", {[](ImChat& c, const Applying& a, const Event& e) { c.on_remove_user(a, e); }, false}},
        {"message", {[](ImChat& c, const Applying& a, const Event& e) { c.on_message(a, e); }, true}},
        {"history", {[](ImChat& c, const Applying& a, const Event& e) { c.on_history(a, e); }, false}},
        {"activity", {[](ImChat& c, const Applying& a, const Event& e) { c.on_activity(a, e); }, false}},
        {"closeConversation", {[](ImChat& c, const Applying& a, const Event& e) { c.on_close_conversation(a, e); }, false}},
        {"userStartedTyping", {[](ImChat& c, const Applying& a, const Event& e) { c.on_typing(a, e, true); }, false}},
        {"userStoppedTyping", {[](ImChat& c, const Applying& a, const Event& e) { c.on_typing(a, e, false); }, false}},
    };
    return table;
}

void ImChat::submit(Socket& socket, const Event& event) {
    const bool takes_id = events().at(event.name).takes_id;
    log_.append(Change(Change::Chat::im, std::string(event.name), now_ms())
                    .acting(socket.id())
                    .carrying({}, takes_id ? net::uuid_v4() : ""),
                &event.payload);
}

void ImChat::apply(const Change& change, const rapidjson::Value& payload, bool own) {
    const Applying a{change, change.socket.empty() ? nullptr : nsp_.find(change.socket), own};
    const Event event{change.kind, payload, {}, std::nullopt};
    if (a.change.kind == "disconnect") on_disconnect(a);
    else if (a.change.kind == "emit") on_emit(a, event);
    else if (a.change.kind == "node_gone") on_node_gone(event);
    else if (a.change.kind == "preferences" || a.change.kind == "preferences_of") on_preferences(a, event);
    else if (a.change.kind == "forget") {
        if (event.arg_count() > 0 && event.arg(0).IsArray())
            for (const auto& id : event.arg(0).GetArray())
                if (id.IsString()) conversations_.erase(std::string(id.GetString(), id.GetStringLength()));
    } else if (auto entry = events().find(a.change.kind); entry != events().end()) entry->second.handler(*this, a, event);
    else spdlog::warn("Cluster: On-Screen Chat change \"{}\" unknown to this version, skipped", a.change.kind);
}

ImChat::~ImChat() {
    nsp_.on_connect(nullptr);
    nsp_.on_disconnect(nullptr);
}

template <class Result>
void ImChat::query(std::function<Result(db::Connection&)> run, std::function<void(Result)> then,
                   bool skip_when_unavailable) {
    std::weak_ptr<bool> alive = alive_;
    Mailbox* network = &network_;
    auto answer = [then = std::move(then), alive, network](std::shared_ptr<Result> result) {
        network->post([then, alive, result] {
            if (alive.lock()) then(std::move(*result));
        });
    };
    // A read that cannot be served (database away) answers with an empty result, so the client
    // gets an empty list or history rather than nothing at all.
    std::function<void()> unavailable;
    if (!skip_when_unavailable) unavailable = [answer] { answer(std::make_shared<Result>()); };
    database_.read([run = std::move(run), answer](db::Connection& db) { answer(std::make_shared<Result>(run(db))); },
                   std::move(unavailable));
}

// ---------------------------------------------------------------------------------------------
// State

ImChat::Participant& ImChat::participant(std::int64_t id, std::string_view name, bool own) {
    auto [it, created] = participants_.try_emplace(id);
    Participant& p = it->second;
    if (created) {
        p.id = id;
        p.accepts_messages = !accepting_ || accepting_->count(id);
        if (accepting_ && own) {
            unread_preferences_.push_back(id);
            if (!preference_lookup_.running()) preference_lookup_.start(std::chrono::milliseconds(0));
        }
    }
    // Only a user's own login renames them; others' requests just introduce unknown users.
    if (p.name.empty()) p.name = name;
    return p;
}

ImChat::Conversation* ImChat::find_conversation(const rapidjson::Value& id) {
    if (!id.IsString()) return nullptr;
    auto found = conversations_.find(std::string(id.GetString(), id.GetStringLength()));
    return found == conversations_.end() ? nullptr : &found->second;
}

ImChat::Conversation& ImChat::create_conversation(const Applying& a, std::vector<std::int64_t> participants,
                                                   bool is_group) {
    Conversation c;
    c.id = a.change.id;
    c.participants = std::move(participants);
    c.is_group = is_group;
    auto& created = conversations_.emplace(c.id, std::move(c)).first->second;
    // docs/decisions.md D16: one INSERT with the whole participant list.
    write(a, store::ConversationWrite{true, stored(created)});
    return created;
}

bool ImChat::add_stored_conversation(const store::StoredConversation& row) {
    rapidjson::Document participants;
    participants.Parse(row.participants_json.c_str());
    if (participants.HasParseError() || !participants.IsArray()) return false;
    Conversation c;
    c.id = row.id;
    c.is_group = row.is_group;
    for (const auto& entry : participants.GetArray()) {
        if (!entry.IsObject() || !entry.HasMember("id")) return false;
        auto id = text::integer_of(entry["id"]);
        if (!id || *id <= 0 || c.has(*id)) continue;
        std::string_view name = entry.HasMember("name") && entry["name"].IsString()
                                    ? std::string_view(entry["name"].GetString(), entry["name"].GetStringLength())
                                    : std::string_view{};
        participant(*id, name, false);
        c.participants.push_back(*id);
    }
    conversations_.insert_or_assign(c.id, std::move(c));
    return true;
}

void ImChat::forget_conversations(const std::vector<std::string>& ids) {
    std::string list;
    for (const auto& id : ids) list += (list.empty() ? "" : ",") + text::json_string(id);
    log_.append(Change(Change::Chat::im, "forget", now_ms()).carrying(net::sio::event_payload("forget", "[" + list + "]")));
}

store::StoredConversation ImChat::stored(const Conversation& c) const {
    rapidjson::StringBuffer buffer;
    Writer w(buffer);
    w.StartArray();
    for (auto id : c.participants) {
        auto found = participants_.find(id);
        w.StartObject();
        w.Key("id");
        w.Int64(id);
        w.Key("name");
        put_string(w, found == participants_.end() ? std::string_view{} : std::string_view(found->second.name));
        w.EndObject();
    }
    w.EndArray();
    return {c.id, c.is_group, buffer.GetString()};
}

std::string ImChat::conversation_json(const Conversation& c, std::int64_t new_messages) const {
    rapidjson::StringBuffer buffer;
    Writer w(buffer);
    w.StartObject();
    w.Key("id");
    put_string(w, c.id);
    w.Key("participants");
    const std::string participants = stored(c).participants_json;
    w.RawValue(participants.data(), participants.size(), rapidjson::kArrayType);
    w.Key("latestMessage");
    if (c.latest_message) write_row(w, *c.latest_message);
    else w.Null();
    w.Key("numNewMessages");
    w.Int64(new_messages);
    w.Key("isGroup");
    w.Bool(c.is_group);
    w.EndObject();
    return buffer.GetString();
}

void ImChat::emit_to_participant(const Participant& p, std::string_view event, const std::string& json) {
    std::vector<Socket*> sockets;
    for (const auto& id : p.sockets)
        if (Socket* s = nsp_.find(id)) sockets.push_back(s);
    nsp_.emit_to(sockets, event, json);
}

void ImChat::answer(std::int64_t user, std::string_view event, const std::string& json) {
    auto p = participants_.find(user);
    if (p == participants_.end()) return;
    if (!log_.clustered()) {
        emit_to_participant(p->second, event, json);
        return;
    }
    log_.append(Change(Change::Chat::im, "emit", now_ms())
                    .acting({}, user)
                    .carrying(net::sio::event_payload("emit", text::json_string(event) + "," + json)));
}

void ImChat::on_emit(const Applying& a, const Event& event) {
    // Made by answer(): the event name, then its argument.
    if (event.arg_count() < 2 || !event.arg(0).IsString()) return;
    if (auto p = participants_.find(a.change.user); p != participants_.end())
        emit_to_participant(p->second, std::string_view(event.arg(0).GetString(), event.arg(0).GetStringLength()),
                            text::to_json(event.arg(1)));
}

ImChat::Participant* ImChat::actor(const Applying& a, std::optional<std::int64_t> claimed_user, std::string_view event) {
    const auto user = remote_sockets_.user_of(a.change, logged_in_user(a.socket));
    auto count = [&](std::string_view reason) {
        if (options_.metrics && a.own) options_.metrics->ignored_events("/" + client_name_ + "-im", reason).Increment();
    };
    if (!user) {
        spdlog::warn("IM {} ignored in namespace {}-im: socket not logged in", event, client_name_);
        count("not_logged_in");
        return nullptr;
    }
    if (claimed_user && *claimed_user != *user) {
        // docs/decisions.md D5: a socket acts only as the participant it logged in as.
        spdlog::warn("IM {} ignored in namespace {}-im: socket of user {} claims to be user {}", event, client_name_,
                     *user, *claimed_user);
        count("spoofed_user");
        return nullptr;
    }
    auto found = participants_.find(*user);
    return found == participants_.end() ? nullptr : &found->second;
}

// ---------------------------------------------------------------------------------------------
// Events

void ImChat::on_login(const Applying& a, const Event& event) {
    auto id = int_arg(event, 0);
    if (!id || *id <= 0) {
        spdlog::warn("IM login ignored in namespace {}-im: no user id", client_name_);
        return;
    }
    Participant& p = participant(*id, {}, a.own);
    if (auto name = string_arg(event, 1)) p.name = *name;
    if (std::find(p.sockets.begin(), p.sockets.end(), a.change.socket) == p.sockets.end())
        p.sockets.push_back(a.change.socket);
    p.online = true;
    spdlog::info("Participant {} connected for namespace {}-im", p.name, client_name_);
    if (!a.socket) {
        remote_sockets_.logged_in(a.change, p.id);
        return;
    }
    a.socket->attachment = std::make_unique<LoggedIn>(p.id);
    a.socket->emit("login", participant_json(p.id, p.name));
    on_conversations(a);
}

void ImChat::on_conversations(const Applying& a) {
    // A read: the node of the asking socket answers.
    if (!a.own) return;
    Participant* p = actor(a, std::nullopt, "conversations");
    if (!p) return;
    struct State {
        std::string id;
        bool closed = false;
        std::optional<store::StoredMessage> latest;
        std::int64_t unread = 0;
    };
    std::vector<std::string> ids;
    for (const auto& [id, c] : conversations_)
        if (c.has(p->id)) ids.push_back(id);
    const std::int64_t user = p->id;
    query<std::vector<State>>(
        [ids, user](db::Connection& db) {
            std::vector<State> states;
            for (const auto& id : ids) {
                auto activity = store::activity(db, id, user);
                states.push_back({id, activity && activity->is_closed, store::latest_message(db, id),
                                  store::count_unread(db, id, user)});
            }
            return states;
        },
        [this, user](std::vector<State> states) {
            for (auto& state : states) {
                auto c = conversations_.find(state.id);
                if (c == conversations_.end()) continue;
                c->second.latest_message = std::move(state.latest);
                // Closed conversations come back only when a 1:1 has unread messages.
                if (!state.closed || (state.unread > 0 && !c->second.is_group))
                    answer(user, "conversation", conversation_json(c->second, state.unread));
            }
        });
}

void ImChat::on_conversation(const Applying& a, const Event& event) {
    Participant* requester = actor(a, std::nullopt, "conversation");
    if (!requester || event.arg_count() < 1 || !event.arg(0).IsArray()) return;
    // The whole request is checked before anyone is created: a refused request changes nothing.
    std::vector<std::pair<std::int64_t, std::string_view>> requested;
    for (const auto& entry : event.arg(0).GetArray()) {
        if (!entry.IsObject() || !entry.HasMember("id")) {
            spdlog::warn("Cannot initiate conversation, non object passed: {}", text::to_json(entry));
            return;
        }
        auto id = text::integer_of(entry["id"]);
        if (!id || *id <= 0 || std::any_of(requested.begin(), requested.end(), [&](auto& r) { return r.first == *id; }))
            continue;
        const auto name = entry.FindMember("name");
        requested.emplace_back(*id, name != entry.MemberEnd() && name->value.IsString()
                                        ? std::string_view(name->value.GetString(), name->value.GetStringLength())
                                        : std::string_view{});
    }
    if (std::none_of(requested.begin(), requested.end(), [&](auto& r) { return r.first == requester->id; })) {
        spdlog::warn("IM conversation ignored in namespace {}-im: user {} is not among the participants",
                     client_name_, requester->id);
        return;
    }
    std::vector<std::int64_t> ids;
    for (const auto& [id, name] : requested) ids.push_back(participant(id, name, a.own).id);
    // docs/decisions.md D6: the conversation with exactly these participants.
    std::vector<std::int64_t> wanted = ids;
    std::sort(wanted.begin(), wanted.end());
    Conversation* match = nullptr;
    for (auto& [id, c] : conversations_) {
        std::vector<std::int64_t> have = c.participants;
        std::sort(have.begin(), have.end());
        if (!have.empty() && have == wanted) {
            match = &c;
            break;
        }
    }
    Conversation& c = match ? *match : create_conversation(a, ids, ids.size() > 2);
    if (!a.own) return;
    const std::string id = c.id;
    const std::int64_t user = requester->id;
    query<std::optional<store::StoredMessage>>(
        [id](db::Connection& db) { return store::latest_message(db, id); },
        [this, id, user](std::optional<store::StoredMessage> latest) {
            auto c = conversations_.find(id);
            if (c == conversations_.end()) return;
            if (latest) c->second.latest_message = std::move(latest);
            answer(user, "conversation-init", conversation_json(c->second));
        });
}

void ImChat::on_add_user(const Applying& a, const Event& event) {
    Participant* requester = actor(a, std::nullopt, "addUser");
    auto user_id = int_arg(event, 1);
    auto name = string_arg(event, 2);
    Conversation* c = event.arg_count() > 0 ? find_conversation(event.arg(0)) : nullptr;
    if (!requester || !user_id || *user_id <= 0 || !name || !c || !c->has(requester->id)) return;
    if (c->has(*user_id)) {
        spdlog::info("IM addUser: user {} is already in conversation {}", *user_id, c->id);
        return;
    }
    Participant& added = participant(*user_id, *name, a.own);
    Conversation* target = c;
    if (!c->is_group) {
        // A 1:1 conversation stays as it is; the group is a new conversation.
        std::vector<std::int64_t> members = c->participants;
        members.push_back(added.id);
        target = &create_conversation(a, members, true);
    } else {
        target->participants.push_back(added.id);
        write(a, store::ConversationWrite{false, stored(*target)});
    }
    write(a, store::ActivityWrite{target->id, target->participants, 0});
    const std::string json = conversation_json(*target);
    emit_to_participant(*requester, "conversation", json);
    if (a.socket) a.socket->emit("addUser", json);
}

void ImChat::on_remove_user(const Applying& a, const Event& event) {
    Participant* requester = actor(a, std::nullopt, "removeUser");
    auto user_id = int_arg(event, 1);
    Conversation* c = event.arg_count() > 0 ? find_conversation(event.arg(0)) : nullptr;
    // docs/decisions.md D17: only a participant may remove someone.
    if (!requester || !user_id || !c || !c->has(requester->id) || !c->has(*user_id)) return;
    c->participants.erase(std::remove(c->participants.begin(), c->participants.end(), *user_id), c->participants.end());
    write(a, store::ConversationWrite{false, stored(*c)});
    const std::string json = conversation_json(*c);
    emit_to_participant(*requester, "removeUser", json);
    for (auto member : c->participants) {
        const Participant& p = participants_.at(member);
        if (p.accepts_messages) emit_to_participant(p, "conversation", json);
    }
}

void ImChat::on_message(const Applying& a, const Event& event) {
    auto user_id = int_arg(event, 1);
    Participant* sender = user_id ? actor(a, user_id, "message") : nullptr;
    Conversation* c = event.arg_count() > 0 ? find_conversation(event.arg(0)) : nullptr;
    if (!sender || !c || !c->has(sender->id) || event.arg_count() < 3 || event.arg(2).IsNull()) return;
    std::string text = event.arg(2).IsString() ? std::string(event.arg(2).GetString(), event.arg(2).GetStringLength())
                                               : text::to_json(event.arg(2));
    if (options_.html_escape) text = html_escape(text);
    store::StoredMessage message{a.change.id, c->id, sender->id, std::move(text), a.change.ts};
    if (!sender->accepts_messages) {
        emit_to_participant(*sender, "senderSuppressesMessages", message_object(message));
        return;
    }
    std::vector<std::int64_t> ignored;
    for (auto member : c->participants)
        if (!participants_.at(member).accepts_messages) ignored.push_back(member);
    // The Node server stores a message of a group, or when a participant accepts messages; the
    // sender, who got this far, is one of them.
    write(a, store::ImMessageWrite{message});
    if (options_.metrics && a.own) options_.metrics->chat_messages("osc").Increment();
    c->latest_message = message;  // docs/decisions.md D7
    const std::string conversation = conversation_json(*c);
    const std::string object = message_object(message);
    for (auto member : c->participants) {
        const Participant& p = participants_.at(member);
        if (!p.accepts_messages) continue;
        emit_to_participant(p, "conversation", conversation);
        if (p.online) emit_to_participant(p, "message", object);
    }
    if (!ignored.empty()) emit_to_participant(*sender, "participantsSuppressedMessages", message_object(message, ignored));
}

void ImChat::on_history(const Applying& a, const Event& event) {
    // A read: the node of the asking socket answers.
    if (!a.own) return;
    Participant* requester = actor(a, std::nullopt, "history");
    Conversation* c = event.arg_count() > 0 ? find_conversation(event.arg(0)) : nullptr;
    if (!requester || !c || !c->has(requester->id)) return;
    const auto oldest = int_arg(event, 1);
    const bool reverse = event.arg_count() > 2 && event.arg(2).IsBool() && event.arg(2).GetBool();
    const std::string id = c->id;
    const std::int64_t user = requester->id;
    query<std::vector<store::StoredMessage>>(
        [id, oldest](db::Connection& db) { return store::message_history(db, id, oldest); },
        [this, id, user, oldest, reverse](std::vector<store::StoredMessage> messages) {
            auto c = conversations_.find(id);
            if (c == conversations_.end()) return;
            // The oldest message returned (the client pages on from it), or what was asked for.
            std::optional<std::int64_t> smallest = oldest;
            if (!messages.empty())
                smallest = std::min_element(messages.begin(), messages.end(), [](const auto& a, const auto& b) {
                               return a.timestamp < b.timestamp;
                           })->timestamp;
            if (reverse) std::reverse(messages.begin(), messages.end());
            std::string json = conversation_json(c->second);
            json.pop_back();  // the conversation object, extended
            rapidjson::StringBuffer buffer;
            Writer w(buffer);
            w.StartArray();
            for (const auto& m : messages) write_row(w, m);
            w.EndArray();
            json += std::string(",\"messages\":") + buffer.GetString() + ",\"reverseSorting\":" + (reverse ? "true" : "false") +
                    ",\"oldestMessageTimestamp\":" + (smallest ? std::to_string(*smallest) : "null") + "}";
            answer(user, "history", json);
        });
}

void ImChat::on_activity(const Applying& a, const Event& event) {
    auto user_id = int_arg(event, 1);
    Participant* p = user_id ? actor(a, user_id, "activity") : nullptr;
    Conversation* c = event.arg_count() > 0 ? find_conversation(event.arg(0)) : nullptr;
    auto timestamp = int_arg(event, 2);
    if (!p || !c || !c->has(p->id) || !timestamp) return;
    write(a, store::ActivityWrite{c->id, {p->id}, *timestamp});
}

void ImChat::on_close_conversation(const Applying& a, const Event& event) {
    auto user_id = int_arg(event, 1);
    Participant* p = user_id ? actor(a, user_id, "closeConversation") : nullptr;
    Conversation* c = event.arg_count() > 0 ? find_conversation(event.arg(0)) : nullptr;
    if (!p || !c || !c->has(p->id)) return;
    write(a, store::CloseWrite{c->id, p->id, a.change.ts});
}

void ImChat::on_typing(const Applying& a, const Event& event, bool started) {
    auto user_id = int_arg(event, 1);
    Participant* p = user_id ? actor(a, user_id, started ? "userStartedTyping" : "userStoppedTyping") : nullptr;
    Conversation* c = event.arg_count() > 0 ? find_conversation(event.arg(0)) : nullptr;
    if (!p || !c || !c->has(p->id)) return;
    const std::string json = "{\"conversation\":" + conversation_json(*c) + ",\"participant\":" +
                             participant_json(p->id, p->name) + "}";
    for (auto member : c->participants)
        if (member != p->id) emit_to_participant(participants_.at(member), started ? "userStartedTyping" : "userStoppedTyping", json);
}

void ImChat::on_disconnect(const Applying& a) {
    if (const auto user = remote_sockets_.closed(a.change)) socket_gone(*user, a.change.socket);
}

void ImChat::socket_gone(std::int64_t user, const std::string& socket) {
    auto found = participants_.find(user);
    if (found == participants_.end()) return;
    auto& sockets = found->second.sockets;
    sockets.erase(std::remove(sockets.begin(), sockets.end(), socket), sockets.end());
    if (sockets.empty()) found->second.online = false;  // docs/decisions.md D7
}

void ImChat::on_node_gone(const Event& event) {
    if (event.arg_count() < 1 || !event.arg(0).IsString()) return;
    const std::string gone(event.arg(0).GetString(), event.arg(0).GetStringLength());
    if (gone == log_.node()) {
        // As for the rooms: taken for gone, this node's users must log in again elsewhere.
        nsp_.reconnect_all();
        return;
    }
    for (const auto& socket : remote_sockets_.of_node(gone))
        if (const auto user = remote_sockets_.take(socket)) socket_gone(*user, socket);
}

// ---------------------------------------------------------------------------------------------
// Preferences

void ImChat::apply_preferences(const std::unordered_set<std::int64_t>& accepting) {
    spdlog::info("Finished fetching user settings for namespace {}-im", client_name_);
    accepting_ = accepting;
    for (auto& [id, p] : participants_) p.accepts_messages = accepting.count(id) > 0;
}

// What usr_pref said travels as a change, so that every node takes the same answer.
void ImChat::publish_preferences(std::string_view kind, const std::vector<std::int64_t>& users,
                                 const std::unordered_set<std::int64_t>& accepting) {
    auto list = [](const auto& ids) {
        std::string json = "[";
        for (auto id : ids) json += (json.size() > 1 ? "," : "") + std::to_string(id);
        return json + "]";
    };
    const std::string args = kind == "preferences" ? list(accepting) : list(users) + "," + list(accepting);
    log_.append(Change(Change::Chat::im, std::string(kind), now_ms()).carrying(net::sio::event_payload(kind, args)));
}

void ImChat::on_preferences(const Applying& a, const Event& event) {
    auto ids = [&](std::size_t i) {
        std::unordered_set<std::int64_t> set;
        if (event.arg_count() > i && event.arg(i).IsArray())
            for (const auto& id : event.arg(i).GetArray())
                if (id.IsInt64()) set.insert(id.GetInt64());
        return set;
    };
    if (a.change.kind == "preferences") {
        apply_preferences(ids(0));
        return;
    }
    const auto accepting = ids(1);
    for (auto id : ids(0)) {
        const bool accepts = accepting.count(id) > 0;
        if (accepts && accepting_) accepting_->insert(id);
        if (auto p = participants_.find(id); p != participants_.end()) p->second.accepts_messages = accepts;
    }
}

void ImChat::read_new_preferences() {
    auto users = std::exchange(unread_preferences_, {});
    query<std::unordered_set<std::int64_t>>(
        [users](db::Connection& db) { return store::accepting_among(db, users); },
        [this, users](auto accepting) { publish_preferences("preferences_of", users, accepting); }, true);
}

void ImChat::start_preference_refresh() {
    spdlog::info("Started fetching user settings for namespace {}-im", client_name_);
    query<std::unordered_set<std::int64_t>>(
        store::accepting_users, [this](auto accepting) { publish_preferences("preferences", {}, accepting); }, true);
    schedule_preference_refresh();
}

void ImChat::schedule_preference_refresh() { preference_timer_.start(until_next_twenty_minutes()); }

HttpResponse ImChat::user_config_change(std::string_view message_json) {
    rapidjson::Document settings;
    settings.Parse(message_json.data(), message_json.size());
    if (settings.HasParseError() || !settings.IsObject())
        return HttpResponse::json_error(400, "message must be a JSON object");
    for (const auto& [key, value] : settings.GetObject()) {
        auto id = text::integer_of(std::string_view(key.GetString(), key.GetStringLength()));
        if (!id) continue;
        bool accepts = false;
        if (value.IsObject())
            if (auto a = value.FindMember("acceptsMessages"); a != value.MemberEnd())
                accepts = a->value.IsBool() ? a->value.GetBool() : text::integer_of(a->value).value_or(0) != 0;
        if (accepting_) {
            if (accepts) accepting_->insert(*id);
            else accepting_->erase(*id);
        }
        if (auto p = participants_.find(*id); p != participants_.end()) {
            p->second.accepts_messages = accepts;
            spdlog::info("Received settings update for user with id '{}': {{\"acceptsMessages\":{}}}", *id, accepts);
        }
    }
    return HttpResponse{200, "application/json; charset=utf-8", {}, R"({"status":200})"};
}

}  // namespace ilchat::chat
