#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/cluster/redis_address.h"

struct event_base;
struct event;
struct redisAsyncContext;
struct redisReply;

namespace ilchat::cluster {

// One connection to the cluster's Redis on the control loop (hiredis with its libevent
// adapter): authenticates, selects the database, and reconnects after a loss with a growing
// pause (100 ms to 2 s), telling `on_state` each time it comes up or goes down.
class RedisLink {
public:
    // The reply, or nullptr when the connection was lost before it came.
    using Reply = std::function<void(const redisReply*)>;
    // The password at each (re)connection ("" for none), so that a changed one needs no restart.
    using Password = std::function<std::string()>;

    RedisLink(event_base* base, RedisAddress address, Password password, std::string name,
              std::function<void(bool up)> on_state);
    ~RedisLink();
    RedisLink(const RedisLink&) = delete;
    RedisLink& operator=(const RedisLink&) = delete;

    void start();
    bool up() const { return up_; }
    // False (and `done` not called) when there is no connection to send it on.
    bool command(const std::vector<std::string>& argv, Reply done);
    // What went wrong last, for status and logs ("" while up).
    const std::string& problem() const { return problem_; }

private:
    struct EventDeleter {
        void operator()(event* ev) const;
    };
    static void on_connect(const redisAsyncContext* context, int status);
    static void on_disconnect(const redisAsyncContext* context, int status);
    void lost(std::string problem);
    void retry_later();
    void set_up(bool up);

    event_base* base_;
    RedisAddress address_;
    Password password_;
    std::string name_;
    std::function<void(bool)> on_state_;
    redisAsyncContext* context_ = nullptr;  // owned by hiredis once connecting: it frees it after a loss
    std::unique_ptr<event, EventDeleter> retry_;
    std::chrono::milliseconds pause_{100};
    bool up_ = false;
    bool closing_ = false;
    bool refused_ = false;  // AUTH, SELECT or PING refused on this connection
    std::string problem_ = "connecting";
};

}  // namespace ilchat::cluster
