#include "common/config/ilias_json_writer.h"

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

namespace ilchat::config {

namespace {

template <class Config>
rapidjson::Value json_of(const Setting<Config>& setting, const Config& config, rapidjson::Document::AllocatorType& a) {
    return std::visit(
        [&](auto member) -> rapidjson::Value {
            const auto& v = config.*member;
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::string>) return rapidjson::Value(v.c_str(), v.size(), a);
            else if constexpr (std::is_same_v<T, int>) return rapidjson::Value(v);
            else if constexpr (std::is_same_v<T, bool>) {
                // ILIAS writes its 0/1 switches as integers.
                if (setting.rule.kind == Rule::Kind::switch_on_one) return rapidjson::Value(v ? 1 : 0);
                return rapidjson::Value(v);
            } else {
                std::string text = format_time_of_day(v);
                return rapidjson::Value(text.c_str(), text.size(), a);
            }
        },
        setting.field);
}

template <class Config>
std::string write(std::span<const Setting<Config>> table, const Config& config) {
    rapidjson::Document doc(rapidjson::kObjectType);
    auto& a = doc.GetAllocator();
    for (const auto& setting : table) {
        if (is_unset(setting, config)) continue;
        rapidjson::Value* parent = &doc;
        std::string_view path = setting.key;
        for (auto dot = path.find('.'); dot != std::string_view::npos; dot = path.find('.')) {
            std::string name(path.substr(0, dot));
            auto member = parent->FindMember(name.c_str());
            if (member == parent->MemberEnd()) {
                parent->AddMember(rapidjson::Value(name.c_str(), name.size(), a), rapidjson::Value(rapidjson::kObjectType), a);
                member = parent->FindMember(name.c_str());
            }
            parent = &member->value;
            path.remove_prefix(dot + 1);
        }
        parent->AddMember(rapidjson::Value(path.data(), path.size(), a), json_of(setting, config, a), a);
    }
    rapidjson::StringBuffer buffer;
    rapidjson::PrettyWriter<rapidjson::StringBuffer, rapidjson::UTF8<>, rapidjson::ASCII<>> writer(buffer);
    writer.SetIndent(' ', 4);
    doc.Accept(writer);
    // Outside strings JSON has no '/', so escaping every one matches PHP's output.
    std::string text;
    for (const char* c = buffer.GetString(); *c; ++c) {
        if (*c == '/') text += '\\';
        text += *c;
    }
    return text;
}

}  // namespace

std::string to_ilias_json(const ServerConfig& config) { return write(server_settings(), config); }
std::string to_ilias_json(const ClientConfig& config) { return write(client_settings(), config); }

}  // namespace ilchat::config
