#pragma once

#include <chrono>
#include <map>
#include <memory>

struct ev_loop;

namespace ilchat::net {

class LoopTimer;

// All LoopTimers of one network loop behind a single libev timer. A timer costs O(log n) to start
// or cancel, and the loop sees one timer however many sessions there are. (libwebsockets 4.1's
// own timers live in a sorted linked list: each insertion walks it, quadratic with a ping timer
// per session.)
class TimerQueue {
public:
    using Clock = std::chrono::steady_clock;
    using Entry = std::multimap<Clock::time_point, LoopTimer*>::iterator;

    explicit TimerQueue(struct ev_loop* loop);
    ~TimerQueue();
    TimerQueue(const TimerQueue&) = delete;
    TimerQueue& operator=(const TimerQueue&) = delete;

    // Due `after` from now; a timer a second or more away fires up to 100 ms late (see
    // timer_queue.cpp).
    Entry add(std::chrono::milliseconds after, LoopTimer* timer);
    void remove(Entry entry);

private:
    struct Watcher;
    void fire_due();
    void arm();  // the libev timer at the earliest due time, when that changed

    struct ev_loop* loop_;
    std::unique_ptr<Watcher> watcher_;
    std::multimap<Clock::time_point, LoopTimer*> timers_;
    Clock::time_point armed_for_{};
    bool armed_ = false;
};

}  // namespace ilchat::net
