#include "common/text/json.h"

#include <charconv>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace ilchat::text {

std::string to_json(const rapidjson::Value& value) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    value.Accept(writer);
    return buffer.GetString();
}

std::string json_string(std::string_view text) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    writer.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
    return buffer.GetString();
}

std::optional<std::int64_t> integer_of(std::string_view text) {
    std::int64_t n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc{} || end == text.data()) return std::nullopt;
    return n;  // like parseInt: "12abc" is 12
}

std::optional<std::int64_t> integer_of(const rapidjson::Value& value) {
    if (value.IsInt64()) return value.GetInt64();
    if (value.IsDouble()) return static_cast<std::int64_t>(value.GetDouble());
    if (value.IsString()) return integer_of(std::string_view(value.GetString(), value.GetStringLength()));
    return std::nullopt;
}

}  // namespace ilchat::text
