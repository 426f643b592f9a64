#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <rapidjson/document.h>

// The admin socket's protocol, shared by ilchatd (which answers) and ilchatctl (which asks): one
// JSON request line {"command": "...", "arguments": {...}}, one JSON reply line
// {"result": 0|1|2, "text": "...", "arguments": {...}}. The command table is the one list of
// commands: the daemon dispatches on it, ilchatctl builds its subcommands from it, and README's
// list is checked against it.
namespace ilchat::admin {

enum Result : int { ok = 0, failed = 1, unknown_command = 2 };

struct Command {
    std::string_view name;      // the same on the command line and on the socket
    std::string_view help;
    std::string_view argument;  // the one argument's name on the socket, if any
    bool argument_required;
    bool mutating;              // changes the daemon's state (for the reader; both sides treat all alike)
    int timeout_seconds;        // how long ilchatctl waits by default (0: no limit)
    std::string_view example;   // a command line for ilchatctl's help; empty: the bare command
};

std::span<const Command> commands();
const Command* find_command(std::string_view name);
// One line per command, name (and argument) aligned before the help: the `help` command's text.
std::string commands_text();

struct Reply {
    int result = ok;
    std::string text;
    std::string arguments_json = "{}";
};

// The reply to a peer whose uid/gid may not use the socket; ilchatctl recognises it to explain
// who may.
constexpr std::string_view refusal = "permission denied";

using Arguments = std::vector<std::pair<std::string, std::string>>;  // string-valued, as every command takes

std::string render_request(std::string_view command, const Arguments& arguments);

struct Request {
    std::string command;
    rapidjson::Document arguments;  // an object (empty when the request had none)
    std::string string_argument(const char* name) const;
};
// A request line, or the reply that says what is wrong with it.
struct ParsedRequest {
    std::optional<Request> request;
    Reply error;
};
ParsedRequest parse_request(std::string_view line);

std::string render_reply(const Reply& reply);
// nullopt when the line is not a reply (garbage, or a field of the wrong type).
std::optional<Reply> parse_reply(std::string_view line);

}  // namespace ilchat::admin
