#include "daemon/ops/admin_commands.h"

#include <array>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/version.h"

namespace ilchat::ops {

namespace {

std::string string_argument(const rapidjson::Value& arguments, const char* name) {
    if (!arguments.IsObject()) return {};
    auto found = arguments.FindMember(name);
    return found != arguments.MemberEnd() && found->value.IsString() ? found->value.GetString() : std::string{};
}

void help(AdminTarget&, const rapidjson::Value&, AdminDone done);

void version(AdminTarget&, const rapidjson::Value&, AdminDone done) {
    done({0, std::string("ilchatd ") + ilchat::version, std::string(R"({"version":")") + ilchat::version + "\"}"});
}

const auto table = std::to_array<AdminCommand>({
    {"help", "", "list the commands", false, help},
    {"version", "", "the daemon's version", false, version},
    {"status", "", "uptime, connections by namespace and transport, rooms, conversations, databases", false,
     [](AdminTarget& t, const rapidjson::Value&, AdminDone d) { t.status(std::move(d)); }},
    {"stats", "", "the metrics, as Prometheus text", false,
     [](AdminTarget& t, const rapidjson::Value&, AdminDone d) { t.stats(std::move(d)); }},
    {"config-show", "", "the configuration in effect, secrets redacted", false,
     [](AdminTarget& t, const rapidjson::Value&, AdminDone d) { t.config_show(std::move(d)); }},
    {"reload", "", "re-read the configuration files (as SIGHUP)", true,
     [](AdminTarget& t, const rapidjson::Value&, AdminDone d) { t.reload(std::move(d)); }},
    {"log-reopen", "", "reopen the log files (after logrotate moved them)", true,
     [](AdminTarget& t, const rapidjson::Value&, AdminDone d) { t.log_reopen(std::move(d)); }},
    {"log-level", "level", "set the log level until the next reload (error, warning, info, debug, silly, ...)", true,
     [](AdminTarget& t, const rapidjson::Value& a, AdminDone d) { t.log_level(string_argument(a, "level"), std::move(d)); }},
    {"namespaces", "", "the namespaces with their connection counts", false,
     [](AdminTarget& t, const rapidjson::Value&, AdminDone d) { t.namespaces(std::move(d)); }},
    {"rooms", "[namespace]", "the chat rooms with their users", false,
     [](AdminTarget& t, const rapidjson::Value& a, AdminDone d) { t.rooms(string_argument(a, "namespace"), std::move(d)); }},
    {"connections", "[namespace]", "the connected sockets", false,
     [](AdminTarget& t, const rapidjson::Value& a, AdminDone d) {
         t.connections(string_argument(a, "namespace"), std::move(d));
     }},
    {"purge-now", "", "run the message deletion job now (deletion_unit/value of server.cfg)", true,
     [](AdminTarget& t, const rapidjson::Value&, AdminDone d) { t.purge_now(std::move(d)); }},
    {"db-status", "", "each database: up or away, queued and spooled writes, errors, reconnects", false,
     [](AdminTarget& t, const rapidjson::Value&, AdminDone d) { t.db_status(std::move(d)); }},
    {"shutdown", "", "stop the daemon gracefully", true,
     [](AdminTarget& t, const rapidjson::Value&, AdminDone d) { t.shutdown(std::move(d)); }},
});

void help(AdminTarget&, const rapidjson::Value&, AdminDone done) {
    std::string text;
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    w.StartObject();
    w.Key("commands");
    w.StartArray();
    for (const auto& c : table) {
        std::string line = std::string(c.name) + (c.usage.empty() ? "" : " " + std::string(c.usage));
        line.append(line.size() < 28 ? 28 - line.size() : 1, ' ');
        text += line + std::string(c.help) + "\n";
        w.StartObject();
        w.Key("name");
        w.String(c.name.data(), static_cast<rapidjson::SizeType>(c.name.size()));
        w.Key("usage");
        w.String(c.usage.data(), static_cast<rapidjson::SizeType>(c.usage.size()));
        w.Key("help");
        w.String(c.help.data(), static_cast<rapidjson::SizeType>(c.help.size()));
        w.Key("mutating");
        w.Bool(c.mutating);
        w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    done({0, text, buffer.GetString()});
}

}  // namespace

std::span<const AdminCommand> admin_commands() { return table; }

std::string render_admin_reply(const AdminReply& reply) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    w.StartObject();
    w.Key("result");
    w.Int(reply.result);
    w.Key("text");
    w.String(reply.text.data(), static_cast<rapidjson::SizeType>(reply.text.size()));
    w.Key("arguments");
    w.RawValue(reply.arguments_json.data(), reply.arguments_json.size(), rapidjson::kObjectType);
    w.EndObject();
    return buffer.GetString();
}

void handle_admin_request(AdminTarget& target, std::string_view line, std::function<void(std::string)> reply) {
    auto answer = [reply](AdminReply r) { reply(render_admin_reply(r)); };
    rapidjson::Document request;
    request.Parse(line.data(), line.size());
    if (request.HasParseError() || !request.IsObject())
        return answer({1, "malformed request: expected {\"command\": \"...\", \"arguments\": {...}}", "{}"});
    auto command = request.FindMember("command");
    if (command == request.MemberEnd() || !command->value.IsString())
        return answer({1, "malformed request: \"command\" must be a string", "{}"});
    static const rapidjson::Value no_arguments(rapidjson::kObjectType);
    auto arguments = request.FindMember("arguments");
    const rapidjson::Value& args = arguments != request.MemberEnd() ? arguments->value : no_arguments;
    if (!args.IsObject()) return answer({1, "malformed request: \"arguments\" must be an object", "{}"});
    const std::string_view name(command->value.GetString(), command->value.GetStringLength());
    for (const auto& c : table)
        if (c.name == name) return c.run(target, args, answer);
    answer({2, "unknown command \"" + std::string(name) + "\"; try \"help\"", "{}"});
}

}  // namespace ilchat::ops
