#pragma once

#include <chrono>
#include <functional>
#include <optional>

#include "daemon/net/timer_queue.h"

namespace ilchat::net {

// A one-shot timer on the network loop (its TimerQueue). Cancelled when destroyed, so an owner
// that goes away never gets called back. Not movable: the queue keeps a pointer to it.
class LoopTimer {
public:
    LoopTimer(TimerQueue& queue, std::function<void()> fire);
    ~LoopTimer();
    LoopTimer(const LoopTimer&) = delete;
    LoopTimer& operator=(const LoopTimer&) = delete;

    void start(std::chrono::milliseconds after);  // restarts when already running
    void cancel();
    bool running() const { return entry_.has_value(); }

private:
    friend class TimerQueue;
    void expired();  // the queue has already forgotten it

    TimerQueue& queue_;
    std::function<void()> fire_;
    std::optional<TimerQueue::Entry> entry_;
};

}  // namespace ilchat::net
