#include "daemon/net/loop_timer.h"

namespace ilchat::net {

LoopTimer::LoopTimer(TimerQueue& queue, std::function<void()> fire) : queue_(queue), fire_(std::move(fire)) {}

LoopTimer::~LoopTimer() { cancel(); }

void LoopTimer::start(std::chrono::milliseconds after) {
    cancel();
    entry_ = queue_.add(after, this);
}

void LoopTimer::cancel() {
    if (!entry_) return;
    queue_.remove(*entry_);
    entry_.reset();
}

void LoopTimer::expired() {
    entry_.reset();
    fire_();  // may destroy the timer's owner: nothing touches `this` afterwards
}

}  // namespace ilchat::net
