#include "common/config/json_file.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace ilchat::config {

namespace {

std::string position_of(std::string_view text, size_t offset) {
    size_t line = 1, column = 1;
    for (size_t i = 0; i < offset && i < text.size(); ++i) {
        if (text[i] == '\n') {
            ++line;
            column = 1;
        } else {
            ++column;
        }
    }
    return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

}  // namespace

std::optional<rapidjson::Document> parse_json_object(std::string_view text, const std::string& label,
                                                     Diagnostics& diag) {
    constexpr std::string_view bom = "\xEF\xBB\xBF";
    if (text.starts_with(bom)) text.remove_prefix(bom.size());

    rapidjson::Document doc;
    doc.Parse(text.data(), text.size());
    if (doc.HasParseError()) {
        diag.error(label, "", std::string("invalid JSON at ") + position_of(text, doc.GetErrorOffset()) + ": " +
                                  rapidjson::GetParseError_En(doc.GetParseError()));
        return std::nullopt;
    }
    if (!doc.IsObject()) {
        diag.error(label, "", "expected a JSON object, got " + describe_json(doc));
        return std::nullopt;
    }
    return doc;
}

std::optional<rapidjson::Document> read_json_object(const std::string& path, Diagnostics& diag) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        diag.error(path, "", std::string("cannot read: ") + std::strerror(errno));
        return std::nullopt;
    }
    std::ostringstream content;
    content << in.rdbuf();
    if (in.bad()) {
        diag.error(path, "", std::string("cannot read: ") + std::strerror(errno));
        return std::nullopt;
    }
    return parse_json_object(content.str(), path, diag);
}

std::string describe_json(const rapidjson::Value& value) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    value.Accept(writer);
    std::string text = buffer.GetString();
    constexpr size_t limit = 60;
    if (text.size() > limit) text = text.substr(0, limit) + "...";
    return text;
}

}  // namespace ilchat::config
