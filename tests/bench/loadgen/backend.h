#pragma once

#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "tests/bench/loadgen/error_log.h"
#include "tests/bench/loadgen/options.h"

namespace ilchat::loadgen {

// The /backend API called the way ILIAS PHP calls it: one blocking HTTP/1.0 GET per connection
// with "Connection: close", a JSON content type and Basic credentials.
class Backend {
public:
    // Resolves the server address; throws std::runtime_error when it cannot.
    explicit Backend(const Options& options);

    struct Answer {
        std::string problem;  // non-empty: no HTTP answer (connect, send, receive or timeout)
        int status = 0;
        std::string body;
    };
    // `route` follows "/backend/", already URL-encoded. `source` selects the local address.
    Answer get(const std::string& route, std::size_t source) const;

private:
    const Options& options_;
    sockaddr_storage server_{};
    socklen_t server_length_ = 0;
    std::string host_header_;
    std::string authorization_;
};

struct Registration {
    // Per client: Connect and EnterPrivateRoom both succeeded. Bytes, not vector<bool>: the
    // workers set distinct elements concurrently.
    std::vector<std::uint8_t> registered;
    std::uint64_t requests = 0;
    double seconds = 0;
    bool cut_short = false;  // the time limit or a signal ended it (counted in the errors)
};

// Makes the server know every room (CreatePrivateRoom, as ILIAS does when a chat object is
// created) and every user of every room (Connect, then EnterPrivateRoom, as when a user opens
// the chat), with --backend-concurrency calls in flight. Failures go to `errors`. Stops early
// at `deadline` (steady-clock nanoseconds) or when `stop` is set.
Registration register_users(const Options& options, ErrorLog& errors, std::int64_t deadline,
                            const std::atomic<bool>& stop);

}  // namespace ilchat::loadgen
