#include "daemon/store/write_record.h"

#include <mysqld_error.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace ilchat::store {

namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;
using Object = rapidjson::Value;

// Runs an INSERT; on replay a duplicate key means the row was stored before the crash.
template <class Insert>
void insert_once(bool replay, Insert&& insert) {
    try {
        insert();
    } catch (const db::Error& e) {
        if (!replay || e.code() != ER_DUP_ENTRY) throw;
    }
}

void apply_one(db::Connection& db, const RoomSchema& schema, const RoomMessageWrite& w, bool replay) {
    if (replay && message_stored(db, w.room_id, w.json, w.timestamp_s)) return;
    persist_message(db, schema, w.room_id, w.sub_room, w.json, w.timestamp_s);
}
void apply_one(db::Connection& db, const RoomSchema&, const UserLeftWrite& w, bool) {
    disconnect_user(db, w.user_id, w.room_ids, w.at_s);
}
void apply_one(db::Connection& db, const RoomSchema&, const PrivateRoomsLeftWrite& w, bool) {
    leave_private_rooms(db, w.user_id, w.proom_ids, w.closed_ids, w.at_s);
}
void apply_one(db::Connection& db, const RoomSchema&, const ConversationWrite& w, bool replay) {
    if (w.insert) insert_once(replay, [&] { insert_conversation(db, w.conversation); });
    else update_conversation(db, w.conversation);
}
void apply_one(db::Connection& db, const RoomSchema&, const ImMessageWrite& w, bool replay) {
    insert_once(replay, [&] { insert_message(db, w.message); });
}
void apply_one(db::Connection& db, const RoomSchema&, const ActivityWrite& w, bool) {
    for (auto user : w.user_ids) track_activity(db, w.conversation_id, user, w.timestamp);
}
void apply_one(db::Connection& db, const RoomSchema&, const CloseWrite& w, bool) {
    close_conversation(db, w.conversation_id, w.user_id, w.at_ms);
}

// --- the line format: {"kind":"...", fields...}; one table row per kind -----------------------

void put(Writer& w, const char* key, std::int64_t value) {
    w.Key(key);
    w.Int64(value);
}
void put(Writer& w, const char* key, const std::string& value) {
    w.Key(key);
    w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}
void put(Writer& w, const char* key, bool value) {
    w.Key(key);
    w.Bool(value);
}
void put(Writer& w, const char* key, const std::vector<std::int64_t>& values) {
    w.Key(key);
    w.StartArray();
    for (auto v : values) w.Int64(v);
    w.EndArray();
}

// Field readers: false when the field is missing or of another type (the line is then refused).
bool get(const Object& o, const char* key, std::int64_t& out) {
    auto it = o.FindMember(key);
    if (it == o.MemberEnd() || !it->value.IsInt64()) return false;
    out = it->value.GetInt64();
    return true;
}
bool get(const Object& o, const char* key, std::string& out) {
    auto it = o.FindMember(key);
    if (it == o.MemberEnd() || !it->value.IsString()) return false;
    out.assign(it->value.GetString(), it->value.GetStringLength());
    return true;
}
bool get(const Object& o, const char* key, bool& out) {
    auto it = o.FindMember(key);
    if (it == o.MemberEnd() || !it->value.IsBool()) return false;
    out = it->value.GetBool();
    return true;
}
bool get(const Object& o, const char* key, std::vector<std::int64_t>& out) {
    auto it = o.FindMember(key);
    if (it == o.MemberEnd() || !it->value.IsArray()) return false;
    for (const auto& v : it->value.GetArray()) {
        if (!v.IsInt64()) return false;
        out.push_back(v.GetInt64());
    }
    return true;
}

// Each kind lists its fields once; `visit` either writes or reads them.
template <class Visit>
bool fields(RoomMessageWrite& r, Visit&& visit) {
    return visit("room_id", r.room_id) && visit("sub_room", r.sub_room) && visit("message", r.json) &&
           visit("timestamp", r.timestamp_s);
}
template <class Visit>
bool fields(UserLeftWrite& r, Visit&& visit) {
    return visit("user_id", r.user_id) && visit("room_ids", r.room_ids) && visit("at", r.at_s);
}
template <class Visit>
bool fields(PrivateRoomsLeftWrite& r, Visit&& visit) {
    return visit("user_id", r.user_id) && visit("proom_ids", r.proom_ids) && visit("closed_ids", r.closed_ids) &&
           visit("at", r.at_s);
}
template <class Visit>
bool fields(ConversationWrite& r, Visit&& visit) {
    return visit("insert", r.insert) && visit("id", r.conversation.id) && visit("is_group", r.conversation.is_group) &&
           visit("participants", r.conversation.participants_json);
}
template <class Visit>
bool fields(ImMessageWrite& r, Visit&& visit) {
    auto& m = r.message;
    return visit("id", m.id) && visit("conversation_id", m.conversation_id) && visit("user_id", m.user_id) &&
           visit("message", m.message) && visit("timestamp", m.timestamp);
}
template <class Visit>
bool fields(ActivityWrite& r, Visit&& visit) {
    return visit("conversation_id", r.conversation_id) && visit("user_ids", r.user_ids) &&
           visit("timestamp", r.timestamp);
}
template <class Visit>
bool fields(CloseWrite& r, Visit&& visit) {
    return visit("conversation_id", r.conversation_id) && visit("user_id", r.user_id) && visit("at", r.at_ms);
}

// The kind names, in the order of the WriteRecord alternatives.
constexpr std::string_view kind_names[] = {"room_message", "user_left", "conversation",      "im_message",
                                           "activity",     "close",     "private_rooms_left"};
static_assert(std::size(kind_names) == std::variant_size_v<WriteRecord>);

template <std::size_t... I>
std::optional<WriteRecord> decode_kind(std::string_view kind, const Object& o, std::index_sequence<I...>) {
    std::optional<WriteRecord> result;
    auto try_kind = [&]<std::size_t N>(std::integral_constant<std::size_t, N>) {
        if (result || kind != kind_names[N]) return;
        std::variant_alternative_t<N, WriteRecord> record;
        if (fields(record, [&](const char* key, auto& field) { return get(o, key, field); })) result = std::move(record);
    };
    (try_kind(std::integral_constant<std::size_t, I>{}), ...);
    return result;
}

}  // namespace

void apply(db::Connection& db, const RoomSchema& schema, const WriteRecord& record, bool replay) {
    std::visit([&](const auto& r) { apply_one(db, schema, r, replay); }, record);
}

Script script_of(db::Connection& db, const RoomSchema& schema, std::span<const WriteRecord> records) {
    if (records.empty()) return {};
    if (const auto* m = std::get_if<ImMessageWrite>(&records.front())) return {1, insert_message_script(db, m->message)};
    std::vector<HistoryRow> rows;
    for (const auto& record : records) {
        const auto* m = std::get_if<RoomMessageWrite>(&record);
        if (!m) break;
        rows.push_back({m->room_id, m->sub_room, m->json, m->timestamp_s});
    }
    if (rows.empty()) return {};
    return {rows.size(), persist_messages_script(db, schema, rows)};
}

std::string encode(const WriteRecord& record) {
    rapidjson::StringBuffer buffer;
    Writer w(buffer);
    w.StartObject();
    put(w, "kind", std::string(kind_names[record.index()]));
    std::visit(
        [&](auto r) {  // a copy: `fields` serves reading too, so it takes the record mutable
            fields(r, [&](const char* key, const auto& field) {
                put(w, key, field);
                return true;
            });
        },
        record);
    w.EndObject();
    return buffer.GetString();
}

std::optional<WriteRecord> decode(std::string_view line) {
    rapidjson::Document doc;
    doc.Parse(line.data(), line.size());
    if (doc.HasParseError() || !doc.IsObject()) return std::nullopt;
    std::string kind;
    if (!get(doc, "kind", kind)) return std::nullopt;
    return decode_kind(kind, doc, std::make_index_sequence<std::variant_size_v<WriteRecord>>{});
}

}  // namespace ilchat::store
