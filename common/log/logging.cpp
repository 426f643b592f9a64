#include "common/log/logging.h"

#include <algorithm>
#include <array>
#include <memory>
#include <stdexcept>
#include <utility>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace ilchat::log {

namespace {

// winston's level for each of ilias_level_names, in the same order.
constexpr std::array<spdlog::level::level_enum, ilias_level_names.size()> winston_levels{
    spdlog::level::err,  spdlog::level::err,  spdlog::level::err,   spdlog::level::err,  spdlog::level::warn,
    spdlog::level::info, spdlog::level::info, spdlog::level::debug, spdlog::level::trace};

class NodeLevelFlag final : public spdlog::custom_flag_formatter {
public:
    void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
        auto name = node_level_name(msg.level);
        dest.append(name.data(), name.data() + name.size());
    }
    std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<NodeLevelFlag>(); }
};

std::unique_ptr<spdlog::formatter> node_formatter() {
    auto formatter = std::make_unique<spdlog::pattern_formatter>();
    formatter->add_flag<NodeLevelFlag>('*').set_pattern("[%Y-%m-%dT%H:%M:%S.%e%z] %* - %v");
    return formatter;
}

spdlog::sink_ptr file_sink(const std::string& path) {
    try {
        return std::make_shared<spdlog::sinks::basic_file_sink_mt>(path, false);
    } catch (const spdlog::spdlog_ex& e) {
        throw std::runtime_error("cannot open log file " + path + ": " + e.what());
    }
}

}  // namespace

bool is_ilias_level(std::string_view name) {
    return std::ranges::find(ilias_level_names, name) != ilias_level_names.end();
}

std::string ilias_level_list() {
    std::string list;
    for (auto name : ilias_level_names) (list += list.empty() ? "" : ", ") += name;
    return list;
}

spdlog::level::level_enum level_from_ilias(std::string_view name) {
    auto found = std::ranges::find(ilias_level_names, name);
    return found == ilias_level_names.end() ? spdlog::level::info
                                            : winston_levels[static_cast<std::size_t>(found - ilias_level_names.begin())];
}

std::string_view node_level_name(spdlog::level::level_enum level) {
    switch (level) {
        case spdlog::level::trace: return "SILLY";
        case spdlog::level::debug: return "DEBUG";
        case spdlog::level::info: return "INFO";
        case spdlog::level::warn: return "WARN";
        case spdlog::level::err:
        case spdlog::level::critical: return "ERROR";
        default: return "INFO";
    }
}

void configure(const Targets& targets) {
    std::vector<spdlog::sink_ptr> sinks;
    auto main = targets.main_file.empty() ? std::make_shared<spdlog::sinks::stderr_sink_mt>()
                                          : file_sink(targets.main_file);
    main->set_level(targets.level);
    sinks.push_back(main);
    if (!targets.error_file.empty()) {
        auto errors = file_sink(targets.error_file);
        errors->set_level(spdlog::level::err);
        sinks.push_back(errors);
    }
    auto logger = std::make_shared<spdlog::logger>("ilchatd", sinks.begin(), sinks.end());
    logger->set_formatter(node_formatter());
    logger->set_level(targets.level);
    // Lines of info and above reach the file at once (operators tail it); chatty debug output
    // is flushed by the periodic flusher instead of one write per line.
    logger->flush_on(spdlog::level::info);
    spdlog::set_default_logger(logger);
    spdlog::flush_every(std::chrono::seconds(1));
}

}  // namespace ilchat::log
