#pragma once

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

#include <mysql.h>

namespace ilchat::db {

struct Endpoint {
    std::string host;  // host name, address, or a Unix socket path starting with '/'
    int port = 3306;
    std::string name;
    std::string user;
    std::string password;
};

// What went wrong, in words an operator can act on; never contains the password.
class Error : public std::runtime_error {
public:
    Error(std::string message, unsigned code) : std::runtime_error(std::move(message)), code_(code) {}
    unsigned code() const { return code_; }

private:
    unsigned code_;
};

// One blocking MariaDB Connector/C connection (utf8mb4). Used by database worker threads and by
// ilchatctl; never by the network loop.
class Connection {
public:
    // Throws db::Error.
    static Connection open(const Endpoint& endpoint, std::chrono::seconds timeout = std::chrono::seconds(10));

    MYSQL* handle() const { return handle_.get(); }
    std::string server_version() const;

    // Runs a statement that returns no rows; returns the affected row count. Throws db::Error.
    unsigned long long execute(const std::string& sql);

private:
    struct Close {
        void operator()(MYSQL* m) const { mysql_close(m); }
    };
    explicit Connection(MYSQL* handle) : handle_(handle) {}
    [[noreturn]] void fail(const std::string& what) const;

    std::unique_ptr<MYSQL, Close> handle_;
};

// "host:port" or the socket path, for messages.
std::string describe(const Endpoint& endpoint);

}  // namespace ilchat::db
