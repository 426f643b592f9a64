#include "common/config/diagnostics.h"

namespace ilchat::config {

std::string Diagnostics::line(std::string_view file, std::string_view key, std::string_view what) {
    std::string text{file};
    if (!key.empty()) {
        text += ": ";
        text += key;
    }
    text += ": ";
    text += what;
    return text;
}

void Diagnostics::error(std::string_view file, std::string_view key, std::string_view what) {
    errors_.push_back(line(file, key, what));
}

void Diagnostics::warning(std::string_view file, std::string_view key, std::string_view what) {
    warnings_.push_back(line(file, key, what));
}

std::string Diagnostics::report() const {
    std::string text;
    for (const auto& e : errors_) text += e + '\n';
    for (const auto& w : warnings_) text += "warning: " + w + '\n';
    return text;
}

}  // namespace ilchat::config
