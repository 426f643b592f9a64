#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ilchat::cluster {

// Where the cluster's Redis is (server.cfg cluster.redis): "redis://host[:port][/db]" or a Unix
// socket, "unix:/path/redis.sock" or just "/path/redis.sock". The password never goes here: it
// is read from cluster.password_file, so that server.cfg can stay world-readable.
struct RedisAddress {
    std::string host;       // empty for a Unix socket
    int port = 6379;
    std::string unix_path;  // empty for TCP
    int database = 0;

    bool operator==(const RedisAddress&) const = default;
};

// The address, or nullopt with `problem` saying what is wrong.
std::optional<RedisAddress> parse_redis_address(std::string_view text, std::string& problem);

// For logs and status: "redis://host:port/db" or "unix:/path".
std::string describe(const RedisAddress& address);

}  // namespace ilchat::cluster
