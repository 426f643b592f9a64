#pragma once

#include <chrono>
#include <memory>
#include <stdexcept>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

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
    // The server is away (refused, unreachable, gone, shutting down, full) rather than the
    // request or the configuration wrong: worth waiting for.
    bool server_away() const;
    // Another writer of the same rows won (a deadlock, a lock wait that timed out): the server
    // rolled the transaction back, and running it again is the cure. Several ilchatd writing
    // one database meet this (docs/cluster.md).
    bool conflict() const;

private:
    unsigned code_;
};

// A value bound to a '?' of a statement: escaped and quoted on the client, so statements are
// plain text (the catalogue is small and the server never sees user text outside a literal).
using Param = std::variant<std::nullptr_t, std::int64_t, std::string>;
using Row = std::vector<std::optional<std::string>>;

// One blocking MariaDB Connector/C connection (utf8mb4). Used by database worker threads and by
// ilchatctl; never by the network loop.
class Connection {
public:
    // Throws db::Error.
    static Connection open(const Endpoint& endpoint, std::chrono::seconds timeout = std::chrono::seconds(10));

    MYSQL* handle() const { return handle_.get(); }
    std::string server_version() const;

    // Runs a statement that returns no rows; returns the affected row count. Throws db::Error.
    unsigned long long execute(const std::string& sql, const std::vector<Param>& params = {});
    // Runs several statements separated by ';' in one round trip (results are discarded); stops
    // at the first that fails. Throws db::Error.
    void execute_script(const std::string& statements);
    // Runs a query and returns all rows (NULL as nullopt). Throws db::Error.
    std::vector<Row> query(const std::string& sql, const std::vector<Param>& params = {});
    // Streams the rows of a large result one at a time (no copy of the whole set in memory).
    template <class Visit>
    void for_each_row(const std::string& sql, Visit&& visit) {
        run(sql);
        MYSQL_RES* result = mysql_use_result(handle());
        if (!result) fail("reading the result failed");
        const unsigned fields = mysql_num_fields(result);
        Row row(fields);
        while (MYSQL_ROW raw = mysql_fetch_row(result)) {
            const unsigned long* lengths = mysql_fetch_lengths(result);
            for (unsigned i = 0; i < fields; ++i)
                row[i] = raw[i] ? std::optional<std::string>(std::string(raw[i], lengths[i])) : std::nullopt;
            visit(row);
        }
        const bool failed = mysql_errno(handle()) != 0;
        mysql_free_result(result);
        if (failed) fail("reading the result failed");
    }
    std::uint64_t last_insert_id() const { return mysql_insert_id(handle()); }
    // Whether `table` has `column` in the current database.
    bool has_column(std::string_view table, std::string_view column);
    bool has_table(std::string_view table);
    // `sql` with each '?' replaced by the escaped literal of the next parameter.
    std::string bind(const std::string& sql, const std::vector<Param>& params) const;

private:
    struct Close {
        void operator()(MYSQL* m) const { mysql_close(m); }
    };
    explicit Connection(MYSQL* handle) : handle_(handle) {}
    [[noreturn]] void fail(const std::string& what) const;
    void run(const std::string& sql);

    std::unique_ptr<MYSQL, Close> handle_;
    bool multi_statements_ = false;
};

// "host:port" or the socket path, for messages.
std::string describe(const Endpoint& endpoint);

}  // namespace ilchat::db
