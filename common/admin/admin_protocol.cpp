#include "common/admin/admin_protocol.h"

#include <algorithm>
#include <array>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/text/json.h"

namespace ilchat::admin {

namespace {

// A large database takes a while to purge; the daemon answers when its purge is done, so
// ilchatctl waits without a limit by default.
constexpr auto table = std::to_array<Command>({
    {"help", "The commands the running daemon knows", {}, false, false, 60, {}},
    {"version", "The running daemon's version", {}, false, false, 60, {}},
    {"status", "Uptime, connections by namespace and transport, rooms, conversations, databases", {}, false, false, 60,
     "ilchatctl status --json"},
    {"stats", "The running daemon's metrics (Prometheus text; --json: one object per sample)", {}, false, false, 60, {}},
    {"config-show", "The configuration in effect, secrets redacted", {}, false, false, 60, {}},
    {"reload", "Re-read the configuration files, as SIGHUP does; a file with errors changes nothing", {}, false, true,
     60, {}},
    {"log-reopen", "Reopen the log files (after logrotate moved them away)", {}, false, true, 60, {}},
    {"log-level", "Set the log level until the next reload: error, warning, info, debug, silly, ...", "level", true,
     true, 60, "ilchatctl log-level debug"},
    {"namespaces", "The namespaces with their connection counts", {}, false, false, 60, {}},
    {"rooms", "The chat rooms with their users, of all namespaces or of NAMESPACE", "namespace", false, false, 60,
     "ilchatctl rooms ilias --json"},
    {"connections", "The connected sockets, of all namespaces or of NAMESPACE", "namespace", false, false, 60,
     "ilchatctl connections /ilias-im"},
    {"purge-now", "Run the deletion job now (the period of the daemon's server.cfg)", {}, false, true, 0, {}},
    {"db-status", "Each database: up or away, writes queued and spooled, errors, reconnects", {}, false, false, 60,
     "ilchatctl db-status --json"},
    {"cluster-status", "This node in the cluster: in sync or why not, the nodes alive, the leases it holds, changes "
     "published and applied", {}, false, false, 60, "ilchatctl cluster-status --json"},
    {"shutdown", "Stop the daemon gracefully (as SIGTERM)", {}, false, true, 60, {}},
});

}  // namespace

std::span<const Command> commands() { return table; }

const Command* find_command(std::string_view name) {
    auto found = std::ranges::find(table, name, &Command::name);
    return found == table.end() ? nullptr : &*found;
}

std::string commands_text() {
    std::string text;
    for (const auto& c : table) {
        std::string line(c.name);
        if (!c.argument.empty()) line += c.argument_required ? " " + std::string(c.argument) : " [" + std::string(c.argument) + "]";
        line.append(line.size() < 28 ? 28 - line.size() : 1, ' ');
        text += line + std::string(c.help) + "\n";
    }
    return text;
}

std::string render_request(std::string_view command, const Arguments& arguments) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    w.StartObject();
    w.Key("command");
    w.String(command.data(), static_cast<rapidjson::SizeType>(command.size()));
    w.Key("arguments");
    w.StartObject();
    for (const auto& [name, value] : arguments) {
        w.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
        w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
    }
    w.EndObject();
    w.EndObject();
    return buffer.GetString();
}

std::string Request::string_argument(const char* name) const {
    auto found = arguments.FindMember(name);
    return found != arguments.MemberEnd() && found->value.IsString() ? found->value.GetString() : std::string{};
}

ParsedRequest parse_request(std::string_view line) {
    ParsedRequest parsed;
    rapidjson::Document document;
    document.Parse(line.data(), line.size());
    if (document.HasParseError() || !document.IsObject()) {
        parsed.error = {failed, R"(malformed request: expected {"command": "...", "arguments": {...}})"};
        return parsed;
    }
    auto command = document.FindMember("command");
    if (command == document.MemberEnd() || !command->value.IsString()) {
        parsed.error = {failed, R"(malformed request: "command" must be a string)"};
        return parsed;
    }
    Request request;
    request.command.assign(command->value.GetString(), command->value.GetStringLength());
    request.arguments.SetObject();
    if (auto arguments = document.FindMember("arguments"); arguments != document.MemberEnd()) {
        if (!arguments->value.IsObject()) {
            parsed.error = {failed, R"(malformed request: "arguments" must be an object)"};
            return parsed;
        }
        request.arguments.CopyFrom(arguments->value, request.arguments.GetAllocator());
    }
    parsed.request = std::move(request);
    return parsed;
}

std::string render_reply(const Reply& reply) {
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

std::optional<Reply> parse_reply(std::string_view line) {
    rapidjson::Document document;
    document.Parse(line.data(), line.size());
    if (document.HasParseError() || !document.IsObject()) return std::nullopt;
    auto result = document.FindMember("result");
    auto text = document.FindMember("text");
    if (result == document.MemberEnd() || !result->value.IsInt() || text == document.MemberEnd() ||
        !text->value.IsString())
        return std::nullopt;
    Reply reply{result->value.GetInt(), std::string(text->value.GetString(), text->value.GetStringLength()), "{}"};
    if (auto arguments = document.FindMember("arguments"); arguments != document.MemberEnd())
        reply.arguments_json = text::to_json(arguments->value);
    return reply;
}

}  // namespace ilchat::admin
