#include "common/config/setting.h"

namespace ilchat::config::detail {

const rapidjson::Value* find_path(const rapidjson::Value& root, std::string_view path, std::string& problem) {
    const rapidjson::Value* node = &root;
    while (true) {
        auto dot = path.find('.');
        std::string_view name = path.substr(0, dot);
        auto member = node->FindMember(rapidjson::Value(rapidjson::StringRef(name.data(), name.size())));
        if (member == node->MemberEnd()) return nullptr;
        node = &member->value;
        if (dot == std::string_view::npos) return node;
        if (!node->IsObject()) {
            problem = "expected an object at \"" + std::string(name) + "\"";
            return nullptr;
        }
        path.remove_prefix(dot + 1);
    }
}

}  // namespace ilchat::config::detail
