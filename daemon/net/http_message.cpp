#include "daemon/net/http_message.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace ilchat::net {

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
