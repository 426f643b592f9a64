#pragma once

#include <chrono>
#include <functional>

#include <libwebsockets.h>

namespace ilchat::net {

// A one-shot timer on the network loop (lws_sul). Cancelled when destroyed, so an owner that
// goes away never gets called back. Not movable: libwebsockets keeps a pointer to it.
class LoopTimer {
public:
    LoopTimer(lws_context* context, std::function<void()> fire);
    ~LoopTimer();
    LoopTimer(const LoopTimer&) = delete;
    LoopTimer& operator=(const LoopTimer&) = delete;

    void start(std::chrono::milliseconds after);  // restarts when already running
    void cancel();
    bool running() const { return running_; }

private:
    struct Node {
        lws_sorted_usec_list_t sul;  // first member: the callback casts back to Node
        LoopTimer* owner;
    };
    static void expired(lws_sorted_usec_list_t* sul);

    lws_context* context_;
    std::function<void()> fire_;
    Node node_{};
    bool running_ = false;
};

}  // namespace ilchat::net
