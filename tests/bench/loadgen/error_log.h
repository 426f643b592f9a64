#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace ilchat::loadgen {

// Errors of a run by kind ("connect_failed", "closed", ...; tests/bench/README.md lists them),
// with the first occurrence's detail of each kind so a failed run says what went wrong.
class ErrorLog {
public:
    void add(std::string_view kind, std::string_view detail) {
        auto [it, inserted] = counts_.try_emplace(std::string(kind), 0);
        ++it->second;
        if (inserted) first_detail_.emplace(std::string(kind), std::string(detail.substr(0, 300)));
    }
    void merge(const ErrorLog& other) {
        for (const auto& [kind, n] : other.counts_) {
            auto [it, inserted] = counts_.try_emplace(kind, 0);
            it->second += n;
            if (inserted) first_detail_.emplace(kind, other.first_detail_.at(kind));
        }
    }

    std::uint64_t total() const {
        std::uint64_t n = 0;
        for (const auto& [kind, count] : counts_) n += count;
        return n;
    }
    const std::map<std::string, std::uint64_t>& counts() const { return counts_; }
    const std::string& first_detail(const std::string& kind) const { return first_detail_.at(kind); }

private:
    std::map<std::string, std::uint64_t> counts_;
    std::map<std::string, std::string> first_detail_;
};

}  // namespace ilchat::loadgen
