#pragma once

#include <chrono>
#include <map>

#include <libwebsockets.h>

namespace ilchat::net {

class LoopTimer;

// All LoopTimers of one network loop behind a single lws_sul. libwebsockets 4.1 keeps its timers
// in a sorted linked list, so each insertion walks the list: with a ping timer per session that
// is quadratic, and past about ten thousand sessions the loop spent its whole core on timer
// inserts. Here a timer costs O(log n) to start or cancel, and lws sees one entry.
class TimerQueue {
public:
    using Clock = std::chrono::steady_clock;
    using Entry = std::multimap<Clock::time_point, LoopTimer*>::iterator;

    explicit TimerQueue(lws_context* context);
    ~TimerQueue();
    TimerQueue(const TimerQueue&) = delete;
    TimerQueue& operator=(const TimerQueue&) = delete;

    Entry add(Clock::time_point due, LoopTimer* timer);
    void remove(Entry entry);

private:
    struct Node {
        lws_sorted_usec_list_t sul;  // first member: the callback casts back to Node
        TimerQueue* owner;
    };
    static void ripe(lws_sorted_usec_list_t* sul);
    void fire_due();
    void arm();  // the lws_sul at the earliest due time, when that changed

    lws_context* context_;
    Node node_{};
    std::multimap<Clock::time_point, LoopTimer*> timers_;
    Clock::time_point armed_for_{};
    bool armed_ = false;
};

}  // namespace ilchat::net
