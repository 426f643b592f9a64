#include "common/db/connection.h"

#include <cerrno>
#include <string_view>

#include <errmsg.h>
#include <mysqld_error.h>

namespace ilchat::db {

namespace {

// The operating system's error number the library puts at the end of a connection failure:
// "... (111)" or "..., system error: 110"; 0 when there is none.
int os_error(std::string_view message) {
    std::string_view digits = message;
    if (auto at = message.rfind("system error: "); at != std::string_view::npos) digits = message.substr(at + 14);
    else if (message.ends_with(')') && message.rfind('(') != std::string_view::npos)
        digits = message.substr(message.rfind('(') + 1);
    else return 0;
    int value = 0;
    for (char c : digits) {
        if (c < '0' || c > '9') break;
        value = value * 10 + (c - '0');
    }
    return value;
}

// Turns the common connection failures into sentences an operator can act on; the library's
// text follows in brackets. Connector/C reports a refused TCP connection, a silent host and a
// missing socket with the same few codes, so the OS error and the time taken tell them apart.
std::string explain(unsigned code, std::string_view message, const Endpoint& endpoint, bool timed_out) {
    const bool socket = endpoint.host.starts_with('/');
    switch (code) {
        case ER_ACCESS_DENIED_ERROR:
            return "access denied for user '" + endpoint.user + "' (wrong user name or password)";
        case ER_BAD_DB_ERROR: return "unknown database '" + endpoint.name + "'";
        case ER_DBACCESS_DENIED_ERROR: return "user '" + endpoint.user + "' may not use database '" + endpoint.name + "'";
        case CR_UNKNOWN_HOST: return "unknown host '" + endpoint.host + "' (the name does not resolve)";
        case CR_CONNECTION_ERROR:
        case CR_CONN_HOST_ERROR:
        case CR_SERVER_LOST:
        case CR_SERVER_GONE_ERROR: break;
        default: return "database error";
    }
    if (timed_out || os_error(message) == ETIMEDOUT)
        return "cannot connect to " + describe(endpoint) +
               ": timed out (no answer; a firewall dropping packets, a wrong address or an overloaded server)";
    if (code == CR_SERVER_LOST || code == CR_SERVER_GONE_ERROR)
        return "connection to " + describe(endpoint) + " lost (is it a MariaDB/MySQL server?)";
    switch (os_error(message)) {
        case ENOENT: return "cannot connect to " + describe(endpoint) + ": no such socket (is MariaDB running there?)";
        case EACCES: return "cannot connect to " + describe(endpoint) + ": permission denied on the socket";
        case EHOSTUNREACH:
        case ENETUNREACH: return "cannot connect to " + describe(endpoint) + ": host unreachable";
        default:
            // ECONNREFUSED, or EINPROGRESS: the library's non-blocking connect failed at once.
            return "cannot connect to " + describe(endpoint) + ": connection refused (" +
                   (socket ? "MariaDB is not running" : "nothing listens on that port") + ")";
    }
}

}  // namespace

bool Error::server_away() const {
    switch (code_) {
        case CR_CONNECTION_ERROR:
        case CR_CONN_HOST_ERROR:
        case CR_SERVER_LOST:
        case CR_SERVER_GONE_ERROR:
        case ER_SERVER_SHUTDOWN:
        case ER_CON_COUNT_ERROR: return true;
        default: return false;
    }
}

bool Error::conflict() const { return code_ == ER_LOCK_DEADLOCK || code_ == ER_LOCK_WAIT_TIMEOUT; }

std::string describe(const Endpoint& endpoint) {
    if (endpoint.host.starts_with('/')) return endpoint.host;
    return endpoint.host + ":" + std::to_string(endpoint.port);
}

Connection Connection::open(const Endpoint& endpoint, std::chrono::seconds timeout) {
    MYSQL* raw = mysql_init(nullptr);
    if (!raw) throw Error("out of memory creating a database handle", 0);
    Connection connection(raw);

    unsigned seconds = static_cast<unsigned>(timeout.count());
    mysql_optionsv(raw, MYSQL_OPT_CONNECT_TIMEOUT, &seconds);
    mysql_optionsv(raw, MYSQL_OPT_READ_TIMEOUT, &seconds);
    mysql_optionsv(raw, MYSQL_OPT_WRITE_TIMEOUT, &seconds);
    mysql_optionsv(raw, MYSQL_SET_CHARSET_NAME, "utf8mb4");

    const bool socket = endpoint.host.starts_with('/');
    const auto started = std::chrono::steady_clock::now();
    if (!mysql_real_connect(raw, socket ? "localhost" : endpoint.host.c_str(), endpoint.user.c_str(),
                            endpoint.password.c_str(), endpoint.name.c_str(),
                            socket ? 0 : static_cast<unsigned>(endpoint.port),
                            socket ? endpoint.host.c_str() : nullptr, 0)) {
        const unsigned code = mysql_errno(raw);
        const std::string message = mysql_error(raw);
        // A connection failure that took the whole timeout (less scheduling slack) was a timeout.
        const bool timed_out = std::chrono::steady_clock::now() - started >= timeout - std::chrono::milliseconds(200);
        throw Error(explain(code, message, endpoint, timed_out) + " [" + message + "]", code);
    }
    return connection;
}

std::string Connection::server_version() const { return mysql_get_server_info(handle()); }

void Connection::fail(const std::string& what) const {
    unsigned code = mysql_errno(handle());
    throw Error(what + ": " + mysql_error(handle()), code);
}

void Connection::execute_script(const std::string& statements) {
    // Turned on only for the connections that use it: one statement per call elsewhere.
    if (!multi_statements_) {
        if (mysql_set_server_option(handle(), MYSQL_OPTION_MULTI_STATEMENTS_ON) != 0) fail("multi-statement mode");
        multi_statements_ = true;
    }
    run(statements);
    while (true) {
        if (MYSQL_RES* result = mysql_store_result(handle())) mysql_free_result(result);
        const int more = mysql_next_result(handle());
        if (more < 0) return;
        if (more > 0) fail("query failed");
    }
}

void Connection::run(const std::string& sql) {
    if (mysql_real_query(handle(), sql.data(), sql.size()) != 0) fail("query failed");
}

std::string Connection::bind(const std::string& sql, const std::vector<Param>& params) const {
    std::string out;
    out.reserve(sql.size() + 32 * params.size());
    size_t next = 0;
    for (char c : sql) {
        if (c != '?') {
            out += c;
            continue;
        }
        if (next >= params.size()) throw Error("statement has more placeholders than parameters", 0);
        const Param& p = params[next++];
        if (std::holds_alternative<std::nullptr_t>(p)) out += "NULL";
        else if (auto* n = std::get_if<std::int64_t>(&p)) out += std::to_string(*n);
        else {
            const std::string& text = std::get<std::string>(p);
            std::string escaped(text.size() * 2 + 1, '\0');
            unsigned long length = mysql_real_escape_string(handle(), escaped.data(), text.data(), text.size());
            out += '\'';
            out.append(escaped.data(), length);
            out += '\'';
        }
    }
    if (next != params.size()) throw Error("statement has fewer placeholders than parameters", 0);
    return out;
}

unsigned long long Connection::execute(const std::string& sql, const std::vector<Param>& params) {
    run(params.empty() ? sql : bind(sql, params));
    if (MYSQL_RES* result = mysql_store_result(handle())) mysql_free_result(result);
    else if (mysql_field_count(handle()) != 0) fail("reading the result failed");
    return mysql_affected_rows(handle());
}

std::vector<Row> Connection::query(const std::string& sql, const std::vector<Param>& params) {
    std::vector<Row> rows;
    for_each_row(params.empty() ? sql : bind(sql, params), [&](const Row& row) { rows.push_back(row); });
    return rows;
}

bool Connection::has_column(std::string_view table, std::string_view column) {
    return !query("SELECT 1 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? "
                  "AND COLUMN_NAME = ?",
                  {std::string(table), std::string(column)})
                .empty();
}

bool Connection::has_table(std::string_view table) {
    return !query("SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?", {std::string(table)})
                .empty();
}

}  // namespace ilchat::db
