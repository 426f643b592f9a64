#include "daemon/net/http_message.h"

#include <optional>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace ilchat::net {

namespace {

// lws joins the (already URL-decoded) arguments with '&'.
std::optional<std::string_view> find_query(std::string_view query, std::string_view name) {
    while (!query.empty()) {
        auto amp = query.find('&');
        std::string_view pair = query.substr(0, amp);
        auto eq = pair.find('=');
        if (pair.substr(0, eq) == name) return eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
        if (amp == std::string_view::npos) break;
        query.remove_prefix(amp + 1);
    }
    return std::nullopt;
}

}  // namespace

std::string HttpRequest::query_value(std::string_view name) const {
    return std::string(find_query(query, name).value_or(std::string_view{}));
}

bool HttpRequest::has_query(std::string_view name) const { return find_query(query, name).has_value(); }

HttpResponse HttpResponse::json_error(int status, std::string_view message) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    writer.StartObject();
    writer.Key("status");
    writer.Int(status);
    writer.Key("message");
    writer.String(message.data(), static_cast<rapidjson::SizeType>(message.size()));
    writer.EndObject();
    HttpResponse response;
    response.status = status;
    response.body = buffer.GetString();
    return response;
}

}  // namespace ilchat::net
