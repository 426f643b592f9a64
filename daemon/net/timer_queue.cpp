#include "daemon/net/timer_queue.h"

#include <ev.h>

#include "daemon/net/loop_timer.h"

namespace ilchat::net {

struct TimerQueue::Watcher {
    ev_timer timer;  // first member: the callback casts back to Watcher
    TimerQueue* owner;

    static void ripe(struct ev_loop*, ev_timer* timer, int) {
        auto* queue = reinterpret_cast<Watcher*>(timer)->owner;
        queue->armed_ = false;
        queue->fire_due();
        queue->arm();
    }
};

TimerQueue::TimerQueue(struct ev_loop* loop) : loop_(loop), watcher_(std::make_unique<Watcher>()) {
    ev_init(&watcher_->timer, Watcher::ripe);
    watcher_->owner = this;
}

TimerQueue::~TimerQueue() { ev_timer_stop(loop_, &watcher_->timer); }

namespace {

// Timers at least this far away fire on a grid of `coalescing` steps: an idle server's pings
// (one per session every pingInterval) then wake the loop once per step for all of them, and
// their answers arrive together, instead of one wake-up each; on a virtual machine the wake-ups
// were most of the CPU an idle server spent. Being late by less than a step does not matter to
// timers of seconds (heartbeats, graces, connect and upgrade timeouts).
constexpr std::chrono::seconds coalesce_beyond{1};
constexpr std::chrono::milliseconds coalescing{100};

TimerQueue::Clock::time_point due_after(std::chrono::milliseconds after) {
    const auto due = TimerQueue::Clock::now() + after;
    if (after < coalesce_beyond) return due;
    const auto step = std::chrono::duration_cast<TimerQueue::Clock::duration>(coalescing);
    return TimerQueue::Clock::time_point((due.time_since_epoch() + step - TimerQueue::Clock::duration(1)) / step * step);
}

}  // namespace

TimerQueue::Entry TimerQueue::add(std::chrono::milliseconds after, LoopTimer* timer) {
    auto entry = timers_.emplace(due_after(after), timer);
    arm();
    return entry;
}

void TimerQueue::remove(Entry entry) {
    timers_.erase(entry);
    // The libev timer may stay armed for a time nothing is due at: it then finds nothing ripe.
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
    const std::chrono::duration<double> wait = due - Clock::now();
    ev_timer_stop(loop_, &watcher_->timer);
    // libev measures from the time its loop last woke; a handler that ran long would make the
    // timer late by as much, so the clock is brought up to date first.
    ev_now_update(loop_);
    ev_timer_set(&watcher_->timer, wait.count() > 0 ? wait.count() : 0.0, 0.0);
    ev_timer_start(loop_, &watcher_->timer);
}

}  // namespace ilchat::net
