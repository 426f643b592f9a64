#include "common/cluster/redis_address.h"

#include <charconv>

namespace ilchat::cluster {

namespace {

std::optional<int> number(std::string_view text, int low, int high) {
    int value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || value < low || value > high) return std::nullopt;
    return value;
}

}  // namespace

std::optional<RedisAddress> parse_redis_address(std::string_view text, std::string& problem) {
    RedisAddress address;
    if (text.starts_with("unix:")) text.remove_prefix(5);
    if (text.starts_with("//")) text.remove_prefix(2);
    if (text.starts_with('/')) {
        address.unix_path = std::string(text);
        return address;
    }
    if (!text.starts_with("redis://")) {
        problem = "expected redis://host[:port][/db], unix:/path or /path of a Unix socket";
        return std::nullopt;
    }
    text.remove_prefix(8);
    if (text.find('@') != std::string_view::npos) {
        problem = "put the password in cluster.password_file, not in the URL";
        return std::nullopt;
    }
    if (auto slash = text.find('/'); slash != std::string_view::npos) {
        auto db = number(text.substr(slash + 1), 0, 1000000);
        if (!db) {
            problem = "database number after the / must be a number";
            return std::nullopt;
        }
        address.database = *db;
        text = text.substr(0, slash);
    }
    std::string_view host = text;
    const bool bracketed = text.starts_with('[');
    if (bracketed) {  // [IPv6]:port
        auto close = text.find(']');
        if (close == std::string_view::npos) {
            problem = "unclosed [ in the host";
            return std::nullopt;
        }
        host = text.substr(1, close - 1);
        text.remove_prefix(close + 1);
        if (!text.empty() && !text.starts_with(':')) {
            problem = "expected :port after ]";
            return std::nullopt;
        }
    } else if (auto colon = text.rfind(':'); colon != std::string_view::npos) {
        host = text.substr(0, colon);
        text.remove_prefix(colon);
    } else {
        text = {};
    }
    if (text.starts_with(':')) {
        auto port = number(text.substr(1), 1, 65535);
        if (!port) {
            problem = "port must be a number from 1 to 65535";
            return std::nullopt;
        }
        address.port = *port;
    }
    if (host.empty()) {
        problem = "no host";
        return std::nullopt;
    }
    if (!bracketed && host.find(':') != std::string_view::npos) {
        problem = "put an IPv6 host in [ ], e.g. redis://[::1]:6379";
        return std::nullopt;
    }
    address.host = std::string(host);
    return address;
}

std::string describe(const RedisAddress& a) {
    if (!a.unix_path.empty()) return "unix:" + a.unix_path;
    const bool v6 = a.host.find(':') != std::string::npos;
    return "redis://" + (v6 ? "[" + a.host + "]" : a.host) + ":" + std::to_string(a.port) + "/" +
           std::to_string(a.database);
}

}  // namespace ilchat::cluster
