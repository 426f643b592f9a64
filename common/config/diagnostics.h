#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ilchat::config {

// Every problem found in a set of files, so that a user fixes them all in one go instead of
// one per start attempt. Lines read "<file>: <key>: <what is wrong>".
class Diagnostics {
public:
    void error(std::string_view file, std::string_view key, std::string_view what);
    void warning(std::string_view file, std::string_view key, std::string_view what);

    const std::vector<std::string>& errors() const { return errors_; }
    const std::vector<std::string>& warnings() const { return warnings_; }
    bool ok() const { return errors_.empty(); }

    // Errors first, then warnings prefixed "warning: ", one per line.
    std::string report() const;

private:
    static std::string line(std::string_view file, std::string_view key, std::string_view what);

    std::vector<std::string> errors_;
    std::vector<std::string> warnings_;
};

}  // namespace ilchat::config
