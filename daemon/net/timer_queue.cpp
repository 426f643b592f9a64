#include "daemon/net/timer_queue.h"

#include "daemon/net/loop_timer.h"

namespace ilchat::net {

TimerQueue::TimerQueue(lws_context* context) : context_(context) { node_.owner = this; }

TimerQueue::~TimerQueue() {
    if (armed_) lws_sul_cancel(&node_.sul);
}

TimerQueue::Entry TimerQueue::add(Clock::time_point due, LoopTimer* timer) {
    auto entry = timers_.emplace(due, timer);
    arm();
    return entry;
}

void TimerQueue::remove(Entry entry) {
    timers_.erase(entry);
    // The lws_sul may stay armed for a time nothing is due at: it then finds nothing ripe.
}

void TimerQueue::ripe(lws_sorted_usec_list_t* sul) {
    auto* queue = reinterpret_cast<Node*>(sul)->owner;
    queue->armed_ = false;
    queue->fire_due();
    queue->arm();
}

void TimerQueue::fire_due() {
    const auto now = Clock::now();
    // A timer that fires may start, cancel or destroy others: take them one at a time.
    while (!timers_.empty() && timers_.begin()->first <= now) {
        LoopTimer* timer = timers_.begin()->second;
        timers_.erase(timers_.begin());
        timer->expired();
    }
}

void TimerQueue::arm() {
    if (timers_.empty()) return;
    const auto due = timers_.begin()->first;
    if (armed_ && armed_for_ <= due) return;
    armed_ = true;
    armed_for_ = due;
    const auto wait = std::chrono::duration_cast<std::chrono::microseconds>(due - Clock::now()).count();
    lws_sul_schedule(context_, 0, &node_.sul, ripe, static_cast<lws_usec_t>(wait > 0 ? wait : 0));
}

}  // namespace ilchat::net
